/* tensor.h - float32 tensors, error status, the step arena, the tape, RNG, threads.
 *
 * A dc_tensor is a contiguous row-major float32 array of up to DC_MAX_DIMS dimensions.
 * Tensors come from two places:
 *   - the heap (dc_tensor_new): parameters, datasets, anything that outlives a step;
 *     the caller owns them and releases them with dc_tensor_free;
 *   - the step arena (dc_tensor_tmp and every op in ops.h): activations, gradients and
 *     saved buffers of one training step. They stay valid until dc_step_end(), which
 *     resets the arena and the tape at once. Never free an arena tensor.
 *
 * The tape records every op whose inputs require gradients while grad mode is on;
 * dc_backward(loss) walks it in reverse (see ops.h). */
#ifndef DEEPC_TENSOR_H
#define DEEPC_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#define DC_VERSION "0.1.0"
#define DC_MAX_DIMS 5

/* ---- errors ---- */

typedef enum dc_status {
    DC_OK = 0,
    DC_ERR_ARG,    /* a bad argument or hyperparameter */
    DC_ERR_SHAPE,  /* shapes that do not fit together */
    DC_ERR_IO,     /* a file that cannot be opened, read or written */
    DC_ERR_FORMAT, /* a file whose contents are not what its format requires */
    DC_ERR_NOMEM,  /* an allocation failed */
} dc_status;

/* The message of the most recent failure on this thread ("" if none). Borrowed: valid
 * until the next failure on this thread. */
const char *dc_last_error(void);

/* Records a printf-style message for dc_last_error and returns `status`, so a failing
 * function can end with `return dc_fail(DC_ERR_IO, "...", ...);`. */
dc_status dc_fail(dc_status status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void dc_clear_error(void);

/* malloc/calloc that record "out of memory: N bytes for WHAT" on failure. */
void *dc_malloc(size_t bytes, const char *what);
void *dc_calloc(size_t count, size_t size, const char *what);

/* ---- tensors ---- */

typedef struct dc_node dc_node;

typedef struct dc_tensor {
    float *data;
    float *grad;          /* same size as data; NULL until a gradient reaches it */
    int ndim;
    int shape[DC_MAX_DIMS];
    size_t size;          /* product of shape */
    int requires_grad;
    int on_heap;          /* 1: owned by the caller (dc_tensor_free); 0: arena */
    dc_node *node;        /* the tape node that produced it, or NULL for a leaf */
} dc_tensor;

/* A zero-filled heap tensor of the given shape. Owned by the caller; NULL with a message
 * on a bad shape or failed allocation. */
dc_tensor *dc_tensor_new(int ndim, const int *shape);

/* Convenience constructors for 1-4 dimensions. */
dc_tensor *dc_tensor_new1(int d0);
dc_tensor *dc_tensor_new2(int d0, int d1);
dc_tensor *dc_tensor_new4(int d0, int d1, int d2, int d3);

/* Releases a heap tensor and its gradient buffer; accepts NULL. */
void dc_tensor_free(dc_tensor *t);

/* A zero-filled tensor in the step arena; valid until dc_step_end(). Aborts on exhaustion
 * of memory, as there is no caller that could recover mid-step. */
dc_tensor *dc_tensor_tmp(int ndim, const int *shape);

/* An arena tensor that shares `t`'s data but reads it with another shape of equal size.
 * Not recorded on the tape; use dc_reshape in ops.h for a differentiable view. */
dc_tensor *dc_tensor_view(dc_tensor *t, int ndim, const int *shape);

/* Allocates (zeroed) t->grad if it is missing and returns it. Heap tensors get a heap
 * buffer, arena tensors an arena one. */
float *dc_tensor_grad(dc_tensor *t);

/* Zeroes t->grad if present. */
void dc_tensor_zero_grad(dc_tensor *t);

int dc_shape_equal(const dc_tensor *a, const dc_tensor *b);

/* Writes "[2,3,4]" into buf (at most n bytes) and returns buf. */
char *dc_shape_str(const dc_tensor *t, char *buf, size_t n);

/* ---- the step arena ---- */

/* Raw arena memory, 64-byte aligned, uninitialised; valid until dc_step_end(). */
void *dc_arena_alloc(size_t bytes);

/* Ends a training step: forgets the tape and releases every arena allocation at once.
 * After the first few steps the arena has grown to the step's size and this costs
 * nothing; no malloc or free happens in the steady state. */
void dc_step_end(void);

/* Bytes the arena holds from the system (its capacity) and its high-water mark. */
size_t dc_arena_capacity(void);
size_t dc_arena_peak(void);

/* Frees the arena's memory (at program exit, to keep leak checkers quiet). */
void dc_arena_release(void);

/* ---- random numbers ---- */

/* A small, portable generator (PCG32): the same seed gives the same numbers on every
 * machine and compiler. */
typedef struct dc_rng {
    uint64_t state;
    uint64_t inc;
} dc_rng;

void dc_rng_seed(dc_rng *rng, uint64_t seed);
uint32_t dc_rng_u32(dc_rng *rng);
/* Uniform in [0, 1) with 24 random bits. */
float dc_rng_uniform(dc_rng *rng);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint32_t dc_rng_below(dc_rng *rng, uint32_t n);
/* Standard normal (Box-Muller). */
float dc_rng_normal(dc_rng *rng);
/* Fisher-Yates shuffle of an int array. */
void dc_rng_shuffle(dc_rng *rng, int *a, int n);

/* ---- threads ---- */

/* Sets the thread count of OpenMP and OpenBLAS together (n <= 0: all cores). */
void dc_set_threads(int n);
int dc_get_threads(void);

#endif
