/* test_export.c - `deepc export --c` (tools/export.c), run as a user would.
 *
 * A seeded random dog_net with non-trivial batch-norm statistics is saved, exported,
 * and the C file compiled with the system's cc beside a small main that reads raw float
 * images and prints logits. Those logits must match dog_net_forward in eval mode
 * (1e-4 relative + 1e-4 absolute, same argmax) on real dog photos, when
 * $DEEPC_DATA/dog-emotion (or ./data/dog-emotion) is there, and on random images of
 * several sizes. Class names come back as given, escapes included. A checkpoint lacking
 * a tensor, or holding one of the wrong shape or with a bad value, exits 1 naming the
 * file and the tensor; a bad command line exits 2; each prints one line and leaves no
 * output file behind.
 * No test sets .timeout: Criterion 2.4's runner leaks a timer record when timed tests overlap
 * under --jobs 2, which LeakSanitizer then reports; nothing here waits on input. */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deepc/data.h"
#include "deepc/image.h"
#include "deepc/io.h"
#include "deepc/ops.h"
#include "dog_net.h"

#define TOL 1e-4f          /* relative and absolute, on every logit */
#define MAX_IMAGES 16
#define MAX_CLASSES 8
#define SIDE 64            /* the training pipeline's image size */

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};

/* Images of any sizes, each [3][h][w]. */
typedef struct image_set {
    int n;
    int h[MAX_IMAGES], w[MAX_IMAGES];
    float *data[MAX_IMAGES];
} image_set;

/* What the compiled program printed. */
typedef struct prog_output {
    int classes;
    char names[MAX_CLASSES + 1][64];  /* the last is the name of an out-of-range index */
    float logits[MAX_IMAGES][MAX_CLASSES];
    float beyond[MAX_CLASSES];        /* for an image one pixel past the maximum side */
} prog_output;

static const char main_src[] =
    "#include <stdio.h>\n"
    "#include <stdlib.h>\n"
    "\n"
    "int dogemotion_classes(void);\n"
    "const char *dogemotion_class_name(int i);\n"
    "int dogemotion_max_side(void);\n"
    "void dogemotion_predict(const float *image, int h, int w, float *logits);\n"
    "\n"
    "static void print_logits(const float *l, int k)\n"
    "{\n"
    "    for (int c = 0; c < k; c++)\n"
    "        printf(\"%.9g%c\", l[c], c + 1 < k ? ' ' : '\\n');\n"
    "}\n"
    "\n"
    "/* prog IMAGES: IMAGES holds records of int h, int w and [3][h][w] floats. Prints the\n"
    " * class count, the names (and that of index count), a line of logits per image,\n"
    " * then the logits of a request one pixel larger than dogemotion_max_side(). */\n"
    "int main(int argc, char **argv)\n"
    "{\n"
    "    int k = dogemotion_classes(), hw[2], big = dogemotion_max_side() + 1;\n"
    "    float logits[64], *img;\n"
    "    FILE *f = argc == 2 ? fopen(argv[1], \"rb\") : NULL;\n"
    "\n"
    "    if (!f || k < 1 || k > 64)\n"
    "        return 1;\n"
    "    printf(\"%d\\n\", k);\n"
    "    for (int c = 0; c <= k; c++)\n"
    "        puts(dogemotion_class_name(c) ? dogemotion_class_name(c) : \"(null)\");\n"
    "    while (fread(hw, sizeof *hw, 2, f) == 2) {\n"
    "        size_t n = (size_t)3 * hw[0] * hw[1];\n"
    "        if (!(img = malloc(n * sizeof *img)) || fread(img, sizeof *img, n, f) != n)\n"
    "            return 1;\n"
    "        dogemotion_predict(img, hw[0], hw[1], logits);\n"
    "        print_logits(logits, k);\n"
    "        free(img);\n"
    "    }\n"
    "    dogemotion_predict(NULL, big, big, logits);\n"
    "    print_logits(logits, k);\n"
    "    fclose(f);\n"
    "    return 0;\n"
    "}\n";

/* ---- files and commands ---- */

static void make_dir(char *dir)
{
    strcpy(dir, "/tmp/deepc-export-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(const char *dir)
{
    char cmd[128];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Runs a shell command, stdout discarded, stderr captured into err; the exit status. */
static int run_cmd(const char *cmd, char *err, size_t n)
{
    char full[8192], errfile[] = "/tmp/deepc-export-err-XXXXXX";
    int fd = mkstemp(errfile), status;
    FILE *f;
    size_t got;

    cr_assert_geq(fd, 0);
    close(fd);
    snprintf(full, sizeof full, "%s 2>%s >/dev/null", cmd, errfile);
    status = system(full);
    f = fopen(errfile, "r");
    cr_assert_not_null(f);
    got = fread(err, 1, n - 1, f);
    err[got] = '\0';
    fclose(f);
    unlink(errfile);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fputs(text, f) >= 0 && fclose(f) == 0, 1);
}

/* The entries of dir whose names start with prefix. */
static int count_entries(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    cr_assert_not_null(d);
    while ((e = readdir(d)))
        n += !strncmp(e->d_name, prefix, strlen(prefix));
    closedir(d);
    return n;
}

/* ---- the network ---- */

static int ends_with(const char *s, const char *end)
{
    size_t n = strlen(s), e = strlen(end);

    return n >= e && !strcmp(s + n - e, end);
}

/* Running statistics and affine parameters away from 1 and 0, so an unfolded or
 * wrongly folded batch norm shows in the logits. */
static void set_bn_values(dog_net *net, dc_rng *rng)
{
    for (int i = 0; i < net->params->n; i++) {
        const char *name = net->params->items[i].name;
        dc_tensor *t = net->params->items[i].tensor;
        if (!strstr(name, "bn."))
            continue;
        if (ends_with(name, "running_var"))
            dc_init_uniform(t, 0.02f, 0.3f, rng);
        else if (ends_with(name, "running_mean"))
            dc_init_uniform(t, -0.1f, 0.1f, rng);
        else if (ends_with(name, "weight"))
            dc_init_uniform(t, 0.5f, 1.5f, rng);
        else
            dc_init_uniform(t, -0.2f, 0.2f, rng);
    }
}

static void make_net(dog_net *net, int classes, uint64_t seed)
{
    dc_rng rng;

    dc_rng_seed(&rng, seed);
    cr_assert_eq(dog_net_init(net, classes, &rng), 0, "%s", dc_last_error());
    set_bn_values(net, &rng);
}

static void save_net(const dog_net *net, const char *path)
{
    cr_assert_eq(dc_params_save(net->params, path, NULL, 0), DC_OK, "%s", dc_last_error());
}

/* Saves net's tensors with `name` left out (repl NULL) or replaced by repl. */
static void save_altered(const dog_net *net, const char *path, const char *name,
                         dc_tensor *repl)
{
    dc_named_tensor items[64];
    int n = 0;

    cr_assert_leq(net->params->n, 64);
    for (int i = 0; i < net->params->n; i++) {
        dc_named_tensor it = net->params->items[i];
        if (!strcmp(it.name, name) && !(it.tensor = repl))
            continue;
        items[n++] = it;
    }
    cr_assert_eq(dc_safetensors_save(path, items, n, NULL, 0), DC_OK, "%s", dc_last_error());
}

/* Eval-mode logits of one image [3][h][w] through the library. */
static void library_logits(dog_net *net, const float *image, int h, int w, float *out)
{
    dc_tensor *x = dc_tensor_new4(1, 3, h, w), *y;

    cr_assert_not_null(x);
    memcpy(x->data, image, x->size * sizeof *x->data);
    y = dog_net_forward(net, x, 0, NULL);
    cr_assert_not_null(y, "%s", dc_last_error());
    memcpy(out, y->data, y->size * sizeof *y->data);
    dc_step_end();
    dc_tensor_free(x);
}

/* ---- images ---- */

static void add_image(image_set *s, const float *data, int h, int w)
{
    size_t n = (size_t)3 * h * w;

    cr_assert_lt(s->n, MAX_IMAGES);
    s->data[s->n] = malloc(n * sizeof *data);
    cr_assert_not_null(s->data[s->n]);
    memcpy(s->data[s->n], data, n * sizeof *data);
    s->h[s->n] = h;
    s->w[s->n++] = w;
}

/* A random image with roughly the statistics of a normalised photo. */
static void add_random(image_set *s, int h, int w, dc_rng *rng)
{
    float *v = malloc((size_t)3 * h * w * sizeof *v);

    cr_assert_not_null(v);
    for (size_t i = 0; i < (size_t)3 * h * w; i++)
        v[i] = dc_rng_normal(rng);
    add_image(s, v, h, w);
    free(v);
}

/* The first photo of each class, as the evaluation pipeline sees it: Resize((64, 64)),
 * ImageNet normalisation. 0 (with a loud warning) when there are no photos. */
static int add_photos(image_set *s)
{
    char root[4096];
    dc_imagefolder_opts opts = {.max_per_class = 1};
    dc_imagefolder *ds;
    dc_pipeline p;
    dc_transform t;
    dc_image img;

    if (dc_data_find(NULL, "dog-emotion", root, sizeof root) != DC_OK) {
        cr_log_warn("export: NO DOG PHOTOS, comparing on random images only: %s",
                    dc_last_error());
        return 0;
    }
    ds = dc_imagefolder_load(root, &opts);
    cr_assert_not_null(ds, "%s", dc_last_error());
    dc_pipeline_init(&p);
    t = dc_transform_resize_hw(SIDE, SIDE);
    cr_assert_eq(dc_pipeline_add(&p, &t), DC_OK);
    t = dc_transform_normalize(imagenet_mean, imagenet_std);
    cr_assert_eq(dc_pipeline_add(&p, &t), DC_OK);

    dc_image_init(&img);
    for (int i = 0; i < dc_imagefolder_len(ds); i++) {
        cr_assert_eq(dc_imagefolder_get(ds, i, &img), DC_OK, "%s", dc_last_error());
        cr_assert_eq(dc_pipeline_apply(&p, &img, NULL, NULL), DC_OK, "%s", dc_last_error());
        add_image(s, img.data, img.h, img.w);
    }
    dc_image_deinit(&img);
    dc_imagefolder_free(ds);
    return s->n;
}

static void write_images(const image_set *s, const char *path)
{
    FILE *f = fopen(path, "wb");

    cr_assert_not_null(f);
    for (int i = 0; i < s->n; i++) {
        int hw[2] = {s->h[i], s->w[i]};
        size_t n = (size_t)3 * hw[0] * hw[1];
        cr_assert_eq(fwrite(hw, sizeof *hw, 2, f), 2);
        cr_assert_eq(fwrite(s->data[i], sizeof *s->data[i], n, f), n);
    }
    cr_assert_eq(fclose(f), 0);
}

static void free_images(image_set *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->data[i]);
    s->n = 0;
}

/* ---- export, compile, run ---- */

/* deepc export --c dir/model.safetensors -o dir/model.c EXTRA, then cc into dir/prog. */
static void export_and_build(const char *dir, const char *extra)
{
    char cmd[8192], err[4096], path[256];

    snprintf(cmd, sizeof cmd, "'%s' export --c '%s/model.safetensors' -o '%s/model.c' %s",
             DC_TOOL, dir, dir, extra);
    cr_assert_eq(run_cmd(cmd, err, sizeof err), 0, "%s failed: %s", cmd, err);
    snprintf(path, sizeof path, "%s/main.c", dir);
    write_text(path, main_src);

    /* Warnings count as failures: the file is meant to drop into any C project. */
    snprintf(cmd, sizeof cmd, "cc -O2 -std=c11 -Wall -Wextra -pedantic -o '%s/prog' "
             "'%s/model.c' '%s/main.c' -lm", dir, dir, dir);
    cr_assert_eq(run_cmd(cmd, err, sizeof err), 0, "%s failed: %s", cmd, err);
    cr_assert_str_empty(err, "the C file compiles with warnings: %s", err);
}

static void read_floats(FILE *f, float *v, int n, const char *what)
{
    for (int c = 0; c < n; c++)
        cr_assert_eq(fscanf(f, "%f", &v[c]), 1, "program output: %s, value %d", what, c);
}

/* Runs dir/prog on the images; its output parsed into out. */
static void run_prog(const char *dir, const image_set *s, prog_output *out)
{
    char cmd[512], path[256];
    FILE *f;

    snprintf(path, sizeof path, "%s/images.bin", dir);
    write_images(s, path);
    snprintf(cmd, sizeof cmd, "'%s/prog' '%s'", dir, path);
    f = popen(cmd, "r");
    cr_assert_not_null(f);
    cr_assert_eq(fscanf(f, "%d ", &out->classes), 1);
    cr_assert(out->classes >= 1 && out->classes <= MAX_CLASSES, "%d classes", out->classes);
    for (int c = 0; c <= out->classes; c++) {
        cr_assert_not_null(fgets(out->names[c], sizeof out->names[c], f));
        out->names[c][strcspn(out->names[c], "\n")] = '\0';
    }
    for (int i = 0; i < s->n; i++)
        read_floats(f, out->logits[i], out->classes, "logits");
    read_floats(f, out->beyond, out->classes, "logits beyond the maximum side");
    cr_assert_eq(pclose(f), 0, "%s failed", cmd);
}

static int argmax(const float *v, int n)
{
    int best = 0;

    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* The program's logits against the library's, image by image; returns the largest
 * difference between two images' logits, to show that the images matter, and sets
 * *worst to the largest difference between C and library. */
static float compare(dog_net *net, const image_set *s, const prog_output *out, float *worst)
{
    float want[MAX_IMAGES][MAX_CLASSES], spread = 0.0f;

    *worst = 0.0f;
    int k = out->classes;

    for (int i = 0; i < s->n; i++) {
        library_logits(net, s->data[i], s->h[i], s->w[i], want[i]);
        for (int c = 0; c < k; c++) {
            float got = out->logits[i][c], w = want[i][c];
            cr_assert(fabsf(got - w) <= TOL + TOL * fabsf(w),
                      "image %d (%dx%d) class %d: library %.9g, exported C %.9g", i,
                      s->h[i], s->w[i], c, w, got);
            spread = fmaxf(spread, fabsf(w - want[0][c]));
            *worst = fmaxf(*worst, fabsf(got - w));
        }
        cr_assert_eq(argmax(out->logits[i], k), argmax(want[i], k),
                     "image %d (%dx%d): argmax %d in C, %d in the library", i, s->h[i],
                     s->w[i], argmax(out->logits[i], k), argmax(want[i], k));
    }
    return spread;
}

/* ---- the tests ---- */

Test(export, c_file_matches_library_forward)
{
    static const char *const names[] = {"angry", "happy", "relaxed", "sad"};
    char dir[64], path[256];
    image_set s = {0};
    prog_output out;
    dog_net net;
    dc_rng rng;
    float spread, worst;
    int photos;

    make_dir(dir);
    make_net(&net, 4, 2024);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    save_net(&net, path);
    export_and_build(dir, "");

    /* Photos as in training, then random images: the training size, odd sizes (stride
     * 2 on an odd side), a wide one and the smallest the brief promises. */
    photos = add_photos(&s);
    dc_rng_seed(&rng, 99);
    add_random(&s, SIDE, SIDE, &rng);
    add_random(&s, SIDE, SIDE, &rng);
    add_random(&s, 37, 50, &rng);
    add_random(&s, 20, 64, &rng);
    add_random(&s, 8, 8, &rng);
    run_prog(dir, &s, &out);

    cr_assert_eq(out.classes, 4);
    for (int c = 0; c < 4; c++)
        cr_assert_str_eq(out.names[c], names[c]);
    cr_assert_str_eq(out.names[4], "(null)");
    for (int c = 0; c < 4; c++)
        cr_assert(isnan(out.beyond[c]), "an oversized image gave %g, expected NaN",
                  out.beyond[c]);
    spread = compare(&net, &s, &out, &worst);
    cr_assert_gt(spread, 100 * TOL,
                 "every image gives the same logits: the comparison would not see a bug");
    cr_log_info("export: exported C matches the library on %d photos and %d random images "
                "(largest difference %.2g; logits differ by up to %.2g between images)",
                photos, s.n - photos, worst, spread);

    free_images(&s);
    dog_net_free(&net);
    remove_dir(dir);
}

Test(export, class_names_are_escaped_and_kept)
{
    static const char *const names[] = {"calm", "a\"b\\c", "w?" "?=x"};
    char dir[64], path[256];
    image_set s = {0};
    prog_output out;
    dog_net net;
    dc_rng rng;

    make_dir(dir);
    make_net(&net, 3, 7);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    save_net(&net, path);
    export_and_build(dir, "--classes 'calm,a\"b\\c,w?\?=x'");

    dc_rng_seed(&rng, 5);
    add_random(&s, 16, 16, &rng);
    add_random(&s, 33, 17, &rng);
    run_prog(dir, &s, &out);
    cr_assert_eq(out.classes, 3);
    for (int c = 0; c < 3; c++)
        cr_assert_str_eq(out.names[c], names[c]);
    float worst;

    compare(&net, &s, &out, &worst);

    free_images(&s);
    dog_net_free(&net);
    remove_dir(dir);
}

/* A run stores its class folders' names in the checkpoint; export takes them from
 * there, and --classes still overrides them. */
Test(export, class_names_come_from_the_checkpoint)
{
    static const char *const stored[] = {"calm", "alert", "sleepy"};
    const char *meta[] = {"classes", "[\"calm\",\"alert\",\"sleepy\"]"};
    char dir[64], path[256];
    image_set s = {0};
    prog_output out;
    dog_net net;
    dc_rng rng;
    float worst;

    make_dir(dir);
    make_net(&net, 3, 11);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    cr_assert_eq(dc_params_save(net.params, path, meta, 1), DC_OK, "%s", dc_last_error());
    export_and_build(dir, "");
    dc_rng_seed(&rng, 3);
    add_random(&s, 24, 24, &rng);
    run_prog(dir, &s, &out);
    cr_assert_eq(out.classes, 3);
    for (int c = 0; c < 3; c++)
        cr_assert_str_eq(out.names[c], stored[c]);
    compare(&net, &s, &out, &worst);

    export_and_build(dir, "--classes x,y,z");
    run_prog(dir, &s, &out);
    cr_assert_str_eq(out.names[0], "x");

    free_images(&s);
    dog_net_free(&net);
    remove_dir(dir);
}

/* Runs export on dir/bad.safetensors with `extra` flags; it must exit `status` with one
 * line on stderr holding each of `needles`, and write no C file. */
static void expect_refused(const char *dir, const char *args, int status,
                           const char *const *needles)
{
    char cmd[8192], err[4096];
    int rc;

    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' export %s", dir, DC_TOOL, args);
    rc = run_cmd(cmd, err, sizeof err);
    cr_assert_eq(rc, status, "%s: exit %d, expected %d; stderr: %s", cmd, rc, status, err);
    cr_assert(strchr(err, '\n') == err + strlen(err) - 1,
              "%s: expected one line on stderr, got: %s", cmd, err);
    cr_assert(!strncmp(err, "deepc: export: ", 15), "%s: %s", cmd, err);
    for (int i = 0; needles && needles[i]; i++)
        cr_assert_not_null(strstr(err, needles[i]), "%s: message lacks \"%s\": %s", cmd,
                           needles[i], err);
    cr_assert_eq(count_entries(dir, "out") + count_entries(dir, "m.c"), 0,
                 "%s left an output file behind", cmd);
}

Test(export, missing_tensor_exits_1_naming_it)
{
    static const char *const needles[] = {"bad.safetensors", "blocks.3.bn.running_var",
                                          "missing", NULL};
    char dir[64], path[256];
    dog_net net;

    make_dir(dir);
    make_net(&net, 4, 1);
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);
    save_altered(&net, path, "blocks.3.bn.running_var", NULL);
    expect_refused(dir, "--c bad.safetensors -o out.c", 1, needles);
    dog_net_free(&net);
    remove_dir(dir);
}

Test(export, bad_tensors_exit_1_naming_them)
{
    static const char *const shape[] = {"bad.safetensors", "stem.conv.weight", "[16,3,5,5]",
                                        "[16,3,3,3]", NULL};
    static const char *const var[] = {"bad.safetensors", "head.bn.running_var", "-0.5", NULL};
    static const char *const nan[] = {"blocks.0.depthwise.weight", "nan", NULL};
    static const char *const classes[] = {"head.fc2.weight", "[3,128]", "--classes", NULL};
    static const char *const file[] = {"bad.safetensors", NULL};
    char dir[64], path[256];
    dc_tensor *t = dc_tensor_new4(16, 3, 5, 5);
    dog_net net, net3;

    make_dir(dir);
    make_net(&net, 4, 1);
    snprintf(path, sizeof path, "%s/bad.safetensors", dir);
    save_altered(&net, path, "stem.conv.weight", t);
    expect_refused(dir, "--c bad.safetensors -o out.c", 1, shape);

    dc_params_find(net.params, "head.bn.running_var")->data[5] = -0.5f;
    save_net(&net, path);
    expect_refused(dir, "--c bad.safetensors -o out.c", 1, var);
    dc_params_find(net.params, "head.bn.running_var")->data[5] = 1.0f;

    dc_params_find(net.params, "blocks.0.depthwise.weight")->data[7] = NAN;
    save_net(&net, path);
    expect_refused(dir, "--c bad.safetensors -o out.c", 1, nan);

    /* Three classes in the checkpoint, four default names. */
    make_net(&net3, 3, 1);
    save_net(&net3, path);
    expect_refused(dir, "--c bad.safetensors -o out.c", 1, classes);

    /* Class names in the metadata that are not a list of names. */
    const char *meta[] = {"classes", "{\"a\": 1}"};
    static const char *const bad_meta[] = {"bad.safetensors", "\"classes\"", NULL};
    cr_assert_eq(dc_params_save(net.params, path, meta, 1), DC_OK, "%s", dc_last_error());
    expect_refused(dir, "--c bad.safetensors -o out.c", 1, bad_meta);
    meta[1] = "[\"a\", \"\", \"c\", \"d\"]";
    cr_assert_eq(dc_params_save(net.params, path, meta, 1), DC_OK, "%s", dc_last_error());
    expect_refused(dir, "--c bad.safetensors -o out.c", 1, bad_meta);
    meta[1] = "[\"sad\", \"happy\", \"relaxed\", \"sad\"]";
    cr_assert_eq(dc_params_save(net.params, path, meta, 1), DC_OK, "%s", dc_last_error());
    expect_refused(dir, "--c bad.safetensors -o out.c", 1,
                   (const char *const[]){"\"sad\" is named twice", NULL});
    meta[1] = "[\"an\xff\xfegry\", \"b\", \"c\", \"d\"]";
    cr_assert_eq(dc_params_save(net.params, path, meta, 1), DC_OK, "%s", dc_last_error());
    expect_refused(dir, "--c bad.safetensors -o out.c", 1,
                   (const char *const[]){"name 1 is not UTF-8", NULL});

    write_text(path, "not a checkpoint");
    expect_refused(dir, "--c bad.safetensors -o out.c", 1, file);
    expect_refused(dir, "--c none.safetensors -o out.c", 1, NULL);

    dc_tensor_free(t);
    dog_net_free(&net);
    dog_net_free(&net3);
    remove_dir(dir);
}

Test(export, bad_flags_exit_2)
{
    static const char *const cases[][2] = {
        {"", "--c"},
        {"--cpp m.safetensors", "--cpp"},
        {"m.safetensors", "m.safetensors"},
        {"--c", "--c needs"},
        {"--c m.safetensors -o", "-o needs"},
        {"--c m.safetensors --classes a,,b", "--classes"},
        {"--c m.safetensors --classes a,b,a", "\"a\" is named twice"},
        {"--c m.safetensors -o m.safetensors", "overwrite"},
        {"--c m.safetensors -o ./m.safetensors", "overwrite"},
    };
    char dir[64], cmd[8192], err[4096];

    make_dir(dir);
    snprintf(cmd, sizeof cmd, "%s/m.safetensors", dir);
    write_text(cmd, "a checkpoint -o must not overwrite");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *needles[] = {cases[i][1], NULL};
        expect_refused(dir, cases[i][0], 2, needles);
    }

    snprintf(cmd, sizeof cmd, "'%s' export --help", DC_TOOL);
    cr_assert_eq(run_cmd(cmd, err, sizeof err), 0);
    remove_dir(dir);
}
