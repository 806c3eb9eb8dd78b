/* loader.c - mini-batches over an in-memory dc_dataset, and its destructor.
 *
 * Each epoch's order is a Fisher-Yates shuffle drawn from a generator seeded
 * with seed + epoch, so epochs differ from one another while a run reproduces
 * exactly, and the order of epoch e does not depend on how earlier epochs were
 * consumed. Batches are copied into the step arena and live until
 * dc_step_end(). MNIST loading is in mnist.c.
 * Limitation: batches are assembled on the calling thread, one at a time;
 * there is no prefetching on worker threads and no augmentation here, so
 * copying a batch adds to the step time (a memcpy per example: small next to
 * any model's forward pass). */
#include <stdlib.h>
#include <string.h>

#include "deepc/data.h"

struct dc_loader {
    const dc_dataset *ds; /* borrowed */
    int batch;
    int shuffle;
    int drop_last;
    uint64_t seed;
    int epoch;      /* the current epoch, -1 before the first one starts */
    int pos;        /* index into order of the next example */
    size_t example; /* floats per example: x's size / n */
    int *order;     /* [n] the current epoch's example order */
};

void dc_dataset_free(dc_dataset *ds)
{
    if (!ds)
        return;
    dc_tensor_free(ds->x);
    free(ds->y);
    free(ds);
}

static dc_status check_args(const dc_dataset *ds, int batch, int drop_last)
{
    if (!ds || !ds->x || !ds->y || ds->n <= 0)
        return dc_fail(DC_ERR_ARG,
                       "loader: dataset is %s, expected one with examples",
                       !ds ? "NULL" : ds->n <= 0 ? "empty" : "missing x or y");
    if (ds->x->ndim < 1 || ds->x->shape[0] != ds->n)
        return dc_fail(DC_ERR_ARG,
                       "loader: x has %d rows, but the dataset says n = %d",
                       ds->x->ndim < 1 ? 0 : ds->x->shape[0], ds->n);
    if (batch <= 0)
        return dc_fail(DC_ERR_ARG, "loader: batch %d, expected > 0", batch);

    /* Dropping the only, short batch would leave every epoch empty. */
    if (drop_last && batch > ds->n)
        return dc_fail(DC_ERR_ARG,
                       "loader: batch %d with drop_last over %d examples gives "
                       "no batch; expected batch <= %d",
                       batch, ds->n, ds->n);
    return DC_OK;
}

dc_loader *dc_loader_new(const dc_dataset *ds, int batch, int shuffle,
                         int drop_last, uint64_t seed)
{
    dc_loader *ld;

    if (check_args(ds, batch, drop_last) != DC_OK)
        return NULL;
    ld = dc_calloc(1, sizeof *ld, "loader");
    if (!ld)
        return NULL;
    ld->order = dc_malloc((size_t)ds->n * sizeof(int), "loader order");
    if (!ld->order) {
        free(ld);
        return NULL;
    }
    ld->ds = ds;
    ld->batch = batch;
    ld->shuffle = shuffle;
    ld->drop_last = drop_last;
    ld->seed = seed;
    ld->epoch = -1;
    ld->example = ds->x->size / (size_t)ds->n;
    return ld;
}

void dc_loader_free(dc_loader *ld)
{
    if (!ld)
        return;
    free(ld->order);
    free(ld);
}

int dc_loader_batches(const dc_loader *ld)
{
    int n = ld->ds->n;

    return ld->drop_last ? n / ld->batch : (n + ld->batch - 1) / ld->batch;
}

void dc_loader_reset(dc_loader *ld)
{
    int n = ld->ds->n;

    ld->epoch++;
    ld->pos = 0;
    for (int i = 0; i < n; i++)
        ld->order[i] = i;

    /* Reseeding from the epoch number (not continuing one stream) makes every
     * epoch's order a function of (seed, epoch) alone. */
    if (ld->shuffle) {
        dc_rng rng;
        dc_rng_seed(&rng, ld->seed + (uint64_t)ld->epoch);
        dc_rng_shuffle(&rng, ld->order, n);
    }
}

int dc_loader_next(dc_loader *ld, dc_tensor **x, int **y)
{
    const dc_dataset *ds = ld->ds;
    int shape[DC_MAX_DIMS], b;

    /* The first call on a new loader starts epoch 0 by itself. */
    if (ld->epoch < 0)
        dc_loader_reset(ld);
    b = ds->n - ld->pos < ld->batch ? ds->n - ld->pos : ld->batch;
    if (b <= 0 || (ld->drop_last && b < ld->batch))
        return 0;

    memcpy(shape, ds->x->shape, sizeof shape);
    shape[0] = b;
    *x = dc_tensor_tmp(ds->x->ndim, shape);
    *y = dc_arena_alloc((size_t)b * sizeof(int));
    for (int i = 0; i < b; i++) {
        int e = ld->order[ld->pos + i];
        memcpy((*x)->data + (size_t)i * ld->example,
               ds->x->data + (size_t)e * ld->example,
               ld->example * sizeof(float));
        (*y)[i] = ds->y[e];
    }
    ld->pos += b;
    return b;
}
