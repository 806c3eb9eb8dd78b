/* conv.c - 2-D convolution as torch.nn.functional.conv2d with dilation 1 and zero
 * padding, forward and backward, behind one op (dc_conv2d) and three kernels:
 *   - 1x1, stride 1, no padding: each image and group is a plain GEMM, y = W x;
 *   - few input channels per group (depthwise convs, an RGB stem): direct correlation
 *     on zero-bordered copies of the planes, with 3x3 at stride 1 and 2 written in GCC
 *     vector extensions (eight outputs of a row per step);
 *   - anything else: im2col + cblas_sgemm per image and group, col2im in backward.
 * Work is split over the batch (over images and groups for the direct kernels) with
 * OpenMP. All scratch comes from the step arena before a parallel region opens, since
 * the arena is not thread-safe. Weight gradients are summed over the batch in a fixed
 * order: per-thread partials reduced thread by thread (GEMM path; the same thread count
 * gives the same bits), or per-image partials reduced image by image (direct path; the
 * same bits for any thread count).
 * Parallelism comes from the batch: one image (with one group) runs on one thread in
 * the direct path, and on OpenBLAS's threads in the GEMM path.
 * Leaves out: dilation, padding modes other than zeros, different strides or paddings
 * for height and width. Pooling lives in pool.c. */
#include <omp.h>
#include <string.h>

#include "ops/tape.h"

/* Sizes of one convolution. Input [n,c,h,w], weight [o,cg,kh,kw], output [n,o,oh,ow]. */
typedef struct conv_geom {
    int n, c, h, w;
    int o, kh, kw;
    int oh, ow;
    int stride, pad, groups;
    int cg, og;  /* input and output channels per group */
    int kg;      /* rows of one group's column matrix: cg * kh * kw */
    int plain_gemm;  /* 1x1, stride 1, no padding: x is its own column matrix */
} conv_geom;

/* ---- shape check ---- */

static int out_size(int in, int k, int stride, int pad)
{
    return in + 2 * pad < k ? 0 : (in + 2 * pad - k) / stride + 1;
}

static dc_status conv_check_args(const dc_tensor *x, const dc_tensor *w, int stride,
                                 int pad, int groups)
{
    char sx[64], sw[64];

    if (x->ndim != 4 || w->ndim != 4)
        return dc_fail(DC_ERR_SHAPE, "conv2d: input %s and weight %s, expected [n,c,h,w] "
                       "and [o,c/groups,kh,kw]", dc_shape_str(x, sx, sizeof sx),
                       dc_shape_str(w, sw, sizeof sw));
    if (stride < 1 || pad < 0 || groups < 1)
        return dc_fail(DC_ERR_ARG, "conv2d: stride %d, padding %d, groups %d, expected "
                       "stride >= 1, padding >= 0, groups >= 1", stride, pad, groups);
    return DC_OK;
}

static dc_status conv_check(const dc_tensor *x, const dc_tensor *w, const dc_tensor *b,
                            int stride, int pad, int groups)
{
    char sx[64], sw[64], sb[64];
    dc_status s = conv_check_args(x, w, stride, pad, groups);

    if (s != DC_OK)
        return s;
    dc_shape_str(x, sx, sizeof sx);
    dc_shape_str(w, sw, sizeof sw);
    if (x->shape[1] % groups || w->shape[0] % groups)
        return dc_fail(DC_ERR_SHAPE, "conv2d: input %s and weight %s: %d input and %d "
                       "output channels must both divide by groups %d", sx, sw,
                       x->shape[1], w->shape[0], groups);
    if (w->shape[1] != x->shape[1] / groups)
        return dc_fail(DC_ERR_SHAPE, "conv2d: input %s has %d channels, weight %s expects "
                       "%d (groups %d)", sx, x->shape[1], sw, w->shape[1] * groups, groups);
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))
        return dc_fail(DC_ERR_SHAPE, "conv2d: bias %s, expected [%d] for weight %s",
                       dc_shape_str(b, sb, sizeof sb), w->shape[0], sw);
    if (!out_size(x->shape[2], w->shape[2], stride, pad)
        || !out_size(x->shape[3], w->shape[3], stride, pad))
        return dc_fail(DC_ERR_SHAPE, "conv2d: input %s padded by %d is smaller than the "
                       "kernel of weight %s", sx, pad, sw);
    return DC_OK;
}

static conv_geom conv_geometry(const dc_tensor *x, const dc_tensor *w, int stride,
                               int pad, int groups)
{
    conv_geom g = {
        .n = x->shape[0], .c = x->shape[1], .h = x->shape[2], .w = x->shape[3],
        .o = w->shape[0], .kh = w->shape[2], .kw = w->shape[3],
        .stride = stride, .pad = pad, .groups = groups,
    };

    g.oh = out_size(g.h, g.kh, stride, pad);
    g.ow = out_size(g.w, g.kw, stride, pad);
    g.cg = g.c / groups;
    g.og = g.o / groups;
    g.kg = g.cg * g.kh * g.kw;
    g.plain_gemm = g.kh == 1 && g.kw == 1 && stride == 1 && pad == 0;
    return g;
}

/* Few input channels per group (depthwise convs, an RGB stem): the column matrix would
 * have few rows, a GEMM on it runs far from peak, and im2col costs as much as the
 * product; direct correlation kernels win. Above this, im2col + GEMM wins. */
#define DIRECT_MAX_CG 4

static int use_direct(const conv_geom *g)
{
    return !g->plain_gemm && g->cg <= DIRECT_MAX_CG;
}

/* Threads for `work` independent items: never more threads than items. */
static int team_size(long work)
{
    int t = omp_get_max_threads();

    return work < t ? (int)(work > 0 ? work : 1) : t;
}

/* ---- im2col and col2im ---- */

/* The outputs ox whose input column ox * stride + off lies inside [0, w): [*lo, *hi). */
static void valid_cols(int ow, int stride, int off, int w, int *lo, int *hi)
{
    *lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
    *hi = w - 1 - off < 0 ? 0 : (w - 1 - off) / stride + 1;
    if (*hi > ow)
        *hi = ow;
    if (*lo > *hi)
        *lo = *hi;
}

/* One row of the column matrix: tap (ki, kj) of one input plane [h,w] for every
 * output position, zero where the tap falls into the padding. row: [oh*ow]. */
static void im2col_row(const conv_geom *g, const float *plane, int ki, int kj,
                       float *row)
{
    int s = g->stride, lo, hi;

    valid_cols(g->ow, s, kj - g->pad, g->w, &lo, &hi);
    for (int oy = 0; oy < g->oh; oy++) {
        int iy = oy * s + ki - g->pad;
        float *r = row + (size_t)oy * g->ow;
        const float *src = plane + (size_t)iy * g->w + kj - g->pad;
        if (iy < 0 || iy >= g->h) {
            memset(r, 0, (size_t)g->ow * sizeof *r);
            continue;
        }
        memset(r, 0, (size_t)lo * sizeof *r);
        if (s == 1)
            memcpy(r + lo, src + lo, (size_t)(hi - lo) * sizeof *r);
        else
            for (int ox = lo; ox < hi; ox++)
                r[ox] = src[(size_t)ox * s];
        memset(r + hi, 0, (size_t)(g->ow - hi) * sizeof *r);
    }
}

/* x: [cg,h,w] (one image, one group) -> col: [cg*kh*kw, oh*ow]. */
static void im2col(const conv_geom *g, const float *x, float *col)
{
    size_t ohw = (size_t)g->oh * g->ow, hw = (size_t)g->h * g->w;

    for (int c = 0; c < g->cg; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++)
                im2col_row(g, x + c * hw, i, j,
                           col + ((size_t)(c * g->kh + i) * g->kw + j) * ohw);
}

/* The adjoint of im2col_row: adds one column-matrix row back into its plane. */
static void col2im_row(const conv_geom *g, const float *row, int ki, int kj,
                       float *plane)
{
    int s = g->stride, lo, hi;

    valid_cols(g->ow, s, kj - g->pad, g->w, &lo, &hi);
    for (int oy = 0; oy < g->oh; oy++) {
        int iy = oy * s + ki - g->pad;
        const float *r = row + (size_t)oy * g->ow;
        float *dst = plane + (size_t)iy * g->w + kj - g->pad;
        if (iy < 0 || iy >= g->h)
            continue;
        for (int ox = lo; ox < hi; ox++)
            dst[(size_t)ox * s] += r[ox];
    }
}

/* col: [cg*kh*kw, oh*ow] -> adds into dx: [cg,h,w]. */
static void col2im(const conv_geom *g, const float *col, float *dx)
{
    size_t ohw = (size_t)g->oh * g->ow, hw = (size_t)g->h * g->w;

    for (int c = 0; c < g->cg; c++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++)
                col2im_row(g, col + ((size_t)(c * g->kh + i) * g->kw + j) * ohw, i, j,
                           dx + c * hw);
}

/* ---- GEMM path: forward ---- */

/* One image. x: [c,h,w], w: [o,kg], b: [o] or NULL, col: scratch [kg, oh*ow],
 * y: [o, oh*ow]. */
static void gemm_image_forward(const conv_geom *g, const float *x, const float *w,
                               const float *b, float *col, float *y)
{
    size_t ohw = (size_t)g->oh * g->ow, hw = (size_t)g->h * g->w;

    for (int gi = 0; gi < g->groups; gi++) {
        const float *src = x + (size_t)gi * g->cg * hw;
        float *dst = y + (size_t)gi * g->og * ohw;

        /* Start every output row at its bias and let sgemm add W col on top. */
        if (b)
            for (int o = 0; o < g->og; o++)
                for (size_t p = 0; p < ohw; p++)
                    dst[o * ohw + p] = b[gi * g->og + o];
        if (!g->plain_gemm) {
            im2col(g, src, col);
            src = col;
        }
        dc_sgemm(0, 0, g->og, (int)ohw, g->kg, 1.0f, w + (size_t)gi * g->og * g->kg, src,
                 b ? 1.0f : 0.0f, dst);
    }
}

/* Images split in contiguous chunks over a team of threads, each with its own column
 * buffer. With fewer than two images the loop stays serial and OpenBLAS threads each
 * GEMM instead (inside a parallel region it runs single-threaded). */
static void gemm_forward(const conv_geom *g, const float *x, const float *w,
                         const float *b, float *y)
{
    size_t ohw = (size_t)g->oh * g->ow, col_size = g->plain_gemm ? 0 : (size_t)g->kg * ohw;
    size_t xs = (size_t)g->c * g->h * g->w, ys = (size_t)g->o * ohw;
    int team = team_size(g->n);
    float *cols = col_size ? dc_arena_alloc((size_t)team * col_size * sizeof *cols) : NULL;

    #pragma omp parallel num_threads(team) if (team > 1)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *col = cols ? cols + (size_t)t * col_size : NULL;
        for (int i = g->n * t / nt; i < g->n * (t + 1) / nt; i++)
            gemm_image_forward(g, x + i * xs, w, b, col, y + i * ys);
    }
}

/* ---- GEMM path: backward ---- */

/* One image. Adds this image's dW into gw (a thread's partial [o,kg], or NULL) and its
 * dx into dx ([c,h,w], or NULL). dy: [o, oh*ow]; col: scratch [kg, oh*ow]. */
static void gemm_image_backward(const conv_geom *g, const float *x, const float *w,
                                const float *dy, float *col, float *gw, float *dx)
{
    size_t ohw = (size_t)g->oh * g->ow, hw = (size_t)g->h * g->w;

    for (int gi = 0; gi < g->groups; gi++) {
        const float *xg = x + (size_t)gi * g->cg * hw, *cols = xg;
        const float *dyg = dy + (size_t)gi * g->og * ohw;
        const float *wg = w + (size_t)gi * g->og * g->kg;
        float *dxg = dx ? dx + (size_t)gi * g->cg * hw : NULL;

        if (gw && !g->plain_gemm) {
            im2col(g, xg, col);
            cols = col;
        }
        if (gw)  /* dW_g += dy_g [og,ohw] cols^T [ohw,kg] */
            dc_sgemm(0, 1, g->og, g->kg, (int)ohw, 1.0f, dyg, cols, 1.0f,
                     gw + (size_t)gi * g->og * g->kg);
        if (dxg && g->plain_gemm)  /* dx_g += W_g^T [cg,og] dy_g [og,ohw] */
            dc_sgemm(1, 0, g->kg, (int)ohw, g->og, 1.0f, wg, dyg, 1.0f, dxg);
        else if (dxg) {
            dc_sgemm(1, 0, g->kg, (int)ohw, g->og, 1.0f, wg, dyg, 0.0f, col);
            col2im(g, col, dxg);
        }
    }
}

/* gw += the team's partials, added in thread order so the sum is reproducible. */
static void reduce_partials(float *gw, const float *parts, int team, size_t size)
{
    #pragma omp parallel for schedule(static) if (size * team > 65536)
    for (size_t i = 0; i < size; i++) {
        float s = gw[i];
        for (int t = 0; t < team; t++)
            s += parts[(size_t)t * size + i];
        gw[i] = s;
    }
}

static void gemm_backward(const conv_geom *g, const float *x, const float *w,
                          const float *dy, float *gw, float *dx)
{
    size_t ohw = (size_t)g->oh * g->ow, wsize = (size_t)g->o * g->kg;
    size_t xs = (size_t)g->c * g->h * g->w, ys = (size_t)g->o * ohw;
    size_t col_size = g->plain_gemm ? 0 : (size_t)g->kg * ohw;
    int team = team_size(g->n);
    float *cols = col_size ? dc_arena_alloc((size_t)team * col_size * sizeof *cols) : NULL;
    float *parts = gw ? dc_arena_alloc((size_t)team * wsize * sizeof *parts) : NULL;

    /* Zeroed here, not per thread: the runtime may start fewer threads than asked. */
    if (parts)
        memset(parts, 0, (size_t)team * wsize * sizeof *parts);
    #pragma omp parallel num_threads(team) if (team > 1)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        float *part = parts ? parts + (size_t)t * wsize : NULL;
        for (int i = g->n * t / nt; i < g->n * (t + 1) / nt; i++)
            gemm_image_backward(g, x + i * xs, w, dy + i * ys,
                                cols ? cols + (size_t)t * col_size : NULL, part,
                                dx ? dx + i * xs : NULL);
    }
    if (gw)
        reduce_partials(gw, parts, team, wsize);
}

/* ---- direct path: forward ---- */

/* Correlates one zero-bordered plane pad [rows, pw] with a KH x KW kernel k at stride S:
 *   y[oy][ox] = base + sum_{i,j} k[i][j] pad[oy*S + i][ox*S + j]
 * for y [oh,ow], where base is `bias`, or y's own value when ACC (to sum over input
 * channels, and for dx). This is the plain-C version for every kernel size; 3x3 at
 * stride 1 and 2 takes correlate3x3 below. One pass per kernel row, so the inner loop
 * reads one input row and the output row (which stays in L1). */
static inline __attribute__((always_inline)) void
correlate(const float *restrict pad, int pw, const float *restrict k, float bias,
          float *restrict y, int oh, int ow, int KH, int KW, int S, int ACC)
{
    for (int oy = 0; oy < oh; oy++) {
        float *yr = y + (size_t)oy * ow;
        for (int i = 0; i < KH; i++) {
            const float *r = pad + (size_t)(oy * S + i) * pw;
            const float *ki = k + i * KW;
            int add = ACC || i > 0;
            for (int ox = 0; ox < ow; ox++) {
                float acc = add ? yr[ox] : bias;
                for (int j = 0; j < KW; j++)
                    acc += ki[j] * r[ox * S + j];
                yr[ox] = acc;
            }
        }
    }
}

/* ---- direct path: 3x3 kernels with explicit vectors ---- */

/* GCC's generic vectors: 8 floats, one AVX register (a pair of SSE registers where
 * AVX is missing). Written out because the auto-vectoriser keeps one base register
 * per tap and spills them; here every tap is one base plus a constant offset. vf8u is
 * the same vector at float alignment, allowed to alias floats: reading or writing
 * through it is an unaligned vector move. Vectors never cross a function boundary by
 * value (helpers take pointers or are macros), so no calling convention depends on
 * AVX. */
typedef float vf8 __attribute__((vector_size(32)));
typedef float vf8u __attribute__((vector_size(32), aligned(4), may_alias));
typedef int vi8 __attribute__((vector_size(32)));

#define VF8_LOAD(p) (*(const vf8u *)(p))
#define VF8_STORE(p, v) (*(vf8u *)(p) = (v))

/* The lanes of v added pairwise, in a fixed order. */
#define VF8_SUM(v) ((((v)[0] + (v)[1]) + ((v)[2] + (v)[3])) \
                    + (((v)[4] + (v)[5]) + ((v)[6] + (v)[7])))

/* Even / odd lanes of the 16 floats a, b. */
#if defined(__clang__)
#define VF8_EVEN(a, b) __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14)
#define VF8_ODD(a, b) __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15)
#else
#define VF8_EVEN(a, b) __builtin_shuffle(a, b, (vi8){0, 2, 4, 6, 8, 10, 12, 14})
#define VF8_ODD(a, b) __builtin_shuffle(a, b, (vi8){1, 3, 5, 7, 9, 11, 13, 15})
#endif

/* The three tap vectors r[ox*S + j], j = 0..2, for 8 consecutive ox from r. At
 * stride 2 they are deinterleaved from four loads, which read up to r[17], one float
 * past the last tap of the 8th output (scratch planes carry that slack). */
static inline __attribute__((always_inline)) void
row_tap_vectors(const float *r, int S, vf8 *t0, vf8 *t1, vf8 *t2)
{
    if (S == 1) {
        *t0 = VF8_LOAD(r), *t1 = VF8_LOAD(r + 1), *t2 = VF8_LOAD(r + 2);
        return;
    }
    vf8 a = VF8_LOAD(r), b = VF8_LOAD(r + 8), c = VF8_LOAD(r + 2), d = VF8_LOAD(r + 10);
    *t0 = VF8_EVEN(a, b), *t1 = VF8_ODD(a, b), *t2 = VF8_EVEN(c, d);
}

/* *out = k[0] r[ox*S] + k[1] r[ox*S+1] + k[2] r[ox*S+2] for 8 consecutive ox. */
static inline __attribute__((always_inline)) void
row_taps(const float *r, const vf8 *k, int S, vf8 *out)
{
    vf8 t0, t1, t2;

    row_tap_vectors(r, S, &t0, &t1, &t2);
    *out = k[0] * t0 + k[1] * t1 + k[2] * t2;
}

/* One output row of a 3x3 correlation from input rows r0, r1, r2 (see correlate),
 * eight outputs at a time, then the rest one by one with the same grouping of terms:
 * base + (row 0 + (row 1 + row 2)). Three row sums instead of one running sum keep
 * the FMA chains short; the taps are broadcast once per row, not once per vector. */
static inline __attribute__((always_inline)) void
row3x3(const float *r0, const float *r1, const float *r2, const float *k, float bias,
       float *yr, int ow, int S, int ACC)
{
    vf8 kv[9];
    int ox = 0;

    for (int t = 0; t < 9; t++)
        kv[t] = (vf8){0} + k[t];
    for (; ox + 8 <= ow; ox += 8) {
        vf8 base = (vf8){0} + bias, s0, s1, s2;
        if (ACC)
            base = VF8_LOAD(yr + ox);
        row_taps(r0 + ox * S, kv, S, &s0);
        row_taps(r1 + ox * S, kv + 3, S, &s1);
        row_taps(r2 + ox * S, kv + 6, S, &s2);
        VF8_STORE(yr + ox, base + (s0 + (s1 + s2)));
    }
    for (; ox < ow; ox++) {
        const float *q0 = r0 + ox * S, *q1 = r1 + ox * S, *q2 = r2 + ox * S;
        float s0 = k[0] * q0[0] + k[1] * q0[1] + k[2] * q0[2];
        float s1 = k[3] * q1[0] + k[4] * q1[1] + k[5] * q1[2];
        float s2 = k[6] * q2[0] + k[7] * q2[1] + k[8] * q2[2];
        yr[ox] = (ACC ? yr[ox] : bias) + (s0 + (s1 + s2));
    }
}

static inline __attribute__((always_inline)) void
correlate3x3(const float *pad, int pw, const float *k, float bias, float *y, int oh,
             int ow, int S, int ACC)
{
    for (int oy = 0; oy < oh; oy++) {
        const float *r0 = pad + (size_t)oy * S * pw;
        row3x3(r0, r0 + pw, r0 + 2 * (size_t)pw, k, bias, y + (size_t)oy * ow, ow, S,
               ACC);
    }
}

/* correlate, with the 3x3 kernels at stride 1 and 2 taken by the vector code. */
static void correlate_any(const float *pad, int pw, const float *k, float bias, float *y,
                          int oh, int ow, int kh, int kw, int s, int acc)
{
    if (kh != 3 || kw != 3 || s > 2)
        correlate(pad, pw, k, bias, y, oh, ow, kh, kw, s, acc);
    else if (s == 1 && !acc)
        correlate3x3(pad, pw, k, bias, y, oh, ow, 1, 0);
    else if (s == 1)
        correlate3x3(pad, pw, k, bias, y, oh, ow, 1, 1);
    else if (!acc)
        correlate3x3(pad, pw, k, bias, y, oh, ow, 2, 0);
    else
        correlate3x3(pad, pw, k, bias, y, oh, ow, 2, 1);
}

/* Copies plane x [h,w] into the interior of pad [h+2p, w+2p]; the border stays zero. */
static void pad_plane(const conv_geom *g, const float *x, float *pad)
{
    int pw = g->w + 2 * g->pad;

    for (int iy = 0; iy < g->h; iy++)
        memcpy(pad + (size_t)(iy + g->pad) * pw + g->pad, x + (size_t)iy * g->w,
               (size_t)g->w * sizeof *x);
}

/* Floats of a scratch plane, rounded up to whole 64-byte lines, plus one line of
 * slack for the vector loads that read past the last tap (row_taps). */
static size_t plane_floats(int rows, int cols)
{
    return ((size_t)rows * cols + 15) / 16 * 16 + 16;
}

/* The pointers of one unit of work: one image and one group. */
typedef struct conv_unit {
    const float *x;   /* [cg,h,w], the group's input planes */
    const float *w;   /* [og,cg,kh,kw] */
    const float *kf;  /* w with each kernel turned by 180 degrees, or NULL */
    const float *dy;  /* [og,oh,ow] */
    float *y;         /* [og,oh,ow] (forward) */
    float *dw;        /* [og,cg,kh,kw], this image's share of dW, or NULL */
    float *dx;        /* [cg,h,w], or NULL */
} conv_unit;

/* The unit of image k / groups, group k % groups, within the whole-batch pointers of
 * base (whose NULL members stay NULL). */
static conv_unit unit_at(const conv_geom *g, const conv_unit *base, long k)
{
    int i = (int)(k / g->groups), gi = (int)(k % g->groups);
    size_t wg = (size_t)g->og * g->kg;
    size_t xoff = ((size_t)i * g->c + (size_t)gi * g->cg) * g->h * g->w;
    size_t yoff = ((size_t)i * g->o + (size_t)gi * g->og) * g->oh * g->ow;
    conv_unit u = {.x = base->x + xoff, .w = base->w + gi * wg};

    u.kf = base->kf ? base->kf + gi * wg : NULL;
    u.dy = base->dy ? base->dy + yoff : NULL;
    u.y = base->y ? base->y + yoff : NULL;
    u.dw = base->dw ? base->dw + (size_t)i * g->o * g->kg + gi * wg : NULL;
    u.dx = base->dx ? base->dx + xoff : NULL;
    return u;
}

/* One image and group: pad its cg input planes, then each output plane is its bias
 * plus the correlations of the padded planes with that output's kernels. */
static void direct_unit_forward(const conv_geom *g, const conv_unit *u, const float *b,
                                float *pads, size_t psize)
{
    int pw = g->w + 2 * g->pad, kk = g->kh * g->kw;
    size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;

    for (int c = 0; c < g->cg; c++)
        pad_plane(g, u->x + c * hw, pads + c * psize);
    for (int o = 0; o < g->og; o++)
        for (int c = 0; c < g->cg; c++)
            correlate_any(pads + c * psize, pw, u->w + (size_t)(o * g->cg + c) * kk,
                          b ? b[o] : 0.0f, u->y + o * ohw, g->oh, g->ow, g->kh, g->kw,
                          g->stride, c > 0);
}

static void direct_forward(const conv_geom *g, const float *x, const float *w,
                           const float *b, float *y)
{
    long units = (long)g->n * g->groups;
    int team = team_size(units);
    size_t psize = plane_floats(g->h + 2 * g->pad, g->w + 2 * g->pad);
    float *scratch = dc_arena_alloc((size_t)team * g->cg * psize * sizeof *scratch);
    conv_unit base = {.x = x, .w = w, .y = y};

    #pragma omp parallel num_threads(team) if (team > 1)
    {
        float *pads = scratch + (size_t)omp_get_thread_num() * g->cg * psize;
        memset(pads, 0, (size_t)g->cg * psize * sizeof *pads);
        #pragma omp for schedule(static)
        for (long k = 0; k < units; k++) {
            conv_unit u = unit_at(g, &base, k);
            direct_unit_forward(g, &u, b ? b + (k % g->groups) * g->og : NULL, pads,
                                psize);
        }
    }
}

/* ---- direct path: backward ---- */

/* d loss / d k[i][j] for one input and one output plane = sum over outputs of dy times
 * the input under tap (i, j). 3x3 kernels at stride 1 and 2 go row by row (taps3x3).
 * Other sizes spread dy into dyz, a plane of the padded input's row length pw where
 * dy[oy][ox] sits at (oy*S, ox*S) and everything else is zero; then each tap's sum is
 * one long dot product of dyz with the padded input shifted by (i, j):
 *   dk[i][j] = sum_m dyz[m] pad[i*pw + j + m],
 * which vectorises whatever the plane's width, at the price of multiplying zeros
 * (S*S times the useful work). */
static size_t spread_len(const conv_geom *g)
{
    int pw = g->w + 2 * g->pad;

    return (size_t)(g->oh - 1) * g->stride * pw + (size_t)(g->ow - 1) * g->stride + 1;
}

/* Writes dy [oh,ow] at (off + oy*S, off + ox*S) of a plane with rows of length pw. */
static void spread(const conv_geom *g, const float *dy, float *plane, int pw, int off)
{
    for (int oy = 0; oy < g->oh; oy++) {
        float *row = plane + (size_t)(off + oy * g->stride) * pw + off;
        const float *d = dy + (size_t)oy * g->ow;
        if (g->stride == 1)
            memcpy(row, d, (size_t)g->ow * sizeof *d);
        else
            for (int ox = 0; ox < g->ow; ox++)
                row[(size_t)ox * g->stride] = d[ox];
    }
}

/* The general kernel: one dot product per tap over dy spread into dyz. Adds into
 * dk [kh*kw]. */
static void taps_spread(const conv_geom *g, const float *pad, const float *dyz, float *dk)
{
    int pw = g->w + 2 * g->pad;
    size_t len = spread_len(g);

    for (int i = 0; i < g->kh; i++)
        for (int j = 0; j < g->kw; j++) {
            const float *p = pad + (size_t)i * pw + j;
            float s = 0.0f;
            #pragma omp simd reduction(+ : s)
            for (size_t m = 0; m < len; m++)
                s += dyz[m] * p[m];
            dk[i * g->kw + j] += s;
        }
}

/* 3x3 at stride 1 or 2 needs no spreading: row by row, eight outputs dy[oy][ox..+7]
 * against all nine taps. Nine independent vector sums (named, so they stay in
 * registers) hide the FMA latency a single running sum would wait on; lanes and
 * tails are added in a fixed order. Adds into dk [9]. */
static inline __attribute__((always_inline)) void
taps3x3(const float *pad, int pw, const float *dy, int oh, int ow, float *dk, int S)
{
    vf8 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0},
        a8 = {0};
    float tail[9] = {0};

    for (int oy = 0; oy < oh; oy++) {
        const float *d = dy + (size_t)oy * ow, *r = pad + (size_t)oy * S * pw;
        int ox = 0;
        for (; ox + 8 <= ow; ox += 8) {
            vf8 dv = VF8_LOAD(d + ox), t0, t1, t2;
            row_tap_vectors(r + ox * S, S, &t0, &t1, &t2);
            a0 += dv * t0, a1 += dv * t1, a2 += dv * t2;
            row_tap_vectors(r + pw + ox * S, S, &t0, &t1, &t2);
            a3 += dv * t0, a4 += dv * t1, a5 += dv * t2;
            row_tap_vectors(r + 2 * (size_t)pw + ox * S, S, &t0, &t1, &t2);
            a6 += dv * t0, a7 += dv * t1, a8 += dv * t2;
        }
        for (; ox < ow; ox++)
            for (int t = 0; t < 9; t++)
                tail[t] += d[ox] * r[(size_t)(t / 3) * pw + ox * S + t % 3];
    }
    dk[0] += VF8_SUM(a0) + tail[0], dk[1] += VF8_SUM(a1) + tail[1];
    dk[2] += VF8_SUM(a2) + tail[2], dk[3] += VF8_SUM(a3) + tail[3];
    dk[4] += VF8_SUM(a4) + tail[4], dk[5] += VF8_SUM(a5) + tail[5];
    dk[6] += VF8_SUM(a6) + tail[6], dk[7] += VF8_SUM(a7) + tail[7];
    dk[8] += VF8_SUM(a8) + tail[8];
}

/* Whether taps3x3 takes this geometry (no dy spreading needed). */
static int taps_by_rows(const conv_geom *g)
{
    return g->kh == 3 && g->kw == 3 && g->stride <= 2;
}

/* Adds the tap gradients of one (input, output) plane pair into dk [kh*kw]. dy is the
 * output plane's gradient, dyz the same spread (filled only when !taps_by_rows). */
static void taps(const conv_geom *g, const float *pad, const float *dy, const float *dyz,
                 float *dk)
{
    int pw = g->w + 2 * g->pad;

    if (!taps_by_rows(g))
        taps_spread(g, pad, dyz, dk);
    else if (g->stride == 1)
        taps3x3(pad, pw, dy, g->oh, g->ow, dk, 1);
    else
        taps3x3(pad, pw, dy, g->oh, g->ow, dk, 2);
}

/* The input gradient is itself a correlation, which vectorises like the forward pass:
 * spread dy to (q + oy*S, q + ox*S) of a zero plane dyp [h+kh-1, w+kw-1] (q = kh-1-p,
 * zeros between rows and columns when S > 1) and correlate at stride 1 with the
 * kernel turned by 180 degrees:
 *   dx[iy][ix] += sum_{i,j} k[kh-1-i][kw-1-j] dyp[iy+i][ix+j].
 * Needs padding <= kernel - 1 (q >= 0) and a square kernel (one offset q); other
 * shapes take scatter_dx. */
static int dx_by_correlation(const conv_geom *g)
{
    return g->kh == g->kw && g->pad <= g->kh - 1;
}

/* The fallback: each output scatters through the taps into a zero-bordered gradient
 * plane dpad, whose interior is then added into dx [h,w]. */
static void scatter_dx(const conv_geom *g, const float *dy, const float *k, float *dpad,
                       float *dx)
{
    int pw = g->w + 2 * g->pad, s = g->stride;

    memset(dpad, 0, (size_t)(g->h + 2 * g->pad) * pw * sizeof *dpad);
    for (int oy = 0; oy < g->oh; oy++)
        for (int i = 0; i < g->kh; i++)
            for (int j = 0; j < g->kw; j++)
                for (int ox = 0; ox < g->ow; ox++)
                    dpad[(size_t)(oy * s + i) * pw + ox * s + j]
                        += k[i * g->kw + j] * dy[(size_t)oy * g->ow + ox];
    for (int iy = 0; iy < g->h; iy++)
        for (int ix = 0; ix < g->w; ix++)
            dx[(size_t)iy * g->w + ix] += dpad[(size_t)(iy + g->pad) * pw + ix + g->pad];
}

/* A thread's scratch for the direct backward: the cg zero-bordered input planes, dy
 * spread for the tap sums (dyz), and dy spread for dx (dyp, or the scatter plane).
 * All start zeroed; dyz and dyp are only ever written at the same positions, so they
 * stay zero elsewhere from plane to plane. */
typedef struct direct_scratch {
    float *pads, *dyz, *dyp;
    size_t psize;
} direct_scratch;

static size_t direct_scratch_floats(const conv_geom *g, size_t sizes[3])
{
    size_t padded = plane_floats(g->h + 2 * g->pad, g->w + 2 * g->pad);

    sizes[0] = (size_t)g->cg * padded;
    sizes[1] = taps_by_rows(g) ? 0 : plane_floats(1, (int)spread_len(g));
    sizes[2] = dx_by_correlation(g) ? plane_floats(g->h + g->kh - 1, g->w + g->kw - 1)
                                    : padded;
    return sizes[0] + sizes[1] + sizes[2];
}

/* w [o, cg, kh, kw] with every kh x kw kernel turned by 180 degrees. */
static float *flip_kernels(const conv_geom *g, const float *w)
{
    size_t kk = (size_t)g->kh * g->kw, n = (size_t)g->o * g->cg;
    float *f = dc_arena_alloc(n * kk * sizeof *f);

    for (size_t k = 0; k < n; k++)
        for (size_t t = 0; t < kk; t++)
            f[k * kk + t] = w[k * kk + kk - 1 - t];
    return f;
}

/* One output plane's gradient into dx of the unit's cg input planes. */
static void direct_plane_dx(const conv_geom *g, const conv_unit *u, int o,
                            const direct_scratch *sc)
{
    size_t hw = (size_t)g->h * g->w, kk = (size_t)g->kh * g->kw;
    const float *dy = u->dy + o * (size_t)g->oh * g->ow;
    int pw = g->w + g->kw - 1;

    if (u->kf)
        spread(g, dy, sc->dyp, pw, g->kh - 1 - g->pad);
    for (int c = 0; c < g->cg; c++) {
        float *dx = u->dx + c * hw;
        if (u->kf)
            correlate_any(sc->dyp, pw, u->kf + (o * g->cg + c) * kk, 0.0f, dx, g->h,
                          g->w, g->kh, g->kw, 1, 1);
        else
            scatter_dx(g, dy, u->w + (o * g->cg + c) * kk, sc->dyp, dx);
    }
}

/* One image and group: this image's dW share (unit's dw) and its dx, each if wanted. */
static void direct_unit_backward(const conv_geom *g, const conv_unit *u,
                                 const direct_scratch *sc)
{
    size_t hw = (size_t)g->h * g->w, kk = (size_t)g->kh * g->kw;
    int pw = g->w + 2 * g->pad;

    if (u->dw) {
        memset(u->dw, 0, (size_t)g->og * g->kg * sizeof *u->dw);
        for (int c = 0; c < g->cg; c++)
            pad_plane(g, u->x + c * hw, sc->pads + c * sc->psize);
    }
    for (int o = 0; o < g->og; o++) {
        const float *dy = u->dy + o * (size_t)g->oh * g->ow;
        if (u->dw && !taps_by_rows(g))
            spread(g, dy, sc->dyz, pw, 0);
        for (int c = 0; u->dw && c < g->cg; c++)
            taps(g, sc->pads + c * sc->psize, dy, sc->dyz, u->dw + (o * g->cg + c) * kk);
        if (u->dx)
            direct_plane_dx(g, u, o, sc);
    }
}

/* Units (image, group) run in parallel; each writes its image's dW share into parts
 * [n, o*kg], summed over the batch image by image afterwards, so no thread count
 * enters the sum. */
static void direct_backward(const conv_geom *g, const float *x, const float *w,
                            const float *dy, float *gw, float *dx)
{
    long units = (long)g->n * g->groups;
    int team = team_size(units);
    size_t wsize = (size_t)g->o * g->kg, sizes[3];
    size_t per_thread = direct_scratch_floats(g, sizes);
    float *scratch = dc_arena_alloc((size_t)team * per_thread * sizeof *scratch);
    float *parts = gw ? dc_arena_alloc((size_t)g->n * wsize * sizeof *parts) : NULL;
    conv_unit base = {.x = x, .w = w, .dy = dy, .dw = parts, .dx = dx};

    base.kf = dx && dx_by_correlation(g) ? flip_kernels(g, w) : NULL;
    #pragma omp parallel num_threads(team) if (team > 1)
    {
        float *mine = scratch + (size_t)omp_get_thread_num() * per_thread;
        direct_scratch sc = {mine, mine + sizes[0], mine + sizes[0] + sizes[1],
                             sizes[0] / g->cg};
        memset(mine, 0, per_thread * sizeof *mine);
        #pragma omp for schedule(static)
        for (long k = 0; k < units; k++) {
            conv_unit u = unit_at(g, &base, k);
            direct_unit_backward(g, &u, &sc);
        }
    }
    if (gw)
        for (int i = 0; i < g->n; i++)
            for (size_t j = 0; j < wsize; j++)
                gw[j] += parts[(size_t)i * wsize + j];
}

/* ---- the op ---- */

/* db[o] += sum of dy over the batch and the output plane; channels in parallel, each
 * summed in one fixed order. */
static void bias_backward(const conv_geom *g, const float *dy, float *gb)
{
    size_t ohw = (size_t)g->oh * g->ow;

    #pragma omp parallel for schedule(static) if ((size_t)g->n * g->o * ohw > 65536)
    for (int o = 0; o < g->o; o++) {
        double acc = 0.0;
        for (int i = 0; i < g->n; i++) {
            const float *d = dy + ((size_t)i * g->o + o) * ohw;
            float s = 0.0f;
            #pragma omp simd reduction(+ : s)
            for (size_t p = 0; p < ohw; p++)
                s += d[p];
            acc += s;
        }
        gb[o] += (float)acc;
    }
}

static void conv2d_backward(dc_node *node)
{
    const conv_geom *g = node->saved;
    const float *x = node->in[0]->data, *w = node->in[1]->data, *dy = node->out->grad;
    float *gx = dc_node_in_grad(node, 0), *gw = dc_node_in_grad(node, 1);
    float *gb = node->n_in > 2 ? dc_node_in_grad(node, 2) : NULL;

    if (gb)
        bias_backward(g, dy, gb);
    if (!gx && !gw)
        return;
    if (use_direct(g))
        direct_backward(g, x, w, dy, gw, gx);
    else
        gemm_backward(g, x, w, dy, gw, gx);
}

dc_tensor *dc_conv2d(dc_tensor *x, dc_tensor *w, dc_tensor *b, int stride, int padding,
                     int groups)
{
    conv_geom *g;
    dc_tensor *y;
    dc_node *node;

    if (conv_check(x, w, b, stride, padding, groups) != DC_OK)
        return NULL;
    g = dc_arena_alloc(sizeof *g);
    *g = conv_geometry(x, w, stride, padding, groups);
    y = dc_tensor_tmp(4, (int[]){g->n, g->o, g->oh, g->ow});

    if (use_direct(g))
        direct_forward(g, x->data, w->data, b ? b->data : NULL, y->data);
    else
        gemm_forward(g, x->data, w->data, b ? b->data : NULL, y->data);

    node = dc_record("conv2d", conv2d_backward, y, b ? 3 : 2, (dc_tensor *[]){x, w, b});
    if (node)
        node->saved = g;
    return y;
}
