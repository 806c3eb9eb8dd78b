/* bench.c - `deepc bench [MODEL]`: training-step throughput of a course model on
 * synthetic data of the model's shapes. Prints one line per model, the same fields that
 * bench/compare reads from the PyTorch side:
 *   model=mlp batch=32 threads=1 steps=2000 samples_per_sec=... peak_rss_mb=...
 * The MLP runs through the library path (tape, nn.Linear, cross-entropy, SGD), which is
 * the part a PyTorch user would compare against. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"
#include "deepc/nn.h"
#include "deepc/ops.h"
#include "deepc/optim.h"
#include "deepc/run.h"

typedef struct bench_opts {
    int batch;
    int steps;
    int threads;
} bench_opts;

static double peak_rss_mb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;  /* Linux reports kilobytes */
}

/* 784-128-10, sigmoid, softmax cross-entropy, SGD lr 0.01: the mnist-mlp step. */
static int bench_mlp(const bench_opts *o)
{
    dc_params *p = dc_params_new();
    dc_linear_layer fc1, fc2;
    dc_tensor *x = dc_tensor_new2(o->batch, 784);
    int *y = malloc((size_t)o->batch * sizeof *y);
    dc_optim *opt;
    dc_rng rng;
    double t0 = 0;

    dc_rng_seed(&rng, 1);
    if (!p || !x || !y || dc_linear_layer_init(&fc1, p, "fc1", 784, 128, 1, &rng)
        || dc_linear_layer_init(&fc2, p, "fc2", 128, 10, 1, &rng)
        || !(opt = dc_sgd_new(p, (dc_sgd_opts){.lr = 0.01f}))) {
        fprintf(stderr, "deepc: bench mlp: %s\n", dc_last_error());
        return 1;
    }
    dc_init_uniform(x, 0.0f, 1.0f, &rng);
    for (int i = 0; i < o->batch; i++)
        y[i] = (int)dc_rng_below(&rng, 10);

    /* The first tenth warms caches and grows the arena; it is not timed. */
    int warm = o->steps / 10 + 1;
    for (int s = 0; s < warm + o->steps; s++) {
        if (s == warm)
            t0 = dc_now();
        dc_optim_zero_grad(opt);
        dc_tensor *h = dc_sigmoid(dc_linear_layer_forward(&fc1, x));
        dc_backward(dc_cross_entropy(dc_linear_layer_forward(&fc2, h), y, 0.0f));
        dc_optim_step(opt);
        dc_step_end();
    }
    printf("model=mlp batch=%d threads=%d steps=%d samples_per_sec=%.1f peak_rss_mb=%.1f\n",
           o->batch, o->threads, o->steps, o->batch * o->steps / (dc_now() - t0),
           peak_rss_mb());
    dc_optim_free(opt);
    dc_params_free(p);
    dc_tensor_free(x);
    free(y);
    return 0;
}

static int bench_usage(const char *bad)
{
    if (bad)
        fprintf(stderr, "deepc: bench: unknown or malformed argument %s (valid: mlp, "
                "--batch N, --steps N, --threads N)\n", bad);
    else
        printf("usage: deepc bench [mlp] [--batch N] [--steps N] [--threads N]\n"
               "models: mlp (784-128-10, batch 32 by default)\n");
    return bad ? 2 : 0;
}

static int read_int(const char *text, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);

    if (!*text || *end || v <= 0 || v > 10000000)
        return -1;
    *out = (int)v;
    return 0;
}

int bench_main(int argc, char **argv)
{
    bench_opts o = {.batch = 32, .steps = 2000, .threads = 0};

    for (int i = 0; i < argc; i++) {
        int *dst = !strcmp(argv[i], "--batch") ? &o.batch
                   : !strcmp(argv[i], "--steps") ? &o.steps
                   : !strcmp(argv[i], "--threads") ? &o.threads : NULL;
        if (!strcmp(argv[i], "--help"))
            return bench_usage(NULL);
        if (!strcmp(argv[i], "mlp"))
            continue;
        if (!dst || i + 1 >= argc || read_int(argv[i + 1], dst) != 0)
            return bench_usage(argv[i]);
        i++;
    }
    dc_set_threads(o.threads);
    o.threads = dc_get_threads();
    return bench_mlp(&o);
}
