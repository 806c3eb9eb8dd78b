/* vocab.c - the vocabulary: a word -> id hash table with counts.
 *
 * Open addressing with linear probing over a power-of-two slot array kept at
 * most half full; each word's 64-bit FNV-1a hash is stored so that growing
 * the table never rehashes a string. Word bytes live in large blocks that
 * never move, so a word pointer stays valid until the vocabulary is freed.
 * The word-vector table (wordvec.c) uses this for its lookups.
 * Leaves out: removing words; special tokens (padding, unknown), which the
 * vector batches do not need because they use zero vectors instead. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/text.h"

/* Bytes per string block: large enough that blocks are few. */
#define BLOCK_BYTES ((size_t)1 << 16)

typedef struct block {
    struct block *next;
    size_t used, cap;
    char data[];
} block;

struct dc_vocab {
    char **word;      /* [size] */
    int64_t *count;   /* [size] */
    uint64_t *hash;   /* [size] */
    int size, cap;
    int *slot;        /* [nslots]: an id, or -1 for an empty slot */
    size_t nslots;    /* a power of two, at least twice size */
    int64_t total;
    block *blocks;    /* the newest first */
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

dc_vocab *dc_vocab_new(void)
{
    dc_vocab *v = dc_calloc(1, sizeof *v, "vocabulary");

    if (!v)
        return NULL;
    v->nslots = 64;
    v->slot = dc_malloc(v->nslots * sizeof *v->slot, "vocabulary slots");
    if (!v->slot) {
        free(v);
        return NULL;
    }
    memset(v->slot, 0xff, v->nslots * sizeof *v->slot);
    return v;
}

void dc_vocab_free(dc_vocab *v)
{
    if (!v)
        return;
    while (v->blocks) {
        block *b = v->blocks;
        v->blocks = b->next;
        free(b);
    }
    free(v->word);
    free(v->count);
    free(v->hash);
    free(v->slot);
    free(v);
}

/* The slot holding `word` (hash h), or the empty slot where it would go. */
static size_t probe(const dc_vocab *v, const char *word, uint64_t h)
{
    size_t mask = v->nslots - 1, i = (size_t)h & mask;

    while (v->slot[i] >= 0) {
        int id = v->slot[i];
        if (v->hash[id] == h && strcmp(v->word[id], word) == 0)
            break;
        i = (i + 1) & mask;
    }
    return i;
}

int dc_vocab_find(const dc_vocab *v, const char *word)
{
    if (!v || !word)
        return -1;
    return v->slot[probe(v, word, fnv1a(word))];
}

/* Doubles the slot array and reinserts every id by its stored hash. */
static dc_status rehash(dc_vocab *v)
{
    size_t n = v->nslots * 2, mask = n - 1;
    int *slot = dc_malloc(n * sizeof *slot, "vocabulary slots");

    if (!slot)
        return DC_ERR_NOMEM;
    memset(slot, 0xff, n * sizeof *slot);
    for (int id = 0; id < v->size; id++) {
        size_t i = (size_t)v->hash[id] & mask;
        while (slot[i] >= 0)
            i = (i + 1) & mask;
        slot[i] = id;
    }
    free(v->slot);
    v->slot = slot;
    v->nslots = n;
    return DC_OK;
}

/* Room for one more id in the per-word arrays. */
static dc_status reserve_id(dc_vocab *v)
{
    int n;
    void *a, *b, *c;

    if (v->size < v->cap)
        return DC_OK;
    if (v->cap >= INT_MAX / 2)
        return dc_fail(DC_ERR_ARG, "vocabulary: more than %d words", v->cap);
    n = v->cap ? 2 * v->cap : 64;
    a = realloc(v->word, (size_t)n * sizeof *v->word);
    if (a)
        v->word = a;
    b = realloc(v->count, (size_t)n * sizeof *v->count);
    if (b)
        v->count = b;
    c = realloc(v->hash, (size_t)n * sizeof *v->hash);
    if (c)
        v->hash = c;
    if (!a || !b || !c)
        return dc_fail(DC_ERR_NOMEM, "out of memory: vocabulary of %d words", n);
    v->cap = n;
    return DC_OK;
}

/* A stable copy of `word` in the string blocks. */
static char *store(dc_vocab *v, const char *word)
{
    size_t len = strlen(word) + 1;
    block *b = v->blocks;

    if (!b || b->cap - b->used < len) {
        size_t cap = len > BLOCK_BYTES ? len : BLOCK_BYTES;
        b = dc_malloc(sizeof *b + cap, "vocabulary words");
        if (!b)
            return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = v->blocks;
        v->blocks = b;
    }
    memcpy(b->data + b->used, word, len);
    b->used += len;
    return b->data + b->used - len;
}

int dc_vocab_add(dc_vocab *v, const char *word, int64_t count)
{
    uint64_t h;
    size_t i;
    char *copy;

    if (!v || !word || !word[0] || count < 0)
        return dc_fail(DC_ERR_ARG, "dc_vocab_add: %s", !v ? "NULL vocabulary"
                       : !word || !word[0] ? "empty word" : "negative count"), -1;
    h = fnv1a(word);
    i = probe(v, word, h);
    if (v->slot[i] >= 0) {
        v->count[v->slot[i]] += count;
        v->total += count;
        return v->slot[i];
    }

    /* Grow first, so the table stays at most half full and probes end. */
    if ((size_t)(v->size + 1) * 2 > v->nslots) {
        if (rehash(v) != DC_OK)
            return -1;
        i = probe(v, word, h);
    }
    if (reserve_id(v) != DC_OK || !(copy = store(v, word)))
        return -1;
    v->word[v->size] = copy;
    v->count[v->size] = count;
    v->hash[v->size] = h;
    v->slot[i] = v->size;
    v->total += count;
    return v->size++;
}

int dc_vocab_size(const dc_vocab *v)
{
    return v ? v->size : 0;
}

const char *dc_vocab_word(const dc_vocab *v, int id)
{
    return v && id >= 0 && id < v->size ? v->word[id] : NULL;
}

int64_t dc_vocab_count(const dc_vocab *v, int id)
{
    return v && id >= 0 && id < v->size ? v->count[id] : 0;
}

int64_t dc_vocab_total(const dc_vocab *v)
{
    return v ? v->total : 0;
}

/* ---- building from a corpus ---- */

typedef struct ranked {
    int64_t count;
    int id;
} ranked;

/* Descending count, then ascending id (first appearance). */
static int cmp_ranked(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;

    if (a->count != b->count)
        return a->count < b->count ? 1 : -1;
    return (a->id > b->id) - (a->id < b->id);
}

/* Adds the words of `all` that reach min_count to `out`, most frequent first. */
static dc_status add_ranked(dc_vocab *out, const dc_vocab *all, int min_count)
{
    ranked *r = dc_malloc((size_t)(all->size ? all->size : 1) * sizeof *r,
                          "vocabulary ranking");

    if (!r)
        return DC_ERR_NOMEM;
    for (int id = 0; id < all->size; id++)
        r[id] = (ranked){all->count[id], id};
    qsort(r, (size_t)all->size, sizeof *r, cmp_ranked);
    for (int k = 0; k < all->size && r[k].count >= min_count; k++) {
        if (dc_vocab_add(out, all->word[r[k].id], r[k].count) < 0) {
            free(r);
            return DC_ERR_NOMEM;
        }
    }
    free(r);
    return DC_OK;
}

dc_vocab *dc_vocab_build(const dc_corpus *c, int min_count)
{
    dc_vocab *all, *out;
    int ntok;

    if (!c || min_count < 1)
        return dc_fail(DC_ERR_ARG, "dc_vocab_build: %s", !c ? "NULL corpus"
                       : "min_count below 1"), NULL;
    all = dc_vocab_new();
    out = dc_vocab_new();
    ntok = c->start[c->n];
    for (int i = 0; all && out && i < ntok; i++) {
        if (dc_vocab_add(all, c->tok[i], 1) < 0) {
            dc_vocab_free(out);
            out = NULL;
        }
    }
    if (all && out && add_ranked(out, all, min_count) != DC_OK) {
        dc_vocab_free(out);
        out = NULL;
    }
    dc_vocab_free(all);
    return out;
}
