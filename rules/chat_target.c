/*
 * chat_target.c - where a post goes (see chat_target.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "chat_target.h"
#include "config_read.h"

enum slack_dest
slack_dest_kind(const char *t)
{
	size_t n = t ? strlen(t) : 0;
	const char *at;

	if (n < 2 || n > 256 || !config_is_clean_token(t))
		return SLACK_DEST_INVALID;
	if (t[0] == '#')
		return SLACK_DEST_CHANNEL;
	if (t[0] == '@') {
		at = strchr(t + 1, '@');
		if (at == NULL)
			return SLACK_DEST_USER_NAME;
		/* local part and domain both present, one @ in the address */
		return at > t + 1 && at[1] != '\0' && strchr(at + 1, '@') == NULL ?
		    SLACK_DEST_USER_EMAIL : SLACK_DEST_INVALID;
	}
	/* Slack's IDs: U (or W on Enterprise Grid) and upper-case letters and digits */
	if ((t[0] == 'U' || t[0] == 'W') && n >= 9 && n <= 20) {
		for (size_t i = 1; i < n; i++) {
			if (!isupper((unsigned char)t[i]) && !isdigit((unsigned char)t[i]))
				return SLACK_DEST_INVALID;
		}
		return SLACK_DEST_USER_ID;
	}
	return SLACK_DEST_INVALID;
}

bool
chat_target_for(const struct config *config, const struct slack_post *post,
    struct chat_target *t, char *why, size_t whylen)
{
	const char *webhook;

	memset(t, 0, sizeof(*t));
	if (post->named) {
		const struct chat_webhook *hook = config_chat_webhook(config, post->channel);

		if (hook == NULL) {
			snprintf(why, whylen, "no chat-webhooks entry named %s", post->channel);
			return false;
		}
		t->driver = hook->driver;
		t->url = hook->url;
		t->name = hook->service;
		return true;
	}
	webhook = config_webhook_for(config, post->channel);
	if (webhook != NULL) {
		t->driver = &chat_slack_webhook;
		t->url = webhook;
		t->name = "slack webhook";
		return true;
	}
	if (config->slack_token == NULL) {
		snprintf(why, whylen, "no slack-token and no webhook for the channel");
		return false;
	}
	t->driver = &chat_slack_api;
	t->url = config->slack_api;
	t->api = true;
	t->channel = post->channel;
	t->name = "slack api";
	return true;
}

/* Has an earlier action of the config the same kind and target as a? */
static bool
listed_before(const struct config *c, const struct action *a)
{
	for (size_t m = 0; m < c->nmanagers; m++) {
		for (size_t r = 0; r < c->managers[m].nrules; r++) {
			const struct rule *rule = &c->managers[m].rules[r];

			for (size_t i = 0; i < rule->nactions; i++) {
				const struct action *b = &rule->actions[i];

				if (b == a)
					return false;
				if (b->kind == a->kind && strcmp(b->target, a->target) == 0)
					return true;
			}
		}
	}
	return false;
}

void
chat_describe_destinations(struct strbuf *out, const struct config *c, bool lookups_only)
{
	for (size_t m = 0; m < c->nmanagers; m++) {
		for (size_t r = 0; r < c->managers[m].nrules; r++) {
			const struct rule *rule = &c->managers[m].rules[r];

			for (size_t i = 0; i < rule->nactions; i++) {
				const struct action *a = &rule->actions[i];
				struct slack_post post = { .channel = a->target,
				    .named = a->kind == ACTION_CHAT };
				struct chat_target t;
				enum slack_dest kind;
				char why[160];

				if (a->kind == ACTION_MAILTO || listed_before(c, a))
					continue;
				if (!chat_target_for(c, &post, &t, why, sizeof(why))) {
					strbuf_addf(out, "%s:%s: %s\n", SLACK_POST_KIND(&post),
					    a->target, why);
					continue;
				}
				kind = t.api ? slack_dest_kind(a->target) : SLACK_DEST_CHANNEL;
				if (kind == SLACK_DEST_USER_NAME)
					strbuf_addf(out, "slack:%s: user ID looked up at run time "
					    "with users.list (token scope users:read)\n", a->target);
				else if (kind == SLACK_DEST_USER_EMAIL)
					strbuf_addf(out, "slack:%s: user ID looked up at run time "
					    "with users.lookupByEmail (token scope users:read.email)\n",
					    a->target);
				else if (!lookups_only)
					strbuf_addf(out, "%s:%s: %s%s\n", SLACK_POST_KIND(&post),
					    a->target, t.name, t.api ? " (chat.postMessage)" : "");
			}
		}
	}
}
