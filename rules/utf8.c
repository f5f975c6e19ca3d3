/*
 * utf8.c - UTF-8 reading and escaping (see utf8.h).
 */
#include <stdbool.h>
#include <string.h>

#include "utf8.h"

size_t
utf8_sequence(const char *str, size_t len, unsigned long *cp_out)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned long cp;
	size_t n;

	if (len == 0)
		return 0;
	if (s[0] < 0x80)
		n = 1, cp = s[0];
	else if (s[0] >= 0xC2 && s[0] <= 0xDF)
		n = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		n = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	if (cp_out != NULL)
		*cp_out = cp;
	return n;
}

/* Code points that steer a terminal or a reader of a log line. */
static bool
is_hidden_control(unsigned long cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || cp == 0x061C || cp == 0x200E ||
	    cp == 0x200F || cp == 0x2028 || cp == 0x2029 ||
	    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

void
utf8_add_escaped(struct strbuf *out, const char *s, size_t len)
{
	size_t i = 0, run = 0;	/* s[run..i) is kept as it is, not added yet */

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		unsigned long cp = 0;
		size_t n = utf8_sequence(s + i, len - i, &cp);

		if (n > 0 && c >= 0x20 && c != 0x7F && c != '"' && c != '\\' &&
		    !is_hidden_control(cp)) {
			i += n;
			continue;
		}
		if (i > run)
			strbuf_add(out, s + run, i - run);
		if (c == '"' || c == '\\')
			strbuf_addf(out, "\\%c", c);
		else if (c == '\t')
			strbuf_adds(out, "\\t");
		else if (c == '\n')
			strbuf_adds(out, "\\n");
		else if (c == '\r')
			strbuf_adds(out, "\\r");
		else if (n == 0 || n == 1)
			strbuf_addf(out, "\\x%02X", c);
		else
			strbuf_addf(out, "\\u%04lX", cp);
		i += n > 0 ? n : 1;
		run = i;
	}
	if (i > run)
		strbuf_add(out, s + run, i - run);
}

char *
utf8_escaped(const char *s)
{
	struct strbuf out = STRBUF_INIT;

	utf8_add_escaped(&out, s, strlen(s));
	return strbuf_detach(&out);
}
