/*
 * mime_text.c - header and body text decoding (see mime_text.h).
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_header.h"
#include "mime_text.h"
#include "utf8.h"
#include "xalloc.h"

/* Longest encoded text looked for; RFC 2047 allows 75 for the whole word. */
#define ENCODED_WORD_MAX 1024
/* Longest charset name we look at in an encoded-word (RFC 2047 allows 75). */
#define CHARSET_NAME_MAX 75

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

/* UTF-8 as it is, with each invalid byte read as ISO-8859-1. */
static void
utf8_repair(struct strbuf *out, const unsigned char *in, size_t len)
{
	size_t i = 0, run = 0;	/* in[run..i) is valid, not added yet */

	while (i < len) {
		size_t n = utf8_sequence((const char *)in + i, len - i, NULL);

		if (n > 0) {
			i += n;
			continue;
		}
		if (i > run)
			strbuf_add(out, (const char *)in + run, i - run);
		strbuf_add_utf8(out, in[i]);
		run = ++i;
	}
	if (i > run)
		strbuf_add(out, (const char *)in + run, i - run);
}

/*
 * Is charset a name worth handing to iconv_open()?  Only the characters
 * of IANA charset names: no "//" suffixes, no paths.
 */
static bool
iconv_name_ok(const char *charset)
{
	size_t n = strspn(charset, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_.:+()");

	return n > 0 && n <= CHARSET_NAME_MAX && charset[n] == '\0';
}

/* Labels read as UTF-8 (repaired) without asking iconv; see mime_text.h. */
static bool
is_utf8_label(const char *charset)
{
	return strcasecmp(charset, "utf-8") == 0 || strcasecmp(charset, "utf8") == 0 ||
	    strcasecmp(charset, "us-ascii") == 0 || strcasecmp(charset, "ascii") == 0;
}

/*
 * Append what iconv made of one chunk, but no more than *room bytes, cut
 * on a character boundary.  Returns false once the room is used up.
 */
static bool
add_bounded(struct strbuf *out, const char *s, size_t len, size_t *room)
{
	bool fits = len <= *room;

	if (!fits) {
		len = *room;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
	}
	/* iconv's UTF-8 is valid; repairing it anyway costs little and
	 * keeps the promise of mime_text.h whatever a gconv module does */
	utf8_repair(out, (const unsigned char *)s, len);
	*room -= len;
	return fits;
}

/*
 * Convert with iconv cd, appending to out.  A byte sequence that is not
 * valid in the charset is taken as UTF-8 if it is that (mislabelled
 * mail), else it becomes U+FFFD.
 */
static void
iconv_convert(struct strbuf *out, iconv_t cd, const unsigned char *in, size_t len)
{
	char chunk[1024];
	char *src = (char *)in;
	size_t left = len, room = 3 * len;

	/* UTF-8 has no shift state, so there is nothing to flush at the end */
	while (left > 0) {
		char *dst = chunk;
		size_t dst_left = sizeof(chunk);
		int err = iconv(cd, &src, &left, &dst, &dst_left) == (size_t)-1 ? errno : 0;

		if (!add_bounded(out, chunk, (size_t)(dst - chunk), &room))
			return;
		if (err == EILSEQ || err == EINVAL) {
			/* EINVAL: a sequence cut short by the end of the input */
			size_t n = utf8_sequence(src, left, NULL);

			if (n > 0 && n <= room) {
				strbuf_add(out, src, n);
				room -= n;
			} else if (room >= 3) {
				strbuf_add_utf8(out, 0xFFFD);
				room -= 3;
				n = err == EINVAL ? left : 1;
			} else {
				return;
			}
			src += n;
			left -= n;
		} else if (err != 0 && err != E2BIG) {
			return;
		}
	}
}

void
mime_charset_to_utf8(struct strbuf *out, const char *charset, const char *bytes,
    size_t len)
{
	const unsigned char *in = (const unsigned char *)bytes;
	iconv_t cd;

	if (is_utf8_label(charset) || !iconv_name_ok(charset) ||
	    (cd = iconv_open("UTF-8", charset)) == (iconv_t)-1) {
		utf8_repair(out, in, len);	/* utf-8, us-ascii, and unknown ones */
		return;
	}
	iconv_convert(out, cd, in, len);
	iconv_close(cd);
}

void
mime_qp_decode(struct strbuf *out, const char *in, size_t len, bool in_header)
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
mime_base64_decode(struct strbuf *out, const char *in, size_t len)
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
		mime_qp_decode(&raw, text, (size_t)(end - text), true);
	else
		mime_base64_decode(&raw, text, (size_t)(end - text));
	mime_charset_to_utf8(out, charset, strbuf_str(&raw), raw.len);
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
mime_decode_header(const char *raw, size_t len)
{
	struct strbuf unfolded = STRBUF_INIT, out = STRBUF_INIT;
	bool after_word = false;
	const char *s;
	size_t i = 0;

	mime_header_unfold(&unfolded, raw, len);
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
			size_t n = utf8_sequence(s + i, len - i, NULL);

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
