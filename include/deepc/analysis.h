/* analysis.h - what a classifier's predictions say: confusion matrix, per-class
 * precision, recall and F1. */
#ifndef DEEPC_ANALYSIS_H
#define DEEPC_ANALYSIS_H

#include "deepc/tensor.h"

/* counts[t*k + p] += 1 for each example with true class t and predicted class p.
 * counts must hold k*k ints and is zeroed first. DC_ERR_ARG naming the index if a class
 * is outside 0..k-1. */
dc_status dc_confusion(const int *truth, const int *pred, int n, int k, int *counts);

/* Per-class figures from a confusion matrix: precision = tp / predicted, recall = tp /
 * actual, F1 their harmonic mean; 0 where the denominator is 0 (sklearn's
 * zero_division=0). Any output may be NULL. Returns the accuracy (trace / total). */
double dc_class_metrics(const int *counts, int k, double *precision, double *recall,
                        double *f1);

#endif
