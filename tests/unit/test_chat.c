/*
 * test_chat.c - the chat drivers (payload, answer, rate limit), the
 * chat-webhooks config and chat: actions, Slack destinations and user
 * lookups, and chat posts in the state file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat_driver.h"
#include "chat_target.h"
#include "config.h"
#include "slack_lookup.h"
#include "state_doc.h"
#include "xalloc.h"

static struct slack_post *
new_post(const char *channel, bool named, enum slack_style style)
{
	struct slack_post *p = xcalloc(1, sizeof(*p));

	p->channel = xstrdup(channel);
	p->named = named;
	p->style = style;
	p->subject = xstrdup("Stage [api/1/build/1] is broken <!channel>");
	p->from = xstrdup("GoCD <go@example.com>");
	p->text = xstrdup("See details: http://gocd/x");
	p->event = EVENT_BREAKS;
	p->queue_id = xstrdup("4Bc1X2Y");
	return p;
}

static enum chat_outcome
classify(const struct chat_driver *d, long status, const char *body, char *why, size_t len)
{
	struct chat_answer a = { .status = status, .body = body, .len = body ? strlen(body) : 0,
	    .retry_after = -1, .ratelimit_reset = -1 };

	why[0] = '\0';
	return d->classify(&a, why, len);
}

static void
test_webhook_payloads_name_no_channel(void **state)
{
	const struct chat_driver *hooks[] = { &chat_slack_webhook, &chat_mattermost,
	    &chat_rocketchat, &chat_teams };
	struct slack_post *post = new_post("#builds", false, SLACK_BRIEF);

	(void)state;
	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		char *json = hooks[i]->payload(post, "#builds");
		cJSON *root = cJSON_Parse(json);

		assert_non_null(root);
		assert_null(cJSON_GetObjectItemCaseSensitive(root, "channel"));
		assert_null(strstr(json, "\"channel\""));
		cJSON_Delete(root);
		free(json);
	}
	slack_post_free(post);
}

static void
test_slack_api_payload(void **state)
{
	struct slack_post *post = new_post("#builds", false, SLACK_FULL);
	char *json = chat_slack_api.payload(post, "U0ALICE0001");

	(void)state;
	/* what came from mail is escaped: "<!channel>" must not notify anyone */
	assert_string_equal(json, "{\"channel\":\"U0ALICE0001\",\"text\":\"Message from: GoCD "
	    "&lt;go@example.com&gt;\",\"attachments\":[{\"fallback\":\"Stage [api/1/build/1] is "
	    "broken &lt;!channel&gt;\",\"title\":\"Stage [api/1/build/1] is broken "
	    "&lt;!channel&gt;\",\"text\":\"See details: http://gocd/x\",\"color\":\"#D50200\"}]}");
	free(json);
	slack_post_free(post);
}

static void
test_rocketchat_text_not_escaped(void **state)
{
	struct slack_post *post = new_post("rc", true, SLACK_BRIEF);
	char *json = chat_rocketchat.payload(post, NULL);

	(void)state;
	assert_non_null(strstr(json, "\"title\":\"Stage [api/1/build/1] is broken <!channel>\""));
	free(json);
	json = chat_mattermost.payload(post, NULL);
	assert_non_null(strstr(json, "\"title\":\"Stage [api/1/build/1] is broken "
	    "&lt;!channel&gt;\""));
	free(json);
	slack_post_free(post);
}

static void
test_teams_card(void **state)
{
	struct slack_post *post = new_post("team", true, SLACK_BRIEF);
	char *json = chat_teams.payload(post, NULL);
	cJSON *root = cJSON_Parse(json);
	const cJSON *att = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "attachments"), 0);
	const cJSON *card = cJSON_GetObjectItem(att, "content");
	const cJSON *body = cJSON_GetObjectItem(card, "body");

	(void)state;
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(root, "type")), "message");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(att, "contentType")),
	    "application/vnd.microsoft.card.adaptive");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(card, "type")),
	    "AdaptiveCard");
	/* brief: title and text, no "Message from" */
	assert_int_equal(cJSON_GetArraySize(body), 2);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(body, 0), "color")), "Attention");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(body, 1), "text")), "See details: http://gocd/x");
	cJSON_Delete(root);
	free(json);
	slack_post_free(post);
}

static void
test_answers(void **state)
{
	char why[128];

	(void)state;
	/* Slack Web API: transient errors retried, ratelimited waits, others final */
	assert_int_equal(classify(&chat_slack_api, 200, "{\"ok\":true}", why, sizeof(why)),
	    CHAT_SENT);
	assert_int_equal(classify(&chat_slack_api, 200, "{\"ok\":false,\"error\":"
	    "\"internal_error\"}", why, sizeof(why)), CHAT_RETRY);
	assert_string_equal(why, "internal_error");
	assert_int_equal(classify(&chat_slack_api, 200, "{\"ok\":false,\"error\":"
	    "\"fatal_error\"}", why, sizeof(why)), CHAT_RETRY);
	assert_int_equal(classify(&chat_slack_api, 200, "{\"ok\":false,\"error\":"
	    "\"ratelimited\"}", why, sizeof(why)), CHAT_RATE_LIMITED);
	assert_int_equal(classify(&chat_slack_api, 200, "{\"ok\":false,\"error\":"
	    "\"channel_not_found\"}", why, sizeof(why)), CHAT_REJECTED);
	/* Mattermost: "ok", AppError ids */
	assert_int_equal(classify(&chat_mattermost, 200, "ok", why, sizeof(why)), CHAT_SENT);
	assert_int_equal(classify(&chat_mattermost, 403, "{\"id\":\"web.incoming_webhook."
	    "channel_locked.app_error\",\"status_code\":403}", why, sizeof(why)), CHAT_REJECTED);
	assert_string_equal(why, "HTTP 403 web.incoming_webhook.channel_locked.app_error");
	/* Rocket.Chat: {"success": ...} */
	assert_int_equal(classify(&chat_rocketchat, 200, "{\"success\":true}", why, sizeof(why)),
	    CHAT_SENT);
	assert_int_equal(classify(&chat_rocketchat, 400, "{\"success\":false,\"error\":"
	    "\"overriding destination channel is disabled for this integration\"}", why,
	    sizeof(why)), CHAT_REJECTED);
	assert_string_equal(why, "HTTP 400 overriding_destination_channel_is_disabled_for_this_"
	    "integration");
	assert_int_equal(classify(&chat_rocketchat, 200, "{\"success\":false}", why, sizeof(why)),
	    CHAT_REJECTED);
	assert_int_equal(classify(&chat_rocketchat, 503, "Service Unavailable", why, sizeof(why)),
	    CHAT_RETRY);
	/* Teams: 202 empty, error codes */
	assert_int_equal(classify(&chat_teams, 202, "", why, sizeof(why)), CHAT_SENT);
	assert_int_equal(classify(&chat_teams, 400, "{\"error\":{\"code\":"
	    "\"TriggerInputSchemaMismatch\",\"message\":\"x\"}}", why, sizeof(why)), CHAT_REJECTED);
	assert_string_equal(why, "HTTP 400 TriggerInputSchemaMismatch");
	assert_int_equal(classify(&chat_teams, 429, "", why, sizeof(why)), CHAT_RATE_LIMITED);
}

static void
test_rate_waits(void **state)
{
	long long now = 1700000000000LL;
	struct chat_answer a = { .status = 429, .retry_after = -1, .ratelimit_reset = -1 };

	(void)state;
	/* Rocket.Chat: X-RateLimit-Reset is the window's end in ms; rounded up */
	a.ratelimit_reset = now + 2500;
	assert_int_equal(chat_rocketchat.rate_wait(&a, now), 3);
	a.ratelimit_reset = now - 10;
	assert_int_equal(chat_rocketchat.rate_wait(&a, now), 0);
	a.ratelimit_reset = now + 7200LL * 1000;	/* not believed: back off */
	assert_int_equal(chat_rocketchat.rate_wait(&a, now), -1);
	a.ratelimit_reset = -1;
	assert_int_equal(chat_rocketchat.rate_wait(&a, now), -1);
	a.retry_after = 4;
	assert_int_equal(chat_rocketchat.rate_wait(&a, now), 4);
	/* Mattermost: seconds; Slack and Teams: Retry-After only */
	a.retry_after = -1;
	a.ratelimit_reset = 5;
	assert_int_equal(chat_mattermost.rate_wait(&a, now), 5);
	assert_int_equal(chat_slack_api.rate_wait(&a, now), -1);
	assert_int_equal(chat_teams.rate_wait(&a, now), -1);
}

static void
test_slack_destinations(void **state)
{
	(void)state;
	assert_int_equal(slack_dest_kind("#builds"), SLACK_DEST_CHANNEL);
	assert_int_equal(slack_dest_kind("U012ABCDEF"), SLACK_DEST_USER_ID);
	assert_int_equal(slack_dest_kind("W012ABCDEF"), SLACK_DEST_USER_ID);
	assert_int_equal(slack_dest_kind("@alice"), SLACK_DEST_USER_NAME);
	assert_int_equal(slack_dest_kind("@alice@example.com"), SLACK_DEST_USER_EMAIL);
	assert_int_equal(slack_dest_kind("@@example.com"), SLACK_DEST_INVALID);
	assert_int_equal(slack_dest_kind("@a@b@c"), SLACK_DEST_INVALID);
	assert_int_equal(slack_dest_kind("@alice@"), SLACK_DEST_INVALID);
	assert_int_equal(slack_dest_kind("builds"), SLACK_DEST_INVALID);
	assert_int_equal(slack_dest_kind("U012abcdef"), SLACK_DEST_INVALID);
	assert_int_equal(slack_dest_kind("U01"), SLACK_DEST_INVALID);
	assert_int_equal(slack_dest_kind("#"), SLACK_DEST_INVALID);
	assert_int_equal(slack_dest_kind("#a b"), SLACK_DEST_INVALID);
}

static enum slack_lookup
email_answer(long status, const char *body, char **id, char *why, size_t whylen)
{
	return slack_lookup_email_answer(status, body, strlen(body), id, why, whylen);
}

static void
test_lookups(void **state)
{
	char why[64], *id, *cursor;

	(void)state;
	assert_int_equal(email_answer(200, "{\"ok\":true,\"user\":{\"id\":"
	    "\"U0BOB\"}}", &id, why, sizeof(why)), SLACK_LOOKUP_FOUND);
	assert_string_equal(id, "U0BOB");
	free(id);
	assert_int_equal(email_answer(200, "{\"ok\":false,\"error\":"
	    "\"users_not_found\"}", &id, why, sizeof(why)), SLACK_LOOKUP_MISSING);
	assert_string_equal(why, "users_not_found");
	assert_int_equal(email_answer(200, "{\"ok\":false,\"error\":"
	    "\"missing_scope\"}", &id, why, sizeof(why)), SLACK_LOOKUP_FAILED);
	assert_int_equal(email_answer(429, "", &id, why, sizeof(why)),
	    SLACK_LOOKUP_RETRY);
	{
		const char page[] = "{\"ok\":true,\"members\":[{\"id\":\"U1\",\"name\":\"alice\","
		    "\"deleted\":true},{\"id\":\"U2\",\"name\":\"x\",\"profile\":{\"display_name\":"
		    "\"bob\"}}],\"response_metadata\":{\"next_cursor\":\"dXNlcjoy\"}}";

		assert_int_equal(slack_lookup_list_answer(200, page, strlen(page), "alice", &id,
		    &cursor, why, sizeof(why)), SLACK_LOOKUP_MORE);	/* deleted: not her */
		assert_string_equal(cursor, "dXNlcjoy");
		free(cursor);
		assert_int_equal(slack_lookup_list_answer(200, page, strlen(page), "bob", &id,
		    &cursor, why, sizeof(why)), SLACK_LOOKUP_FOUND);
		assert_string_equal(id, "U2");
		free(id);
	}
	assert_int_equal(slack_lookup_list_answer(200, "{\"ok\":true,\"members\":[]}", 24,
	    "alice", &id, &cursor, why, sizeof(why)), SLACK_LOOKUP_MISSING);
}

static const char chat_conf[] =
    "slack-token = \"xoxb-1\";\n"
    "slack-webhooks = ( { channel = \"#hooked\"; url = \"https://hooks.slack.com/x\"; } );\n"
    "chat-webhooks = (\n"
    "  { name = \"ops\"; service = \"mattermost\"; url = \"https://mm/hooks/a\"; },\n"
    "  { name = \"rc-1\"; service = \"rocketchat\"; url = \"https://rc/hooks/a/b\"; },\n"
    "  { name = \"team\"; service = \"teams\"; url = \"https://flow/x\"; }\n"
    ");\n"
    "managers = ( { name = \"m\"; messages-we-want = { from = \"a@b.c\"; };\n"
    "  rules = ( { actions = [\"chat:ops:full\", \"chat:rc-1\", \"slack:@alice\", "
    "\"slack:U012ABCDEF\", \"slack:#hooked\"]; } ); } );\n";

static void
test_config_and_targets(void **state)
{
	char err[512], why[128];
	struct config *c = config_parse(chat_conf, "t.conf", NULL, NULL, err, sizeof(err));
	const struct rule *r;
	struct slack_post *post;
	struct chat_target t;

	(void)state;
	if (c == NULL)
		fail_msg("%s", err);
	r = &c->managers[0].rules[0];
	assert_int_equal(r->actions[0].kind, ACTION_CHAT);
	assert_string_equal(r->actions[0].target, "ops");
	assert_int_equal(r->actions[0].style, SLACK_FULL);
	assert_true(manager_posts_to_slack(&c->managers[0]));
	assert_ptr_equal(config_chat_webhook(c, "team")->driver, &chat_teams);

	post = new_post("rc-1", true, SLACK_BRIEF);
	assert_true(chat_target_for(c, post, &t, why, sizeof(why)));
	assert_ptr_equal(t.driver, &chat_rocketchat);
	assert_string_equal(t.url, "https://rc/hooks/a/b");
	assert_false(t.api);
	slack_post_free(post);
	post = new_post("#hooked", false, SLACK_BRIEF);
	assert_true(chat_target_for(c, post, &t, why, sizeof(why)));
	assert_ptr_equal(t.driver, &chat_slack_webhook);
	slack_post_free(post);
	post = new_post("@alice", false, SLACK_BRIEF);
	assert_true(chat_target_for(c, post, &t, why, sizeof(why)));
	assert_true(t.api);
	assert_string_equal(t.channel, "@alice");
	slack_post_free(post);
	post = new_post("gone", true, SLACK_BRIEF);
	assert_false(chat_target_for(c, post, &t, why, sizeof(why)));
	assert_string_equal(why, "no chat-webhooks entry named gone");
	slack_post_free(post);
	config_free(c);
}

static void
expect_error(const char *text, const char *fragment)
{
	char err[512];
	struct config *c = config_parse(text, "t.conf", NULL, NULL, err, sizeof(err));

	if (c != NULL)
		fail_msg("accepted: %s", text);
	if (strstr(err, fragment) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err, fragment);
}

#define MANAGERS(action) "managers = ( { name = \"m\"; messages-we-want = { from = " \
	"\"a@b.c\"; }; rules = ( { actions = [\"" action "\"]; } ); } );\n"

static void
test_config_errors(void **state)
{
	(void)state;
	expect_error("chat-webhooks = ( { name = \"x\"; service = \"irc\"; url = \"https://a\"; } );"
	    MANAGERS("mailto:a@b.c"), "t.conf:1: chat-webhooks[0]: service \"irc\": must be one "
	    "of \"slack\", \"mattermost\", \"rocketchat\", \"teams\"");
	expect_error("chat-webhooks = ( { name = \"x\"; service = \"teams\"; url = \"https://a\"; },"
	    " { name = \"x\"; service = \"slack\"; url = \"https://b\"; } );" MANAGERS("mailto:a@b.c"),
	    "name \"x\" is taken by chat-webhooks[0]");
	expect_error("chat-webhooks = ( { name = \"a b\"; service = \"teams\"; url = \"https://a\"; } );"
	    MANAGERS("mailto:a@b.c"), "letters, digits");
	expect_error("chat-webhooks = ( { name = \"x\"; service = \"teams\"; url = \"ftp://a\"; } );"
	    MANAGERS("mailto:a@b.c"), "url must start with");
	expect_error("chat-webhooks = ( { name = \"x\"; url = \"https://a\"; } );"
	    MANAGERS("mailto:a@b.c"), "service");
	expect_error(MANAGERS("chat:nothere"), "\"chat:nothere\": no chat-webhooks entry named "
	    "\"nothere\"");
	expect_error("chat-webhooks = ( { name = \"x\"; service = \"teams\"; url = \"https://a\"; } );"
	    MANAGERS("chat:x:loud"), "style must be :brief or :full");
	expect_error("slack-token = \"t\";" MANAGERS("slack:u012abcdef"), "expected slack:#channel");
}

static void
test_state_doc_keeps_destinations(void **state)
{
	struct slack_post *posts[] = { new_post("ops", true, SLACK_FULL),
	    new_post("U012ABCDEF", false, SLACK_BRIEF),
	    new_post("@alice@example.com", false, SLACK_BRIEF) };
	struct state_doc doc = { .nposts = 3, .posts = posts }, back;
	char *json = state_doc_write(&doc), err[64];
	const char old[] = "{\"version\":1,\"slack\":[{\"channel\":\"#builds\",\"subject\":\"s\","
	    "\"text\":\"t\"},{\"chat\":\"bad name\",\"subject\":\"s\",\"text\":\"t\"}]}";

	(void)state;
	assert_non_null(strstr(json, "{\"chat\":\"ops\","));
	assert_int_equal(state_doc_read(&back, json, strlen(json), err, sizeof(err)), 0);
	assert_int_equal(back.nposts, 3);
	assert_true(back.posts[0]->named);
	assert_string_equal(back.posts[0]->channel, "ops");
	assert_false(back.posts[1]->named);
	assert_string_equal(back.posts[1]->channel, "U012ABCDEF");
	assert_string_equal(back.posts[2]->channel, "@alice@example.com");
	state_doc_free(&back);
	/* the old format, and a tampered name */
	assert_int_equal(state_doc_read(&back, old, strlen(old), err, sizeof(err)), 0);
	assert_int_equal(back.nposts, 1);
	assert_false(back.posts[0]->named);
	assert_string_equal(back.posts[0]->channel, "#builds");
	state_doc_free(&back);
	free(json);
	for (size_t i = 0; i < 3; i++)
		slack_post_free(posts[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_webhook_payloads_name_no_channel),
		cmocka_unit_test(test_slack_api_payload),
		cmocka_unit_test(test_rocketchat_text_not_escaped),
		cmocka_unit_test(test_teams_card),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_rate_waits),
		cmocka_unit_test(test_slack_destinations),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_config_and_targets),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_state_doc_keeps_destinations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
