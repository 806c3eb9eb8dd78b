/* common.h - pieces several experiments share: opening a run, finding MNIST, evaluating
 * a classifier, and drawing epoch curves. */
#ifndef DEEPC_EXPERIMENTS_COMMON_H
#define DEEPC_EXPERIMENTS_COMMON_H

#include "deepc/data.h"
#include "deepc/run.h"
#include "deepc/viz.h"
#include "experiments.h"

/* Opens the run folder for `name`, sets threads and records the settings. NULL with
 * dc_last_error set on failure. */
dc_run *exp_begin(const exp_ctx *ctx, const char *name);

/* Loads an MNIST split from the data folder (--data-dir, $DEEPC_DATA or ./data). */
dc_dataset *exp_load_mnist(const exp_ctx *ctx, const char *split, int limit);

/* Epoch curves: `n_series` series of `n` points each (x = 1..n), one PNG in the run
 * folder. Logs a warning if the picture cannot be written. */
void exp_plot_epochs(dc_run *run, const char *file, const char *title, const char *ylabel,
                     const char *const *labels, const double *const *ys, int n_series,
                     int n, int log_y);

/* Adds a "name value" two-column table of a run's settings to the report. */
void exp_report_settings(dc_report *r, const exp_ctx *ctx);

/* Closes a run: on failure (rc != 0) records dc_last_error() in summary.json and
 * log.txt first. Returns rc, or -1 if closing failed. */
int exp_end(dc_run *run, int rc);

/* Writes report.html into the run folder and logs its path; -1 on failure. */
int exp_report_finish(dc_report *r, dc_run *run);

#endif
