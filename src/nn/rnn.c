/* rnn.c - the stacked GRU / LSTM module (nn.GRU, nn.LSTM with batch_first=True): its
 * parameters under PyTorch's state_dict names with PyTorch's initialisation, and a
 * forward that stacks dc_rnn layers with dropout between them. The recurrence itself,
 * with its backward through time, is in src/ops/rnn.c. Bidirectional layers, proj_size
 * and non-zero initial states are left out. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "deepc/rnn.h"

/* Registers "<prefix>.<what>_l<k>". */
static dc_tensor *add_param(dc_params *p, const char *prefix, const char *what, int k,
                            int ndim, const int *shape)
{
    char name[256];

    snprintf(name, sizeof name, "%s.%s_l%d", prefix, what, k);
    return dc_params_add(p, name, ndim, shape);
}

static dc_status check_init(const dc_params *p, const char *prefix, dc_rnn_kind kind,
                            int input_size, int hidden, int num_layers, const dc_rng *rng)
{
    if (!p || !prefix || !rng)
        return dc_fail(DC_ERR_ARG, "rnn %s: params, prefix and rng must not be NULL",
                       prefix ? prefix : "(null)");
    if (kind != DC_RNN_KIND_GRU && kind != DC_RNN_KIND_LSTM)
        return dc_fail(DC_ERR_ARG, "rnn %s: kind %d, expected DC_RNN_KIND_GRU or _LSTM",
                       prefix, (int)kind);
    if (input_size <= 0 || hidden <= 0 || hidden > INT_MAX / 4 || input_size > INT_MAX / 4)
        return dc_fail(DC_ERR_ARG, "rnn %s: input_size=%d hidden=%d, expected both > 0",
                       prefix, input_size, hidden);
    if (num_layers < 1 || num_layers > DC_RNN_MAX_LAYERS)
        return dc_fail(DC_ERR_ARG, "rnn %s: num_layers=%d, expected 1 to %d", prefix,
                       num_layers, DC_RNN_MAX_LAYERS);
    return DC_OK;
}

/* Registers layer k's four tensors, stopping at the first failure so its message stays;
 * then draws them, in PyTorch's order, from U(-bound, bound). */
static dc_status add_layer(dc_rnn_layer *m, dc_params *p, const char *prefix, int k,
                           float bound, dc_rng *rng)
{
    int gh = (m->kind == DC_RNN_KIND_GRU ? 3 : 4) * m->hidden;
    int in = k == 0 ? m->input_size : m->hidden;

    if (!(m->weight_ih[k] = add_param(p, prefix, "weight_ih", k, 2, (int[]){gh, in}))
        || !(m->weight_hh[k] = add_param(p, prefix, "weight_hh", k, 2,
                                         (int[]){gh, m->hidden}))
        || !(m->bias_ih[k] = add_param(p, prefix, "bias_ih", k, 1, (int[]){gh}))
        || !(m->bias_hh[k] = add_param(p, prefix, "bias_hh", k, 1, (int[]){gh})))
        return DC_ERR_ARG;
    dc_init_uniform(m->weight_ih[k], -bound, bound, rng);
    dc_init_uniform(m->weight_hh[k], -bound, bound, rng);
    dc_init_uniform(m->bias_ih[k], -bound, bound, rng);
    dc_init_uniform(m->bias_hh[k], -bound, bound, rng);
    return DC_OK;
}

dc_status dc_rnn_layer_init(dc_rnn_layer *m, dc_params *p, const char *prefix,
                            dc_rnn_kind kind, int input_size, int hidden, int num_layers,
                            dc_rng *rng)
{
    dc_status st = check_init(p, prefix, kind, input_size, hidden, num_layers, rng);

    if (st != DC_OK)
        return st;
    if (!m)
        return dc_fail(DC_ERR_ARG, "rnn %s: layer must not be NULL", prefix);
    memset(m, 0, sizeof *m);
    m->kind = kind, m->input_size = input_size, m->hidden = hidden;
    m->num_layers = num_layers;

    /* PyTorch registers and initialises layer by layer (_flat_weights order), all from
     * U(-1/sqrt(H), 1/sqrt(H)). */
    for (int k = 0; k < num_layers; k++)
        if (add_layer(m, p, prefix, k, 1.0f / sqrtf((float)hidden), rng) != DC_OK) {
            /* Limitation: dc_params cannot unregister, so tensors registered before the
             * failure stay in p (freed with it); m is left zeroed and unusable. */
            memset(m, 0, sizeof *m);
            return DC_ERR_ARG;
        }
    return DC_OK;
}

/* The stack: layer k reads layer k-1's output sequence, through dropout when training. */
static dc_tensor *run_layers(const dc_rnn_layer *m, dc_tensor *x, const int *lengths,
                             float dropout, int training, dc_rng *rng)
{
    int drop = training && dropout > 0.0f && m->num_layers > 1;
    dc_tensor *h = x;

    if (!(dropout >= 0.0f && dropout < 1.0f)) {
        dc_fail(DC_ERR_ARG, "rnn: dropout %g, expected 0 <= dropout < 1", (double)dropout);
        return NULL;
    }
    if (drop && !rng) {
        dc_fail(DC_ERR_ARG, "rnn: dropout %g while training needs an rng, got NULL",
                (double)dropout);
        return NULL;
    }
    for (int k = 0; k < m->num_layers && h; k++) {
        if (k > 0 && drop)
            h = dc_rnn_dropout(h, dropout, rng);
        if (h)
            h = dc_rnn(m->kind, h, lengths, m->weight_ih[k], m->weight_hh[k], m->bias_ih[k],
                       m->bias_hh[k]);
    }
    return h;
}

dc_tensor *dc_rnn_layer_forward_seq(const dc_rnn_layer *m, dc_tensor *x,
                                    const int *lengths, float dropout, int training,
                                    dc_rng *rng)
{
    char sx[64];

    if (!m || !x || m->num_layers < 1 || m->num_layers > DC_RNN_MAX_LAYERS) {
        dc_fail(DC_ERR_ARG, "rnn: %s, expected an initialised layer and an input",
                !m || !x ? "layer or input NULL" : "layer not initialised");
        return NULL;
    }
    if (x->ndim != 3 || x->shape[2] != m->input_size) {
        dc_fail(DC_ERR_SHAPE, "rnn: input %s, expected [B,T,%d] (batch first)",
                dc_shape_str(x, sx, sizeof sx), m->input_size);
        return NULL;
    }
    return run_layers(m, x, lengths, dropout, training, rng);
}

dc_tensor *dc_rnn_layer_forward(const dc_rnn_layer *m, dc_tensor *x, const int *lengths,
                                float dropout, int training, dc_rng *rng)
{
    dc_tensor *seq = dc_rnn_layer_forward_seq(m, x, lengths, dropout, training, rng);

    return seq ? dc_rnn_last(seq, lengths) : NULL;
}
