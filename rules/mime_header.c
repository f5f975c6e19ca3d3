/*
 * mime_header.c - header block fields (see mime_header.h).
 */
#include <string.h>
#include <strings.h>

#include "mime_header.h"

/* Position just after the line at p (within end). */
static const char *
line_after(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

/* Is the line at p empty (LF, CRLF, or a CR at the very end)? */
static bool
line_is_empty(const char *p, const char *end)
{
	return *p == '\n' || (*p == '\r' && (p + 1 == end || p[1] == '\n'));
}

bool
mime_header_next(const char **pos, const char *end, struct mime_header *field)
{
	const char *p = *pos;

	while (p < end && !line_is_empty(p, end)) {
		const char *next = line_after(p, end), *colon, *v, *stop;

		/* continuation lines start with a blank */
		while (next < end && (*next == ' ' || *next == '\t'))
			next = line_after(next, end);
		colon = memchr(p, ':', (size_t)(next - p));
		if (colon == NULL) {
			p = next;
			continue;
		}
		v = colon + 1;
		stop = next;
		while (v < stop && (*v == ' ' || *v == '\t'))
			v++;
		if (stop > v && stop[-1] == '\n')
			stop--;
		if (stop > v && stop[-1] == '\r')
			stop--;
		field->name = p;
		field->name_len = (size_t)(colon - p);
		field->value = v;
		field->value_len = (size_t)(stop - v);
		*pos = next;
		return true;
	}
	*pos = p < end ? line_after(p, end) : end;	/* past the empty line */
	return false;
}

bool
mime_header_is(const struct mime_header *field, const char *name)
{
	return strlen(name) == field->name_len &&
	    strncasecmp(field->name, name, field->name_len) == 0;
}

void
mime_header_unfold(struct strbuf *out, const char *value, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || value[i] == '\r' || value[i] == '\n') {
			if (i > start)
				strbuf_add(out, value + start, i - start);
			start = i + 1;
		}
	}
}

char *
mime_header_value(const struct mime_header *field, size_t max)
{
	struct strbuf v = STRBUF_INIT;

	mime_header_unfold(&v, field->value, field->value_len < max ? field->value_len : max);
	return strbuf_detach(&v);
}

char *
mime_header_find(const char *start, const char *end, const char *name, size_t max)
{
	struct mime_header field;
	const char *p = start;

	while (mime_header_next(&p, end, &field)) {
		if (mime_header_is(&field, name))
			return mime_header_value(&field, max);
	}
	return NULL;
}
