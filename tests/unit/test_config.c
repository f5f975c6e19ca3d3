/*
 * test_config.c - config_parse on text (SPEC section 4): the documented
 * example, defaults, environment expansion, and every error naming the
 * file, the line and the key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "pattern.h"
#include "strbuf.h"

#define PATH "test.conf"

static const struct {
	const char *name, *value;
} env_table[] = {
	{ "SLACK_TOKEN", "xoxb-123" },
	{ "GOUSER", "gouser" },
	{ "GOPASS", "s3cret" },
	{ "TOK", "t" },
	{ "EMPTY", "" },
	{ "INDIRECT", "$GOUSER" },
	{ "DOMAIN", "example.com" },
};

static int env_calls;

/* The environment the tests parse in: a small table, nothing else. */
static const char *
test_env(const char *name, void *arg)
{
	assert_ptr_equal(arg, env_table);
	env_calls++;
	for (size_t i = 0; i < sizeof(env_table) / sizeof(env_table[0]); i++) {
		if (strcmp(env_table[i].name, name) == 0)
			return env_table[i].value;
	}
	return NULL;
}

static struct config *
parse(const char *text, char *err, size_t errlen)
{
	err[0] = '\0';
	return config_parse(text, PATH, test_env, (void *)env_table, err, errlen);
}

/* The regex text yields capture from subject, as routing searches it. */
static void
expect_capture(const char *regex, const char *subject, const char *capture)
{
	char err[256];
	struct pattern *p = pattern_compile(regex, err, sizeof(err));
	size_t start, len;

	if (p == NULL)
		fail_msg("regex \"%s\" does not compile: %s", regex, err);
	assert_true(pattern_search(p, subject, &start, &len));
	assert_int_equal(len, strlen(capture));
	assert_memory_equal(subject + start, capture, len);
	pattern_free(p);
}

static struct config *
parse_ok(const char *text)
{
	char err[1024];
	struct config *c = parse(text, err, sizeof(err));

	if (c == NULL)
		fail_msg("config did not parse: %s", err);
	return c;
}

/*
 * The config must be rejected with a message that starts with prefix
 * ("test.conf:LINE: KEY:") and contains fragment.
 */
static void
expect_error(const char *text, const char *prefix, const char *fragment)
{
	char err[1024];
	struct config *c = parse(text, err, sizeof(err));
	bool rejected = c == NULL;

	config_free(c);
	if (!rejected)
		fail_msg("config parsed, expected \"%s\"", prefix);
	if (strncmp(err, prefix, strlen(prefix)) != 0)
		fail_msg("error \"%s\" does not start with \"%s\"", err, prefix);
	if (fragment != NULL && strstr(err, fragment) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, fragment);
}

/* SPEC section 4, verbatim. */
static const char spec_example[] =
    "socket = \"inet:8895@127.0.0.1\";      # libmilter socket spec; unix:/path also\n"
    "user = \"mail2alert\";                 # drop to this user after opening the socket\n"
    "state-file = \"/var/lib/mail2alert/state.json\";  # groups cache + stage states (optional)\n"
    "unresolved = \"accept\";               # accept | tempfail | \"mailto:addr\"\n"
    "body-limit = 65536;                  # bytes of body kept for Slack :full posts\n"
    "slack-token = \"$SLACK_TOKEN\";        # Bearer token for chat.postMessage\n"
    "slack-api = \"https://slack.com/api\"; # base URL; also reaches Slack-compatible servers\n"
    "managers = (\n"
    "  {\n"
    "    name = \"gocd\";\n"
    "    url = \"https://gocd.example.com/go\";   # GoCD base URL\n"
    "    api = \"auto\";                          # auto | admin | dashboard | legacy (section 6)\n"
    "    user = \"$GOUSER\"; passwd = \"$GOPASS\";  # basic auth, or:\n"
    "    # token = \"$GOCD_TOKEN\";               # personal access token (Bearer)\n"
    "    poll-interval = 30;                    # seconds between pipeline-group polls\n"
    "    messages-we-want = { to = \"mail2alert@example.com\"; };\n"
    "    rules = (\n"
    "      { filter = { events = [\"BREAKS\", \"FIXED\"]; function = \"pipelines.in_group\";\n"
    "                   args = [\"my-group\"]; };\n"
    "        actions = [\"mailto:team@example.com\", \"slack:#builds\"]; }\n"
    "    );\n"
    "  },\n"
    "  {\n"
    "    name = \"mail\";\n"
    "    messages-we-want = { from = \"go@example.com\"; };\n"
    "    rules = ( { filter = { function = \"mail.in_subject\"; args = [\"server\", \"backup\"]; };\n"
    "                actions = [\"mailto:sys@example.com\", \"mailto:op@example.com\"]; } );\n"
    "  }\n"
    ");\n";

static void
test_spec_example(void **state)
{
	struct config *c;
	const struct manager *m;
	const struct rule *r;

	(void)state;
	c = parse_ok(spec_example);
	assert_string_equal(c->path, PATH);
	assert_string_equal(c->socket, "inet:8895@127.0.0.1");
	assert_string_equal(c->user, "mail2alert");
	assert_string_equal(c->state_file, "/var/lib/mail2alert/state.json");
	assert_int_equal(c->unresolved, UNRESOLVED_ACCEPT);
	assert_null(c->unresolved_mailto);
	assert_int_equal(c->body_limit, 65536);
	assert_string_equal(c->slack_token, "xoxb-123");
	assert_string_equal(c->slack_api, "https://slack.com/api");
	assert_int_equal(c->nmanagers, 2);

	m = &c->managers[0];
	assert_string_equal(m->name, "gocd");
	assert_string_equal(m->url, "https://gocd.example.com/go");
	assert_int_equal(m->api, GOCD_API_AUTO);
	assert_string_equal(m->user, "gouser");
	assert_string_equal(m->passwd, "s3cret");
	assert_null(m->token);
	assert_int_equal(m->poll_interval, 30);
	assert_int_equal(m->want, WANT_TO);
	assert_string_equal(m->want_address, "mail2alert@example.com");
	assert_true(manager_needs_groups(m));
	assert_int_equal(m->nrules, 1);
	r = &m->rules[0];
	assert_null(r->name);
	assert_null(r->owner);
	assert_int_equal(r->line, 18);
	assert_int_equal(r->events, EVENT_BIT(EVENT_BREAKS) | EVENT_BIT(EVENT_FIXED));
	assert_int_equal(r->function, FILTER_IN_GROUP);
	assert_int_equal(r->nargs, 1);
	assert_string_equal(r->args[0], "my-group");
	assert_int_equal(r->nactions, 2);
	assert_int_equal(r->actions[0].kind, ACTION_MAILTO);
	assert_string_equal(r->actions[0].target, "team@example.com");
	assert_string_equal(r->actions[0].text, "mailto:team@example.com");
	assert_int_equal(r->actions[1].kind, ACTION_SLACK);
	assert_string_equal(r->actions[1].target, "#builds");
	assert_int_equal(r->actions[1].style, SLACK_BRIEF);
	assert_string_equal(r->actions[1].text, "slack:#builds");

	m = &c->managers[1];
	assert_string_equal(m->name, "mail");
	assert_null(m->url);
	assert_null(m->user);
	assert_null(m->passwd);
	assert_int_equal(m->want, WANT_FROM);
	assert_string_equal(m->want_address, "go@example.com");
	assert_false(manager_needs_groups(m));
	assert_int_equal(m->nrules, 1);
	r = &m->rules[0];
	assert_int_equal(r->line, 26);
	assert_int_equal(r->events, 0);
	assert_int_equal(r->function, FILTER_IN_SUBJECT);
	assert_int_equal(r->nargs, 2);
	assert_string_equal(r->args[0], "server");
	assert_string_equal(r->args[1], "backup");
	assert_int_equal(r->nactions, 2);
	assert_string_equal(r->actions[0].target, "sys@example.com");
	assert_string_equal(r->actions[1].target, "op@example.com");
	config_free(c);
}

static void
test_defaults(void **state)
{
	struct config *c;
	const struct manager *m;

	(void)state;
	c = parse_ok(
	    "managers = (\n"
	    "  { name = \"mail\"; messages-we-want = { from = \"go@example.com\"; }; }\n"
	    ");\n");
	assert_string_equal(c->socket, CONFIG_DEFAULT_SOCKET);
	assert_string_equal(c->socket, "inet:8895@127.0.0.1");
	assert_null(c->user);
	assert_null(c->state_file);
	assert_int_equal(c->unresolved, UNRESOLVED_ACCEPT);
	assert_int_equal(c->body_limit, 65536);
	assert_null(c->slack_token);
	assert_string_equal(c->slack_api, "https://slack.com/api");
	assert_int_equal(c->nmanagers, 1);
	m = &c->managers[0];
	assert_int_equal(m->poll_interval, 30);
	assert_int_equal(m->api, GOCD_API_AUTO);
	assert_null(m->url);
	assert_null(m->token);
	assert_int_equal(m->nrules, 0);
	config_free(c);
}

static void
test_manager_options(void **state)
{
	static const char *const apis[] = { "auto", "admin", "dashboard", "legacy" };
	char text[1024];
	struct config *c;

	(void)state;
	for (int i = 0; i < 4; i++) {
		snprintf(text, sizeof(text),
		    "unresolved = \"tempfail\";\n"
		    "body-limit = 0;\n"
		    "managers = ( {\n"
		    "  name = \"ci\"; url = \"http://127.0.0.1:8153/go\"; api = \"%s\";\n"
		    "  token = \"${TOK}\"; poll-interval = 86400;\n"
		    "  messages-we-want = { to = \"ci@example.com\"; };\n"
		    "} );\n", apis[i]);
		c = parse_ok(text);
		assert_int_equal(c->managers[0].api, (enum gocd_api)i);
		assert_string_equal(gocd_api_name(c->managers[0].api), apis[i]);
		assert_string_equal(c->managers[0].token, "t");
		assert_null(c->managers[0].user);
		assert_int_equal(c->managers[0].poll_interval, 86400);
		assert_int_equal(c->unresolved, UNRESOLVED_TEMPFAIL);
		assert_int_equal(c->body_limit, 0);
		assert_string_equal(c->managers[0].want_address, "ci@example.com");
		config_free(c);
	}
}

static void
test_rule_forms(void **state)
{
	struct config *c;
	const struct manager *m;

	(void)state;
	c = parse_ok(
	    "slack-token = \"xoxb-test\"; managers = ( {\n"
	    "  name = \"gocd\"; url = \"https://ci/go\";\n"
	    "  messages-we-want = { to = \"ci@example.com\"; };\n"
	    "  rules = (\n"
	    "    { name = \"everything\"; owner = \"ops\"; actions = [\"slack:@alice:full\"]; },\n"
	    "    { filter = { function = \"pipelines.all\"; }; actions = []; },\n"
	    "    { filter = { events = [\"PASSES\", \"FAILS\", \"BREAKS\", \"FIXED\", \"CANCELLED\"]; };\n"
	    "      actions = [\"slack:#c:brief\"]; },\n"
	    "    { filter = { function = \"pipelines.name_like_in_group\";\n"
	    "                 args = [\"(.+)-release.*\", \"mygroup\"]; };\n"
	    "      actions = [\"mailto:a@example.com\"]; },\n"
	    "    { filter = { function = \"pipelines.name_like_in_group\";\n"
	    "                 args = [\"^api\", \"g\"]; };\n"
	    "      actions = (\"mailto:b@example.com\"); }\n"
	    "  );\n"
	    "} );\n");
	m = &c->managers[0];
	assert_int_equal(m->nrules, 5);
	assert_string_equal(m->rules[0].name, "everything");
	assert_string_equal(m->rules[0].owner, "ops");
	assert_int_equal(m->rules[0].line, 5);
	assert_int_equal(m->rules[0].function, FILTER_ANY);
	assert_int_equal(m->rules[0].events, 0);
	assert_int_equal(m->rules[0].actions[0].kind, ACTION_SLACK);
	assert_string_equal(m->rules[0].actions[0].target, "@alice");
	assert_int_equal(m->rules[0].actions[0].style, SLACK_FULL);
	assert_int_equal(m->rules[1].function, FILTER_ANY);
	assert_int_equal(m->rules[1].nactions, 0);
	assert_int_equal(m->rules[2].events,
	    EVENT_BIT(EVENT_PASSES) | EVENT_BIT(EVENT_FAILS) | EVENT_BIT(EVENT_BREAKS) |
	    EVENT_BIT(EVENT_FIXED) | EVENT_BIT(EVENT_CANCELLED));
	assert_false(m->rules[2].events & EVENT_BIT(EVENT_NONE));
	assert_string_equal(m->rules[2].actions[0].target, "#c");
	assert_int_equal(m->rules[2].actions[0].style, SLACK_BRIEF);
	assert_int_equal(m->rules[3].function, FILTER_NAME_LIKE);
	assert_int_equal(m->rules[3].line, 9);
	/* the first capture group names the pipeline; without one, the match */
	expect_capture(m->rules[3].args[0], "ppp-release-1.2.3", "ppp");
	assert_string_equal(m->rules[3].args[1], "mygroup");
	expect_capture(m->rules[4].args[0], "api-release-1", "api");
	assert_non_null(m->routes);
	assert_string_equal(m->rules[4].actions[0].target, "b@example.com");
	assert_true(manager_needs_groups(m));
	config_free(c);
}

static void
test_env_expansion(void **state)
{
	struct config *c;

	(void)state;
	env_calls = 0;
	c = parse_ok(
	    "slack-token = \"a-$TOK-${TOK}x$$y$\";\n"
	    "slack-api = \"$1 ${ $-x cost 5$\";\n"
	    "user = \"[$EMPTY]\";\n"
	    "state-file = \"$INDIRECT\";\n"
	    "managers = ( { name = \"m\";\n"
	    "  messages-we-want = { from = \"go@${DOMAIN}\"; };\n"
	    "  rules = ( { filter = { function = \"mail.in_subject\"; args = [\"$TOK\"]; };\n"
	    "              actions = [\"mailto:ops@$DOMAIN\"]; } ); } );\n");
	assert_string_equal(c->slack_token, "a-t-tx$y$");
	/* a '$' not followed by a name is itself */
	assert_string_equal(c->slack_api, "$1 ${ $-x cost 5$");
	/* set but empty is fine */
	assert_string_equal(c->user, "[]");
	/* values are not expanded again */
	assert_string_equal(c->state_file, "$GOUSER");
	assert_string_equal(c->managers[0].want_address, "go@example.com");
	assert_string_equal(c->managers[0].rules[0].args[0], "t");
	assert_string_equal(c->managers[0].rules[0].actions[0].target, "ops@example.com");
	assert_int_equal(env_calls, 7);
	config_free(c);
}

static void
test_unresolved_mailto(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok(
	    "unresolved = \"mailto:x@y\";\n"
	    "managers = ( { name = \"m\"; messages-we-want = { to = \"a@b\"; }; } );\n");
	assert_int_equal(c->unresolved, UNRESOLVED_MAILTO);
	assert_string_equal(c->unresolved_mailto, "x@y");
	config_free(c);
	expect_error(
	    "managers = ( { name = \"m\"; messages-we-want = { to = \"a@b\"; }; } );\n"
	    "unresolved = \"mailto:\";\n",
	    PATH ":2: unresolved: must be", NULL);
	expect_error(
	    "managers = ( { name = \"m\"; messages-we-want = { to = \"a@b\"; }; } );\n"
	    "\n"
	    "unresolved = \"mailto:x y@z\";\n",
	    PATH ":3: unresolved: must be", NULL);
}

static void
test_syntax_error(void **state)
{
	(void)state;
	expect_error(
	    "socket = \"unix:/x\";\n"
	    "managers = (\n"
	    "  { name == \"gocd\"; }\n"
	    ");\n",
	    PATH ":3: syntax error", NULL);
	expect_error(
	    "socket = \"unix:/x\";\n"
	    "\n"
	    "socket = \"unix:/y\";\n",
	    PATH ":3: syntax error", NULL);
	expect_error("managers = ( {\n", PATH ":", "syntax error");
}

/* A valid config, lines numbered, that the error tests below break. */
#define L01 "socket = \"unix:/run/mail2alert.sock\";\n"
#define L02 "managers = (\n"
#define L03 "  {\n"
#define L04 "    name = \"gocd\";\n"
#define L05 "    url = \"https://gocd.example.com/go\";\n"
#define L06 "    messages-we-want = { to = \"m2a@example.com\"; };\n"
#define L07 "    rules = (\n"
#define L08 "      {\n"
#define L09 "        filter = {\n"
#define L10 "          events = [\"BREAKS\"];\n"
#define L11 "          function = \"pipelines.in_group\";\n"
#define L12 "          args = [\"g\"];\n"
#define L13 "        };\n"
#define L14 "        actions = [\"mailto:team@example.com\"];\n"
#define L15 "      }\n"
#define L16 "    );\n"
#define L17 "  }\n"
#define L18 ");\n"

static void
test_base_config_is_valid(void **state)
{
	struct config *c;

	(void)state;
	c = parse_ok(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13 L14 L15 L16 L17 L18);
	assert_string_equal(c->socket, "unix:/run/mail2alert.sock");
	assert_int_equal(c->managers[0].rules[0].line, 8);
	config_free(c);
}

static void
test_unknown_keys(void **state)
{
	(void)state;
	expect_error(L01 "sockett = \"x\";\n" L02 L03 L04 L05 L06 L07 L08 L09 L10 L11
	    L12 L13 L14 L15 L16 L17 L18,
	    PATH ":2: sockett: unknown key", NULL);
	expect_error(L01 L02 L03 L04 L05 "    poll_interval = 30;\n" L06 L07 L08 L09
	    L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":6: managers[0].poll_interval: unknown key", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        filters = {};\n" L14 L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].filters: unknown key", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11
	    "          event = [\"FIXED\"];\n" L12 L13 L14 L15 L16 L17 L18,
	    PATH ":12: managers[0].rules[0].filter.event: unknown key", NULL);
	expect_error(L01 L02 L03 L04 L05
	    "    messages-we-want = { to = \"a@b\"; cc = \"c@d\"; };\n"
	    L07 L08 L09 L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":6: managers[0].messages-we-want.cc: unknown key", NULL);
	/* keys are case-sensitive */
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        Actions = [\"mailto:team@example.com\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].Actions: unknown key", NULL);
}

static void
test_wrong_types(void **state)
{
	(void)state;
	expect_error("socket = 8895;\n" L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    L14 L15 L16 L17 L18,
	    PATH ":1: socket: must be a string", NULL);
	expect_error(L01 "body-limit = \"64k\";\n" L02 L03 L04 L05 L06 L07 L08 L09 L10
	    L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":2: body-limit: must be an integer", NULL);
	expect_error(L01 "body-limit = 99999999;\n" L02 L03 L04 L05 L06 L07 L08 L09 L10
	    L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":2: body-limit: must be between", NULL);
	expect_error(L01 L02 L03 L04 "    poll-interval = 0;\n" L05 L06 L07 L08 L09
	    L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":5: managers[0].poll-interval: must be between 1 and 86400", NULL);
	expect_error(L01 L02 L03 L04 "    poll-interval = \"30\";\n" L05 L06 L07 L08
	    L09 L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":5: managers[0].poll-interval: must be an integer", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09
	    "          events = \"BREAKS\";\n" L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":10: managers[0].rules[0].filter.events: must be a list", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11
	    "          args = (\"g\", 2);\n" L13 L14 L15 L16 L17 L18,
	    PATH ":12: managers[0].rules[0].filter.args: element 2 must be a string", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = \"mailto:team@example.com\";\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions: must be a list", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08
	    "        filter = [\"BREAKS\"];\n" "        actions = [];\n" L15 L16 L17 L18,
	    PATH ":9: managers[0].rules[0].filter: must be a group", NULL);
	expect_error(L01 L02 L03 L04 L05 "    messages-we-want = \"m2a@example.com\";\n"
	    L07 L08 L09 L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":6: managers[0].messages-we-want: must be a group", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 "    rules = { };\n" L17 L18,
	    PATH ":7: managers[0].rules: must be a list", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 "      \"mailto:a@b\" );\n" L17 L18,
	    PATH ":8: managers[0].rules[0]: a rule must be a group", NULL);
	expect_error(L01 "managers = { name = \"gocd\"; };\n",
	    PATH ":2: managers: must be a list", NULL);
	expect_error(L01 L02 "  \"gocd\" );\n",
	    PATH ":3: managers[0]: a manager must be a group", NULL);
	expect_error(L01 L02 L03 "    name = [\"gocd\"];\n" L05 L06 L17 L18,
	    PATH ":4: managers[0].name: must be a string", NULL);
}

static void
test_function_errors(void **state)
{
	(void)state;
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10
	    "          function = \"pipelines.in_groups\";\n" L12 L13 L14 L15 L16 L17 L18,
	    PATH ":11: managers[0].rules[0].filter.function: unknown function "
	    "\"pipelines.in_groups\"", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11
	    "          args = [];\n" L13 L14 L15 L16 L17 L18,
	    PATH ":12: managers[0].rules[0].filter.args: pipelines.in_group takes", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11
	    "          args = [\"g\", \"h\"];\n" L13 L14 L15 L16 L17 L18,
	    PATH ":12: managers[0].rules[0].filter.args: pipelines.in_group takes", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10
	    "          function = \"pipelines.name_like_in_group\";\n" L12 L13 L14 L15
	    L16 L17 L18,
	    PATH ":12: managers[0].rules[0].filter.args: pipelines.name_like_in_group takes",
	    NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10
	    "          function = \"pipelines.any\";\n" L12 L13 L14 L15 L16 L17 L18,
	    PATH ":12: managers[0].rules[0].filter.args: pipelines.any takes no args", NULL);
	/* args missing: the message points at the function */
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10
	    "          function = \"mail.in_subject\";\n" L13 L14 L15 L16 L17 L18,
	    PATH ":11: managers[0].rules[0].filter.args: mail.in_subject takes", NULL);
	/* args without a function: the default pipelines.any takes none */
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":11: managers[0].rules[0].filter.args: pipelines.any takes no args", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10
	    "          function = \"pipelines.name_like_in_group\";\n"
	    "          args = [\"(unclosed-release\", \"g\"];\n" L13 L14 L15 L16 L17 L18,
	    PATH ":12: managers[0].rules[0].filter.args: regex \"(unclosed-release\" "
	    "does not compile", NULL);
}

/* Expect the regex of a name_like rule on line 12 to be refused with why. */
static void
expect_regex_refused(const char *regex, const char *why)
{
	struct strbuf text = STRBUF_INIT, prefix = STRBUF_INIT;

	strbuf_addf(&text, "%s%s%s%s%s%s%s%s%s%s"
	    "          function = \"pipelines.name_like_in_group\";\n"
	    "          args = [\"%s\", \"g\"];\n" "%s%s%s%s%s%s",
	    L01, L02, L03, L04, L05, L06, L07, L08, L09, L10, regex,
	    L13, L14, L15, L16, L17, L18);
	strbuf_adds(&prefix, PATH ":12: managers[0].rules[0].filter.args: regex \"");
	expect_error(text.data, prefix.data, why);
	strbuf_free(&text);
	strbuf_free(&prefix);
}

/*
 * Patterns whose cost is out of proportion are refused before they are
 * compiled, naming file, line and key (issue 14: stacked quantifiers made
 * glibc's regcomp take exponential memory and crash -t).
 */
static void
test_costly_regex_refused(void **state)
{
	struct strbuf regex = STRBUF_INIT;

	(void)state;
	/* 1025 characters */
	for (int i = 0; i < 1025; i++)
		strbuf_addc(&regex, 'a');
	expect_regex_refused(regex.data, "is too costly: 1025 characters, at most 1024");
	/* 17 groups, one inside the other */
	strbuf_reset(&regex);
	for (int i = 0; i < 17; i++)
		strbuf_addc(&regex, '(');
	strbuf_adds(&regex, "a");
	for (int i = 0; i < 17; i++)
		strbuf_addc(&regex, ')');
	expect_regex_refused(regex.data, "is too costly: groups nested more than 16 deep");
	/* 24 stacked quantifiers on nested groups, the crash of issue 14 */
	strbuf_reset(&regex);
	for (int i = 0; i < 24; i++)
		strbuf_addc(&regex, '(');
	strbuf_adds(&regex, "a*");
	for (int i = 0; i < 24; i++)
		strbuf_adds(&regex, ")*");
	expect_regex_refused(regex.data, "is too costly: groups nested more than 16 deep");
	strbuf_reset(&regex);
	for (int i = 0; i < 65; i++)
		strbuf_adds(&regex, "a?");
	expect_regex_refused(regex.data, "is too costly: more than 64 repetitions");
	expect_regex_refused("(a{1,256})", "is too costly: repeats 256 times, at most 255");
	expect_regex_refused("a{99999999999}", "is too costly: repeats");
	strbuf_free(&regex);
}

/* What the cost check must not refuse: escapes, classes, lazy and group syntax. */
static void
test_affordable_regex_accepted(void **state)
{
	static const char *const ok[] = {
		"(\\\\w+)-release-\\\\d+", "(?i)^(\\\\S+?)-hotfix", "[(*+?{]+x", "a{255}",
		"\\\\x{41}{2}", "\\\\p{L}+", "[[:alpha:]]+(?:-\\\\d+)*?", "a{,300}", "x{y}",
	};
	struct strbuf regex = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct strbuf text = STRBUF_INIT;
		char err[1024];
		struct config *c;

		strbuf_addf(&text, "%s%s%s%s%s%s%s%s%s%s"
		    "          function = \"pipelines.name_like_in_group\";\n"
		    "          args = [\"%s\", \"g\"];\n" "%s%s%s%s%s%s",
		    L01, L02, L03, L04, L05, L06, L07, L08, L09, L10, ok[i],
		    L13, L14, L15, L16, L17, L18);
		c = parse(text.data, err, sizeof(err));
		if (c == NULL)
			fail_msg("%s refused: %s", ok[i], err);
		config_free(c);
		strbuf_free(&text);
	}
	/* 64 repetitions and 16 levels are still fine */
	for (int i = 0; i < 16; i++)
		strbuf_addc(&regex, '(');
	for (int i = 0; i < 16; i++)
		strbuf_adds(&regex, ")?");
	for (int i = 0; i < 48; i++)
		strbuf_adds(&regex, "b+?");
	{
		char err[256];
		struct pattern *p = pattern_compile(regex.data, err, sizeof(err));

		if (p == NULL)
			fail_msg("refused: %s", err);
		pattern_free(p);
	}
	strbuf_free(&regex);
}

static void
test_event_errors(void **state)
{
	(void)state;
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09
	    "          events = [\"BREAKS\",\n"
	    "                    \"broken\"];\n" L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":11: managers[0].rules[0].filter.events: unknown event \"broken\"", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09
	    "          events = [\"breaks\"];\n" L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":10: managers[0].rules[0].filter.events: unknown event \"breaks\"", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09
	    "          events = [];\n" L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":10: managers[0].rules[0].filter.events: empty", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09
	    "          events = (\"BREAKS\", 3);\n" L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":10: managers[0].rules[0].filter.events: element 2 must be a string", NULL);
}

static void
test_action_errors(void **state)
{
	(void)state;
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"mailto:team@example.com\",\n"
	    "                   \"email:team@example.com\"];\n" L15 L16 L17 L18,
	    PATH ":15: managers[0].rules[0].actions: \"email:team@example.com\": "
	    "unknown action", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"slack:#builds:loud\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions: \"slack:#builds:loud\": style must be "
	    ":brief or :full", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"slack:builds\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions: \"slack:builds\": expected", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"slack:#\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions: \"slack:#\"", NULL);
	expect_error(
	    L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"slack:#nohook\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions: \"slack:#nohook\" needs slack-token", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"slack:@:full\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions: \"slack:@:full\"", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"mailto:@example.com\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions: \"mailto:@example.com\": not a mail address",
	    NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"mailto:team@\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions: \"mailto:team@\": not a mail address",
	    NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"mailto:team\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions: \"mailto:team\": not a mail address", NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"mailto:a@b>,<evil@x\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions: \"mailto:a@b>,<evil@x\": not a mail address",
	    NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"mailto:a@b\\r\\nBcc: x@y\"];\n" L15 L16 L17 L18,
	    PATH ":14: managers[0].rules[0].actions:", "not a mail address");
	/* a rule must say what to do */
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13 L15 L16 L17 L18,
	    PATH ":8: managers[0].rules[0].actions: missing", NULL);
}

static void
test_manager_errors(void **state)
{
	(void)state;
	/* messages-we-want */
	expect_error(L01 L02 L03 L04 L05 L07 L08 L09 L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":3: managers[0].messages-we-want: missing", NULL);
	expect_error(L01 L02 L03 L04 L05
	    "    messages-we-want = { to = \"a@example.com\"; from = \"b@example.com\"; };\n"
	    L07 L08 L09 L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":6: managers[0].messages-we-want: needs exactly one of to or from", NULL);
	expect_error(L01 L02 L03 L04 L05 "    messages-we-want = { };\n"
	    L07 L08 L09 L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":6: managers[0].messages-we-want: needs exactly one of to or from", NULL);
	expect_error(L01 L02 L03 L04 L05 "    messages-we-want = { to = \"<a@c>\"; };\n"
	    L07 L08 L09 L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":6: managers[0].messages-we-want:", "not a mail address");
	expect_error(L01 L02 L03 L04 L05 "    messages-we-want = { to = \"a b@c\"; };\n"
	    L07 L08 L09 L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":6: managers[0].messages-we-want:", "not a mail address");
	/* name */
	expect_error(L01 L02 L03 L05 L06 L07 L08 L09 L10 L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":3: managers[0]: name is missing", NULL);
	expect_error(L01 L02 L03 "    name = \"go cd\";\n" L05 L06 L17 L18,
	    PATH ":4: managers[0]: name \"go cd\"", NULL);
	expect_error(L01 L02 L03 "    name = \"\";\n" L05 L06 L17 L18,
	    PATH ":3: managers[0]: name is missing", NULL);
	/* a gocd manager polls */
	expect_error(L01 L02 L03 L04 L06 L17 L18,
	    PATH ":3: managers[0]: manager \"gocd\" polls GoCD and needs url", NULL);
	/* rules that need groups need a manager that polls */
	expect_error(L01 L02 L03 "    name = \"ci\";\n" L06 L07 L08 L09 L10 L11 L12 L13
	    L14 L15 L16 L17 L18,
	    PATH ":3: managers[0]: rules use pipeline groups, so the manager needs url", NULL);
	expect_error(L01 L02 L03 "    name = \"ci\";\n" L06 L07 L08
	    "        filter = { function = \"pipelines.name_like_in_group\"; args = [\"(.*)\", \"g\"]; };\n"
	    L14 L15 L16 L17 L18,
	    PATH ":3: managers[0]: rules use pipeline groups", NULL);
	/* credentials */
	expect_error(L01 L02 L03 L04 L05 "    user = \"$GOUSER\";\n" L06 L17 L18,
	    PATH ":3: managers[0]: user and passwd (or passwd-file) go together", NULL);
	expect_error(L01 L02 L03 L04 L05 "    passwd = \"$GOPASS\";\n" L06 L17 L18,
	    PATH ":3: managers[0]: user and passwd (or passwd-file) go together", NULL);
	expect_error(L01 L02 L03 L04 L05
	    "    user = \"u\"; passwd = \"p\"; token = \"t\";\n" L06 L17 L18,
	    PATH ":3: managers[0]: use either user/passwd or token", NULL);
	expect_error(L01 L02 L03 L04 L05 "    api = \"v1\";\n" L06 L17 L18,
	    PATH ":6: managers[0].api: must be auto, admin, dashboard or legacy", NULL);
}

static void
test_duplicate_manager(void **state)
{
	(void)state;
	expect_error(
	    "managers = (\n"
	    "  { name = \"mail\"; messages-we-want = { from = \"a@example.com\"; }; },\n"
	    "  { name = \"other\"; messages-we-want = { from = \"b@example.com\"; }; },\n"
	    "  {\n"
	    "    name = \"mail\";\n"
	    "    messages-we-want = { from = \"c@example.com\"; };\n"
	    "  }\n"
	    ");\n",
	    PATH ":4: managers[2]: a manager named \"mail\" already exists", NULL);
}

static void
test_unset_environment(void **state)
{
	(void)state;
	expect_error("slack-token = \"$NOT_SET\";\n" L02 L03 L04 L05 L06 L17 L18,
	    PATH ":1: slack-token: environment variable NOT_SET is not set", NULL);
	expect_error(L01 L02 L03 L04 L05 "    user = \"$GOUSER\";\n"
	    "    passwd = \"${GOPASSWORD}\";\n" L06 L17 L18,
	    PATH ":7: managers[0].passwd: environment variable GOPASSWORD is not set", NULL);
	/* "$TOKx" is the variable TOKx, not $TOK and "x" */
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11 L12 L13
	    "        actions = [\"mailto:team@example.com\",\n"
	    "                   \"slack:#$TOKx\"];\n" L15 L16 L17 L18,
	    PATH ":15: managers[0].rules[0].actions: environment variable TOKx is not set",
	    NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09 L10 L11
	    "          args = [\"${UNSET}\"];\n" L13 L14 L15 L16 L17 L18,
	    PATH ":12: managers[0].rules[0].filter.args: environment variable UNSET is not set",
	    NULL);
	expect_error(L01 L02 L03 L04 L05 L06 L07 L08 L09
	    "          events = [\"$UNSET\"];\n" L11 L12 L13 L14 L15 L16 L17 L18,
	    PATH ":10: managers[0].rules[0].filter.events: environment variable UNSET", NULL);
	expect_error("user = \"${TOK\";\n" L02 L03 L04 L05 L06 L17 L18,
	    PATH ":1: user: unterminated ${", NULL);
}

static void
test_unresolved_invalid(void **state)
{
	(void)state;
	expect_error(L01 "unresolved = \"reject\";\n" L02 L03 L04 L05 L06 L17 L18,
	    PATH ":2: unresolved: must be \"accept\", \"tempfail\" or \"mailto:ADDRESS\"",
	    NULL);
	expect_error(L01 "unresolved = \"Accept\";\n" L02 L03 L04 L05 L06 L17 L18,
	    PATH ":2: unresolved: must be", NULL);
	expect_error(L01 "unresolved = true;\n" L02 L03 L04 L05 L06 L17 L18,
	    PATH ":2: unresolved: must be a string", NULL);
}

static void
test_missing_managers(void **state)
{
	(void)state;
	/* nothing to point at: no line of its own */
	expect_error(L01, PATH ":", "managers: missing");
	expect_error("", PATH ":", "managers: missing");
}

/* Saved Slack posts are kept only for destinations the config still has. */
static void
test_slack_destination_known(void **state)
{
	struct config *c = parse_ok(
	    "slack-token = \"xoxb-1\";\n"
	    "slack-webhooks = ( { channel = \"#hooked\"; url = \"https://h/x\"; } );\n"
	    "chat-webhooks = ( { name = \"ops\"; service = \"mattermost\";\n"
	    "  url = \"https://mm.example.com/hooks/x\"; } );\n"
	    "managers = ( { name = \"m\"; url = \"https://go\";\n"
	    "  messages-we-want = { to = \"a@b\"; };\n"
	    "  rules = ( { actions = [\"mailto:x@y\", \"slack:#builds:full\"]; },\n"
	    "            { actions = [\"slack:@alice\"]; } );\n"
	    "  teams = ( { groups = [\"g\"]; actions = [\"slack:#team\"]; } ); } );\n");

	(void)state;
	assert_true(config_chat_destination_known(c, "#builds", false));
	assert_true(config_chat_destination_known(c, "@alice", false));
	assert_true(config_chat_destination_known(c, "#team", false));
	assert_true(config_chat_destination_known(c, "#hooked", false));
	assert_false(config_chat_destination_known(c, "#gone", false));
	assert_false(config_chat_destination_known(c, "#Builds", false));
	assert_false(config_chat_destination_known(c, "x@y", false));
	assert_false(config_chat_destination_known(c, "#builds:full", false));
	/* chat: posts by the name of their chat-webhooks entry */
	assert_true(config_chat_destination_known(c, "ops", true));
	assert_false(config_chat_destination_known(c, "gone", true));
	assert_false(config_chat_destination_known(c, "#builds", true));
	config_free(c);
}

/* An error about a secret key never shows its value, nor a tail after '$'. */
static void
test_secret_never_in_errors(void **state)
{
	static const char *const values[] = {
		"pa$sword-tail", "pa${sword-tail", "pa${sword", "x$y$z",
	};
	static const char *const keys[] = { "passwd", "token" };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
			char text[512], err[1024];
			struct config *c;

			snprintf(text, sizeof(text), "managers = ( { name = \"m\"; url = "
			    "\"https://go\"; %s%s = \"%s\"; messages-we-want = { to = "
			    "\"a@b\"; }; } );", k == 0 ? "user = \"u\"; " : "", keys[k],
			    values[i]);
			c = parse(text, err, sizeof(err));
			if (c != NULL)
				fail_msg("parsed: %s", text);
			if (strstr(err, keys[k]) == NULL || strstr(err, "not shown") == NULL)
				fail_msg("unclear error: %s", err);
			if (strstr(err, "sword") != NULL || strstr(err, "tail") != NULL ||
			    strstr(err, "$y") != NULL || strstr(err, " y ") != NULL)
				fail_msg("secret in error: %s", err);
		}
	}
	/* a value that is one reference names the variable: it is no secret */
	expect_error("managers = ( { name = \"m\"; url = \"https://go\"; "
	    "token = \"${NO_SUCH}\"; messages-we-want = { to = \"a@b\"; }; } );",
	    PATH ":1: managers[0].token:", "environment variable NO_SUCH is not set");
	/* keys that are no secret still quote the value */
	expect_error("managers = ( { name = \"m\"; url = \"https://go\"; user = \"u${x\"; "
	    "passwd = \"p\"; messages-we-want = { to = \"a@b\"; }; } );",
	    PATH ":1: managers[0].user:", "unterminated ${ in \"u${x\"");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_slack_destination_known),
		cmocka_unit_test(test_secret_never_in_errors),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_manager_options),
		cmocka_unit_test(test_rule_forms),
		cmocka_unit_test(test_env_expansion),
		cmocka_unit_test(test_unresolved_mailto),
		cmocka_unit_test(test_syntax_error),
		cmocka_unit_test(test_base_config_is_valid),
		cmocka_unit_test(test_unknown_keys),
		cmocka_unit_test(test_wrong_types),
		cmocka_unit_test(test_function_errors),
		cmocka_unit_test(test_event_errors),
		cmocka_unit_test(test_action_errors),
		cmocka_unit_test(test_manager_errors),
		cmocka_unit_test(test_duplicate_manager),
		cmocka_unit_test(test_unset_environment),
		cmocka_unit_test(test_unresolved_invalid),
		cmocka_unit_test(test_missing_managers),
		cmocka_unit_test(test_costly_regex_refused),
		cmocka_unit_test(test_affordable_regex_accepted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
