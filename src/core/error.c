/* error.c - the per-thread last-error message and checked allocation. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "deepc/tensor.h"

static _Thread_local char last_error[1024];

const char *dc_last_error(void)
{
    return last_error;
}

dc_status dc_fail(dc_status status, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return status;
}

void dc_clear_error(void)
{
    last_error[0] = '\0';
}

void *dc_malloc(size_t bytes, const char *what)
{
    void *p = malloc(bytes ? bytes : 1);

    if (!p)
        dc_fail(DC_ERR_NOMEM, "out of memory: %zu bytes for %s", bytes, what);
    return p;
}

void *dc_calloc(size_t count, size_t size, const char *what)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (!p)
        dc_fail(DC_ERR_NOMEM, "out of memory: %zu x %zu bytes for %s", count, size, what);
    return p;
}
