/* mnist.c - MNIST in the idx format: an images file and a labels file, read
 * through zlib so that gzip-compressed and plain files both work.
 *
 * Every byte is checked: magic numbers, dimensions, equal counts, data
 * complete, nothing after it, labels 0-9, and the gzip stream's own checks
 * (zlib verifies the CRC when the stream ends, which is why the end is always
 * read). A header's counts are never trusted for an allocation: buffers grow
 * with the bytes that actually arrive, so a lying header fails as a truncated
 * file rather than as out of memory.
 * Leaves out: idx element types other than unsigned bytes; writing idx files.
 * The batch loader is in loader.c; dataset folders and checksums in find.c. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "deepc/data.h"

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u
/* A side beyond this is a corrupt header, not an image. */
#define IDX_MAX_SIDE 4096u
/* Bytes per gzread: large, so that zlib works in big strides. */
#define READ_CHUNK (1u << 20)
#define GZ_BUFFER (1u << 17)
#define MNIST_CLASSES 10

/* One open idx file: dims[0] is the count n; images have rows, cols after. */
typedef struct idx_file {
    gzFile gz;
    const char *path;
    uint32_t dims[3];
} idx_file;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static dc_status idx_open(idx_file *f, const char *path)
{
    f->path = path;
    errno = 0;
    f->gz = gzopen(path, "rb");
    if (!f->gz)
        return dc_fail(DC_ERR_IO, "%s: cannot open: %s", path,
                       errno ? strerror(errno) : "out of memory");

    /* An input buffer above zlib's 8 KiB default means fewer read calls. */
    gzbuffer(f->gz, GZ_BUFFER);
    return DC_OK;
}

static void idx_close(idx_file *f)
{
    if (f->gz)
        gzclose_r(f->gz);
    f->gz = NULL;
}

/* zlib's message starts with the path it was opened with; drop the repeat. */
static const char *gz_message(idx_file *f, int *errnum)
{
    const char *msg = gzerror(f->gz, errnum);
    size_t n = strlen(f->path);

    if (strncmp(msg, f->path, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
        msg += n + 2;
    return msg;
}

/* 1 if zlib saw the stream end before its gzip trailer (a cut .gz file). */
static int gz_cut_short(idx_file *f)
{
    int errnum;

    gz_message(f, &errnum);
    return errnum == Z_BUF_ERROR;
}

/* Reads up to n bytes into buf; *got is short only at the end of the data. A
 * read error or a corrupt gzip stream fails with zlib's message. */
static dc_status gz_read_full(idx_file *f, unsigned char *buf, size_t n,
                              size_t *got)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < READ_CHUNK ? n - *got : READ_CHUNK;
        int r = gzread(f->gz, buf + *got, (unsigned)want);

        if (r < 0) {
            int errnum;
            const char *msg = gz_message(f, &errnum);
            if (errnum == Z_ERRNO)
                return dc_fail(DC_ERR_IO, "%s: cannot read: %s", f->path, msg);
            return dc_fail(DC_ERR_FORMAT, "%s: corrupt gzip stream: %s",
                           f->path, msg);
        }
        if (r == 0)
            break;
        *got += (size_t)r;
    }
    return DC_OK;
}

static const char *magic_hint(uint32_t found)
{
    if (found == IDX_IMAGES_MAGIC)
        return " (that is an idx images file)";
    if (found == IDX_LABELS_MAGIC)
        return " (that is an idx labels file)";
    return "";
}

/* Reads the magic number and `ndims` big-endian dimensions into f->dims. */
static dc_status read_header(idx_file *f, uint32_t magic, int ndims,
                             const char *kind)
{
    unsigned char h[16];
    size_t want = 4 + 4 * (size_t)ndims, got;
    dc_status st = gz_read_full(f, h, want, &got);
    uint32_t found;

    if (st != DC_OK)
        return st;
    if (got == 0)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: empty file, expected an idx %s header of %zu bytes",
                       f->path, kind, want);

    /* The magic first: a wrong file type says more than a short header. */
    found = got >= 4 ? be32(h) : magic;
    if (found != magic)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: magic number 0x%08x, expected 0x%08x for idx %s%s",
                       f->path, (unsigned)found, (unsigned)magic, kind,
                       magic_hint(found));
    if (got < want)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: truncated idx %s header: expected %zu bytes, found %zu",
                       f->path, kind, want, got);
    for (int i = 0; i < ndims; i++)
        f->dims[i] = be32(h + 4 + 4 * i);
    return DC_OK;
}

static dc_status check_count(const idx_file *f, const char *what)
{
    if (f->dims[0] == 0 || f->dims[0] > INT_MAX)
        return dc_fail(DC_ERR_FORMAT, "%s: header says %u %s, expected 1 to %d",
                       f->path, (unsigned)f->dims[0], what, INT_MAX);
    return DC_OK;
}

static dc_status open_images(idx_file *f, const char *path)
{
    dc_status st;

    if ((st = idx_open(f, path)) != DC_OK ||
        (st = read_header(f, IDX_IMAGES_MAGIC, 3, "images")) != DC_OK ||
        (st = check_count(f, "images")) != DC_OK)
        return st;
    if (f->dims[1] == 0 || f->dims[2] == 0 || f->dims[1] > IDX_MAX_SIDE ||
        f->dims[2] > IDX_MAX_SIDE)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: images of %ux%u pixels, expected rows and cols "
                       "in 1..%u",
                       f->path, (unsigned)f->dims[1], (unsigned)f->dims[2],
                       IDX_MAX_SIDE);
    return DC_OK;
}

static dc_status open_labels(idx_file *f, const char *path)
{
    dc_status st;

    if ((st = idx_open(f, path)) != DC_OK ||
        (st = read_header(f, IDX_LABELS_MAGIC, 1, "labels")) != DC_OK)
        return st;
    return check_count(f, "labels");
}

/* Makes room for the kept bytes as they arrive: doubling, capped at `keep`. */
static dc_status grow(unsigned char **buf, size_t *cap, size_t keep,
                      const char *path)
{
    size_t want = *cap ? *cap * 2 : READ_CHUNK;
    unsigned char *p;

    if (want > keep)
        want = keep;
    p = realloc(*buf, want);
    if (!p)
        return dc_fail(DC_ERR_NOMEM,
                       "%s: out of memory: %zu bytes for its data", path, want);
    *buf = p;
    *cap = want;
    return DC_OK;
}

static dc_status truncated(idx_file *f, size_t item, const char *what,
                           size_t found)
{
    size_t total = (size_t)f->dims[0] * item;

    return dc_fail(DC_ERR_FORMAT,
                   "%s: truncated: expected %u %s (%zu bytes after the "
                   "header), found %zu bytes (%zu whole %s)%s",
                   f->path, (unsigned)f->dims[0], what, total, found,
                   found / item, what,
                   gz_cut_short(f) ? "; the gzip stream ends early" : "");
}

/* Reads the n * item data bytes after the header, returning the first
 * keep_items items in *out (malloc'd) and checking that the rest arrive too. */
static dc_status read_body(idx_file *f, size_t item, size_t keep_items,
                           const char *what, unsigned char **out)
{
    size_t total = (size_t)f->dims[0] * item, keep = keep_items * item;
    size_t off = 0, cap = 0, got = 0, want;
    unsigned char *buf = NULL, *scratch = NULL;
    dc_status st = DC_OK;

    while (off < total && st == DC_OK) {
        unsigned char *dst;
        if (off < keep) {
            if (off == cap && (st = grow(&buf, &cap, keep, f->path)) != DC_OK)
                break;
            dst = buf + off;
            want = cap - off;
        } else {
            /* Past the kept items, bytes are only counted; zlib checks them. */
            if (!scratch &&
                !(scratch = dc_malloc(READ_CHUNK, "idx scratch buffer"))) {
                st = DC_ERR_NOMEM;
                break;
            }
            dst = scratch;
            want = total - off < READ_CHUNK ? total - off : READ_CHUNK;
        }
        st = gz_read_full(f, dst, want, &got);
        off += got;
        if (st == DC_OK && got < want)
            st = truncated(f, item, what, off);
    }

    free(scratch);
    if (st != DC_OK) {
        free(buf);
        return st;
    }
    *out = buf;
    return DC_OK;
}

/* Reads to the end: extra bytes are an error, and reaching the end makes zlib
 * check the gzip trailer (CRC and length). */
static dc_status check_end(idx_file *f, const char *what)
{
    unsigned char buf[4096];
    size_t extra = 0, got;
    dc_status st;

    do {
        if ((st = gz_read_full(f, buf, sizeof buf, &got)) != DC_OK)
            return st;
        extra += got;
    } while (got == sizeof buf);

    if (extra)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: %zu unexpected byte%s after the %u %s the "
                       "header declares",
                       f->path, extra, extra == 1 ? "" : "s",
                       (unsigned)f->dims[0], what);
    if (gz_cut_short(f))
        return dc_fail(DC_ERR_FORMAT,
                       "%s: the gzip stream ends before its trailer", f->path);
    return DC_OK;
}

static dc_status check_labels(const idx_file *f, const unsigned char *lab)
{
    for (uint32_t i = 0; i < f->dims[0]; i++)
        if (lab[i] >= MNIST_CLASSES)
            return dc_fail(DC_ERR_FORMAT,
                           "%s: label %u is %u, expected 0 to %d", f->path,
                           (unsigned)i, lab[i], MNIST_CLASSES - 1);
    return DC_OK;
}

/* Builds the dataset of the first k examples; pixels / 255 into [0, 1]. */
static dc_dataset *make_dataset(const unsigned char *pix,
                                const unsigned char *lab, int k, int rows,
                                int cols)
{
    dc_dataset *ds = dc_calloc(1, sizeof *ds, "mnist dataset");
    size_t n;
    float scale[256];

    if (!ds)
        return NULL;
    ds->x = dc_tensor_new4(k, 1, rows, cols);
    ds->y = dc_malloc((size_t)k * sizeof(int), "mnist labels");
    if (!ds->x || !ds->y) {
        dc_dataset_free(ds);
        return NULL;
    }
    ds->n = k;
    ds->n_classes = MNIST_CLASSES;

    /* A table rather than a multiply, so that 255 maps to exactly 1.0f. */
    for (int v = 0; v < 256; v++)
        scale[v] = (float)v / 255.0f;
    n = ds->x->size;
    for (size_t i = 0; i < n; i++)
        ds->x->data[i] = scale[pix[i]];
    for (int i = 0; i < k; i++)
        ds->y[i] = lab[i];
    return ds;
}

static dc_status check_pair(const idx_file *im, const idx_file *lb)
{
    if (im->dims[0] != lb->dims[0])
        return dc_fail(DC_ERR_FORMAT,
                       "%s: %u labels, but %s holds %u images; expected the "
                       "same count",
                       lb->path, (unsigned)lb->dims[0], im->path,
                       (unsigned)im->dims[0]);
    return DC_OK;
}

dc_dataset *dc_mnist_load(const char *images_path, const char *labels_path,
                          int limit)
{
    idx_file im = {0}, lb = {0};
    unsigned char *pix = NULL, *lab = NULL;
    dc_dataset *ds = NULL;
    int n, keep;

    if (!images_path || !labels_path || limit < 0) {
        dc_fail(DC_ERR_ARG,
                "mnist: images %s, labels %s, limit %d; expected two paths and "
                "limit >= 0 (0 keeps all)",
                images_path ? images_path : "NULL",
                labels_path ? labels_path : "NULL", limit);
        return NULL;
    }
    if (open_images(&im, images_path) || open_labels(&lb, labels_path) ||
        check_pair(&im, &lb))
        goto done;

    /* Every label is read and checked; only the kept images are stored. */
    n = (int)im.dims[0];
    keep = limit > 0 && limit < n ? limit : n;
    if (read_body(&im, (size_t)im.dims[1] * im.dims[2], (size_t)keep, "images",
                  &pix) ||
        check_end(&im, "images") ||
        read_body(&lb, 1, (size_t)n, "labels", &lab) ||
        check_end(&lb, "labels") || check_labels(&lb, lab))
        goto done;
    ds = make_dataset(pix, lab, keep, (int)im.dims[1], (int)im.dims[2]);

done:
    idx_close(&im);
    idx_close(&lb);
    free(pix);
    free(lab);
    return ds;
}

/* Picks DIR/PREFIX-STEM.gz, else DIR/PREFIX-STEM. Another error than "no such
 * file" (say, no permission) keeps the .gz name, so that opening it reports
 * that error. */
static dc_status split_file(const char *dir, const char *prefix,
                            const char *stem, char *out, size_t n)
{
    struct stat st;
    int len = snprintf(out, n, "%s/%s-%s.gz", dir, prefix, stem);

    if (len < 0 || (size_t)len >= n)
        return dc_fail(DC_ERR_ARG, "mnist: directory %s: path too long", dir);
    if (stat(out, &st) == 0 || errno != ENOENT)
        return DC_OK;
    out[len - 3] = '\0';
    if (stat(out, &st) == 0 || errno != ENOENT)
        return DC_OK;
    return dc_fail(DC_ERR_IO, "%s.gz: no such file, nor %s without .gz", out,
                   out);
}

dc_dataset *dc_mnist_load_split(const char *dir, const char *split, int limit)
{
    char images[PATH_MAX], labels[PATH_MAX];
    const char *prefix;

    if (!dir) {
        dc_fail(DC_ERR_ARG, "mnist: directory is NULL");
        return NULL;
    }
    if (!split || (strcmp(split, "train") != 0 && strcmp(split, "test") != 0)) {
        dc_fail(DC_ERR_ARG,
                "mnist: split \"%s\", expected \"train\" or \"test\"",
                split ? split : "NULL");
        return NULL;
    }

    /* The original file names: the test split is called t10k. */
    prefix = strcmp(split, "train") == 0 ? "train" : "t10k";
    if (split_file(dir, prefix, "images-idx3-ubyte", images, sizeof images) ||
        split_file(dir, prefix, "labels-idx1-ubyte", labels, sizeof labels))
        return NULL;
    return dc_mnist_load(images, labels, limit);
}
