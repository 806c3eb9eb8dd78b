/* Confusion matrix and per-class metrics on a hand-computed example. */
#include <criterion/criterion.h>
#include <string.h>

#include "deepc/analysis.h"

Test(metrics, confusion_and_per_class_figures)
{
    int truth[] = {0, 0, 0, 1, 1, 2, 2, 2, 2, 0};
    int pred[] = {0, 1, 0, 1, 2, 2, 2, 0, 2, 0};
    int counts[9];
    double p[3], r[3], f[3];

    cr_assert_eq(dc_confusion(truth, pred, 10, 3, counts), DC_OK);
    int want[9] = {3, 1, 0, 0, 1, 1, 1, 0, 3};
    for (int i = 0; i < 9; i++)
        cr_assert_eq(counts[i], want[i], "cell %d", i);

    /* class 0: tp 3, predicted 4, actual 4; class 1: tp 1, predicted 2, actual 2;
     * class 2: tp 3, predicted 4, actual 4. */
    cr_assert_float_eq(dc_class_metrics(counts, 3, p, r, f), 0.7, 1e-12);
    cr_assert_float_eq(p[0], 0.75, 1e-12);
    cr_assert_float_eq(r[1], 0.5, 1e-12);
    cr_assert_float_eq(f[1], 0.5, 1e-12);
    cr_assert_float_eq(f[2], 0.75, 1e-12);
}

Test(metrics, empty_class_scores_zero_and_bad_class_is_rejected)
{
    int truth[] = {0, 0}, pred[] = {0, 0}, bad[] = {0, 3}, counts[9];
    double p[3], r[3], f[3];

    cr_assert_eq(dc_confusion(truth, pred, 2, 3, counts), DC_OK);
    cr_assert_float_eq(dc_class_metrics(counts, 3, p, r, f), 1.0, 1e-12);
    cr_assert_eq(p[1], 0.0);
    cr_assert_eq(f[2], 0.0);
    cr_assert_eq(dc_confusion(truth, bad, 2, 3, counts), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "example 1 has class 0 predicted as 3"));
}
