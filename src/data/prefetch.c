/* prefetch.c - the threaded batch loader: worker threads decode (from the uint8
 * cache) and augment the next batches while the caller trains on the current
 * one.
 *
 * The loader owns `depth` slots, each a [batch, 3, H, W] float buffer with its
 * labels. Batch k of an epoch goes to slot k % depth. When the caller takes
 * batch k, it is copied into the step arena and the slot is handed straight
 * back for batch k + depth, so up to `depth` batches are in preparation while
 * the caller works. Workers take single examples (not whole batches) from the
 * oldest unfinished slot, which keeps every thread busy on the batch the caller
 * will ask for next. One mutex guards the slots' bookkeeping; the pixels are
 * written outside it, each example by one worker.
 *
 * An example's augmentation is seeded from (seed, epoch, dataset index) alone,
 * so the batches are the same for any number of workers and any timing.
 *
 * Leaves out: preparing the next epoch before dc_prefetch_reset (the order of
 * epoch e + 1 is known early, but a caller who evaluates between epochs can
 * call reset first to get the same overlap); pinned or device memory. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/image.h"

#define MAX_WORKERS 256
#define MAX_DEPTH 64
#define ERR_LEN 1024

typedef struct slot {
    float *x; /* [batch, 3, H, W] */
    int *y;   /* [batch] */
    int *idx; /* [batch] dataset indices of this batch's examples */
    int epoch;
    int b;           /* examples in the batch; 0: the slot is free */
    int taken, done; /* examples handed to workers, and finished */
    int cancelled;   /* the epoch was abandoned: finish without work */
    dc_status st;    /* the first failure among the examples */
    char err[ERR_LEN];
} slot;

typedef struct worker {
    dc_prefetch *pf;
    pthread_t thread;
    dc_image img;
    dc_image_ws ws;
} worker;

struct dc_prefetch {
    const dc_imagefolder *ds; /* borrowed */
    dc_pipeline pipe;
    dc_prefetch_opts o;
    int *list, n; /* the dataset indices given, in their order */
    int *order;   /* [n] this epoch's order of positions in list */
    int h, w;
    size_t example; /* floats per example: 3 H W */
    int nb;         /* batches per epoch */
    int epoch;      /* -1 before the first */
    int next_batch; /* the next batch the caller gets */
    int next_sched; /* the next batch to give a slot */
    slot *slots;
    worker *workers;
    int started; /* threads running */
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t work_cv; /* a slot got work, or stop */
    pthread_cond_t done_cv; /* a slot finished */
};

/* SplitMix64's finaliser: neighbouring inputs give unrelated outputs. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t example_seed(uint64_t seed, int epoch, int index)
{
    return mix64(mix64(mix64(seed) ^ (uint64_t)epoch) ^ (uint64_t)index);
}

/* ---- the workers ---- */

/* Builds example i of slot s: decode from the cache, augment, store. Called
 * without the lock: nobody else touches example i, and s's other fields stay
 * fixed while the slot is busy. */
static dc_status make_example(worker *wk, slot *s, int i)
{
    dc_prefetch *pf = wk->pf;
    int ex = s->idx[i], h, w;
    const unsigned char *rgb = dc_imagefolder_pixels(pf->ds, ex, &h, &w);
    dc_rng rng;
    dc_status st;

    dc_rng_seed(&rng, example_seed(pf->o.seed, s->epoch, ex));
    if ((st = dc_image_from_rgb8(&wk->img, rgb, h, w)) ||
        (st = dc_pipeline_apply(&pf->pipe, &wk->img, &wk->ws, &rng)))
        return st;
    if (wk->img.c != 3 || wk->img.h != pf->h || wk->img.w != pf->w)
        return dc_fail(DC_ERR_SHAPE,
                       "prefetch: %s came out as [%d,%d,%d], expected "
                       "[3,%d,%d]",
                       dc_imagefolder_path(pf->ds, ex), wk->img.c, wk->img.h,
                       wk->img.w, pf->h, pf->w);
    memcpy(s->x + (size_t)i * pf->example, wk->img.data,
           pf->example * sizeof(float));
    s->y[i] = dc_imagefolder_labels(pf->ds)[ex];
    return DC_OK;
}

/* The oldest busy slot with an example nobody has taken; NULL if none. Lock
 * held. */
static slot *find_work(dc_prefetch *pf)
{
    for (int k = pf->next_batch; k < pf->next_sched; k++) {
        slot *s = &pf->slots[k % pf->o.depth];
        if (s->b > 0 && s->taken < s->b)
            return s;
    }
    return NULL;
}

/* Lock held. */
static void finish_example(dc_prefetch *pf, slot *s, dc_status st)
{
    if (st != DC_OK && s->st == DC_OK) {
        s->st = st;
        snprintf(s->err, sizeof s->err, "%s", dc_last_error());
    }
    if (++s->done == s->b)
        pthread_cond_broadcast(&pf->done_cv);
}

static void *worker_main(void *arg)
{
    worker *wk = arg;
    dc_prefetch *pf = wk->pf;

    pthread_mutex_lock(&pf->mu);
    for (;;) {
        slot *s;
        int i;
        dc_status st = DC_OK;
        while (!pf->stop && !(s = find_work(pf)))
            pthread_cond_wait(&pf->work_cv, &pf->mu);
        if (pf->stop)
            break;
        i = s->taken++;
        if (!s->cancelled) {
            pthread_mutex_unlock(&pf->mu);
            st = make_example(wk, s, i);
            pthread_mutex_lock(&pf->mu);
        }
        finish_example(pf, s, st);
    }
    pthread_mutex_unlock(&pf->mu);
    return NULL;
}

/* ---- scheduling (lock held) ---- */

/* Gives free slots the next batches of the epoch and wakes the workers. */
static void schedule(dc_prefetch *pf)
{
    int batch = pf->o.batch, woke = 0;

    while (pf->next_sched < pf->nb &&
           pf->next_sched < pf->next_batch + pf->o.depth) {
        int k = pf->next_sched++;
        slot *s = &pf->slots[k % pf->o.depth];
        int b = pf->n - k * batch < batch ? pf->n - k * batch : batch;
        for (int i = 0; i < b; i++)
            s->idx[i] = pf->list[pf->order[k * batch + i]];
        s->epoch = pf->epoch;
        s->taken = s->done = s->cancelled = 0;
        s->st = DC_OK;
        s->b = b;
        woke = 1;
    }
    if (woke)
        pthread_cond_broadcast(&pf->work_cv);
}

/* Abandons the batches in preparation: workers finish them without work. */
static void cancel_all(dc_prefetch *pf)
{
    for (int i = 0; i < pf->o.depth; i++)
        if (pf->slots[i].b > 0)
            pf->slots[i].cancelled = 1;
    for (int i = 0; i < pf->o.depth; i++) {
        slot *s = &pf->slots[i];
        while (s->b > 0 && s->done < s->b)
            pthread_cond_wait(&pf->done_cv, &pf->mu);
        s->b = 0;
    }
}

void dc_prefetch_reset(dc_prefetch *pf)
{
    pthread_mutex_lock(&pf->mu);
    cancel_all(pf);
    pf->epoch++;
    for (int i = 0; i < pf->n; i++)
        pf->order[i] = i;

    /* As dc_loader: epoch e's order depends on (seed, e) alone. */
    if (pf->o.shuffle) {
        dc_rng rng;
        dc_rng_seed(&rng, pf->o.seed + (uint64_t)pf->epoch);
        dc_rng_shuffle(&rng, pf->order, pf->n);
    }
    pf->next_batch = pf->next_sched = 0;
    schedule(pf);
    pthread_mutex_unlock(&pf->mu);
}

/* ---- the caller's side ---- */

/* Copies finished slot s into the arena. */
static void hand_out(const dc_prefetch *pf, const slot *s, dc_tensor **x,
                     const int **y)
{
    int shape[4] = {s->b, 3, pf->h, pf->w};
    int *labels;

    *x = dc_tensor_tmp(4, shape);
    memcpy((*x)->data, s->x, (size_t)s->b * pf->example * sizeof(float));
    labels = dc_arena_alloc((size_t)s->b * sizeof(int));
    memcpy(labels, s->y, (size_t)s->b * sizeof(int));
    *y = labels;
}

dc_status dc_prefetch_next(dc_prefetch *pf, dc_tensor **x, const int **y,
                           int *b)
{
    slot *s;
    dc_status st;

    if (!pf || !x || !y || !b)
        return dc_fail(DC_ERR_ARG,
                       "prefetch: next needs a loader and three outputs");
    if (pf->epoch < 0)
        dc_prefetch_reset(pf);
    *b = 0;
    pthread_mutex_lock(&pf->mu);
    if (pf->next_batch >= pf->nb) {
        pthread_mutex_unlock(&pf->mu);
        return DC_OK;
    }
    s = &pf->slots[pf->next_batch % pf->o.depth];
    while (s->done < s->b)
        pthread_cond_wait(&pf->done_cv, &pf->mu);
    pthread_mutex_unlock(&pf->mu);

    /* The slot is finished and not yet free: no worker touches it during the
     * copy. */
    st = s->st;
    if (st == DC_OK) {
        hand_out(pf, s, x, y);
        *b = s->b;
    } else {
        dc_fail(st, "%s", s->err);
    }

    pthread_mutex_lock(&pf->mu);
    s->b = 0;
    pf->next_batch++;
    schedule(pf);
    pthread_mutex_unlock(&pf->mu);
    return st;
}

int dc_prefetch_batches(const dc_prefetch *pf)
{
    return pf->nb;
}

void dc_prefetch_example_size(const dc_prefetch *pf, int *h, int *w)
{
    *h = pf->h;
    *w = pf->w;
}

/* ---- construction ---- */

static dc_status check_opts(const dc_prefetch_opts *o, int n)
{
    if (o->batch < 1 || o->workers < 1 || o->workers > MAX_WORKERS ||
        o->depth < 0 || o->depth > MAX_DEPTH)
        return dc_fail(DC_ERR_ARG,
                       "prefetch: batch %d, workers %d, depth %d; expected "
                       "batch >= 1, workers 1..%d, depth 0..%d",
                       o->batch, o->workers, o->depth, MAX_WORKERS, MAX_DEPTH);
    if (o->drop_last && o->batch > n)
        return dc_fail(
            DC_ERR_ARG,
            "prefetch: batch %d with drop_last over %d examples gives "
            "no batch; expected batch <= %d",
            o->batch, n, n);
    return DC_OK;
}

/* Copies the index list (or 0..n-1) after checking every index. */
static dc_status copy_list(dc_prefetch *pf, const int *indices, int n)
{
    int len = dc_imagefolder_len(pf->ds);

    pf->n = indices ? n : len;
    if (pf->n <= 0)
        return dc_fail(DC_ERR_ARG, "prefetch: %d examples, expected at least 1",
                       pf->n);
    pf->list = dc_malloc((size_t)pf->n * sizeof(int), "prefetch index list");
    pf->order = dc_malloc((size_t)pf->n * sizeof(int), "prefetch order");
    if (!pf->list || !pf->order)
        return DC_ERR_NOMEM;
    for (int i = 0; i < pf->n; i++) {
        pf->list[i] = indices ? indices[i] : i;
        if (pf->list[i] < 0 || pf->list[i] >= len)
            return dc_fail(DC_ERR_ARG,
                           "prefetch: indices[%d] = %d, expected 0..%d", i,
                           pf->list[i], len - 1);
    }
    return DC_OK;
}

/* Every listed image must leave the pipeline with the size of the first. */
static dc_status find_size(dc_prefetch *pf)
{
    for (int i = 0; i < pf->n; i++) {
        int ex = pf->list[i], h, w, oh, ow;
        dc_status st;
        dc_imagefolder_pixels(pf->ds, ex, &h, &w);
        if ((st = dc_pipeline_out_size(&pf->pipe, h, w, &oh, &ow)) != DC_OK) {
            char msg[ERR_LEN];
            snprintf(msg, sizeof msg, "%s", dc_last_error());
            return dc_fail(st, "prefetch: %s (%dx%d): %s",
                           dc_imagefolder_path(pf->ds, ex), h, w, msg);
        }
        if (i == 0) {
            pf->h = oh;
            pf->w = ow;
        } else if (oh != pf->h || ow != pf->w) {
            return dc_fail(
                DC_ERR_SHAPE,
                "prefetch: the pipeline turns %s into %dx%d but %s "
                "into %dx%d; a batch needs one size (end it with a fixed-size "
                "crop or resize)",
                dc_imagefolder_path(pf->ds, pf->list[0]), pf->h, pf->w,
                dc_imagefolder_path(pf->ds, ex), oh, ow);
        }
    }
    pf->example = (size_t)3 * pf->h * pf->w;
    return DC_OK;
}

static dc_status alloc_slots(dc_prefetch *pf)
{
    size_t batch = (size_t)pf->o.batch;

    pf->slots =
        dc_calloc((size_t)pf->o.depth, sizeof *pf->slots, "prefetch slots");
    if (!pf->slots)
        return DC_ERR_NOMEM;
    for (int i = 0; i < pf->o.depth; i++) {
        slot *s = &pf->slots[i];
        s->x = dc_malloc(batch * pf->example * sizeof(float),
                         "prefetch batch buffer");
        s->y = dc_malloc(batch * sizeof(int), "prefetch labels");
        s->idx = dc_malloc(batch * sizeof(int), "prefetch batch indices");
        if (!s->x || !s->y || !s->idx)
            return DC_ERR_NOMEM;
    }
    return DC_OK;
}

static dc_status start_workers(dc_prefetch *pf)
{
    pf->workers = dc_calloc((size_t)pf->o.workers, sizeof *pf->workers,
                            "prefetch workers");
    if (!pf->workers)
        return DC_ERR_NOMEM;
    for (int i = 0; i < pf->o.workers; i++) {
        worker *wk = &pf->workers[i];
        int err;
        wk->pf = pf;
        dc_image_init(&wk->img);
        dc_image_ws_init(&wk->ws);
        if ((err = pthread_create(&wk->thread, NULL, worker_main, wk)) != 0)
            return dc_fail(DC_ERR_NOMEM,
                           "prefetch: cannot start worker %d of %d: %s", i + 1,
                           pf->o.workers, strerror(err));
        pf->started++;
    }
    return DC_OK;
}

dc_prefetch *dc_prefetch_new(const dc_imagefolder *ds, const int *indices,
                             int n, const dc_pipeline *pipe,
                             const dc_prefetch_opts *opts)
{
    dc_prefetch *pf;

    if (!ds || !pipe || !opts) {
        dc_fail(DC_ERR_ARG,
                "prefetch: needs a dataset, a pipeline and options");
        return NULL;
    }
    if (!(pf = dc_calloc(1, sizeof *pf, "prefetch loader")))
        return NULL;
    pf->ds = ds;
    pf->pipe = *pipe;
    pf->o = *opts;
    if (pf->o.depth == 0)
        pf->o.depth = 2;
    pf->epoch = -1;
    pthread_mutex_init(&pf->mu, NULL);
    pthread_cond_init(&pf->work_cv, NULL);
    pthread_cond_init(&pf->done_cv, NULL);
    if (copy_list(pf, indices, n) || check_opts(&pf->o, pf->n) ||
        find_size(pf) || alloc_slots(pf)) {
        dc_prefetch_free(pf);
        return NULL;
    }
    pf->nb = pf->o.drop_last ? pf->n / pf->o.batch
                             : (pf->n + pf->o.batch - 1) / pf->o.batch;
    if (start_workers(pf) != DC_OK) {
        dc_prefetch_free(pf);
        return NULL;
    }
    return pf;
}

void dc_prefetch_free(dc_prefetch *pf)
{
    if (!pf)
        return;

    /* Workers finish the example in hand, see stop and return. */
    pthread_mutex_lock(&pf->mu);
    pf->stop = 1;
    pthread_cond_broadcast(&pf->work_cv);
    pthread_mutex_unlock(&pf->mu);
    for (int i = 0; i < pf->started; i++)
        pthread_join(pf->workers[i].thread, NULL);

    for (int i = 0; pf->workers && i < pf->o.workers; i++) {
        dc_image_deinit(&pf->workers[i].img);
        dc_image_ws_deinit(&pf->workers[i].ws);
    }
    for (int i = 0; pf->slots && i < pf->o.depth; i++) {
        free(pf->slots[i].x);
        free(pf->slots[i].y);
        free(pf->slots[i].idx);
    }
    free(pf->workers);
    free(pf->slots);
    free(pf->list);
    free(pf->order);
    pthread_cond_destroy(&pf->work_cv);
    pthread_cond_destroy(&pf->done_cv);
    pthread_mutex_destroy(&pf->mu);
    free(pf);
}
