/* png.c - PNG files with libpng: the writer every picture of src/viz goes through, and
 * dc_image_grid_png, a grid of grey or RGB images with optional captions.
 *
 * Files are written through dc_atomic_open/commit (src/io/atomic.c): a temporary file
 * renamed into place. Small images are enlarged by whole pixels (nearest neighbour) to at
 * least 56 px, with 2 px white gutters. Captions are drawn over the pixels with PLplot
 * (session helpers in plot.c), since libpng has no text; a NULL or empty entry of
 * `captions` leaves that image without one, and a caption wider than its slot is cut
 * with an ellipsis. A wrongly shaped tensor is DC_ERR_SHAPE; values that are not finite
 * are DC_ERR_ARG (values outside [lo, hi] are clamped).
 * Limitation: a grid larger than 30000 px a side or 64 Mpixel returns DC_ERR_ARG.
 * Leaves out: reading PNGs (datasets do that in src/data), alpha channels, 16-bit
 * samples. */
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plplot/plplot.h>

#include "deepc/io.h"
#include "deepc/log.h"
#include "deepc/viz.h"
#include "viz/internal.h"

#define GRID_MIN_CELL 56    /* small images are enlarged to at least this many pixels */
#define GRID_MAX_CELL 512   /* ... but not beyond this */
#define GUTTER 2
#define CAPTION_PX 10.0     /* cap height of caption text */
#define CAPTION_H 20        /* height of the caption strip under each image */
#define CAPTION_MAX_W 200   /* a slot widens for its caption up to this many pixels */
#define GRID_MAX_SIDE 30000
#define GRID_MAX_PIXELS (64.0 * 1024 * 1024)

/* ------------------------------------------------------------------------------------ */
/* Writing                                                                              */
/* ------------------------------------------------------------------------------------ */

typedef struct png_err {
    char msg[200];
} png_err;

/* libpng reports errors by calling this, which must not return. */
static void on_png_error(png_structp png, png_const_charp msg)
{
    png_err *e = png_get_error_ptr(png);

    snprintf(e->msg, sizeof e->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    dc_log(DC_LOG_DEBUG, "libpng: %s", msg);
}

/* Encodes RGBA rows as an 8-bit RGB PNG to fp; on failure err->msg says why. */
static dc_status encode(FILE *fp, const unsigned char *rgba, int w, int h, png_err *err)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, err, on_png_error,
                                              on_png_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;

    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(err->msg, sizeof err->msg, "libpng could not allocate its state");
        return DC_ERR_NOMEM;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return DC_ERR_IO;
    }

    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);

    /* Rows hold a fourth byte per pixel that libpng drops on the way out. */
    png_set_filler(png, 0, PNG_FILLER_AFTER);
    for (int y = 0; y < h; y++)
        png_write_row(png, rgba + (size_t)y * (size_t)w * 4);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    return DC_OK;
}

dc_status dc_viz_png_write(const char *path, const unsigned char *rgba, int w, int h)
{
    dc_atomic_file af;
    png_err err = {""};
    dc_status st = dc_atomic_open(&af, path);

    if (st != DC_OK)
        return st;
    st = encode(af.fp, rgba, w, h, &err);
    if (st != DC_OK) {
        dc_atomic_abort(&af);
        return dc_fail(st, "%s: writing the PNG failed: %s", path, err.msg);
    }
    return dc_atomic_commit(&af);
}

unsigned char *dc_viz_canvas_new(int w, int h, const char *who)
{
    size_t n = (size_t)w * (size_t)h * 4;
    unsigned char *px = dc_malloc(n, who);

    if (px)
        memset(px, 255, n);
    return px;
}

/* ------------------------------------------------------------------------------------ */
/* Image grids                                                                          */
/* ------------------------------------------------------------------------------------ */

typedef struct grid {
    const dc_tensor *t;           /* [n, c, ih, iw] */
    int n, c, ih, iw;
    double lo, scale;             /* value v becomes (v - lo) * scale, clamped to 0..255 */
    const char *const *captions;  /* NULL when no image has a caption */
    int zoom;                     /* each source pixel becomes zoom x zoom pixels */
    int cols, rows;
    int slot_w, slot_h;           /* one image (centred) with its caption strip */
    int cap_h;
    int w, h;                     /* the whole picture */
} grid;

static dc_status check_grid_args(const char *path, const dc_tensor *t, int cols, float lo,
                                 float hi)
{
    static const char *who = "dc_image_grid_png";
    char shape[64];

    if (!path || !path[0])
        return dc_fail(DC_ERR_ARG, "%s: path is %s, expected a file name", who,
                       path ? "empty" : "NULL");
    if (!t || !t->data)
        return dc_fail(DC_ERR_ARG, "%s: images is NULL, expected a [n,c,h,w] tensor", who);
    if (t->ndim != 4 || (t->shape[1] != 1 && t->shape[1] != 3) || t->shape[0] <= 0 ||
        t->shape[2] <= 0 || t->shape[3] <= 0)
        return dc_fail(DC_ERR_SHAPE, "%s: images has shape %s, expected [n,c,h,w] with "
                       "c = 1 or 3", who, dc_shape_str(t, shape, sizeof shape));
    if (cols <= 0)
        return dc_fail(DC_ERR_ARG, "%s: cols is %d, expected >= 1", who, cols);
    if (!isfinite(lo) || !isfinite(hi) || !(lo < hi) || !isfinite((double)hi - lo))
        return dc_fail(DC_ERR_ARG, "%s: value range [%g, %g], expected finite lo < hi",
                       who, lo, hi);
    for (size_t i = 0; i < t->size; i++)
        if (!isfinite(t->data[i]))
            return dc_fail(DC_ERR_ARG, "%s: image %zu holds %g, expected finite values",
                           who, i / (t->size / (size_t)t->shape[0]), t->data[i]);
    return DC_OK;
}

/* NULL unless at least one caption has text. */
static const char *const *used_captions(const char *const *captions, int n)
{
    for (int i = 0; captions && i < n; i++)
        if (captions[i] && captions[i][0])
            return captions;
    return NULL;
}

static dc_status grid_layout(grid *g, int cols)
{
    int small = g->ih < g->iw ? g->ih : g->iw, large = g->ih > g->iw ? g->ih : g->iw;
    int cell_w, cell_h;
    double longest = 0.0, w, h;

    /* Nearest-neighbour zoom so the smaller side reaches GRID_MIN_CELL. */
    g->zoom = (GRID_MIN_CELL + small - 1) / small;
    if (g->zoom > GRID_MAX_CELL / large)
        g->zoom = GRID_MAX_CELL / large > 1 ? GRID_MAX_CELL / large : 1;
    cell_w = g->iw * g->zoom;
    cell_h = g->ih * g->zoom;

    for (int i = 0; g->captions && i < g->n; i++)
        if (g->captions[i])
            longest = fmax(longest, dc_viz_text_width_px(g->captions[i], CAPTION_PX));
    g->cap_h = g->captions ? CAPTION_H : 0;
    /* A slot widens for its caption, but only so far: one long caption would
     * otherwise spread the whole grid; longer captions are cut. */
    g->slot_w = cell_w;
    if (g->captions && longest + 6.0 > cell_w)
        g->slot_w = (int)fmin(longest + 6.0,
                              fmax(cell_w, fmin(CAPTION_MAX_W, fmax(1.7 * cell_w, 100.0))));
    g->slot_h = cell_h + g->cap_h;
    g->cols = cols < g->n ? cols : g->n;
    g->rows = (g->n + g->cols - 1) / g->cols;

    w = (double)g->cols * (g->slot_w + GUTTER) + GUTTER;
    h = (double)g->rows * (g->slot_h + GUTTER) + GUTTER;
    if (w > GRID_MAX_SIDE || h > GRID_MAX_SIDE || w * h > GRID_MAX_PIXELS)
        return dc_fail(DC_ERR_ARG, "dc_image_grid_png: %d images in %d columns make a "
                       "%.0fx%.0f picture, more than %d pixels a side or %.0f pixels",
                       g->n, g->cols, w, h, GRID_MAX_SIDE, GRID_MAX_PIXELS);
    g->w = (int)w;
    g->h = (int)h;
    return DC_OK;
}

static unsigned char to_byte(const grid *g, float v)
{
    double t = (v - g->lo) * g->scale;

    return (unsigned char)(t <= 0.0 ? 0 : t >= 255.0 ? 255 : (int)(t + 0.5));
}

/* Copies image i, enlarged, into its slot; channel planes become RGB(A) pixels. */
static void paint_image(const grid *g, int i, unsigned char *px)
{
    int col = i % g->cols, row = i / g->cols;
    int x0 = GUTTER + col * (g->slot_w + GUTTER) + (g->slot_w - g->iw * g->zoom) / 2;
    int y0 = GUTTER + row * (g->slot_h + GUTTER);
    size_t plane = (size_t)g->ih * g->iw;
    const float *src = g->t->data + (size_t)i * g->c * plane;

    for (int y = 0; y < g->ih * g->zoom; y++) {
        unsigned char *dst = px + ((size_t)(y0 + y) * g->w + x0) * 4;
        const float *line = src + (size_t)(y / g->zoom) * g->iw;

        for (int x = 0; x < g->iw * g->zoom; x++, dst += 4) {
            const float *s = line + x / g->zoom;

            dst[0] = to_byte(g, s[0]);
            dst[1] = g->c == 3 ? to_byte(g, s[plane]) : dst[0];
            dst[2] = g->c == 3 ? to_byte(g, s[2 * plane]) : dst[0];
        }
    }
}

/* Each caption centred in the strip under its image, cut with an ellipsis to fit. */
static dc_status draw_captions(const grid *g, unsigned char *px)
{
    static const char *who = "dc_image_grid_png";
    dc_status st = dc_viz_pl_begin(px, g->w, g->h, who);
    char buf[512];

    if (st != DC_OK)
        return st;
    dc_viz_text_px(CAPTION_PX);
    plcol0(DC_VIZ_BLACK);
    for (int i = 0; i < g->n; i++) {
        double cx = GUTTER + (i % g->cols) * (g->slot_w + GUTTER) + 0.5 * g->slot_w;
        double cy = GUTTER + (i / g->cols) * (g->slot_h + GUTTER) + g->slot_h -
                    0.5 * g->cap_h;

        if (g->captions[i] && g->captions[i][0])
            plptex(cx, g->h - cy, 1.0, 0.0, 0.5,
                   dc_viz_pl_text_fit(g->captions[i], g->slot_w - 4.0, CAPTION_PX, buf,
                                      sizeof buf));
    }
    return dc_viz_pl_end(who);
}

dc_status dc_image_grid_png(const char *path, const dc_tensor *images, int cols,
                            float lo, float hi, const char *const *captions)
{
    dc_status st = check_grid_args(path, images, cols, lo, hi);
    grid g = {0};
    unsigned char *px;

    if (st != DC_OK)
        return st;
    g.t = images;
    g.n = images->shape[0];
    g.c = images->shape[1];
    g.ih = images->shape[2];
    g.iw = images->shape[3];
    g.lo = lo;
    g.scale = 255.0 / ((double)hi - lo);
    g.captions = used_captions(captions, g.n);
    if ((st = grid_layout(&g, cols)) != DC_OK)
        return st;

    px = dc_viz_canvas_new(g.w, g.h, "dc_image_grid_png canvas");
    if (!px)
        return DC_ERR_NOMEM;
    for (int i = 0; i < g.n; i++)
        paint_image(&g, i, px);
    if (g.captions)
        st = draw_captions(&g, px);
    if (st == DC_OK)
        st = dc_viz_png_write(path, px, g.w, g.h);
    free(px);
    return st;
}
