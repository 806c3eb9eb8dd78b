/* mnist_mlp.c - `deepc run mnist-mlp`: course part 1's network from scratch on MNIST,
 * and with sweep=1 the learning-rate sweep 1e-4 ... 1.
 *
 * Shapes: b = batch, in = 784, hid = 128, out = 10.
 *   z1 = x W1^T + b1 [b,hid]    h = sigmoid(z1)    z2 = h W2^T + b2 [b,out]
 *   p = softmax(z2)             loss = -(1/b) sum_i log p[i, y_i]
 * Backward (r = 1/b for the mean, 1 for the sum):
 *   dz2 = r (p - onehot(y))     dW2 = dz2^T h      db2 = sum_i dz2
 *   dh = dz2 W2                 dz1 = dh h (1 - h) dW1 = dz1^T x   db1 = sum_i dz1 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "deepc/io.h"
#include "deepc/log.h"
#include "deepc/ops.h"
#include "mnist_mlp.h"

int mlp_manual_init(mlp_manual *m, int in, int hidden, int out, dc_rng *rng)
{
    dc_tensor **all[] = {&m->w1, &m->b1, &m->w2, &m->b2, &m->gw1, &m->gb1, &m->gw2, &m->gb2};
    int shapes[][2] = {{hidden, in}, {hidden, 1}, {out, hidden}, {out, 1}};
    float bound1 = 1.0f / sqrtf((float)in), bound2 = 1.0f / sqrtf((float)hidden);

    memset(m, 0, sizeof *m);
    m->in = in, m->hidden = hidden, m->out = out;
    for (int i = 0; i < 8; i++) {
        const int *s = shapes[i % 4];
        *all[i] = s[1] == 1 ? dc_tensor_new1(s[0]) : dc_tensor_new2(s[0], s[1]);
        if (!*all[i]) {
            mlp_manual_free(m);
            return -1;
        }
    }

    /* nn.Linear's default: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
    for (size_t i = 0; i < m->w1->size; i++)
        m->w1->data[i] = bound1 * (2.0f * dc_rng_uniform(rng) - 1.0f);
    for (size_t i = 0; i < m->b1->size; i++)
        m->b1->data[i] = bound1 * (2.0f * dc_rng_uniform(rng) - 1.0f);
    for (size_t i = 0; i < m->w2->size; i++)
        m->w2->data[i] = bound2 * (2.0f * dc_rng_uniform(rng) - 1.0f);
    for (size_t i = 0; i < m->b2->size; i++)
        m->b2->data[i] = bound2 * (2.0f * dc_rng_uniform(rng) - 1.0f);
    return 0;
}

void mlp_manual_free(mlp_manual *m)
{
    dc_tensor *all[] = {m->w1, m->b1, m->w2, m->b2, m->gw1, m->gb1, m->gw2, m->gb2};

    for (int i = 0; i < 8; i++)
        dc_tensor_free(all[i]);
    memset(m, 0, sizeof *m);
}

/* rows of z [b,n] = x [b,k] W^T + bias, with W [n,k] */
static void affine_forward(const float *x, const dc_tensor *w, const dc_tensor *bias,
                           int b, float *z)
{
    int n = w->shape[0], k = w->shape[1];

    for (int i = 0; i < b; i++)
        memcpy(z + (size_t)i * n, bias->data, (size_t)n * sizeof(float));
    dc_sgemm(0, 1, b, n, k, 1.0f, x, w->data, 1.0f, z);
}

/* Softmax of each row of z [b,k] into p, and the summed -log p[y] and hits. */
static double softmax_xent(const float *z, const int *y, int b, int k, float *p,
                           int *correct)
{
    double loss = 0.0;
    int hits = 0;

    for (int i = 0; i < b; i++) {
        const float *zi = z + (size_t)i * k;
        float *pi = p + (size_t)i * k;
        float max = zi[0];
        double sum = 0.0;
        int arg = 0;
        for (int j = 1; j < k; j++)
            if (zi[j] > max)
                max = zi[j], arg = j;
        for (int j = 0; j < k; j++)
            sum += exp((double)(zi[j] - max));
        for (int j = 0; j < k; j++)
            pi[j] = (float)(exp((double)(zi[j] - max)) / sum);
        loss += log(sum) - (double)(zi[y[i]] - max);
        hits += arg == y[i];
    }
    if (correct)
        *correct = hits;
    return loss;
}

static void column_sums(const float *a, int b, int n, float *out)
{
    memset(out, 0, (size_t)n * sizeof(float));
    for (int i = 0; i < b; i++)
        for (int j = 0; j < n; j++)
            out[j] += a[(size_t)i * n + j];
}

double mlp_manual_forward_backward(mlp_manual *m, const float *x, const int *y, int b,
                                   int sum_reduction, int *correct)
{
    int in = m->in, hid = m->hidden, out = m->out;
    float *h = dc_arena_alloc((size_t)b * hid * sizeof(float));
    float *z2 = dc_arena_alloc((size_t)b * out * sizeof(float));
    float *p = dc_arena_alloc((size_t)b * out * sizeof(float));
    float *dh = dc_arena_alloc((size_t)b * hid * sizeof(float));
    float r = sum_reduction ? 1.0f : 1.0f / (float)b;
    double loss;

    /* Forward: h = sigmoid(x W1^T + b1), z2 = h W2^T + b2. */
    affine_forward(x, m->w1, m->b1, b, h);
    for (size_t i = 0; i < (size_t)b * hid; i++)
        h[i] = 1.0f / (1.0f + expf(-h[i]));
    affine_forward(h, m->w2, m->b2, b, z2);

    /* Loss, then dz2 = r (p - onehot(y)), written over p. */
    loss = softmax_xent(z2, y, b, out, p, correct);
    for (int i = 0; i < b; i++) {
        p[(size_t)i * out + y[i]] -= 1.0f;
        for (int j = 0; j < out; j++)
            p[(size_t)i * out + j] *= r;
    }

    /* Second layer: dW2 = dz2^T h, db2 = column sums, dh = dz2 W2. */
    dc_sgemm(1, 0, out, hid, b, 1.0f, p, h, 0.0f, m->gw2->data);
    column_sums(p, b, out, m->gb2->data);
    dc_sgemm(0, 0, b, hid, out, 1.0f, p, m->w2->data, 0.0f, dh);

    /* Through the sigmoid: dz1 = dh h (1 - h), then dW1 = dz1^T x, db1. */
    for (size_t i = 0; i < (size_t)b * hid; i++)
        dh[i] *= h[i] * (1.0f - h[i]);
    dc_sgemm(1, 0, hid, in, b, 1.0f, dh, x, 0.0f, m->gw1->data);
    column_sums(dh, b, hid, m->gb1->data);
    return sum_reduction ? loss : loss / b;
}

void mlp_manual_sgd(mlp_manual *m, float lr)
{
    dc_tensor *w[] = {m->w1, m->b1, m->w2, m->b2}, *g[] = {m->gw1, m->gb1, m->gw2, m->gb2};

    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < w[k]->size; i++)
            w[k]->data[i] -= lr * g[k]->data[i];
}

void mlp_manual_evaluate(mlp_manual *m, const dc_tensor *x, const int *y, int n,
                         int batch, double *loss, double *acc)
{
    double total = 0.0;
    long hits = 0;
    int in = m->in;

    for (int start = 0; start < n; start += batch) {
        int b = n - start < batch ? n - start : batch, correct;
        float *h = dc_arena_alloc((size_t)b * m->hidden * sizeof(float));
        float *z2 = dc_arena_alloc((size_t)b * m->out * sizeof(float));
        float *p = dc_arena_alloc((size_t)b * m->out * sizeof(float));
        affine_forward(x->data + (size_t)start * in, m->w1, m->b1, b, h);
        for (size_t i = 0; i < (size_t)b * m->hidden; i++)
            h[i] = 1.0f / (1.0f + expf(-h[i]));
        affine_forward(h, m->w2, m->b2, b, z2);
        total += softmax_xent(z2, y + start, b, m->out, p, &correct);
        hits += correct;
        dc_step_end();
    }
    *loss = total / n;
    *acc = (double)hits / n;
}

/* ---- the experiment ---- */

enum { COL_EPOCH, COL_LR, COL_TRAIN_LOSS, COL_TRAIN_ACC, COL_TEST_LOSS, COL_TEST_ACC,
       COL_SECONDS, N_COLS };

typedef struct mlp_history {
    double *cols[N_COLS];  /* [epochs] each */
    int epochs;
} mlp_history;

typedef struct mlp_data {
    dc_dataset *train, *test;
} mlp_data;

/* Trains one network at learning rate `lr`, filling `hist` and the run's metrics. */
static int train_one(const exp_ctx *ctx, dc_run *run, const mlp_data *d, float lr,
                     mlp_history *hist, mlp_manual *m)
{
    int epochs = (int)exp_int(ctx, "epochs"), batch = (int)exp_int(ctx, "batch");
    int sum_red = strcmp(exp_str(ctx, "reduction"), "sum") == 0;
    int in = (int)(d->train->x->size / (size_t)d->train->n);
    dc_rng rng;
    dc_loader *ld;

    dc_rng_seed(&rng, ctx->seed);
    if (mlp_manual_init(m, in, (int)exp_int(ctx, "hidden"), 10, &rng) != 0)
        return -1;
    ld = dc_loader_new(d->train, batch, 1, 0, ctx->seed);
    if (!ld)
        return -1;

    for (int e = 0; e < epochs; e++) {
        double t0 = dc_now(), loss_sum = 0.0, row[N_COLS];
        long hits = 0, seen = 0;
        dc_tensor *x;
        int *y, b, correct;
        dc_progress prog;
        char label[64], extra[64];

        snprintf(label, sizeof label, "lr %g epoch %d/%d", lr, e + 1, epochs);
        dc_progress_begin(&prog, label, dc_loader_batches(ld));
        dc_loader_reset(ld);
        for (long step = 1; (b = dc_loader_next(ld, &x, &y)) > 0; step++) {
            double l = mlp_manual_forward_backward(m, x->data, y, b, sum_red, &correct);
            mlp_manual_sgd(m, lr);
            loss_sum += sum_red ? l : l * b;
            hits += correct, seen += b;
            dc_step_end();
            snprintf(extra, sizeof extra, "loss %.4f", loss_sum / seen);
            dc_progress_update(&prog, step, extra);
        }
        dc_progress_end(&prog);

        /* Train figures are running averages over the epoch's batches, as a training
         * loop reports them; test figures come from a full pass after the epoch. */
        row[COL_EPOCH] = e + 1, row[COL_LR] = lr;
        row[COL_TRAIN_LOSS] = loss_sum / seen, row[COL_TRAIN_ACC] = (double)hits / seen;
        mlp_manual_evaluate(m, d->test->x, d->test->y, d->test->n, 1000,
                            &row[COL_TEST_LOSS], &row[COL_TEST_ACC]);
        row[COL_SECONDS] = dc_now() - t0;
        for (int c = 0; c < N_COLS; c++)
            hist->cols[c][e] = row[c];
        dc_log(DC_LOG_INFO, "lr %g epoch %2d/%d  train loss %.4f acc %.4f  test loss %.4f "
               "acc %.4f  %.1fs", lr, e + 1, epochs, row[COL_TRAIN_LOSS],
               row[COL_TRAIN_ACC], row[COL_TEST_LOSS], row[COL_TEST_ACC], row[COL_SECONDS]);
        if (dc_run_metrics_row(run, row, N_COLS) != DC_OK)
            dc_log(DC_LOG_WARN, "%s", dc_last_error());
    }
    dc_loader_free(ld);
    return 0;
}

static int history_alloc(mlp_history *h, int epochs)
{
    h->epochs = epochs;
    for (int c = 0; c < N_COLS; c++)
        if (!(h->cols[c] = dc_calloc((size_t)epochs, sizeof(double), "history")))
            return -1;
    return 0;
}

static void history_free(mlp_history *h)
{
    for (int c = 0; c < N_COLS; c++)
        free(h->cols[c]);
}

static int save_model(dc_run *run, const mlp_manual *m, float lr)
{
    dc_named_tensor t[] = {{"fc1.weight", m->w1}, {"fc1.bias", m->b1},
                           {"fc2.weight", m->w2}, {"fc2.bias", m->b2}};
    char path[4200], lr_text[32];
    const char *meta[] = {"experiment", "mnist-mlp", "lr", lr_text};

    snprintf(lr_text, sizeof lr_text, "%g", lr);
    return dc_safetensors_save(dc_run_path(run, "model.safetensors", path, sizeof path), t,
                               4, meta, 2) == DC_OK ? 0 : -1;
}

static void plot_single(dc_run *run, const mlp_history *h)
{
    const char *labels[] = {"train", "test"};
    const double *loss[] = {h->cols[COL_TRAIN_LOSS], h->cols[COL_TEST_LOSS]};
    const double *acc[] = {h->cols[COL_TRAIN_ACC], h->cols[COL_TEST_ACC]};

    exp_plot_epochs(run, "loss.png", "MNIST MLP: cross-entropy loss", "loss", labels, loss,
                    2, h->epochs, 0);
    exp_plot_epochs(run, "accuracy.png", "MNIST MLP: accuracy", "accuracy", labels, acc, 2,
                    h->epochs, 0);
}

static int report_single(const exp_ctx *ctx, dc_run *run, const mlp_history *h,
                         const mlp_data *d)
{
    dc_report *r = dc_report_new("mnist-mlp: a network from scratch on MNIST");
    char path[4200];
    int last = h->epochs - 1;

    dc_report_text(r, "784-128-10 network with a sigmoid hidden layer, softmax "
                   "cross-entropy and plain mini-batch SGD, with the forward pass, loss, "
                   "backward pass and update written by hand (no autodiff). Trained on "
                   "%d images, tested on %d.", d->train->n, d->test->n);
    dc_report_text(r, "Final epoch: train accuracy %.2f%%, test accuracy %.2f%% "
                   "(train loss %.4f, test loss %.4f). Course: ~90%% train, ~88%% test.",
                   100 * h->cols[COL_TRAIN_ACC][last], 100 * h->cols[COL_TEST_ACC][last],
                   h->cols[COL_TRAIN_LOSS][last], h->cols[COL_TEST_LOSS][last]);
    dc_report_image(r, dc_run_path(run, "loss.png", path, sizeof path), "Loss per epoch");
    dc_report_image(r, dc_run_path(run, "accuracy.png", path, sizeof path),
                    "Accuracy per epoch (train: running average over the epoch)");
    exp_report_settings(r, ctx);
    int rc = exp_report_finish(r, run);
    dc_report_free(r);
    return rc;
}

static void summarise(dc_run *run, const mlp_history *h, const char *prefix)
{
    char key[64];
    int last = h->epochs - 1;
    const char *names[] = {"train_loss", "train_acc", "test_loss", "test_acc"};
    int cols[] = {COL_TRAIN_LOSS, COL_TRAIN_ACC, COL_TEST_LOSS, COL_TEST_ACC};

    for (int i = 0; i < 4; i++) {
        snprintf(key, sizeof key, "%s%s", prefix, names[i]);
        dc_run_summary_num(run, key, h->cols[cols[i]][last]);
    }
}

static int run_single(const exp_ctx *ctx, dc_run *run, const mlp_data *d)
{
    mlp_history h = {0};
    mlp_manual m = {0};
    float lr = (float)exp_float(ctx, "lr");
    int rc = -1;

    if (history_alloc(&h, (int)exp_int(ctx, "epochs")) != 0)
        goto done;
    if (train_one(ctx, run, d, lr, &h, &m) != 0 || save_model(run, &m, lr) != 0)
        goto done;
    summarise(run, &h, "");
    dc_run_summary_num(run, "parameters", (double)(m.w1->size + m.b1->size + m.w2->size
                                                   + m.b2->size));
    plot_single(run, &h);
    if (report_single(ctx, run, &h, d) != 0)
        goto done;
    dc_log(DC_LOG_INFO, "final: train accuracy %.4f, test accuracy %.4f",
           h.cols[COL_TRAIN_ACC][h.epochs - 1], h.cols[COL_TEST_ACC][h.epochs - 1]);
    rc = 0;
done:
    mlp_manual_free(&m);
    history_free(&h);
    return rc;
}

#define N_SWEEP 5
static const float sweep_lrs[N_SWEEP] = {1e-4f, 1e-3f, 1e-2f, 1e-1f, 1.0f};
static const char *const sweep_names[N_SWEEP] = {"lr 1e-4", "lr 1e-3", "lr 1e-2", "lr 0.1",
                                                 "lr 1"};

static int sweep_outputs(const exp_ctx *ctx, dc_run *run, mlp_history *h)
{
    const double *ys[N_SWEEP];
    char cells[(N_SWEEP + 1) * 5][32], path[4200];
    const char *ptr[(N_SWEEP + 1) * 5];
    const char *head[] = {"learning rate", "train loss", "train acc", "test loss",
                          "test acc"};
    int last = h[0].epochs - 1;
    dc_report *r = dc_report_new("mnist-mlp: learning-rate sweep");

    for (int c = 0; c < 5; c++)
        ptr[c] = head[c];
    for (int i = 0; i < N_SWEEP; i++) {
        snprintf(cells[5 * i + 5], 32, "%g", sweep_lrs[i]);
        snprintf(cells[5 * i + 6], 32, "%.4f", h[i].cols[COL_TRAIN_LOSS][last]);
        snprintf(cells[5 * i + 7], 32, "%.2f%%", 100 * h[i].cols[COL_TRAIN_ACC][last]);
        snprintf(cells[5 * i + 8], 32, "%.4f", h[i].cols[COL_TEST_LOSS][last]);
        snprintf(cells[5 * i + 9], 32, "%.2f%%", 100 * h[i].cols[COL_TEST_ACC][last]);
        for (int c = 0; c < 5; c++)
            ptr[5 * i + 5 + c] = cells[5 * i + 5 + c];
    }
    for (int i = 0; i < N_SWEEP; i++)
        ys[i] = h[i].cols[COL_TEST_ACC];
    exp_plot_epochs(run, "sweep_test_accuracy.png", "Learning-rate sweep: test accuracy",
                    "test accuracy", sweep_names, ys, N_SWEEP, h[0].epochs, 0);
    for (int i = 0; i < N_SWEEP; i++)
        ys[i] = h[i].cols[COL_TRAIN_LOSS];
    exp_plot_epochs(run, "sweep_train_loss.png", "Learning-rate sweep: training loss",
                    "training loss (log scale)", sweep_names, ys, N_SWEEP, h[0].epochs, 1);

    dc_report_text(r, "The same network and seed trained at five learning rates; figures "
                   "are from the last epoch.");
    dc_report_table(r, ptr, N_SWEEP + 1, 5);
    dc_report_image(r, dc_run_path(run, "sweep_test_accuracy.png", path, sizeof path),
                    "Test accuracy per epoch, one curve per learning rate");
    dc_report_image(r, dc_run_path(run, "sweep_train_loss.png", path, sizeof path),
                    "Training loss per epoch, one curve per learning rate");
    exp_report_settings(r, ctx);
    int rc = exp_report_finish(r, run);
    dc_report_free(r);
    return rc;
}

static int run_sweep(const exp_ctx *ctx, dc_run *run, const mlp_data *d)
{
    mlp_history h[N_SWEEP];
    int rc = 0;

    memset(h, 0, sizeof h);
    for (int i = 0; i < N_SWEEP && rc == 0; i++) {
        mlp_manual m = {0};
        char prefix[32];
        rc = history_alloc(&h[i], (int)exp_int(ctx, "epochs"));
        if (rc == 0)
            rc = train_one(ctx, run, d, sweep_lrs[i], &h[i], &m);
        if (rc == 0) {
            snprintf(prefix, sizeof prefix, "lr_%g_", sweep_lrs[i]);
            summarise(run, &h[i], prefix);
        }
        mlp_manual_free(&m);
    }
    if (rc == 0)
        rc = sweep_outputs(ctx, run, h);
    for (int i = 0; i < N_SWEEP; i++)
        history_free(&h[i]);
    return rc;
}

static int mnist_mlp_run(exp_ctx *ctx)
{
    dc_run *run = exp_begin(ctx, "mnist-mlp");
    mlp_data d = {0};
    int rc = -1;

    if (!run)
        return -1;
    d.train = exp_load_mnist(ctx, "train", (int)exp_int(ctx, "train_limit"));
    d.test = d.train ? exp_load_mnist(ctx, "test", (int)exp_int(ctx, "test_limit")) : NULL;
    if (d.test) {
        double t0 = dc_now();
        dc_run_metrics_header(run, "epoch,lr,train_loss,train_acc,test_loss,test_acc,"
                                   "seconds");
        rc = exp_int(ctx, "sweep") ? run_sweep(ctx, run, &d) : run_single(ctx, run, &d);
        dc_run_summary_num(run, "wall_seconds", dc_now() - t0);
    }
    dc_dataset_free(d.train);
    dc_dataset_free(d.test);
    return exp_end(run, rc);
}

static const exp_setting mnist_mlp_settings[] = {
    {"epochs", EXP_INT, "5", "16", "passes over the training set", NULL, 1, 100000},
    {"batch", EXP_INT, "32", "32", "mini-batch size", NULL, 1, 60000},
    {"lr", EXP_FLOAT, "0.1", "0.001", "SGD learning rate (ignored when sweep=1)", NULL, 0,
     1e6},
    {"hidden", EXP_INT, "128", "128", "hidden units", NULL, 1, 100000},
    {"reduction", EXP_STR, "mean", "mean",
     "batch loss as the mean (PyTorch's default) or the sum of per-example losses",
     "mean|sum", 0, 0},
    {"sweep", EXP_BOOL, "0", "0", "1: train at lr 1e-4, 1e-3, 1e-2, 0.1, 1 and compare",
     NULL, 0, 0},
    {"train_limit", EXP_INT, "20000", "0", "use the first N training images (0: all)",
     NULL, 0, 0},
    {"test_limit", EXP_INT, "5000", "0", "use the first N test images (0: all)", NULL, 0, 0},
    {NULL},
};

const experiment exp_mnist_mlp = {
    .name = "mnist-mlp",
    .summary = "course part 1: 784-128-10 sigmoid network, hand-written backprop, SGD",
    .data = "MNIST (bundled in data/mnist)",
    .produces = "metrics per epoch, loss and accuracy curves, model, report; "
                "sweep=1: curves per learning rate and a table",
    .default_seed = 42,
    .settings = mnist_mlp_settings,
    .run = mnist_mlp_run,
};
