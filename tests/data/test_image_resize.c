/* Tests of src/data/resize.c: antialiased bilinear resizing against Pillow's
 * float resize (the figures below), Resize(int)'s output size, crops and
 * CenterCrop with torchvision's rounding and padding.
 *
 * The reference figures were printed by this script (Pillow 13.0, numpy 2.4):
 *
 *   import numpy as np
 *   from PIL import Image
 *   def pattern(h, w):
 *       y, x = np.mgrid[0:h, 0:w]
 *       return (((x * 7 + y * 13) % 17) / 16.0).astype(np.float32)
 *   def pil_resize(a, h, w):
 *       return np.asarray(Image.fromarray(a, mode="F").resize((w, h), Image.BILINEAR))
 *   for (ih, iw, oh, ow) in [(7, 11, 3, 4), (4, 5, 6, 7), (7, 11, 2, 13), (20, 30, 3, 4)]:
 *       print(", ".join(f"{v:.7g}f" for v in pil_resize(pattern(ih, iw), oh, ow).ravel()))
 *   path = "dog-emotion/happy/04FMq3exmYnLxQ85XzYhS0a9Mrb5Ic420.jpg"
 *   im = np.asarray(Image.open(path).convert("RGB"))          # 144 x 96
 *   out = np.stack([pil_resize((im[:, :, c] / np.float32(255)).astype(np.float32),
 *                              96, 64) for c in range(3)])
 *   print(out.astype(np.float64).sum(), out[0, 0, 0], out[1, 30, 40], out[2, -1, -1])
 */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/data.h"
#include "deepc/image.h"

#include "testutil.h" /* find_dogs */

static void pattern(dc_image *img, int h, int w)
{
    cr_assert_eq(dc_image_reserve(img, 1, h, w), DC_OK);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            img->data[y * w + x] = (float)(((x * 7 + y * 13) % 17) / 16.0);
}

static void check_case(int ih, int iw, int oh, int ow, const float *want)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);
    pattern(&a, ih, iw);
    cr_assert_eq(dc_image_resize(&a, &b, oh, ow, NULL), DC_OK, "%s",
                 dc_last_error());
    cr_assert(b.c == 1 && b.h == oh && b.w == ow);
    for (int i = 0; i < oh * ow; i++)
        cr_assert(fabsf(b.data[i] - want[i]) < 2e-6f,
                  "%dx%d -> %dx%d: element %d is %.8g, Pillow gives %.8g", ih,
                  iw, oh, ow, i, b.data[i], want[i]);
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_resize, downscale_matches_pillow)
{
    static const float want[] = {
        0.4890046f, 0.4427827f, 0.4742559f, 0.5186839f, 0.5231481f, 0.5416667f,
        0.5041667f, 0.4421296f, 0.4477513f, 0.5008929f, 0.5159226f, 0.588459f,
    };

    check_case(7, 11, 3, 4, want);
}

Test(image_resize, upscale_matches_pillow)
{
    static const float want[] = {
        0.0f,       0.25f,      0.5625f,    0.875f,     0.4285714f, 0.4375f,
        0.6875f,    0.40625f,   0.3526786f, 0.4375f,    0.75f,      0.3035714f,
        0.3125f,    0.5625f,    0.7708333f, 0.514881f,  0.3973214f, 0.5833333f,
        0.2633929f, 0.2470238f, 0.3958333f, 0.6041667f, 0.7529762f, 0.7366071f,
        0.4166667f, 0.6026786f, 0.485119f,  0.2291667f, 0.4375f,    0.6875f,
        0.6964286f, 0.25f,      0.5625f,    0.6473215f, 0.59375f,   0.3125f,
        0.5625f,    0.5714286f, 0.125f,     0.4375f,    0.75f,      1.0f,
    };

    check_case(4, 5, 6, 7, want);
}

Test(image_resize, down_one_axis_up_the_other_matches_pillow)
{
    static const float want[] = {
        0.4447674f, 0.5342129f, 0.5565742f, 0.4705948f, 0.4245304f, 0.5343246f,
        0.5072674f, 0.3756708f, 0.5348837f, 0.5192308f, 0.4332514f, 0.4613148f,
        0.5697674f, 0.5014535f, 0.4198345f, 0.5125224f, 0.5139759f, 0.4736136f,
        0.5701029f, 0.5639535f, 0.411449f,  0.5668605f, 0.5645126f, 0.4804338f,
        0.4989938f, 0.6264535f,
    };

    check_case(7, 11, 2, 13, want);
}

Test(image_resize, large_factor_matches_pillow)
{
    /* Each output averages a window of about 7 x 7 inputs: the antialiasing. */
    static const float want[] = {
        0.4944805f, 0.5004463f, 0.5016857f, 0.4933986f, 0.5023687f, 0.4999572f,
        0.499622f,  0.5015493f, 0.4972626f, 0.5024015f, 0.4978894f, 0.5033028f,
    };

    check_case(20, 30, 3, 4, want);
}

Test(image_resize, same_size_is_a_copy_and_constants_stay)
{
    dc_image a, b;
    dc_image_ws ws;

    dc_image_init(&a);
    dc_image_init(&b);
    dc_image_ws_init(&ws);
    pattern(&a, 9, 13);
    cr_assert_eq(dc_image_resize(&a, &b, 9, 13, &ws), DC_OK);
    for (int i = 0; i < 9 * 13; i++)
        cr_assert_eq(b.data[i], a.data[i]);

    /* The weights of every output sum to 1, so a constant image stays constant. */
    for (int i = 0; i < 9 * 13; i++)
        a.data[i] = 0.375f;
    cr_assert_eq(dc_image_resize(&a, &b, 4, 29, &ws), DC_OK);
    for (int i = 0; i < 4 * 29; i++)
        cr_assert(fabsf(b.data[i] - 0.375f) < 1e-6f, "element %d is %g", i,
                  b.data[i]);
    dc_image_deinit(&a);
    dc_image_deinit(&b);
    dc_image_ws_deinit(&ws);
}

Test(image_resize, bad_arguments)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);
    pattern(&a, 4, 4);
    cr_assert_eq(dc_image_resize(&a, &b, 0, 3, NULL), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "size 0x3"), "%s", dc_last_error());
    cr_assert_eq(dc_image_resize(&a, &a, 2, 2, NULL), DC_ERR_ARG);
    dc_image_deinit(&a);
}

Test(image_resize, shorter_side_rule)
{
    int h, w;

    dc_resize_shorter(144, 96, 64, &h, &w);
    cr_assert(h == 96 && w == 64, "%dx%d", h, w);
    dc_resize_shorter(96, 144, 64, &h, &w);
    cr_assert(h == 64 && w == 96, "%dx%d", h, w);
    dc_resize_shorter(100, 100, 32, &h, &w);
    cr_assert(h == 32 && w == 32, "%dx%d", h, w);

    /* int(2 * 7 / 3) = int(4.67) = 4: truncated, not rounded. */
    dc_resize_shorter(3, 7, 2, &h, &w);
    cr_assert(h == 2 && w == 4, "%dx%d", h, w);
}

Test(image_resize, real_photo_resize_int_matches_pillow)
{
    char dir[1024], path[1200];
    dc_image img;
    dc_transform t = dc_transform_resize(64);
    double sum = 0.0;

    if (!find_dogs(dir, sizeof dir))
        cr_skip_test("dog-emotion data not found");
    snprintf(path, sizeof path,
             "%s/happy/04FMq3exmYnLxQ85XzYhS0a9Mrb5Ic420.jpg", dir);
    dc_image_init(&img);
    cr_assert_eq(dc_image_load(path, &img), DC_OK, "%s", dc_last_error());
    cr_assert_eq(dc_transform_apply(&t, &img, NULL, NULL), DC_OK, "%s",
                 dc_last_error());
    cr_assert(img.c == 3 && img.h == 96 && img.w == 64, "[%d,%d,%d]", img.c,
              img.h, img.w);
    for (int i = 0; i < 3 * 96 * 64; i++)
        sum += img.data[i];
    cr_assert(fabs(sum - 4299.470310) < 2e-3,
              "sum %.6f, Pillow gives 4299.470310", sum);
    cr_assert(fabsf(img.data[0] - 0.2838235f) < 1e-5f, "%.7g", img.data[0]);
    cr_assert(fabsf(img.data[96 * 64 + 30 * 64 + 40] - 0.08564512f) < 1e-5f);
    cr_assert(fabsf(img.data[3 * 96 * 64 - 1] - 0.05612746f) < 1e-5f);
    dc_image_deinit(&img);
}

/* ---- crops ---- */

static void numbered(dc_image *img, int h, int w)
{
    cr_assert_eq(dc_image_reserve(img, 1, h, w), DC_OK);
    for (int i = 0; i < h * w; i++)
        img->data[i] = (float)(i + 1);
}

Test(image_crop, window_and_zero_padding)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);
    numbered(&a, 4, 5);
    cr_assert_eq(dc_image_crop(&a, &b, 1, 2, 2, 3), DC_OK);
    cr_assert(b.h == 2 && b.w == 3);
    cr_assert(b.data[0] == 8 && b.data[2] == 10 && b.data[3] == 13 &&
              b.data[5] == 15);

    /* A window hanging over the top-left corner reads zeros there. */
    cr_assert_eq(dc_image_crop(&a, &b, -1, -2, 3, 4), DC_OK);
    cr_assert(b.data[0] == 0 && b.data[3] == 0 && b.data[4] == 0 &&
              b.data[5] == 0);
    cr_assert(b.data[6] == 1 && b.data[7] == 2 && b.data[10] == 6);
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_crop, center_crop_rounds_half_to_even)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);

    /* 5 -> 2: round(1.5) = 2; 7 -> 2: round(2.5) = 2 (Python's round). */
    numbered(&a, 5, 7);
    cr_assert_eq(dc_image_center_crop(&a, &b, 2, 2), DC_OK);
    cr_assert(b.data[0] == 2 * 7 + 2 + 1, "top-left is %g", b.data[0]);

    /* 4 -> 2: top 1. */
    numbered(&a, 4, 4);
    cr_assert_eq(dc_image_center_crop(&a, &b, 2, 2), DC_OK);
    cr_assert(b.data[0] == 6, "top-left is %g", b.data[0]);
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}

Test(image_crop, center_crop_larger_than_image_pads)
{
    dc_image a, b;

    dc_image_init(&a);
    dc_image_init(&b);
    numbered(&a, 3, 3);

    /* Padding (5 - 3) // 2 = 1 column on the left, (6 - 3) // 2 = 1 row on top. */
    cr_assert_eq(dc_image_center_crop(&a, &b, 6, 5), DC_OK);
    cr_assert(b.h == 6 && b.w == 5);
    cr_assert(b.data[0] == 0 && b.data[1 * 5 + 0] == 0);
    cr_assert(b.data[1 * 5 + 1] == 1 && b.data[3 * 5 + 3] == 9);
    cr_assert(b.data[4 * 5 + 1] == 0 && b.data[1 * 5 + 4] == 0);

    /* 3 -> 4 wide: pad left (4 - 3) // 2 = 0, so the image keeps column 0. */
    cr_assert_eq(dc_image_center_crop(&a, &b, 3, 4), DC_OK);
    cr_assert(b.data[0] == 1 && b.data[3] == 0);
    dc_image_deinit(&a);
    dc_image_deinit(&b);
}
