/* run.c - run folders: config.json, summary.json, metrics.csv, log.txt, progress lines. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deepc/io.h"
#include "deepc/log.h"
#include "deepc/run.h"

struct dc_run {
    char dir[4096];
    cJSON *config;
    cJSON *summary;
    char *metrics;       /* the whole CSV text so far */
    size_t metrics_len;
    size_t metrics_cap;
    char error[1024];    /* why the run failed, or "" */
};

double dc_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* mkdir -p */
static dc_status make_dirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof buf)
        return dc_fail(DC_ERR_ARG, "run folder path \"%s\" is empty or too long", path);
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char keep = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return dc_fail(DC_ERR_IO, "%s: cannot create folder: %s", buf,
                               strerror(errno));
            *p = keep;
            if (keep == '\0')
                break;
        }
    }
    return DC_OK;
}

/* <root>/<experiment>/<YYYYmmdd-HHMMSS>, with -2, -3... if that already exists. */
static void timestamped_dir(char *out, size_t n, const char *root, const char *experiment)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    struct stat st;

    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(out, n, "%s/%s/%s", root, experiment, stamp);
    for (int k = 2; stat(out, &st) == 0; k++)
        snprintf(out, n, "%s/%s/%s-%d", root, experiment, stamp, k);
}

dc_run *dc_run_begin(const char *experiment, const char *out_root, const char *exact_dir)
{
    dc_run *run = dc_calloc(1, sizeof *run, "run");
    char log_path[4200];

    if (!run)
        return NULL;
    if (exact_dir)
        snprintf(run->dir, sizeof run->dir, "%s", exact_dir);
    else
        timestamped_dir(run->dir, sizeof run->dir, out_root ? out_root : "runs", experiment);
    run->config = cJSON_CreateObject();
    run->summary = cJSON_CreateObject();
    if (!run->config || !run->summary || make_dirs(run->dir) != DC_OK)
        goto fail;
    if (dc_log_tee(dc_run_path(run, "log.txt", log_path, sizeof log_path)) != 0)
        goto fail;
    dc_run_config_str(run, "experiment", experiment);
    dc_run_config_str(run, "deepc_version", DC_VERSION);
    return run;

fail:
    if (!*dc_last_error())
        dc_fail(DC_ERR_NOMEM, "run: out of memory");
    cJSON_Delete(run->config);
    cJSON_Delete(run->summary);
    free(run);
    return NULL;
}

const char *dc_run_dir(const dc_run *run)
{
    return run->dir;
}

char *dc_run_path(const dc_run *run, const char *file, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", run->dir, file);
    return out;
}

static void json_set(cJSON *obj, const char *key, cJSON *value)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, value);
    else
        cJSON_AddItemToObject(obj, key, value);
}

void dc_run_config_str(dc_run *run, const char *key, const char *value)
{
    json_set(run->config, key, cJSON_CreateString(value));
}

void dc_run_config_num(dc_run *run, const char *key, double value)
{
    json_set(run->config, key, cJSON_CreateNumber(value));
}

void dc_run_summary_str(dc_run *run, const char *key, const char *value)
{
    json_set(run->summary, key, cJSON_CreateString(value));
}

void dc_run_summary_num(dc_run *run, const char *key, double value)
{
    json_set(run->summary, key, cJSON_CreateNumber(value));
}

static dc_status write_json(const dc_run *run, const cJSON *obj, const char *file)
{
    char path[4200];
    char *text = cJSON_Print(obj), *line;
    size_t n;
    dc_status s;

    if (!text)
        return dc_fail(DC_ERR_NOMEM, "%s: out of memory printing JSON", file);
    n = strlen(text);
    if (!(line = realloc(text, n + 2))) {
        free(text);
        return dc_fail(DC_ERR_NOMEM, "%s: out of memory printing JSON", file);
    }
    line[n] = '\n';
    s = dc_write_file_atomic(dc_run_path(run, file, path, sizeof path), line, n + 1);
    free(line);
    return s;
}

dc_status dc_run_write_config(dc_run *run)
{
    return write_json(run, run->config, "config.json");
}

dc_status dc_run_write_summary(dc_run *run)
{
    return write_json(run, run->summary, "summary.json");
}

static void metrics_append(dc_run *run, const char *text)
{
    size_t n = strlen(text);

    if (run->metrics_len + n + 1 > run->metrics_cap) {
        size_t cap = (run->metrics_cap + n + 1) * 2;
        char *grown = realloc(run->metrics, cap);
        if (!grown)
            return;  /* the CSV misses this text; dc_run_metrics_row reports it */
        run->metrics = grown;
        run->metrics_cap = cap;
    }
    memcpy(run->metrics + run->metrics_len, text, n + 1);
    run->metrics_len += n;
}

void dc_run_metrics_header(dc_run *run, const char *columns)
{
    run->metrics_len = 0;
    metrics_append(run, columns);
    metrics_append(run, "\n");
}

dc_status dc_run_metrics_row(dc_run *run, const double *values, int n)
{
    char cell[64], path[4200];

    for (int i = 0; i < n; i++) {
        snprintf(cell, sizeof cell, i ? ",%.9g" : "%.9g", values[i]);
        metrics_append(run, cell);
    }
    metrics_append(run, "\n");
    if (!run->metrics)
        return dc_fail(DC_ERR_NOMEM, "metrics.csv: out of memory");
    return dc_write_file_atomic(dc_run_path(run, "metrics.csv", path, sizeof path),
                                run->metrics, run->metrics_len);
}

void dc_run_failed(dc_run *run, const char *message)
{
    snprintf(run->error, sizeof run->error, "%s", message);
    dc_run_summary_str(run, "status", "failed");
    dc_run_summary_str(run, "error", message);
}

/* The failure goes to log.txt only: the tool prints it on stderr itself. */
static void log_failure(const dc_run *run)
{
    char path[4200];
    FILE *f = fopen(dc_run_path(run, "log.txt", path, sizeof path), "a");

    if (f) {
        fprintf(f, "error: %s\n", run->error);
        fclose(f);
    }
}

dc_status dc_run_end(dc_run *run)
{
    dc_status s;

    if (!run)
        return DC_OK;
    if (!run->error[0])
        dc_run_summary_str(run, "status", "ok");
    s = dc_run_write_summary(run);
    dc_log_tee(NULL);
    if (run->error[0])
        log_failure(run);
    cJSON_Delete(run->config);
    cJSON_Delete(run->summary);
    free(run->metrics);
    free(run);
    return s;
}

void dc_progress_begin(dc_progress *p, const char *label, long total)
{
    p->label = label;
    p->total = total;
    p->start = dc_now();
    p->last_print = p->start;
    p->tty = isatty(STDERR_FILENO) && dc_log_get_level() >= DC_LOG_INFO;
}

void dc_progress_update(dc_progress *p, long done, const char *extra)
{
    double now = dc_now(), elapsed = now - p->start;
    double rate = elapsed > 0 ? done / elapsed : 0;
    double left = rate > 0 ? (p->total - done) / rate : 0;

    /* Redraw a terminal line at most 10 times a second; plain logs every 30 s. */
    if (now - p->last_print < (p->tty ? 0.1 : 30.0) && done < p->total)
        return;
    p->last_print = now;
    if (p->tty)
        fprintf(stderr, "\r%s %ld/%ld  %.0f/s  %.0fs elapsed  %.0fs left  %s\033[K",
                p->label, done, p->total, rate, elapsed, left, extra ? extra : "");
    else if (dc_log_get_level() >= DC_LOG_INFO && done < p->total)
        dc_log(DC_LOG_INFO, "%s %ld/%ld  %.0f/s  %.0fs left  %s", p->label, done, p->total,
               rate, left, extra ? extra : "");
}

void dc_progress_end(dc_progress *p)
{
    if (p->tty)
        fprintf(stderr, "\r\033[K");
}
