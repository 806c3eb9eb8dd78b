/* data.h - datasets and batch loading.
 *
 * A dataset here is held in memory as one float tensor of examples plus an int label per
 * example. Loaders validate everything they read and fail with a message that names the
 * file and what was wrong. */
#ifndef DEEPC_DATA_H
#define DEEPC_DATA_H

#include "deepc/tensor.h"

typedef struct dc_dataset {
    dc_tensor *x;  /* [n, ...] examples, owned */
    int *y;        /* [n] labels, owned */
    int n;
    int n_classes;
} dc_dataset;

void dc_dataset_free(dc_dataset *ds);

/* Loads an MNIST-style pair of idx files (gzip-compressed or not: zlib reads both):
 * images (magic 0x00000803, [n, rows, cols] unsigned bytes) and labels (magic 0x00000801,
 * [n] bytes, each 0-9). Pixels become floats in [0, 1], shape [n, 1, rows, cols].
 * Checks the magic numbers, that both files hold the same count, that the data is all
 * there (not truncated) and that nothing follows it, and every label's range.
 * `limit` > 0 keeps only the first `limit` examples. Returns NULL with a message naming
 * the file at fault. Owned by the caller (dc_dataset_free). */
dc_dataset *dc_mnist_load(const char *images_path, const char *labels_path, int limit);

/* Loads the MNIST split "train" or "test" from `dir` (which holds the four original
 * file names, with or without .gz). */
dc_dataset *dc_mnist_load_split(const char *dir, const char *split, int limit);

/* Finds a dataset folder: <dir_flag>/<name> if dir_flag is given (and nowhere else);
 * otherwise $DEEPC_DATA/<name>, then ./data/<name>. Writes the chosen path to `out`.
 * Returns DC_ERR_IO naming every place looked in if none exists. */
dc_status dc_data_find(const char *dir_flag, const char *name, char *out, size_t n);

/* Checks the SHA-256 of each file listed in `names` under `dir` against `sha256_hex`.
 * Logs one line per file; returns DC_ERR_FORMAT naming the first mismatching or missing
 * file, DC_ERR_IO for a read error, DC_ERR_ARG for a malformed expected digest. */
dc_status dc_data_verify(const char *dir, const char *const *names,
                         const char *const *sha256_hex, int n);

/* Mini-batches over a dataset in a seeded random (or fixed) order. */
typedef struct dc_loader dc_loader;

/* Batches of `batch` examples; `shuffle` reorders every epoch from `seed`; `drop_last`
 * drops a final short batch. Borrows `ds`. Owned by the caller (dc_loader_free). */
dc_loader *dc_loader_new(const dc_dataset *ds, int batch, int shuffle, int drop_last,
                         uint64_t seed);
void dc_loader_free(dc_loader *ld);

/* Number of batches in one epoch. */
int dc_loader_batches(const dc_loader *ld);

/* Starts a new epoch (reshuffles when shuffling). Epoch e (counted from 0) is ordered
 * by a shuffle seeded with seed + e; the first dc_loader_next on a new loader starts
 * epoch 0 by itself. */
void dc_loader_reset(dc_loader *ld);

/* Fills the next batch of the epoch: `x` is an arena tensor [b, ...] and `y` an arena
 * array of b labels (both valid until dc_step_end). Returns the batch size b, or 0 at
 * the end of the epoch. */
int dc_loader_next(dc_loader *ld, dc_tensor **x, int **y);

#endif
