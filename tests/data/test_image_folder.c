/* Tests of src/data/imagefolder.c and src/data/prefetch.c: the image-folder
 * dataset (class and file order, hidden and non-image files, bad images
 * stopping the load or skipped and counted, CSV lists with quoting and
 * malformed rows), the stratified split, and the threaded loader (content equal
 * to applying the pipeline directly, identical batches for any number of
 * workers and runs, epochs, reset, size checks), and big images cached
 * shrunk (max_side). Folders are written here with libpng and libjpeg; the
 * real dog-emotion set is used when found. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#include "deepc/data.h"
#include "deepc/image.h"
#include "deepc/log.h"

#define TESTUTIL_TAG "folder"
#include "testutil.h"

/* ---- a temporary folder of images ---- */

/* Makes tmp/name and every folder above it that is missing. */
static void mkdirs(const char *name)
{
    char path[512];

    snprintf(path, sizeof path, "%s/%s", tmp, name);
    for (char *p = path + strlen(tmp) + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    mkdir(path, 0755);
}

/* An h x w RGB PNG whose every pixel is (v, 255 - v, v / 2); the name may end
 * in .jpg: decoding goes by content. */
static void write_png(const char *name, int h, int w, int v)
{
    png_image img;
    unsigned char *px = malloc((size_t)h * w * 3);

    cr_assert_not_null(px);
    for (int i = 0; i < h * w; i++) {
        px[3 * i] = (unsigned char)v;
        px[3 * i + 1] = (unsigned char)(255 - v);
        px[3 * i + 2] = (unsigned char)(v / 2 + (i % 7));
    }
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    cr_assert(png_image_write_to_file(&img, in_tmp(name), 0, px, 0, NULL), "%s",
              img.message);
    free(px);
}

/* root/cat: a.png, b.jpg (a PNG inside), gif.jpg (a GIF), sub/c.png;
 * root/dog: x.png, y.png, z.png (cut short), notes.txt; root/.hidden/h.png. */
static void make_tree(void)
{
    unsigned char *png;
    size_t n;

    mkdirs("root/cat/sub");
    mkdirs("root/dog");
    mkdirs("root/.hidden");
    write_png("root/cat/a.png", 10, 12, 10);
    write_png("root/cat/b.jpg", 8, 8, 20);
    write_text(in_tmp("root/cat/gif.jpg"), "GIF89a\x01\x00\x01\x00");
    write_png("root/cat/sub/c.png", 9, 6, 30);
    write_png("root/dog/x.png", 7, 7, 40);
    write_png("root/dog/y.png", 12, 5, 50);
    write_png("root/dog/z.png", 30, 30, 60);
    write_png("root/.hidden/h.png", 4, 4, 70);
    write_text(in_tmp("root/dog/notes.txt"), "not an image");

    /* Cut z.png in half. */
    png = read_file(in_tmp("root/dog/z.png"), &n);
    write_file(in_tmp("root/dog/z.png"), png, n / 2);
    free(png);
}

static int warnings;

static void count_warnings(dc_log_level level, const char *msg, void *user)
{
    warnings += level == DC_LOG_WARN;
}

/* ---- ImageFolder ---- */

TestSuite(image_folder, .init = make_tmp, .fini = remove_tmp);

Test(image_folder, bad_image_stops_the_load)
{
    make_tree();
    cr_assert_null(dc_imagefolder_load(in_tmp("root"), NULL));

    /* cat/gif.jpg comes before every dog file. */
    cr_assert(strstr(dc_last_error(),
                     "cat/gif.jpg: unsupported image format GIF"),
              "%s", dc_last_error());
}

Test(image_folder, skip_bad_counts_and_keeps_order)
{
    dc_imagefolder_opts o = {.skip_bad = 1};
    dc_imagefolder *ds;
    const char *want[] = {"cat/a.png", "cat/b.jpg", "cat/sub/c.png",
                          "dog/x.png", "dog/y.png"};
    const int want_label[] = {0, 0, 0, 1, 1}, want_h[] = {10, 8, 9, 7, 12};
    const int want_v[] = {10, 20, 30, 40, 50};

    make_tree();
    warnings = 0;
    dc_log_set_sink(count_warnings, NULL);
    ds = dc_imagefolder_load(in_tmp("root"), &o);
    dc_log_set_sink(NULL, NULL);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_eq(dc_imagefolder_len(ds), 5);
    cr_assert_eq(dc_imagefolder_skipped(ds), 2);
    cr_assert_eq(warnings, 2);
    cr_assert_eq(dc_imagefolder_n_classes(ds), 2);
    cr_assert_str_eq(dc_imagefolder_class_name(ds, 0), "cat");
    cr_assert_str_eq(dc_imagefolder_class_name(ds, 1), "dog");
    for (int i = 0; i < 5; i++) {
        int h, w;
        const unsigned char *px = dc_imagefolder_pixels(ds, i, &h, &w);
        const char *path = dc_imagefolder_path(ds, i);
        cr_assert(strlen(path) > strlen(want[i]) &&
                      strcmp(path + strlen(path) - strlen(want[i]), want[i]) ==
                          0,
                  "image %d is %s, expected %s", i, path, want[i]);
        cr_assert_eq(dc_imagefolder_labels(ds)[i], want_label[i]);
        cr_assert_eq(h, want_h[i]);
        cr_assert_eq(px[0], want_v[i]);
    }
    dc_imagefolder_free(ds);
}

/* Skipping must not leave a class with nothing in it: the model would keep an output
 * for it that nothing trains or scores. */
Test(image_folder, skip_bad_refuses_a_class_left_empty)
{
    dc_imagefolder_opts o = {.skip_bad = 1};

    mkdirs("gone/bird");
    mkdirs("gone/cat");
    write_text(in_tmp("gone/bird/a.png"), "not a png");
    write_text(in_tmp("gone/bird/b.jpg"), "");
    write_png("gone/cat/c.png", 4, 4, 10);
    dc_log_set_sink(count_warnings, NULL);
    cr_assert_null(dc_imagefolder_load(in_tmp("gone"), &o));
    dc_log_set_sink(NULL, NULL);
    cr_assert(strstr(dc_last_error(), "gone: class bird has no readable image left after 2 "
                                      "bad ones were skipped"), "%s", dc_last_error());
}

Test(image_folder, float_image_and_cache_resize)
{
    dc_imagefolder_opts o = {.skip_bad = 1, .resize = 4, .max_per_class = 1};
    dc_imagefolder *ds;
    dc_image img;
    int h, w;

    make_tree();
    ds = dc_imagefolder_load(in_tmp("root"), &o);
    cr_assert_not_null(ds, "%s", dc_last_error());

    /* One per class; a.png 10 x 12 cached as Resize(4): 4 x int(4 * 12 / 10) =
     * 4 x 4. */
    cr_assert_eq(dc_imagefolder_len(ds), 2);
    dc_imagefolder_pixels(ds, 0, &h, &w);
    cr_assert(h == 4 && w == 4, "%dx%d", h, w);
    dc_imagefolder_pixels(ds, 1, &h, &w);
    cr_assert(h == 4 && w == 4, "%dx%d", h, w);
    dc_image_init(&img);
    cr_assert_eq(dc_imagefolder_get(ds, 0, &img), DC_OK);
    cr_assert(img.c == 3 && img.h == 4 && img.w == 4);
    cr_assert_float_eq(img.data[0], 10 / 255.0f, 1e-6f);
    cr_assert_float_eq(img.data[16], 245 / 255.0f, 1e-6f);
    cr_assert_eq(dc_imagefolder_get(ds, 2, &img), DC_ERR_ARG);
    dc_image_deinit(&img);
    dc_imagefolder_free(ds);
}

Test(image_folder, empty_class_and_missing_root)
{
    make_tree();
    mkdirs("root/bird");
    write_text(in_tmp("root/bird/readme.txt"), "no images here");
    cr_assert_null(dc_imagefolder_load(in_tmp("root"), NULL));
    cr_assert(strstr(dc_last_error(),
                     "root/bird: class folder holds no image file"),
              "%s", dc_last_error());
    cr_assert_null(dc_imagefolder_load(in_tmp("nowhere"), NULL));
    cr_assert(strstr(dc_last_error(), "nowhere: cannot open folder"), "%s",
              dc_last_error());
    mkdirs("flat");
    cr_assert_null(dc_imagefolder_load(in_tmp("flat"), NULL));
    cr_assert(strstr(dc_last_error(), "no class folders"), "%s",
              dc_last_error());
}

/* A class name ends up in JSON and HTML, so a folder named in Latin-1 is refused. */
Test(image_folder, class_folder_name_must_be_utf8)
{
    mkdirs("latin/caf\xe9");
    mkdirs("latin/tea");
    write_png("latin/caf\xe9/a.png", 4, 4, 10);
    write_png("latin/tea/b.png", 4, 4, 20);
    cr_assert_null(dc_imagefolder_load(in_tmp("latin"), NULL));
    cr_assert(strstr(dc_last_error(), "class folder name is not UTF-8 (bad byte at offset 3)"),
              "%s", dc_last_error());

    mkdirs("utf8/caf\xc3\xa9");
    mkdirs("utf8/tea");
    write_png("utf8/caf\xc3\xa9/a.png", 4, 4, 10);
    write_png("utf8/tea/b.png", 4, 4, 20);
    dc_imagefolder *ds = dc_imagefolder_load(in_tmp("utf8"), NULL);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_str_eq(dc_imagefolder_class_name(ds, 0), "caf\xc3\xa9");
    dc_imagefolder_free(ds);
}

/* ---- big images and max_side ---- */

#define BIG_H 800
#define BIG_W 1200

/* A BIG_H x BIG_W RGB picture (HWC) with detail at several scales, so that a
 * shrink that aliases or shifts the picture shows. Owned by the caller. */
static unsigned char *big_picture(void)
{
    unsigned char *px = malloc((size_t)BIG_H * BIG_W * 3);

    cr_assert_not_null(px);
    for (int y = 0; y < BIG_H; y++)
        for (int x = 0; x < BIG_W; x++)
            for (int c = 0; c < 3; c++) {
                double v = 128.0 +
                           70.0 * sin(x / (40.0 + 15.0 * c)) * cos(y / 55.0) +
                           25.0 * sin((x + 2.0 * y) / 9.0);
                px[((size_t)y * BIG_W + x) * 3 + c] = (unsigned char)v;
            }
    return px;
}

static void write_big_png(const char *name, const unsigned char *px)
{
    png_image img;

    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = BIG_W;
    img.height = BIG_H;
    img.format = PNG_FORMAT_RGB;
    cr_assert(png_image_write_to_file(&img, in_tmp(name), 0, px, 0, NULL), "%s",
              img.message);
}

static void write_big_jpeg(const char *name, const unsigned char *px)
{
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    unsigned char *mem = NULL;
    unsigned long size = 0;

    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, &mem, &size);
    ci.image_width = BIG_W;
    ci.image_height = BIG_H;
    ci.input_components = 3;
    ci.in_color_space = JCS_RGB;
    jpeg_set_defaults(&ci);
    jpeg_set_quality(&ci, 95, TRUE);
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = (JSAMPROW)px + (size_t)ci.next_scanline * BIG_W * 3;
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    write_file(in_tmp(name), mem, size);
    free(mem);
}

/* root/a/big.png and root/b/big.jpg, the same picture. */
static void make_big_tree(void)
{
    unsigned char *px = big_picture();

    mkdirs("root/a");
    mkdirs("root/b");
    write_big_png("root/a/big.png", px);
    write_big_jpeg("root/b/big.jpg", px);
    free(px);
}

/* The mean absolute difference, in 8-bit levels, between cached image i of ds
 * (expected h x w) and the library's antialiased resize of its file decoded
 * at full size. */
static double diff_from_resize(const dc_imagefolder *ds, int i, int h, int w)
{
    dc_image full, small;
    unsigned char *want = malloc((size_t)h * w * 3);
    const unsigned char *got;
    double sum = 0.0;
    int gh, gw;

    dc_image_init(&full);
    dc_image_init(&small);
    cr_assert_not_null(want);
    cr_assert_eq(dc_image_load(dc_imagefolder_path(ds, i), &full), DC_OK, "%s",
                 dc_last_error());
    cr_assert(full.h == BIG_H && full.w == BIG_W);
    cr_assert_eq(dc_image_resize(&full, &small, h, w, NULL), DC_OK);
    dc_image_to_rgb8(&small, want);
    got = dc_imagefolder_pixels(ds, i, &gh, &gw);
    cr_assert(gh == h && gw == w, "image %d cached %dx%d, expected %dx%d", i,
              gw, gh, w, h);
    for (size_t k = 0; k < (size_t)h * w * 3; k++)
        sum += abs(got[k] - want[k]);
    free(want);
    dc_image_deinit(&full);
    dc_image_deinit(&small);
    return sum / ((double)h * w * 3);
}

Test(image_folder, max_side_caches_big_images_smaller)
{
    dc_imagefolder_opts o = {.max_side = 100};
    dc_imagefolder *ds;
    double png_diff, jpeg_diff;

    make_big_tree();
    ds = dc_imagefolder_load(in_tmp("root"), &o);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_eq(dc_imagefolder_len(ds), 2);

    /* The PNG is the resize of its full decode, exactly; the JPEG comes from
     * libjpeg's 1/8 decode (block averages), close to it: about 2.2 levels
     * here, where taking every 8th pixel would differ by about 16. */
    png_diff = diff_from_resize(ds, 0, 100, 150);
    jpeg_diff = diff_from_resize(ds, 1, 100, 150);
    cr_assert(png_diff == 0.0, "PNG differs from the resize by %g", png_diff);
    cr_assert(jpeg_diff < 3.0, "JPEG differs from the resize by %g levels",
              jpeg_diff);
    dc_imagefolder_free(ds);
}

Test(image_folder, max_side_reduces_the_jpeg_then_resizes)
{
    dc_imagefolder_opts o = {.max_side = 300};
    dc_imagefolder *ds;
    double diff;

    /* 800 / 2 = 400 >= 300 > 800 / 4: libjpeg decodes at 1/2, then the
     * antialiased resize takes 400 x 600 to 300 x 450. */
    make_big_tree();
    ds = dc_imagefolder_load(in_tmp("root"), &o);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert(diff_from_resize(ds, 0, 300, 450) == 0.0);
    diff = diff_from_resize(ds, 1, 300, 450);
    cr_assert(diff < 2.0, "JPEG differs from the resize by %g levels", diff);
    dc_imagefolder_free(ds);
}

Test(image_folder, max_side_zero_or_larger_keeps_full_size)
{
    const int sides[] = {0, 800, 5000};

    make_big_tree();
    for (int k = 0; k < 3; k++) {
        dc_imagefolder_opts o = {.max_side = sides[k]};
        dc_imagefolder *ds = dc_imagefolder_load(in_tmp("root"), &o);
        cr_assert_not_null(ds, "%s", dc_last_error());
        for (int i = 0; i < 2; i++) {
            int h, w;
            dc_imagefolder_pixels(ds, i, &h, &w);
            cr_assert(h == BIG_H && w == BIG_W,
                      "max_side %d: image %d cached %dx%d", sides[k], i, w, h);
        }
        dc_imagefolder_free(ds);
    }
    cr_assert_null(dc_imagefolder_load(
        in_tmp("root"), &(dc_imagefolder_opts){.max_side = -1}));
    cr_assert(strstr(dc_last_error(), "max_side -1"), "%s", dc_last_error());
}

/* The process's address space now, in bytes (VmSize in /proc/self/status). */
static size_t address_space(void)
{
    char line[256];
    size_t kib = 0;
    FILE *f = fopen("/proc/self/status", "r");

    cr_assert_not_null(f);
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmSize: %zu kB", &kib) == 1)
            break;
    fclose(f);
    cr_assert_gt(kib, 0);
    return kib * 1024;
}

Test(image_folder, out_of_memory_names_the_file)
{
    const int side = 6000; /* 108 MB of pixels, a few kB of PNG */
    unsigned char *px = calloc((size_t)side * side, 3);
    struct rlimit lim;
    png_image img;

#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("AddressSanitizer cannot run under an address-space limit");
#endif
    cr_assert_not_null(px);
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = img.height = (png_uint_32)side;
    img.format = PNG_FORMAT_RGB;
    mkdirs("root/a");
    cr_assert(png_image_write_to_file(&img, in_tmp("root/a/huge.png"), 0, px, 0,
                                      NULL), "%s", img.message);
    free(px);

    /* Room to decode the image (108 MB) but not to cache a copy beside it. */
    lim.rlim_cur = lim.rlim_max = address_space() + ((size_t)160 << 20);
    cr_assert_eq(setrlimit(RLIMIT_AS, &lim), 0);
    cr_assert_null(dc_imagefolder_load(in_tmp("root"), NULL));
    cr_assert(strstr(dc_last_error(), "root/a/huge.png: out of memory caching the "
                                      "image folder's pixels: 108000000 bytes"),
              "%s", dc_last_error());
}

TestSuite(image_decode_scaled, .init = make_tmp, .fini = remove_tmp);

/* dc_image_load_rgb8_scaled (image.c), with this file's big pictures. */
Test(image_decode_scaled, jpeg_reduction_keeps_the_shorter_side)
{
    const int min_side[] = {0, 1, 100, 101, 200, 201, 400, 401, 800, 5000};
    const int want_h[] = {800, 100, 100, 200, 200, 400, 400, 800, 800, 800};
    unsigned char *px = big_picture(), *rgb;
    int h, w;

    write_big_jpeg("big.jpg", px);
    write_big_png("big.png", px);
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(dc_image_load_rgb8_scaled(in_tmp("big.jpg"), min_side[k],
                                               &rgb, &h, &w),
                     DC_OK, "%s", dc_last_error());
        cr_assert(h == want_h[k] && w == want_h[k] * 3 / 2,
                  "min_side %d: %dx%d, expected height %d", min_side[k], w, h,
                  want_h[k]);
        free(rgb);
    }

    /* PNG has no reduced decode. */
    cr_assert_eq(
        dc_image_load_rgb8_scaled(in_tmp("big.png"), 100, &rgb, &h, &w), DC_OK);
    cr_assert(h == BIG_H && w == BIG_W);
    free(rgb);
    free(px);
}

/* ---- CSV ---- */

Test(image_folder, csv_with_quoting_and_label_folders)
{
    dc_imagefolder *ds;

    mkdirs("d/dog");
    mkdirs("d/cat");
    write_png("d/a,b.png", 5, 6, 100);
    write_png("d/dog/only_here.png", 6, 5, 110);
    write_png("d/cat/c.png", 4, 4, 120);

    /* A quoted name with a comma; a file found under its label's folder; CRLF
     * lines. */
    write_text(in_tmp("d/labels.csv"),
               "filename,label\r\n\"a,b.png\",cat\r\nonly_here.png,dog\r\n"
               "cat/c.png,\"cat\"\r\n");
    ds = dc_imagefolder_load_csv(in_tmp("d"), in_tmp("d/labels.csv"), NULL);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_eq(dc_imagefolder_len(ds), 3);
    cr_assert_eq(dc_imagefolder_n_classes(ds), 2);
    cr_assert_str_eq(dc_imagefolder_class_name(ds, 0), "cat");
    cr_assert_str_eq(dc_imagefolder_path(ds, 0), in_tmp("d/a,b.png"));
    cr_assert_str_eq(dc_imagefolder_path(ds, 1), in_tmp("d/dog/only_here.png"));
    cr_assert_eq(dc_imagefolder_labels(ds)[0], 0);
    cr_assert_eq(dc_imagefolder_labels(ds)[1], 1);
    cr_assert_eq(dc_imagefolder_labels(ds)[2], 0);
    dc_imagefolder_free(ds);
}

static void expect_csv_error(const char *text, const char *want)
{
    write_text(in_tmp("bad.csv"), text);
    cr_assert_null(dc_imagefolder_load_csv(tmp, in_tmp("bad.csv"), NULL));
    cr_assert(strstr(dc_last_error(), in_tmp("bad.csv")), "no file name: %s",
              dc_last_error());
    cr_assert(strstr(dc_last_error(), want), "expected \"%s\" in: %s", want,
              dc_last_error());
}

Test(image_folder, malformed_csv_rows)
{
    write_png("a.png", 4, 4, 1);
    expect_csv_error("file,label\na.png,x\na.png,x,extra\n",
                     "line 3: 3 fields, expected 2");
    expect_csv_error("file,label\na.png\n", "line 2: 1 field, expected 2");
    expect_csv_error("file,label\na.png,\n", "line 2: empty label");
    expect_csv_error("file,label\n\"a.png,x\n", "malformed CSV");
    expect_csv_error("file,label\na\"b.png,x\n", "line 2: malformed CSV");
    expect_csv_error("file,label\n", "only a header");
    expect_csv_error("", "empty");
    expect_csv_error("just_one_column\na.png,x\n", "line 1: header of 1 field");
}

Test(image_folder, csv_missing_file_names_the_line)
{
    dc_imagefolder_opts o = {.skip_bad = 1};
    dc_imagefolder *ds;

    write_png("a.png", 4, 4, 1);
    write_text(in_tmp("l.csv"), "file,label\na.png,x\n\nmissing.png,y\n");
    cr_assert_null(dc_imagefolder_load_csv(tmp, in_tmp("l.csv"), NULL));
    cr_assert(strstr(dc_last_error(), "missing.png: cannot open"), "%s",
              dc_last_error());
    cr_assert(strstr(dc_last_error(), "l.csv line 4"), "%s", dc_last_error());

    /* Skipped, it leaves class y empty, which is refused as torchvision's ImageFolder
     * refuses a class with no valid file; with a second y image it loads. */
    dc_log_set_level(DC_LOG_ERROR);
    cr_assert_null(dc_imagefolder_load_csv(tmp, in_tmp("l.csv"), &o));
    cr_assert(strstr(dc_last_error(), "class y has no readable image left after 1 bad"),
              "%s", dc_last_error());
    write_png("b.png", 4, 4, 2);
    write_text(in_tmp("l.csv"), "file,label\na.png,x\n\nmissing.png,y\nb.png,y\n");
    ds = dc_imagefolder_load_csv(tmp, in_tmp("l.csv"), &o);
    dc_log_set_level(DC_LOG_INFO);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_eq(dc_imagefolder_len(ds), 2);
    cr_assert_eq(dc_imagefolder_skipped(ds), 1);
    cr_assert_eq(dc_imagefolder_n_classes(ds), 2);
    dc_imagefolder_free(ds);
}

/* ---- the real dog-emotion set ---- */

static void check_dogs(const dc_imagefolder *ds)
{
    const char *names[] = {"angry", "happy", "relaxed", "sad"};
    int count[4] = {0};

    cr_assert_eq(dc_imagefolder_len(ds), 4000);
    cr_assert_eq(dc_imagefolder_skipped(ds), 0);
    cr_assert_eq(dc_imagefolder_n_classes(ds), 4);
    for (int c = 0; c < 4; c++)
        cr_assert_str_eq(dc_imagefolder_class_name(ds, c), names[c]);
    for (int i = 0; i < 4000; i++) {
        int h, w, y = dc_imagefolder_labels(ds)[i];
        const char *p = dc_imagefolder_path(ds, i);
        char folder[32];
        dc_imagefolder_pixels(ds, i, &h, &w);

        /* README: every image was resized to a shorter side of exactly 96. */
        cr_assert((h == 96 && w >= 96) || (w == 96 && h >= 96), "%s is %dx%d",
                  p, h, w);
        cr_assert(y >= 0 && y < 4);
        count[y]++;
        snprintf(folder, sizeof folder, "/%s/", names[y]);
        cr_assert(strstr(p, folder), "%s labelled %s", p, names[y]);
    }
    for (int c = 0; c < 4; c++)
        cr_assert_eq(count[c], 1000);
}

Test(image_dogs, folder)
{
    char dir[1024];
    dc_imagefolder *ds;

    if (!find_dogs(dir, sizeof dir))
        cr_skip_test("dog-emotion data not found");
    ds = dc_imagefolder_load(dir, NULL);
    cr_assert_not_null(ds, "%s", dc_last_error());
    check_dogs(ds);

    /* Sorted: the first angry file by name. */
    cr_assert(strstr(dc_imagefolder_path(ds, 0),
                     "angry/09dUVMcjCDfOtbeYDQg5Fvu3GPHWJg811.jpg"),
              "%s", dc_imagefolder_path(ds, 0));
    dc_imagefolder_free(ds);
}

Test(image_dogs, csv)
{
    char dir[1024], csv[1100];
    dc_imagefolder *ds;

    if (!find_dogs(dir, sizeof dir))
        cr_skip_test("dog-emotion data not found");
    snprintf(csv, sizeof csv, "%s/labels.csv", dir);
    ds = dc_imagefolder_load_csv(dir, csv, NULL);
    cr_assert_not_null(ds, "%s", dc_last_error());
    check_dogs(ds);
    dc_imagefolder_free(ds);
}

/* ---- stratified split ---- */

static void check_partition(const dc_split *s, int n)
{
    char *seen = calloc((size_t)n, 1);

    cr_assert_not_null(seen);
    for (int k = 0; k < s->n_splits; k++)
        for (int i = 0; i < s->n[k]; i++) {
            int e = s->idx[k][i];
            cr_assert(e >= 0 && e < n);
            cr_assert_eq(seen[e], 0, "example %d in two parts", e);
            seen[e] = 1;
            if (i > 0)
                cr_assert_lt(s->idx[k][i - 1], e, "part %d not ascending", k);
        }
    for (int e = 0; e < n; e++)
        cr_assert_eq(seen[e], 1, "example %d in no part", e);
    free(seen);
}

Test(image_split, proportions_per_class)
{
    int labels[4000], per[3][4] = {{0}};
    const float f[3] = {0.7f, 0.15f, 0.15f};
    dc_split s, t;

    /* Classes interleaved, as in a shuffled list. */
    for (int i = 0; i < 4000; i++)
        labels[i] = (i * 7) % 4;
    cr_assert_eq(dc_split_stratified(labels, 4000, f, 3, 42, &s), DC_OK, "%s",
                 dc_last_error());
    cr_assert(s.n[0] == 2800 && s.n[1] == 600 && s.n[2] == 600, "%d %d %d",
              s.n[0], s.n[1], s.n[2]);
    check_partition(&s, 4000);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < s.n[k]; i++)
            per[k][labels[s.idx[k][i]]]++;
    for (int c = 0; c < 4; c++)
        cr_assert(per[0][c] == 700 && per[1][c] == 150 && per[2][c] == 150);

    /* Same seed, same split; another seed, another. */
    cr_assert_eq(dc_split_stratified(labels, 4000, f, 3, 42, &t), DC_OK);
    cr_assert_eq(memcmp(s.idx[1], t.idx[1], 600 * sizeof(int)), 0);
    dc_split_deinit(&t);
    cr_assert_eq(dc_split_stratified(labels, 4000, f, 3, 43, &t), DC_OK);
    cr_assert_neq(memcmp(s.idx[1], t.idx[1], 600 * sizeof(int)), 0);
    dc_split_deinit(&t);
    dc_split_deinit(&s);
}

Test(image_split, uneven_classes_use_largest_remainders)
{
    int labels[21];
    const float f[3] = {0.7f, 0.15f, 0.15f};
    dc_split s;
    int per[3][3] = {{0}};

    /* Class sizes 7, 13, 1. 7 -> 4.9, 1.05, 1.05: floors 4, 1, 1, the leftover
     * to the largest shortfall: 5, 1, 1. 13 -> 9.1, 1.95, 1.95: floors 9, 1, 1;
     * the parts' targets after 20 examples are 14, 3, 3, so the two leftovers
     * go to parts 1 and 2: 9, 2, 2. 1 -> 1, 0, 0. */
    for (int i = 0; i < 21; i++)
        labels[i] = i < 7 ? 0 : i < 20 ? 1 : 2;
    cr_assert_eq(dc_split_stratified(labels, 21, f, 3, 1, &s), DC_OK);
    check_partition(&s, 21);
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < s.n[k]; i++)
            per[k][labels[s.idx[k][i]]]++;
    cr_assert(per[0][0] == 5 && per[1][0] == 1 && per[2][0] == 1);
    cr_assert(per[0][1] == 9 && per[1][1] == 2 && per[2][1] == 2);
    cr_assert(per[0][2] == 1 && per[1][2] == 0 && per[2][2] == 0);
    dc_split_deinit(&s);
}

Test(image_split, bad_arguments)
{
    int labels[4] = {0, 1, -1, 0};
    const float f[2] = {0.5f, 0.4f}, g[2] = {0.5f, 0.5f};
    dc_split s;

    cr_assert_eq(dc_split_stratified(labels, 4, f, 2, 1, &s), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "sum to 0.9"), "%s", dc_last_error());
    cr_assert_eq(dc_split_stratified(labels, 4, g, 2, 1, &s), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "label 2 is -1"), "%s", dc_last_error());
    cr_assert_eq(dc_split_stratified(labels, 4, g, 0, 1, &s), DC_ERR_ARG);
}

/* ---- the threaded loader ---- */

/* 3 classes of 7 PNGs each, sizes varying from 9 to 23 pixels a side. */
static dc_imagefolder *small_set(void)
{
    const char *cls[] = {"c0", "c1", "c2"};
    dc_imagefolder *ds;

    for (int c = 0; c < 3; c++) {
        char name[64];
        snprintf(name, sizeof name, "set/%s", cls[c]);
        mkdirs(name);
        for (int i = 0; i < 7; i++) {
            snprintf(name, sizeof name, "set/%s/%02d.png", cls[c], i);
            write_png(name, 9 + (i * 5 + c * 3) % 15, 9 + (i * 3 + c * 7) % 15,
                      30 * c + 9 * i);
        }
    }
    dc_log_set_level(DC_LOG_WARN);
    ds = dc_imagefolder_load(in_tmp("set"), NULL);
    dc_log_set_level(DC_LOG_INFO);
    cr_assert_not_null(ds, "%s", dc_last_error());
    return ds;
}

static void augment(dc_pipeline *p)
{
    const float mean[3] = {0.5f, 0.5f, 0.5f}, std[3] = {0.25f, 0.25f, 0.25f};
    dc_transform t[] = {
        dc_transform_random_resized_crop(8, 8),
        dc_transform_random_hflip(),
        dc_transform_random_rotation(20.0f),
        dc_transform_color_jitter(0.4f, 0.4f, 0.4f, 0.1f),
        dc_transform_normalize(mean, std),
    };

    dc_pipeline_init(p);
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        cr_assert_eq(dc_pipeline_add(p, &t[i]), DC_OK);
}

/* Every batch of `epochs` epochs, examples and labels, one after another. */
typedef struct run {
    float *x;
    int *y;
    int n, batches;
} run;

static run collect(const dc_imagefolder *ds, const int *idx, int n,
                   const dc_pipeline *p, dc_prefetch_opts o, int epochs)
{
    dc_prefetch *pf = dc_prefetch_new(ds, idx, n, p, &o);
    run r = {0};
    size_t cap = 0;

    cr_assert_not_null(pf, "%s", dc_last_error());
    for (int e = 0; e < epochs; e++) {
        dc_tensor *x;
        const int *y;
        int b;
        dc_prefetch_reset(pf);
        while (dc_prefetch_next(pf, &x, &y, &b) == DC_OK && b > 0) {
            size_t per = x->size / (size_t)b;
            cr_assert(x->ndim == 4 && x->shape[0] == b && x->shape[1] == 3);
            if ((size_t)(r.n + b) * per > cap) {
                cap = ((size_t)(r.n + b) * per) * 2;
                r.x = realloc(r.x, cap * sizeof(float));
                r.y = realloc(r.y, cap / per * sizeof(int));
            }
            memcpy(r.x + (size_t)r.n * per, x->data, x->size * sizeof(float));
            memcpy(r.y + r.n, y, (size_t)b * sizeof(int));
            r.n += b;
            r.batches++;
            dc_step_end();
        }
        cr_assert_eq(b, 0, "%s", dc_last_error());
    }
    dc_prefetch_free(pf);
    return r;
}

static int same_run(run a, run b, size_t per)
{
    return a.n == b.n && a.batches == b.batches &&
           memcmp(a.x, b.x, (size_t)a.n * per * sizeof(float)) == 0 &&
           memcmp(a.y, b.y, (size_t)a.n * sizeof(int)) == 0;
}

static void free_run(run r)
{
    free(r.x);
    free(r.y);
}

TestSuite(image_prefetch, .init = make_tmp, .fini = remove_tmp);

Test(image_prefetch, deterministic_for_any_workers_and_runs)
{
    dc_imagefolder *ds = small_set();
    dc_pipeline p;
    dc_prefetch_opts o = {.batch = 5, .shuffle = 1, .workers = 2, .seed = 11};
    run a, b, c, d, e;
    size_t per = 3 * 8 * 8;

    augment(&p);
    a = collect(ds, NULL, 0, &p, o, 2);
    b = collect(ds, NULL, 0, &p, o, 2);
    cr_assert_eq(a.n, 42);
    cr_assert_eq(a.batches,
                 10); /* 21 examples: 4 full batches and one of 1, twice */
    cr_assert(same_run(a, b, per), "two runs with the same seed differ");

    o.workers = 1;
    c = collect(ds, NULL, 0, &p, o, 2);
    cr_assert(same_run(a, c, per), "1 worker differs from 2");
    o.workers = 4;
    o.depth = 1;
    d = collect(ds, NULL, 0, &p, o, 2);
    cr_assert(same_run(a, d, per),
              "4 workers with depth 1 differ from 2 workers");

    o.seed = 12;
    e = collect(ds, NULL, 0, &p, o, 2);
    cr_assert(!same_run(a, e, per), "seeds 11 and 12 gave the same batches");

    /* The two epochs differ (another order, other augmentations). */
    cr_assert_neq(memcmp(a.x, a.x + 21 * per, 21 * per * sizeof(float)), 0);
    free_run(a);
    free_run(b);
    free_run(c);
    free_run(d);
    free_run(e);
    dc_imagefolder_free(ds);
}

Test(image_prefetch, batches_hold_the_pipeline_output)
{
    dc_imagefolder *ds = small_set();
    dc_pipeline p;
    dc_transform t[2] = {dc_transform_resize(12),
                         dc_transform_center_crop(10, 10)};
    dc_prefetch_opts o = {.batch = 4, .workers = 3};
    int idx[6] = {20, 3, 3, 11, 0, 7};
    dc_image img;
    run r;

    /* A fixed pipeline and no shuffling: example i must be the pipeline applied
     * to image idx[i], with its label. */
    dc_pipeline_init(&p);
    cr_assert_eq(dc_pipeline_add(&p, &t[0]), DC_OK);
    cr_assert_eq(dc_pipeline_add(&p, &t[1]), DC_OK);
    r = collect(ds, idx, 6, &p, o, 1);
    cr_assert_eq(r.n, 6);
    cr_assert_eq(r.batches, 2);
    dc_image_init(&img);
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(dc_imagefolder_get(ds, idx[i], &img), DC_OK);
        cr_assert_eq(dc_pipeline_apply(&p, &img, NULL, NULL), DC_OK);
        cr_assert(img.h == 10 && img.w == 10);
        cr_assert_eq(memcmp(r.x + (size_t)i * 300, img.data,
                            300 * sizeof(float)),
                     0, "example %d differs from the pipeline's output", i);
        cr_assert_eq(r.y[i], dc_imagefolder_labels(ds)[idx[i]]);
    }
    dc_image_deinit(&img);
    free_run(r);
    dc_imagefolder_free(ds);
}

Test(image_prefetch, epochs_cover_every_example_and_reset_drops_the_rest)
{
    dc_imagefolder *ds = small_set();
    dc_pipeline p;
    dc_prefetch_opts o = {.batch = 4,
                          .shuffle = 1,
                          .drop_last = 1,
                          .workers = 2,
                          .seed = 5};
    dc_prefetch *pf;
    dc_tensor *x;
    const int *y;
    int b, count[3] = {0}, seen = 0;
    size_t cap0;
    run fresh;

    augment(&p);
    pf = dc_prefetch_new(ds, NULL, 0, &p, &o);
    cr_assert_not_null(pf, "%s", dc_last_error());
    cr_assert_eq(dc_prefetch_batches(pf),
                 5); /* 21 / 4, the short batch dropped */

    /* Epoch 0 starts by itself; take one batch, then move on to epoch 1. */
    cr_assert_eq(dc_prefetch_next(pf, &x, &y, &b), DC_OK);
    cr_assert_eq(b, 4);
    dc_step_end();
    dc_prefetch_reset(pf);

    /* Epoch 1 must equal a fresh loader's second epoch. */
    fresh = collect(ds, NULL, 0, &p, o, 2);
    cap0 = dc_arena_capacity();
    while (dc_prefetch_next(pf, &x, &y, &b) == DC_OK && b > 0) {
        cr_assert_eq(memcmp(x->data, fresh.x + (size_t)(20 + seen) * 192,
                            x->size * sizeof(float)),
                     0, "epoch 1 differs at %d", seen);
        for (int i = 0; i < b; i++)
            count[y[i]]++;
        seen += b;
        dc_step_end();
    }
    cr_assert_eq(seen, 20);
    cr_assert_eq(count[0] + count[1] + count[2], 20);

    /* The end of an epoch repeats until reset; the arena has stopped growing. */
    cr_assert_eq(dc_prefetch_next(pf, &x, &y, &b), DC_OK);
    cr_assert_eq(b, 0);
    cr_assert_eq(dc_arena_capacity(), cap0);
    dc_prefetch_free(pf);
    free_run(fresh);
    dc_imagefolder_free(ds);
}

Test(image_prefetch, size_and_argument_checks)
{
    dc_imagefolder *ds = small_set();
    dc_pipeline p;
    dc_transform t = dc_transform_resize(8);
    dc_prefetch_opts o = {.batch = 4, .workers = 2};
    int bad[2] = {0, 21};

    /* Resize(int) alone keeps the aspect, so sizes differ: refused up front. */
    dc_pipeline_init(&p);
    cr_assert_eq(dc_pipeline_add(&p, &t), DC_OK);
    cr_assert_null(dc_prefetch_new(ds, NULL, 0, &p, &o));
    cr_assert(strstr(dc_last_error(), "a batch needs one size"), "%s",
              dc_last_error());

    t = dc_transform_center_crop(8, 8);
    cr_assert_eq(dc_pipeline_add(&p, &t), DC_OK);
    cr_assert_null(dc_prefetch_new(ds, bad, 2, &p, &o));
    cr_assert(strstr(dc_last_error(), "indices[1] = 21"), "%s",
              dc_last_error());
    o.workers = 0;
    cr_assert_null(dc_prefetch_new(ds, NULL, 0, &p, &o));
    cr_assert(strstr(dc_last_error(), "workers 0"), "%s", dc_last_error());
    o.workers = 1;
    o.batch = 30;
    o.drop_last = 1;
    cr_assert_null(dc_prefetch_new(ds, NULL, 0, &p, &o));
    dc_imagefolder_free(ds);
}

Test(image_prefetch, real_dogs_split_and_train_batches)
{
    char dir[1024];
    dc_imagefolder_opts fo = {.max_per_class = 30};
    dc_imagefolder *ds;
    dc_split s;
    const float f[3] = {0.7f, 0.15f, 0.15f};
    dc_pipeline p;
    dc_prefetch_opts o = {.batch = 16, .shuffle = 1, .workers = 2, .seed = 3};
    run r;

    if (!find_dogs(dir, sizeof dir))
        cr_skip_test("dog-emotion data not found");
    ds = dc_imagefolder_load(dir, &fo);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_eq(dc_imagefolder_len(ds), 120);
    cr_assert_eq(dc_split_stratified(dc_imagefolder_labels(ds), 120, f, 3, 7,
                                     &s),
                 DC_OK);
    cr_assert(s.n[0] == 84 && s.n[1] == 18 && s.n[2] == 18);
    augment(&p);
    r = collect(ds, s.idx[0], s.n[0], &p, o, 1);
    cr_assert_eq(r.n, 84);
    cr_assert_eq(r.batches, 6);
    for (int i = 0; i < 84; i++)
        cr_assert(r.y[i] >= 0 && r.y[i] < 4);
    for (size_t i = 0; i < (size_t)84 * 192; i++)
        cr_assert(isfinite(r.x[i]) && r.x[i] >= -2.0f && r.x[i] <= 2.0f);
    free_run(r);
    dc_split_deinit(&s);
    dc_imagefolder_free(ds);
}
