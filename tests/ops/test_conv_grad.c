/* Finite-difference gradient tests of the convolutional-network ops (src/ops/conv.c,
 * pool.c, norm.c, dropout.c), input gradients included: every conv kernel path
 * (GEMM with and without im2col, direct, grouped, depthwise) over strides, paddings, kernel
 * sizes and odd image sizes; max and average pooling; batch norm in both modes and
 * layouts; dropout with its mask reused; and a small network of all of them. */
#include <stdio.h>
#include <stdlib.h>

#include "ops/gradcheck.h"

static void free_all(dc_tensor **in, int n)
{
    for (int i = 0; i < n; i++)
        dc_tensor_free(in[i]);
}

/* ---- convolution ---- */

typedef struct conv_case {
    int n, c, h, w, o, k, stride, pad, groups, bias;
} conv_case;

static dc_tensor *f_conv(dc_tensor **in, void *ctx)
{
    const conv_case *cc = ctx;

    return dc_conv2d(in[0], in[1], cc->bias ? in[2] : NULL, cc->stride, cc->pad,
                     cc->groups);
}

static void check_conv(const conv_case *cc, uint64_t seed)
{
    dc_tensor *in[] = {
        gc_input(4, (int[]){cc->n, cc->c, cc->h, cc->w}, -1, 1, 0, seed),
        gc_input(4, (int[]){cc->o, cc->c / cc->groups, cc->k, cc->k}, -1, 1, 0, seed + 1),
        gc_input(1, (int[]){cc->o}, -1, 1, 0, seed + 2),
    };
    char what[128];

    snprintf(what, sizeof what, "conv2d n%d c%d %dx%d o%d k%d s%d p%d g%d bias%d", cc->n,
             cc->c, cc->h, cc->w, cc->o, cc->k, cc->stride, cc->pad, cc->groups, cc->bias);
    gradcheck(what, f_conv, in, cc->bias ? 3 : 2, (void *)cc, gc_default);
    free_all(in, 3);
}

/* More than 4 input channels per group: im2col + GEMM; 1x1 stride 1: a plain GEMM. */
Test(conv_grad, gemm_path_strides_paddings_kernels)
{
    static const conv_case cases[] = {
        {2, 6, 7, 5, 4, 3, 1, 1, 1, 1},
        {2, 6, 7, 5, 4, 3, 1, 0, 1, 0},
        {2, 6, 7, 5, 4, 3, 2, 0, 1, 1},
        {2, 6, 7, 5, 4, 3, 2, 1, 1, 0},
        {2, 6, 7, 5, 4, 3, 2, 2, 1, 1},
        {2, 6, 7, 5, 4, 3, 1, 2, 1, 1},
        {2, 3, 7, 5, 4, 1, 1, 0, 1, 1},  /* 1x1: the plain-GEMM path */
        {2, 6, 7, 5, 4, 1, 1, 0, 1, 0},
        {2, 6, 7, 5, 4, 1, 2, 1, 1, 1},  /* 1x1 strided and padded: im2col again */
        {2, 6, 5, 7, 3, 5, 2, 2, 1, 1},  /* a kernel as tall as the image */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_conv(&cases[i], 100 + 10 * i);
}

/* Up to 4 input channels per group (an RGB stem): the direct kernels. */
Test(conv_grad, direct_path_few_input_channels)
{
    static const conv_case cases[] = {
        {2, 3, 7, 5, 4, 3, 1, 1, 1, 1},
        {2, 3, 7, 5, 4, 3, 2, 0, 1, 0},
        {2, 3, 7, 5, 4, 3, 2, 2, 1, 1},
        {2, 3, 7, 5, 4, 1, 2, 1, 1, 1},  /* padding > kernel - 1: dx by scatter */
        {2, 2, 5, 7, 3, 5, 2, 2, 1, 1},  /* 5x5: the general kernel */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_conv(&cases[i], 200 + 10 * i);
}

Test(conv_grad, grouped)
{
    static const conv_case cases[] = {
        {2, 4, 7, 5, 6, 3, 1, 1, 2, 1},   /* 2 channels per group: direct */
        {2, 4, 7, 5, 2, 3, 2, 2, 2, 0},
        {2, 4, 7, 5, 6, 1, 1, 0, 2, 1},   /* grouped plain GEMM */
        {2, 3, 7, 5, 6, 3, 1, 1, 3, 1},   /* depth multiplier 2 */
        {2, 10, 7, 5, 4, 3, 2, 1, 2, 1},  /* 5 channels per group: grouped im2col */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_conv(&cases[i], 300 + 10 * i);
}

Test(conv_grad, depthwise)
{
    static const conv_case cases[] = {
        {2, 3, 7, 5, 3, 3, 1, 1, 3, 1},  /* the 3x3 stride-1 kernel */
        {2, 3, 7, 5, 3, 3, 2, 1, 3, 1},  /* the 3x3 stride-2 kernel */
        {2, 3, 7, 5, 3, 3, 2, 0, 3, 0},
        {2, 3, 7, 5, 3, 3, 1, 2, 3, 0},
        {2, 3, 7, 5, 3, 3, 2, 2, 3, 1},
        {2, 3, 7, 5, 3, 1, 1, 0, 3, 1},  /* 1x1 stride 1: grouped plain GEMM */
        {2, 3, 7, 5, 3, 2, 2, 1, 3, 1},  /* the general kernel: 2x2, stride 2 */
        {2, 3, 7, 5, 3, 2, 1, 2, 3, 1},  /* padding > kernel - 1: dx by scatter */
        {2, 4, 6, 6, 4, 5, 3, 2, 4, 1},  /* the general kernel: 5x5, stride 3 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_conv(&cases[i], 500 + 10 * i);
}

/* ---- pooling ---- */

/* x [2,3,h,w] holding a shuffled ramp with steps of 0.05: no two values closer than
 * 2h, so no perturbation moves a window's maximum. */
static dc_tensor *distinct_input(int h, int w, uint64_t seed)
{
    dc_tensor *x = dc_tensor_new4(2, 3, h, w);
    int *perm = malloc(x->size * sizeof *perm);
    dc_rng rng;

    dc_rng_seed(&rng, seed);
    for (size_t i = 0; i < x->size; i++)
        perm[i] = (int)i;
    dc_rng_shuffle(&rng, perm, (int)x->size);
    for (size_t i = 0; i < x->size; i++)
        x->data[i] = 0.05f * (float)perm[i] - 2.0f;
    x->requires_grad = 1;
    free(perm);
    return x;
}

static dc_tensor *f_maxpool(dc_tensor **in, void *ctx)
{
    const int *kspp = ctx;

    return dc_max_pool2d(in[0], kspp[0], kspp[1], kspp[2]);
}

static dc_tensor *f_avgpool(dc_tensor **in, void *ctx)
{
    return dc_adaptive_avg_pool2d_1x1(in[0]);
}

Test(conv_grad, max_pool)
{
    static const int cases[][3] = {{2, 2, 0}, {3, 2, 1}, {3, 1, 1}, {2, 1, 1}, {3, 3, 0}};
    char what[64];

    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dc_tensor *in[] = {distinct_input(7, 5, 700 + i)};
        snprintf(what, sizeof what, "max_pool2d k%d s%d p%d", cases[i][0], cases[i][1],
                 cases[i][2]);
        gradcheck(what, f_maxpool, in, 1, (void *)cases[i], gc_default);
        free_all(in, 1);
    }
}

Test(conv_grad, adaptive_avg_pool)
{
    dc_tensor *in[] = {gc_input(4, (int[]){2, 3, 7, 5}, -1, 1, 0, 750)};

    gradcheck("adaptive_avg_pool2d", f_avgpool, in, 1, NULL, gc_default);
    free_all(in, 1);
}

/* ---- batch norm ---- */

typedef struct bn_ctx {
    int training;
    dc_tensor *mean, *var;
} bn_ctx;

static dc_tensor *f_bn(dc_tensor **in, void *ctx)
{
    bn_ctx *b = ctx;

    return dc_batch_norm(in[0], in[1], in[2], b->mean, b->var, b->training, 0.1f, 1e-5f);
}

static void check_bn(int ndim, const int *shape, int training, uint64_t seed)
{
    int c = shape[1];
    dc_tensor *in[] = {gc_input(ndim, shape, -2, 3, 0, seed),
                       gc_input(1, (int[]){c}, 0.5f, 1.5f, 0, seed + 1),
                       gc_input(1, (int[]){c}, -1, 1, 0, seed + 2)};
    bn_ctx ctx = {training, gc_input(1, (int[]){c}, -1, 1, 0, seed + 3),
                  gc_input(1, (int[]){c}, 0.5f, 2.0f, 0, seed + 4)};
    char what[64];

    ctx.mean->requires_grad = ctx.var->requires_grad = 0;
    snprintf(what, sizeof what, "batch_norm %s %dd", training ? "train" : "eval", ndim);
    gradcheck(what, f_bn, in, 3, &ctx, gc_default);
    free_all(in, 3);
    dc_tensor_free(ctx.mean);
    dc_tensor_free(ctx.var);
}

Test(conv_grad, batch_norm_train)
{
    check_bn(4, (int[]){3, 4, 3, 2}, 1, 800);
    check_bn(2, (int[]){5, 3}, 1, 810);
    check_bn(3, (int[]){2, 3, 4}, 1, 820);
}

Test(conv_grad, batch_norm_eval)
{
    check_bn(4, (int[]){3, 4, 3, 2}, 0, 830);
    check_bn(2, (int[]){5, 3}, 0, 840);
}

/* ---- dropout ---- */

/* The same seed on every call, so each finite-difference probe sees the same mask. */
static dc_tensor *f_dropout(dc_tensor **in, void *ctx)
{
    dc_rng rng;

    dc_rng_seed(&rng, 99);
    return dc_dropout(in[0], *(float *)ctx, 1, &rng);
}

Test(conv_grad, dropout_finite_difference)
{
    dc_tensor *in[] = {gc_input(3, (int[]){4, 5, 6}, -1, 1, 0, 900)};
    float p = 0.4f;

    gradcheck("dropout", f_dropout, in, 1, &p, gc_default);
    free_all(in, 1);
}

/* With the mask reused, d loss / dx is exactly mask * scale * g: no rounding at all. */
Test(conv_grad, dropout_gradient_is_mask_times_scale)
{
    dc_tensor *x = gc_input(2, (int[]){16, 64}, -1, 1, 0.01f, 910);
    dc_tensor *g = gc_input(2, (int[]){16, 64}, -1, 1, 0.01f, 911);
    float p = 0.3f, scale = 1.0f / (1.0f - p);
    dc_rng rng, replay;
    int dropped = 0;

    g->requires_grad = 0;
    dc_rng_seed(&rng, 5);
    replay = rng;
    dc_tensor *y = dc_dropout(x, p, 1, &rng);
    cr_assert_not_null(y, "%s", dc_last_error());
    cr_assert_eq(dc_backward(dc_sum(dc_mul(y, g))), DC_OK, "%s", dc_last_error());
    for (size_t i = 0; i < x->size; i++) {
        int keep = dc_rng_uniform(&replay) >= p;
        cr_assert_eq(y->data[i], keep ? x->data[i] * scale : 0.0f, "y[%zu]", i);
        cr_assert_eq(x->grad[i], keep ? g->data[i] * scale : 0.0f, "grad[%zu]", i);
        dropped += !keep;
    }

    /* 1024 draws at p = 0.3: 307 expected, standard deviation 15. */
    cr_assert(dropped > 247 && dropped < 367, "dropped %d of 1024 at p = 0.3", dropped);
    dc_step_end();
    dc_tensor_free(x);
    dc_tensor_free(g);
}

/* ---- a small network of every op, along all of its parameters ---- */

typedef struct tiny_net {
    dc_tensor *bn_mean[2], *bn_var[2];
} tiny_net;

/* conv 3x3 -> BN -> ReLU -> depthwise s2 -> BN -> ReLU -> 1x1 -> maxpool -> avgpool.
 * The convs before a batch norm have no bias: the norm would cancel it exactly. */
static dc_tensor *f_tiny(dc_tensor **in, void *ctx)
{
    tiny_net *t = ctx;
    dc_tensor *h = dc_conv2d(in[0], in[1], NULL, 1, 1, 1);

    h = dc_relu(dc_batch_norm(h, in[2], in[3], t->bn_mean[0], t->bn_var[0], 1, 0.1f,
                              1e-5f));
    h = dc_conv2d(h, in[4], NULL, 2, 1, 4);
    h = dc_relu(dc_batch_norm(h, in[5], in[6], t->bn_mean[1], t->bn_var[1], 1, 0.1f,
                              1e-5f));
    h = dc_conv2d(h, in[7], in[8], 1, 0, 1);
    return dc_adaptive_avg_pool2d_1x1(dc_max_pool2d(h, 2, 1, 0));
}

Test(conv_grad, small_network)
{
    dc_tensor *in[] = {
        gc_input(4, (int[]){2, 3, 9, 7}, -1, 1, 0, 950),
        gc_input(4, (int[]){4, 3, 3, 3}, -0.5f, 0.5f, 0, 951),
        gc_input(1, (int[]){4}, 0.5f, 1.5f, 0, 953),
        gc_input(1, (int[]){4}, -0.5f, 0.5f, 0, 954),
        gc_input(4, (int[]){4, 1, 3, 3}, -0.5f, 0.5f, 0, 955),
        gc_input(1, (int[]){4}, 0.5f, 1.5f, 0, 956),
        gc_input(1, (int[]){4}, -0.5f, 0.5f, 0, 957),
        gc_input(4, (int[]){5, 4, 1, 1}, -0.5f, 0.5f, 0, 958),
        gc_input(1, (int[]){5}, -0.5f, 0.5f, 0, 959),
    };
    tiny_net t;
    gc_opts o = gc_default;

    for (int i = 0; i < 2; i++) {
        t.bn_mean[i] = dc_tensor_new1(4);
        t.bn_var[i] = dc_tensor_new1(4);
    }
    /* ReLU and max have kinks, so a few probes may straddle one: a smaller step. */
    o.h = 1e-3f;
    o.atol = 2e-3f;
    gradcheck("conv-bn-relu-depthwise-pointwise-pool", f_tiny, in, 9, &t, o);
    free_all(in, 9);
    for (int i = 0; i < 2; i++) {
        dc_tensor_free(t.bn_mean[i]);
        dc_tensor_free(t.bn_var[i]);
    }
}
