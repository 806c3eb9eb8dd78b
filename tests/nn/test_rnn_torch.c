/* Two-layer GRU and LSTM against PyTorch (fixture made by
 * tests/fixtures/make_rnn_fixture.py): nn.GRU / nn.LSTM with batch_first, fed a
 * pack_padded_sequence of mixed lengths (enforce_sorted=False) whose padding holds large
 * values. Checked: the top layer's h_n, the padded output sequence, both losses, and the
 * gradients of the input and of every parameter for a loss on h_n and for one on the
 * whole sequence. The parameters load by their state_dict names. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "deepc/io.h"
#include "deepc/ops.h"
#include "deepc/rnn.h"

#define FIXTURE DC_SOURCE_DIR "/tests/fixtures/rnn_step.safetensors"
#define B 3
#define T 5
#define I 4
#define H 6
#define LAYERS 2

/* Measured on OpenBLAS with 2 threads, everything agrees within 3e-7 + 1e-6 relative
 * (deepc's exp and tanh are ~2 ulp, PyTorch's 1 ulp); the tolerances leave a factor of
 * 3-10 for other BLAS kernels and thread counts, which sum in other orders. */
#define FWD_ATOL 1e-6f
#define FWD_RTOL 1e-5f
#define GRAD_ATOL 2e-6f
#define GRAD_RTOL 1e-5f

static const char *const param_names[] = {
    "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
    "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
};

typedef struct rnn_case {
    const char *kind;        /* "gru" or "lstm": the fixture's prefix */
    dc_safetensors *st;
    dc_params *p;
    dc_rnn_layer m;
    dc_tensor *x;            /* heap copy of the fixture's input, requires_grad */
    int lengths[B];
} rnn_case;

static dc_tensor *need(const rnn_case *c, const char *name)
{
    char key[96];
    dc_tensor *t;

    snprintf(key, sizeof key, "%s.%s", c->kind, name);
    t = dc_safetensors_find(c->st, key);
    cr_assert_not_null(t, "fixture lacks %s", key);
    return t;
}

/* The module with PyTorch's parameters, copied by state_dict name ("rnn.weight_ih_l0"
 * from the fixture's "gru.weight_ih_l0"), and the fixture's input and lengths. */
static void case_open(rnn_case *c, const char *kind, dc_rnn_kind k)
{
    char key[96], name[96];
    dc_rng rng;

    c->kind = kind;
    c->st = dc_safetensors_load(FIXTURE);
    cr_assert_not_null(c->st, "%s", dc_last_error());
    c->p = dc_params_new();
    dc_rng_seed(&rng, 0);
    cr_assert_eq(dc_rnn_layer_init(&c->m, c->p, "rnn", k, I, H, LAYERS, &rng), DC_OK);
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "%s.%s", kind, param_names[i]);
        snprintf(name, sizeof name, "rnn.%s", param_names[i]);
        cr_assert_eq(dc_safetensors_copy_into(c->st, key, dc_params_find(c->p, name)),
                     DC_OK, "%s", dc_last_error());
    }
    snprintf(key, sizeof key, "%s.x", kind);
    c->x = dc_tensor_new(3, (int[]){B, T, I});
    cr_assert_eq(dc_safetensors_copy_into(c->st, key, c->x), DC_OK, "%s", dc_last_error());
    c->x->requires_grad = 1;
    for (int b = 0; b < B; b++)
        c->lengths[b] = (int)need(c, "lengths")->data[b];
}

static void case_close(rnn_case *c)
{
    dc_step_end();
    dc_tensor_free(c->x);
    dc_params_free(c->p);
    dc_safetensors_free(c->st);
}

/* |got - want| <= atol + rtol |want| for every element, else report the first miss. */
static void expect_close(const char *what, const float *got, const dc_tensor *want,
                         float atol, float rtol)
{
    cr_assert_not_null(got, "%s: no values", what);
    for (size_t i = 0; i < want->size; i++) {
        float w = want->data[i];
        cr_assert(fabsf(got[i] - w) <= atol + rtol * fabsf(w),
                  "%s[%zu]: expected %.8g got %.8g", what, i, w, got[i]);
    }
}

/* loss = sum(out * R); backward; compare the loss and every gradient with the fixture's
 * entries under `prefix` ("" or "seq."). */
static void check_gradients(rnn_case *c, dc_tensor *out, const char *r_name,
                            const char *loss_name, const char *prefix)
{
    char key[96], name[96];
    dc_tensor *loss = dc_sum(dc_mul(out, need(c, r_name)));

    expect_close(loss_name, loss->data, need(c, loss_name), FWD_ATOL, FWD_RTOL);
    cr_assert_eq(dc_backward(loss), DC_OK, "%s", dc_last_error());
    snprintf(key, sizeof key, "%sgrad.x", prefix);
    expect_close(key, c->x->grad, need(c, key), GRAD_ATOL, GRAD_RTOL);
    for (int i = 0; i < 8; i++) {
        snprintf(key, sizeof key, "%sgrad.%s", prefix, param_names[i]);
        snprintf(name, sizeof name, "rnn.%s", param_names[i]);
        expect_close(key, dc_params_find(c->p, name)->grad, need(c, key), GRAD_ATOL,
                     GRAD_RTOL);
    }

    /* PyTorch never sees the padding, so its gradient there is exactly zero. */
    for (int b = 0; b < B; b++)
        for (int j = c->lengths[b] * I; j < T * I; j++)
            cr_assert(c->x->grad[b * T * I + j] == 0.0f, "%s padded x[%d][%d]", c->kind, b,
                      j);
}

/* Eval mode with dropout 0.5 set: as nn.GRU in eval(), dropout must do nothing. */
static void check_last_state(const char *kind, dc_rnn_kind k)
{
    rnn_case c;
    dc_tensor *h;

    case_open(&c, kind, k);
    h = dc_rnn_layer_forward(&c.m, c.x, c.lengths, 0.5f, 0, NULL);
    cr_assert_not_null(h, "%s", dc_last_error());
    cr_assert(h->ndim == 2 && h->shape[0] == B && h->shape[1] == H);
    expect_close("h_n", h->data, need(&c, "h_n"), FWD_ATOL, FWD_RTOL);
    check_gradients(&c, h, "R", "loss", "");
    case_close(&c);
}

static void check_sequence(const char *kind, dc_rnn_kind k)
{
    rnn_case c;
    dc_tensor *seq;

    case_open(&c, kind, k);
    seq = dc_rnn_layer_forward_seq(&c.m, c.x, c.lengths, 0.0f, 1, NULL);
    cr_assert_not_null(seq, "%s", dc_last_error());
    cr_assert(seq->ndim == 3 && seq->shape[0] == B && seq->shape[1] == T
              && seq->shape[2] == H);
    expect_close("out", seq->data, need(&c, "out"), FWD_ATOL, FWD_RTOL);
    check_gradients(&c, seq, "Rseq", "seq_loss", "seq.");
    case_close(&c);
}

Test(torch_rnn, gru_last_state_and_gradients_match_pytorch)
{
    check_last_state("gru", DC_RNN_KIND_GRU);
}

Test(torch_rnn, lstm_last_state_and_gradients_match_pytorch)
{
    check_last_state("lstm", DC_RNN_KIND_LSTM);
}

Test(torch_rnn, gru_output_sequence_and_gradients_match_pytorch)
{
    check_sequence("gru", DC_RNN_KIND_GRU);
}

Test(torch_rnn, lstm_output_sequence_and_gradients_match_pytorch)
{
    check_sequence("lstm", DC_RNN_KIND_LSTM);
}
