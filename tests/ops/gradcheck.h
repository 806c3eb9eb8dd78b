/* gradcheck.h - finite-difference gradient checks for ops (STYLE section 11).
 *
 * loss = sum(op(inputs) * R) for a fixed random R. The analytic gradient comes from
 * dc_backward; the numerical one from central differences x +- h, with the loss
 * accumulated in double. Every input element is checked up to `max_checks` per input
 * (spread evenly beyond that). A check fails if |analytic - numeric| >
 * atol + rtol * max(|analytic|, |numeric|), or if an input's gradient is all zero. */
#ifndef DEEPC_TESTS_GRADCHECK_H
#define DEEPC_TESTS_GRADCHECK_H

#include <criterion/criterion.h>
#include <math.h>

#include "deepc/ops.h"
#include "deepc/tensor.h"

typedef dc_tensor *(*gc_fn)(dc_tensor **in, void *ctx);

typedef struct gc_opts {
    float h;
    float atol;
    float rtol;
    int max_checks;
} gc_opts;

static const gc_opts gc_default = {1e-2f, 1e-3f, 1e-2f, 400};

/* A heap tensor requiring gradients, filled from U(lo, hi), with |x| >= away where
 * away > 0 (keeps ReLU and friends off their kinks). */
static inline dc_tensor *gc_input(int ndim, const int *shape, float lo, float hi,
                                  float away, uint64_t seed)
{
    dc_tensor *t = dc_tensor_new(ndim, shape);
    dc_rng r;

    dc_rng_seed(&r, seed);
    for (size_t i = 0; i < t->size; i++) {
        float v;
        do
            v = lo + (hi - lo) * dc_rng_uniform(&r);
        while (away > 0 && fabsf(v) < away);
        t->data[i] = v;
    }
    t->requires_grad = 1;
    return t;
}

static inline double gc_loss(dc_tensor *out, const float *r)
{
    double s = 0.0;

    for (size_t i = 0; i < out->size; i++)
        s += (double)out->data[i] * r[i];
    return s;
}

static inline void gradcheck(const char *what, gc_fn fn, dc_tensor **in, int n_in,
                             void *ctx, gc_opts o)
{
    dc_tensor *out, *rt;
    float *r;
    dc_rng rng;

    /* Analytic pass. */
    for (int i = 0; i < n_in; i++)
        dc_tensor_zero_grad(in[i]);
    out = fn(in, ctx);
    cr_assert_not_null(out, "%s: op failed: %s", what, dc_last_error());
    rt = dc_tensor_new(out->ndim, out->shape);
    r = rt->data;
    dc_rng_seed(&rng, 1234);
    for (size_t i = 0; i < out->size; i++)
        r[i] = 2.0f * dc_rng_uniform(&rng) - 1.0f;
    cr_assert_eq(dc_backward(dc_sum(dc_mul(out, rt))), DC_OK, "%s: %s", what,
                 dc_last_error());

    /* Numerical pass, input by input, without recording. */
    int prev = dc_grad_enabled(0);
    for (int k = 0; k < n_in; k++) {
        dc_tensor *x = in[k];
        size_t stride = x->size > (size_t)o.max_checks ? x->size / o.max_checks : 1;
        double max_abs = 0.0;
        cr_assert_not_null(x->grad, "%s: input %d got no gradient", what, k);
        for (size_t j = 0; j < x->size; j += stride) {
            float keep = x->data[j];
            x->data[j] = keep + o.h;
            double fp = gc_loss(fn(in, ctx), r);
            x->data[j] = keep - o.h;
            double fm = gc_loss(fn(in, ctx), r);
            x->data[j] = keep;
            double num = (fp - fm) / (2.0 * o.h), ana = x->grad[j];
            double tol = o.atol + o.rtol * fmax(fabs(ana), fabs(num));
            cr_assert(fabs(ana - num) <= tol,
                      "%s: input %d element %zu: analytic %.6g numeric %.6g", what, k, j,
                      ana, num);
            max_abs = fmax(max_abs, fabs(ana));
        }
        cr_assert_gt(max_abs, 1e-4, "%s: input %d gradient is all zero", what, k);
    }
    dc_grad_enabled(prev);
    dc_tensor_free(rt);
    dc_step_end();
}

#endif
