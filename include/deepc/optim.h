/* optim.h - optimizers with PyTorch's update rules, and learning-rate schedules.
 *
 * SGD (torch.optim.SGD): g = grad + wd p; with momentum, b = mu b + (1 - dampening) g
 *   (b = g on the first step), g = nesterov ? g + mu b : b; then p -= lr g.
 * Adam (torch.optim.Adam): g = grad + wd p; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *   p -= lr / (1 - b1^t) * m / (sqrt(v / (1 - b2^t)) + eps).
 * AdamW (torch.optim.AdamW): as Adam without wd in g, but p *= 1 - lr wd first. */
#ifndef DEEPC_OPTIM_H
#define DEEPC_OPTIM_H

#include "deepc/nn.h"

typedef struct dc_optim dc_optim;

typedef struct dc_sgd_opts {
    float lr;
    float momentum;      /* 0: plain SGD */
    float dampening;
    float weight_decay;
    int nesterov;
} dc_sgd_opts;

typedef struct dc_adam_opts {
    float lr;            /* PyTorch default 1e-3 */
    float beta1;         /* 0.9 */
    float beta2;         /* 0.999 */
    float eps;           /* 1e-8 */
    float weight_decay;  /* Adam 0, AdamW 1e-2 */
} dc_adam_opts;

/* PyTorch's defaults for Adam (AdamW: set weight_decay to 1e-2). */
dc_adam_opts dc_adam_defaults(void);

/* Optimizers over every trainable tensor in `p` (borrowed; must outlive the optimizer).
 * NULL with a message on a negative or non-finite hyperparameter. Owned by the caller
 * (dc_optim_free). */
dc_optim *dc_sgd_new(dc_params *p, dc_sgd_opts opts);
dc_optim *dc_adam_new(dc_params *p, dc_adam_opts opts);
dc_optim *dc_adamw_new(dc_params *p, dc_adam_opts opts);
void dc_optim_free(dc_optim *o);

/* Applies one update from the gradients in the parameters' grad buffers (a parameter
 * without a gradient is left alone, as in PyTorch). */
void dc_optim_step(dc_optim *o);
void dc_optim_zero_grad(dc_optim *o);

float dc_optim_lr(const dc_optim *o);
void dc_optim_set_lr(dc_optim *o, float lr);

/* StepLR: base * gamma^floor(epoch / step_size). */
float dc_lr_step(float base, int epoch, int step_size, float gamma);

/* CosineAnnealingLR (closed form): eta_min + (base - eta_min) (1 + cos(pi t / t_max)) / 2. */
float dc_lr_cosine(float base, float eta_min, int t, int t_max);

#endif
