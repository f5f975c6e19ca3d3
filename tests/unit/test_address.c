/*
 * test_address.c - address_is_mailbox: what mailto:, unresolved, team
 * addresses and messages-we-want accept (issue 14 point 7).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "address.h"
#include "config.h"

static const char *const good[] = {
	"a@b",
	"ops@example.com",
	"first.last+tag@mail.example.co.uk",
	"o'brien@example.com",
	"!#$%&'*+-/=?^_`{|}~@example.com",
	"\"john doe\"@example.com",
	"\"a,b\"@example.com",
	"\"quoted\\\"pair\"@example.com",
	"x@[192.0.2.1]",
	"x@[IPv6:2001:db8::1]",
	"x@a-b.example",
	"x@123.example",
	"1234567890123456789012345678901234567890123456789012345678901234@x.example",
};

static const char *const bad[] = {
	"",
	"a",
	"@b",
	"a@",
	"a@b;c@d",
	"a@b,c@d",
	"a@b c@d",
	"a@b (comment)",
	"(comment)a@b",
	"a(comment)@b",
	"@a,@b:x@y",
	"@a:x@y",
	"<a@b>",
	"a@b>,<evil@x",
	"a b@c",
	".a@b",
	"a.@b",
	"a..b@c",
	"a@b@c",
	"a@-b.example",
	"a@b-.example",
	"a@b..example",
	"a@.b",
	"a@b.",
	"a@b_c.example",
	"a@[192.0.2.256]",
	"a@[192.0.2]",
	"a@[1.2.3.4.5]",
	"a@[example.com]",
	"a@[IPv6:]",
	"a@b\r\nBcc: x@y",
	"a@b\n",
	"\"unterminated@b",
	"\"tab\there\"@b",
	"\"a\"b@c",
	"a@\xc3\xa9.example",
	"12345678901234567890123456789012345678901234567890123456789012345@x.example",
};

static void
test_mailboxes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!address_is_mailbox(good[i]))
			fail_msg("refused good address \"%s\"", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (address_is_mailbox(bad[i]))
			fail_msg("accepted bad address \"%s\"", bad[i]);
	}
}

static void
test_long_domain(void **state)
{
	char addr[300] = "a@";

	(void)state;
	/* labels of 63 are fine, of 64 not; the domain at most 255 */
	memset(addr + 2, 'x', 63);
	assert_true(address_is_mailbox(addr));
	addr[2 + 63] = 'x';
	assert_false(address_is_mailbox(addr));
	for (size_t i = 0; i < 4; i++) {
		memset(addr + 2 + i * 64, 'x', 63);
		addr[2 + i * 64 + 63] = '.';
	}
	addr[2 + 4 * 64 - 1] = '\0';	/* 4 labels of 63 and 3 dots: 255 */
	assert_true(address_is_mailbox(addr));
	addr[2 + 4 * 64 - 1] = 'x';
	addr[2 + 4 * 64] = '\0';	/* 256 */
	assert_false(address_is_mailbox(addr));
}

/* Every place the configuration takes an address uses the check. */
static void
test_config_places(void **state)
{
	static const char *const configs[] = {
		"managers = ({ name = \"m\"; messages-we-want = { to = \"a@b\"; };"
		" rules = ({ actions = [\"mailto:a@b;c@d\"]; }); });",
		"managers = ({ name = \"m\"; messages-we-want = { to = \"a@b\"; };"
		" teams = ({ address = \"@a,@b:x@y\"; groups = [\"g\"]; }); url = \"http://g\"; });",
		"unresolved = \"mailto:x@y (boss)\";"
		" managers = ({ name = \"m\"; messages-we-want = { to = \"a@b\"; }; });",
		"managers = ({ name = \"m\"; messages-we-want = { to = \"a@b;c@d\"; }; });",
		"managers = ({ name = \"m\"; messages-we-want = { from = \"(x)a@b\"; }; });",
	};
	char err[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		struct config *c = config_parse(configs[i], "a.conf", NULL, NULL, err,
		    sizeof(err));

		if (c != NULL)
			fail_msg("accepted: %s", configs[i]);
		if (strstr(err, "one plain local-part@domain") == NULL &&
		    strstr(err, "one plain address") == NULL)
			fail_msg("unclear error for %s: %s", configs[i], err);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mailboxes),
		cmocka_unit_test(test_long_domain),
		cmocka_unit_test(test_config_places),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
