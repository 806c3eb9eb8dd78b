/* optim.c - SGD, Adam and AdamW with PyTorch's update rules (formulas in optim.h), and
 * the learning-rate schedules. State (momentum, moments) is allocated once, in one
 * block per optimizer, when the optimizer is made. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/optim.h"

typedef enum { KIND_SGD, KIND_ADAM, KIND_ADAMW } optim_kind;

struct dc_optim {
    optim_kind kind;
    dc_params *params;
    dc_sgd_opts sgd;
    dc_adam_opts adam;
    float *state;     /* SGD: momentum buffers; Adam: m then v, per parameter */
    size_t *offset;   /* start of each parameter's state within `state` */
    long *steps;      /* updates applied to each parameter so far (PyTorch keeps
                       * one count per parameter: one without a gradient is skipped) */
};

dc_adam_opts dc_adam_defaults(void)
{
    return (dc_adam_opts){.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                          .weight_decay = 0.0f};
}

static int finite_nonneg(float x)
{
    return isfinite(x) && x >= 0.0f;
}

static dc_optim *optim_new(dc_params *p, optim_kind kind, int slots)
{
    dc_optim *o = dc_calloc(1, sizeof *o, "optimizer");
    size_t total = 0;

    if (!o)
        return NULL;
    o->kind = kind;
    o->params = p;
    o->offset = dc_calloc((size_t)p->n, sizeof *o->offset, "optimizer offsets");
    o->steps = dc_calloc((size_t)p->n, sizeof *o->steps, "optimizer step counts");
    for (int i = 0; i < p->n; i++) {
        o->offset[i] = total;
        total += (size_t)slots * p->items[i].tensor->size;
    }
    o->state = dc_calloc(total, sizeof(float), "optimizer state");
    if (!o->offset || !o->steps || !o->state) {
        dc_optim_free(o);
        return NULL;
    }
    return o;
}

dc_optim *dc_sgd_new(dc_params *p, dc_sgd_opts opts)
{
    dc_optim *o;

    if (!finite_nonneg(opts.lr) || !finite_nonneg(opts.momentum)
        || !finite_nonneg(opts.weight_decay) || !finite_nonneg(opts.dampening)) {
        dc_fail(DC_ERR_ARG, "sgd: lr %g, momentum %g, dampening %g, weight_decay %g: "
                "expected finite values >= 0", opts.lr, opts.momentum, opts.dampening,
                opts.weight_decay);
        return NULL;
    }
    if (opts.nesterov && (opts.momentum <= 0.0f || opts.dampening != 0.0f)) {
        dc_fail(DC_ERR_ARG, "sgd: nesterov needs momentum > 0 and dampening 0");
        return NULL;
    }
    o = optim_new(p, KIND_SGD, opts.momentum > 0.0f ? 1 : 0);
    if (o)
        o->sgd = opts;
    return o;
}

static dc_optim *adam_common(dc_params *p, dc_adam_opts opts, optim_kind kind)
{
    dc_optim *o;

    if (!finite_nonneg(opts.lr) || !finite_nonneg(opts.eps)
        || !finite_nonneg(opts.weight_decay) || !(opts.beta1 >= 0.0f && opts.beta1 < 1.0f)
        || !(opts.beta2 >= 0.0f && opts.beta2 < 1.0f)) {
        dc_fail(DC_ERR_ARG, "adam: lr %g, betas (%g, %g), eps %g, weight_decay %g: "
                "expected lr, eps, weight_decay >= 0 and betas in [0,1)", opts.lr,
                opts.beta1, opts.beta2, opts.eps, opts.weight_decay);
        return NULL;
    }
    o = optim_new(p, kind, 2);
    if (o)
        o->adam = opts;
    return o;
}

dc_optim *dc_adam_new(dc_params *p, dc_adam_opts opts)
{
    return adam_common(p, opts, KIND_ADAM);
}

dc_optim *dc_adamw_new(dc_params *p, dc_adam_opts opts)
{
    return adam_common(p, opts, KIND_ADAMW);
}

void dc_optim_free(dc_optim *o)
{
    if (!o)
        return;
    free(o->state);
    free(o->offset);
    free(o->steps);
    free(o);
}

/* Plain SGD gets its own loop. With the momentum test inside one loop the compiler turns
 * it into masked vector loads of the momentum buffer, and plain SGD has no buffer: every
 * fully masked load of that unmapped address took a microcode assist, 80% of a step. */
static void sgd_plain_update(const dc_sgd_opts *s, float *restrict w,
                             const float *restrict grad, long n)
{
    float lr = s->lr, wd = s->weight_decay;

    #pragma omp parallel for if (n > 65536) schedule(static)
    for (long j = 0; j < n; j++)
        w[j] -= lr * (grad[j] + wd * w[j]);
}

static void sgd_momentum_update(const dc_sgd_opts *s, float *restrict w,
                                const float *restrict grad, float *restrict buf, long n,
                                int first)
{
    float lr = s->lr, wd = s->weight_decay, mu = s->momentum, keep = 1.0f - s->dampening;
    int nesterov = s->nesterov;

    #pragma omp parallel for if (n > 65536) schedule(static)
    for (long j = 0; j < n; j++) {
        float g = grad[j] + wd * w[j];
        buf[j] = first ? g : mu * buf[j] + keep * g;
        w[j] -= lr * (nesterov ? g + mu * buf[j] : buf[j]);
    }
}

static void sgd_update(dc_optim *o, int i, dc_tensor *t)
{
    if (o->sgd.momentum > 0.0f)
        sgd_momentum_update(&o->sgd, t->data, t->grad, o->state + o->offset[i],
                            (long)t->size, o->steps[i] == 1);
    else
        sgd_plain_update(&o->sgd, t->data, t->grad, (long)t->size);
}

static void adam_update(dc_optim *o, int i, dc_tensor *t)
{
    const dc_adam_opts *a = &o->adam;
    float *m = o->state + o->offset[i], *v = m + t->size;
    double bc1 = 1.0 - pow(a->beta1, (double)o->steps[i]);
    double bc2 = 1.0 - pow(a->beta2, (double)o->steps[i]);
    float step_size = (float)(a->lr / bc1), bc2_sqrt = (float)sqrt(bc2);
    float wd = o->kind == KIND_ADAM ? a->weight_decay : 0.0f;
    float decay = o->kind == KIND_ADAMW ? 1.0f - a->lr * a->weight_decay : 1.0f;
    long n = (long)t->size;

    #pragma omp parallel for if (n > 65536) schedule(static)
    for (long j = 0; j < n; j++) {
        float g = t->grad[j] + wd * t->data[j];
        m[j] = a->beta1 * m[j] + (1.0f - a->beta1) * g;
        v[j] = a->beta2 * v[j] + (1.0f - a->beta2) * g * g;
        t->data[j] = t->data[j] * decay
                     - step_size * m[j] / (sqrtf(v[j]) / bc2_sqrt + a->eps);
    }
}

void dc_optim_step(dc_optim *o)
{
    for (int i = 0; i < o->params->n; i++) {
        dc_tensor *t = o->params->items[i].tensor;
        if (!t->requires_grad || !t->grad)
            continue;
        o->steps[i]++;
        if (o->kind == KIND_SGD)
            sgd_update(o, i, t);
        else
            adam_update(o, i, t);
    }
}

void dc_optim_zero_grad(dc_optim *o)
{
    dc_params_zero_grad(o->params);
}

float dc_optim_lr(const dc_optim *o)
{
    return o->kind == KIND_SGD ? o->sgd.lr : o->adam.lr;
}

void dc_optim_set_lr(dc_optim *o, float lr)
{
    if (o->kind == KIND_SGD)
        o->sgd.lr = lr;
    else
        o->adam.lr = lr;
}

float dc_lr_step(float base, int epoch, int step_size, float gamma)
{
    return base * powf(gamma, (float)(epoch / (step_size > 0 ? step_size : 1)));
}

float dc_lr_cosine(float base, float eta_min, int t, int t_max)
{
    return eta_min + (base - eta_min) * 0.5f * (1.0f + cosf((float)M_PI * t / t_max));
}
