/* nn.h - parameters and modules with PyTorch's default initialisation.
 *
 * A dc_params is a model's named parameter list, in registration order, with the names
 * PyTorch's state_dict would give ("fc1.weight"). It owns the parameter tensors. */
#ifndef DEEPC_NN_H
#define DEEPC_NN_H

#include "deepc/io.h"
#include "deepc/tensor.h"

typedef struct dc_params {
    dc_named_tensor *items;  /* names and tensors, both owned */
    int n;
    int cap;
} dc_params;

/* An empty list. Owned by the caller (dc_params_free, which frees every parameter). */
dc_params *dc_params_new(void);
void dc_params_free(dc_params *p);

/* A zeroed parameter tensor (requires_grad = 1) registered under `name`. Owned by the
 * list. NULL with a message on a bad shape, a duplicate name or no memory. */
dc_tensor *dc_params_add(dc_params *p, const char *name, int ndim, const int *shape);

/* Registers a tensor that should be saved with the model but not trained (a buffer, like
 * batch norm's running mean); requires_grad = 0. Owned by the list. */
dc_tensor *dc_params_add_buffer(dc_params *p, const char *name, int ndim, const int *shape);

/* The parameter called `name`, or NULL. */
dc_tensor *dc_params_find(const dc_params *p, const char *name);

/* Total number of trainable scalars (buffers excluded), as
 * sum(p.numel() for p in model.parameters()). */
size_t dc_params_count(const dc_params *p);

void dc_params_zero_grad(dc_params *p);

/* Saves every parameter and buffer as safetensors (atomically), with metadata pairs. */
dc_status dc_params_save(const dc_params *p, const char *path, const char *const *meta,
                         int n_meta);

/* Loads every parameter and buffer by name from a safetensors file; each must be present
 * with the same shape and finite values, and a "*.running_var" buffer not negative. On an
 * error the parameters are left partly loaded. */
dc_status dc_params_load(dc_params *p, const char *path);

/* The value check dc_params_load makes on each tensor: every value finite and, when name
 * ends in ".running_var", none negative. DC_ERR_FORMAT naming path, name and the first
 * bad index otherwise. */
dc_status dc_params_check_values(const char *path, const char *name, const dc_tensor *t);

/* Fills t with U(lo, hi) / N(mean, std) from rng. */
void dc_init_uniform(dc_tensor *t, float lo, float hi, dc_rng *rng);
void dc_init_normal(dc_tensor *t, float mean, float std, dc_rng *rng);

/* nn.Linear: y = x W^T + b, W [out,in], b [out]. PyTorch's initialisation:
 * W, b ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with a = sqrt(5)). */
typedef struct dc_linear_layer {
    dc_tensor *weight;
    dc_tensor *bias;  /* NULL without bias */
    int in;
    int out;
} dc_linear_layer;

/* Registers "<prefix>.weight" and "<prefix>.bias" in p and initialises them. */
dc_status dc_linear_layer_init(dc_linear_layer *m, dc_params *p, const char *prefix,
                               int in, int out, int bias, dc_rng *rng);

/* x [n,in] -> [n,out] */
dc_tensor *dc_linear_layer_forward(const dc_linear_layer *m, dc_tensor *x);

/* ---- convolutional modules (src/nn/conv.c) ---- */

/* nn.Conv2d (square kernel, dilation 1, zero padding): weight [out, in/groups, k, k],
 * bias [out]. PyTorch's initialisation: kaiming_uniform with a = sqrt(5), which is
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in/groups * k * k, and the bias from
 * the same range. */
typedef struct dc_conv2d_layer {
    dc_tensor *weight;
    dc_tensor *bias;  /* NULL without bias */
    int in, out, kernel, stride, padding, groups;
} dc_conv2d_layer;

/* Registers "<prefix>.weight" (and "<prefix>.bias" if bias) in p and initialises them
 * from rng. DC_ERR_ARG with a message on a size < 1, padding < 0, or groups that do not
 * divide in and out. */
dc_status dc_conv2d_layer_init(dc_conv2d_layer *m, dc_params *p, const char *prefix,
                               int in,      /* input channels */
                               int out,     /* output channels */
                               int kernel,  /* kernel height = width */
                               int stride,
                               int padding,
                               int groups,  /* in for depthwise */
                               int bias,    /* 1: with bias */
                               dc_rng *rng);

/* x [n,in,h,w] -> [n,out,oh,ow] (dc_conv2d). */
dc_tensor *dc_conv2d_layer_forward(const dc_conv2d_layer *m, dc_tensor *x);

/* nn.BatchNorm1d / BatchNorm2d with affine weights and running statistics: weight 1,
 * bias 0, buffers running_mean 0 and running_var 1, momentum 0.1, eps 1e-5.
 * Limitation: PyTorch's state_dict also holds "<prefix>.num_batches_tracked" (an int64
 * step counter, used only with momentum = None); it is not kept, so a checkpoint saved
 * here lacks it and load_state_dict needs strict=False (or the key added) in PyTorch. */
typedef struct dc_batchnorm_layer {
    dc_tensor *weight;
    dc_tensor *bias;
    dc_tensor *running_mean;  /* buffer: saved, not trained */
    dc_tensor *running_var;   /* buffer: saved, not trained */
    int num_features;
    float momentum;
    float eps;
} dc_batchnorm_layer;

/* Registers "<prefix>.weight", "<prefix>.bias", "<prefix>.running_mean" and
 * "<prefix>.running_var" in p, in PyTorch's state_dict order. DC_ERR_ARG on
 * num_features < 1 or a name already taken. */
dc_status dc_batchnorm_layer_init(dc_batchnorm_layer *m, dc_params *p, const char *prefix,
                                  int num_features);

/* x [n,c], [n,c,l] or [n,c,h,w] -> same shape (dc_batch_norm). training = 1 uses the
 * batch's statistics and updates the running buffers; 0 uses the running buffers. */
dc_tensor *dc_batchnorm_layer_forward(dc_batchnorm_layer *m, dc_tensor *x, int training);

#endif
