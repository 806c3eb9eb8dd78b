/* image.h - images for training: decoding, resizing, augmentation transforms
 * with torchvision's meaning, an image-folder dataset cached in memory, a
 * stratified split, and a batch loader that decodes and augments on worker
 * threads.
 *
 * An image is 3-channel RGB float, CHW, values in [0, 1] until Normalize moves
 * them (what torchvision's ToTensor gives for PIL's .convert("RGB")). Every
 * operation that needs memory takes it from a dc_image or a dc_image_ws that
 * grows to the largest request and keeps it, so a loop over images allocates
 * nothing once it has seen its largest image. Random transforms draw from a
 * dc_rng the caller passes in.
 *
 * Implemented in src/data/: image.c (decoding), resize.c, transforms.c,
 * imagefolder.c (dataset, split), prefetch.c (threaded loader). */
#ifndef DEEPC_IMAGE_H
#define DEEPC_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "deepc/io.h"
#include "deepc/tensor.h"

/* Largest side and pixel count a decoder accepts; more is a corrupt header. */
#define DC_IMAGE_MAX_SIDE 30000
#define DC_IMAGE_MAX_PIXELS (1L << 28)

/* ---- images and their memory ---- */

/* A float image [c, h, w] (c planes of h rows of w). `data` belongs to the
 * image and holds `cap` floats; dc_image_reserve grows it, dc_image_deinit
 * frees it. */
typedef struct dc_image {
    float *data;
    int c, h, w;
    size_t cap;
} dc_image;

/* An empty image (no memory yet). */
void dc_image_init(dc_image *img);

/* Frees the image's memory and leaves it empty; accepts an empty image. */
void dc_image_deinit(dc_image *img);

/* Sets the image's size to [c, h, w], growing its memory if it holds fewer
 * floats (contents are then undefined). DC_ERR_ARG for a size
 * outside 1..DC_IMAGE_MAX_SIDE, DC_ERR_NOMEM if the memory cannot grow (the
 * image is left as it was). */
dc_status dc_image_reserve(dc_image *img, int c, int h, int w);

/* Scratch memory for the operations below, kept between calls: `tmp` is the
 * second image of a pipeline (each step writes one image from the other, then
 * they swap) and `mem` holds a resize's coefficients and intermediate pass or a
 * blur's kernel and padded line. One per thread; init before use, deinit to
 * free. */
typedef struct dc_image_ws {
    dc_image tmp;
    void *mem;
    size_t cap;
} dc_image_ws;

void dc_image_ws_init(dc_image_ws *ws);
void dc_image_ws_deinit(dc_image_ws *ws);

/* ws->mem grown to at least `bytes` (64-byte aligned; contents undefined), or
 * NULL with DC_ERR_NOMEM recorded. Valid until the next call on ws. */
void *dc_image_ws_scratch(dc_image_ws *ws, size_t bytes);

/* ---- decoding (image.c) ---- */

/* Decodes a JPEG or PNG held in memory (the format is found from its first
 * bytes, not from a name) to 8-bit RGB, rows of w pixels of 3 bytes (HWC). *rgb
 * is malloc'd and owned by the caller. `name` (a path, usually) starts every
 * message. JPEG: every colour space libjpeg reads (grey, RGB, YCbCr; CMYK and
 * YCCK, read as Adobe's inverted CMYK when an Adobe marker is present, as
 * Photoshop writes them), progressive and restart markers. PNG: every colour
 * type and depth; palettes and grey expand to RGB, 16 bits keep the high byte,
 * alpha is dropped (PIL's convert("RGB")). Errors (DC_ERR_FORMAT): an empty
 * buffer, another format (named: GIF, WebP, BMP, ...), corrupt or truncated
 * data (libjpeg's and libpng's own text is quoted; a JPEG whose data ends early
 * is an error, not an image padded with grey), a CRC mismatch, a side of 0 or
 * above DC_IMAGE_MAX_SIDE, more than DC_IMAGE_MAX_PIXELS pixels, and valid
 * JPEGs this libjpeg cannot read ("unsupported JPEG: 12-bit samples", lossless
 * or hierarchical coding). */
dc_status dc_image_decode_rgb8(const unsigned char *bytes, size_t n,
                               const char *name, unsigned char **rgb, int *h,
                               int *w);

/* dc_file_read then dc_image_decode_rgb8, the file's path naming it. */
dc_status dc_image_load_rgb8(const char *path, unsigned char **rgb, int *h,
                             int *w);

/* dc_image_decode_rgb8 for a caller that will shrink the image anyway: a JPEG
 * is decoded by libjpeg's DCT scaling at 1/2, 1/4 or 1/8 of its size, the
 * largest reduction that keeps its shorter side >= min_side (sides round up),
 * so the full-size pixels are never held. A PNG, a JPEG too small to halve,
 * and min_side <= 0 give the full size. A reduced decode averages blocks of
 * pixels, close to (not equal to) an antialiased resize of the full image. */
dc_status dc_image_decode_rgb8_scaled(const unsigned char *bytes, size_t n,
                                      const char *name, int min_side,
                                      unsigned char **rgb, int *h, int *w);

/* dc_file_read then dc_image_decode_rgb8_scaled. */
dc_status dc_image_load_rgb8_scaled(const char *path, int min_side,
                                    unsigned char **rgb, int *h, int *w);

/* Fills img with [3, h, w] floats v / 255 from 8-bit RGB rows (HWC). */
dc_status dc_image_from_rgb8(dc_image *img, const unsigned char *rgb, int h,
                             int w);

/* Writes img (3 channels) as 8-bit RGB rows: round(clamp(v, 0, 1) * 255). `rgb`
 * holds h * w * 3 bytes. */
void dc_image_to_rgb8(const dc_image *img, unsigned char *rgb);

/* Decodes the file at `path` into img ([3, h, w] in [0, 1]). */
dc_status dc_image_load(const char *path, dc_image *img);

/* ---- geometry and colour, one image at a time (resize.c, transforms.c) ----
 * What torchvision.transforms.functional does to a float tensor. `src` and
 * `dst` must be different images; `ws` may be NULL (memory is then allocated
 * and freed inside the call). Colour operations need 3 channels (DC_ERR_SHAPE
 * otherwise). */

/* Resizes src to [c, h, w] into dst: PIL's bilinear filter with antialiasing,
 * i.e. torchvision's Resize(antialias=True): a triangle filter whose support
 * widens by the downscale factor, weights normalised over the pixels inside the
 * image, separable (rows first, then columns), computed in float. */
dc_status dc_image_resize(const dc_image *src, dc_image *dst, int h, int w,
                          dc_image_ws *ws);

/* The size Resize(size) gives an h x w image: the shorter side becomes `size`,
 * the longer int(size * long / short) (torchvision's truncation). */
void dc_resize_shorter(int h, int w, int size, int *out_h, int *out_w);

/* Copies the h x w window at (top, left) of src into dst; pixels outside src
 * are 0 (torchvision's crop pads with zeros). */
dc_status dc_image_crop(const dc_image *src, dc_image *dst, int top, int left,
                        int h, int w);

/* CenterCrop: the window of torchvision's center_crop (top = round((H - h) /
 * 2), half to even; zero padding where the crop is larger than the image). */
dc_status dc_image_center_crop(const dc_image *src, dc_image *dst, int h,
                               int w);

/* Mirror the columns (hflip) or the rows (vflip) in place. */
void dc_image_hflip(dc_image *img);
void dc_image_vflip(dc_image *img);

/* torchvision's rotate(angle, NEAREST, expand=False, center=None, fill): turns
 * the image `angle` degrees counter-clockwise about its centre; pixels that
 * come from outside get `fill`. dst has src's size. */
dc_status dc_image_rotate(const dc_image *src, dc_image *dst, float angle,
                          float fill);

/* torchvision's affine(angle, translate, scale, shear, NEAREST, fill): rotation
 * by `angle` degrees clockwise, scaling, shear (shear[0] along x, shear[1]
 * along y, in degrees) about the centre, then a shift by translate (tx, ty)
 * pixels. dst has src's size. DC_ERR_ARG for scale <= 0 or a shear of +-90
 * degrees. */
dc_status dc_image_affine(const dc_image *src, dc_image *dst, float angle,
                          const float translate[2], float scale,
                          const float shear[2], float fill);

/* In place: v = clamp(f * v + (1 - f) * ref, 0, 1), where ref is 0
 * (brightness), the mean of the image's grey levels (contrast) or each pixel's
 * grey level (saturation). f >= 0 (DC_ERR_ARG otherwise). */
dc_status dc_image_adjust_brightness(dc_image *img, float f);
dc_status dc_image_adjust_contrast(dc_image *img, float f);
dc_status dc_image_adjust_saturation(dc_image *img, float f);

/* In place: shifts the hue by `hue` turns (in [-0.5, 0.5]) through HSV, as
 * torchvision's adjust_hue does for float tensors. */
dc_status dc_image_adjust_hue(dc_image *img, float hue);

/* In place: all three channels become the ITU-R 601-2 luma
 * 0.299 R + 0.587 G + 0.114 B (PIL's "L" weights; torchvision's tensor path
 * uses 0.2989). */
dc_status dc_image_grayscale(dc_image *img);

/* In place: torchvision's gaussian_blur with kernel kh x kw (odd, > 0) and
 * standard deviations sigma_y, sigma_x (> 0): separable, weights exp(-x^2 / 2
 * sigma^2) summing to 1, the border reflected (not repeated). DC_ERR_ARG when a
 * kernel's half-width is not below the image's side, which reflection cannot
 * pad (torch refuses it too). */
dc_status dc_image_gaussian_blur(dc_image *img, int kh, int kw, float sigma_y,
                                 float sigma_x, dc_image_ws *ws);

/* In place: v = (v - mean[c]) / std[c] per channel, float arithmetic as torch
 * does it. img has at most 3 channels; std[c] != 0. */
dc_status dc_image_normalize(dc_image *img, const float mean[3],
                             const float std[3]);

/* ---- transforms with torchvision's parameters and defaults (transforms.c)
 * ---- */

typedef enum dc_transform_kind {
    DC_TRANSFORM_RESIZE = 1,
    DC_TRANSFORM_CENTER_CROP,
    DC_TRANSFORM_RANDOM_RESIZED_CROP,
    DC_TRANSFORM_RANDOM_HFLIP,
    DC_TRANSFORM_RANDOM_VFLIP,
    DC_TRANSFORM_RANDOM_ROTATION,
    DC_TRANSFORM_RANDOM_AFFINE,
    DC_TRANSFORM_COLOR_JITTER,
    DC_TRANSFORM_RANDOM_GRAYSCALE,
    DC_TRANSFORM_GAUSSIAN_BLUR,
    DC_TRANSFORM_NORMALIZE,
} dc_transform_kind;

/* One transform: its kind and that kind's parameters. Made by the constructors
 * below, which fill torchvision's defaults; a caller may then change a field
 * (say t.rrc.scale[0] = 0.5f). Ranges are [lo, hi]. */
typedef struct dc_transform {
    dc_transform_kind kind;
    union {
        struct {
            int h, w; /* w == 0: h is the shorter side's new length */
        } resize;
        struct {
            int h, w;
        } crop;
        struct {
            int h, w;
            float scale[2]; /* fraction of the area, default (0.08, 1) */
            float ratio[2]; /* width / height, default (3/4, 4/3) */
        } rrc;
        struct {
            float p; /* probability of applying it */
        } flip, gray;
        struct {
            float degrees[2]; /* counter-clockwise, drawn uniformly */
            float fill;       /* default 0 */
        } rotation;
        struct {
            float degrees[2];   /* clockwise, drawn uniformly */
            float translate[2]; /* max shift / (width, height); 0 = none */
            float scale[2];     /* default (1, 1): none */
            float shear[4];     /* x range, y range in degrees; 0 = none */
            float fill;
        } affine;
        struct {
            float brightness[2]; /* factor ranges; (1, 1) = off */
            float contrast[2];
            float saturation[2];
            float hue[2];        /* turns, in [-0.5, 0.5]; (0, 0) = off */
        } jitter;
        struct {
            int kh, kw;     /* odd kernel height and width */
            float sigma[2]; /* default (0.1, 2.0); one draw for both axes */
        } blur;
        struct {
            float mean[3], std[3];
        } norm;
    };
} dc_transform;

/* Resize(size): the shorter side becomes `size`, keeping the aspect. */
dc_transform dc_transform_resize(int size);
/* Resize((h, w)). */
dc_transform dc_transform_resize_hw(int h, int w);
/* CenterCrop((h, w)). */
dc_transform dc_transform_center_crop(int h, int w);
/* RandomResizedCrop((h, w), scale=(0.08, 1), ratio=(3/4, 4/3)), bilinear with
 * antialiasing: ten tries at a window of random area and aspect that fits, else
 * the centre crop of the whole image clamped to the ratio range. */
dc_transform dc_transform_random_resized_crop(int h, int w);
/* RandomHorizontalFlip(p=0.5), RandomVerticalFlip(p=0.5). */
dc_transform dc_transform_random_hflip(void);
dc_transform dc_transform_random_vflip(void);
/* RandomRotation(degrees): an angle uniform in (-degrees, degrees), nearest,
 * fill 0, expand=False. */
dc_transform dc_transform_random_rotation(float degrees);
/* RandomAffine(degrees) with translate, scale and shear off (set the fields to
 * use them: translate (a, b) shifts by up to a * width, b * height pixels,
 * rounded; shear (s0, s1, s2, s3) draws x in (s0, s1) and y in (s2, s3)).
 * Nearest, fill 0. */
dc_transform dc_transform_random_affine(float degrees);
/* ColorJitter(brightness, contrast, saturation, hue): a factor uniform in
 * (max(0, 1 - b), 1 + b) (likewise c, s), a hue shift in (-h, h), h <= 0.5; 0
 * turns one off. The four are applied in a random order, as torchvision does. */
dc_transform dc_transform_color_jitter(float brightness, float contrast,
                                       float saturation, float hue);
/* RandomGrayscale(p=0.1). */
dc_transform dc_transform_random_grayscale(void);
/* GaussianBlur(kernel_size, sigma=(0.1, 2.0)): a square kernel. */
dc_transform dc_transform_gaussian_blur(int kernel_size);
/* Normalize(mean, std). */
dc_transform dc_transform_normalize(const float mean[3], const float std[3]);

/* The kind's torchvision class name ("RandomResizedCrop"), for messages. */
const char *dc_transform_name(dc_transform_kind kind);

/* Checks t's parameters against torchvision's rules; DC_ERR_ARG names the
 * transform, the field, what it holds and what is allowed. */
dc_status dc_transform_check(const dc_transform *t);

/* The size t gives an h x w image (deterministic for every kind). DC_ERR_ARG if
 * t cannot apply to that size (a blur kernel too large to reflect-pad). */
dc_status dc_transform_out_size(const dc_transform *t, int h, int w, int *out_h,
                                int *out_w);

/* Applies t to img in place (img may change size), drawing from rng (which
 * may be NULL for Resize, CenterCrop and Normalize); ws may be NULL. */
dc_status dc_transform_apply(const dc_transform *t, dc_image *img,
                             dc_image_ws *ws, dc_rng *rng);

/* RandomResizedCrop.get_params: the window (top, left, height, width) of an h x
 * w image that t (a RANDOM_RESIZED_CROP) would crop, drawing from rng as apply
 * does. */
void dc_transform_rrc_window(const dc_transform *t, int h, int w, dc_rng *rng,
                             int box[4]);

/* Transforms applied in order (torchvision's Compose). A value type; no memory. */
#define DC_PIPELINE_MAX 16

typedef struct dc_pipeline {
    int n;
    dc_transform t[DC_PIPELINE_MAX];
} dc_pipeline;

void dc_pipeline_init(dc_pipeline *p);

/* Checks t (dc_transform_check) and appends a copy. DC_ERR_ARG when it is bad
 * or the pipeline is full. */
dc_status dc_pipeline_add(dc_pipeline *p, const dc_transform *t);

/* The size the pipeline gives an h x w image; DC_ERR_ARG naming the step that
 * cannot take the size reaching it. */
dc_status dc_pipeline_out_size(const dc_pipeline *p, int h, int w, int *out_h,
                               int *out_w);

/* Applies every step to img in place, in order, drawing from rng (NULL only
 * when no step is random); ws may be NULL. A failure names the step. */
dc_status dc_pipeline_apply(const dc_pipeline *p, dc_image *img,
                            dc_image_ws *ws, dc_rng *rng);

/* ---- the image-folder dataset (imagefolder.c) ---- */

/* Images decoded once and cached as 8-bit RGB, with a label each. Opaque; read
 * it through the functions below. */
typedef struct dc_imagefolder dc_imagefolder;

typedef struct dc_imagefolder_opts {
    /* 0: a bad image (unreadable, corrupt, unsupported, missing) stops loading
     * with its error; 1: it is skipped with a warning and counted. */
    int skip_bad;
    /* > 0: cache each image after Resize(resize) (shorter side), to save
     * memory and work; 0: as decoded. */
    int resize;
    /* > 0: an image whose shorter side exceeds max_side is cached shrunk so
     * that its shorter side is max_side (dc_image_resize, antialiased; a JPEG
     * is first decoded reduced by dc_image_decode_rgb8_scaled), which bounds
     * the cache's memory for folders of big photos; applied before resize.
     * 0: full size. */
    int max_side;
    /* > 0: keep only the first this many files of each class, in sorted
     * order (a quick subset); 0: all. */
    int max_per_class;
} dc_imagefolder_opts;

/* torchvision's ImageFolder: root/<class>/.../<file>. Classes are the sorted
 * names of root's sub-folders (class index = position); each class's files are
 * found recursively, sorted (folder, then name) and kept when their extension
 * is one of ImageFolder's (.jpg .jpeg .png .ppm .bmp .pgm .tif .tiff .webp, any
 * case; only JPEG and PNG decode, so the others count as bad images). `opts`
 * NULL: all zero. Returns NULL with a message naming the folder or file at
 * fault (no class folder, a class without images, a bad image when not
 * skipping). Owned by the caller. */
dc_imagefolder *dc_imagefolder_load(const char *root,
                                    const dc_imagefolder_opts *opts);

/* The same from a CSV file of `file,label` rows after a header row (libcsv, RFC
 * 4180 quoting; extra columns are an error). `file` is taken relative to `root`
 * (absolute paths as they are); if root/file does not exist, root/label/file is
 * tried (Kaggle's layout, labels.csv beside the class folders). Classes are the
 * sorted distinct labels, so the indices agree with dc_imagefolder_load on the
 * same folders. A malformed row fails with the CSV's path and line. */
dc_imagefolder *dc_imagefolder_load_csv(const char *root, const char *csv_path,
                                        const dc_imagefolder_opts *opts);

void dc_imagefolder_free(dc_imagefolder *ds);

/* Images kept, classes, and bad images skipped while loading. */
int dc_imagefolder_len(const dc_imagefolder *ds);
int dc_imagefolder_n_classes(const dc_imagefolder *ds);
int dc_imagefolder_skipped(const dc_imagefolder *ds);

/* Class c's name; borrowed until dc_imagefolder_free. */
const char *dc_imagefolder_class_name(const dc_imagefolder *ds, int c);

/* The [n] labels; borrowed until dc_imagefolder_free. */
const int *dc_imagefolder_labels(const dc_imagefolder *ds);

/* Image i's path; borrowed until dc_imagefolder_free. */
const char *dc_imagefolder_path(const dc_imagefolder *ds, int i);

/* Image i's cached pixels (8-bit RGB rows, HWC) and size; borrowed until
 * dc_imagefolder_free. */
const unsigned char *dc_imagefolder_pixels(const dc_imagefolder *ds, int i,
                                           int *h, int *w);

/* Image i as floats [3, h, w] in [0, 1]. */
dc_status dc_imagefolder_get(const dc_imagefolder *ds, int i, dc_image *img);

/* ---- a stratified split (imagefolder.c) ---- */

#define DC_SPLIT_MAX 8

/* idx[k] holds n[k] example indices, ascending; owned, freed by
 * dc_split_deinit. */
typedef struct dc_split {
    int n_splits;
    int *idx[DC_SPLIT_MAX];
    int n[DC_SPLIT_MAX];
} dc_split;

/* Splits examples 0..n-1 into n_splits parts with the given fractions (each >=
 * 0, summing to 1 within 1e-4), class by class: each class's examples are
 * shuffled by a generator seeded with `seed` and cut in those proportions, so
 * every part has the classes in the same proportions. A class of m gives part i
 * floor(m f_i) or one more: the leftover examples go to the parts furthest
 * below their overall target so far, which keeps each part's total within about
 * one of n f_i. labels[i] >= 0. */
dc_status dc_split_stratified(const int *labels, int n, const float *fractions,
                              int n_splits, uint64_t seed, dc_split *out);
void dc_split_deinit(dc_split *s);

/* ---- the threaded batch loader (prefetch.c) ---- */

/* Batches of augmented images prepared on worker threads ahead of the caller. */
typedef struct dc_prefetch dc_prefetch;

typedef struct dc_prefetch_opts {
    int batch;     /* examples per batch, > 0 */
    int shuffle;   /* 1: epoch e is ordered by a shuffle seeded with seed + e */
    int drop_last; /* 1: drop a final short batch */
    int workers;   /* worker threads, >= 1 */
    int depth;     /* batches prepared ahead, >= 1; 0 means 2 */
    uint64_t seed;
} dc_prefetch_opts;

/* A loader over the images `indices[0..n-1]` of ds (NULL: all of ds; the
 * indices are copied), each passed through `pipe` (copied). Every listed image
 * must come out of the pipeline with one size [3, H, W]; this is checked here,
 * and the first image that differs is named. Example ds index i in epoch e is
 * augmented by a generator seeded from (seed, e, i) alone, so batches do not
 * depend on the number of workers or on their timing. Borrows ds, which must
 * outlive the loader. Starts `workers` threads, which wait until the first
 * epoch starts. Owned by the caller (dc_prefetch_free). */
dc_prefetch *dc_prefetch_new(const dc_imagefolder *ds, const int *indices,
                             int n, const dc_pipeline *pipe,
                             const dc_prefetch_opts *opts);

/* Stops and joins the threads and frees everything; accepts NULL. */
void dc_prefetch_free(dc_prefetch *pf);

/* Batches in one epoch, and the size [3, H, W] of every example. */
int dc_prefetch_batches(const dc_prefetch *pf);
void dc_prefetch_example_size(const dc_prefetch *pf, int *h, int *w);

/* Starts the next epoch (the first call, or the first dc_prefetch_next, starts
 * epoch 0): batches not yet taken from the current epoch are dropped, and the
 * workers start on the new epoch's first `depth` batches at once. Calling it
 * right after an epoch's last batch lets that preparation overlap the caller's
 * evaluation. */
void dc_prefetch_reset(dc_prefetch *pf);

/* Takes the next batch of the epoch, waiting for it if the workers are behind,
 * and hands its slot back to them for batch k + depth. *x is an arena tensor
 * [b, 3, H, W] and *y an arena array of b labels, both valid until
 * dc_step_end() (the batch is copied out of the loader's own buffers, which are
 * never handed out). *b is the batch size, 0 at the end of the epoch (until
 * dc_prefetch_reset). A failure on a worker (say, out of memory) comes back
 * here with its message. In the steady state nothing is allocated but the
 * arena's memory. */
dc_status dc_prefetch_next(dc_prefetch *pf, dc_tensor **x, const int **y,
                           int *b);

#endif
