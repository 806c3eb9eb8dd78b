/* file.c - the check that every reader of a user-named file makes before it
 * opens the file (only a regular file is read), and reading a whole file.
 *
 * Opening a FIFO for reading blocks until a writer appears, so a FIFO named
 * as a data file would hang the program; a directory, socket or device gives
 * an odd error or endless data. stat() looks at the file without opening it.
 * Limitation: a regular file replaced by a FIFO between the stat and the
 * reader's open still blocks that open; only someone who can write the folder
 * at that very moment can arrange it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "deepc/io.h"

/* The kind of a non-regular file, as the message names it. */
static const char *file_kind(mode_t mode)
{
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return "a file of an unknown kind";
}

dc_status dc_check_regular_file(const char *path)
{
    struct stat sb;

    if (!path)
        return dc_fail(DC_ERR_ARG, "file check: path is NULL");

    /* A path stat cannot see (missing, no permission) is left to the open
     * that follows, so that each reader keeps its own message for it. stat
     * follows links: a link to a regular file is fine. */
    if (stat(path, &sb) != 0 || S_ISREG(sb.st_mode))
        return DC_OK;
    return dc_fail(DC_ERR_IO, "%s: not a regular file (%s)", path,
                   file_kind(sb.st_mode));
}

dc_status dc_file_read(const char *path, unsigned char **bytes, size_t *n)
{
    FILE *fp;
    unsigned char *buf = NULL;
    long len;
    dc_status st;

    /* Before the open: opening a FIFO would block. */
    *bytes = NULL;
    *n = 0;
    if ((st = dc_check_regular_file(path)) != DC_OK)
        return st;
    fp = fopen(path, "rb");
    if (!fp)
        return dc_fail(DC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 ||
        fseek(fp, 0, SEEK_SET) != 0) {
        fclose(fp);
        return dc_fail(DC_ERR_IO, "%s: cannot find its size: %s", path,
                       strerror(errno));
    }
    buf = dc_malloc((size_t)len, path);
    if (!buf) {
        fclose(fp);
        return DC_ERR_NOMEM;
    }
    if (fread(buf, 1, (size_t)len, fp) != (size_t)len) {
        st = dc_fail(DC_ERR_IO, "%s: read error after %ld bytes expected", path,
                     len);
        free(buf);
        fclose(fp);
        return st;
    }
    fclose(fp);
    *bytes = buf;
    *n = (size_t)len;
    return DC_OK;
}
