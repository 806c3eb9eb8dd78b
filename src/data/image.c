/* image.c - reading JPEG (libjpeg-turbo) and PNG (libpng) files into 8-bit RGB,
 * and the dc_image memory helpers.
 *
 * Both decoders read from memory (the whole file first), so a file that ends
 * early is seen as such: libjpeg's memory source warns "Premature end of JPEG
 * file" and libpng's read callback runs out of bytes. libjpeg only warns about
 * corrupt entropy-coded data and pads the rest of the image with grey; those
 * warnings are turned into errors here, so a damaged file never becomes a
 * plausible-looking image. Both libraries report fatal errors by longjmp back
 * to the decode function.
 *
 * Leaves out: other formats (GIF, WebP, BMP, TIFF are recognised by their magic
 * bytes and refused by name), EXIF orientation (the pixels are taken as stored,
 * as PIL's open does), colour profiles. Resizing is in resize.c, transforms in
 * transforms.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "deepc/image.h"
#include "deepc/io.h"
#include "deepc/log.h"

#define MSG_LEN 256

/* ---- dc_image memory ---- */

void dc_image_init(dc_image *img)
{
    memset(img, 0, sizeof *img);
}

void dc_image_deinit(dc_image *img)
{
    free(img->data);
    dc_image_init(img);
}

dc_status dc_image_reserve(dc_image *img, int c, int h, int w)
{
    size_t need;

    if (c < 1 || c > 4 || h < 1 || w < 1 || h > DC_IMAGE_MAX_SIDE ||
        w > DC_IMAGE_MAX_SIDE)
        return dc_fail(
            DC_ERR_ARG,
            "image: size [%d,%d,%d], expected 1-4 channels and sides "
            "1..%d",
            c, h, w, DC_IMAGE_MAX_SIDE);
    need = (size_t)c * (size_t)h * (size_t)w;

    /* Memory only grows, so a loop over images settles at its largest one. */
    if (need > img->cap) {
        float *p = realloc(img->data, need * sizeof(float));
        if (!p)
            return dc_fail(DC_ERR_NOMEM,
                           "image: out of memory: %zu bytes for [%d,%d,%d]",
                           need * sizeof(float), c, h, w);
        img->data = p;
        img->cap = need;
    }
    img->c = c;
    img->h = h;
    img->w = w;
    return DC_OK;
}

void dc_image_ws_init(dc_image_ws *ws)
{
    dc_image_init(&ws->tmp);
    ws->mem = NULL;
    ws->cap = 0;
}

void dc_image_ws_deinit(dc_image_ws *ws)
{
    dc_image_deinit(&ws->tmp);
    free(ws->mem);
    ws->mem = NULL;
    ws->cap = 0;
}

void *dc_image_ws_scratch(dc_image_ws *ws, size_t bytes)
{
    void *p;

    if (bytes == 0)
        bytes = 1; /* a valid pointer even for nothing */
    if (bytes <= ws->cap)
        return ws->mem;

    /* Aligned for vector loads; the old contents are not needed, so no realloc. */
    bytes = (bytes + 63) / 64 * 64;
    p = aligned_alloc(64, bytes);
    if (!p) {
        dc_fail(DC_ERR_NOMEM, "image: out of memory: %zu bytes of scratch",
                bytes);
        return NULL;
    }
    free(ws->mem);
    ws->mem = p;
    ws->cap = bytes;
    return p;
}

/* ---- format detection ---- */

typedef enum fmt { FMT_JPEG, FMT_PNG, FMT_OTHER } fmt;

static const unsigned char png_magic[8] = {0x89, 'P',  'N',  'G',
                                           '\r', '\n', 0x1a, '\n'};

/* Names the formats people most often meet under an image name. */
static const char *other_format(const unsigned char *b, size_t n)
{
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return "GIF";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "WebP";
    if (n >= 2 && memcmp(b, "BM", 2) == 0)
        return "BMP";
    if (n >= 4 && (memcmp(b, "II*\0", 4) == 0 || memcmp(b, "MM\0*", 4) == 0))
        return "TIFF";
    if (n >= 12 && memcmp(b + 4, "ftyp", 4) == 0)
        return "HEIF/AVIF (ISO media)";
    return NULL;
}

static fmt detect(const unsigned char *b, size_t n)
{
    if (n >= 3 && b[0] == 0xff && b[1] == 0xd8 && b[2] == 0xff)
        return FMT_JPEG;
    if (n >= 8 && memcmp(b, png_magic, 8) == 0)
        return FMT_PNG;
    return FMT_OTHER;
}

static dc_status unsupported(const unsigned char *b, size_t n, const char *name)
{
    const char *what = other_format(b, n);
    char hex[3 * 8 + 1] = "";
    size_t len = 0;

    if (what)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: unsupported image format %s, expected JPEG or PNG",
                       name, what);
    for (size_t i = 0; i < n && i < 8; i++)
        len += (size_t)snprintf(hex + len, sizeof hex - len, "%s%02x",
                                i ? " " : "", b[i]);
    return dc_fail(
        DC_ERR_FORMAT,
        "%s: not a JPEG or PNG image: first bytes %s, expected ff d8 ff (JPEG) "
        "or 89 50 4e 47 (PNG)",
        name, hex);
}

static dc_status check_dims(const char *name, const char *kind, unsigned long h,
                            unsigned long w)
{
    if (h == 0 || w == 0 || h > DC_IMAGE_MAX_SIDE || w > DC_IMAGE_MAX_SIDE ||
        (unsigned long long)h * w > (unsigned long long)DC_IMAGE_MAX_PIXELS)
        return dc_fail(
            DC_ERR_FORMAT,
            "%s: %s header says %lux%lu pixels, expected sides 1..%d and at "
            "most %ld pixels",
            name, kind, w, h, DC_IMAGE_MAX_SIDE, (long)DC_IMAGE_MAX_PIXELS);
    return DC_OK;
}

/* ---- JPEG ---- */

/* Everything a JPEG decode touches after setjmp lives here, in the caller's
 * frame, so nothing the longjmp returns to is an indeterminate local. */
typedef struct jpeg_ctx {
    struct jpeg_decompress_struct cinfo;
    struct jpeg_error_mgr jerr;
    jmp_buf jmp;
    char msg[MSG_LEN];
    int code, parm;     /* a fatal error's libjpeg code and first number */
    int min_side;       /* > 0: the shorter side a reduced decode must keep */
    const char *name;
    unsigned char *rgb; /* the output, HWC */
    unsigned char *row; /* one row of 4-channel (CMYK) samples */
    dc_status st;       /* our own failure, when jpeg_run returns -1 */
} jpeg_ctx;

static void jpeg_error_exit(j_common_ptr cinfo)
{
    jpeg_ctx *ctx = (jpeg_ctx *)((char *)cinfo - offsetof(jpeg_ctx, cinfo));

    (*cinfo->err->format_message)(cinfo, ctx->msg);
    ctx->code = cinfo->err->msg_code;
    ctx->parm = cinfo->err->msg_parm.i[0];
    longjmp(ctx->jmp, 1);
}

/* Valid JPEGs that libjpeg-turbo's 8-bit API refuses are told apart from
 * damaged ones by libjpeg's message code: writes what is unsupported into out
 * and returns 1, or returns 0 for any other error. */
static int jpeg_unsupported(const jpeg_ctx *ctx, char *out, size_t n)
{
    int sof = ctx->parm;

    switch (ctx->code) {
    case JERR_BAD_PRECISION:
        snprintf(out, n, "%d-bit samples (only 8-bit JPEGs are read)", sof);
        return 1;
    case JERR_SOF_UNSUPPORTED:
        /* SOF3, 7, 11 and 15 are lossless; SOF5, 6, 13 and 14 hierarchical. */
        snprintf(out, n,
                 "%s (SOF type 0x%02x; only baseline, extended and "
                 "progressive JPEGs are read)",
                 (sof & 3) == 3   ? "lossless coding"
                 : (sof & 4) != 0 ? "hierarchical coding"
                                  : "coding process",
                 sof);
        return 1;
    case JERR_ARITH_NOTIMPL:
        snprintf(out, n, "arithmetic coding (this libjpeg lacks it)");
        return 1;
    default:
        return 0;
    }
}

/* Warnings that mean image data is missing or damaged; libjpeg carries on with
 * grey or garbage after them, so they are fatal here. */
static int jpeg_warning_is_corruption(int code)
{
    switch (code) {
    case JWRN_HIT_MARKER:
    case JWRN_JPEG_EOF:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_TOO_MUCH_DATA:
        return 1;
    default:
        return 0;
    }
}

static void jpeg_emit_message(j_common_ptr cinfo, int level)
{
    jpeg_ctx *ctx = (jpeg_ctx *)((char *)cinfo - offsetof(jpeg_ctx, cinfo));
    char text[JMSG_LENGTH_MAX];

    if (level >= 0)
        return; /* trace messages */
    (*cinfo->err->format_message)(cinfo, text);
    if (jpeg_warning_is_corruption(cinfo->err->msg_code)) {
        snprintf(ctx->msg, sizeof ctx->msg, "%s", text);
        longjmp(ctx->jmp, 1);
    }
    /* Harmless surprises (an unknown JFIF revision, a bad thumbnail size). */
    dc_log(DC_LOG_DEBUG, "%s: libjpeg warning: %s", ctx->name, text);
}

/* CMYK to RGB as PIL does it: R = (255 - C)(255 - K) / 255, rounded. With an
 * Adobe marker the samples are stored inverted (255 - ink), as Photoshop writes
 * them. */
static void cmyk_row_to_rgb(const unsigned char *in, unsigned char *out, int w,
                            int inverted)
{
    for (int x = 0; x < w; x++, in += 4, out += 3) {
        int k = inverted ? in[3] : 255 - in[3];
        for (int ch = 0; ch < 3; ch++) {
            int keep = inverted ? in[ch] : 255 - in[ch];
            int t = keep * k + 128;
            out[ch] = (unsigned char)(((t >> 8) + t) >> 8);
        }
    }
}

static void jpeg_choose_output(jpeg_ctx *ctx)
{
    struct jpeg_decompress_struct *ci = &ctx->cinfo;

    /* libjpeg converts grey, RGB and YCbCr to RGB itself and YCCK to CMYK; CMYK
     * to RGB is done here. */
    if (ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK)
        ci->out_color_space = JCS_CMYK;
    else
        ci->out_color_space = JCS_RGB;
}

/* With a size hint, libjpeg's DCT scaling decodes at 1/2, 1/4 or 1/8: the
 * largest reduction whose shorter side (libjpeg rounds sides up) still holds
 * min_side, so a big photo never needs its full-size pixels in memory. */
static void jpeg_choose_scale(jpeg_ctx *ctx)
{
    struct jpeg_decompress_struct *ci = &ctx->cinfo;
    unsigned long shorter = ci->image_width < ci->image_height
                                ? ci->image_width
                                : ci->image_height;

    if (ctx->min_side <= 0)
        return;
    for (unsigned denom = 8; denom >= 2; denom /= 2)
        if ((shorter + denom - 1) / denom >= (unsigned long)ctx->min_side) {
            ci->scale_num = 1;
            ci->scale_denom = denom;
            return;
        }
}

static void jpeg_read_rows(jpeg_ctx *ctx, int cmyk)
{
    struct jpeg_decompress_struct *ci = &ctx->cinfo;
    size_t stride = (size_t)ci->output_width * 3;

    while (ci->output_scanline < ci->output_height) {
        unsigned char *dst = ctx->rgb + (size_t)ci->output_scanline * stride;
        JSAMPROW row = cmyk ? ctx->row : dst;
        if (jpeg_read_scanlines(ci, &row, 1) != 1)
            ERREXIT(ci, JERR_INPUT_EMPTY);
        if (cmyk)
            cmyk_row_to_rgb(ctx->row, dst, (int)ci->output_width,
                            ci->saw_Adobe_marker);
    }
}

/* The part that longjmp may leave; returns 0, or 1 when libjpeg failed
 * (ctx->msg says why) and -1 for our own failures (dc_fail already called). */
static int jpeg_run(jpeg_ctx *ctx, const unsigned char *buf, size_t n, int *h,
                    int *w)
{
    struct jpeg_decompress_struct *ci = &ctx->cinfo;
    int cmyk;

    if (setjmp(ctx->jmp))
        return 1;
    jpeg_mem_src(ci, buf, (unsigned long)n);
    jpeg_read_header(ci, TRUE);
    if ((ctx->st =
             check_dims(ctx->name, "JPEG", ci->image_height, ci->image_width)))
        return -1;
    jpeg_choose_output(ctx);
    jpeg_choose_scale(ctx);
    jpeg_start_decompress(ci);

    cmyk = ci->out_color_space == JCS_CMYK;
    if (ci->output_components != (cmyk ? 4 : 3)) {
        ctx->st = dc_fail(DC_ERR_FORMAT,
                          "%s: JPEG decodes to %d components, expected %d",
                          ctx->name, ci->output_components, cmyk ? 4 : 3);
        return -1;
    }
    ctx->rgb =
        dc_malloc((size_t)ci->output_width * ci->output_height * 3, ctx->name);
    ctx->row = cmyk ? dc_malloc((size_t)ci->output_width * 4, ctx->name) : NULL;
    if (!ctx->rgb || (cmyk && !ctx->row)) {
        ctx->st = DC_ERR_NOMEM;
        return -1;
    }
    jpeg_read_rows(ctx, cmyk);
    jpeg_finish_decompress(ci);
    *h = (int)ci->output_height;
    *w = (int)ci->output_width;
    return 0;
}

static dc_status decode_jpeg(const unsigned char *buf, size_t n,
                             const char *name, int min_side,
                             unsigned char **rgb, int *h, int *w)
{
    jpeg_ctx ctx;
    char why[MSG_LEN];
    int r;

    memset(&ctx, 0, sizeof ctx);
    ctx.name = name;
    ctx.min_side = min_side;
    ctx.cinfo.err = jpeg_std_error(&ctx.jerr);
    ctx.jerr.error_exit = jpeg_error_exit;
    ctx.jerr.emit_message = jpeg_emit_message;
    jpeg_create_decompress(&ctx.cinfo);

    r = jpeg_run(&ctx, buf, n, h, w);
    jpeg_destroy_decompress(&ctx.cinfo);
    free(ctx.row);
    if (r != 0) {
        free(ctx.rgb);
        if (r > 0 && jpeg_unsupported(&ctx, why, sizeof why))
            return dc_fail(DC_ERR_FORMAT, "%s: unsupported JPEG: %s", name,
                           why);
        if (r > 0)
            return dc_fail(DC_ERR_FORMAT, "%s: corrupt JPEG: %s", name,
                           ctx.msg);
        return ctx.st;
    }
    *rgb = ctx.rgb;
    return DC_OK;
}

/* ---- PNG ---- */

typedef struct png_ctx {
    png_structp png;
    png_infop info;
    char msg[2 * MSG_LEN + 8];
    char warning[MSG_LEN]; /* the last warning: libpng often explains an error
                              in one */
    const char *name;
    const unsigned char *buf;
    size_t n, pos;
    unsigned char *rgb;
    png_bytep *rows;
    dc_status st; /* our own failure, when png_run returns -1 */
} png_ctx;

static void png_on_error(png_structp png, png_const_charp text)
{
    png_ctx *ctx = png_get_error_ptr(png);

    if (ctx->warning[0])
        snprintf(ctx->msg, sizeof ctx->msg, "%s (%s)", text, ctx->warning);
    else
        snprintf(ctx->msg, sizeof ctx->msg, "%s", text);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp text)
{
    png_ctx *ctx = png_get_error_ptr(png);

    /* Ancillary-chunk complaints (a known-bad sRGB profile, say) do not touch
     * pixels; the text is kept for an error that may follow ("Invalid IHDR
     * data" comes after the warning that says which field is wrong). */
    snprintf(ctx->warning, sizeof ctx->warning, "%s", text);
    dc_log(DC_LOG_DEBUG, "%s: libpng warning: %s", ctx->name, text);
}

static void png_read_mem(png_structp png, png_bytep out, png_size_t len)
{
    png_ctx *ctx = png_get_io_ptr(png);

    if (len > ctx->n - ctx->pos) {
        snprintf(ctx->msg, sizeof ctx->msg,
                 "file ends early: %zu more bytes needed at byte %zu of %zu",
                 (size_t)len, ctx->pos, ctx->n);
        png_longjmp(png, 1);
    }
    memcpy(out, ctx->buf + ctx->pos, len);
    ctx->pos += len;
}

/* Asks libpng for 8-bit RGB whatever the file holds. */
static void png_want_rgb8(png_structp png)
{
    png_set_expand(
        png); /* palette to RGB, grey below 8 bits to 8, tRNS to alpha */
    png_set_strip_16(png); /* the high byte, as PIL reads 16-bit RGB */
    png_set_gray_to_rgb(png);
    png_set_strip_alpha(
        png); /* PIL's convert("RGB") drops alpha, no blending */
    png_set_interlace_handling(png);
}

static int png_run(png_ctx *ctx, int *h, int *w)
{
    png_uint_32 width, height;
    size_t stride;

    if (setjmp(png_jmpbuf(ctx->png)))
        return 1;

    /* A bad CRC is an error in every chunk, not only the critical ones. */
    png_set_crc_action(ctx->png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
    png_set_read_fn(ctx->png, ctx, png_read_mem);
    png_read_info(ctx->png, ctx->info);
    width = png_get_image_width(ctx->png, ctx->info);
    height = png_get_image_height(ctx->png, ctx->info);
    if ((ctx->st = check_dims(ctx->name, "PNG", height, width)))
        return -1;
    png_want_rgb8(ctx->png);
    png_read_update_info(ctx->png, ctx->info);

    stride = png_get_rowbytes(ctx->png, ctx->info);
    if (stride != (size_t)width * 3) {
        ctx->st =
            dc_fail(DC_ERR_FORMAT,
                    "%s: PNG rows of %zu bytes after conversion, expected %zu",
                    ctx->name, stride, (size_t)width * 3);
        return -1;
    }
    ctx->rgb = dc_malloc(stride * height, ctx->name);
    ctx->rows = dc_malloc(height * sizeof(png_bytep), ctx->name);
    if (!ctx->rgb || !ctx->rows) {
        ctx->st = DC_ERR_NOMEM;
        return -1;
    }
    for (png_uint_32 y = 0; y < height; y++)
        ctx->rows[y] = ctx->rgb + y * stride;
    png_read_image(ctx->png, ctx->rows);

    /* Reading to IEND checks the CRCs after the image data and that nothing is
     * cut. */
    png_read_end(ctx->png, NULL);
    *h = (int)height;
    *w = (int)width;
    return 0;
}

static dc_status decode_png(const unsigned char *buf, size_t n,
                            const char *name, unsigned char **rgb, int *h,
                            int *w)
{
    png_ctx ctx;
    int r;

    memset(&ctx, 0, sizeof ctx);
    ctx.name = name;
    ctx.buf = buf;
    ctx.n = n;
    ctx.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, png_on_error,
                                     png_on_warning);
    ctx.info = ctx.png ? png_create_info_struct(ctx.png) : NULL;
    if (!ctx.info) {
        png_destroy_read_struct(&ctx.png, NULL, NULL);
        return dc_fail(DC_ERR_NOMEM, "%s: cannot create a PNG reader", name);
    }

    r = png_run(&ctx, h, w);
    png_destroy_read_struct(&ctx.png, &ctx.info, NULL);
    free(ctx.rows);
    if (r != 0) {
        free(ctx.rgb);
        if (r > 0)
            return dc_fail(DC_ERR_FORMAT, "%s: corrupt PNG: %s", name, ctx.msg);
        return ctx.st;
    }
    *rgb = ctx.rgb;
    return DC_OK;
}

/* ---- public decoding ---- */

/* Limitation: only JPEG decodes at a reduced size (libjpeg's DCT scaling); a PNG is
 * decoded whole before any shrinking, so a small, highly compressible PNG that declares
 * 16000 x 16000 pixels costs 768 MB per decode (a 4 GB peak measured while caching an
 * image folder), up to DC_IMAGE_MAX_PIXELS. */
dc_status dc_image_decode_rgb8_scaled(const unsigned char *bytes, size_t n,
                                      const char *name, int min_side,
                                      unsigned char **rgb, int *h, int *w)
{
    if (!name)
        name = "(memory)";
    if (!bytes || !rgb || !h || !w)
        return dc_fail(DC_ERR_ARG,
                       "%s: decode needs the bytes and three outputs", name);
    if (n == 0)
        return dc_fail(DC_ERR_FORMAT,
                       "%s: empty file, expected a JPEG or PNG image", name);

    switch (detect(bytes, n)) {
    case FMT_JPEG:
        return decode_jpeg(bytes, n, name, min_side, rgb, h, w);
    case FMT_PNG:
        return decode_png(bytes, n, name, rgb, h, w);
    default:
        return unsupported(bytes, n, name);
    }
}

dc_status dc_image_decode_rgb8(const unsigned char *bytes, size_t n,
                               const char *name, unsigned char **rgb, int *h,
                               int *w)
{
    return dc_image_decode_rgb8_scaled(bytes, n, name, 0, rgb, h, w);
}

dc_status dc_image_load_rgb8_scaled(const char *path, int min_side,
                                    unsigned char **rgb, int *h, int *w)
{
    unsigned char *bytes;
    size_t n;
    dc_status st;

    if (!path)
        return dc_fail(DC_ERR_ARG, "image: path is NULL");
    if ((st = dc_file_read(path, &bytes, &n)) != DC_OK)
        return st;
    st = dc_image_decode_rgb8_scaled(bytes, n, path, min_side, rgb, h, w);
    free(bytes);
    return st;
}

dc_status dc_image_load_rgb8(const char *path, unsigned char **rgb, int *h,
                             int *w)
{
    return dc_image_load_rgb8_scaled(path, 0, rgb, h, w);
}

dc_status dc_image_from_rgb8(dc_image *img, const unsigned char *rgb, int h,
                             int w)
{
    size_t plane = (size_t)h * (size_t)w;
    float scale[256];
    dc_status st;

    if ((st = dc_image_reserve(img, 3, h, w)) != DC_OK)
        return st;

    /* A table rather than a multiply, so that 255 maps to exactly 1.0f. */
    for (int v = 0; v < 256; v++)
        scale[v] = (float)v / 255.0f;
    for (size_t i = 0; i < plane; i++) {
        img->data[i] = scale[rgb[3 * i]];
        img->data[plane + i] = scale[rgb[3 * i + 1]];
        img->data[2 * plane + i] = scale[rgb[3 * i + 2]];
    }
    return DC_OK;
}

void dc_image_to_rgb8(const dc_image *img, unsigned char *rgb)
{
    size_t plane = (size_t)img->h * (size_t)img->w;

    for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++) {
            float v = img->data[c * plane + i];
            v = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
            rgb[3 * i + c] = (unsigned char)(v * 255.0f + 0.5f);
        }
}

dc_status dc_image_load(const char *path, dc_image *img)
{
    unsigned char *rgb;
    int h, w;
    dc_status st = dc_image_load_rgb8(path, &rgb, &h, &w);

    if (st != DC_OK)
        return st;
    st = dc_image_from_rgb8(img, rgb, h, w);
    free(rgb);
    return st;
}
