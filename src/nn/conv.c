/* conv.c - the convolutional modules: nn.Conv2d and nn.BatchNorm1d/2d with PyTorch's
 * default initialisation and state_dict names. The ops they call live in
 * src/ops/conv.c and src/ops/norm.c. Dropout and pooling have no parameters, so they
 * stay plain ops (dc_dropout, dc_max_pool2d, dc_adaptive_avg_pool2d_1x1). */
#include <math.h>
#include <stdio.h>

#include "deepc/nn.h"
#include "deepc/ops.h"

static dc_status conv_layer_check(const char *prefix, int in, int out, int kernel,
                                  int stride, int padding, int groups)
{
    if (in < 1 || out < 1 || kernel < 1 || stride < 1 || padding < 0 || groups < 1)
        return dc_fail(DC_ERR_ARG, "conv2d %s: in=%d out=%d kernel=%d stride=%d "
                       "padding=%d groups=%d, expected sizes >= 1 and padding >= 0",
                       prefix, in, out, kernel, stride, padding, groups);
    if (in % groups || out % groups)
        return dc_fail(DC_ERR_ARG, "conv2d %s: groups=%d must divide in=%d and out=%d",
                       prefix, groups, in, out);
    return DC_OK;
}

dc_status dc_conv2d_layer_init(dc_conv2d_layer *m, dc_params *p, const char *prefix,
                               int in, int out, int kernel, int stride, int padding,
                               int groups, int bias, dc_rng *rng)
{
    char name[256];
    float bound;
    dc_status s = conv_layer_check(prefix, in, out, kernel, stride, padding, groups);

    if (s != DC_OK)
        return s;
    *m = (dc_conv2d_layer){.in = in, .out = out, .kernel = kernel, .stride = stride,
                           .padding = padding, .groups = groups};
    snprintf(name, sizeof name, "%s.weight", prefix);
    m->weight = dc_params_add(p, name, 4, (int[]){out, in / groups, kernel, kernel});
    if (!m->weight)
        return DC_ERR_ARG;
    if (bias) {
        snprintf(name, sizeof name, "%s.bias", prefix);
        m->bias = dc_params_add(p, name, 1, (int[]){out});
        if (!m->bias)
            return DC_ERR_ARG;
    }

    /* kaiming_uniform_(a=sqrt(5)): gain sqrt(2/(1+5)), bound gain*sqrt(3/fan_in),
     * which is 1/sqrt(fan_in); PyTorch draws the bias from the same range. */
    bound = 1.0f / sqrtf((float)(in / groups * kernel * kernel));
    dc_init_uniform(m->weight, -bound, bound, rng);
    if (m->bias)
        dc_init_uniform(m->bias, -bound, bound, rng);
    return DC_OK;
}

dc_tensor *dc_conv2d_layer_forward(const dc_conv2d_layer *m, dc_tensor *x)
{
    return dc_conv2d(x, m->weight, m->bias, m->stride, m->padding, m->groups);
}

/* Registers one [n] tensor under "<prefix>.<what>" and fills it with `value`. */
static dc_tensor *bn_register(dc_params *p, const char *prefix, const char *what, int n,
                              int buffer, float value)
{
    char name[256];
    dc_tensor *t;

    snprintf(name, sizeof name, "%s.%s", prefix, what);
    t = buffer ? dc_params_add_buffer(p, name, 1, (int[]){n})
               : dc_params_add(p, name, 1, (int[]){n});
    for (int i = 0; t && i < n; i++)
        t->data[i] = value;
    return t;
}

dc_status dc_batchnorm_layer_init(dc_batchnorm_layer *m, dc_params *p, const char *prefix,
                                  int num_features)
{
    if (num_features < 1)
        return dc_fail(DC_ERR_ARG, "batch_norm %s: num_features=%d, expected >= 1", prefix,
                       num_features);
    *m = (dc_batchnorm_layer){.num_features = num_features, .momentum = 0.1f,
                              .eps = 1e-5f};
    m->weight = bn_register(p, prefix, "weight", num_features, 0, 1.0f);
    m->bias = m->weight ? bn_register(p, prefix, "bias", num_features, 0, 0.0f) : NULL;
    m->running_mean = m->bias ? bn_register(p, prefix, "running_mean", num_features, 1,
                                            0.0f) : NULL;
    m->running_var = m->running_mean ? bn_register(p, prefix, "running_var",
                                                   num_features, 1, 1.0f) : NULL;
    return m->running_var ? DC_OK : DC_ERR_ARG;
}

dc_tensor *dc_batchnorm_layer_forward(dc_batchnorm_layer *m, dc_tensor *x, int training)
{
    return dc_batch_norm(x, m->weight, m->bias, m->running_mean, m->running_var, training,
                         m->momentum, m->eps);
}
