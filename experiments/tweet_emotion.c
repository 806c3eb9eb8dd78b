/* tweet_emotion.c - `deepc run tweet-emotion`: course part 2's GRU and LSTM tweet
 * classifiers on word vectors, with the course's grid search.
 *
 * For each model (GRU, LSTM) every combination of hidden size, dropout, learning rate
 * and optimizer is trained for a few epochs with validation after each; the epoch with
 * the best validation accuracy is that configuration's score and checkpoint. The best
 * configuration of each model is then scored once on the test set.
 * Network: word vectors [B,T,D] -> one GRU/LSTM layer -> state at each tweet's last real
 * token -> dropout -> Linear(H, 3). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "deepc/analysis.h"
#include "deepc/log.h"
#include "deepc/nn.h"
#include "deepc/ops.h"
#include "deepc/optim.h"
#include "deepc/rnn.h"
#include "deepc/text.h"

#define MAX_GRID 64
#define EVAL_BATCH 256

typedef struct tw_split {
    dc_tweets *rows;
    dc_corpus *corpus;
} tw_split;

typedef struct tw_data {
    tw_split train, val, test;
    char train_path[4200];  /* the training CSV, for messages */
    dc_wordvec *wv;
    char vectors[512];  /* what the vectors are, for the report */
    dc_coverage cover;
} tw_data;

typedef struct tw_config {
    dc_rnn_kind kind;
    int hidden;
    float dropout;
    float lr;
    int adam;  /* 1: Adam; 0: SGD with momentum 0.9 */
} tw_config;

typedef struct tw_model {
    dc_params *params;
    dc_rnn_layer rnn;
    dc_linear_layer fc;
} tw_model;

enum { H_TRAIN_LOSS, H_TRAIN_ACC, H_VAL_LOSS, H_VAL_ACC, N_H };

typedef struct tw_result {
    tw_config cfg;
    double *hist[N_H];  /* [epochs] each */
    double best_val;
    int best_epoch;     /* from 1 */
    double seconds;
} tw_result;

/* The best configuration of one model so far, with its checkpoint. */
typedef struct tw_best {
    int index;          /* into the results, -1 before any */
    float **weights;    /* a copy of every parameter at the best epoch */
    int n_weights;
} tw_best;

static const char *kind_name(dc_rnn_kind k)
{
    return k == DC_RNN_KIND_GRU ? "GRU" : "LSTM";
}

/* ---- data ---- */

/* The files are sorted by label, so a limited run takes a seeded random subset, in file
 * order, rather than the first rows. */
static dc_tweets *load_subset(const char *path, int limit, uint64_t seed)
{
    dc_tweets *all = dc_tweets_load(path, 0), *part;
    int *idx;
    dc_rng rng;

    if (!all || limit <= 0 || limit >= all->n)
        return all;
    idx = dc_malloc((size_t)all->n * sizeof *idx, "tweet subset");
    if (!idx) {
        dc_tweets_free(all);
        return NULL;
    }
    for (int i = 0; i < all->n; i++)
        idx[i] = i;
    dc_rng_seed(&rng, seed);
    dc_rng_shuffle(&rng, idx, all->n);
    for (int i = 1; i < limit; i++)  /* sort the chosen indices back into file order */
        for (int j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
            int t = idx[j];
            idx[j] = idx[j - 1];
            idx[j - 1] = t;
        }
    part = dc_tweets_subset(all, idx, limit);
    free(idx);
    dc_tweets_free(all);
    return part;
}

static int make_corpora(tw_data *d)
{
    d->train.corpus = dc_corpus_from_tweets(d->train.rows);
    d->val.corpus = d->train.corpus ? dc_corpus_from_tweets(d->val.rows) : NULL;
    d->test.corpus = d->val.corpus ? dc_corpus_from_tweets(d->test.rows) : NULL;
    return d->test.corpus ? 0 : -1;
}

/* A classifier of one class is meaningless: the rows it would learn from must hold at
 * least two labels. `what` says which rows they are. */
static int check_labels(const dc_tweets *t, const char *path, const char *what)
{
    int counts[DC_TWEET_CLASSES], present = 0;
    char found[256] = "";
    size_t len = 0;

    dc_tweets_class_counts(t, counts);
    for (int c = 0; c < DC_TWEET_CLASSES; c++)
        if (counts[c] > 0) {
            present++;
            len += (size_t)snprintf(found + len, sizeof found - len, "%s%s (%d rows)",
                                    len ? ", " : "", dc_tweet_label_name(c), counts[c]);
        }
    if (present >= 2)
        return 0;
    return dc_fail(DC_ERR_FORMAT, "%s: %s hold only the label %s; a classifier needs at "
                   "least two of happiness, neutral, sadness", path, what,
                   present ? found : "(none)"), -1;
}

/* Deduplicates the training rows, checks them and splits off validation. */
static int split_train(const exp_ctx *ctx, dc_tweets *all, tw_data *d)
{
    const char *path = d->train_path;
    double f = exp_float(ctx, "val_fraction");
    int removed = dc_tweets_dedup(all);

    if (removed < 0)
        return -1;
    dc_log(DC_LOG_INFO, "%s: %d rows, %d duplicates removed", path, all->n + removed,
           removed);
    if (check_labels(all, path, "the training rows"))
        return -1;
    if (dc_tweets_split(all, f, ctx->seed, 1, &d->train.rows, &d->val.rows) != DC_OK) {
        char why[512];

        snprintf(why, sizeof why, "%s", dc_last_error());
        return dc_fail(DC_ERR_ARG, "%s: val_fraction %g: %s (rows counted after train_limit "
                       "and removing duplicates)", path, f, why), -1;
    }
    return check_labels(d->train.rows, path, "the training rows left after val_fraction");
}

static int load_tweets(const exp_ctx *ctx, tw_data *d)
{
    char dir[4096], path[4200];
    dc_tweets *all;
    int rc;

    if (dc_data_find(ctx->data_dir, "tweet-emotions", dir, sizeof dir) != DC_OK)
        return -1;
    snprintf(d->train_path, sizeof d->train_path, "%s/trainEmotions.csv", dir);
    if (!(all = load_subset(d->train_path, (int)exp_int(ctx, "train_limit"), ctx->seed)))
        return -1;
    rc = split_train(ctx, all, d);
    dc_tweets_free(all);
    if (rc != 0)
        return -1;
    snprintf(path, sizeof path, "%s/testEmotions.csv", dir);
    if (!(d->test.rows = load_subset(path, (int)exp_int(ctx, "test_limit"), ctx->seed + 1)))
        return -1;
    return make_corpora(d);
}

/* word2vec needs a vocabulary, so some word must reach w2v_min_count; said here in the
 * setting's terms rather than by the library's function. */
static int check_min_count(const tw_data *d, int min_count)
{
    dc_vocab *v = dc_vocab_build(d->train.corpus, 1);
    int64_t top;

    if (!v)
        return -1;
    top = dc_vocab_size(v) > 0 ? dc_vocab_count(v, 0) : 0;
    dc_vocab_free(v);
    if (top >= min_count)
        return 0;
    return dc_fail(DC_ERR_ARG, "w2v_min_count %d: no word of the training tweets (%s) "
                   "occurs that often; the most frequent occurs %lld times", min_count,
                   d->train_path, (long long)top), -1;
}

static dc_wordvec *train_word2vec(const exp_ctx *ctx, tw_data *d)
{
    dc_word2vec_opts o;
    char cache[4096];
    int trained;
    dc_wordvec *wv;

    dc_word2vec_defaults(&o);
    o.dim = (int)exp_int(ctx, "w2v_dim");
    o.epochs = (int)exp_int(ctx, "w2v_epochs");
    o.min_count = (int)exp_int(ctx, "w2v_min_count");
    o.seed = ctx->seed;
    if (check_min_count(d, o.min_count) != 0)
        return NULL;
    snprintf(cache, sizeof cache, "%s/word2vec-cache", ctx->out_root ? ctx->out_root : "runs");
    wv = dc_word2vec_cached(d->train.corpus, &o, cache, &trained);
    if (wv)
        snprintf(d->vectors, sizeof d->vectors, "skip-gram word2vec trained here on the "
                 "training tweets (%d-d, %d epochs, min count %d; %s %.300s)", o.dim, o.epochs,
                 o.min_count, trained ? "trained and cached in" : "read from the cache in",
                 cache);
    return wv;
}

static int load_vectors(const exp_ctx *ctx, tw_data *d)
{
    const char *choice = exp_str(ctx, "vectors");
    char dir[4096], path[4200];

    /* An empty value is no file given, as for from_run: vectors are trained here. */
    if (!strcmp(choice, "word2vec") || !choice[0])
        d->wv = train_word2vec(ctx, d);
    else {
        if (!strcmp(choice, "glove")) {
            if (dc_data_find(ctx->data_dir, "word-vectors", dir, sizeof dir) != DC_OK)
                return -1;
            snprintf(path, sizeof path, "%s/glove.twitter.27B.25d.subset12k.txt", dir);
        } else {
            snprintf(path, sizeof path, "%s", choice);
        }
        d->wv = dc_wordvec_load(path, DC_WORDVEC_AUTO);
        snprintf(d->vectors, sizeof d->vectors, "pretrained vectors from %.480s", path);
    }
    if (!d->wv || dc_wordvec_coverage(d->wv, d->train.corpus, &d->cover) != DC_OK)
        return -1;
    dc_log(DC_LOG_INFO, "vectors: %s; %d-d; coverage of training tokens %.1f%%, of "
           "distinct words %.1f%%", d->vectors, dc_wordvec_dim(d->wv),
           100.0 * d->cover.tokens_found / (d->cover.tokens ? d->cover.tokens : 1),
           100.0 * d->cover.types_found / (d->cover.types ? d->cover.types : 1));
    return 0;
}

static void data_free(tw_data *d)
{
    tw_split *s[] = {&d->train, &d->val, &d->test};

    for (int i = 0; i < 3; i++) {
        dc_tweets_free(s[i]->rows);
        dc_corpus_free(s[i]->corpus);
    }
    dc_wordvec_free(d->wv);
}

/* ---- the model ---- */

static int model_init(tw_model *m, const tw_config *c, int dim, uint64_t seed)
{
    dc_rng rng;

    dc_rng_seed(&rng, seed);
    m->params = dc_params_new();
    if (!m->params
        || dc_rnn_layer_init(&m->rnn, m->params, "rnn", c->kind, dim, c->hidden, 1, &rng)
        || dc_linear_layer_init(&m->fc, m->params, "fc", c->hidden, DC_TWEET_CLASSES, 1,
                                &rng))
        return -1;
    return 0;
}

static dc_tensor *model_forward(const tw_model *m, dc_tensor *x, const int *len,
                                float dropout, int training, dc_rng *rng)
{
    dc_tensor *h = dc_rnn_layer_forward(&m->rnn, x, len, 0.0f, training, rng);

    if (h && training && dropout > 0.0f)
        h = dc_rnn_dropout(h, dropout, rng);
    return h ? dc_linear_layer_forward(&m->fc, h) : NULL;
}

/* Loss and accuracy over a split, without the tape; fills pred[] if non-NULL. */
static void evaluate(const tw_model *m, const tw_data *d, const tw_split *s, int max_len,
                     double *loss, double *acc, int *pred)
{
    int prev = dc_grad_enabled(0), n = s->rows->n, hits = 0;
    double total = 0.0;

    for (int start = 0; start < n; start += EVAL_BATCH) {
        int b = n - start < EVAL_BATCH ? n - start : EVAL_BATCH;
        int *idx = dc_arena_alloc((size_t)b * sizeof(int));
        int *len = dc_arena_alloc((size_t)b * sizeof(int));
        int *p = dc_arena_alloc((size_t)b * sizeof(int));
        for (int i = 0; i < b; i++)
            idx[i] = start + i;
        dc_tensor *x = dc_wordvec_batch(d->wv, s->corpus, idx, b, max_len, len);
        dc_tensor *logits = model_forward(m, x, len, 0.0f, 0, NULL);
        total += dc_cross_entropy(logits, s->rows->label + start, 0.0f)->data[0] * b;
        dc_argmax_rows(logits, p);
        for (int i = 0; i < b; i++) {
            hits += p[i] == s->rows->label[start + i];
            if (pred)
                pred[start + i] = p[i];
        }
        dc_step_end();
    }
    dc_grad_enabled(prev);
    *loss = total / n;
    *acc = (double)hits / n;
}

static dc_optim *make_optimizer(const tw_model *m, const tw_config *c)
{
    if (c->adam) {
        dc_adam_opts o = dc_adam_defaults();
        o.lr = c->lr;
        return dc_adam_new(m->params, o);
    }
    return dc_sgd_new(m->params, (dc_sgd_opts){.lr = c->lr, .momentum = 0.9f});
}

/* One epoch of shuffled mini-batches; returns 0 and the running loss and accuracy. */
static int train_epoch(const tw_model *m, dc_optim *opt, const tw_data *d, const tw_config *c,
                       int batch, int max_len, dc_rng *rng, double *loss, double *acc)
{
    int n = d->train.rows->n, *order = malloc((size_t)n * sizeof *order);
    long hits = 0;
    double total = 0.0;

    if (!order)
        return dc_fail(DC_ERR_NOMEM, "tweet-emotion: out of memory"), -1;
    for (int i = 0; i < n; i++)
        order[i] = i;
    dc_rng_shuffle(rng, order, n);
    for (int start = 0; start < n; start += batch) {
        int b = n - start < batch ? n - start : batch;
        int *len = dc_arena_alloc((size_t)b * sizeof(int));
        int *y = dc_arena_alloc((size_t)b * sizeof(int));
        int *p = dc_arena_alloc((size_t)b * sizeof(int));
        for (int i = 0; i < b; i++)
            y[i] = d->train.rows->label[order[start + i]];
        dc_tensor *x = dc_wordvec_batch(d->wv, d->train.corpus, order + start, b, max_len,
                                        len);
        dc_tensor *logits = model_forward(m, x, len, c->dropout, 1, rng);
        dc_tensor *l = dc_cross_entropy(logits, y, 0.0f);
        dc_optim_zero_grad(opt);
        dc_backward(l);
        dc_optim_step(opt);
        total += l->data[0] * b;
        dc_argmax_rows(logits, p);
        for (int i = 0; i < b; i++)
            hits += p[i] == y[i];
        dc_step_end();
    }
    free(order);
    *loss = total / n;
    *acc = (double)hits / n;
    return 0;
}

static void best_free(tw_best *best);

/* Copies every parameter of m into best, reallocating: configurations differ in size. */
static int keep_weights(tw_best *best, const tw_model *m)
{
    const dc_params *p = m->params;

    best_free(best);
    best->weights = dc_calloc((size_t)p->n, sizeof *best->weights, "checkpoint");
    if (!best->weights)
        return -1;
    best->n_weights = p->n;
    for (int i = 0; i < p->n; i++) {
        size_t bytes = p->items[i].tensor->size * sizeof(float);
        if (!(best->weights[i] = dc_malloc(bytes, "checkpoint")))
            return -1;
        memcpy(best->weights[i], p->items[i].tensor->data, bytes);
    }
    return 0;
}

static void best_free(tw_best *best)
{
    for (int i = 0; best->weights && i < best->n_weights; i++)
        free(best->weights[i]);
    free(best->weights);
    best->weights = NULL;
}

/* Trains one configuration; when it beats `best`, its best epoch becomes the checkpoint
 * (a configuration's weights are kept at each new best epoch: they may end up beaten). */
static int train_config(const exp_ctx *ctx, dc_run *run, const tw_data *d, int index,
                        tw_result *r, tw_best *best, double *best_so_far)
{
    int epochs = (int)exp_int(ctx, "epochs"), max_len = (int)exp_int(ctx, "max_len");
    tw_model m = {0};
    dc_optim *opt = NULL;
    dc_rng rng;
    double t0 = dc_now();
    int rc = -1;

    if (model_init(&m, &r->cfg, dc_wordvec_dim(d->wv), ctx->seed) != 0
        || !(opt = make_optimizer(&m, &r->cfg)))
        goto done;
    dc_rng_seed(&rng, ctx->seed + 1);
    r->best_val = -1.0;
    for (int e = 0; e < epochs; e++) {
        double row[7] = {index, e + 1};
        if (train_epoch(&m, opt, d, &r->cfg, (int)exp_int(ctx, "batch"), max_len, &rng,
                        &r->hist[H_TRAIN_LOSS][e], &r->hist[H_TRAIN_ACC][e]) != 0)
            goto done;
        evaluate(&m, d, &d->val, max_len, &r->hist[H_VAL_LOSS][e], &r->hist[H_VAL_ACC][e],
                 NULL);
        for (int h = 0; h < N_H; h++)
            row[2 + h] = r->hist[h][e];
        row[6] = dc_now() - t0;
        dc_run_metrics_row(run, row, 7);
        if (r->hist[H_VAL_ACC][e] > r->best_val) {
            r->best_val = r->hist[H_VAL_ACC][e];
            r->best_epoch = e + 1;
            if (r->best_val > *best_so_far) {
                *best_so_far = r->best_val;
                best->index = index;
                if (keep_weights(best, &m) != 0)
                    goto done;
            }
        }
    }
    r->seconds = dc_now() - t0;
    dc_log(DC_LOG_INFO, "%-4s hidden %3d dropout %.1f lr %g %-4s: best val acc %.4f "
           "(epoch %d), %.0fs", kind_name(r->cfg.kind), r->cfg.hidden, r->cfg.dropout,
           r->cfg.lr, r->cfg.adam ? "adam" : "sgd", r->best_val, r->best_epoch, r->seconds);
    rc = 0;
done:
    dc_optim_free(opt);
    dc_params_free(m.params);
    return rc;
}

/* ---- the grid ---- */

/* Every combination of the list settings, models outermost, as the course ran it. */
static int build_grid(const exp_ctx *ctx, tw_result *out, int max)
{
    char models[2][32], hid[8][32], drop[8][32], lrs[8][32], opts[2][32];
    int nm = exp_list(ctx, "models", models, 2), nh = exp_list(ctx, "hidden", hid, 8);
    int nd = exp_list(ctx, "dropout", drop, 8), nl = exp_list(ctx, "lr", lrs, 8);
    int no = exp_list(ctx, "optim", opts, 2), n = 0;

    for (int a = 0; a < nm; a++)
        for (int b = 0; b < nh; b++)
            for (int c = 0; c < nd; c++)
                for (int e = 0; e < nl; e++)
                    for (int f = 0; f < no && n < max; f++)
                        out[n++].cfg = (tw_config){
                            .kind = strcmp(models[a], "gru") ? DC_RNN_KIND_LSTM
                                                             : DC_RNN_KIND_GRU,
                            .hidden = atoi(hid[b]), .dropout = (float)atof(drop[c]),
                            .lr = (float)atof(lrs[e]), .adam = !strcmp(opts[f], "adam")};
    return n;
}

static int alloc_history(tw_result *r, int epochs)
{
    for (int h = 0; h < N_H; h++)
        if (!(r->hist[h] = dc_calloc((size_t)epochs, sizeof(double), "history")))
            return -1;
    return 0;
}

/* grid.csv: one row per configuration. */
static int write_grid_csv(dc_run *run, const tw_result *r, int n)
{
    char path[4200], line[256];
    size_t cap = 128 + (size_t)n * sizeof line, used = 0;
    char *text = malloc(cap);
    dc_status s;

    if (!text)
        return -1;
    used += (size_t)snprintf(text, cap, "model,hidden,dropout,lr,optimizer,best_val_acc,"
                             "best_epoch,train_acc_at_best,seconds\n");
    for (int i = 0; i < n; i++) {
        int last = r[i].best_epoch > 0 ? r[i].best_epoch - 1 : 0;
        used += (size_t)snprintf(text + used, cap - used, "%s,%d,%g,%g,%s,%.4f,%d,%.4f,%.1f\n",
                                 kind_name(r[i].cfg.kind), r[i].cfg.hidden, r[i].cfg.dropout,
                                 r[i].cfg.lr, r[i].cfg.adam ? "adam" : "sgd", r[i].best_val,
                                 r[i].best_epoch, r[i].hist[H_TRAIN_ACC][last], r[i].seconds);
    }
    s = dc_write_file_atomic(dc_run_path(run, "grid.csv", path, sizeof path), text, used);
    free(text);
    return s == DC_OK ? 0 : -1;
}

static void report_grid(dc_report *rep, const tw_result *r, int n)
{
    enum { COLS = 7 };
    const char **cells = malloc(sizeof *cells * COLS * ((size_t)n + 1));
    char (*text)[32] = malloc(sizeof *text * COLS * (size_t)n);
    static const char *const head[COLS] = {"model", "hidden", "dropout", "lr", "optimizer",
                                           "best val acc", "epoch"};

    if (!cells || !text)
        goto done;
    for (int c = 0; c < COLS; c++)
        cells[c] = head[c];
    for (int i = 0; i < n; i++) {
        char (*t)[32] = text + COLS * i;
        snprintf(t[0], 32, "%s", kind_name(r[i].cfg.kind));
        snprintf(t[1], 32, "%d", r[i].cfg.hidden);
        snprintf(t[2], 32, "%g", r[i].cfg.dropout);
        snprintf(t[3], 32, "%g", r[i].cfg.lr);
        snprintf(t[4], 32, "%s", r[i].cfg.adam ? "Adam" : "SGD m=0.9");
        snprintf(t[5], 32, "%.2f%%", 100 * r[i].best_val);
        snprintf(t[6], 32, "%d", r[i].best_epoch);
        for (int c = 0; c < COLS; c++)
            cells[COLS * (i + 1) + c] = t[c];
    }
    dc_report_heading(rep, "Grid search");
    dc_report_table(rep, cells, n + 1, COLS);
done:
    free(cells);
    free(text);
}

/* confusion_<M>.png, loss_<M>.png and accuracy_<M>.png for model name M. */
static void plot_best(dc_run *run, const char *name, const tw_result *r, const int *counts,
                      int epochs)
{
    const char *classes[DC_TWEET_CLASSES], *labels[] = {"train", "validation"};
    const double *ls[] = {r->hist[H_TRAIN_LOSS], r->hist[H_VAL_LOSS]};
    const double *as[] = {r->hist[H_TRAIN_ACC], r->hist[H_VAL_ACC]};
    char file[64], path[4200], title[128];

    for (int c = 0; c < DC_TWEET_CLASSES; c++)
        classes[c] = dc_tweet_label_name(c);
    snprintf(file, sizeof file, "confusion_%s.png", name);
    snprintf(title, sizeof title, "%s, best configuration: test confusion matrix", name);
    if (dc_plot_confusion(dc_run_path(run, file, path, sizeof path), counts,
                          DC_TWEET_CLASSES, classes, title) != DC_OK)
        dc_log(DC_LOG_WARN, "%s", dc_last_error());
    snprintf(file, sizeof file, "loss_%s.png", name);
    snprintf(title, sizeof title, "%s best configuration: loss", name);
    exp_plot_epochs(run, file, title, "cross-entropy loss", labels, ls, 2, epochs, 0);
    snprintf(file, sizeof file, "accuracy_%s.png", name);
    snprintf(title, sizeof title, "%s best configuration: accuracy", name);
    exp_plot_epochs(run, file, title, "accuracy", labels, as, 2, epochs, 0);
}

/* The model's section of the report: its configuration, test figures, per-class table
 * and pictures. */
static void report_best(dc_run *run, dc_report *rep, const char *name, const tw_result *r,
                        int n_test, double acc, double loss, const int *counts)
{
    double prec[DC_TWEET_CLASSES], rec[DC_TWEET_CLASSES], f1[DC_TWEET_CLASSES];
    char cells[4 * 4][32], file[64], path[4200];
    const char *ptr[16] = {"class", "precision", "recall", "F1"};
    static const char *const pictures[][2] = {{"confusion", "Test confusion matrix"},
                                               {"loss", "Loss per epoch"},
                                               {"accuracy", "Accuracy per epoch"}};

    dc_class_metrics(counts, DC_TWEET_CLASSES, prec, rec, f1);
    dc_report_heading(rep, name);
    dc_report_text(rep, "Best configuration on validation: hidden %d, dropout %g, lr %g, %s "
                   "(validation accuracy %.2f%% at epoch %d). Scored once on the %d test "
                   "tweets: accuracy %.2f%%, loss %.4f. Course: GRU ~52%%, LSTM ~51%%.",
                   r->cfg.hidden, r->cfg.dropout, r->cfg.lr, r->cfg.adam ? "Adam" : "SGD",
                   100 * r->best_val, r->best_epoch, n_test, 100 * acc, loss);
    for (int c = 0; c < DC_TWEET_CLASSES; c++) {
        snprintf(cells[4 + 4 * c], 32, "%s", dc_tweet_label_name(c));
        snprintf(cells[5 + 4 * c], 32, "%.3f", prec[c]);
        snprintf(cells[6 + 4 * c], 32, "%.3f", rec[c]);
        snprintf(cells[7 + 4 * c], 32, "%.3f", f1[c]);
        for (int k = 0; k < 4; k++)
            ptr[4 + 4 * c + k] = cells[4 + 4 * c + k];
    }
    dc_report_table(rep, ptr, 4, 4);
    for (int i = 0; i < 3; i++) {
        snprintf(file, sizeof file, "%s_%s.png", pictures[i][0], name);
        dc_report_image(rep, dc_run_path(run, file, path, sizeof path), pictures[i][1]);
    }
}

/* Test figures of one model's best configuration, restored from its checkpoint. */
static int score_best(const exp_ctx *ctx, dc_run *run, dc_report *rep, const tw_data *d,
                      const tw_result *r, const tw_best *best, int epochs)
{
    const char *name = kind_name(r->cfg.kind);
    int n = d->test.rows->n, counts[DC_TWEET_CLASSES * DC_TWEET_CLASSES], rc = -1;
    int *pred = dc_malloc((size_t)n * sizeof *pred, "predictions");
    double loss, acc;
    char file[64], path[4200], key[64];
    tw_model m = {0};

    if (!pred || model_init(&m, &r->cfg, dc_wordvec_dim(d->wv), ctx->seed) != 0)
        goto done;
    for (int i = 0; i < m.params->n; i++)
        memcpy(m.params->items[i].tensor->data, best->weights[i],
               m.params->items[i].tensor->size * sizeof(float));
    evaluate(&m, d, &d->test, (int)exp_int(ctx, "max_len"), &loss, &acc, pred);
    dc_confusion(d->test.rows->label, pred, n, DC_TWEET_CLASSES, counts);

    snprintf(file, sizeof file, "model_%s.safetensors", name);
    if (dc_params_save(m.params, dc_run_path(run, file, path, sizeof path), NULL, 0) != DC_OK)
        goto done;
    snprintf(key, sizeof key, "%s_test_acc", name);
    dc_run_summary_num(run, key, acc);
    snprintf(key, sizeof key, "%s_val_acc", name);
    dc_run_summary_num(run, key, r->best_val);
    dc_log(DC_LOG_INFO, "best %s: hidden %d dropout %g lr %g %s, val acc %.4f, test acc "
           "%.4f", name, r->cfg.hidden, r->cfg.dropout, r->cfg.lr,
           r->cfg.adam ? "adam" : "sgd", r->best_val, acc);
    plot_best(run, name, r, counts, epochs);
    report_best(run, rep, name, r, n, acc, loss, counts);
    rc = 0;
done:
    free(pred);
    dc_params_free(m.params);
    return rc;
}

static void report_data(dc_run *run, dc_report *rep, const tw_data *d)
{
    const tw_split *s[] = {&d->train, &d->val, &d->test};
    const char *names[9];
    double counts[9];
    char labels[9][48], path[4200];
    static const char *const split[] = {"train", "val", "test"};

    for (int i = 0; i < 3; i++) {
        int c[DC_TWEET_CLASSES];
        dc_tweets_class_counts(s[i]->rows, c);
        for (int k = 0; k < 3; k++) {
            snprintf(labels[3 * i + k], 48, "%s %s", split[i], dc_tweet_label_name(k));
            names[3 * i + k] = labels[3 * i + k];
            counts[3 * i + k] = c[k];
        }
    }
    dc_plot_opts o = {.title = "Tweets per class and split", .ylabel = "tweets"};
    dc_plot_bars(dc_run_path(run, "class_counts.png", path, sizeof path), names, counts, 9, &o);
    dc_report_text(rep, "%d training, %d validation and %d test tweets (training duplicates "
                   "removed; validation carved from the training file, stratified). Word "
                   "vectors: %s, %d-d. They cover %.1f%% of training tokens and %.1f%% of "
                   "distinct training words; words without a vector read as zeros.",
                   d->train.rows->n, d->val.rows->n, d->test.rows->n, d->vectors,
                   dc_wordvec_dim(d->wv),
                   100.0 * d->cover.tokens_found / (d->cover.tokens ? d->cover.tokens : 1),
                   100.0 * d->cover.types_found / (d->cover.types ? d->cover.types : 1));
    dc_report_image(rep, path, "Class balance");
}

static int run_grid(const exp_ctx *ctx, dc_run *run, const tw_data *d)
{
    static tw_result results[MAX_GRID];
    tw_best best[2] = {{-1, NULL, 0}, {-1, NULL, 0}};
    double best_val[2] = {-1, -1};
    int n = build_grid(ctx, results, MAX_GRID), epochs = (int)exp_int(ctx, "epochs"), rc = -1;
    dc_report *rep = dc_report_new("tweet-emotion: GRU and LSTM on word vectors");

    dc_run_metrics_header(run, "config,epoch,train_loss,train_acc,val_loss,val_acc,seconds");
    report_data(run, rep, d);
    for (int i = 0; i < n; i++) {
        int k = results[i].cfg.kind == DC_RNN_KIND_LSTM;
        if (alloc_history(&results[i], epochs) != 0
            || train_config(ctx, run, d, i, &results[i], &best[k], &best_val[k]) != 0)
            goto done;
    }
    if (write_grid_csv(run, results, n) != 0)
        goto done;
    report_grid(rep, results, n);
    for (int k = 0; k < 2; k++)
        if (best[k].index >= 0
            && score_best(ctx, run, rep, d, &results[best[k].index], &best[k], epochs) != 0)
            goto done;
    exp_report_settings(rep, ctx);
    rc = exp_report_finish(rep, run);
done:
    for (int i = 0; i < n; i++)
        for (int h = 0; h < N_H; h++)
            free(results[i].hist[h]);
    best_free(&best[0]);
    best_free(&best[1]);
    dc_report_free(rep);
    return rc;
}

static int tweet_emotion_run(exp_ctx *ctx)
{
    dc_run *run = exp_begin(ctx, "tweet-emotion");
    tw_data d = {0};
    double t0 = dc_now();
    int rc = -1;

    if (!run)
        return -1;
    if (load_tweets(ctx, &d) == 0 && load_vectors(ctx, &d) == 0)
        rc = run_grid(ctx, run, &d);
    dc_run_summary_num(run, "wall_seconds", dc_now() - t0);
    dc_run_summary_str(run, "vectors", d.vectors);
    data_free(&d);
    return exp_end(run, rc);
}

static const exp_setting tweet_emotion_settings[] = {
    {"models", EXP_LIST, "gru,lstm", "gru,lstm", "recurrent layers to search", "gru|lstm",
     0, 0},
    {"hidden", EXP_LIST, "32", "128,256", "hidden sizes to search", NULL, 1, 4096},
    {"dropout", EXP_LIST, "0.1", "0.1,0.5", "dropout before the classifier", NULL, 0, 0.99},
    {"lr", EXP_LIST, "0.001", "0.001,0.0001", "learning rates to search", NULL, 0, 10},
    {"optim", EXP_LIST, "adam", "adam,sgd", "optimizers (sgd has momentum 0.9)", "adam|sgd",
     0, 0},
    {"epochs", EXP_INT, "3", "5", "epochs per configuration", NULL, 1, 10000},
    {"batch", EXP_INT, "32", "32", "mini-batch size", NULL, 1, 100000},
    {"max_len", EXP_INT, "0", "0", "cap on tokens per tweet (0: none)", NULL, 0, 100000},
    {"vectors", EXP_STR, "word2vec", "word2vec",
     "word2vec or empty (train skip-gram here), glove (the GloVe file in the data "
     "folder), or a path to a word2vec/GloVe file", NULL, 0, 0},
    {"w2v_dim", EXP_INT, "50", "300", "size of trained word2vec vectors", NULL, 1, 4096},
    /* word2vec.c's 5 epochs suit billions of words; on 144k tokens of tweets 25 epochs
     * gave the best validation accuracy of 5, 15, 25, 50 and 100 (docs/results.md). */
    {"w2v_epochs", EXP_INT, "25", "25", "word2vec training epochs", NULL, 1, 1000},
    {"w2v_min_count", EXP_INT, "2", "2", "word2vec minimum word count", NULL, 1, 1000000},
    {"val_fraction", EXP_FLOAT, "0.1", "0.1", "share of training tweets for validation",
     NULL, 0.01, 0.9},
    {"train_limit", EXP_INT, "8000", "0", "N random training rows (0: all)", NULL, 0, 0},
    {"test_limit", EXP_INT, "1500", "0", "N random test rows (0: all)", NULL, 0, 0},
    {NULL},
};

const experiment exp_tweet_emotion = {
    .name = "tweet-emotion",
    .summary = "course part 2: GRU and LSTM tweet-emotion classifiers, grid search",
    .data = "tweet CSVs (bundled in data/tweet-emotions); word vectors trained here, or "
            "the GloVe subset in the data folder (--set vectors=glove)",
    .produces = "grid table (grid.csv and report), best-configuration curves, test "
                "confusion matrices, per-class precision/recall/F1, models",
    .default_seed = 42,
    .settings = tweet_emotion_settings,
    .run = tweet_emotion_run,
};
