/*
 * address.c - mail address comparison (see address.h).
 */
#include <ctype.h>
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

/* RFC 5321 atext: the characters of a dot-string's atoms. */
static bool
is_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static bool
is_let_dig(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Length of the local part at s (Dot-string or Quoted-string), or 0. */
static size_t
local_part_len(const char *s)
{
	size_t i = 0;

	if (s[0] == '"') {
		for (i = 1; s[i] != '"'; i++) {
			unsigned char c = (unsigned char)s[i];

			if (c == '\\') {
				/* quoted-pairSMTP: backslash and one printable */
				c = (unsigned char)s[++i];
				if (c < 32 || c > 126)
					return 0;
			} else if (c < 32 || c > 126) {
				return 0;	/* also the end of the string */
			}
		}
		return i + 1;
	}
	for (;;) {
		size_t atom = i;

		while (is_atext((unsigned char)s[i]))
			i++;
		if (i == atom)
			return 0;	/* empty atom: leading, trailing or double dot */
		if (s[i] != '.')
			return i;
		i++;
	}
}

/* Is s exactly a dotted-quad IPv4 address? */
static bool
is_ipv4(const char *s, size_t len)
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned value = 0;
		size_t digits = 0;

		if (part > 0 && (i >= len || s[i++] != '.'))
			return false;
		while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 3) {
			value = value * 10 + (unsigned)(s[i++] - '0');
			digits++;
		}
		if (digits == 0 || value > 255)
			return false;
	}
	return i == len;
}

/* Is s (len bytes) a Domain or an address-literal? */
static bool
is_domain(const char *s, size_t len)
{
	size_t label = 0;

	if (len > 0 && s[0] == '[') {
		if (len < 3 || s[len - 1] != ']')
			return false;
		if (len > 6 && strncasecmp(s + 1, "IPv6:", 5) == 0) {
			for (size_t i = 6; i < len - 1; i++) {
				if (!isxdigit((unsigned char)s[i]) && s[i] != ':' && s[i] != '.')
					return false;
			}
			return len > 7 && memchr(s + 6, ':', len - 7) != NULL;
		}
		return is_ipv4(s + 1, len - 2);
	}
	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			/* Let-dig [Ldh-str]: no empty label, no hyphen at either end */
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
		} else if (is_let_dig((unsigned char)s[i]) || (s[i] == '-' && label > 0)) {
			label++;
		} else {
			return false;
		}
	}
	return true;
}

bool
address_is_mailbox(const char *s)
{
	size_t local = local_part_len(s);

	if (local == 0 || local > 64 || s[local] != '@')
		return false;
	return is_domain(s + local + 1, strlen(s + local + 1));
}
