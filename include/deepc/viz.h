/* viz.h - pictures and reports for people: line plots, bar charts, image grids, and a
 * self-contained HTML report. Every file is written atomically (temporary file, then
 * rename). Plots are PNG through PLplot's cairo driver: white background, labelled axes,
 * a legend whenever two or more lines share a plot. */
#ifndef DEEPC_VIZ_H
#define DEEPC_VIZ_H

#include "deepc/tensor.h"

typedef struct dc_series {
    const char *label;  /* legend text */
    const double *x;
    const double *y;
    int n;
} dc_series;

typedef struct dc_plot_opts {
    const char *title;
    const char *xlabel;
    const char *ylabel;
    int log_y;   /* logarithmic y axis (values <= 0 are skipped) */
    int width;   /* pixels; 0 means 1000 */
    int height;  /* pixels; 0 means 650 */
    int x_whole; /* x counts something (epochs): ticks at whole numbers only */
} dc_plot_opts;

/* One PNG line plot of `n` series. */
dc_status dc_plot_lines(const char *path, const dc_series *series, int n,
                        const dc_plot_opts *opts);

/* A bar chart of `n` values with category names. */
dc_status dc_plot_bars(const char *path, const char *const *names, const double *values,
                       int n, const dc_plot_opts *opts);

/* A grid of grey or RGB images. `images` is [n, c, h, w] with c = 1 or 3 and values in
 * [lo, hi] mapped to 0-255; `cols` images per row; optional captions (may be NULL). */
dc_status dc_image_grid_png(const char *path, const dc_tensor *images, int cols,
                            float lo, float hi, const char *const *captions);

/* A confusion matrix as a coloured PNG with counts in the cells. counts is [k*k],
 * row = true class, column = predicted class. */
dc_status dc_plot_confusion(const char *path, const int *counts, int k,
                            const char *const *names, const char *title);

/* An HTML report built up in memory and written at once. Images are embedded as base64
 * data URIs, so the page is self-contained and reads offline. */
typedef struct dc_report dc_report;

dc_report *dc_report_new(const char *title);
void dc_report_free(dc_report *r);
void dc_report_heading(dc_report *r, const char *text);
/* A paragraph of plain text (HTML-escaped). */
void dc_report_text(dc_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A table: rows x cols cells, row-major, first row is the header (escaped). */
void dc_report_table(dc_report *r, const char *const *cells, int rows, int cols);
/* A paragraph holding one link (href and text escaped), e.g. to another run's report. */
void dc_report_link(dc_report *r, const char *href, const char *text);
/* Embeds the PNG file at `png_path` with a caption; a missing file becomes a note. */
void dc_report_image(dc_report *r, const char *png_path, const char *caption);
dc_status dc_report_write(const dc_report *r, const char *path);

#endif
