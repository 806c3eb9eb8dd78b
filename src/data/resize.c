/* resize.c - antialiased bilinear resizing (PIL's and torchvision's Resize with
 * antialias=True), Resize(int)'s output size, crops and the centre crop.
 *
 * The filter is PIL's: output pixel x has its centre at (x + 0.5) * scale in
 * input coordinates (scale = in / out); input pixels within `support` =
 * max(scale, 1) of it are weighted by the triangle 1 - |d| / max(scale, 1),
 * where d is the distance between centres, and the weights are normalised over
 * the pixels that lie inside the image. Upscaling is thus plain bilinear
 * interpolation; downscaling averages every input pixel the output pixel
 * covers, which is what keeps thin lines from aliasing.
 *
 * Rows are resized first, then columns, as PIL does. Weights are computed in
 * double and stored as float; sums run in float (PIL's float mode sums in
 * double: the two agree to about 1e-6).
 *
 * Leaves out: other filters (nearest, bicubic, Lanczos) and Resize's max_size. */
#include <math.h>
#include <string.h>

#include "deepc/image.h"

/* One axis's weights: output i reads `count[i]` inputs from `start[i]`, with
 * weights k[i * ksize ...]. */
typedef struct axis {
    int ksize;
    int *start;
    int *count;
    float *k;
} axis;

static double triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

static double filter_scale(int in, int out)
{
    double scale = (double)in / out;

    return scale < 1.0 ? 1.0 : scale;
}

static int axis_ksize(int in, int out)
{
    return (int)ceil(filter_scale(in, out)) * 2 + 1;
}

static size_t axis_bytes(int in, int out)
{
    return (size_t)out *
           (2 * sizeof(int) + (size_t)axis_ksize(in, out) * sizeof(float));
}

/* Lays the axis out in `mem` (axis_bytes(in, out) bytes) and fills it. */
static void axis_compute(axis *a, void *mem, int in, int out)
{
    double scale = (double)in / out, fs = filter_scale(in, out), support = fs;

    a->ksize = axis_ksize(in, out);
    a->k = mem;
    a->start = (int *)(a->k + (size_t)out * a->ksize);
    a->count = a->start + out;
    for (int i = 0; i < out; i++) {
        double center = (i + 0.5) * scale, sum = 0.0;
        /* (int) truncates, as in PIL; negative starts are clamped to 0 just
         * after. */
        int lo = (int)(center - support + 0.5),
            hi = (int)(center + support + 0.5);
        float *k = a->k + (size_t)i * a->ksize;
        if (lo < 0)
            lo = 0;
        if (hi > in)
            hi = in;
        for (int x = lo; x < hi; x++)
            sum += triangle((x - center + 0.5) / fs);
        for (int x = lo; x < hi; x++)
            k[x - lo] = sum != 0.0
                            ? (float)(triangle((x - center + 0.5) / fs) / sum)
                            : 0.0f;
        a->start[i] = lo;
        a->count[i] = hi - lo;
    }
}

/* src [c, h, w_in] -> dst [c, h, w_out], each row filtered along x. */
static void pass_rows(const float *src, float *dst, int c, int h, int w_in,
                      int w_out, const axis *a)
{
    for (int r = 0; r < c * h; r++) {
        const float *in = src + (size_t)r * w_in;
        float *out = dst + (size_t)r * w_out;
        for (int i = 0; i < w_out; i++) {
            const float *k = a->k + (size_t)i * a->ksize, *p = in + a->start[i];
            float s = 0.0f;
            for (int j = 0; j < a->count[i]; j++)
                s += p[j] * k[j];
            out[i] = s;
        }
    }
}

/* src [c, h_in, w] -> dst [c, h_out, w], each column filtered along y. The loop
 * runs along rows so that memory is read in order; each output keeps PIL's
 * order of terms. */
static void pass_cols(const float *src, float *dst, int c, int h_in, int h_out,
                      int w, const axis *a)
{
    for (int ch = 0; ch < c; ch++) {
        const float *in = src + (size_t)ch * h_in * w;
        for (int i = 0; i < h_out; i++) {
            float *out = dst + ((size_t)ch * h_out + i) * w;
            const float *k = a->k + (size_t)i * a->ksize;
            memset(out, 0, (size_t)w * sizeof(float));
            for (int j = 0; j < a->count[i]; j++) {
                const float *row = in + (size_t)(a->start[i] + j) * w;
                for (int x = 0; x < w; x++)
                    out[x] += row[x] * k[j];
            }
        }
    }
}

static dc_status resize_with(const dc_image *src, dc_image *dst, int h, int w,
                             dc_image_ws *ws)
{
    int c = src->c, need_x = w != src->w, need_y = h != src->h;
    size_t mid = need_x && need_y ? (size_t)c * src->h * w * sizeof(float) : 0;
    size_t bx = need_x ? axis_bytes(src->w, w) : 0,
           by = need_y ? axis_bytes(src->h, h) : 0;
    unsigned char *mem;
    axis ax, ay;
    dc_status st;

    /* Scratch: the row pass's output, then the two axes' weights. */
    if ((st = dc_image_reserve(dst, c, h, w)) != DC_OK)
        return st;
    mem = dc_image_ws_scratch(ws, mid + bx + by);
    if (!mem)
        return DC_ERR_NOMEM;
    if (need_x)
        axis_compute(&ax, mem + mid, src->w, w);
    if (need_y)
        axis_compute(&ay, mem + mid + bx, src->h, h);

    if (need_x && need_y) {
        pass_rows(src->data, (float *)mem, c, src->h, src->w, w, &ax);
        pass_cols((float *)mem, dst->data, c, src->h, h, w, &ay);
    } else if (need_x) {
        pass_rows(src->data, dst->data, c, h, src->w, w, &ax);
    } else if (need_y) {
        pass_cols(src->data, dst->data, c, src->h, h, w, &ay);
    } else {
        memcpy(dst->data, src->data, (size_t)c * h * w * sizeof(float));
    }
    return DC_OK;
}

dc_status dc_image_resize(const dc_image *src, dc_image *dst, int h, int w,
                          dc_image_ws *ws)
{
    dc_image_ws own;
    dc_status st;

    if (!src || !dst || src == dst || !src->data)
        return dc_fail(
            DC_ERR_ARG,
            "resize: needs a source image and a different destination");
    if (h < 1 || w < 1 || h > DC_IMAGE_MAX_SIDE || w > DC_IMAGE_MAX_SIDE)
        return dc_fail(DC_ERR_ARG,
                       "resize: size %dx%d (h x w), expected sides 1..%d", h, w,
                       DC_IMAGE_MAX_SIDE);
    if (ws)
        return resize_with(src, dst, h, w, ws);
    dc_image_ws_init(&own);
    st = resize_with(src, dst, h, w, &own);
    dc_image_ws_deinit(&own);
    return st;
}

void dc_resize_shorter(int h, int w, int size, int *out_h, int *out_w)
{
    int shorter = w <= h ? w : h, longer = w <= h ? h : w;
    /* Python's int(size * long / short): an exact product, a rounded division,
     * then truncation. */
    int new_long = (int)((double)((long long)size * longer) / shorter);

    *out_h = w <= h ? new_long : size;
    *out_w = w <= h ? size : new_long;
}

dc_status dc_image_crop(const dc_image *src, dc_image *dst, int top, int left,
                        int h, int w)
{
    dc_status st;

    if (!src || !dst || src == dst || !src->data)
        return dc_fail(
            DC_ERR_ARG,
            "crop: needs a source image and a different destination");
    if ((st = dc_image_reserve(dst, src->c, h, w)) != DC_OK)
        return st;

    /* Rows and columns outside the source stay 0, as torchvision pads. */
    memset(dst->data, 0, (size_t)src->c * h * w * sizeof(float));
    for (int c = 0; c < src->c; c++)
        for (int y = 0; y < h; y++) {
            int sy = top + y, x0 = left < 0 ? -left : 0;
            int x1 = left + w > src->w ? src->w - left : w;
            if (sy < 0 || sy >= src->h || x1 <= x0)
                continue;
            memcpy(dst->data + ((size_t)c * h + y) * w + x0,
                   src->data + ((size_t)c * src->h + sy) * src->w + left + x0,
                   (size_t)(x1 - x0) * sizeof(float));
        }
    return DC_OK;
}

/* torchvision's start of a centre crop along one axis: padding splits its
 * excess with the smaller half first; a crop inside rounds (in - out) / 2 half
 * to even. */
static int center_start(int in, int out)
{
    if (out > in)
        return -((out - in) / 2);
    return (int)nearbyint((in - out) / 2.0);
}

dc_status dc_image_center_crop(const dc_image *src, dc_image *dst, int h, int w)
{
    if (!src || !src->data)
        return dc_fail(DC_ERR_ARG, "center crop: source image is empty");
    return dc_image_crop(src, dst, center_start(src->h, h),
                         center_start(src->w, w), h, w);
}
