/* norm.c - batch normalisation over dimension 1 (nn.BatchNorm1d / BatchNorm2d), forward
 * and backward in training mode (batch statistics) and evaluation mode (running ones).
 *
 * The input is read as [n, c, s]: s = 1 for [n,c], s = l for [n,c,l], s = h*w for
 * [n,c,h,w]. Channels are independent, so they run in parallel, and each channel's sums
 * go through its rows in one fixed order (float vector lanes per row, double across
 * rows): the result does not depend on the thread count.
 * Training follows PyTorch exactly: normalise with the biased batch variance, then
 * running = (1 - momentum) running + momentum batch, with the unbiased variance.
 * Limitation: momentum = None (a cumulative average) is not offered; pass a number. */
#include <math.h>

#include "ops/tape.h"

#define PAR_MIN 32768

/* What backward needs: the statistics used (batch or running), copied, so a later
 * update of the running buffers does not change this step's gradient. */
typedef struct bn_saved {
    int n, c;
    size_t s;
    int training;
    float *mean;    /* [c] */
    float *invstd;  /* [c], 1 / sqrt(var + eps) */
} bn_saved;

/* ---- shape check ---- */

/* A [c] parameter or buffer, or NULL when absent. */
static dc_status bn_check_vector(const dc_tensor *x, const dc_tensor *v, const char *what)
{
    char sx[64], sv[64];

    if (!v || (v->ndim == 1 && v->shape[0] == x->shape[1]))
        return DC_OK;
    return dc_fail(DC_ERR_SHAPE, "batch_norm: %s %s for input %s, expected [%d]", what,
                   dc_shape_str(v, sv, sizeof sv), dc_shape_str(x, sx, sizeof sx),
                   x->shape[1]);
}

static dc_status bn_check(const dc_tensor *x, const dc_tensor *gamma,
                          const dc_tensor *beta, const dc_tensor *rmean,
                          const dc_tensor *rvar, int training, float momentum, float eps)
{
    char sx[64];

    dc_shape_str(x, sx, sizeof sx);
    if (x->ndim < 2 || x->ndim > 4)
        return dc_fail(DC_ERR_SHAPE, "batch_norm: input %s, expected [n,c], [n,c,l] or "
                       "[n,c,h,w]", sx);
    if (bn_check_vector(x, gamma, "weight") != DC_OK
        || bn_check_vector(x, beta, "bias") != DC_OK
        || bn_check_vector(x, rmean, "running_mean") != DC_OK
        || bn_check_vector(x, rvar, "running_var") != DC_OK)
        return DC_ERR_SHAPE;
    if (!rmean != !rvar)
        return dc_fail(DC_ERR_ARG, "batch_norm: running_mean and running_var must be "
                       "given together");
    if (!training && !rmean)
        return dc_fail(DC_ERR_ARG, "batch_norm: evaluation mode needs running_mean and "
                       "running_var");
    if (training && x->size / (size_t)x->shape[1] < 2)
        return dc_fail(DC_ERR_SHAPE, "batch_norm: expected more than 1 value per channel "
                       "when training, got input %s", sx);
    if (!(momentum >= 0.0f && momentum <= 1.0f) || !(eps > 0.0f))
        return dc_fail(DC_ERR_ARG, "batch_norm: momentum %g, eps %g, expected momentum "
                       "in [0,1] and eps > 0", momentum, eps);
    return DC_OK;
}

/* ---- forward ---- */

/* The row of channel ch in image i: s contiguous values. */
static inline const float *bn_row(const float *x, const bn_saved *b, int i, int ch)
{
    return x + ((size_t)i * b->c + ch) * b->s;
}

/* Mean and biased variance of one channel, two passes (the second over centred
 * values, which keeps the variance accurate when the mean is large). */
static void bn_channel_stats(const float *x, const bn_saved *b, int ch, double *mean,
                             double *var)
{
    double acc = 0.0, m = (double)b->n * b->s;
    float mf;

    for (int i = 0; i < b->n; i++) {
        const float *r = bn_row(x, b, i, ch);
        float t = 0.0f;
        #pragma omp simd reduction(+ : t)
        for (size_t k = 0; k < b->s; k++)
            t += r[k];
        acc += t;
    }
    *mean = acc / m;
    mf = (float)*mean;

    acc = 0.0;
    for (int i = 0; i < b->n; i++) {
        const float *r = bn_row(x, b, i, ch);
        float t = 0.0f;
        #pragma omp simd reduction(+ : t)
        for (size_t k = 0; k < b->s; k++)
            t += (r[k] - mf) * (r[k] - mf);
        acc += t;
    }
    *var = acc / m;
}

/* y = x a + (beta - mean a) with a = gamma invstd: the form PyTorch's CPU kernel uses. */
static void bn_channel_apply(const float *x, const bn_saved *b, int ch, float gamma,
                             float beta, float *y)
{
    float a = gamma * b->invstd[ch], shift = beta - b->mean[ch] * a;

    for (int i = 0; i < b->n; i++) {
        const float *r = bn_row(x, b, i, ch);
        float *yr = y + (r - x);
        for (size_t k = 0; k < b->s; k++)
            yr[k] = r[k] * a + shift;
    }
}

/* Batch statistics of one channel into b, and its running buffers (if any) moved
 * towards them. */
static void bn_channel_train(const float *x, bn_saved *b, int ch, float *rmean,
                             float *rvar, float momentum, float eps)
{
    double m = (double)b->n * b->s, mean, var;

    bn_channel_stats(x, b, ch, &mean, &var);
    b->mean[ch] = (float)mean;
    b->invstd[ch] = (float)(1.0 / sqrt(var + eps));
    if (rmean) {
        rmean[ch] = (float)((1.0 - momentum) * rmean[ch] + momentum * mean);
        rvar[ch] = (float)((1.0 - momentum) * rvar[ch] + momentum * var * m / (m - 1.0));
    }
}

/* Every channel's statistics, then its output, while its rows are still in cache. */
static void bn_forward(const dc_tensor *x, bn_saved *b, const dc_tensor *gamma,
                       const dc_tensor *beta, float *rmean, float *rvar, float momentum,
                       float eps, float *y)
{
    #pragma omp parallel for schedule(static) if (x->size > PAR_MIN)
    for (int ch = 0; ch < b->c; ch++) {
        if (b->training) {
            bn_channel_train(x->data, b, ch, rmean, rvar, momentum, eps);
        } else {
            b->mean[ch] = rmean[ch];
            b->invstd[ch] = (float)(1.0 / sqrt((double)rvar[ch] + eps));
        }
        bn_channel_apply(x->data, b, ch, gamma ? gamma->data[ch] : 1.0f,
                         beta ? beta->data[ch] : 0.0f, y);
    }
}

/* ---- backward ---- */

/* Sum of dy and of dy (x - mean) over one channel. */
static void bn_channel_sums(const float *x, const float *dy, const bn_saved *b, int ch,
                            double *sum_dy, double *dot)
{
    float mean = b->mean[ch];

    *sum_dy = 0.0;
    *dot = 0.0;
    for (int i = 0; i < b->n; i++) {
        const float *r = bn_row(x, b, i, ch), *d = dy + (r - x);
        float t = 0.0f, u = 0.0f;
        #pragma omp simd reduction(+ : t, u)
        for (size_t k = 0; k < b->s; k++) {
            t += d[k];
            u += d[k] * (r[k] - mean);
        }
        *sum_dy += t;
        *dot += u;
    }
}

/* Training: dx = gamma invstd (dy - mean(dy) - xhat mean(dy xhat)), the batch
 * statistics being functions of x. Evaluation: dx = gamma invstd dy. */
static void bn_channel_dx(const float *x, const float *dy, const bn_saved *b, int ch,
                          float gamma, double sum_dy, double dot, float *dx)
{
    double m = (double)b->n * b->s;
    float mean = b->mean[ch], invstd = b->invstd[ch], scale = gamma * invstd;
    float gmean = b->training ? (float)(sum_dy / m) : 0.0f;
    float proj = b->training ? (float)(dot / m) * invstd * invstd : 0.0f;

    for (int i = 0; i < b->n; i++) {
        const float *r = bn_row(x, b, i, ch), *d = dy + (r - x);
        float *g = dx + (r - x);
        for (size_t k = 0; k < b->s; k++)
            g[k] += (d[k] - gmean - (r[k] - mean) * proj) * scale;
    }
}

static void batch_norm_backward(dc_node *node)
{
    const bn_saved *b = node->saved;
    const float *x = node->in[0]->data, *dy = node->out->grad;
    const dc_tensor *gamma = node->in[1];
    float *dx = dc_node_in_grad(node, 0), *dg = dc_node_in_grad(node, 1);
    float *db = dc_node_in_grad(node, 2);

    #pragma omp parallel for schedule(static) if (node->out->size > PAR_MIN)
    for (int ch = 0; ch < b->c; ch++) {
        double sum_dy, dot;
        bn_channel_sums(x, dy, b, ch, &sum_dy, &dot);
        if (dg)
            dg[ch] += (float)(dot * b->invstd[ch]);
        if (db)
            db[ch] += (float)sum_dy;
        if (dx)
            bn_channel_dx(x, dy, b, ch, gamma ? gamma->data[ch] : 1.0f, sum_dy, dot, dx);
    }
}

/* ---- the op ---- */

dc_tensor *dc_batch_norm(dc_tensor *x, dc_tensor *gamma, dc_tensor *beta,
                         dc_tensor *running_mean, dc_tensor *running_var, int training,
                         float momentum, float eps)
{
    bn_saved *b;
    dc_tensor *y;
    dc_node *node;

    if (bn_check(x, gamma, beta, running_mean, running_var, training, momentum, eps)
        != DC_OK)
        return NULL;
    b = dc_arena_alloc(sizeof *b);
    *b = (bn_saved){.n = x->shape[0], .c = x->shape[1], .training = training};
    b->s = x->size / ((size_t)b->n * b->c);
    b->mean = dc_arena_alloc(2 * (size_t)b->c * sizeof(float));
    b->invstd = b->mean + b->c;
    y = dc_tensor_tmp(x->ndim, x->shape);

    bn_forward(x, b, gamma, beta, running_mean ? running_mean->data : NULL,
               running_var ? running_var->data : NULL, momentum, eps, y->data);

    node = dc_record("batch_norm", batch_norm_backward, y, 3,
                     (dc_tensor *[]){x, gamma, beta});
    if (node)
        node->saved = b;
    return y;
}
