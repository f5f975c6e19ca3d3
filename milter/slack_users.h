/*
 * slack_users.h - Slack user IDs for slack:@name and slack:@user@domain,
 * looked up through the Web API (slack_lookup.h) and cached.  Called by
 * the chat worker only, never on the mail path; the cache is the
 * worker's own.
 */
#ifndef MAIL2ALERT_SLACK_USERS_H
#define MAIL2ALERT_SLACK_USERS_H

#include <stdatomic.h>
#include <stddef.h>

#include "config.h"

/* How long a found ID is trusted before it is looked up again. */
#define SLACK_USERS_TTL 3600

/*
 * The user ID for target ("@name" or "@user@example.com") in *id
 * (malloc'd): 0.  A final failure (no such user, missing scope): 1; a
 * transient one (network, 5xx, rate limit): -1; the reason in why.
 */
int slack_user_id(const struct config *config, const char *target,
    const atomic_bool *stop, char **id, char *why, size_t whylen);
/* Forget every cached ID. */
void slack_users_reset(void);

#endif
