/* Tests of src/data/image.c: JPEG and PNG decoding to RGB. JPEGs of every
 * colour space, progressive and with restart markers, are written by libjpeg
 * here; PNGs of every colour type and depth by libpng; broken files (truncated,
 * corrupt, bad CRC, empty, zero or absurd sizes, other formats) are made from
 * them. A real photo from dog-emotion is checked against Pillow 13's decode of
 * the same file (figures from tests/data/test_image_resize.c's script). */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

#include "deepc/data.h"
#include "deepc/image.h"

#define TESTUTIL_TAG "image"
#include "testutil.h"

/* ---- checks ---- */

/* Decoding `path` must fail with `status` and a message naming it and
 * containing `text`. */
static void expect_fail(const char *path, dc_status status, const char *text)
{
    unsigned char *rgb = NULL;
    int h = -1, w = -1;
    dc_status st = dc_image_load_rgb8(path, &rgb, &h, &w);

    cr_assert_eq(st, status, "%s: status %d, expected %d (%s)", path, st,
                 status, dc_last_error());
    cr_assert_null(rgb);
    cr_assert(strstr(dc_last_error(), path),
              "message does not name the file: %s", dc_last_error());
    cr_assert(strstr(dc_last_error(), text), "message lacks \"%s\": %s", text,
              dc_last_error());
}

/* ---- a test pattern: smooth, so JPEG keeps it close ---- */

static unsigned char pat(int c, int y, int x, int h, int w)
{
    if (c == 0)
        return (unsigned char)(x * 255 / (w - 1));
    if (c == 1)
        return (unsigned char)(y * 255 / (h - 1));
    return (unsigned char)((x + y) * 255 / (w + h - 2));
}

/* Decodes `path` and compares with want(c, y, x): the largest and the mean
 * error. */
static void compare(const char *path, int h, int w,
                    unsigned char (*want)(int, int, int), int max_err,
                    double mean_err)
{
    unsigned char *rgb;
    int gh, gw, worst = 0;
    double sum = 0.0;

    cr_assert_eq(dc_image_load_rgb8(path, &rgb, &gh, &gw), DC_OK, "%s",
                 dc_last_error());
    cr_assert(gh == h && gw == w, "size %dx%d, expected %dx%d", gh, gw, h, w);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                int d = abs(rgb[(y * w + x) * 3 + c] - want(c, y, x));
                worst = d > worst ? d : worst;
                sum += d;
            }
    free(rgb);
    cr_assert(worst <= max_err, "%s: largest error %d, expected <= %d", path,
              worst, max_err);
    cr_assert(sum / (3.0 * h * w) <= mean_err,
              "%s: mean error %g, expected <= %g", path, sum / (3.0 * h * w),
              mean_err);
}

#define H 32
#define W 48

static unsigned char want_rgb(int c, int y, int x)
{
    return pat(c, y, x, H, W);
}

static unsigned char want_grey(int c, int y, int x)
{
    return pat(0, y, x, H, W);
}

/* CMYK with ink C = 255 - R (likewise M, Y) and K = 64 shows R * (255 - 64) /
 * 255. */
static unsigned char want_cmyk(int c, int y, int x)
{
    return (unsigned char)((pat(c, y, x, H, W) * 191 + 127) / 255);
}

/* ---- writing JPEGs with libjpeg ---- */

typedef struct jpeg_spec {
    J_COLOR_SPACE in_space; /* what the pixels given are */
    int comps;
    J_COLOR_SPACE
        store; /* colour space in the file; JCS_UNKNOWN: libjpeg's default */
    int progressive, restart, no_adobe;
} jpeg_spec;

/* Pixels for the spec: RGB pattern, grey, or CMYK (inverted when an Adobe
 * marker will be written, as Photoshop stores it). */
static void fill_pixels(const jpeg_spec *s, unsigned char *px)
{
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            unsigned char *p = px + (y * W + x) * s->comps;
            for (int c = 0; c < s->comps && s->comps != 4; c++)
                p[c] = pat(c, y, x, H, W);
            if (s->comps == 4) {
                for (int c = 0; c < 3; c++)
                    p[c] = s->no_adobe ? 255 - pat(c, y, x, H, W)
                                       : pat(c, y, x, H, W);
                p[3] = s->no_adobe ? 64 : 255 - 64;
            }
        }
}

static void write_jpeg(const char *path, const jpeg_spec *s, int w, int h,
                       int quality)
{
    struct jpeg_compress_struct ci;
    struct jpeg_error_mgr err;
    unsigned char px[H * W * 4], *mem = NULL;
    unsigned long size = 0;

    fill_pixels(s, px);
    ci.err = jpeg_std_error(&err);
    jpeg_create_compress(&ci);
    jpeg_mem_dest(&ci, &mem, &size);
    ci.image_width = (JDIMENSION)w;
    ci.image_height = (JDIMENSION)h;
    ci.input_components = s->comps;
    ci.in_color_space = s->in_space;
    jpeg_set_defaults(&ci);
    if (s->store != JCS_UNKNOWN)
        jpeg_set_colorspace(&ci, s->store);
    if (s->no_adobe)
        ci.write_Adobe_marker = FALSE;
    jpeg_set_quality(&ci, quality, TRUE);
    if (s->progressive)
        jpeg_simple_progression(&ci);
    ci.restart_interval = (unsigned)s->restart;
    jpeg_start_compress(&ci, TRUE);
    while (ci.next_scanline < ci.image_height) {
        JSAMPROW row = px + ci.next_scanline * w * s->comps;
        jpeg_write_scanlines(&ci, &row, 1);
    }
    jpeg_finish_compress(&ci);
    jpeg_destroy_compress(&ci);
    write_file(path, mem, size);
    free(mem);
}

/* Writes a W x H JPEG of spec `s` at quality 95 and checks its decode against
 * want() within the given largest and mean errors. */
static void jpeg_case(jpeg_spec s, unsigned char (*want)(int, int, int),
                      int max_err, double mean_err)
{
    write_jpeg(in_tmp("a.jpg"), &s, W, H, 95);
    compare(in_tmp("a.jpg"), H, W, want, max_err, mean_err);
}

/* The bytes of a W x H JPEG of spec `s` at quality 95, also left as tmp/a.jpg
 * (malloc'd); *n gets their number. */
static unsigned char *jpeg_bytes(jpeg_spec s, size_t *n)
{
    write_jpeg(in_tmp("a.jpg"), &s, W, H, 95);
    return read_file(in_tmp("a.jpg"), n);
}

/* ---- JPEG: colour spaces and coding modes ---- */

TestSuite(image_jpeg, .init = make_tmp, .fini = remove_tmp);

Test(image_jpeg, baseline_ycbcr)
{
    jpeg_case((jpeg_spec){JCS_RGB, 3, JCS_UNKNOWN, 0, 0, 0}, want_rgb, 12, 2.0);
}

Test(image_jpeg, rgb_stored_without_ycbcr)
{
    jpeg_case((jpeg_spec){JCS_RGB, 3, JCS_RGB, 0, 0, 0}, want_rgb, 12, 2.0);
}

Test(image_jpeg, progressive)
{
    jpeg_case((jpeg_spec){JCS_RGB, 3, JCS_UNKNOWN, 1, 0, 0}, want_rgb, 12, 2.0);
}

Test(image_jpeg, restart_markers)
{
    size_t n;
    unsigned char *b =
        jpeg_bytes((jpeg_spec){JCS_RGB, 3, JCS_UNKNOWN, 0, 1, 0}, &n);
    int rst = 0;

    for (size_t i = 0; i + 1 < n; i++)
        rst += b[i] == 0xff && b[i + 1] >= 0xd0 && b[i + 1] <= 0xd7;
    free(b);
    cr_assert_gt(rst, 2, "the file has %d restart markers, expected several",
                 rst);
    compare(in_tmp("a.jpg"), H, W, want_rgb, 12, 2.0);
}

Test(image_jpeg, grayscale_becomes_three_equal_channels)
{
    jpeg_case((jpeg_spec){JCS_GRAYSCALE, 1, JCS_UNKNOWN, 0, 0, 0},
              want_grey, 6, 1.5);
}

Test(image_jpeg, cmyk_adobe_inverted)
{
    jpeg_case((jpeg_spec){JCS_CMYK, 4, JCS_UNKNOWN, 0, 0, 0},
              want_cmyk, 12, 2.0);
}

Test(image_jpeg, cmyk_plain_without_adobe_marker)
{
    jpeg_case((jpeg_spec){JCS_CMYK, 4, JCS_UNKNOWN, 0, 0, 1},
              want_cmyk, 12, 2.0);
}

Test(image_jpeg, ycck)
{
    jpeg_case((jpeg_spec){JCS_CMYK, 4, JCS_YCCK, 0, 0, 0}, want_cmyk, 12, 2.0);
}

Test(image_jpeg, float_image_is_bytes_over_255)
{
    jpeg_spec s = {JCS_RGB, 3, JCS_UNKNOWN, 0, 0, 0};
    unsigned char *rgb;
    int h, w;
    dc_image img;

    write_jpeg(in_tmp("a.jpg"), &s, W, H, 90);
    cr_assert_eq(dc_image_load_rgb8(in_tmp("a.jpg"), &rgb, &h, &w), DC_OK);
    dc_image_init(&img);
    cr_assert_eq(dc_image_load(in_tmp("a.jpg"), &img), DC_OK, "%s",
                 dc_last_error());
    cr_assert(img.c == 3 && img.h == H && img.w == W);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < H * W; i++)
            cr_assert_eq(img.data[c * H * W + i], rgb[3 * i + c] / 255.0f);
    free(rgb);
    dc_image_deinit(&img);
}

/* ---- JPEG: broken files ---- */

/* Offset of the SOF marker's height field, for patching sizes. */
static size_t sof_height_at(const unsigned char *b, size_t n)
{
    for (size_t i = 2; i + 9 < n; i++)
        if (b[i] == 0xff && (b[i + 1] == 0xc0 || b[i + 1] == 0xc2))
            return i + 5;
    cr_assert_fail("no SOF marker");
    return 0;
}

static void patched_size(const char *src, const char *dst, int h, int w)
{
    size_t n, at;
    unsigned char *b = read_file(src, &n);

    at = sof_height_at(b, n);
    b[at] = (unsigned char)(h >> 8);
    b[at + 1] = (unsigned char)h;
    b[at + 2] = (unsigned char)(w >> 8);
    b[at + 3] = (unsigned char)w;
    write_file(dst, b, n);
    free(b);
}

Test(image_jpeg, truncated_is_an_error_not_grey)
{
    size_t n;
    unsigned char *b =
        jpeg_bytes((jpeg_spec){JCS_RGB, 3, JCS_UNKNOWN, 0, 0, 0}, &n);

    write_file(in_tmp("cut.jpg"), b, n * 6 / 10);
    free(b);
    expect_fail(in_tmp("cut.jpg"), DC_ERR_FORMAT, "Premature end of JPEG file");
}

Test(image_jpeg, truncated_progressive)
{
    size_t n;
    unsigned char *b =
        jpeg_bytes((jpeg_spec){JCS_RGB, 3, JCS_UNKNOWN, 1, 0, 0}, &n);

    write_file(in_tmp("cut.jpg"), b, n - 40);
    free(b);
    expect_fail(in_tmp("cut.jpg"), DC_ERR_FORMAT, "corrupt JPEG");
}

Test(image_jpeg, marker_inside_the_data_is_an_error)
{
    size_t n;
    unsigned char *b =
        jpeg_bytes((jpeg_spec){JCS_RGB, 3, JCS_UNKNOWN, 0, 0, 0}, &n);

    /* An EOI in the middle of the entropy-coded data: libjpeg warns "premature
     * end of data segment" and would pad with grey. */
    b[n - 200] = 0xff;
    b[n - 199] = 0xd9;
    write_file(in_tmp("bad.jpg"), b, n);
    free(b);
    expect_fail(in_tmp("bad.jpg"), DC_ERR_FORMAT, "Corrupt JPEG data");
}

Test(image_jpeg, header_garbage_is_an_error)
{
    static const unsigned char junk[] = {0xff, 0xd8, 0xff, 0xe0, 0x00,
                                         0x02, 0x12, 0x34, 0x56};

    write_file(in_tmp("j.jpg"), junk, sizeof junk);
    expect_fail(in_tmp("j.jpg"), DC_ERR_FORMAT, "corrupt JPEG");
}

Test(image_jpeg, zero_size)
{
    jpeg_spec s = {JCS_RGB, 3, JCS_UNKNOWN, 0, 0, 0};

    write_jpeg(in_tmp("a.jpg"), &s, W, H, 95);
    patched_size(in_tmp("a.jpg"), in_tmp("z.jpg"), 0, W);
    expect_fail(in_tmp("z.jpg"), DC_ERR_FORMAT, "Empty JPEG image");
}

Test(image_jpeg, absurd_sizes)
{
    jpeg_spec s = {JCS_RGB, 3, JCS_UNKNOWN, 0, 0, 0};

    write_jpeg(in_tmp("a.jpg"), &s, W, H, 95);
    patched_size(in_tmp("a.jpg"), in_tmp("wide.jpg"), 40, 40000);
    expect_fail(in_tmp("wide.jpg"), DC_ERR_FORMAT, "40000x40 pixels");
    patched_size(in_tmp("a.jpg"), in_tmp("big.jpg"), 20000, 20000);
    expect_fail(in_tmp("big.jpg"), DC_ERR_FORMAT, "at most 268435456 pixels");
}

/* A baseline JPEG whose SOF0 marker is rewritten to type `sof` with sample
 * precision `bits`: how a 12-bit (SOF1) or lossless (SOF3) file starts, which
 * libjpeg-turbo's 8-bit reader refuses while reading the header. */
static void patched_sof(const char *dst, int sof, int bits)
{
    size_t n, at;
    unsigned char *b =
        jpeg_bytes((jpeg_spec){JCS_RGB, 3, JCS_UNKNOWN, 0, 0, 0}, &n);

    at = sof_height_at(b, n);
    b[at - 4] = (unsigned char)sof;
    b[at - 1] = (unsigned char)bits;
    write_file(dst, b, n);
    free(b);
}

Test(image_jpeg, twelve_bit_is_unsupported_not_corrupt)
{
    patched_sof(in_tmp("deep.jpg"), 0xc1, 12);
    expect_fail(in_tmp("deep.jpg"), DC_ERR_FORMAT,
                "deep.jpg: unsupported JPEG: 12-bit samples (only 8-bit JPEGs "
                "are read)");
    cr_assert_null(strstr(dc_last_error(), "corrupt"), "%s", dc_last_error());
    cr_assert_null(strchr(dc_last_error(), '\n'), "%s", dc_last_error());
}

Test(image_jpeg, lossless_is_unsupported_not_corrupt)
{
    /* libjpeg-turbo 3 reads lossless JPEGs; the 2.x in Debian 12 refuses them
     * by SOF type, as checked here. */
    if (LIBJPEG_TURBO_VERSION_NUMBER >= 3000000)
        cr_skip_test("this libjpeg-turbo reads lossless JPEGs");
    patched_sof(in_tmp("ll.jpg"), 0xc3, 8);
    expect_fail(in_tmp("ll.jpg"), DC_ERR_FORMAT,
                "ll.jpg: unsupported JPEG: lossless coding (SOF type 0xc3");
}

/* ---- other formats and files ---- */

TestSuite(image_format, .init = make_tmp, .fini = remove_tmp);

Test(image_format, empty_file)
{
    write_file(in_tmp("e.jpg"), "", 0);
    expect_fail(in_tmp("e.jpg"), DC_ERR_FORMAT, "empty file");
}

Test(image_format, missing_file)
{
    expect_fail(in_tmp("none.jpg"), DC_ERR_IO, "cannot open");
}

Test(image_format, gif_is_named)
{
    write_file(in_tmp("g.jpg"), "GIF89a\x01\x00\x01\x00\x00\x00\x00", 13);
    expect_fail(in_tmp("g.jpg"), DC_ERR_FORMAT, "unsupported image format GIF");
}

Test(image_format, webp_is_named)
{
    write_file(in_tmp("w.jpg"), "RIFF\x24\x00\x00\x00WEBPVP8 ", 16);
    expect_fail(in_tmp("w.jpg"), DC_ERR_FORMAT,
                "unsupported image format WebP");
}

Test(image_format, bmp_is_named)
{
    write_file(in_tmp("b.png"), "BM\x36\x00\x00\x00\x00\x00", 8);
    expect_fail(in_tmp("b.png"), DC_ERR_FORMAT, "unsupported image format BMP");
}

Test(image_format, text_shows_its_first_bytes)
{
    write_file(in_tmp("t.png"), "hello", 5);
    expect_fail(in_tmp("t.png"), DC_ERR_FORMAT, "first bytes 68 65 6c 6c 6f");
}

Test(image_format, extension_does_not_matter)
{
    jpeg_spec s = {JCS_RGB, 3, JCS_UNKNOWN, 0, 0, 0};

    /* A JPEG named .png decodes as the JPEG it is. */
    write_jpeg(in_tmp("really_a_jpeg.png"), &s, W, H, 95);
    compare(in_tmp("really_a_jpeg.png"), H, W, want_rgb, 12, 2.0);
}

/* ---- PNG ---- */

typedef struct png_spec {
    int color_type, depth, interlace, trns, text;
} png_spec;

/* The value every PNG test pixel should decode to, as 8 bits. */
static unsigned char png_want8(int c, int y, int x)
{
    return pat(c, y, x, H, W);
}

static void palette_of(png_color *pal, int n)
{
    for (int i = 0; i < n; i++)
        pal[i] = (png_color){(png_byte)(i * 17), (png_byte)(255 - i * 17),
                             (png_byte)(i * 5)};
}

/* One row of samples for the spec; 16-bit samples are (v << 8) | (255 - v) so
 * that only the high byte equals v. */
static void png_row(const png_spec *s, int y, unsigned char *row)
{
    int ch = s->color_type == PNG_COLOR_TYPE_RGB          ? 3
             : s->color_type == PNG_COLOR_TYPE_RGBA       ? 4
             : s->color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                                                          : 1;

    memset(row, 0, W * 8);
    for (int x = 0; x < W; x++)
        for (int c = 0; c < ch; c++) {
            int v = c < 3 ? pat(c, y, x, H, W) : 77; /* alpha 77: must vanish */
            if (s->color_type == PNG_COLOR_TYPE_GRAY_ALPHA && c == 1)
                v = 77;
            if (s->color_type == PNG_COLOR_TYPE_PALETTE)
                v = (x + y) % 16;
            else if (s->depth == 1)
                v = (x + y) % 2;
            if (s->depth == 16) {
                row[(x * ch + c) * 2] = (unsigned char)v;
                row[(x * ch + c) * 2 + 1] = (unsigned char)(255 - v);
            } else if (s->depth == 8) {
                row[x * ch + c] = (unsigned char)v;
            } else { /* 1 or 4 bits, most significant first */
                int per = 8 / s->depth, shift = 8 - s->depth * (x % per + 1);
                row[x / per] |= (unsigned char)(v << shift);
            }
        }
}

static void png_header(png_structp png, png_infop info, const png_spec *s)
{
    png_set_IHDR(png, info, W, H, s->depth, s->color_type, s->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[16];
        png_byte alpha[16];
        palette_of(pal, 16);
        memset(alpha, 40, sizeof alpha);
        png_set_PLTE(png, info, pal, 16);
        if (s->trns)
            png_set_tRNS(png, info, alpha, 16, NULL);
    } else if (s->trns) {
        png_color_16 key = {0, 10, 20, 30, 10};
        png_set_tRNS(png, info, NULL, 0, &key);
    }
    if (s->text) {
        png_text t = {.compression = PNG_TEXT_COMPRESSION_NONE,
                      .key = "Comment",
                      .text = "made by deepc's tests",
                      .text_length = 21};
        png_set_text(png, info, &t, 1);
    }
}

static void write_png(const char *path, const png_spec *s)
{
    FILE *fp = fopen(path, "wb");
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    static unsigned char rows[H][W * 8];
    png_bytep ptrs[H];

    cr_assert(fp && png && info);
    if (setjmp(png_jmpbuf(png)))
        cr_assert_fail("libpng failed writing %s", path);
    png_init_io(png, fp);
    png_header(png, info, s);
    for (int y = 0; y < H; y++) {
        png_row(s, y, rows[y]);
        ptrs[y] = rows[y];
    }
    png_set_rows(png, info, ptrs);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(fp);
}

static unsigned char want_palette(int c, int y, int x)
{
    png_color pal[16];
    png_color p;

    palette_of(pal, 16);
    p = pal[(x + y) % 16];
    return c == 0 ? p.red : c == 1 ? p.green : p.blue;
}

static unsigned char want_bits(int c, int y, int x)
{
    return (x + y) % 2 ? 255 : 0;
}

TestSuite(image_png, .init = make_tmp, .fini = remove_tmp);

static void png_case(png_spec s, unsigned char (*want)(int, int, int))
{
    write_png(in_tmp("a.png"), &s);
    compare(in_tmp("a.png"), H, W, want, 0, 0.0);
}

Test(image_png, rgb8)
{
    png_case((png_spec){PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, 0, 0},
             png_want8);
}

Test(image_png, rgba8_drops_alpha)
{
    png_case((png_spec){PNG_COLOR_TYPE_RGBA, 8, PNG_INTERLACE_NONE, 0, 0},
             png_want8);
}

Test(image_png, rgb16_keeps_the_high_byte)
{
    png_case((png_spec){PNG_COLOR_TYPE_RGB, 16, PNG_INTERLACE_NONE, 0, 0},
             png_want8);
}

Test(image_png, rgba16)
{
    png_case((png_spec){PNG_COLOR_TYPE_RGBA, 16, PNG_INTERLACE_NONE, 0, 0},
             png_want8);
}

Test(image_png, grey8)
{
    png_case((png_spec){PNG_COLOR_TYPE_GRAY, 8, PNG_INTERLACE_NONE, 0, 0},
             want_grey);
}

Test(image_png, grey16)
{
    png_case((png_spec){PNG_COLOR_TYPE_GRAY, 16, PNG_INTERLACE_NONE, 0, 0},
             want_grey);
}

Test(image_png, grey_alpha)
{
    png_case((png_spec){PNG_COLOR_TYPE_GRAY_ALPHA, 8, PNG_INTERLACE_NONE, 0, 0},
             want_grey);
}

Test(image_png, grey_1bit)
{
    png_case((png_spec){PNG_COLOR_TYPE_GRAY, 1, PNG_INTERLACE_NONE, 0, 0},
             want_bits);
}

Test(image_png, palette_4bit_with_trns)
{
    png_case((png_spec){PNG_COLOR_TYPE_PALETTE, 4, PNG_INTERLACE_NONE, 1, 0},
             want_palette);
}

Test(image_png, palette_8bit)
{
    png_case((png_spec){PNG_COLOR_TYPE_PALETTE, 8, PNG_INTERLACE_NONE, 0, 0},
             want_palette);
}

Test(image_png, rgb_with_trns_key)
{
    png_case((png_spec){PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, 1, 0},
             png_want8);
}

Test(image_png, interlaced)
{
    png_case((png_spec){PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_ADAM7, 0, 0},
             png_want8);
}

/* Offset of chunk `type`'s length field. */
static size_t chunk_at(const unsigned char *b, size_t n, const char *type)
{
    for (size_t i = 8; i + 8 <= n; i++)
        if (memcmp(b + i + 4, type, 4) == 0)
            return i;
    cr_assert_fail("no %s chunk", type);
    return 0;
}

static void corrupt_chunk(const char *type, const char *out)
{
    png_spec s = {PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, 0, 1};
    size_t n, at, len;
    unsigned char *b;

    write_png(in_tmp("a.png"), &s);
    b = read_file(in_tmp("a.png"), &n);
    at = chunk_at(b, n, type);

    /* A bit of the stored CRC itself, so that the data stays valid and only the
     * checksum can tell. */
    len = (size_t)b[at] << 24 | (size_t)b[at + 1] << 16 |
          (size_t)b[at + 2] << 8 | b[at + 3];
    b[at + 8 + len] ^= 0x01;
    write_file(out, b, n);
    free(b);
}

Test(image_png, bad_crc_in_image_data)
{
    corrupt_chunk("IDAT", in_tmp("crc.png"));
    expect_fail(in_tmp("crc.png"), DC_ERR_FORMAT, "CRC error");
}

Test(image_png, bad_crc_in_an_ancillary_chunk)
{
    corrupt_chunk("tEXt", in_tmp("crc.png"));
    expect_fail(in_tmp("crc.png"), DC_ERR_FORMAT, "CRC error");
}

Test(image_png, truncated)
{
    png_spec s = {PNG_COLOR_TYPE_RGB, 8, PNG_INTERLACE_NONE, 0, 0};
    size_t n;
    unsigned char *b;

    write_png(in_tmp("a.png"), &s);
    b = read_file(in_tmp("a.png"), &n);
    write_file(in_tmp("cut.png"), b, n / 2);
    write_file(in_tmp("noend.png"), b, n - 12); /* all but IEND */
    free(b);
    expect_fail(in_tmp("cut.png"), DC_ERR_FORMAT, "file ends early");
    expect_fail(in_tmp("noend.png"), DC_ERR_FORMAT, "file ends early");
}

/* A PNG of only a signature, an IHDR of the given size and an empty IDAT. */
static void write_header_only(const char *path, unsigned w, unsigned h)
{
    unsigned char b[8 + 25 + 12] = {0x89, 'P',  'N',  'G',
                                    '\r', '\n', 0x1a, '\n'};
    unsigned char *ihdr = b + 8, *idat = b + 33;
    uLong crc;

    ihdr[3] = 13;
    memcpy(ihdr + 4, "IHDR", 4);
    for (int i = 0; i < 4; i++) {
        ihdr[8 + i] = (unsigned char)(w >> (24 - 8 * i));
        ihdr[12 + i] = (unsigned char)(h >> (24 - 8 * i));
    }
    ihdr[16] = 8;
    ihdr[17] = 2;
    crc = crc32(0, ihdr + 4, 17);
    for (int i = 0; i < 4; i++)
        ihdr[21 + i] = (unsigned char)(crc >> (24 - 8 * i));
    memcpy(idat + 4, "IDAT", 4);
    crc = crc32(0, idat + 4, 4);
    for (int i = 0; i < 4; i++)
        idat[8 + i] = (unsigned char)(crc >> (24 - 8 * i));
    write_file(path, b, sizeof b);
}

Test(image_png, zero_width)
{
    write_header_only(in_tmp("z.png"), 0, 10);
    expect_fail(in_tmp("z.png"), DC_ERR_FORMAT, "width is zero");
}

Test(image_png, absurd_size)
{
    write_header_only(in_tmp("big.png"), 20000, 20000);
    expect_fail(in_tmp("big.png"), DC_ERR_FORMAT, "at most 268435456 pixels");
    write_header_only(in_tmp("wide.png"), 40000, 3);
    expect_fail(in_tmp("wide.png"), DC_ERR_FORMAT, "40000x3 pixels");
}

/* ---- a real photo against Pillow ---- */

#define DOG "happy/04FMq3exmYnLxQ85XzYhS0a9Mrb5Ic420.jpg"

Test(image_real, photo_matches_pillow)
{
    char dir[1024], path[1200];
    unsigned char *rgb;
    int h, w;
    long sum = 0;

    if (!find_dogs(dir, sizeof dir))
        cr_skip_test("dog-emotion data not found");
    snprintf(path, sizeof path, "%s/%s", dir, DOG);
    cr_assert_eq(dc_image_load_rgb8(path, &rgb, &h, &w), DC_OK, "%s",
                 dc_last_error());

    /* Pillow 13 (libjpeg-turbo 3.2): (144, 96, 3), sum 2467130, pixel (0,0) =
     * (72, 44, 22), (50,40) = (20, 19, 17), last = (20, 18, 19). */
    cr_assert(h == 144 && w == 96, "size %dx%d", h, w);
    for (int i = 0; i < h * w * 3; i++)
        sum += rgb[i];
    cr_assert_eq(sum, 2467130L);
    cr_assert(rgb[0] == 72 && rgb[1] == 44 && rgb[2] == 22);
    cr_assert(rgb[(50 * w + 40) * 3] == 20 &&
              rgb[(50 * w + 40) * 3 + 1] == 19 &&
              rgb[(50 * w + 40) * 3 + 2] == 17);
    cr_assert(rgb[(h * w - 1) * 3] == 20 && rgb[(h * w - 1) * 3 + 1] == 18 &&
              rgb[(h * w - 1) * 3 + 2] == 19);
    free(rgb);
}
