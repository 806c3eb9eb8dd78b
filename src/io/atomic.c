/* atomic.c - writing a file so that readers see either the old file or the
 * whole new one.
 *
 * The data goes to "<path>.tmp.<pid>" in the same directory (so the rename
 * stays within one file system), is flushed and fsync'ed, and is then renamed
 * over `path`. Every step that can fail (a write to a full disk, the flush, the
 * close, the rename) is checked and reported as DC_ERR_IO naming `path`; the
 * temporary file is removed on any failure. A `path` that exists and is not a
 * regular file (a device, FIFO, socket or directory) is refused before anything is
 * written, since the rename would replace it. Leaves out: fsync of the containing
 * directory, so after a power cut the rename itself may be lost (the old file
 * is then still there, whole). Used by safetensors.c. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "deepc/io.h"

/* Temporary files being written, so that a signal handler can remove them. A slot is
 * taken by dc_atomic_open and freed by commit or abort; `busy` is set last and cleared
 * first, so the handler never reads a half-written name.
 * Limitation: at most PENDING_MAX files at once are tracked; a further one is still
 * written atomically but would survive an interrupt. */
#define PENDING_MAX 16

static struct {
    volatile sig_atomic_t busy;
    char tmp[4200];
} pending[PENDING_MAX];

static void track(dc_atomic_file *af)
{
    for (int i = 0; i < PENDING_MAX; i++)
        if (!pending[i].busy) {
            memcpy(pending[i].tmp, af->tmp, sizeof af->tmp);
            pending[i].busy = 1;
            return;
        }
}

static void untrack(const dc_atomic_file *af)
{
    for (int i = 0; i < PENDING_MAX; i++)
        if (pending[i].busy && strcmp(pending[i].tmp, af->tmp) == 0) {
            pending[i].busy = 0;
            return;
        }
}

/* Removes every tracked temporary file, then dies of the signal as it would have. */
static void on_signal(int sig)
{
    for (int i = 0; i < PENDING_MAX; i++)
        if (pending[i].busy)
            unlink(pending[i].tmp);  /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

void dc_atomic_cleanup_on_signals(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
}

dc_status dc_atomic_open(dc_atomic_file *af, const char *path)
{
    int len;

    af->fp = NULL;
    af->path[0] = af->tmp[0] = '\0';
    if (!path || !path[0])
        return dc_fail(DC_ERR_ARG, "atomic write: empty path");
    if (strlen(path) >= sizeof af->path)
        return dc_fail(DC_ERR_ARG,
                       "atomic write: path of %zu bytes, at most %zu allowed",
                       strlen(path), sizeof af->path - 1);
    memcpy(af->path, path, strlen(path) + 1);

    /* The rename would replace a device, FIFO or socket with a plain file. */
    if (dc_check_regular_file(path) != DC_OK)
        return DC_ERR_IO;
    len = snprintf(af->tmp, sizeof af->tmp, "%s.tmp.%ld", path, (long)getpid());
    if (len < 0 || (size_t)len >= sizeof af->tmp)
        return dc_fail(DC_ERR_ARG, "%s: temporary file name too long", path);

    af->fp = fopen(af->tmp, "wb");
    if (!af->fp)
        return dc_fail(DC_ERR_IO, "%s: cannot create temporary file %s: %s",
                       path, af->tmp, strerror(errno));
    track(af);
    return DC_OK;
}

/* Flushes the stdio buffer and the kernel's cache, then closes; the first error
 * wins. A write error of an earlier fwrite (ENOSPC, EFBIG) is sticky in ferror,
 * and errors the buffer still hides come out of fflush or fsync, so none can
 * pass unseen. */
static int flush_and_close(FILE *fp, int *err)
{
    int failed = 0;

    *err = 0;
    if (ferror(fp)) {
        failed = 1;
        *err = errno ? errno : EIO;
    }
    if (!failed && fflush(fp) != 0) {
        failed = 1;
        *err = errno;
    }
    if (!failed && fsync(fileno(fp)) != 0 && errno != EINVAL) {
        failed = 1;
        *err = errno;
    }
    if (fclose(fp) != 0 && !failed) {
        failed = 1;
        *err = errno;
    }
    return failed;
}

dc_status dc_atomic_commit(dc_atomic_file *af)
{
    int err;

    if (!af->fp)
        return dc_fail(DC_ERR_ARG,
                       "%s: atomic write committed without an open file",
                       af->path[0] ? af->path : "(no path)");
    if (flush_and_close(af->fp, &err)) {
        af->fp = NULL;
        remove(af->tmp);
        untrack(af);
        return dc_fail(DC_ERR_IO, "%s: writing failed: %s", af->path,
                       strerror(err));
    }
    af->fp = NULL;

    if (rename(af->tmp, af->path) != 0) {
        err = errno;
        remove(af->tmp);
        untrack(af);
        return dc_fail(DC_ERR_IO, "%s: cannot rename %s into place: %s",
                       af->path, af->tmp, strerror(err));
    }
    untrack(af);
    return DC_OK;
}

void dc_atomic_abort(dc_atomic_file *af)
{
    if (!af->fp)
        return;
    fclose(af->fp);
    af->fp = NULL;
    remove(af->tmp);
    untrack(af);
}

dc_status dc_write_file_atomic(const char *path, const void *data, size_t n)
{
    dc_atomic_file af;
    dc_status st = dc_atomic_open(&af, path);

    if (st != DC_OK)
        return st;
    if (n > 0 && fwrite(data, 1, n, af.fp) != n) {
        int err = errno;

        dc_atomic_abort(&af);
        return dc_fail(DC_ERR_IO, "%s: writing %zu bytes failed: %s", path, n,
                       strerror(err));
    }
    return dc_atomic_commit(&af);
}
