/*
 * chat_target.h - where a post goes: the driver, URL and channel the
 * config in force gives a post's destination (slack:TARGET or chat:NAME),
 * and what kind of Slack destination a target is.  Pure.
 */
#ifndef MAIL2ALERT_CHAT_TARGET_H
#define MAIL2ALERT_CHAT_TARGET_H

#include <stdbool.h>
#include <stddef.h>

#include "chat_driver.h"
#include "config.h"
#include "slack_post.h"

/* What a slack: target names. */
enum slack_dest {
	SLACK_DEST_INVALID,
	SLACK_DEST_CHANNEL,	/* "#builds" */
	SLACK_DEST_USER_ID,	/* "U012ABCDEF" (or "W...", Enterprise Grid) */
	SLACK_DEST_USER_NAME,	/* "@alice": looked up with users.list */
	SLACK_DEST_USER_EMAIL,	/* "@alice@example.com": users.lookupByEmail */
};

enum slack_dest slack_dest_kind(const char *target);

struct chat_target {
	const struct chat_driver *driver;
	const char *url;	/* the webhook, or the slack-api base URL */
	bool api;		/* the Slack Web API: url + "/chat.postMessage", token */
	const char *channel;	/* the API's channel (before user lookup); else NULL */
	const char *name;	/* where, for -n: the webhook's service or "api" */
};

/*
 * Where post goes under config.  False, with the reason in why, when the
 * config no longer has a way there (a chat: name or webhook removed by a
 * reload, no slack-token).
 */
bool chat_target_for(const struct config *config, const struct slack_post *post,
    struct chat_target *target, char *why, size_t whylen);

/*
 * One line per chat destination the rules name, "slack:#builds: slack
 * api (chat.postMessage)", "chat:ops: mattermost", and for Slack users
 * given by name or address which lookup finds their ID at run time (the
 * mail path never waits for it).  lookups_only: only those.
 */
void chat_describe_destinations(struct strbuf *out, const struct config *config,
    bool lookups_only);

#endif
