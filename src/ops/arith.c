/* arith.c - element-wise add, sub, mul, div with NumPy broadcasting, and scalar ops.
 *
 * A broadcast is planned once per op: both shapes are right-aligned in DC_MAX_DIMS
 * dimensions and each input gets a stride of 0 along dimensions it is stretched over.
 * Equal shapes take a flat, threaded fast path; other shapes walk the output with an
 * odometer of indices. Backward sums a stretched input's gradient over the stretched
 * dimensions by walking the same odometer. */
#include <string.h>

#include "ops/tape.h"

#define PAR_MIN 32768  /* below this many elements threads cost more than they save */

typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV } binop;

static const char *binop_names[] = {"add", "sub", "mul", "div"};

typedef struct plan {
    int shape[DC_MAX_DIMS];        /* output shape, right-aligned */
    size_t stride[2][DC_MAX_DIMS]; /* element strides of a and b, 0 where stretched */
    size_t size;
    int same;                      /* a and b have the output's shape */
} plan;

static int plan_broadcast(const dc_tensor *a, const dc_tensor *b, plan *p, int *ndim)
{
    const dc_tensor *t[2] = {a, b};

    *ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    p->size = 1;
    for (int d = DC_MAX_DIMS - 1; d >= 0; d--) {
        int k = DC_MAX_DIMS - 1 - d;  /* position counted from the right */
        int da = k < a->ndim ? a->shape[a->ndim - 1 - k] : 1;
        int db = k < b->ndim ? b->shape[b->ndim - 1 - k] : 1;
        if (da != db && da != 1 && db != 1)
            return -1;
        p->shape[d] = da > db ? da : db;
        p->size *= (size_t)p->shape[d];
    }
    for (int i = 0; i < 2; i++) {
        size_t s = 1;
        for (int d = DC_MAX_DIMS - 1; d >= 0; d--) {
            int k = DC_MAX_DIMS - 1 - d;
            int dim = k < t[i]->ndim ? t[i]->shape[t[i]->ndim - 1 - k] : 1;
            p->stride[i][d] = dim == 1 ? 0 : s;
            s *= (size_t)dim;
        }
    }
    p->same = a->size == p->size && b->size == p->size && a->ndim == b->ndim;
    return 0;
}

/* Runs the statements given for every output index i, with ia and ib the offsets it
 * reads in a and b. */
#define FOR_EACH_BROADCAST(p, i, ia, ib, ...)                                         \
    do {                                                                               \
        int idx_[DC_MAX_DIMS] = {0};                                                   \
        size_t ia = 0, ib = 0;                                                         \
        for (size_t i = 0; i < (p)->size; i++) {                                       \
            __VA_ARGS__;                                                               \
            for (int d_ = DC_MAX_DIMS - 1; d_ >= 0; d_--) {                            \
                ia += (p)->stride[0][d_];                                              \
                ib += (p)->stride[1][d_];                                              \
                if (++idx_[d_] < (p)->shape[d_])                                       \
                    break;                                                             \
                ia -= (p)->stride[0][d_] * (size_t)(p)->shape[d_];                     \
                ib -= (p)->stride[1][d_] * (size_t)(p)->shape[d_];                     \
                idx_[d_] = 0;                                                          \
            }                                                                          \
        }                                                                              \
    } while (0)

static inline float apply(binop op, float x, float y)
{
    switch (op) {
    case OP_ADD: return x + y;
    case OP_SUB: return x - y;
    case OP_MUL: return x * y;
    default:     return x / y;
    }
}

static void binary_forward(binop op, const plan *p, const float *a, const float *b,
                           float *y)
{
    if (p->same) {
        long n = (long)p->size;
        #pragma omp parallel for if (n > PAR_MIN) schedule(static)
        for (long i = 0; i < n; i++)
            y[i] = apply(op, a[i], b[i]);
        return;
    }
    FOR_EACH_BROADCAST(p, i, ia, ib, y[i] = apply(op, a[ia], b[ib]));
}

/* d/da and d/db of each op, given g = dL/dy at one element. */
static void binary_grads(binop op, float g, float x, float y, float *dx, float *dy)
{
    switch (op) {
    case OP_ADD: *dx = g; *dy = g; break;
    case OP_SUB: *dx = g; *dy = -g; break;
    case OP_MUL: *dx = g * y; *dy = g * x; break;
    default:     *dx = g / y; *dy = -g * x / (y * y); break;
    }
}

static void binary_backward(dc_node *node)
{
    binop op = (binop)node->iparam[0];
    const plan *p = node->saved;
    const float *a = node->in[0]->data, *b = node->in[1]->data, *g = node->out->grad;
    float *ga = dc_node_in_grad(node, 0), *gb = dc_node_in_grad(node, 1);

    FOR_EACH_BROADCAST(p, i, ia, ib, {
        float dx, dy;
        binary_grads(op, g[i], a[ia], b[ib], &dx, &dy);
        if (ga)
            ga[ia] += dx;
        if (gb)
            gb[ib] += dy;
    });
}

static dc_tensor *binary(binop op, dc_tensor *a, dc_tensor *b)
{
    plan p, *saved;
    int ndim, shape[DC_MAX_DIMS];
    char sa[64], sb[64];
    dc_tensor *y;
    dc_node *node;

    if (plan_broadcast(a, b, &p, &ndim) != 0) {
        dc_fail(DC_ERR_SHAPE, "%s: shapes %s and %s do not broadcast", binop_names[op],
                dc_shape_str(a, sa, sizeof sa), dc_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    for (int d = 0; d < ndim; d++)
        shape[d] = p.shape[DC_MAX_DIMS - ndim + d];
    y = dc_tensor_tmp(ndim, shape);
    binary_forward(op, &p, a->data, b->data, y->data);

    node = dc_record(binop_names[op], binary_backward, y, 2, (dc_tensor *[]){a, b});
    if (node) {
        saved = dc_arena_alloc(sizeof *saved);
        *saved = p;
        node->saved = saved;
        node->iparam[0] = op;
    }
    return y;
}

dc_tensor *dc_add(dc_tensor *a, dc_tensor *b) { return binary(OP_ADD, a, b); }
dc_tensor *dc_sub(dc_tensor *a, dc_tensor *b) { return binary(OP_SUB, a, b); }
dc_tensor *dc_mul(dc_tensor *a, dc_tensor *b) { return binary(OP_MUL, a, b); }
dc_tensor *dc_div(dc_tensor *a, dc_tensor *b) { return binary(OP_DIV, a, b); }

/* y = s x + t: one affine op serves both dc_scale and dc_add_scalar. */
static void affine_backward(dc_node *node)
{
    float s = node->fparam[0], *gx = dc_node_in_grad(node, 0);
    const float *g = node->out->grad;
    long n = (long)node->out->size;

    #pragma omp parallel for if (n > PAR_MIN) schedule(static)
    for (long i = 0; i < n; i++)
        gx[i] += s * g[i];
}

static dc_tensor *affine(dc_tensor *x, float s, float t)
{
    dc_tensor *y = dc_tensor_tmp(x->ndim, x->shape);
    long n = (long)x->size;
    dc_node *node;

    #pragma omp parallel for if (n > PAR_MIN) schedule(static)
    for (long i = 0; i < n; i++)
        y->data[i] = s * x->data[i] + t;
    node = dc_record("affine", affine_backward, y, 1, (dc_tensor *[]){x});
    if (node)
        node->fparam[0] = s;
    return y;
}

dc_tensor *dc_scale(dc_tensor *x, float s) { return affine(x, s, 0.0f); }
dc_tensor *dc_add_scalar(dc_tensor *x, float s) { return affine(x, 1.0f, s); }
