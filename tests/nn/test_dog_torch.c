/* The dog-emotion CNN against PyTorch (fixture made by tests/fixtures/make_dog_fixture.py):
 * parameter count, training-mode logits and label-smoothed loss, every gradient, one
 * Adam step with weight decay (parameters and batch-norm running statistics), and the
 * eval-mode logits afterwards. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>

#include "deepc/io.h"
#include "deepc/ops.h"
#include "deepc/optim.h"
#include "dog_net.h"

#define FIXTURE DC_SOURCE_DIR "/tests/fixtures/dog_step.safetensors"

static dc_tensor *need(const dc_safetensors *st, const char *name)
{
    dc_tensor *t = dc_safetensors_find(st, name);

    cr_assert_not_null(t, "fixture lacks %s", name);
    return t;
}

static void expect_close(const char *what, const float *got, const dc_tensor *want,
                         float atol, float rtol)
{
    for (size_t i = 0; i < want->size; i++) {
        float w = want->data[i];
        cr_assert(fabsf(got[i] - w) <= atol + rtol * fabsf(w),
                  "%s[%zu]: expected %.8g got %.8g", what, i, w, got[i]);
    }
}

/* Copies "<prefix><name>" from the fixture into every parameter and buffer. */
static void load_state(dog_net *net, const dc_safetensors *st, const char *prefix)
{
    char key[128];

    for (int i = 0; i < net->params->n; i++) {
        snprintf(key, sizeof key, "%s%s", prefix, net->params->items[i].name);
        cr_assert_eq(dc_safetensors_copy_into(st, key, net->params->items[i].tensor), DC_OK,
                     "%s", dc_last_error());
    }
}

Test(torch_dog, one_training_step_matches_pytorch)
{
    dc_safetensors *st = dc_safetensors_load(FIXTURE);
    dog_net net;
    dc_rng rng;
    int y[4];
    char key[128];

    cr_assert_not_null(st, "%s", dc_last_error());
    dc_rng_seed(&rng, 0);
    cr_assert_eq(dog_net_init(&net, 4, &rng), 0, "%s", dc_last_error());
    cr_assert_eq(dc_params_count(net.params), (size_t)need(st, "param_count")->data[0]);
    load_state(&net, st, "init.");
    net.dropout = 0.0f;  /* the fixture's network has dropout off */
    for (int i = 0; i < 4; i++)
        y[i] = (int)need(st, "y")->data[i];

    dc_adam_opts o = dc_adam_defaults();
    o.weight_decay = 1e-4f;
    dc_optim *opt = dc_adam_new(net.params, o);
    dc_tensor *logits = dog_net_forward(&net, need(st, "x"), 1, &rng);
    cr_assert_not_null(logits, "%s", dc_last_error());
    dc_tensor *loss = dc_cross_entropy(logits, y, 0.1f);
    expect_close("logits", logits->data, need(st, "logits"), 1e-4f, 1e-4f);
    expect_close("loss", loss->data, need(st, "loss"), 1e-6f, 1e-5f);

    /* Gradients: batch norm over 4 images divides by small variances, so float
     * rounding shows at ~1e-4 relative; 1e-3 still catches any wrong formula. */
    dc_optim_zero_grad(opt);
    cr_assert_eq(dc_backward(loss), DC_OK);
    for (int i = 0; i < net.params->n; i++) {
        dc_tensor *t = net.params->items[i].tensor;
        if (!t->requires_grad)
            continue;
        snprintf(key, sizeof key, "grad.%s", net.params->items[i].name);
        expect_close(key, t->grad, need(st, key), 1e-5f, 1e-3f);
    }
    dc_optim_step(opt);
    dc_step_end();

    /* After one Adam step every parameter moved by about lr; buffers by momentum.
     * A bias followed by batch norm (stem.conv.bias, head.fc1.bias) has a true gradient
     * of 0, so both sides hold rounding noise far below Adam's eps, and the step is
     * noise / eps * lr: anywhere in +-lr. Elements whose gradient is below 1e-7 may
     * differ by 2 lr; every other element must agree to 2e-5. */
    for (int i = 0; i < net.params->n; i++) {
        dc_tensor *t = net.params->items[i].tensor;
        snprintf(key, sizeof key, "grad.%s", net.params->items[i].name);
        const dc_tensor *g = t->requires_grad ? need(st, key) : NULL;
        snprintf(key, sizeof key, "step.%s", net.params->items[i].name);
        const dc_tensor *want = need(st, key);
        for (size_t j = 0; j < want->size; j++) {
            float atol = g && fabsf(g->data[j]) < 1e-7f ? 2e-3f : 2e-5f;
            cr_assert(fabsf(t->data[j] - want->data[j]) <= atol + 1e-4f * fabsf(want->data[j]),
                      "%s[%zu]: expected %.8g got %.8g", key, j, want->data[j], t->data[j]);
        }
    }
    logits = dog_net_forward(&net, need(st, "x"), 0, NULL);
    expect_close("eval_logits", logits->data, need(st, "eval_logits"), 1e-3f, 1e-3f);
    dc_step_end();
    dc_optim_free(opt);
    dog_net_free(&net);
    dc_safetensors_free(st);
}
