/* matmul.c - matrix products and the affine map of nn.Linear, through cblas_sgemm.
 * Backward of C = A B: dA += dC B^T, dB += A^T dC; both are sgemm calls with beta = 1,
 * so gradients accumulate in place without temporaries. */
#include <cblas.h>
#include <string.h>

#include "ops/tape.h"

void dc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
              const float *b, float beta, float *c)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, trans_a ? m : k,
                b, trans_b ? k : n, beta, c, n);
}

static void matmul_backward(dc_node *node)
{
    dc_tensor *a = node->in[0], *b = node->in[1];
    const float *g = node->out->grad;
    int m = a->shape[0], k = a->shape[1], n = b->shape[1];
    float *ga = dc_node_in_grad(node, 0), *gb = dc_node_in_grad(node, 1);

    if (ga)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, n,
                    1.0f, g, n, b->data, n, 1.0f, ga, k);
    if (gb)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, n, m,
                    1.0f, a->data, k, g, n, 1.0f, gb, n);
}

dc_tensor *dc_matmul(dc_tensor *a, dc_tensor *b)
{
    char sa[64], sb[64];
    dc_tensor *c;
    int m, k, n;

    if (a->ndim != 2 || b->ndim != 2 || a->shape[1] != b->shape[0]) {
        dc_fail(DC_ERR_SHAPE, "matmul: shapes %s and %s do not multiply, expected [m,k] "
                "and [k,n]", dc_shape_str(a, sa, sizeof sa), dc_shape_str(b, sb, sizeof sb));
        return NULL;
    }
    m = a->shape[0], k = a->shape[1], n = b->shape[1];
    c = dc_tensor_tmp(2, (int[]){m, n});
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k,
                1.0f, a->data, k, b->data, n, 0.0f, c->data, n);
    dc_record("matmul", matmul_backward, c, 2, (dc_tensor *[]){a, b});
    return c;
}

/* x [n,in], w [out,in], bias [out] or NULL; y [n,out]. */
static void linear_backward(dc_node *node)
{
    dc_tensor *x = node->in[0], *w = node->in[1];
    const float *g = node->out->grad;
    int n = x->shape[0], in = x->shape[1], out = w->shape[0];
    float *gx = dc_node_in_grad(node, 0), *gw = dc_node_in_grad(node, 1);
    float *gb = node->n_in > 2 ? dc_node_in_grad(node, 2) : NULL;

    if (gx)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out,
                    1.0f, g, out, w->data, in, 1.0f, gx, in);
    if (gw)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n,
                    1.0f, g, out, x->data, in, 1.0f, gw, in);
    if (gb)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < out; j++)
                gb[j] += g[(size_t)i * out + j];
}

dc_tensor *dc_linear(dc_tensor *x, dc_tensor *w, dc_tensor *b)
{
    char sx[64], sw[64], sb[64];
    dc_tensor *y;
    int n, in, out;

    if (x->ndim != 2 || w->ndim != 2 || x->shape[1] != w->shape[1]
        || (b && (b->ndim != 1 || b->shape[0] != w->shape[0]))) {
        dc_fail(DC_ERR_SHAPE, "linear: input %s, weight %s, bias %s do not fit, expected "
                "[n,in], [out,in], [out]", dc_shape_str(x, sx, sizeof sx),
                dc_shape_str(w, sw, sizeof sw), b ? dc_shape_str(b, sb, sizeof sb) : "none");
        return NULL;
    }
    n = x->shape[0], in = x->shape[1], out = w->shape[0];
    y = dc_tensor_tmp(2, (int[]){n, out});

    /* Start from the bias in every row, then let sgemm add x W^T on top (beta = 1). */
    if (b)
        for (int i = 0; i < n; i++)
            memcpy(y->data + (size_t)i * out, b->data, (size_t)out * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in,
                1.0f, x->data, in, w->data, in, b ? 1.0f : 0.0f, y->data, out);
    dc_record("linear", linear_backward, y, b ? 3 : 2, (dc_tensor *[]){x, w, b});
    return y;
}
