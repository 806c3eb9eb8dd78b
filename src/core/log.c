/* log.c - levelled logging to stderr (or a sink), optionally teed to a file. */
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>

#include "deepc/log.h"
#include "deepc/tensor.h"

static dc_log_level threshold = DC_LOG_INFO;
static dc_log_sink sink;
static void *sink_user;
static FILE *tee_file;

static const char *level_names[] = {"error", "warn", "info", "debug"};

void dc_log_set_level(dc_log_level level)
{
    threshold = level;
}

dc_log_level dc_log_get_level(void)
{
    return threshold;
}

void dc_log_set_sink(dc_log_sink s, void *user)
{
    sink = s;
    sink_user = user;
}

int dc_log_tee(const char *path)
{
    if (tee_file) {
        fclose(tee_file);
        tee_file = NULL;
    }
    if (!path)
        return 0;
    tee_file = fopen(path, "w");
    if (!tee_file) {
        dc_fail(DC_ERR_IO, "%s: cannot open log file: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Hands a message to the sink, or prints it on stderr. */
static void show(dc_log_level level, const char *msg)
{
    if (sink)
        sink(level, msg, sink_user);
    else if (level == DC_LOG_INFO)
        fprintf(stderr, "%s\n", msg);
    else
        fprintf(stderr, "%s: %s\n", level_names[level], msg);
}

void dc_log(dc_log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    /* The file copy keeps info and above even under --quiet: a run's log.txt should
     * explain the run whatever the terminal showed. */
    int to_tee = tee_file && (level <= threshold || level <= DC_LOG_INFO);

    if (level > threshold && !to_tee)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    if (level <= threshold)
        show(level, msg);
    if (to_tee) {
        fprintf(tee_file, "%s\n", msg);
        fflush(tee_file);
    }
}
