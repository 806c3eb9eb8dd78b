/* bench.c - `deepc bench [MODEL]`: training-step throughput of the course models on
 * synthetic data of each model's shapes. Prints one line per model, the fields that
 * bench/compare reads from the PyTorch side too:
 *   model=mlp batch=32 threads=1 steps=2000 samples_per_sec=... peak_rss_mb=...
 * Every model runs through the library path (tape, modules, loss, optimizer), the part
 * a PyTorch user compares against.
 *   mlp   784-128-10 sigmoid MLP, cross-entropy, SGD (mnist-mlp's step)
 *   dog   the dog-emotion CNN at 64x64, label-smoothed cross-entropy, Adam
 *   gru   GRU 300 -> 256 over 32 steps, Linear to 3 classes, Adam (tweet-emotion)
 *   lstm  the same with an LSTM */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"
#include "deepc/nn.h"
#include "deepc/ops.h"
#include "deepc/optim.h"
#include "deepc/rnn.h"
#include "deepc/run.h"
#include "dog_net.h"

#define MAX_BATCH 4096

typedef struct bench_opts {
    const char *model;
    int batch;
    int steps;
    int threads;
} bench_opts;

/* A model under test: its parameters, fixed inputs and labels. */
typedef struct bench_state {
    dc_params *params;
    dc_optim *opt;
    dc_tensor *x;
    int *y;
    int *lengths;
    dc_rng rng;
    dc_linear_layer fc1, fc2;
    dc_rnn_layer rnn;
    dog_net dog;
} bench_state;

typedef dc_tensor *(*loss_fn)(bench_state *s);

static double peak_rss_mb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss / 1024.0;  /* Linux reports kilobytes */
}

static dc_tensor *mlp_loss(bench_state *s)
{
    dc_tensor *h = dc_sigmoid(dc_linear_layer_forward(&s->fc1, s->x));

    return dc_cross_entropy(dc_linear_layer_forward(&s->fc2, h), s->y, 0.0f);
}

static dc_tensor *dog_loss(bench_state *s)
{
    return dc_cross_entropy(dog_net_forward(&s->dog, s->x, 1, &s->rng), s->y, 0.1f);
}

static dc_tensor *rnn_loss(bench_state *s)
{
    dc_tensor *h = dc_rnn_layer_forward(&s->rnn, s->x, s->lengths, 0.0f, 1, &s->rng);

    return dc_cross_entropy(dc_linear_layer_forward(&s->fc1, h), s->y, 0.0f);
}

/* Builds the model named o->model with its inputs; returns its loss function. */
static loss_fn build(const bench_opts *o, bench_state *s)
{
    int b = o->batch, classes = 10, ok = 1;
    dc_adam_opts ao = dc_adam_defaults();

    s->params = dc_params_new();
    s->y = calloc((size_t)b, sizeof *s->y);
    s->lengths = calloc((size_t)b, sizeof *s->lengths);
    if (!s->params || !s->y || !s->lengths)
        return NULL;
    if (!strcmp(o->model, "mlp")) {
        s->x = dc_tensor_new2(b, 784);
        ok = s->x && !dc_linear_layer_init(&s->fc1, s->params, "fc1", 784, 128, 1, &s->rng)
             && !dc_linear_layer_init(&s->fc2, s->params, "fc2", 128, 10, 1, &s->rng);
        s->opt = ok ? dc_sgd_new(s->params, (dc_sgd_opts){.lr = 0.01f}) : NULL;
    } else if (!strcmp(o->model, "dog")) {
        classes = 4;
        s->x = dc_tensor_new4(b, 3, 64, 64);
        dc_params_free(s->params);
        ok = s->x && !dog_net_init(&s->dog, 4, &s->rng);
        s->params = s->dog.params;
        ao.weight_decay = 1e-4f;
        s->opt = ok ? dc_adam_new(s->params, ao) : NULL;
    } else {
        classes = 3;
        s->x = dc_tensor_new(3, (int[]){b, 32, 300});
        ok = s->x && !dc_rnn_layer_init(&s->rnn, s->params, "rnn",
                                         strcmp(o->model, "gru") ? DC_RNN_KIND_LSTM
                                                                 : DC_RNN_KIND_GRU,
                                         300, 256, 1, &s->rng)
             && !dc_linear_layer_init(&s->fc1, s->params, "fc", 256, 3, 1, &s->rng);
        s->opt = ok ? dc_adam_new(s->params, ao) : NULL;
    }
    if (!s->opt)
        return NULL;
    dc_init_uniform(s->x, 0.0f, 1.0f, &s->rng);
    for (int i = 0; i < b; i++) {
        s->y[i] = (int)dc_rng_below(&s->rng, (uint32_t)classes);
        s->lengths[i] = 32;
    }
    return !strcmp(o->model, "mlp") ? mlp_loss : !strcmp(o->model, "dog") ? dog_loss
                                                                          : rnn_loss;
}

static void step(bench_state *s, loss_fn loss)
{
    dc_optim_zero_grad(s->opt);
    dc_backward(loss(s));
    dc_optim_step(s->opt);
    dc_step_end();
}

static int run_model(const bench_opts *o)
{
    bench_state s = {0};
    loss_fn loss;
    double t0;

    dc_rng_seed(&s.rng, 1);
    if (!(loss = build(o, &s))) {
        fprintf(stderr, "deepc: bench %s: %s\n", o->model, dc_last_error());
        return 1;
    }

    /* The first tenth warms caches and grows the arena; it is not timed. */
    for (int i = 0; i < o->steps / 10 + 1; i++)
        step(&s, loss);
    t0 = dc_now();
    for (int i = 0; i < o->steps; i++)
        step(&s, loss);
    printf("model=%s batch=%d threads=%d steps=%d samples_per_sec=%.1f peak_rss_mb=%.1f\n",
           o->model, o->batch, o->threads, o->steps, o->batch * o->steps / (dc_now() - t0),
           peak_rss_mb());
    dc_optim_free(s.opt);
    dc_params_free(s.params);
    dc_tensor_free(s.x);
    free(s.y);
    free(s.lengths);
    return 0;
}

static int bench_usage(const char *bad, const char *value)
{
    if (bad)
        fprintf(stderr, "deepc: bench: unknown or malformed argument %s%s%s (valid: mlp, "
                "dog, gru, lstm, --batch 1..%d, --steps 1..1000000, --threads 1..256)\n",
                bad, value ? " " : "", value ? value : "", MAX_BATCH);
    else
        printf("usage: deepc bench [mlp|dog|gru|lstm] [--batch N] [--steps N] "
               "[--threads N]\n"
               "  mlp   784-128-10 sigmoid MLP, SGD (default batch 32)\n"
               "  dog   dog-emotion CNN at 64x64, Adam (batch 16)\n"
               "  gru   GRU 300->256, 32 steps, Adam (batch 32)\n"
               "  lstm  LSTM 300->256, 32 steps, Adam (batch 32)\n");
    return bad ? 2 : 0;
}

static int read_int(const char *text, int max, int *out)
{
    char *end;
    long v = strtol(text, &end, 10);

    if (!*text || *end || v <= 0 || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int bench_main(int argc, char **argv)
{
    bench_opts o = {.model = "mlp", .batch = 0, .steps = 0, .threads = 0};

    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int max = !strcmp(a, "--batch") ? MAX_BATCH : !strcmp(a, "--steps") ? 1000000 : 256;
        int *dst = !strcmp(a, "--batch") ? &o.batch : !strcmp(a, "--steps") ? &o.steps
                   : !strcmp(a, "--threads") ? &o.threads : NULL;
        if (!strcmp(a, "--help"))
            return bench_usage(NULL, NULL);
        if (!strcmp(a, "mlp") || !strcmp(a, "dog") || !strcmp(a, "gru") || !strcmp(a, "lstm")) {
            o.model = a;
            continue;
        }
        if (!dst || i + 1 >= argc || read_int(argv[i + 1], max, dst) != 0)
            return bench_usage(a, dst && i + 1 < argc ? argv[i + 1] : NULL);
        i++;
    }
    if (!o.batch)
        o.batch = !strcmp(o.model, "dog") ? 16 : 32;
    if (!o.steps)
        o.steps = !strcmp(o.model, "mlp") ? 2000 : 50;
    dc_set_threads(o.threads);
    o.threads = dc_get_threads();
    return run_model(&o);
}
