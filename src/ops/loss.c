/* loss.c - cross-entropy over class indices, with optional label smoothing.
 *
 * For logits z [n,k], labels y and smoothing s, with p = softmax(z) and target
 * q = (1-s) onehot(y) + s/k:  loss = mean_i  -sum_j q_ij log p_ij,
 * and d loss / d z_ij = (p_ij - q_ij) / n. The forward keeps p for the backward. */
#include <math.h>
#include <string.h>

#include "ops/tape.h"

typedef struct ce_saved {
    float *prob;  /* [n,k] */
    int *labels;  /* [n], copied: the caller's array may change before backward */
} ce_saved;

static void cross_entropy_backward(dc_node *node)
{
    const ce_saved *sv = node->saved;
    dc_tensor *z = node->in[0];
    int n = z->shape[0], k = z->shape[1];
    float s = node->fparam[0], scale = node->out->grad[0] / (float)n;
    float *gz = dc_node_in_grad(node, 0);

    for (int i = 0; i < n; i++) {
        const float *p = sv->prob + (size_t)i * k;
        float *g = gz + (size_t)i * k;
        for (int j = 0; j < k; j++) {
            float q = s / (float)k + (j == sv->labels[i] ? 1.0f - s : 0.0f);
            g[j] += scale * (p[j] - q);
        }
    }
}

/* The loss of one row, given its logits; writes the row's softmax into prob. */
static double row_loss(const float *z, int k, int label, float s, float *prob)
{
    float max = z[0];
    double sum = 0.0, logsum, all = 0.0;

    for (int j = 1; j < k; j++)
        max = z[j] > max ? z[j] : max;
    for (int j = 0; j < k; j++)
        sum += exp((double)(z[j] - max));
    logsum = log(sum);
    for (int j = 0; j < k; j++) {
        double logp = (double)(z[j] - max) - logsum;
        prob[j] = (float)exp(logp);
        all += logp;
    }
    return -(1.0 - s) * ((double)(z[label] - max) - logsum) - s / k * all;
}

static int check_args(const dc_tensor *z, const int *labels, float s)
{
    char sz[64];

    if (z->ndim != 2)
        return dc_fail(DC_ERR_SHAPE, "cross_entropy: logits %s, expected [n,classes]",
                       dc_shape_str(z, sz, sizeof sz));
    if (!(s >= 0.0f && s < 1.0f))
        return dc_fail(DC_ERR_ARG, "cross_entropy: label smoothing %g, expected [0,1)", s);
    for (int i = 0; i < z->shape[0]; i++)
        if (labels[i] < 0 || labels[i] >= z->shape[1])
            return dc_fail(DC_ERR_ARG, "cross_entropy: label %d at row %d, expected 0 to %d",
                           labels[i], i, z->shape[1] - 1);
    return DC_OK;
}

dc_tensor *dc_cross_entropy(dc_tensor *z, const int *labels, float smoothing)
{
    dc_tensor *loss;
    ce_saved *sv;
    dc_node *node;
    double total = 0.0;
    int n, k;

    if (check_args(z, labels, smoothing) != DC_OK)
        return NULL;
    n = z->shape[0], k = z->shape[1];
    sv = dc_arena_alloc(sizeof *sv);
    sv->prob = dc_arena_alloc((size_t)n * k * sizeof(float));
    sv->labels = dc_arena_alloc((size_t)n * sizeof(int));
    memcpy(sv->labels, labels, (size_t)n * sizeof(int));

    for (int i = 0; i < n; i++)
        total += row_loss(z->data + (size_t)i * k, k, labels[i], smoothing,
                          sv->prob + (size_t)i * k);
    loss = dc_tensor_tmp(1, (int[]){1});
    loss->data[0] = (float)(total / n);

    node = dc_record("cross_entropy", cross_entropy_backward, loss, 1, (dc_tensor *[]){z});
    if (node) {
        node->saved = sv;
        node->fparam[0] = smoothing;
    }
    return loss;
}
