/*
 * xalloc.c - allocation that cannot fail (see xalloc.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static void *
checked(void *ptr)
{
	if (ptr == NULL)
		abort();
	return ptr;
}

void *
xmalloc(size_t size)
{
	return checked(malloc(size ? size : 1));
}

void *
xcalloc(size_t count, size_t size)
{
	return checked(calloc(count ? count : 1, size ? size : 1));
}

void *
xrealloc(void *ptr, size_t size)
{
	return checked(realloc(ptr, size ? size : 1));
}

void *
xgrow(void *ptr, size_t *count, size_t need, size_t size)
{
	size_t n = *count ? *count : 8;

	if (need <= *count)
		return ptr;
	while (n < need) {
		if (n > SIZE_MAX / 2)
			abort();
		n *= 2;
	}
	if (n > SIZE_MAX / size)
		abort();
	*count = n;
	return xrealloc(ptr, n * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

void
secret_free(char *secret)
{
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
	free(secret);
}
