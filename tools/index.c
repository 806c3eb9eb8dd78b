/* index.c - `deepc report [RUNS_DIR]`: an index page of every run under RUNS_DIR
 * (default runs/), read from each run folder's config.json and summary.json, written to
 * RUNS_DIR/index.html with a link to each run's report. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deepc/viz.h"
#include "index.h"

#define MAX_RUNS 4096

typedef struct run_row {
    char rel[512];      /* EXPERIMENT/STAMP, relative to the runs folder */
    char figures[512];  /* "test_acc 0.8214, ...", or why there are none */
    char profile[32];
    int has_report;
} run_row;

static cJSON *read_json(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    cJSON *j = NULL;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (1 << 24)
        && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
        if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
            buf[n] = '\0';
            j = cJSON_Parse(buf);
        }
        free(buf);
    }
    fclose(f);
    return j;
}

/* The summary's numbers as "key value, ..." (the first few, which name the result). */
static void describe(const cJSON *summary, char *out, size_t n)
{
    const cJSON *item;
    size_t used = 0;
    int shown = 0;

    out[0] = '\0';
    cJSON_ArrayForEach(item, summary) {
        if (!cJSON_IsNumber(item) || shown == 6 || used >= n)
            continue;
        used += (size_t)snprintf(out + used, n - used, "%s%s %.4g", shown ? ", " : "",
                                 item->string, item->valuedouble);
        shown++;
    }
}

/* A run folder is any EXPERIMENT/STAMP folder holding a config.json; one whose
 * summary is missing or unreadable is listed as such (a run in progress, or killed). */
static int read_run(const char *root, const char *exp, const char *stamp, run_row *row)
{
    char path[4096];
    cJSON *summary, *config;
    const cJSON *profile, *error;

    snprintf(path, sizeof path, "%s/%s/%s/config.json", root, exp, stamp);
    if (access(path, F_OK) != 0)
        return -1;
    config = read_json(path);
    profile = cJSON_GetObjectItemCaseSensitive(config, "profile");
    snprintf(row->rel, sizeof row->rel, "%.200s/%.200s", exp, stamp);
    snprintf(row->profile, sizeof row->profile, "%s",
             cJSON_IsString(profile) ? profile->valuestring : "(config.json unreadable)");

    snprintf(path, sizeof path, "%s/%s/%s/summary.json", root, exp, stamp);
    summary = read_json(path);
    error = cJSON_GetObjectItemCaseSensitive(summary, "error");
    if (!summary)
        snprintf(row->figures, sizeof row->figures, "no readable summary.json (running, "
                 "killed or damaged)");
    else if (cJSON_IsString(error))
        snprintf(row->figures, sizeof row->figures, "failed: %.480s", error->valuestring);
    else
        describe(summary, row->figures, sizeof row->figures);

    snprintf(path, sizeof path, "%s/%s/%s/report.html", root, exp, stamp);
    row->has_report = access(path, R_OK) == 0;
    cJSON_Delete(summary);
    cJSON_Delete(config);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const run_row *)a)->rel, ((const run_row *)b)->rel);
}

/* Every RUNS_DIR/EXPERIMENT/STAMP folder that holds a summary.json. */
static int collect(const char *root, run_row *rows, int max)
{
    DIR *top = opendir(root), *sub;
    struct dirent *e, *s;
    char path[4096];
    int n = 0;

    if (!top)
        return -1;
    while ((e = readdir(top)) && n < max) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", root, e->d_name);
        if (!(sub = opendir(path)))
            continue;
        while ((s = readdir(sub)) && n < max)
            if (s->d_name[0] != '.' && read_run(root, e->d_name, s->d_name, &rows[n]) == 0)
                n++;
        closedir(sub);
    }
    closedir(top);
    qsort(rows, (size_t)n, sizeof *rows, by_name);
    return n;
}

static int write_index(const char *root, const run_row *rows, int n)
{
    dc_report *r = dc_report_new("deepc runs");
    const char **cells = malloc(sizeof *cells * 3 * ((size_t)n + 1));
    char path[4096], href[600];
    dc_status s;

    if (!r || !cells) {
        fprintf(stderr, "deepc: report: out of memory\n");
        return 1;
    }
    cells[0] = "run", cells[1] = "profile", cells[2] = "final figures";
    for (int i = 0; i < n; i++) {
        cells[3 * i + 3] = rows[i].rel;
        cells[3 * i + 4] = rows[i].profile;
        cells[3 * i + 5] = rows[i].figures;
    }
    dc_report_text(r, "%d run%s under %s.", n, n == 1 ? "" : "s", root);
    dc_report_table(r, cells, n + 1, 3);
    dc_report_heading(r, "Reports");
    for (int i = 0; i < n; i++) {
        if (!rows[i].has_report)
            continue;
        snprintf(href, sizeof href, "%s/report.html", rows[i].rel);
        dc_report_link(r, href, rows[i].rel);
    }
    snprintf(path, sizeof path, "%s/index.html", root);
    s = dc_report_write(r, path);
    dc_report_free(r);
    free(cells);
    if (s != DC_OK) {
        fprintf(stderr, "deepc: report: %s\n", dc_last_error());
        return 1;
    }
    printf("%s: %d run%s\n", path, n, n == 1 ? "" : "s");
    return 0;
}

int index_main(int argc, char **argv)
{
    const char *root = argc > 0 ? argv[0] : "runs";
    run_row *rows;
    int n, rc;

    if (argc > 1 || (argc == 1 && argv[0][0] == '-' && strcmp(argv[0], "--help"))) {
        fprintf(stderr, "deepc: report: unexpected argument %s (usage: deepc report "
                "[RUNS_DIR])\n", argv[argc - 1]);
        return 2;
    }
    if (argc == 1 && !strcmp(argv[0], "--help")) {
        printf("usage: deepc report [RUNS_DIR]  (writes RUNS_DIR/index.html; default runs)\n");
        return 0;
    }
    if (!(rows = calloc(MAX_RUNS, sizeof *rows)))
        return 1;
    n = collect(root, rows, MAX_RUNS);
    if (n < 0) {
        fprintf(stderr, "deepc: report: %s: cannot open the runs folder\n", root);
        free(rows);
        return 1;
    }
    rc = write_index(root, rows, n);
    free(rows);
    return rc;
}
