/* testutil.h - helpers shared by the Criterion tests: a temporary folder per
 * test, paths inside it, whole files written and read back, big-endian
 * fields, the message check of a failed load, and the dog-emotion folder.
 *
 * Every test file is compiled into the one deepc_tests binary, so everything
 * here is static: each file that includes the header gets its own copy, and
 * nothing clashes at link time. Functions are static inline so that a file
 * using only some of them draws no unused-function warning.
 *
 * Criterion runs each test in its own process, so the one folder `tmp` (and
 * in_tmp's buffers) belong to the running test alone.
 *
 * Use: define _XOPEN_SOURCE 700 before the first #include of the file (nftw
 * and FTW_PHYS need it), and optionally TESTUTIL_TAG, a word naming the suite
 * in the folder's name, before including this header:
 *
 *   #define _XOPEN_SOURCE 700
 *   #include <criterion/criterion.h>
 *   ...
 *   #define TESTUTIL_TAG "data"
 *   #include "testutil.h"
 *
 *   TestSuite(mine, .init = make_tmp, .fini = remove_tmp);
 *
 * The helpers fail the running test (a Criterion assertion) rather than
 * return an error: a test's own setup going wrong is a failed test. Only
 * remove_tmp, the cleanup, ignores what goes wrong.
 *
 * Left out: gzip and image writers, which differ per file and stay there. */
#ifndef DEEPC_TESTUTIL_H
#define DEEPC_TESTUTIL_H

#if !defined(_XOPEN_SOURCE) || _XOPEN_SOURCE < 700
#error "testutil.h: #define _XOPEN_SOURCE 700 before the file's first #include"
#endif

#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deepc/data.h"

#ifndef TESTUTIL_TAG
#define TESTUTIL_TAG "test"
#endif

/* ---- a temporary folder for the running test ---- */

/* The folder, /tmp/deepc_<TESTUTIL_TAG>_XXXXXX once make_tmp has run. */
static char tmp[64];

/* Creates the folder; meant as a test's or suite's .init. */
static inline void make_tmp(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/deepc_" TESTUTIL_TAG "_XXXXXX");
    cr_assert_not_null(mkdtemp(tmp), "mkdtemp %s failed", tmp);
}

static inline int remove_entry(const char *path, const struct stat *st,
                               int flag, struct FTW *f)
{
    return remove(path);
}

/* Removes the folder and all it holds; meant as .fini. Depth first, so each
 * folder is empty when its turn comes; FTW_PHYS removes a symbolic link
 * itself, never what it points to. Failures are ignored: cleaning up must
 * not turn a passing test into a failing one. */
static inline void remove_tmp(void)
{
    nftw(tmp, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* tmp/name, in one of eight static buffers used in turn, so that a call can
 * hold up to eight paths at once; copy a path that must outlive that. */
static inline const char *in_tmp(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *p = bufs[next++ % 8];
    int len = snprintf(p, sizeof bufs[0], "%s/%s", tmp, name);

    cr_assert(len > 0 && (size_t)len < sizeof bufs[0],
              "in_tmp: path for %s too long", name);
    return p;
}

/* The number of entries in tmp (not counting . and ..): lets a test check
 * that a write, failed or done, left no temporary file behind. */
static inline int tmp_entries(void)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    int n = 0;

    cr_assert_not_null(d, "cannot open %s", tmp);
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* ---- whole files ---- */

/* Writes n bytes of data as `path`, replacing what was there. fclose is
 * checked too: a buffered write can fail only there. */
static inline void write_file(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");

    cr_assert_not_null(fp, "cannot write %s", path);
    cr_assert_eq(fwrite(data, 1, n, fp), n, "short write to %s", path);
    cr_assert_eq(fclose(fp), 0, "cannot close %s", path);
}

/* Writes the C string `text`, without its NUL, as `path`. */
static inline void write_text(const char *path, const char *text)
{
    write_file(path, text, strlen(text));
}

/* The whole of `path` in memory, followed by `spare` more bytes for the
 * caller to append to it and a NUL (so that text can be read as a string).
 * *n gets the file's size. malloc'd: the caller frees it. void * so that it
 * assigns to char * and unsigned char * alike. */
static inline void *read_file_spare(const char *path, size_t spare, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *p;
    long size;

    cr_assert_not_null(fp, "cannot read %s", path);
    cr_assert_eq(fseek(fp, 0, SEEK_END), 0, "cannot seek in %s", path);
    size = ftell(fp);
    cr_assert_geq(size, 0, "cannot tell the size of %s", path);
    rewind(fp);
    p = malloc((size_t)size + spare + 1);
    cr_assert_not_null(p);
    cr_assert_eq(fread(p, 1, (size_t)size, fp), (size_t)size,
                 "short read of %s", path);
    fclose(fp);
    p[size] = '\0';
    *n = (size_t)size;
    return p;
}

/* The whole of `path` in memory (malloc'd, NUL after it); *n gets its size. */
static inline void *read_file(const char *path, size_t *n)
{
    return read_file_spare(path, 0, n);
}

/* The whole of the text file `path` as a C string (malloc'd). */
static inline char *read_text(const char *path)
{
    size_t n;

    return read_file(path, &n);
}

/* ---- bytes ---- */

/* Stores v at p, most significant byte first (idx headers, PNG chunks). */
static inline void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* ---- messages ---- */

/* Asserts that the last error starts with `path` (a loader's message names
 * the file first) and holds `part`. */
static inline void expect_error(const char *path, const char *part)
{
    const char *err = dc_last_error();

    cr_assert_eq(strncmp(err, path, strlen(path)), 0,
                 "message does not start with %s: %s", path, err);
    cr_assert_not_null(strstr(err, part), "expected \"%s\" in: %s", part, err);
}

/* ---- data found on this machine ---- */

/* Writes the dog-emotion folder to out[n] and returns 1: the one
 * dc_data_find gives, else the shared copy beside the repository. Returns 0
 * after a loud message on stderr when neither exists, for the caller to
 * skip its test (cr_skip_test) visibly rather than pass in silence. */
static inline int find_dogs(char *out, size_t n)
{
    struct stat st;

    if (dc_data_find(NULL, "dog-emotion", out, n) == DC_OK)
        return 1;
    snprintf(out, n, "%s", DC_SOURCE_DIR "/../shared/data/dog-emotion");
    if (stat(out, &st) == 0)
        return 1;
    fprintf(stderr,
            "\n*** SKIPPED: dog-emotion images not found in $DEEPC_DATA, "
            "./data or %s/../shared/data ***\n\n",
            DC_SOURCE_DIR);
    return 0;
}

#endif
