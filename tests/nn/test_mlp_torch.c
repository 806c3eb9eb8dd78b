/* The course MLP against PyTorch (fixture made by tests/fixtures/make_mlp_fixture.py):
 * forward, loss, every gradient including the input's, three steps of plain SGD, SGD
 * with momentum and with Nesterov momentum, Adam and AdamW; and the hand-written mnist-mlp
 * step against the tape. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "deepc/io.h"
#include "deepc/nn.h"
#include "deepc/ops.h"
#include "deepc/optim.h"
#include "mnist_mlp.h"

#define FIXTURE DC_SOURCE_DIR "/tests/fixtures/mlp_step.safetensors"

static const char *const param_names[] = {"fc1.weight", "fc1.bias", "fc2.weight",
                                          "fc2.bias"};

typedef struct net {
    dc_params *p;
    dc_linear_layer fc1, fc2;
    dc_tensor *x;
    int y[8];
} net;

static dc_safetensors *fixture(void)
{
    dc_safetensors *st = dc_safetensors_load(FIXTURE);

    cr_assert_not_null(st, "%s", dc_last_error());
    return st;
}

static dc_tensor *need(const dc_safetensors *st, const char *name)
{
    dc_tensor *t = dc_safetensors_find(st, name);

    cr_assert_not_null(t, "fixture lacks %s", name);
    return t;
}

/* Builds the net with the fixture's initial parameters and batch. */
static void net_init(net *n, const dc_safetensors *st)
{
    dc_rng rng;
    char key[64];

    dc_rng_seed(&rng, 0);
    n->p = dc_params_new();
    cr_assert_eq(dc_linear_layer_init(&n->fc1, n->p, "fc1", 784, 128, 1, &rng), DC_OK);
    cr_assert_eq(dc_linear_layer_init(&n->fc2, n->p, "fc2", 128, 10, 1, &rng), DC_OK);
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "init.%s", param_names[i]);
        cr_assert_eq(dc_safetensors_copy_into(st, key, dc_params_find(n->p, param_names[i])),
                     DC_OK, "%s", dc_last_error());
    }
    n->x = need(st, "x");
    for (int i = 0; i < 8; i++)
        n->y[i] = (int)need(st, "y")->data[i];
}

static dc_tensor *net_loss(net *n, dc_tensor *x, dc_tensor **logits)
{
    dc_tensor *h = dc_sigmoid(dc_linear_layer_forward(&n->fc1, x));

    *logits = dc_linear_layer_forward(&n->fc2, h);
    return dc_cross_entropy(*logits, n->y, 0.0f);
}

/* |got - want| <= atol + rtol |want| for every element, else report the first miss. */
static void expect_close(const char *what, const float *got, const dc_tensor *want,
                         float atol, float rtol)
{
    for (size_t i = 0; i < want->size; i++) {
        float w = want->data[i];
        cr_assert(fabsf(got[i] - w) <= atol + rtol * fabsf(w),
                  "%s[%zu]: expected %.8g got %.8g", what, i, w, got[i]);
    }
}

Test(torch_mlp, forward_loss_and_gradients_match_pytorch)
{
    dc_safetensors *st = fixture();
    net n;
    dc_tensor *logits, *xin, *loss;
    char key[64];

    net_init(&n, st);
    xin = dc_tensor_new2(8, 784);
    for (size_t i = 0; i < xin->size; i++)
        xin->data[i] = n.x->data[i];
    xin->requires_grad = 1;

    loss = net_loss(&n, xin, &logits);
    expect_close("logits", logits->data, need(st, "logits"), 1e-5f, 1e-5f);
    expect_close("loss", loss->data, need(st, "loss"), 1e-6f, 1e-5f);
    cr_assert_float_eq(dc_cross_entropy(logits, n.y, 0.1f)->data[0],
                       need(st, "loss_smoothed_0.1")->data[0], 1e-5);

    cr_assert_eq(dc_backward(loss), DC_OK);
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "grad.%s", param_names[i]);
        expect_close(key, dc_params_find(n.p, param_names[i])->grad, need(st, key), 1e-7f,
                     1e-4f);
    }
    expect_close("grad.x", xin->grad, need(st, "grad.x"), 1e-8f, 1e-4f);
    dc_step_end();
    dc_tensor_free(xin);
    dc_params_free(n.p);
    dc_safetensors_free(st);
}

/* Parameters after three steps within 1e-6 + 1e-4 relative of PyTorch's. Adam divides by
 * sqrt(v) + eps, so where the first gradient is below 1e-6 (the fixture has some near
 * 2e-9) float rounding of the gradient moves that element's update by a few percent of
 * lr; those elements get `loose` instead of 1e-6. */
static void expect_params(const char *key, const float *got, const dc_tensor *want,
                          const float *grad0, float loose)
{
    for (size_t i = 0; i < want->size; i++) {
        float atol = fabsf(grad0[i]) < 1e-6f ? loose : 1e-6f, w = want->data[i];
        cr_assert(fabsf(got[i] - w) <= atol + 1e-4f * fabsf(w),
                  "%s[%zu]: expected %.8g got %.8g", key, i, w, got[i]);
    }
}

/* Three steps with the optimizer made by `make`, compared with the fixture's `prefix`. */
static void check_optimizer(const char *prefix, dc_optim *(*make)(dc_params *), float loose)
{
    dc_safetensors *st = fixture();
    net n;
    dc_optim *opt;
    char key[64];
    float losses[3];

    net_init(&n, st);
    opt = make(n.p);
    cr_assert_not_null(opt);
    for (int s = 0; s < 3; s++) {
        dc_tensor *logits;
        dc_optim_zero_grad(opt);
        dc_tensor *loss = net_loss(&n, n.x, &logits);
        losses[s] = loss->data[0];
        dc_backward(loss);
        dc_optim_step(opt);
        dc_step_end();
    }
    snprintf(key, sizeof key, "%s.losses", prefix);
    expect_close(key, losses, need(st, key), 1e-6f, 1e-5f);
    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "grad.%s", param_names[i]);
        const float *grad0 = need(st, key)->data;
        snprintf(key, sizeof key, "%s.%s", prefix, param_names[i]);
        expect_params(key, dc_params_find(n.p, param_names[i])->data, need(st, key), grad0,
                      loose);
    }
    dc_optim_free(opt);
    dc_params_free(n.p);
    dc_safetensors_free(st);
}

static dc_optim *make_sgd(dc_params *p)
{
    return dc_sgd_new(p, (dc_sgd_opts){.lr = 0.1f, .momentum = 0.9f, .weight_decay = 1e-4f});
}

static dc_optim *make_sgd_plain(dc_params *p)
{
    return dc_sgd_new(p, (dc_sgd_opts){.lr = 0.1f, .weight_decay = 1e-4f});
}

static dc_optim *make_sgd_nesterov(dc_params *p)
{
    return dc_sgd_new(p, (dc_sgd_opts){.lr = 0.1f, .momentum = 0.9f, .weight_decay = 1e-4f,
                                        .nesterov = 1});
}

static dc_optim *make_adam(dc_params *p)
{
    dc_adam_opts o = dc_adam_defaults();
    o.weight_decay = 0.1f;
    return dc_adam_new(p, o);
}

static dc_optim *make_adamw(dc_params *p)
{
    dc_adam_opts o = dc_adam_defaults();
    o.weight_decay = 0.1f;
    return dc_adamw_new(p, o);
}

Test(torch_mlp, sgd_momentum_three_steps_match_pytorch)
{
    check_optimizer("sgd", make_sgd, 1e-6f);
}

Test(torch_mlp, sgd_plain_three_steps_match_pytorch)
{
    check_optimizer("sgd_plain", make_sgd_plain, 1e-6f);
}

Test(torch_mlp, sgd_nesterov_three_steps_match_pytorch)
{
    check_optimizer("sgd_nesterov", make_sgd_nesterov, 1e-6f);
}

/* 3e-5 is 1% of three steps at lr 1e-3. */
Test(torch_mlp, adam_three_steps_match_pytorch)
{
    check_optimizer("adam", make_adam, 3e-5f);
}

Test(torch_mlp, adamw_three_steps_match_pytorch)
{
    check_optimizer("adamw", make_adamw, 3e-5f);
}

/* The hand-written mnist-mlp gradients equal the tape's to 1e-5 relative. */
Test(torch_mlp, manual_backprop_equals_tape)
{
    dc_safetensors *st = fixture();
    net n;
    mlp_manual m;
    dc_rng rng;
    dc_tensor *logits;
    dc_tensor *mine[4], *theirs[4];

    net_init(&n, st);
    dc_rng_seed(&rng, 0);
    cr_assert_eq(mlp_manual_init(&m, 784, 128, 10, &rng), 0);
    mine[0] = m.w1, mine[1] = m.b1, mine[2] = m.w2, mine[3] = m.b2;
    for (int i = 0; i < 4; i++) {
        theirs[i] = dc_params_find(n.p, param_names[i]);
        for (size_t j = 0; j < theirs[i]->size; j++)
            mine[i]->data[j] = theirs[i]->data[j];
    }

    double manual_loss = mlp_manual_forward_backward(&m, n.x->data, n.y, 8, 0, NULL);
    dc_tensor *loss = net_loss(&n, n.x, &logits);
    cr_assert_float_eq(manual_loss, loss->data[0], 1e-5 * fabs(loss->data[0]));
    dc_backward(loss);

    dc_tensor *grads[] = {m.gw1, m.gb1, m.gw2, m.gb2};
    for (int i = 0; i < 4; i++) {
        dc_tensor want = *theirs[i];
        want.data = theirs[i]->grad;
        expect_close(param_names[i], grads[i]->data, &want, 1e-9f, 1e-5f);
    }
    dc_step_end();
    mlp_manual_free(&m);
    dc_params_free(n.p);
    dc_safetensors_free(st);
}
