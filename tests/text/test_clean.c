/* Tests of src/text/clean.c and src/text/vocab.c: the cleaning rules on
 * examples whose expected output is what Python 3 gives for
 * re.sub(r'[^\w\s]', '', s).lower() (and .split()), UTF-8 checks, corpora
 * (the real training file's token and word counts, computed the same way in
 * Python), and the vocabulary's ids, counts, order and hash table. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/text.h"

#define TRAIN_CSV DC_SOURCE_DIR "/data/tweet-emotions/trainEmotions.csv"

static void expect_clean(const char *in, const char *want)
{
    char *out;

    cr_assert_eq(dc_text_clean(in, &out), DC_OK, "%s", dc_last_error());
    cr_assert_str_eq(out, want, "clean('%s') = '%s', expected '%s'", in, out, want);
    free(out);
}

Test(text_clean, ascii_rules)
{
    expect_clean("Hello, World!", "hello world");
    expect_clean("don't stop-believing", "dont stopbelieving");
    expect_clean("@user_1 #Tag http://t.co/x", "user_1 tag httptcox");
    expect_clean("  3 cheesecakes  nom\tnom\n", "  3 cheesecakes  nom\tnom\n");
    expect_clean("...!?", "");
    expect_clean("", "");
    /* Control characters other than whitespace are removed; U+001C stays. */
    expect_clean("a\x01" "b\x7f" "c\x1c" "d", "abc\x1c" "d");
}

Test(text_clean, latin1_follows_python)
{
    expect_clean("Caf\xC3\xA9 \xC3\x80\xC3\x89\xC3\x8E na\xC3\xAFve",
                 "caf\xC3\xA9 \xC3\xA0\xC3\xA9\xC3\xAE na\xC3\xAFve");
    /* The course file's mojibake: 'ï¿½' becomes 'ï½' (¿ removed, ½ kept). */
    expect_clean("\xC3\xAF\xC2\xBF\xC2\xBD", "\xC3\xAF\xC2\xBD");
    /* × ÷ ¿ ¡ ´ go; ² ³ ¹ ¼ ½ ¾ ª µ º stay (Python's isalnum). */
    expect_clean("\xC3\x97\xC3\xB7\xC2\xB2\xC2\xB3\xC2\xB9\xC2\xBC\xC2\xBD\xC2\xBE"
                 "\xC2\xAA\xC2\xB5\xC2\xBA\xC2\xBF\xC2\xA1\xC2\xB4",
                 "\xC2\xB2\xC2\xB3\xC2\xB9\xC2\xBC\xC2\xBD\xC2\xBE\xC2\xAA\xC2\xB5"
                 "\xC2\xBA");
    /* NBSP and NEL are whitespace to Python, so they stay. */
    expect_clean("a\xC2\xA0" "b\xC2\x85" "c", "a\xC2\xA0" "b\xC2\x85" "c");
    /* Â lower-cases to â. */
    expect_clean("\xC3\x82", "\xC3\xA2");
}

Test(text_clean, beyond_latin1)
{
    /* Emoji and symbols are removed; Cyrillic and CJK letters kept. */
    expect_clean("I \xE2\x9D\xA4 \xF0\x9F\x98\x80 it", "i   it");
    expect_clean("\xD0\x9F\xD0\xA0\xD0\x98\xD0\x92\xD0\x95\xD0\xA2",
                 "\xD0\xBF\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82");
    expect_clean("\xE4\xB8\x80\xE2\x80\x99s", "\xE4\xB8\x80s");
    /* U+2003 EM SPACE is whitespace. */
    expect_clean("a\xE2\x80\x83" "b", "a\xE2\x80\x83" "b");
}

Test(text_clean, invalid_utf8_rejected)
{
    char *out = (char *)1;

    cr_assert_eq(dc_text_clean("ab\xFF", &out), DC_ERR_ARG);
    cr_assert_null(out);
    cr_assert(strstr(dc_last_error(), "byte 2"), "%s", dc_last_error());
    cr_assert_eq(dc_utf8_check("ok\xC3\xA9", 4), 4);
    cr_assert_eq(dc_utf8_check("ok\xC3", 3), 2);
    cr_assert_eq(dc_utf8_check("\xF4\x90\x80\x80", 4), 0); /* above U+10FFFF */
    cr_assert_eq(dc_utf8_check("\xE0\x80\xAF", 3), 0);     /* overlong */
}

/* ---- corpora ---- */

Test(text_corpus, tokens_split_on_python_whitespace)
{
    const char *texts[] = {
        "Hello,   World!", "...", "a\xC2\xA0" "b\xE2\x80\x83" "c\x1c" "d", "x",
    };
    dc_corpus *c = dc_corpus_from_texts(texts, 4);

    cr_assert_not_null(c, "%s", dc_last_error());
    cr_assert_eq(c->n, 4);
    cr_assert_eq(dc_corpus_len(c, 0), 2);
    cr_assert_eq(dc_corpus_len(c, 1), 0);
    cr_assert_eq(dc_corpus_len(c, 2), 4);
    cr_assert_eq(dc_corpus_len(c, 3), 1);
    cr_assert_str_eq(c->tok[c->start[0]], "hello");
    cr_assert_str_eq(c->tok[c->start[0] + 1], "world");
    cr_assert_str_eq(c->tok[c->start[2] + 3], "d");
    cr_assert_str_eq(c->tok[c->start[3]], "x");
    cr_assert_eq(c->start[4], 7);
    dc_corpus_free(c);
}

Test(text_corpus, bad_text_named)
{
    const char *texts[] = {"fine", "bad \xC3"};

    cr_assert_null(dc_corpus_from_texts(texts, 2));
    cr_assert(strstr(dc_last_error(), "text 1"), "%s", dc_last_error());
}

Test(text_corpus, real_train_counts_match_python)
{
    dc_tweets *t = dc_tweets_load(TRAIN_CSV, 0);
    dc_corpus *c;
    dc_vocab *v;
    int longest = 0, empty = 0;

    cr_assert_not_null(t, "%s", dc_last_error());
    c = dc_corpus_from_tweets(t);
    cr_assert_not_null(c, "%s", dc_last_error());
    for (int i = 0; i < c->n; i++) {
        longest = dc_corpus_len(c, i) > longest ? dc_corpus_len(c, i) : longest;
        empty += dc_corpus_len(c, i) == 0;
    }

    /* Python: 179304 tokens, 25888 distinct, longest 32, none empty. */
    cr_assert_eq(c->start[c->n], 179304);
    cr_assert_eq(longest, 32);
    cr_assert_eq(empty, 0);
    v = dc_vocab_build(c, 1);
    cr_assert_not_null(v);
    cr_assert_eq(dc_vocab_size(v), 25888);
    cr_assert_eq(dc_vocab_total(v), 179304);

    /* The most common words: i 5683, to 4746, the 4628. */
    cr_assert_str_eq(dc_vocab_word(v, 0), "i");
    cr_assert_eq(dc_vocab_count(v, 0), 5683);
    cr_assert_str_eq(dc_vocab_word(v, 1), "to");
    cr_assert_eq(dc_vocab_count(v, 1), 4746);
    cr_assert_str_eq(dc_vocab_word(v, 2), "the");
    cr_assert_eq(dc_vocab_count(v, 2), 4628);
    cr_assert_str_eq(c->tok[15], "fattyyy");
    dc_vocab_free(v);
    dc_corpus_free(c);
    dc_tweets_free(t);
}

/* ---- vocabulary ---- */

Test(text_vocab, build_orders_by_count_then_first_seen)
{
    const char *texts[] = {"b a b c", "b a d", "e"};
    dc_corpus *c = dc_corpus_from_texts(texts, 3);
    dc_vocab *v = dc_vocab_build(c, 1), *v2 = dc_vocab_build(c, 2);

    cr_assert(v && v2);
    cr_assert_eq(dc_vocab_size(v), 5);
    const char *order[] = {"b", "a", "c", "d", "e"};
    int64_t counts[] = {3, 2, 1, 1, 1};
    for (int i = 0; i < 5; i++) {
        cr_assert_str_eq(dc_vocab_word(v, i), order[i]);
        cr_assert_eq(dc_vocab_count(v, i), counts[i]);
        cr_assert_eq(dc_vocab_find(v, order[i]), i);
    }
    cr_assert_eq(dc_vocab_size(v2), 2);
    cr_assert_eq(dc_vocab_find(v2, "c"), -1);
    cr_assert_eq(dc_vocab_total(v2), 5);
    cr_assert_null(dc_vocab_word(v2, 2));
    cr_assert_null(dc_vocab_build(c, 0));
    cr_assert(strstr(dc_last_error(), "min_count"));
    dc_vocab_free(v);
    dc_vocab_free(v2);
    dc_corpus_free(c);
}

Test(text_vocab, hash_table_grows)
{
    dc_vocab *v = dc_vocab_new();
    char w[32];

    cr_assert_not_null(v);
    for (int i = 0; i < 20000; i++) {
        snprintf(w, sizeof w, "w%d", i);
        cr_assert_eq(dc_vocab_add(v, w, i % 3), i);
    }
    for (int i = 0; i < 20000; i += 7) {
        snprintf(w, sizeof w, "w%d", i);
        cr_assert_eq(dc_vocab_find(v, w), i);
        cr_assert_str_eq(dc_vocab_word(v, i), w);
    }
    cr_assert_eq(dc_vocab_add(v, "w5", 10), 5);
    cr_assert_eq(dc_vocab_count(v, 5), 12);
    cr_assert_eq(dc_vocab_find(v, "w20000"), -1);
    cr_assert_eq(dc_vocab_add(v, "", 1), -1);
    cr_assert_eq(dc_vocab_add(v, "x", -1), -1);
    cr_assert(strstr(dc_last_error(), "negative count"));
    dc_vocab_free(v);
}
