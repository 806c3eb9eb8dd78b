/* reduce.c - sum and mean of all elements. Sums accumulate in double, in a fixed order,
 * so the result does not depend on the thread count. */
#include "ops/tape.h"

static double sum_all(const float *x, size_t n)
{
    double s = 0.0;

    for (size_t i = 0; i < n; i++)
        s += x[i];
    return s;
}

/* Every input element receives g * scale (scale = 1 for sum, 1/n for mean). */
static void reduce_backward(dc_node *node)
{
    float *gx = dc_node_in_grad(node, 0);
    float g = node->out->grad[0] * node->fparam[0];
    size_t n = node->in[0]->size;

    for (size_t i = 0; i < n; i++)
        gx[i] += g;
}

static dc_tensor *reduce(dc_tensor *x, int mean)
{
    dc_tensor *y = dc_tensor_tmp(1, (int[]){1});
    double s = sum_all(x->data, x->size);
    dc_node *node;

    y->data[0] = (float)(mean ? s / (double)x->size : s);
    node = dc_record(mean ? "mean" : "sum", reduce_backward, y, 1, (dc_tensor *[]){x});
    if (node)
        node->fparam[0] = mean ? 1.0f / (float)x->size : 1.0f;
    return y;
}

dc_tensor *dc_sum(dc_tensor *x)  { return reduce(x, 0); }
dc_tensor *dc_mean(dc_tensor *x) { return reduce(x, 1); }
