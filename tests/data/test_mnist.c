/* Tests of src/data/mnist.c and src/data/find.c: full loads of the real MNIST
 * files against figures computed independently (Python's gzip module, coreutils
 * sha256sum, the published label counts), and every kind of broken file,
 * written by the tests into a temporary folder, failing with a message that
 * starts with the file's path. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "deepc/data.h"
#include "deepc/log.h"

#define MNIST_DIR DC_SOURCE_DIR "/data/mnist"

#define TESTUTIL_TAG "data"
#include "testutil.h"

/* ---- helpers: the files written into the temporary folder ---- */

static void write_gz(const char *path, const void *data, size_t n)
{
    gzFile gz = gzopen(path, "wb");

    cr_assert_not_null(gz);
    cr_assert_eq(gzwrite(gz, data, (unsigned)n), (int)n);
    cr_assert_eq(gzclose(gz), Z_OK);
}

/* An idx images file of n images of rows x cols (pixel j of image i = 7 i + j),
 * with room for `extra` bytes after it; *size excludes them. */
static unsigned char *idx_images(int n, int rows, int cols, size_t extra,
                                 size_t *size)
{
    size_t body = (size_t)n * rows * cols;
    unsigned char *p = calloc(16 + body + extra, 1);

    cr_assert_not_null(p);
    put_be32(p, 0x803);
    put_be32(p + 4, (uint32_t)n);
    put_be32(p + 8, (uint32_t)rows);
    put_be32(p + 12, (uint32_t)cols);
    for (size_t k = 0; k < body; k++)
        p[16 + k] = (unsigned char)(7 * (k / ((size_t)rows * cols)) +
                                    k % (rows * cols));
    *size = 16 + body;
    return p;
}

/* An idx labels file of n labels (label i = i % 10). */
static unsigned char *idx_labels(int n, size_t extra, size_t *size)
{
    unsigned char *p = calloc(8 + (size_t)n + extra, 1);

    cr_assert_not_null(p);
    put_be32(p, 0x801);
    put_be32(p + 4, (uint32_t)n);
    for (int i = 0; i < n; i++)
        p[8 + i] = (unsigned char)(i % 10);
    *size = 8 + (size_t)n;
    return p;
}

/* Writes a good pair of 5 images of 4x4 and 5 labels as tmp/img and tmp/lab. */
static void write_good_pair(void)
{
    size_t ni, nl;
    unsigned char *im = idx_images(5, 4, 4, 0, &ni),
                  *lb = idx_labels(5, 0, &nl);

    write_file(in_tmp("img"), im, ni);
    write_file(in_tmp("lab"), lb, nl);
    free(im);
    free(lb);
}

/* Asserts that loading fails with a message that starts with `path` and holds
 * `part`. */
static void expect_failure(dc_dataset *ds, const char *path, const char *part)
{
    cr_assert_null(ds, "loaded although %s is broken", path);
    expect_error(path, part);
}

/* ---- the real files ---- */

static void assert_label_counts(const dc_dataset *ds, const int *want)
{
    int count[10] = {0};

    for (int i = 0; i < ds->n; i++) {
        cr_assert(ds->y[i] >= 0 && ds->y[i] <= 9);
        count[ds->y[i]]++;
    }
    for (int c = 0; c < 10; c++)
        cr_assert_eq(count[c], want[c], "class %d: %d, expected %d", c,
                     count[c], want[c]);
}

/* Sum of image i's pixels times 255, i.e. the sum of its original bytes. */
static double image_byte_sum(const dc_dataset *ds, int i)
{
    double s = 0;

    for (int k = 0; k < 784; k++)
        s += ds->x->data[(size_t)i * 784 + k] * 255.0;
    return s;
}

Test(mnist, train_split_full)
{
    static const int counts[10] = {5923, 6742, 5958, 6131, 5842,
                                   5421, 5918, 6265, 5851, 5949};
    dc_dataset *ds = dc_mnist_load_split(MNIST_DIR, "train", 0);
    double sum = 0, sum2 = 0, lo = 1, hi = 0;

    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_eq(ds->n, 60000);
    cr_assert_eq(ds->n_classes, 10);
    cr_assert(ds->x->ndim == 4 && ds->x->shape[0] == 60000 &&
              ds->x->shape[1] == 1 && ds->x->shape[2] == 28 &&
              ds->x->shape[3] == 28);
    cr_assert_eq(ds->y[0], 5);
    assert_label_counts(ds, counts);

    for (size_t i = 0; i < ds->x->size; i++) {
        double v = ds->x->data[i];
        sum += v;
        sum2 += v * v;
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    cr_assert(lo == 0.0 && hi == 1.0, "pixels in [%g, %g], expected [0, 1]", lo,
              hi);

    /* MNIST's well-known normalisation constants: mean 0.1307, std 0.3081. */
    double mean = sum / ds->x->size;
    cr_assert_float_eq(mean, 0.1306604762738429, 1e-7);
    cr_assert_float_eq(sqrt(sum2 / ds->x->size - mean * mean),
                       0.3081078039450204, 1e-6);
    cr_assert_float_eq(image_byte_sum(ds, 0), 27525.0, 1e-3);
    cr_assert_eq(ds->x->data[14 * 28 + 14], 240.0f / 255.0f);
    dc_dataset_free(ds);
}

Test(mnist, test_split_full)
{
    static const int counts[10] = {980, 1135, 1032, 1010, 982,
                                   892, 958,  1028, 974,  1009};
    dc_dataset *ds = dc_mnist_load_split(MNIST_DIR, "test", 0);

    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_eq(ds->n, 10000);
    cr_assert_eq(ds->x->shape[0], 10000);
    cr_assert_eq(ds->y[0], 7);
    cr_assert_eq(ds->y[1], 2);
    assert_label_counts(ds, counts);
    cr_assert_float_eq(image_byte_sum(ds, 0), 18454.0, 1e-3);
    cr_assert_float_eq(image_byte_sum(ds, 9999), 41833.0, 1e-3);
    dc_dataset_free(ds);
}

Test(mnist, limit_keeps_the_first_examples)
{
    dc_dataset *all = dc_mnist_load_split(MNIST_DIR, "test", 0);
    dc_dataset *some = dc_mnist_load_split(MNIST_DIR, "test", 100);
    dc_dataset *more = dc_mnist_load_split(MNIST_DIR, "test", 20000);

    cr_assert(all && some && more, "%s", dc_last_error());
    cr_assert_eq(some->n, 100);
    cr_assert_eq(some->x->shape[0], 100);
    cr_assert_eq(some->x->size, 100u * 784);
    cr_assert_arr_eq(some->x->data, all->x->data, 100 * 784 * sizeof(float));
    cr_assert_arr_eq(some->y, all->y, 100 * sizeof(int));
    cr_assert_eq(more->n, 10000, "a limit above n keeps all");
    dc_dataset_free(all);
    dc_dataset_free(some);
    dc_dataset_free(more);
}

/* Decompresses the real test split into tmp under its plain names. */
static void write_plain_test_split(void)
{
    const char *names[2] = {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

    for (int f = 0; f < 2; f++) {
        char src[512];
        static unsigned char buf[8 << 20];
        snprintf(src, sizeof src, "%s/%s.gz", MNIST_DIR, names[f]);
        gzFile gz = gzopen(src, "rb");
        cr_assert_not_null(gz);
        int n = gzread(gz, buf, sizeof buf);
        cr_assert(n > 0 && n < (int)sizeof buf);
        gzclose(gz);
        write_file(in_tmp(names[f]), buf, (size_t)n);
    }
}

Test(mnist, plain_files_load_like_gz, .init = make_tmp, .fini = remove_tmp)
{
    dc_dataset *gz, *plain;

    write_plain_test_split();
    gz = dc_mnist_load_split(MNIST_DIR, "test", 0);
    plain = dc_mnist_load_split(tmp, "test", 0);
    cr_assert(gz && plain, "%s", dc_last_error());
    cr_assert_eq(plain->n, gz->n);
    cr_assert_arr_eq(plain->x->data, gz->x->data, gz->x->size * sizeof(float));
    cr_assert_arr_eq(plain->y, gz->y, (size_t)gz->n * sizeof(int));
    dc_dataset_free(gz);
    dc_dataset_free(plain);
}

Test(mnist, split_prefers_the_gz_name, .init = make_tmp, .fini = remove_tmp)
{
    /* Good plain files, but an empty .gz beside the images: the .gz wins. */
    write_plain_test_split();
    write_file(in_tmp("t10k-images-idx3-ubyte.gz"), "", 0);
    expect_failure(dc_mnist_load_split(tmp, "test", 0),
                   in_tmp("t10k-images-idx3-ubyte.gz"), ": empty file");
}

Test(mnist, bad_split_name)
{
    cr_assert_null(dc_mnist_load_split(MNIST_DIR, "valid", 0));
    cr_assert(strstr(dc_last_error(),
                     "split \"valid\", expected \"train\" or \"test\""),
              "%s", dc_last_error());
}

/* ---- broken files ---- */

TestSuite(mnist_bad, .init = make_tmp, .fini = remove_tmp);

Test(mnist_bad, good_synthetic_pair_loads)
{
    /* The baseline the other cases break: it loads, with its exact values. */
    write_good_pair();
    dc_dataset *ds = dc_mnist_load(in_tmp("img"), in_tmp("lab"), 0);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert(ds->n == 5 && ds->x->shape[2] == 4 && ds->x->shape[3] == 4);
    cr_assert_eq(ds->x->data[16 * 2 + 3], (7.0f * 2 + 3) / 255.0f);
    cr_assert_eq(ds->y[4], 4);
    dc_dataset_free(ds);
}

Test(mnist_bad, missing_file)
{
    write_good_pair();
    expect_failure(dc_mnist_load(in_tmp("nope"), in_tmp("lab"), 0),
                   in_tmp("nope"), "cannot open: No such file or directory");
    expect_failure(dc_mnist_load(in_tmp("img"), in_tmp("nope"), 0),
                   in_tmp("nope"), "cannot open: No such file or directory");
}

Test(mnist_bad, missing_split_files)
{
    const char *base = in_tmp("t10k-images-idx3-ubyte");
    char want[300];

    snprintf(want, sizeof want, "no such file, nor %s without .gz", base);
    expect_failure(dc_mnist_load_split(tmp, "test", 0), base, want);
}

Test(mnist_bad, empty_file)
{
    write_good_pair();
    write_file(in_tmp("empty"), "", 0);
    expect_failure(dc_mnist_load(in_tmp("empty"), in_tmp("lab"), 0),
                   in_tmp("empty"),
                   ": empty file, expected an idx images header of 16 bytes");
    expect_failure(dc_mnist_load(in_tmp("img"), in_tmp("empty"), 0),
                   in_tmp("empty"),
                   ": empty file, expected an idx labels header of 8 bytes");
}

Test(mnist_bad, wrong_magic)
{
    /* The two files swapped: each magic number is the other's. */
    write_good_pair();
    expect_failure(
        dc_mnist_load(in_tmp("lab"), in_tmp("img"), 0), in_tmp("lab"),
        "magic number 0x00000801, expected 0x00000803 for idx images "
        "(that is an idx labels file)");
}

Test(mnist_bad, wrong_dimensions)
{
    size_t ni, nl;
    unsigned char *im = idx_images(5, 4, 4, 0, &ni),
                  *lb = idx_labels(5, 0, &nl);

    write_file(in_tmp("lab"), lb, nl);
    put_be32(im + 8, 0);
    write_file(in_tmp("img"), im, ni);
    expect_failure(dc_mnist_load(in_tmp("img"), in_tmp("lab"), 0),
                   in_tmp("img"),
                   "images of 0x4 pixels, expected rows and cols in 1..4096");

    put_be32(im + 8, 4);
    put_be32(im + 4, 0);
    write_file(in_tmp("img"), im, ni);
    expect_failure(dc_mnist_load(in_tmp("img"), in_tmp("lab"), 0),
                   in_tmp("img"), "header says 0 images");
    free(im);
    free(lb);
}

Test(mnist_bad, truncated_header)
{
    size_t ni;
    unsigned char *im = idx_images(5, 4, 4, 0, &ni);

    write_good_pair();
    write_file(in_tmp("short"), im, 10);
    expect_failure(dc_mnist_load(in_tmp("short"), in_tmp("lab"), 0),
                   in_tmp("short"),
                   "truncated idx images header: expected 16 bytes, found 10");
    free(im);
}

Test(mnist_bad, truncated_plain_images)
{
    size_t ni;
    unsigned char *im = idx_images(5, 4, 4, 0, &ni);

    write_good_pair();
    write_file(in_tmp("img"), im, ni - 10);
    expect_failure(
        dc_mnist_load(in_tmp("img"), in_tmp("lab"), 0), in_tmp("img"),
        "truncated: expected 5 images (80 bytes after the header), found 70 "
        "bytes (4 whole images)");

    /* A limit inside the data that is there does not skip the check. */
    expect_failure(dc_mnist_load(in_tmp("img"), in_tmp("lab"), 1),
                   in_tmp("img"), "truncated: expected 5 images");
    free(im);
}

Test(mnist_bad, truncated_gz_images)
{
    /* The real test images, compressed, cut to half their size. */
    size_t n;
    unsigned char *gz = read_file(MNIST_DIR "/t10k-images-idx3-ubyte.gz", &n);
    const char *path = in_tmp("t10k-images-idx3-ubyte.gz");

    write_file(path, gz, n / 2);
    expect_failure(
        dc_mnist_load(path, MNIST_DIR "/t10k-labels-idx1-ubyte.gz", 0), path,
        "truncated: expected 10000 images (7840000 bytes after the header)");
    cr_assert(strstr(dc_last_error(), "the gzip stream ends early"), "%s",
              dc_last_error());
    free(gz);
}

Test(mnist_bad, truncated_gz_labels_synthetic)
{
    /* A compressed labels file missing its last 5 labels. */
    size_t ni, nl;
    unsigned char *im = idx_images(5, 4, 4, 0, &ni),
                  *lb = idx_labels(5, 0, &nl);

    write_gz(in_tmp("img.gz"), im, ni);
    write_gz(in_tmp("lab.gz"), lb, nl - 2);
    expect_failure(dc_mnist_load(in_tmp("img.gz"), in_tmp("lab.gz"), 0),
                   in_tmp("lab.gz"),
                   "truncated: expected 5 labels (5 bytes after the header), "
                   "found 3 bytes");
    free(im);
    free(lb);
}

Test(mnist_bad, count_mismatch)
{
    size_t ni, nl;
    unsigned char *im = idx_images(5, 4, 4, 0, &ni),
                  *lb = idx_labels(4, 0, &nl);
    char want[300];

    write_file(in_tmp("img"), im, ni);
    write_file(in_tmp("lab"), lb, nl);
    snprintf(want, sizeof want, "4 labels, but %s holds 5 images",
             in_tmp("img"));
    expect_failure(dc_mnist_load(in_tmp("img"), in_tmp("lab"), 0),
                   in_tmp("lab"), want);
    free(im);
    free(lb);
}

Test(mnist_bad, trailing_bytes)
{
    size_t ni, nl;
    unsigned char *im = idx_images(5, 4, 4, 3, &ni),
                  *lb = idx_labels(5, 1, &nl);

    write_file(in_tmp("img"), im, ni + 3);
    write_file(in_tmp("lab"), lb, nl);
    expect_failure(dc_mnist_load(in_tmp("img"), in_tmp("lab"), 0),
                   in_tmp("img"),
                   "3 unexpected bytes after the 5 images the header declares");

    /* The same in a compressed labels file. */
    write_file(in_tmp("img"), im, ni);
    write_gz(in_tmp("lab.gz"), lb, nl + 1);
    expect_failure(dc_mnist_load(in_tmp("img"), in_tmp("lab.gz"), 0),
                   in_tmp("lab.gz"), "1 unexpected byte after the 5 labels");
    free(im);
    free(lb);
}

Test(mnist_bad, label_out_of_range)
{
    size_t nl;
    unsigned char *lb = idx_labels(5, 0, &nl);

    write_good_pair();
    lb[8 + 3] = 11;
    write_file(in_tmp("lab"), lb, nl);
    expect_failure(dc_mnist_load(in_tmp("img"), in_tmp("lab"), 0),
                   in_tmp("lab"), "label 3 is 11, expected 0 to 9");

    /* Labels past the limit are checked too. */
    expect_failure(dc_mnist_load(in_tmp("img"), in_tmp("lab"), 2),
                   in_tmp("lab"), "label 3 is 11");
    free(lb);
}

Test(mnist_bad, corrupt_gzip_middle)
{
    size_t n;
    unsigned char *gz = read_file(MNIST_DIR "/t10k-images-idx3-ubyte.gz", &n);
    const char *path = in_tmp("t10k-images-idx3-ubyte.gz");

    for (size_t i = n / 2; i < n / 2 + 16; i++)
        gz[i] ^= 0xff;
    write_file(path, gz, n);
    expect_failure(
        dc_mnist_load(path, MNIST_DIR "/t10k-labels-idx1-ubyte.gz", 0), path,
        ": corrupt gzip stream: ");
    free(gz);
}

Test(mnist_bad, corrupt_gzip_checksum)
{
    /* Only the CRC in the gzip trailer changed: the data decodes in full, and
     * only reading on to the end of the stream reveals the damage. */
    size_t n;
    unsigned char *gz = read_file(MNIST_DIR "/t10k-labels-idx1-ubyte.gz", &n);
    const char *path = in_tmp("t10k-labels-idx1-ubyte.gz");

    gz[n - 8] ^= 0x01;
    write_file(path, gz, n);
    expect_failure(
        dc_mnist_load(MNIST_DIR "/t10k-images-idx3-ubyte.gz", path, 0), path,
        ": corrupt gzip stream: incorrect data check");
    free(gz);
}

/* ---- finding dataset folders ---- */

TestSuite(datafind, .init = make_tmp, .fini = remove_tmp);

static void make_dirs(const char *a, const char *b)
{
    cr_assert_eq(mkdir(in_tmp(a), 0700), 0);
    if (b)
        cr_assert_eq(mkdir(in_tmp(b), 0700), 0);
}

Test(datafind, flag_wins_over_env)
{
    char out[512], flag[256], env[256];

    make_dirs("flag", "flag/mnist");
    make_dirs("env", "env/mnist");
    snprintf(flag, sizeof flag, "%s", in_tmp("flag"));
    snprintf(env, sizeof env, "%s", in_tmp("env"));
    setenv("DEEPC_DATA", env, 1);
    cr_assert_eq(dc_data_find(flag, "mnist", out, sizeof out), DC_OK, "%s",
                 dc_last_error());
    cr_assert_str_eq(out, in_tmp("flag/mnist"));

    /* Without the flag, the environment's folder. */
    cr_assert_eq(dc_data_find(NULL, "mnist", out, sizeof out), DC_OK);
    cr_assert_str_eq(out, in_tmp("env/mnist"));
}

Test(datafind, falls_back_to_dot_data)
{
    char out[512];

    make_dirs("data", "data/mnist");
    cr_assert_eq(chdir(tmp), 0);
    unsetenv("DEEPC_DATA");
    cr_assert_eq(dc_data_find(NULL, "mnist", out, sizeof out), DC_OK, "%s",
                 dc_last_error());
    cr_assert_str_eq(out, "./data/mnist");

    /* $DEEPC_DATA without the dataset falls through to ./data. */
    setenv("DEEPC_DATA", in_tmp("nowhere"), 1);
    cr_assert_eq(dc_data_find(NULL, "mnist", out, sizeof out), DC_OK);
    cr_assert_str_eq(out, "./data/mnist");

    /* An explicit --data-dir without it is an error naming that folder only. */
    cr_assert_eq(dc_data_find(in_tmp("elsewhere"), "mnist", out, sizeof out),
                 DC_ERR_IO);
    cr_assert(strstr(dc_last_error(), in_tmp("elsewhere/mnist (--data-dir)")));
    cr_assert_null(strstr(dc_last_error(), "./data"));
}

Test(datafind, not_found_names_every_place)
{
    char out[512], env[256];
    const char *err;

    cr_assert_eq(chdir(tmp), 0);
    snprintf(env, sizeof env, "%s", in_tmp("e"));
    setenv("DEEPC_DATA", env, 1);
    cr_assert_eq(dc_data_find(NULL, "svhn", out, sizeof out), DC_ERR_IO);
    err = dc_last_error();
    cr_assert(strstr(err, "data: svhn not found"), "%s", err);
    cr_assert(strstr(err, in_tmp("e/svhn ($DEEPC_DATA)")), "%s", err);
    cr_assert(strstr(err, "./data/svhn (default)"), "%s", err);
}

Test(datafind, small_buffer_is_an_argument_error)
{
    char out[8];

    make_dirs("mnist", NULL);
    cr_assert_eq(dc_data_find(tmp, "mnist", out, sizeof out), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "the buffer has 8"), "%s",
              dc_last_error());
    cr_assert_eq(dc_data_find(tmp, "", out, sizeof out), DC_ERR_ARG);
}

/* ---- checksums ---- */

/* FIPS 180-2's test vector: SHA-256("abc"). */
#define SHA_ABC \
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_ABC_UPPER \
    "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"

static int log_lines;

static void count_lines(dc_log_level level, const char *msg, void *user)
{
    log_lines++;
}

Test(datafind, verify_right_hash_passes)
{
    const char *names[2] = {"a.txt", "b.txt"};
    const char *sums[2] = {SHA_ABC, SHA_ABC_UPPER};

    write_file(in_tmp("a.txt"), "abc", 3);
    write_file(in_tmp("b.txt"), "abc", 3);
    dc_log_set_sink(count_lines, NULL);
    cr_assert_eq(dc_data_verify(tmp, names, sums, 2), DC_OK, "%s",
                 dc_last_error());
    dc_log_set_sink(NULL, NULL);
    cr_assert_eq(log_lines, 2, "one log line per file");
}

Test(datafind, verify_modified_or_missing_file_fails)
{
    const char *names[3] = {"a.txt", "b.txt", "c.txt"};
    const char *sums[3] = {SHA_ABC, SHA_ABC, SHA_ABC};
    char want[300];

    write_file(in_tmp("a.txt"), "abc", 3);
    write_file(in_tmp("b.txt"), "abd", 3);
    dc_log_set_sink(count_lines, NULL);
    cr_assert_eq(dc_data_verify(tmp, names, sums, 3), DC_ERR_FORMAT);
    dc_log_set_sink(NULL, NULL);
    cr_assert_eq(log_lines, 3,
                 "one log line per file, the missing c.txt included");

    /* The first failure is the one reported. */
    snprintf(want, sizeof want, "%s: SHA-256 is ", in_tmp("b.txt"));
    cr_assert_eq(strncmp(dc_last_error(), want, strlen(want)), 0, "%s",
                 dc_last_error());
    cr_assert(strstr(dc_last_error(), ", expected " SHA_ABC), "%s",
              dc_last_error());

    cr_assert_eq(dc_data_verify(tmp, names + 2, sums, 1), DC_ERR_FORMAT);
    snprintf(want, sizeof want, "%s: missing or unreadable: No such file",
             in_tmp("c.txt"));
    cr_assert(strstr(dc_last_error(), want), "%s", dc_last_error());
}

Test(datafind, verify_rejects_a_malformed_digest)
{
    const char *names[1] = {"a.txt"};
    const char *sums[1] = {"abc123"};

    write_file(in_tmp("a.txt"), "abc", 3);
    cr_assert_eq(dc_data_verify(tmp, names, sums, 1), DC_ERR_ARG);
    cr_assert(strstr(dc_last_error(), "expected 64 hex digits"), "%s",
              dc_last_error());
}

Test(datafind, verify_real_mnist)
{
    /* Digests from coreutils sha256sum over the shipped files. */
    const char *names[4] = {
        "train-images-idx3-ubyte.gz",
        "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz",
    };
    const char *sums[4] = {
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    };

    cr_assert_eq(dc_data_verify(MNIST_DIR, names, sums, 4), DC_OK, "%s",
                 dc_last_error());
}
