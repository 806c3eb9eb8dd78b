/* Learning-rate schedules against values PyTorch's schedulers give (computed by hand from
 * their documented closed forms, and checked with torch 1.13's CosineAnnealingLR and
 * StepLR stepped once per epoch). */
#include <criterion/criterion.h>

#include "deepc/optim.h"

Test(schedule, cosine_annealing_matches_pytorch)
{
    /* CosineAnnealingLR(base 1e-3, T_max 10, eta_min 1e-5) after t scheduler steps. */
    static const float want[] = {1.0e-3f, 9.7577e-4f, 9.0546e-4f, 7.9595e-4f, 6.5796e-4f,
                                 5.05e-4f, 3.5204e-4f, 2.1405e-4f, 1.0454e-4f, 3.4227e-5f,
                                 1.0e-5f};

    for (int t = 0; t <= 10; t++)
        cr_assert_float_eq(dc_lr_cosine(1e-3f, 1e-5f, t, 10), want[t], 2e-8, "t=%d", t);
}

Test(schedule, step_lr_matches_pytorch)
{
    /* StepLR(step_size 3, gamma 0.1) on base 0.1. */
    static const float want[] = {0.1f, 0.1f, 0.1f, 0.01f, 0.01f, 0.01f, 0.001f};

    for (int e = 0; e < 7; e++)
        cr_assert_float_eq(dc_lr_step(0.1f, e, 3, 0.1f), want[e], 1e-9, "epoch %d", e);
}
