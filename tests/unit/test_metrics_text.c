/*
 * test_metrics_text.c - the Prometheus text format and metrics-listen parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics_text.h"

static void
test_family_and_plain_sample(void **state)
{
	struct strbuf out = STRBUF_INIT;

	(void)state;
	metrics_text_family(&out, "mail2alert_edge_rewrites_total", "counter",
	    "Stage events rewritten by edge detection.");
	metrics_text_uint(&out, "mail2alert_edge_rewrites_total", NULL, 0, 42);
	assert_string_equal(strbuf_str(&out),
	    "# HELP mail2alert_edge_rewrites_total Stage events rewritten by edge detection.\n"
	    "# TYPE mail2alert_edge_rewrites_total counter\n"
	    "mail2alert_edge_rewrites_total 42\n");
	strbuf_free(&out);
}

static void
test_labels_are_escaped(void **state)
{
	struct strbuf out = STRBUF_INIT;
	const struct metrics_label labels[] = {
		{ "manager", "a\"b\\c\nd" },
		{ "outcome", "routed" },
	};

	(void)state;
	metrics_text_uint(&out, "m_total", labels, 2, 7);
	assert_string_equal(strbuf_str(&out),
	    "m_total{manager=\"a\\\"b\\\\c\\nd\",outcome=\"routed\"} 7\n");
	strbuf_free(&out);
}

static void
test_doubles_shortest(void **state)
{
	struct strbuf out = STRBUF_INIT;

	(void)state;
	metrics_text_double(&out, "g", NULL, 0, 0.1);
	metrics_text_double(&out, "g", NULL, 0, 1764441600);
	metrics_text_double(&out, "g", NULL, 0, 2.5e-5);
	assert_string_equal(strbuf_str(&out), "g 0.1\ng 1.7644416e+09\ng 2.5e-05\n");
	strbuf_free(&out);
}

static void
test_histogram_is_cumulative(void **state)
{
	struct strbuf out = STRBUF_INIT;
	const double bounds[] = { 0.001, 0.01 };
	const unsigned long long counts[] = { 3, 2, 1 };
	const struct metrics_label label = { "manager", "gocd" };

	(void)state;
	metrics_text_histogram(&out, "h_seconds", &label, 1, bounds, counts, 2, 0.5);
	assert_string_equal(strbuf_str(&out),
	    "h_seconds_bucket{manager=\"gocd\",le=\"0.001\"} 3\n"
	    "h_seconds_bucket{manager=\"gocd\",le=\"0.01\"} 5\n"
	    "h_seconds_bucket{manager=\"gocd\",le=\"+Inf\"} 6\n"
	    "h_seconds_sum{manager=\"gocd\"} 0.5\n"
	    "h_seconds_count{manager=\"gocd\"} 6\n");
	strbuf_reset(&out);
	metrics_text_histogram(&out, "h", NULL, 0, bounds, counts, 2, 0);
	assert_non_null(strstr(strbuf_str(&out), "h_bucket{le=\"+Inf\"} 6\nh_sum 0\nh_count 6\n"));
	strbuf_free(&out);
}

static void
test_listen_parse(void **state)
{
	char host[64], why[128];
	unsigned port = 0;

	(void)state;
	assert_true(metrics_listen_parse("127.0.0.1:9874", host, sizeof(host), &port,
	    why, sizeof(why)));
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9874);
	assert_true(metrics_listen_parse("[::1]:9875", host, sizeof(host), &port,
	    why, sizeof(why)));
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9875);
	assert_true(metrics_listen_parse("localhost:1", host, sizeof(host), &port,
	    why, sizeof(why)));
	assert_string_equal(host, "localhost");

	assert_false(metrics_listen_parse("9874", host, sizeof(host), &port, why, sizeof(why)));
	assert_false(metrics_listen_parse(":9874", host, sizeof(host), &port, why, sizeof(why)));
	assert_false(metrics_listen_parse("::1:9874", host, sizeof(host), &port, why, sizeof(why)));
	assert_false(metrics_listen_parse("[::1]9874", host, sizeof(host), &port, why, sizeof(why)));
	assert_false(metrics_listen_parse("h:0", host, sizeof(host), &port, why, sizeof(why)));
	assert_false(metrics_listen_parse("h:65536", host, sizeof(host), &port, why, sizeof(why)));
	assert_false(metrics_listen_parse("h:12x", host, sizeof(host), &port, why, sizeof(why)));
	assert_false(metrics_listen_parse("h:-1", host, sizeof(host), &port, why, sizeof(why)));
	assert_false(metrics_listen_parse("h:", host, sizeof(host), &port, why, sizeof(why)));
	assert_false(metrics_listen_parse("a-very-long-host-name:1", host, 8, &port, why,
	    sizeof(why)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_plain_sample),
		cmocka_unit_test(test_labels_are_escaped),
		cmocka_unit_test(test_doubles_shortest),
		cmocka_unit_test(test_histogram_is_cumulative),
		cmocka_unit_test(test_listen_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
