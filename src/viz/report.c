/* report.c - the self-contained HTML report (dc_report_*) and base64 (base64.h).
 *
 * A report is one growable buffer of HTML body fragments; dc_report_write wraps it in a
 * page with a small inline style sheet and writes it through a temporary file renamed
 * into place (src/io/atomic.c). All text is HTML-escaped; images are read whole and
 * embedded as data:image/png;base64 URIs, so the page needs no other file. The adding
 * functions return nothing: the first failure (an allocation, a bad argument) is kept and
 * returned by dc_report_write, so a report is never written silently incomplete.
 * Leaves out: scripts, external style sheets, image formats other than PNG. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/io.h"
#include "deepc/log.h"
#include "deepc/viz.h"
#include "viz/base64.h"

#define MAX_IMAGE_BYTES (64L * 1024 * 1024)

struct dc_report {
    char *title;
    char *body;
    size_t len, cap;
    dc_status err;     /* first failure of an adding call, DC_OK if none */
    char err_msg[300];
};

/* ------------------------------------------------------------------------------------ */
/* base64                                                                               */
/* ------------------------------------------------------------------------------------ */

char *dc_base64_encode(const void *data, size_t n)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    size_t groups = n / 3 + (n % 3 != 0), o = 0;
    char *out;

    if (groups > (SIZE_MAX - 1) / 4) {
        dc_fail(DC_ERR_NOMEM, "base64: %zu bytes are too many to encode", n);
        return NULL;
    }
    out = dc_malloc(groups * 4 + 1, "base64 text");
    if (!out)
        return NULL;

    /* Each 3 bytes become 4 six-bit digits; a short last group is padded with '='. */
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;

        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = abc[v >> 18 & 63];
        out[o++] = abc[v >> 12 & 63];
        out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? abc[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* ------------------------------------------------------------------------------------ */
/* The buffer                                                                           */
/* ------------------------------------------------------------------------------------ */

/* Keeps the first failure; the message is the one dc_fail just recorded. */
static void keep_failure(dc_report *r, dc_status st)
{
    if (r->err != DC_OK)
        return;
    r->err = st;
    snprintf(r->err_msg, sizeof r->err_msg, "%s", dc_last_error());
}

static int grow(dc_report *r, size_t extra)
{
    size_t cap = r->cap ? r->cap : 4096;
    char *p;

    if (r->err != DC_OK)
        return 0;
    if (extra > SIZE_MAX / 2 - r->len) {
        keep_failure(r, dc_fail(DC_ERR_NOMEM, "dc_report: %zu more bytes overflow", extra));
        return 0;
    }
    if (r->len + extra + 1 <= r->cap)
        return 1;
    while (cap < r->len + extra + 1)
        cap *= 2;
    p = realloc(r->body, cap);
    if (!p) {
        keep_failure(r, dc_fail(DC_ERR_NOMEM, "out of memory: %zu bytes for a report", cap));
        return 0;
    }
    r->body = p;
    r->cap = cap;
    return 1;
}

static void put_n(dc_report *r, const char *s, size_t n)
{
    if (!grow(r, n))
        return;
    memcpy(r->body + r->len, s, n);
    r->len += n;
    r->body[r->len] = '\0';
}

static void put(dc_report *r, const char *s)
{
    put_n(r, s, strlen(s));
}

/* Appends s with the five characters that are special in HTML replaced. */
static void put_escaped(dc_report *r, const char *s)
{
    const char *run = s;

    for (; *s; s++) {
        const char *rep = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
                        : *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;

        if (!rep)
            continue;
        put_n(r, run, (size_t)(s - run));
        put(r, rep);
        run = s + 1;
    }
    put_n(r, run, (size_t)(s - run));
}

/* ------------------------------------------------------------------------------------ */
/* Building                                                                             */
/* ------------------------------------------------------------------------------------ */

dc_report *dc_report_new(const char *title)
{
    dc_report *r = dc_calloc(1, sizeof *r, "report");
    const char *t = title ? title : "deepc report";

    if (!r)
        return NULL;
    r->title = dc_malloc(strlen(t) + 1, "report title");
    if (!r->title) {
        free(r);
        return NULL;
    }
    memcpy(r->title, t, strlen(t) + 1);
    return r;
}

void dc_report_free(dc_report *r)
{
    if (!r)
        return;
    free(r->title);
    free(r->body);
    free(r);
}

void dc_report_heading(dc_report *r, const char *text)
{
    if (!r)
        return;
    put(r, "<h2>");
    put_escaped(r, text ? text : "");
    put(r, "</h2>\n");
}

void dc_report_text(dc_report *r, const char *fmt, ...)
{
    va_list ap, ap2;
    char *text;
    int n;

    if (!r)
        return;
    if (!fmt) {
        keep_failure(r, dc_fail(DC_ERR_ARG, "dc_report_text: fmt is NULL"));
        return;
    }
    va_start(ap, fmt);
    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    text = n >= 0 ? dc_malloc((size_t)n + 1, "report text") : NULL;
    if (text)
        vsnprintf(text, (size_t)n + 1, fmt, ap2);
    va_end(ap2);
    if (!text) {
        keep_failure(r, n < 0 ? dc_fail(DC_ERR_ARG, "dc_report_text: bad format \"%s\"", fmt)
                              : DC_ERR_NOMEM);
        return;
    }

    put(r, "<p>");
    put_escaped(r, text);
    put(r, "</p>\n");
    free(text);
}

/* A cell that is one number (optionally with a % sign) is right-aligned. */
static int is_number(const char *s)
{
    char *end;

    if (!s[0])
        return 0;
    strtod(s, &end);
    return end != s && (*end == '\0' || (end[0] == '%' && end[1] == '\0'));
}

static void put_row(dc_report *r, const char *const *cells, int cols, int header)
{
    put(r, "<tr>");
    for (int j = 0; j < cols; j++) {
        const char *c = cells[j] ? cells[j] : "";

        put(r, header ? "<th>" : is_number(c) ? "<td class=\"num\">" : "<td>");
        put_escaped(r, c);
        put(r, header ? "</th>" : "</td>");
    }
    put(r, "</tr>\n");
}

void dc_report_table(dc_report *r, const char *const *cells, int rows, int cols)
{
    if (!r)
        return;
    if (!cells || rows < 1 || cols < 1 || rows > INT_MAX / cols) {
        keep_failure(r, dc_fail(DC_ERR_ARG, "dc_report_table: cells=%p with %d rows and "
                                "%d columns, expected an array and at least 1 x 1",
                                (const void *)cells, rows, cols));
        return;
    }
    put(r, "<table>\n<thead>");
    put_row(r, cells, cols, 1);
    put(r, "</thead>\n<tbody>\n");
    for (int i = 1; i < rows; i++)
        put_row(r, cells + (size_t)i * cols, cols, 0);
    put(r, "</tbody>\n</table>\n");
}

/* Reads a whole PNG file; NULL with `why` filled in if it is missing, unreadable, too
 * large or not a PNG. */
void dc_report_link(dc_report *r, const char *href, const char *text)
{
    if (!r)
        return;
    if (!href || !text) {
        keep_failure(r, dc_fail(DC_ERR_ARG, "dc_report_link: href and text are required"));
        return;
    }
    put(r, "<p><a href=\"");
    put_escaped(r, href);
    put(r, "\">");
    put_escaped(r, text);
    put(r, "</a></p>\n");
}

static unsigned char *read_png_file(const char *path, size_t *n, char *why, size_t why_n)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    FILE *fp = fopen(path, "rb");
    unsigned char *data = NULL;
    long size = -1;

    if (!fp) {
        snprintf(why, why_n, "%s", strerror(errno));
        return NULL;
    }
    if (fseek(fp, 0, SEEK_END) == 0)
        size = ftell(fp);
    if (size < 8 || size > MAX_IMAGE_BYTES || fseek(fp, 0, SEEK_SET) != 0)
        snprintf(why, why_n, "size %ld bytes, expected a PNG of 8 to %ld bytes", size,
                 MAX_IMAGE_BYTES);
    else if (!(data = dc_malloc((size_t)size, "report image")))
        snprintf(why, why_n, "%s", dc_last_error());
    else if (fread(data, 1, (size_t)size, fp) != (size_t)size)
        snprintf(why, why_n, "read failed");
    else if (memcmp(data, sig, sizeof sig) != 0)
        snprintf(why, why_n, "not a PNG file (bad signature)");
    else
        why[0] = '\0';
    fclose(fp);
    if (why[0]) {
        free(data);
        return NULL;
    }
    *n = (size_t)size;
    return data;
}

static void put_missing(dc_report *r, const char *path, const char *why)
{
    dc_log(DC_LOG_WARN, "report: image %s left out: %s", path, why);
    put(r, "<p class=\"missing\">Image missing: ");
    put_escaped(r, path);
    put(r, " (");
    put_escaped(r, why);
    put(r, ")</p>\n");
}

void dc_report_image(dc_report *r, const char *png_path, const char *caption)
{
    char why[200];
    unsigned char *data;
    char *b64;
    size_t n;

    if (!r)
        return;
    if (!png_path) {
        keep_failure(r, dc_fail(DC_ERR_ARG, "dc_report_image: png_path is NULL"));
        return;
    }
    data = read_png_file(png_path, &n, why, sizeof why);
    if (!data) {
        put_missing(r, png_path, why);
        return;
    }
    b64 = dc_base64_encode(data, n);
    free(data);
    if (!b64) {
        keep_failure(r, DC_ERR_NOMEM);
        return;
    }

    put(r, "<figure><img src=\"data:image/png;base64,");
    put(r, b64);
    put(r, "\" alt=\"");
    put_escaped(r, caption ? caption : png_path);
    put(r, "\">");
    if (caption) {
        put(r, "<figcaption>");
        put_escaped(r, caption);
        put(r, "</figcaption>");
    }
    put(r, "</figure>\n");
    free(b64);
}

/* ------------------------------------------------------------------------------------ */
/* Writing                                                                              */
/* ------------------------------------------------------------------------------------ */

static const char STYLE[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',"
    "sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;"
    "background:#fff;line-height:1.5}\n"
    "h1{font-size:1.8em;border-bottom:2px solid #ddd;padding-bottom:.3em}\n"
    "h2{font-size:1.35em;margin-top:1.8em;border-bottom:1px solid #eee}\n"
    "p{white-space:pre-wrap}\n"
    "table{border-collapse:collapse;margin:1em 0;font-size:.95em}\n"
    "th,td{border:1px solid #ccc;padding:.3em .7em;text-align:left}\n"
    "th{background:#f3f3f3}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "tbody tr:nth-child(even){background:#fafafa}\n"
    "figure{margin:1.5em 0}\n"
    "img{max-width:100%;height:auto;border:1px solid #eee}\n"
    "figcaption{color:#555;font-size:.9em;margin-top:.3em}\n"
    ".missing{color:#a00}\n"
    "footer{margin-top:3em;color:#888;font-size:.85em}\n";

/* Head and title as one growable string, escaped with the same code as the body. */
static dc_report *page_head(const dc_report *r)
{
    dc_report *h = dc_report_new(r->title);

    if (!h)
        return NULL;
    put(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
           "<title>");
    put_escaped(h, r->title);
    put(h, "</title>\n<style>\n");
    put(h, STYLE);
    put(h, "</style>\n</head>\n<body>\n<h1>");
    put_escaped(h, r->title);
    put(h, "</h1>\n");
    return h;
}

dc_status dc_report_write(const dc_report *r, const char *path)
{
    static const char tail[] = "<footer>Made by deepc " DC_VERSION "</footer>\n"
                               "</body>\n</html>\n";
    dc_atomic_file af;
    dc_report *head;
    dc_status st;

    if (!r || !path || !path[0])
        return dc_fail(DC_ERR_ARG, "dc_report_write: report=%p path=%s, expected both",
                       (const void *)r, path ? path : "NULL");
    if (r->err != DC_OK)
        return dc_fail(r->err, "dc_report_write: %s not written: an earlier call failed: %s",
                       path, r->err_msg);
    head = page_head(r);
    if (!head || head->err != DC_OK) {
        st = head ? head->err : DC_ERR_NOMEM;
        dc_report_free(head);
        return st;
    }

    if ((st = dc_atomic_open(&af, path)) == DC_OK) {
        fwrite(head->body, 1, head->len, af.fp);
        if (r->len > 0)
            fwrite(r->body, 1, r->len, af.fp);
        fputs(tail, af.fp);
        st = dc_atomic_commit(&af); /* it checks the stream's error flag */
    }
    dc_report_free(head);
    return st;
}
