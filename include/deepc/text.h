/* text.h - tweets, cleaning, tokens, vocabulary, word vectors and word2vec.
 *
 * The text side of the tweet-emotion classifier: the course's CSV files of
 * (emotion, content) rows, the course's cleaning (punctuation stripped, lower
 * case, split on whitespace), a vocabulary, pretrained word vectors (word2vec
 * binary or text, GloVe text) and, when no vector file is given, a skip-gram
 * word2vec trainer. A batch of tokenised tweets becomes a padded [B, T, D]
 * tensor of vectors plus lengths, the input of a GRU or LSTM.
 *
 * Implemented in src/text/: csv.c (tweet files, dedup, split), clean.c
 * (cleaning, tokens, corpus), vocab.c, wordvec.c, word2vec.c. */
#ifndef DEEPC_TEXT_H
#define DEEPC_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "deepc/tensor.h"

/* ---- the tweet CSV ---- */

/* Labels in sklearn LabelEncoder order (sorted names): happiness=0, neutral=1,
 * sadness=2. */
#define DC_TWEET_CLASSES 3

/* "happiness", "neutral" or "sadness"; NULL outside 0..2. */
const char *dc_tweet_label_name(int label);

/* The id of a label name (exact, case-sensitive), or -1. */
int dc_tweet_label_id(const char *name);

/* Rows of a tweet file in file order. */
typedef struct dc_tweets {
    int n;        /* rows */
    int *label;   /* [n] 0..DC_TWEET_CLASSES-1 */
    char **text;  /* [n] the raw content: valid UTF-8 without NUL, owned */
    int *line;    /* [n] the line of the file where the row starts (from 1) */
} dc_tweets;

/* Loads a CSV with a header row naming the columns "emotion" and "content" (in
 * either order, other columns allowed and ignored) and one row per tweet.
 * Parsing is RFC 4180 as libcsv's strict mode reads it: fields may be quoted,
 * a quoted field may hold commas, doubled quotes ("" for ") and line breaks;
 * rows end in LF or CRLF; a UTF-8 byte-order mark at the start is skipped;
 * blank lines between rows are skipped. Lines are counted by LF.
 * Fails (NULL, dc_last_error naming the file and line) on: an empty file; a
 * first row that lacks either column name (a missing header); a row whose
 * field count differs from the header's; an empty or unknown label (the
 * message names it and lists the valid ones); bytes that are not UTF-8 (line
 * and byte offset in the file); a NUL byte; a quote inside an unquoted field
 * or text after a closing quote; a quoted field that never ends; a header
 * without data rows. `limit` > 0 keeps only the first `limit` rows.
 * Owned by the caller (dc_tweets_free). */
dc_tweets *dc_tweets_load(const char *path, int limit);
void dc_tweets_free(dc_tweets *t);

/* Removes rows whose (label, raw text) equal those of an earlier row, keeping
 * the first, as the course's pandas drop_duplicates() did on the raw rows
 * before cleaning (tweets that differ only in punctuation or case stay).
 * Returns the number removed, or -1 (nothing removed) if out of memory. */
int dc_tweets_dedup(dc_tweets *t);

/* A copy of rows idx[0..k-1] (in that order). NULL with a message on a bad
 * index or failed allocation. Owned by the caller. */
dc_tweets *dc_tweets_subset(const dc_tweets *t, const int *idx, int k);

/* Carves a validation set out of `t`: round(fraction * n) rows (per class,
 * round(fraction * n_class), when `stratify`) picked by a shuffle seeded with
 * `seed`; both parts keep the file order. `fraction` must leave at least one
 * row on each side. On success *train and *val are owned by the caller; on
 * failure both are NULL and the status says why (DC_ERR_ARG names the
 * argument). */
dc_status dc_tweets_split(const dc_tweets *t, double fraction, uint64_t seed,
                          int stratify, dc_tweets **train, dc_tweets **val);

/* counts[c] = rows labelled c. */
void dc_tweets_class_counts(const dc_tweets *t, int counts[DC_TWEET_CLASSES]);

/* ---- cleaning and tokens ---- */

/* The course's cleaning, re.sub(r'[^\w\s]', '', s).lower() in Python 3, on
 * UTF-8 text, code point by code point:
 *   - kept as word characters: ASCII letters, digits and '_'; in U+0080-U+00FF
 *     exactly Python's choice (letters, ª µ º and the numerics ² ³ ¹ ¼ ½ ¾);
 *     above U+00FF, what glibc's C.UTF-8 locale calls alphanumeric;
 *   - kept as whitespace: Python's str.isspace() set (\t \n \v \f \r, U+001C-
 *     U+001F, space, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
 *     U+202F, U+205F, U+3000);
 *   - everything else (punctuation, symbols, emoji, control characters) is
 *     removed, so "don't" becomes "dont" and "a-b" becomes "ab";
 *   - kept characters are lower-cased one to one (glibc towlower in C.UTF-8).
 * Limitation: above U+00FF the word-character test is glibc's, which differs
 * from Python's on about 2,300 rare code points (Python also keeps numerics
 * such as the circled digits; glibc also keeps combining marks and circled
 * letters); and Python's two context-dependent lower-casings (U+0130 to
 * "i" + U+0307, final sigma) become plain one-to-one mappings. None of these
 * occurs in the course files. Without a C.UTF-8 locale (glibc before 2.35 and
 * not installed), all code points above U+00FF count as word characters and
 * keep their case; a warning is logged once.
 * On success *out is a NUL-terminated string owned by the caller (free()).
 * DC_ERR_ARG if `s` is not valid UTF-8 (naming the byte offset). */
dc_status dc_text_clean(const char *s, char **out);

/* Checks that s[0..n-1] is UTF-8 (RFC 3629: no overlong forms, surrogates or
 * code points above U+10FFFF). Returns n if so, else the byte offset of the
 * first invalid sequence. */
size_t dc_utf8_check(const char *s, size_t n);

/* Tokenised sentences, stored flat. */
typedef struct dc_corpus {
    int n;        /* sentences */
    int *start;   /* [n + 1]: sentence i is tokens start[i] .. start[i+1]-1 */
    char **tok;   /* [start[n]] NUL-terminated tokens, pointing into `pool` */
    char *pool;   /* owns the token bytes */
} dc_corpus;

/* Cleans each text (dc_text_clean) and splits it on runs of whitespace (the
 * same set as above; Python's str.split()), so a text that is all punctuation
 * gives a sentence of no tokens. NULL with a message naming the text's index on
 * invalid UTF-8 or a failed allocation. Owned by the caller. */
dc_corpus *dc_corpus_from_texts(const char *const *texts, int n);

/* dc_corpus_from_texts over the tweets' texts; sentence i is tweet i. */
dc_corpus *dc_corpus_from_tweets(const dc_tweets *t);
void dc_corpus_free(dc_corpus *c);

/* Tokens in sentence i. */
int dc_corpus_len(const dc_corpus *c, int i);

/* ---- vocabulary ---- */

/* A word -> id map (an open-addressing hash table) with a count per word.
 * Ids are 0..size-1 in the order words were first added. Words are byte
 * strings compared exactly (no case folding). */
typedef struct dc_vocab dc_vocab;

/* An empty vocabulary; NULL if out of memory. Owned by the caller. */
dc_vocab *dc_vocab_new(void);
void dc_vocab_free(dc_vocab *v);

/* Adds `count` (>= 0) to `word`'s count, adding the word with the next id if
 * it is new. Returns its id, or -1 with a message (out of memory, an empty
 * word, a count below 0, or more than INT_MAX - 1 words). */
int dc_vocab_add(dc_vocab *v, const char *word, int64_t count);

/* The id of `word`, or -1 if absent. */
int dc_vocab_find(const dc_vocab *v, const char *word);

int dc_vocab_size(const dc_vocab *v);

/* The word with id `id` (borrowed: valid until dc_vocab_free; words never
 * move); NULL outside 0..size-1. */
const char *dc_vocab_word(const dc_vocab *v, int id);

/* Its count (0 outside 0..size-1), and the sum of all counts. */
int64_t dc_vocab_count(const dc_vocab *v, int id);
int64_t dc_vocab_total(const dc_vocab *v);

/* Counts every token of `c` and keeps the words seen at least `min_count`
 * (>= 1) times; ids go by descending count, ties by first appearance, so id 0
 * is the most frequent word (word2vec's order). NULL with a message on a bad
 * argument or failed allocation. Owned by the caller. */
dc_vocab *dc_vocab_build(const dc_corpus *c, int min_count);

/* ---- word vectors ---- */

typedef enum dc_wordvec_format {
    DC_WORDVEC_AUTO = 0, /* loading: detect; saving: not allowed */
    DC_WORDVEC_BINARY,   /* word2vec binary: "N D\n", then per word the word, a
                          * space, D little-endian float32, optional "\n" */
    DC_WORDVEC_TEXT,     /* word2vec text: "N D" line, then "word v1 .. vD" */
    DC_WORDVEC_GLOVE,    /* GloVe text: "word v1 .. vD" lines, no header */
} dc_wordvec_format;

/* A table of words and their D-dimensional float vectors, looked up by word
 * through a hash table. */
typedef struct dc_wordvec dc_wordvec;

/* An empty table of `dim`-dimensional vectors (1..DC_WORDVEC_MAX_DIM). NULL
 * with a message on a bad dim. Owned by the caller (dc_wordvec_free). */
#define DC_WORDVEC_MAX_DIM 100000
dc_wordvec *dc_wordvec_new(int dim);
void dc_wordvec_free(dc_wordvec *wv);

/* Adds `word` with a copy of vec[0..dim-1]. A word already present keeps its
 * first vector; the repeat is counted (dc_wordvec_duplicates) and *added is 0.
 * `added` may be NULL. DC_ERR_ARG for an empty word or one holding a space,
 * tab, CR or LF (the file formats could not store it), DC_ERR_NOMEM. */
dc_status dc_wordvec_add(dc_wordvec *wv, const char *word, const float *vec,
                         int *added);

/* Reads a vector file. DC_WORDVEC_AUTO detects the format: a first line of
 * exactly two integers is a word2vec header, and the first entry then decides
 * between text (it reads as a word and D numbers ending the line) and binary;
 * any other first line is GloVe, whose D is the first line's count of numbers.
 * A UTF-8 byte-order mark at the start of the file is skipped (Windows editors
 * write one), so it never becomes part of the first word or header.
 * Validation, each failure naming the file and the line (text) or the entry
 * and byte offset (binary): a header that is not "N D" or has N outside
 * 1..2^30 or D outside 1..DC_WORDVEC_MAX_DIM; fewer entries than the header
 * promises (a truncated file, including a vector cut short); data after the
 * promised entries; a line with a different count of numbers than D; a value
 * that is not a number or not finite; an empty line between entries; a word of
 * over 4096 bytes (binary). Duplicate words keep the first vector and are
 * counted, and a warning gives the count and the first one. Memory grows with
 * the entries actually read, so a lying header cannot cause a huge allocation.
 * Limitation: words containing spaces (found in glove.840B) cannot be read;
 * their lines fail as having too many numbers.
 * Owned by the caller (dc_wordvec_free). */
dc_wordvec *dc_wordvec_load(const char *path, dc_wordvec_format format);

/* Writes all vectors in `format` (not AUTO) through a temporary file renamed
 * into place. Text formats print each value with 9 significant digits, which
 * reads back to the same float. DC_ERR_ARG, DC_ERR_IO naming the path. */
dc_status dc_wordvec_save(const dc_wordvec *wv, const char *path,
                          dc_wordvec_format format);

int dc_wordvec_count(const dc_wordvec *wv); /* distinct words */
int dc_wordvec_dim(const dc_wordvec *wv);
int dc_wordvec_duplicates(const dc_wordvec *wv); /* repeats ignored */

/* The format a loaded table was read in (AUTO for one built in memory). */
dc_wordvec_format dc_wordvec_source_format(const dc_wordvec *wv);

/* Word i (0..count-1, in file order) and its vector; borrowed, valid until the
 * next dc_wordvec_add or dc_wordvec_free. NULL outside the range. */
const char *dc_wordvec_word(const dc_wordvec *wv, int i);
const float *dc_wordvec_vector(const dc_wordvec *wv, int i);

/* The index of `word` (exact match), or -1. */
int dc_wordvec_index(const dc_wordvec *wv, const char *word);

/* Copies word's vector into out[0..dim-1] and returns 1; for a word not in
 * the table (out of vocabulary) fills out with zeros and returns 0 (also, with
 * out untouched, when wv or out is NULL). */
int dc_wordvec_lookup(const dc_wordvec *wv, const char *word, float *out);

/* How much of a corpus the table covers. */
typedef struct dc_coverage {
    int64_t tokens;       /* tokens in the corpus */
    int64_t tokens_found; /* ... that have a vector */
    int types;            /* distinct words in the corpus */
    int types_found;      /* ... that have a vector */
    double token_share;   /* tokens_found / tokens (0 for an empty corpus) */
    double type_share;    /* types_found / types (0 for an empty corpus) */
} dc_coverage;

/* Fills *out; DC_ERR_NOMEM possible. */
dc_status dc_wordvec_coverage(const dc_wordvec *wv, const dc_corpus *c,
                              dc_coverage *out);

/* The vectors of sentences idx[0..b-1] of `c` as an arena tensor [b, T, D]
 * (valid until dc_step_end), where T is the longest of their lengths, capped
 * at `max_len` when max_len > 0 (a longer sentence keeps its first max_len
 * tokens). Row i holds the vectors of its tokens in order, zeros for tokens
 * without a vector (out of vocabulary) and zeros after its end (padding);
 * lengths[i] gets its length. A sentence of no tokens (all punctuation, say)
 * gets length 1 and one zero vector, so that a recurrent layer always reads
 * at least one step. NULL with a message naming the argument on b < 1, an
 * index outside the corpus, or max_len < 0. */
dc_tensor *dc_wordvec_batch(const dc_wordvec *wv, const dc_corpus *c,
                            const int *idx, int b, int max_len, int *lengths);

/* ---- word2vec training ---- */

/* Skip-gram with negative sampling, as Mikolov's word2vec.c trains it. */
typedef struct dc_word2vec_opts {
    int dim;         /* vector size (300) */
    int window;      /* max context distance; each position draws 1..window */
    int negative;    /* negative samples per (word, context) pair (5) */
    int min_count;   /* words seen fewer times are dropped (5) */
    int epochs;      /* passes over the corpus (5) */
    float alpha;     /* starting learning rate (0.025), decaying linearly */
    float min_alpha; /* ... to this at the end (alpha * 1e-4) */
    double sample;   /* sub-sampling threshold of frequent words (1e-3; 0 off) */
    uint64_t seed;   /* initial vectors, windows, sub-sampling, negatives (1) */
    int threads;     /* 1: bit-reproducible; more: lock-free ("Hogwild")
                      * updates as word2vec.c does, not reproducible */
} dc_word2vec_opts;

/* Fills the defaults above. */
void dc_word2vec_defaults(dc_word2vec_opts *o);

/* Trains on the sentences of `c` (a window never crosses a sentence) and
 * returns the input vectors of the vocabulary (dc_vocab_build order: most
 * frequent first). Initial vectors are uniform in [-0.5/dim, 0.5/dim], output
 * vectors zero; negatives are drawn from the unigram distribution raised to
 * 0.75; a word of count f in a corpus of T tokens is kept with probability
 * (sqrt(f / (sample T)) + 1) (sample T) / f; the learning rate falls linearly
 * with the words processed. NULL with a message naming the option on a bad
 * option or when no word reaches min_count. Owned by the caller. */
dc_wordvec *dc_word2vec_train(const dc_corpus *c, const dc_word2vec_opts *o);

/* Trains once and caches: the vectors live in
 * "<cache_dir>/word2vec-<dim>d-<key>.bin" (word2vec binary format), where the
 * 16 hex digits of key hash the corpus's tokens and every option but
 * `threads`, so a changed corpus or setting never reads a stale file. Loads
 * that file if it exists; otherwise trains, creates cache_dir if missing (one
 * level) and saves atomically (temporary file + rename). *trained (may be NULL)
 * says which happened. Owned by the caller. */
dc_wordvec *dc_word2vec_cached(const dc_corpus *c, const dc_word2vec_opts *o,
                               const char *cache_dir, int *trained);

#endif
