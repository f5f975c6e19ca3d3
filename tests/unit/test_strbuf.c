/*
 * test_strbuf.c - growable strings: appending, formatting, handing the
 * contents over, and UTF-8 encoding of code points.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arena.h"
#include "strbuf.h"

static void
test_empty_is_empty_string(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	(void)state;
	assert_string_equal(strbuf_str(&sb), "");
	assert_int_equal(sb.len, 0);
	strbuf_addf(&sb, "%s", "");		/* nothing to add */
	assert_string_equal(strbuf_str(&sb), "");
	s = strbuf_detach(&sb);			/* never NULL */
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	strbuf_free(&sb);
}

static void
test_add_and_addc(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	strbuf_add(&sb, "abcdef", 3);
	strbuf_addc(&sb, '-');
	strbuf_adds(&sb, "xyz");
	assert_string_equal(strbuf_str(&sb), "abc-xyz");
	assert_int_equal(sb.len, 7);
	/* bytes with an explicit length may contain NUL */
	strbuf_add(&sb, "a\0b", 3);
	assert_int_equal(sb.len, 10);
	assert_memory_equal(sb.data + 7, "a\0b", 3);
	assert_int_equal(sb.data[10], '\0');
	strbuf_free(&sb);
	assert_null(sb.data);
	assert_int_equal(sb.len, 0);
}

static void
test_addf_grows(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char expect[8192];
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 1000; i++) {
		strbuf_addf(&sb, "%d,", i);
		n += (size_t)snprintf(expect + n, sizeof(expect) - n, "%d,", i);
	}
	assert_int_equal(sb.len, n);
	assert_int_equal(strlen(sb.data), n);
	assert_string_equal(sb.data, expect);
	assert_true(sb.cap > sb.len);

	/* one addf far larger than the current capacity */
	strbuf_reset(&sb);
	assert_string_equal(strbuf_str(&sb), "");
	strbuf_addf(&sb, "[%5000s]", "x");
	assert_int_equal(sb.len, 5002);
	assert_int_equal(sb.data[0], '[');
	assert_int_equal(sb.data[4999], ' ');
	assert_int_equal(sb.data[5000], 'x');
	assert_int_equal(sb.data[5001], ']');
	assert_int_equal(sb.data[5002], '\0');
	strbuf_free(&sb);
}

static void
test_detach_hands_over(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *s;

	(void)state;
	strbuf_addf(&sb, "%s=%d", "n", 42);
	s = strbuf_detach(&sb);
	assert_string_equal(s, "n=42");
	assert_null(sb.data);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.cap, 0);
	/* the buffer is reusable after detach */
	strbuf_adds(&sb, "again");
	assert_string_equal(strbuf_str(&sb), "again");
	free(s);
	strbuf_free(&sb);
}

static void
check_utf8(unsigned long cp, const char *expect)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add_utf8(&sb, cp);
	assert_int_equal(sb.len, strlen(expect));
	assert_memory_equal(sb.data, expect, strlen(expect));
	strbuf_free(&sb);
}

static void
test_utf8_encoding(void **state)
{
	(void)state;
	check_utf8(0x41, "A");
	check_utf8(0x7F, "\x7f");
	check_utf8(0x80, "\xc2\x80");
	check_utf8(0xE9, "\xc3\xa9");		/* é */
	check_utf8(0x7FF, "\xdf\xbf");
	check_utf8(0x800, "\xe0\xa0\x80");
	check_utf8(0x20AC, "\xe2\x82\xac");	/* € */
	check_utf8(0xFFFD, "\xef\xbf\xbd");
	check_utf8(0xFFFF, "\xef\xbf\xbf");
	check_utf8(0x10000, "\xf0\x90\x80\x80");
	check_utf8(0x1F600, "\xf0\x9f\x98\x80");
	check_utf8(0x10FFFF, "\xf4\x8f\xbf\xbf");
}

static void
test_utf8_invalid_code_points(void **state)
{
	(void)state;
	/* surrogates and values past U+10FFFF are not characters */
	check_utf8(0xD800, "\xef\xbf\xbd");
	check_utf8(0xDBFF, "\xef\xbf\xbd");
	check_utf8(0xDFFF, "\xef\xbf\xbd");
	check_utf8(0x110000, "\xef\xbf\xbd");
	check_utf8(0xFFFFFFFFul, "\xef\xbf\xbd");
	/* the neighbours of the surrogate range are fine */
	check_utf8(0xD7FF, "\xed\x9f\xbf");
	check_utf8(0xE000, "\xee\x80\x80");
}

/*
 * Run fn in a child; true if it died of SIGABRT (our "cannot be" stop)
 * rather than writing past a buffer or asking malloc for a wrapped size.
 */
static bool
aborts(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		fn();
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void
add_size_max_to_empty(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_add(&sb, "x", SIZE_MAX);
}

static void
add_size_max_to_some(void)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_adds(&sb, "abc");
	strbuf_add(&sb, "x", SIZE_MAX - 2);
}

static void
arena_size_max(void)
{
	struct arena arena = { 0 };

	arena_strndup(&arena, "x", SIZE_MAX);
}

static void
test_sizes_that_wrap_abort(void **state)
{
	(void)state;
	assert_true(aborts(add_size_max_to_empty));
	assert_true(aborts(add_size_max_to_some));
	assert_true(aborts(arena_size_max));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_is_empty_string),
		cmocka_unit_test(test_add_and_addc),
		cmocka_unit_test(test_addf_grows),
		cmocka_unit_test(test_detach_hands_over),
		cmocka_unit_test(test_utf8_encoding),
		cmocka_unit_test(test_utf8_invalid_code_points),
		cmocka_unit_test(test_sizes_that_wrap_abort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
