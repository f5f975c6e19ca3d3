/*
 * test_utf8.c - UTF-8 sequences, and escaping text from outside for a
 * terminal or a log line (issue 14 point 8): the attacks are escape
 * sequences, forged quotes, NEL and bidirectional controls.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static void
expect_escaped(const char *in, size_t len, const char *expect)
{
	struct strbuf sb = STRBUF_INIT;

	utf8_add_escaped(&sb, in, len);
	assert_string_equal(strbuf_str(&sb), expect);
	assert_int_equal(sb.len, strlen(expect));
	strbuf_free(&sb);
}

#define ESC(s, expect) expect_escaped(s, sizeof(s) - 1, expect)

static void
test_sequence(void **state)
{
	unsigned long cp = 0;

	(void)state;
	assert_int_equal(utf8_sequence("a", 1, &cp), 1);
	assert_int_equal(cp, 'a');
	assert_int_equal(utf8_sequence("\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xE9);
	assert_int_equal(utf8_sequence("\xe2\x82\xac", 3, &cp), 3);
	assert_int_equal(cp, 0x20AC);
	assert_int_equal(utf8_sequence("\xf0\x9f\x98\x80", 4, &cp), 4);
	assert_int_equal(cp, 0x1F600);
	assert_int_equal(utf8_sequence("\xe2\x82\xac", 2, &cp), 0);	/* cut */
	assert_int_equal(utf8_sequence("\xc0\xaf", 2, NULL), 0);	/* overlong */
	assert_int_equal(utf8_sequence("\xed\xa0\x80", 3, NULL), 0);	/* surrogate */
	assert_int_equal(utf8_sequence("\xf4\x90\x80\x80", 4, NULL), 0);
	assert_int_equal(utf8_sequence("\x80", 1, NULL), 0);
	assert_int_equal(utf8_sequence("", 0, NULL), 0);
}

static void
test_plain_text_kept(void **state)
{
	(void)state;
	ESC("", "");
	ESC("Stage [up42/12/build/1] is broken", "Stage [up42/12/build/1] is broken");
	ESC("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xd0\xa1", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xd0\xa1");
	/* U+00A0 (after the C1 range) and U+202F (after the bidi controls) stay */
	ESC("\xc2\xa0\xe2\x80\xaf", "\xc2\xa0\xe2\x80\xaf");
}

static void
test_terminal_escapes(void **state)
{
	(void)state;
	/* ANSI colour and a window title, as raw bytes in a subject */
	ESC("\x1b[31mred\x1b[0m", "\\x1B[31mred\\x1B[0m");
	ESC("\x1b]0;pwned\x07", "\\x1B]0;pwned\\x07");
	ESC("a\tb\nc\rd\x7f", "a\\tb\\nc\\rd\\x7F");
	/* the 8-bit CSI, as a C1 control in UTF-8 and as a raw byte */
	ESC("\xc2\x9b" "31m", "\\u009B31m");
	ESC("\x9b" "31m", "\\x9B31m");
	/* a NUL inside the length is shown, not a terminator */
	expect_escaped("a\0b", 3, "a\\x00b");
}

static void
test_log_field_spoofing(void **state)
{
	(void)state;
	/* a subject that tries to close its field and forge another */
	ESC("x\" status=routed to=\"<evil@x>", "x\\\" status=routed to=\\\"<evil@x>");
	ESC("back\\slash", "back\\\\slash");
	/* NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR: line breaks to some readers */
	ESC("a\xc2\x85" "b\xe2\x80\xa8" "c\xe2\x80\xa9", "a\\u0085b\\u2028c\\u2029");
	/* bidirectional controls: RLO makes "txt.exe" read as "exe.txt" */
	ESC("\xe2\x80\xae" "exe.txt", "\\u202Eexe.txt");
	ESC("\xe2\x80\xaa\xe2\x80\xab\xe2\x80\xac\xe2\x80\xad",
	    "\\u202A\\u202B\\u202C\\u202D");
	ESC("\xe2\x81\xa6\xe2\x81\xa7\xe2\x81\xa8\xe2\x81\xa9",
	    "\\u2066\\u2067\\u2068\\u2069");
	ESC("\xe2\x80\x8e\xe2\x80\x8f\xd8\x9c", "\\u200E\\u200F\\u061C");
}

static void
test_invalid_utf8(void **state)
{
	char *s;

	(void)state;
	ESC("caf\xe9", "caf\\xE9");
	ESC("\xe2\x82", "\\xE2\\x82");			/* cut short */
	ESC("\xc0\xaf", "\\xC0\\xAF");			/* overlong '/' */
	ESC("\xed\xa0\x80", "\\xED\\xA0\\x80");		/* surrogate */
	s = utf8_escaped("\x1b[2J\xe2\x80\xae\"");
	assert_string_equal(s, "\\x1B[2J\\u202E\\\"");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sequence),
		cmocka_unit_test(test_plain_text_kept),
		cmocka_unit_test(test_terminal_escapes),
		cmocka_unit_test(test_log_field_spoofing),
		cmocka_unit_test(test_invalid_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
