/*
 * mime_body.c - body text extraction (see mime_body.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_body.h"
#include "mime_header.h"
#include "mime_text.h"
#include "strbuf.h"
#include "xalloc.h"

char *
mime_param(const char *value, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = value ? strchr(value, ';') : NULL; p != NULL;
	    p = strchr(p + 1, ';')) {
		const char *v = p + 1;
		size_t len;

		while (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n')
			v++;
		if (strncasecmp(v, name, n) != 0 || v[n] != '=')
			continue;
		v += n + 1;
		if (*v == '"') {
			const char *end = strchr(++v, '"');

			len = end ? (size_t)(end - v) : strlen(v);
		} else {
			len = strcspn(v, "; \t\r\n");
		}
		return xstrndup(v, len);
	}
	return NULL;
}

/* Does the media type of value (before ';') equal type? NULL is text/plain. */
static bool
media_type_is(const char *value, const char *type)
{
	size_t n = strlen(type);

	if (value == NULL)
		return strcmp(type, "text/plain") == 0;
	while (*value == ' ' || *value == '\t')
		value++;
	return strncasecmp(value, type, n) == 0 &&
	    (value[n] == '\0' || value[n] == ';' || isspace((unsigned char)value[n]));
}

static void
decode_transfer(struct strbuf *out, const char *encoding, const char *body,
    size_t len)
{
	if (encoding != NULL && strncasecmp(encoding, "quoted-printable", 16) == 0)
		mime_qp_decode(out, body, len, false);
	else if (encoding != NULL && strncasecmp(encoding, "base64", 6) == 0)
		mime_base64_decode(out, body, len);
	else
		strbuf_add(out, body, len);
}

/* Length of s without a UTF-8 sequence cut short at its very end. */
static size_t
utf8_complete_prefix(const char *s, size_t len)
{
	size_t lead = len, need;

	while (lead > 0 && len - lead < 4 && ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead == 0)
		return len;
	need = ((unsigned char)s[lead - 1] & 0xE0) == 0xC0 ? 2 :
	    ((unsigned char)s[lead - 1] & 0xF0) == 0xE0 ? 3 :
	    ((unsigned char)s[lead - 1] & 0xF8) == 0xF0 ? 4 : 0;
	return need > 0 && len - (lead - 1) < need ? lead - 1 : len;
}

/* Decode one text/plain body into out as UTF-8 with LF line ends. */
static void
plain_text(struct strbuf *out, const char *content_type, const char *encoding,
    const char *body, size_t len)
{
	struct strbuf raw = STRBUF_INIT, utf8 = STRBUF_INIT;
	char *charset = mime_param(content_type, "charset");

	decode_transfer(&raw, encoding, body, len);
	/* the daemon keeps a bounded prefix: do not turn a cut character into junk */
	if (charset == NULL || strcasecmp(charset, "utf-8") == 0)
		raw.len = utf8_complete_prefix(raw.data, raw.len);
	mime_charset_to_utf8(&utf8, charset ? charset : "utf-8", strbuf_str(&raw), raw.len);
	for (size_t i = 0; i < utf8.len; i++) {
		if (utf8.data[i] != '\r')
			strbuf_addc(out, utf8.data[i]);
	}
	free(charset);
	strbuf_free(&raw);
	strbuf_free(&utf8);
}

/* Position just after the line at p (within end). */
static const char *
next_line(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

/* Is the line at p the boundary "--b" (or the closing "--b--")? */
static bool
is_boundary(const char *p, const char *end, const char *boundary, size_t blen)
{
	return (size_t)(end - p) >= blen + 2 && p[0] == '-' && p[1] == '-' &&
	    memcmp(p + 2, boundary, blen) == 0;
}

static bool find_text(struct strbuf *out, const char *content_type,
    const char *encoding, const char *body, size_t len, int depth);

/*
 * Look for text in the part that starts at part (its headers) and ends
 * just before the boundary line at next.
 */
static bool
part_text(struct strbuf *out, const char *part, const char *next, int depth)
{
	const char *text = part, *part_end = next;
	struct mime_header field;
	char *ct = NULL, *te = NULL;
	bool found;

	while (mime_header_next(&text, next, &field)) {
		if (ct == NULL && mime_header_is(&field, "Content-Type"))
			ct = mime_header_value(&field, MIME_HEADER_MAX);
		else if (te == NULL && mime_header_is(&field, "Content-Transfer-Encoding"))
			te = mime_header_value(&field, MIME_HEADER_MAX);
	}
	/* the line break before the boundary belongs to the boundary */
	if (part_end > text && part_end[-1] == '\n')
		part_end--;
	if (part_end > text && part_end[-1] == '\r')
		part_end--;
	found = find_text(out, ct, te, text, (size_t)(part_end - text), depth + 1);
	free(ct);
	free(te);
	return found;
}

/* The first text/plain part of a multipart body; true if found. */
static bool
multipart_text(struct strbuf *out, const char *content_type, const char *body,
    size_t len, int depth)
{
	char *boundary = mime_param(content_type, "boundary");
	const char *end = body + len, *part = NULL;
	bool found = false;
	size_t blen;

	if (boundary == NULL || *boundary == '\0') {
		free(boundary);
		return false;
	}
	blen = strlen(boundary);
	for (const char *p = body; p < end && !found; p = next_line(p, end)) {
		if (!is_boundary(p, end, boundary, blen))
			continue;
		if (part != NULL)
			found = part_text(out, part, p, depth);
		if ((size_t)(end - p) >= blen + 4 && p[blen + 2] == '-' && p[blen + 3] == '-')
			break;		/* the closing boundary */
		part = next_line(p, end);
	}
	free(boundary);
	return found;
}

static bool
find_text(struct strbuf *out, const char *content_type, const char *encoding,
    const char *body, size_t len, int depth)
{
	if (depth > MIME_MAX_DEPTH)
		return false;
	if (media_type_is(content_type, "text/plain")) {
		plain_text(out, content_type, encoding, body, len);
		return true;
	}
	if (content_type != NULL && strncasecmp(content_type, "multipart/", 10) == 0)
		return multipart_text(out, content_type, body, len, depth);
	return false;
}

/* Cut s to at most limit bytes without splitting a UTF-8 sequence. */
static void
cut_utf8(struct strbuf *s, size_t limit)
{
	size_t n = limit;

	if (s->len <= limit)
		return;
	while (n > 0 && ((unsigned char)s->data[n] & 0xC0) == 0x80)
		n--;
	s->len = n;
	s->data[n] = '\0';
}

char *
mime_body_text(const char *content_type, const char *transfer_encoding,
    const char *body, size_t len, size_t limit)
{
	struct strbuf out = STRBUF_INIT;

	find_text(&out, content_type, transfer_encoding, body, len, 0);
	cut_utf8(&out, limit);
	return strbuf_detach(&out);
}

char *
mime_first_line(const char *text)
{
	while (*text == '\n' || *text == ' ' || *text == '\t')
		text++;
	return xstrndup(text, strcspn(text, "\n"));
}
