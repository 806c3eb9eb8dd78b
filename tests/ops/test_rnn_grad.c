/* Finite-difference gradient tests of the GRU and LSTM layers (src/ops/rnn.c through the
 * module in src/nn/rnn.c): input and every parameter, one and two layers, mixed lengths,
 * dropout between layers; plus the properties PyTorch's packed sequences have: padding
 * changes nothing, each row equals running it alone; and the argument checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/rnn.h"
#include "ops/gradcheck.h"

#define B 3
#define T 5
#define I 4
#define H 5

static const int mixed[B] = {5, 2, 4};

typedef struct rnn_ctx {
    dc_rnn_kind kind;
    int layers;
    const int *lengths;
    float dropout;
    int training;
    int bias;        /* 0: dc_rnn without biases (op-level checks only) */
} rnn_ctx;

static void free_all(dc_tensor **in, int n)
{
    for (int i = 0; i < n; i++)
        dc_tensor_free(in[i]);
}

/* in[0] = x [batch,T,I], then per layer weight_ih, weight_hh, bias_ih, bias_hh drawn
 * from U(-w, w); w = 0.6 at H = 5 is a little beyond the init bound, so the gates are
 * not all linear. */
static int make_inputs_h(dc_tensor **in, dc_rnn_kind kind, int layers, int batch,
                         int hidden, float w, uint64_t seed)
{
    int gh = (kind == DC_RNN_KIND_GRU ? 3 : 4) * hidden, n = 1;

    in[0] = gc_input(3, (int[]){batch, T, I}, -1, 1, 0, seed);
    for (int k = 0; k < layers; k++) {
        in[n] = gc_input(2, (int[]){gh, k ? hidden : I}, -w, w, 0, seed + n), n++;
        in[n] = gc_input(2, (int[]){gh, hidden}, -w, w, 0, seed + n), n++;
        in[n] = gc_input(1, (int[]){gh}, -w, w, 0, seed + n), n++;
        in[n] = gc_input(1, (int[]){gh}, -w, w, 0, seed + n), n++;
    }
    return n;
}

static int make_inputs(dc_tensor **in, dc_rnn_kind kind, int layers, int batch,
                       uint64_t seed)
{
    return make_inputs_h(in, kind, layers, batch, H, 0.6f, seed);
}

static dc_rnn_layer layer_from(dc_tensor **in, const rnn_ctx *c)
{
    dc_rnn_layer m = {.kind = c->kind, .input_size = I, .hidden = in[2]->shape[1],
                      .num_layers = c->layers};

    for (int k = 0; k < c->layers; k++) {
        m.weight_ih[k] = in[1 + 4 * k];
        m.weight_hh[k] = in[2 + 4 * k];
        m.bias_ih[k] = in[3 + 4 * k];
        m.bias_hh[k] = in[4 + 4 * k];
    }
    return m;
}

/* The module's output, the last real state [batch,H]; the rng is reseeded on every
 * call so dropout draws the same mask for the analytic and every numeric pass. */
static dc_tensor *f_module(dc_tensor **in, void *ctx)
{
    rnn_ctx *c = ctx;
    dc_rnn_layer m = layer_from(in, c);
    dc_rng rng;

    dc_rng_seed(&rng, 99);
    return dc_rnn_layer_forward(&m, in[0], c->lengths, c->dropout, c->training, &rng);
}

/* One layer through the op itself: the whole output sequence [batch,T,H]. */
static dc_tensor *f_op_seq(dc_tensor **in, void *ctx)
{
    rnn_ctx *c = ctx;

    return dc_rnn(c->kind, in[0], c->lengths, in[1], in[2], c->bias ? in[3] : NULL,
                  c->bias ? in[4] : NULL);
}

static void check_module(const char *what, dc_rnn_kind kind, int layers, const int *lengths,
                         float dropout, int training)
{
    dc_tensor *in[1 + 4 * 2];
    rnn_ctx c = {kind, layers, lengths, dropout, training, 1};
    int n = make_inputs(in, kind, layers, B, 7 + (uint64_t)layers);

    gradcheck(what, f_module, in, n, &c, gc_default);
    free_all(in, n);
}

Test(rnn_grad, gru_one_and_two_layers_mixed_lengths)
{
    check_module("gru 1 layer", DC_RNN_KIND_GRU, 1, mixed, 0, 0);
    check_module("gru 2 layers", DC_RNN_KIND_GRU, 2, mixed, 0, 0);
}

Test(rnn_grad, lstm_one_and_two_layers_mixed_lengths)
{
    check_module("lstm 1 layer", DC_RNN_KIND_LSTM, 1, mixed, 0, 0);
    check_module("lstm 2 layers", DC_RNN_KIND_LSTM, 2, mixed, 0, 0);
}

/* Every sequence shorter than T, and two of equal length: steps past the longest are
 * skipped, and ties keep their order. */
Test(rnn_grad, short_sequences_and_full_length_default)
{
    static const int short_ties[B] = {3, 1, 3};

    check_module("gru short", DC_RNN_KIND_GRU, 2, short_ties, 0, 0);
    check_module("lstm short", DC_RNN_KIND_LSTM, 2, short_ties, 0, 0);
    check_module("gru all T", DC_RNN_KIND_GRU, 1, NULL, 0, 0);
    check_module("lstm all T", DC_RNN_KIND_LSTM, 1, NULL, 0, 0);
}

Test(rnn_grad, dropout_between_layers)
{
    check_module("gru dropout", DC_RNN_KIND_GRU, 2, mixed, 0.4f, 1);
    check_module("lstm dropout", DC_RNN_KIND_LSTM, 2, mixed, 0.4f, 1);
}

/* The op's whole output sequence, with and without biases. */
Test(rnn_grad, op_output_sequence_with_and_without_bias)
{
    for (int kind = 0; kind < 2; kind++) {
        dc_tensor *in[5];
        int n = make_inputs(in, (dc_rnn_kind)kind, 1, B, 40 + (uint64_t)kind);
        rnn_ctx with = {(dc_rnn_kind)kind, 1, mixed, 0, 0, 1};
        rnn_ctx without = {(dc_rnn_kind)kind, 1, mixed, 0, 0, 0};
        gradcheck(kind ? "lstm seq" : "gru seq", f_op_seq, in, 5, &with, gc_default);
        gradcheck(kind ? "lstm seq no bias" : "gru seq no bias", f_op_seq, in, 3, &without,
                  gc_default);
        free_all(in, n);
    }
}

static dc_tensor *f_last(dc_tensor **in, void *ctx)
{
    return dc_rnn_last(in[0], ctx);
}

Test(rnn_grad, last_state_gather)
{
    dc_tensor *in[] = {gc_input(3, (int[]){B, T, H}, -1, 1, 0, 50)};

    gradcheck("rnn_last", f_last, in, 1, (void *)mixed, gc_default);
    cr_assert_float_eq(f_last(in, (void *)mixed)->data[1 * H + 3],
                       in[0]->data[(1 * T + 1) * H + 3], 0);
    dc_step_end();
    free_all(in, 1);
}

/* Output, then d sum(out * R) of everything, for one layer stack: all of it in one
 * malloc'd array (caller frees), its length in *total. */
static float *run_and_keep(dc_tensor **in, int n, const rnn_ctx *c, int seq, size_t *total)
{
    dc_rnn_layer m = layer_from(in, c);
    dc_tensor *out, *r;
    float *keep;
    size_t at;

    for (int i = 0; i < n; i++)
        dc_tensor_zero_grad(in[i]);
    out = seq ? dc_rnn_layer_forward_seq(&m, in[0], c->lengths, 0, 0, NULL)
              : dc_rnn_layer_forward(&m, in[0], c->lengths, 0, 0, NULL);
    cr_assert_not_null(out, "%s", dc_last_error());
    r = dc_tensor_tmp(out->ndim, out->shape);
    for (size_t i = 0; i < r->size; i++)
        r->data[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
    cr_assert_eq(dc_backward(dc_sum(dc_mul(out, r))), DC_OK);

    *total = out->size;
    for (int i = 0; i < n; i++)
        *total += in[i]->size;
    keep = malloc(*total * sizeof(float));
    cr_assert_not_null(keep);
    memcpy(keep, out->data, out->size * sizeof(float)), at = out->size;
    for (int i = 0; i < n; i++) {
        memcpy(keep + at, in[i]->grad, in[i]->size * sizeof(float));
        at += in[i]->size;
    }
    dc_step_end();
    return keep;
}

/* Garbage at the padded steps of x: outputs and every gradient stay exactly the same,
 * and x's gradient there is exactly zero. */
Test(rnn_grad, padding_changes_nothing)
{
    for (int kind = 0; kind < 2; kind++)
        for (int seq = 0; seq < 2; seq++) {
            dc_tensor *in[9];
            rnn_ctx c = {(dc_rnn_kind)kind, 2, mixed, 0, 0, 1};
            int n = make_inputs(in, (dc_rnn_kind)kind, 2, B, 60);
            size_t total, total2;
            float *before = run_and_keep(in, n, &c, seq, &total), *after;
            for (int b = 0; b < B; b++)
                for (int j = mixed[b] * I; j < T * I; j++)
                    in[0]->data[b * T * I + j] = 1e3f * (float)(j % 5 - 2);
            after = run_and_keep(in, n, &c, seq, &total2);
            for (size_t i = 0; i < total; i++)
                cr_assert(before[i] == after[i], "kind %d seq %d: value %zu changed: %.9g "
                          "then %.9g", kind, seq, i, before[i], after[i]);
            for (int b = 0; b < B; b++)
                for (int j = mixed[b] * I; j < T * I; j++)
                    cr_assert(in[0]->grad[b * T * I + j] == 0.0f);
            free(before);
            free(after);
            free_all(in, n);
        }
}

/* sum(out * R) in double for the output sequence, R as in run_and_keep. */
static double seq_loss(dc_tensor **in, const rnn_ctx *c)
{
    dc_rnn_layer m = layer_from(in, c);
    dc_tensor *out = dc_rnn_layer_forward_seq(&m, in[0], c->lengths, 0, 0, NULL);
    double sum = 0.0;

    cr_assert_not_null(out, "%s", dc_last_error());
    for (size_t i = 0; i < out->size; i++)
        sum += (double)out->data[i] * ((float)((i * 7) % 11) / 11.0f - 0.5f);
    return sum;
}

/* The whole model along one random direction v (STYLE section 11): the central
 * difference of the loss at in +- h v against sum over inputs of grad . v, with the
 * gradients taken from keep (as run_and_keep lays them out, after `skip` outputs). */
static void check_direction(dc_tensor **in, int n, const rnn_ctx *c, const float *keep,
                            size_t skip)
{
    const float h = 1e-3f;  /* every element moves at once: keep the step small */
    double analytic = 0.0, numeric;
    int prev = dc_grad_enabled(0);
    dc_rng rng;

    dc_rng_seed(&rng, 77);
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < in[k]->size; i++, skip++) {
            float v = 2.0f * dc_rng_uniform(&rng) - 1.0f;
            analytic += (double)keep[skip] * v;
            in[k]->data[i] += h * v;
        }
    numeric = seq_loss(in, c);
    dc_rng_seed(&rng, 77);
    for (int k = 0; k < n; k++)
        for (size_t i = 0; i < in[k]->size; i++)
            in[k]->data[i] -= 2.0f * h * (2.0f * dc_rng_uniform(&rng) - 1.0f);
    numeric = (numeric - seq_loss(in, c)) / (2.0 * h);
    dc_grad_enabled(prev);
    dc_step_end();
    cr_assert(fabs(analytic) > 0.1, "directional derivative %.6g is trivially small",
              analytic);
    cr_assert(fabs(analytic - numeric) <= 1e-4 + 2e-3 * fabs(analytic),
              "kind %d along a random direction: analytic %.8g numeric %.8g", c->kind,
              analytic, numeric);
}

/* Hidden 64 at batch 4 is past the size from which the step loops split the units
 * among threads. Two threads give what one gives (to rounding: the sgemms are cut
 * differently), and with two the gradients pass a finite-difference check along a
 * random direction (one per element would be slow where threads compete for cores). */
Test(rnn_grad, units_split_among_threads)
{
    static const int mixed4[] = {5, 2, 4, 3};

    for (int kind = 0; kind < 2; kind++) {
        dc_tensor *in[9];
        rnn_ctx c = {(dc_rnn_kind)kind, 2, mixed4, 0, 0, 1};
        int n = make_inputs_h(in, (dc_rnn_kind)kind, 2, 4, 64, 0.15f, 100);
        size_t total;
        float *one, *two;
        dc_set_threads(1);
        one = run_and_keep(in, n, &c, 1, &total);
        dc_set_threads(2);
        two = run_and_keep(in, n, &c, 1, &total);
        for (size_t i = 0; i < total; i++)
            cr_assert(fabsf(one[i] - two[i]) <= 1e-6f + 1e-5f * fabsf(one[i]),
                      "kind %d value %zu: one thread %.9g, two %.9g", kind, i, one[i],
                      two[i]);
        check_direction(in, n, &c, two, 4 * T * 64);
        free(one);
        free(two);
        free_all(in, n);
    }
}

/* Row b of a padded batch equals the same sequence run alone, unpadded, to float
 * rounding (the per-step products have another row count). */
Test(rnn_grad, each_row_equals_running_it_alone)
{
    for (int kind = 0; kind < 2; kind++) {
        dc_params *p = dc_params_new();
        dc_rnn_layer m;
        dc_rng rng;
        dc_tensor *x = gc_input(3, (int[]){B, T, I}, -1, 1, 0, 70);
        dc_rng_seed(&rng, 3);
        cr_assert_eq(dc_rnn_layer_init(&m, p, "rnn", (dc_rnn_kind)kind, I, H, 2, &rng),
                     DC_OK);
        dc_tensor *all = dc_rnn_layer_forward(&m, x, mixed, 0, 0, NULL);
        for (int b = 0; b < B; b++) {
            dc_tensor *alone = dc_tensor_tmp(3, (int[]){1, mixed[b], I});
            memcpy(alone->data, x->data + b * T * I, alone->size * sizeof(float));
            dc_tensor *h = dc_rnn_layer_forward(&m, alone, NULL, 0, 0, NULL);
            for (int j = 0; j < H; j++)
                cr_assert_float_eq(h->data[j], all->data[b * H + j], 1e-6,
                                   "kind %d row %d unit %d", kind, b, j);
        }
        dc_step_end();
        dc_tensor_free(x);
        dc_params_free(p);
    }
}

Test(rnn_grad, init_names_shapes_and_bound)
{
    dc_params *p = dc_params_new();
    dc_rnn_layer gru, lstm;
    dc_rng rng;
    float bound = 1.0f / sqrtf(256.0f), biggest = 0.0f;

    dc_rng_seed(&rng, 1);
    cr_assert_eq(dc_rnn_layer_init(&gru, p, "gru", DC_RNN_KIND_GRU, 300, 256, 1, &rng),
                 DC_OK);
    /* sum(p.numel() for p in nn.GRU(300, 256).parameters()) */
    cr_assert_eq(dc_params_count(p), 428544);
    cr_assert_eq(dc_rnn_layer_init(&lstm, p, "lstm", DC_RNN_KIND_LSTM, 300, 128, 2, &rng),
                 DC_OK);
    /* ... plus nn.LSTM(300, 128, num_layers=2) */
    cr_assert_eq(dc_params_count(p), 428544 + 352256);
    cr_assert_eq(p->n, 4 + 8);
    cr_assert_str_eq(p->items[5].name, "lstm.weight_hh_l0");
    cr_assert_eq(dc_params_find(p, "lstm.weight_ih_l1")->shape[1], 128);
    cr_assert_eq(dc_params_find(p, "lstm.bias_hh_l1")->shape[0], 512);
    cr_assert_eq(dc_params_find(p, "gru.weight_ih_l0")->shape[0], 768);
    for (int i = 0; i < 4; i++)
        for (size_t j = 0; j < p->items[i].tensor->size; j++)
            biggest = fmaxf(biggest, fabsf(p->items[i].tensor->data[j]));
    cr_assert_leq(biggest, bound);
    cr_assert_geq(biggest, 0.99f * bound);
    dc_params_free(p);
}

Test(rnn_grad, dropout_rate_scale_and_where_it_applies)
{
    dc_tensor *x = dc_tensor_new2(100, 100);
    dc_rng rng;
    int zeros = 0;

    for (size_t i = 0; i < x->size; i++)
        x->data[i] = 1.0f;
    dc_rng_seed(&rng, 5);
    cr_assert_eq(dc_rnn_dropout(x, 0.0f, &rng), x);
    dc_tensor *y = dc_rnn_dropout(x, 0.3f, &rng);
    for (size_t i = 0; i < y->size; i++) {
        zeros += y->data[i] == 0.0f;
        cr_assert(y->data[i] == 0.0f || y->data[i] == 1.0f / 0.7f);
    }
    /* 0.3 within 3.3 standard deviations (0.0046 at 10000 draws). */
    cr_assert(zeros > 2850 && zeros < 3150, "%d of 10000 dropped", zeros);
    cr_assert_null(dc_rnn_dropout(x, 1.0f, &rng));
    cr_assert(strstr(dc_last_error(), "rnn_dropout: p = 1, expected p in [0,1)"));
    dc_step_end();
    dc_tensor_free(x);
}

/* As nn.GRU: dropout touches neither a single layer nor evaluation; it does change a
 * stack while training. */
Test(rnn_grad, dropout_only_between_layers_while_training)
{
    dc_tensor *in[9];
    int n = make_inputs(in, DC_RNN_KIND_GRU, 2, B, 80);
    rnn_ctx eval2 = {DC_RNN_KIND_GRU, 2, mixed, 0.5f, 0, 1}, train2 = eval2, plain2 = eval2;
    rnn_ctx train1 = {DC_RNN_KIND_GRU, 1, mixed, 0.5f, 1, 1}, plain1 = train1;
    int same = 1;

    train2.training = 1, plain2.dropout = 0, plain1.dropout = 0;
    dc_tensor *a = f_module(in, &eval2), *b = f_module(in, &plain2);
    dc_tensor *c = f_module(in, &train2), *d = f_module(in, &train1);
    dc_tensor *e = f_module(in, &plain1);
    for (int i = 0; i < B * H; i++) {
        cr_assert(a->data[i] == b->data[i]);
        cr_assert(d->data[i] == e->data[i]);
        same &= c->data[i] == a->data[i];
    }
    cr_assert(!same, "dropout while training left a 2-layer GRU unchanged");
    dc_step_end();
    free_all(in, n);
}

Test(rnn_grad, no_grad_mode_records_nothing)
{
    dc_tensor *in[5];
    int n = make_inputs(in, DC_RNN_KIND_LSTM, 1, B, 90);
    rnn_ctx c = {DC_RNN_KIND_LSTM, 1, mixed, 0, 0, 1};
    int prev = dc_grad_enabled(0);

    cr_assert_not_null(f_module(in, &c));
    cr_assert_eq(dc_tape_size(), 0);
    dc_grad_enabled(prev);
    dc_step_end();
    free_all(in, n);
}

Test(rnn_grad, bad_arguments_fail_with_a_message)
{
    dc_tensor *in[5];
    int n = make_inputs(in, DC_RNN_KIND_GRU, 1, B, 95);
    int zero[B] = {5, 0, 4}, longer[B] = {5, 6, 4};
    dc_tensor *x2 = dc_tensor_new2(3, 4);
    dc_params *p = dc_params_new();
    dc_rnn_layer m, broken;
    dc_rng rng;

    cr_assert_null(dc_rnn(DC_RNN_KIND_GRU, in[0], zero, in[1], in[2], in[3], in[4]));
    cr_assert(strstr(dc_last_error(), "gru: lengths[1] = 0, expected 1 to 5 (T)"));
    cr_assert_null(dc_rnn(DC_RNN_KIND_GRU, in[0], longer, in[1], in[2], in[3], in[4]));
    cr_assert(strstr(dc_last_error(), "lengths[1] = 6"));
    cr_assert_null(dc_rnn(DC_RNN_KIND_LSTM, in[0], mixed, in[1], in[2], in[3], in[4]));
    cr_assert(strstr(dc_last_error(), "lstm: input [3,5,4], weight_ih [15,4], weight_hh "
                     "[15,5] do not fit, expected [B,T,I], [4H,I], [4H,H]"),
              "%s", dc_last_error());
    cr_assert_null(dc_rnn(DC_RNN_KIND_GRU, x2, NULL, in[1], in[2], in[3], in[4]));
    cr_assert_null(dc_rnn(DC_RNN_KIND_GRU, in[0], NULL, in[1], in[2], in[1], in[4]));
    cr_assert(strstr(dc_last_error(), "bias_ih [15,4], bias_hh [15], expected [15] each"));
    cr_assert_null(dc_rnn_last(x2, NULL));
    cr_assert(strstr(dc_last_error(), "rnn_last: sequence [3,4], expected [B,T,H]"));

    dc_rng_seed(&rng, 1);
    cr_assert_eq(dc_rnn_layer_init(&m, p, "enc", DC_RNN_KIND_GRU, I, H, 0, &rng),
                 DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "rnn enc: num_layers=0, expected 1 to 8"));
    cr_assert_eq(dc_rnn_layer_init(&m, p, "enc", DC_RNN_KIND_GRU, I, 0, 1, &rng),
                 DC_ERR_ARG);
    cr_assert_eq(dc_rnn_layer_init(&m, p, "enc", DC_RNN_KIND_GRU, I, H, 2, &rng), DC_OK);
    cr_assert_eq(dc_rnn_layer_init(&broken, p, "enc", DC_RNN_KIND_GRU, I, H, 1, &rng),
                 DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "\"enc.weight_ih_l0\" is empty or already"), "%s",
              dc_last_error());
    cr_assert_null(dc_rnn_layer_forward(&broken, in[0], mixed, 0, 0, NULL));
    cr_assert(strstr(dc_last_error(), "rnn: layer not initialised"));
    cr_assert_null(dc_rnn_layer_forward(&m, in[0], mixed, 1.0f, 1, &rng));
    cr_assert(strstr(dc_last_error(), "rnn: dropout 1, expected 0 <= dropout < 1"));
    cr_assert_null(dc_rnn_layer_forward(&m, in[0], mixed, 0.5f, 1, NULL));
    cr_assert(strstr(dc_last_error(), "needs an rng"));
    cr_assert_null(dc_rnn_layer_forward(&m, x2, mixed, 0, 0, NULL));
    cr_assert(strstr(dc_last_error(), "rnn: input [3,4], expected [B,T,4] (batch first)"),
              "%s", dc_last_error());
    dc_step_end();
    dc_params_free(p);
    dc_tensor_free(x2);
    free_all(in, n);
}
