/*
 * test_store_url.c - the shared-state URL: the forms mail2alert.conf(5)
 * lists, and what is refused with a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "store_url.h"

static void
parses(const char *text, enum store_transport transport, const char *host,
    int port, const char *path, const char *user, int db)
{
	struct store_url url;
	char err[160] = "";

	if (store_url_parse(text, &url, err, sizeof(err)) != 0)
		fail_msg("%s: %s", text, err);
	assert_int_equal(url.transport, transport);
	if (host)
		assert_string_equal(url.host, host);
	else
		assert_null(url.host);
	if (path)
		assert_string_equal(url.path, path);
	else
		assert_null(url.path);
	if (user)
		assert_string_equal(url.user, user);
	else
		assert_null(url.user);
	assert_int_equal(url.port, port);
	assert_int_equal(url.db, db);
	store_url_free(&url);
}

static void
refused(const char *text, const char *reason_part)
{
	struct store_url url;
	char err[160] = "";

	if (store_url_parse(text, &url, err, sizeof(err)) == 0)
		fail_msg("%s was accepted", text);
	if (strstr(err, reason_part) == NULL)
		fail_msg("%s: reason \"%s\" lacks \"%s\"", text, err, reason_part);
	assert_null(url.host);
	assert_null(url.path);
}

static void
test_forms(void **state)
{
	(void)state;
	parses("redis://127.0.0.1", STORE_TCP, "127.0.0.1", 6379, NULL, NULL, 0);
	parses("redis://redis.example.com:6380/3", STORE_TCP, "redis.example.com", 6380,
	    NULL, NULL, 3);
	parses("redis://[::1]:7000/", STORE_TCP, "::1", 7000, NULL, NULL, 0);
	parses("redis://[2001:db8::5]", STORE_TCP, "2001:db8::5", 6379, NULL, NULL, 0);
	parses("rediss://cache.example.com:6390/1", STORE_TLS, "cache.example.com", 6390,
	    NULL, NULL, 1);
	parses("redis://mail2alert@10.0.0.5/2", STORE_TCP, "10.0.0.5", 6379, NULL,
	    "mail2alert", 2);
	parses("unix:/run/redis/redis-server.sock", STORE_UNIX, NULL, 0,
	    "/run/redis/redis-server.sock", NULL, 0);
	parses("unix:/run/valkey.sock?db=5", STORE_UNIX, NULL, 0, "/run/valkey.sock", NULL, 5);
}

static void
test_refused(void **state)
{
	(void)state;
	refused("", "must start");
	refused("http://127.0.0.1:6379", "must start");
	refused("redis://user:secret@host", "password");
	refused("redis://:secret@host", "password");
	refused("redis://host:0", "port");
	refused("redis://host:65536", "port");
	refused("redis://host:63x9", "port");
	refused("redis://host/abc", "database");
	refused("redis://host/10000", "database");
	refused("redis://", "host");
	refused("redis://ho st", "host");
	refused("redis://[::1", "IPv6");
	refused("redis://[::1]x", "bracketed");
	refused("redis://host?timeout=5", "shared-state-");
	refused("unix:relative.sock", "absolute");
	refused("unix:/run/r.sock?database=1", "?db=");
	refused("unix:/run/r edis.sock", "space");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
