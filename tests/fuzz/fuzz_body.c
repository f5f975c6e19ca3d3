/*
 * fuzz_body.c - message bodies through mime_body_text, and the decoders
 * underneath it.
 *
 * Input: byte 0 picks the Content-Type, byte 1 the
 * Content-Transfer-Encoding, bytes 2-3 the size limit; the rest is the
 * body.  Content-Type variant "from body" takes the body's first line as
 * the header value, so the fuzzer can invent boundaries and charsets.
 *
 * Invariants:
 *   - mime_body_text: valid UTF-8, no CR, at most limit bytes;
 *   - mime_qp_decode and mime_base64_decode never produce more than they read,
 *     and keep the buffer NUL-terminated;
 *   - mime_charset_to_utf8 always gives valid UTF-8, at most 3 bytes a byte;
 *   - mime_first_line: no LF, no leading blank, a prefix-sized result;
 *   - mime_param: a value no longer than the header it came from.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "mime_body.h"
#include "mime_text.h"
#include "strbuf.h"

static const char *const content_types[] = {
	NULL,
	"text/plain; charset=UTF-8",
	"text/plain; charset=\"utf-8\"",
	"text/plain; charset=ISO-8859-1",
	"text/plain; charset=latin1",
	"text/plain; charset=windows-1252",
	"TEXT/PLAIN;charset=cp1252",
	"text/plain",
	"text/plain; charset=koi8-r",
	"text/plain; charset=iso-2022-jp",
	"multipart/mixed; boundary=\"b1\"",
	"multipart/alternative; boundary=b1",
	"multipart/mixed;\r\n boundary=\"=_b1\"; charset=utf-8",
	"multipart/related; boundary=\"\"",
	"multipart/mixed",
	"text/html; charset=utf-8",
	"from body",
};
#define N_CONTENT_TYPES (sizeof(content_types) / sizeof(content_types[0]))

static const char *const encodings[] = {
	NULL, "quoted-printable", "base64", "8bit", "7bit", "Quoted-Printable",
	"BASE64", "binary",
};
#define N_ENCODINGS (sizeof(encodings) / sizeof(encodings[0]))

static const char *const charsets[] = {
	"utf-8", "iso-8859-1", "windows-1252", "us-ascii", "iso-8859-15",
	"koi8-r", "iso-2022-jp", "shift_jis", "utf-16", "x-unknown",
};

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_hold_charsets(charsets, sizeof(charsets) / sizeof(charsets[0]));
	return 0;
}

static void
check_text(const char *what, const char *s, size_t len, size_t limit)
{
	FUZZ_CHECK(fuzz_utf8_valid(s, len), "%s: not UTF-8 at byte %zu", what,
	    fuzz_utf8_invalid_at((const unsigned char *)s, len));
	FUZZ_CHECK(len <= limit, "%s: %zu bytes, limit %zu", what, len, limit);
	FUZZ_CHECK(memchr(s, '\r', len) == NULL, "%s: CR left in the text", what);
}

static void
check_decoders(const char *body, size_t len)
{
	struct strbuf out = STRBUF_INIT;

	for (int in_header = 0; in_header <= 1; in_header++) {
		mime_qp_decode(&out, body, len, in_header);
		FUZZ_CHECK(out.len <= len, "mime_qp_decode: %zu bytes from %zu", out.len, len);
		FUZZ_CHECK(out.len == 0 || out.data[out.len] == '\0', "mime_qp_decode: no NUL");
		strbuf_reset(&out);
	}
	mime_base64_decode(&out, body, len);
	FUZZ_CHECK(out.len <= len / 4 * 3 + 2, "mime_base64_decode: %zu bytes from %zu",
	    out.len, len);
	FUZZ_CHECK(out.len == 0 || out.data[out.len] == '\0', "mime_base64_decode: no NUL");
	strbuf_reset(&out);
	for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++) {
		mime_charset_to_utf8(&out, charsets[i], body, len);
		FUZZ_CHECK(fuzz_utf8_valid(out.data ? out.data : "", out.len),
		    "mime_charset_to_utf8(%s): not UTF-8", charsets[i]);
		FUZZ_CHECK(out.len <= 3 * len, "mime_charset_to_utf8(%s): %zu bytes from %zu",
		    charsets[i], out.len, len);
		strbuf_reset(&out);
	}
	strbuf_free(&out);
}

static void
check_first_line(const char *text)
{
	char *line = mime_first_line(text);
	size_t n = strlen(line);

	FUZZ_CHECK(strchr(line, '\n') == NULL, "mime_first_line: LF in the line");
	FUZZ_CHECK(n == 0 || (line[0] != ' ' && line[0] != '\t'),
	    "mime_first_line: leading blank");
	FUZZ_CHECK(n <= strlen(text), "mime_first_line: longer than the text");
	FUZZ_CHECK(n == 0 || strstr(text, line) != NULL, "mime_first_line: not from text");
	free(line);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t ct_pick = fuzz_take_byte(&data, &size);
	uint8_t te_pick = fuzz_take_byte(&data, &size);
	size_t limit = fuzz_take_byte(&data, &size);
	const char *content_type = content_types[ct_pick % N_CONTENT_TYPES];
	const char *encoding = encodings[te_pick % N_ENCODINGS];
	char *body, *ct_owned = NULL, *text, *param;
	const char *rest;
	size_t rest_len;

	limit |= (size_t)fuzz_take_byte(&data, &size) << 8;
	/* ct_pick's top bit: limit 0..255, so cutting is exercised often */
	if (ct_pick & 0x80)
		limit &= 0xFF;
	body = fuzz_cstring(data, size);
	rest = body;
	rest_len = size;
	if (content_type != NULL && strcmp(content_type, "from body") == 0) {
		const char *nl = memchr(rest, '\n', rest_len);
		size_t n = nl ? (size_t)(nl - rest) + 1 : rest_len;

		ct_owned = fuzz_cstring((const uint8_t *)rest, nl ? n - 1 : n);
		content_type = ct_owned;
		rest += n;
		rest_len -= n;
	}

	text = mime_body_text(content_type, encoding, rest, rest_len, limit);
	check_text("mime_body_text", text, strlen(text), limit);
	check_first_line(text);
	free(text);

	if (content_type != NULL) {
		static const char *const names[] = { "boundary", "charset" };

		for (size_t i = 0; i < 2; i++) {
			param = mime_param(content_type, names[i]);
			FUZZ_CHECK(param == NULL || strlen(param) <= strlen(content_type),
			    "mime_param(%s): longer than the header", names[i]);
			free(param);
		}
	}

	check_decoders(rest, rest_len);
	check_first_line(body);

	free(ct_owned);
	free(body);
	return 0;
}
