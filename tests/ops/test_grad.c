/* Finite-difference gradient tests of every op in src/ops, input gradients included. */
#include <stdio.h>
#include <string.h>

#include "ops/gradcheck.h"

static void free_all(dc_tensor **in, int n)
{
    for (int i = 0; i < n; i++)
        dc_tensor_free(in[i]);
}

static dc_tensor *f_matmul(dc_tensor **in, void *ctx) { return dc_matmul(in[0], in[1]); }
static dc_tensor *f_linear(dc_tensor **in, void *ctx) { return dc_linear(in[0], in[1], in[2]); }
static dc_tensor *f_linear_nb(dc_tensor **in, void *ctx)
{
    return dc_linear(in[0], in[1], NULL);
}
static dc_tensor *f_add(dc_tensor **in, void *ctx) { return dc_add(in[0], in[1]); }
static dc_tensor *f_sub(dc_tensor **in, void *ctx) { return dc_sub(in[0], in[1]); }
static dc_tensor *f_mul(dc_tensor **in, void *ctx) { return dc_mul(in[0], in[1]); }
static dc_tensor *f_div(dc_tensor **in, void *ctx) { return dc_div(in[0], in[1]); }
static dc_tensor *f_scale(dc_tensor **in, void *ctx) { return dc_scale(in[0], -1.7f); }
static dc_tensor *f_adds(dc_tensor **in, void *ctx) { return dc_add_scalar(in[0], 0.3f); }
static dc_tensor *f_sigmoid(dc_tensor **in, void *ctx) { return dc_sigmoid(in[0]); }
static dc_tensor *f_relu(dc_tensor **in, void *ctx) { return dc_relu(in[0]); }
static dc_tensor *f_tanh(dc_tensor **in, void *ctx) { return dc_tanh(in[0]); }
static dc_tensor *f_exp(dc_tensor **in, void *ctx) { return dc_exp(in[0]); }
static dc_tensor *f_log(dc_tensor **in, void *ctx) { return dc_ln(in[0]); }
static dc_tensor *f_softmax(dc_tensor **in, void *ctx) { return dc_softmax(in[0]); }
static dc_tensor *f_lsm(dc_tensor **in, void *ctx) { return dc_log_softmax(in[0]); }
static dc_tensor *f_sum(dc_tensor **in, void *ctx) { return dc_sum(in[0]); }
static dc_tensor *f_mean(dc_tensor **in, void *ctx) { return dc_mean(in[0]); }
static dc_tensor *f_flatten(dc_tensor **in, void *ctx) { return dc_flatten(in[0]); }

static dc_tensor *f_ce(dc_tensor **in, void *ctx)
{
    static const int labels[] = {2, 0, 4, 1};

    return dc_cross_entropy(in[0], labels, *(float *)ctx);
}

/* Reshape feeding another op, so its gradient has to travel through the view. */
static dc_tensor *f_reshape(dc_tensor **in, void *ctx)
{
    return dc_tanh(dc_reshape(in[0], 3, (int[]){3, 2, 4}));
}

Test(grad, matmul)
{
    dc_tensor *in[] = {gc_input(2, (int[]){3, 5}, -1, 1, 0, 1),
                       gc_input(2, (int[]){5, 4}, -1, 1, 0, 2)};
    gradcheck("matmul", f_matmul, in, 2, NULL, gc_default);
    free_all(in, 2);
}

Test(grad, linear_with_and_without_bias)
{
    dc_tensor *in[] = {gc_input(2, (int[]){4, 6}, -1, 1, 0, 3),
                       gc_input(2, (int[]){3, 6}, -1, 1, 0, 4),
                       gc_input(1, (int[]){3}, -1, 1, 0, 5)};
    gradcheck("linear", f_linear, in, 3, NULL, gc_default);
    gradcheck("linear without bias", f_linear_nb, in, 2, NULL, gc_default);
    free_all(in, 3);
}

/* Each binary op over equal shapes and two kinds of broadcast. */
static void check_binary(const char *name, gc_fn fn, float lo, float hi)
{
    int shapes[][2][4] = {
        {{3, 2, 3, 4}, {3, 2, 3, 4}},  /* {ndim, dims...} of a, then of b */
        {{3, 2, 3, 4}, {2, 3, 1}},
        {{1, 4}, {3, 2, 3, 4}},
    };
    for (int s = 0; s < 3; s++) {
        int *sa = shapes[s][0], *sb = shapes[s][1];
        dc_tensor *in[] = {gc_input(sa[0], sa + 1, lo, hi, 0, 10 + s),
                           gc_input(sb[0], sb + 1, lo, hi, 0, 20 + s)};
        char what[64];
        snprintf(what, sizeof what, "%s case %d", name, s);
        gradcheck(what, fn, in, 2, NULL, gc_default);
        free_all(in, 2);
    }
}

Test(grad, add_sub_mul_broadcast)
{
    check_binary("add", f_add, -1, 1);
    check_binary("sub", f_sub, -1, 1);
    check_binary("mul", f_mul, -1, 1);
}

Test(grad, div_broadcast)
{
    /* Positive, away from 0, so 1/b stays smooth within h. */
    check_binary("div", f_div, 0.5f, 2.0f);
}

Test(grad, broadcast_rejects_mismatch)
{
    dc_tensor *a = dc_tensor_new2(2, 3), *b = dc_tensor_new2(2, 4);

    cr_assert_null(dc_add(a, b));
    cr_assert(strstr(dc_last_error(), "add: shapes [2,3] and [2,4] do not broadcast"));
    dc_tensor_free(a);
    dc_tensor_free(b);
}

Test(grad, broadcast_values)
{
    dc_tensor *a = dc_tensor_new2(2, 3), *b = dc_tensor_new1(3);
    dc_tensor *y;

    for (int i = 0; i < 6; i++)
        a->data[i] = (float)i;
    for (int i = 0; i < 3; i++)
        b->data[i] = 10.0f * (float)(i + 1);
    y = dc_add(a, b);
    cr_assert_eq(y->ndim, 2);
    float want[] = {10, 21, 32, 13, 24, 35};
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(y->data[i], want[i], 0);
    dc_step_end();
    dc_tensor_free(a);
    dc_tensor_free(b);
}

Test(grad, scalar_ops)
{
    dc_tensor *in[] = {gc_input(2, (int[]){3, 4}, -1, 1, 0, 30)};
    gradcheck("scale", f_scale, in, 1, NULL, gc_default);
    gradcheck("add_scalar", f_adds, in, 1, NULL, gc_default);
    free_all(in, 1);
}

Test(grad, activations)
{
    dc_tensor *in[] = {gc_input(3, (int[]){2, 3, 5}, -3, 3, 0.05f, 40)};
    dc_tensor *pos[] = {gc_input(2, (int[]){4, 5}, 0.2f, 3, 0, 41)};

    gradcheck("sigmoid", f_sigmoid, in, 1, NULL, gc_default);
    gradcheck("relu", f_relu, in, 1, NULL, gc_default);
    gradcheck("tanh", f_tanh, in, 1, NULL, gc_default);
    gradcheck("exp", f_exp, in, 1, NULL, gc_default);
    gradcheck("log", f_log, pos, 1, NULL, gc_default);
    free_all(in, 1);
    free_all(pos, 1);
}

Test(grad, softmax_and_log_softmax)
{
    dc_tensor *in[] = {gc_input(3, (int[]){2, 3, 6}, -3, 3, 0, 50)};

    gradcheck("softmax", f_softmax, in, 1, NULL, gc_default);
    gradcheck("log_softmax", f_lsm, in, 1, NULL, gc_default);
    free_all(in, 1);
}

Test(grad, reductions_and_reshape)
{
    dc_tensor *in[] = {gc_input(3, (int[]){2, 3, 4}, -1, 1, 0, 60)};

    gradcheck("sum", f_sum, in, 1, NULL, gc_default);
    gradcheck("mean", f_mean, in, 1, NULL, gc_default);
    gradcheck("reshape", f_reshape, in, 1, NULL, gc_default);
    gradcheck("flatten", f_flatten, in, 1, NULL, gc_default);
    free_all(in, 1);
}

Test(grad, cross_entropy_plain_and_smoothed)
{
    dc_tensor *in[] = {gc_input(2, (int[]){4, 5}, -2, 2, 0, 70)};
    float s0 = 0.0f, s1 = 0.1f;

    gradcheck("cross_entropy", f_ce, in, 1, &s0, gc_default);
    gradcheck("cross_entropy smoothed", f_ce, in, 1, &s1, gc_default);
    free_all(in, 1);
}

Test(grad, cross_entropy_value_and_label_check)
{
    /* Uniform logits: loss = log(k) whatever the label or smoothing. */
    dc_tensor *z = dc_tensor_new2(2, 4);
    int labels[] = {1, 3}, bad[] = {1, 4};

    cr_assert_float_eq(dc_cross_entropy(z, labels, 0.0f)->data[0], logf(4.0f), 1e-6);
    cr_assert_float_eq(dc_cross_entropy(z, labels, 0.3f)->data[0], logf(4.0f), 1e-6);
    cr_assert_null(dc_cross_entropy(z, bad, 0.0f));
    cr_assert(strstr(dc_last_error(), "label 4 at row 1, expected 0 to 3"));
    dc_step_end();
    dc_tensor_free(z);
}

Test(grad, no_grad_mode_records_nothing)
{
    dc_tensor *x = gc_input(2, (int[]){2, 2}, -1, 1, 0, 80);
    int prev = dc_grad_enabled(0);

    dc_sigmoid(x);
    cr_assert_eq(dc_tape_size(), 0);
    dc_grad_enabled(prev);
    dc_sigmoid(x);
    cr_assert_eq(dc_tape_size(), 1);
    dc_step_end();
    cr_assert_eq(dc_tape_size(), 0);
    dc_tensor_free(x);
}
