/* act.c - element-wise activations and softmax / log-softmax over the last dimension.
 * Each backward reads what it needs from the node: the input x, the output y, or both
 * (sigmoid and tanh differentiate most cheaply through y). */
#include <math.h>

#include "ops/tape.h"

#define PAR_MIN 32768

typedef enum { ACT_SIGMOID, ACT_RELU, ACT_TANH, ACT_EXP, ACT_LOG } act_kind;

static const char *act_names[] = {"sigmoid", "relu", "tanh", "exp", "log"};

/* One loop per kind, so that each is a straight loop the compiler vectorises: a switch
 * inside the element loop left a branch per element (5 ns each for ReLU on random
 * signs). */
#define ACT_LOOP(n, i, body)                                                           \
    do {                                                                               \
        _Pragma("omp parallel for if (n > PAR_MIN) schedule(static)")                  \
        for (long i = 0; i < (n); i++) {                                               \
            body;                                                                      \
        }                                                                              \
    } while (0)

static void act_backward(dc_node *node)
{
    act_kind k = (act_kind)node->iparam[0];
    const float *x = node->in[0]->data, *y = node->out->data, *g = node->out->grad;
    float *gx = dc_node_in_grad(node, 0);
    long n = (long)node->out->size;

    switch (k) {
    case ACT_SIGMOID: ACT_LOOP(n, i, gx[i] += g[i] * y[i] * (1.0f - y[i])); break;
    case ACT_RELU:    ACT_LOOP(n, i, gx[i] += x[i] > 0.0f ? g[i] : 0.0f); break;
    case ACT_TANH:    ACT_LOOP(n, i, gx[i] += g[i] * (1.0f - y[i] * y[i])); break;
    case ACT_EXP:     ACT_LOOP(n, i, gx[i] += g[i] * y[i]); break;
    default:          ACT_LOOP(n, i, gx[i] += g[i] / x[i]); break;
    }
}

static dc_tensor *activation(act_kind k, dc_tensor *x)
{
    dc_tensor *out = dc_tensor_tmp(x->ndim, x->shape);
    const float *a = x->data;
    float *y = out->data;
    long n = (long)x->size;
    dc_node *node;

    switch (k) {
    case ACT_SIGMOID: ACT_LOOP(n, i, y[i] = 1.0f / (1.0f + expf(-a[i]))); break;
    case ACT_RELU:    ACT_LOOP(n, i, y[i] = a[i] > 0.0f ? a[i] : 0.0f); break;
    case ACT_TANH:    ACT_LOOP(n, i, y[i] = tanhf(a[i])); break;
    case ACT_EXP:     ACT_LOOP(n, i, y[i] = expf(a[i])); break;
    default:          ACT_LOOP(n, i, y[i] = logf(a[i])); break;
    }
    node = dc_record(act_names[k], act_backward, out, 1, (dc_tensor *[]){x});
    if (node)
        node->iparam[0] = k;
    return out;
}

dc_tensor *dc_sigmoid(dc_tensor *x) { return activation(ACT_SIGMOID, x); }
dc_tensor *dc_relu(dc_tensor *x)    { return activation(ACT_RELU, x); }
dc_tensor *dc_tanh(dc_tensor *x)    { return activation(ACT_TANH, x); }
dc_tensor *dc_exp(dc_tensor *x)     { return activation(ACT_EXP, x); }
dc_tensor *dc_ln(dc_tensor *x)      { return activation(ACT_LOG, x); }

/* Rows of the last dimension: x is viewed as [rows, k]. */
static void row_shape(const dc_tensor *x, long *rows, int *k)
{
    *k = x->ndim > 0 ? x->shape[x->ndim - 1] : 1;
    *rows = (long)(x->size / (size_t)*k);
}

/* Writes log-softmax of one row; subtracting the max keeps exp from overflowing. */
static void log_softmax_row(const float *x, float *y, int k)
{
    float max = x[0];
    double sum = 0.0;

    for (int j = 1; j < k; j++)
        max = x[j] > max ? x[j] : max;
    for (int j = 0; j < k; j++)
        sum += exp((double)(x[j] - max));
    for (int j = 0; j < k; j++)
        y[j] = (float)((double)(x[j] - max) - log(sum));
}

/* dx = y * (g - sum(g * y)) for softmax output y. */
static void softmax_backward(dc_node *node)
{
    const float *y = node->out->data, *g = node->out->grad;
    float *gx = dc_node_in_grad(node, 0);
    long rows;
    int k;

    row_shape(node->out, &rows, &k);
    #pragma omp parallel for if (rows * k > PAR_MIN) schedule(static)
    for (long r = 0; r < rows; r++) {
        const float *yr = y + r * k, *gr = g + r * k;
        double dot = 0.0;
        for (int j = 0; j < k; j++)
            dot += (double)gr[j] * yr[j];
        for (int j = 0; j < k; j++)
            gx[r * k + j] += yr[j] * (gr[j] - (float)dot);
    }
}

/* dx = g - softmax * sum(g), with softmax = exp(y) for log-softmax output y. */
static void log_softmax_backward(dc_node *node)
{
    const float *y = node->out->data, *g = node->out->grad;
    float *gx = dc_node_in_grad(node, 0);
    long rows;
    int k;

    row_shape(node->out, &rows, &k);
    #pragma omp parallel for if (rows * k > PAR_MIN) schedule(static)
    for (long r = 0; r < rows; r++) {
        const float *yr = y + r * k, *gr = g + r * k;
        double sum = 0.0;
        for (int j = 0; j < k; j++)
            sum += gr[j];
        for (int j = 0; j < k; j++)
            gx[r * k + j] += gr[j] - expf(yr[j]) * (float)sum;
    }
}

static dc_tensor *softmax_common(dc_tensor *x, int log_space)
{
    dc_tensor *y = dc_tensor_tmp(x->ndim, x->shape);
    long rows;
    int k;

    row_shape(x, &rows, &k);
    #pragma omp parallel for if (rows * k > PAR_MIN) schedule(static)
    for (long r = 0; r < rows; r++) {
        float *yr = y->data + r * k;
        log_softmax_row(x->data + r * k, yr, k);
        if (!log_space)
            for (int j = 0; j < k; j++)
                yr[j] = expf(yr[j]);
    }
    if (log_space)
        dc_record("log_softmax", log_softmax_backward, y, 1, (dc_tensor *[]){x});
    else
        dc_record("softmax", softmax_backward, y, 1, (dc_tensor *[]){x});
    return y;
}

dc_tensor *dc_softmax(dc_tensor *x)     { return softmax_common(x, 0); }
dc_tensor *dc_log_softmax(dc_tensor *x) { return softmax_common(x, 1); }
