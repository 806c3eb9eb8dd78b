/* arena.c - the step arena: bump allocation for everything one training step creates.
 *
 * Memory comes in chunks. When a step outgrows the current chunk a new one is chained
 * on; at the next reset the chain is replaced by one chunk as large as the whole step
 * needed, so from then on a step allocates nothing from the system.
 * Limitation: the arena is process-wide and not thread-safe; allocate from the thread
 * that drives training, never from inside an OpenMP region. */
#include <stdio.h>
#include <stdlib.h>

#include "core/internal.h"

#define ARENA_ALIGN 64
#define ARENA_MIN_CHUNK (1u << 20)

typedef struct chunk {
    struct chunk *prev;
    size_t cap;
    size_t used;
    _Alignas(ARENA_ALIGN) unsigned char mem[];
} chunk;

static chunk *current;
static size_t step_bytes;  /* bytes handed out since the last reset */
static size_t peak_bytes;

static chunk *chunk_new(size_t cap, chunk *prev)
{
    chunk *c = aligned_alloc(ARENA_ALIGN, (sizeof(chunk) + cap + ARENA_ALIGN - 1)
                                              / ARENA_ALIGN * ARENA_ALIGN);
    if (!c) {
        /* Mid-step there is nobody who could recover: say what was asked and stop. */
        fprintf(stderr, "error: step arena: out of memory asking for %zu bytes\n", cap);
        abort();
    }
    c->prev = prev;
    c->cap = cap;
    c->used = 0;
    return c;
}

void *dc_arena_alloc(size_t bytes)
{
    size_t need = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    void *p;

    if (!current || current->used + need > current->cap) {
        size_t cap = need > ARENA_MIN_CHUNK ? need : ARENA_MIN_CHUNK;
        if (current && cap < current->cap * 2)
            cap = current->cap * 2;
        current = chunk_new(cap, current);
    }
    p = current->mem + current->used;
    current->used += need;
    step_bytes += need;
    if (step_bytes > peak_bytes)
        peak_bytes = step_bytes;
    return p;
}

static void arena_reset(void)
{
    if (current && current->prev) {
        size_t total = 0;
        while (current) {
            chunk *prev = current->prev;
            total += current->cap;
            free(current);
            current = prev;
        }
        current = chunk_new(total, NULL);
    }
    if (current)
        current->used = 0;
    step_bytes = 0;
}

void dc_step_end(void)
{
    dc_tape_clear();
    arena_reset();
}

size_t dc_arena_capacity(void)
{
    size_t total = 0;

    for (chunk *c = current; c; c = c->prev)
        total += c->cap;
    return total;
}

size_t dc_arena_peak(void)
{
    return peak_bytes;
}

void dc_arena_release(void)
{
    dc_tape_clear();
    while (current) {
        chunk *prev = current->prev;
        free(current);
        current = prev;
    }
    step_bytes = 0;
}
