/*
 * mime_text.c - header and body text decoding (see mime_text.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_text.h"
#include "xalloc.h"

/* Longest encoded text looked for; RFC 2047 allows 75 for the whole word. */
#define ENCODED_WORD_MAX 1024
/* Longest charset name we look at in an encoded-word (RFC 2047 allows 75). */
#define CHARSET_NAME_MAX 75

/* windows-1252 code points for bytes 0x80-0x9F (0 = undefined). */
static const unsigned short cp1252_high[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static int
hexval(int c)
{
	/* no tolower(): c may be a negative char, which tolower() must not get */
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Length of the valid UTF-8 sequence at s, or 0 if it is not one. */
static size_t
utf8_sequence(const unsigned char *s, size_t len)
{
	unsigned long cp;
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
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
	return n;
}

static void
latin1_to_utf8(struct strbuf *out, const unsigned char *in, size_t len,
    bool cp1252)
{
	for (size_t i = 0; i < len; i++) {
		unsigned long cp = in[i];

		if (cp1252 && cp >= 0x80 && cp <= 0x9F)
			cp = cp1252_high[cp - 0x80] ? cp1252_high[cp - 0x80] : 0xFFFD;
		strbuf_add_utf8(out, cp);
	}
}

/* UTF-8 as it is, with each invalid byte read as ISO-8859-1. */
static void
utf8_repair(struct strbuf *out, const unsigned char *in, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_sequence(in + i, len - i);

		if (n == 0) {
			strbuf_add_utf8(out, in[i]);
			i++;
		} else {
			strbuf_add(out, (const char *)in + i, n);
			i += n;
		}
	}
}

void
charset_to_utf8(struct strbuf *out, const char *charset, const char *bytes,
    size_t len)
{
	const unsigned char *in = (const unsigned char *)bytes;

	if (strcasecmp(charset, "iso-8859-1") == 0 ||
	    strcasecmp(charset, "latin1") == 0 ||
	    strcasecmp(charset, "iso-8859-15") == 0)
		latin1_to_utf8(out, in, len, false);
	else if (strcasecmp(charset, "windows-1252") == 0 ||
	    strcasecmp(charset, "cp1252") == 0)
		latin1_to_utf8(out, in, len, true);
	else
		utf8_repair(out, in, len);	/* utf-8, us-ascii, and the rest */
}

void
qp_decode(struct strbuf *out, const char *in, size_t len, bool in_header)
{
	size_t i = 0;

	while (i < len) {
		char c = in[i];

		if (c == '_' && in_header) {
			strbuf_addc(out, ' ');
			i++;
		} else if (c == '=' && i + 2 < len && hexval(in[i + 1]) >= 0 &&
		    hexval(in[i + 2]) >= 0) {
			strbuf_addc(out, (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2])));
			i += 3;
		} else if (c == '=' && !in_header && i + 1 < len &&
		    (in[i + 1] == '\n' || in[i + 1] == '\r')) {
			/* soft line break */
			i += 2;
			if (in[i - 1] == '\r' && i < len && in[i] == '\n')
				i++;
		} else if (c == '=' && !in_header && i + 1 == len) {
			i++;
		} else {
			strbuf_addc(out, c);
			i++;
		}
	}
}

static int
base64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

void
base64_decode(struct strbuf *out, const char *in, size_t len)
{
	unsigned long bits = 0;
	int nbits = 0;

	for (size_t i = 0; i < len && in[i] != '='; i++) {
		int v = base64_value((unsigned char)in[i]);

		if (v < 0)
			continue;
		bits = (bits << 6) | (unsigned long)v;
		nbits += 6;
		if (nbits >= 8) {
			nbits -= 8;
			strbuf_addc(out, (char)((bits >> nbits) & 0xFF));
		}
	}
}

/*
 * Try to decode one encoded-word "=?charset?Q?text?=" at s.  On success
 * append its UTF-8 text to out (unless out is NULL: only checking) and
 * return its length; else return 0.
 */
static size_t
decode_encoded_word(struct strbuf *out, const char *s, size_t len)
{
	char charset[CHARSET_NAME_MAX + 1];
	const char *cs, *enc, *text, *end;
	struct strbuf raw = STRBUF_INIT;
	size_t cslen;

	if (len < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	cs = s + 2;
	enc = memchr(cs, '?', len - 2);
	if (enc == NULL || enc + 3 > s + len || enc[2] != '?')
		return 0;
	text = enc + 3;
	/* RFC 2047 caps a word at 75 characters; looking further makes long
	 * subjects quadratic, so give up well past that */
	for (end = text; end + 1 < s + len && end < text + ENCODED_WORD_MAX; end++) {
		if (end[0] == '?' && end[1] == '=')
			break;
		if (end[0] == ' ' || end[0] == '\t')
			return 0;
	}
	if (end + 1 >= s + len)
		return 0;
	cslen = (size_t)(enc - cs);
	if (cslen == 0 || cslen > CHARSET_NAME_MAX)
		return 0;
	memcpy(charset, cs, cslen);
	charset[cslen] = '\0';
	charset[strcspn(charset, "*")] = '\0';	/* RFC 2231 language suffix */
	if (enc[1] != 'Q' && enc[1] != 'q' && enc[1] != 'B' && enc[1] != 'b')
		return 0;
	if (out == NULL)
		return (size_t)(end + 2 - s);
	if (enc[1] == 'Q' || enc[1] == 'q')
		qp_decode(&raw, text, (size_t)(end - text), true);
	else
		base64_decode(&raw, text, (size_t)(end - text));
	charset_to_utf8(out, charset, strbuf_str(&raw), raw.len);
	strbuf_free(&raw);
	return (size_t)(end + 2 - s);
}

/* Collapse control characters to spaces and trim both ends. */
static char *
tidy(struct strbuf *sb)
{
	size_t start = 0, end = sb->len;
	char *s = sb->data ? sb->data : "";

	for (size_t i = 0; i < sb->len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
			s[i] = ' ';
	}
	while (start < end && s[start] == ' ')
		start++;
	while (end > start && s[end - 1] == ' ')
		end--;
	char *result = xstrndup(s + start, end - start);
	strbuf_free(sb);
	return result;
}

char *
header_decode(const char *raw, size_t len)
{
	struct strbuf unfolded = STRBUF_INIT, out = STRBUF_INIT;
	bool after_word = false;
	const char *s;
	size_t i = 0;

	/* Unfolding (RFC 5322 2.2.3) is removing the line breaks. */
	for (size_t j = 0; j < len; j++) {
		if (raw[j] != '\r' && raw[j] != '\n')
			strbuf_addc(&unfolded, raw[j]);
	}
	s = strbuf_str(&unfolded);
	len = unfolded.len;
	while (i < len) {
		size_t used = decode_encoded_word(&out, s + i, len - i);

		if (used > 0) {
			after_word = true;
			i += used;
		} else if (s[i] == ' ' || s[i] == '\t') {
			size_t start = i;

			while (i < len && (s[i] == ' ' || s[i] == '\t'))
				i++;
			/* whitespace between two encoded-words is dropped */
			if (!after_word || decode_encoded_word(NULL, s + i, len - i) == 0)
				strbuf_add(&out, s + start, i - start);
		} else {
			size_t n = utf8_sequence((const unsigned char *)s + i, len - i);

			if (n == 0) {
				strbuf_add_utf8(&out, (unsigned char)s[i]);
				n = 1;
			} else {
				strbuf_add(&out, s + i, n);
			}
			i += n;
			after_word = false;
		}
	}
	strbuf_free(&unfolded);
	return tidy(&out);
}
