/* metrics.c - confusion matrices and per-class precision, recall and F1. */
#include <string.h>

#include "deepc/analysis.h"

dc_status dc_confusion(const int *truth, const int *pred, int n, int k, int *counts)
{
    memset(counts, 0, (size_t)k * k * sizeof *counts);
    for (int i = 0; i < n; i++) {
        if (truth[i] < 0 || truth[i] >= k || pred[i] < 0 || pred[i] >= k)
            return dc_fail(DC_ERR_ARG, "confusion: example %d has class %d predicted as %d, "
                           "expected both in 0..%d", i, truth[i], pred[i], k - 1);
        counts[truth[i] * k + pred[i]]++;
    }
    return DC_OK;
}

static double ratio(long num, long den)
{
    return den > 0 ? (double)num / (double)den : 0.0;
}

double dc_class_metrics(const int *counts, int k, double *precision, double *recall,
                        double *f1)
{
    long total = 0, trace = 0;

    for (int c = 0; c < k; c++) {
        long tp = counts[c * k + c], actual = 0, predicted = 0;
        for (int j = 0; j < k; j++) {
            actual += counts[c * k + j];
            predicted += counts[j * k + c];
        }
        double p = ratio(tp, predicted), r = ratio(tp, actual);
        if (precision)
            precision[c] = p;
        if (recall)
            recall[c] = r;
        if (f1)
            f1[c] = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
        total += actual;
        trace += tp;
    }
    return ratio(trace, total);
}
