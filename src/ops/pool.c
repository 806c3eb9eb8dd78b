/* pool.c - 2-D max pooling (torch.nn.functional.max_pool2d, dilation 1, floor mode)
 * and global average pooling to 1x1 (adaptive_avg_pool2d(x, 1)), forward and backward.
 * Planes (one image, one channel) are independent, so both run over planes with
 * OpenMP and every gradient element is written by one thread in a fixed order.
 * Limitation: ceil_mode and dilation are not offered; adaptive average pooling only
 * produces a 1x1 output (other sizes have no entry point, so they cannot be asked for). */
#include <math.h>
#include <string.h>

#include "ops/tape.h"

#define PAR_MIN 32768

typedef struct pool_geom {
    int h, w, oh, ow;
    int kernel, stride, pad;
} pool_geom;

/* ---- max pooling ---- */

static dc_status max_pool_check(const dc_tensor *x, int kernel, int stride, int pad)
{
    char sx[64];

    dc_shape_str(x, sx, sizeof sx);
    if (x->ndim != 4)
        return dc_fail(DC_ERR_SHAPE, "max_pool2d: input %s, expected [n,c,h,w]", sx);
    if (kernel < 1 || stride < 1 || pad < 0)
        return dc_fail(DC_ERR_ARG, "max_pool2d: kernel %d, stride %d, padding %d, "
                       "expected kernel >= 1, stride >= 1, padding >= 0", kernel, stride,
                       pad);
    if (pad > kernel / 2)  /* PyTorch's rule: a window must never lie in the padding */
        return dc_fail(DC_ERR_ARG, "max_pool2d: padding %d, expected at most half the "
                       "kernel %d", pad, kernel);
    if (x->shape[2] + 2 * pad < kernel || x->shape[3] + 2 * pad < kernel)
        return dc_fail(DC_ERR_SHAPE, "max_pool2d: input %s padded by %d is smaller than "
                       "the kernel %d", sx, pad, kernel);
    return DC_OK;
}

/* One plane. x: [h,w] -> y: [oh,ow], arg: [oh,ow] index into x of each maximum. The
 * first maximum in row-major window order wins a tie, and a NaN wins over numbers,
 * as in PyTorch's CPU kernel. */
static void max_pool_plane(const pool_geom *g, const float *x, float *y, int *arg)
{
    for (int oy = 0; oy < g->oh; oy++)
        for (int ox = 0; ox < g->ow; ox++) {
            int y0 = oy * g->stride - g->pad, x0 = ox * g->stride - g->pad;
            int y1 = y0 + g->kernel < g->h ? y0 + g->kernel : g->h;
            int x1 = x0 + g->kernel < g->w ? x0 + g->kernel : g->w;
            y0 = y0 > 0 ? y0 : 0;
            x0 = x0 > 0 ? x0 : 0;
            float best = -INFINITY;
            int at = y0 * g->w + x0;
            for (int iy = y0; iy < y1; iy++)
                for (int ix = x0; ix < x1; ix++) {
                    float v = x[iy * g->w + ix];
                    if (v > best || isnan(v)) {
                        best = v;
                        at = iy * g->w + ix;
                    }
                }
            y[oy * g->ow + ox] = best;
            arg[oy * g->ow + ox] = at;
        }
}

/* Every output's gradient goes to the input element its maximum came from. */
static void max_pool_backward(dc_node *node)
{
    const pool_geom *g = node->saved;
    const int *arg = (const int *)(g + 1);
    const float *dy = node->out->grad;
    float *dx = dc_node_in_grad(node, 0);
    long planes = (long)node->in[0]->shape[0] * node->in[0]->shape[1];
    size_t hw = (size_t)g->h * g->w, ohw = (size_t)g->oh * g->ow;

    #pragma omp parallel for schedule(static) if (planes * ohw > PAR_MIN)
    for (long pc = 0; pc < planes; pc++)
        for (size_t i = 0; i < ohw; i++)
            dx[pc * hw + arg[pc * ohw + i]] += dy[pc * ohw + i];
}

dc_tensor *dc_max_pool2d(dc_tensor *x, int kernel, int stride, int padding)
{
    pool_geom *g;
    dc_tensor *y;
    dc_node *node;
    int *arg;
    long planes;

    if (max_pool_check(x, kernel, stride, padding) != DC_OK)
        return NULL;
    planes = (long)x->shape[0] * x->shape[1];

    /* The geometry and the argmax indices share one arena block, saved for backward. */
    int oh = (x->shape[2] + 2 * padding - kernel) / stride + 1;
    int ow = (x->shape[3] + 2 * padding - kernel) / stride + 1;
    g = dc_arena_alloc(sizeof *g + (size_t)planes * oh * ow * sizeof *arg);
    *g = (pool_geom){x->shape[2], x->shape[3], oh, ow, kernel, stride, padding};
    arg = (int *)(g + 1);
    y = dc_tensor_tmp(4, (int[]){x->shape[0], x->shape[1], oh, ow});

    size_t hw = (size_t)g->h * g->w, ohw = (size_t)oh * ow;
    #pragma omp parallel for schedule(static) if (planes * ohw > PAR_MIN)
    for (long pc = 0; pc < planes; pc++)
        max_pool_plane(g, x->data + pc * hw, y->data + pc * ohw, arg + pc * ohw);

    node = dc_record("max_pool2d", max_pool_backward, y, 1, (dc_tensor *[]){x});
    if (node)
        node->saved = g;
    return y;
}

/* ---- global average pooling ---- */

/* Every element of a plane receives its output's gradient / (h*w). */
static void avg_pool_backward(dc_node *node)
{
    const dc_tensor *x = node->in[0];
    const float *dy = node->out->grad;
    float *dx = dc_node_in_grad(node, 0);
    long planes = (long)x->shape[0] * x->shape[1];
    size_t hw = (size_t)x->shape[2] * x->shape[3];
    float inv = 1.0f / (float)hw;

    #pragma omp parallel for schedule(static) if (x->size > PAR_MIN)
    for (long pc = 0; pc < planes; pc++) {
        float d = dy[pc] * inv;
        float *dp = dx + pc * hw;
        for (size_t i = 0; i < hw; i++)
            dp[i] += d;
    }
}

dc_tensor *dc_adaptive_avg_pool2d_1x1(dc_tensor *x)
{
    char sx[64];
    dc_tensor *y;
    long planes;
    size_t hw;

    if (x->ndim != 4) {
        dc_fail(DC_ERR_SHAPE, "adaptive_avg_pool2d: input %s, expected [n,c,h,w]",
                dc_shape_str(x, sx, sizeof sx));
        return NULL;
    }
    planes = (long)x->shape[0] * x->shape[1];
    hw = (size_t)x->shape[2] * x->shape[3];
    y = dc_tensor_tmp(4, (int[]){x->shape[0], x->shape[1], 1, 1});

    /* The simd lanes sum in a fixed pattern, so the result repeats bit for bit. */
    #pragma omp parallel for schedule(static) if (x->size > PAR_MIN)
    for (long pc = 0; pc < planes; pc++) {
        const float *p = x->data + pc * hw;
        float s = 0.0f;
        #pragma omp simd reduction(+ : s)
        for (size_t i = 0; i < hw; i++)
            s += p[i];
        y->data[pc] = s / (float)hw;
    }
    dc_record("adaptive_avg_pool2d", avg_pool_backward, y, 1, (dc_tensor *[]){x});
    return y;
}
