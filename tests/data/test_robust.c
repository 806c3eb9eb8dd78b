/* Tests of hostile inputs to the file readers: bytes after a gzip stream
 * (src/data/mnist.c) and names of things that are not regular files (FIFOs,
 * directories, sockets, devices) given where a data file is expected
 * (dc_check_regular_file in src/io/file.c, and every reader that calls it).
 * A FIFO would block the open forever, so each test has a timeout: a reader
 * that opens it fails by timing out instead of hanging the suite. The gzip
 * rules are Python's gzip module's: zero padding after the last member is
 * accepted, anything else that is not another member is an error. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <png.h>

#include "deepc/data.h"
#include "deepc/image.h"
#include "deepc/io.h"
#include "deepc/text.h"

#define MNIST_DIR DC_SOURCE_DIR "/data/mnist"

#define TESTUTIL_TAG "robust"
#include "testutil.h"

/* ---- helpers: the files written into the temporary folder ---- */

/* One gzip member of `data`, written by zlib's gzwrite (malloc'd, with room
 * for `extra` more bytes); *n gets its size. */
static unsigned char *gzip_member(const void *data, size_t len, size_t extra,
                                  size_t *n)
{
    const char *path = in_tmp("member.gz");
    gzFile gz = gzopen(path, "wb");

    cr_assert_not_null(gz);
    cr_assert_eq(gzwrite(gz, data, (unsigned)len), (int)len);
    cr_assert_eq(gzclose(gz), Z_OK);
    unsigned char *p = read_file_spare(path, extra, n);
    remove(path);
    return p;
}

/* A plain idx images file of 5 images of 2x2 (byte k of the data = 11 k) as
 * tmp/img, and the bytes of an idx labels file of 5 labels (label i = 9 - i)
 * in labels[13], for the caller to write as it likes. */
static void write_small_pair(unsigned char labels[13])
{
    unsigned char im[16 + 20] = {0};

    put_be32(im, 0x803);
    put_be32(im + 4, 5);
    put_be32(im + 8, 2);
    put_be32(im + 12, 2);
    for (int k = 0; k < 20; k++)
        im[16 + k] = (unsigned char)(11 * k);
    write_file(in_tmp("img"), im, sizeof im);

    put_be32(labels, 0x801);
    put_be32(labels + 4, 5);
    for (int i = 0; i < 5; i++)
        labels[8 + i] = (unsigned char)(9 - i);
}

/* n bytes from xorshift64 seeded with `seed`: the same "random" junk each
 * run. The first byte is set to 0xa5, neither zero padding nor the start of
 * gzip's magic, so that the junk is junk whatever the seed gives. */
static void junk(unsigned char *p, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        p[i] = (unsigned char)(seed >> 32);
    }
    p[0] = 0xa5;
}

/* Asserts that the last error is "<path>: not a regular file (<kind>)". */
static void expect_not_regular(const char *path, const char *kind)
{
    char want[512];

    snprintf(want, sizeof want, "%s: not a regular file (%s)", path, kind);
    cr_assert_eq(strncmp(dc_last_error(), want, strlen(want)), 0,
                 "expected \"%s\", got: %s", want, dc_last_error());
}

/* Makes the FIFO tmp/name; its path is copied to out[256], safe from the
 * reuse of in_tmp's buffers. */
static const char *make_fifo(const char *name, char *out)
{
    snprintf(out, 256, "%s", in_tmp(name));
    cr_assert_eq(mkfifo(out, 0600), 0, "mkfifo %s", out);
    return out;
}

TestSuite(robust, .init = make_tmp, .fini = remove_tmp, .timeout = 10);

/* ---- bytes after the gzip stream ---- */

Test(robust, random_bytes_after_real_gz_labels, .timeout = 10)
{
    /* The hostile tester's case: head -c 1000 /dev/urandom >> labels.gz. */
    const char *path = in_tmp("train-labels-idx1-ubyte.gz");
    size_t n;
    unsigned char *gz =
        read_file_spare(MNIST_DIR "/train-labels-idx1-ubyte.gz", 1000, &n);

    junk(gz + n, 1000, 42);
    write_file(path, gz, n + 1000);
    cr_assert_null(
        dc_mnist_load(MNIST_DIR "/train-images-idx3-ubyte.gz", path, 10));
    expect_error(path, ": 1000 bytes of trailing data after the gzip stream");
    free(gz);
}

Test(robust, zero_padding_after_real_gz_loads, .timeout = 10)
{
    const char *path = in_tmp("t10k-labels-idx1-ubyte.gz");
    size_t n;
    unsigned char *gz =
        read_file_spare(MNIST_DIR "/t10k-labels-idx1-ubyte.gz", 16, &n);
    dc_dataset *padded, *clean;

    memset(gz + n, 0, 16);
    write_file(path, gz, n + 16);
    padded = dc_mnist_load(MNIST_DIR "/t10k-images-idx3-ubyte.gz", path, 0);
    clean = dc_mnist_load(MNIST_DIR "/t10k-images-idx3-ubyte.gz",
                          MNIST_DIR "/t10k-labels-idx1-ubyte.gz", 0);
    cr_assert(padded && clean, "%s", dc_last_error());
    cr_assert_eq(padded->n, 10000);
    cr_assert_eq(padded->y[0], 7);
    cr_assert_arr_eq(padded->y, clean->y, 10000 * sizeof(int));
    dc_dataset_free(padded);
    dc_dataset_free(clean);
    free(gz);
}

Test(robust, trailing_bytes_are_counted_from_the_member_end, .timeout = 10)
{
    /* Zero padding followed by junk: the count takes in the padding too. */
    unsigned char lab[13];
    size_t n;
    unsigned char *gz;

    write_small_pair(lab);
    gz = gzip_member(lab, sizeof lab, 9, &n);
    memset(gz + n, 0, 5);
    memcpy(gz + n + 5, "junk", 4);
    write_file(in_tmp("lab.gz"), gz, n + 9);
    cr_assert_null(dc_mnist_load(in_tmp("img"), in_tmp("lab.gz"), 0));
    expect_error(in_tmp("lab.gz"),
                 ": 9 bytes of trailing data after the gzip stream");

    /* A single stray byte, and half of gzip's magic: both refused. */
    gz[n] = 'x';
    write_file(in_tmp("lab.gz"), gz, n + 1);
    cr_assert_null(dc_mnist_load(in_tmp("img"), in_tmp("lab.gz"), 0));
    expect_error(in_tmp("lab.gz"), ": 1 byte of trailing data after the gzip");
    gz[n] = 0x1f;
    write_file(in_tmp("lab.gz"), gz, n + 1);
    cr_assert_null(dc_mnist_load(in_tmp("img"), in_tmp("lab.gz"), 0));
    expect_error(in_tmp("lab.gz"), ": 1 byte of trailing data after the gzip");
    free(gz);
}

Test(robust, trailing_bytes_after_gz_images, .timeout = 10)
{
    unsigned char lab[13];
    size_t ni, n;
    unsigned char *im, *gz;

    write_small_pair(lab);
    write_file(in_tmp("lab"), lab, sizeof lab);
    im = read_file(in_tmp("img"), &ni);
    gz = gzip_member(im, ni, 300, &n);
    junk(gz + n, 300, 7);
    write_file(in_tmp("img.gz"), gz, n + 300);
    cr_assert_null(dc_mnist_load(in_tmp("img.gz"), in_tmp("lab"), 0));
    expect_error(in_tmp("img.gz"),
                 ": 300 bytes of trailing data after the gzip stream");
    free(im);
    free(gz);
}

Test(robust, members_with_zero_padding_between_load, .timeout = 10)
{
    /* Two members with 7 zero bytes between them read as one stream, as
     * Python's gzip reads them: the header and 2 labels, then 3 labels. */
    unsigned char lab[13], *a, *b, *both;
    size_t na, nb;
    dc_dataset *ds;

    write_small_pair(lab);
    a = gzip_member(lab, 10, 0, &na);
    b = gzip_member(lab + 10, 3, 0, &nb);
    both = calloc(na + 7 + nb, 1);
    cr_assert_not_null(both);
    memcpy(both, a, na);
    memcpy(both + na + 7, b, nb);
    write_file(in_tmp("lab.gz"), both, na + 7 + nb);

    ds = dc_mnist_load(in_tmp("img"), in_tmp("lab.gz"), 0);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_eq(ds->n, 5);
    for (int i = 0; i < 5; i++)
        cr_assert_eq(ds->y[i], 9 - i, "label %d is %d", i, ds->y[i]);
    cr_assert_eq(ds->x->data[4 * 3 + 1], 11.0f * 13 / 255.0f);
    dc_dataset_free(ds);
    free(a);
    free(b);
    free(both);
}

Test(robust, cut_second_member_still_fails_as_cut, .timeout = 10)
{
    /* Another member that stops short is a cut file, not trailing data. */
    unsigned char lab[13], *a, *b, *both;
    size_t na, nb;

    write_small_pair(lab);
    a = gzip_member(lab, 10, 0, &na);
    b = gzip_member(lab + 10, 3, 0, &nb);
    both = malloc(na + nb);
    cr_assert_not_null(both);
    memcpy(both, a, na);
    memcpy(both + na, b, nb - 4);
    write_file(in_tmp("lab.gz"), both, na + nb - 4);
    cr_assert_null(dc_mnist_load(in_tmp("img"), in_tmp("lab.gz"), 0));
    expect_error(in_tmp("lab.gz"), "the gzip stream ends");
    cr_assert_null(strstr(dc_last_error(), "trailing"), "%s", dc_last_error());
    free(a);
    free(b);
    free(both);
}

Test(robust, train_images_load_quickly, .timeout = 10)
{
    /* The inflate loop must keep gzread's speed: the whole training set in
     * well under a second (a sanitizer build is too slow to time). */
    struct timespec t0, t1;
    dc_dataset *ds;
    double s;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    ds = dc_mnist_load_split(MNIST_DIR, "train", 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_eq(ds->n, 60000);
    cr_assert_eq(ds->y[0], 5);
    dc_dataset_free(ds);
    s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
#ifdef __SANITIZE_ADDRESS__
    (void)s;
#else
    cr_assert_lt(s, 1.0, "loading the training set took %.3f s", s);
#endif
}

/* ---- things that are not regular files ---- */

Test(robust, check_names_each_kind, .timeout = 10)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    char path[256];

    write_file(in_tmp("plain"), "x", 1);
    cr_assert_eq(dc_check_regular_file(in_tmp("plain")), DC_OK);
    cr_assert_eq(symlink(in_tmp("plain"), in_tmp("link")), 0);
    cr_assert_eq(dc_check_regular_file(in_tmp("link")), DC_OK,
                 "a link to a regular file is one");

    /* A missing file passes: the reader's open says "No such file". */
    cr_assert_eq(dc_check_regular_file(in_tmp("missing")), DC_OK);

    cr_assert_eq(dc_check_regular_file(make_fifo("fifo", path)), DC_ERR_IO);
    expect_not_regular(in_tmp("fifo"), "a FIFO");
    cr_assert_eq(dc_check_regular_file(tmp), DC_ERR_IO);
    expect_not_regular(tmp, "a directory");
    cr_assert_eq(dc_check_regular_file("/dev/null"), DC_ERR_IO);
    expect_not_regular("/dev/null", "a character device");

    cr_assert_geq(fd, 0);
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", in_tmp("sock"));
    cr_assert_eq(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    cr_assert_eq(dc_check_regular_file(in_tmp("sock")), DC_ERR_IO);
    expect_not_regular(in_tmp("sock"), "a socket");
    close(fd);

    cr_assert_eq(dc_check_regular_file(NULL), DC_ERR_ARG);
}

Test(robust, fifo_to_mnist, .timeout = 10)
{
    unsigned char lab[13];
    char fifo[256];

    make_fifo("fifo", fifo);
    write_small_pair(lab);
    write_file(in_tmp("lab"), lab, sizeof lab);
    cr_assert_null(dc_mnist_load(fifo, in_tmp("lab"), 0));
    expect_not_regular(fifo, "a FIFO");
    cr_assert_null(dc_mnist_load(in_tmp("img"), fifo, 0));
    expect_not_regular(fifo, "a FIFO");
    cr_assert_null(dc_mnist_load(tmp, in_tmp("lab"), 0));
    expect_not_regular(tmp, "a directory");

    /* The split loader picks the .gz name, then refuses it. */
    write_file(in_tmp("t10k-labels-idx1-ubyte"), lab, sizeof lab);
    make_fifo("t10k-images-idx3-ubyte.gz", fifo);
    cr_assert_null(dc_mnist_load_split(tmp, "test", 0));
    expect_not_regular(fifo, "a FIFO");
}

Test(robust, fifo_to_data_verify, .timeout = 10)
{
    const char *names[1] = {"fifo"};
    const char *sums[1] = {
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"};
    char path[256];

    make_fifo("fifo", path);
    cr_assert_eq(dc_data_verify(tmp, names, sums, 1), DC_ERR_IO);
    expect_not_regular(in_tmp("fifo"), "a FIFO");
}

Test(robust, fifo_to_file_read_and_image_load, .timeout = 10)
{
    char fifo[256];
    unsigned char *bytes = (unsigned char *)"x", *rgb = NULL;
    size_t n = 1;
    int h, w;

    make_fifo("fifo.png", fifo);
    cr_assert_eq(dc_file_read(fifo, &bytes, &n), DC_ERR_IO);
    expect_not_regular(fifo, "a FIFO");
    cr_assert(bytes == NULL && n == 0, "outputs are cleared on failure");
    cr_assert_eq(dc_image_load_rgb8(fifo, &rgb, &h, &w), DC_ERR_IO);
    expect_not_regular(fifo, "a FIFO");
    cr_assert_eq(dc_file_read(tmp, &bytes, &n), DC_ERR_IO);
    expect_not_regular(tmp, "a directory");
}

Test(robust, fifo_and_directory_to_tweets, .timeout = 10)
{
    char fifo[256];

    make_fifo("tweets.csv", fifo);
    cr_assert_null(dc_tweets_load(fifo, 0));
    expect_not_regular(fifo, "a FIFO");
    cr_assert_null(dc_tweets_load(tmp, 0));
    expect_not_regular(tmp, "a directory");
}

Test(robust, fifo_to_wordvec, .timeout = 10)
{
    char fifo[256];

    make_fifo("vectors.txt", fifo);
    cr_assert_null(dc_wordvec_load(fifo, DC_WORDVEC_AUTO));
    expect_not_regular(fifo, "a FIFO");
    cr_assert_null(dc_wordvec_load(tmp, DC_WORDVEC_GLOVE));
    expect_not_regular(tmp, "a directory");
}

Test(robust, fifo_and_directory_to_safetensors, .timeout = 10)
{
    char fifo[256];

    make_fifo("model.safetensors", fifo);
    cr_assert_null(dc_safetensors_load(fifo));
    expect_not_regular(fifo, "a FIFO");
    cr_assert_null(dc_safetensors_load(tmp));
    expect_not_regular(tmp, "a directory");
}

/* A 4x4 RGB PNG at tmp/name, written with libpng. */
static void write_png(const char *name)
{
    png_image img;
    unsigned char px[4 * 4 * 3];

    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (unsigned char)(i * 5);
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = 4;
    img.height = 4;
    img.format = PNG_FORMAT_RGB;
    cr_assert(png_image_write_to_file(&img, in_tmp(name), 0, px, 0, NULL), "%s",
              img.message);
}

Test(robust, fifo_in_image_folder_is_a_bad_image, .timeout = 10)
{
    dc_imagefolder_opts skip = {.skip_bad = 1};
    dc_imagefolder *ds;
    char path[256];

    cr_assert_eq(mkdir(in_tmp("root"), 0700), 0);
    cr_assert_eq(mkdir(in_tmp("root/cat"), 0700), 0);
    write_png("root/cat/a.png");
    make_fifo("root/cat/b.png", path);

    /* Skipping: the FIFO is counted as a bad image, the PNG kept. */
    ds = dc_imagefolder_load(in_tmp("root"), &skip);
    cr_assert_not_null(ds, "%s", dc_last_error());
    cr_assert_eq(dc_imagefolder_len(ds), 1);
    cr_assert_eq(dc_imagefolder_skipped(ds), 1);
    dc_imagefolder_free(ds);

    /* Not skipping: it stops the load, named. */
    cr_assert_null(dc_imagefolder_load(in_tmp("root"), NULL));
    expect_not_regular(in_tmp("root/cat/b.png"), "a FIFO");
}

Test(robust, fifo_to_image_folder_csv, .timeout = 10)
{
    char fifo[256], path[256], want[512];

    cr_assert_eq(mkdir(in_tmp("root"), 0700), 0);
    cr_assert_eq(mkdir(in_tmp("root/cat"), 0700), 0);
    make_fifo("labels.csv", fifo);
    cr_assert_null(dc_imagefolder_load_csv(in_tmp("root"), fifo, NULL));
    expect_not_regular(fifo, "a FIFO");

    /* A FIFO listed as an image: refused with the CSV line that listed it. */
    make_fifo("root/cat/b.png", path);
    write_file(in_tmp("list.csv"), "file,label\nb.png,cat\n", 21);
    cr_assert_null(dc_imagefolder_load_csv(in_tmp("root"), in_tmp("list.csv"),
                                           NULL));
    expect_not_regular(in_tmp("root/cat/b.png"), "a FIFO");
    snprintf(want, sizeof want, "(listed at %s line 2)", in_tmp("list.csv"));
    cr_assert_not_null(strstr(dc_last_error(), want), "%s", dc_last_error());
}
