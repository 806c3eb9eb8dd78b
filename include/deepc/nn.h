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
 * with the same shape. */
dc_status dc_params_load(dc_params *p, const char *path);

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

#endif
