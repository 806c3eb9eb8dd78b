/* random_labels.c - `deepc run random-labels`: course part 2's memorisation experiment.
 * A 784-128(ReLU)-2 network learns 128 MNIST images whose labels are coin flips: the
 * training loss goes to ~0 while test accuracy (test images with their own coin-flip
 * labels) stays at chance. Built on the library's tape, modules and Adam. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "deepc/log.h"
#include "deepc/nn.h"
#include "deepc/ops.h"
#include "deepc/optim.h"

typedef struct rl_net {
    dc_params *params;
    dc_linear_layer fc1, fc2;
} rl_net;

static int net_init(rl_net *n, int in, int hidden, dc_rng *rng)
{
    n->params = dc_params_new();
    if (!n->params)
        return -1;
    if (dc_linear_layer_init(&n->fc1, n->params, "fc1", in, hidden, 1, rng) != DC_OK
        || dc_linear_layer_init(&n->fc2, n->params, "fc2", hidden, 2, 1, rng) != DC_OK)
        return -1;
    return 0;
}

static dc_tensor *net_forward(const rl_net *n, dc_tensor *x)
{
    return dc_linear_layer_forward(&n->fc2,
                                   dc_relu(dc_linear_layer_forward(&n->fc1, dc_flatten(x))));
}

/* Replaces every label with a Bernoulli(0.5) draw. */
static void randomise_labels(dc_dataset *ds, dc_rng *rng)
{
    for (int i = 0; i < ds->n; i++)
        ds->y[i] = dc_rng_u32(rng) >> 31;
    ds->n_classes = 2;
}

/* Loss and accuracy of the whole dataset in one no-grad pass. */
static void evaluate(const rl_net *n, const dc_dataset *ds, double *loss, double *acc)
{
    int prev = dc_grad_enabled(0), hits = 0;
    dc_tensor *logits = net_forward(n, ds->x);
    int *pred = dc_arena_alloc((size_t)ds->n * sizeof(int));

    *loss = dc_cross_entropy(logits, ds->y, 0.0f)->data[0];
    dc_argmax_rows(logits, pred);
    for (int i = 0; i < ds->n; i++)
        hits += pred[i] == ds->y[i];
    *acc = (double)hits / ds->n;
    dc_step_end();
    dc_grad_enabled(prev);
}

enum { C_EPOCH, C_TRAIN_LOSS, C_TRAIN_ACC, C_TEST_LOSS, C_TEST_ACC, N_C };

static int fit(const exp_ctx *ctx, dc_run *run, rl_net *net, const dc_dataset *train,
               const dc_dataset *test, double **cols, int epochs)
{
    dc_adam_opts ao = dc_adam_defaults();
    dc_optim *opt;

    ao.lr = (float)exp_float(ctx, "lr");
    opt = dc_adam_new(net->params, ao);
    if (!opt)
        return -1;

    /* Full batch, no shuffling: every epoch is one step on all examples in order. */
    for (int e = 0; e < epochs; e++) {
        double row[N_C];
        dc_optim_zero_grad(opt);
        dc_tensor *loss = dc_cross_entropy(net_forward(net, train->x), train->y, 0.0f);
        dc_backward(loss);
        dc_optim_step(opt);
        dc_step_end();

        row[C_EPOCH] = e + 1;
        evaluate(net, train, &row[C_TRAIN_LOSS], &row[C_TRAIN_ACC]);
        evaluate(net, test, &row[C_TEST_LOSS], &row[C_TEST_ACC]);
        for (int c = 0; c < N_C; c++)
            cols[c][e] = row[c];
        dc_run_metrics_row(run, row, N_C);
        if ((e + 1) % 10 == 0 || e == 0 || e + 1 == epochs)
            dc_log(DC_LOG_INFO, "epoch %3d/%d  train loss %.5f acc %.4f  test loss %.4f "
                   "acc %.4f", e + 1, epochs, row[C_TRAIN_LOSS], row[C_TRAIN_ACC],
                   row[C_TEST_LOSS], row[C_TEST_ACC]);
    }
    dc_optim_free(opt);
    return 0;
}

static int outputs(const exp_ctx *ctx, dc_run *run, rl_net *net, double **cols, int epochs,
                   int n_train, int n_test)
{
    const char *labels[] = {"train (random labels)", "test (random labels)"};
    const double *loss[] = {cols[C_TRAIN_LOSS], cols[C_TEST_LOSS]};
    const double *acc[] = {cols[C_TRAIN_ACC], cols[C_TEST_ACC]};
    dc_report *r = dc_report_new("random-labels: memorising coin-flip labels");
    char path[4200];
    int last = epochs - 1;

    exp_plot_epochs(run, "loss.png", "Random labels: cross-entropy loss", "loss", labels,
                    loss, 2, epochs, 0);
    exp_plot_epochs(run, "accuracy.png", "Random labels: accuracy", "accuracy", labels, acc,
                    2, epochs, 0);
    if (dc_params_save(net->params, dc_run_path(run, "model.safetensors", path, sizeof path),
                       NULL, 0) != DC_OK) {
        dc_report_free(r);
        return -1;
    }

    dc_report_text(r, "A 784-128(ReLU)-2 network trained with Adam on the first %d MNIST "
                   "training images, each labelled by a fair coin; tested on %d test images "
                   "with their own coin-flip labels.", n_train, n_test);
    dc_report_text(r, "After %d epochs: train loss %.5f, train accuracy %.2f%%, test "
                   "accuracy %.2f%%. Course: train loss ~0, train 100%%, test ~49.6%%.",
                   epochs, cols[C_TRAIN_LOSS][last], 100 * cols[C_TRAIN_ACC][last],
                   100 * cols[C_TEST_ACC][last]);
    dc_report_image(r, dc_run_path(run, "loss.png", path, sizeof path), "Loss per epoch");
    dc_report_image(r, dc_run_path(run, "accuracy.png", path, sizeof path),
                    "Accuracy per epoch");
    exp_report_settings(r, ctx);
    int rc = exp_report_finish(r, run);
    dc_report_free(r);
    return rc;
}

static int random_labels_run(exp_ctx *ctx)
{
    int epochs = (int)exp_int(ctx, "epochs"), rc = -1;
    double *cols[N_C] = {0};
    rl_net net = {0};
    dc_dataset *train = NULL, *test = NULL;
    dc_run *run = exp_begin(ctx, "random-labels");
    dc_rng rng;

    if (!run)
        return -1;
    train = exp_load_mnist(ctx, "train", (int)exp_int(ctx, "train_size"));
    test = train ? exp_load_mnist(ctx, "test", (int)exp_int(ctx, "test_limit")) : NULL;
    for (int c = 0; c < N_C; c++)
        cols[c] = dc_calloc((size_t)epochs, sizeof(double), "metrics");
    if (!test || !cols[N_C - 1])
        goto done;

    /* One stream, in a fixed order: weights, then train labels, then test labels. */
    dc_rng_seed(&rng, ctx->seed);
    if (net_init(&net, 784, (int)exp_int(ctx, "hidden"), &rng) != 0)
        goto done;
    randomise_labels(train, &rng);
    randomise_labels(test, &rng);

    dc_run_metrics_header(run, "epoch,train_loss,train_acc,test_loss,test_acc");
    if (fit(ctx, run, &net, train, test, cols, epochs) != 0)
        goto done;
    if (outputs(ctx, run, &net, cols, epochs, train->n, test->n) != 0)
        goto done;
    dc_run_summary_num(run, "train_loss", cols[C_TRAIN_LOSS][epochs - 1]);
    dc_run_summary_num(run, "train_acc", cols[C_TRAIN_ACC][epochs - 1]);
    dc_run_summary_num(run, "test_acc", cols[C_TEST_ACC][epochs - 1]);
    dc_log(DC_LOG_INFO, "final: train loss %.5f, train accuracy %.4f, test accuracy %.4f",
           cols[C_TRAIN_LOSS][epochs - 1], cols[C_TRAIN_ACC][epochs - 1],
           cols[C_TEST_ACC][epochs - 1]);
    rc = 0;
done:
    for (int c = 0; c < N_C; c++)
        free(cols[c]);
    dc_params_free(net.params);
    dc_dataset_free(train);
    dc_dataset_free(test);
    return exp_end(run, rc);
}

static const exp_setting random_labels_settings[] = {
    {"epochs", EXP_INT, "100", "100", "full-batch Adam steps", NULL, 1, 1000000},
    {"lr", EXP_FLOAT, "0.001", "0.001", "Adam learning rate", NULL, 0, 1e6},
    {"hidden", EXP_INT, "128", "128", "hidden units", NULL, 1, 100000},
    {"train_size", EXP_INT, "128", "128", "first N training images, one batch", NULL, 1,
     60000},
    {"test_limit", EXP_INT, "2000", "0", "first N test images (0: all 10000)", NULL, 0, 0},
    {NULL},
};

const experiment exp_random_labels = {
    .name = "random-labels",
    .summary = "course part 2: 784-128-2 network memorises 128 coin-flip labels",
    .data = "MNIST (bundled in data/mnist)",
    .produces = "loss and accuracy curves (train and test), model, report",
    .default_seed = 42,
    .settings = random_labels_settings,
    .run = random_labels_run,
};
