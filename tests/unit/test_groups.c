/*
 * test_groups.c - the pipeline -> group index and the three GoCD API
 * shapes it is built from (GOCD.md section 2, SPEC section 6).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "gocd_groups.h"
#include "group_index.h"
#include "strbuf.h"

/* GOCD.md 2.2, verbatim. */
static const char admin_example[] =
    "{ \"_links\": { \"self\": { \"href\": \"https://ci.example.com/go/api/admin/pipeline_groups\" } },\n"
    "  \"_embedded\": { \"groups\": [ {\n"
    "      \"_links\": { \"self\": { \"href\": \"https://ci.example.com/go/api/admin/pipeline_groups/first\" } },\n"
    "      \"name\": \"first\",\n"
    "      \"authorization\": { \"view\": { \"users\": [\"operate\"], \"roles\": [] },\n"
    "                         \"admins\": { \"users\": [\"operate\"], \"roles\": [] } },\n"
    "      \"pipelines\": [ { \"_links\": { \"self\": { \"href\": \"https://ci.example.com/go/api/admin/pipelines/up42\" } },\n"
    "                       \"name\": \"up42\" } ] } ] } }\n";

/* GOCD.md 2.3, verbatim. */
static const char dashboard_example[] =
    "{ \"_links\": { \"self\": { \"href\": \"https://ci.example.com/go/api/dashboard\" } },\n"
    "  \"_personalization\": \"2356e5d4241f22987d8f8cb8920913fda237385b423bd7eec7e97b2a9eb1be1a\",\n"
    "  \"_embedded\": {\n"
    "    \"pipeline_groups\": [ { \"name\": \"first\", \"pipelines\": [ \"up42\" ], \"can_administer\": true } ],\n"
    "    \"environments\": [ { \"name\": \"asd\", \"pipelines\": [ \"up42\" ], \"can_administer\": true } ],\n"
    "    \"pipelines\": [ { \"name\": \"up42\", \"last_updated_timestamp\": 1542863609039, \"locked\": false,\n"
    "        \"pause_info\": { \"paused\": false, \"paused_by\": null, \"pause_reason\": null },\n"
    "        \"can_operate\": true, \"can_administer\": true, \"can_unlock\": true, \"can_pause\": true,\n"
    "        \"from_config_repo\": false,\n"
    "        \"_embedded\": { \"instances\": [ { \"label\": \"1\", \"counter\": 1, \"triggered_by\": \"Triggered by changes\",\n"
    "            \"scheduled_at\": \"2018-11-21T09:43:07Z\",\n"
    "            \"_embedded\": { \"stages\": [ { \"name\": \"up42_stage\", \"counter\": \"1\", \"status\": \"Building\",\n"
    "                \"approved_by\": \"changes\", \"scheduled_at\": \"2018-11-21T09:43:07Z\" } ] } } ] } } ] } }\n";

/* GOCD.md 2.1, verbatim. */
static const char legacy_example[] =
    "[ { \"pipelines\": [ { \"stages\": [ { \"name\": \"up42_stage\" } ],\n"
    "      \"name\": \"up42\",\n"
    "      \"materials\": [ { \"description\": \"URL: https://github.com/gocd/gocd, Branch: master\",\n"
    "          \"fingerprint\": \"2d05446cd52a998fe3afd840fc2c46b7c7e421051f0209c7f619c95bedc28b88\", \"type\": \"Git\" } ],\n"
    "      \"label\": \"${COUNT}\" } ],\n"
    "    \"name\": \"first\" } ]\n";

static struct group_index *
parse(enum gocd_api api, const char *json, char *err, size_t errlen)
{
	err[0] = '\0';
	return gocd_groups_parse(api, json, strlen(json), 0, err, errlen);
}

/* Parsing must fail, with a reason that contains why. */
static void
expect_parse_error(enum gocd_api api, const char *json, const char *why)
{
	char err[256];
	struct group_index *index = parse(api, json, err, sizeof(err));

	assert_null(index);
	assert_non_null(strstr(err, why));
}

/* The examples all describe one group "first" with one pipeline "up42". */
static void
expect_first_up42(struct group_index *index)
{
	assert_non_null(index);
	assert_int_equal(group_index_group_count(index), 1);
	assert_int_equal(group_index_pipeline_count(index), 1);
	assert_string_equal(group_index_group_name(index, 0), "first");
	assert_int_equal(group_index_group_size(index, 0), 1);
	assert_string_equal(group_index_pipeline(index, 0, 0), "up42");
	assert_string_equal(group_index_group_of(index, "up42"), "first");
	assert_true(group_index_in_group(index, "UP42", "First"));
	/* stage and environment names are not pipelines or groups */
	assert_null(group_index_group_of(index, "up42_stage"));
	assert_null(group_index_group_of(index, "asd"));
	assert_false(group_index_has_group(index, "asd"));
	group_index_free(index);
}

static void
test_index_basic(void **state)
{
	struct group_index *index = group_index_new();

	(void)state;
	assert_int_equal(group_index_group_count(index), 0);
	assert_int_equal(group_index_pipeline_count(index), 0);
	assert_null(group_index_group_of(index, "up42"));
	assert_false(group_index_has_group(index, "first"));
	assert_false(group_index_in_group(index, "up42", "first"));

	group_index_add(index, "first", "up42");
	group_index_add(index, "first", "api");
	group_index_add(index, "second", "web");
	assert_int_equal(group_index_group_count(index), 2);
	assert_int_equal(group_index_pipeline_count(index), 3);
	assert_string_equal(group_index_group_of(index, "up42"), "first");
	assert_string_equal(group_index_group_of(index, "api"), "first");
	assert_string_equal(group_index_group_of(index, "web"), "second");
	assert_true(group_index_in_group(index, "up42", "first"));
	assert_false(group_index_in_group(index, "up42", "second"));
	assert_false(group_index_in_group(index, "nope", "first"));
	assert_false(group_index_in_group(index, "up42", "third"));
	assert_null(group_index_group_of(index, "up4"));
	assert_null(group_index_group_of(index, "up420"));
	assert_null(group_index_group_of(index, ""));
	group_index_free(index);
	group_index_free(NULL);
}

static void
test_index_case_insensitive(void **state)
{
	struct group_index *index = group_index_new();

	(void)state;
	group_index_add(index, "My-Group", "Up42");
	/* lookups ignore case; GoCD's spelling comes back */
	assert_string_equal(group_index_group_of(index, "up42"), "My-Group");
	assert_string_equal(group_index_group_of(index, "UP42"), "My-Group");
	assert_true(group_index_in_group(index, "up42", "my-group"));
	assert_true(group_index_in_group(index, "UP42", "MY-GROUP"));
	assert_true(group_index_has_group(index, "my-GROUP"));
	/* the same group in another case is the same group */
	group_index_add(index, "MY-GROUP", "api");
	assert_int_equal(group_index_group_count(index), 1);
	assert_string_equal(group_index_group_name(index, 0), "My-Group");
	assert_string_equal(group_index_group_of(index, "API"), "My-Group");
	/* the pipeline listing keeps the spelling first given */
	assert_string_equal(group_index_pipeline(index, 0, 0), "Up42");
	assert_string_equal(group_index_pipeline(index, 0, 1), "api");
	group_index_free(index);
}

static void
test_index_first_group_wins(void **state)
{
	struct group_index *index = group_index_new();

	(void)state;
	group_index_add(index, "first", "up42");
	group_index_add(index, "second", "UP42");
	group_index_add(index, "second", "web");
	group_index_add(index, "first", "up42");	/* duplicate in the same group */
	assert_string_equal(group_index_group_of(index, "up42"), "first");
	assert_false(group_index_in_group(index, "up42", "second"));
	assert_int_equal(group_index_pipeline_count(index), 2);
	assert_int_equal(group_index_group_size(index, 0), 1);
	assert_int_equal(group_index_group_size(index, 1), 1);
	assert_string_equal(group_index_pipeline(index, 1, 0), "web");
	group_index_free(index);
}

static void
test_index_empty_groups(void **state)
{
	struct group_index *index = group_index_new();

	(void)state;
	group_index_add(index, "empty", NULL);
	group_index_add(index, "full", "p");
	group_index_add(index, "full", NULL);	/* no effect on a known group */
	assert_true(group_index_has_group(index, "empty"));
	assert_true(group_index_has_group(index, "EMPTY"));
	assert_false(group_index_has_group(index, "missing"));
	assert_int_equal(group_index_group_count(index), 2);
	assert_int_equal(group_index_pipeline_count(index), 1);
	assert_string_equal(group_index_group_name(index, 0), "empty");
	assert_int_equal(group_index_group_size(index, 0), 0);
	assert_string_equal(group_index_group_name(index, 1), "full");
	assert_int_equal(group_index_group_size(index, 1), 1);
	group_index_free(index);
}

static void
test_index_iteration(void **state)
{
	static const char *const groups[] = { "g1", "g2", "g3" };
	struct group_index *index = group_index_new();
	char name[32];
	size_t total = 0;

	(void)state;
	/* interleaved adds; iteration is by group, in order of first appearance */
	for (int p = 0; p < 30; p++) {
		snprintf(name, sizeof(name), "p%02d", p);
		group_index_add(index, groups[p % 3], name);
	}
	assert_int_equal(group_index_group_count(index), 3);
	for (size_t g = 0; g < group_index_group_count(index); g++) {
		assert_string_equal(group_index_group_name(index, g), groups[g]);
		assert_int_equal(group_index_group_size(index, g), 10);
		for (size_t p = 0; p < group_index_group_size(index, g); p++) {
			snprintf(name, sizeof(name), "p%02zu", p * 3 + g);
			assert_string_equal(group_index_pipeline(index, g, p), name);
			assert_string_equal(group_index_group_of(index, name), groups[g]);
			total++;
		}
	}
	assert_int_equal(total, 30);
	assert_int_equal(group_index_pipeline_count(index), 30);
	group_index_free(index);
}

static void
test_parse_admin_example(void **state)
{
	char err[256];

	(void)state;
	expect_first_up42(parse(GOCD_API_ADMIN, admin_example, err, sizeof(err)));
}

static void
test_parse_dashboard_example(void **state)
{
	char err[256];

	(void)state;
	expect_first_up42(parse(GOCD_API_DASHBOARD, dashboard_example, err, sizeof(err)));
}

static void
test_parse_legacy_example(void **state)
{
	char err[256];

	(void)state;
	expect_first_up42(parse(GOCD_API_LEGACY, legacy_example, err, sizeof(err)));
}

static void
test_parse_several_groups(void **state)
{
	char err[256];
	struct group_index *index;

	(void)state;
	index = parse(GOCD_API_DASHBOARD,
	    "{\"_embedded\":{\"pipeline_groups\":["
	    "{\"name\":\"Alpha\",\"pipelines\":[\"a1\",\"A2\"]},"
	    "{\"name\":\"beta\",\"pipelines\":[]},"
	    "{\"name\":\"gamma\"},"
	    "{\"name\":\"delta\",\"pipelines\":[\"a1\",\"d1\"]}]}}", err, sizeof(err));
	assert_non_null(index);
	assert_int_equal(group_index_group_count(index), 4);
	assert_int_equal(group_index_pipeline_count(index), 3);
	assert_string_equal(group_index_group_of(index, "a2"), "Alpha");
	/* listed twice: the first group wins */
	assert_string_equal(group_index_group_of(index, "a1"), "Alpha");
	assert_string_equal(group_index_group_of(index, "d1"), "delta");
	/* empty groups and groups without a pipelines list exist */
	assert_true(group_index_has_group(index, "beta"));
	assert_true(group_index_has_group(index, "gamma"));
	assert_int_equal(group_index_group_size(index, 1), 0);
	group_index_free(index);

	/* an empty list is a valid (empty) answer */
	index = parse(GOCD_API_LEGACY, "[]", err, sizeof(err));
	assert_non_null(index);
	assert_int_equal(group_index_group_count(index), 0);
	group_index_free(index);
	index = parse(GOCD_API_ADMIN, "{\"_embedded\":{\"groups\":[]}}", err, sizeof(err));
	assert_non_null(index);
	assert_int_equal(group_index_group_count(index), 0);
	group_index_free(index);
}

static void
test_parse_malformed_json(void **state)
{
	(void)state;
	expect_parse_error(GOCD_API_ADMIN, "", "malformed JSON");
	expect_parse_error(GOCD_API_ADMIN, "{", "malformed JSON");
	expect_parse_error(GOCD_API_DASHBOARD, "{\"_embedded\": {\"pipeline_groups\": [", "malformed JSON");
	expect_parse_error(GOCD_API_LEGACY, "[{\"name\": \"first\",}]", "malformed JSON");
	expect_parse_error(GOCD_API_LEGACY, "<html>Not found</html>", "malformed JSON");
	/* len is honoured: the document is cut short */
	{
		char err[256];

		assert_null(gocd_groups_parse(GOCD_API_LEGACY, legacy_example, 20, 0,
		    err, sizeof(err)));
		assert_non_null(strstr(err, "malformed JSON"));
	}
}

static void
test_parse_wrong_shape(void **state)
{
	(void)state;
	expect_parse_error(GOCD_API_LEGACY, admin_example, "no list of pipeline groups");
	expect_parse_error(GOCD_API_LEGACY, dashboard_example, "no list of pipeline groups");
	expect_parse_error(GOCD_API_ADMIN, legacy_example, "no list of pipeline groups");
	expect_parse_error(GOCD_API_ADMIN, dashboard_example, "no list of pipeline groups");
	expect_parse_error(GOCD_API_DASHBOARD, admin_example, "no list of pipeline groups");
	expect_parse_error(GOCD_API_DASHBOARD, legacy_example, "no list of pipeline groups");
	expect_parse_error(GOCD_API_ADMIN, "{}", "no list of pipeline groups");
	expect_parse_error(GOCD_API_DASHBOARD, "{}", "no list of pipeline groups");
	expect_parse_error(GOCD_API_LEGACY, "{}", "no list of pipeline groups");
	expect_parse_error(GOCD_API_ADMIN, "null", "no list of pipeline groups");
	expect_parse_error(GOCD_API_LEGACY, "\"text\"", "no list of pipeline groups");
	expect_parse_error(GOCD_API_ADMIN, "{\"_embedded\":{\"groups\":{}}}",
	    "no list of pipeline groups");
	/* the dashboard's 202 answer */
	expect_parse_error(GOCD_API_DASHBOARD,
	    "{\"message\":\"Dashboard is being processed, this may take a few seconds. "
	    "Please check back later.\"}", "no list of pipeline groups");
}

static void
test_parse_bad_group(void **state)
{
	(void)state;
	/* a group without a name */
	expect_parse_error(GOCD_API_LEGACY, "[{\"pipelines\":[{\"name\":\"up42\"}]}]",
	    "a group without name");
	expect_parse_error(GOCD_API_DASHBOARD,
	    "{\"_embedded\":{\"pipeline_groups\":[{\"name\":\"ok\",\"pipelines\":[]},"
	    "{\"pipelines\":[\"up42\"]}]}}", "a group without name");
	expect_parse_error(GOCD_API_LEGACY, "[{\"name\":42,\"pipelines\":[]}]",
	    "a group without name");
	expect_parse_error(GOCD_API_LEGACY, "[\"first\"]", "a group without name");
	/* pipelines that are not a list */
	expect_parse_error(GOCD_API_LEGACY, "[{\"name\":\"first\",\"pipelines\":\"up42\"}]",
	    "a group without name or pipelines");
}

static void
test_parse_illegal_names_skipped(void **state)
{
	char err[256], longname[300], json[1024];
	struct group_index *index;

	(void)state;
	index = parse(GOCD_API_DASHBOARD,
	    "{\"_embedded\":{\"pipeline_groups\":["
	    "{\"name\":\"a b\",\"pipelines\":[\"in-bad-group\"]},"
	    "{\"name\":\"x\\ny\",\"pipelines\":[\"in-bad-group2\"]},"
	    "{\"name\":\"<script>\",\"pipelines\":[\"in-bad-group3\"]},"
	    "{\"name\":\"\",\"pipelines\":[\"in-bad-group4\"]},"
	    "{\"name\":\"good\",\"pipelines\":[\"a b\",\"x\\ny\",\"<script>\",\"\","
	    "\"caf\\u00e9\",\"p/q\",42,null,{\"name\":\"obj\"},\"ok.1_-\"]}]}}",
	    err, sizeof(err));
	assert_non_null(index);
	assert_int_equal(group_index_group_count(index), 1);
	assert_string_equal(group_index_group_name(index, 0), "good");
	assert_int_equal(group_index_pipeline_count(index), 1);
	assert_string_equal(group_index_pipeline(index, 0, 0), "ok.1_-");
	assert_false(group_index_has_group(index, "a b"));
	assert_false(group_index_has_group(index, "<script>"));
	assert_null(group_index_group_of(index, "in-bad-group"));
	assert_null(group_index_group_of(index, "a b"));
	assert_null(group_index_group_of(index, "x\ny"));
	group_index_free(index);

	/* admin shape: pipeline entries must be objects with a name */
	index = parse(GOCD_API_ADMIN,
	    "{\"_embedded\":{\"groups\":[{\"name\":\"g\",\"pipelines\":["
	    "\"plain\",{\"name\":\"x y\"},{\"nom\":\"z\"},{\"name\":\"fine\"}]}]}}",
	    err, sizeof(err));
	assert_non_null(index);
	assert_int_equal(group_index_pipeline_count(index), 1);
	assert_string_equal(group_index_group_of(index, "fine"), "g");
	assert_null(group_index_group_of(index, "plain"));
	group_index_free(index);

	/* 255 characters is a name, 256 is not */
	memset(longname, 'n', 256);
	longname[256] = '\0';
	snprintf(json, sizeof(json), "[{\"name\":\"g\",\"pipelines\":[{\"name\":\"%s\"},"
	    "{\"name\":\"%.255s\"}]}]", longname, longname);
	index = parse(GOCD_API_LEGACY, json, err, sizeof(err));
	assert_non_null(index);
	assert_int_equal(group_index_pipeline_count(index), 1);
	assert_int_equal(strlen(group_index_pipeline(index, 0, 0)), 255);
	group_index_free(index);
}

static void
test_parse_large_document(void **state)
{
	struct strbuf json = STRBUF_INIT;
	struct group_index *index;
	char err[256], name[64], group[64];
	const int ngroups = 100, per_group = 100;

	(void)state;
	strbuf_adds(&json, "{\"_embedded\":{\"groups\":[");
	for (int g = 0; g < ngroups; g++) {
		strbuf_addf(&json, "%s{\"name\":\"group-%d\",\"pipelines\":[", g ? "," : "", g);
		for (int p = 0; p < per_group; p++)
			strbuf_addf(&json, "%s{\"_links\":{},\"name\":\"Pipeline_%d.%d\"}",
			    p ? "," : "", g, p);
		strbuf_adds(&json, "]}");
	}
	strbuf_adds(&json, "]}}");
	index = gocd_groups_parse(GOCD_API_ADMIN, json.data, json.len, 0, err, sizeof(err));
	strbuf_free(&json);
	assert_non_null(index);
	assert_int_equal(group_index_group_count(index), (size_t)ngroups);
	assert_int_equal(group_index_pipeline_count(index), (size_t)(ngroups * per_group));
	for (int g = 0; g < ngroups; g++) {
		snprintf(group, sizeof(group), "group-%d", g);
		assert_int_equal(group_index_group_size(index, (size_t)g), (size_t)per_group);
		for (int p = 0; p < per_group; p++) {
			snprintf(name, sizeof(name), "pipeline_%d.%d", g, p);
			assert_string_equal(group_index_group_of(index, name), group);
			assert_true(group_index_in_group(index, name, group));
		}
	}
	assert_null(group_index_group_of(index, "pipeline_100.0"));
	assert_string_equal(group_index_pipeline(index, 99, 99), "Pipeline_99.99");
	group_index_free(index);
}

/*
 * A document of many tiny values costs the parser ~64 bytes a value: the
 * bound refuses it before a tree is built; a real document passes.
 */
static void
test_value_bound(void **state)
{
	struct strbuf bomb = STRBUF_INIT;
	struct group_index *index;
	char err[256];

	(void)state;
	strbuf_adds(&bomb, "[0");
	for (int i = 0; i < 100000; i++)
		strbuf_adds(&bomb, ",0");
	strbuf_adds(&bomb, "]");
	assert_null(gocd_groups_parse(GOCD_API_LEGACY, bomb.data, bomb.len, 50000,
	    err, sizeof(err)));
	assert_non_null(strstr(err, "too many JSON values (100003"));
	/* the right count of a real shape, strings with commas and quotes too */
	{
		static const char doc[] =
		    "[{\"name\": \"g,{[\\\"\", \"pipelines\": [{\"name\": \"p\"}]}]";

		/* 2 arrays + 2 objects, 2 values each at most, 1 comma, and 1 */
		assert_null(gocd_groups_parse(GOCD_API_LEGACY, doc, strlen(doc), 9, err,
		    sizeof(err)));
		index = gocd_groups_parse(GOCD_API_LEGACY, doc, strlen(doc), 10, err,
		    sizeof(err));
	}
	assert_non_null(index);
	group_index_free(index);
	strbuf_free(&bomb);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_value_bound),
		cmocka_unit_test(test_index_basic),
		cmocka_unit_test(test_index_case_insensitive),
		cmocka_unit_test(test_index_first_group_wins),
		cmocka_unit_test(test_index_empty_groups),
		cmocka_unit_test(test_index_iteration),
		cmocka_unit_test(test_parse_admin_example),
		cmocka_unit_test(test_parse_dashboard_example),
		cmocka_unit_test(test_parse_legacy_example),
		cmocka_unit_test(test_parse_several_groups),
		cmocka_unit_test(test_parse_malformed_json),
		cmocka_unit_test(test_parse_wrong_shape),
		cmocka_unit_test(test_parse_bad_group),
		cmocka_unit_test(test_parse_illegal_names_skipped),
		cmocka_unit_test(test_parse_large_document),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
