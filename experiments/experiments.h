/* experiments.h - what the tool needs to know about each course experiment: its name,
 * data, outputs, settings with their per-profile defaults, and the function that runs it.
 * Experiments use only the public deepc API. */
#ifndef DEEPC_EXPERIMENTS_H
#define DEEPC_EXPERIMENTS_H

#include <stdint.h>

#include "deepc/run.h"

/* EXP_LIST: comma-separated items, each one of `choices` if given, else a number
 * within [min, max] (a grid search's values). */
typedef enum exp_type { EXP_INT, EXP_FLOAT, EXP_STR, EXP_BOOL, EXP_LIST } exp_type;

/* One --set key. `choices` (may be NULL) lists valid values of a string setting,
 * separated by '|'. A number must lie in [min, max] when min < max. */
typedef struct exp_setting {
    const char *key;
    exp_type type;
    const char *quick;  /* default under --profile quick */
    const char *full;   /* default under --profile full */
    const char *help;
    const char *choices;
    double min;
    double max;
} exp_setting;

#define EXP_MAX_SETTINGS 32

/* Everything an experiment run gets from the tool. */
typedef struct exp_ctx {
    const char *profile;       /* "quick" or "full" */
    const char *data_dir;      /* --data-dir, or NULL */
    const char *out_root;      /* --out, or NULL for "runs" */
    uint64_t seed;
    int threads;
    const exp_setting *settings;
    const char *values[EXP_MAX_SETTINGS];  /* validated text of each setting */
    int n_settings;
} exp_ctx;

typedef struct experiment {
    const char *name;
    const char *summary;
    const char *data;       /* what data it reads, and where */
    const char *produces;
    uint64_t default_seed;
    const exp_setting *settings;  /* terminated by a {NULL} entry */
    int (*run)(exp_ctx *ctx);     /* 0 on success; on failure the message is in
                                     dc_last_error() */
} experiment;

/* The value of a setting (validated by the tool before run() is called). */
long exp_int(const exp_ctx *ctx, const char *key);
double exp_float(const exp_ctx *ctx, const char *key);
const char *exp_str(const exp_ctx *ctx, const char *key);

/* Splits a validated EXP_LIST setting into at most `max` items (numbers as text);
 * returns the count. */
int exp_list(const exp_ctx *ctx, const char *key, char items[][32], int max);

/* Checks `text` against the setting's type and choices. Returns 0, or -1 with a
 * message naming the key, the value and what was expected. */
int exp_check_value(const exp_setting *s, const char *text);

/* Records every setting, the profile, seed and threads in the run's config.json and
 * logs them in one block. */
int exp_record_config(const exp_ctx *ctx, dc_run *run);

/* The registry, terminated by a NULL entry. */
extern const experiment *const exp_registry[];
const experiment *exp_find(const char *name);

extern const experiment exp_mnist_mlp;
extern const experiment exp_random_labels;
extern const experiment exp_tweet_emotion;
extern const experiment exp_dog_emotion;

#endif
