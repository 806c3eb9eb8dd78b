/* Tests of src/data/loader.c: batch counts, coverage of every example once per
 * epoch, seeded and reproducible order, drop_last, argument checks, and batches
 * of real MNIST. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/data.h"

#define MNIST_DIR DC_SOURCE_DIR "/data/mnist"

/* A dataset of n examples of shape [1, 1, 2]: example i holds {10 i, 10 i + 1}
 * and its label is i, so a batch row tells which example it is. */
static dc_dataset *make_ds(int n)
{
    dc_dataset *ds = calloc(1, sizeof *ds);

    cr_assert_not_null(ds);
    ds->x = dc_tensor_new4(n, 1, 1, 2);
    ds->y = malloc((size_t)n * sizeof(int));
    cr_assert(ds->x && ds->y);
    ds->n = n;
    ds->n_classes = n;
    for (int i = 0; i < n; i++) {
        ds->x->data[2 * i] = 10.0f * i;
        ds->x->data[2 * i + 1] = 10.0f * i + 1;
        ds->y[i] = i;
    }
    return ds;
}

/* Runs one epoch from the loader's current state into order[] (the labels seen,
 * in order), checking each batch's shape and that every row matches its label.
 * Returns the number of examples; *batches gets the number of batches. */
static int run_epoch(dc_loader *ld, int *order, int *batches)
{
    dc_tensor *x;
    int *y, b, seen = 0;

    *batches = 0;
    while ((b = dc_loader_next(ld, &x, &y)) > 0) {
        cr_assert_eq(x->ndim, 4);
        cr_assert_eq(x->shape[0], b);
        cr_assert(x->shape[1] == 1 && x->shape[2] == 1 && x->shape[3] == 2);
        for (int i = 0; i < b; i++) {
            cr_assert_eq(x->data[2 * i], 10.0f * y[i]);
            cr_assert_eq(x->data[2 * i + 1], 10.0f * y[i] + 1);
            order[seen++] = y[i];
        }
        (*batches)++;
        dc_step_end();
    }
    return seen;
}

static void assert_permutation(const int *order, int n)
{
    int *count = calloc((size_t)n, sizeof(int));

    cr_assert_not_null(count);
    for (int i = 0; i < n; i++) {
        cr_assert(order[i] >= 0 && order[i] < n, "label %d out of range",
                  order[i]);
        count[order[i]]++;
    }
    for (int i = 0; i < n; i++)
        cr_assert_eq(count[i], 1, "example %d seen %d times", i, count[i]);
    free(count);
}

/* The loader's documented order, into want[n]: 0..n-1 shuffled by
 * Fisher-Yates from an rng seeded with `seed` (the loader's seed plus the
 * epoch). */
static void shuffled_order(int *want, int n, uint64_t seed)
{
    dc_rng rng;

    for (int i = 0; i < n; i++)
        want[i] = i;
    dc_rng_seed(&rng, seed);
    dc_rng_shuffle(&rng, want, n);
}

Test(loader, batch_count)
{
    dc_dataset *ds = make_ds(10);
    struct {
        int batch, drop, want;
    } cases[] = {
        {3, 0, 4},  {3, 1, 3},  {5, 0, 2},  {5, 1, 2},
        {10, 1, 1}, {20, 0, 1}, {1, 0, 10},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dc_loader *ld = dc_loader_new(ds, cases[i].batch, 1, cases[i].drop, 7);
        int order[10], batches;
        cr_assert_not_null(ld, "%s", dc_last_error());
        cr_assert_eq(dc_loader_batches(ld), cases[i].want,
                     "batch %d drop_last %d", cases[i].batch, cases[i].drop);

        /* The count announced is the count delivered. */
        run_epoch(ld, order, &batches);
        cr_assert_eq(batches, cases[i].want);
        dc_loader_free(ld);
    }
    dc_dataset_free(ds);
    dc_arena_release();
}

Test(loader, every_example_once_per_epoch)
{
    dc_dataset *ds = make_ds(103);
    dc_loader *ld = dc_loader_new(ds, 10, 1, 0, 1234);
    int order[103], batches;

    cr_assert_not_null(ld);
    for (int epoch = 0; epoch < 3; epoch++) {
        dc_loader_reset(ld);
        cr_assert_eq(run_epoch(ld, order, &batches), 103);
        cr_assert_eq(batches, 11);
        assert_permutation(order, 103);
    }
    dc_loader_free(ld);
    dc_dataset_free(ds);
    dc_arena_release();
}

Test(loader, last_batch_is_short_without_drop_last)
{
    dc_dataset *ds = make_ds(10);
    dc_loader *ld = dc_loader_new(ds, 4, 0, 0, 0);
    dc_tensor *x;
    int *y, sizes[3];

    for (int i = 0; i < 3; i++) {
        sizes[i] = dc_loader_next(ld, &x, &y);
        dc_step_end();
    }
    cr_assert(sizes[0] == 4 && sizes[1] == 4 && sizes[2] == 2);
    cr_assert_eq(dc_loader_next(ld, &x, &y), 0);
    dc_loader_free(ld);
    dc_dataset_free(ds);
    dc_arena_release();
}

Test(loader, drop_last_drops_the_short_batch)
{
    dc_dataset *ds = make_ds(10);
    dc_loader *ld = dc_loader_new(ds, 3, 1, 1, 99);
    int order[10], seen[10] = {0}, batches;

    cr_assert_eq(run_epoch(ld, order, &batches), 9);
    cr_assert_eq(batches, 3);
    for (int i = 0; i < 9; i++)
        cr_assert_eq(seen[order[i]]++, 0, "example %d twice", order[i]);

    /* With shuffling the left-out example is the last of the epoch's order. */
    int want[10];
    shuffled_order(want, 10, 99);
    cr_assert_eq(seen[want[9]], 0);
    dc_loader_free(ld);
    dc_dataset_free(ds);
    dc_arena_release();
}

Test(loader, no_shuffle_keeps_order)
{
    dc_dataset *ds = make_ds(25);
    dc_loader *ld = dc_loader_new(ds, 7, 0, 0, 5);
    int order[25], batches;

    for (int epoch = 0; epoch < 2; epoch++) {
        dc_loader_reset(ld);
        cr_assert_eq(run_epoch(ld, order, &batches), 25);
        for (int i = 0; i < 25; i++)
            cr_assert_eq(order[i], i);
    }
    dc_loader_free(ld);
    dc_dataset_free(ds);
    dc_arena_release();
}

Test(loader, same_seed_same_order_other_seed_differs)
{
    dc_dataset *ds = make_ds(50);
    dc_loader *a = dc_loader_new(ds, 8, 1, 0, 42);
    dc_loader *b = dc_loader_new(ds, 8, 1, 0, 42);
    dc_loader *c = dc_loader_new(ds, 8, 1, 0, 43);
    int oa[50], ob[50], oc[50], batches;

    for (int epoch = 0; epoch < 3; epoch++) {
        dc_loader_reset(a);
        dc_loader_reset(b);
        dc_loader_reset(c);
        run_epoch(a, oa, &batches);
        run_epoch(b, ob, &batches);
        run_epoch(c, oc, &batches);
        cr_assert_arr_eq(oa, ob, sizeof oa, "epoch %d", epoch);
        cr_assert(memcmp(oa, oc, sizeof oa) != 0,
                  "seeds 42 and 43 agree in epoch %d", epoch);
    }
    dc_loader_free(a);
    dc_loader_free(b);
    dc_loader_free(c);
    dc_dataset_free(ds);
    dc_arena_release();
}

Test(loader, epochs_differ_and_follow_seed_plus_epoch)
{
    dc_dataset *ds = make_ds(40);
    dc_loader *ld = dc_loader_new(ds, 6, 1, 0, 1000);
    int order[3][40], want[40], batches;

    for (int epoch = 0; epoch < 3; epoch++) {
        dc_loader_reset(ld);
        run_epoch(ld, order[epoch], &batches);

        /* The documented rule: Fisher-Yates seeded with seed + epoch. */
        shuffled_order(want, 40, 1000 + (uint64_t)epoch);
        cr_assert_arr_eq(order[epoch], want, sizeof want, "epoch %d", epoch);
    }
    cr_assert(memcmp(order[0], order[1], sizeof order[0]) != 0);
    cr_assert(memcmp(order[1], order[2], sizeof order[0]) != 0);
    dc_loader_free(ld);
    dc_dataset_free(ds);
    dc_arena_release();
}

Test(loader, epoch_order_does_not_depend_on_history)
{
    dc_dataset *ds = make_ds(30);
    dc_loader *a = dc_loader_new(ds, 4, 1, 0, 3);
    dc_loader *b = dc_loader_new(ds, 4, 1, 0, 3);
    int oa[30], ob[30], batches;
    dc_tensor *x;
    int *y;

    /* a: epoch 0 starts implicitly and is left after one batch.
     * b: epoch 0 in full. */
    cr_assert_eq(dc_loader_next(a, &x, &y), 4);
    dc_step_end();
    run_epoch(b, ob, &batches);

    dc_loader_reset(a);
    dc_loader_reset(b);
    run_epoch(a, oa, &batches);
    run_epoch(b, ob, &batches);
    cr_assert_arr_eq(oa, ob, sizeof oa);
    dc_loader_free(a);
    dc_loader_free(b);
    dc_dataset_free(ds);
    dc_arena_release();
}

Test(loader, end_of_epoch_stays_at_zero_until_reset)
{
    dc_dataset *ds = make_ds(5);
    dc_loader *ld = dc_loader_new(ds, 5, 1, 0, 8);
    dc_tensor *x;
    int *y;

    cr_assert_eq(dc_loader_next(ld, &x, &y), 5);
    dc_step_end();
    cr_assert_eq(dc_loader_next(ld, &x, &y), 0);
    cr_assert_eq(dc_loader_next(ld, &x, &y), 0);
    dc_loader_reset(ld);
    cr_assert_eq(dc_loader_next(ld, &x, &y), 5);
    dc_step_end();
    dc_loader_free(ld);
    dc_dataset_free(ds);
    dc_arena_release();
}

Test(loader, rejects_bad_arguments)
{
    dc_dataset *ds = make_ds(10);

    cr_assert_null(dc_loader_new(NULL, 4, 1, 0, 0));
    cr_assert(strstr(dc_last_error(), "dataset is NULL"), "%s",
              dc_last_error());

    cr_assert_null(dc_loader_new(ds, 0, 1, 0, 0));
    cr_assert(strstr(dc_last_error(), "batch 0, expected > 0"), "%s",
              dc_last_error());

    cr_assert_null(dc_loader_new(ds, 11, 1, 1, 0));
    cr_assert(
        strstr(dc_last_error(), "batch 11 with drop_last over 10 examples"),
        "%s", dc_last_error());

    ds->n = 9;
    cr_assert_null(dc_loader_new(ds, 2, 1, 0, 0));
    cr_assert(
        strstr(dc_last_error(), "x has 10 rows, but the dataset says n = 9"),
        "%s", dc_last_error());
    ds->n = 10;
    dc_dataset_free(ds);
}

Test(loader, mnist_batches_copy_the_right_images)
{
    dc_dataset *ds = dc_mnist_load_split(MNIST_DIR, "test", 300);
    dc_loader *ld;
    dc_tensor *x;
    int *y, b, want[300], pos = 0;
    size_t ex = 28 * 28;

    cr_assert_not_null(ds, "%s", dc_last_error());
    ld = dc_loader_new(ds, 64, 1, 0, 17);
    cr_assert_not_null(ld);
    shuffled_order(want, 300, 17);

    while ((b = dc_loader_next(ld, &x, &y)) > 0) {
        cr_assert(x->ndim == 4 && x->shape[0] == b && x->shape[1] == 1 &&
                  x->shape[2] == 28 && x->shape[3] == 28);
        for (int i = 0; i < b; i++, pos++) {
            int e = want[pos];
            cr_assert_eq(y[i], ds->y[e]);
            cr_assert_arr_eq(x->data + i * ex, ds->x->data + e * ex,
                             ex * sizeof(float));
        }
        dc_step_end();
    }
    cr_assert_eq(pos, 300);
    dc_loader_free(ld);
    dc_dataset_free(ds);
    dc_arena_release();
}
