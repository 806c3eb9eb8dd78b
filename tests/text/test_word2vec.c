/* Tests of src/text/word2vec.c: on a synthetic corpus of two topics that
 * never share a sentence, skip-gram training must put words of the same topic
 * closer (cosine) than words of different topics; the same seed must give
 * bit-identical vectors; options are checked; the cache trains once, reloads
 * the same vectors, and a changed option gets its own file. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deepc/log.h"
#include "deepc/text.h"

#define TOPIC_WORDS 6
#define SENTENCES 1200
#define SENTENCE_LEN 8

static const char *const topics[2][TOPIC_WORDS] = {
    {"cat", "dog", "pet", "fur", "paw", "kitten"},
    {"car", "road", "wheel", "fuel", "engine", "truck"},
};
static const char *const fillers[2] = {"the", "and"};

#define TESTUTIL_TAG "w2v"
#include "testutil.h"

/* A temporary folder for the caches; training's info lines kept quiet. */
static void setup(void)
{
    make_tmp();
    dc_log_set_level(DC_LOG_WARN);
}

static void teardown(void)
{
    remove_tmp();
    dc_log_set_level(DC_LOG_INFO);
}

/* Sentence s is about topic s % 2: each word is one of that topic's words
 * (three times in four) or a filler shared by both topics. */
static dc_corpus *two_topic_corpus(void)
{
    char **texts = malloc(SENTENCES * sizeof *texts);
    dc_corpus *c;
    dc_rng rng;

    dc_rng_seed(&rng, 2024);
    for (int s = 0; s < SENTENCES; s++) {
        char buf[256] = "";
        for (int i = 0; i < SENTENCE_LEN; i++) {
            const char *w = dc_rng_below(&rng, 4) < 3
                ? topics[s % 2][dc_rng_below(&rng, TOPIC_WORDS)]
                : fillers[dc_rng_below(&rng, 2)];
            strcat(buf, w);
            strcat(buf, " ");
        }
        texts[s] = strdup(buf);
    }
    c = dc_corpus_from_texts((const char *const *)texts, SENTENCES);
    for (int s = 0; s < SENTENCES; s++)
        free(texts[s]);
    free(texts);
    cr_assert_not_null(c, "%s", dc_last_error());
    return c;
}

/* Keeps the last warning logged (the sink receives it without a newline). */
static char last_warning[1024];

static void keep_warning(dc_log_level level, const char *msg, void *user)
{
    if (level == DC_LOG_WARN)
        snprintf(last_warning, sizeof last_warning, "%s", msg);
}

static void small_opts(dc_word2vec_opts *o)
{
    dc_word2vec_defaults(o);
    o->dim = 16;
    o->window = 3;
    o->min_count = 1;
    o->epochs = 5;
    o->seed = 7;
    /* Sub-sampling at 1e-3 is meant for large corpora: here every word is
     * over 6% of the tokens and would be kept about one time in seven. */
    o->sample = 0.0;
}

static double cosine(const dc_wordvec *wv, const char *a, const char *b)
{
    const float *x = dc_wordvec_vector(wv, dc_wordvec_index(wv, a));
    const float *y = dc_wordvec_vector(wv, dc_wordvec_index(wv, b));
    double xy = 0, xx = 0, yy = 0;

    cr_assert(x && y, "no vector for %s or %s", a, b);
    for (int j = 0; j < dc_wordvec_dim(wv); j++) {
        xy += (double)x[j] * y[j];
        xx += (double)x[j] * x[j];
        yy += (double)y[j] * y[j];
    }
    return xy / sqrt(xx * yy);
}

/* Every topic word's nearest topic word shares its topic, and the mean
 * within-topic cosine beats the mean across topics by `margin`. */
static void assert_topics_separate(const dc_wordvec *wv, double margin)
{
    double within = 0, across = 0;
    int nw = 0, na = 0;

    for (int g = 0; g < 2; g++)
        for (int i = 0; i < TOPIC_WORDS; i++) {
            double best = -2;
            int best_g = -1;
            for (int h = 0; h < 2; h++)
                for (int j = 0; j < TOPIC_WORDS; j++) {
                    double cs;
                    if (g == h && i == j)
                        continue;
                    cs = cosine(wv, topics[g][i], topics[h][j]);
                    if (cs > best) {
                        best = cs;
                        best_g = h;
                    }
                    if (g == h) {
                        within += cs;
                        nw++;
                    } else {
                        across += cs;
                        na++;
                    }
                }
            cr_assert_eq(best_g, g, "nearest word to '%s' is from the other topic",
                         topics[g][i]);
        }
    within /= nw;
    across /= na;
    cr_assert_gt(within, across + margin, "within %.3f, across %.3f", within, across);
}

TestSuite(word2vec, .init = setup, .fini = teardown);

Test(word2vec, topics_separate)
{
    dc_corpus *c = two_topic_corpus();
    dc_word2vec_opts o;
    dc_wordvec *wv;

    small_opts(&o);
    wv = dc_word2vec_train(c, &o);
    cr_assert_not_null(wv, "%s", dc_last_error());
    cr_assert_eq(dc_wordvec_count(wv), 14);
    cr_assert_eq(dc_wordvec_dim(wv), 16);
    /* Each filler is 1/8 of all tokens, each topic word 1/16: fillers first. */
    cr_assert(strcmp(dc_wordvec_word(wv, 0), "the") == 0 ||
              strcmp(dc_wordvec_word(wv, 0), "and") == 0);
    assert_topics_separate(wv, 0.5);
    dc_wordvec_free(wv);
    dc_corpus_free(c);
}

Test(word2vec, reproducible_with_seed)
{
    dc_corpus *c = two_topic_corpus();
    dc_word2vec_opts o;
    dc_wordvec *a, *b, *d;
    size_t bytes;

    small_opts(&o);
    o.epochs = 2;
    o.sample = 1e-3; /* the sub-sampling draws must repeat too */
    a = dc_word2vec_train(c, &o);
    b = dc_word2vec_train(c, &o);
    o.seed = 8;
    d = dc_word2vec_train(c, &o);
    cr_assert(a && b && d, "%s", dc_last_error());
    bytes = (size_t)dc_wordvec_dim(a) * sizeof(float);
    for (int i = 0; i < dc_wordvec_count(a); i++) {
        cr_assert_str_eq(dc_wordvec_word(a, i), dc_wordvec_word(b, i));
        cr_assert_eq(memcmp(dc_wordvec_vector(a, i), dc_wordvec_vector(b, i), bytes), 0,
                     "word %d differs between two runs", i);
    }
    cr_assert_neq(memcmp(dc_wordvec_vector(a, 0), dc_wordvec_vector(d, 0), bytes), 0);
    dc_wordvec_free(a);
    dc_wordvec_free(b);
    dc_wordvec_free(d);
    dc_corpus_free(c);
}

Test(word2vec, two_threads_still_learn)
{
    dc_corpus *c = two_topic_corpus();
    dc_word2vec_opts o;
    dc_wordvec *wv;

    small_opts(&o);
    o.threads = 2;
    wv = dc_word2vec_train(c, &o);
    cr_assert_not_null(wv, "%s", dc_last_error());
    assert_topics_separate(wv, 0.5);
    dc_wordvec_free(wv);
    dc_corpus_free(c);
}

Test(word2vec, bad_options_named)
{
    dc_corpus *c = two_topic_corpus();
    dc_word2vec_opts o;

    small_opts(&o);
    o.dim = 0;
    cr_assert_null(dc_word2vec_train(c, &o));
    cr_assert(strstr(dc_last_error(), "dim"), "%s", dc_last_error());
    small_opts(&o);
    o.negative = 0;
    cr_assert_null(dc_word2vec_train(c, &o));
    cr_assert(strstr(dc_last_error(), "negative"), "%s", dc_last_error());
    small_opts(&o);
    o.min_alpha = 0.5f;
    cr_assert_null(dc_word2vec_train(c, &o));
    cr_assert(strstr(dc_last_error(), "min_alpha"), "%s", dc_last_error());
    small_opts(&o);
    o.min_count = 100000;
    cr_assert_null(dc_word2vec_train(c, &o));
    cr_assert(strstr(dc_last_error(), "min_count = 100000"), "%s", dc_last_error());
    cr_assert_null(dc_word2vec_train(NULL, &o));
    dc_corpus_free(c);
}

Test(word2vec, cache_trains_once)
{
    dc_corpus *c = two_topic_corpus();
    dc_word2vec_opts o;
    dc_wordvec *a, *b, *d;
    const char *dir = in_tmp("cache");
    int trained;

    small_opts(&o);
    o.epochs = 1;
    a = dc_word2vec_cached(c, &o, dir, &trained);
    cr_assert_not_null(a, "%s", dc_last_error());
    cr_assert_eq(trained, 1);
    b = dc_word2vec_cached(c, &o, dir, &trained);
    cr_assert_not_null(b, "%s", dc_last_error());
    cr_assert_eq(trained, 0);
    cr_assert_eq(dc_wordvec_source_format(b), DC_WORDVEC_BINARY);
    cr_assert_eq(dc_wordvec_count(a), dc_wordvec_count(b));
    for (int i = 0; i < dc_wordvec_count(a); i++)
        cr_assert_eq(memcmp(dc_wordvec_vector(a, i), dc_wordvec_vector(b, i),
                            16 * sizeof(float)), 0);

    /* Another window is another file, trained afresh. */
    o.window = 2;
    d = dc_word2vec_cached(c, &o, dir, &trained);
    cr_assert_not_null(d, "%s", dc_last_error());
    cr_assert_eq(trained, 1);
    dc_wordvec_free(a);
    dc_wordvec_free(b);
    dc_wordvec_free(d);
    dc_corpus_free(c);
}

Test(word2vec, corrupt_cache_is_retrained)
{
    dc_corpus *c = two_topic_corpus();
    dc_word2vec_opts o;
    dc_wordvec *a;
    const char *dir = in_tmp("cache");
    char path[512];
    struct dirent *e;
    DIR *d;
    int trained, cut = 0;

    small_opts(&o);
    o.epochs = 1;
    a = dc_word2vec_cached(c, &o, dir, &trained);
    cr_assert_not_null(a);
    dc_wordvec_free(a);

    /* Cut the cached file short. */
    d = opendir(dir);
    cr_assert_not_null(d);
    while ((e = readdir(d)) != NULL) {
        if (!strstr(e->d_name, ".bin"))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        cr_assert_eq(truncate(path, 100), 0);
        cut++;
    }
    closedir(d);
    cr_assert_eq(cut, 1);
    dc_log_set_sink(keep_warning, NULL);
    a = dc_word2vec_cached(c, &o, dir, &trained);
    dc_log_set_sink(NULL, NULL);
    cr_assert_not_null(a, "%s", dc_last_error());
    cr_assert_eq(trained, 1);
    cr_assert(strstr(last_warning, "unusable") && strstr(last_warning, "truncated"),
              "%s", last_warning);
    dc_wordvec_free(a);
    dc_corpus_free(c);
}
