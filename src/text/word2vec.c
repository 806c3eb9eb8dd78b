/* word2vec.c - skip-gram word2vec with negative sampling, and a file cache.
 *
 * Follows Mikolov's word2vec.c (2013) in what it computes: a vocabulary of
 * words seen min_count times, sub-sampling of frequent words, a reduced window
 * drawn per position, for each (word, context) pair one positive and
 * `negative` sampled targets scored against the context word's input vector,
 * gradients clipped where |score| > 6, and a linearly decaying learning rate.
 * It differs where exactness or determinism is cheap: the sigmoid is computed
 * rather than read from a 1000-entry table, negatives come from a binary
 * search of the cumulative unigram^0.75 distribution (as gensim does) instead
 * of a 10^8-entry table, random numbers come from PCG32, and the learning rate
 * is updated per sentence. Windows never cross sentences (tweets).
 * Leaves out: CBOW, hierarchical softmax, phrases, continued training. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "deepc/log.h"
#include "deepc/text.h"

/* Beyond this score the sigmoid is taken as exactly 0 or 1 (word2vec.c). */
#define MAX_EXP 6.0f
#define MAX_THREADS 256

void dc_word2vec_defaults(dc_word2vec_opts *o)
{
    o->dim = 300;
    o->window = 5;
    o->negative = 5;
    o->min_count = 5;
    o->epochs = 5;
    o->alpha = 0.025f;
    o->min_alpha = 0.025f * 1e-4f;
    o->sample = 1e-3;
    o->seed = 1;
    o->threads = 1;
}

static dc_status check_opts(const dc_corpus *c, const dc_word2vec_opts *o)
{
    const char *bad = !c ? "corpus is NULL" : !o ? "opts is NULL"
        : o->dim < 1 || o->dim > DC_WORDVEC_MAX_DIM ? "dim outside 1..100000"
        : o->window < 1 ? "window below 1"
        : o->negative < 1 ? "negative below 1"
        : o->min_count < 1 ? "min_count below 1"
        : o->epochs < 1 ? "epochs below 1"
        : !(o->alpha > 0.0f && o->alpha < 1.0f) ? "alpha outside (0, 1)"
        : !(o->min_alpha >= 0.0f && o->min_alpha <= o->alpha)
            ? "min_alpha outside [0, alpha]"
        : !(o->sample >= 0.0 && o->sample < 1.0) ? "sample outside [0, 1)"
        : o->threads < 1 || o->threads > MAX_THREADS ? "threads outside 1..256"
        : NULL;

    if (bad)
        return dc_fail(DC_ERR_ARG, "dc_word2vec_train: %s", bad);
    return DC_OK;
}

/* Everything a training run shares between its threads. */
typedef struct w2v {
    const dc_word2vec_opts *o;
    const dc_corpus *c;
    int vocab_size, dim, max_len;
    int *ids;        /* [tokens] vocabulary id of each corpus token, or -1 */
    double *keep;    /* [vocab] probability that sub-sampling keeps the word */
    double *cum;     /* [vocab] cumulative unigram^0.75 weights */
    float *syn0;     /* [vocab, dim] input vectors: the result */
    float *syn1;     /* [vocab, dim] output vectors of negative sampling */
    int64_t train_words; /* corpus tokens in the vocabulary */
    int64_t done;    /* tokens processed, all epochs and threads */
} w2v;

/* ---- set-up ---- */

static dc_status map_ids(w2v *w, const dc_vocab *v)
{
    int ntok = w->c->start[w->c->n];

    w->ids = dc_malloc((size_t)(ntok ? ntok : 1) * sizeof *w->ids, "token ids");
    if (!w->ids)
        return DC_ERR_NOMEM;
    for (int i = 0; i < ntok; i++) {
        w->ids[i] = dc_vocab_find(v, w->c->tok[i]);
        w->train_words += w->ids[i] >= 0;
    }
    for (int s = 0; s < w->c->n; s++)
        if (dc_corpus_len(w->c, s) > w->max_len)
            w->max_len = dc_corpus_len(w->c, s);
    return DC_OK;
}

/* Sub-sampling and negative-sampling tables from the counts. */
static dc_status make_tables(w2v *w, const dc_vocab *v)
{
    double thresh = w->o->sample * (double)w->train_words, total = 0.0;

    w->keep = dc_malloc((size_t)w->vocab_size * sizeof *w->keep, "keep table");
    w->cum = dc_malloc((size_t)w->vocab_size * sizeof *w->cum, "unigram table");
    if (!w->keep || !w->cum)
        return DC_ERR_NOMEM;
    for (int i = 0; i < w->vocab_size; i++) {
        double f = (double)dc_vocab_count(v, i);

        /* word2vec.c's formula: rare words get a probability above 1. */
        w->keep[i] = thresh > 0.0 ? (sqrt(f / thresh) + 1.0) * thresh / f : 1.0;
        total += pow(f, 0.75);
        w->cum[i] = total;
    }
    return DC_OK;
}

static dc_status init_vectors(w2v *w)
{
    size_t n = (size_t)w->vocab_size * (size_t)w->dim;
    dc_rng rng;

    w->syn0 = dc_malloc(n * sizeof *w->syn0, "word2vec input vectors");
    w->syn1 = dc_calloc(n, sizeof *w->syn1, "word2vec output vectors");
    if (!w->syn0 || !w->syn1)
        return DC_ERR_NOMEM;
    dc_rng_seed(&rng, w->o->seed);
    for (size_t i = 0; i < n; i++)
        w->syn0[i] = (dc_rng_uniform(&rng) - 0.5f) / (float)w->dim;
    return DC_OK;
}

/* ---- training ---- */

/* A word drawn with probability proportional to count^0.75. */
static int sample_negative(const w2v *w, dc_rng *rng)
{
    double total = w->cum[w->vocab_size - 1];
    double r = (double)dc_rng_u32(rng) * (total / 4294967296.0);
    int lo = 0, hi = w->vocab_size - 1;

    /* The first index whose cumulative weight exceeds r. */
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (w->cum[mid] > r)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* One (word, context) pair: the context's input vector l1 [dim] learns to
 * score `word` high and the negatives low; neu1e [dim] is scratch. */
static void train_pair(w2v *w, int word, int context, float alpha, dc_rng *rng,
                       float *neu1e)
{
    int d = w->dim;
    float *l1 = w->syn0 + (size_t)context * d;

    memset(neu1e, 0, (size_t)d * sizeof *neu1e);
    for (int k = 0; k <= w->o->negative; k++) {
        int target = k == 0 ? word : sample_negative(w, rng);
        float label = k == 0 ? 1.0f : 0.0f, f = 0.0f, g;
        float *l2 = w->syn1 + (size_t)target * d;

        if (k > 0 && target == word)
            continue;
        for (int j = 0; j < d; j++)
            f += l1[j] * l2[j];
        g = f > MAX_EXP ? label - 1.0f : f < -MAX_EXP ? label
                                                      : label - 1.0f / (1.0f + expf(-f));
        g *= alpha;
        for (int j = 0; j < d; j++)
            neu1e[j] += g * l2[j];
        for (int j = 0; j < d; j++)
            l2[j] += g * l1[j];
    }
    for (int j = 0; j < d; j++)
        l1[j] += neu1e[j];
}

/* Sentence s after sub-sampling (as vocabulary ids) into sen[]; returns its
 * length. */
static int subsample(const w2v *w, int s, dc_rng *rng, int *sen)
{
    int n = 0;

    for (int i = w->c->start[s]; i < w->c->start[s + 1]; i++) {
        int id = w->ids[i];
        if (id >= 0 && w->keep[id] >= (double)dc_rng_uniform(rng))
            sen[n++] = id;
    }
    return n;
}

static void train_sentence(w2v *w, int s, float alpha, dc_rng *rng, int *sen,
                           float *neu1e)
{
    int n = subsample(w, s, rng, sen);

    for (int pos = 0; pos < n; pos++) {
        /* word2vec.c's reduced window: 1..window, uniformly. */
        int reach = w->o->window - (int)dc_rng_below(rng, (uint32_t)w->o->window);
        int lo = pos - reach < 0 ? 0 : pos - reach;
        int hi = pos + reach >= n ? n - 1 : pos + reach;

        for (int ctx = lo; ctx <= hi; ctx++)
            if (ctx != pos)
                train_pair(w, sen[pos], sen[ctx], alpha, rng, neu1e);
    }
}

/* The learning rate after `done` of `total` tokens: linear from alpha to
 * min_alpha. */
static float rate(const dc_word2vec_opts *o, int64_t done, int64_t total)
{
    double p = total > 0 ? (double)done / (double)total : 1.0;

    return (float)(o->alpha - (o->alpha - o->min_alpha) * (p < 1.0 ? p : 1.0));
}

/* One thread's share of one epoch: sentences [from, to). */
static void train_range(w2v *w, int from, int to, dc_rng *rng, int *sen,
                        float *neu1e)
{
    int64_t total = (int64_t)w->o->epochs * w->train_words;

    for (int s = from; s < to; s++) {
        int64_t done, len = 0;

        #pragma omp atomic read
        done = w->done;
        train_sentence(w, s, rate(w->o, done, total), rng, sen, neu1e);
        for (int i = w->c->start[s]; i < w->c->start[s + 1]; i++)
            len += w->ids[i] >= 0;
        #pragma omp atomic
        w->done += len;
    }
}

/* Every epoch on `threads` threads; each thread takes a contiguous block of
 * sentences and its own random stream, and runs its epochs without waiting
 * for the others (as word2vec.c does). With several threads the updates of
 * shared vectors race without locks, as in word2vec.c: rare collisions on
 * sparse rows cost little accuracy, but the result is not reproducible. */
static dc_status train_all(w2v *w)
{
    int nt = w->o->threads, failed = 0;

    #pragma omp parallel num_threads(nt) reduction(|| : failed)
    {
        int tid = 0, T = 1;
#ifdef _OPENMP
        tid = omp_get_thread_num();
        T = omp_get_num_threads();
#endif
        int *sen = malloc(((size_t)w->max_len + 1) * sizeof *sen);
        float *neu1e = malloc((size_t)w->dim * sizeof *neu1e);
        dc_rng rng;

        dc_rng_seed(&rng, w->o->seed * 0x9E3779B97F4A7C15ULL + 1 + (uint64_t)tid);
        failed = !sen || !neu1e;
        for (int e = 0; !failed && e < w->o->epochs; e++) {
            int from = (int)((int64_t)w->c->n * tid / T);
            int to = (int)((int64_t)w->c->n * (tid + 1) / T);
            train_range(w, from, to, &rng, sen, neu1e);
        }
        free(sen);
        free(neu1e);
    }
    if (failed)
        return dc_fail(DC_ERR_NOMEM, "word2vec: out of memory for thread scratch");
    return DC_OK;
}

static void w2v_release(w2v *w)
{
    free(w->ids);
    free(w->keep);
    free(w->cum);
    free(w->syn0);
    free(w->syn1);
}

/* The trained input vectors as a table, in vocabulary order. */
static dc_wordvec *to_wordvec(const w2v *w, const dc_vocab *v)
{
    dc_wordvec *wv = dc_wordvec_new(w->dim);

    for (int i = 0; wv && i < w->vocab_size; i++) {
        if (dc_wordvec_add(wv, dc_vocab_word(v, i), w->syn0 + (size_t)i * w->dim,
                           NULL) != DC_OK) {
            dc_wordvec_free(wv);
            wv = NULL;
        }
    }
    return wv;
}

static double seconds_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

dc_wordvec *dc_word2vec_train(const dc_corpus *c, const dc_word2vec_opts *o)
{
    w2v w = {.o = o, .c = c};
    dc_vocab *v;
    dc_wordvec *wv = NULL;
    dc_status st;
    double t0 = seconds_now();

    if (check_opts(c, o) != DC_OK)
        return NULL;
    v = dc_vocab_build(c, o->min_count);
    if (!v)
        return NULL;
    w.vocab_size = dc_vocab_size(v);
    w.dim = o->dim;
    st = w.vocab_size == 0
        ? dc_fail(DC_ERR_ARG, "dc_word2vec_train: no word occurs min_count = %d times"
                  " in %d sentences", o->min_count, c->n)
        : map_ids(&w, v);
    if (st == DC_OK)
        st = make_tables(&w, v);
    if (st == DC_OK)
        st = init_vectors(&w);

    if (st == DC_OK) {
        dc_log(DC_LOG_INFO, "word2vec: skip-gram, %d words (min_count %d), %lld"
               " tokens, dim %d, window %d, negative %d, sample %g, %d epochs, alpha"
               " %g -> %g, seed %llu, %d threads", w.vocab_size, o->min_count,
               (long long)w.train_words, o->dim, o->window, o->negative, o->sample,
               o->epochs, (double)o->alpha, (double)o->min_alpha,
               (unsigned long long)o->seed, o->threads);
        st = train_all(&w);
    }
    if (st == DC_OK && (wv = to_wordvec(&w, v)) != NULL)
        dc_log(DC_LOG_INFO, "word2vec: trained in %.1f s", seconds_now() - t0);
    w2v_release(&w);
    dc_vocab_free(v);
    return wv;
}

/* ---- the cache ---- */

static uint64_t fnv_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* A hash of everything that decides the vectors: the tokens, sentence by
 * sentence, and every option but the thread count. Options are hashed field
 * by field so that struct padding never enters. */
static uint64_t cache_key(const dc_corpus *c, const dc_word2vec_opts *o)
{
    uint64_t h = fnv_bytes(0xcbf29ce484222325ULL, "deepc-w2v-sg-1", 14);
    int ints[5] = {o->dim, o->window, o->negative, o->min_count, o->epochs};

    h = fnv_bytes(h, ints, sizeof ints);
    h = fnv_bytes(h, &o->alpha, sizeof o->alpha);
    h = fnv_bytes(h, &o->min_alpha, sizeof o->min_alpha);
    h = fnv_bytes(h, &o->sample, sizeof o->sample);
    h = fnv_bytes(h, &o->seed, sizeof o->seed);
    for (int s = 0; s < c->n; s++) {
        for (int i = c->start[s]; i < c->start[s + 1]; i++)
            h = fnv_bytes(h, c->tok[i], strlen(c->tok[i]) + 1);
        h = fnv_bytes(h, "\n", 1);
    }
    return h;
}

/* Makes `dir` unless it exists already (as a directory). */
static dc_status ensure_dir(const char *dir)
{
    struct stat sb;

    if (mkdir(dir, 0777) == 0)
        return DC_OK;
    if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
        return DC_OK;
    return dc_fail(DC_ERR_IO, "word2vec cache: cannot create directory %s: %s", dir,
                   errno == EEXIST ? "a file of that name exists" : strerror(errno));
}

/* A usable cache file, or NULL (a missing or unreadable one is retrained). */
static dc_wordvec *load_cached(const char *path, int dim)
{
    struct stat sb;
    dc_wordvec *wv;

    if (stat(path, &sb) != 0)
        return NULL;
    wv = dc_wordvec_load(path, DC_WORDVEC_BINARY);
    if (wv && dc_wordvec_dim(wv) == dim)
        return wv;
    dc_log(DC_LOG_WARN, "word2vec cache %s is unusable (%s); training again", path,
           wv ? "wrong dimension" : dc_last_error());
    dc_wordvec_free(wv);
    return NULL;
}

dc_wordvec *dc_word2vec_cached(const dc_corpus *c, const dc_word2vec_opts *o,
                               const char *cache_dir, int *trained)
{
    char path[4096];
    dc_wordvec *wv;
    int len;

    if (trained)
        *trained = 0;
    if (check_opts(c, o) != DC_OK)
        return NULL;
    if (!cache_dir || !cache_dir[0])
        return dc_fail(DC_ERR_ARG, "dc_word2vec_cached: empty cache_dir"), NULL;
    len = snprintf(path, sizeof path, "%s/word2vec-%dd-%016llx.bin", cache_dir,
                   o->dim, (unsigned long long)cache_key(c, o));
    if (len < 0 || (size_t)len >= sizeof path)
        return dc_fail(DC_ERR_ARG, "dc_word2vec_cached: cache_dir too long"), NULL;

    wv = load_cached(path, o->dim);
    if (wv) {
        dc_log(DC_LOG_INFO, "word2vec: vectors from the cache %s", path);
        return wv;
    }
    if (ensure_dir(cache_dir) != DC_OK || !(wv = dc_word2vec_train(c, o)))
        return NULL;
    if (dc_wordvec_save(wv, path, DC_WORDVEC_BINARY) != DC_OK) {
        dc_wordvec_free(wv);
        return NULL;
    }
    if (trained)
        *trained = 1;
    return wv;
}
