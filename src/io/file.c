/* file.c - the check that every reader of a user-named file makes before it
 * opens the file: only a regular file is read.
 *
 * Opening a FIFO for reading blocks until a writer appears, so a FIFO named
 * as a data file would hang the program; a directory, socket or device gives
 * an odd error or endless data. stat() looks at the file without opening it.
 * Leaves out opening and reading: each reader does that in its own way.
 * Limitation: a regular file replaced by a FIFO between the stat and the
 * reader's open still blocks that open; only someone who can write the folder
 * at that very moment can arrange it. */
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
