/* dropout.c - inverted dropout (torch.nn.functional.dropout): in training each element
 * is zeroed with probability p and the survivors are scaled by 1 / (1 - p), so the
 * expected output equals the input and evaluation needs no rescaling.
 * The mask is drawn serially from the caller's dc_rng (the same seed gives the same mask
 * whatever the thread count), stored as 0 or 1 / (1 - p) per element, and reused as is
 * by backward. The numbers differ from PyTorch's, whose generator is another. */
#include "ops/tape.h"

#define PAR_MIN 32768

static void dropout_backward(dc_node *node)
{
    const float *mask = node->saved, *g = node->out->grad;
    float *gx = dc_node_in_grad(node, 0);
    long n = (long)node->out->size;

    #pragma omp parallel for if (n > PAR_MIN) schedule(static)
    for (long i = 0; i < n; i++)
        gx[i] += g[i] * mask[i];
}

dc_tensor *dc_dropout(dc_tensor *x, float p, int training, dc_rng *rng)
{
    dc_tensor *y;
    dc_node *node;
    float *mask, scale;

    if (!(p >= 0.0f && p <= 1.0f)) {
        dc_fail(DC_ERR_ARG, "dropout: p = %g, expected 0 <= p <= 1", p);
        return NULL;
    }
    if (!training || p == 0.0f)
        return x;
    if (!rng) {
        dc_fail(DC_ERR_ARG, "dropout: training with p = %g needs a dc_rng, got NULL", p);
        return NULL;
    }

    /* p = 1 drops everything; the scale would be infinite, and 0 * inf is NaN. */
    scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    mask = dc_arena_alloc(x->size * sizeof *mask);
    for (size_t i = 0; i < x->size; i++)
        mask[i] = dc_rng_uniform(rng) >= p ? scale : 0.0f;

    y = dc_tensor_tmp(x->ndim, x->shape);
    for (size_t i = 0; i < x->size; i++)
        y->data[i] = x->data[i] * mask[i];
    node = dc_record("dropout", dropout_backward, y, 1, (dc_tensor *[]){x});
    if (node)
        node->saved = mask;
    return y;
}
