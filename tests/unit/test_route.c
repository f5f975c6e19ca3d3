/*
 * test_route.c - manager selection, rule evaluation, the union of actions
 * and the descriptions written to logs and headers (SPEC sections 1, 3).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include "config.h"
#include "gocd_subject.h"
#include "group_index.h"
#include "route.h"
#include "strbuf.h"

static struct config *
load(const char *text)
{
	char err[1024];
	struct strbuf full = STRBUF_INIT;
	struct config *c;

	/* slack: actions need a way out; these tests do not care which */
	strbuf_addf(&full, "slack-token = \"xoxb-test\";\n%s", text);
	c = config_parse(full.data, "route.conf", NULL, NULL, err, sizeof(err));
	strbuf_free(&full);
	if (c == NULL)
		fail_msg("config did not parse: %s", err);
	return c;
}

static const struct manager *
manager_named(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nmanagers; i++) {
		if (strcmp(c->managers[i].name, name) == 0)
			return &c->managers[i];
	}
	fail_msg("no manager %s", name);
	return NULL;
}

/* my-group: up42 api ppp; other: web; empty: nothing. */
static struct group_index *
groups_fixture(void)
{
	struct group_index *g = group_index_new();

	group_index_add(g, "my-group", "up42");
	group_index_add(g, "my-group", "api");
	group_index_add(g, "my-group", "ppp");
	group_index_add(g, "other", "web");
	group_index_add(g, "empty", NULL);
	return g;
}

/* One message: its subject, parsed, and the route result. */
struct msg {
	struct gocd_subject stage;
	struct route_input in;
	struct route_result out;
};

/*
 * Route subject for manager m.  The event is the parsed one unless event
 * is not -1 (standing in for edge detection).
 */
static void
route(struct msg *msg, const struct manager *m, const struct group_index *groups,
    const char *subject, int event)
{
	bool is_stage = gocd_parse_subject(subject, &msg->stage);

	msg->in = (struct route_input){
		.manager = m,
		.groups = groups,
		.subject = subject,
		.stage = is_stage ? &msg->stage : NULL,
		.event = event >= 0 ? (enum gocd_event)event : msg->stage.event,
	};
	msg->out = (struct route_result)ROUTE_RESULT_INIT;
	route_message(&msg->in, &msg->out);
}

/* The actions of the result, described, must be expect. */
static void
expect_actions(const struct route_result *r, const char *expect)
{
	struct strbuf sb = STRBUF_INIT;

	route_describe_actions(&sb, r);
	assert_string_equal(strbuf_str(&sb), expect);
	strbuf_free(&sb);
}

static const char select_conf[] =
    "managers = (\n"
    "  { name = \"alerts\"; messages-we-want = { to = \"alerts@Example.com\"; }; },\n"
    "  { name = \"go\"; messages-we-want = { from = \"go@example.com\"; }; },\n"
    "  { name = \"alerts2\"; messages-we-want = { to = \"alerts@example.com\"; }; },\n"
    "  { name = \"other\"; messages-we-want = { to = \"other@x.org\"; }; }\n"
    ");\n";

static const char *
selected(const struct config *c, const char *sender, const char *r1,
    const char *r2)
{
	const char *rcpts[2] = { r1, r2 };
	size_t n = r2 ? 2 : r1 ? 1 : 0;
	const struct manager *m = route_select_manager(c, sender, rcpts, n);

	return m ? m->name : "(none)";
}

static void
test_select_by_to(void **state)
{
	struct config *c = load(select_conf);

	(void)state;
	assert_string_equal(selected(c, NULL, "alerts@Example.com", NULL), "alerts");
	assert_string_equal(selected(c, NULL, "<alerts@example.com>", NULL), "alerts");
	assert_string_equal(selected(c, NULL, "alerts@EXAMPLE.COM", NULL), "alerts");
	assert_string_equal(selected(c, "x@y", "first@x.org", "<alerts@example.com>"),
	    "alerts");
	/* the local part is compared exactly */
	assert_string_equal(selected(c, NULL, "Alerts@example.com", NULL), "(none)");
	assert_string_equal(selected(c, NULL, "alerts+x@example.com", NULL), "(none)");
	assert_string_equal(selected(c, NULL, "alerts@example.com.evil", NULL), "(none)");
	assert_string_equal(selected(c, NULL, "<other@X.ORG>", NULL), "other");
	assert_string_equal(selected(c, NULL, "<other@x.org", NULL), "(none)");
	assert_string_equal(selected(c, NULL, NULL, NULL), "(none)");
	config_free(c);
}

static void
test_select_by_from(void **state)
{
	struct config *c = load(select_conf);

	(void)state;
	assert_string_equal(selected(c, "go@example.com", "ops@x.org", NULL), "go");
	assert_string_equal(selected(c, "<go@EXAMPLE.com>", "ops@x.org", NULL), "go");
	assert_string_equal(selected(c, "<go@example.com>", NULL, NULL), "go");
	assert_string_equal(selected(c, "Go@example.com", "ops@x.org", NULL), "(none)");
	assert_string_equal(selected(c, "<>", "ops@x.org", NULL), "(none)");
	assert_string_equal(selected(c, NULL, "go@example.com", NULL), "(none)");
	config_free(c);
}

static void
test_select_first_wins(void **state)
{
	struct config *c = load(select_conf);

	(void)state;
	/* "alerts" is asked before "go", "go" before "other" */
	assert_string_equal(selected(c, "go@example.com", "alerts@example.com", NULL),
	    "alerts");
	assert_string_equal(selected(c, "go@example.com", "other@x.org", NULL), "go");
	/* "alerts2" wants the same address as "alerts": never asked */
	assert_string_equal(selected(c, NULL, "alerts@example.com", "other@x.org"),
	    "alerts");
	config_free(c);
}

static void
test_is_trigger(void **state)
{
	struct config *c = load(select_conf);
	const struct manager *to = manager_named(c, "alerts");
	const struct manager *from = manager_named(c, "go");

	(void)state;
	assert_true(route_is_trigger(to, "alerts@Example.com"));
	assert_true(route_is_trigger(to, "<alerts@example.COM>"));
	assert_false(route_is_trigger(to, "team@example.com"));
	assert_false(route_is_trigger(to, "ALERTS@example.com"));
	/* for a from manager every recipient made it want the message */
	assert_true(route_is_trigger(from, "anyone@example.com"));
	assert_true(route_is_trigger(from, "<go@example.com>"));
	config_free(c);
}

static const char rules_conf[] =
    "managers = (\n"
    "  { name = \"gocd\"; url = \"https://ci.example.com/go\";\n"
    "    messages-we-want = { to = \"alerts@example.com\"; };\n"
    "    rules = (\n"
    /* 0 */
    "      { filter = { function = \"pipelines.any\"; }; actions = [\"slack:#all\"]; },\n"
    /* 1 */
    "      { filter = { function = \"pipelines.in_group\"; args = [\"my-group\"]; };\n"
    "        actions = [\"mailto:team@example.com\"]; },\n"
    /* 2 */
    "      { filter = { function = \"pipelines.in_group\"; args = [\"other\"]; };\n"
    "        actions = [\"mailto:web@example.com\"]; },\n"
    /* 3 */
    "      { filter = { function = \"pipelines.in_group\"; args = [\"no-such-group\"]; };\n"
    "        actions = [\"mailto:nobody@example.com\"]; },\n"
    /* 4 */
    "      { filter = { function = \"pipelines.in_group\"; args = [\"MY-GROUP\"]; };\n"
    "        actions = [\"slack:#my\"]; }\n"
    "    ); }\n"
    ");\n";

static void
test_any_and_in_group(void **state)
{
	struct config *c = load(rules_conf);
	const struct manager *m = manager_named(c, "gocd");
	struct group_index *g = groups_fixture();
	struct msg msg;

	(void)state;
	route(&msg, m, g, "Stage [up42/12/build/1] is broken", -1);
	assert_true(msg.out.matched[0]);
	assert_true(msg.out.matched[1]);
	assert_false(msg.out.matched[2]);
	assert_false(msg.out.matched[3]);
	assert_true(msg.out.matched[4]);	/* group names ignore case */
	assert_false(msg.out.unresolved);
	assert_int_equal(msg.out.nactions, 3);
	assert_int_equal(msg.out.nmailto, 1);
	expect_actions(&msg.out, "to=<team@example.com> slack=#all,#my");
	route_result_free(&msg.out);

	/* pipeline in the other group; names ignore case */
	route(&msg, m, g, "Stage [WEB/1/deploy/1] passed", -1);
	assert_true(msg.out.matched[0]);
	assert_false(msg.out.matched[1]);
	assert_true(msg.out.matched[2]);
	expect_actions(&msg.out, "to=<web@example.com> slack=#all");
	route_result_free(&msg.out);

	/* a pipeline no group knows */
	route(&msg, m, g, "Stage [unknown/1/build/1] failed", -1);
	assert_true(msg.out.matched[0]);
	for (size_t r = 1; r < m->nrules; r++)
		assert_false(msg.out.matched[r]);
	assert_false(msg.out.unresolved);
	assert_int_equal(msg.out.nmailto, 0);
	expect_actions(&msg.out, "slack=#all");
	route_result_free(&msg.out);

	/* not a stage mail: only pipelines.any matches */
	route(&msg, m, g, "Server Backup Completed Successfully", -1);
	assert_null(msg.in.stage);
	assert_true(msg.out.matched[0]);
	for (size_t r = 1; r < m->nrules; r++)
		assert_false(msg.out.matched[r]);
	assert_false(msg.out.unresolved);
	expect_actions(&msg.out, "slack=#all");
	route_result_free(&msg.out);

	group_index_free(g);
	config_free(c);
}

static const char name_like_conf[] =
    "managers = (\n"
    "  { name = \"gocd\"; url = \"https://ci.example.com/go\";\n"
    "    messages-we-want = { to = \"alerts@example.com\"; };\n"
    "    rules = (\n"
    "      { filter = { function = \"pipelines.name_like_in_group\";\n"
    "                   args = [\"(.+)-release.*\", \"my-group\"]; };\n"
    "        actions = [\"mailto:release@example.com\"]; },\n"
    "      { filter = { function = \"pipelines.name_like_in_group\";\n"
    "                   args = [\"^[a-z]+\", \"my-group\"]; };\n"
    "        actions = [\"slack:#whole\"]; },\n"
    "      { filter = { function = \"pipelines.name_like_in_group\";\n"
    "                   args = [\"^(zz)?(api)\", \"my-group\"]; };\n"
    "        actions = [\"slack:#optional\"]; }\n"
    "    ); }\n"
    ");\n";

static void
test_name_like_in_group(void **state)
{
	struct config *c = load(name_like_conf);
	const struct manager *m = manager_named(c, "gocd");
	struct group_index *g = groups_fixture();
	struct msg msg;

	(void)state;
	/* the capture group names the pipeline: ppp-release-1.2.3 routes like ppp */
	route(&msg, m, g, "Stage [ppp-release-1.2.3/4/build/1] is broken", -1);
	assert_true(msg.out.matched[0]);
	/* without a capture group the whole match names it: "ppp" */
	assert_true(msg.out.matched[1]);
	/* "^(zz)?(api)" does not match */
	assert_false(msg.out.matched[2]);
	expect_actions(&msg.out, "to=<release@example.com> slack=#whole");
	route_result_free(&msg.out);

	/* the capture names a pipeline of another group */
	route(&msg, m, g, "Stage [web-release-2/1/build/1] passed", -1);
	assert_false(msg.out.matched[0]);
	assert_false(msg.out.matched[1]);
	route_result_free(&msg.out);

	/* the capture names no pipeline at all; case does not matter */
	route(&msg, m, g, "Stage [nope-release-2/1/build/1] passed", -1);
	assert_false(msg.out.matched[0]);
	route_result_free(&msg.out);
	route(&msg, m, g, "Stage [PPP-release-9/1/build/1] passed", -1);
	assert_true(msg.out.matched[0]);
	route_result_free(&msg.out);

	/* the regex does not match: "-release" is missing */
	route(&msg, m, g, "Stage [ppp/1/build/1] passed", -1);
	assert_false(msg.out.matched[0]);
	assert_true(msg.out.matched[1]);	/* "ppp" is the whole match */
	route_result_free(&msg.out);

	/* the whole match may be part of the name: "api" of "api2" */
	route(&msg, m, g, "Stage [api2/1/build/1] passed", -1);
	assert_false(msg.out.matched[0]);
	assert_true(msg.out.matched[1]);
	/* the regex matches but its first group took no part: no name */
	assert_false(msg.out.matched[2]);
	route_result_free(&msg.out);

	/* "^[a-z]+" finds nothing in "9lives" */
	route(&msg, m, NULL, "Stage [9lives/1/build/1] passed", -1);
	assert_false(msg.out.matched[1]);
	route_result_free(&msg.out);

	/* not a stage mail */
	route(&msg, m, g, "ppp-release-1 is broken", -1);
	for (size_t r = 0; r < m->nrules; r++)
		assert_false(msg.out.matched[r]);
	assert_int_equal(msg.out.nactions, 0);
	route_result_free(&msg.out);

	group_index_free(g);
	config_free(c);
}

static const char subject_conf[] =
    "managers = (\n"
    "  { name = \"mail\";\n"
    "    messages-we-want = { from = \"go@example.com\"; };\n"
    "    rules = (\n"
    "      { filter = { function = \"mail.in_subject\"; args = [\"server\", \"backup\"]; };\n"
    "        actions = [\"mailto:sys@example.com\", \"mailto:op@example.com\"]; },\n"
    "      { filter = { function = \"mail.in_subject\"; args = [\"BACKUP\", \"failed\"]; };\n"
    "        actions = [\"slack:#ops:full\"]; }\n"
    "    ); }\n"
    ");\n";

static void
test_in_subject(void **state)
{
	struct config *c = load(subject_conf);
	const struct manager *m = manager_named(c, "mail");
	struct msg msg;

	(void)state;
	/* groups never loaded do not matter to mail.in_subject */
	route(&msg, m, NULL, "Server Backup Completed Successfully", -1);
	assert_true(msg.out.matched[0]);
	assert_false(msg.out.matched[1]);
	assert_false(msg.out.unresolved);
	assert_int_equal(msg.out.nmailto, 2);
	expect_actions(&msg.out, "to=<sys@example.com>,<op@example.com>");
	route_result_free(&msg.out);

	route(&msg, m, NULL, "SERVER BACKUP FAILED", -1);
	assert_true(msg.out.matched[0]);
	assert_true(msg.out.matched[1]);
	expect_actions(&msg.out, "to=<sys@example.com>,<op@example.com> slack=#ops");
	assert_int_equal(msg.out.actions[2]->style, SLACK_FULL);
	route_result_free(&msg.out);

	/* every word is needed */
	route(&msg, m, NULL, "Backup Failed", -1);
	assert_false(msg.out.matched[0]);
	assert_true(msg.out.matched[1]);
	route_result_free(&msg.out);
	route(&msg, m, NULL, "Server restarted", -1);
	assert_false(msg.out.matched[0]);
	assert_false(msg.out.matched[1]);
	assert_int_equal(msg.out.nactions, 0);
	route_result_free(&msg.out);
	route(&msg, m, NULL, "", -1);
	assert_false(msg.out.matched[0]);
	route_result_free(&msg.out);

	config_free(c);
}

static const char events_conf[] =
    "managers = (\n"
    "  { name = \"gocd\"; url = \"https://ci.example.com/go\";\n"
    "    messages-we-want = { to = \"alerts@example.com\"; };\n"
    "    rules = (\n"
    "      { filter = { events = [\"BREAKS\", \"FIXED\"]; };\n"
    "        actions = [\"mailto:edges@example.com\"]; },\n"
    "      { filter = { events = [\"CANCELLED\"]; function = \"mail.in_subject\"; args = [\"stage\"]; };\n"
    "        actions = [\"slack:#cancel\"]; },\n"
    "      { actions = [\"slack:#every\"]; }\n"
    "    ); }\n"
    ");\n";

static void
test_events_filter(void **state)
{
	struct config *c = load(events_conf);
	const struct manager *m = manager_named(c, "gocd");
	struct msg msg;

	(void)state;
	route(&msg, m, NULL, "Stage [up42/1/build/1] is broken", -1);
	assert_true(msg.out.matched[0]);
	assert_false(msg.out.matched[1]);
	assert_true(msg.out.matched[2]);
	route_result_free(&msg.out);

	route(&msg, m, NULL, "Stage [up42/1/build/1] passed", -1);
	assert_false(msg.out.matched[0]);
	assert_true(msg.out.matched[2]);
	route_result_free(&msg.out);

	/* the event after edge detection counts, not the subject's */
	route(&msg, m, NULL, "Stage [up42/1/build/1] passed", EVENT_FIXED);
	assert_true(msg.out.matched[0]);
	route_result_free(&msg.out);
	route(&msg, m, NULL, "Stage [up42/1/build/1] is broken", EVENT_FAILS);
	assert_false(msg.out.matched[0]);
	route_result_free(&msg.out);

	route(&msg, m, NULL, "Stage [up42/1/build/1] is cancelled", -1);
	assert_false(msg.out.matched[0]);
	assert_true(msg.out.matched[1]);
	expect_actions(&msg.out, "slack=#cancel,#every");
	route_result_free(&msg.out);

	/* no event (unknown text, or not a stage mail): an events filter fails */
	route(&msg, m, NULL, "Stage [up42/1/build/1] is on fire", -1);
	assert_int_equal(msg.in.event, EVENT_NONE);
	assert_non_null(msg.in.stage);
	assert_false(msg.out.matched[0]);
	assert_false(msg.out.matched[1]);
	assert_true(msg.out.matched[2]);
	route_result_free(&msg.out);
	route(&msg, m, NULL, "stage cancelled, said the operator", -1);
	assert_false(msg.out.matched[1]);
	assert_true(msg.out.matched[2]);
	expect_actions(&msg.out, "slack=#every");
	route_result_free(&msg.out);

	config_free(c);
}

static const char union_conf[] =
    "managers = (\n"
    "  { name = \"gocd\"; url = \"https://ci.example.com/go\";\n"
    "    messages-we-want = { to = \"alerts@example.com\"; };\n"
    "    rules = (\n"
    "      { actions = [\"mailto:a@example.com\", \"slack:#b\"]; },\n"
    "      { filter = { events = [\"PASSES\"]; }; actions = [\"mailto:never@example.com\"]; },\n"
    "      { actions = [\"slack:#b\", \"mailto:a@EXAMPLE.com\", \"mailto:c@example.com\",\n"
    "                   \"mailto:a@example.COM\"]; },\n"
    "      { actions = [\"mailto:A@example.com\", \"slack:#b:brief\", \"slack:#B\",\n"
    "                   \"slack:#b:full\", \"mailto:c@example.com\"]; }\n"
    "    ); }\n"
    ");\n";

static void
test_union_of_actions(void **state)
{
	struct config *c = load(union_conf);
	const struct manager *m = manager_named(c, "gocd");
	struct msg msg;

	(void)state;
	route(&msg, m, NULL, "Stage [up42/1/build/1] is broken", -1);
	assert_true(msg.out.matched[0]);
	assert_false(msg.out.matched[1]);
	assert_true(msg.out.matched[2]);
	assert_true(msg.out.matched[3]);
	/*
	 * First-seen order; mailto targets compare with the domain ignoring
	 * case and the local part exactly; slack targets with their style.
	 */
	assert_int_equal(msg.out.nactions, 6);
	assert_ptr_equal(msg.out.actions[0], &m->rules[0].actions[0]);
	assert_ptr_equal(msg.out.actions[1], &m->rules[0].actions[1]);
	assert_ptr_equal(msg.out.actions[2], &m->rules[2].actions[2]);
	assert_ptr_equal(msg.out.actions[3], &m->rules[3].actions[0]);
	assert_ptr_equal(msg.out.actions[4], &m->rules[3].actions[2]);
	assert_ptr_equal(msg.out.actions[5], &m->rules[3].actions[3]);
	assert_int_equal(msg.out.nmailto, 3);
	expect_actions(&msg.out,
	    "to=<a@example.com>,<c@example.com>,<A@example.com> slack=#b,#B,#b");
	route_result_free(&msg.out);
	assert_null(msg.out.actions);
	assert_null(msg.out.matched);
	config_free(c);
}

static const char unresolved_conf[] =
    "managers = (\n"
    "  { name = \"gocd\"; url = \"https://ci.example.com/go\";\n"
    "    messages-we-want = { to = \"alerts@example.com\"; };\n"
    "    rules = (\n"
    "      { actions = [\"slack:#all\"]; },\n"
    "      { filter = { events = [\"BREAKS\"]; function = \"pipelines.in_group\"; args = [\"my-group\"]; };\n"
    "        actions = [\"mailto:team@example.com\"]; },\n"
    "      { filter = { events = [\"FIXED\"]; function = \"pipelines.name_like_in_group\";\n"
    "                   args = [\"(.+)-release\", \"my-group\"]; };\n"
    "        actions = [\"mailto:release@example.com\"]; },\n"
    "      { filter = { function = \"mail.in_subject\"; args = [\"stage\"]; };\n"
    "        actions = [\"slack:#subject\"]; }\n"
    "    ); }\n"
    ");\n";

static void
test_unresolved(void **state)
{
	struct config *c = load(unresolved_conf);
	const struct manager *m = manager_named(c, "gocd");
	struct group_index *g = groups_fixture();
	struct msg msg;

	(void)state;
	/* an in_group rule is reached and groups were never loaded */
	route(&msg, m, NULL, "Stage [up42/1/build/1] is broken", -1);
	assert_true(msg.out.unresolved);
	assert_true(msg.out.matched[0]);
	assert_false(msg.out.matched[1]);
	assert_true(msg.out.matched[3]);
	expect_actions(&msg.out, "slack=#all,#subject");

	/* the same result reused once groups are known */
	msg.in.groups = g;
	route_message(&msg.in, &msg.out);
	assert_false(msg.out.unresolved);
	assert_true(msg.out.matched[1]);
	assert_int_equal(msg.out.nmailto, 1);
	expect_actions(&msg.out, "to=<team@example.com> slack=#all,#subject");
	route_result_free(&msg.out);

	/* the events filter excludes the group rules first: nothing unresolved */
	route(&msg, m, NULL, "Stage [up42/1/build/1] passed", -1);
	assert_false(msg.out.unresolved);
	expect_actions(&msg.out, "slack=#all,#subject");
	route_result_free(&msg.out);

	/* a name_like rule whose regex matches needs the groups */
	route(&msg, m, NULL, "Stage [ppp-release/1/build/1] is fixed", -1);
	assert_true(msg.out.unresolved);
	assert_false(msg.out.matched[2]);
	route_result_free(&msg.out);
	/* one whose regex does not match could never match: no groups needed */
	route(&msg, m, NULL, "Stage [ppp/1/build/1] is fixed", -1);
	assert_false(msg.out.unresolved);
	route_result_free(&msg.out);

	/* not a stage mail: group rules cannot match, nothing is unresolved */
	route(&msg, m, NULL, "Stage of the server backup", EVENT_BREAKS);
	assert_false(msg.out.unresolved);
	assert_true(msg.out.matched[3]);
	route_result_free(&msg.out);

	/* an empty but loaded index is not "unresolved" */
	{
		struct group_index *none = group_index_new();

		route(&msg, m, none, "Stage [up42/1/build/1] is broken", -1);
		assert_false(msg.out.unresolved);
		assert_false(msg.out.matched[1]);
		route_result_free(&msg.out);
		group_index_free(none);
	}
	group_index_free(g);
	config_free(c);
}

static void
test_unresolved_not_for_mail_rules(void **state)
{
	struct config *c = load(subject_conf);
	const struct manager *m = manager_named(c, "mail");
	struct msg msg;

	(void)state;
	route(&msg, m, NULL, "Stage [up42/1/build/1] is broken", -1);
	assert_false(msg.out.unresolved);
	route_result_free(&msg.out);
	config_free(c);
}

static void
test_no_rules(void **state)
{
	struct config *c = load(select_conf);
	struct msg msg;

	(void)state;
	route(&msg, manager_named(c, "go"), NULL, "Stage [up42/1/build/1] passed", -1);
	assert_int_equal(msg.out.nactions, 0);
	assert_int_equal(msg.out.nmailto, 0);
	assert_false(msg.out.unresolved);
	expect_actions(&msg.out, "");
	route_result_free(&msg.out);
	config_free(c);
}

/*
 * Rules written for the Python mail2alert use Python's re: \w, \d, \s and
 * their negations, (?i), non-greedy quantifiers.  PCRE2 reads them so.
 */
static const char python_conf[] =
    "managers = ( { name = \"gocd\"; url = \"https://ci/go\";\n"
    "  messages-we-want = { to = \"ci@example.com\"; };\n"
    "  rules = (\n"
    "    { filter = { function = \"pipelines.name_like_in_group\";\n"
    "                 args = [\"(\\\\w+)-release-\\\\d+\", \"apps\"]; };\n"
    "      actions = [\"mailto:apps@example.com\"]; },\n"
    "    { filter = { function = \"pipelines.name_like_in_group\";\n"
    "                 args = [\"(?i)^(\\\\S+?)-HOTFIX\", \"apps\"]; };\n"
    "      actions = [\"mailto:hotfix@example.com\"]; },\n"
    "    { filter = { function = \"pipelines.name_like_in_group\";\n"
    "                 args = [\"^(\\\\D+?)\\\\W\", \"apps\"]; };\n"
    "      actions = [\"mailto:prefix@example.com\"]; },\n"
    "    { filter = { function = \"pipelines.name_like_in_group\";\n"
    "                 args = [\"^(a+)+$\", \"apps\"]; };\n"
    "      actions = [\"mailto:slow@example.com\"]; }\n"
    "  ); } );\n";

static void
test_python_regex(void **state)
{
	struct config *c = load(python_conf);
	const struct manager *m = &c->managers[0];
	struct group_index *g = group_index_new();
	struct strbuf long_name = STRBUF_INIT;
	struct msg msg;

	(void)state;
	group_index_add(g, "apps", "myapp");
	group_index_add(g, "apps", "web");
	/* \w+ takes "myapp", \d+ needs digits after "-release-" */
	route(&msg, m, g, "Stage [myapp-release-12/3/build/1] is broken", -1);
	assert_true(msg.out.matched[0]);
	assert_false(msg.out.matched[1]);
	/* \D+? stops at the first non-word character: "myapp" */
	assert_true(msg.out.matched[2]);
	expect_actions(&msg.out, "to=<apps@example.com>,<prefix@example.com>");
	route_result_free(&msg.out);
	/* POSIX ERE read \d as "d": "-release-d" matched, "-release-12" not */
	route(&msg, m, g, "Stage [myapp-release-d/3/build/1] is broken", -1);
	assert_false(msg.out.matched[0]);
	route_result_free(&msg.out);
	/* (?i) and the non-greedy +? : "web" of "web-hotfix-hotfix" */
	route(&msg, m, g, "Stage [web-hotfix-hotfix/1/build/1] passed", -1);
	assert_true(msg.out.matched[1]);
	route_result_free(&msg.out);
	/*
	 * A pattern that backtracks without end gives up at the match limit
	 * (as no match) instead of holding the thread: (a+)+$ on 250 a's and
	 * a b takes 2^250 steps unbounded.
	 */
	for (int i = 0; i < 250; i++)
		strbuf_addc(&long_name, 'a');
	strbuf_adds(&long_name, "b");
	{
		struct strbuf subject = STRBUF_INIT;

		strbuf_addf(&subject, "Stage [%s/1/build/1] passed", long_name.data);
		route(&msg, m, g, subject.data, -1);
		assert_false(msg.out.matched[3]);
		route_result_free(&msg.out);
		strbuf_free(&subject);
	}
	strbuf_free(&long_name);
	group_index_free(g);
	config_free(c);
}

static void
test_describe(void **state)
{
	struct config *c = load(
	    "managers = (\n"
	    "  { name = \"gocd\"; url = \"https://ci.example.com/go\";\n"
	    "    messages-we-want = { to = \"alerts@example.com\"; };\n"
	    "    rules = ( { actions = [\"mailto:a@x\", \"slack:#builds:full\", \"mailto:b@y\"]; } ); },\n"
	    "  { name = \"mail\"; messages-we-want = { from = \"go@example.com\"; };\n"
	    "    rules = ( { actions = [\"slack:@alice\", \"slack:#ops\"]; } ); }\n"
	    ");\n");
	struct strbuf sb = STRBUF_INIT;
	struct msg msg;

	(void)state;
	route(&msg, manager_named(c, "gocd"), NULL, "Stage [api/7/build/2] failed",
	    EVENT_BREAKS);
	route_describe(&sb, &msg.in);
	assert_string_equal(strbuf_str(&sb), "manager=gocd pipeline=api stage=build event=BREAKS");
	strbuf_reset(&sb);
	route_trace_header(&sb, &msg.in);
	assert_string_equal(strbuf_str(&sb), "gocd; pipeline=api; stage=build; event=BREAKS");
	strbuf_reset(&sb);
	route_describe_actions(&sb, &msg.out);
	assert_string_equal(strbuf_str(&sb), "to=<a@x>,<b@y> slack=#builds");
	/* appended to a log line: separated by a space */
	strbuf_reset(&sb);
	strbuf_adds(&sb, "4Bc1X2Y: ");
	route_describe(&sb, &msg.in);
	route_describe_actions(&sb, &msg.out);
	assert_string_equal(strbuf_str(&sb),
	    "4Bc1X2Y: manager=gocd pipeline=api stage=build event=BREAKS "
	    "to=<a@x>,<b@y> slack=#builds");
	route_result_free(&msg.out);

	/* a message that is not a stage mail */
	route(&msg, manager_named(c, "mail"), NULL, "Server Backup Failed", -1);
	strbuf_reset(&sb);
	route_describe(&sb, &msg.in);
	assert_string_equal(strbuf_str(&sb), "manager=mail event=none");
	strbuf_reset(&sb);
	route_trace_header(&sb, &msg.in);
	assert_string_equal(strbuf_str(&sb), "mail; event=none");
	strbuf_reset(&sb);
	route_describe_actions(&sb, &msg.out);
	assert_string_equal(strbuf_str(&sb), "slack=@alice,#ops");
	route_result_free(&msg.out);

	/* a stage mail with an unknown event text */
	route(&msg, manager_named(c, "gocd"), NULL, "Stage [up42/1/test/1] is odd", -1);
	strbuf_reset(&sb);
	route_trace_header(&sb, &msg.in);
	assert_string_equal(strbuf_str(&sb), "gocd; pipeline=up42; stage=test; event=none");
	route_result_free(&msg.out);

	strbuf_free(&sb);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_by_to),
		cmocka_unit_test(test_select_by_from),
		cmocka_unit_test(test_select_first_wins),
		cmocka_unit_test(test_is_trigger),
		cmocka_unit_test(test_any_and_in_group),
		cmocka_unit_test(test_name_like_in_group),
		cmocka_unit_test(test_in_subject),
		cmocka_unit_test(test_events_filter),
		cmocka_unit_test(test_union_of_actions),
		cmocka_unit_test(test_unresolved),
		cmocka_unit_test(test_unresolved_not_for_mail_rules),
		cmocka_unit_test(test_no_rules),
		cmocka_unit_test(test_python_regex),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
