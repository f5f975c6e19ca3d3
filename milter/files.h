/*
 * files.h - reading a whole file, bounded.
 */
#ifndef MAIL2ALERT_FILES_H
#define MAIL2ALERT_FILES_H

#include <stddef.h>

#include "strbuf.h"

/*
 * Append the contents of path to out.  0 on success; -1 with errno set
 * when it cannot be read, or EFBIG when it is larger than max bytes.
 */
int file_read(const char *path, size_t max, struct strbuf *out);

#endif
