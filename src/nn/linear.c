/* linear.c - nn.Linear with PyTorch's default initialisation. */
#include <math.h>
#include <stdio.h>

#include "deepc/nn.h"
#include "deepc/ops.h"

dc_status dc_linear_layer_init(dc_linear_layer *m, dc_params *p, const char *prefix,
                               int in, int out, int bias, dc_rng *rng)
{
    char name[256];
    float bound;

    if (in <= 0 || out <= 0)
        return dc_fail(DC_ERR_ARG, "linear %s: in=%d out=%d, expected both > 0", prefix,
                       in, out);
    snprintf(name, sizeof name, "%s.weight", prefix);
    m->weight = dc_params_add(p, name, 2, (int[]){out, in});
    if (!m->weight)
        return DC_ERR_ARG;
    m->bias = NULL;
    if (bias) {
        snprintf(name, sizeof name, "%s.bias", prefix);
        m->bias = dc_params_add(p, name, 1, (int[]){out});
        if (!m->bias)
            return DC_ERR_ARG;
    }
    m->in = in;
    m->out = out;

    /* kaiming_uniform_(a=sqrt(5)) reduces to U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
    bound = 1.0f / sqrtf((float)in);
    dc_init_uniform(m->weight, -bound, bound, rng);
    if (m->bias)
        dc_init_uniform(m->bias, -bound, bound, rng);
    return DC_OK;
}

dc_tensor *dc_linear_layer_forward(const dc_linear_layer *m, dc_tensor *x)
{
    return dc_linear(x, m->weight, m->bias);
}
