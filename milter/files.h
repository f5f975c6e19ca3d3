/*
 * files.h - reading a whole file, bounded.
 */
#ifndef MAIL2ALERT_FILES_H
#define MAIL2ALERT_FILES_H

#include <stddef.h>

#include "strbuf.h"

/*
 * Append the contents of path to out.  0 on success; -1 with errno set
 * when it cannot be read, EFBIG when it is larger than max bytes, or
 * EINVAL when it is not a regular file (a FIFO would block us forever,
 * a device would never end).
 */
int file_read(const char *path, size_t max, struct strbuf *out);

/* What went wrong, for file_read's errno: strerror, in plainer words. */
const char *file_error(int err);

/*
 * path made absolute against the working directory (malloc'd); not
 * otherwise changed: no symlinks resolved, the file need not exist.
 */
char *file_absolute(const char *path);

#endif
