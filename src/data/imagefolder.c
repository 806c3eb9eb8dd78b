/* imagefolder.c - the image-folder dataset (torchvision's ImageFolder, or a CSV
 * of file,label rows), decoded once and cached as 8-bit RGB, and a seeded
 * stratified split of example indices.
 *
 * Loading first lists the candidate files with their labels, then decodes each
 * one (image.c) into one growing byte buffer, big ones shrunk when max_side
 * asks (a JPEG already reduced by libjpeg while decoding). A bad file either
 * stops the load or, with skip_bad, is logged as a warning and counted.
 *
 * Differences from torchvision: folders and files whose names start with '.'
 * are ignored (torchvision would make a class of a stray .ipynb_checkpoints
 * folder); symbolic links are followed to a depth of 16 folders.
 *
 * Leaves out: is_valid_file and custom loaders; the batch loader is in
 * prefetch.c. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <csv.h>

#include "deepc/image.h"
#include "deepc/log.h"
#include "deepc/text.h"

#define MAX_DEPTH 16

struct dc_imagefolder {
    int n; /* images kept */
    int n_classes;
    int skipped;
    char **classes;        /* [n_classes] */
    char **paths;          /* [n] */
    int *labels;           /* [n] */
    int *hw;               /* [n][2] height, width */
    size_t *offset;        /* [n] into pixels */
    unsigned char *pixels; /* every image's HWC bytes, one after another */
    size_t used, cap;
};

/* A file to load: its path (the folder part is path[0..dir_len)), its label,
 * and the CSV line that listed it (0 when found by a folder scan). */
typedef struct candidate {
    char *path;
    size_t dir_len;
    int label;
    int line;
} candidate;

typedef struct candidates {
    candidate *v;
    int n, cap;
} candidates;

/* ---- small helpers ---- */

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = dc_malloc(n, "image folder name");

    if (p)
        memcpy(p, s, n);
    return p;
}

static char *join_path(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *p = dc_malloc(na + nb + 2, "image folder path");

    if (p) {
        memcpy(p, a, na);
        p[na] = '/';
        memcpy(p + na + 1, b, nb + 1);
    }
    return p;
}

static int is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_strs(char **v, int n)
{
    for (int i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static dc_status cand_push(candidates *c, char *path, size_t dir_len, int label,
                           int line)
{
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 256;
        candidate *v = realloc(c->v, (size_t)cap * sizeof *v);
        if (!v) {
            free(path);
            return dc_fail(DC_ERR_NOMEM,
                           "image folder: out of memory listing %d files", cap);
        }
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (candidate){path, dir_len, label, line};
    return DC_OK;
}

static void cand_free(candidates *c)
{
    for (int i = 0; i < c->n; i++)
        free(c->v[i].path);
    free(c->v);
}

/* ---- scanning folders (ImageFolder) ---- */

/* ImageFolder's IMG_EXTENSIONS, compared without case. */
static int has_image_ext(const char *name)
{
    static const char *exts[] = {".jpg", ".jpeg", ".png",  ".ppm", ".bmp",
                                 ".pgm", ".tif",  ".tiff", ".webp"};
    size_t n = strlen(name);

    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcasecmp(name + n - e, exts[i]) == 0)
            return 1;
    }
    return 0;
}

/* The sorted names of dir's entries that are folders (want_dirs) or files;
 * hidden names are left out. */
static dc_status list_dir(const char *dir, int want_dirs, char ***out,
                          int *n_out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL;
    int n = 0, cap = 0;

    if (!d)
        return dc_fail(DC_ERR_IO, "%s: cannot open folder: %s", dir,
                       strerror(errno));
    while ((e = readdir(d)) != NULL) {
        char *full;
        int match;
        if (e->d_name[0] == '.')
            continue;
        if (!(full = join_path(dir, e->d_name)))
            goto nomem;
        match = is_dir(full) == want_dirs;
        free(full);
        if (!match)
            continue;
        if (n == cap) {
            char **nv =
                realloc(v, (size_t)(cap = cap ? cap * 2 : 64) * sizeof *v);
            if (!nv)
                goto nomem;
            v = nv;
        }
        if (!(v[n] = dup_str(e->d_name)))
            goto nomem;
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(v, (size_t)n, sizeof *v, cmp_str);
    *out = v;
    *n_out = n;
    return DC_OK;

nomem:
    closedir(d);
    free_strs(v, n);
    return dc_fail(DC_ERR_NOMEM, "%s: out of memory listing the folder", dir);
}

/* Adds dir's image files, then those of its sub-folders, recursively. */
static dc_status scan_tree(const char *dir, int label, int depth, candidates *c)
{
    char **names = NULL;
    int n = 0;
    dc_status st;

    if (depth > MAX_DEPTH)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: folders nested deeper than %d (a link loop?)", dir,
                       MAX_DEPTH);
    if ((st = list_dir(dir, 0, &names, &n)) != DC_OK)
        return st;
    for (int i = 0; i < n && st == DC_OK; i++) {
        char *path;
        if (!has_image_ext(names[i]))
            continue;
        if (!(path = join_path(dir, names[i])))
            st = DC_ERR_NOMEM;
        else
            st = cand_push(c, path, strlen(dir), label, 0);
    }
    free_strs(names, n);
    if (st != DC_OK || (st = list_dir(dir, 1, &names, &n)) != DC_OK)
        return st;
    for (int i = 0; i < n && st == DC_OK; i++) {
        char *sub = join_path(dir, names[i]);
        st = sub ? scan_tree(sub, label, depth + 1, c) : DC_ERR_NOMEM;
        free(sub);
    }
    free_strs(names, n);
    return st;
}

/* os.walk's order after sorted(): by folder path as a string, then by file
 * name. */
static int cmp_walk(const void *pa, const void *pb)
{
    const candidate *a = pa, *b = pb;
    size_t n = a->dir_len < b->dir_len ? a->dir_len : b->dir_len;
    int r = memcmp(a->path, b->path, n);

    if (r != 0)
        return r;
    if (a->dir_len != b->dir_len)
        return a->dir_len < b->dir_len ? -1 : 1;
    return strcmp(a->path + a->dir_len + 1, b->path + b->dir_len + 1);
}

/* Keeps the first `max` candidates of class `label`, which start at c->v[from]. */
static void keep_first(candidates *c, int from, int max)
{
    if (max <= 0 || c->n - from <= max)
        return;
    for (int i = from + max; i < c->n; i++)
        free(c->v[i].path);
    c->n = from + max;
}

static dc_status scan_classes(const char *root, char **classes, int n_classes,
                              int max, candidates *c)
{
    dc_status st = DC_OK;

    for (int k = 0; k < n_classes && st == DC_OK; k++) {
        int from = c->n;
        size_t len = strlen(classes[k]), valid = dc_utf8_check(classes[k], len);
        char *dir = join_path(root, classes[k]);
        if (!dir)
            return DC_ERR_NOMEM;

        /* The folder name becomes the class name in JSON, HTML and exported C, which all
         * need UTF-8; a Latin-1 name would make them invalid. */
        if (valid != len)
            st = dc_fail(DC_ERR_FORMAT, "%s: class folder name is not UTF-8 (bad byte at "
                         "offset %zu); rename the folder", dir, valid);
        else
            st = scan_tree(dir, k, 0, c);
        if (st == DC_OK && c->n == from)
            st = dc_fail(DC_ERR_FORMAT,
                         "%s: class folder holds no image file (expected "
                         ".jpg, .jpeg, .png, ...)",
                         dir);
        free(dir);
        if (st == DC_OK) {
            qsort(c->v + from, (size_t)(c->n - from), sizeof *c->v, cmp_walk);
            keep_first(c, from, max);
        }
    }
    return st;
}

/* ---- reading a CSV of file,label rows ---- */

typedef struct csv_state {
    const char *csv_path;
    int line;   /* the physical line being fed to the parser */
    int rows;   /* rows seen, the header included */
    int fields; /* fields in the current row */
    char *field[2];
    candidates *rows_out; /* label holds the index into labels[] */
    char **labels;        /* the label text of each kept row */
    int n_labels, cap_labels;
    dc_status st;
} csv_state;

static void csv_on_field(void *data, size_t len, void *user)
{
    csv_state *s = user;

    if (s->st != DC_OK)
        return;
    if (s->fields < 2) {
        char *f = dc_malloc(len + 1, "CSV field");
        if (!f) {
            s->st = DC_ERR_NOMEM;
            return;
        }
        memcpy(f, data, len);
        f[len] = '\0';
        s->field[s->fields] = f;
    }
    s->fields++;
}

static dc_status csv_keep_row(csv_state *s)
{
    char *file;
    dc_status st;

    if (s->n_labels == s->cap_labels) {
        int cap = s->cap_labels ? s->cap_labels * 2 : 256;
        char **v = realloc(s->labels, (size_t)cap * sizeof *v);
        if (!v)
            return dc_fail(DC_ERR_NOMEM, "%s: out of memory at line %d",
                           s->csv_path, s->line);
        s->labels = v;
        s->cap_labels = cap;
    }
    file = s->field[0];
    s->field[0] = NULL; /* the candidate owns it now, even if pushing fails */
    if ((st = cand_push(s->rows_out, file, 0, s->n_labels, s->line)) != DC_OK)
        return st;
    s->labels[s->n_labels++] = s->field[1];
    s->field[1] = NULL;
    return DC_OK;
}

static void csv_on_row(int c, void *user)
{
    csv_state *s = user;

    if (s->st == DC_OK && s->rows++ == 0) {
        if (s->fields != 2)
            s->st = dc_fail(DC_ERR_FORMAT,
                            "%s: line %d: header of %d field%s, expected 2 "
                            "(file,label)",
                            s->csv_path, s->line, s->fields,
                            s->fields == 1 ? "" : "s");
    } else if (s->st == DC_OK) {
        /* Every row after the header must be exactly "file,label", neither
         * empty. */
        if (s->fields != 2)
            s->st = dc_fail(DC_ERR_FORMAT,
                            "%s: line %d: %d field%s, expected 2 (file,label)",
                            s->csv_path, s->line, s->fields,
                            s->fields == 1 ? "" : "s");
        else if (!s->field[0][0] || !s->field[1][0])
            s->st = dc_fail(DC_ERR_FORMAT,
                            "%s: line %d: empty %s, expected file,label",
                            s->csv_path, s->line,
                            s->field[0][0] ? "label" : "file name");
        else
            s->st = csv_keep_row(s);
    }
    free(s->field[0]);
    free(s->field[1]);
    s->field[0] = s->field[1] = NULL;
    s->fields = 0;
}

/* Feeds the text one physical line at a time, so that a failure knows its line. */
static dc_status csv_feed(struct csv_parser *p, const unsigned char *text,
                          size_t n, csv_state *s)
{
    size_t pos = 0;

    while (pos < n && s->st == DC_OK) {
        const unsigned char *nl = memchr(text + pos, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - (text + pos)) + 1 : n - pos;
        s->line++;
        if (csv_parse(p, text + pos, len, csv_on_field, csv_on_row, s) != len)
            return dc_fail(DC_ERR_FORMAT, "%s: line %d: malformed CSV: %s",
                           s->csv_path, s->line, csv_strerror(csv_error(p)));
        pos += len;
    }
    if (s->st == DC_OK && csv_fini(p, csv_on_field, csv_on_row, s) != 0)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: line %d: malformed CSV: %s (an unclosed quote?)",
                       s->csv_path, s->line, csv_strerror(csv_error(p)));
    return s->st;
}

static dc_status csv_read(const char *csv_path, candidates *rows, csv_state *s)
{
    struct csv_parser p;
    unsigned char *text;
    size_t n;
    dc_status st;

    memset(s, 0, sizeof *s);
    s->csv_path = csv_path;
    s->rows_out = rows;
    if ((st = dc_file_read(csv_path, &text, &n)) != DC_OK)
        return st;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        free(text);
        return dc_fail(DC_ERR_NOMEM, "%s: cannot start the CSV parser",
                       csv_path);
    }
    st = csv_feed(&p, text, n, s);
    csv_free(&p);
    free(text);
    free(s->field[0]);
    free(s->field[1]);
    if (st == DC_OK && s->rows == 0)
        st = dc_fail(DC_ERR_FORMAT,
                     "%s: empty, expected a header row and file,label rows",
                     csv_path);
    else if (st == DC_OK && s->n_labels == 0)
        st = dc_fail(DC_ERR_FORMAT,
                     "%s: only a header, expected file,label rows", csv_path);
    return st;
}

/* The sorted distinct labels become the classes; each row's label index is
 * mapped to its class. */
static dc_status csv_classes(csv_state *s, candidates *rows, char ***classes,
                             int *n_classes)
{
    char **sorted =
        dc_malloc((size_t)s->n_labels * sizeof *sorted, "CSV classes");
    int n = 0;

    if (!sorted)
        return DC_ERR_NOMEM;
    memcpy(sorted, s->labels, (size_t)s->n_labels * sizeof *sorted);
    qsort(sorted, (size_t)s->n_labels, sizeof *sorted, cmp_str);
    for (int i = 0; i < s->n_labels; i++)
        if (n == 0 || strcmp(sorted[n - 1], sorted[i]) != 0)
            sorted[n++] = sorted[i];
    for (int i = 0; i < rows->n; i++) {
        char **hit = bsearch(&s->labels[rows->v[i].label], sorted, (size_t)n,
                             sizeof *sorted, cmp_str);
        rows->v[i].label = (int)(hit - sorted);
    }

    /* The class names are copies: the row labels are freed with the CSV state. */
    for (int i = 0; i < n; i++)
        if (!(sorted[i] = dup_str(sorted[i]))) {
            free_strs(sorted, i);
            return DC_ERR_NOMEM;
        }
    *classes = sorted;
    *n_classes = n;
    return DC_OK;
}

/* root/file, or root/label/file when only that exists; absolute files as they
 * are. */
static dc_status csv_resolve(const char *root, candidate *c, const char *label)
{
    char *path, *alt, *dir;

    if (c->path[0] == '/')
        return DC_OK;
    if (!(path = join_path(root, c->path)))
        return DC_ERR_NOMEM;
    if (!exists(path) && (dir = join_path(root, label)) != NULL) {
        alt = join_path(dir, c->path);
        free(dir);
        if (alt && exists(alt)) {
            free(path);
            path = alt;
        } else {
            free(alt);
        }
    }
    free(c->path);
    c->path = path;
    return DC_OK;
}

/* Per-class truncation for the CSV: the first `max` rows of each class, in file
 * order. */
static void csv_keep_first(candidates *c, int n_classes, int max)
{
    int *seen, kept = 0;

    if (max <= 0 || !(seen = calloc((size_t)n_classes, sizeof *seen)))
        return;
    for (int i = 0; i < c->n; i++) {
        if (seen[c->v[i].label]++ < max)
            c->v[kept++] = c->v[i];
        else
            free(c->v[i].path);
    }
    c->n = kept;
    free(seen);
}

/* ---- decoding into the cache ---- */

/* Grows the pixel buffer to hold `need` bytes: doubling, so that loading
 * stays linear, or exactly `need` when a doubled buffer cannot be had. */
static dc_status cache_grow(dc_imagefolder *ds, size_t need, const char *path)
{
    size_t cap = ds->cap ? ds->cap : (size_t)1 << 22;
    unsigned char *p;

    while (cap < need)
        cap *= 2;
    if (!(p = realloc(ds->pixels, cap)) && (p = realloc(ds->pixels, need)))
        cap = need;
    if (!p)
        return dc_fail(DC_ERR_NOMEM,
                       "%s: out of memory caching the image folder's pixels: "
                       "%zu bytes for %d images",
                       path, need, ds->n + 1);
    ds->pixels = p;
    ds->cap = cap;
    return DC_OK;
}

static dc_status cache_push(dc_imagefolder *ds, const unsigned char *rgb, int h,
                            int w, const char *path)
{
    size_t bytes = (size_t)h * w * 3;
    dc_status st;

    if (ds->used + bytes > ds->cap &&
        (st = cache_grow(ds, ds->used + bytes, path)) != DC_OK)
        return st;
    memcpy(ds->pixels + ds->used, rgb, bytes);
    ds->offset[ds->n] = ds->used;
    ds->hw[2 * ds->n] = h;
    ds->hw[2 * ds->n + 1] = w;
    ds->used += bytes;
    return DC_OK;
}

/* Resize(size) on 8-bit pixels, through floats; *rgb is replaced. */
static dc_status shrink(unsigned char **rgb, int *h, int *w, int size,
                        dc_image *a, dc_image *b, dc_image_ws *ws)
{
    int nh, nw;
    unsigned char *out;
    dc_status st;

    dc_resize_shorter(*h, *w, size, &nh, &nw);
    if ((st = dc_image_from_rgb8(a, *rgb, *h, *w)) ||
        (st = dc_image_resize(a, b, nh, nw, ws)))
        return st;
    if (!(out = dc_malloc((size_t)nh * nw * 3, "resized image")))
        return DC_ERR_NOMEM;
    dc_image_to_rgb8(b, out);
    free(*rgb);
    *rgb = out;
    *h = nh;
    *w = nw;
    return DC_OK;
}

typedef struct loader_tmp {
    dc_image a, b;
    dc_image_ws ws;
} loader_tmp;

/* Decodes candidate c into the cache, capped at max_side and then resized
 * as the options ask. A decoding failure is DC_ERR_FORMAT or DC_ERR_IO
 * (skippable); anything else is not. */
static dc_status load_one(dc_imagefolder *ds, const candidate *c,
                          const dc_imagefolder_opts *o, loader_tmp *t)
{
    unsigned char *rgb = NULL;
    int h, w;
    dc_status st =
        dc_image_load_rgb8_scaled(c->path, o->max_side, &rgb, &h, &w);

    if (st == DC_OK && o->max_side > 0 && (h < w ? h : w) > o->max_side)
        st = shrink(&rgb, &h, &w, o->max_side, &t->a, &t->b, &t->ws);
    if (st == DC_OK && o->resize > 0)
        st = shrink(&rgb, &h, &w, o->resize, &t->a, &t->b, &t->ws);
    if (st == DC_OK && (st = cache_push(ds, rgb, h, w, c->path)) == DC_OK) {
        ds->paths[ds->n] = c->path;
        ds->labels[ds->n] = c->label;
        ds->n++;
    }
    free(rgb);
    return st;
}

/* Adds " (CSV line N)" to the message of a failure on a listed file. */
static dc_status with_line(dc_status st, const candidate *c,
                           const char *csv_path)
{
    char msg[1024];

    if (!csv_path)
        return st;
    snprintf(msg, sizeof msg, "%s", dc_last_error());
    return dc_fail(st, "%s (listed at %s line %d)", msg, csv_path, c->line);
}

static dc_status load_all(dc_imagefolder *ds, candidates *c,
                          const dc_imagefolder_opts *o, const char *csv_path)
{
    loader_tmp t;
    dc_status st = DC_OK;

    dc_image_init(&t.a);
    dc_image_init(&t.b);
    dc_image_ws_init(&t.ws);
    for (int i = 0; i < c->n && st == DC_OK; i++) {
        st = load_one(ds, &c->v[i], o, &t);
        if (st == DC_OK) {
            c->v[i].path = NULL; /* now owned by ds->paths */
        } else if (o->skip_bad && (st == DC_ERR_FORMAT || st == DC_ERR_IO)) {
            with_line(st, &c->v[i], csv_path);
            dc_log(DC_LOG_WARN, "%s (skipped)", dc_last_error());
            ds->skipped++;
            st = DC_OK;
        } else {
            st = with_line(st, &c->v[i], csv_path);
        }
    }
    dc_image_deinit(&t.a);
    dc_image_deinit(&t.b);
    dc_image_ws_deinit(&t.ws);
    return st;
}

/* The first class left with no image once bad ones were skipped, or -1. A model
 * would still get an output for it that no example ever trains or scores. */
static int empty_class(const dc_imagefolder *ds)
{
    for (int k = 0; k < ds->n_classes; k++) {
        int i = 0;
        while (i < ds->n && ds->labels[i] != k)
            i++;
        if (i == ds->n)
            return k;
    }
    return -1;
}

/* Allocates the per-image arrays for up to n images and decodes them. Takes the
 * classes. */
static dc_imagefolder *build(const char *what, char **classes, int n_classes,
                             candidates *c, const dc_imagefolder_opts *o,
                             const char *csv_path)
{
    dc_imagefolder *ds = dc_calloc(1, sizeof *ds, "image folder");
    size_t n = (size_t)c->n;
    int empty;

    if (!ds) {
        free_strs(classes, n_classes);
        return NULL;
    }
    ds->classes = classes;
    ds->n_classes = n_classes;
    ds->paths = dc_calloc(n, sizeof *ds->paths, "image paths");
    ds->labels = dc_malloc(n * sizeof *ds->labels, "image labels");
    ds->hw = dc_malloc(2 * n * sizeof *ds->hw, "image sizes");
    ds->offset = dc_malloc(n * sizeof *ds->offset, "image offsets");
    if (!ds->paths || !ds->labels || !ds->hw || !ds->offset ||
        load_all(ds, c, o, csv_path) != DC_OK) {
        dc_imagefolder_free(ds);
        return NULL;
    }
    if (ds->n == 0) {
        dc_fail(DC_ERR_FORMAT, "%s: none of its %d image files could be read",
                what, c->n);
        dc_imagefolder_free(ds);
        return NULL;
    }
    if ((empty = empty_class(ds)) >= 0) {
        dc_fail(DC_ERR_FORMAT, "%s: class %s has no readable image left after %d bad "
                "ones were skipped; expected at least one per class", what,
                ds->classes[empty], ds->skipped);
        dc_imagefolder_free(ds);
        return NULL;
    }
    dc_log(DC_LOG_INFO,
           "image folder %s: %d images, %d classes, %d skipped, %.1f MiB", what,
           ds->n, ds->n_classes, ds->skipped, ds->used / 1048576.0);
    return ds;
}

static const dc_imagefolder_opts *opts_or_default(const dc_imagefolder_opts *o)
{
    static const dc_imagefolder_opts zero;

    return o ? o : &zero;
}

static dc_status check_opts(const dc_imagefolder_opts *o, const char *what)
{
    if (o->resize < 0 || o->resize > DC_IMAGE_MAX_SIDE || o->max_side < 0 ||
        o->max_side > DC_IMAGE_MAX_SIDE || o->max_per_class < 0)
        return dc_fail(DC_ERR_ARG,
                       "%s: resize %d, max_side %d, max_per_class %d; expected "
                       "0..%d, 0..%d and >= 0",
                       what, o->resize, o->max_side, o->max_per_class,
                       DC_IMAGE_MAX_SIDE, DC_IMAGE_MAX_SIDE);
    return DC_OK;
}

dc_imagefolder *dc_imagefolder_load(const char *root,
                                    const dc_imagefolder_opts *opts)
{
    const dc_imagefolder_opts *o = opts_or_default(opts);
    candidates c = {0};
    char **classes = NULL;
    int n_classes = 0;
    dc_imagefolder *ds = NULL;

    if (!root) {
        dc_fail(DC_ERR_ARG, "image folder: root is NULL");
        return NULL;
    }
    if (check_opts(o, root) || list_dir(root, 1, &classes, &n_classes))
        return NULL;
    if (n_classes == 0) {
        dc_fail(DC_ERR_FORMAT,
                "%s: no class folders, expected root/<class>/<image>", root);
        free(classes);
        return NULL;
    }
    if (scan_classes(root, classes, n_classes, o->max_per_class, &c) == DC_OK)
        ds = build(root, classes, n_classes, &c, o, NULL);
    else
        free_strs(classes, n_classes);
    cand_free(&c);
    return ds;
}

dc_imagefolder *dc_imagefolder_load_csv(const char *root, const char *csv_path,
                                        const dc_imagefolder_opts *opts)
{
    const dc_imagefolder_opts *o = opts_or_default(opts);
    candidates c = {0};
    csv_state s;
    char **classes = NULL;
    int n_classes = 0;
    dc_imagefolder *ds = NULL;
    dc_status st;

    if (!root || !csv_path) {
        dc_fail(DC_ERR_ARG, "image folder: root and CSV path are needed");
        return NULL;
    }
    if (check_opts(o, csv_path))
        return NULL;
    st = csv_read(csv_path, &c, &s);
    if (st == DC_OK)
        st = csv_classes(&s, &c, &classes, &n_classes);
    for (int i = 0; i < c.n && st == DC_OK; i++)
        st = csv_resolve(root, &c.v[i], classes[c.v[i].label]);
    free_strs(s.labels, s.n_labels);
    if (st == DC_OK) {
        csv_keep_first(&c, n_classes, o->max_per_class);
        ds = build(csv_path, classes, n_classes, &c, o, csv_path);
    } else {
        free_strs(classes, n_classes);
    }
    cand_free(&c);
    return ds;
}

void dc_imagefolder_free(dc_imagefolder *ds)
{
    if (!ds)
        return;
    free_strs(ds->classes, ds->n_classes);
    free_strs(ds->paths, ds->n);
    free(ds->labels);
    free(ds->hw);
    free(ds->offset);
    free(ds->pixels);
    free(ds);
}

/* ---- accessors ---- */

int dc_imagefolder_len(const dc_imagefolder *ds)
{
    return ds->n;
}

int dc_imagefolder_n_classes(const dc_imagefolder *ds)
{
    return ds->n_classes;
}

int dc_imagefolder_skipped(const dc_imagefolder *ds)
{
    return ds->skipped;
}

const char *dc_imagefolder_class_name(const dc_imagefolder *ds, int c)
{
    return c >= 0 && c < ds->n_classes ? ds->classes[c] : NULL;
}

const int *dc_imagefolder_labels(const dc_imagefolder *ds)
{
    return ds->labels;
}

const char *dc_imagefolder_path(const dc_imagefolder *ds, int i)
{
    return i >= 0 && i < ds->n ? ds->paths[i] : NULL;
}

const unsigned char *dc_imagefolder_pixels(const dc_imagefolder *ds, int i,
                                           int *h, int *w)
{
    if (i < 0 || i >= ds->n)
        return NULL;
    *h = ds->hw[2 * i];
    *w = ds->hw[2 * i + 1];
    return ds->pixels + ds->offset[i];
}

dc_status dc_imagefolder_get(const dc_imagefolder *ds, int i, dc_image *img)
{
    int h, w;
    const unsigned char *p;

    if (!ds || i < 0 || i >= ds->n)
        return dc_fail(DC_ERR_ARG, "image folder: image %d, expected 0..%d", i,
                       ds ? ds->n - 1 : -1);
    p = dc_imagefolder_pixels(ds, i, &h, &w);
    return dc_image_from_rgb8(img, p, h, w);
}

/* ---- stratified split ---- */

static dc_status check_split_args(const int *labels, int n, const float *fr,
                                  int k, int *n_classes)
{
    double sum = 0.0;

    if (!labels || n <= 0 || !fr || k < 1 || k > DC_SPLIT_MAX)
        return dc_fail(DC_ERR_ARG,
                       "split: %d labels into %d parts, expected labels, n > 0 "
                       "and 1..%d fractions",
                       n, k, DC_SPLIT_MAX);
    for (int i = 0; i < k; i++) {
        if (!(fr[i] >= 0.0f) || !isfinite(fr[i]))
            return dc_fail(DC_ERR_ARG,
                           "split: fraction %d is %g, expected >= 0", i, fr[i]);
        sum += fr[i];
    }
    if (fabs(sum - 1.0) > 1e-4)
        return dc_fail(DC_ERR_ARG, "split: fractions sum to %g, expected 1",
                       sum);
    *n_classes = 0;
    for (int i = 0; i < n; i++) {
        if (labels[i] < 0)
            return dc_fail(DC_ERR_ARG, "split: label %d is %d, expected >= 0",
                           i, labels[i]);
        if (labels[i] >= *n_classes)
            *n_classes = labels[i] + 1;
    }
    return DC_OK;
}

/* How many of a class's m examples go to each part: floor(m f) each, then the
 * leftover examples one by one to the parts furthest below their overall target
 * so far (shortfall[i] = f[i] * examples seen before this class - examples
 * given), earlier parts first on ties. Every class is cut within one example of
 * its proportions, and the parts' totals stay within about one example of n f. */
static void split_counts(int m, const double *f, int k, double *shortfall,
                         int *count)
{
    double need[DC_SPLIT_MAX];
    int left = m;

    for (int i = 0; i < k; i++) {
        double want = m * f[i];
        count[i] = (int)floor(want);
        need[i] = shortfall[i] + want - count[i];
        left -= count[i];
    }
    while (left-- > 0) {
        int best = 0;
        for (int i = 1; i < k; i++)
            if (need[i] > need[best])
                best = i;
        count[best]++;
        need[best] -= 1.0;
    }
    for (int i = 0; i < k; i++)
        shortfall[i] += m * f[i] - count[i];
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;

    return (x > y) - (x < y);
}

/* byclass: example indices grouped by class, ascending within; start[c] ..
 * start[c+1]. */
static dc_status group_by_class(const int *labels, int n, int n_classes,
                                int **byclass, int **start)
{
    int *fill;

    *byclass = dc_malloc((size_t)n * sizeof(int), "split indices");
    *start =
        dc_calloc((size_t)n_classes + 1, sizeof(int), "split class starts");
    fill = dc_calloc((size_t)n_classes, sizeof(int), "split class fill");
    if (!*byclass || !*start || !fill) {
        free(fill);
        return DC_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++)
        (*start)[labels[i] + 1]++;
    for (int c = 0; c < n_classes; c++)
        (*start)[c + 1] += (*start)[c];
    for (int i = 0; i < n; i++)
        (*byclass)[(*start)[labels[i]] + fill[labels[i]]++] = i;
    free(fill);
    return DC_OK;
}

/* counts[c * k + i]: class c's examples in part i; then each part's memory. */
static dc_status split_alloc(const int *start, int n_classes, const double *f,
                             int k, int **counts, dc_split *out)
{
    double shortfall[DC_SPLIT_MAX] = {0};

    *counts = dc_malloc((size_t)n_classes * k * sizeof(int), "split counts");
    if (!*counts)
        return DC_ERR_NOMEM;
    for (int c = 0; c < n_classes; c++) {
        int *count = *counts + (size_t)c * k;
        split_counts(start[c + 1] - start[c], f, k, shortfall, count);
        for (int i = 0; i < k; i++)
            out->n[i] += count[i];
    }
    for (int i = 0; i < k; i++)
        if (!(out->idx[i] =
                  dc_malloc((size_t)out->n[i] * sizeof(int), "split part")))
            return DC_ERR_NOMEM;
    return DC_OK;
}

dc_status dc_split_stratified(const int *labels, int n, const float *fractions,
                              int n_splits, uint64_t seed, dc_split *out)
{
    int n_classes, *byclass = NULL, *start = NULL, *counts = NULL,
                   fill[DC_SPLIT_MAX] = {0};
    double f[DC_SPLIT_MAX], sum = 0.0;
    dc_rng rng;
    dc_status st;

    memset(out, 0, sizeof *out);
    if ((st = check_split_args(labels, n, fractions, n_splits, &n_classes)) !=
        DC_OK)
        return st;
    for (int i = 0; i < n_splits; i++)
        sum += fractions[i];
    for (int i = 0; i < n_splits; i++)
        f[i] = fractions[i] / sum;
    out->n_splits = n_splits;
    if ((st = group_by_class(labels, n, n_classes, &byclass, &start)) ||
        (st = split_alloc(start, n_classes, f, n_splits, &counts, out)))
        goto done;

    /* One generator for all classes, in class order: the split is a function of
     * the labels and the seed alone. */
    dc_rng_seed(&rng, seed);
    for (int c = 0; c < n_classes; c++) {
        int m = start[c + 1] - start[c], *v = byclass + start[c];
        const int *count = counts + (size_t)c * n_splits;
        dc_rng_shuffle(&rng, v, m);
        for (int i = 0; i < n_splits; v += count[i], i++) {
            memcpy(out->idx[i] + fill[i], v, (size_t)count[i] * sizeof(int));
            fill[i] += count[i];
        }
    }
    for (int i = 0; i < n_splits; i++)
        qsort(out->idx[i], (size_t)out->n[i], sizeof(int), cmp_int);

done:
    free(byclass);
    free(start);
    free(counts);
    if (st != DC_OK)
        dc_split_deinit(out);
    return st;
}

void dc_split_deinit(dc_split *s)
{
    for (int i = 0; i < DC_SPLIT_MAX; i++)
        free(s->idx[i]);
    memset(s, 0, sizeof *s);
}
