/* find.c - where dataset folders are, and whether their files are intact.
 *
 * dc_data_find walks the places DESIGN.md names, in order: --data-dir,
 * $DEEPC_DATA, ./data. dc_data_verify compares SHA-256 digests computed with
 * OpenSSL's EVP API.
 * Leaves out downloading: fetching is the command-line tool's `data fetch`. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "deepc/data.h"
#include "deepc/io.h"
#include "deepc/log.h"

#define SHA256_HEX 64
#define HASH_CHUNK (1u << 16)

/* Appends "PATH (SOURCE)" to the list of places looked in. */
static void add_tried(char *tried, size_t n, const char *path,
                      const char *source)
{
    size_t len = strlen(tried);

    snprintf(tried + len, n - len, "%s%s (%s)", len ? ", " : "", path, source);
}

static dc_status use_path(const char *path, char *out, size_t n)
{
    size_t len = strlen(path);

    if (len >= n)
        return dc_fail(DC_ERR_ARG,
                       "data: path %s needs %zu bytes, the buffer has %zu",
                       path, len + 1, n);
    memcpy(out, path, len + 1);
    return DC_OK;
}

dc_status dc_data_find(const char *dir_flag, const char *name, char *out,
                       size_t n)
{
    const char *dirs[3], *sources[3];
    char path[PATH_MAX], tried[3 * PATH_MAX + 64] = "";
    int count = 0, flagged = dir_flag && *dir_flag;

    if (!name || !*name || !out || n == 0)
        return dc_fail(DC_ERR_ARG,
                       "data: find needs a dataset name and an output buffer");

    /* The order of DESIGN.md; an unset or empty entry is skipped. An explicit
     * --data-dir is the only place looked in: a user who names a folder means it, and
     * silently reading another copy would hide a typo. */
    if (flagged) {
        dirs[count] = dir_flag;
        sources[count++] = "--data-dir";
    } else {
        dirs[count] = getenv("DEEPC_DATA");
        if (dirs[count] && *dirs[count])
            sources[count++] = "$DEEPC_DATA";
        dirs[count] = "./data";
        sources[count++] = "default";
    }

    for (int i = 0; i < count; i++) {
        struct stat st;
        int len = snprintf(path, sizeof path, "%s/%s", dirs[i], name);
        if (len < 0 || (size_t)len >= sizeof path)
            return dc_fail(DC_ERR_ARG, "data: %s/%s: path too long", dirs[i],
                           name);
        if (stat(path, &st) == 0) {
            return use_path(path, out, n);
        }
        add_tried(tried, sizeof tried, path, sources[i]);
    }
    return dc_fail(DC_ERR_IO, "data: %s not found; looked in %s", name, tried);
}

static void to_hex(const unsigned char *md, unsigned len, char *hex)
{
    static const char digits[] = "0123456789abcdef";

    for (unsigned i = 0; i < len; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[2 * len] = '\0';
}

/* Feeds the open file through the digest in chunks; fails on a read error. */
static dc_status digest_stream(FILE *fp, EVP_MD_CTX *ctx, const char *path)
{
    unsigned char buf[HASH_CHUNK];
    size_t got;

    while ((got = fread(buf, 1, sizeof buf, fp)) > 0)
        if (EVP_DigestUpdate(ctx, buf, got) != 1)
            return dc_fail(DC_ERR_NOMEM, "%s: SHA-256 update failed", path);
    if (ferror(fp))
        return dc_fail(DC_ERR_IO, "%s: read error: %s", path, strerror(errno));
    return DC_OK;
}

/* Writes the file's SHA-256 as 64 lowercase hex digits into hex[65]. */
static dc_status sha256_file(const char *path, char *hex)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    FILE *fp;
    EVP_MD_CTX *ctx;
    dc_status st;

    /* Before the open: opening a FIFO would block. */
    if ((st = dc_check_regular_file(path)) != DC_OK)
        return st;
    fp = fopen(path, "rb");
    if (!fp)
        return dc_fail(DC_ERR_FORMAT, "%s: missing or unreadable: %s", path,
                       strerror(errno));
    ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        st = dc_fail(DC_ERR_NOMEM, "%s: cannot start a SHA-256 digest", path);
    else if ((st = digest_stream(fp, ctx, path)) == DC_OK &&
             EVP_DigestFinal_ex(ctx, md, &len) != 1)
        st = dc_fail(DC_ERR_NOMEM, "%s: SHA-256 finalisation failed", path);
    if (st == DC_OK)
        to_hex(md, len, hex);

    EVP_MD_CTX_free(ctx);
    fclose(fp);
    return st;
}

static int is_sha256_hex(const char *s)
{
    size_t i = 0;

    for (; s && s[i]; i++)
        if (!isxdigit((unsigned char)s[i]))
            return 0;
    return i == SHA256_HEX;
}

static int hex_equal(const char *a, const char *b)
{
    for (int i = 0; i < SHA256_HEX; i++)
        if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i]))
            return 0;
    return 1;
}

/* Checks and logs one file; DC_ERR_FORMAT if it is missing or changed. */
static dc_status verify_one(const char *dir, const char *name, const char *want)
{
    char path[PATH_MAX], got[2 * EVP_MAX_MD_SIZE + 1];
    int len = snprintf(path, sizeof path, "%s/%s", dir, name ? name : "");
    dc_status st;

    if (!name || !*name || len < 0 || (size_t)len >= sizeof path)
        return dc_fail(DC_ERR_ARG, "data: verify: bad file name under %s", dir);
    if (!is_sha256_hex(want))
        return dc_fail(DC_ERR_ARG,
                       "data: verify: expected SHA-256 for %s is \"%s\", "
                       "expected 64 hex digits", path, want ? want : "NULL");

    if ((st = sha256_file(path, got)) != DC_OK) {
        dc_log(DC_LOG_WARN, "%s", dc_last_error());
        return st;
    }
    if (!hex_equal(got, want)) {
        st = dc_fail(DC_ERR_FORMAT, "%s: SHA-256 is %s, expected %s", path, got,
                     want);
        dc_log(DC_LOG_WARN, "%s", dc_last_error());
        return st;
    }
    dc_log(DC_LOG_INFO, "data: %s: SHA-256 ok", path);
    return DC_OK;
}

dc_status dc_data_verify(const char *dir, const char *const *names,
                         const char *const *sha256_hex, int n)
{
    char first[1024] = "";
    dc_status first_st = DC_OK;

    if (!dir || n < 0 || (n > 0 && (!names || !sha256_hex)))
        return dc_fail(DC_ERR_ARG,
                       "data: verify needs a directory, %d names and as many "
                       "digests", n);

    /* Every file is checked and logged; the first failure is reported. */
    for (int i = 0; i < n; i++) {
        dc_status st = verify_one(dir, names[i], sha256_hex[i]);
        if (st == DC_ERR_ARG || st == DC_ERR_NOMEM)
            return st;
        if (st != DC_OK && first_st == DC_OK) {
            first_st = st;
            snprintf(first, sizeof first, "%s", dc_last_error());
        }
    }
    if (first_st != DC_OK)
        return dc_fail(first_st, "%s", first);
    return DC_OK;
}
