/* deepc.c - the command-line tool: run, list, data, bench, report, export.
 * Usage errors (unknown command, experiment, flag or --set key, malformed value) print
 * one line naming the culprit and the valid choices, and exit with status 2; failures
 * while running exit with status 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "export.h"
#include "index.h"
#include "deepc/data.h"
#include "deepc/io.h"
#include "deepc/log.h"
#include "deepc/tensor.h"
#include "experiments.h"

#define EXIT_USAGE 2
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static const char usage_text[] =
    "usage: deepc <command> [options]\n"
    "\n"
    "commands:\n"
    "  run NAME [options]      run an experiment (deepc run --help for options)\n"
    "  list                    list the experiments, their data and what they produce\n"
    "  data verify NAME        check a dataset's files against their SHA-256 sums\n"
    "  data fetch NAME         say where a dataset comes from and where to put it\n"
    "  bench [MODEL]           training-step throughput (deepc bench --help)\n"
    "  report [RUNS_DIR]       write an index page of all runs (default runs/)\n"
    "  export --c MODEL        a dog-emotion checkpoint as one C file (deepc export --help)\n"
    "  --help, --version\n";

static const char run_usage[] =
    "usage: deepc run NAME [--profile quick|full] [--set key=value ...]\n"
    "                      [--data-dir DIR] [--out DIR] [--threads N] [--seed N]\n"
    "                      [--quiet|--verbose]\n"
    "\n"
    "  --profile   quick: a small real subset in about a minute; full: the course's\n"
    "              setting (default)\n"
    "  --set       change one setting; `deepc run NAME --help` lists them\n"
    "  --data-dir  where datasets are looked for (else $DEEPC_DATA, else ./data)\n"
    "  --out       root of the run folders (default runs/)\n"
    "  --threads   threads for OpenMP and OpenBLAS (default: all cores)\n"
    "  --seed      random seed (default: the experiment's, 42 for the course runs)\n";

static int usage_error(const char *fmt, const char *arg, const char *choices)
{
    fprintf(stderr, "deepc: ");
    fprintf(stderr, fmt, arg);
    if (choices)
        fprintf(stderr, " (valid: %s)", choices);
    fprintf(stderr, "\n");
    return EXIT_USAGE;
}

static void experiment_names(char *buf, size_t n)
{
    buf[0] = '\0';
    for (int i = 0; exp_registry[i]; i++) {
        strncat(buf, i ? ", " : "", n - strlen(buf) - 1);
        strncat(buf, exp_registry[i]->name, n - strlen(buf) - 1);
    }
}

/* One aligned row per setting; the widest key and default set the column widths. */
static void print_settings(const experiment *e)
{
    int key_w = 0, quick_w = 0, full_w = 0;

    for (const exp_setting *s = e->settings; s->key; s++) {
        key_w = MAX(key_w, (int)strlen(s->key));
        quick_w = MAX(quick_w, (int)strlen(s->quick));
        full_w = MAX(full_w, (int)strlen(s->full));
    }
    printf("settings of %s (--set key=value; defaults for quick / full):\n", e->name);
    for (const exp_setting *s = e->settings; s->key; s++)
        printf("  %-*s  %*s / %-*s  %s%s%s\n", key_w, s->key, quick_w, s->quick, full_w,
               s->full, s->help, s->choices ? "; one of " : "", s->choices ? s->choices : "");
}

static int cmd_list(void)
{
    for (int i = 0; exp_registry[i]; i++) {
        const experiment *e = exp_registry[i];
        printf("%s\n  %s\n  data: %s\n  produces: %s\n", e->name, e->summary, e->data,
               e->produces);
    }
    return 0;
}

static void setting_keys(const experiment *e, char *buf, size_t n)
{
    buf[0] = '\0';
    for (const exp_setting *s = e->settings; s->key; s++) {
        strncat(buf, s == e->settings ? "" : ", ", n - strlen(buf) - 1);
        strncat(buf, s->key, n - strlen(buf) - 1);
    }
}

/* Applies one "--set key=value" to ctx; 0 or a usage exit status. */
static int apply_set(const experiment *e, exp_ctx *ctx, const char *kv)
{
    const char *eq = strchr(kv, '=');
    char keys[1024];

    if (!eq || eq == kv)
        return usage_error("--set %s: expected key=value", kv, NULL);
    for (int i = 0; i < ctx->n_settings; i++) {
        const exp_setting *s = &e->settings[i];
        if (strlen(s->key) == (size_t)(eq - kv) && strncmp(s->key, kv, eq - kv) == 0) {
            if (exp_check_value(s, eq + 1) != 0)
                return usage_error("%s", dc_last_error(), NULL);
            ctx->values[i] = eq + 1;
            return 0;
        }
    }
    setting_keys(e, keys, sizeof keys);
    fprintf(stderr, "deepc: --set %.*s: unknown key for %s (valid: %s)\n",
            (int)(eq - kv), kv, e->name, keys);
    return EXIT_USAGE;
}

static int parse_number(const char *flag, const char *text, long long min, long long max,
                        long long *out)
{
    char *end;
    long long v = strtoll(text ? text : "", &end, 10);

    if (!text || !*text || *end || v < min || v > max) {
        fprintf(stderr, "deepc: %s %s: expected a whole number from %lld to %lld\n", flag,
                text ? text : "(missing)", min, max);
        return EXIT_USAGE;
    }
    *out = v;
    return 0;
}

/* Reads one option at argv[*i] (advancing past its value); 0 or a usage exit status. */
static int parse_run_option(const experiment *e, exp_ctx *ctx, int argc, char **argv,
                            int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long long n;
    int rc;

    if (!strcmp(a, "--quiet") || !strcmp(a, "--verbose")) {
        dc_log_set_level(a[2] == 'q' ? DC_LOG_WARN : DC_LOG_DEBUG);
        return 0;
    }
    if (strcmp(a, "--profile") && strcmp(a, "--set") && strcmp(a, "--data-dir")
        && strcmp(a, "--out") && strcmp(a, "--threads") && strcmp(a, "--seed"))
        return usage_error("run: unknown option %s", a,
                           "--profile, --set, --data-dir, --out, --threads, --seed, "
                           "--quiet, --verbose, --help");
    if (!v)
        return usage_error("run: %s needs a value", a, NULL);
    if (!*v)
        return usage_error("run: %s needs a non-empty value", a, NULL);
    (*i)++;
    if (!strcmp(a, "--set"))
        return apply_set(e, ctx, v);
    if (!strcmp(a, "--data-dir"))
        ctx->data_dir = v;
    else if (!strcmp(a, "--out"))
        ctx->out_root = v;
    else if (!strcmp(a, "--threads")) {
        if ((rc = parse_number("--threads", v, 1, 256, &n)))
            return rc;
        ctx->threads = (int)n;
    } else if (!strcmp(a, "--seed")) {
        if ((rc = parse_number("--seed", v, 0, (1LL << 62), &n)))
            return rc;
        ctx->seed = (uint64_t)n;
    }
    return 0;
}

/* The profile must be known before any --set, whose value overrides its default. */
static int find_profile(int argc, char **argv, const char **profile)
{
    *profile = "full";
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--set") || !strcmp(argv[i], "--data-dir")
            || !strcmp(argv[i], "--out") || !strcmp(argv[i], "--threads")
            || !strcmp(argv[i], "--seed")) {
            i++;
            continue;
        }
        if (strcmp(argv[i], "--profile"))
            continue;
        if (i + 1 >= argc || (strcmp(argv[i + 1], "quick") && strcmp(argv[i + 1], "full")))
            return usage_error("run: --profile %s: unknown profile",
                               i + 1 < argc ? argv[i + 1] : "(missing)", "quick, full");
        *profile = argv[i + 1];
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    const experiment *e;
    exp_ctx ctx = {0};
    char names[512];
    int rc;

    experiment_names(names, sizeof names);
    if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
        printf("%s\nexperiments: %s\n", run_usage, names);
        return argc < 3 ? EXIT_USAGE : 0;
    }
    if (!(e = exp_find(argv[2])))
        return usage_error("run: unknown experiment \"%s\"", argv[2], names);
    for (int i = 3; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("%s: %s\n\n", e->name, e->summary);
            print_settings(e);
            return 0;
        }
    if ((rc = find_profile(argc, argv, &ctx.profile)))
        return rc;

    ctx.seed = e->default_seed;
    ctx.settings = e->settings;
    for (const exp_setting *s = e->settings; s->key && ctx.n_settings < EXP_MAX_SETTINGS; s++)
        ctx.values[ctx.n_settings++] = strcmp(ctx.profile, "quick") ? s->full : s->quick;
    for (int i = 3; i < argc; i++)
        if ((rc = parse_run_option(e, &ctx, argc, argv, &i)))
            return rc;
    if (ctx.threads == 0) {
        dc_set_threads(0);
        ctx.threads = dc_get_threads();
    }

    if (e->run(&ctx) != 0) {
        fprintf(stderr, "deepc: %s: %s\n", e->name, dc_last_error());
        return 1;
    }
    return 0;
}

/* SHA-256 of the original MNIST files (the set torchvision checks by MD5). */
static const char *const mnist_files[] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
};
static const char *const mnist_sha256[] = {
    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
};

static int cmd_data(int argc, char **argv)
{
    char dir[4096];
    const char *data_dir = NULL;
    int help = 0;

    for (int i = 2; i < argc; i++)
        help |= !strcmp(argv[i], "--help");
    if (help) {
        printf("usage: deepc data verify|fetch NAME [--data-dir DIR]\ndatasets: mnist\n");
        return 0;
    }
    if (argc < 4)
        return usage_error("data: expected %s NAME", "verify|fetch", NULL);
    if (argc >= 5 && !strcmp(argv[4], "--data-dir") && (argc == 5 || !*argv[5]))
        return usage_error("data: %s needs a folder after it", "--data-dir", NULL);
    if (argc == 6 && !strcmp(argv[4], "--data-dir"))
        data_dir = argv[5];
    else if (argc != 4)
        return usage_error("data: unexpected argument %s", argv[4], "--data-dir DIR");
    if (strcmp(argv[2], "verify") && strcmp(argv[2], "fetch"))
        return usage_error("data: unknown action \"%s\"", argv[2], "verify, fetch");
    if (strcmp(argv[3], "mnist"))
        return usage_error("data: unknown dataset \"%s\"", argv[3], "mnist");

    if (!strcmp(argv[2], "fetch")) {
        /* Limitation: there is no downloader; MNIST ships in the repository's data/. */
        fprintf(stderr, "deepc: data fetch mnist: downloading is not supported; MNIST "
                "ships in the repository's data/mnist (source: yann.lecun.com/exdb/mnist)\n");
        return 1;
    }
    if (dc_data_find(data_dir, "mnist", dir, sizeof dir) != DC_OK
        || dc_data_verify(dir, mnist_files, mnist_sha256, 4) != DC_OK) {
        fprintf(stderr, "deepc: %s\n", dc_last_error());
        return 1;
    }
    printf("mnist: all 4 files in %s match their SHA-256 sums\n", dir);
    return 0;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;
    int rc;

    dc_atomic_cleanup_on_signals();
    if (!cmd || !strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_text, cmd ? stdout : stderr);
        return cmd ? 0 : EXIT_USAGE;
    }
    if (!strcmp(cmd, "--version")) {
        if (argc > 2)
            return usage_error("--version takes no argument, got %s", argv[2], NULL);
        printf("deepc %s\n", DC_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "run"))
        rc = cmd_run(argc, argv);
    else if (!strcmp(cmd, "list"))
        rc = argc > 2 && strcmp(argv[2], "--help")
                 ? usage_error("list: unexpected argument %s", argv[2], NULL)
                 : cmd_list();
    else if (!strcmp(cmd, "data"))
        rc = cmd_data(argc, argv);
    else if (!strcmp(cmd, "bench"))
        rc = bench_main(argc - 2, argv + 2);
    else if (!strcmp(cmd, "report"))
        rc = index_main(argc - 2, argv + 2);
    else if (!strcmp(cmd, "export"))
        rc = export_main(argc - 2, argv + 2);
    else
        rc = usage_error("unknown command \"%s\"", cmd, "run, list, data, bench, report, "
                         "export, --help, --version");
    dc_arena_release();
    return rc;
}
