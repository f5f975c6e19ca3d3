/*
 * test_gocd_error.c - GoCD's error text, made safe for a log line.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "gocd_error.h"

static void
message_of(const char *body, const char *want)
{
	char out[256];

	gocd_error_message(body, body ? strlen(body) : 0, out, sizeof(out));
	assert_string_equal(out, want);
}

static void
test_messages(void **state)
{
	char small[8];

	(void)state;
	message_of("{\n  \"message\": \"Basic authentication credentials are not required, "
	    "since security has been disabled on this server.\"\n}",
	    "Basic authentication credentials are not required, since security has been "
	    "disabled on this server.");
	message_of("{\"message\": \"a\\u001b[31m\\\"b\\\"\\nc\"}", "a[31mbc");
	message_of("<html>Not JSON</html>", "");
	message_of("{\"message\": 42}", "");
	message_of(NULL, "");
	gocd_error_message("{\"message\":\"You are not authorized\"}", 36, small, sizeof(small));
	assert_string_equal(small, "You are");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
