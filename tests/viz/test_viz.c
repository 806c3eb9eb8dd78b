/* Tests of src/viz: every plot kind writes a real PNG (read back with libpng: size, not
 * one colour, the expected colours present), image grids place and enlarge pixels
 * exactly, bad arguments fail without writing a file, unwritable paths fail naming the
 * path; the HTML report escapes text, embeds images as base64 data URIs and is written
 * atomically; base64 matches RFC 4648's test vectors. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deepc/viz.h"
#include "viz/base64.h"
#include "viz/internal.h"

#define TESTUTIL_TAG "viz"
#include "testutil.h"

/* ---- helpers ---- */

static int file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

static int has_png_signature(const char *path)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char got[8] = {0};
    FILE *fp = fopen(path, "rb");
    size_t n;

    if (!fp)
        return 0;
    n = fread(got, 1, 8, fp);
    fclose(fp);
    return n == 8 && memcmp(got, sig, 8) == 0;
}

/* Decodes a PNG to RGB with libpng; returns the pixels (free them) or NULL. */
static unsigned char *load_rgb(const char *path, int *w, int *h)
{
    png_image img;
    unsigned char *px;

    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!has_png_signature(path) || !png_image_begin_read_from_file(&img, path))
        return NULL;
    img.format = PNG_FORMAT_RGB;
    px = malloc(PNG_IMAGE_SIZE(img));
    if (!px || !png_image_finish_read(&img, NULL, px, 0, NULL)) {
        free(px);
        png_image_free(&img);
        return NULL;
    }
    *w = (int)img.width;
    *h = (int)img.height;
    return px;
}

static const unsigned char *pixel(const unsigned char *px, int w, int x, int y)
{
    return px + ((size_t)y * w + x) * 3;
}

static int count_near(const unsigned char *px, int w, int h, int r, int g, int b, int tol)
{
    int n = 0;

    for (int i = 0; i < w * h; i++) {
        const unsigned char *p = px + (size_t)i * 3;

        n += abs(p[0] - r) <= tol && abs(p[1] - g) <= tol && abs(p[2] - b) <= tol;
    }
    return n;
}

static int is_single_colour(const unsigned char *px, int w, int h)
{
    for (int i = 1; i < w * h; i++)
        if (memcmp(px, px + (size_t)i * 3, 3) != 0)
            return 0;
    return 1;
}

/* Reads a PNG and checks it has the given size, a white top-left corner and more than
 * one colour; returns the pixels (free them). */
static unsigned char *expect_png(const char *path, int want_w, int want_h)
{
    int w = 0, h = 0;
    unsigned char *px;

    cr_assert(has_png_signature(path), "%s has no PNG signature", path);
    px = load_rgb(path, &w, &h);
    cr_assert(px, "libpng cannot decode %s", path);
    if (want_w > 0)
        cr_assert_eq(w, want_w);
    if (want_h > 0)
        cr_assert_eq(h, want_h);
    cr_assert_not(is_single_colour(px, w, h), "%s is a single colour", path);
    cr_assert_eq(memcmp(pixel(px, w, 0, 0), "\xff\xff\xff", 3), 0, "background not white");
    return px;
}

/* Tableau blue and orange: the first two series colours. */
#define BLUE 31, 119, 180
#define ORANGE 255, 127, 14

static double xs[40], ys1[40], ys2[40];

static void make_curves(void)
{
    for (int i = 0; i < 40; i++) {
        xs[i] = i + 1;
        ys1[i] = 2.0 * exp(-i / 8.0) + 0.05;
        ys2[i] = 2.2 * exp(-i / 10.0) + 0.2;
    }
}

static void setup(void)
{
    make_tmp();
    make_curves();
}

/* ---- line plots ---- */

TestSuite(viz_lines, .init = setup, .fini = remove_tmp);

Test(viz_lines, two_series_give_a_png_with_both_colours)
{
    dc_series s[2] = {{"train", xs, ys1, 40}, {"validation", xs, ys2, 40}};
    dc_plot_opts o = {"Loss", "epoch", "loss", 0, 0, 0, 0};
    const char *path = in_tmp("lines.png");
    unsigned char *px;

    cr_assert_eq(dc_plot_lines(path, s, 2, &o), DC_OK, "%s", dc_last_error());
    px = expect_png(path, 1000, 650);
    cr_assert_gt(count_near(px, 1000, 650, BLUE, 10), 300);
    cr_assert_gt(count_near(px, 1000, 650, ORANGE, 10), 300);
    free(px);
    cr_assert_eq(tmp_entries(), 1, "a temporary file was left behind");
}

Test(viz_lines, size_options_log_axis_and_skipped_values)
{
    double y[5] = {1.0, 0.1, 0.0, -3.0, 0.001};
    double x[5] = {1, 2, 3, 4, 5};
    dc_series s = {"lr", x, y, 5};
    dc_plot_opts o = {"Learning rate", "step", "lr", 1, 640, 480, 0};
    const char *path = in_tmp("log.png");
    unsigned char *px;

    cr_assert_eq(dc_plot_lines(path, &s, 1, &o), DC_OK, "%s", dc_last_error());
    px = expect_png(path, 640, 480);
    cr_assert_gt(count_near(px, 640, 480, BLUE, 10), 50);
    cr_assert_eq(count_near(px, 640, 480, ORANGE, 10), 0);
    free(px);
}

Test(viz_lines, null_opts_and_labels_use_defaults)
{
    dc_series s[2] = {{NULL, xs, ys1, 40}, {NULL, xs, ys2, 1}};
    const char *path = in_tmp("defaults.png");

    cr_assert_eq(dc_plot_lines(path, s, 2, NULL), DC_OK, "%s", dc_last_error());
    free(expect_png(path, 1000, 650));
}

Test(viz_lines, many_plots_in_one_process)
{
    dc_series s[12];

    for (int i = 0; i < 12; i++)
        s[i] = (dc_series){"s", xs, i % 2 ? ys1 : ys2, 40};
    for (int k = 1; k <= 12; k++) {
        char name[32];

        snprintf(name, sizeof name, "p%d.png", k);
        cr_assert_eq(dc_plot_lines(in_tmp(name), s, k, NULL), DC_OK, "plot %d: %s", k,
                     dc_last_error());
        free(expect_png(in_tmp(name), 1000, 650));
    }
}

/* Calls must fail with `want` and leave no file at all in the directory. */
#define EXPECT_FAIL(call, want, fragment)                                                \
    do {                                                                                 \
        cr_assert_eq((call), (want), "%s: %s", #call, dc_last_error());                   \
        cr_assert(strstr(dc_last_error(), (fragment)), "message \"%s\" lacks \"%s\"",     \
                  dc_last_error(), (fragment));                                          \
        cr_assert_eq(tmp_entries(), 0, "%s wrote a file", #call);                         \
    } while (0)

Test(viz_lines, bad_arguments_fail_without_a_file)
{
    double bad_y[3] = {1.0, NAN, 2.0}, bad_x[3] = {0, INFINITY, 2}, neg[3] = {-1, 0, -2};
    const char *path = in_tmp("bad.png");
    dc_series ok = {"a", xs, ys1, 40};
    dc_series s_nan = {"a", xs, bad_y, 3}, s_inf = {"a", bad_x, ys1, 3};
    dc_series s_null = {"a", NULL, ys1, 3}, s_empty = {"a", xs, ys1, 0};
    dc_series s_neg = {"a", xs, neg, 3};
    dc_plot_opts big = {0, 0, 0, 0, 100000, 0, 0}, neg_size = {0, 0, 0, 0, -5, 0, 0};
    dc_plot_opts log = {0, 0, 0, 1, 0, 0, 0};

    EXPECT_FAIL(dc_plot_lines(path, &ok, 0, NULL), DC_ERR_ARG, "0 series");
    EXPECT_FAIL(dc_plot_lines(path, NULL, 1, NULL), DC_ERR_ARG, "expected at least one");
    EXPECT_FAIL(dc_plot_lines(path, &s_nan, 1, NULL), DC_ERR_ARG, "y[1] is nan");
    EXPECT_FAIL(dc_plot_lines(path, &s_inf, 1, NULL), DC_ERR_ARG, "x[1] is inf");
    EXPECT_FAIL(dc_plot_lines(path, &s_null, 1, NULL), DC_ERR_ARG, "series 0");
    EXPECT_FAIL(dc_plot_lines(path, &s_empty, 1, NULL), DC_ERR_ARG, "n=0");
    EXPECT_FAIL(dc_plot_lines(path, &ok, 1, &big), DC_ERR_ARG, "size 100000x0");
    EXPECT_FAIL(dc_plot_lines(path, &ok, 1, &neg_size), DC_ERR_ARG, "size -5x0");
    EXPECT_FAIL(dc_plot_lines(path, &s_neg, 1, &log), DC_ERR_ARG, "no y value is positive");
    EXPECT_FAIL(dc_plot_lines(NULL, &ok, 1, NULL), DC_ERR_ARG, "path is NULL");
    EXPECT_FAIL(dc_plot_lines("", &ok, 1, NULL), DC_ERR_ARG, "path is empty");
}

Test(viz_lines, unwritable_path_is_an_io_error_naming_it)
{
    dc_series s = {"a", xs, ys1, 40};
    const char *path = "/nonexistent-deepc-dir/plot.png";

    cr_assert_eq(dc_plot_lines(path, &s, 1, NULL), DC_ERR_IO);
    cr_assert(strstr(dc_last_error(), path), "message: %s", dc_last_error());

    /* A failure leaves PLplot usable for the next plot. */
    cr_assert_eq(dc_plot_lines(in_tmp("after.png"), &s, 1, NULL), DC_OK);
    free(expect_png(in_tmp("after.png"), 1000, 650));
}

Test(viz_lines, writing_replaces_an_existing_file)
{
    dc_series s = {"a", xs, ys1, 40};
    const char *path = in_tmp("again.png");

    write_text(path, "old contents");
    cr_assert_eq(dc_plot_lines(path, &s, 1, NULL), DC_OK);
    free(expect_png(path, 1000, 650));
    cr_assert_eq(tmp_entries(), 1);
}

/* ---- bar charts ---- */

TestSuite(viz_bars, .init = setup, .fini = remove_tmp);

Test(viz_bars, bars_are_drawn_in_the_first_colour)
{
    const char *names[4] = {"cat", "dog", "bird", "fish"};
    double v[4] = {0.9, 0.75, 0.5, 0.95};
    dc_plot_opts o = {"Accuracy per class", "class", "accuracy", 0, 0, 0, 0};
    const char *path = in_tmp("bars.png");
    unsigned char *px;

    cr_assert_eq(dc_plot_bars(path, names, v, 4, &o), DC_OK, "%s", dc_last_error());
    px = expect_png(path, 1000, 650);

    /* Four bars of 0.7 of a slot, most of the plot's height: a large blue area. */
    cr_assert_gt(count_near(px, 1000, 650, BLUE, 4), 50000);
    free(px);
}

Test(viz_bars, negative_values_long_names_and_log_axis)
{
    const char *names[3] = {"a rather long category name", "b#1", "c"};
    double v[3] = {-2.0, 5.0, 1e-3};
    dc_plot_opts log = {"log", NULL, NULL, 1, 800, 600, 0};

    cr_assert_eq(dc_plot_bars(in_tmp("neg.png"), names, v, 3, NULL), DC_OK, "%s",
                 dc_last_error());
    free(expect_png(in_tmp("neg.png"), 1000, 650));
    cr_assert_eq(dc_plot_bars(in_tmp("log.png"), NULL, v, 3, &log), DC_OK, "%s",
                 dc_last_error());
    free(expect_png(in_tmp("log.png"), 800, 600));
}

Test(viz_bars, bad_arguments_fail_without_a_file)
{
    const char *names[2] = {"a", NULL};
    double v[2] = {1.0, 2.0}, nan_v[2] = {1.0, NAN}, neg[2] = {-1.0, 0.0};
    dc_plot_opts log = {0, 0, 0, 1, 0, 0, 0};
    const char *path = in_tmp("bad.png");

    EXPECT_FAIL(dc_plot_bars(path, NULL, NULL, 2, NULL), DC_ERR_ARG, "expected at least");
    EXPECT_FAIL(dc_plot_bars(path, NULL, v, 0, NULL), DC_ERR_ARG, "0 values");
    EXPECT_FAIL(dc_plot_bars(path, NULL, nan_v, 2, NULL), DC_ERR_ARG, "values[1] is nan");
    EXPECT_FAIL(dc_plot_bars(path, names, v, 2, NULL), DC_ERR_ARG, "names[1] is NULL");
    EXPECT_FAIL(dc_plot_bars(path, NULL, neg, 2, &log), DC_ERR_ARG, "no value is positive");
}

/* ---- confusion matrices ---- */

TestSuite(viz_confusion, .init = setup, .fini = remove_tmp);

Test(viz_confusion, diagonal_cells_are_dark_and_counts_fit)
{
    const char *names[3] = {"cat", "dog", "bird"};
    int counts[9] = {50, 0, 0, 0, 40, 0, 0, 0, 30};
    const char *path = in_tmp("conf.png");
    int w, h;
    unsigned char *px;

    cr_assert_eq(dc_plot_confusion(path, counts, 3, names, "Confusion"), DC_OK, "%s",
                 dc_last_error());
    px = expect_png(path, 0, 0);
    free(px);
    px = load_rgb(path, &w, &h);

    /* 3 cells of 80 px: a full row share gives the darkest blue (8, 48, 107) on three
     * diagonal cells (less the count text); the rest is near white. */
    cr_assert_geq(w, 3 * 80);
    cr_assert_geq(h, 3 * 80);
    cr_assert_gt(count_near(px, w, h, 8, 48, 107, 6), 3 * 60 * 60);
    cr_assert_lt(count_near(px, w, h, 8, 48, 107, 6), 3 * 80 * 80);
    free(px);
}

Test(viz_confusion, many_classes_without_names)
{
    int k = 150;
    int *counts = calloc((size_t)k * k, sizeof *counts);

    cr_assert(counts);
    for (int i = 0; i < k; i++)
        counts[i * k + (i * 7) % k] = 5 + i;
    cr_assert_eq(dc_plot_confusion(in_tmp("big.png"), counts, k, NULL, NULL), DC_OK,
                 "%s", dc_last_error());
    free(expect_png(in_tmp("big.png"), 0, 0));
    free(counts);
}

Test(viz_confusion, bad_arguments_fail_without_a_file)
{
    int counts[4] = {1, 2, -3, 4};
    int ok[4] = {1, 2, 3, 4};
    const char *names[2] = {"a", NULL};
    const char *path = in_tmp("bad.png");

    EXPECT_FAIL(dc_plot_confusion(path, NULL, 2, NULL, NULL), DC_ERR_ARG, "k=2");
    EXPECT_FAIL(dc_plot_confusion(path, ok, 0, NULL, NULL), DC_ERR_ARG, "k=0");
    EXPECT_FAIL(dc_plot_confusion(path, counts, 2, NULL, NULL), DC_ERR_ARG,
                "counts[2] (true 1, predicted 0) is -3");
    EXPECT_FAIL(dc_plot_confusion(path, ok, 2, names, NULL), DC_ERR_ARG, "names[1]");
}

Test(viz_confusion, unwritable_path_is_an_io_error_naming_it)
{
    int ok[4] = {1, 2, 3, 4};
    const char *path = "/nonexistent-deepc-dir/conf.png";

    cr_assert_eq(dc_plot_confusion(path, ok, 2, NULL, "t"), DC_ERR_IO);
    cr_assert(strstr(dc_last_error(), path), "message: %s", dc_last_error());
}

/* ---- image grids ---- */

TestSuite(viz_grid, .init = setup, .fini = remove_tmp);

Test(viz_grid, grey_images_are_enlarged_exactly)
{
    dc_tensor *t = dc_tensor_new4(2, 1, 4, 4);
    const char *path = in_tmp("grid.png");
    const unsigned char *p;
    unsigned char *px;
    int w, h;

    /* Image 0 counts 0..15 in sixteenths; image 1 is out of range and must clamp. */
    for (int i = 0; i < 16; i++) {
        t->data[i] = i / 15.0f;
        t->data[16 + i] = i % 2 ? 2.0f : -1.0f;
    }
    cr_assert_eq(dc_image_grid_png(path, t, 2, 0.0f, 1.0f, NULL), DC_OK, "%s",
                 dc_last_error());

    /* 4 px images zoom by ceil(56 / 4) = 14 to 56 px; 2 px white gutters all round. */
    px = expect_png(path, 2 * 56 + 3 * 2, 56 + 2 * 2);
    w = 118;
    h = 60;
    p = pixel(px, w, 2, 2);
    cr_assert(p[0] == 0 && p[1] == 0 && p[2] == 0);
    p = pixel(px, w, 2 + 13, 2 + 13);
    cr_assert_eq(p[0], 0, "source pixel (0,0) must cover 14 x 14");
    p = pixel(px, w, 2 + 14, 2);
    cr_assert_eq(p[0], 17, "source pixel (0,1) = 1/15 -> 17, got %d", p[0]);
    p = pixel(px, w, 2 + 55, 2 + 55);
    cr_assert_eq(p[0], 255);
    p = pixel(px, w, 2 + 3 * 14, 2 + 2 * 14);
    cr_assert_eq(p[0], (int)(11 / 15.0 * 255 + 0.5), "source pixel (2,3)");
    p = pixel(px, w, 60, 2);
    cr_assert(p[0] == 0 && p[1] == 0 && p[2] == 0, "image 1 starts at x = 60");
    p = pixel(px, w, 60 + 14, 2);
    cr_assert(p[0] == 255 && p[1] == 255 && p[2] == 255, "2.0 clamps to 255");
    for (int y = 0; y < h; y++) {
        cr_assert_eq(memcmp(pixel(px, w, 58, y), "\xff\xff\xff", 3), 0, "gutter at y %d", y);
        cr_assert_eq(memcmp(pixel(px, w, 1, y), "\xff\xff\xff", 3), 0);
    }
    free(px);
    dc_tensor_free(t);
}

Test(viz_grid, rgb_planes_become_pixels_and_cols_clamp)
{
    dc_tensor *t = dc_tensor_new4(1, 3, 2, 2);
    const char *path = in_tmp("rgb.png");
    unsigned char *px;
    int w, h;

    for (int i = 0; i < 4; i++) {
        t->data[i] = 1.0f;       /* red plane */
        t->data[4 + i] = -1.0f;  /* green plane */
        t->data[8 + i] = 0.0f;   /* blue plane, the middle of [-1, 1] */
    }
    cr_assert_eq(dc_image_grid_png(path, t, 8, -1.0f, 1.0f, NULL), DC_OK, "%s",
                 dc_last_error());

    /* Only one column although 8 were asked: 2 px images zoom 28 times to 56 px. */
    px = load_rgb(path, &w, &h);
    cr_assert(px);
    cr_assert_eq(w, 60);
    cr_assert_eq(h, 60);
    cr_assert(memcmp(pixel(px, w, 30, 30), "\xff\x00\x80", 3) == 0, "got %d %d %d",
              pixel(px, w, 30, 30)[0], pixel(px, w, 30, 30)[1], pixel(px, w, 30, 30)[2]);
    free(px);
    dc_tensor_free(t);
}

Test(viz_grid, captions_add_a_strip_with_text)
{
    dc_tensor *t = dc_tensor_new4(3, 1, 28, 28);
    const char *caps[3] = {"7 (pred 1)", NULL, "a caption much too long for its image"};
    const char *path = in_tmp("caps.png");
    unsigned char *px;
    int w, h, dark = 0;

    for (size_t i = 0; i < t->size; i++)
        t->data[i] = (float)(i % 28) / 27.0f;
    cr_assert_eq(dc_image_grid_png(path, t, 3, 0.0f, 1.0f, caps), DC_OK, "%s",
                 dc_last_error());
    px = load_rgb(path, &w, &h);
    cr_assert(px);

    /* 28 px images zoom twice to 56; the strip adds 20 px under them. */
    cr_assert_eq(h, 56 + 20 + 4);
    cr_assert_geq(w, 3 * 56 + 4 * 2);
    for (int y = 2 + 56; y < 2 + 76; y++)
        for (int x = 0; x < w; x++)
            dark += pixel(px, w, x, y)[0] < 100;
    cr_assert_gt(dark, 40, "no caption text drawn (%d dark pixels)", dark);
    free(px);

    /* Captions that are all NULL add no strip. */
    const char *none[3] = {NULL, NULL, ""};
    cr_assert_eq(dc_image_grid_png(path, t, 3, 0.0f, 1.0f, none), DC_OK);
    px = load_rgb(path, &w, &h);
    cr_assert_eq(h, 60);
    free(px);
    dc_tensor_free(t);
}

Test(viz_grid, bad_arguments_fail_without_a_file)
{
    dc_tensor *t = dc_tensor_new4(2, 1, 4, 4);
    dc_tensor *two = dc_tensor_new4(2, 2, 4, 4);
    dc_tensor *flat = dc_tensor_new2(4, 4);
    const char *path = in_tmp("bad.png");

    EXPECT_FAIL(dc_image_grid_png(path, NULL, 2, 0, 1, NULL), DC_ERR_ARG, "images is NULL");
    EXPECT_FAIL(dc_image_grid_png(path, two, 2, 0, 1, NULL), DC_ERR_SHAPE, "[2,2,4,4]");
    EXPECT_FAIL(dc_image_grid_png(path, flat, 2, 0, 1, NULL), DC_ERR_SHAPE, "[4,4]");
    EXPECT_FAIL(dc_image_grid_png(path, t, 0, 0, 1, NULL), DC_ERR_ARG, "cols is 0");
    EXPECT_FAIL(dc_image_grid_png(path, t, 2, 1, 1, NULL), DC_ERR_ARG, "lo < hi");
    EXPECT_FAIL(dc_image_grid_png(path, t, 2, 0, NAN, NULL), DC_ERR_ARG, "lo < hi");
    t->data[20] = NAN;
    EXPECT_FAIL(dc_image_grid_png(path, t, 2, 0, 1, NULL), DC_ERR_ARG, "image 1 holds nan");
    dc_tensor_free(t);
    dc_tensor_free(two);
    dc_tensor_free(flat);
}

Test(viz_grid, unwritable_path_is_an_io_error_naming_it)
{
    dc_tensor *t = dc_tensor_new4(1, 1, 4, 4);
    const char *path = "/nonexistent-deepc-dir/grid.png";

    cr_assert_eq(dc_image_grid_png(path, t, 1, 0, 1, NULL), DC_ERR_IO);
    cr_assert(strstr(dc_last_error(), path), "message: %s", dc_last_error());
    dc_tensor_free(t);
}

/* ---- text for PLplot ---- */

Test(viz_text, escapes_and_cuts_at_character_boundaries)
{
    char buf[64];

    cr_assert_str_eq(dc_viz_pl_text("a#b", buf, sizeof buf), "a##b");
    cr_assert_str_eq(dc_viz_pl_text(NULL, buf, sizeof buf), "");
    cr_assert_str_eq(dc_viz_pl_text("x\ny\xff", buf, sizeof buf), "x y?");

    /* 10 'a' are 8.5 cap heights wide: at 10 px, 60 px keep 5 of them, and the ellipsis
     * (1.4) leaves room for 5 (4.25 + 1.4 <= 6). */
    cr_assert_str_eq(dc_viz_pl_text_fit("aaaaaaaaaa", 60.0, 10.0, buf, sizeof buf),
                     "aaaaa\xe2\x80\xa6");
    cr_assert_str_eq(dc_viz_pl_text_fit("aaaa", 60.0, 10.0, buf, sizeof buf), "aaaa");

    /* A two-byte character is kept whole or dropped whole. */
    cr_assert_str_eq(dc_viz_pl_text_fit("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 35.0, 10.0, buf,
                                        sizeof buf), "\xc3\xa9\xe2\x80\xa6");
    cr_assert_str_eq(dc_viz_pl_text("\xc3\xa9\xc3\xa9\xc3\xa9", buf, 6), "\xc3\xa9\xe2\x80\xa6");
}

/* ---- the report ---- */

TestSuite(report, .init = setup, .fini = remove_tmp);

Test(report, escapes_text_in_every_place)
{
    dc_report *r = dc_report_new("A <b> & \"c\"");
    const char *cells[4] = {"<k>", "v", "x & y", "3.5"};
    const char *path = in_tmp("r.html");
    char *html;

    cr_assert(r);
    dc_report_heading(r, "<h>");
    dc_report_text(r, "%d < %d & \"%s\"", 1, 2, "q'");
    dc_report_table(r, cells, 2, 2);
    cr_assert_eq(dc_report_write(r, path), DC_OK, "%s", dc_last_error());
    dc_report_free(r);

    html = read_text(path);
    cr_assert(strstr(html, "<title>A &lt;b&gt; &amp; &quot;c&quot;</title>"), "%s", html);
    cr_assert(strstr(html, "<h2>&lt;h&gt;</h2>"));
    cr_assert(strstr(html, "<p>1 &lt; 2 &amp; &quot;q&#39;&quot;</p>"));
    cr_assert(strstr(html, "<th>&lt;k&gt;</th>"));
    cr_assert(strstr(html, "<td>x &amp; y</td>"));
    cr_assert(strstr(html, "<td class=\"num\">3.5</td>"));
    cr_assert_null(strstr(html, "<b>"));
    cr_assert_null(strstr(html, "<k>"));
    cr_assert(strstr(html, "<!DOCTYPE html>") == html);
    cr_assert(strstr(html, "</html>\n"));
    free(html);
    cr_assert_eq(tmp_entries(), 1, "a temporary file was left behind");
}

Test(report, embeds_a_png_as_a_base64_data_uri)
{
    dc_series s = {"a", xs, ys1, 40};
    const char *png = in_tmp("p.png"), *path = in_tmp("r.html");
    dc_report *r = dc_report_new("images");
    char *html, *uri, *end;
    FILE *fp;
    long size;

    cr_assert_eq(dc_plot_lines(png, &s, 1, NULL), DC_OK);
    fp = fopen(png, "rb");
    fseek(fp, 0, SEEK_END);
    size = ftell(fp);
    fclose(fp);

    dc_report_image(r, png, "Loss & accuracy");
    cr_assert_eq(dc_report_write(r, path), DC_OK, "%s", dc_last_error());
    dc_report_free(r);

    /* base64 of the PNG signature starts "iVBORw0KGgo"; the URI has 4 * ceil(size / 3)
     * characters and the caption is escaped. */
    html = read_text(path);
    uri = strstr(html, "src=\"data:image/png;base64,iVBORw0KGgo");
    cr_assert(uri, "no data URI");
    uri += strlen("src=\"data:image/png;base64,");
    end = strchr(uri, '"');
    cr_assert_eq(end - uri, 4 * ((size + 2) / 3));
    cr_assert(strstr(html, "<figcaption>Loss &amp; accuracy</figcaption>"));
    free(html);
}

Test(report, missing_image_becomes_a_note)
{
    dc_report *r = dc_report_new(NULL);
    const char *path = in_tmp("r.html"), *txt = in_tmp("not.png");
    char *html;

    write_text(txt, "this is not a png file at all");
    dc_report_image(r, "/nonexistent-deepc-dir/x.png", "gone");
    dc_report_image(r, txt, "fake");
    cr_assert_eq(dc_report_write(r, path), DC_OK, "%s", dc_last_error());
    dc_report_free(r);

    html = read_text(path);
    cr_assert(strstr(html, "Image missing: /nonexistent-deepc-dir/x.png"), "%s", html);
    cr_assert(strstr(html, "not a PNG file"));
    cr_assert_null(strstr(html, "data:image/png"));
    free(html);
}

Test(report, bad_table_makes_write_fail)
{
    dc_report *r = dc_report_new("t");
    const char *path = in_tmp("r.html");

    dc_report_table(r, NULL, 2, 2);
    dc_report_heading(r, "later");
    cr_assert_eq(dc_report_write(r, path), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "dc_report_table"), "%s", dc_last_error());
    cr_assert_not(file_exists(path));
    dc_report_free(r);
}

Test(report, unwritable_path_is_an_io_error_naming_it)
{
    dc_report *r = dc_report_new("t");
    const char *path = "/nonexistent-deepc-dir/r.html";

    cr_assert_eq(dc_report_write(r, path), DC_ERR_IO);
    cr_assert(strstr(dc_last_error(), path), "%s", dc_last_error());
    cr_assert_eq(dc_report_write(NULL, in_tmp("x.html")), DC_ERR_ARG);
    dc_report_free(r);
    dc_report_free(NULL);
}

Test(report_base64, rfc4648_test_vectors)
{
    static const char *in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                "Zm9vYmFy"};

    for (int i = 0; i < 7; i++) {
        char *s = dc_base64_encode(in[i], strlen(in[i]));

        cr_assert(s);
        cr_assert_str_eq(s, out[i], "base64(\"%s\")", in[i]);
        free(s);
    }
}

Test(report_base64, high_bytes_and_null_empty_input)
{
    static const unsigned char bytes[4] = {0xff, 0xfe, 0x00, 0xfb};
    char *s = dc_base64_encode(bytes, 4);

    cr_assert_str_eq(s, "//4A+w==");
    free(s);
    s = dc_base64_encode(NULL, 0);
    cr_assert_str_eq(s, "");
    free(s);
}
