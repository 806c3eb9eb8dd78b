/* registry.c - the list of experiments and the typed access to their settings. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deepc/log.h"
#include "deepc/tensor.h"
#include "experiments.h"

const experiment *const exp_registry[] = {
    &exp_mnist_mlp,
    &exp_random_labels,
    &exp_dog_emotion,
    &exp_tweet_emotion,
    NULL,
};

const experiment *exp_find(const char *name)
{
    for (int i = 0; exp_registry[i]; i++)
        if (strcmp(exp_registry[i]->name, name) == 0)
            return exp_registry[i];
    return NULL;
}

static const char *value_of(const exp_ctx *ctx, const char *key)
{
    for (int i = 0; i < ctx->n_settings; i++)
        if (strcmp(ctx->settings[i].key, key) == 0)
            return ctx->values[i];
    /* Asking for a key the experiment never declared is a bug in the experiment. */
    dc_log(DC_LOG_ERROR, "experiment asked for undeclared setting \"%s\"", key);
    abort();
}

long exp_int(const exp_ctx *ctx, const char *key)
{
    return strtol(value_of(ctx, key), NULL, 10);
}

double exp_float(const exp_ctx *ctx, const char *key)
{
    return strtod(value_of(ctx, key), NULL);
}

const char *exp_str(const exp_ctx *ctx, const char *key)
{
    return value_of(ctx, key);
}

static int in_choices(const char *choices, const char *text)
{
    size_t n = strlen(text);

    for (const char *p = choices; p && *p;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, text, n) == 0)
            return 1;
        p = bar ? bar + 1 : NULL;
    }
    return 0;
}

static int check_range(const exp_setting *s, const char *text, double v)
{
    if (s->min < s->max && (v < s->min || v > s->max))
        return dc_fail(DC_ERR_ARG, "--set %s=%s: expected a value from %g to %g", s->key,
                       text, s->min, s->max), -1;
    return 0;
}

/* Plain decimal notation only: strtod alone would also take " 1", "0x10" and "inf". */
static int plain_number(const char *text)
{
    if (!*text)
        return 0;
    for (const char *p = text; *p; p++)
        if (!strchr("0123456789.eE+-", *p))
            return 0;
    return 1;
}

/* Each comma-separated item of an EXP_LIST value. */
static int check_list(const exp_setting *s, const char *text)
{
    char item[32], *end;
    const char *p = text;

    do {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (n == 0 || n >= sizeof item)
            return dc_fail(DC_ERR_ARG, "--set %s=%s: expected a comma-separated list of "
                           "%s", s->key, text, s->choices ? s->choices : "numbers"), -1;
        memcpy(item, p, n);
        item[n] = '\0';
        if (s->choices && !in_choices(s->choices, item))
            return dc_fail(DC_ERR_ARG, "--set %s=%s: item \"%s\" is not one of %s", s->key,
                           text, item, s->choices), -1;
        if (!s->choices) {
            double v = strtod(item, &end);
            if (!plain_number(item) || *end || !isfinite(v) || check_range(s, item, v) != 0)
                return dc_fail(DC_ERR_ARG, "--set %s=%s: item \"%s\" is not a number from "
                               "%g to %g", s->key, text, item, s->min, s->max), -1;
        }
        p = comma ? comma + 1 : NULL;
    } while (p);
    return 0;
}

int exp_list(const exp_ctx *ctx, const char *key, char items[][32], int max)
{
    const char *p = value_of(ctx, key);
    int n = 0;

    while (p && n < max) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        snprintf(items[n++], 32, "%.*s", (int)len, p);
        p = comma ? comma + 1 : NULL;
    }
    return n;
}

int exp_check_value(const exp_setting *s, const char *text)
{
    char *end;

    errno = 0;
    switch (s->type) {
    case EXP_INT: {
        long v = strtol(text, &end, 10);
        if (!plain_number(text) || *end || errno || v < 0 || v > 1000000000)
            return dc_fail(DC_ERR_ARG, "--set %s=%s: expected a whole number from %g to %g",
                           s->key, text, s->min < s->max ? s->min : 0,
                           s->min < s->max ? s->max : 1e9), -1;
        return check_range(s, text, (double)v);
    }
    case EXP_FLOAT: {
        double v = strtod(text, &end);
        if (!plain_number(text) || *end || errno || !isfinite(v))
            return dc_fail(DC_ERR_ARG, "--set %s=%s: expected a finite decimal number",
                           s->key, text), -1;
        return check_range(s, text, v);
    }
    case EXP_LIST:
        return check_list(s, text);
    case EXP_BOOL:
        if (strcmp(text, "0") && strcmp(text, "1"))
            return dc_fail(DC_ERR_ARG, "--set %s=%s: expected 0 or 1", s->key, text), -1;
        return 0;
    default:
        if (s->choices && !in_choices(s->choices, text))
            return dc_fail(DC_ERR_ARG, "--set %s=%s: expected one of %s", s->key, text,
                           s->choices), -1;
        return 0;
    }
}

int exp_record_config(const exp_ctx *ctx, dc_run *run)
{
    dc_run_config_str(run, "profile", ctx->profile);
    dc_run_config_num(run, "seed", (double)ctx->seed);
    dc_run_config_num(run, "threads", ctx->threads);
    dc_log(DC_LOG_INFO, "settings: profile=%s seed=%llu threads=%d", ctx->profile,
           (unsigned long long)ctx->seed, ctx->threads);
    for (int i = 0; i < ctx->n_settings; i++) {
        const exp_setting *s = &ctx->settings[i];
        if (s->type == EXP_STR || s->type == EXP_LIST)
            dc_run_config_str(run, s->key, ctx->values[i]);
        else
            dc_run_config_num(run, s->key, strtod(ctx->values[i], NULL));
        dc_log(DC_LOG_INFO, "  %-16s %s", s->key, ctx->values[i]);
    }
    return dc_run_write_config(run) == DC_OK ? 0 : -1;
}
