/*
 * test_eml.c - header blocks (mime_header.h) and message files for the
 * dry run (eml.h): where fields and the body start and end, folding,
 * the bounds the daemon keeps, and address lists.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eml.h"
#include "mime_header.h"
#include "mime_text.h"

static void
test_header_fields(void **state)
{
	static const char block[] =
	    "Subject: one\r\n"
	    "X-Folded: a\r\n\tb\r\n  c\r\n"
	    "no colon here\r\n"
	    "Empty:\r\n"
	    "To:   <x@y>  \r\n"
	    "\r\n"
	    "Body: not a header\r\n";
	const char *p = block, *end = block + strlen(block);
	struct mime_header f;
	char *v;

	(void)state;
	assert_true(mime_header_next(&p, end, &f));
	assert_true(mime_header_is(&f, "subject"));
	assert_false(mime_header_is(&f, "Subjec"));
	assert_int_equal(f.value_len, 3);
	assert_memory_equal(f.value, "one", 3);

	assert_true(mime_header_next(&p, end, &f));
	assert_true(mime_header_is(&f, "X-Folded"));
	assert_int_equal(f.value_len, strlen("a\r\n\tb\r\n  c"));
	v = mime_header_value(&f, 100);
	assert_string_equal(v, "a\tb  c");
	free(v);
	v = mime_header_value(&f, 3);		/* cut at 3 raw bytes */
	assert_string_equal(v, "a");
	free(v);

	/* the line without a colon is skipped */
	assert_true(mime_header_next(&p, end, &f));
	assert_true(mime_header_is(&f, "Empty"));
	assert_int_equal(f.value_len, 0);

	assert_true(mime_header_next(&p, end, &f));
	assert_true(mime_header_is(&f, "To"));
	assert_int_equal(f.value_len, strlen("<x@y>  "));

	/* the empty line ends the block; p is at the body */
	assert_false(mime_header_next(&p, end, &f));
	assert_string_equal(p, "Body: not a header\r\n");
	assert_false(mime_header_next(&p, p, &f));	/* nothing left */
}

static void
test_header_find(void **state)
{
	static const char part[] =
	    "Content-Type: multipart/mixed;\n boundary=\"b1\"\n"
	    "content-type: text/html\n"
	    "\n"
	    "Content-Transfer-Encoding: base64\n";
	const char *end = part + strlen(part);
	char *v;

	(void)state;
	v = mime_header_find(part, end, "Content-Type", MIME_HEADER_MAX);
	assert_string_equal(v, "multipart/mixed; boundary=\"b1\"");	/* the first */
	free(v);
	/* a field after the empty line is body */
	assert_null(mime_header_find(part, end, "Content-Transfer-Encoding", 100));
	assert_null(mime_header_find(part, part, "Content-Type", 100));
	/* no empty line and no final line break */
	v = mime_header_find("A: 1\nB: 2", strchr("A: 1\nB: 2", '\0'), "b", 100);
	assert_string_equal(v, "2");
	free(v);
}

static void
test_unfold(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	mime_header_unfold(&sb, "a\r\n b\n\tc\rd", 10);
	assert_string_equal(strbuf_str(&sb), "a b\tcd");
	strbuf_reset(&sb);
	/* len is respected, and a NUL is text */
	mime_header_unfold(&sb, "x\0y\r\nzzz", 5);
	assert_int_equal(sb.len, 3);
	assert_memory_equal(sb.data, "x\0y", 3);
	strbuf_free(&sb);
}

static void
test_eml_parse(void **state)
{
	static const char mail[] =
	    "Return-Path: <gocd@example.com>\r\n"
	    "From: \"GoCD\" <gocd@example.com>\r\n"
	    "To: ops@example.com,\r\n \"Ops, Team\" <team@example.com>\r\n"
	    "SUBJECT: Stage [up42/12/build/1]\r\n is broken\r\n"
	    "Subject: the second is not looked at\r\n"
	    "Cc:\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "\r\n"
	    "line 1\r\n"
	    "Subject: in the body\r\n";
	struct eml e;

	(void)state;
	eml_parse(&e, mail, strlen(mail), 1000);
	assert_string_equal(e.subject.data, "Stage [up42/12/build/1] is broken");
	assert_string_equal(e.from.data, "\"GoCD\" <gocd@example.com>");
	assert_string_equal(e.return_path.data, "<gocd@example.com>");
	assert_string_equal(e.to.data, "ops@example.com, \"Ops, Team\" <team@example.com>");
	assert_non_null(e.cc.data);		/* present, empty */
	assert_string_equal(e.cc.data, "");
	assert_string_equal(e.content_type.data, "text/plain; charset=utf-8");
	assert_null(e.encoding.data);		/* absent */
	assert_int_equal(e.body_len, strlen("line 1\r\nSubject: in the body\r\n"));
	assert_memory_equal(e.body, "line 1\r\n", 8);
	eml_free(&e);

	/* LF line ends, and no body at all */
	eml_parse(&e, "Subject: x\n", 11, 1000);
	assert_string_equal(e.subject.data, "x");
	assert_int_equal(e.body_len, 0);
	eml_free(&e);

	/* empty file */
	eml_parse(&e, "", 0, 1000);
	assert_null(e.subject.data);
	assert_int_equal(e.body_len, 0);
	eml_free(&e);
}

static void
test_eml_bounds(void **state)
{
	size_t len = MIME_HEADER_MAX * 3;
	char *mail = malloc(len + 100);
	struct eml e;

	(void)state;
	/* a huge Subject is kept as the daemon keeps it: MIME_HEADER_MAX bytes */
	memcpy(mail, "Subject: ", 9);
	memset(mail + 9, 'x', len);
	memcpy(mail + 9 + len, "\n\nbody text", 12);
	eml_parse(&e, mail, strlen(mail), 4);
	assert_int_equal(e.subject.len, MIME_HEADER_MAX);
	/* the body is cut at body_max */
	assert_int_equal(e.body_len, 4);
	assert_memory_equal(e.body, "body", 4);
	eml_free(&e);
	free(mail);
}

/* eml_addresses of value, compared with the expected list (NULL-ended). */
static void
expect_addresses(const char *value, ...)
{
	char **list = NULL;
	size_t n = 0, cap = 0, i = 0;
	const char *want;
	va_list ap;

	eml_addresses(value, &list, &n, &cap);
	va_start(ap, value);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < n);
		assert_string_equal(list[i], want);
		i++;
	}
	va_end(ap);
	assert_int_equal(i, n);
	for (i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

static void
test_eml_addresses(void **state)
{
	(void)state;
	expect_addresses("", NULL);
	expect_addresses("a@x", "a@x", NULL);
	expect_addresses(" a@x , <b@x>,c@x ", "a@x", "b@x", "c@x", NULL);
	expect_addresses("\"Ops, Team\" <ops@x>, Bob <bob@x>", "ops@x", "bob@x", NULL);
	expect_addresses("\"a \\\" , b\" <q@x>", "q@x", NULL);
	expect_addresses("<odd,one@x>", "odd,one@x", NULL);
	expect_addresses(",, ,\r\n\t,", NULL);
	expect_addresses("a@x,\r\n b@x", "a@x", "b@x", NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_header_find),
		cmocka_unit_test(test_unfold),
		cmocka_unit_test(test_eml_parse),
		cmocka_unit_test(test_eml_bounds),
		cmocka_unit_test(test_eml_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
