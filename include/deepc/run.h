/* run.h - the run folder every experiment writes, and progress reporting.
 *
 * A run lives in <out>/<experiment>/<timestamp>/ and holds config.json (every setting,
 * the seed and the deepc version), log.txt (everything logged during the run),
 * metrics.csv (one row per epoch or step), summary.json (final figures), pictures,
 * model.safetensors and report.html. JSON and CSV files are written through a temporary
 * file and renamed into place, so an interrupted run never leaves a half-written file. */
#ifndef DEEPC_RUN_H
#define DEEPC_RUN_H

#include <stddef.h>

#include "deepc/tensor.h"

typedef struct dc_run dc_run;

/* Creates the run folder (and its parents) under `out_root` (NULL: "runs") and starts
 * copying the log into log.txt. If `exact_dir` is non-NULL it is used as the run folder
 * itself instead of <out_root>/<experiment>/<timestamp>. Owned by the caller
 * (dc_run_end). NULL with a message if the folder cannot be made. */
dc_run *dc_run_begin(const char *experiment, const char *out_root, const char *exact_dir);

/* Marks the run failed: summary.json gets "status": "failed" and "error": message, and
 * dc_run_end appends the message to log.txt. (A run that ends without this gets
 * "status": "ok".) */
void dc_run_failed(dc_run *run, const char *message);

/* Writes summary.json a last time, stops the log copy, frees the run. */
dc_status dc_run_end(dc_run *run);

/* The run folder (borrowed, valid until dc_run_end). */
const char *dc_run_dir(const dc_run *run);

/* Joins the run folder and `file` into out; returns out. */
char *dc_run_path(const dc_run *run, const char *file, char *out, size_t n);

/* Settings recorded in config.json (written by dc_run_write_config). */
void dc_run_config_str(dc_run *run, const char *key, const char *value);
void dc_run_config_num(dc_run *run, const char *key, double value);
dc_status dc_run_write_config(dc_run *run);

/* Final figures recorded in summary.json (written at dc_run_end and by
 * dc_run_write_summary). */
void dc_run_summary_str(dc_run *run, const char *key, const char *value);
void dc_run_summary_num(dc_run *run, const char *key, double value);
dc_status dc_run_write_summary(dc_run *run);

/* metrics.csv: a header of column names (comma-separated), then rows of numbers. The
 * file is rewritten atomically after every row, so it is always complete. */
void dc_run_metrics_header(dc_run *run, const char *columns);
dc_status dc_run_metrics_row(dc_run *run, const double *values, int n);

/* Progress of a long loop: on a terminal a line redrawn in place with rate and time
 * left; otherwise a plain line at most every `plain_every` seconds. */
typedef struct dc_progress {
    const char *label;
    long total;
    double start;
    double last_print;
    int tty;
} dc_progress;

void dc_progress_begin(dc_progress *p, const char *label, long total);
/* `done` items finished; `extra` (may be NULL) is appended, e.g. "loss 0.31". */
void dc_progress_update(dc_progress *p, long done, const char *extra);
void dc_progress_end(dc_progress *p);

/* Seconds since an arbitrary fixed point (monotonic clock). */
double dc_now(void);

#endif
