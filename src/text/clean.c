/* clean.c - UTF-8 checking, the course's text cleaning, and tokenised corpora.
 *
 * Cleaning reproduces Python's re.sub(r'[^\w\s]', '', s).lower() code point
 * by code point (the exact rules and their limits are in text.h). Code points
 * up to U+00FF follow tables written here from Python 3's Unicode database;
 * above that, glibc's C.UTF-8 locale classifies and lower-cases. That locale
 * object is made once and used through the *_l functions, so the program's
 * own locale (setlocale) never changes the result.
 * Leaves out: Unicode normalisation, stemming, stop words. The vocabulary is
 * in vocab.c. */
#define _GNU_SOURCE
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "deepc/log.h"
#include "deepc/text.h"

/* ---- UTF-8 ---- */

/* Length of the valid sequence at s (n > 0 bytes left), or 0. */
static size_t seq_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len = c < 0x80 ? 1 : c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3
                                          : c < 0xF5 ? 4 : 0;

    if (len == 0 || len > n)
        return 0;
    for (size_t i = 1; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;

    /* The second byte's range rules out overlong forms and surrogates. */
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) ||
        (c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] > 0x8F))
        return 0;
    return len;
}

size_t dc_utf8_check(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < n) {
        size_t k = seq_len(u + i, n - i);
        if (k == 0)
            return i;
        i += k;
    }
    return n;
}

/* Decodes the (valid) sequence at *s and advances past it. */
static unsigned decode(const unsigned char **s)
{
    const unsigned char *p = *s;
    unsigned c = p[0];

    if (c < 0x80) {
        *s += 1;
        return c;
    }
    if (c < 0xE0) {
        *s += 2;
        return (c & 0x1F) << 6 | (p[1] & 0x3F);
    }
    if (c < 0xF0) {
        *s += 3;
        return (c & 0x0F) << 12 | (p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    }
    *s += 4;
    return (c & 0x07) << 18 | (p[1] & 0x3F) << 12 | (p[2] & 0x3F) << 6 |
           (p[3] & 0x3F);
}

static char *encode(char *o, unsigned c)
{
    if (c < 0x80) {
        *o++ = (char)c;
    } else if (c < 0x800) {
        *o++ = (char)(0xC0 | c >> 6);
        *o++ = (char)(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        *o++ = (char)(0xE0 | c >> 12);
        *o++ = (char)(0x80 | (c >> 6 & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    } else {
        *o++ = (char)(0xF0 | c >> 18);
        *o++ = (char)(0x80 | (c >> 12 & 0x3F));
        *o++ = (char)(0x80 | (c >> 6 & 0x3F));
        *o++ = (char)(0x80 | (c & 0x3F));
    }
    return o;
}

/* ---- character classes ---- */

static locale_t utf8_locale;
static pthread_once_t locale_once = PTHREAD_ONCE_INIT;

static void make_locale(void)
{
    utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    if (!utf8_locale)
        dc_log(DC_LOG_WARN, "text cleaning: no C.UTF-8 locale; code points above"
               " U+00FF all count as word characters and keep their case");
}

static locale_t get_locale(void)
{
    pthread_once(&locale_once, make_locale);
    return utf8_locale;
}

/* Python's str.isspace(), which is also what \s and str.split() use. */
static int is_space(unsigned c)
{
    if (c < 0x80)
        return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Python's \w (str.isalnum() or '_'), exact up to U+00FF. */
static int is_word(unsigned c)
{
    locale_t loc;

    if (c < 0x80)
        return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
               (c >= 'a' && c <= 'z') || c == '_';
    if (c < 0x100)
        return (c >= 0xC0 && c != 0xD7 && c != 0xF7) || c == 0xAA || c == 0xB2 ||
               c == 0xB3 || c == 0xB5 || c == 0xB9 || c == 0xBA ||
               (c >= 0xBC && c <= 0xBE);
    loc = get_locale();
    return loc ? iswalnum_l((wint_t)c, loc) != 0 : 1;
}

static unsigned to_lower(unsigned c)
{
    locale_t loc;

    if (c < 0x80)
        return c >= 'A' && c <= 'Z' ? c + 32 : c;
    if (c < 0x100)
        return c >= 0xC0 && c <= 0xDE && c != 0xD7 ? c + 32 : c;
    loc = get_locale();
    return loc ? (unsigned)towlower_l((wint_t)c, loc) : c;
}

/* ---- cleaning ---- */

dc_status dc_text_clean(const char *s, char **out)
{
    size_t n, bad;
    const unsigned char *p;
    char *o;

    if (out)
        *out = NULL;
    if (!s || !out)
        return dc_fail(DC_ERR_ARG, "dc_text_clean: NULL argument");
    n = strlen(s);
    bad = dc_utf8_check(s, n);
    if (bad < n)
        return dc_fail(DC_ERR_ARG, "dc_text_clean: invalid UTF-8 at byte %zu", bad);

    /* A lower-case form is at most 1.5 times its upper case's bytes (2 -> 3),
     * so twice the input always suffices. */
    *out = o = dc_malloc(2 * n + 1, "cleaned text");
    if (!o)
        return DC_ERR_NOMEM;
    for (p = (const unsigned char *)s; *p;) {
        unsigned c = decode(&p);
        if (is_space(c))
            o = encode(o, c);
        else if (is_word(c))
            o = encode(o, to_lower(c));
    }
    *o = '\0';
    return DC_OK;
}

/* ---- corpus ---- */

/* The corpus under construction: token bytes go to `pool`, their offsets to
 * `off` (pointers come at the end, as the pool moves while it grows). */
typedef struct builder {
    char *pool;
    size_t used, cap;
    size_t *off;
    size_t ntok, tcap;
} builder;

static dc_status grow(void **p, size_t *cap, size_t want, size_t elem)
{
    size_t n = *cap ? *cap : 1024;
    void *q;

    if (want <= *cap)
        return DC_OK;
    while (n < want)
        n *= 2;
    q = realloc(*p, n * elem);
    if (!q)
        return dc_fail(DC_ERR_NOMEM, "out of memory: %zu bytes for a corpus", n * elem);
    *p = q;
    *cap = n;
    return DC_OK;
}

/* Appends the tokens of cleaned text `s` (split on whitespace runs). */
static dc_status add_tokens(builder *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        const unsigned char *q = p;
        unsigned c = decode(&q);
        size_t len;

        if (is_space(c)) {
            p = q;
            continue;
        }

        /* A token runs to the next whitespace code point or the end. */
        for (q = p; *q;) {
            const unsigned char *r = q;
            if (is_space(decode(&r)))
                break;
            q = r;
        }
        len = (size_t)(q - p);
        if (grow((void **)&b->pool, &b->cap, b->used + len + 1, 1) != DC_OK ||
            grow((void **)&b->off, &b->tcap, b->ntok + 1, sizeof *b->off) != DC_OK)
            return DC_ERR_NOMEM;
        memcpy(b->pool + b->used, p, len);
        b->pool[b->used + len] = '\0';
        b->off[b->ntok++] = b->used;
        b->used += len + 1;
        p = q;
    }
    return DC_OK;
}

/* Cleans and tokenises every text into b; start[i] gets sentence i's first
 * token. */
static dc_status build(builder *b, const char *const *texts, int n, int *start)
{
    for (int i = 0; i < n; i++) {
        char *clean;
        dc_status st;

        start[i] = (int)b->ntok;
        if (!texts[i])
            return dc_fail(DC_ERR_ARG, "corpus: text %d is NULL", i);
        st = dc_text_clean(texts[i], &clean);
        if (st == DC_ERR_ARG)
            return dc_fail(DC_ERR_ARG, "corpus: text %d is not valid UTF-8", i);
        if (st != DC_OK)
            return st;
        st = add_tokens(b, clean);
        free(clean);
        if (st != DC_OK)
            return st;
        if (b->ntok > (size_t)(1 << 30))
            return dc_fail(DC_ERR_ARG, "corpus: over 2^30 tokens");
    }
    start[n] = (int)b->ntok;
    return DC_OK;
}

dc_corpus *dc_corpus_from_texts(const char *const *texts, int n)
{
    builder b = {0};
    dc_corpus *c;
    dc_status st;

    if (n < 0 || (n > 0 && !texts))
        return dc_fail(DC_ERR_ARG, "dc_corpus_from_texts: %d texts at %p", n,
                       (const void *)texts), NULL;
    c = dc_calloc(1, sizeof *c, "corpus");
    if (!c)
        return NULL;
    c->start = dc_malloc(((size_t)n + 1) * sizeof *c->start, "corpus sentences");
    st = c->start ? build(&b, texts, n, c->start) : DC_ERR_NOMEM;
    if (st == DC_OK)
        c->tok = dc_malloc((b.ntok ? b.ntok : 1) * sizeof *c->tok, "corpus tokens");

    c->n = n;
    c->pool = b.pool;
    if (st != DC_OK || !c->tok) {
        free(b.off);
        dc_corpus_free(c);
        return NULL;
    }
    for (size_t i = 0; i < b.ntok; i++)
        c->tok[i] = b.pool + b.off[i];
    free(b.off);
    return c;
}

dc_corpus *dc_corpus_from_tweets(const dc_tweets *t)
{
    if (!t)
        return dc_fail(DC_ERR_ARG, "dc_corpus_from_tweets: NULL tweets"), NULL;
    return dc_corpus_from_texts((const char *const *)t->text, t->n);
}

void dc_corpus_free(dc_corpus *c)
{
    if (!c)
        return;
    free(c->start);
    free(c->tok);
    free(c->pool);
    free(c);
}

int dc_corpus_len(const dc_corpus *c, int i)
{
    if (!c || i < 0 || i >= c->n)
        return 0;
    return c->start[i + 1] - c->start[i];
}
