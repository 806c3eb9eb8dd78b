/* csv.c - the tweet-emotion CSV files: loading with libcsv, label encoding,
 * duplicate removal, subsets and the seeded validation split.
 *
 * The whole file is read into memory (the course files are about 1 MB) and
 * checked for UTF-8 and NUL bytes first, which can name the exact byte;
 * libcsv then parses it line by line, so that every row and every parse
 * error is tied to a line number (libcsv itself counts nothing). libcsv's
 * trimming of spaces around fields is switched off: the raw content is kept
 * byte for byte, as pandas keeps it.
 * Leaves out: other delimiters or quote characters, other encodings, writing
 * CSV. Cleaning and tokens are in clean.c. */
#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/io.h"
#include "deepc/text.h"

static const char *const label_names[DC_TWEET_CLASSES] = {
    "happiness", "neutral", "sadness",
};

#define VALID_LABELS "happiness, neutral, sadness"
/* The header's names, kept for a message about a missing column. */
#define HEADER_TEXT_MAX 200

const char *dc_tweet_label_name(int label)
{
    if (label < 0 || label >= DC_TWEET_CLASSES)
        return NULL;
    return label_names[label];
}

int dc_tweet_label_id(const char *name)
{
    for (int i = 0; name && i < DC_TWEET_CLASSES; i++)
        if (strcmp(name, label_names[i]) == 0)
            return i;
    return -1;
}

void dc_tweets_free(dc_tweets *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->n; i++)
        free(t->text[i]);
    free(t->text);
    free(t->label);
    free(t->line);
    free(t);
}

/* Room for at least `want` rows. */
static dc_status tweets_reserve(dc_tweets *t, int *cap, int want)
{
    int n = *cap ? *cap : 256;
    void *a, *b, *c;

    if (want <= *cap)
        return DC_OK;
    while (n < want)
        n = n > (1 << 29) ? want : 2 * n;
    a = realloc(t->label, (size_t)n * sizeof *t->label);
    if (a)
        t->label = a;
    b = realloc(t->text, (size_t)n * sizeof *t->text);
    if (b)
        t->text = b;
    c = realloc(t->line, (size_t)n * sizeof *t->line);
    if (c)
        t->line = c;
    if (!a || !b || !c)
        return dc_fail(DC_ERR_NOMEM, "out of memory: room for %d tweets", n);
    *cap = n;
    return DC_OK;
}

/* ---- reading and checking the bytes ---- */

static int line_of(const char *buf, size_t off)
{
    int line = 1;

    for (size_t i = 0; i < off; i++)
        line += buf[i] == '\n';
    return line;
}

/* Every byte must be UTF-8 and none NUL (a C string could not hold it). */
static dc_status check_bytes(const char *path, const char *buf, size_t len)
{
    size_t bad = dc_utf8_check(buf, len);
    const char *nul = memchr(buf, '\0', bad);

    if (nul)
        return dc_fail(DC_ERR_FORMAT, "%s:%d: NUL byte at byte offset %zu",
                       path, line_of(buf, (size_t)(nul - buf)), (size_t)(nul - buf));
    if (bad < len)
        return dc_fail(DC_ERR_FORMAT,
                       "%s:%d: invalid UTF-8 at byte offset %zu (byte 0x%02x)",
                       path, line_of(buf, bad), bad, (unsigned char)buf[bad]);
    return DC_OK;
}

/* ---- libcsv callbacks ---- */

/* What the callbacks share: the position, the header's columns, the row being
 * collected and the rows so far. `st` keeps the first failure; after it the
 * callbacks do nothing. */
typedef struct csv_ctx {
    const char *path;
    size_t base;     /* file offset of the first byte fed (after a BOM) */
    int line;        /* the line being fed, from 1 */
    int row_line;    /* the line where the current row started */
    int between;     /* no byte of the next row has been fed yet */
    int header_done;
    int col_label, col_text, ncols;
    char header_text[HEADER_TEXT_MAX];
    int field;       /* index of the next field in the current row */
    char *label, *text;
    dc_tweets *t;
    int cap, limit;
    dc_status st;
} csv_ctx;

static char *copy_field(const void *s, size_t len)
{
    char *p = dc_malloc(len + 1, "a CSV field");

    if (p) {
        memcpy(p, s, len);
        p[len] = '\0';
    }
    return p;
}

static void header_field(csv_ctx *x, const char *s, size_t len)
{
    size_t used = strlen(x->header_text);

    if (len == 7 && memcmp(s, "emotion", 7) == 0 && x->col_label < 0)
        x->col_label = x->field;
    if (len == 7 && memcmp(s, "content", 7) == 0 && x->col_text < 0)
        x->col_text = x->field;
    snprintf(x->header_text + used, sizeof x->header_text - used, "%s%.*s",
             x->field ? "," : "", (int)(len > 60 ? 60 : len), s);
}

static void on_field(void *s, size_t len, void *user)
{
    csv_ctx *x = user;
    char **slot = NULL;

    if (x->st != DC_OK)
        return;
    if (!x->header_done)
        header_field(x, s, len);
    else if (x->field == x->col_label)
        slot = &x->label;
    else if (x->field == x->col_text)
        slot = &x->text;
    if (slot && !(*slot = copy_field(s, len)))
        x->st = DC_ERR_NOMEM;
    x->field++;
}

static dc_status end_header(csv_ctx *x)
{
    const char *missing = x->col_label < 0 ? "emotion" : "content";

    if (x->col_label < 0 && x->col_text < 0)
        return dc_fail(DC_ERR_FORMAT,
                       "%s:%d: missing header: expected the columns emotion,content,"
                       " found '%s'", x->path, x->row_line, x->header_text);
    if (x->col_label < 0 || x->col_text < 0)
        return dc_fail(DC_ERR_FORMAT,
                       "%s:%d: header has no column '%s' (expected emotion,content,"
                       " found '%s')", x->path, x->row_line, missing,
                       x->header_text);
    x->ncols = x->field;
    x->header_done = 1;
    return DC_OK;
}

static dc_status end_row(csv_ctx *x)
{
    dc_tweets *t = x->t;
    int id;

    if (x->field != x->ncols)
        return dc_fail(DC_ERR_FORMAT, "%s:%d: row has %d fields, the header has %d",
                       x->path, x->row_line, x->field, x->ncols);
    id = dc_tweet_label_id(x->label);
    if (id < 0 && x->label[0] == '\0')
        return dc_fail(DC_ERR_FORMAT, "%s:%d: empty label, expected one of %s",
                       x->path, x->row_line, VALID_LABELS);
    if (id < 0)
        return dc_fail(DC_ERR_FORMAT, "%s:%d: unknown label '%.80s', expected one of %s",
                       x->path, x->row_line, x->label, VALID_LABELS);
    if (tweets_reserve(t, &x->cap, t->n + 1) != DC_OK)
        return DC_ERR_NOMEM;

    t->label[t->n] = id;
    t->text[t->n] = x->text;
    t->line[t->n] = x->row_line;
    t->n++;
    x->text = NULL;
    return DC_OK;
}

static void on_row(int c, void *user)
{
    csv_ctx *x = user;

    if (x->st != DC_OK)
        return;
    if (!x->header_done)
        x->st = end_header(x);
    else if (x->limit <= 0 || x->t->n < x->limit)
        x->st = end_row(x);
    free(x->label);
    free(x->text);
    x->label = x->text = NULL;
    x->field = 0;
    x->between = 1;
}

/* ---- the parse ---- */

static int is_blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

/* Feeds one line (with its LF) to libcsv. `off` is the line's byte offset. */
static dc_status feed_line(struct csv_parser *p, csv_ctx *x, const char *s,
                           size_t n, size_t off)
{
    size_t done;

    /* libcsv skips blank lines between rows, so they start no row. */
    if (x->between && !is_blank_line(s, n)) {
        x->row_line = x->line;
        x->between = 0;
    }
    done = csv_parse(p, s, n, on_field, on_row, x);
    if (x->st != DC_OK)
        return x->st;
    if (done < n && csv_error(p) == CSV_EPARSE)
        return dc_fail(DC_ERR_FORMAT,
                       "%s:%d: malformed quoting at byte offset %zu (a quote inside"
                       " an unquoted field, or text after a closing quote)",
                       x->path, x->line, x->base + off + done);
    if (done < n)
        return dc_fail(DC_ERR_NOMEM, "%s:%d: %s", x->path, x->line,
                       csv_strerror(csv_error(p)));
    return DC_OK;
}

static int no_space(unsigned char c)
{
    return 0;
}

/* Runs libcsv over buf[0..len-1] line by line, then ends the last row. */
static dc_status parse_rows(csv_ctx *x, const char *buf, size_t len)
{
    struct csv_parser p;
    dc_status st = DC_OK;
    size_t i = 0;

    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return dc_fail(DC_ERR_NOMEM, "%s: cannot set up the CSV parser", x->path);
    csv_set_space_func(&p, no_space);
    while (i < len && st == DC_OK && !(x->limit > 0 && x->t->n >= x->limit)) {
        const char *nl = memchr(buf + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (buf + i)) + 1 : len - i;

        st = feed_line(&p, x, buf + i, n, i);
        i += n;
        x->line++;
    }
    if (st == DC_OK && csv_fini(&p, on_field, on_row, x) != 0)
        st = dc_fail(DC_ERR_FORMAT,
                     "%s:%d: unterminated quoted field (the row starting there runs"
                     " to the end of the file)", x->path, x->row_line);
    if (st == DC_OK)
        st = x->st;
    csv_free(&p);
    return st;
}

/* 1 if the file holds nothing but line breaks, spaces and tabs. */
static int all_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != '\r' && s[i] != '\n' && s[i] != ' ' && s[i] != '\t')
            return 0;
    return 1;
}

static dc_status parse_file(csv_ctx *x, const char *buf, size_t len)
{
    size_t skip = 0;
    dc_status st = check_bytes(x->path, buf, len);

    if (st != DC_OK)
        return st;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        skip = 3;
    if (all_blank(buf + skip, len - skip))
        return dc_fail(DC_ERR_FORMAT,
                       "%s: empty file, expected a header emotion,content and rows",
                       x->path);

    /* The BOM is not fed to libcsv; offsets in messages still count it. */
    x->base = skip;
    st = parse_rows(x, buf + skip, len - skip);
    if (st == DC_OK && x->t->n == 0)
        st = dc_fail(DC_ERR_FORMAT, "%s: a header but no data rows", x->path);
    return st;
}

dc_tweets *dc_tweets_load(const char *path, int limit)
{
    csv_ctx x = {.path = path, .line = 1, .between = 1, .col_label = -1,
                 .col_text = -1, .limit = limit};
    char *buf;
    size_t len = 0;
    dc_status st;

    if (!path)
        return dc_fail(DC_ERR_ARG, "dc_tweets_load: path is NULL"), NULL;
    x.t = dc_calloc(1, sizeof *x.t, "tweets");
    if (!x.t)
        return NULL;
    st = dc_file_read(path, (unsigned char **)&buf, &len);
    if (st == DC_OK) {
        st = parse_file(&x, buf, len);
        free(buf);
    }
    free(x.label);
    free(x.text);
    if (st != DC_OK) {
        dc_tweets_free(x.t);
        return NULL;
    }
    return x.t;
}

/* ---- duplicates, subsets, split ---- */

/* A row as the duplicate search sorts it. */
typedef struct row_key {
    int label, index;
    const char *text;
} row_key;

/* By label, then text, then index, so the first of equal rows comes first. */
static int cmp_rows(const void *pa, const void *pb)
{
    const row_key *a = pa, *b = pb;
    int c = a->label - b->label;

    if (c == 0)
        c = strcmp(a->text, b->text);
    return c ? c : (a->index > b->index) - (a->index < b->index);
}

/* Compacts t to the rows not marked in drop[], keeping file order. */
static void drop_rows(dc_tweets *t, const char *drop)
{
    int kept = 0;

    for (int i = 0; i < t->n; i++) {
        if (drop[i]) {
            free(t->text[i]);
            continue;
        }
        t->label[kept] = t->label[i];
        t->text[kept] = t->text[i];
        t->line[kept] = t->line[i];
        kept++;
    }
    t->n = kept;
}

int dc_tweets_dedup(dc_tweets *t)
{
    row_key *keys;
    char *drop;
    int n0;

    if (!t || t->n < 2)
        return 0;
    keys = dc_malloc((size_t)t->n * sizeof *keys, "dedup keys");
    drop = dc_calloc((size_t)t->n, 1, "dedup marks");
    if (!keys || !drop) {
        free(keys);
        free(drop);
        return -1;
    }

    /* Equal rows end up next to each other, the first in the file leading. */
    for (int i = 0; i < t->n; i++)
        keys[i] = (row_key){t->label[i], i, t->text[i]};
    qsort(keys, (size_t)t->n, sizeof *keys, cmp_rows);
    for (int k = 1; k < t->n; k++)
        drop[keys[k].index] = keys[k].label == keys[k - 1].label &&
                              strcmp(keys[k].text, keys[k - 1].text) == 0;

    n0 = t->n;
    drop_rows(t, drop);
    free(keys);
    free(drop);
    return n0 - t->n;
}

dc_tweets *dc_tweets_subset(const dc_tweets *t, const int *idx, int k)
{
    dc_tweets *s;
    int cap = 0;

    if (!t || k < 0 || (k > 0 && !idx))
        return dc_fail(DC_ERR_ARG, "dc_tweets_subset: bad arguments (k=%d)", k), NULL;
    s = dc_calloc(1, sizeof *s, "tweet subset");
    if (!s || tweets_reserve(s, &cap, k > 0 ? k : 1) != DC_OK) {
        dc_tweets_free(s);
        return NULL;
    }
    for (int i = 0; i < k; i++) {
        if (idx[i] < 0 || idx[i] >= t->n) {
            dc_tweets_free(s);
            return dc_fail(DC_ERR_ARG, "dc_tweets_subset: idx[%d] = %d, expected 0..%d",
                           i, idx[i], t->n - 1), NULL;
        }
        s->text[i] = copy_field(t->text[idx[i]], strlen(t->text[idx[i]]));
        if (!s->text[i]) {
            dc_tweets_free(s);
            return NULL;
        }
        s->label[i] = t->label[idx[i]];
        s->line[i] = t->line[idx[i]];
        s->n = i + 1;
    }
    return s;
}

void dc_tweets_class_counts(const dc_tweets *t, int counts[DC_TWEET_CLASSES])
{
    for (int c = 0; c < DC_TWEET_CLASSES; c++)
        counts[c] = 0;
    for (int i = 0; t && i < t->n; i++)
        counts[t->label[i]]++;
}

/* Marks the validation rows in is_val[]: a seeded shuffle of the rows (of
 * each class, when stratifying) whose first round(fraction * n) are taken. */
static dc_status mark_val(const dc_tweets *t, double fraction, uint64_t seed,
                          int stratify, char *is_val)
{
    int *pool = dc_malloc((size_t)t->n * sizeof *pool, "split indices");
    dc_rng rng;

    if (!pool)
        return DC_ERR_NOMEM;
    dc_rng_seed(&rng, seed);
    for (int c = 0; c < (stratify ? DC_TWEET_CLASSES : 1); c++) {
        int m = 0, k;

        for (int i = 0; i < t->n; i++)
            if (!stratify || t->label[i] == c)
                pool[m++] = i;
        dc_rng_shuffle(&rng, pool, m);
        k = (int)(fraction * m + 0.5);
        for (int i = 0; i < k; i++)
            is_val[pool[i]] = 1;
    }
    free(pool);
    return DC_OK;
}

/* The indices i with is_val[i] == want, in order; returns their count. */
static int pick(const char *is_val, int n, int want, int *out)
{
    int k = 0;

    for (int i = 0; i < n; i++)
        if (is_val[i] == want)
            out[k++] = i;
    return k;
}

dc_status dc_tweets_split(const dc_tweets *t, double fraction, uint64_t seed,
                          int stratify, dc_tweets **train, dc_tweets **val)
{
    char *is_val;
    int *idx, nv;
    dc_status st;

    if (train)
        *train = NULL;
    if (val)
        *val = NULL;
    if (!t || !train || !val)
        return dc_fail(DC_ERR_ARG, "dc_tweets_split: NULL argument");
    if (!(fraction > 0.0 && fraction < 1.0))
        return dc_fail(DC_ERR_ARG, "dc_tweets_split: fraction %g, expected in (0, 1)",
                       fraction);
    is_val = dc_calloc((size_t)t->n + 1, 1, "split marks");
    idx = dc_malloc(((size_t)t->n + 1) * sizeof *idx, "split indices");
    st = is_val && idx ? mark_val(t, fraction, seed, stratify, is_val) : DC_ERR_NOMEM;

    nv = st == DC_OK ? pick(is_val, t->n, 1, idx) : 0;
    if (st == DC_OK && (nv == 0 || nv == t->n))
        st = dc_fail(DC_ERR_ARG,
                     "validation fraction %g of %d rows leaves %d for validation"
                     " and %d for training; both need at least one",
                     fraction, t->n, nv, t->n - nv);
    if (st == DC_OK && !(*val = dc_tweets_subset(t, idx, nv)))
        st = DC_ERR_NOMEM;
    if (st == DC_OK && !(*train = dc_tweets_subset(t, idx, pick(is_val, t->n, 0, idx))))
        st = DC_ERR_NOMEM;
    if (st != DC_OK) {
        dc_tweets_free(*val);
        *val = NULL;
    }
    free(is_val);
    free(idx);
    return st;
}
