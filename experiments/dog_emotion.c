/* dog_emotion.c - `deepc run dog-emotion`: course part 1's depthwise-separable CNN that
 * reads dog emotions (angry, happy, relaxed, sad) from photos, with the course's
 * augmentation, label smoothing, Adam with weight decay and a cosine schedule.
 *
 * The data comes without a split: a seeded, stratified 70/15/15 split is made and its
 * file lists written to the run folder. The checkpoint kept is the one best on
 * validation accuracy; the test set is scored once, with that checkpoint, at the end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "common.h"
#include "deepc/analysis.h"
#include "deepc/image.h"
#include "deepc/io.h"
#include "deepc/log.h"
#include "deepc/ops.h"
#include "deepc/optim.h"
#include "dog_net.h"

#define MAX_CLASSES 16
#define N_SAMPLES 16

enum { SPLIT_TRAIN, SPLIT_VAL, SPLIT_TEST, N_SPLITS };
static const char *const split_names[N_SPLITS] = {"train", "val", "test"};

typedef struct dog_data {
    dc_imagefolder *ds;
    dc_split split;
    dc_pipeline train_pipe, eval_pipe;
    dc_prefetch *loader[N_SPLITS];
} dog_data;

/* One CSV field, quoted when it holds a comma, quote or line break (doubling quotes),
 * so that class folders and paths with such characters read back as one field. */
static size_t csv_field(char *dst, size_t cap, const char *field, const char *end)
{
    size_t used = 0;

    if (!strpbrk(field, ",\"\r\n"))
        return (size_t)snprintf(dst, cap, "%s%s", field, end);
    used += (size_t)snprintf(dst, cap, "\"");
    for (const char *c = field; *c; c++)
        used += (size_t)snprintf(dst + used, cap - used, *c == '"' ? "\"\"" : "%c", *c);
    return used + (size_t)snprintf(dst + used, cap - used, "\"%s", end);
}

static int write_splits(dc_run *run, const dog_data *d)
{
    size_t cap = 64, used = 0;
    char *text, path[4200];
    const int *labels = dc_imagefolder_labels(d->ds);
    dc_status s;

    /* Quoting at most doubles a field, plus its two quotes. */
    for (int k = 0; k < N_SPLITS; k++)
        for (int i = 0; i < d->split.n[k]; i++) {
            int j = d->split.idx[k][i];
            cap += 2 * (strlen(dc_imagefolder_path(d->ds, j))
                        + strlen(dc_imagefolder_class_name(d->ds, labels[j]))) + 16;
        }
    if (!(text = dc_malloc(cap, "split lists")))
        return -1;
    used += (size_t)snprintf(text, cap, "split,label,file\n");
    for (int k = 0; k < N_SPLITS; k++)
        for (int i = 0; i < d->split.n[k]; i++) {
            int j = d->split.idx[k][i];
            used += (size_t)snprintf(text + used, cap - used, "%s,", split_names[k]);
            used += csv_field(text + used, cap - used,
                              dc_imagefolder_class_name(d->ds, labels[j]), ",");
            used += csv_field(text + used, cap - used, dc_imagefolder_path(d->ds, j), "\n");
        }
    s = dc_write_file_atomic(dc_run_path(run, "splits.csv", path, sizeof path), text, used);
    free(text);
    return s == DC_OK ? 0 : -1;
}

static int check_classes(const char *root, const dc_imagefolder *ds)
{
    int k = dc_imagefolder_n_classes(ds);

    if (k > MAX_CLASSES)
        return dc_fail(DC_ERR_FORMAT, "%s: %d classes, at most %d supported", root, k,
                       MAX_CLASSES), -1;
    if (k < 2)
        return dc_fail(DC_ERR_FORMAT, "%s: 1 class (%s), expected at least 2 class "
                       "folders", root, dc_imagefolder_class_name(ds, 0)), -1;
    return 0;
}

static int check_splits(const char *root, const dc_split *split)
{
    int n = split->n[SPLIT_TRAIN] + split->n[SPLIT_VAL] + split->n[SPLIT_TEST];

    for (int k = 0; k < N_SPLITS; k++)
        if (split->n[k] == 0)
            return dc_fail(DC_ERR_ARG, "%s: %d images leave the %s split of a stratified "
                           "70/15/15 split empty; give more images per class (per_class)",
                           root, n, split_names[k]), -1;
    return 0;
}

/* Batch norm cannot train on a batch of one (PyTorch refuses it too): a training split
 * that leaves one image over drops it, a different image each epoch as the order is
 * shuffled. */
static int lone_last_batch(const dog_data *d, int batch)
{
    if (d->split.n[SPLIT_TRAIN] % batch != 1)
        return 0;
    dc_log(DC_LOG_WARN, "training split of %d images with batch %d leaves a last batch "
           "of 1, which batch norm cannot train on: it is dropped each epoch",
           d->split.n[SPLIT_TRAIN], batch);
    return 1;
}

static int load_data(const exp_ctx *ctx, dc_run *run, dog_data *d)
{
    char root[4096];
    const float fractions[N_SPLITS] = {0.70f, 0.15f, 0.15f};
    dc_imagefolder_opts io = {.skip_bad = (int)exp_int(ctx, "skip_bad_images"),
                              .max_side = 4 * (int)exp_int(ctx, "image_size"),
                              .max_per_class = (int)exp_int(ctx, "per_class")};
    int size = (int)exp_int(ctx, "image_size"), batch = (int)exp_int(ctx, "batch");

    if (dc_data_find(ctx->data_dir, "dog-emotion", root, sizeof root) != DC_OK
        || !(d->ds = dc_imagefolder_load(root, &io)))
        return -1;
    if (check_classes(root, d->ds) != 0)
        return -1;
    dc_run_summary_num(run, "images_skipped", dc_imagefolder_skipped(d->ds));
    if (dc_split_stratified(dc_imagefolder_labels(d->ds), dc_imagefolder_len(d->ds),
                            fractions, N_SPLITS, ctx->seed, &d->split) != DC_OK
        || check_splits(root, &d->split) != 0 || write_splits(run, d) != 0)
        return -1;

    dog_train_pipeline(&d->train_pipe, size, (int)exp_int(ctx, "augment"), 1);
    dog_eval_pipeline(&d->eval_pipe, size, 1);
    for (int k = 0; k < N_SPLITS; k++) {
        dc_prefetch_opts o = {.batch = k == SPLIT_TRAIN ? batch : 64,
                              .shuffle = k == SPLIT_TRAIN,
                              .drop_last = k == SPLIT_TRAIN && lone_last_batch(d, batch),
                              .workers = (int)exp_int(ctx, "workers"),
                              .seed = ctx->seed};
        d->loader[k] = dc_prefetch_new(d->ds, d->split.idx[k], d->split.n[k],
                                       k == SPLIT_TRAIN ? &d->train_pipe : &d->eval_pipe, &o);
        if (!d->loader[k])
            return -1;
    }
    return 0;
}

static void data_free(dog_data *d)
{
    for (int k = 0; k < N_SPLITS; k++)
        dc_prefetch_free(d->loader[k]);
    dc_split_deinit(&d->split);
    dc_imagefolder_free(d->ds);
}

/* ---- training ---- */

typedef struct epoch_stats {
    double loss;
    double acc;
} epoch_stats;

/* Mean loss and accuracy over one pass of a loader; fills pred and truth (in loader
 * order) when non-NULL. Train mode steps the optimizer on every batch. */
static int run_epoch(dog_net *net, dc_prefetch *ld, dc_optim *opt, float smoothing,
                     dc_rng *rng, epoch_stats *st, int *pred, int *truth)
{
    int training = opt != NULL, prev = dc_grad_enabled(training), b, seen = 0, hits = 0;
    double total = 0.0;
    dc_tensor *x;
    const int *y;

    dc_prefetch_reset(ld);
    for (;;) {
        if (dc_prefetch_next(ld, &x, &y, &b) != DC_OK)
            goto fail;
        if (b == 0)
            break;
        dc_tensor *logits = dog_net_forward(net, x, training, rng);
        dc_tensor *loss = logits ? dc_cross_entropy(logits, y, smoothing) : NULL;
        int *p = dc_arena_alloc((size_t)b * sizeof(int));
        if (!loss)
            goto fail;
        if (training) {
            dc_optim_zero_grad(opt);
            dc_backward(loss);
            dc_optim_step(opt);
        }
        dc_argmax_rows(logits, p);
        for (int i = 0; i < b; i++) {
            hits += p[i] == y[i];
            if (pred)
                pred[seen + i] = p[i], truth[seen + i] = y[i];
        }
        total += loss->data[0] * b;
        seen += b;
        dc_step_end();
    }
    dc_grad_enabled(prev);
    st->loss = total / (seen ? seen : 1);
    st->acc = (double)hits / (seen ? seen : 1);
    return 0;
fail:
    dc_step_end();
    dc_grad_enabled(prev);
    return -1;
}

enum { C_EPOCH, C_LR, C_TRAIN_LOSS, C_TRAIN_ACC, C_VAL_LOSS, C_VAL_ACC, C_SECONDS, N_C };

typedef struct dog_history {
    double *cols[N_C];
    int epochs;      /* filled so far */
    int best_epoch;  /* from 1 */
    double best_val;
} dog_history;

/* The class names go into the metadata as a JSON array, so that `deepc export` names
 * the classes of a model trained on other folders rightly. */
/* The data's class names as the JSON array a checkpoint stores in its "classes"
 * metadata, or NULL (out of memory). Free with cJSON_free. */
static char *classes_json(const dc_imagefolder *ds)
{
    const char *names[MAX_CLASSES];
    int k = dc_imagefolder_n_classes(ds);
    cJSON *list;
    char *text;

    for (int c = 0; c < k; c++)
        names[c] = dc_imagefolder_class_name(ds, c);
    list = cJSON_CreateStringArray(names, k);
    text = list ? cJSON_PrintUnformatted(list) : NULL;
    cJSON_Delete(list);
    if (!text)
        dc_fail(DC_ERR_NOMEM, "checkpoint metadata: out of memory");
    return text;
}

static int save_checkpoint(dc_run *run, const dog_net *net, const dc_imagefolder *ds,
                           int epoch)
{
    char path[4200], text[32], *classes = classes_json(ds);
    int rc;

    if (!classes)
        return -1;
    snprintf(text, sizeof text, "%d", epoch);
    const char *meta[] = {"experiment", "dog-emotion", "epoch", text, "classes", classes};
    rc = dc_params_save(net->params, dc_run_path(run, "model.safetensors", path, sizeof path),
                        meta, 3) == DC_OK ? 0 : -1;
    cJSON_free(classes);
    return rc;
}

static int train(const exp_ctx *ctx, dc_run *run, dog_net *net, dog_data *d, dog_history *h)
{
    int epochs = (int)exp_int(ctx, "epochs"), t_max = (int)exp_int(ctx, "t_max");
    float lr = (float)exp_float(ctx, "lr"), eta_min = (float)exp_float(ctx, "eta_min");
    float smoothing = (float)exp_float(ctx, "smoothing");
    dc_adam_opts ao = dc_adam_defaults();
    dc_optim *opt;
    dc_rng rng;
    double t_start = dc_now();

    ao.lr = lr;
    ao.weight_decay = (float)exp_float(ctx, "weight_decay");
    if (!(opt = dc_adam_new(net->params, ao)))
        return -1;
    dc_rng_seed(&rng, ctx->seed + 7);
    for (int e = 0; e < epochs; e++) {
        double t0 = dc_now(), row[N_C];
        epoch_stats tr, va;

        /* CosineAnnealingLR stepped once per epoch, as the course's loop did. */
        dc_optim_set_lr(opt, dc_lr_cosine(lr, eta_min, e, t_max));
        if (run_epoch(net, d->loader[SPLIT_TRAIN], opt, smoothing, &rng, &tr, NULL, NULL)
            || run_epoch(net, d->loader[SPLIT_VAL], NULL, smoothing, NULL, &va, NULL, NULL))
            goto fail;
        row[C_EPOCH] = e + 1, row[C_LR] = dc_optim_lr(opt);
        row[C_TRAIN_LOSS] = tr.loss, row[C_TRAIN_ACC] = tr.acc;
        row[C_VAL_LOSS] = va.loss, row[C_VAL_ACC] = va.acc, row[C_SECONDS] = dc_now() - t0;
        for (int c = 0; c < N_C; c++)
            h->cols[c][e] = row[c];
        h->epochs = e + 1;
        dc_run_metrics_row(run, row, N_C);
        if (va.acc > h->best_val) {
            h->best_val = va.acc, h->best_epoch = e + 1;
            if (save_checkpoint(run, net, d->ds, e + 1) != 0)
                goto fail;
        }
        dc_log(DC_LOG_INFO, "epoch %4d/%d  lr %.2e  train loss %.4f acc %.4f  val loss %.4f "
               "acc %.4f  best %.4f@%d  %.1fs/epoch, %.0f min left", e + 1, epochs,
               row[C_LR], tr.loss, tr.acc, va.loss, va.acc, h->best_val, h->best_epoch,
               row[C_SECONDS], (dc_now() - t_start) / (e + 1) * (epochs - e - 1) / 60.0);
    }
    dc_optim_free(opt);
    return 0;
fail:
    dc_optim_free(opt);
    return -1;
}

/* ---- pictures and the report ---- */

static void plot_class_counts(dc_run *run, const dog_data *d)
{
    int k = dc_imagefolder_n_classes(d->ds);
    const int *labels = dc_imagefolder_labels(d->ds);
    const char *names[N_SPLITS * MAX_CLASSES];
    char text[N_SPLITS * MAX_CLASSES][64], path[4200];
    double counts[N_SPLITS * MAX_CLASSES] = {0};

    for (int s = 0; s < N_SPLITS; s++) {
        for (int c = 0; c < k; c++) {
            snprintf(text[s * k + c], 64, "%s %s", split_names[s],
                     dc_imagefolder_class_name(d->ds, c));
            names[s * k + c] = text[s * k + c];
        }
        for (int i = 0; i < d->split.n[s]; i++)
            counts[s * k + labels[d->split.idx[s][i]]]++;
    }
    dc_plot_opts o = {.title = "Images per class in each split", .ylabel = "images"};
    if (dc_plot_bars(dc_run_path(run, "class_counts.png", path, sizeof path), names, counts,
                     N_SPLITS * k, &o) != DC_OK)
        dc_log(DC_LOG_WARN, "%s", dc_last_error());
}

/* Up to N_SAMPLES training images spread evenly over the split (which is sorted by
 * class, so every class shows) through `pipe`, pixels in [0,1], as a grid. */
static void sample_grid(dc_run *run, const dog_data *d, const dc_pipeline *pipe, int size,
                        const char *file, uint64_t seed)
{
    int n = d->split.n[SPLIT_TRAIN] < N_SAMPLES ? d->split.n[SPLIT_TRAIN] : N_SAMPLES;
    dc_tensor *grid = dc_tensor_new4(n, 3, size, size);
    const char *captions[N_SAMPLES];
    const int *labels = dc_imagefolder_labels(d->ds);
    dc_image img;
    dc_image_ws ws;
    dc_rng rng;
    char path[4200];
    dc_status s = grid ? DC_OK : DC_ERR_NOMEM;

    dc_image_init(&img);
    dc_image_ws_init(&ws);
    dc_rng_seed(&rng, seed);
    for (int i = 0; s == DC_OK && i < n; i++) {
        int j = d->split.idx[SPLIT_TRAIN][(long)i * d->split.n[SPLIT_TRAIN] / n];
        if ((s = dc_imagefolder_get(d->ds, j, &img)) != DC_OK
            || (s = dc_pipeline_apply(pipe, &img, &ws, &rng)) != DC_OK)
            break;
        memcpy(grid->data + (size_t)i * 3 * size * size, img.data,
               (size_t)3 * size * size * sizeof(float));
        captions[i] = dc_imagefolder_class_name(d->ds, labels[j]);
    }
    if (s == DC_OK)
        s = dc_image_grid_png(dc_run_path(run, file, path, sizeof path), grid, 8, 0.0f,
                              1.0f, captions);
    if (s != DC_OK)
        dc_log(DC_LOG_WARN, "%s left out: %s", file, dc_last_error());
    dc_image_deinit(&img);
    dc_image_ws_deinit(&ws);
    dc_tensor_free(grid);
}

static void plot_curves(dc_run *run, const dog_history *h)
{
    const char *labels[] = {"train", "validation"};
    const double *loss[] = {h->cols[C_TRAIN_LOSS], h->cols[C_VAL_LOSS]};
    const double *acc[] = {h->cols[C_TRAIN_ACC], h->cols[C_VAL_ACC]};

    exp_plot_epochs(run, "loss.png", "Dog emotions: label-smoothed cross-entropy", "loss",
                    labels, loss, 2, h->epochs, 0);
    exp_plot_epochs(run, "accuracy.png", "Dog emotions: accuracy", "accuracy", labels, acc,
                    2, h->epochs, 0);
}

/* Per-class precision and recall table. */
static void report_classes(dc_report *r, const dog_data *d, const int *counts)
{
    int k = dc_imagefolder_n_classes(d->ds);
    double p[MAX_CLASSES], rc[MAX_CLASSES], f1[MAX_CLASSES];
    char text[MAX_CLASSES][3][32];
    const char *cells[4 * (MAX_CLASSES + 1)] = {"class", "precision", "recall", "F1"};

    dc_class_metrics(counts, k, p, rc, f1);
    for (int c = 0; c < k; c++) {
        snprintf(text[c][0], 32, "%.3f", p[c]);
        snprintf(text[c][1], 32, "%.3f", rc[c]);
        snprintf(text[c][2], 32, "%.3f", f1[c]);
        cells[4 * (c + 1)] = dc_imagefolder_class_name(d->ds, c);
        for (int j = 0; j < 3; j++)
            cells[4 * (c + 1) + 1 + j] = text[c][j];
    }
    dc_report_table(r, cells, k + 1, 4);
}

static int report(const exp_ctx *ctx, dc_run *run, const dog_data *d, const dog_history *h,
                  size_t params, double test_acc, const int *counts)
{
    dc_report *r = dc_report_new("dog-emotion: a 54k-parameter CNN reads dog emotions");
    char path[4200];

    dc_report_text(r, "Depthwise-separable CNN, %zu trainable parameters (the same "
                   "definition in PyTorch counts the same; course: ~53,000). %d images: "
                   "%d train, %d validation, %d test (seeded, stratified; lists in "
                   "splits.csv); %d unreadable images skipped.", params,
                   dc_imagefolder_len(d->ds), d->split.n[0], d->split.n[1], d->split.n[2],
                   dc_imagefolder_skipped(d->ds));
    dc_report_text(r, "Best validation accuracy %.2f%% at epoch %d of %d; that checkpoint "
                   "scores %.2f%% on the test set (course: 75.8%%, required 70%%).",
                   100 * h->best_val, h->best_epoch, h->epochs, 100 * test_acc);
    dc_report_image(r, dc_run_path(run, "class_counts.png", path, sizeof path),
                    "Class balance per split");
    dc_report_image(r, dc_run_path(run, "samples_raw.png", path, sizeof path),
                    "Training images as the evaluation pipeline sees them (64x64)");
    if (exp_int(ctx, "augment"))
        dc_report_image(r, dc_run_path(run, "samples_augmented.png", path, sizeof path),
                        "The same images through the training augmentation");
    dc_report_image(r, dc_run_path(run, "loss.png", path, sizeof path), "Loss per epoch");
    dc_report_image(r, dc_run_path(run, "accuracy.png", path, sizeof path),
                    "Accuracy per epoch (train: running average under augmentation)");
    dc_report_heading(r, "Test set, best checkpoint");
    dc_report_image(r, dc_run_path(run, "confusion.png", path, sizeof path),
                    "Test confusion matrix");
    report_classes(r, d, counts);
    exp_report_settings(r, ctx);
    int rc = exp_report_finish(r, run);
    dc_report_free(r);
    return rc;
}

/* ---- the run ---- */

/* Restores the best checkpoint and scores the test set once. */
static int score_test(dc_run *run, dog_net *net, dog_data *d, float smoothing,
                      double *acc, int *counts)
{
    int n = d->split.n[SPLIT_TEST], k = dc_imagefolder_n_classes(d->ds);
    int *pred = dc_malloc((size_t)n * 2 * sizeof *pred, "test predictions");
    const char *names[MAX_CLASSES];
    char path[4200];
    epoch_stats st;

    if (!pred || dc_params_load(net->params, dc_run_path(run, "model.safetensors", path,
                                                         sizeof path)) != DC_OK
        || run_epoch(net, d->loader[SPLIT_TEST], NULL, smoothing, NULL, &st, pred,
                     pred + n) != 0) {
        free(pred);
        return -1;
    }
    dc_confusion(pred + n, pred, n, k, counts);
    for (int c = 0; c < k; c++)
        names[c] = dc_imagefolder_class_name(d->ds, c);
    if (dc_plot_confusion(dc_run_path(run, "confusion.png", path, sizeof path), counts, k,
                          names, "Dog emotions: test confusion matrix (best checkpoint)")
        != DC_OK)
        dc_log(DC_LOG_WARN, "%s", dc_last_error());
    *acc = st.acc;
    free(pred);
    return 0;
}

static int history_alloc(dog_history *h, int epochs)
{
    memset(h, 0, sizeof *h);
    h->best_val = -1.0;
    for (int c = 0; c < N_C; c++)
        if (!(h->cols[c] = dc_calloc((size_t)epochs, sizeof(double), "history")))
            return -1;
    return 0;
}

static void pictures_before(const exp_ctx *ctx, dc_run *run, const dog_data *d)
{
    dc_pipeline raw, aug;
    int size = (int)exp_int(ctx, "image_size");

    dog_eval_pipeline(&raw, size, 0);
    dog_train_pipeline(&aug, size, 1, 0);
    plot_class_counts(run, d);
    sample_grid(run, d, &raw, size, "samples_raw.png", ctx->seed);
    if (exp_int(ctx, "augment"))
        sample_grid(run, d, &aug, size, "samples_augmented.png", ctx->seed);
}

/* Reads an earlier run's metrics.csv (this experiment's columns) into h, for a run that
 * was stopped before it could score its best checkpoint. */
static int read_history(const char *dir, dog_history *h, int max_epochs)
{
    char path[4200], line[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    if (dc_check_regular_file(path) != DC_OK || !(f = fopen(path, "r")))
        return dc_fail(DC_ERR_IO, "%s: cannot read the earlier run's metrics", path), -1;
    if (!fgets(line, sizeof line, f) || strncmp(line, "epoch,lr,train_loss", 19) != 0) {
        fclose(f);
        return dc_fail(DC_ERR_FORMAT, "%s: not a dog-emotion metrics file", path), -1;
    }
    while (h->epochs < max_epochs && fgets(line, sizeof line, f)) {
        double v[N_C];
        if (sscanf(line, "%lf,%lf,%lf,%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6]) != N_C) {
            fclose(f);
            return dc_fail(DC_ERR_FORMAT, "%s: row %d is malformed", path,
                           h->epochs + 2), -1;
        }
        for (int c = 0; c < N_C; c++)
            h->cols[c][h->epochs] = v[c];
        if (v[C_VAL_ACC] > h->best_val)
            h->best_val = v[C_VAL_ACC], h->best_epoch = (int)v[C_EPOCH];
        h->epochs++;
    }
    fclose(f);
    return h->epochs > 0 ? 0 : (dc_fail(DC_ERR_FORMAT, "%s: no epochs", path), -1);
}

/* The earlier run's config.json must be dog-emotion's with the settings that decide the
 * split and the network's input (seed, per_class, image_size) equal to this run's:
 * otherwise its "test" images could be ones it trained on. */
static int check_earlier_config(const exp_ctx *ctx, const char *dir)
{
    static const char *const keys[] = {"per_class", "image_size"};
    char path[4200];
    unsigned char *text = NULL;
    size_t n;
    cJSON *cfg;
    const cJSON *v;
    int rc = -1;

    snprintf(path, sizeof path, "%s/config.json", dir);
    if (dc_file_read(path, &text, &n) != DC_OK)
        return -1;
    cfg = cJSON_ParseWithLength((const char *)text, n);
    free(text);
    v = cJSON_GetObjectItemCaseSensitive(cfg, "experiment");
    if (!cJSON_IsString(v) || strcmp(v->valuestring, "dog-emotion") != 0) {
        dc_fail(DC_ERR_FORMAT, "%s: not a dog-emotion run's config.json", path);
        goto done;
    }
    v = cJSON_GetObjectItemCaseSensitive(cfg, "seed");
    if (!cJSON_IsNumber(v) || v->valuedouble != (double)ctx->seed) {
        dc_fail(DC_ERR_ARG, "from_run %s: that run's seed is not this run's %llu (the split "
                "is drawn from the seed: pass that run's --seed)", dir,
                (unsigned long long)ctx->seed);
        goto done;
    }
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        v = cJSON_GetObjectItemCaseSensitive(cfg, keys[i]);
        if (!cJSON_IsNumber(v) || v->valuedouble != (double)exp_int(ctx, keys[i])) {
            dc_fail(DC_ERR_ARG, "from_run %s: that run's %s is not this run's %ld (pass "
                    "that run's --set %s)", dir, keys[i], exp_int(ctx, keys[i]), keys[i]);
            goto done;
        }
    }
    rc = 0;
done:
    cJSON_Delete(cfg);
    return rc;
}

/* The checkpoint's class names (its "classes" metadata, when it has them) must be the
 * data's, in order: a renamed or reordered folder would otherwise score each image
 * against another class's output. Compared as the text save_checkpoint writes. */
static int check_checkpoint_classes(const char *path, const dc_imagefolder *ds)
{
    dc_safetensors *st = dc_safetensors_load(path);
    const char *stored = st ? dc_safetensors_meta(st, "classes") : NULL;
    char *data = stored ? classes_json(ds) : NULL;
    int rc = st && (!stored || (data && !strcmp(stored, data))) ? 0 : -1;

    if (rc != 0 && data)
        dc_fail(DC_ERR_FORMAT, "%s: trained on the classes %s, but the data's are %s", path,
                stored, data);
    cJSON_free(data);
    dc_safetensors_free(st);
    return rc;
}

/* Either trains, or (from_run set) takes an earlier, interrupted run's best checkpoint
 * and history, so that it can be scored. The split is made from the seed, so the
 * earlier run must have used the same seed and per_class. */
static int train_or_resume(const exp_ctx *ctx, dc_run *run, dog_net *net, dog_data *d,
                           dog_history *h)
{
    const char *from = exp_str(ctx, "from_run");
    char path[4200];

    if (!*from)
        return train(ctx, run, net, d, h);
    snprintf(path, sizeof path, "%s/model.safetensors", from);
    if (check_earlier_config(ctx, from) != 0
        || read_history(from, h, (int)exp_int(ctx, "epochs")) != 0
        || check_checkpoint_classes(path, d->ds) != 0
        || dc_params_load(net->params, path) != DC_OK)
        return -1;
    for (int e = 0; e < h->epochs; e++) {
        double row[N_C];
        for (int c = 0; c < N_C; c++)
            row[c] = h->cols[c][e];
        dc_run_metrics_row(run, row, N_C);
    }
    dc_log(DC_LOG_INFO, "resumed %s: %d epochs, best validation accuracy %.4f at epoch %d",
           from, h->epochs, h->best_val, h->best_epoch);
    return save_checkpoint(run, net, d->ds, h->best_epoch);
}

static int dog_emotion_run(exp_ctx *ctx)
{
    dc_run *run = exp_begin(ctx, "dog-emotion");
    dog_data d = {0};
    dog_net net = {0};
    dog_history h = {0};
    int counts[MAX_CLASSES * MAX_CLASSES], rc = -1;
    double t0 = dc_now(), test_acc = 0.0;
    dc_rng rng;

    if (!run)
        return -1;
    dc_rng_seed(&rng, ctx->seed);
    if (load_data(ctx, run, &d) != 0
        || dog_net_init(&net, dc_imagefolder_n_classes(d.ds), &rng) != 0
        || history_alloc(&h, (int)exp_int(ctx, "epochs")) != 0)
        goto done;
    dc_log(DC_LOG_INFO, "DogEmotionNet: %zu trainable parameters (PyTorch's count for the "
           "same definition, tests/fixtures/make_dog_fixture.py: 53940 for 4 classes)",
           dc_params_count(net.params));
    pictures_before(ctx, run, &d);
    dc_run_metrics_header(run, "epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds");
    if (train_or_resume(ctx, run, &net, &d, &h) != 0
        || score_test(run, &net, &d, (float)exp_float(ctx, "smoothing"), &test_acc,
                      counts) != 0)
        goto done;
    plot_curves(run, &h);
    if (report(ctx, run, &d, &h, dc_params_count(net.params), test_acc, counts) != 0)
        goto done;
    dc_run_summary_num(run, "parameters", (double)dc_params_count(net.params));
    dc_run_summary_num(run, "best_val_acc", h.best_val);
    dc_run_summary_num(run, "best_epoch", h.best_epoch);
    dc_run_summary_num(run, "test_acc", test_acc);
    dc_log(DC_LOG_INFO, "final: best validation accuracy %.4f at epoch %d, test accuracy "
           "%.4f", h.best_val, h.best_epoch, test_acc);
    rc = 0;
done:
    dc_run_summary_num(run, "wall_seconds", dc_now() - t0);
    for (int c = 0; c < N_C; c++)
        free(h.cols[c]);
    dog_net_free(&net);
    data_free(&d);
    return exp_end(run, rc);
}

static const exp_setting dog_emotion_settings[] = {
    {"epochs", EXP_INT, "3", "1000", "passes over the training split", NULL, 1, 100000},
    {"batch", EXP_INT, "16", "16", "mini-batch size (batch norm needs at least 2)", NULL,
     2, 4096},
    {"lr", EXP_FLOAT, "0.001", "0.001", "Adam learning rate", NULL, 0, 10},
    {"weight_decay", EXP_FLOAT, "0.0001", "0.0001", "Adam weight decay (L2, as torch Adam)",
     NULL, 0, 1},
    {"smoothing", EXP_FLOAT, "0.1", "0.1", "label smoothing", NULL, 0, 0.99},
    {"t_max", EXP_INT, "3", "1000", "CosineAnnealingLR period in epochs", NULL, 1, 1000000},
    {"eta_min", EXP_FLOAT, "0.00001", "0.00001", "CosineAnnealingLR floor", NULL, 0, 10},
    {"image_size", EXP_INT, "64", "64", "input side in pixels", NULL, 16, 1024},
    {"augment", EXP_BOOL, "1", "1", "training augmentation (0: resize only)", NULL, 0, 0},
    {"per_class", EXP_INT, "80", "0", "first N images of each class (0: all)", NULL, 0, 0},
    {"workers", EXP_INT, "1", "1", "threads decoding and augmenting batches", NULL, 1, 64},
    {"skip_bad_images", EXP_BOOL, "0", "0", "1: skip unreadable images with a warning",
     NULL, 0, 0},
    {"from_run", EXP_STR, "", "", "score an interrupted run's best checkpoint instead of "
     "training (its run folder; same seed and per_class)", NULL, 0, 0},
    {NULL},
};

const experiment exp_dog_emotion = {
    .name = "dog-emotion",
    .summary = "course part 1: depthwise-separable CNN (53,940 parameters) on dog emotions",
    .data = "dog-emotion/ in the data folder (4 class sub-folders of photos)",
    .produces = "class balance chart, raw and augmented samples, loss and accuracy curves, "
                "test confusion matrix, per-class precision and recall, best checkpoint",
    .default_seed = 42,
    .settings = dog_emotion_settings,
    .run = dog_emotion_run,
};
