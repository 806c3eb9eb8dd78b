/* Tests of src/data/transforms.c: each transform's defining property (flips
 * undo themselves, rotations move pixels where they must, grey uses the 601-2
 * weights, blur keeps constants and vanishes as sigma -> 0, Normalize's exact
 * values, the windows RandomResizedCrop draws, ColorJitter's identities),
 * torchvision's parameter checks, and seeded determinism of a whole pipeline. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/image.h"

/* A 3-channel image with distinct values everywhere, in [0, 1]. */
static void random_image(dc_image *img, int h, int w, uint64_t seed)
{
    dc_rng rng;

    dc_rng_seed(&rng, seed);
    cr_assert_eq(dc_image_reserve(img, 3, h, w), DC_OK);
    for (int i = 0; i < 3 * h * w; i++)
        img->data[i] = dc_rng_uniform(&rng);
}

static void copy_image(const dc_image *src, dc_image *dst)
{
    cr_assert_eq(dc_image_reserve(dst, src->c, src->h, src->w), DC_OK);
    memcpy(dst->data, src->data,
           (size_t)src->c * src->h * src->w * sizeof(float));
}

static int same_image(const dc_image *a, const dc_image *b)
{
    return a->c == b->c && a->h == b->h && a->w == b->w &&
           memcmp(a->data, b->data,
                  (size_t)a->c * a->h * a->w * sizeof(float)) == 0;
}

static float at(const dc_image *img, int c, int y, int x)
{
    return img->data[((size_t)c * img->h + y) * img->w + x];
}

/* ---- flips ---- */

Test(image_flip, twice_is_identity_and_mirrors)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);
    random_image(&a, 5, 6, 1);
    copy_image(&a, &b);
    dc_image_hflip(&b);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 6; x++)
                cr_assert_eq(at(&b, c, y, x), at(&a, c, y, 5 - x));
    dc_image_hflip(&b);
    cr_assert(same_image(&a, &b));

    dc_image_vflip(&b);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 6; x++)
                cr_assert_eq(at(&b, c, y, x), at(&a, c, 4 - y, x));
    dc_image_vflip(&b);
    cr_assert(same_image(&a, &b));
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_flip, probability)
{
    dc_image a, b;
    dc_transform t = dc_transform_random_hflip();
    dc_rng rng;
    int flipped = 0;

    cr_assert_float_eq(t.flip.p, 0.5f, 0.0f);
    dc_image_init(&a);
    dc_image_init(&b);
    random_image(&a, 3, 4, 2);
    dc_rng_seed(&rng, 7);
    for (int i = 0; i < 400; i++) {
        copy_image(&a, &b);
        cr_assert_eq(dc_transform_apply(&t, &b, NULL, &rng), DC_OK);
        flipped += !same_image(&a, &b);
    }
    cr_assert(flipped > 150 && flipped < 250, "%d of 400 flipped at p = 0.5",
              flipped);

    /* p = 1 always, p = 0 never. */
    t = dc_transform_random_vflip();
    t.flip.p = 1.0f;
    copy_image(&a, &b);
    cr_assert_eq(dc_transform_apply(&t, &b, NULL, &rng), DC_OK);
    cr_assert_eq(at(&b, 0, 0, 0), at(&a, 0, 2, 0));
    t.flip.p = 0.0f;
    copy_image(&a, &b);
    cr_assert_eq(dc_transform_apply(&t, &b, NULL, &rng), DC_OK);
    cr_assert(same_image(&a, &b));
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

/* ---- rotation and affine ---- */

Test(image_rotate, zero_is_identity)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);
    random_image(&a, 7, 10, 3);
    cr_assert_eq(dc_image_rotate(&a, &b, 0.0f, 0.0f), DC_OK);
    cr_assert(same_image(&a, &b));
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_rotate, quarter_turns_move_pixels)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);
    random_image(&a, 5, 5, 4);

    /* Counter-clockwise: the top-right corner goes to the top-left. */
    cr_assert_eq(dc_image_rotate(&a, &b, 90.0f, 0.0f), DC_OK);
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 5; y++)
            for (int x = 0; x < 5; x++)
                cr_assert_eq(at(&b, c, y, x), at(&a, c, x, 4 - y), "(%d,%d,%d)",
                             c, y, x);
    cr_assert_eq(dc_image_rotate(&a, &b, -90.0f, 0.0f), DC_OK);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 5; x++)
            cr_assert_eq(at(&b, 1, y, x), at(&a, 1, 4 - x, y));
    cr_assert_eq(dc_image_rotate(&a, &b, 180.0f, 0.0f), DC_OK);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 5; x++)
            cr_assert_eq(at(&b, 2, y, x), at(&a, 2, 4 - y, 4 - x));
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_rotate, non_square_fills_what_comes_from_outside)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);
    random_image(&a, 4, 6, 5);

    /* expand=False: a 4 x 6 image turned by 90 degrees keeps its size; columns
     * 0 and 5 come from outside, the rest from in[x - 1][4 - y]. */
    cr_assert_eq(dc_image_rotate(&a, &b, 90.0f, 0.25f), DC_OK);
    cr_assert(b.h == 4 && b.w == 6);
    for (int y = 0; y < 4; y++) {
        cr_assert_eq(at(&b, 0, y, 0), 0.25f);
        cr_assert_eq(at(&b, 2, y, 5), 0.25f);
        for (int x = 1; x < 5; x++)
            cr_assert_eq(at(&b, 1, y, x), at(&a, 1, x - 1, 4 - y), "(%d,%d)", y,
                         x);
    }
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_affine, translate_and_shear)
{
    dc_image a, b;
    const float none[2] = {0.0f, 0.0f}, shift[2] = {1.0f, 2.0f},
                shear[2] = {45.0f, 0.0f};

    dc_image_init(&a);
    dc_image_init(&b);
    random_image(&a, 5, 5, 6);
    cr_assert_eq(dc_image_affine(&a, &b, 0.0f, none, 1.0f, none, 0.0f), DC_OK);
    cr_assert(same_image(&a, &b));

    /* Shifted right by 1 and down by 2. */
    cr_assert_eq(dc_image_affine(&a, &b, 0.0f, shift, 1.0f, none, 0.0f), DC_OK);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 5; x++)
            cr_assert_eq(at(&b, 0, y, x),
                         y >= 2 && x >= 1 ? at(&a, 0, y - 2, x - 1) : 0.0f);

    /* A 45-degree x shear reads row y at x + (y - 2), about the centre row. */
    cr_assert_eq(dc_image_affine(&a, &b, 0.0f, none, 1.0f, shear, 0.0f), DC_OK);
    for (int y = 0; y < 5; y++)
        for (int x = 0; x < 5; x++) {
            int sx = x + y - 2;
            cr_assert_eq(at(&b, 0, y, x),
                         sx >= 0 && sx < 5 ? at(&a, 0, y, sx) : 0.0f);
        }

    /* Scale 2 about the centre: the centre pixel stays, its neighbours double
     * out. */
    cr_assert_eq(dc_image_affine(&a, &b, 0.0f, none, 2.0f, none, 0.0f), DC_OK);
    cr_assert_eq(at(&b, 0, 2, 2), at(&a, 0, 2, 2));
    cr_assert_eq(at(&b, 0, 0, 2), at(&a, 0, 1, 2));
    cr_assert_eq(dc_image_affine(&a, &b, 0.0f, none, 0.0f, none, 0.0f),
                 DC_ERR_ARG);
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_affine, random_affine_with_zero_ranges_is_identity)
{
    dc_image a, b;
    dc_transform t = dc_transform_random_affine(0.0f);
    dc_rng rng;

    dc_image_init(&a);
    dc_image_init(&b);
    random_image(&a, 6, 7, 8);
    copy_image(&a, &b);
    dc_rng_seed(&rng, 1);
    cr_assert_eq(dc_transform_apply(&t, &b, NULL, &rng), DC_OK, "%s",
                 dc_last_error());
    cr_assert(same_image(&a, &b));

    /* translate (0.5, 0): every row is the source row shifted by round(u)
     * columns, u uniform in (-3.5, 3.5), so at most 4. */
    t.affine.translate[0] = 0.5f;
    for (int k = 0; k < 20; k++) {
        int found = 0;
        copy_image(&a, &b);
        cr_assert_eq(dc_transform_apply(&t, &b, NULL, &rng), DC_OK);
        for (int s = -4; s <= 4 && !found; s++) {
            int ok = 1;
            for (int x = 0; x < 7 && ok; x++)
                ok = at(&b, 0, 3, x) ==
                     (x - s >= 0 && x - s < 7 ? at(&a, 0, 3, x - s) : 0);
            found = ok;
        }
        cr_assert(found, "draw %d is no horizontal shift within 4 pixels", k);
    }
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

/* ---- colour ---- */

Test(image_color, grayscale_luma_weights)
{
    dc_image a, b;
    const float rgb[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    const float want[3] = {0.299f, 0.587f, 0.114f};

    dc_image_init(&a);
    dc_image_init(&b);
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(dc_image_reserve(&a, 3, 1, 1), DC_OK);
        for (int c = 0; c < 3; c++)
            a.data[c] = rgb[k][c];
        cr_assert_eq(dc_image_grayscale(&a), DC_OK);
        for (int c = 0; c < 3; c++)
            cr_assert_float_eq(a.data[c], want[k], 1e-7f);
    }

    random_image(&a, 4, 5, 9);
    copy_image(&a, &b);
    cr_assert_eq(dc_image_grayscale(&b), DC_OK);
    for (int y = 0; y < 4; y++)
        for (int x = 0; x < 5; x++) {
            float l = 0.299f * at(&a, 0, y, x) + 0.587f * at(&a, 1, y, x) +
                      0.114f * at(&a, 2, y, x);
            cr_assert_float_eq(at(&b, 0, y, x), l, 1e-6f);
            cr_assert_eq(at(&b, 0, y, x), at(&b, 1, y, x));
            cr_assert_eq(at(&b, 1, y, x), at(&b, 2, y, x));
        }
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_color, random_grayscale_default_and_certain)
{
    dc_image a;
    dc_transform t = dc_transform_random_grayscale();
    dc_rng rng;

    cr_assert_float_eq(t.gray.p, 0.1f, 0.0f);
    t.gray.p = 1.0f;
    dc_image_init(&a);
    random_image(&a, 3, 3, 10);
    dc_rng_seed(&rng, 3);
    cr_assert_eq(dc_transform_apply(&t, &a, NULL, &rng), DC_OK);
    for (int i = 0; i < 9; i++)
        cr_assert(a.data[i] == a.data[9 + i] && a.data[i] == a.data[18 + i]);
    dc_image_deinit(&a);
}

Test(image_color, brightness_contrast_saturation)
{
    dc_image a, b;
    double mean = 0.0;

    dc_image_init(&a);
    dc_image_init(&b);
    random_image(&a, 4, 6, 11);

    /* Factor 1 is the identity; 0.5 halves. */
    copy_image(&a, &b);
    cr_assert_eq(dc_image_adjust_brightness(&b, 1.0f), DC_OK);
    cr_assert(same_image(&a, &b));
    cr_assert_eq(dc_image_adjust_brightness(&b, 0.5f), DC_OK);
    for (int i = 0; i < 72; i++)
        cr_assert_eq(b.data[i], 0.5f * a.data[i]);

    /* Contrast 0 leaves only the mean grey level; saturation 0 is grey. */
    for (int i = 0; i < 24; i++)
        mean += 0.299f * a.data[i] + 0.587f * a.data[24 + i] +
                0.114f * a.data[48 + i];
    mean /= 24;
    copy_image(&a, &b);
    cr_assert_eq(dc_image_adjust_contrast(&b, 0.0f), DC_OK);
    for (int i = 0; i < 72; i++)
        cr_assert_float_eq(b.data[i], (float)mean, 1e-6f);
    copy_image(&a, &b);
    cr_assert_eq(dc_image_adjust_saturation(&b, 0.0f), DC_OK);
    for (int i = 0; i < 24; i++)
        cr_assert_float_eq(b.data[i], b.data[48 + i], 1e-6f);

    /* Saturation 2 pushes away from grey, clamped to [0, 1]. */
    copy_image(&a, &b);
    cr_assert_eq(dc_image_adjust_saturation(&b, 2.0f), DC_OK);
    for (int i = 0; i < 72; i++)
        cr_assert(b.data[i] >= 0.0f && b.data[i] <= 1.0f);
    cr_assert_eq(dc_image_adjust_contrast(&b, -1.0f), DC_ERR_ARG);
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_color, hue_shifts)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);
    cr_assert_eq(dc_image_reserve(&a, 3, 1, 1), DC_OK);

    /* A third of a turn takes pure red to pure green. */
    a.data[0] = 1.0f;
    a.data[1] = 0.0f;
    a.data[2] = 0.0f;
    cr_assert_eq(dc_image_adjust_hue(&a, 1.0f / 3.0f), DC_OK);
    cr_assert(fabsf(a.data[0]) < 1e-5f && fabsf(a.data[1] - 1.0f) < 1e-5f &&
                  fabsf(a.data[2]) < 1e-5f,
              "(%g, %g, %g)", a.data[0], a.data[1], a.data[2]);

    /* Half a turn twice is a whole turn; grey has no hue to shift. */
    random_image(&a, 5, 5, 12);
    copy_image(&a, &b);
    cr_assert_eq(dc_image_adjust_hue(&b, 0.5f), DC_OK);
    cr_assert(!same_image(&a, &b));
    cr_assert_eq(dc_image_adjust_hue(&b, -0.5f), DC_OK);
    for (int i = 0; i < 75; i++)
        cr_assert(fabsf(a.data[i] - b.data[i]) < 2e-5f, "element %d: %g vs %g",
                  i, a.data[i], b.data[i]);
    cr_assert_eq(dc_image_grayscale(&b), DC_OK);
    copy_image(&b, &a);
    cr_assert_eq(dc_image_adjust_hue(&b, 0.3f), DC_OK);
    for (int i = 0; i < 75; i++)
        cr_assert(fabsf(a.data[i] - b.data[i]) < 1e-6f);
    cr_assert_eq(dc_image_adjust_hue(&b, 0.7f), DC_ERR_ARG);
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_color, color_jitter)
{
    dc_image a, b;
    dc_transform t = dc_transform_color_jitter(0.0f, 0.0f, 0.0f, 0.0f);
    dc_rng rng;

    /* torchvision's ranges: b -> (max(0, 1 - b), 1 + b), hue h -> (-h, h). */
    cr_assert(t.jitter.brightness[0] == 1.0f && t.jitter.brightness[1] == 1.0f);
    dc_image_init(&a);
    dc_image_init(&b);
    random_image(&a, 4, 4, 13);
    copy_image(&a, &b);
    dc_rng_seed(&rng, 5);
    cr_assert_eq(dc_transform_apply(&t, &b, NULL, &rng), DC_OK);
    cr_assert(same_image(&a, &b),
              "ColorJitter with every factor off changed the image");

    /* Brightness alone: one factor in (0.5, 1.5) scales every unclipped pixel. */
    t = dc_transform_color_jitter(0.5f, 0.0f, 0.0f, 0.0f);
    cr_assert(t.jitter.brightness[0] == 0.5f && t.jitter.brightness[1] == 1.5f);
    for (int k = 0; k < 10; k++) {
        float f = -1.0f;
        copy_image(&a, &b);
        cr_assert_eq(dc_transform_apply(&t, &b, NULL, &rng), DC_OK);
        for (int i = 0; i < 48; i++) {
            if (b.data[i] >= 1.0f || a.data[i] < 0.05f)
                continue;
            if (f < 0.0f)
                f = b.data[i] / a.data[i];
            cr_assert(fabsf(b.data[i] / a.data[i] - f) < 1e-4f,
                      "not one factor");
        }
        cr_assert(f >= 0.5f && f <= 1.5f, "factor %g outside (0.5, 1.5)", f);
    }
    t = dc_transform_color_jitter(2.0f, 0.0f, 0.0f, 0.0f);
    cr_assert(t.jitter.brightness[0] == 0.0f && t.jitter.brightness[1] == 3.0f);
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

/* ---- blur ---- */

Test(image_blur, constant_stays_and_tiny_sigma_is_identity)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);
    cr_assert_eq(dc_image_reserve(&a, 3, 6, 7), DC_OK);
    for (int i = 0; i < 3 * 42; i++)
        a.data[i] = 0.625f;
    cr_assert_eq(dc_image_gaussian_blur(&a, 5, 5, 1.5f, 1.5f, NULL), DC_OK);
    for (int i = 0; i < 3 * 42; i++)
        cr_assert(fabsf(a.data[i] - 0.625f) < 1e-6f, "element %d is %g", i,
                  a.data[i]);

    random_image(&a, 6, 7, 14);
    copy_image(&a, &b);
    cr_assert_eq(dc_image_gaussian_blur(&b, 5, 3, 1e-3f, 1e-3f, NULL), DC_OK);
    cr_assert(same_image(&a, &b), "sigma 1e-3 changed the image");
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_blur, impulse_gives_the_kernel)
{
    dc_image a;
    double k[5], sum = 0.0, total = 0.0;
    float sigma = 1.2f;

    dc_image_init(&a);
    cr_assert_eq(dc_image_reserve(&a, 1, 9, 9), DC_OK);
    memset(a.data, 0, 81 * sizeof(float));
    a.data[4 * 9 + 4] = 1.0f;
    cr_assert_eq(dc_image_gaussian_blur(&a, 5, 5, sigma, sigma, NULL), DC_OK);

    /* The response is the outer product of exp(-x^2 / 2 sigma^2) / sum. */
    for (int i = 0; i < 5; i++)
        sum += k[i] = exp(-0.5 * (i - 2) * (i - 2) / (sigma * sigma));
    for (int y = 0; y < 9; y++)
        for (int x = 0; x < 9; x++) {
            double want = 0.0;
            if (abs(y - 4) <= 2 && abs(x - 4) <= 2)
                want = k[y - 2] * k[x - 2] / (sum * sum);
            cr_assert(fabs(a.data[y * 9 + x] - want) < 1e-6,
                      "(%d,%d): %g vs %g", y, x, a.data[y * 9 + x], want);
            total += a.data[y * 9 + x];
        }
    cr_assert(fabs(total - 1.0) < 1e-5);
    dc_image_deinit(&a);
}

Test(image_blur, reflect_padding_and_limits)
{
    dc_image a;

    /* A 1 x 3 row [1 0 0] with kernel 3: reflection gives the left neighbour of
     * pixel 0 the value of pixel 1 (0), not pixel 0 (1). */
    dc_image_init(&a);
    cr_assert_eq(dc_image_reserve(&a, 1, 2, 3), DC_OK);
    memcpy(a.data, (float[]){1, 0, 0, 1, 0, 0}, 6 * sizeof(float));
    cr_assert_eq(dc_image_gaussian_blur(&a, 1, 3, 1.0f, 1.0f, NULL), DC_OK);
    {
        double e = exp(-0.5), s = 1.0 + 2.0 * e;
        cr_assert(fabs(a.data[0] - 1.0 / s) < 1e-6, "got %g", a.data[0]);
        cr_assert(fabs(a.data[1] - e / s) < 1e-6);
        cr_assert(fabs(a.data[2] - 0.0) < 1e-6);
    }

    /* A half-width of 3 cannot reflect a side of 3; even kernels are refused. */
    cr_assert_eq(dc_image_gaussian_blur(&a, 1, 7, 1.0f, 1.0f, NULL),
                 DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "reflect"), "%s", dc_last_error());
    cr_assert_eq(dc_image_gaussian_blur(&a, 1, 2, 1.0f, 1.0f, NULL),
                 DC_ERR_ARG);
    cr_assert_eq(dc_image_gaussian_blur(&a, 1, 3, 0.0f, 0.0f, NULL),
                 DC_ERR_ARG);
    dc_image_deinit(&a);
}

/* ---- Normalize ---- */

Test(image_normalize, exact_values)
{
    dc_image a;
    const float mean[3] = {0.485f, 0.456f, 0.406f},
                std[3] = {0.229f, 0.224f, 0.225f};
    const float zero_std[3] = {0.229f, 0.0f, 0.225f};
    float v[6] = {0.0f, 1.0f, 0.5f, 0.25f, 0.125f, 0.75f};

    dc_image_init(&a);
    cr_assert_eq(dc_image_reserve(&a, 3, 1, 2), DC_OK);
    memcpy(a.data, v, sizeof v);
    cr_assert_eq(dc_image_normalize(&a, mean, std), DC_OK);
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < 2; i++)
            cr_assert_eq(a.data[2 * c + i], (v[2 * c + i] - mean[c]) / std[c]);
    cr_assert_float_eq(a.data[0], -2.117904f, 1e-6f);
    cr_assert_eq(dc_image_normalize(&a, mean, zero_std), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "channel 1"), "%s", dc_last_error());
    dc_image_deinit(&a);
}

/* ---- RandomResizedCrop ---- */

Test(image_rrc, output_size_and_defaults)
{
    dc_image a;
    dc_transform t = dc_transform_random_resized_crop(24, 32);
    dc_rng rng;

    cr_assert(t.rrc.scale[0] == 0.08f && t.rrc.scale[1] == 1.0f);
    cr_assert(fabsf(t.rrc.ratio[0] - 0.75f) < 1e-7f &&
              fabsf(t.rrc.ratio[1] - 4.0f / 3) < 1e-7f);
    dc_image_init(&a);
    dc_rng_seed(&rng, 9);
    for (int k = 0; k < 20; k++) {
        random_image(&a, 50 + k, 70 - k, (uint64_t)k);
        cr_assert_eq(dc_transform_apply(&t, &a, NULL, &rng), DC_OK, "%s",
                     dc_last_error());
        cr_assert(a.c == 3 && a.h == 24 && a.w == 32, "[%d,%d,%d]", a.c, a.h,
                  a.w);
    }
    dc_image_deinit(&a);
}

Test(image_rrc, windows_respect_scale_and_ratio)
{
    dc_transform t = dc_transform_random_resized_crop(8, 8);
    dc_rng rng;
    double lo = 1.0, hi = 0.0;
    const int h = 120, w = 150;

    t.rrc.scale[0] = 0.3f;
    t.rrc.scale[1] = 0.6f;
    dc_rng_seed(&rng, 1234);
    for (int k = 0; k < 3000; k++) {
        int b[4];
        double area, slack_a, ratio, slack_r;
        dc_transform_rrc_window(&t, h, w, &rng, b);
        cr_assert(b[0] >= 0 && b[1] >= 0 && b[0] + b[2] <= h &&
                      b[1] + b[3] <= w,
                  "window (%d,%d,%d,%d) leaves the image", b[0], b[1], b[2],
                  b[3]);

        /* Rounding each side to an integer moves the area by at most half a
         * pixel row and column, and the ratio by half a pixel on each side. */
        area = (double)b[2] * b[3] / (h * w);
        slack_a = (0.5 * (b[2] + b[3]) + 0.25) / (h * w);
        cr_assert(area >= 0.3 - slack_a && area <= 0.6 + slack_a,
                  "area fraction %g", area);
        ratio = (double)b[3] / b[2];
        slack_r = 0.5 / b[2] + 0.5 / b[3] + 0.01;
        cr_assert(ratio >= 0.75 * (1 - slack_r) &&
                      ratio <= 4.0 / 3 * (1 + slack_r),
                  "ratio %g", ratio);
        lo = area < lo ? area : lo;
        hi = area > hi ? area : hi;
    }

    /* The draws cover the range, not one corner of it. */
    cr_assert(lo < 0.31 && hi > 0.59,
              "areas seen %g..%g, expected to span 0.3..0.6", lo, hi);
}

Test(image_rrc, falls_back_to_center_crop)
{
    dc_transform t = dc_transform_random_resized_crop(8, 8);
    dc_rng rng;
    int b[4];

    /* On a 10 x 200 strip no window of ratio <= 4/3 holds 90 % of the area, so
     * all ten tries fail: the centre crop of height 10, width round(10 * 4/3)
     * = 13. */
    t.rrc.scale[0] = 0.9f;
    dc_rng_seed(&rng, 99);
    dc_transform_rrc_window(&t, 10, 200, &rng, b);
    cr_assert(b[0] == 0 && b[1] == 93 && b[2] == 10 && b[3] == 13,
              "(%d,%d,%d,%d)", b[0], b[1], b[2], b[3]);

    /* A tall strip: width 10, height round(10 / (3/4)) = 13. */
    dc_transform_rrc_window(&t, 200, 10, &rng, b);
    cr_assert(b[0] == 93 && b[1] == 0 && b[2] == 13 && b[3] == 10,
              "(%d,%d,%d,%d)", b[0], b[1], b[2], b[3]);
}

/* ---- parameter checks and pipelines ---- */

Test(image_transform, torchvision_rules)
{
    dc_transform t;
    dc_pipeline p;

    t = dc_transform_gaussian_blur(4);
    cr_assert_eq(dc_transform_check(&t), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "GaussianBlur: kernel_size (4, 4)"), "%s",
              dc_last_error());
    t = dc_transform_color_jitter(0.0f, 0.0f, 0.0f, 0.7f);
    cr_assert_eq(dc_transform_check(&t), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "ColorJitter: hue is (-0.7, 0.7)"), "%s",
              dc_last_error());
    t = dc_transform_color_jitter(-0.1f, 0.0f, 0.0f, 0.0f);
    cr_assert_eq(dc_transform_check(&t), DC_ERR_ARG);
    t = dc_transform_random_rotation(-5.0f);
    cr_assert_eq(dc_transform_check(&t), DC_ERR_ARG);
    t = dc_transform_random_hflip();
    t.flip.p = 1.5f;
    cr_assert_eq(dc_transform_check(&t), DC_ERR_ARG);
    t = dc_transform_resize(0);
    cr_assert_eq(dc_transform_check(&t), DC_ERR_ARG);
    t = dc_transform_random_affine(10.0f);
    t.affine.translate[0] = 1.5f;
    cr_assert_eq(dc_transform_check(&t), DC_ERR_ARG);

    dc_pipeline_init(&p);
    t = dc_transform_random_hflip();
    for (int i = 0; i < DC_PIPELINE_MAX; i++)
        cr_assert_eq(dc_pipeline_add(&p, &t), DC_OK);
    cr_assert_eq(dc_pipeline_add(&p, &t), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "full"), "%s", dc_last_error());
}

static void augment_pipeline(dc_pipeline *p)
{
    const float mean[3] = {0.485f, 0.456f, 0.406f},
                std[3] = {0.229f, 0.224f, 0.225f};
    dc_transform t[] = {
        dc_transform_random_resized_crop(32, 32),
        dc_transform_random_hflip(),
        dc_transform_random_rotation(15.0f),
        dc_transform_color_jitter(0.3f, 0.3f, 0.3f, 0.05f),
        dc_transform_random_grayscale(),
        dc_transform_gaussian_blur(3),
        dc_transform_normalize(mean, std),
    };

    dc_pipeline_init(p);
    t[4].gray.p = 0.5f;
    for (size_t i = 0; i < sizeof t / sizeof *t; i++)
        cr_assert_eq(dc_pipeline_add(p, &t[i]), DC_OK, "%s", dc_last_error());
}

static void run_pipeline(const dc_pipeline *p, const dc_image *src,
                         uint64_t seed, dc_image *out, dc_image_ws *ws)
{
    dc_rng rng;

    copy_image(src, out);
    dc_rng_seed(&rng, seed);
    cr_assert_eq(dc_pipeline_apply(p, out, ws, &rng), DC_OK, "%s",
                 dc_last_error());
}

Test(image_pipeline, same_seed_same_output_other_seed_other_output)
{
    dc_pipeline p;
    dc_image src, a, b;
    dc_image_ws ws;
    int h, w;

    augment_pipeline(&p);
    dc_image_init(&src);
    dc_image_init(&a);
    dc_image_init(&b);
    dc_image_ws_init(&ws);
    random_image(&src, 48, 64, 21);
    cr_assert_eq(dc_pipeline_out_size(&p, 48, 64, &h, &w), DC_OK);
    cr_assert(h == 32 && w == 32);

    run_pipeline(&p, &src, 7, &a, &ws);
    run_pipeline(&p, &src, 7, &b, NULL);
    cr_assert(a.c == 3 && a.h == 32 && a.w == 32);
    cr_assert(same_image(&a, &b), "seed 7 gave two different results");
    run_pipeline(&p, &src, 8, &b, &ws);
    cr_assert(!same_image(&a, &b), "seeds 7 and 8 gave the same result");
    dc_image_deinit(&src);
    dc_image_deinit(&a);
    dc_image_deinit(&b);
    dc_image_ws_deinit(&ws);
}

Test(image_pipeline, out_size_names_the_step)
{
    dc_pipeline p;
    dc_transform r = dc_transform_resize(4), b = dc_transform_gaussian_blur(9);
    int h, w;

    dc_pipeline_init(&p);
    cr_assert_eq(dc_pipeline_add(&p, &r), DC_OK);
    cr_assert_eq(dc_pipeline_add(&p, &b), DC_OK);
    cr_assert_eq(dc_pipeline_out_size(&p, 40, 60, &h, &w), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "pipeline step 2: GaussianBlur"), "%s",
              dc_last_error());
}
