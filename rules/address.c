/*
 * address.c - mail address comparison (see address.h).
 */
#include <string.h>
#include <strings.h>

#include "address.h"

/* The address inside optional angle brackets: start and length. */
static const char *
address_bare(const char *address, size_t *len)
{
	size_t n = strlen(address);

	if (n >= 2 && address[0] == '<' && address[n - 1] == '>') {
		*len = n - 2;
		return address + 1;
	}
	*len = n;
	return address;
}

/* Position of the '@' that separates local part and domain, or len. */
static size_t
domain_at(const char *s, size_t len)
{
	for (size_t i = len; i > 0; i--) {
		if (s[i - 1] == '@')
			return i - 1;
	}
	return len;
}

bool
address_equal(const char *a, const char *b)
{
	size_t alen, blen, aat, bat;
	const char *as = address_bare(a, &alen), *bs = address_bare(b, &blen);

	aat = domain_at(as, alen);
	bat = domain_at(bs, blen);
	return aat == bat && alen == blen && memcmp(as, bs, aat) == 0 &&
	    strncasecmp(as + aat, bs + bat, alen - aat) == 0;
}
