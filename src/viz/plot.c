/* plot.c - line plots, bar charts and confusion matrices drawn with PLplot, and the
 * PLplot session shared with png.c (which uses it for image-grid captions).
 *
 * PLplot draws with its cairo "memcairo" driver into an RGBA buffer; png.c writes that
 * buffer as a PNG through a temporary file renamed into place. We do not let PLplot open
 * the file ("pngcairo"): on a path it cannot open, PLplot retries and then calls exit(),
 * and it never reports a failed write. Every argument is checked before PLplot sees it,
 * because PLplot answers bad input with messages on stderr or exit().
 *
 * Choices a caller sees: opts may be NULL (defaults: no labels, linear axis, 1000x650);
 * sides must lie in [200, 8000] px. A legend appears for two or more series, in the
 * corner of the plot with the fewest data under it, or right of the plot when it would
 * cover half of it. Series of at most 25 points get a marker at each point. Numbers
 * outside [1e-3, 1e5) are labelled m x 10^e. Bar charts print each value when there are
 * at most 40 bars. Confusion cells are coloured by their share of the row.
 * Limitation: with more than about 120 classes the confusion cells are too small for
 * their counts, so only the colours show them.
 * Leaves out: scatter plots and colour bars.
 * Limitation: PLplot keeps global state, so one lock serialises all drawing; plots made
 * on several threads at once are drawn one after another.
 * Limitation: PLplot calls exit() if it runs out of memory while drawing. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <plplot/plplot.h>

#include "deepc/log.h"
#include "deepc/viz.h"
#include "viz/internal.h"

#define DEFAULT_W 1000
#define DEFAULT_H 650
#define MIN_SIDE 200
#define MAX_SIDE 8000    /* larger is surely a mistake: 8000 x 8000 RGBA is 256 MB */
#define LABEL_BYTES 512
#define ELLIPSIS "\xe2\x80\xa6"

/* ------------------------------------------------------------------------------------ */
/* The PLplot session                                                                   */
/* ------------------------------------------------------------------------------------ */

static pthread_mutex_t pl_lock = PTHREAD_MUTEX_INITIALIZER;
static char pl_problem[256];
static int memcairo_state; /* 0 unknown, 1 present, -1 missing */

/* PLplot calls this instead of printing when it refuses a call (plabort). */
static void on_plabort(PLCHAR_VECTOR msg)
{
    if (!pl_problem[0])
        snprintf(pl_problem, sizeof pl_problem, "%s", msg ? msg : "(no message)");
}

/* Without the driver plsdev would fall back to an interactive prompt on stdin. */
static int have_memcairo(void)
{
    const char *menu[128], *names[128];
    const char **pm = menu, **pn = names;
    int ndev = 128;

    if (memcairo_state == 0) {
        plgDevs(&pm, &pn, &ndev);
        memcairo_state = -1;
        for (int i = 0; i < ndev; i++)
            if (strcmp(pn[i], "memcairo") == 0)
                memcairo_state = 1;
    }
    return memcairo_state == 1;
}

/* Grey levels and a colour-blind-friendly qualitative palette (Tableau 10). */
static void set_colours(void)
{
    static const unsigned char pal[DC_VIZ_NCOLORS][3] = {
        {31, 119, 180}, {255, 127, 14}, {44, 160, 44}, {214, 39, 40}, {148, 103, 189},
        {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207},
    };

    plscmap0n(DC_VIZ_PALETTE + DC_VIZ_NCOLORS);
    plscolbg(255, 255, 255);
    plscol0(DC_VIZ_WHITE, 255, 255, 255);
    plscol0(DC_VIZ_BLACK, 0, 0, 0);
    plscol0(DC_VIZ_GRID, 221, 221, 221);
    plscol0(DC_VIZ_DARK, 90, 90, 90);
    plscol0(DC_VIZ_MUTED, 165, 165, 165);
    for (int i = 0; i < DC_VIZ_NCOLORS; i++)
        plscol0(DC_VIZ_PALETTE + i, pal[i][0], pal[i][1], pal[i][2]);
}

dc_status dc_viz_pl_begin(unsigned char *rgba, int w, int h, const char *who)
{
    PLINT strm;

    pthread_mutex_lock(&pl_lock);
    pl_problem[0] = '\0';
    plsabort(on_plabort);
    if (!have_memcairo()) {
        pthread_mutex_unlock(&pl_lock);
        return dc_fail(DC_ERR_IO, "%s: PLplot's memcairo driver is not installed "
                       "(Debian package plplot-driver-cairo)", who);
    }

    /* A fresh stream per picture, ended by dc_viz_pl_end, so pictures never share
     * PLplot state and any number can be drawn in one process. */
    plmkstrm(&strm);
    if (strm < 0) {
        pthread_mutex_unlock(&pl_lock);
        return dc_fail(DC_ERR_IO, "%s: PLplot has no free stream", who);
    }
    plsdev("memcairo");
    plsmema(w, h, rgba);
    set_colours();
    plinit();

    pladv(0);
    plvpor(0.0, 1.0, 0.0, 1.0);
    plwind(0.0, w, 0.0, h);
    plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
    plcol0(DC_VIZ_BLACK);
    return DC_OK;
}

dc_status dc_viz_pl_end(const char *who)
{
    dc_status st = DC_OK;

    plend1();
    if (pl_problem[0])
        st = dc_fail(DC_ERR_ARG, "%s: PLplot refused to draw: %s", who, pl_problem);
    pthread_mutex_unlock(&pl_lock);
    return st;
}

void dc_viz_text_px(double px)
{
    plschr(px / DC_VIZ_PX_PER_MM, 1.0);
}

/* Advance width of a character in cap heights (DejaVu Sans: cap height 0.73 em),
 * rounded up a little so estimates err towards too wide. */
static double char_width(unsigned char c)
{
    if (c >= 0x80)
        return 1.2;
    if (c == ' ')
        return 0.45;
    if (strchr("iljI.,:;|!'", c))
        return 0.4;
    if (strchr("frt()[]{}-", c))
        return 0.57;
    if (strchr("mwMW%", c))
        return 1.3;
    if (c >= 'A' && c <= 'Z')
        return 1.0;
    if (c >= '0' && c <= '9')
        return 0.9;
    return c >= 'a' && c <= 'z' ? 0.85 : 0.9;
}

double dc_viz_text_width_px(const char *s, double px)
{
    double w = 0.0;

    for (; s && *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w += char_width((unsigned char)*s);
    return w * px;
}

/* Length of the UTF-8 character at s, or 0 if the bytes there are not valid UTF-8. */
static size_t utf8_char(const char *s)
{
    unsigned char c = (unsigned char)s[0];
    size_t len = c < 0x80 ? 1 : c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;

    for (size_t i = 1; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/* Copies whole characters of s into buf while they fit in max_w (estimated width in
 * cap heights) and max_bytes. '#' is doubled (PLplot's escape), control characters
 * become spaces and invalid UTF-8 bytes '?' (pango would drop the whole string).
 * Sets *done if all of s fit. */
static size_t copy_chars(const char *s, double max_w, size_t max_bytes, char *buf,
                         int *done)
{
    size_t o = 0;
    double w = 0.0;

    while (*s) {
        size_t len = utf8_char(s);
        size_t out = *s == '#' ? 2 : len ? len : 1;

        w += char_width((unsigned char)*s);
        if (o + out > max_bytes || w > max_w)
            break;
        if (*s == '#') {
            buf[o++] = '#';
            buf[o++] = '#';
        } else if (len == 0) {
            buf[o++] = '?';
        } else if (len == 1 && (unsigned char)*s < 0x20) {
            buf[o++] = ' ';
        } else {
            memcpy(buf + o, s, len);
            o += len;
        }
        s += len ? len : 1;
    }
    *done = !*s;
    return o;
}

char *dc_viz_pl_text_fit(const char *s, double max_px, double px, char *buf, size_t n)
{
    double max_w = max_px / px;
    size_t o;
    int done;

    if (n < sizeof ELLIPSIS + 1) {
        if (n > 0)
            buf[0] = '\0';
        return buf;
    }
    o = copy_chars(s ? s : "", max_w, n - 1, buf, &done);
    if (!done) {
        o = copy_chars(s, max_w - 1.4, n - sizeof ELLIPSIS, buf, &done);
        memcpy(buf + o, ELLIPSIS, sizeof ELLIPSIS - 1);
        o += sizeof ELLIPSIS - 1;
    }
    buf[o] = '\0';
    return buf;
}

char *dc_viz_pl_text(const char *s, char *buf, size_t n)
{
    return dc_viz_pl_text_fit(s, INFINITY, 1.0, buf, n);
}

/* ------------------------------------------------------------------------------------ */
/* Shared pieces of the plots                                                           */
/* ------------------------------------------------------------------------------------ */

typedef struct range {
    double lo, hi;
} range;

/* A plot's canvas, the viewport inside it (in pixels from the edges) and the window. */
typedef struct frame {
    int w, h;
    int left, right, top, bottom;
    range x, y;
    double x_step, y_step; /* tick spacing: estimated, or chosen for a whole-number x */
    double ylabel_px;      /* distance of the y-axis label's centre from the axis */
    int log_y;
    int x_whole; /* x ticks at whole numbers, at steps we choose instead of PLplot */
} frame;

typedef dc_status (*draw_fn)(const frame *f, const void *ctx);

static const range EMPTY_RANGE = {INFINITY, -INFINITY};

static void range_add(range *r, double v)
{
    if (v < r->lo)
        r->lo = v;
    if (v > r->hi)
        r->hi = v;
}

/* Widens [lo, hi] by `frac` of its length on each side; a range of (almost) one value
 * becomes that value +-10 % (or +-1 at zero), so PLplot gets a window it can label. */
static void range_pad(range *r, double frac)
{
    double len = r->hi - r->lo;
    double mag = fmax(fabs(r->lo), fabs(r->hi));

    if (len <= 1e-9 * mag || len == 0.0) {
        double d = mag > 0.0 ? 0.1 * mag : 1.0;

        r->lo -= d;
        r->hi += d;
        return;
    }
    r->lo -= frac * len;
    r->hi += frac * len;
}

/* PLplot handles doubles, but converts to device coordinates through products that
 * overflow far below DBL_MAX. */
static int plottable(double v)
{
    return isfinite(v) && fabs(v) <= 1e150;
}

static dc_status check_path(const char *who, const char *path)
{
    if (!path || !path[0])
        return dc_fail(DC_ERR_ARG, "%s: path is %s, expected a file name", who,
                       path ? "empty" : "NULL");
    return DC_OK;
}

static dc_status check_size(const char *who, const dc_plot_opts *o, frame *f)
{
    int w = o->width ? o->width : DEFAULT_W;
    int h = o->height ? o->height : DEFAULT_H;

    if (w < MIN_SIDE || w > MAX_SIDE || h < MIN_SIDE || h > MAX_SIDE)
        return dc_fail(DC_ERR_ARG, "%s: size %dx%d, expected each side in [%d, %d] "
                       "(0 for the default %dx%d)", who, o->width, o->height, MIN_SIDE,
                       MAX_SIDE, DEFAULT_W, DEFAULT_H);
    f->w = w;
    f->h = h;
    return DC_OK;
}

/* Draws on a fresh white canvas, then writes it to `path`. */
static dc_status render(const char *who, const char *path, const frame *f, draw_fn draw,
                        const void *ctx)
{
    unsigned char *px = dc_viz_canvas_new(f->w, f->h, who);
    dc_status st, end_st;

    if (!px)
        return DC_ERR_NOMEM;
    st = dc_viz_pl_begin(px, f->w, f->h, who);
    if (st == DC_OK) {
        st = draw(f, ctx);
        end_st = dc_viz_pl_end(who);
        if (st == DC_OK)
            st = end_st;
    }
    if (st == DC_OK)
        st = dc_viz_png_write(path, px, f->w, f->h);
    free(px);
    return st;
}

/* Sets the viewport from the frame's pixel margins and its window. */
static void frame_viewport(const frame *f)
{
    plvpor((double)f->left / f->w, 1.0 - (double)f->right / f->w,
           (double)f->bottom / f->h, 1.0 - (double)f->top / f->h);
    plwind(f->x.lo, f->x.hi, f->y.lo, f->y.hi);
}

/* Light grid lines under the data, at the major ticks. */
static void frame_grid(const frame *f, int x_grid)
{
    plcol0(DC_VIZ_GRID);
    plwidth(1.0);
    plbox(x_grid ? "g" : "", f->x_whole ? f->x_step : 0.0, 0, f->log_y ? "gl" : "g", 0.0, 0);
}

/* Writes v with `sig` significant digits, plainly when 1e-3 <= |v| < 1e5 (or 0), else
 * as m x 10^e with PLplot's superscript escapes. v is first rounded to a multiple of
 * `unit` (if > 0), which removes the rounding noise of tick positions. */
static void format_number(double v, int sig, double unit, char *buf, size_t n)
{
    char mant[16]; /* sig <= 6: "-9.99999" */
    double a, m;
    int e;

    if (unit > 0.0)
        v = round(v / unit) * unit;
    a = fabs(v);
    if (a == 0.0 || (a >= 1e-3 && a < 1e5)) {
        snprintf(buf, n, "%.*g", sig, a == 0.0 ? 0.0 : v);
        return;
    }
    e = (int)floor(log10(a));
    m = v / pow(10.0, e);
    snprintf(mant, sizeof mant, "%.*g", sig, m);
    if (fabs(atof(mant)) >= 10.0) {
        e++;
        snprintf(mant, sizeof mant, "%.*g", sig, m / 10.0);
    }
    snprintf(buf, n, "%s\xc3\x97" "10#u%d#d", mant, e);
}

/* 1, 2 or 5 times a power of ten, near x: the kind of step PLplot puts ticks at. */
static double nice_step(double x)
{
    double p = pow(10.0, floor(log10(x))), m = x / p;

    return (m < 1.5 ? 1.0 : m < 3.5 ? 2.0 : m < 7.5 ? 5.0 : 10.0) * p;
}

/* A tick label: plain numbers get at least the decimals of the step, so a column of
 * labels reads 0.0, 0.5, 1.0 rather than 0, 0.5, 1. More decimals than the value needs
 * are only ever added as zeros, so a misjudged step cannot make a label wrong. */
static void format_tick(double v, const range *r, double step, char *buf, size_t n)
{
    double unit = (r->hi - r->lo) * 1e-9;
    int want = (int)-floor(log10(step) + 1e-9);
    const char *dot;

    v = round(v / unit) * unit;
    format_number(v, 6, 0.0, buf, n);
    if (strchr(buf, '#') || want <= 0)
        return;
    dot = strchr(buf, '.');
    if (!dot || (int)strlen(dot + 1) < want)
        snprintf(buf, n, "%.*f", want, v == 0.0 ? 0.0 : v);
}

/* PLplot's own labels move a common factor into a "(x10^k)" note outside the frame,
 * where it is easily cut off; ours put it in each label. */
static void tick_label(PLINT axis, PLFLT value, char *label, PLINT length, PLPointer data)
{
    const frame *f = data;

    if (axis == PL_X_AXIS)
        format_tick(value, &f->x, f->x_step, label, (size_t)length);
    else
        format_tick(value, &f->y, f->y_step, label, (size_t)length);
}

/* Width of a label with PLplot escapes (#u, #d take no room). */
static double label_px(const char *s, double px)
{
    char plain[64];
    size_t o = 0;

    for (; *s && o + 1 < sizeof plain; s++) {
        if (s[0] == '#' && (s[1] == 'u' || s[1] == 'd')) {
            s++;
            continue;
        }
        plain[o++] = *s;
    }
    plain[o] = '\0';
    return dc_viz_text_width_px(plain, px);
}

/* Estimates the tick steps and sizes the left margin for the widest y label, which
 * PLplot only knows once it draws: labels at nice steps as dense as PLplot's. */
static void frame_ticks(frame *f)
{
    double widest = label_px("10#u-10#d", 12.0);
    char buf[64];

    f->x_step = nice_step((f->x.hi - f->x.lo) / 6.0);
    if (f->x_whole)
        f->x_step = fmax(1.0, f->x_step);
    f->y_step = nice_step((f->y.hi - f->y.lo) / 6.0);
    if (!f->log_y) {
        widest = 0.0;
        for (double t = ceil(f->y.lo / f->y_step); t * f->y_step <= f->y.hi; t++) {
            format_tick(t * f->y_step, &f->y, f->y_step, buf, sizeof buf);
            widest = fmax(widest, label_px(buf, 12.0));
        }
    }
    f->ylabel_px = widest + 22.0;
    f->left = (int)fmin(fmax(70.0, widest + 44.0), 0.35 * f->w);
}

/* The frame, ticks and numbers; `xnum` = 0 leaves the x axis unnumbered (bars). A log
 * axis keeps PLplot's 10^k labels. */
static void frame_axes(const frame *f, int xnum)
{
    plcol0(DC_VIZ_BLACK);
    plwidth(1.0);
    dc_viz_text_px(12.0);
    plslabelfunc(tick_label, (PLPointer)f);
    plbox(xnum ? "bcnsto" : "bc", f->x_whole ? f->x_step : 0.0, f->x_whole && f->x_step == 1.0,
          f->log_y ? "bcnstvl" : "bcnstvo", 0.0, 0);
}

/* Title above the viewport, axis labels below and left of it. */
static void frame_labels(const frame *f, const dc_plot_opts *o, double x_disp_px)
{
    char buf[LABEL_BYTES];

    plcol0(DC_VIZ_BLACK);
    dc_viz_text_px(14.0);
    if (o->xlabel)
        plmtex("b", x_disp_px / 14.0, 0.5, 0.5, dc_viz_pl_text(o->xlabel, buf, sizeof buf));
    if (o->ylabel)
        plmtex("l", f->ylabel_px / 14.0, 0.5, 0.5, dc_viz_pl_text(o->ylabel, buf, sizeof buf));
    if (o->title) {
        plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_BOLD);
        dc_viz_text_px(16.0);
        plmtex("t", 22.0 / 16.0, 0.5, 0.5, dc_viz_pl_text(o->title, buf, sizeof buf));
        plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
    }
}

static dc_plot_opts opts_or_default(const dc_plot_opts *opts)
{
    dc_plot_opts o = {0};

    if (opts)
        o = *opts;
    return o;
}

/* All margins but the left one, which frame_ticks sizes for the y labels. */
static void frame_margins(frame *f, int bottom)
{
    f->right = 30;
    f->top = 55;
    f->bottom = bottom;
}

/* ------------------------------------------------------------------------------------ */
/* Line plots                                                                           */
/* ------------------------------------------------------------------------------------ */

#define MARKER_MAX_POINTS 25 /* series this short also get a marker at each point */

#define LEGEND_PX 12.0    /* cap height of legend text */
#define LEGEND_LINE_PX 40.0 /* length of the line sample */

typedef struct lines_ctx {
    const dc_series *s;
    int n;
    const dc_plot_opts *o;
    double legend_w, legend_h; /* estimated legend size in pixels */
    int legend_outside;        /* too tall to sit inside: placed right of the plot */
} lines_ctx;

/* y as drawn: log10(y) on a log axis, where NAN marks a skipped value (y <= 0, and
 * values beyond 1e+-150 that PLplot cannot place). */
static double plot_y(double y, int log_y)
{
    if (!log_y)
        return y;
    return y >= 1e-150 && y <= 1e150 ? log10(y) : NAN;
}

static dc_status check_point(const dc_series *s, int i, int j, int log_y)
{
    static const char *who = "dc_plot_lines";

    if (!plottable(s->x[j]))
        return dc_fail(DC_ERR_ARG, "%s: series %d x[%d] is %g, expected a finite value "
                       "of magnitude <= 1e150", who, i, j, s->x[j]);
    if (!isfinite(s->y[j]) || (!log_y && !plottable(s->y[j])))
        return dc_fail(DC_ERR_ARG, "%s: series %d y[%d] is %g, expected a finite value "
                       "of magnitude <= 1e150", who, i, j, s->y[j]);
    return DC_OK;
}

static dc_status check_series(const dc_series *s, int n, int log_y)
{
    static const char *who = "dc_plot_lines";
    int positive = 0;
    dc_status st;

    if (!s || n <= 0)
        return dc_fail(DC_ERR_ARG, "%s: %d series at %p, expected at least one", who, n,
                       (const void *)s);
    for (int i = 0; i < n; i++) {
        if (!s[i].x || !s[i].y || s[i].n <= 0)
            return dc_fail(DC_ERR_ARG, "%s: series %d has x=%p y=%p n=%d, expected two "
                           "arrays and n > 0", who, i, (const void *)s[i].x,
                           (const void *)s[i].y, s[i].n);
        for (int j = 0; j < s[i].n; j++) {
            if ((st = check_point(&s[i], i, j, log_y)) != DC_OK)
                return st;
            positive += !isnan(plot_y(s[i].y[j], 1));
        }
    }
    if (log_y && positive == 0)
        return dc_fail(DC_ERR_ARG, "%s: log_y set but no y value is positive", who);
    return DC_OK;
}

static void lines_window(const dc_series *s, int n, frame *f)
{
    f->x = f->y = EMPTY_RANGE;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < s[i].n; j++) {
            double y = plot_y(s[i].y[j], f->log_y);

            if (isnan(y))
                continue;
            range_add(&f->x, s[i].x[j]);
            range_add(&f->y, y);
        }
    range_pad(&f->x, 0.02);

    /* A log axis spans whole decades, so PLplot always has decades to label. */
    if (f->log_y) {
        f->y.lo = floor(f->y.lo - 0.02);
        f->y.hi = ceil(f->y.hi + 0.02);
    } else {
        range_pad(&f->y, 0.05);
    }
}

/* Colour and dash pattern of series i: ten colours, then the colours again dashed. */
static void series_style(int i, PLINT *colour, PLINT *style)
{
    *colour = DC_VIZ_PALETTE + i % DC_VIZ_NCOLORS;
    *style = 1 + (i / DC_VIZ_NCOLORS) % 8;
}

/* Draws the runs of drawable points of one series (a log axis skips y <= 0). */
static dc_status draw_series(const dc_series *s, int i, int log_y)
{
    PLINT colour, style;
    double *y = dc_malloc(sizeof *y * (size_t)s->n, "plotted series");
    int start = 0;

    if (!y)
        return DC_ERR_NOMEM;
    series_style(i, &colour, &style);
    plcol0(colour);
    pllsty(style);
    plwidth(2.0);
    for (int j = 0; j < s->n; j++)
        y[j] = plot_y(s->y[j], log_y);
    for (int j = 0; j <= s->n; j++) {
        if (j < s->n && !isnan(y[j]))
            continue;
        if (j - start >= 2)
            plline(j - start, s->x + start, y + start);
        if (j - start >= 1 && s->n <= MARKER_MAX_POINTS)
            plstring(j - start, s->x + start, y + start, "\xe2\x97\x8f");
        start = j + 1;
    }
    pllsty(1);
    free(y);
    return DC_OK;
}

/* Counts the points (and points along the segments) inside a box of the viewport given
 * in fractions of it, to find the corner where the legend hides the least. */
static int points_in_box(const lines_ctx *c, const frame *f, double bx0, double bx1,
                         double by0, double by1)
{
    int hits = 0;

    for (int i = 0; i < c->n; i++)
        for (int j = 0; j < c->s[i].n; j++) {
            int jn = j + 1 < c->s[i].n ? j + 1 : j;
            double y0 = plot_y(c->s[i].y[j], f->log_y), y1 = plot_y(c->s[i].y[jn], f->log_y);

            if (isnan(y0))
                continue;
            if (isnan(y1))
                y1 = y0;
            for (int t = 0; t < 8; t++) {
                double a = t / 8.0;
                double u = (c->s[i].x[j] * (1 - a) + c->s[i].x[jn] * a - f->x.lo) /
                           (f->x.hi - f->x.lo);
                double v = (y0 * (1 - a) + y1 * a - f->y.lo) / (f->y.hi - f->y.lo);

                hits += u >= bx0 && u <= bx1 && v >= by0 && v <= by1;
            }
        }
    return hits;
}

static PLINT legend_corner(const lines_ctx *c, const frame *f, double lw, double lh)
{
    static const PLINT corners[4] = {
        PL_POSITION_TOP | PL_POSITION_RIGHT, PL_POSITION_TOP | PL_POSITION_LEFT,
        PL_POSITION_BOTTOM | PL_POSITION_RIGHT, PL_POSITION_BOTTOM | PL_POSITION_LEFT,
    };
    int best = 0, best_hits = -1;

    for (int k = 0; k < 4; k++) {
        double x0 = corners[k] & PL_POSITION_RIGHT ? 1.0 - lw : 0.0;
        double y0 = corners[k] & PL_POSITION_TOP ? 1.0 - lh : 0.0;
        int hits = points_in_box(c, f, x0, x0 + lw, y0, y0 + lh);

        if (best_hits < 0 || hits < best_hits) {
            best = k;
            best_hits = hits;
        }
    }
    return corners[best];
}

/* The arrays pllegend wants, in one allocation. */
typedef struct legend_arrays {
    PLINT *opt, *text_col, *line_col, *line_sty, *sym_col, *sym_num, *box;
    PLFLT *line_w, *sym_scale, *box_f;
    const char **text, **sym;
    char *labels;
} legend_arrays;

static void *legend_alloc(legend_arrays *a, int n)
{
    size_t ni = (size_t)n;
    char *p = dc_malloc(ni * (7 * sizeof(PLINT) + 3 * sizeof(PLFLT) + 2 * sizeof(char *) +
                              LABEL_BYTES), "plot legend");

    if (!p)
        return NULL;
    a->line_w = (PLFLT *)p;
    a->sym_scale = a->line_w + ni;
    a->box_f = a->sym_scale + ni;
    a->text = (const char **)(a->box_f + ni);
    a->sym = a->text + ni;
    a->opt = (PLINT *)(a->sym + ni);
    a->text_col = a->opt + ni;
    a->line_col = a->text_col + ni;
    a->line_sty = a->line_col + ni;
    a->sym_col = a->line_sty + ni;
    a->sym_num = a->sym_col + ni;
    a->box = a->sym_num + ni;
    a->labels = (char *)(a->box + ni);
    return p;
}

static void legend_label(const dc_series *s, int i, char *buf, size_t n)
{
    if (s[i].label)
        dc_viz_pl_text_fit(s[i].label, 400.0, LEGEND_PX, buf, n);
    else
        snprintf(buf, n, "series %d", i + 1);
}

/* Estimated legend size: the line sample, a gap, the longest label and padding wide;
 * rows two character heights apart. */
static void legend_size(lines_ctx *c)
{
    char buf[LABEL_BYTES];
    double text_px = 0.0;

    for (int i = 0; i < c->n; i++) {
        legend_label(c->s, i, buf, sizeof buf);
        text_px = fmax(text_px, dc_viz_text_width_px(buf, LEGEND_PX));
    }
    c->legend_w = LEGEND_LINE_PX + text_px + 35.0;
    c->legend_h = c->n * 2.0 * LEGEND_PX + 14.0;
}

static void legend_fill(legend_arrays *a, const dc_series *s, int n)
{
    for (int i = 0; i < n; i++) {
        char *label = a->labels + (size_t)i * LABEL_BYTES;

        legend_label(s, i, label, LABEL_BYTES);
        a->text[i] = label;
        a->sym[i] = "\xe2\x97\x8f";
        a->opt[i] = PL_LEGEND_LINE | (s[i].n <= MARKER_MAX_POINTS ? PL_LEGEND_SYMBOL : 0);
        series_style(i, &a->line_col[i], &a->line_sty[i]);
        a->text_col[i] = DC_VIZ_BLACK;
        a->sym_col[i] = a->line_col[i];
        a->sym_num[i] = 1;
        a->box[i] = 0;
        a->line_w[i] = 2.0;
        a->sym_scale[i] = 1.0;
        a->box_f[i] = 0.0;
    }
}

static dc_status draw_legend(const lines_ctx *c, const frame *f)
{
    legend_arrays a;
    void *mem = legend_alloc(&a, c->n);
    double vw = f->w - f->left - f->right, vh = f->h - f->top - f->bottom;
    PLINT where = PL_POSITION_OUTSIDE | PL_POSITION_RIGHT;
    PLFLT out_w, out_h;

    if (!mem)
        return DC_ERR_NOMEM;
    legend_fill(&a, c->s, c->n);
    if (!c->legend_outside)
        where = PL_POSITION_INSIDE | legend_corner(c, f, fmin(1.0, c->legend_w / vw),
                                                   fmin(1.0, c->legend_h / vh));

    dc_viz_text_px(LEGEND_PX);
    pllegend(&out_w, &out_h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_VIEWPORT | where, c->legend_outside ? 12.0 / vw : 0.015,
             c->legend_outside ? 0.0 : 0.025,
             LEGEND_LINE_PX / vw, DC_VIZ_WHITE, DC_VIZ_GRID, 1, 0, 0, c->n, a.opt,
             0.8, 1.0, 2.0, 0.0, a.text_col, a.text, a.box, a.box, a.box_f, a.box_f,
             a.line_col, a.line_sty, a.line_w, a.sym_col, a.sym_scale, a.sym_num, a.sym);
    free(mem);
    return DC_OK;
}

static dc_status draw_lines(const frame *f, const void *ctx)
{
    const lines_ctx *c = ctx;

    frame_viewport(f);
    frame_grid(f, 1);
    dc_viz_text_px(9.0);
    for (int i = 0; i < c->n; i++)
        if (draw_series(&c->s[i], i, f->log_y) != DC_OK)
            return DC_ERR_NOMEM;
    plwidth(1.0);
    frame_axes(f, 1);
    frame_labels(f, c->o, 46.0);
    return c->n >= 2 ? draw_legend(c, f) : DC_OK;
}

dc_status dc_plot_lines(const char *path, const dc_series *series, int n,
                        const dc_plot_opts *opts)
{
    static const char *who = "dc_plot_lines";
    dc_plot_opts o = opts_or_default(opts);
    lines_ctx c = {series, n, &o, 0.0, 0.0, 0};
    frame f = {0};
    dc_status st;

    if ((st = check_path(who, path)) != DC_OK || (st = check_size(who, &o, &f)) != DC_OK)
        return st;
    if ((st = check_series(series, n, o.log_y)) != DC_OK)
        return st;

    f.log_y = o.log_y != 0;
    f.x_whole = o.x_whole != 0;
    frame_margins(&f, 75);
    lines_window(series, n, &f);
    frame_ticks(&f);

    /* A legend taller than about half the plot would hide the data: it moves out to
     * the right, taking at most 45 % of the width (longer labels then overhang). */
    if (n >= 2) {
        legend_size(&c);
        c.legend_outside = c.legend_h > 0.45 * (f.h - f.top - f.bottom);
        if (c.legend_outside)
            f.right = (int)fmin(c.legend_w + 36.0, 0.45 * f.w);
    }
    return render(who, path, &f, draw_lines, &c);
}

/* ------------------------------------------------------------------------------------ */
/* Bar charts                                                                           */
/* ------------------------------------------------------------------------------------ */

#define BAR_NAME_PX 12.0
#define BAR_VALUES_MAX 40 /* above this many bars the values are not printed on them */

typedef struct bars_ctx {
    const char *const *names;
    const double *v;
    int n;
    const dc_plot_opts *o;
    int vertical_names;
    double name_max_px;  /* names are cut to this estimated width */
    double xlabel_px;    /* distance of the x-axis label's centre below the axis */
} bars_ctx;

static dc_status check_bars(const char *const *names, const double *v, int n, int log_y)
{
    static const char *who = "dc_plot_bars";
    int positive = 0;

    if (!v || n <= 0)
        return dc_fail(DC_ERR_ARG, "%s: %d values at %p, expected at least one", who, n,
                       (const void *)v);
    for (int i = 0; i < n; i++) {
        if (!plottable(v[i]))
            return dc_fail(DC_ERR_ARG, "%s: values[%d] is %g, expected a finite value of "
                           "magnitude <= 1e150", who, i, v[i]);
        if (names && !names[i])
            return dc_fail(DC_ERR_ARG, "%s: names[%d] is NULL, expected a string", who, i);
        positive += v[i] >= 1e-150;
    }
    if (log_y && positive == 0)
        return dc_fail(DC_ERR_ARG, "%s: log_y set but no value is positive", who);
    return DC_OK;
}

static const char *bar_name(const bars_ctx *c, int i, char *buf, size_t n)
{
    char num[16];

    if (c->names)
        return dc_viz_pl_text_fit(c->names[i], c->name_max_px, BAR_NAME_PX, buf, n);
    snprintf(num, sizeof num, "%d", i);
    return dc_viz_pl_text(num, buf, n);
}

/* Names run along the axis when the longest fits its slot, else downwards; the bottom
 * margin grows with them, up to 40 % of the height (longer names are cut). */
static void bars_layout(bars_ctx *c, frame *f)
{
    double slot = (double)(f->w - f->left - f->right) / c->n, longest = 0.0;

    c->name_max_px = 0.4 * f->h - 40.0;
    for (int i = 0; c->names && i < c->n; i++)
        longest = fmax(longest, dc_viz_text_width_px(c->names[i], BAR_NAME_PX));
    if (!c->names)
        longest = dc_viz_text_width_px("000000", BAR_NAME_PX) * (c->n >= 100000);
    c->vertical_names = longest > 0.9 * slot;
    if (!c->vertical_names) {
        c->xlabel_px = 46.0;
        frame_margins(f, 75);
        return;
    }
    longest = fmin(longest, c->name_max_px);
    c->xlabel_px = longest + 0.6 * BAR_NAME_PX + 20.0;
    frame_margins(f, (int)(c->xlabel_px + 22.0));
}

static void bars_window(const bars_ctx *c, frame *f)
{
    f->x.lo = -0.6;
    f->x.hi = c->n - 0.4;
    f->y = EMPTY_RANGE;
    if (!f->log_y)
        range_add(&f->y, 0.0);
    for (int i = 0; i < c->n; i++) {
        double y = plot_y(c->v[i], f->log_y);

        if (!isnan(y))
            range_add(&f->y, y);
    }
    if (f->log_y) {
        f->y.lo = floor(f->y.lo - 0.02);
        f->y.hi = ceil(f->y.hi + 0.02);
        return;
    }

    /* Room above the bars for their values, and none below a zero baseline. */
    range r = f->y;
    range_pad(&r, 0.08);
    f->y.lo = f->y.lo < 0.0 ? r.lo : 0.0;
    f->y.hi = f->y.hi > 0.0 || f->y.lo == 0.0 ? r.hi : 0.0;
}

static void draw_bar(const bars_ctx *c, const frame *f, int i)
{
    double y = plot_y(c->v[i], f->log_y), base = f->log_y ? f->y.lo : 0.0;
    double bx[4] = {i - 0.35, i + 0.35, i + 0.35, i - 0.35};
    double by[4] = {base, base, y, y};
    char text[48];

    if (isnan(y))
        return;
    plcol0(DC_VIZ_PALETTE);
    plfill(4, bx, by);
    if (c->n > BAR_VALUES_MAX)
        return;

    /* The value just beyond the end of the bar, in the bar's direction. */
    double off = 0.025 * (f->y.hi - f->y.lo) * (y >= base ? 1.0 : -1.0);
    plcol0(DC_VIZ_BLACK);
    dc_viz_text_px(11.0);
    format_number(c->v[i], 4, 0.0, text, sizeof text);
    plptex(i, y + off, 1.0, 0.0, 0.5, text);
}

static void bars_names(const bars_ctx *c, const frame *f)
{
    char buf[LABEL_BYTES];
    int step = 1;

    /* With more bars than fit side by side, every step-th one is named. */
    while ((f->w - f->left - f->right) / ((double)c->n / step) < BAR_NAME_PX * 1.4)
        step++;
    plcol0(DC_VIZ_BLACK);
    dc_viz_text_px(BAR_NAME_PX);
    for (int i = 0; i < c->n; i += step) {
        double pos = (i - f->x.lo) / (f->x.hi - f->x.lo);

        if (c->vertical_names)
            plmtex("bv", 0.6, pos, 1.0, bar_name(c, i, buf, sizeof buf));
        else
            plmtex("b", 1.6, pos, 0.5, bar_name(c, i, buf, sizeof buf));
    }
}

static dc_status draw_bars(const frame *f, const void *ctx)
{
    const bars_ctx *c = ctx;

    frame_viewport(f);
    frame_grid(f, 0);
    for (int i = 0; i < c->n; i++)
        draw_bar(c, f, i);
    frame_axes(f, 0);
    bars_names(c, f);
    frame_labels(f, c->o, c->xlabel_px);
    return DC_OK;
}

dc_status dc_plot_bars(const char *path, const char *const *names, const double *values,
                       int n, const dc_plot_opts *opts)
{
    static const char *who = "dc_plot_bars";
    dc_plot_opts o = opts_or_default(opts);
    bars_ctx c = {names, values, n, &o, 0, 0.0, 46.0};
    frame f = {0};
    dc_status st;

    if ((st = check_path(who, path)) != DC_OK || (st = check_size(who, &o, &f)) != DC_OK)
        return st;
    if ((st = check_bars(names, values, n, o.log_y)) != DC_OK)
        return st;

    f.log_y = o.log_y != 0;
    bars_window(&c, &f);
    frame_ticks(&f);
    bars_layout(&c, &f);
    return render(who, path, &f, draw_bars, &c);
}

/* ------------------------------------------------------------------------------------ */
/* Confusion matrices                                                                   */
/* ------------------------------------------------------------------------------------ */

/* Cells are coloured by the share of their row (the true class), so a rare class's
 * errors show as clearly as a common one's; the cell's text is the count. */

#define CONF_MAX_K 1000
#define CONF_MAX_NAME_PX 170.0

typedef struct conf_ctx {
    const int *counts;
    int k;
    const char *const *names;
    const char *title;
    int cell;          /* cell side in pixels */
    double name_px;    /* cap height of class names */
    int vertical;      /* predicted-class names run downwards */
    int show_counts;   /* cells are large enough for their numbers */
    double names_px;   /* how far the predicted-class names reach below the matrix */
} conf_ctx;

static dc_status check_confusion(const char *path, const int *counts, int k,
                                 const char *const *names)
{
    static const char *who = "dc_plot_confusion";
    dc_status st = check_path(who, path);

    if (st != DC_OK)
        return st;
    if (!counts || k <= 0 || k > CONF_MAX_K)
        return dc_fail(DC_ERR_ARG, "%s: counts=%p with k=%d classes, expected an array "
                       "and 1 <= k <= %d", who, (const void *)counts, k, CONF_MAX_K);
    for (int i = 0; i < k * k; i++)
        if (counts[i] < 0)
            return dc_fail(DC_ERR_ARG, "%s: counts[%d] (true %d, predicted %d) is %d, "
                           "expected >= 0", who, i, i / k, i % k, counts[i]);
    for (int i = 0; names && i < k; i++)
        if (!names[i])
            return dc_fail(DC_ERR_ARG, "%s: names[%d] is NULL, expected a string", who, i);
    return DC_OK;
}

static const char *class_name(const conf_ctx *c, int i, char *buf, size_t n)
{
    char num[16];

    if (c->names)
        return dc_viz_pl_text_fit(c->names[i], CONF_MAX_NAME_PX, c->name_px, buf, n);
    snprintf(num, sizeof num, "%d", i);
    return dc_viz_pl_text(num, buf, n);
}

static double longest_name_px(const conf_ctx *c)
{
    double longest = dc_viz_text_width_px(c->k > 100 ? "000" : "00", c->name_px);

    for (int i = 0; c->names && i < c->k; i++)
        longest = fmax(longest, dc_viz_text_width_px(c->names[i], c->name_px));
    return fmin(longest, CONF_MAX_NAME_PX);
}

/* Cells of 24-80 px keep counts readable up to 100 classes; beyond that the cells
 * shrink to fit about 2400 px, and below 20 px only the colours remain. The bottom
 * margin stacks the class names, the axis label and a one-line key. */
static void conf_layout(conf_ctx *c, frame *f)
{
    double longest, need;
    int half;

    c->cell = c->k <= 100 ? (int)fmin(80.0, fmax(24.0, 900.0 / c->k))
                          : (int)fmax(2.0, 2400.0 / c->k);
    c->show_counts = c->cell >= 20;
    c->name_px = fmin(13.0, fmax(9.0, 0.5 * c->cell));
    longest = longest_name_px(c);
    c->vertical = longest > 0.9 * c->cell;
    c->names_px = c->vertical ? longest + 0.6 * c->name_px + 4.0 : 2.3 * c->name_px;

    f->left = (int)(longest + 14.0 + 40.0);
    f->bottom = (int)(c->names_px + 66.0);
    f->top = 60;
    f->right = 40;
    f->w = f->left + f->right + c->k * c->cell;
    f->h = f->top + f->bottom + c->k * c->cell;

    /* The title and the key line are centred over the matrix: each side of it needs
     * half of the wider one (the bold title is measured at a generous size). */
    need = dc_viz_text_width_px("cell colour: share of the true class; number: count", 10.0);
    if (c->title)
        need = fmax(need, dc_viz_text_width_px(c->title, 20.0));
    half = (int)(need / 2.0 + 30.0 - c->k * c->cell / 2.0);
    f->left = f->left > half ? f->left : half;
    f->right = f->right > half ? f->right : half;
    f->w = f->left + f->right + c->k * c->cell;
    f->x.lo = f->y.lo = 0.0;
    f->x.hi = f->y.hi = c->k;
}

/* White through mid blue to deep blue, as colour map 1. */
static void conf_colours(void)
{
    static const PLFLT pos[3] = {0.0, 0.5, 1.0};
    static const PLFLT r[3] = {0.97, 0.42, 0.03}, g[3] = {0.98, 0.68, 0.19},
                       b[3] = {1.00, 0.84, 0.42};

    plscmap1n(256);
    plscmap1l(1, 3, pos, r, g, b, NULL);
}

static void conf_cell(const conf_ctx *c, int i, int j, long long row_sum)
{
    int v = c->counts[(size_t)i * c->k + j];
    double share = row_sum > 0 ? (double)v / (double)row_sum : 0.0;
    double x0 = j, x1 = j + 1, y0 = c->k - i - 1, y1 = c->k - i;
    double cx[4] = {x0, x1, x1, x0}, cy[4] = {y0, y0, y1, y1};
    char text[16];
    int digits;

    plcol1(share);
    plfill(4, cx, cy);
    if (!c->show_counts)
        return;

    /* Count text as large as the cell allows: white on dark cells, zeros muted. */
    digits = snprintf(text, sizeof text, "%d", v);
    plcol0(share > 0.55 ? DC_VIZ_WHITE : v == 0 ? DC_VIZ_MUTED : DC_VIZ_BLACK);
    dc_viz_text_px(fmin(fmin(14.0, 0.38 * c->cell), 0.8 * c->cell / (0.85 * digits)));
    plptex(j + 0.5, c->k - i - 0.5, 1.0, 0.0, 0.5, text);
}

static void conf_names(const conf_ctx *c)
{
    char buf[LABEL_BYTES];
    int step = 1;

    while (c->cell * step < 1.3 * c->name_px)
        step++;
    plcol0(DC_VIZ_BLACK);
    dc_viz_text_px(c->name_px);
    for (int i = 0; i < c->k; i += step) {
        double pos = (i + 0.5) / c->k;

        plmtex("lv", 0.6, 1.0 - pos, 1.0, class_name(c, i, buf, sizeof buf));
        if (c->vertical)
            plmtex("bv", 0.6, pos, 1.0, class_name(c, i, buf, sizeof buf));
        else
            plmtex("b", 1.7, pos, 0.5, class_name(c, i, buf, sizeof buf));
    }
}

/* One-pixel white lines between cells, so neighbours of similar colour stay apart. */
static void conf_separators(const conf_ctx *c)
{
    if (c->cell < 12)
        return;
    plcol0(DC_VIZ_WHITE);
    plwidth(1.0);
    for (int i = 1; i < c->k; i++) {
        pljoin(i, 0.0, i, c->k);
        pljoin(0.0, i, c->k, i);
    }
}

static void conf_labels(const conf_ctx *c, const frame *f)
{
    char buf[LABEL_BYTES];

    plcol0(DC_VIZ_BLACK);
    dc_viz_text_px(14.0);
    plmtex("b", (c->names_px + 20.0) / 14.0, 0.5, 0.5, "predicted class");
    plmtex("l", (f->left - 22.0) / 14.0, 0.5, 0.5, "true class");
    plcol0(DC_VIZ_DARK);
    dc_viz_text_px(11.0);
    plmtex("b", (c->names_px + 46.0) / 11.0, 0.5, 0.5, c->show_counts
           ? "cell colour: share of the true class; number: count"
           : "cell colour: share of the true class (cells too small for counts)");
    if (c->title) {
        plcol0(DC_VIZ_BLACK);
        plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_BOLD);
        dc_viz_text_px(16.0);
        plmtex("t", 1.6, 0.5, 0.5, dc_viz_pl_text(c->title, buf, sizeof buf));
        plsfont(PL_FCI_SANS, PL_FCI_UPRIGHT, PL_FCI_MEDIUM);
    }
}

static dc_status draw_confusion(const frame *f, const void *ctx)
{
    const conf_ctx *c = ctx;

    frame_viewport(f);
    conf_colours();
    for (int i = 0; i < c->k; i++) {
        long long row_sum = 0;

        for (int j = 0; j < c->k; j++)
            row_sum += c->counts[(size_t)i * c->k + j];
        for (int j = 0; j < c->k; j++)
            conf_cell(c, i, j, row_sum);
    }
    conf_separators(c);
    plcol0(DC_VIZ_DARK);
    plwidth(1.0);
    plbox("bc", 0.0, 0, "bc", 0.0, 0);
    conf_names(c);
    conf_labels(c, f);
    return DC_OK;
}

dc_status dc_plot_confusion(const char *path, const int *counts, int k,
                            const char *const *names, const char *title)
{
    static const char *who = "dc_plot_confusion";
    conf_ctx c = {counts, k, names, title, 0, 0.0, 0, 0, 0.0};
    frame f = {0};
    dc_status st = check_confusion(path, counts, k, names);

    if (st != DC_OK)
        return st;
    conf_layout(&c, &f);
    return render(who, path, &f, draw_confusion, &c);
}
