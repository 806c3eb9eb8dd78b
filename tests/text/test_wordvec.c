/* Tests of src/text/wordvec.c: round trips through the three file formats
 * (bit-exact floats), a binary file assembled byte by byte here, every way of
 * cutting a file short, malformed lines and headers, duplicates, the real
 * GloVe subset (counts and values from the file itself, coverage of the
 * training tweets computed independently in Python), lookups and padded
 * batches. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deepc/log.h"
#include "deepc/text.h"

#define TRAIN_CSV DC_SOURCE_DIR "/data/tweet-emotions/trainEmotions.csv"
#define GLOVE_NAME "word-vectors/glove.twitter.27B.25d.subset12k.txt"

#define TESTUTIL_TAG "wv"
#include "testutil.h"

/* ---- helpers ---- */

/* Writes `text` as tmp/name, loads it in `fmt` and expects failure with a
 * message holding the path and `want`. */
static void expect_fail(const char *name, const char *text, size_t n,
                        dc_wordvec_format fmt, const char *want)
{
    const char *path = in_tmp(name);
    dc_wordvec *wv;

    write_file(path, text, n);
    wv = dc_wordvec_load(path, fmt);
    cr_assert_null(wv, "loaded a broken file %s", name);
    cr_assert(strstr(dc_last_error(), path), "no path in: %s", dc_last_error());
    cr_assert(strstr(dc_last_error(), want), "'%s' lacks '%s'", dc_last_error(), want);
}

#define FAIL_TEXT(lit, fmt, want) expect_fail("bad.txt", lit, sizeof(lit) - 1, fmt, want)

/* Three words of 4 dimensions with awkward values: tiny, huge, negative
 * zero, and fractions no short decimal holds. */
static dc_wordvec *sample_table(void)
{
    static const float v[3][4] = {
        {0.1f, -2.5e-30f, 3.4e38f, 1.0f / 3.0f},
        {-0.0f, 1e-45f, -123456.789f, 0.7f},
        {2.0f, -1.0f, 0.5f, 1e-7f},
    };
    const char *words[3] = {"alpha", "caf\xC3\xA9", "_x1"};
    dc_wordvec *wv = dc_wordvec_new(4);

    cr_assert_not_null(wv);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(dc_wordvec_add(wv, words[i], v[i], NULL), DC_OK);
    return wv;
}

static void assert_same_table(const dc_wordvec *a, const dc_wordvec *b)
{
    cr_assert_eq(dc_wordvec_count(a), dc_wordvec_count(b));
    cr_assert_eq(dc_wordvec_dim(a), dc_wordvec_dim(b));
    for (int i = 0; i < dc_wordvec_count(a); i++) {
        cr_assert_str_eq(dc_wordvec_word(a, i), dc_wordvec_word(b, i));
        cr_assert_eq(memcmp(dc_wordvec_vector(a, i), dc_wordvec_vector(b, i),
                            (size_t)dc_wordvec_dim(a) * sizeof(float)), 0,
                     "vector %d differs", i);
    }
}

static void silent(dc_log_level level, const char *msg, void *user)
{
    (*(int *)user)++;
}

/* ---- round trips ---- */

Test(wordvec, round_trip_all_formats, .init = make_tmp, .fini = remove_tmp)
{
    dc_wordvec *wv = sample_table();
    dc_wordvec_format fmts[] = {DC_WORDVEC_BINARY, DC_WORDVEC_TEXT, DC_WORDVEC_GLOVE};

    for (int f = 0; f < 3; f++) {
        const char *path = in_tmp("v.out");
        dc_wordvec *back, *back2;

        cr_assert_eq(dc_wordvec_save(wv, path, fmts[f]), DC_OK, "%s", dc_last_error());
        back = dc_wordvec_load(path, DC_WORDVEC_AUTO);
        cr_assert_not_null(back, "format %d: %s", f, dc_last_error());
        cr_assert_eq(dc_wordvec_source_format(back), fmts[f]);
        assert_same_table(wv, back);
        back2 = dc_wordvec_load(path, fmts[f]);
        cr_assert_not_null(back2, "%s", dc_last_error());
        assert_same_table(wv, back2);
        dc_wordvec_free(back);
        dc_wordvec_free(back2);
    }

    /* No temporary file is left beside the result. */
    cr_assert_eq(access(in_tmp("v.out"), F_OK), 0);
    dc_wordvec_free(wv);
}

Test(wordvec, binary_written_by_hand, .init = make_tmp, .fini = remove_tmp)
{
    /* "2 3\n", "foo " + 1.0, -2.0, 0.5 as little-endian float32, "\n", then
     * "bar " + 0, 0.25, 8 and no final newline. */
    static const unsigned char bin[] = {
        '2', ' ', '3', '\n', 'f', 'o', 'o', ' ',
        0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x3f, '\n',
        'b', 'a', 'r', ' ',
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3e, 0x00, 0x00, 0x00, 0x41,
    };
    const char *path = in_tmp("hand.bin");
    dc_wordvec *wv;
    float out[3];

    write_file(path, bin, sizeof bin);
    wv = dc_wordvec_load(path, DC_WORDVEC_AUTO);
    cr_assert_not_null(wv, "%s", dc_last_error());
    cr_assert_eq(dc_wordvec_source_format(wv), DC_WORDVEC_BINARY);
    cr_assert_eq(dc_wordvec_count(wv), 2);
    cr_assert_eq(dc_wordvec_lookup(wv, "foo", out), 1);
    cr_assert(out[0] == 1.0f && out[1] == -2.0f && out[2] == 0.5f);
    cr_assert_eq(dc_wordvec_lookup(wv, "bar", out), 1);
    cr_assert(out[0] == 0.0f && out[1] == 0.25f && out[2] == 8.0f);
    cr_assert_eq(dc_wordvec_lookup(wv, "baz", out), 0);
    cr_assert(out[0] == 0.0f && out[1] == 0.0f && out[2] == 0.0f);
    dc_wordvec_free(wv);
}

Test(wordvec, text_variants_load, .init = make_tmp, .fini = remove_tmp)
{
    /* word2vec.c's text output ends each line with a space; CRLF and a final
     * line without a break and trailing blank lines are all accepted. */
    const char *text = "2 2\r\nab 1.5 -2 \r\ncd 3e2 0.25\r\n\r\n";
    const char *glove = "x 1 2 3\ny -1 -2 -3";
    dc_wordvec *wv;
    float out[3];

    write_text(in_tmp("a.txt"), text);
    wv = dc_wordvec_load(in_tmp("a.txt"), DC_WORDVEC_AUTO);
    cr_assert_not_null(wv, "%s", dc_last_error());
    cr_assert_eq(dc_wordvec_source_format(wv), DC_WORDVEC_TEXT);
    cr_assert_eq(dc_wordvec_lookup(wv, "cd", out), 1);
    cr_assert(out[0] == 300.0f && out[1] == 0.25f);
    dc_wordvec_free(wv);

    write_text(in_tmp("g.txt"), glove);
    wv = dc_wordvec_load(in_tmp("g.txt"), DC_WORDVEC_AUTO);
    cr_assert_not_null(wv, "%s", dc_last_error());
    cr_assert_eq(dc_wordvec_source_format(wv), DC_WORDVEC_GLOVE);
    cr_assert_eq(dc_wordvec_dim(wv), 3);
    cr_assert_eq(dc_wordvec_lookup(wv, "y", out), 1);
    cr_assert(out[0] == -1.0f && out[2] == -3.0f);
    dc_wordvec_free(wv);
}

/* Loads `text` (written as tmp/name) and expects `word`'s first value to be
 * `v0`, the table to hold `n` words and no word to start with a BOM. */
static void expect_bom_skipped(const char *name, const char *text,
                               dc_wordvec_format want_fmt, const char *word,
                               float v0, int n)
{
    dc_wordvec *wv;
    float out[4];

    write_text(in_tmp(name), text);
    wv = dc_wordvec_load(in_tmp(name), DC_WORDVEC_AUTO);
    cr_assert_not_null(wv, "%s: %s", name, dc_last_error());
    cr_assert_eq(dc_wordvec_source_format(wv), want_fmt, "%s", name);
    cr_assert_eq(dc_wordvec_count(wv), n, "%s", name);
    cr_assert_eq(dc_wordvec_lookup(wv, word, out), 1, "%s: '%s' not found", name,
                 word);
    cr_assert(out[0] == v0, "%s: %s[0] = %g, expected %g", name, word, out[0], v0);
    for (int i = 0; i < n; i++)
        cr_assert(strncmp(dc_wordvec_word(wv, i), "\xef\xbb\xbf", 3) != 0,
                  "%s: word %d keeps the BOM", name, i);
    dc_wordvec_free(wv);
}

Test(wordvec, utf8_bom_is_skipped, .init = make_tmp, .fini = remove_tmp)
{
    /* The first word (GloVe) or the header (word2vec) comes right after it. */
    expect_bom_skipped("g.txt", "\xef\xbb\xbfthe 0.5 1\nof 2 3\n", DC_WORDVEC_GLOVE,
                       "the", 0.5f, 2);
    expect_bom_skipped("w.txt", "\xef\xbb\xbf" "2 2\nthe 0.5 1\nof 2 3\n",
                       DC_WORDVEC_TEXT, "the", 0.5f, 2);

}

Test(wordvec, bom_only_at_the_start_is_skipped, .init = make_tmp, .fini = remove_tmp)
{
    dc_wordvec *wv;

    /* On a later line those bytes are part of a word (U+FEFF is valid UTF-8). */
    write_text(in_tmp("later.txt"), "a 1 1\n\xef\xbb\xbf" "b 4 4\n");
    wv = dc_wordvec_load(in_tmp("later.txt"), DC_WORDVEC_AUTO);
    cr_assert_not_null(wv, "%s", dc_last_error());
    cr_assert_eq(dc_wordvec_index(wv, "b"), -1);
    cr_assert_eq(dc_wordvec_index(wv, "\xef\xbb\xbf" "b"), 1);
    dc_wordvec_free(wv);
}

/* ---- truncated files ---- */

Test(wordvec, binary_cut_anywhere_fails, .init = make_tmp, .fini = remove_tmp)
{
    dc_wordvec *wv = sample_table();
    const char *full = in_tmp("full.bin"), *cut = in_tmp("cut.bin");
    size_t n;
    char *bytes;

    cr_assert_eq(dc_wordvec_save(wv, full, DC_WORDVEC_BINARY), DC_OK);
    bytes = read_file(full, &n);
    /* "3 4\n", then word, space, 16 bytes, "\n": alpha 23, café 23, _x1 21. */
    cr_assert_eq(n, 71);

    /* Every cut after the header's line loses part of an entry; a cut that
     * only drops the final line break is still a whole file. */
    for (size_t len = 4; len < n - 1; len++) {
        dc_wordvec *back;

        write_file(cut, bytes, len);
        back = dc_wordvec_load(cut, DC_WORDVEC_BINARY);
        cr_assert_null(back, "cut at %zu of %zu bytes loaded", len, n);
        cr_assert(strstr(dc_last_error(), "truncated"), "cut %zu: %s", len,
                  dc_last_error());
        cr_assert(strstr(dc_last_error(), "entr") || strstr(dc_last_error(), "words"),
                  "%s", dc_last_error());
    }
    write_file(cut, bytes, n - 1);
    dc_wordvec *back = dc_wordvec_load(cut, DC_WORDVEC_AUTO);
    cr_assert_not_null(back, "%s", dc_last_error());
    assert_same_table(wv, back);
    dc_wordvec_free(back);
    free(bytes);
    dc_wordvec_free(wv);
}

Test(wordvec, binary_cut_names_entry, .init = make_tmp, .fini = remove_tmp)
{
    dc_wordvec *wv = sample_table();
    const char *full = in_tmp("full.bin");
    size_t n;
    char *bytes;

    cr_assert_eq(dc_wordvec_save(wv, full, DC_WORDVEC_BINARY), DC_OK);
    bytes = read_file(full, &n);

    /* Entry 2 ("café", 5 bytes) starts at 4 + 23 = 27, its vector at 33; cut
     * 5 bytes into the vector. */
    expect_fail("c.bin", bytes, 38, DC_WORDVEC_BINARY, "entry 2");
    cr_assert(strstr(dc_last_error(), "5 of 16 vector bytes"), "%s", dc_last_error());
    /* A cut right after entry 2 and its line break: the header promised 3. */
    expect_fail("c.bin", bytes, 50, DC_WORDVEC_BINARY, "promises 3 words");
    cr_assert(strstr(dc_last_error(), "ends after 2"), "%s", dc_last_error());
    free(bytes);
    dc_wordvec_free(wv);
}

Test(wordvec, text_cut_fails, .init = make_tmp, .fini = remove_tmp)
{
    FAIL_TEXT("3 2\na 1 2\nb 3 4\n", DC_WORDVEC_AUTO, "promises 3 words");
    FAIL_TEXT("3 2\na 1 2\nb 3 4\nc 5", DC_WORDVEC_AUTO, ":4: word 'c' has 1 values");
    FAIL_TEXT("3 2\n", DC_WORDVEC_AUTO, "ends after 0");
    FAIL_TEXT("3 2\na 1 2\nb 3 4\n", DC_WORDVEC_TEXT, "truncated");
}

/* ---- malformed files ---- */

Test(wordvec, malformed_lines, .init = make_tmp, .fini = remove_tmp)
{
    FAIL_TEXT("a 1 2 3\nb 1 2\n", DC_WORDVEC_GLOVE, ":2: word 'b' has 2 values, expected 3");
    FAIL_TEXT("a 1 2 3\nb 1 2 3 4\n", DC_WORDVEC_AUTO, ":2: word 'b' has 4 values");
    FAIL_TEXT("2 3\na 1 2 3\nb 1 x2 3\n", DC_WORDVEC_AUTO,
              ":3: value 2 of word 'b' is 'x2', not a number");
    FAIL_TEXT("a 1 2 3\nb 1 2 nan\n", DC_WORDVEC_AUTO, "'nan', not a finite float");
    FAIL_TEXT("a 1 2 3\nb 1 2 1e999\n", DC_WORDVEC_AUTO, "not a finite float");
    FAIL_TEXT("a 1 2 1.5.5\n", DC_WORDVEC_AUTO, ":1: value 3");
    FAIL_TEXT("a 1 2 3\n\nb 1 2 3\n", DC_WORDVEC_AUTO, ":2: empty line");
    FAIL_TEXT("1 2\na 1 2\nb 3 4\n", DC_WORDVEC_AUTO, ":3: data after the 1 words");
    FAIL_TEXT("", DC_WORDVEC_AUTO, "empty file");
    FAIL_TEXT("a\n", DC_WORDVEC_GLOVE, "expected a word and");
    FAIL_TEXT("hello world\n", DC_WORDVEC_TEXT, "expected a header 'N D'");
    FAIL_TEXT("a 1 2\nb 1 2\0 9\n", DC_WORDVEC_GLOVE, ":2: NUL byte");
}

Test(wordvec, absurd_headers, .init = make_tmp, .fini = remove_tmp)
{
    FAIL_TEXT("3000000000 300\n", DC_WORDVEC_AUTO, "header says 3000000000 words");
    FAIL_TEXT("10 0\n", DC_WORDVEC_AUTO, "of 0 dimensions");
    FAIL_TEXT("5 200000\n", DC_WORDVEC_BINARY, "200000 dimensions");
    FAIL_TEXT("-1 5\n", DC_WORDVEC_TEXT, "header says -1 words");
    /* A header promising a billion words must fail as truncated, not by
     * allocating for them. */
    FAIL_TEXT("1000000000 300\nthe 1", DC_WORDVEC_BINARY, "truncated");
}

Test(wordvec, binary_bad_values_and_trailing_data, .init = make_tmp,
     .fini = remove_tmp)
{
    static const unsigned char nan_bin[] = {
        '1', ' ', '1', '\n', 'a', ' ', 0x00, 0x00, 0xc0, 0x7f, '\n',
    };
    static const unsigned char extra[] = {
        '1', ' ', '1', '\n', 'a', ' ', 0x00, 0x00, 0x80, 0x3f, '\n', 'b', ' ',
    };

    expect_fail("n.bin", (const char *)nan_bin, sizeof nan_bin, DC_WORDVEC_AUTO,
                "entry 1 ('a'): value 1 is not finite");
    expect_fail("e.bin", (const char *)extra, sizeof extra, DC_WORDVEC_BINARY,
                "data after the 1 entries");
}

Test(wordvec, duplicates_keep_first, .init = make_tmp, .fini = remove_tmp)
{
    const char *text = "a 1 2\nb 3 4\na 5 6\nb 7 8\nc 9 9\n";
    const char *path = in_tmp("dup.txt");
    int warnings = 0;
    dc_wordvec *wv;
    float out[2];

    write_text(path, text);
    dc_log_set_sink(silent, &warnings);
    wv = dc_wordvec_load(path, DC_WORDVEC_AUTO);
    dc_log_set_sink(NULL, NULL);
    cr_assert_not_null(wv, "%s", dc_last_error());
    cr_assert_eq(warnings, 1);
    cr_assert_eq(dc_wordvec_count(wv), 3);
    cr_assert_eq(dc_wordvec_duplicates(wv), 2);
    dc_wordvec_lookup(wv, "a", out);
    cr_assert(out[0] == 1.0f && out[1] == 2.0f);
    dc_wordvec_lookup(wv, "b", out);
    cr_assert(out[0] == 3.0f && out[1] == 4.0f);
    cr_assert_eq(dc_wordvec_index(wv, "c"), 2);
    dc_wordvec_free(wv);
}

Test(wordvec, bad_arguments)
{
    dc_wordvec *wv = dc_wordvec_new(2);
    float v[2] = {1, 2};

    cr_assert_null(dc_wordvec_new(0));
    cr_assert(strstr(dc_last_error(), "dim 0"));
    cr_assert_eq(dc_wordvec_add(wv, "two words", v, NULL), DC_ERR_ARG);
    cr_assert_eq(dc_wordvec_add(wv, "", v, NULL), DC_ERR_ARG);
    cr_assert_eq(dc_wordvec_save(wv, "/tmp/never.bin", DC_WORDVEC_BINARY), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "no word vectors"));
    cr_assert_eq(dc_wordvec_add(wv, "ok", v, NULL), DC_OK);
    cr_assert_eq(dc_wordvec_save(wv, "/tmp/never.bin", DC_WORDVEC_AUTO), DC_ERR_ARG);
    cr_assert_eq(dc_wordvec_save(wv, "/nonexistent/dir/v.bin", DC_WORDVEC_BINARY),
                 DC_ERR_IO);
    cr_assert(strstr(dc_last_error(), "/nonexistent/dir/v.bin"), "%s", dc_last_error());
    cr_assert_null(dc_wordvec_load("/nonexistent/v.txt", DC_WORDVEC_AUTO));
    cr_assert(strstr(dc_last_error(), "/nonexistent/v.txt: cannot open"));
    dc_wordvec_free(wv);
}

/* ---- the real GloVe subset ---- */

/* The GloVe file: $DEEPC_DATA, else the shared data folder beside the
 * repository. Returns NULL (and the test is skipped) if neither has it. */
static const char *glove_path(void)
{
    static char path[1024];
    const char *env = getenv("DEEPC_DATA");

    if (env) {
        snprintf(path, sizeof path, "%s/%s", env, GLOVE_NAME);
        if (access(path, R_OK) == 0)
            return path;
    }
    snprintf(path, sizeof path, "%s/../shared/data/%s", DC_SOURCE_DIR, GLOVE_NAME);
    return access(path, R_OK) == 0 ? path : NULL;
}

Test(wordvec, glove_subset_loads)
{
    const char *path = glove_path();
    dc_wordvec *wv;
    float out[25];

    if (!path)
        cr_skip_test("GloVe subset not found");
    wv = dc_wordvec_load(path, DC_WORDVEC_AUTO);
    cr_assert_not_null(wv, "%s", dc_last_error());
    cr_assert_eq(dc_wordvec_source_format(wv), DC_WORDVEC_GLOVE);
    cr_assert_eq(dc_wordvec_count(wv), 11925);
    cr_assert_eq(dc_wordvec_dim(wv), 25);
    cr_assert_eq(dc_wordvec_duplicates(wv), 0);
    cr_assert_str_eq(dc_wordvec_word(wv, 0), "the");
    cr_assert_eq(dc_wordvec_lookup(wv, "the", out), 1);
    cr_assert_eq(out[0], -0.010167f);
    cr_assert_eq(out[1], 0.020194f);
    cr_assert_eq(out[12], -6.3371f);
    cr_assert_eq(out[24], -0.31208f);
    cr_assert_str_eq(dc_wordvec_word(wv, 11924), "wizards");
    cr_assert_eq(dc_wordvec_vector(wv, 11924)[24], 0.0049889f);
    dc_wordvec_free(wv);
}

Test(wordvec, glove_coverage_of_train_tweets)
{
    const char *path = glove_path();
    dc_wordvec *wv;
    dc_tweets *t;
    dc_corpus *c;
    dc_coverage cov;

    if (!path)
        cr_skip_test("GloVe subset not found");
    wv = dc_wordvec_load(path, DC_WORDVEC_AUTO);
    t = dc_tweets_load(TRAIN_CSV, 0);
    cr_assert(wv && t, "%s", dc_last_error());
    c = dc_corpus_from_tweets(t);
    cr_assert_eq(dc_wordvec_coverage(wv, c, &cov), DC_OK);

    /* Python: 148225 of 179304 tokens and 6380 of 25888 words have vectors. */
    cr_assert_eq(cov.tokens, 179304);
    cr_assert_eq(cov.tokens_found, 148225);
    cr_assert_eq(cov.types, 25888);
    cr_assert_eq(cov.types_found, 6380);
    cr_assert_float_eq(cov.token_share, 148225.0 / 179304.0, 1e-12);
    cr_assert_float_eq(cov.type_share, 6380.0 / 25888.0, 1e-12);
    dc_corpus_free(c);
    dc_tweets_free(t);
    dc_wordvec_free(wv);
}

/* ---- batches ---- */

Test(wordvec, batch_pads_and_zeroes_unknown)
{
    const char *texts[] = {"Good day", "...", "bad bad unknownword bad"};
    dc_corpus *c = dc_corpus_from_texts(texts, 3);
    dc_wordvec *wv = dc_wordvec_new(2);
    int lengths[3];
    dc_tensor *x;

    dc_wordvec_add(wv, "good", (float[]){1, 2}, NULL);
    dc_wordvec_add(wv, "day", (float[]){3, 4}, NULL);
    dc_wordvec_add(wv, "bad", (float[]){5, 6}, NULL);
    x = dc_wordvec_batch(wv, c, (int[]){0, 1, 2}, 3, 0, lengths);
    cr_assert_not_null(x, "%s", dc_last_error());
    cr_assert(x->ndim == 3 && x->shape[0] == 3 && x->shape[1] == 4 && x->shape[2] == 2);
    cr_assert(lengths[0] == 2 && lengths[1] == 1 && lengths[2] == 4);
    static const float want[3][4][2] = {
        {{1, 2}, {3, 4}, {0, 0}, {0, 0}},
        {{0, 0}, {0, 0}, {0, 0}, {0, 0}},
        {{5, 6}, {5, 6}, {0, 0}, {5, 6}},
    };
    cr_assert_eq(memcmp(x->data, want, sizeof want), 0);

    /* Capped at 2 steps, in another order. */
    x = dc_wordvec_batch(wv, c, (int[]){2, 0}, 2, 2, lengths);
    cr_assert(x && x->shape[1] == 2 && lengths[0] == 2 && lengths[1] == 2);
    cr_assert(x->data[0] == 5 && x->data[3] == 6 && x->data[4] == 1 && x->data[7] == 4);

    /* Only empty sentences: one zero step. */
    x = dc_wordvec_batch(wv, c, (int[]){1}, 1, 0, lengths);
    cr_assert(x && x->shape[1] == 1 && lengths[0] == 1 && x->data[0] == 0);

    cr_assert_null(dc_wordvec_batch(wv, c, (int[]){3}, 1, 0, lengths));
    cr_assert(strstr(dc_last_error(), "idx[0] = 3, expected 0..2"), "%s",
              dc_last_error());
    cr_assert_null(dc_wordvec_batch(wv, c, (int[]){0}, 0, 0, lengths));
    cr_assert_null(dc_wordvec_batch(wv, c, (int[]){0}, 1, -1, lengths));
    dc_step_end();
    dc_wordvec_free(wv);
    dc_corpus_free(c);
}
