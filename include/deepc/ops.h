/* ops.h - differentiable operations and reverse-mode autodiff.
 *
 * Every op checks its shapes, computes its output in the step arena and, when grad mode
 * is on and an input requires gradients, records a node on the tape. dc_backward(loss)
 * walks the tape in reverse and accumulates d loss / d t into t->grad for every tensor
 * that requires gradients: parameters and inputs alike (an input marked with
 * requires_grad = 1 gets its gradient too, which is what adversarial attacks need).
 *
 * Ops return NULL on a shape mismatch, with dc_last_error naming the op and both shapes.
 * Results are arena tensors, valid until dc_step_end(). */
#ifndef DEEPC_OPS_H
#define DEEPC_OPS_H

#include "deepc/tensor.h"

/* ---- autodiff ---- */

/* Seeds d loss / d loss = 1 (loss must have one element) and runs every recorded
 * node's backward in reverse order. Gradients accumulate: zero them between steps
 * (dc_optim_zero_grad, or dc_tensor_zero_grad). */
dc_status dc_backward(dc_tensor *loss);

/* Turns recording on or off; returns the previous setting. Off = no tape, no saved
 * buffers: evaluation and attacks' forward passes. */
int dc_grad_enabled(int on);
int dc_grad_is_enabled(void);

/* Number of nodes on the tape (for tests). */
int dc_tape_size(void);

/* ---- matrix products (src/ops/matmul.c) ---- */

/* C = A B with A [m,k], B [k,n] -> [m,n]; through cblas_sgemm. */
dc_tensor *dc_matmul(dc_tensor *a, dc_tensor *b);

/* The raw kernel, without the tape: C = alpha op(A) op(B) + beta C, row-major, where
 * op(X) is X or X^T as trans_x says; op(A) is [m,k], op(B) [k,n], C [m,n]. For code that
 * writes its own backward pass by hand. */
void dc_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
              const float *b, float beta, float *c);

/* y = x W^T + b, the affine map of nn.Linear: x [n,in], w [out,in], b [out] or NULL. */
dc_tensor *dc_linear(dc_tensor *x, dc_tensor *w, dc_tensor *b);

/* ---- element-wise arithmetic with broadcasting (src/ops/arith.c) ---- */

/* NumPy/PyTorch broadcasting: shapes are aligned from the right, and a dimension of 1
 * (or a missing one) stretches to match. The gradient of a stretched input is summed
 * over the stretched dimensions. */
dc_tensor *dc_add(dc_tensor *a, dc_tensor *b);
dc_tensor *dc_sub(dc_tensor *a, dc_tensor *b);
dc_tensor *dc_mul(dc_tensor *a, dc_tensor *b);
dc_tensor *dc_div(dc_tensor *a, dc_tensor *b);

/* y = s * x */
dc_tensor *dc_scale(dc_tensor *x, float s);

/* y = x + s */
dc_tensor *dc_add_scalar(dc_tensor *x, float s);

/* ---- activations (src/ops/act.c) ---- */

dc_tensor *dc_sigmoid(dc_tensor *x);  /* 1 / (1 + e^-x) */
dc_tensor *dc_relu(dc_tensor *x);     /* max(x, 0); gradient 0 at x = 0, as PyTorch */
dc_tensor *dc_tanh(dc_tensor *x);
dc_tensor *dc_exp(dc_tensor *x);
dc_tensor *dc_ln(dc_tensor *x);       /* natural log (torch.log); x must be > 0 */

/* Softmax and log-softmax over the last dimension. */
dc_tensor *dc_softmax(dc_tensor *x);
dc_tensor *dc_log_softmax(dc_tensor *x);

/* ---- reductions (src/ops/reduce.c) ---- */

dc_tensor *dc_sum(dc_tensor *x);   /* sum of all elements -> [1] */
dc_tensor *dc_mean(dc_tensor *x);  /* mean of all elements -> [1] */

/* ---- losses (src/ops/loss.c) ---- */

/* Mean cross-entropy of logits [n,k] against class indices labels[n] in [0,k), with
 * optional label smoothing s in [0,1): the target is (1-s) one-hot + s/k uniform, as
 * torch.nn.CrossEntropyLoss(label_smoothing=s). Returns [1]; NULL with a message on a
 * label out of range or a bad shape. */
dc_tensor *dc_cross_entropy(dc_tensor *logits, const int *labels, float smoothing);

/* ---- shapes (src/ops/shape.c) ---- */

/* The same data read with another shape of equal size; gradients flow through. */
dc_tensor *dc_reshape(dc_tensor *x, int ndim, const int *shape);

/* [n, ...] -> [n, rest] */
dc_tensor *dc_flatten(dc_tensor *x);

/* ---- helpers for experiments ---- */

/* Index of the largest of each row of x [n,k] into out[n]. */
void dc_argmax_rows(const dc_tensor *x, int *out);

/* ---- convolutional networks (src/ops/conv.c, pool.c, norm.c, dropout.c) ---- */

/* 2-D cross-correlation, torch.nn.functional.conv2d with dilation 1 and zero padding:
 *   y[n,o,i,j] = b[o] + sum_{c,u,v} w[o,c,u,v] x[n, g*C/groups + c, i*s+u-p, j*s+v-p]
 * where g = o / (O/groups) is o's group and out-of-range x reads as 0.
 * x [N,C,H,W], w [O, C/groups, KH, KW], b [O] or NULL -> y [N,O,OH,OW] with
 * OH = (H + 2p - KH) / s + 1 (floor), OW likewise. C and O must divide by groups.
 * Depthwise convolution is groups = C = O. NULL with a message (naming every shape) on
 * a mismatch, on stride < 1, padding < 0, groups < 1, or a kernel larger than the
 * padded input. */
dc_tensor *dc_conv2d(dc_tensor *x, dc_tensor *w, dc_tensor *b, int stride, int padding,
                     int groups);

/* Max pooling, torch.nn.functional.max_pool2d(x, kernel, stride, padding) with
 * dilation 1 and ceil_mode False: x [N,C,H,W] -> [N,C,OH,OW], OH = (H + 2p - k)/s + 1.
 * Padding counts as -inf. The gradient goes to the first maximum of each window (in
 * row-major order). NULL with a message on kernel or stride < 1, padding < 0 or
 * padding > kernel / 2 (PyTorch's rule), or a window larger than the padded input. */
dc_tensor *dc_max_pool2d(dc_tensor *x, int kernel, int stride, int padding);

/* Global average pooling: x [N,C,H,W] -> [N,C,1,1], the mean of each plane, as
 * adaptive_avg_pool2d(x, 1).
 * Limitation: only the 1x1 output size exists; other adaptive sizes have no entry
 * point. */
dc_tensor *dc_adaptive_avg_pool2d_1x1(dc_tensor *x);

/* Batch normalisation over dimension 1, torch.nn.functional.batch_norm:
 *   y = (x - mean) / sqrt(var + eps) * gamma + beta, per channel c,
 * x [N,C], [N,C,L] or [N,C,H,W]; gamma, beta, running_mean, running_var [C], gamma and
 * beta may be NULL (affine off: 1 and 0). training: mean and var are the batch's (var
 * biased), and running_mean/var, if given, are updated in place:
 * running = (1 - momentum) running + momentum batch, with the unbiased batch variance.
 * !training: the running statistics are used (they must be given). The running buffers
 * are never recorded on the tape. NULL with a message on a shape mismatch, a training
 * batch with one value per channel, momentum outside [0,1] or eps <= 0. */
dc_tensor *dc_batch_norm(dc_tensor *x, dc_tensor *gamma, dc_tensor *beta,
                         dc_tensor *running_mean, dc_tensor *running_var, int training,
                         float momentum, float eps);

/* Inverted dropout: in training each element is zeroed with probability p (mask drawn
 * from rng) and the rest are scaled by 1/(1-p); backward reuses the mask. Returns x
 * itself (no copy, nothing recorded) when !training or p == 0. NULL with a message on
 * p outside [0,1] or a NULL rng in training. */
dc_tensor *dc_dropout(dc_tensor *x, float p, int training, dc_rng *rng);

#endif
