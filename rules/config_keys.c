/*
 * config_keys.c - the table of configuration keys (see config_keys.h).
 *
 * Rows of one scope are read in the order they appear here, so a key that
 * another depends on comes first (slack-token and slack-webhooks before
 * managers, whose slack: actions need one of them; chat-webhooks before
 * managers too, for chat: actions; function before args; the other
 * shared-state-* keys before shared-state, which checks them).
 */
#include <stdio.h>

#include "config_read.h"

/* Largest body-limit accepted: a Slack post cannot usefully be larger. */
#define BODY_LIMIT_MAX (16L * 1024 * 1024)
#define POLL_INTERVAL_MAX 86400
#define GOCD_ANSWER_LIMIT_MIN (1L * 1024 * 1024)
#define GOCD_ANSWER_LIMIT_MAX (1024L * 1024 * 1024)

#define AT(type, field) offsetof(type, field)

/* Typed rows, read by the generic reader. */
#define STRING(scope, name, type, field, def, flags) \
	{ name, scope, CONFIG_STRING, AT(type, field), NULL, 0, 0, 0, def, flags }
#define INT(scope, name, type, field, def, min, max, flags) \
	{ name, scope, CONFIG_INT, AT(type, field), NULL, def, min, max, NULL, flags }
/* Rows with a reader of their own; def_text is only documentation. */
#define OWN(scope, name, kind, reader, def, flags) \
	{ name, scope, kind, 0, reader, 0, 0, 0, def, flags }

#define NI CONFIG_KEY_NOT_IMPORTED
#define REQ CONFIG_KEY_REQUIRED
#define SECRET CONFIG_KEY_SECRET

static const struct config_key keys[] = {
	STRING(CONFIG_ROOT, "socket", struct config, socket, CONFIG_DEFAULT_SOCKET, NI),
	STRING(CONFIG_ROOT, "user", struct config, user, NULL, NI),
	STRING(CONFIG_ROOT, "socket-group", struct config, socket_group, NULL, NI),
	{ "socket-mode", CONFIG_ROOT, CONFIG_MODE, AT(struct config, socket_mode), NULL,
	    CONFIG_DEFAULT_SOCKET_MODE, 0, 0777, NULL, NI },
	{ "allow-root", CONFIG_ROOT, CONFIG_BOOL, AT(struct config, allow_root), NULL,
	    0, 0, 1, NULL, NI },
	STRING(CONFIG_ROOT, "state-file", struct config, state_file, NULL, NI),
	OWN(CONFIG_ROOT, "unresolved", CONFIG_STRING, config_read_unresolved, "accept", NI),
	INT(CONFIG_ROOT, "body-limit", struct config, body_limit, CONFIG_DEFAULT_BODY_LIMIT,
	    0, BODY_LIMIT_MAX, NI),
	STRING(CONFIG_ROOT, "slack-token", struct config, slack_token, NULL, SECRET),
	STRING(CONFIG_ROOT, "slack-api", struct config, slack_api, CONFIG_DEFAULT_SLACK_API, NI),
	OWN(CONFIG_ROOT, "slack-webhooks", CONFIG_GROUPS, config_read_webhooks, NULL, NI),
	OWN(CONFIG_ROOT, "chat-webhooks", CONFIG_GROUPS, config_read_chat_webhooks, NULL, NI),
	INT(CONFIG_ROOT, "slack-queue-size", struct config, slack_queue_size,
	    CONFIG_DEFAULT_SLACK_QUEUE, 1, 1000000, NI),
	INT(CONFIG_ROOT, "slack-retry-time", struct config, slack_retry_time,
	    CONFIG_DEFAULT_SLACK_RETRY_TIME, 0, 86400, NI),
	INT(CONFIG_ROOT, "gocd-answer-limit", struct config, gocd_answer_limit,
	    CONFIG_DEFAULT_GOCD_ANSWER_LIMIT, GOCD_ANSWER_LIMIT_MIN, GOCD_ANSWER_LIMIT_MAX, NI),
	OWN(CONFIG_ROOT, "managers", CONFIG_GROUPS, config_read_managers, NULL, REQ),
	STRING(CONFIG_ROOT, "metrics-listen", struct config, metrics_listen, NULL, NI),
	INT(CONFIG_ROOT, "ready-max-poll-age", struct config, ready_max_poll_age,
	    CONFIG_DEFAULT_READY_MAX_POLL_AGE, 1, 1000, NI),
	STRING(CONFIG_ROOT, "shared-state-password-file", struct config,
	    shared_state_password_file, NULL, NI),
	STRING(CONFIG_ROOT, "shared-state-ca-file", struct config, shared_state_ca_file, NULL, NI),
	STRING(CONFIG_ROOT, "shared-state-prefix", struct config, shared_state_prefix,
	    CONFIG_DEFAULT_SHARED_STATE_PREFIX, NI),
	STRING(CONFIG_ROOT, "shared-state-node", struct config, shared_state_node, NULL, NI),
	INT(CONFIG_ROOT, "shared-state-timeout", struct config, shared_state_timeout,
	    CONFIG_DEFAULT_SHARED_STATE_TIMEOUT, 1, 10000, NI),
	INT(CONFIG_ROOT, "shared-state-ttl", struct config, shared_state_ttl,
	    CONFIG_DEFAULT_SHARED_STATE_TTL, 60, 30 * 86400, NI),
	OWN(CONFIG_ROOT, "shared-state", CONFIG_STRING, config_read_shared_state, NULL, NI),
	STRING(CONFIG_ROOT, "outbox-journal", struct config, outbox_journal, NULL, NI),

	STRING(CONFIG_WEBHOOK, "channel", struct slack_webhook, channel, NULL, REQ | NI),
	STRING(CONFIG_WEBHOOK, "url", struct slack_webhook, url, NULL, REQ | SECRET | NI),

	STRING(CONFIG_CHAT_WEBHOOK, "name", struct chat_webhook, name, NULL, REQ | NI),
	STRING(CONFIG_CHAT_WEBHOOK, "service", struct chat_webhook, service, NULL, REQ | NI),
	STRING(CONFIG_CHAT_WEBHOOK, "url", struct chat_webhook, url, NULL, REQ | SECRET | NI),

	STRING(CONFIG_MANAGER, "name", struct manager, name, NULL, REQ),
	STRING(CONFIG_MANAGER, "url", struct manager, url, NULL, 0),
	OWN(CONFIG_MANAGER, "api", CONFIG_STRING, config_read_api, "auto", NI),
	STRING(CONFIG_MANAGER, "user", struct manager, user, NULL, 0),
	STRING(CONFIG_MANAGER, "passwd", struct manager, passwd, NULL, SECRET),
	STRING(CONFIG_MANAGER, "token", struct manager, token, NULL, SECRET | NI),
	STRING(CONFIG_MANAGER, "passwd-file", struct manager, passwd_file, NULL, NI),
	STRING(CONFIG_MANAGER, "token-file", struct manager, token_file, NULL, NI),
	STRING(CONFIG_MANAGER, "ca-file", struct manager, ca_file, NULL, NI),
	INT(CONFIG_MANAGER, "connect-timeout", struct manager, connect_timeout,
	    CONFIG_DEFAULT_CONNECT_TIMEOUT, 1, 300, NI),
	INT(CONFIG_MANAGER, "timeout", struct manager, timeout, CONFIG_DEFAULT_TIMEOUT,
	    1, 3600, NI),
	INT(CONFIG_MANAGER, "poll-interval", struct manager, poll_interval,
	    CONFIG_DEFAULT_POLL_INTERVAL, 1, POLL_INTERVAL_MAX, NI),
	OWN(CONFIG_MANAGER, "messages-we-want", CONFIG_GROUP, config_read_wanted, NULL, REQ),
	OWN(CONFIG_MANAGER, "rules", CONFIG_GROUPS, config_read_rules, NULL, 0),
	OWN(CONFIG_MANAGER, "teams", CONFIG_GROUPS, config_read_teams, NULL, NI),

	STRING(CONFIG_WANT, "to", struct config_want, to, NULL, 0),
	STRING(CONFIG_WANT, "from", struct config_want, from, NULL, 0),

	STRING(CONFIG_RULE, "name", struct rule, name, NULL, 0),
	STRING(CONFIG_RULE, "owner", struct rule, owner, NULL, 0),
	OWN(CONFIG_RULE, "filter", CONFIG_GROUP, config_read_filter, NULL, 0),
	OWN(CONFIG_RULE, "actions", CONFIG_STRINGS, config_read_actions, NULL, REQ),

	OWN(CONFIG_FILTER, "events", CONFIG_STRINGS, config_read_events, NULL, 0),
	OWN(CONFIG_FILTER, "function", CONFIG_STRING, config_read_function,
	    "pipelines.any", 0),
	OWN(CONFIG_FILTER, "args", CONFIG_STRINGS, config_read_args, NULL, 0),

	STRING(CONFIG_TEAM, "address", struct config_team, address, NULL, NI),
	STRING(CONFIG_TEAM, "release-pattern", struct config_team, pattern, NULL, NI),
	OWN(CONFIG_TEAM, "groups", CONFIG_STRINGS, config_read_team_groups, NULL, REQ | NI),
	OWN(CONFIG_TEAM, "events", CONFIG_STRINGS, config_read_events, NULL, NI),
	OWN(CONFIG_TEAM, "actions", CONFIG_STRINGS, config_read_team_actions, NULL, NI),
};

const struct config_key *
config_key_next(const struct config_key *key)
{
	size_t next = key == NULL ? 0 : (size_t)(key - keys) + 1;

	return next < sizeof(keys) / sizeof(keys[0]) ? &keys[next] : NULL;
}

static const char *const scope_paths[] = {
	[CONFIG_ROOT] = "",
	[CONFIG_WEBHOOK] = "slack-webhooks[].",
	[CONFIG_CHAT_WEBHOOK] = "chat-webhooks[].",
	[CONFIG_MANAGER] = "managers[].",
	[CONFIG_WANT] = "managers[].messages-we-want.",
	[CONFIG_RULE] = "managers[].rules[].",
	[CONFIG_FILTER] = "managers[].rules[].filter.",
	[CONFIG_TEAM] = "managers[].teams[].",
};

static const char *const type_names[] = {
	[CONFIG_STRING] = "string",
	[CONFIG_INT] = "integer",
	[CONFIG_BOOL] = "boolean",
	[CONFIG_MODE] = "mode",
	[CONFIG_STRINGS] = "strings",
	[CONFIG_GROUP] = "group",
	[CONFIG_GROUPS] = "groups",
};

void
config_key_describe(struct strbuf *out, const struct config_key *k)
{
	static const struct {
		unsigned flag;
		const char *name;
	} flags[] = {
		{ CONFIG_KEY_REQUIRED, "required" },
		{ CONFIG_KEY_SECRET, "secret" },
		{ CONFIG_KEY_NOT_IMPORTED, "not-imported" },
	};
	const char *sep = "\t";

	strbuf_addf(out, "%s%s\t%s\t", scope_paths[k->scope], k->name, type_names[k->type]);
	if (k->type == CONFIG_INT)
		strbuf_addf(out, "%ld\t%ld..%ld", k->def, k->min, k->max);
	else if (k->type == CONFIG_MODE)
		strbuf_addf(out, "%04lo\t%04lo..%04lo", k->def, k->min, k->max);
	else if (k->type == CONFIG_BOOL)
		strbuf_addf(out, "%s\t-", k->def ? "true" : "false");
	else
		strbuf_addf(out, "%s%s%s\t-", k->def_text ? "\"" : "",
		    k->def_text ? k->def_text : "-", k->def_text ? "\"" : "");
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (k->flags & flags[i].flag) {
			strbuf_addf(out, "%s%s", sep, flags[i].name);
			sep = ",";
		}
	}
	if (*sep == '\t')
		strbuf_adds(out, "\t-");
}
