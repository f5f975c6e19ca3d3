/*
 * slack_lookup.h - Slack's answers to the user lookups that turn
 * slack:@name and slack:@user@example.com into a user ID, since
 * chat.postMessage answers "channel_not_found" to "@name" (usernames were
 * retired in 2017).  Pure: milter/slack_users.c asks and caches.
 *
 *   users.lookupByEmail (scope users:read.email)
 *     https://api.slack.com/methods/users.lookupByEmail
 *   users.list (scope users:read), paginated with cursor
 *     https://api.slack.com/methods/users.list
 */
#ifndef MAIL2ALERT_SLACK_LOOKUP_H
#define MAIL2ALERT_SLACK_LOOKUP_H

#include <stddef.h>

enum slack_lookup {
	SLACK_LOOKUP_FOUND,	/* *id set (malloc'd) */
	SLACK_LOOKUP_MORE,	/* users.list: not on this page; *cursor set (malloc'd) */
	SLACK_LOOKUP_MISSING,	/* no such user: why says so */
	SLACK_LOOKUP_FAILED,	/* final error (missing_scope, ...): why */
	SLACK_LOOKUP_RETRY,	/* transient error or rate limit: why */
};

/* users.lookupByEmail's answer (HTTP status and body). */
enum slack_lookup slack_lookup_email_answer(long status, const char *body, size_t len,
    char **id, char *why, size_t whylen);
/*
 * One page of users.list: the member whose name or display name is name
 * (without "@"), not deleted.
 */
enum slack_lookup slack_lookup_list_answer(long status, const char *body, size_t len,
    const char *name, char **id, char **cursor, char *why, size_t whylen);

#endif
