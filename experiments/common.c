/* common.c - shared experiment plumbing (see common.h). */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "deepc/log.h"

dc_run *exp_begin(const exp_ctx *ctx, const char *name)
{
    dc_run *run = dc_run_begin(name, ctx->out_root, NULL);

    if (!run)
        return NULL;
    dc_set_threads(ctx->threads);
    dc_log(DC_LOG_INFO, "deepc %s: %s, run folder %s", DC_VERSION, name, dc_run_dir(run));
    if (exp_record_config(ctx, run) != 0) {
        dc_run_end(run);
        return NULL;
    }
    return run;
}

dc_dataset *exp_load_mnist(const exp_ctx *ctx, const char *split, int limit)
{
    char dir[4096];
    dc_dataset *ds;

    if (dc_data_find(ctx->data_dir, "mnist", dir, sizeof dir) != DC_OK
        || !(ds = dc_mnist_load_split(dir, split, limit)))
        return NULL;

    /* The course's networks read 784 inputs: any other image size is the wrong data. */
    if (ds->x->shape[2] != 28 || ds->x->shape[3] != 28) {
        dc_fail(DC_ERR_FORMAT, "%s: %s images are %dx%d, expected MNIST's 28x28", dir, split,
                ds->x->shape[2], ds->x->shape[3]);
        dc_dataset_free(ds);
        return NULL;
    }
    return ds;
}

void exp_plot_epochs(dc_run *run, const char *file, const char *title, const char *ylabel,
                     const char *const *labels, const double *const *ys, int n_series,
                     int n, int log_y)
{
    dc_series series[16];
    double *x = malloc((size_t)n * sizeof *x);
    char path[4200];

    if (!x || n_series > 16)
        goto done;
    for (int i = 0; i < n; i++)
        x[i] = i + 1;
    for (int s = 0; s < n_series; s++)
        series[s] = (dc_series){labels[s], x, ys[s], n};
    dc_plot_opts opts = {.title = title, .xlabel = "epoch", .ylabel = ylabel,
                         .log_y = log_y, .x_whole = 1};
    if (dc_plot_lines(dc_run_path(run, file, path, sizeof path), series, n_series, &opts)
        != DC_OK)
        dc_log(DC_LOG_WARN, "%s", dc_last_error());
done:
    free(x);
}

void exp_report_settings(dc_report *r, const exp_ctx *ctx)
{
    const char *cells[2 * (EXP_MAX_SETTINGS + 4)];
    char seed[32], threads[16];
    int k = 0;

    snprintf(seed, sizeof seed, "%llu", (unsigned long long)ctx->seed);
    snprintf(threads, sizeof threads, "%d", ctx->threads);
    cells[k++] = "setting";
    cells[k++] = "value";
    cells[k++] = "profile";
    cells[k++] = ctx->profile;
    cells[k++] = "seed";
    cells[k++] = seed;
    cells[k++] = "threads";
    cells[k++] = threads;
    for (int i = 0; i < ctx->n_settings; i++) {
        cells[k++] = ctx->settings[i].key;
        cells[k++] = ctx->values[i];
    }
    dc_report_heading(r, "Settings");
    dc_report_table(r, cells, k / 2, 2);
}

int exp_end(dc_run *run, int rc)
{
    if (rc != 0)
        dc_run_failed(run, dc_last_error());
    if (dc_run_end(run) != DC_OK)
        rc = -1;
    return rc;
}

int exp_report_finish(dc_report *r, dc_run *run)
{
    char path[4200];

    if (dc_report_write(r, dc_run_path(run, "report.html", path, sizeof path)) != DC_OK)
        return -1;
    dc_log(DC_LOG_INFO, "report: %s", path);
    return 0;
}
