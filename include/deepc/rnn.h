/* rnn.h - recurrent layers with PyTorch's semantics: nn.GRU and nn.LSTM over padded,
 * batch-first sequences of different lengths.
 *
 * Sequences are x [B,T,I] with lengths[b] in 1..T real steps each; steps past a length
 * are padding and never influence any result (the same as feeding PyTorch a
 * pack_padded_sequence). Initial states are zero; there is no bidirectional variant and
 * no projection (proj_size). The ops live in src/ops/rnn.c, the module in src/nn/rnn.c.
 *
 * Equations, per step t, with h and c the previous states (PyTorch's docs):
 *   GRU  (gate order r,z,n):  r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
 *                             z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
 *                             n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
 *                             h' = (1 - z) * n + z * h
 *   LSTM (gate order i,f,g,o): i, f, o = sigmoid(W_i* x + b_i* + W_h* h + b_h*)
 *                             g = tanh(W_ig x + b_ig + W_hg h + b_hg)
 *                             c' = f * c + i * g,  h' = o * tanh(c') */
#ifndef DEEPC_RNN_H
#define DEEPC_RNN_H

#include "deepc/nn.h"
#include "deepc/tensor.h"

typedef enum dc_rnn_kind {
    DC_RNN_KIND_GRU,   /* 3 gates: r, z, n */
    DC_RNN_KIND_LSTM,  /* 4 gates: i, f, g, o */
} dc_rnn_kind;

#define DC_RNN_MAX_LAYERS 8

/* ---- ops (src/ops/rnn.c); results are arena tensors, valid until dc_step_end() ---- */

/* One GRU or LSTM layer over a whole batch: x [B,T,I], w_ih [G*H,I], w_hh [G*H,H],
 * b_ih and b_hh [G*H] or NULL (G = 3 for GRU, 4 for LSTM) -> the output sequence
 * [B,T,H]: h at every real step, zeros past each length. lengths[B] in 1..T, or NULL
 * for all T. Gradients reach x and all four parameters. NULL with a message on a shape
 * that does not fit or a length out of range. */
dc_tensor *dc_rnn(dc_rnn_kind kind, dc_tensor *x, const int *lengths, dc_tensor *w_ih,
                  dc_tensor *w_hh, dc_tensor *b_ih, dc_tensor *b_hh);

/* The state at each sequence's last real step: seq [B,T,H] -> [B,H] with row b =
 * seq[b, lengths[b]-1] (lengths NULL: the last step). What h_n holds in PyTorch. */
dc_tensor *dc_rnn_last(dc_tensor *seq, const int *lengths);

/* Dropout between stacked layers: dc_dropout (ops.h) in training mode, y = x * m / (1-p)
 * with m ~ Bernoulli(1-p) per element drawn from rng; p in [0,1). Returns x itself when
 * p == 0. NULL with a message on p outside [0,1) or a NULL rng. */
dc_tensor *dc_rnn_dropout(dc_tensor *x, float p, dc_rng *rng);

/* ---- the module (src/nn/rnn.c) ---- */

/* nn.GRU / nn.LSTM with batch_first=True. Layer k's parameters are registered as
 * "<prefix>.weight_ih_l<k>" [G*H, I_k], "<prefix>.weight_hh_l<k>" [G*H, H],
 * "<prefix>.bias_ih_l<k>" [G*H] and "<prefix>.bias_hh_l<k>" [G*H] (I_0 = input_size,
 * I_k = H above), so they load from and save to PyTorch's state_dict unchanged. The
 * tensors are owned by the dc_params they were registered in. */
typedef struct dc_rnn_layer {
    dc_rnn_kind kind;
    int input_size;
    int hidden;
    int num_layers;
    dc_tensor *weight_ih[DC_RNN_MAX_LAYERS];
    dc_tensor *weight_hh[DC_RNN_MAX_LAYERS];
    dc_tensor *bias_ih[DC_RNN_MAX_LAYERS];
    dc_tensor *bias_hh[DC_RNN_MAX_LAYERS];
} dc_rnn_layer;

/* Registers the parameters in p and draws all of them from U(-1/sqrt(hidden),
 * 1/sqrt(hidden)), in PyTorch's parameter order. DC_ERR_ARG with a message on sizes
 * <= 0 or num_layers outside 1..DC_RNN_MAX_LAYERS, or a name already registered. */
dc_status dc_rnn_layer_init(dc_rnn_layer *m, dc_params *p, const char *prefix,
                            dc_rnn_kind kind, int input_size, int hidden, int num_layers,
                            dc_rng *rng);

/* x [B,T,input_size] -> [B,hidden]: the top layer's state at t = lengths[b]-1 (h_n[-1]
 * of PyTorch fed a packed sequence). lengths as for dc_rnn. When training and dropout
 * > 0, the output of every layer but the last goes through dc_rnn_dropout with rng,
 * as nn.GRU(dropout=...) does. NULL with a message on bad shapes or arguments. */
dc_tensor *dc_rnn_layer_forward(const dc_rnn_layer *m, dc_tensor *x, const int *lengths,
                                float dropout, int training, dc_rng *rng);

/* As dc_rnn_layer_forward, but returns the top layer's whole output sequence [B,T,H],
 * zeros past each length (pad_packed_sequence(output, total_length=T)). */
dc_tensor *dc_rnn_layer_forward_seq(const dc_rnn_layer *m, dc_tensor *x,
                                    const int *lengths, float dropout, int training,
                                    dc_rng *rng);

#endif
