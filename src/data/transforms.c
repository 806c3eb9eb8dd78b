/* transforms.c - torchvision's augmentation transforms on float CHW images: the
 * functional operations (flips, rotation and affine warps, colour adjustments,
 * grey, Gaussian blur, Normalize), the random transforms that draw their
 * parameters as torchvision's get_params does, and Compose (dc_pipeline).
 *
 * Each random draw is uniform from the dc_rng passed in, in torchvision's order
 * (for ColorJitter: the order of the four adjustments first, then each factor),
 * so a seed fixes the result. The numbers differ from torchvision's, whose
 * generator is torch's.
 *
 * Warps follow torchvision's tensor path: an inverse affine matrix about the
 * image centre maps each output pixel centre to an input position, rounded to
 * the nearest pixel (half to even, as grid_sample does); it is evaluated in
 * double, not float32, so a position that lands within ~1e-6 of a half pixel
 * may round the other way.
 *
 * Leaves out: interpolation other than nearest for warps, RandomRotation's
 * expand and center, per-channel fill, the PIL-only code paths. Resizing is in
 * resize.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "deepc/image.h"

#define DEG (M_PI / 180.0)

/* ---- functional: flips ---- */

void dc_image_hflip(dc_image *img)
{
    for (int r = 0; r < img->c * img->h; r++) {
        float *row = img->data + (size_t)r * img->w;
        for (int i = 0, j = img->w - 1; i < j; i++, j--) {
            float t = row[i];
            row[i] = row[j];
            row[j] = t;
        }
    }
}

void dc_image_vflip(dc_image *img)
{
    for (int c = 0; c < img->c; c++) {
        float *plane = img->data + (size_t)c * img->h * img->w;
        for (int i = 0, j = img->h - 1; i < j; i++, j--) {
            float *a = plane + (size_t)i * img->w,
                  *b = plane + (size_t)j * img->w;
            for (int x = 0; x < img->w; x++) {
                float t = a[x];
                a[x] = b[x];
                b[x] = t;
            }
        }
    }
}

/* ---- functional: warps ---- */

/* torchvision's _get_inverse_affine_matrix with the centre at the origin: maps
 * an output position (relative to the image centre) to the input position it
 * shows. Angle clockwise in degrees, translate in pixels, shear in degrees. */
static void inverse_affine(double angle, double tx, double ty, double scale,
                           double shx, double shy, double m[6])
{
    double rot = angle * DEG, sx = shx * DEG, sy = shy * DEG;
    double a = cos(rot - sy) / cos(sy);
    double b = -cos(rot - sy) * tan(sx) / cos(sy) - sin(rot);
    double c = sin(rot - sy) / cos(sy);
    double d = -sin(rot - sy) * tan(sx) / cos(sy) + cos(rot);

    /* The rotation-shear block has determinant 1, so its inverse is the
     * adjugate. */
    m[0] = d / scale;
    m[1] = -b / scale;
    m[3] = -c / scale;
    m[4] = a / scale;
    m[2] = m[0] * -tx + m[1] * -ty;
    m[5] = m[3] * -tx + m[4] * -ty;
}

/* dst[:, oy, ox] = src at the nearest pixel to m * (ox, oy) in centred
 * coordinates, or `fill` outside. dst has src's size. */
static void warp_nearest(const dc_image *src, dc_image *dst, const double m[6],
                         float fill)
{
    int h = src->h, w = src->w;
    size_t plane = (size_t)h * w;

    for (int oy = 0; oy < h; oy++) {
        double y = oy - h * 0.5 + 0.5;
        for (int ox = 0; ox < w; ox++) {
            double x = ox - w * 0.5 + 0.5;
            double ix = nearbyint(m[0] * x + m[1] * y + m[2] + w * 0.5 - 0.5);
            double iy = nearbyint(m[3] * x + m[4] * y + m[5] + h * 0.5 - 0.5);
            int in = ix >= 0 && ix < w && iy >= 0 && iy < h;
            size_t o = (size_t)oy * w + ox,
                   s = in ? (size_t)iy * w + (size_t)ix : 0;
            for (int c = 0; c < src->c; c++)
                dst->data[c * plane + o] = in ? src->data[c * plane + s] : fill;
        }
    }
}

static dc_status check_pair(const dc_image *src, const dc_image *dst,
                            const char *op)
{
    if (!src || !dst || src == dst || !src->data)
        return dc_fail(DC_ERR_ARG,
                       "%s: needs a source image and a different destination",
                       op);
    return DC_OK;
}

dc_status dc_image_affine(const dc_image *src, dc_image *dst, float angle,
                          const float translate[2], float scale,
                          const float shear[2], float fill)
{
    double m[6];
    dc_status st;

    if ((st = check_pair(src, dst, "affine")) != DC_OK)
        return st;
    if (!(scale > 0.0f) || !isfinite(angle))
        return dc_fail(DC_ERR_ARG,
                       "affine: scale %g, angle %g; expected scale > 0 and a "
                       "finite angle",
                       scale, angle);
    if (fabsf(shear[0]) >= 90.0f || fabsf(shear[1]) >= 90.0f)
        return dc_fail(DC_ERR_ARG,
                       "affine: shear (%g, %g) degrees, expected each in "
                       "(-90, 90)",
                       shear[0], shear[1]);
    if ((st = dc_image_reserve(dst, src->c, src->h, src->w)) != DC_OK)
        return st;
    inverse_affine(angle, translate[0], translate[1], scale, shear[0], shear[1],
                   m);
    warp_nearest(src, dst, m, fill);
    return DC_OK;
}

dc_status dc_image_rotate(const dc_image *src, dc_image *dst, float angle,
                          float fill)
{
    static const float zero[2] = {0.0f, 0.0f};

    /* rotate's angle is counter-clockwise, affine's clockwise: torchvision
     * passes -angle on in the same way. */
    return dc_image_affine(src, dst, -angle, zero, 1.0f, zero, fill);
}

/* ---- functional: colour ---- */

static dc_status need_rgb(const dc_image *img, const char *op)
{
    if (!img || !img->data || img->c != 3)
        return dc_fail(DC_ERR_SHAPE,
                       "%s: image has %d channels, expected 3 (RGB)", op,
                       img && img->data ? img->c : 0);
    return DC_OK;
}

static dc_status need_factor(float f, const char *op)
{
    if (!(f >= 0.0f) || !isfinite(f))
        return dc_fail(DC_ERR_ARG,
                       "%s: factor %g, expected a finite value >= 0", op, f);
    return DC_OK;
}

static float luma(float r, float g, float b)
{
    return 0.299f * r + 0.587f * g + 0.114f * b;
}

static float clamp01(float v)
{
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

/* torchvision's _blend with a fixed second image value. */
static float blend(float v, float ref, float f)
{
    return clamp01(f * v + (1.0f - f) * ref);
}

dc_status dc_image_adjust_brightness(dc_image *img, float f)
{
    size_t n;
    dc_status st;

    if ((st = need_factor(f, "adjust_brightness")) != DC_OK)
        return st;
    n = (size_t)img->c * img->h * img->w;
    for (size_t i = 0; i < n; i++)
        img->data[i] = blend(img->data[i], 0.0f, f);
    return DC_OK;
}

dc_status dc_image_adjust_contrast(dc_image *img, float f)
{
    size_t plane, n;
    double sum = 0.0;
    float mean;
    dc_status st;

    if ((st = need_rgb(img, "adjust_contrast")) ||
        (st = need_factor(f, "adjust_contrast")))
        return st;
    plane = (size_t)img->h * img->w;
    n = 3 * plane;

    /* The reference is the mean grey level of the whole image. */
    for (size_t i = 0; i < plane; i++)
        sum +=
            luma(img->data[i], img->data[plane + i], img->data[2 * plane + i]);
    mean = (float)(sum / (double)plane);
    for (size_t i = 0; i < n; i++)
        img->data[i] = blend(img->data[i], mean, f);
    return DC_OK;
}

dc_status dc_image_adjust_saturation(dc_image *img, float f)
{
    size_t plane;
    float *r, *g, *b;
    dc_status st;

    if ((st = need_rgb(img, "adjust_saturation")) ||
        (st = need_factor(f, "adjust_saturation")))
        return st;
    plane = (size_t)img->h * img->w;
    r = img->data;
    g = r + plane;
    b = g + plane;
    for (size_t i = 0; i < plane; i++) {
        float l = luma(r[i], g[i], b[i]);
        r[i] = blend(r[i], l, f);
        g[i] = blend(g[i], l, f);
        b[i] = blend(b[i], l, f);
    }
    return DC_OK;
}

/* torchvision's _rgb2hsv for one pixel: h in [0, 1), s, v. */
static void rgb_to_hsv(float r, float g, float b, float *h, float *s, float *v)
{
    float maxc = fmaxf(r, fmaxf(g, b)), minc = fminf(r, fminf(g, b));
    float cr = maxc - minc, hh;
    int eq = maxc == minc;
    float div = eq ? 1.0f : cr;
    float rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div;

    *s = cr / (eq ? 1.0f : maxc);
    if (maxc == r)
        hh = bc - gc;
    else if (maxc == g)
        hh = 2.0f + rc - bc;
    else
        hh = 4.0f + gc - rc;
    /* fmod(x, 1) for x in [0, 2), without the library call. */
    *h = hh / 6.0f + 1.0f;
    *h -= floorf(*h);
    *v = maxc;
}

/* torchvision's _hsv2rgb for one pixel. */
static void hsv_to_rgb(float h, float s, float v, float *r, float *g, float *b)
{
    float i = floorf(h * 6.0f), f = h * 6.0f - i;
    float p = clamp01(v * (1.0f - s)), q = clamp01(v * (1.0f - s * f));
    float t = clamp01(v * (1.0f - s * (1.0f - f)));
    int sector = ((int)i % 6 + 6) % 6;
    const float rgb[6][3] = {{v, t, p}, {q, v, p}, {p, v, t},
                             {p, q, v}, {t, p, v}, {v, p, q}};

    *r = rgb[sector][0];
    *g = rgb[sector][1];
    *b = rgb[sector][2];
}

dc_status dc_image_adjust_hue(dc_image *img, float hue)
{
    size_t plane;
    float *r, *g, *b;
    dc_status st;

    if ((st = need_rgb(img, "adjust_hue")) != DC_OK)
        return st;
    if (!(hue >= -0.5f && hue <= 0.5f))
        return dc_fail(DC_ERR_ARG, "adjust_hue: shift %g, expected -0.5 to 0.5",
                       hue);
    plane = (size_t)img->h * img->w;
    r = img->data;
    g = r + plane;
    b = g + plane;
    for (size_t i = 0; i < plane; i++) {
        float h, s, v;
        rgb_to_hsv(r[i], g[i], b[i], &h, &s, &v);
        /* Python's %: x - floor(x), in [0, 1) (or 1.0 for a tiny negative x,
         * which hsv_to_rgb treats as 0). */
        h += hue;
        h -= floorf(h);
        hsv_to_rgb(h, s, v, &r[i], &g[i], &b[i]);
    }
    return DC_OK;
}

dc_status dc_image_grayscale(dc_image *img)
{
    size_t plane;
    dc_status st;

    if ((st = need_rgb(img, "grayscale")) != DC_OK)
        return st;
    plane = (size_t)img->h * img->w;
    for (size_t i = 0; i < plane; i++) {
        float l =
            luma(img->data[i], img->data[plane + i], img->data[2 * plane + i]);
        img->data[i] = img->data[plane + i] = img->data[2 * plane + i] = l;
    }
    return DC_OK;
}

dc_status dc_image_normalize(dc_image *img, const float mean[3],
                             const float std[3])
{
    size_t plane;

    if (!img || !img->data || img->c > 3)
        return dc_fail(DC_ERR_SHAPE,
                       "normalize: image has %d channels, expected 1 to 3",
                       img && img->data ? img->c : 0);
    for (int c = 0; c < img->c; c++)
        if (std[c] == 0.0f || !isfinite(std[c]) || !isfinite(mean[c]))
            return dc_fail(DC_ERR_ARG,
                           "normalize: channel %d has mean %g, std %g; "
                           "expected finite values and std != 0",
                           c, mean[c], std[c]);
    plane = (size_t)img->h * img->w;
    for (int c = 0; c < img->c; c++) {
        float *p = img->data + c * plane;
        for (size_t i = 0; i < plane; i++)
            p[i] = (p[i] - mean[c]) / std[c];
    }
    return DC_OK;
}

/* ---- functional: Gaussian blur ---- */

/* torchvision's _get_gaussian_kernel1d: exp(-x^2 / 2 sigma^2) at x = -(k-1)/2
 * .. (k-1)/2, divided by its sum. */
static void gauss_kernel(float *k, int size, float sigma)
{
    double half = (size - 1) * 0.5, sum = 0.0;

    for (int i = 0; i < size; i++) {
        double x = (i - half) / sigma;
        sum += exp(-0.5 * x * x);
    }
    for (int i = 0; i < size; i++) {
        double x = (i - half) / sigma;
        k[i] = (float)(exp(-0.5 * x * x) / sum);
    }
}

/* Reflection without repeating the edge: -1 -> 1, n -> n - 2 (needs pad < n). */
static int reflect(int i, int n)
{
    if (i < 0)
        return -i;
    if (i >= n)
        return 2 * (n - 1) - i;
    return i;
}

/* Filters every row of plane [h, w] along x through the padded copy `line`. */
static void blur_rows(float *plane, int h, int w, const float *k, int ks,
                      float *line)
{
    int pad = ks / 2;

    for (int y = 0; y < h; y++) {
        float *row = plane + (size_t)y * w;
        for (int x = -pad; x < w + pad; x++)
            line[x + pad] = row[reflect(x, w)];
        for (int x = 0; x < w; x++) {
            float s = 0.0f;
            for (int j = 0; j < ks; j++)
                s += line[x + j] * k[j];
            row[x] = s;
        }
    }
}

/* Filters plane [h, w] along y through `padded`, a copy with reflected rows. */
static void blur_cols(float *plane, int h, int w, const float *k, int ks,
                      float *padded)
{
    int pad = ks / 2;

    for (int y = -pad; y < h + pad; y++)
        memcpy(padded + (size_t)(y + pad) * w,
               plane + (size_t)reflect(y, h) * w, (size_t)w * sizeof(float));
    for (int y = 0; y < h; y++) {
        float *out = plane + (size_t)y * w;
        memset(out, 0, (size_t)w * sizeof(float));
        for (int j = 0; j < ks; j++) {
            const float *in = padded + (size_t)(y + j) * w;
            for (int x = 0; x < w; x++)
                out[x] += in[x] * k[j];
        }
    }
}

static dc_status check_blur(const dc_image *img, int kh, int kw, float sy,
                            float sx)
{
    if (!img || !img->data)
        return dc_fail(DC_ERR_ARG, "gaussian_blur: image is empty");
    if (kh < 1 || kw < 1 || kh % 2 == 0 || kw % 2 == 0)
        return dc_fail(DC_ERR_ARG,
                       "gaussian_blur: kernel %dx%d, expected odd sizes > 0",
                       kh, kw);
    if (!(sy > 0.0f) || !(sx > 0.0f) || !isfinite(sy) || !isfinite(sx))
        return dc_fail(DC_ERR_ARG,
                       "gaussian_blur: sigma (%g, %g), expected finite > 0", sy,
                       sx);
    if (kh / 2 >= img->h || kw / 2 >= img->w)
        return dc_fail(
            DC_ERR_ARG,
            "gaussian_blur: kernel %dx%d needs an image larger than %dx%d to "
            "reflect-pad, found %dx%d",
            kh, kw, kh / 2, kw / 2, img->h, img->w);
    return DC_OK;
}

static dc_status blur_with(dc_image *img, int kh, int kw, float sy, float sx,
                           dc_image_ws *ws)
{
    int h = img->h, w = img->w;
    size_t floats = (size_t)kh + kw + (w + kw) + (size_t)(h + kh) * w;
    float *kx, *ky, *line, *padded;

    /* Scratch: both kernels, a padded row, a plane with padded rows. */
    if (!(kx = dc_image_ws_scratch(ws, floats * sizeof(float))))
        return DC_ERR_NOMEM;
    ky = kx + kw;
    line = ky + kh;
    padded = line + w + kw;
    gauss_kernel(kx, kw, sx);
    gauss_kernel(ky, kh, sy);
    for (int c = 0; c < img->c; c++) {
        float *plane = img->data + (size_t)c * h * w;
        blur_rows(plane, h, w, kx, kw, line);
        blur_cols(plane, h, w, ky, kh, padded);
    }
    return DC_OK;
}

dc_status dc_image_gaussian_blur(dc_image *img, int kh, int kw, float sigma_y,
                                 float sigma_x, dc_image_ws *ws)
{
    dc_image_ws own;
    dc_status st;

    if ((st = check_blur(img, kh, kw, sigma_y, sigma_x)) != DC_OK)
        return st;
    if (ws)
        return blur_with(img, kh, kw, sigma_y, sigma_x, ws);
    dc_image_ws_init(&own);
    st = blur_with(img, kh, kw, sigma_y, sigma_x, &own);
    dc_image_ws_deinit(&own);
    return st;
}

/* ---- constructors with torchvision's defaults ---- */

dc_transform dc_transform_resize(int size)
{
    return (dc_transform){.kind = DC_TRANSFORM_RESIZE, .resize = {size, 0}};
}

dc_transform dc_transform_resize_hw(int h, int w)
{
    return (dc_transform){.kind = DC_TRANSFORM_RESIZE, .resize = {h, w}};
}

dc_transform dc_transform_center_crop(int h, int w)
{
    return (dc_transform){.kind = DC_TRANSFORM_CENTER_CROP, .crop = {h, w}};
}

dc_transform dc_transform_random_resized_crop(int h, int w)
{
    return (
        dc_transform){.kind = DC_TRANSFORM_RANDOM_RESIZED_CROP,
                      .rrc = {h, w, {0.08f, 1.0f}, {3.0f / 4.0f, 4.0f / 3.0f}}};
}

dc_transform dc_transform_random_hflip(void)
{
    return (dc_transform){.kind = DC_TRANSFORM_RANDOM_HFLIP, .flip = {0.5f}};
}

dc_transform dc_transform_random_vflip(void)
{
    return (dc_transform){.kind = DC_TRANSFORM_RANDOM_VFLIP, .flip = {0.5f}};
}

dc_transform dc_transform_random_rotation(float degrees)
{
    return (dc_transform){.kind = DC_TRANSFORM_RANDOM_ROTATION,
                          .rotation = {{-degrees, degrees}, 0.0f}};
}

dc_transform dc_transform_random_affine(float degrees)
{
    return (dc_transform){
        .kind = DC_TRANSFORM_RANDOM_AFFINE,
        .affine = {{-degrees, degrees}, {0, 0}, {1, 1}, {0, 0, 0, 0}, 0}};
}

/* ColorJitter's _check_input: a factor b becomes (max(0, 1 - b), 1 + b). */
static void factor_range(float v, float r[2])
{
    /* A negative v gives lo > hi, which dc_transform_check reports. */
    r[0] = v > 1.0f ? 0.0f : 1.0f - v;
    r[1] = 1.0f + v;
}

dc_transform dc_transform_color_jitter(float brightness, float contrast,
                                       float saturation, float hue)
{
    dc_transform t = {.kind = DC_TRANSFORM_COLOR_JITTER};

    factor_range(brightness, t.jitter.brightness);
    factor_range(contrast, t.jitter.contrast);
    factor_range(saturation, t.jitter.saturation);
    t.jitter.hue[0] = -hue;
    t.jitter.hue[1] = hue;
    return t;
}

dc_transform dc_transform_random_grayscale(void)
{
    return (dc_transform){.kind = DC_TRANSFORM_RANDOM_GRAYSCALE,
                          .gray = {0.1f}};
}

dc_transform dc_transform_gaussian_blur(int kernel_size)
{
    return (dc_transform){.kind = DC_TRANSFORM_GAUSSIAN_BLUR,
                          .blur = {kernel_size, kernel_size, {0.1f, 2.0f}}};
}

dc_transform dc_transform_normalize(const float mean[3], const float std[3])
{
    dc_transform t = {.kind = DC_TRANSFORM_NORMALIZE};

    memcpy(t.norm.mean, mean, sizeof t.norm.mean);
    memcpy(t.norm.std, std, sizeof t.norm.std);
    return t;
}

const char *dc_transform_name(dc_transform_kind kind)
{
    static const char *names[] = {
        "?",
        "Resize",
        "CenterCrop",
        "RandomResizedCrop",
        "RandomHorizontalFlip",
        "RandomVerticalFlip",
        "RandomRotation",
        "RandomAffine",
        "ColorJitter",
        "RandomGrayscale",
        "GaussianBlur",
        "Normalize",
    };

    return kind >= 1 && kind <= DC_TRANSFORM_NORMALIZE ? names[kind]
                                                       : "unknown transform";
}

/* ---- parameter checks ---- */

/* lo <= hi, both finite and within [min, max]. */
static dc_status check_range(const dc_transform *t, const char *field,
                             const float r[2], float min, float max)
{
    if (!(r[0] <= r[1]) || !(r[0] >= min) || !(r[1] <= max) ||
        !isfinite(r[0]) || !isfinite(r[1]))
        return dc_fail(DC_ERR_ARG,
                       "%s: %s is (%g, %g), expected min <= max within "
                       "[%g, %g]",
                       dc_transform_name(t->kind), field, r[0], r[1], min, max);
    return DC_OK;
}

static dc_status check_size(const dc_transform *t, int h, int w, int w_may_be_0)
{
    if (h < 1 || h > DC_IMAGE_MAX_SIDE || w < (w_may_be_0 ? 0 : 1) ||
        w > DC_IMAGE_MAX_SIDE)
        return dc_fail(DC_ERR_ARG, "%s: size (%d, %d), expected sides 1..%d",
                       dc_transform_name(t->kind), h, w, DC_IMAGE_MAX_SIDE);
    return DC_OK;
}

static dc_status check_prob(const dc_transform *t, float p)
{
    if (!(p >= 0.0f && p <= 1.0f))
        return dc_fail(DC_ERR_ARG, "%s: p = %g, expected 0 to 1",
                       dc_transform_name(t->kind), p);
    return DC_OK;
}

static dc_status check_affine(const dc_transform *t)
{
    const float tx[2] = {0.0f, t->affine.translate[0]},
                ty[2] = {0.0f, t->affine.translate[1]};
    dc_status st;

    if ((st = check_range(t, "degrees", t->affine.degrees, -INFINITY,
                          INFINITY)) ||
        (st = check_range(t, "translate[0]", tx, 0.0f, 1.0f)) ||
        (st = check_range(t, "translate[1]", ty, 0.0f, 1.0f)) ||
        (st = check_range(t, "scale", t->affine.scale, 1e-6f, INFINITY)) ||
        (st = check_range(t, "shear x", t->affine.shear, -89.9f, 89.9f)))
        return st;
    return check_range(t, "shear y", t->affine.shear + 2, -89.9f, 89.9f);
}

static dc_status check_jitter(const dc_transform *t)
{
    dc_status st;

    if ((st = check_range(t, "brightness", t->jitter.brightness, 0.0f,
                          INFINITY)) ||
        (st = check_range(t, "contrast", t->jitter.contrast, 0.0f, INFINITY)) ||
        (st = check_range(t, "saturation", t->jitter.saturation, 0.0f,
                          INFINITY)))
        return st;
    return check_range(t, "hue", t->jitter.hue, -0.5f, 0.5f);
}

static dc_status check_blur_params(const dc_transform *t)
{
    if (t->blur.kh < 1 || t->blur.kw < 1 || t->blur.kh % 2 == 0 ||
        t->blur.kw % 2 == 0)
        return dc_fail(DC_ERR_ARG,
                       "GaussianBlur: kernel_size (%d, %d), expected odd and "
                       "positive",
                       t->blur.kh, t->blur.kw);
    return check_range(t, "sigma", t->blur.sigma, 1e-30f, INFINITY);
}

static dc_status check_norm(const dc_transform *t)
{
    for (int c = 0; c < 3; c++)
        if (t->norm.std[c] == 0.0f || !isfinite(t->norm.std[c]) ||
            !isfinite(t->norm.mean[c]))
            return dc_fail(
                DC_ERR_ARG,
                "Normalize: channel %d has mean %g, std %g; expected "
                "finite values and std != 0",
                c, t->norm.mean[c], t->norm.std[c]);
    return DC_OK;
}

dc_status dc_transform_check(const dc_transform *t)
{
    dc_status st;

    if (!t)
        return dc_fail(DC_ERR_ARG, "transform is NULL");
    switch (t->kind) {
    case DC_TRANSFORM_RESIZE:
        return check_size(t, t->resize.h, t->resize.w, 1);
    case DC_TRANSFORM_CENTER_CROP:
        return check_size(t, t->crop.h, t->crop.w, 0);
    case DC_TRANSFORM_RANDOM_RESIZED_CROP:
        if ((st = check_size(t, t->rrc.h, t->rrc.w, 0)) ||
            (st = check_range(t, "scale", t->rrc.scale, 0.0f, INFINITY)))
            return st;
        return check_range(t, "ratio", t->rrc.ratio, 1e-6f, INFINITY);
    case DC_TRANSFORM_RANDOM_HFLIP:
    case DC_TRANSFORM_RANDOM_VFLIP:
        return check_prob(t, t->flip.p);
    case DC_TRANSFORM_RANDOM_GRAYSCALE:
        return check_prob(t, t->gray.p);
    case DC_TRANSFORM_RANDOM_ROTATION:
        return check_range(t, "degrees", t->rotation.degrees, -INFINITY,
                           INFINITY);
    case DC_TRANSFORM_RANDOM_AFFINE:
        return check_affine(t);
    case DC_TRANSFORM_COLOR_JITTER:
        return check_jitter(t);
    case DC_TRANSFORM_GAUSSIAN_BLUR:
        return check_blur_params(t);
    case DC_TRANSFORM_NORMALIZE:
        return check_norm(t);
    }
    return dc_fail(DC_ERR_ARG, "transform kind %d, expected 1 to %d",
                   (int)t->kind, (int)DC_TRANSFORM_NORMALIZE);
}

dc_status dc_transform_out_size(const dc_transform *t, int h, int w, int *out_h,
                                int *out_w)
{
    dc_status st;

    if ((st = dc_transform_check(t)) != DC_OK)
        return st;
    *out_h = h;
    *out_w = w;
    if (t->kind == DC_TRANSFORM_RESIZE && t->resize.w == 0)
        dc_resize_shorter(h, w, t->resize.h, out_h, out_w);
    else if (t->kind == DC_TRANSFORM_RESIZE)
        *out_h = t->resize.h, *out_w = t->resize.w;
    else if (t->kind == DC_TRANSFORM_CENTER_CROP)
        *out_h = t->crop.h, *out_w = t->crop.w;
    else if (t->kind == DC_TRANSFORM_RANDOM_RESIZED_CROP)
        *out_h = t->rrc.h, *out_w = t->rrc.w;
    else if (t->kind == DC_TRANSFORM_GAUSSIAN_BLUR &&
             (t->blur.kh / 2 >= h || t->blur.kw / 2 >= w))
        return dc_fail(DC_ERR_ARG,
                       "GaussianBlur: kernel %dx%d cannot reflect-pad a %dx%d "
                       "image; expected sides above %d and %d",
                       t->blur.kh, t->blur.kw, h, w, t->blur.kh / 2,
                       t->blur.kw / 2);
    if (*out_h < 1 || *out_w < 1)
        return dc_fail(DC_ERR_ARG, "%s: a %dx%d image would become %dx%d",
                       dc_transform_name(t->kind), h, w, *out_h, *out_w);
    return DC_OK;
}

/* ---- random parameters, as torchvision's get_params ---- */

static double uniform(dc_rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * dc_rng_uniform(rng);
}

void dc_transform_rrc_window(const dc_transform *t, int h, int w, dc_rng *rng,
                             int box[4])
{
    double area = (double)h * w, lr0 = log(t->rrc.ratio[0]),
           lr1 = log(t->rrc.ratio[1]);
    double in_ratio = (double)w / h;
    int ch, cw;

    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * uniform(rng, t->rrc.scale[0], t->rrc.scale[1]);
        double aspect = exp(uniform(rng, lr0, lr1));
        cw = (int)nearbyint(sqrt(target * aspect));
        ch = (int)nearbyint(sqrt(target / aspect));
        if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
            box[0] = (int)dc_rng_below(rng, (uint32_t)(h - ch + 1));
            box[1] = (int)dc_rng_below(rng, (uint32_t)(w - cw + 1));
            box[2] = ch;
            box[3] = cw;
            return;
        }
    }

    /* Ten misses: the centre crop of the whole image, clamped to the ratio
     * range. */
    cw = w;
    ch = h;
    if (in_ratio < t->rrc.ratio[0])
        ch = (int)nearbyint(w / (double)t->rrc.ratio[0]);
    else if (in_ratio > t->rrc.ratio[1])
        cw = (int)nearbyint(h * (double)t->rrc.ratio[1]);
    box[0] = (h - ch) / 2;
    box[1] = (w - cw) / 2;
    box[2] = ch;
    box[3] = cw;
}

/* ---- applying one transform ---- */

/* The output of a src -> dst step lands in ws->tmp; swapping makes it the
 * image. */
static void swap_in(dc_image *img, dc_image_ws *ws)
{
    dc_image t = *img;

    *img = ws->tmp;
    ws->tmp = t;
}

static dc_status apply_rrc(const dc_transform *t, dc_image *img,
                           dc_image_ws *ws, dc_rng *rng)
{
    int box[4];
    dc_status st;

    /* Crop into tmp, swap, then resize back into tmp and swap again. */
    dc_transform_rrc_window(t, img->h, img->w, rng, box);
    if ((st = dc_image_crop(img, &ws->tmp, box[0], box[1], box[2], box[3])) !=
        DC_OK)
        return st;
    swap_in(img, ws);
    if ((st = dc_image_resize(img, &ws->tmp, t->rrc.h, t->rrc.w, ws)) != DC_OK)
        return st;
    swap_in(img, ws);
    return DC_OK;
}

static dc_status apply_affine(const dc_transform *t, dc_image *img,
                              dc_image_ws *ws, dc_rng *rng)
{
    float angle =
        (float)uniform(rng, t->affine.degrees[0], t->affine.degrees[1]);
    float tr[2] = {0.0f, 0.0f}, sh[2] = {0.0f, 0.0f}, scale = 1.0f;
    const float *s = t->affine.shear;
    dc_status st;

    /* A zero translate, a (1, 1) scale and a zero shear stand for torchvision's
     * None: nothing is drawn for them. */
    if (t->affine.translate[0] != 0.0f || t->affine.translate[1] != 0.0f) {
        double dx = t->affine.translate[0] * (double)img->w;
        double dy = t->affine.translate[1] * (double)img->h;
        tr[0] = (float)nearbyint(uniform(rng, -dx, dx));
        tr[1] = (float)nearbyint(uniform(rng, -dy, dy));
    }
    if (t->affine.scale[0] != 1.0f || t->affine.scale[1] != 1.0f)
        scale = (float)uniform(rng, t->affine.scale[0], t->affine.scale[1]);
    if (s[0] != 0.0f || s[1] != 0.0f || s[2] != 0.0f || s[3] != 0.0f) {
        sh[0] = (float)uniform(rng, s[0], s[1]);
        if (s[2] != 0.0f || s[3] != 0.0f)
            sh[1] = (float)uniform(rng, s[2], s[3]);
    }
    if ((st = dc_image_affine(img, &ws->tmp, angle, tr, scale, sh,
                              t->affine.fill)) != DC_OK)
        return st;
    swap_in(img, ws);
    return DC_OK;
}

/* A factor range that is exactly (v, v) at the identity means "off"
 * (torchvision's None). */
static int jitter_on(const float r[2], float identity)
{
    return !(r[0] == identity && r[1] == identity);
}

static dc_status apply_jitter(const dc_transform *t, dc_image *img, dc_rng *rng)
{
    const float *br = t->jitter.brightness, *co = t->jitter.contrast;
    const float *sa = t->jitter.saturation, *hu = t->jitter.hue;
    int order[4] = {0, 1, 2, 3}, on[4];
    float f[4];
    dc_status st = DC_OK;

    /* torchvision's get_params: the permutation first, then each factor in
     * turn. */
    dc_rng_shuffle(rng, order, 4);
    on[0] = jitter_on(br, 1.0f);
    on[1] = jitter_on(co, 1.0f);
    on[2] = jitter_on(sa, 1.0f);
    on[3] = jitter_on(hu, 0.0f);
    f[0] = on[0] ? (float)uniform(rng, br[0], br[1]) : 1.0f;
    f[1] = on[1] ? (float)uniform(rng, co[0], co[1]) : 1.0f;
    f[2] = on[2] ? (float)uniform(rng, sa[0], sa[1]) : 1.0f;
    f[3] = on[3] ? (float)uniform(rng, hu[0], hu[1]) : 0.0f;

    for (int i = 0; i < 4 && st == DC_OK; i++) {
        int k = order[i];
        if (!on[k])
            continue;
        st = k == 0   ? dc_image_adjust_brightness(img, f[0])
             : k == 1 ? dc_image_adjust_contrast(img, f[1])
             : k == 2 ? dc_image_adjust_saturation(img, f[2])
                      : dc_image_adjust_hue(img, f[3]);
    }
    return st;
}

static dc_status apply_resize(const dc_transform *t, dc_image *img,
                              dc_image_ws *ws)
{
    int h = t->resize.h, w = t->resize.w;
    dc_status st;

    if (w == 0)
        dc_resize_shorter(img->h, img->w, t->resize.h, &h, &w);
    if ((st = dc_image_resize(img, &ws->tmp, h, w, ws)) != DC_OK)
        return st;
    swap_in(img, ws);
    return DC_OK;
}

static dc_status apply_geometry(const dc_transform *t, dc_image *img,
                                dc_image_ws *ws, dc_rng *rng)
{
    dc_status st;

    switch (t->kind) {
    case DC_TRANSFORM_RESIZE:
        return apply_resize(t, img, ws);
    case DC_TRANSFORM_CENTER_CROP:
        if ((st = dc_image_center_crop(img, &ws->tmp, t->crop.h, t->crop.w)) !=
            DC_OK)
            return st;
        swap_in(img, ws);
        return DC_OK;
    case DC_TRANSFORM_RANDOM_RESIZED_CROP:
        return apply_rrc(t, img, ws, rng);
    case DC_TRANSFORM_RANDOM_ROTATION: {
        float angle =
            (float)uniform(rng, t->rotation.degrees[0], t->rotation.degrees[1]);
        if ((st = dc_image_rotate(img, &ws->tmp, angle, t->rotation.fill)) !=
            DC_OK)
            return st;
        swap_in(img, ws);
        return DC_OK;
    }
    default:
        return apply_affine(t, img, ws, rng);
    }
}

static dc_status apply_one(const dc_transform *t, dc_image *img,
                           dc_image_ws *ws, dc_rng *rng)
{
    float blur_sigma;

    switch (t->kind) {
    case DC_TRANSFORM_RANDOM_HFLIP:
        if (dc_rng_uniform(rng) < t->flip.p)
            dc_image_hflip(img);
        return DC_OK;
    case DC_TRANSFORM_RANDOM_VFLIP:
        if (dc_rng_uniform(rng) < t->flip.p)
            dc_image_vflip(img);
        return DC_OK;
    case DC_TRANSFORM_RANDOM_GRAYSCALE:
        return dc_rng_uniform(rng) < t->gray.p ? dc_image_grayscale(img)
                                               : DC_OK;
    case DC_TRANSFORM_COLOR_JITTER:
        return apply_jitter(t, img, rng);
    case DC_TRANSFORM_GAUSSIAN_BLUR:
        blur_sigma = (float)uniform(rng, t->blur.sigma[0], t->blur.sigma[1]);
        return dc_image_gaussian_blur(img, t->blur.kh, t->blur.kw, blur_sigma,
                                      blur_sigma, ws);
    case DC_TRANSFORM_NORMALIZE:
        return dc_image_normalize(img, t->norm.mean, t->norm.std);
    default:
        return apply_geometry(t, img, ws, rng);
    }
}

static int is_random(dc_transform_kind kind)
{
    return kind != DC_TRANSFORM_RESIZE && kind != DC_TRANSFORM_CENTER_CROP &&
           kind != DC_TRANSFORM_NORMALIZE;
}

static dc_status check_image(const dc_transform *t, const dc_image *img,
                             const dc_rng *rng)
{
    if (!img || !img->data || img->h < 1 || img->w < 1)
        return dc_fail(DC_ERR_ARG, "%s: image is empty",
                       dc_transform_name(t->kind));
    if (!rng && is_random(t->kind))
        return dc_fail(DC_ERR_ARG, "%s: random generator is NULL",
                       dc_transform_name(t->kind));
    return DC_OK;
}

dc_status dc_transform_apply(const dc_transform *t, dc_image *img,
                             dc_image_ws *ws, dc_rng *rng)
{
    dc_image_ws own;
    dc_status st;

    if ((st = dc_transform_check(t)) || (st = check_image(t, img, rng)))
        return st;
    if (ws)
        return apply_one(t, img, ws, rng);
    dc_image_ws_init(&own);
    st = apply_one(t, img, &own, rng);
    dc_image_ws_deinit(&own);
    return st;
}

/* ---- Compose ---- */

/* Prefixes the step number to the message already recorded (copied first: it is
 * the buffer dc_fail writes into). */
static dc_status step_failed(dc_status st, int step)
{
    char msg[1024];

    snprintf(msg, sizeof msg, "%s", dc_last_error());
    return dc_fail(st, "pipeline step %d: %s", step, msg);
}

void dc_pipeline_init(dc_pipeline *p)
{
    memset(p, 0, sizeof *p);
}

dc_status dc_pipeline_add(dc_pipeline *p, const dc_transform *t)
{
    dc_status st;

    if (!p)
        return dc_fail(DC_ERR_ARG, "pipeline is NULL");
    if ((st = dc_transform_check(t)) != DC_OK)
        return st;
    if (p->n >= DC_PIPELINE_MAX)
        return dc_fail(DC_ERR_ARG,
                       "pipeline: full at %d transforms, cannot add %s",
                       DC_PIPELINE_MAX, dc_transform_name(t->kind));
    p->t[p->n++] = *t;
    return DC_OK;
}

dc_status dc_pipeline_out_size(const dc_pipeline *p, int h, int w, int *out_h,
                               int *out_w)
{
    dc_status st;

    for (int i = 0; i < p->n; i++) {
        if ((st = dc_transform_out_size(&p->t[i], h, w, &h, &w)) != DC_OK)
            return step_failed(st, i + 1);
    }
    *out_h = h;
    *out_w = w;
    return DC_OK;
}

static dc_status pipeline_run(const dc_pipeline *p, dc_image *img,
                              dc_image_ws *ws, dc_rng *rng)
{
    dc_status st;

    for (int i = 0; i < p->n; i++) {
        if ((st = check_image(&p->t[i], img, rng)) ||
            (st = apply_one(&p->t[i], img, ws, rng)))
            return step_failed(st, i + 1);
    }
    return DC_OK;
}

dc_status dc_pipeline_apply(const dc_pipeline *p, dc_image *img,
                            dc_image_ws *ws, dc_rng *rng)
{
    dc_image_ws own;
    dc_status st;

    if (!p)
        return dc_fail(DC_ERR_ARG, "pipeline is NULL");
    if (ws)
        return pipeline_run(p, img, ws, rng);
    dc_image_ws_init(&own);
    st = pipeline_run(p, img, &own, rng);
    dc_image_ws_deinit(&own);
    return st;
}
