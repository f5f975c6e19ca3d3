/*
 * xalloc.h - allocation that cannot fail.
 *
 * Running out of memory is fatal in one place (abort), so that callers do
 * not each grow an error path that is never tested.  This is the only
 * place in rules/ that gives up.
 */
#ifndef MAIL2ALERT_XALLOC_H
#define MAIL2ALERT_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grow an array of count elements of size bytes to hold at least need. */
void *xgrow(void *ptr, size_t *count, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t len);
/*
 * Free a password or token (NULL is fine), zeroing it first so the freed
 * heap does not keep it for a core dump or the next allocation to read.
 */
void secret_free(char *secret);

#endif
