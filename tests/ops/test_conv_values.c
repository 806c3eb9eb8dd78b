/* Values of the convolutional-network ops and modules:
 *   - dc_conv2d forward and backward against a naive double-precision loop, over every
 *     kernel path and sizes larger than the finite-difference tests can afford;
 *   - every op against PyTorch (fixture made by tests/fixtures/make_conv_fixture.py):
 *     outputs, gradients of sum(y * r), and batch norm's updated running statistics;
 *   - error messages for bad shapes and arguments;
 *   - nn.Conv2d / nn.BatchNorm initialisation and names;
 *   - reproducibility: the same bits run after run, and for the depthwise kernel and
 *     batch norm whatever the thread count. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/io.h"
#include "deepc/nn.h"
#include "deepc/ops.h"

#define FIXTURE DC_SOURCE_DIR "/tests/fixtures/conv_ops.safetensors"

/* |got - want| <= atol + rtol |want| for every element, else report the first miss. */
static void expect_close(const char *what, const float *got, const float *want,
                         size_t n, float atol, float rtol)
{
    cr_assert_not_null(got, "%s: no values (gradient missing?)", what);
    for (size_t i = 0; i < n; i++)
        cr_assert(fabsf(got[i] - want[i]) <= atol + rtol * fabsf(want[i]),
                  "%s[%zu]: expected %.8g got %.8g", what, i, want[i], got[i]);
}

static dc_tensor *filled(int ndim, const int *shape, uint64_t seed)
{
    dc_tensor *t = dc_tensor_new(ndim, shape);
    dc_rng rng;

    dc_rng_seed(&rng, seed);
    dc_init_uniform(t, -1.0f, 1.0f, &rng);
    return t;
}

/* ---- against a naive loop ---- */

typedef struct conv_case {
    int n, c, h, w, o, k, stride, pad, groups;
    int kw;  /* kernel width when it differs from the height k, else 0 */
} conv_case;

/* The definition, term by term, in double: y, and for loss = sum(y r) the gradients
 * dx, dw, db (arrays of x, w and [o] sizes, zeroed by the caller). Taps that fall
 * outside the image read zero and receive nothing. */
static void naive_conv(const conv_case *cc, const dc_tensor *x, const dc_tensor *w,
                       const dc_tensor *b, const float *r, const dc_tensor *y,
                       double *dx, double *dw, double *db, double *yref)
{
    int cg = cc->c / cc->groups, og = cc->o / cc->groups, oh = y->shape[2],
        ow = y->shape[3], kh = cc->k, kw = cc->kw ? cc->kw : cc->k;
    size_t yi = 0;

    for (int i = 0; i < cc->n; i++)
        for (int o = 0; o < cc->o; o++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++, yi++) {
                    double acc = b->data[o];
                    db[o] += r[yi];
                    for (int c = 0; c < cg; c++)
                        for (int u = 0; u < kh; u++)
                            for (int v = 0; v < kw; v++) {
                                int ch = o / og * cg + c;
                                int iy = oy * cc->stride + u - cc->pad;
                                int ix = ox * cc->stride + v - cc->pad;
                                size_t wi = (((size_t)o * cg + c) * kh + u) * kw + v;
                                size_t xi = (((size_t)i * cc->c + ch) * cc->h + iy) * cc->w
                                            + ix;
                                if (iy < 0 || iy >= cc->h || ix < 0 || ix >= cc->w)
                                    continue;
                                acc += (double)w->data[wi] * x->data[xi];
                                dw[wi] += (double)r[yi] * x->data[xi];
                                dx[xi] += (double)r[yi] * w->data[wi];
                            }
                    yref[yi] = acc;
                }
}

static void expect_close_d(const char *what, const char *part, const float *got,
                           const double *want, size_t n, double tol)
{
    for (size_t i = 0; i < n; i++)
        cr_assert(fabs(got[i] - want[i]) <= tol * (1.0 + fabs(want[i])),
                  "%s: %s[%zu]: expected %.8g got %.8g", what, part, i, want[i], got[i]);
}

static void check_against_naive(const conv_case *cc, uint64_t seed)
{
    dc_tensor *x = filled(4, (int[]){cc->n, cc->c, cc->h, cc->w}, seed);
    dc_tensor *w = filled(4, (int[]){cc->o, cc->c / cc->groups, cc->k,
                                     cc->kw ? cc->kw : cc->k}, seed + 1);
    dc_tensor *b = filled(1, (int[]){cc->o}, seed + 2);
    char what[160];

    x->requires_grad = w->requires_grad = b->requires_grad = 1;
    dc_tensor *y = dc_conv2d(x, w, b, cc->stride, cc->pad, cc->groups);
    cr_assert_not_null(y, "%s", dc_last_error());
    dc_tensor *r = filled(y->ndim, y->shape, seed + 3);
    double *dx = calloc(x->size, sizeof *dx), *dw = calloc(w->size, sizeof *dw);
    double *db = calloc(b->size, sizeof *db), *yref = calloc(y->size, sizeof *yref);

    naive_conv(cc, x, w, b, r->data, y, dx, dw, db, yref);
    cr_assert_eq(dc_backward(dc_sum(dc_mul(y, r))), DC_OK, "%s", dc_last_error());
    snprintf(what, sizeof what, "conv n%d c%d %dx%d o%d k%dx%d s%d p%d g%d", cc->n,
             cc->c, cc->h, cc->w, cc->o, cc->k, cc->kw ? cc->kw : cc->k, cc->stride,
             cc->pad, cc->groups);

    /* Float32 sums of up to a few hundred terms against double: 1e-5 (1 + |value|). */
    expect_close_d(what, "y", y->data, yref, y->size, 1e-5);
    expect_close_d(what, "dx", x->grad, dx, x->size, 1e-5);
    expect_close_d(what, "dw", w->grad, dw, w->size, 1e-5);
    expect_close_d(what, "db", b->grad, db, b->size, 1e-5);

    dc_step_end();
    free(dx), free(dw), free(db), free(yref);
    dc_tensor_free(x), dc_tensor_free(w), dc_tensor_free(b), dc_tensor_free(r);
}

Test(conv_values, every_path_matches_the_definition)
{
    static const conv_case cases[] = {
        {3, 16, 12, 10, 24, 1, 1, 0, 1, 0},  /* plain GEMM, batch split over threads */
        {1, 16, 12, 10, 24, 1, 1, 0, 1, 0},  /* one image: serial loop, threaded GEMM */
        {3, 3, 17, 13, 8, 3, 1, 1, 1, 0},    /* RGB stem: direct */
        {3, 8, 16, 15, 8, 3, 2, 1, 8, 0},    /* depthwise 3x3 stride 2, odd width */
        {3, 8, 15, 16, 8, 3, 1, 1, 8, 0},    /* depthwise 3x3 stride 1 */
        {2, 6, 11, 9, 6, 5, 2, 2, 6, 0},     /* depthwise, general kernel */
        {2, 8, 9, 9, 12, 3, 2, 0, 4, 0},     /* grouped, 2 channels per group: direct */
        {3, 8, 13, 11, 6, 3, 2, 1, 1, 0},    /* im2col + GEMM */
        {2, 12, 9, 8, 4, 3, 1, 1, 2, 0},     /* grouped im2col */
        {5, 4, 6, 7, 4, 3, 3, 2, 2, 0},      /* stride 3, padding 2 */
        {2, 3, 9, 8, 4, 3, 1, 1, 1, 1},      /* 3x1 kernel, direct: dx by scatter */
        {2, 8, 9, 8, 4, 1, 2, 1, 1, 3},      /* 1x3 kernel, im2col */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        check_against_naive(&cases[i], 40 + 10 * i);
}

/* With x not requiring gradients only dW and db are computed, and they are the same. */
Test(conv_values, weight_gradient_without_input_gradient)
{
    static const conv_case cases[] = {{2, 4, 9, 8, 4, 3, 2, 1, 4, 0},
                                      {2, 8, 9, 8, 6, 3, 1, 1, 1, 0}};

    for (int k = 0; k < 2; k++) {
        const conv_case *cc = &cases[k];
        dc_tensor *x = filled(4, (int[]){cc->n, cc->c, cc->h, cc->w}, 90);
        dc_tensor *w = filled(4, (int[]){cc->o, cc->c / cc->groups, 3, 3}, 91);
        float *keep = malloc(w->size * sizeof *keep);

        w->requires_grad = 1;
        for (int pass = 0; pass < 2; pass++) {
            x->requires_grad = pass == 0;
            dc_tensor_zero_grad(w);
            dc_tensor *y = dc_conv2d(x, w, NULL, cc->stride, cc->pad, cc->groups);
            cr_assert_eq(dc_backward(dc_sum(y)), DC_OK);
            if (pass == 0)
                memcpy(keep, w->grad, w->size * sizeof *keep);
            dc_step_end();
        }
        cr_assert_eq(memcmp(keep, w->grad, w->size * sizeof *keep), 0);
        free(keep);
        dc_tensor_free(x), dc_tensor_free(w);
    }
}

/* ---- against PyTorch ---- */

static dc_safetensors *fixture(void)
{
    dc_safetensors *st = dc_safetensors_load(FIXTURE);

    cr_assert_not_null(st, "%s", dc_last_error());
    return st;
}

/* The fixture tensor CASE.KEY, marked as requiring gradients. */
static dc_tensor *leaf(const dc_safetensors *st, const char *cs, const char *key)
{
    char name[128];
    dc_tensor *t;

    snprintf(name, sizeof name, "%s.%s", cs, key);
    t = dc_safetensors_find(st, name);
    cr_assert_not_null(t, "fixture lacks %s", name);
    t->requires_grad = 1;
    return t;
}

static void expect_tensor(const dc_safetensors *st, const char *cs, const char *key,
                          const float *got, float atol, float rtol)
{
    char name[128];
    dc_tensor *want;

    snprintf(name, sizeof name, "%s.%s", cs, key);
    want = dc_safetensors_find(st, name);
    cr_assert_not_null(want, "fixture lacks %s", name);
    expect_close(name, got, want->data, want->size, atol, rtol);
}

/* Runs backward of sum(y * CASE.r) and compares y and the named gradients. */
static void expect_case(const dc_safetensors *st, const char *cs, dc_tensor *y,
                        const char *const *keys, dc_tensor *const *leaves, int n,
                        float atol, float rtol)
{
    char gname[64];

    cr_assert_not_null(y, "%s: %s", cs, dc_last_error());
    expect_tensor(st, cs, "y", y->data, atol, rtol);
    cr_assert_eq(dc_backward(dc_sum(dc_mul(y, leaf(st, cs, "r")))), DC_OK);
    for (int i = 0; i < n; i++) {
        snprintf(gname, sizeof gname, "grad.%s", keys[i]);
        expect_tensor(st, cs, gname, leaves[i]->grad, atol, rtol);
    }
    dc_step_end();
}

/* Float32 sums of a few dozen terms, in another order than PyTorch's: 1e-5 absolute
 * plus 1e-4 relative covers the rounding. */
#define CONV_ATOL 1e-5f
#define CONV_RTOL 1e-4f

static void conv_case_check(const dc_safetensors *st, const char *cs, int bias,
                            int stride, int pad, int groups)
{
    static const char *const keys[] = {"x", "w", "b"};
    dc_tensor *in[] = {leaf(st, cs, "x"), leaf(st, cs, "w"),
                       bias ? leaf(st, cs, "b") : NULL};

    expect_case(st, cs, dc_conv2d(in[0], in[1], in[2], stride, pad, groups), keys, in,
                bias ? 3 : 2, CONV_ATOL, CONV_RTOL);
}

Test(conv_values, conv_matches_pytorch)
{
    dc_safetensors *st = fixture();

    conv_case_check(st, "conv_stem", 1, 1, 1, 1);
    conv_case_check(st, "conv_strided", 1, 2, 1, 1);
    conv_case_check(st, "conv_im2col", 1, 2, 1, 1);
    conv_case_check(st, "conv_grouped", 1, 1, 2, 2);
    conv_case_check(st, "conv_grouped_im2col", 0, 1, 1, 2);
    conv_case_check(st, "conv_pointwise", 0, 1, 0, 1);
    conv_case_check(st, "conv_dw_s1", 1, 1, 1, 5);
    conv_case_check(st, "conv_dw_s2", 0, 2, 1, 5);
    dc_safetensors_free(st);
}

Test(conv_values, pooling_matches_pytorch)
{
    static const char *const keys[] = {"x"};
    dc_safetensors *st = fixture();
    dc_tensor *x = leaf(st, "maxpool", "x");

    /* Max pooling copies values: exact. Averages: one rounding of a 20-term sum. */
    expect_case(st, "maxpool", dc_max_pool2d(x, 3, 2, 1), keys, &x, 1, 0.0f, 0.0f);
    x = leaf(st, "avgpool", "x");
    expect_case(st, "avgpool", dc_adaptive_avg_pool2d_1x1(x), keys, &x, 1, 1e-6f, 1e-5f);
    dc_safetensors_free(st);
}

/* Ties go to the first maximum in row-major window order, and padding never wins: an
 * all-negative input pooled with padding gives negative maxima, not 0. */
Test(conv_values, max_pool_ties_and_padding)
{
    dc_tensor *x = dc_tensor_new4(1, 1, 4, 4);
    /* Ties: window (0,0) is all -1; window (0,1) holds -3 at (0,3) and (1,2); window
     * (1,1) holds -7 at (2,2) and (3,3). */
    static const float v[16] = {-1, -1, -5, -3, -1, -1, -3, -4,
                                -2, -6, -7, -8, -9, -6, -8, -7};
    static const float want_y[4] = {-1, -3, -2, -7};
    static const float want_dx[16] = {1, 0, 0, 1, 0, 0, 0, 0,
                                      1, 0, 1, 0, 0, 0, 0, 0};

    memcpy(x->data, v, sizeof v);
    x->requires_grad = 1;
    dc_tensor *y = dc_max_pool2d(x, 2, 2, 0);
    cr_assert_eq(dc_backward(dc_sum(y)), DC_OK);
    expect_close("max_pool2d y", y->data, want_y, 4, 0.0f, 0.0f);
    expect_close("max_pool2d dx", x->grad, want_dx, 16, 0.0f, 0.0f);

    /* k3 s2 p1: the corner window covers padding and x[0..1][0..1] = -1. */
    y = dc_max_pool2d(x, 3, 2, 1);
    cr_assert_eq(y->shape[2], 2);
    cr_assert_eq(y->data[0], -1.0f, "padding must count as -inf, got %g", y->data[0]);
    for (size_t i = 0; i < y->size; i++)
        cr_assert_lt(y->data[i], 0.0f);
    dc_step_end();
    dc_tensor_free(x);
}

/* Batch norm of CASE against PyTorch, running statistics included. */
static void bn_case_check(const dc_safetensors *st, const char *cs, int training)
{
    static const char *const keys[] = {"x", "gamma", "beta"};
    dc_tensor *in[] = {leaf(st, cs, "x"), leaf(st, cs, "gamma"), leaf(st, cs, "beta")};
    dc_tensor *mean = leaf(st, cs, "running_mean"), *var = leaf(st, cs, "running_var");

    mean->requires_grad = var->requires_grad = 0;
    expect_case(st, cs, dc_batch_norm(in[0], in[1], in[2], mean, var, training, 0.1f, 1e-5f),
                keys, in, 3, 1e-5f, 1e-4f);

    /* The momentum update is one multiply-add per channel in double: 1e-6 is ample. */
    expect_tensor(st, cs, "new_running_mean", mean->data, 1e-6f, 1e-6f);
    expect_tensor(st, cs, "new_running_var", var->data, 1e-6f, 1e-6f);
}

Test(conv_values, batch_norm_matches_pytorch)
{
    dc_safetensors *st = fixture();

    bn_case_check(st, "bn_train", 1);
    bn_case_check(st, "bn1d_train", 1);
    bn_case_check(st, "bn_eval", 0);
    dc_safetensors_free(st);
}

/* ---- errors ---- */

static void expect_error(const void *result, const char *message)
{
    cr_assert_null(result, "expected failure: %s", message);
    cr_assert(strstr(dc_last_error(), message), "message \"%s\" lacks \"%s\"",
              dc_last_error(), message);
}

Test(conv_values, bad_shapes_and_arguments_are_refused)
{
    dc_tensor *x = dc_tensor_new4(2, 3, 7, 5), *w = dc_tensor_new4(16, 1, 3, 3);
    dc_tensor *w3 = dc_tensor_new4(4, 3, 3, 3), *b5 = dc_tensor_new1(5);
    dc_tensor *v3 = dc_tensor_new1(3), *v4 = dc_tensor_new1(4), *flat = dc_tensor_new2(1, 3);
    dc_rng rng;

    expect_error(dc_conv2d(x, w, NULL, 1, 1, 1),
                 "conv2d: input [2,3,7,5] has 3 channels, weight [16,1,3,3] expects 1");
    expect_error(dc_conv2d(x, w3, b5, 1, 1, 1),
                 "conv2d: bias [5], expected [4] for weight [4,3,3,3]");
    expect_error(dc_conv2d(x, w3, NULL, 0, 1, 1), "stride 0");
    expect_error(dc_conv2d(x, w, NULL, 1, 1, 2), "must both divide by groups 2");
    expect_error(dc_conv2d(x, dc_tensor_view(w3, 2, (int[]){4, 27}), NULL, 1, 0, 1),
                 "expected [n,c,h,w] and [o,c/groups,kh,kw]");
    expect_error(dc_conv2d(dc_tensor_view(x, 4, (int[]){2, 3, 1, 35}), w3, NULL, 1, 0, 1),
                 "input [2,3,1,35] padded by 0 is smaller than the kernel");
    expect_error(dc_max_pool2d(x, 2, 2, 2), "padding 2, expected at most half the kernel 2");
    expect_error(dc_max_pool2d(v3, 2, 2, 0), "max_pool2d: input [3], expected [n,c,h,w]");
    expect_error(dc_adaptive_avg_pool2d_1x1(v3), "input [3], expected [n,c,h,w]");
    expect_error(dc_batch_norm(x, v4, NULL, NULL, NULL, 1, 0.1f, 1e-5f),
                 "batch_norm: weight [4] for input [2,3,7,5], expected [3]");
    expect_error(dc_batch_norm(x, NULL, NULL, NULL, NULL, 0, 0.1f, 1e-5f),
                 "evaluation mode needs running_mean");
    expect_error(dc_batch_norm(flat, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f),
                 "expected more than 1 value per channel when training, got input [1,3]");
    expect_error(dc_batch_norm(x, NULL, NULL, v3, NULL, 1, 0.1f, 1e-5f),
                 "must be given together");
    expect_error(dc_batch_norm(x, NULL, NULL, NULL, NULL, 1, 1.5f, 1e-5f), "momentum 1.5");
    dc_rng_seed(&rng, 1);
    expect_error(dc_dropout(x, 1.5f, 1, &rng), "dropout: p = 1.5, expected 0 <= p <= 1");
    expect_error(dc_dropout(x, 0.5f, 1, NULL), "needs a dc_rng");

    dc_step_end();
    dc_tensor_free(x), dc_tensor_free(w), dc_tensor_free(w3), dc_tensor_free(b5);
    dc_tensor_free(v3), dc_tensor_free(v4), dc_tensor_free(flat);
}

Test(conv_values, dropout_identity_and_drop_all)
{
    dc_tensor *x = filled(2, (int[]){4, 8}, 3);
    dc_rng rng;

    dc_rng_seed(&rng, 2);
    cr_assert_eq(dc_dropout(x, 0.5f, 0, &rng), x, "evaluation returns the input itself");
    cr_assert_eq(dc_dropout(x, 0.0f, 1, &rng), x, "p = 0 returns the input itself");
    dc_tensor *y = dc_dropout(x, 1.0f, 1, &rng);
    for (size_t i = 0; i < y->size; i++)
        cr_assert_eq(y->data[i], 0.0f, "p = 1 zeroes everything (y[%zu])", i);
    dc_step_end();
    dc_tensor_free(x);
}

/* ---- modules ---- */

Test(conv_values, conv_layer_initialisation_and_names)
{
    dc_params *p = dc_params_new();
    dc_conv2d_layer stem, dw;
    dc_rng rng;

    dc_rng_seed(&rng, 7);
    cr_assert_eq(dc_conv2d_layer_init(&stem, p, "stem", 3, 16, 3, 1, 1, 1, 1, &rng), DC_OK);
    cr_assert_eq(dc_conv2d_layer_init(&dw, p, "block1.dw", 16, 16, 3, 2, 1, 16, 0, &rng),
                 DC_OK);
    cr_assert_eq(dc_params_find(p, "stem.weight"), stem.weight);
    cr_assert_eq(dc_params_find(p, "stem.bias"), stem.bias);
    cr_assert_null(dw.bias);
    cr_assert_null(dc_params_find(p, "block1.dw.bias"));
    cr_assert_eq(dw.weight->shape[0], 16);
    cr_assert_eq(dw.weight->shape[1], 1);
    cr_assert_eq(dc_params_count(p), 16 * 27 + 16 + 16 * 9);

    /* fan_in 27 and 9: bounds 1/sqrt(27) and 1/3, reached to within a few percent. */
    const struct { dc_tensor *t; float bound; } want[] = {
        {stem.weight, 1.0f / sqrtf(27.0f)}, {stem.bias, 1.0f / sqrtf(27.0f)},
        {dw.weight, 1.0f / 3.0f},
    };
    for (int k = 0; k < 3; k++) {
        float lo = 0.0f, hi = 0.0f;
        for (size_t i = 0; i < want[k].t->size; i++) {
            lo = fminf(lo, want[k].t->data[i]);
            hi = fmaxf(hi, want[k].t->data[i]);
        }
        cr_assert(lo >= -want[k].bound && hi <= want[k].bound, "tensor %d outside bound", k);
        if (want[k].t->size >= 100)
            cr_assert(lo < -0.9f * want[k].bound && hi > 0.9f * want[k].bound,
                      "tensor %d does not fill U(-%g, %g): [%g, %g]", k, want[k].bound,
                      want[k].bound, lo, hi);
    }
    cr_assert_neq(dc_conv2d_layer_init(&dw, p, "bad", 16, 12, 3, 1, 1, 5, 0, &rng), DC_OK);
    cr_assert(strstr(dc_last_error(), "groups=5 must divide in=16 and out=12"));
    dc_params_free(p);
}

Test(conv_values, batchnorm_layer_initialisation_and_running_stats)
{
    dc_params *p = dc_params_new();
    dc_batchnorm_layer bn;
    static const char *const names[] = {"bn.weight", "bn.bias", "bn.running_mean",
                                        "bn.running_var"};

    cr_assert_eq(dc_batchnorm_layer_init(&bn, p, "bn", 3), DC_OK);
    cr_assert_eq(p->n, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_str_eq(p->items[i].name, names[i]);
    cr_assert_eq(dc_params_count(p), 6, "the running statistics are buffers");
    for (int c = 0; c < 3; c++) {
        cr_assert_eq(bn.weight->data[c], 1.0f);
        cr_assert_eq(bn.bias->data[c], 0.0f);
        cr_assert_eq(bn.running_mean->data[c], 0.0f);
        cr_assert_eq(bn.running_var->data[c], 1.0f);
    }

    /* One training batch [2,3,1,2] with channel c holding {c, c+1, c+2, c+3}: mean
     * c + 1.5, unbiased variance 5/3, so running = 0.9 * (0, 1) + 0.1 * (c+1.5, 5/3). */
    dc_tensor *x = dc_tensor_new4(2, 3, 1, 2);
    for (int i = 0; i < 2; i++)
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 2; k++)
                x->data[(i * 3 + c) * 2 + k] = (float)(c + 2 * i + k);
    cr_assert_not_null(dc_batchnorm_layer_forward(&bn, x, 1));
    for (int c = 0; c < 3; c++) {
        cr_assert_float_eq(bn.running_mean->data[c], 0.1f * (c + 1.5f), 1e-6);
        cr_assert_float_eq(bn.running_var->data[c], 0.9f + 0.1f * 5.0f / 3.0f, 1e-6);
    }
    dc_tensor *y = dc_batchnorm_layer_forward(&bn, x, 0);
    cr_assert_float_eq(y->data[0], -0.15f / sqrtf(0.9f + 0.5f / 3.0f + 1e-5f), 1e-5);
    dc_step_end();
    dc_tensor_free(x);
    dc_params_free(p);
}

/* ---- reproducibility ---- */

/* Gradients of a depthwise conv, a pointwise conv and a batch norm after one backward,
 * concatenated into out. */
static void grads_once(float *out, size_t n)
{
    dc_tensor *x = filled(4, (int[]){6, 8, 12, 12}, 60), *dw = filled(4, (int[]){8, 1, 3, 3}, 61);
    dc_tensor *pw = filled(4, (int[]){8, 8, 1, 1}, 62), *g = filled(1, (int[]){8}, 63);
    dc_tensor *all[] = {x, dw, pw, g};
    size_t k = 0;

    for (int i = 0; i < 4; i++)
        all[i]->requires_grad = 1;
    dc_tensor *h = dc_batch_norm(dc_conv2d(x, dw, NULL, 2, 1, 8), g, NULL, NULL, NULL, 1,
                                 0.1f, 1e-5f);
    dc_tensor *y = dc_conv2d(h, pw, NULL, 1, 0, 1);
    cr_assert_eq(dc_backward(dc_sum(dc_mul(y, y))), DC_OK);
    for (int i = 0; i < 4; i++)
        for (size_t j = 0; j < all[i]->size && k < n; j++)
            out[k++] = all[i]->grad[j];
    cr_assert_eq(k, n);
    dc_step_end();
    for (int i = 0; i < 4; i++)
        dc_tensor_free(all[i]);
}

Test(conv_values, same_bits_every_run)
{
    size_t n = 6 * 8 * 144 + 72 + 64 + 8;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);

    dc_set_threads(2);
    grads_once(a, n);
    grads_once(b, n);
    cr_assert_eq(memcmp(a, b, n * sizeof *a), 0, "two runs differ");

    /* The depthwise kernel and batch norm sum in an order no thread count enters. */
    dc_set_threads(1);
    grads_once(b, n);
    cr_assert_eq(memcmp(a, b, (n - 64 - 8 - 72) * sizeof *a), 0, "dx differs");
    cr_assert_eq(memcmp(a + n - 64 - 8 - 72, b + n - 64 - 8 - 72, 72 * sizeof *a), 0,
                 "depthwise dW differs");
    cr_assert_eq(memcmp(a + n - 8, b + n - 8, 8 * sizeof *a), 0, "batch norm dgamma differs");
    free(a);
    free(b);
}
