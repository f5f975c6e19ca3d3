/*
 * fuzz_eml.c - message files through eml_parse, the header block reader
 * under it (mime_header_next), and what -n does next with the result.
 *
 * Input: bytes 0-1 are body_max (0..65535); the rest is the message file,
 * passed without a copy so that reading past its end is caught.
 *
 * Invariants:
 *   - mime_header_next: every field lies inside the block, its name holds
 *     no colon, its value no line break at either end; the walk ends and
 *     the body starts inside the input;
 *   - eml_parse: each header kept is at most MIME_HEADER_MAX bytes with no
 *     CR or LF, the body lies inside the input and is at most body_max
 *     bytes, and starts where mime_header_next says;
 *   - eml_addresses: entries non-empty, without blanks at either end;
 *   - mime_decode_header of the Subject and mime_body_text of the body: valid
 *     UTF-8;
 *   - utf8_add_escaped of the raw Subject and of the body as -n shows them:
 *     valid UTF-8 with no control byte, no C1, bidirectional or line
 *     separator code point, and no '"' without its backslash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eml.h"
#include "fuzz_common.h"
#include "mime_body.h"
#include "mime_header.h"
#include "mime_text.h"
#include "strbuf.h"
#include "utf8.h"

/* What utf8_add_escaped makes of s is safe to show (see above). */
static void
check_escaped(const char *s, size_t len)
{
	struct strbuf out = STRBUF_INIT;
	const char *p;
	size_t left;

	utf8_add_escaped(&out, s, len);
	p = strbuf_str(&out);
	left = out.len;
	FUZZ_CHECK(fuzz_utf8_valid(p, left), "utf8_add_escaped: not UTF-8");
	while (left > 0) {
		unsigned long cp = 0;
		size_t n = utf8_sequence(p, left, &cp);

		FUZZ_CHECK(n > 0, "utf8_add_escaped: not UTF-8");
		FUZZ_CHECK(cp >= 0x20 && cp != 0x7F && !(cp >= 0x80 && cp <= 0x9F) &&
		    cp != 0x061C && cp != 0x200E && cp != 0x200F && cp != 0x2028 &&
		    cp != 0x2029 && !(cp >= 0x202A && cp <= 0x202E) &&
		    !(cp >= 0x2066 && cp <= 0x2069), "utf8_add_escaped: U+%04lX kept", cp);
		FUZZ_CHECK(cp != '"', "utf8_add_escaped: bare quote");
		if (cp == '\\') {
			FUZZ_CHECK(left > 1, "utf8_add_escaped: backslash at the end");
			n = 2;		/* the escaped character */
		}
		p += n;
		left -= n;
	}
	strbuf_free(&out);
}

/* Walk the header block; returns where mime_header_next says the body is. */
static const char *
check_fields(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *prev = text;
	struct mime_header f;
	size_t n = 0;

	while (mime_header_next(&p, end, &f)) {
		FUZZ_CHECK(p > prev && p <= end, "mime_header_next: no progress");
		FUZZ_CHECK(f.name >= prev && f.value + f.value_len <= p,
		    "mime_header_next: field outside the input");
		FUZZ_CHECK(memchr(f.name, ':', f.name_len) == NULL, "colon in a name");
		FUZZ_CHECK(f.value_len == 0 || (f.value[f.value_len - 1] != '\n' &&
		    f.value[0] != ' ' && f.value[0] != '\t'), "value not trimmed");
		prev = p;
		n++;
	}
	FUZZ_CHECK(p >= prev && p <= end, "mime_header_next: body outside the input");
	FUZZ_CHECK(n <= len, "more fields than bytes");
	return p;
}

static void
check_addresses(const struct strbuf *header)
{
	char **list = NULL;
	size_t n = 0, cap = 0;

	eml_addresses(strbuf_str(header), &list, &n, &cap);
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(list[i]);

		FUZZ_CHECK(len > 0, "eml_addresses: empty entry");
		FUZZ_CHECK(strchr(" \t\r\n", list[i][0]) == NULL &&
		    strchr(" \t\r\n", list[i][len - 1]) == NULL, "eml_addresses: blank kept");
		free(list[i]);
	}
	free(list);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_hold_charsets(NULL, 0);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t body_max = fuzz_take_byte(&data, &size);
	const char *text = (const char *)data, *body_at;
	struct eml e;
	char *s;

	body_max |= (size_t)fuzz_take_byte(&data, &size) << 8;
	body_at = check_fields(text, size);
	eml_parse(&e, text, size, body_max);
	{
		const struct strbuf *all[] = { &e.subject, &e.from, &e.to, &e.cc,
		    &e.return_path, &e.content_type, &e.encoding };

		for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
			FUZZ_CHECK(all[i]->len <= MIME_HEADER_MAX, "header %zu: %zu bytes", i,
			    all[i]->len);
			FUZZ_CHECK(all[i]->data == NULL || (memchr(all[i]->data, '\r', all[i]->len) ==
			    NULL && memchr(all[i]->data, '\n', all[i]->len) == NULL),
			    "header %zu: line break kept", i);
		}
	}
	FUZZ_CHECK(e.body == body_at, "eml_parse: body at %td, mime_header_next: %td",
	    e.body - text, body_at - text);
	FUZZ_CHECK(e.body_len <= body_max && e.body + e.body_len <= text + size,
	    "eml_parse: body of %zu bytes", e.body_len);
	check_addresses(&e.to);
	check_addresses(&e.cc);
	check_addresses(&e.from);

	check_escaped(strbuf_str(&e.subject), e.subject.len);
	check_escaped(e.body, e.body_len);
	s = mime_decode_header(strbuf_str(&e.subject), e.subject.len);
	FUZZ_CHECK(fuzz_utf8_valid(s, strlen(s)), "mime_decode_header: not UTF-8");
	free(s);
	s = mime_body_text(e.content_type.data, e.encoding.data, e.body, e.body_len, body_max);
	FUZZ_CHECK(fuzz_utf8_valid(s, strlen(s)) && strlen(s) <= body_max,
	    "mime_body_text: not UTF-8 or too long");
	free(s);
	eml_free(&e);
	return 0;
}
