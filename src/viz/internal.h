/* internal.h - declarations shared by the files of src/viz (plot.c, png.c), never by
 * experiments or tools.
 *
 * Every picture is drawn into an RGBA pixel buffer in memory ("a canvas"): PLplot's
 * memcairo driver draws on it, and png.c writes it with libpng through an atomic file.
 * PLplot therefore never opens a file itself, which matters because its file-opening
 * code retries a failing fopen and then calls exit(). */
#ifndef DEEPC_VIZ_INTERNAL_H
#define DEEPC_VIZ_INTERNAL_H

#include "deepc/tensor.h"

/* PLplot's cairo drivers map 72 device pixels to the inch. */
#define DC_VIZ_PX_PER_MM (72.0 / 25.4)

/* Colour-map-0 entries set up by dc_viz_pl_begin. */
enum {
    DC_VIZ_WHITE = 0,
    DC_VIZ_BLACK = 1,
    DC_VIZ_GRID = 2,     /* light grey for grid lines and frames */
    DC_VIZ_DARK = 3,     /* dark grey for secondary text */
    DC_VIZ_MUTED = 4,    /* mid grey for text that matters little (zero counts) */
    DC_VIZ_PALETTE = 5,  /* first of DC_VIZ_NCOLORS distinct line colours */
    DC_VIZ_NCOLORS = 10,
};

/* Writes `w` x `h` pixels of 8-bit RGBA (alpha ignored: the PNG is opaque RGB) to `path`
 * through a temporary file renamed into place. DC_ERR_IO names `path` on failure. */
dc_status dc_viz_png_write(const char *path, const unsigned char *rgba, int w, int h);

/* Allocates a w x h RGBA canvas filled with opaque white; NULL with a message. */
unsigned char *dc_viz_canvas_new(int w, int h, const char *who);

/* Starts drawing with PLplot on the caller's canvas (`rgba`, w x h, kept as it is, so a
 * picture already there stays under the drawing). Takes the lock that serialises PLplot
 * (it keeps global state), creates a fresh stream, sets white/black/grey and the
 * palette, and opens the page with a full-page viewport. Fails with DC_ERR_IO if the
 * memcairo driver is missing. `who` names the public function in messages. */
dc_status dc_viz_pl_begin(unsigned char *rgba, int w, int h, const char *who);

/* Ends the stream started by dc_viz_pl_begin and releases the lock. Returns DC_ERR_ARG
 * if PLplot reported a problem while drawing (its message is kept). */
dc_status dc_viz_pl_end(const char *who);

/* Sets the character height (cap height) to `px` device pixels. */
void dc_viz_text_px(double px);

/* Copies `s` into buf (n bytes) for PLplot text: '#' (PLplot's escape character) is
 * doubled, and a string that does not fit is cut at a UTF-8 character boundary and
 * ends in an ellipsis. NULL becomes "". Returns buf. */
char *dc_viz_pl_text(const char *s, char *buf, size_t n);

/* Like dc_viz_pl_text, but cut (with an ellipsis) to an estimated width of at most
 * `max_px` pixels at cap height `px` (see dc_viz_text_width_px). */
char *dc_viz_pl_text_fit(const char *s, double max_px, double px, char *buf, size_t n);

/* Estimated rendered width of `s` in pixels at cap height `px`, for layout decisions,
 * from DejaVu Sans's advance widths by kind of character (within about 10 %). */
double dc_viz_text_width_px(const char *s, double px);

#endif
