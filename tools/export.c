/* export.c - `deepc export --c MODEL.safetensors [-o OUT.c] [--classes LIST]`: the
 * dog-emotion CNN of experiments/dog_net.h, with its trained weights, as one C source
 * file that needs nothing but libm.
 *
 * The checkpoint is checked tensor by tensor (present, shape, finite values, variances
 * not negative). Each batch norm is folded into the layer before it, in double, then
 * rounded once to float: w' = w s, b' = (b - mean) s + beta, s = gamma / sqrt(var + eps)
 * per output channel (a block's depthwise convolution has no batch norm of its own, so
 * the block's is folded into its pointwise convolution). Floats are printed with %.9g,
 * which reads back as the same float. The generated inference runs the eval-mode forward
 * on one image in float, keeping activations as pixels of channels (HWC) in two static
 * buffers; see the comment it opens with.
 * Leaves out: other networks and output languages, batches, quantisation. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

#include "deepc/io.h"
#include "deepc/tensor.h"
#include "deepc/text.h"
#include "dog_net.h"
#include "export.h"

#define EXIT_USAGE 2
#define BN_EPS 1e-5          /* BatchNorm's eps, as in dc_batchnorm_layer */
#define STEM_OUT 16
#define HIDDEN 128           /* head.fc1's outputs */
#define WIDEST 128           /* the most channels of any layer with a batch norm */
#define MAX_CLASSES 1000
#define MAX_NAME 256         /* bytes in one class name */
#define PER_LINE 5           /* floats per line of the generated arrays */

/* The network of dog_net.c: block i maps block_in(i) channels to block_out[i]. */
static const int block_out[DOG_BLOCKS] = {32, 32, 64, 64, 128, 128};
static const int block_stride[DOG_BLOCKS] = {2, 1, 2, 1, 2, 1};
static const char *const default_classes[] = {"angry", "happy", "relaxed", "sad"};

static const char usage_text[] =
    "usage: deepc export --c MODEL.safetensors [-o OUT.c] [--classes LIST]\n"
    "\n"
    "Writes the dog-emotion CNN in MODEL (a dog-emotion run's model.safetensors) as one\n"
    "C file needing only libm, batch norm folded into the layers before it. The file\n"
    "defines dogemotion_classes(), dogemotion_class_name(i), dogemotion_max_side() and\n"
    "dogemotion_predict(image, h, w, logits); its opening comment says how to use them.\n"
    "\n"
    "  --c        the checkpoint to export (C is the only output language)\n"
    "  -o, --out  the C file to write (default: MODEL with .safetensors replaced by .c)\n"
    "  --classes  the class names in label order, comma-separated (default: the names\n"
    "             the run stored in the checkpoint; for a checkpoint without them,\n"
    "             angry,happy,relaxed,sad, the dog-emotion dataset's sorted folders)\n";

typedef struct export_opts {
    const char *model;
    const char *out;
    const char *names[MAX_CLASSES];
    int n_classes;
    int classes_given;         /* --classes was on the command line */
    char out_buf[4096];        /* the default output path */
    char names_buf[8192];      /* --classes, split in place at the commas */
} export_opts;

typedef struct bn_params {
    const dc_tensor *gamma, *beta, *mean, *var;
} bn_params;

/* The checkpoint's tensors (borrowed from the dc_safetensors), checked. */
typedef struct export_net {
    const dc_tensor *stem_w, *stem_b;
    bn_params stem_bn;
    const dc_tensor *dw[DOG_BLOCKS], *pw[DOG_BLOCKS];
    bn_params block_bn[DOG_BLOCKS];
    const dc_tensor *fc1_w, *fc1_b, *fc2_w, *fc2_b;
    bn_params head_bn;
} export_net;

typedef struct emitter {
    FILE *fp;
    const char *model;  /* the checkpoint's path, for messages */
    size_t floats;      /* constants written so far */
} emitter;

static int block_in(int i)
{
    return i == 0 ? STEM_OUT : block_out[i - 1];
}

/* ---- the command line ---- */

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "deepc: export: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (deepc export --help)\n");
    return EXIT_USAGE;
}

/* Splits "a,b,c" into o->names; 0 or a usage exit status. */
static int parse_classes(const char *list, export_opts *o)
{
    char *p = o->names_buf;

    if (strlen(list) >= sizeof o->names_buf)
        return usage_error("--classes: %zu bytes, at most %zu", strlen(list),
                           sizeof o->names_buf - 1);
    strcpy(o->names_buf, list);
    o->n_classes = 0;
    o->classes_given = 1;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (!*p || strlen(p) > MAX_NAME)
            return usage_error("--classes %s: class %d's name has %zu bytes, expected 1 "
                               "to %d", list, o->n_classes + 1, strlen(p), MAX_NAME);
        for (int i = 0; i < o->n_classes; i++)
            if (!strcmp(o->names[i], p))
                return usage_error("--classes %s: \"%s\" is named twice", list, p);
        if (o->n_classes == MAX_CLASSES)
            return usage_error("--classes: more than %d names", MAX_CLASSES);
        o->names[o->n_classes++] = p;
        if (!comma)
            return 0;
        p = comma + 1;
    }
}

/* A stored class name goes into C strings and the program's output: it must be UTF-8
 * and differ from the names before it. */
static dc_status check_stored_name(const export_opts *o, const char *name, size_t n)
{
    if (dc_utf8_check(name, n) != n)
        return dc_fail(DC_ERR_FORMAT, "%s: metadata \"classes\": name %d is not UTF-8 (give "
                       "the names with --classes)", o->model, o->n_classes + 1);
    for (int i = 0; i < o->n_classes; i++)
        if (!strcmp(o->names[i], name))
            return dc_fail(DC_ERR_FORMAT, "%s: metadata \"classes\": \"%s\" is named twice "
                           "(give the names with --classes)", o->model, name);
    return DC_OK;
}

/* The class names a run stored in the checkpoint's metadata ("classes": a JSON array of
 * strings), unless --classes named them; a checkpoint without them keeps the defaults. */
static dc_status classes_from_checkpoint(const dc_safetensors *st, export_opts *o)
{
    const char *json = dc_safetensors_meta(st, "classes");
    cJSON *list, *item;
    size_t used = 0;
    dc_status s = DC_OK;

    if (o->classes_given || !json)
        return DC_OK;
    list = cJSON_Parse(json);
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1
        || cJSON_GetArraySize(list) > MAX_CLASSES)
        s = dc_fail(DC_ERR_FORMAT, "%s: metadata \"classes\" is not a list of 1 to %d names "
                    "(give them with --classes)", o->model, MAX_CLASSES);
    o->n_classes = 0;
    cJSON_ArrayForEach(item, list) {
        size_t n = cJSON_IsString(item) ? strlen(item->valuestring) : 0;
        if (s != DC_OK)
            break;
        if (n < 1 || n > MAX_NAME || used + n + 1 > sizeof o->names_buf) {
            s = dc_fail(DC_ERR_FORMAT, "%s: metadata \"classes\": name %d is not a string of "
                        "1 to %d bytes (give the names with --classes)", o->model,
                        o->n_classes + 1, MAX_NAME);
            break;
        }
        if ((s = check_stored_name(o, item->valuestring, n)) != DC_OK)
            break;
        o->names[o->n_classes++] = memcpy(o->names_buf + used, item->valuestring, n + 1);
        used += n + 1;
    }
    cJSON_Delete(list);
    return s;
}

/* MODEL with ".safetensors" replaced by ".c" (or ".c" appended). */
static int default_out(export_opts *o)
{
    const char *ext = ".safetensors";
    size_t n = strlen(o->model), e = strlen(ext);

    if (n > e && !strcmp(o->model + n - e, ext))
        n -= e;
    if (n + 3 > sizeof o->out_buf)
        return usage_error("--c %s: path too long to derive the output's; give -o", o->model);
    memcpy(o->out_buf, o->model, n);
    strcpy(o->out_buf + n, ".c");
    o->out = o->out_buf;
    return 0;
}

/* Whether a and b name one existing file (the same path spelt two ways, or a link). */
static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    if (!strcmp(a, b))
        return 1;
    return !stat(a, &sa) && !stat(b, &sb) && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static int parse_args(int argc, char **argv, export_opts *o)
{
    int rc;

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--c") && strcmp(a, "-o") && strcmp(a, "--out")
            && strcmp(a, "--classes"))
            return usage_error("unknown argument %s (valid: --c MODEL.safetensors, -o OUT.c, "
                               "--classes LIST, --help)", a);
        if (!v || !*v)
            return usage_error("%s needs a non-empty value", a);
        i++;
        if (!strcmp(a, "--c"))
            o->model = v;
        else if (!strcmp(a, "--classes")) {
            if ((rc = parse_classes(v, o)))
                return rc;
        } else
            o->out = v;
    }

    if (!o->model)
        return usage_error("no checkpoint: expected --c MODEL.safetensors");
    if (!o->out && (rc = default_out(o)))
        return rc;
    if (same_file(o->out, o->model))
        return usage_error("-o %s would overwrite the checkpoint", o->out);
    return 0;
}

/* ---- the checkpoint ---- */

static char *shape_str(int ndim, const int *shape, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "[");

    for (int i = 0; i < ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, "%s%d", i ? "," : "", shape[i]);
    if (used < n)
        snprintf(buf + used, n - used, "]");
    return buf;
}

/* The tensor called `name` with the given shape and the values dc_params_load accepts,
 * or NULL with a message naming the file and the tensor. */
static const dc_tensor *need(const dc_safetensors *st, const char *path, const char *name,
                             int ndim, const int *shape)
{
    const dc_tensor *t = dc_safetensors_find(st, name);
    char want[64], got[64];

    shape_str(ndim, shape, want, sizeof want);
    if (!t) {
        dc_fail(DC_ERR_FORMAT, "%s: tensor %s is missing (expected shape %s)", path, name,
                want);
        return NULL;
    }
    if (t->ndim != ndim || memcmp(t->shape, shape, sizeof *shape * (size_t)ndim)) {
        dc_fail(DC_ERR_SHAPE, "%s: tensor %s has shape %s, expected %s", path, name,
                dc_shape_str(t, got, sizeof got), want);
        return NULL;
    }
    if (dc_params_check_values(path, name, t) != DC_OK)
        return NULL;
    return t;
}

/* "<prefix>.weight", ".bias", ".running_mean", ".running_var", each [n]. */
static dc_status need_bn(const dc_safetensors *st, const char *path, const char *prefix,
                         int n, bn_params *bn)
{
    static const char *const parts[4] = {"weight", "bias", "running_mean", "running_var"};
    const dc_tensor **dst[4] = {&bn->gamma, &bn->beta, &bn->mean, &bn->var};
    char name[160]; /* room for a 127-byte prefix and ".running_mean" */

    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s.%s", prefix, parts[i]);
        if (!(*dst[i] = need(st, path, name, 1, &n)))
            return DC_ERR_FORMAT;
    }
    return DC_OK;
}

static dc_status need_blocks(const dc_safetensors *st, const char *path, export_net *net)
{
    char name[128];

    for (int i = 0; i < DOG_BLOCKS; i++) {
        int c = block_in(i), co = block_out[i];
        int dw_shape[4] = {c, 1, 3, 3}, pw_shape[4] = {co, c, 1, 1};

        snprintf(name, sizeof name, "blocks.%d.depthwise.weight", i);
        if (!(net->dw[i] = need(st, path, name, 4, dw_shape)))
            return DC_ERR_FORMAT;
        snprintf(name, sizeof name, "blocks.%d.pointwise.weight", i);
        if (!(net->pw[i] = need(st, path, name, 4, pw_shape)))
            return DC_ERR_FORMAT;
        snprintf(name, sizeof name, "blocks.%d.bn", i);
        if (need_bn(st, path, name, co, &net->block_bn[i]))
            return DC_ERR_FORMAT;
    }
    return DC_OK;
}

/* head.fc2.weight's rows are the classes: a count that differs from the names given
 * gets its own message, since the fix is on the command line. */
static dc_status check_classes(const dc_safetensors *st, const char *path, int classes)
{
    const dc_tensor *t = dc_safetensors_find(st, "head.fc2.weight");

    if (t && t->ndim == 2 && t->shape[1] == HIDDEN && t->shape[0] != classes)
        return dc_fail(DC_ERR_SHAPE, "%s: tensor head.fc2.weight has shape [%d,%d]: %d "
                       "classes, but %d class names were given (default: angry,happy,"
                       "relaxed,sad; name them with --classes)", path, t->shape[0],
                       HIDDEN, t->shape[0], classes);
    return DC_OK;
}

/* Checks every tensor of the network in module order, so the first fault is named. */
static dc_status need_net(const dc_safetensors *st, const char *path, int classes,
                          export_net *net)
{
    int stem[4] = {STEM_OUT, 3, 3, 3}, fc1[2] = {HIDDEN, block_out[DOG_BLOCKS - 1]};
    int fc2[2] = {classes, HIDDEN}, n_stem = STEM_OUT, n_hidden = HIDDEN;

    if (!(net->stem_w = need(st, path, "stem.conv.weight", 4, stem))
        || !(net->stem_b = need(st, path, "stem.conv.bias", 1, &n_stem))
        || need_bn(st, path, "stem.bn", STEM_OUT, &net->stem_bn)
        || need_blocks(st, path, net)
        || !(net->fc1_w = need(st, path, "head.fc1.weight", 2, fc1))
        || !(net->fc1_b = need(st, path, "head.fc1.bias", 1, &n_hidden))
        || need_bn(st, path, "head.bn", HIDDEN, &net->head_bn)
        || check_classes(st, path, classes)
        || !(net->fc2_w = need(st, path, "head.fc2.weight", 2, fc2))
        || !(net->fc2_b = need(st, path, "head.fc2.bias", 1, &classes)))
        return DC_ERR_FORMAT;
    return DC_OK;
}

/* ---- writing the C file ---- */

/* v as a C float literal that reads back as the same float: %.9g has the digits any
 * float needs; ".0" where it printed an integer ("3f" is no literal), then the f suffix
 * so the compiler rounds the decimal to float directly, not through double. */
static void put_float(FILE *fp, float v)
{
    char s[32];

    snprintf(s, sizeof s, "%.9g", v);
    fputs(s, fp);
    if (!strpbrk(s, ".e"))
        fputs(".0", fp);
    fputc('f', fp);
}

/* A class name as a C string literal: quote, backslash and '?' (which could start a
 * trigraph under -std=c11) escaped, other bytes outside printable ASCII in octal. */
static void put_c_string(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\' || *p == '?')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(fp, "\\%03o", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

/* A path inside a comment: only characters that cannot end it or splice lines. */
static void put_comment_text(FILE *fp, const char *s)
{
    for (; *s; s++)
        fputc(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+/",
                      *s) ? *s : '_', fp);
}

/* s[c] = gamma[c] / sqrt(var[c] + eps), in double so the fold adds one rounding only. */
static void bn_scale(const bn_params *bn, double *s)
{
    for (size_t c = 0; c < bn->gamma->size; c++)
        s[c] = bn->gamma->data[c] / sqrt((double)bn->var->data[c] + BN_EPS);
}

/* One folded value, refused if it leaves float's range. */
static dc_status put_value(emitter *e, double v, const char *tensor, size_t i)
{
    float f = (float)v;

    if (!isfinite(f))
        return dc_fail(DC_ERR_FORMAT, "%s: folding batch norm into %s gives %g at index %zu, "
                       "beyond float's range", e->model, tensor, v, i);
    fputs(i % PER_LINE ? " " : "\n    ", e->fp);
    put_float(e->fp, f);
    fputc(',', e->fp);
    return DC_OK;
}

/* static const float NAME[] = w, each output row r (w's first axis) times scale[r]
 * (scale NULL: 1). */
static dc_status emit_weights(emitter *e, const char *name, const char *tensor,
                              const dc_tensor *w, const double *scale)
{
    size_t per_row = w->size / (size_t)w->shape[0];

    fprintf(e->fp, "static const float %s[%zu] = {", name, w->size);
    for (size_t i = 0; i < w->size; i++)
        if (put_value(e, scale ? w->data[i] * scale[i / per_row] : w->data[i], tensor, i))
            return DC_ERR_FORMAT;
    fputs("\n};\n\n", e->fp);
    e->floats += w->size;
    return DC_OK;
}

/* static const float NAME[n] = (b - mean) s + beta with bn, b without (b NULL: 0). */
static dc_status emit_bias(emitter *e, const char *name, const char *tensor, int n,
                           const dc_tensor *b, const bn_params *bn, const double *s)
{
    fprintf(e->fp, "static const float %s[%d] = {", name, n);
    for (int i = 0; i < n; i++) {
        double v = b ? b->data[i] : 0.0;
        if (bn)
            v = (v - bn->mean->data[i]) * s[i] + bn->beta->data[i];
        if (put_value(e, v, tensor, (size_t)i))
            return DC_ERR_FORMAT;
    }
    fputs("\n};\n\n", e->fp);
    e->floats += (size_t)n;
    return DC_OK;
}

static dc_status emit_stem(emitter *e, const export_net *net)
{
    double s[WIDEST];

    bn_scale(&net->stem_bn, s);
    fputs("/* stem.conv with stem.bn folded in: weight [16][3][3][3], bias [16]. */\n", e->fp);
    if (emit_weights(e, "stem_w", "stem.conv.weight", net->stem_w, s)
        || emit_bias(e, "stem_b", "stem.conv.bias", STEM_OUT, net->stem_b, &net->stem_bn, s))
        return DC_ERR_FORMAT;
    return DC_OK;
}

static dc_status emit_block(emitter *e, const export_net *net, int i)
{
    char name[32], tensor[64];
    double s[WIDEST];

    fprintf(e->fp, "/* blocks.%d: depthwise [%d][3][3]; pointwise [%d][%d] with blocks.%d.bn "
            "folded in, and its bias. */\n", i, block_in(i), block_out[i], block_in(i), i);
    snprintf(name, sizeof name, "block%d_dw", i);
    snprintf(tensor, sizeof tensor, "blocks.%d.depthwise.weight", i);
    if (emit_weights(e, name, tensor, net->dw[i], NULL))
        return DC_ERR_FORMAT;

    bn_scale(&net->block_bn[i], s);
    snprintf(name, sizeof name, "block%d_pw", i);
    snprintf(tensor, sizeof tensor, "blocks.%d.pointwise.weight", i);
    if (emit_weights(e, name, tensor, net->pw[i], s))
        return DC_ERR_FORMAT;
    snprintf(name, sizeof name, "block%d_pb", i);
    return emit_bias(e, name, tensor, block_out[i], NULL, &net->block_bn[i], s);
}

static void emit_int_table(FILE *fp, const char *name, const int *v)
{
    fprintf(fp, "static const int %s[DOGEMOTION_BLOCKS] = {", name);
    for (int i = 0; i < DOG_BLOCKS; i++)
        fprintf(fp, "%s%d", i ? ", " : "", v[i]);
    fputs("};\n", fp);
}

static void emit_ptr_table(FILE *fp, const char *name, const char *suffix)
{
    fprintf(fp, "static const float *const %s[DOGEMOTION_BLOCKS] = {", name);
    for (int i = 0; i < DOG_BLOCKS; i++)
        fprintf(fp, "%sblock%d_%s", i ? ", " : "", i, suffix);
    fputs("};\n", fp);
}

static void emit_block_tables(FILE *fp)
{
    int in[DOG_BLOCKS];

    for (int i = 0; i < DOG_BLOCKS; i++)
        in[i] = block_in(i);
    fputs("/* Block i maps block_in[i] channels to block_out[i] at block_stride[i]. */\n", fp);
    emit_int_table(fp, "block_in", in);
    emit_int_table(fp, "block_out", block_out);
    emit_int_table(fp, "block_stride", block_stride);
    emit_ptr_table(fp, "block_dw", "dw");
    emit_ptr_table(fp, "block_pw", "pw");
    emit_ptr_table(fp, "block_pb", "pb");
    fputs("\n", fp);
}

static dc_status emit_head(emitter *e, const export_net *net, int classes)
{
    double s[WIDEST];

    bn_scale(&net->head_bn, s);
    fprintf(e->fp, "/* head.fc1 with head.bn folded in: weight [%d][%d], bias [%d]; head.fc2: "
            "weight [%d][%d], bias [%d]. */\n", HIDDEN, block_out[DOG_BLOCKS - 1], HIDDEN,
            classes, HIDDEN, classes);
    if (emit_weights(e, "fc1_w", "head.fc1.weight", net->fc1_w, s)
        || emit_bias(e, "fc1_b", "head.fc1.bias", HIDDEN, net->fc1_b, &net->head_bn, s)
        || emit_weights(e, "fc2_w", "head.fc2.weight", net->fc2_w, NULL)
        || emit_bias(e, "fc2_b", "head.fc2.bias", classes, net->fc2_b, NULL, NULL))
        return DC_ERR_FORMAT;
    return DC_OK;
}

/* The generated file's opening comment: what it is and how to call it. */
static void emit_intro(emitter *e, const export_opts *o)
{
    FILE *fp = e->fp;

    fputs("/* ", fp);
    put_comment_text(fp, o->out);
    fputs(" - the dog-emotion CNN of deepc (experiments/dog_net.h) and\n"
          " * its trained weights, written by `deepc export --c` " DC_VERSION " from\n * ", fp);
    put_comment_text(fp, o->model);
    fprintf(fp, ".\n * Self-contained C11 that needs only libm: cc -O2 -c FILE.c, link with -lm."
            "\n *\n"
            " *   int dogemotion_classes(void);           number of classes (%d)\n"
            " *   const char *dogemotion_class_name(int); class i's name; NULL out of range\n"
            " *   int dogemotion_max_side(void);          largest h or w predict accepts\n"
            " *   void dogemotion_predict(const float *image, int h, int w, float *logits);\n"
            " *\n", o->n_classes);
    fputs(" * image: one RGB image [3][h][w] (three planes of h rows of w), pixels / 255\n"
          " * normalised per channel with ImageNet's mean (0.485, 0.456, 0.406) and std\n"
          " * (0.229, 0.224, 0.225), as in training, which resized images to image_size x\n"
          " * image_size (64 by default); any size from 1 x 1 to DOGEMOTION_MAX_SIDE works.\n"
          " * logits: dogemotion_classes() floats; the class is the largest, softmax gives\n"
          " * probabilities. Eval mode: running statistics, dropout off; each batch norm is\n"
          " * folded into the layer before it.\n"
          " * Limitation: predict works in two static buffers of 16 * DOGEMOTION_MAX_SIDE^2\n"
          " * floats (8 MiB at the default 256), so it is not reentrant: threads calling it\n"
          " * at once need a lock. Define DOGEMOTION_MAX_SIDE (>= 8) when compiling to move\n"
          " * the bound; a larger image gets NaN logits. */\n", fp);
}

static void emit_preamble(emitter *e, const export_opts *o)
{
    fprintf(e->fp, "#include <math.h>\n#include <stddef.h>\n\n"
            "#ifndef DOGEMOTION_MAX_SIDE\n#define DOGEMOTION_MAX_SIDE 256\n#endif\n"
            "#if DOGEMOTION_MAX_SIDE < 8\n"
            "#error DOGEMOTION_MAX_SIDE must be at least 8 for the buffers to hold every layer\n"
            "#endif\n"
            "#define DOGEMOTION_CLASSES %d\n#define DOGEMOTION_BLOCKS %d\n"
            "#define DOGEMOTION_STEM %d     /* the stem's output channels */\n"
            "#define DOGEMOTION_WIDEST %d  /* the most channels of any layer */\n"
            "#define DOGEMOTION_FEATURES %d /* channels of the last block, pooled */\n"
            "#define DOGEMOTION_HIDDEN %d\n\n", o->n_classes, DOG_BLOCKS, STEM_OUT, WIDEST,
            block_out[DOG_BLOCKS - 1], HIDDEN);
    fputs("int dogemotion_classes(void);\nconst char *dogemotion_class_name(int i);\n"
          "int dogemotion_max_side(void);\n"
          "void dogemotion_predict(const float *image, int h, int w, float *logits);\n\n"
          "static const char *const class_names[DOGEMOTION_CLASSES] = {\n", e->fp);
    for (int i = 0; i < o->n_classes; i++) {
        fputs("    ", e->fp);
        put_c_string(e->fp, o->names[i]);
        fputs(",\n", e->fp);
    }
    fputs("};\n\n", e->fp);
}

/* The inference code, the same for every checkpoint; one string per function. */
static const char *const inference_code[] = {
    "/* Activations of one image, alternating between the two buffers as pixels of\n"
    " * channels ([h][w][c]); the stem's output is the largest of them. */\n"
    "static float act_a[(size_t)DOGEMOTION_STEM * DOGEMOTION_MAX_SIDE * DOGEMOTION_MAX_SIDE];\n"
    "static float act_b[(size_t)DOGEMOTION_STEM * DOGEMOTION_MAX_SIDE * DOGEMOTION_MAX_SIDE];\n"
    "\n",

    "/* image [3][h][w] -> out [h][w][16]: the 3x3 stem convolution (padding 1) with its\n"
    " * batch norm folded in, then ReLU. */\n"
    "static void stem(const float *image, int h, int w, float *out)\n"
    "{\n"
    "    for (int y = 0; y < h; y++)\n"
    "        for (int x = 0; x < w; x++)\n"
    "            for (int k = 0; k < DOGEMOTION_STEM; k++) {\n"
    "                float s = stem_b[k];\n"
    "                for (int c = 0; c < 3; c++)\n"
    "                    for (int ky = 0; ky < 3; ky++)\n"
    "                        for (int kx = 0; kx < 3; kx++) {\n"
    "                            int iy = y + ky - 1, ix = x + kx - 1;\n"
    "                            if (iy < 0 || iy >= h || ix < 0 || ix >= w)\n"
    "                                continue;\n"
    "                            s += stem_w[((k * 3 + c) * 3 + ky) * 3 + kx]\n"
    "                                 * image[((ptrdiff_t)c * h + iy) * w + ix];\n"
    "                        }\n"
    "                out[((ptrdiff_t)y * w + x) * DOGEMOTION_STEM + k] = s > 0.0f ? s : 0.0f;\n"
    "            }\n"
    "}\n\n",

    "/* dw[c] = sum of the depthwise 3x3 kernels k [c][3][3] over the window of in\n"
    " * [h][w][c] whose corner is (top, left); outside the image is zero (padding). */\n"
    "static void depthwise(const float *k, const float *in, int h, int w, int c, int top,\n"
    "                      int left, float *dw)\n"
    "{\n"
    "    for (int ch = 0; ch < c; ch++)\n"
    "        dw[ch] = 0.0f;\n"
    "    for (int ky = 0; ky < 3; ky++)\n"
    "        for (int kx = 0; kx < 3; kx++) {\n"
    "            int iy = top + ky, ix = left + kx;\n"
    "            if (iy < 0 || iy >= h || ix < 0 || ix >= w)\n"
    "                continue;\n"
    "            const float *p = in + ((ptrdiff_t)iy * w + ix) * c;\n"
    "            for (int ch = 0; ch < c; ch++)\n"
    "                dw[ch] += k[ch * 9 + ky * 3 + kx] * p[ch];\n"
    "        }\n"
    "}\n\n",

    "/* y[o] = b[o] + sum_i wt[o][i] x[i] for o < n_out, then ReLU if relu. */\n"
    "static void dense(const float *wt, const float *b, const float *x, int n_in, int n_out,\n"
    "                  int relu, float *y)\n"
    "{\n"
    "    for (int o = 0; o < n_out; o++) {\n"
    "        const float *row = wt + (ptrdiff_t)o * n_in;\n"
    "        float s = b[o];\n"
    "        for (int i = 0; i < n_in; i++)\n"
    "            s += row[i] * x[i];\n"
    "        y[o] = relu && s < 0.0f ? 0.0f : s;\n"
    "    }\n"
    "}\n\n",

    "/* Block i: in [h][w][c] -> out [oh][ow][c'], oh = (h - 1) / stride + 1 (likewise ow):\n"
    " * depthwise 3x3 (padding 1), pointwise 1x1 with the block's batch norm folded in,\n"
    " * ReLU. A pixel's depthwise result is used at once, so it needs no buffer. */\n"
    "static void block(int i, const float *in, int *h, int *w, float *out)\n"
    "{\n"
    "    const int c = block_in[i], co = block_out[i], st = block_stride[i];\n"
    "    const int oh = (*h - 1) / st + 1, ow = (*w - 1) / st + 1;\n"
    "    float dw[DOGEMOTION_WIDEST];\n"
    "\n"
    "    for (int y = 0; y < oh; y++)\n"
    "        for (int x = 0; x < ow; x++) {\n"
    "            depthwise(block_dw[i], in, *h, *w, c, y * st - 1, x * st - 1, dw);\n"
    "            dense(block_pw[i], block_pb[i], dw, c, co, 1,\n"
    "                  out + ((ptrdiff_t)y * ow + x) * co);\n"
    "        }\n"
    "    *h = oh;\n"
    "    *w = ow;\n"
    "}\n\n",

    "/* in [n][features] (n pixels) -> logits: global average pool (summed in double),\n"
    " * fc1 with head.bn folded in, ReLU, fc2; dropout is the identity at inference. */\n"
    "static void head(const float *in, int n, float *logits)\n"
    "{\n"
    "    float pooled[DOGEMOTION_FEATURES], hidden[DOGEMOTION_HIDDEN];\n"
    "\n"
    "    for (int c = 0; c < DOGEMOTION_FEATURES; c++) {\n"
    "        double s = 0.0;\n"
    "        for (int p = 0; p < n; p++)\n"
    "            s += (double)in[(ptrdiff_t)p * DOGEMOTION_FEATURES + c];\n"
    "        pooled[c] = (float)(s / n);\n"
    "    }\n"
    "    dense(fc1_w, fc1_b, pooled, DOGEMOTION_FEATURES, DOGEMOTION_HIDDEN, 1, hidden);\n"
    "    dense(fc2_w, fc2_b, hidden, DOGEMOTION_HIDDEN, DOGEMOTION_CLASSES, 0, logits);\n"
    "}\n\n",

    "int dogemotion_classes(void)\n"
    "{\n"
    "    return DOGEMOTION_CLASSES;\n"
    "}\n\n"
    "const char *dogemotion_class_name(int i)\n"
    "{\n"
    "    return i >= 0 && i < DOGEMOTION_CLASSES ? class_names[i] : NULL;\n"
    "}\n\n"
    "int dogemotion_max_side(void)\n"
    "{\n"
    "    return DOGEMOTION_MAX_SIDE;\n"
    "}\n\n",

    "/* Not reentrant (static buffers); an h or w outside 1..DOGEMOTION_MAX_SIDE gives NaN\n"
    " * logits, without reading the image. */\n"
    "void dogemotion_predict(const float *image, int h, int w, float *logits)\n"
    "{\n"
    "    float *in = act_a, *out = act_b;\n"
    "\n"
    "    if (h < 1 || w < 1 || h > DOGEMOTION_MAX_SIDE || w > DOGEMOTION_MAX_SIDE) {\n"
    "        for (int k = 0; k < DOGEMOTION_CLASSES; k++)\n"
    "            logits[k] = NAN;\n"
    "        return;\n"
    "    }\n"
    "    stem(image, h, w, in);\n"
    "    for (int i = 0; i < DOGEMOTION_BLOCKS; i++) {\n"
    "        float *t = in;\n"
    "        block(i, in, &h, &w, out);\n"
    "        in = out;\n"
    "        out = t;\n"
    "    }\n"
    "    head(in, h * w, logits);\n"
    "}\n",
    NULL,
};

static dc_status emit_all(emitter *e, const export_opts *o, const export_net *net)
{
    emit_intro(e, o);
    fputs("\n", e->fp);
    emit_preamble(e, o);
    if (emit_stem(e, net))
        return DC_ERR_FORMAT;
    for (int i = 0; i < DOG_BLOCKS; i++)
        if (emit_block(e, net, i))
            return DC_ERR_FORMAT;
    if (emit_head(e, net, o->n_classes))
        return DC_ERR_FORMAT;
    emit_block_tables(e->fp);
    for (int i = 0; inference_code[i]; i++)
        fputs(inference_code[i], e->fp);
    return DC_OK;
}

/* Writes the whole file through a temporary one, so a failure leaves nothing behind. */
static dc_status write_c(const export_opts *o, const export_net *net, size_t *floats)
{
    dc_atomic_file af;
    emitter e = {0};
    dc_status st;

    if ((st = dc_atomic_open(&af, o->out)) != DC_OK)
        return st;
    e.fp = af.fp;
    e.model = o->model;
    if ((st = emit_all(&e, o, net)) != DC_OK) {
        dc_atomic_abort(&af);
        return st;
    }
    *floats = e.floats;
    return dc_atomic_commit(&af);
}

int export_main(int argc, char **argv)
{
    static export_opts o;  /* static: its buffers are large for a stack */
    dc_safetensors *st;
    export_net net;
    size_t floats = 0;
    int rc;

    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return 0;
        }
    memset(&o, 0, sizeof o);
    o.n_classes = 4;
    memcpy(o.names, default_classes, sizeof default_classes);
    if ((rc = parse_args(argc, argv, &o)))
        return rc;

    if (!(st = dc_safetensors_load(o.model))) {
        fprintf(stderr, "deepc: export: %s\n", dc_last_error());
        return 1;
    }
    rc = classes_from_checkpoint(st, &o) == DC_OK
         && need_net(st, o.model, o.n_classes, &net) == DC_OK
         && write_c(&o, &net, &floats) == DC_OK ? 0 : 1;
    if (rc)
        fprintf(stderr, "deepc: export: %s\n", dc_last_error());
    else
        printf("deepc export: wrote %s: %d classes, %zu constants (batch norm folded)\n",
               o.out, o.n_classes, floats);
    dc_safetensors_free(st);
    return rc;
}
