/* safetensors.c - saving and loading checkpoints in the safetensors format.
 *
 * Layout (see io.h): an 8-byte little-endian header length N, N bytes of JSON
 * padded with spaces to a multiple of 8 (as the reference implementation does),
 * then the raw little-endian tensor data. Saving writes the tensors in the
 * order given, contiguously from offset 0, through an atomic file (atomic.c).
 * Loading reads the whole file and validates every field before building a
 * tensor, so a hostile file gets a message that starts with its path, never a
 * crash. Leaves out: dtypes other than F32 (refused with a message naming the
 * tensor and dtype); memory-mapping (the whole file is read into memory once).
 * Limitation: tensors with a zero-sized dimension, or more than DC_MAX_DIMS
 * dimensions, are refused with DC_ERR_FORMAT, since a dc_tensor cannot hold
 * them. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "deepc/io.h"

/* The reference implementation refuses headers above 100 MB; so do we, which
 * also bounds the memory a hostile header length can make us parse. */
#define MAX_HEADER_BYTES 100000000ull
/* Offsets are printed by cJSON through a double; above 2^53 they would lose
 * digits. */
#define MAX_DATA_BYTES (1ull << 53)
#define METADATA_KEY "__metadata__"
#define CHUNK_FLOATS 4096

struct dc_safetensors {
    char *path; /* the file it came from, for messages */
    int n;
    char **names; /* n names, in header order */
    dc_tensor **tensors;
    int n_meta;
    char **meta; /* 2 * n_meta strings: key, value, key, value, ... */
};

/* ---- shared helpers ---- */

/* Messages of dc_malloc ("out of memory: ...") do not name the file; every
 * message of this file starts with its path, so add it where it is missing. */
static void prefix_path(const char *path)
{
    char why[768];

    if (strncmp(dc_last_error(), path, strlen(path)) == 0)
        return;
    snprintf(why, sizeof why, "%s", dc_last_error());
    dc_fail(DC_ERR_NOMEM, "%s: %s", path, why);
}

static char *dup_str(const char *s, const char *what)
{
    size_t n = strlen(s) + 1;
    char *d = dc_malloc(n, what);

    if (d)
        memcpy(d, s, n);
    return d;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first name that occurs twice in `names` (sorted order), or NULL. Sorting
 * a copy keeps this O(n log n) for checkpoints with thousands of tensors.
 * *nomem is set if the copy cannot be allocated. */
static const char *find_duplicate(const char *const *names, int n, int *nomem)
{
    const char **sorted;
    const char *dup = NULL;

    *nomem = 0;
    if (n < 2)
        return NULL;
    sorted = dc_malloc((size_t)n * sizeof *sorted, "safetensors name check");
    if (!sorted) {
        *nomem = 1;
        return NULL;
    }
    memcpy(sorted, names, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_str_ptr);
    for (int i = 1; i < n && !dup; i++)
        if (strcmp(sorted[i - 1], sorted[i]) == 0)
            dup = sorted[i];
    free(sorted);
    return dup;
}

/* ---- saving ---- */

static dc_status check_tensors(const char *path, const dc_named_tensor *tensors,
                               int n, uint64_t *total)
{
    *total = 0;
    if (n < 0 || (n > 0 && !tensors))
        return dc_fail(DC_ERR_ARG,
                       "%s: safetensors save: %d tensors, expected >= 0", path,
                       n);
    for (int i = 0; i < n; i++) {
        const char *name = tensors[i].name;
        const dc_tensor *t = tensors[i].tensor;

        if (!name || !name[0] || strcmp(name, METADATA_KEY) == 0)
            return dc_fail(DC_ERR_ARG,
                           "%s: safetensors save: tensor %d has name \"%s\", "
                           "expected a non-empty name other than " METADATA_KEY,
                           path, i, name ? name : "(null)");
        if (!t || !t->data)
            return dc_fail(DC_ERR_ARG,
                           "%s: safetensors save: tensor \"%s\" is NULL", path,
                           name);
        *total += (uint64_t)t->size * sizeof(float);
    }
    if (*total > MAX_DATA_BYTES)
        return dc_fail(
            DC_ERR_ARG,
            "%s: safetensors save: %llu bytes of data, at most %llu supported",
            path, (unsigned long long)*total,
            (unsigned long long)MAX_DATA_BYTES);
    return DC_OK;
}

static dc_status check_meta(const char *path, const char *const *meta,
                            int n_meta)
{
    if (n_meta < 0 || (n_meta > 0 && !meta))
        return dc_fail(DC_ERR_ARG,
                       "%s: safetensors save: %d metadata pairs, expected >= 0",
                       path, n_meta);
    for (int i = 0; i < 2 * n_meta; i++)
        if (!meta[i])
            return dc_fail(DC_ERR_ARG,
                           "%s: safetensors save: metadata %s %d is NULL", path,
                           i % 2 ? "value" : "key", i / 2);
    return DC_OK;
}

/* Names of tensors and keys of metadata must each be unique: a reader would
 * silently keep only one of two equal keys. */
static dc_status check_unique(const char *path, const dc_named_tensor *tensors,
                              int n, const char *const *meta, int n_meta)
{
    const char **names;
    const char *dup;
    dc_status st = DC_OK;
    int nomem;

    names = dc_malloc((size_t)(n > n_meta ? n : n_meta) * sizeof *names,
                      "name check");
    if (!names)
        return DC_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        names[i] = tensors[i].name;
    dup = find_duplicate(names, n, &nomem);
    if (dup) {
        st = dc_fail(DC_ERR_ARG,
                     "%s: safetensors save: duplicate tensor name \"%s\"", path,
                     dup);
    } else if (!nomem) {
        for (int i = 0; i < n_meta; i++)
            names[i] = meta[2 * i];
        dup = find_duplicate(names, n_meta, &nomem);
        if (dup)
            st = dc_fail(DC_ERR_ARG,
                         "%s: safetensors save: duplicate metadata key \"%s\"",
                         path, dup);
    }
    free(names);
    return nomem ? DC_ERR_NOMEM : st;
}

/* {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}, fields in the
 * reference implementation's order. Offsets are exact as doubles
 * (MAX_DATA_BYTES). */
static cJSON *tensor_entry(const dc_tensor *t, uint64_t begin)
{
    double off[2] = {(double)begin,
                     (double)(begin + (uint64_t)t->size * sizeof(float))};
    cJSON *e = cJSON_CreateObject();

    if (!e || !cJSON_AddStringToObject(e, "dtype", "F32") ||
        !cJSON_AddItemToObject(e, "shape",
                               cJSON_CreateIntArray(t->shape, t->ndim)) ||
        !cJSON_AddItemToObject(e, "data_offsets",
                               cJSON_CreateDoubleArray(off, 2))) {
        cJSON_Delete(e);
        return NULL;
    }
    return e;
}

static cJSON *meta_object(const char *const *meta, int n_meta)
{
    cJSON *m = cJSON_CreateObject();

    for (int i = 0; m && i < n_meta; i++) {
        if (!cJSON_AddStringToObject(m, meta[2 * i], meta[2 * i + 1])) {
            cJSON_Delete(m);
            return NULL;
        }
    }
    return m;
}

/* The compact JSON header (owned by the caller, release with cJSON_free), or
 * NULL on a failed allocation. */
static char *build_header(const dc_named_tensor *tensors, int n,
                          const char *const *meta, int n_meta)
{
    cJSON *root = cJSON_CreateObject();
    uint64_t offset = 0;
    char *text = NULL;

    if (!root)
        return NULL;
    if (n_meta > 0) {
        cJSON *m = meta_object(meta, n_meta);

        if (!m)
            goto done;
        cJSON_AddItemToObject(root, METADATA_KEY, m);
    }
    for (int i = 0; i < n; i++) {
        cJSON *e = tensor_entry(tensors[i].tensor, offset);

        if (!e)
            goto done;
        cJSON_AddItemToObject(root, tensors[i].name, e);
        offset += (uint64_t)tensors[i].tensor->size * sizeof(float);
    }
    text = cJSON_PrintUnformatted(root);

done:
    cJSON_Delete(root);
    return text;
}

/* Writes n floats as little-endian bytes whatever the host's byte order, a
 * chunk at a time so no second copy of a large tensor is needed. */
static void write_floats_le(FILE *fp, const float *x, size_t n)
{
    unsigned char buf[CHUNK_FLOATS * 4];

    while (n > 0) {
        size_t m = n < CHUNK_FLOATS ? n : CHUNK_FLOATS;

        for (size_t i = 0; i < m; i++) {
            uint32_t u;

            memcpy(&u, &x[i], 4);
            buf[4 * i] = (unsigned char)u;
            buf[4 * i + 1] = (unsigned char)(u >> 8);
            buf[4 * i + 2] = (unsigned char)(u >> 16);
            buf[4 * i + 3] = (unsigned char)(u >> 24);
        }
        if (fwrite(buf, 4, m, fp) != m)
            return; /* the stream's error flag is checked by dc_atomic_commit */
        x += m;
        n -= m;
    }
}

static void write_header(FILE *fp, const char *json)
{
    size_t len = strlen(json);
    size_t pad = (8 - len % 8) % 8;
    uint64_t n = len + pad;
    unsigned char b[8];

    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(n >> (8 * i));
    fwrite(b, 1, 8, fp);
    fwrite(json, 1, len, fp);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', fp);
}

dc_status dc_safetensors_save(const char *path, const dc_named_tensor *tensors,
                              int n, const char *const *meta, int n_meta)
{
    dc_atomic_file af;
    uint64_t total;
    dc_status st;
    char *json;

    if (!path)
        return dc_fail(DC_ERR_ARG, "safetensors save: path is NULL");
    if ((st = check_tensors(path, tensors, n, &total)) != DC_OK ||
        (st = check_meta(path, meta, n_meta)) != DC_OK ||
        (st = check_unique(path, tensors, n, meta, n_meta)) != DC_OK) {
        prefix_path(path);
        return st;
    }

    json = build_header(tensors, n, meta, n_meta);
    if (!json)
        return dc_fail(DC_ERR_NOMEM,
                       "%s: out of memory building the safetensors header",
                       path);
    st = dc_atomic_open(&af, path);
    if (st == DC_OK) {
        write_header(af.fp, json);
        for (int i = 0; i < n; i++)
            write_floats_le(af.fp, tensors[i].tensor->data,
                            tensors[i].tensor->size);
        st = dc_atomic_commit(&af);
    }
    cJSON_free(json);
    return st;
}

/* ---- loading: the file and its JSON ---- */

static dc_status read_whole_file(const char *path, unsigned char **buf,
                                 size_t *size)
{
    struct stat sb;
    FILE *fp;

    /* Before the open, which would block on a FIFO; the fstat after it still
     * catches a file swapped in between. */
    *buf = NULL;
    if (dc_check_regular_file(path) != DC_OK)
        return DC_ERR_IO;
    fp = fopen(path, "rb");
    if (!fp)
        return dc_fail(DC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fileno(fp), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(fp);
        return dc_fail(DC_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)sb.st_size > SIZE_MAX) {
        fclose(fp);
        return dc_fail(DC_ERR_IO, "%s: %lld bytes do not fit in memory", path,
                       (long long)sb.st_size);
    }
    *size = (size_t)sb.st_size;
    *buf = dc_malloc(*size, "safetensors file");
    if (!*buf) {
        fclose(fp);
        return dc_fail(DC_ERR_NOMEM, "%s: out of memory reading %zu bytes",
                       path, *size);
    }
    if (fread(*buf, 1, *size, fp) != *size) {
        fclose(fp);
        free(*buf);
        *buf = NULL;
        return dc_fail(DC_ERR_IO, "%s: read fewer than its %zu bytes", path,
                       *size);
    }
    fclose(fp);
    return DC_OK;
}

/* Checks the 8-byte length against the file's size; sets *hlen. Subtracting
 * before comparing keeps the arithmetic free of overflow for any length. */
static dc_status check_layout(const char *path, const unsigned char *buf,
                              size_t size, size_t *hlen)
{
    uint64_t n = 0;

    if (size < 8)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: file is %zu bytes, shorter than the 8-byte "
                       "safetensors header length",
                       path, size);
    for (int i = 7; i >= 0; i--)
        n = (n << 8) | buf[i];
    if (n > MAX_HEADER_BYTES)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: header length %llu exceeds the limit of %llu bytes",
                       path, (unsigned long long)n,
                       (unsigned long long)MAX_HEADER_BYTES);
    if (n > size - 8)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: header length %llu exceeds the %zu bytes after the "
                       "length field (file truncated?)",
                       path, (unsigned long long)n, size - 8);
    *hlen = (size_t)n;
    return DC_OK;
}

static int is_json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Parses the header; only whitespace (the padding) may follow the JSON value. A
 * copy with a terminating NUL keeps cJSON from reading past the header whatever
 * it holds. */
static cJSON *parse_header(const char *path, const unsigned char *hdr,
                           size_t hlen)
{
    const unsigned char *nul = memchr(hdr, '\0', hlen);
    const char *end = NULL;
    char *text;
    cJSON *root;

    /* cJSON would take a NUL inside a string for its end, silently shortening a name. */
    if (nul) {
        dc_fail(DC_ERR_FORMAT, "%s: header holds a NUL byte at byte %td of %zu, expected "
                "JSON text", path, nul - hdr, hlen);
        return NULL;
    }
    if (!(text = dc_malloc(hlen + 1, "safetensors header")))
        return NULL;
    memcpy(text, hdr, hlen);
    text[hlen] = '\0';
    root = cJSON_ParseWithLengthOpts(text, hlen, &end, 0);
    if (!root) {
        dc_fail(DC_ERR_FORMAT,
                "%s: header is not valid JSON (error at byte %td of %zu)", path,
                end ? end - text : (ptrdiff_t)0, hlen);
    } else if (!cJSON_IsObject(root)) {
        dc_fail(DC_ERR_FORMAT, "%s: header is not a JSON object", path);
        cJSON_Delete(root);
        root = NULL;
    } else {
        while (end < text + hlen && is_json_space(*end))
            end++;
        if (end != text + hlen) {
            dc_fail(
                DC_ERR_FORMAT,
                "%s: header has data after its JSON object at byte %td of %zu",
                path, end - text, hlen);
            cJSON_Delete(root);
            root = NULL;
        }
    }
    free(text);
    return root;
}

/* ---- loading: one tensor entry ---- */

/* What one header entry says, checked against the data size. */
typedef struct entry {
    const char *name; /* borrowed from the cJSON tree */
    int ndim;
    int shape[DC_MAX_DIMS];
    uint64_t begin, end;
} entry;

/* A JSON number that is a non-negative integer not above `max`, into *v. The
 * bound on the double comes first so the conversion to an integer is always
 * defined. */
static int json_uint(const cJSON *item, uint64_t max, uint64_t *v)
{
    double d;

    if (!cJSON_IsNumber(item))
        return 0;
    d = item->valuedouble;
    if (!(d >= 0.0) || d > 9.0e18 || d != (double)(uint64_t)d)
        return 0;
    *v = (uint64_t)d;
    return *v <= max;
}

static dc_status parse_dtype(const char *path, const cJSON *e, const char *name)
{
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");

    if (!cJSON_IsString(dt))
        return dc_fail(DC_ERR_FORMAT,
                       "%s: tensor \"%s\": \"dtype\" missing or not a string",
                       path, name);
    if (strcmp(dt->valuestring, "F32") != 0)
        return dc_fail(
            DC_ERR_FORMAT,
            "%s: tensor \"%s\": dtype %s not supported, expected F32", path,
            name, dt->valuestring);
    return DC_OK;
}

static dc_status parse_shape(const char *path, const cJSON *e, entry *en)
{
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *d;
    int i = 0;

    if (!cJSON_IsArray(sh))
        return dc_fail(DC_ERR_FORMAT,
                       "%s: tensor \"%s\": \"shape\" missing or not an array",
                       path, en->name);
    if (cJSON_GetArraySize(sh) > DC_MAX_DIMS)
        return dc_fail(
            DC_ERR_FORMAT,
            "%s: tensor \"%s\": shape has %d dimensions, at most %d supported",
            path, en->name, cJSON_GetArraySize(sh), DC_MAX_DIMS);
    cJSON_ArrayForEach(d, sh) {
        uint64_t v;

        if (!json_uint(d, INT32_MAX, &v))
            return dc_fail(DC_ERR_FORMAT,
                           "%s: tensor \"%s\": shape entry %d is %s, expected "
                           "an integer in [1, %d]",
                           path, en->name, i,
                           cJSON_IsNumber(d) ? "out of range or not an integer"
                                             : "not a number",
                           INT32_MAX);
        if (v == 0)
            return dc_fail(DC_ERR_FORMAT,
                           "%s: tensor \"%s\": shape entry %d is 0; empty "
                           "tensors are not supported",
                           path, en->name, i);
        en->shape[i++] = (int)v;
    }
    en->ndim = i;
    return DC_OK;
}

static dc_status parse_offsets(const char *path, const cJSON *e,
                               uint64_t data_len, entry *en)
{
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");

    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: tensor \"%s\": \"data_offsets\" missing or not an "
                       "array of 2 integers",
                       path, en->name);
    if (!json_uint(off->child, UINT64_MAX, &en->begin) ||
        !json_uint(off->child->next, UINT64_MAX, &en->end))
        return dc_fail(
            DC_ERR_FORMAT,
            "%s: tensor \"%s\": data_offsets must be non-negative integers",
            path, en->name);
    if (en->end < en->begin)
        return dc_fail(
            DC_ERR_FORMAT,
            "%s: tensor \"%s\": data_offsets [%llu,%llu] end before they begin",
            path, en->name, (unsigned long long)en->begin,
            (unsigned long long)en->end);
    if (en->end > data_len)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: tensor \"%s\": data_offsets [%llu,%llu] run past "
                       "the end of the %llu bytes of data",
                       path, en->name, (unsigned long long)en->begin,
                       (unsigned long long)en->end,
                       (unsigned long long)data_len);
    return DC_OK;
}

/* shape product * 4 must equal end - begin; the product is built with an
 * overflow check, since five dimensions of up to 2^31 overflow 64 bits. */
static dc_status check_size(const char *path, const entry *en)
{
    uint64_t need = sizeof(float);
    char shape[96];
    size_t used = 0;

    for (int i = 0; i < en->ndim; i++) {
        uint64_t d = (uint64_t)en->shape[i];

        need = need > UINT64_MAX / d ? UINT64_MAX : need * d;
        used += (size_t)snprintf(shape + used, sizeof shape - used,
                                 i ? ",%d" : "%d", en->shape[i]);
    }
    shape[used] = '\0';
    if (need != en->end - en->begin)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: tensor \"%s\": shape [%s] needs %llu bytes but "
                       "data_offsets [%llu,%llu] span %llu",
                       path, en->name, shape, (unsigned long long)need,
                       (unsigned long long)en->begin,
                       (unsigned long long)en->end,
                       (unsigned long long)(en->end - en->begin));
    return DC_OK;
}

static dc_status parse_entry(const char *path, const cJSON *e,
                             uint64_t data_len, entry *en)
{
    dc_status st;

    en->name = e->string;
    if (!cJSON_IsObject(e))
        return dc_fail(DC_ERR_FORMAT,
                       "%s: tensor \"%s\": entry is not a JSON object", path,
                       en->name);
    if ((st = parse_dtype(path, e, en->name)) != DC_OK ||
        (st = parse_shape(path, e, en)) != DC_OK ||
        (st = parse_offsets(path, e, data_len, en)) != DC_OK)
        return st;
    return check_size(path, en);
}

/* ---- loading: the whole table ---- */

static int cmp_begin(const void *a, const void *b)
{
    const entry *x = a, *y = b;

    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* The reference implementation requires the tensors to tile the data buffer exactly: no
 * overlap, no gap and nothing after the last one. Bytes that no tensor claims are a sign
 * of a damaged or foreign file, so they are refused too. */
static dc_status check_tiling(const char *path, const entry *s, int n,
                              uint64_t data_len)
{
    uint64_t at = 0;

    for (int i = 0; i < n; i++) {
        if (s[i].begin < at)
            return dc_fail(
                DC_ERR_FORMAT,
                "%s: tensors \"%s\" [%llu,%llu] and \"%s\" [%llu,%llu] overlap",
                path, s[i - 1].name, (unsigned long long)s[i - 1].begin,
                (unsigned long long)s[i - 1].end, s[i].name,
                (unsigned long long)s[i].begin, (unsigned long long)s[i].end);
        if (s[i].begin > at)
            return dc_fail(DC_ERR_FORMAT,
                           "%s: data bytes [%llu,%llu] before tensor \"%s\" belong to "
                           "no tensor", path, (unsigned long long)at,
                           (unsigned long long)s[i].begin, s[i].name);
        at = s[i].end;
    }
    if (at != data_len)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: %llu bytes after the last tensor's data (byte %llu of the "
                       "data section) belong to no tensor", path,
                       (unsigned long long)(data_len - at), (unsigned long long)at);
    return DC_OK;
}

/* Checks the tensors' byte ranges in data order, on a sorted copy. */
static dc_status check_offsets(const char *path, const entry *ens, int n,
                               uint64_t data_len)
{
    entry *s;
    dc_status st;

    s = dc_malloc((size_t)(n ? n : 1) * sizeof *s, "safetensors offset check");
    if (!s)
        return DC_ERR_NOMEM;
    memcpy(s, ens, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_begin);
    st = check_tiling(path, s, n, data_len);
    free(s);
    return st;
}

static dc_status check_names(const char *path, const entry *ens, int n)
{
    const char **names =
        dc_malloc((size_t)(n ? n : 1) * sizeof *names, "name check");
    const char *dup;
    int nomem;

    if (!names)
        return DC_ERR_NOMEM;
    for (int i = 0; i < n; i++)
        names[i] = ens[i].name;
    dup = find_duplicate(names, n, &nomem);
    if (dup)
        dc_fail(DC_ERR_FORMAT, "%s: duplicate tensor name \"%s\"", path, dup);
    free(names);
    return nomem ? DC_ERR_NOMEM : dup ? DC_ERR_FORMAT : DC_OK;
}

static dc_status parse_metadata(const char *path, const cJSON *m,
                                dc_safetensors *st)
{
    const cJSON *kv;
    const char **keys;
    const char *dup;
    int i = 0, nomem;

    if (st->meta)
        return dc_fail(DC_ERR_FORMAT, "%s: duplicate \"" METADATA_KEY "\"",
                       path);
    if (!cJSON_IsObject(m))
        return dc_fail(DC_ERR_FORMAT,
                       "%s: \"" METADATA_KEY "\" is not a JSON object", path);
    st->meta = dc_calloc(2 * (size_t)cJSON_GetArraySize(m) + 1,
                         sizeof *st->meta, "safetensors metadata");
    if (!st->meta)
        return DC_ERR_NOMEM;
    cJSON_ArrayForEach(kv, m) {
        if (!cJSON_IsString(kv))
            return dc_fail(DC_ERR_FORMAT, "%s: metadata \"%s\" is not a string",
                           path, kv->string);
        st->meta[2 * i] = dup_str(kv->string, "metadata key");
        st->meta[2 * i + 1] = dup_str(kv->valuestring, "metadata value");
        st->n_meta = ++i;
        if (!st->meta[2 * i - 2] || !st->meta[2 * i - 1])
            return DC_ERR_NOMEM;
    }

    /* Keys sit at even places; gather them to look for repeats. */
    keys = dc_malloc((size_t)(i ? i : 1) * sizeof *keys, "metadata key check");
    if (!keys)
        return DC_ERR_NOMEM;
    for (int k = 0; k < i; k++)
        keys[k] = st->meta[2 * k];
    dup = find_duplicate(keys, i, &nomem);
    if (dup)
        dc_fail(DC_ERR_FORMAT, "%s: duplicate metadata key \"%s\"", path, dup);
    free(keys);
    return nomem ? DC_ERR_NOMEM : dup ? DC_ERR_FORMAT : DC_OK;
}

/* Decodes little-endian floats; `src` may be unaligned. */
static void read_floats_le(float *dst, const unsigned char *src, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const unsigned char *b = src + 4 * i;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 |
                     (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;

        memcpy(&dst[i], &u, 4);
    }
}

static dc_status make_tensors(dc_safetensors *st, const entry *ens,
                              const unsigned char *data)
{
    st->names =
        dc_calloc((size_t)st->n + 1, sizeof *st->names, "safetensors names");
    st->tensors = dc_calloc((size_t)st->n + 1, sizeof *st->tensors,
                            "safetensors tensors");
    if (!st->names || !st->tensors)
        return DC_ERR_NOMEM;
    for (int i = 0; i < st->n; i++) {
        dc_tensor *t = dc_tensor_new(ens[i].ndim, ens[i].shape);

        st->tensors[i] = t;
        st->names[i] = dup_str(ens[i].name, "tensor name");
        if (!t || !st->names[i])
            return dc_fail(DC_ERR_NOMEM,
                           "%s: out of memory loading tensor \"%s\"", st->path,
                           ens[i].name);
        read_floats_le(t->data, data + ens[i].begin, t->size);
    }
    return DC_OK;
}

/* Checks every entry of the header, then builds the tensors. Entries keep
 * header order (for files of the reference writer also the data order). */
static dc_status fill(dc_safetensors *st, const cJSON *root,
                      const unsigned char *data, uint64_t data_len)
{
    entry *ens = dc_calloc((size_t)cJSON_GetArraySize(root) + 1, sizeof *ens,
                           "safetensors entries");
    const cJSON *e;
    dc_status s = DC_OK;

    if (!ens)
        return DC_ERR_NOMEM;
    cJSON_ArrayForEach(e, root) {
        if (strcmp(e->string, METADATA_KEY) == 0)
            s = parse_metadata(st->path, e, st);
        else
            s = parse_entry(st->path, e, data_len, &ens[st->n++]);
        if (s != DC_OK)
            break;
    }
    if (s == DC_OK && (s = check_names(st->path, ens, st->n)) == DC_OK &&
        (s = check_offsets(st->path, ens, st->n, data_len)) == DC_OK)
        s = make_tensors(st, ens, data);
    free(ens);
    return s;
}

dc_safetensors *dc_safetensors_load(const char *path)
{
    unsigned char *buf = NULL;
    size_t size = 0, hlen = 0;
    cJSON *root = NULL;
    dc_safetensors *st = NULL;
    dc_status s;

    if (!path) {
        dc_fail(DC_ERR_ARG, "safetensors load: path is NULL");
        return NULL;
    }
    if (read_whole_file(path, &buf, &size) != DC_OK ||
        check_layout(path, buf, size, &hlen) != DC_OK)
        goto fail;
    root = parse_header(path, buf + 8, hlen);
    if (!root)
        goto fail;
    st = dc_calloc(1, sizeof *st, "safetensors");
    if (!st || !(st->path = dup_str(path, "safetensors path")))
        goto fail;
    s = fill(st, root, buf + 8 + hlen, size - 8 - hlen);
    if (s != DC_OK)
        goto fail;
    cJSON_Delete(root);
    free(buf);
    return st;

fail:
    prefix_path(path);
    cJSON_Delete(root);
    free(buf);
    dc_safetensors_free(st);
    return NULL;
}

void dc_safetensors_free(dc_safetensors *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->n; i++) {
        if (st->names)
            free(st->names[i]);
        if (st->tensors)
            dc_tensor_free(st->tensors[i]);
    }
    for (int i = 0; i < 2 * st->n_meta; i++)
        free(st->meta[i]);
    free(st->names);
    free(st->tensors);
    free(st->meta);
    free(st->path);
    free(st);
}

/* ---- access ---- */

int dc_safetensors_count(const dc_safetensors *st)
{
    return st ? st->n : 0;
}

const char *dc_safetensors_name(const dc_safetensors *st, int i)
{
    return st && i >= 0 && i < st->n ? st->names[i] : NULL;
}

dc_tensor *dc_safetensors_tensor(const dc_safetensors *st, int i)
{
    return st && i >= 0 && i < st->n ? st->tensors[i] : NULL;
}

dc_tensor *dc_safetensors_find(const dc_safetensors *st, const char *name)
{
    for (int i = 0; st && name && i < st->n; i++)
        if (strcmp(st->names[i], name) == 0)
            return st->tensors[i];
    return NULL;
}

const char *dc_safetensors_meta(const dc_safetensors *st, const char *key)
{
    for (int i = 0; st && key && i < st->n_meta; i++)
        if (strcmp(st->meta[2 * i], key) == 0)
            return st->meta[2 * i + 1];
    return NULL;
}

dc_status dc_safetensors_copy_into(const dc_safetensors *st, const char *name,
                                   dc_tensor *dst)
{
    const dc_tensor *src = dc_safetensors_find(st, name);
    char want[64], got[64];

    if (!st)
        return dc_fail(DC_ERR_ARG, "safetensors copy: no file (NULL)");
    if (!name || !dst)
        return dc_fail(DC_ERR_ARG, "%s: safetensors copy: %s is NULL", st->path,
                       name ? "destination" : "name");
    if (!src)
        return dc_fail(DC_ERR_FORMAT, "%s: no tensor called \"%s\"", st->path,
                       name);
    if (!dc_shape_equal(src, dst))
        return dc_fail(DC_ERR_SHAPE,
                       "%s: tensor \"%s\" has shape %s, destination expects %s",
                       st->path, name, dc_shape_str(src, got, sizeof got),
                       dc_shape_str(dst, want, sizeof want));
    memcpy(dst->data, src->data, src->size * sizeof(float));
    return DC_OK;
}
