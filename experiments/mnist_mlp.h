/* mnist_mlp.h - course part 1's network written out by hand: 784-128-10, sigmoid hidden
 * layer, softmax cross-entropy, plain mini-batch SGD. No tape, no library activation,
 * loss or optimizer: the forward pass, the loss, the backward pass and the update are
 * spelled out on raw arrays, as the course demands. Exposed so that tests can compare
 * its gradients with the tape's. */
#ifndef DEEPC_EXPERIMENTS_MNIST_MLP_H
#define DEEPC_EXPERIMENTS_MNIST_MLP_H

#include "deepc/tensor.h"

typedef struct mlp_manual {
    int in, hidden, out;
    dc_tensor *w1, *b1, *w2, *b2;      /* [hidden,in] [hidden] [out,hidden] [out] */
    dc_tensor *gw1, *gb1, *gw2, *gb2;  /* their gradients, same shapes */
} mlp_manual;

/* Allocates the weights and initialises them as torch.nn.Linear would, in the order
 * fc1.weight, fc1.bias, fc2.weight, fc2.bias. Returns 0, or -1 (dc_last_error). */
int mlp_manual_init(mlp_manual *m, int in, int hidden, int out, dc_rng *rng);
void mlp_manual_free(mlp_manual *m);

/* Forward, loss and backward for a batch x [b,in] with labels y[b]. The loss is the mean
 * over the batch (sum_reduction = 0, PyTorch's default) or the sum (1). Fills the
 * gradient tensors, returns the loss and, if `correct` is non-NULL, the number of
 * correct predictions. Scratch memory comes from the step arena. */
double mlp_manual_forward_backward(mlp_manual *m, const float *x, const int *y, int b,
                                   int sum_reduction, int *correct);

/* w -= lr * dw for every weight. */
void mlp_manual_sgd(mlp_manual *m, float lr);

/* Mean loss and accuracy over a whole dataset, in batches of `batch`. */
void mlp_manual_evaluate(mlp_manual *m, const dc_tensor *x, const int *y, int n,
                         int batch, double *loss, double *acc);

#endif
