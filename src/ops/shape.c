/* shape.c - reshape and flatten: the same data under another shape. The output shares
 * its input's data; its gradient is a separate buffer that backward adds back. */
#include "ops/tape.h"

static void reshape_backward(dc_node *node)
{
    float *gx = dc_node_in_grad(node, 0);
    const float *g = node->out->grad;
    size_t n = node->out->size;

    for (size_t i = 0; i < n; i++)
        gx[i] += g[i];
}

dc_tensor *dc_reshape(dc_tensor *x, int ndim, const int *shape)
{
    char sx[64];
    dc_tensor *y = dc_tensor_view(x, ndim, shape);

    if (!y) {
        dc_tensor probe = {.ndim = ndim};
        char sy[64];
        for (int i = 0; i < ndim && i < DC_MAX_DIMS; i++)
            probe.shape[i] = shape[i];
        dc_fail(DC_ERR_SHAPE, "reshape: cannot view %s as %s",
                dc_shape_str(x, sx, sizeof sx), dc_shape_str(&probe, sy, sizeof sy));
        return NULL;
    }
    dc_record("reshape", reshape_backward, y, 1, (dc_tensor *[]){x});
    return y;
}

dc_tensor *dc_flatten(dc_tensor *x)
{
    int rest = x->ndim > 0 ? (int)(x->size / (size_t)x->shape[0]) : 1;

    return dc_reshape(x, 2, (int[]){x->ndim > 0 ? x->shape[0] : 1, rest});
}

void dc_argmax_rows(const dc_tensor *x, int *out)
{
    int n = x->shape[0], k = (int)(x->size / (size_t)n);

    for (int i = 0; i < n; i++) {
        const float *row = x->data + (size_t)i * k;
        int best = 0;
        for (int j = 1; j < k; j++)
            if (row[j] > row[best])
                best = j;
        out[i] = best;
    }
}
