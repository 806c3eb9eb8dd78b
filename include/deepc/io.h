/* io.h - checkpoints in the safetensors format, and atomic file writing.
 *
 * safetensors: 8-byte little-endian header length N, then N bytes of JSON mapping each
 * tensor name to {"dtype":"F32","shape":[...],"data_offsets":[begin,end]} (offsets
 * relative to the byte buffer that follows the header), plus an optional
 * "__metadata__" object of string values; then the raw little-endian data. Files written
 * here load with the `safetensors` Python package and torch's load_state_dict. */
#ifndef DEEPC_IO_H
#define DEEPC_IO_H

#include <stdio.h>

#include "deepc/tensor.h"

/* A named tensor, as in a PyTorch state_dict ("fc1.weight"). */
typedef struct dc_named_tensor {
    const char *name;
    dc_tensor *tensor;
} dc_named_tensor;

/* Writes `n` tensors (F32) and optional metadata pairs (`meta` holds n_meta key/value
 * pairs: meta[2i] is a key, meta[2i+1] its value; may be NULL) to `path`, through a
 * temporary file renamed into place, so a crash never leaves a half-written checkpoint.
 * Names must be unique and non-empty. */
dc_status dc_safetensors_save(const char *path, const dc_named_tensor *tensors, int n,
                              const char *const *meta, int n_meta);

/* A loaded safetensors file: every tensor as an owned heap tensor. */
typedef struct dc_safetensors dc_safetensors;

/* Reads and validates a whole file: header length within the file, JSON well formed,
 * dtype F32 (other dtypes are refused with a message naming the tensor and dtype), shapes
 * consistent with offsets, offsets inside the data and non-overlapping. Returns NULL with
 * dc_last_error naming the file and the fault. Owned by the caller (dc_safetensors_free). */
dc_safetensors *dc_safetensors_load(const char *path);
void dc_safetensors_free(dc_safetensors *st);

int dc_safetensors_count(const dc_safetensors *st);
/* Name and tensor of entry i (borrowed; valid until dc_safetensors_free). */
const char *dc_safetensors_name(const dc_safetensors *st, int i);
dc_tensor *dc_safetensors_tensor(const dc_safetensors *st, int i);
/* The tensor called `name`, or NULL. */
dc_tensor *dc_safetensors_find(const dc_safetensors *st, const char *name);
/* A metadata value, or NULL. */
const char *dc_safetensors_meta(const dc_safetensors *st, const char *key);

/* Copies the tensor called `name` into `dst`, which must have the same shape; otherwise
 * DC_ERR_SHAPE or DC_ERR_FORMAT with a message naming the tensor and both shapes. */
dc_status dc_safetensors_copy_into(const dc_safetensors *st, const char *name,
                                   dc_tensor *dst);

/* Atomic writes: dc_atomic_open returns a FILE on "<path>.tmp.<pid>"; dc_atomic_commit
 * closes it and renames it over `path` (on failure it removes the temporary file and
 * returns DC_ERR_IO with a message naming `path`); dc_atomic_abort closes and removes it. */
typedef struct dc_atomic_file {
    FILE *fp;
    char path[4096];
    char tmp[4200];
} dc_atomic_file;

dc_status dc_atomic_open(dc_atomic_file *af, const char *path);
dc_status dc_atomic_commit(dc_atomic_file *af);
void dc_atomic_abort(dc_atomic_file *af);

/* Installs handlers for SIGINT, SIGTERM and SIGHUP that remove the temporary files of
 * atomic writes in progress and then end the process as the signal would have. For a
 * program's main; the library installs nothing by itself. */
void dc_atomic_cleanup_on_signals(void);

/* Writes a whole buffer to `path` atomically. */
dc_status dc_write_file_atomic(const char *path, const void *data, size_t n);

/* Called by every reader of a user-named file before it opens it: returns DC_ERR_IO,
 * "<path>: not a regular file (a FIFO)" naming the kind, for a FIFO (whose open would
 * block forever), a directory, socket or device. A path that stat cannot see (missing,
 * no permission) returns DC_OK, so that the reader's own open reports why. */
dc_status dc_check_regular_file(const char *path);

/* Reads a whole regular file into a malloc'd buffer (*bytes, owned by the caller; *n
 * bytes). DC_ERR_IO naming the file if it is not a regular file or cannot be opened or
 * read. */
dc_status dc_file_read(const char *path, unsigned char **bytes, size_t *n);

#endif
