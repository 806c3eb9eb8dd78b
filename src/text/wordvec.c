/* wordvec.c - word-vector tables: word2vec binary and text files, GloVe text
 * files, lookup, coverage of a corpus, and padded batches for an RNN.
 *
 * Loading trusts nothing: every count in a header is checked against what
 * follows it, and storage grows with the entries actually read. Numbers are
 * parsed and printed in the "C" locale whatever the program's locale is
 * (uselocale for the duration of a load or save), so "0.5" never becomes
 * "0,5". Words are looked up through a dc_vocab (vocab.c).
 * Leaves out: the word2vec "fvocab" count file, half-precision or quantised
 * vectors, memory-mapping, normalising vectors. Training is in word2vec.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/io.h"
#include "deepc/log.h"
#include "deepc/text.h"

/* Limits beyond which a header is corrupt rather than large. */
#define MAX_WORDS (1 << 30)
#define MAX_WORD_BYTES 4096
/* Bytes a word is quoted with in messages. */
#define QUOTE 40

struct dc_wordvec {
    int dim;
    dc_vocab *vocab;       /* word -> row */
    float *vec;            /* [rows * dim] */
    size_t rows_cap;
    int duplicates;
    char first_dup[QUOTE + 1];
    long first_dup_at;     /* its line (text) or entry (binary) */
    dc_wordvec_format source;
};

/* ---- the table ---- */

dc_wordvec *dc_wordvec_new(int dim)
{
    dc_wordvec *wv;

    if (dim < 1 || dim > DC_WORDVEC_MAX_DIM)
        return dc_fail(DC_ERR_ARG, "dc_wordvec_new: dim %d, expected 1..%d", dim,
                       DC_WORDVEC_MAX_DIM), NULL;
    wv = dc_calloc(1, sizeof *wv, "word vectors");
    if (!wv)
        return NULL;
    wv->dim = dim;
    wv->vocab = dc_vocab_new();
    if (!wv->vocab) {
        free(wv);
        return NULL;
    }
    return wv;
}

void dc_wordvec_free(dc_wordvec *wv)
{
    if (!wv)
        return;
    dc_vocab_free(wv->vocab);
    free(wv->vec);
    free(wv);
}

/* Room for one more row; starts near 1 MB and doubles. */
static dc_status reserve_row(dc_wordvec *wv)
{
    size_t rows = (size_t)dc_vocab_size(wv->vocab), n;
    float *p;

    if (rows < wv->rows_cap)
        return DC_OK;
    n = wv->rows_cap ? 2 * wv->rows_cap : 16 + (1u << 18) / (size_t)wv->dim;
    p = realloc(wv->vec, n * (size_t)wv->dim * sizeof *p);
    if (!p)
        return dc_fail(DC_ERR_NOMEM, "out of memory: %zu vectors of %d floats", n,
                       wv->dim);
    wv->vec = p;
    wv->rows_cap = n;
    return DC_OK;
}

/* Records a repeated word for the warning after a load. */
static void note_duplicate(dc_wordvec *wv, const char *word, long at)
{
    if (wv->duplicates++ == 0) {
        snprintf(wv->first_dup, sizeof wv->first_dup, "%s", word);
        wv->first_dup_at = at;
    }
}

dc_status dc_wordvec_add(dc_wordvec *wv, const char *word, const float *vec,
                         int *added)
{
    int row;

    if (added)
        *added = 0;
    if (!wv || !word || !vec)
        return dc_fail(DC_ERR_ARG, "dc_wordvec_add: NULL argument");
    if (!word[0] || strpbrk(word, " \t\r\n"))
        return dc_fail(DC_ERR_ARG, "dc_wordvec_add: word '%.*s' is empty or holds"
                       " whitespace", QUOTE, word);
    if (dc_vocab_find(wv->vocab, word) >= 0) {
        note_duplicate(wv, word, dc_vocab_size(wv->vocab));
        return DC_OK;
    }
    if (reserve_row(wv) != DC_OK)
        return DC_ERR_NOMEM;
    row = dc_vocab_add(wv->vocab, word, 1);
    if (row < 0)
        return DC_ERR_NOMEM;
    memcpy(wv->vec + (size_t)row * (size_t)wv->dim, vec,
           (size_t)wv->dim * sizeof *vec);
    if (added)
        *added = 1;
    return DC_OK;
}

int dc_wordvec_count(const dc_wordvec *wv)
{
    return wv ? dc_vocab_size(wv->vocab) : 0;
}

int dc_wordvec_dim(const dc_wordvec *wv)
{
    return wv ? wv->dim : 0;
}

int dc_wordvec_duplicates(const dc_wordvec *wv)
{
    return wv ? wv->duplicates : 0;
}

dc_wordvec_format dc_wordvec_source_format(const dc_wordvec *wv)
{
    return wv ? wv->source : DC_WORDVEC_AUTO;
}

const char *dc_wordvec_word(const dc_wordvec *wv, int i)
{
    return wv ? dc_vocab_word(wv->vocab, i) : NULL;
}

const float *dc_wordvec_vector(const dc_wordvec *wv, int i)
{
    if (!wv || i < 0 || i >= dc_vocab_size(wv->vocab))
        return NULL;
    return wv->vec + (size_t)i * (size_t)wv->dim;
}

int dc_wordvec_index(const dc_wordvec *wv, const char *word)
{
    return wv ? dc_vocab_find(wv->vocab, word) : -1;
}

int dc_wordvec_lookup(const dc_wordvec *wv, const char *word, float *out)
{
    int i = dc_wordvec_index(wv, word);

    if (!wv || !out)
        return 0;
    if (i < 0) {
        memset(out, 0, (size_t)wv->dim * sizeof *out);
        return 0;
    }
    memcpy(out, dc_wordvec_vector(wv, i), (size_t)wv->dim * sizeof *out);
    return 1;
}

/* ---- the "C" locale for numbers ---- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void make_c_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Switches this thread to the "C" locale; returns what to switch back to. */
static locale_t enter_c_locale(void)
{
    pthread_once(&c_locale_once, make_c_locale);
    return c_locale ? uselocale(c_locale) : (locale_t)0;
}

static void leave_c_locale(locale_t old)
{
    if (old)
        uselocale(old);
}

/* ---- reading text lines ---- */

/* An open vector file and the scratch space of its reader. */
typedef struct reader {
    FILE *fp;
    const char *path;
    char *line;        /* the current line, without its line break */
    size_t line_cap;
    size_t line_len;   /* its bytes, which exceed strlen if it holds a NUL */
    long lineno;       /* of the current line, from 1 */
    long offset;       /* binary: bytes consumed so far */
    char **tok;        /* [dim + 2] token pointers */
    float *vals;       /* [dim] */
} reader;

/* Reads the next line into r->line (line break removed). Returns 1, or 0 at
 * the end of the file; a read error is DC_ERR_IO in *st. */
static int next_line(reader *r, dc_status *st)
{
    ssize_t len = getline(&r->line, &r->line_cap, r->fp);

    if (len < 0) {
        if (ferror(r->fp))
            *st = dc_fail(DC_ERR_IO, "%s: read error after line %ld: %s", r->path,
                          r->lineno, strerror(errno));
        return 0;
    }
    r->lineno++;

    /* A byte-order mark would otherwise become part of the first word, which
     * then never matches a token. Only the file's first line can hold one. */
    if (r->lineno == 1 && len >= 3 && memcmp(r->line, "\xef\xbb\xbf", 3) == 0) {
        len -= 3;
        memmove(r->line, r->line + 3, (size_t)len + 1);
    }
    while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
        r->line[--len] = '\0';
    r->line_len = (size_t)len;
    return 1;
}

/* Splits s in place on spaces and tabs; stores up to `max` tokens, returns
 * how many there are. */
static int split(char *s, char **tok, int max)
{
    int n = 0;

    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            return n;
        if (n < max)
            tok[n] = s;
        n++;
        while (*s && *s != ' ' && *s != '\t')
            s++;
        if (*s)
            *s++ = '\0';
    }
}

/* Parses a whole token as a float: 0 ok, 1 not a number, 2 not finite (also
 * a value beyond the float range, which strtof turns into infinity). */
static int parse_float(const char *s, float *out)
{
    char *end;

    *out = strtof(s, &end);
    if (end == s || *end)
        return 1;
    if (!isfinite(*out))
        return 2;
    return 0;
}

/* Parses one "word v1 .. vD" line (already split into n tokens) into r->vals. */
static dc_status parse_entry(reader *r, int n, int dim)
{
    const char *word = r->tok[0];

    if (n - 1 != dim)
        return dc_fail(DC_ERR_FORMAT, "%s:%ld: word '%.*s' has %d values, expected %d",
                       r->path, r->lineno, QUOTE, word, n - 1, dim);
    for (int j = 0; j < dim; j++) {
        int bad = parse_float(r->tok[j + 1], &r->vals[j]);
        if (bad)
            return dc_fail(DC_ERR_FORMAT, "%s:%ld: value %d of word '%.*s' is '%.*s',"
                           " %s", r->path, r->lineno, j + 1, QUOTE, word, QUOTE,
                           r->tok[j + 1], bad == 1 ? "not a number"
                           : "not a finite float");
    }
    return DC_OK;
}

/* Adds the parsed entry of the current line. */
static dc_status add_line_entry(reader *r, dc_wordvec *wv)
{
    int added;
    dc_status st = dc_wordvec_add(wv, r->tok[0], r->vals, &added);

    if (st == DC_OK && !added && wv->duplicates == 1)
        wv->first_dup_at = r->lineno;
    return st;
}

/* Allocates the token and value scratch for `dim` values. */
static dc_status reader_scratch(reader *r, int dim)
{
    r->tok = dc_malloc(((size_t)dim + 2) * sizeof *r->tok, "line tokens");
    r->vals = dc_malloc((size_t)dim * sizeof *r->vals, "vector values");
    return r->tok && r->vals ? DC_OK : DC_ERR_NOMEM;
}

/* Reads the entry lines after the current one. `expect` is the header's word
 * count, or -1 (GloVe) for "until the end". Blank lines may only end the
 * file. */
static dc_status read_text_entries(reader *r, dc_wordvec *wv, long expect,
                                   long have)
{
    dc_status st = DC_OK;
    long blank_at = 0;

    while (st == DC_OK && next_line(r, &st)) {
        int n;

        if (strlen(r->line) != r->line_len)
            return dc_fail(DC_ERR_FORMAT, "%s:%ld: NUL byte in a text line", r->path,
                           r->lineno);
        n = split(r->line, r->tok, wv->dim + 2);
        if (n == 0) {
            blank_at = blank_at ? blank_at : r->lineno;
            continue;
        }
        if (blank_at)
            return dc_fail(DC_ERR_FORMAT, "%s:%ld: empty line between entries",
                           r->path, blank_at);
        if (have == expect || have >= MAX_WORDS)
            return dc_fail(DC_ERR_FORMAT, "%s:%ld: data after the %ld words %s",
                           r->path, r->lineno, have, expect >= 0
                           ? "the header promises" : "a table may hold");
        st = parse_entry(r, n, wv->dim);
        if (st == DC_OK)
            st = add_line_entry(r, wv);
        have++;
    }
    if (st == DC_OK && expect >= 0 && have < expect)
        return dc_fail(DC_ERR_FORMAT, "%s:%ld: truncated file: the header promises %ld"
                       " words, the file ends after %ld", r->path, r->lineno,
                       expect, have);
    return st;
}

/* ---- headers ---- */

/* Parses a whole token as a decimal integer into *v; 0 if it is not one. */
static int parse_long(const char *s, long *v)
{
    char *end;

    if (!(*s >= '0' && *s <= '9') && *s != '-' && *s != '+')
        return 0;
    errno = 0;
    *v = strtol(s, &end, 10);
    return end != s && !*end && errno == 0;
}

/* 1 if the (split) first line is two integers: a word2vec header. */
static int is_header(char **tok, int n, long *words, long *dim)
{
    return n == 2 && parse_long(tok[0], words) && parse_long(tok[1], dim);
}

static dc_status check_header(const reader *r, long words, long dim)
{
    if (words < 1 || words > MAX_WORDS || dim < 1 || dim > DC_WORDVEC_MAX_DIM)
        return dc_fail(DC_ERR_FORMAT, "%s:1: header says %ld words of %ld dimensions,"
                       " expected 1..%d words of 1..%d", r->path, words, dim,
                       MAX_WORDS, DC_WORDVEC_MAX_DIM);
    return DC_OK;
}

/* ---- binary entries ---- */

static float le_float(const unsigned char *b)
{
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
                 (uint32_t)b[3] << 24;
    float f;

    memcpy(&f, &u, sizeof f);
    return f;
}

/* Reads entry k's word (skipping the line breaks writers put before it) into
 * word[]; 0 if the file ended before it began. */
static dc_status read_bin_word(reader *r, long k, char *word, int *got)
{
    int c, len = 0;

    *got = 0;
    while ((c = getc_unlocked(r->fp)) == '\n' || c == '\r')
        r->offset++;
    if (c == EOF)
        return DC_OK;
    for (; c != ' '; c = getc_unlocked(r->fp)) {
        if (c == EOF)
            return dc_fail(DC_ERR_FORMAT, "%s: entry %ld: truncated file: it ends"
                           " inside the word at byte offset %ld", r->path, k + 1,
                           r->offset);
        if (c == '\0' || c == '\n' || c == '\r' || c == '\t' || len == MAX_WORD_BYTES)
            return dc_fail(DC_ERR_FORMAT, "%s: entry %ld at byte offset %ld: %s",
                           r->path, k + 1, r->offset, len == MAX_WORD_BYTES
                           ? "word longer than 4096 bytes"
                           : "NUL, tab or line break inside the word");
        word[len++] = (char)c;
        r->offset++;
    }
    r->offset++;
    word[len] = '\0';
    *got = len > 0;
    if (!*got)
        return dc_fail(DC_ERR_FORMAT, "%s: entry %ld at byte offset %ld: empty word",
                       r->path, k + 1, r->offset - 1);
    return DC_OK;
}

/* Reads entry k's vector into r->vals. */
static dc_status read_bin_vector(reader *r, long k, const char *word,
                                 unsigned char *raw, int dim)
{
    size_t want = 4 * (size_t)dim, got = fread(raw, 1, want, r->fp);

    if (got < want)
        return dc_fail(ferror(r->fp) ? DC_ERR_IO : DC_ERR_FORMAT,
                       "%s: entry %ld ('%.*s'): truncated file: %zu of %zu vector"
                       " bytes at byte offset %ld", r->path, k + 1, QUOTE, word, got,
                       want, r->offset);
    for (int j = 0; j < dim; j++) {
        r->vals[j] = le_float(raw + 4 * j);
        if (!isfinite(r->vals[j]))
            return dc_fail(DC_ERR_FORMAT, "%s: entry %ld ('%.*s'): value %d is not"
                           " finite", r->path, k + 1, QUOTE, word, j + 1);
    }
    r->offset += (long)want;
    return DC_OK;
}

/* After the last entry only line breaks and spaces may follow. */
static dc_status check_bin_end(reader *r, long words)
{
    int c;

    while ((c = getc_unlocked(r->fp)) == '\n' || c == '\r' || c == ' ')
        r->offset++;
    if (c != EOF)
        return dc_fail(DC_ERR_FORMAT, "%s: data after the %ld entries the header"
                       " promises, at byte offset %ld", r->path, words, r->offset);
    if (ferror(r->fp))
        return dc_fail(DC_ERR_IO, "%s: read error: %s", r->path, strerror(errno));
    return DC_OK;
}

static dc_status read_bin_entries(reader *r, dc_wordvec *wv, long words)
{
    char *word = dc_malloc(MAX_WORD_BYTES + 1, "a word");
    unsigned char *raw = dc_malloc(4 * (size_t)wv->dim, "a raw vector");
    dc_status st = word && raw ? DC_OK : DC_ERR_NOMEM;
    int got, added;

    for (long k = 0; st == DC_OK && k < words; k++) {
        st = read_bin_word(r, k, word, &got);
        if (st == DC_OK && !got)
            st = dc_fail(DC_ERR_FORMAT, "%s: truncated file: the header promises %ld"
                         " words, the file ends after %ld (byte offset %ld)",
                         r->path, words, k, r->offset);
        if (st == DC_OK)
            st = read_bin_vector(r, k, word, raw, wv->dim);
        if (st == DC_OK)
            st = dc_wordvec_add(wv, word, r->vals, &added);
        if (st == DC_OK && !added && wv->duplicates == 1)
            wv->first_dup_at = k + 1;
    }
    if (st == DC_OK)
        st = check_bin_end(r, words);
    free(word);
    free(raw);
    return st;
}

/* ---- format detection ---- */

/* 1 if the line after a header reads as text: valid UTF-8 without control
 * bytes, a word, then a number. A binary entry's float bytes fail this test
 * except by an extraordinary coincidence (then give the format explicitly). */
static int looks_like_text(char *line, size_t len)
{
    char *tok[2];
    float v;

    if (strlen(line) != len || dc_utf8_check(line, len) != len)
        return 0;
    for (const char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            return 0;
    return split(line, tok, 2) >= 2 && parse_float(tok[1], &v) == 0;
}

/* Chooses between word2vec text and binary by the line after the header, then
 * returns to where that line began. */
static dc_status detect_after_header(reader *r, dc_wordvec_format *fmt)
{
    long pos = ftell(r->fp);
    dc_status st = DC_OK;

    if (pos < 0)
        return dc_fail(DC_ERR_IO, "%s: cannot detect the format of a file that is not"
                       " seekable; give the format", r->path);
    *fmt = next_line(r, &st) && !looks_like_text(r->line, r->line_len) ? DC_WORDVEC_BINARY
                                                         : DC_WORDVEC_TEXT;
    if (st != DC_OK)
        return st;
    r->lineno = 1;
    if (fseek(r->fp, pos, SEEK_SET) != 0)
        return dc_fail(DC_ERR_IO, "%s: cannot seek: %s", r->path, strerror(errno));
    return DC_OK;
}

/* ---- loading ---- */

/* Tokens on a line, without changing it. */
static int count_tokens(const char *s)
{
    int n = 0;

    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            return n;
        n++;
        while (*s && *s != ' ' && *s != '\t')
            s++;
    }
}

/* 1 if `line` is a word2vec header "N D" (read into *words and *dim). */
static int header_of(const char *line, long *words, long *dim)
{
    char copy[64], *tok[3];

    if (strlen(line) >= sizeof copy)
        return 0;
    strcpy(copy, line);
    return is_header(tok, split(copy, tok, 3), words, dim);
}

/* Reads a file whose first line is a word2vec header. */
static dc_status load_w2v(reader *r, dc_wordvec_format fmt, dc_wordvec **out)
{
    long words, dim;
    dc_status st;

    if (!header_of(r->line, &words, &dim))
        return dc_fail(DC_ERR_FORMAT, "%s:1: expected a header 'N D' (two integers),"
                       " found '%.*s'", r->path, QUOTE, r->line);
    st = check_header(r, words, dim);
    if (st == DC_OK && fmt == DC_WORDVEC_AUTO)
        st = detect_after_header(r, &fmt);
    if (st == DC_OK && !(*out = dc_wordvec_new((int)dim)))
        st = DC_ERR_NOMEM;
    if (st == DC_OK)
        st = reader_scratch(r, (int)dim);
    if (st != DC_OK)
        return st;
    (*out)->source = fmt;
    r->offset = ftell(r->fp);
    if (fmt == DC_WORDVEC_BINARY)
        return read_bin_entries(r, *out, words);
    return read_text_entries(r, *out, words, 0);
}

/* Reads a GloVe file: its first line is the first entry and sets D. */
static dc_status load_glove(reader *r, int n, dc_wordvec **out)
{
    dc_status st;

    if (n < 2 || n - 1 > DC_WORDVEC_MAX_DIM)
        return dc_fail(DC_ERR_FORMAT, "%s:1: expected a word and 1..%d numbers, found"
                       " %d fields", r->path, DC_WORDVEC_MAX_DIM, n);
    *out = dc_wordvec_new(n - 1);
    if (!*out || reader_scratch(r, n - 1) != DC_OK)
        return DC_ERR_NOMEM;
    (*out)->source = DC_WORDVEC_GLOVE;

    split(r->line, r->tok, n);
    st = parse_entry(r, n, n - 1);
    if (st == DC_OK)
        st = add_line_entry(r, *out);
    return st == DC_OK ? read_text_entries(r, *out, -1, 1) : st;
}

static dc_status load_file(reader *r, dc_wordvec_format fmt, dc_wordvec **out)
{
    long words, dim;
    dc_status st = DC_OK;
    int n;

    if (!next_line(r, &st))
        return st != DC_OK ? st : dc_fail(DC_ERR_FORMAT, "%s: empty file, expected"
                                          " word vectors", r->path);
    if (strlen(r->line) != r->line_len)
        return dc_fail(DC_ERR_FORMAT, "%s:1: NUL byte in the first line", r->path);
    n = count_tokens(r->line);
    if (n == 0)
        return dc_fail(DC_ERR_FORMAT, "%s:1: empty first line", r->path);
    if (fmt == DC_WORDVEC_AUTO && !header_of(r->line, &words, &dim))
        fmt = DC_WORDVEC_GLOVE;
    if (fmt == DC_WORDVEC_GLOVE)
        return load_glove(r, n, out);
    return load_w2v(r, fmt, out);
}

static void warn_duplicates(const dc_wordvec *wv, const char *path)
{
    if (wv->duplicates == 0)
        return;
    dc_log(DC_LOG_WARN, "%s: %d repeated words ignored, the first vector of each"
           " kept (first repeat: '%s' at %s %ld)", path, wv->duplicates,
           wv->first_dup, wv->source == DC_WORDVEC_BINARY ? "entry" : "line",
           wv->first_dup_at);
}

dc_wordvec *dc_wordvec_load(const char *path, dc_wordvec_format format)
{
    reader r = {.path = path};
    dc_wordvec *wv = NULL;
    dc_status st;
    locale_t old;

    if (!path || format < DC_WORDVEC_AUTO || format > DC_WORDVEC_GLOVE)
        return dc_fail(DC_ERR_ARG, "dc_wordvec_load: %s", path ? "unknown format"
                       : "NULL path"), NULL;

    /* Before the open: opening a FIFO would block. */
    if (dc_check_regular_file(path) != DC_OK)
        return NULL;
    r.fp = fopen(path, "rb");
    if (!r.fp)
        return dc_fail(DC_ERR_IO, "%s: cannot open: %s", path, strerror(errno)), NULL;

    old = enter_c_locale();
    st = load_file(&r, format, &wv);
    leave_c_locale(old);

    fclose(r.fp);
    free(r.line);
    free(r.tok);
    free(r.vals);
    if (st != DC_OK) {
        dc_wordvec_free(wv);
        return NULL;
    }
    warn_duplicates(wv, path);
    return wv;
}

/* ---- saving ---- */

static void put_le_float(FILE *fp, float f)
{
    uint32_t u;
    unsigned char b[4];

    memcpy(&u, &f, sizeof u);
    b[0] = (unsigned char)u;
    b[1] = (unsigned char)(u >> 8);
    b[2] = (unsigned char)(u >> 16);
    b[3] = (unsigned char)(u >> 24);
    fwrite(b, 1, 4, fp);
}

/* Writes every entry; stdio errors are sticky and dc_atomic_commit sees them. */
static void write_entries(const dc_wordvec *wv, FILE *fp, dc_wordvec_format fmt)
{
    int n = dc_wordvec_count(wv);

    if (fmt != DC_WORDVEC_GLOVE)
        fprintf(fp, "%d %d\n", n, wv->dim);
    for (int i = 0; i < n; i++) {
        const float *v = dc_wordvec_vector(wv, i);

        fputs(dc_wordvec_word(wv, i), fp);
        if (fmt == DC_WORDVEC_BINARY) {
            fputc(' ', fp);
            for (int j = 0; j < wv->dim; j++)
                put_le_float(fp, v[j]);
        } else {
            for (int j = 0; j < wv->dim; j++)
                fprintf(fp, " %.9g", (double)v[j]);
        }
        fputc('\n', fp);
    }
}

dc_status dc_wordvec_save(const dc_wordvec *wv, const char *path,
                          dc_wordvec_format format)
{
    dc_atomic_file af;
    dc_status st;
    locale_t old;

    if (!wv || !path || format <= DC_WORDVEC_AUTO || format > DC_WORDVEC_GLOVE)
        return dc_fail(DC_ERR_ARG, "dc_wordvec_save: %s", !wv || !path
                       ? "NULL argument" : "format must be BINARY, TEXT or GLOVE");
    if (dc_wordvec_count(wv) == 0)
        return dc_fail(DC_ERR_ARG, "%s: no word vectors to save", path);
    st = dc_atomic_open(&af, path);
    if (st != DC_OK)
        return st;

    old = enter_c_locale();
    write_entries(wv, af.fp, format);
    leave_c_locale(old);
    return dc_atomic_commit(&af);
}

/* ---- coverage and batches ---- */

dc_status dc_wordvec_coverage(const dc_wordvec *wv, const dc_corpus *c,
                              dc_coverage *out)
{
    dc_vocab *types;

    if (!wv || !c || !out)
        return dc_fail(DC_ERR_ARG, "dc_wordvec_coverage: NULL argument");
    memset(out, 0, sizeof *out);
    types = dc_vocab_build(c, 1);
    if (!types)
        return DC_ERR_NOMEM;
    for (int id = 0; id < dc_vocab_size(types); id++) {
        int64_t count = dc_vocab_count(types, id);
        int found = dc_wordvec_index(wv, dc_vocab_word(types, id)) >= 0;

        out->types++;
        out->tokens += count;
        out->types_found += found;
        out->tokens_found += found ? count : 0;
    }
    if (out->tokens > 0) {
        out->token_share = (double)out->tokens_found / (double)out->tokens;
        out->type_share = (double)out->types_found / (double)out->types;
    }
    dc_vocab_free(types);
    return DC_OK;
}

static dc_status check_batch(const dc_wordvec *wv, const dc_corpus *c,
                             const int *idx, int b, int max_len,
                             const int *lengths)
{
    if (!wv || !c || !idx || !lengths)
        return dc_fail(DC_ERR_ARG, "dc_wordvec_batch: NULL argument");
    if (b < 1 || max_len < 0)
        return dc_fail(DC_ERR_ARG, "dc_wordvec_batch: b = %d and max_len = %d,"
                       " expected b >= 1 and max_len >= 0", b, max_len);
    for (int i = 0; i < b; i++)
        if (idx[i] < 0 || idx[i] >= c->n)
            return dc_fail(DC_ERR_ARG, "dc_wordvec_batch: idx[%d] = %d, expected"
                           " 0..%d", i, idx[i], c->n - 1);
    return DC_OK;
}

dc_tensor *dc_wordvec_batch(const dc_wordvec *wv, const dc_corpus *c,
                            const int *idx, int b, int max_len, int *lengths)
{
    int t_max = 1, d;
    dc_tensor *x;

    if (check_batch(wv, c, idx, b, max_len, lengths) != DC_OK)
        return NULL;

    /* An empty sentence still takes one (zero) step; see text.h. */
    for (int i = 0; i < b; i++) {
        int len = dc_corpus_len(c, idx[i]);
        lengths[i] = max_len > 0 && len > max_len ? max_len : len > 0 ? len : 1;
        t_max = lengths[i] > t_max ? lengths[i] : t_max;
    }
    d = wv->dim;
    x = dc_tensor_tmp(3, (int[]){b, t_max, d});

    /* The arena tensor starts zeroed: padding and unknown words stay zero. */
    for (int i = 0; i < b; i++) {
        char **tok = c->tok + c->start[idx[i]];
        int n_tok = dc_corpus_len(c, idx[i]);
        int len = n_tok < lengths[i] ? n_tok : lengths[i];
        for (int t = 0; t < len; t++) {
            const float *v = dc_wordvec_vector(wv, dc_wordvec_index(wv, tok[t]));
            if (v)
                memcpy(x->data + ((size_t)i * t_max + t) * d, v, (size_t)d * sizeof *v);
        }
    }
    return x;
}
