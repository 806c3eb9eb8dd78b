/* log.h - the one logging function of deepc, with levels and a redirectable sink. */
#ifndef DEEPC_LOG_H
#define DEEPC_LOG_H

typedef enum dc_log_level {
    DC_LOG_ERROR = 0,
    DC_LOG_WARN,
    DC_LOG_INFO,
    DC_LOG_DEBUG,
} dc_log_level;

/* Receives each message that passes the threshold, without a trailing newline. */
typedef void (*dc_log_sink)(dc_log_level level, const char *msg, void *user);

/* Logs a printf-style message if `level` is at or below the threshold. */
void dc_log(dc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Messages above `level` are dropped (default DC_LOG_INFO). */
void dc_log_set_level(dc_log_level level);
dc_log_level dc_log_get_level(void);

/* Replaces the sink (NULL restores the default: "level: message" lines on stderr). */
void dc_log_set_sink(dc_log_sink sink, void *user);

/* Also appends every message that passes the threshold to `path` (NULL closes it).
 * Returns 0, or -1 with dc_last_error set if the file cannot be opened. */
int dc_log_tee(const char *path);

#endif
