/* Tests of src/text/csv.c: CSV edge cases written by the tests themselves
 * (quotes, embedded commas, doubled quotes and line breaks, CRLF, a BOM) and
 * every kind of broken file, each failing with a message that names the file
 * and line; then the real course files against figures computed independently
 * with Python's csv module (row and label counts, duplicates), and the seeded
 * validation split. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deepc/text.h"

#define TRAIN_CSV DC_SOURCE_DIR "/data/tweet-emotions/trainEmotions.csv"
#define TEST_CSV DC_SOURCE_DIR "/data/tweet-emotions/testEmotions.csv"

#define TESTUTIL_TAG "text"
#include "testutil.h"

/* ---- helpers: files written into the temporary folder ---- */

/* Writes n bytes to tmp/t.csv and returns that path (in_tmp's buffer). */
static const char *write_csv_n(const char *data, size_t n)
{
    const char *path = in_tmp("t.csv");

    write_file(path, data, n);
    return path;
}

static const char *write_csv(const char *data)
{
    return write_csv_n(data, strlen(data));
}

/* Loads `data` and expects failure with a message holding each of the
 * NULL-terminated strings (the path is checked too). */
static void expect_fail(const char *data, size_t n, ...)
{
    const char *path = write_csv_n(data, n);
    dc_tweets *t = dc_tweets_load(path, 0);
    const char *msg = dc_last_error();
    va_list ap;

    cr_assert_null(t, "loaded a broken file: %s", data);
    cr_assert(strstr(msg, path), "message lacks the path: %s", msg);
    va_start(ap, n);
    for (const char *s; (s = va_arg(ap, const char *)) != NULL;)
        cr_assert(strstr(msg, s), "message '%s' lacks '%s'", msg, s);
    va_end(ap);
}

#define EXPECT_FAIL(lit, ...) expect_fail(lit, sizeof(lit) - 1, __VA_ARGS__, NULL)

/* ---- parsing ---- */

Test(tweets_csv, quotes_commas_newlines, .init = make_tmp, .fini = remove_tmp)
{
    const char *path = write_csv("emotion,content\n"
                                 "happiness,\"hello, world\"\n"
                                 "sadness,\"she said \"\"no\"\"\"\n"
                                 "neutral,\"line one\nline two\"\n"
                                 "happiness,plain  text with 'single' quotes \n"
                                 "\n"
                                 "sadness,\"\"\n");
    dc_tweets *t = dc_tweets_load(path, 0);

    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_eq(t->n, 5);
    cr_assert_str_eq(t->text[0], "hello, world");
    cr_assert_str_eq(t->text[1], "she said \"no\"");
    cr_assert_str_eq(t->text[2], "line one\nline two");
    /* Spaces are content: libcsv's trimming is off, as pandas keeps them. */
    cr_assert_str_eq(t->text[3], "plain  text with 'single' quotes ");
    cr_assert_str_eq(t->text[4], "");
    cr_assert_eq(t->label[0], 0);
    cr_assert_eq(t->label[1], 2);
    cr_assert_eq(t->label[2], 1);
    cr_assert_eq(t->label[3], 0);
    cr_assert_eq(t->label[4], 2);

    /* Row 3 spans lines 4-5, so row 4 starts on line 6; line 7 is blank. */
    int lines[] = {2, 3, 4, 6, 8};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(t->line[i], lines[i], "row %d line %d", i, t->line[i]);
    dc_tweets_free(t);
}

Test(tweets_csv, crlf_bom_and_no_final_newline, .init = make_tmp,
     .fini = remove_tmp)
{
    const char *path = write_csv("\xEF\xBB\xBF" "emotion,content\r\n"
                                 "happiness,a\r\n"
                                 "neutral,\"x\r\ny\"\r\n"
                                 "sadness,last");
    dc_tweets *t = dc_tweets_load(path, 0);

    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_eq(t->n, 3);
    cr_assert_str_eq(t->text[0], "a");
    cr_assert_str_eq(t->text[1], "x\r\ny");
    cr_assert_str_eq(t->text[2], "last");
    cr_assert_eq(t->label[2], 2);
    cr_assert_eq(t->line[2], 5);
    dc_tweets_free(t);
}

Test(tweets_csv, columns_found_by_name, .init = make_tmp, .fini = remove_tmp)
{
    const char *path = write_csv("id,content,emotion\n"
                                 "7,\"hi, you\",sadness\n"
                                 "8,bye,neutral\n");
    dc_tweets *t = dc_tweets_load(path, 0);

    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_eq(t->n, 2);
    cr_assert_str_eq(t->text[0], "hi, you");
    cr_assert_eq(t->label[0], 2);
    cr_assert_eq(t->label[1], 1);
    dc_tweets_free(t);
}

Test(tweets_csv, multibyte_text_kept, .init = make_tmp, .fini = remove_tmp)
{
    const char *path = write_csv("emotion,content\nhappiness,caf\xC3\xA9 \xF0\x9F\x98\x80\n");
    dc_tweets *t = dc_tweets_load(path, 0);

    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_str_eq(t->text[0], "caf\xC3\xA9 \xF0\x9F\x98\x80");
    dc_tweets_free(t);
}

Test(tweets_csv, limit_keeps_first_rows, .init = make_tmp, .fini = remove_tmp)
{
    const char *path = write_csv("emotion,content\nhappiness,a\nsadness,b\n"
                                 "neutral,c\nbogus,d\n");
    dc_tweets *t = dc_tweets_load(path, 2);

    /* The bad 4th row is never reached. */
    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_eq(t->n, 2);
    cr_assert_str_eq(t->text[1], "b");
    dc_tweets_free(t);
}

/* ---- broken files ---- */

Test(tweets_csv, empty_file, .init = make_tmp, .fini = remove_tmp)
{
    EXPECT_FAIL("", "empty file");
    EXPECT_FAIL("\r\n\n  \n", "empty file");
    EXPECT_FAIL("\xEF\xBB\xBF", "empty file");
}

Test(tweets_csv, header_problems, .init = make_tmp, .fini = remove_tmp)
{
    EXPECT_FAIL("happiness,hi there\nsadness,oh\n", ":1:", "missing header",
                "happiness,hi there");
    EXPECT_FAIL("emotion,text\nhappiness,hi\n", ":1:", "no column 'content'");
    EXPECT_FAIL("label,content\nhappiness,hi\n", ":1:", "no column 'emotion'");
    EXPECT_FAIL("emotion,content\n", "no data rows");
}

Test(tweets_csv, wrong_column_count, .init = make_tmp, .fini = remove_tmp)
{
    EXPECT_FAIL("emotion,content\nhappiness,a\nsadness,b,c\n", ":3:",
                "3 fields, the header has 2");
    EXPECT_FAIL("emotion,content\nhappiness\n", ":2:", "1 fields");
}

Test(tweets_csv, unknown_or_empty_label, .init = make_tmp, .fini = remove_tmp)
{
    EXPECT_FAIL("emotion,content\nhappiness,a\nanger,b\n", ":3:", "'anger'",
                "happiness, neutral, sadness");
    EXPECT_FAIL("emotion,content\nHappiness,a\n", ":2:", "'Happiness'");
    EXPECT_FAIL("emotion,content\n,a\n", ":2:", "empty label");
    /* The line counts the line breaks inside the quoted field before it. */
    EXPECT_FAIL("emotion,content\nhappiness,\"a\nb\nc\"\nfoo,x\n", ":5:", "'foo'");
}

Test(tweets_csv, invalid_utf8, .init = make_tmp, .fini = remove_tmp)
{
    /* Offsets: the header is 16 bytes, "happiness,ok\n" 13, "sadness,bad " 12. */
    EXPECT_FAIL("emotion,content\nhappiness,ok\nsadness,bad \xFF byte\n", ":3:",
                "invalid UTF-8", "byte offset 41", "0xff");
    EXPECT_FAIL("emotion,content\nhappiness,over\xC0\xAF" "long\n", ":2:",
                "byte offset 30");
    EXPECT_FAIL("emotion,content\nhappiness,cut \xE2\x82", ":2:", "byte offset 30");
    EXPECT_FAIL("emotion,content\nhappiness,surrogate \xED\xA0\x80\n", ":2:",
                "invalid UTF-8");
}

Test(tweets_csv, nul_byte, .init = make_tmp, .fini = remove_tmp)
{
    EXPECT_FAIL("emotion,content\nhappiness,a\0b\n", ":2:", "NUL", "offset 27");
}

Test(tweets_csv, quoting_errors, .init = make_tmp, .fini = remove_tmp)
{
    EXPECT_FAIL("emotion,content\nhappiness,\"open\nmore\n", ":2:", "unterminated");
    EXPECT_FAIL("emotion,content\nhappiness,ok\nsadness,a\"b\n", ":3:",
                "malformed quoting", "byte offset 38");
    EXPECT_FAIL("emotion,content\nhappiness,\"closed\"junk\n", ":2:",
                "malformed quoting");
}

Test(tweets_csv, missing_file)
{
    dc_tweets *t = dc_tweets_load("/nonexistent/tweets.csv", 0);

    cr_assert_null(t);
    cr_assert(strstr(dc_last_error(), "/nonexistent/tweets.csv: cannot open"),
              "%s", dc_last_error());
}

/* ---- labels ---- */

Test(tweets_csv, label_encoding_is_sorted_order)
{
    cr_assert_eq(dc_tweet_label_id("happiness"), 0);
    cr_assert_eq(dc_tweet_label_id("neutral"), 1);
    cr_assert_eq(dc_tweet_label_id("sadness"), 2);
    cr_assert_eq(dc_tweet_label_id("anger"), -1);
    cr_assert_str_eq(dc_tweet_label_name(2), "sadness");
    cr_assert_null(dc_tweet_label_name(3));
    cr_assert_null(dc_tweet_label_name(-1));
}

/* ---- the real files ---- */

Test(tweets_csv, real_train_file)
{
    dc_tweets *t = dc_tweets_load(TRAIN_CSV, 0);
    int counts[DC_TWEET_CLASSES];

    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_eq(t->n, 14504);
    dc_tweets_class_counts(t, counts);
    cr_assert_eq(counts[0], 5430);
    cr_assert_eq(counts[1], 5182);
    cr_assert_eq(counts[2], 3892);
    cr_assert_str_eq(t->text[0], "victory for the bulldogs was celebrated by 3 white"
                     " chocolate cheesecakes  nom nom nom WHATTA FATTYYY");
    cr_assert_str_eq(t->text[1], "@saraLDS Thanks for that, Sara");
    cr_assert_eq(t->label[0], 0);

    /* Python: 51 rows repeat an earlier (emotion, content) pair exactly. */
    cr_assert_eq(dc_tweets_dedup(t), 51);
    cr_assert_eq(t->n, 14453);
    dc_tweets_class_counts(t, counts);
    cr_assert_eq(counts[0], 5396);
    cr_assert_eq(counts[1], 5166);
    cr_assert_eq(counts[2], 3891);
    cr_assert_eq(dc_tweets_dedup(t), 0);
    dc_tweets_free(t);
}

Test(tweets_csv, real_test_file)
{
    dc_tweets *t = dc_tweets_load(TEST_CSV, 0);
    int counts[DC_TWEET_CLASSES];

    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_eq(t->n, 4837);
    dc_tweets_class_counts(t, counts);
    cr_assert_eq(counts[0], 1811);
    cr_assert_eq(counts[1], 1728);
    cr_assert_eq(counts[2], 1298);
    cr_assert_eq(t->line[4836], 4838);
    cr_assert_eq(dc_tweets_dedup(t), 2);
    cr_assert_eq(t->n, 4835);
    dc_tweets_free(t);
}

Test(tweets_csv, dedup_keeps_first_and_needs_equal_label, .init = make_tmp,
     .fini = remove_tmp)
{
    const char *path = write_csv("emotion,content\nhappiness,a\nsadness,a\n"
                                 "happiness,b\nhappiness,a\nhappiness,A\n");
    dc_tweets *t = dc_tweets_load(path, 0);

    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_eq(dc_tweets_dedup(t), 1);
    cr_assert_eq(t->n, 4);
    cr_assert_str_eq(t->text[0], "a");
    cr_assert_eq(t->line[0], 2);
    cr_assert_eq(t->label[1], 2);
    cr_assert_str_eq(t->text[2], "b");
    cr_assert_str_eq(t->text[3], "A");
    dc_tweets_free(t);
}

/* ---- the validation split ---- */

static void check_partition(const dc_tweets *all, const dc_tweets *tr,
                            const dc_tweets *va)
{
    char *seen = calloc((size_t)all->n + 2, 1);

    cr_assert_eq(tr->n + va->n, all->n);
    /* Lines identify rows; each part keeps file order. */
    for (int p = 0; p < 2; p++) {
        const dc_tweets *s = p ? va : tr;
        for (int i = 0; i < s->n; i++) {
            cr_assert(i == 0 || s->line[i] > s->line[i - 1]);
            cr_assert(s->line[i] >= 2 && s->line[i] <= all->n + 1);
            cr_assert_eq(seen[s->line[i]], 0, "row at line %d twice", s->line[i]);
            seen[s->line[i]] = 1;
            cr_assert_str_eq(s->text[i], all->text[s->line[i] - 2]);
        }
    }
    free(seen);
}

Test(tweets_csv, split_is_seeded_partition)
{
    dc_tweets *t = dc_tweets_load(TRAIN_CSV, 0), *tr, *va, *tr2, *va2, *tr3, *va3;
    int differ = 0;

    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_eq(dc_tweets_split(t, 0.2, 42, 0, &tr, &va), DC_OK, "%s",
                 dc_last_error());
    cr_assert_eq(va->n, 2901); /* round(0.2 * 14504) */
    check_partition(t, tr, va);

    cr_assert_eq(dc_tweets_split(t, 0.2, 42, 0, &tr2, &va2), DC_OK);
    for (int i = 0; i < va->n; i++)
        cr_assert_eq(va->line[i], va2->line[i]);
    cr_assert_eq(dc_tweets_split(t, 0.2, 43, 0, &tr3, &va3), DC_OK);
    for (int i = 0; i < va->n; i++)
        differ += va->line[i] != va3->line[i];
    cr_assert_gt(differ, 100);

    dc_tweets_free(tr);
    dc_tweets_free(va);
    dc_tweets_free(tr2);
    dc_tweets_free(va2);
    dc_tweets_free(tr3);
    dc_tweets_free(va3);
    dc_tweets_free(t);
}

Test(tweets_csv, split_stratified)
{
    dc_tweets *t = dc_tweets_load(TRAIN_CSV, 0), *tr, *va;
    int counts[DC_TWEET_CLASSES];

    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_eq(dc_tweets_split(t, 0.1, 7, 1, &tr, &va), DC_OK, "%s",
                 dc_last_error());
    dc_tweets_class_counts(va, counts);
    cr_assert_eq(counts[0], 543); /* round(0.1 * 5430) */
    cr_assert_eq(counts[1], 518); /* round(0.1 * 5182) */
    cr_assert_eq(counts[2], 389); /* round(0.1 * 3892) */
    check_partition(t, tr, va);
    dc_tweets_free(tr);
    dc_tweets_free(va);
    dc_tweets_free(t);
}

Test(tweets_csv, split_rejects_bad_fraction, .init = make_tmp, .fini = remove_tmp)
{
    dc_tweets *t = dc_tweets_load(write_csv("emotion,content\nhappiness,a\n"
                                            "sadness,b\n"), 0);
    dc_tweets *tr = (dc_tweets *)1, *va = (dc_tweets *)1;

    cr_assert_not_null(t);
    cr_assert_eq(dc_tweets_split(t, 1.0, 1, 0, &tr, &va), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "fraction"));
    cr_assert(tr == NULL && va == NULL);
    cr_assert_eq(dc_tweets_split(t, 0.1, 1, 0, &tr, &va), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "0 for validation"), "%s", dc_last_error());
    cr_assert_eq(dc_tweets_split(t, 0.5, 1, 0, &tr, &va), DC_OK);
    cr_assert(tr->n == 1 && va->n == 1);
    dc_tweets_free(tr);
    dc_tweets_free(va);
    dc_tweets_free(t);
}

Test(tweets_csv, subset_checks_indices)
{
    dc_tweets *t = dc_tweets_load(TEST_CSV, 20), *s;

    cr_assert_not_null(t, "%s", dc_last_error());
    cr_assert_eq(t->n, 20);
    s = dc_tweets_subset(t, (int[]){5, 0}, 2);
    cr_assert_not_null(s);
    cr_assert_str_eq(s->text[0], t->text[5]);
    cr_assert_str_eq(s->text[1], t->text[0]);
    dc_tweets_free(s);
    cr_assert_null(dc_tweets_subset(t, (int[]){20}, 1));
    cr_assert(strstr(dc_last_error(), "idx[0] = 20"), "%s", dc_last_error());
    dc_tweets_free(t);
}
