/* mnist.c - MNIST in the idx format: an images file and a labels file, either
 * gzip-compressed or plain (told apart by gzip's two magic bytes, as zlib's
 * gzopen does).
 *
 * Every byte is checked: magic numbers, dimensions, equal counts, data
 * complete, nothing after it, labels 0-9, and the gzip stream's own checks
 * (inflate verifies each member's CRC and length when the member ends, which
 * is why the end is always read). After the last gzip member only zero bytes
 * may follow, as with Python's gzip module; zlib's gzread would silently drop
 * any other trailing bytes, so the members are inflated here with zlib's
 * inflate API instead. A header's counts are never trusted for an allocation:
 * buffers grow with the bytes that actually arrive, so a lying header fails
 * as a truncated file rather than as out of memory.
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
#include "deepc/io.h"

#define IDX_IMAGES_MAGIC 0x00000803u
#define IDX_LABELS_MAGIC 0x00000801u
/* A side beyond this is a corrupt header, not an image. */
#define IDX_MAX_SIDE 4096u
/* Bytes per read into the caller's buffer: large, so that inflate works in
 * big strides (and the count fits zlib's unsigned int). */
#define READ_CHUNK (1u << 20)
/* Bytes read from the file at once. */
#define IN_BUFFER (1u << 17)
#define MNIST_CLASSES 10

/* One open idx file: dims[0] is the count n; images have rows, cols after.
 * zs.next_in and zs.avail_in hold the unread part of `in` in both modes. */
typedef struct idx_file {
    FILE *fp;
    const char *path;
    uint32_t dims[3];
    z_stream zs;
    unsigned char *in; /* IN_BUFFER bytes of the file */
    int gzip;          /* 1: gzip members are inflated; 0: plain bytes */
    int inflating;     /* inflateInit2 succeeded, so inflateEnd is due */
    int member_done;   /* a gzip member has ended; another may follow */
    int eof;           /* the file has no more bytes to give */
    int cut;           /* the file ended inside a gzip member */
    int done;          /* the gzip data is over */
} idx_file;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           p[3];
}

static dc_status read_failed(idx_file *f)
{
    return dc_fail(DC_ERR_IO, "%s: cannot read: %s", f->path, strerror(errno));
}

/* Moves the unread input to the front of `in` and fills the rest from the
 * file (a member's magic bytes may straddle two reads). */
static dc_status refill(idx_file *f)
{
    size_t keep = f->zs.avail_in, room = IN_BUFFER - keep, got;

    if (keep && f->zs.next_in != f->in)
        memmove(f->in, f->zs.next_in, keep);
    got = fread(f->in + keep, 1, room, f->fp);
    if (got < room) {
        if (ferror(f->fp))
            return read_failed(f);
        f->eof = 1;
    }
    f->zs.next_in = f->in;
    f->zs.avail_in = (uInt)(keep + got);
    return DC_OK;
}

static dc_status idx_open(idx_file *f, const char *path)
{
    dc_status st;
    int z;

    /* Before the open: opening a FIFO would block. */
    f->path = path;
    if ((st = dc_check_regular_file(path)) != DC_OK)
        return st;
    errno = 0;
    f->fp = fopen(path, "rb");
    if (!f->fp)
        return dc_fail(DC_ERR_IO, "%s: cannot open: %s", path,
                       errno ? strerror(errno) : "out of memory");
    if (!(f->in = dc_malloc(IN_BUFFER, "idx input buffer")))
        return DC_ERR_NOMEM;
    if ((st = refill(f)) != DC_OK)
        return st;

    /* Without gzip's magic the bytes are the idx data itself. */
    if (f->zs.avail_in < 2 || f->in[0] != 0x1f || f->in[1] != 0x8b)
        return DC_OK;
    f->gzip = 1;
    z = inflateInit2(&f->zs, 16 + MAX_WBITS);
    if (z != Z_OK)
        return dc_fail(z == Z_MEM_ERROR ? DC_ERR_NOMEM : DC_ERR_IO,
                       "%s: cannot start zlib's inflate: %s", path,
                       f->zs.msg ? f->zs.msg : zError(z));
    f->inflating = 1;
    return DC_OK;
}

static void idx_close(idx_file *f)
{
    if (f->inflating)
        inflateEnd(&f->zs);
    if (f->fp)
        fclose(f->fp);
    free(f->in);
    f->inflating = 0;
    f->fp = NULL;
    f->in = NULL;
}

/* Plain mode: the buffered bytes first, then straight from the file. */
static dc_status plain_read(idx_file *f, unsigned char *buf, size_t n,
                            size_t *got)
{
    size_t take = f->zs.avail_in < n ? f->zs.avail_in : n, more;

    if (take) {
        memcpy(buf, f->zs.next_in, take);
        f->zs.next_in += take;
        f->zs.avail_in -= (uInt)take;
    }
    *got = take;
    if (take == n || f->eof)
        return DC_OK;
    more = fread(buf + take, 1, n - take, f->fp);
    *got += more;
    if (more < n - take) {
        if (ferror(f->fp))
            return read_failed(f);
        f->eof = 1;
    }
    return DC_OK;
}

/* Fails on the bytes after the last member: `pad` zeros already skipped, the
 * rest of the buffer, and the rest of the file, all counted. */
static dc_status trailing_data(idx_file *f, uint64_t pad)
{
    uint64_t extra = pad + f->zs.avail_in;

    while (!f->eof) {
        size_t got = fread(f->in, 1, IN_BUFFER, f->fp);
        extra += got;
        if (got < IN_BUFFER) {
            if (ferror(f->fp))
                return read_failed(f);
            f->eof = 1;
        }
    }
    return dc_fail(DC_ERR_FORMAT,
                   "%s: %llu byte%s of trailing data after the gzip stream "
                   "(expected nothing, zero padding or another gzip member)",
                   f->path, (unsigned long long)extra, extra == 1 ? "" : "s");
}

/* After a member has ended: zero bytes are padding (some tools write it, and
 * Python's gzip skips it too), gzip's magic bytes start another member, the
 * end of the file ends the data, and anything else is refused. */
static dc_status next_member(idx_file *f)
{
    uint64_t pad = 0;
    dc_status st;

    for (;;) {
        if (f->zs.avail_in < 2 && !f->eof && (st = refill(f)) != DC_OK)
            return st;
        while (f->zs.avail_in > 0 && *f->zs.next_in == 0) {
            f->zs.next_in++;
            f->zs.avail_in--;
            pad++;
        }
        if (f->zs.avail_in == 0 && f->eof) {
            f->done = 1;
            return DC_OK;
        }
        if (f->zs.avail_in >= 2 || f->eof)
            break;
    }

    if (f->zs.avail_in < 2 || f->zs.next_in[0] != 0x1f ||
        f->zs.next_in[1] != 0x8b)
        return trailing_data(f, pad);
    if (inflateReset(&f->zs) != Z_OK)
        return dc_fail(DC_ERR_IO, "%s: cannot restart zlib's inflate",
                       f->path);
    f->member_done = 0;
    return DC_OK;
}

static dc_status inflate_failed(idx_file *f, int z)
{
    if (z == Z_MEM_ERROR)
        return dc_fail(DC_ERR_NOMEM,
                       "%s: out of memory inflating the gzip stream", f->path);
    return dc_fail(DC_ERR_FORMAT, "%s: corrupt gzip stream: %s", f->path,
                   f->zs.msg ? f->zs.msg : "compressed data error");
}

/* Gzip mode: inflates into buf (n <= READ_CHUNK) until it is full, the last
 * member has ended, or the file has ended inside a member. */
static dc_status inflate_read(idx_file *f, unsigned char *buf, size_t n,
                              size_t *got)
{
    dc_status st;

    *got = 0;
    while (*got < n && !f->done) {
        int z;
        if (f->member_done) {
            if ((st = next_member(f)) != DC_OK)
                return st;
            continue;
        }
        if (f->zs.avail_in == 0 && !f->eof && (st = refill(f)) != DC_OK)
            return st;
        f->zs.next_out = buf + *got;
        f->zs.avail_out = (uInt)(n - *got);
        z = inflate(&f->zs, Z_NO_FLUSH);
        *got = (size_t)(f->zs.next_out - buf);

        /* With room left for output, Z_BUF_ERROR means the input ran out. */
        if (z == Z_STREAM_END)
            f->member_done = 1;
        else if (z == Z_BUF_ERROR)
            f->cut = f->done = 1;
        else if (z != Z_OK)
            return inflate_failed(f, z);
    }
    return DC_OK;
}

/* Reads up to n bytes into buf; *got is short only at the end of the data. A
 * read error, a corrupt gzip stream or trailing bytes after it fail. */
static dc_status idx_read(idx_file *f, unsigned char *buf, size_t n,
                          size_t *got)
{
    *got = 0;
    while (*got < n) {
        size_t want = n - *got < READ_CHUNK ? n - *got : READ_CHUNK, part;
        dc_status st = f->gzip ? inflate_read(f, buf + *got, want, &part)
                               : plain_read(f, buf + *got, want, &part);
        if (st != DC_OK)
            return st;
        *got += part;
        if (part < want)
            break;
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
    dc_status st = idx_read(f, h, want, &got);
    uint32_t found;

    if (st != DC_OK)
        return st;
    if (got == 0 && f->cut)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: the gzip stream ends before any data, expected an "
                       "idx %s header of %zu bytes",
                       f->path, kind, want);
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
                   f->cut ? "; the gzip stream ends early" : "");
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
        st = idx_read(f, dst, want, &got);
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
 * check the gzip trailer (CRC and length) and idx_read check what follows the
 * last member. */
static dc_status check_end(idx_file *f, const char *what)
{
    unsigned char buf[4096];
    size_t extra = 0, got;
    dc_status st;

    do {
        if ((st = idx_read(f, buf, sizeof buf, &got)) != DC_OK)
            return st;
        extra += got;
    } while (got == sizeof buf);

    if (extra)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: %zu unexpected byte%s after the %u %s the "
                       "header declares",
                       f->path, extra, extra == 1 ? "" : "s",
                       (unsigned)f->dims[0], what);
    if (f->cut)
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
