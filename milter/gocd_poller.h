/*
 * gocd_poller.h - background threads that keep each GoCD manager's
 * pipeline groups fresh (SPEC section 6).
 *
 * One thread per manager with a url.  Each poll builds a new group index
 * and publishes it as a snapshot; a failed poll keeps the last one.  Mail
 * never waits for any of this.
 */
#ifndef MAIL2ALERT_GOCD_POLLER_H
#define MAIL2ALERT_GOCD_POLLER_H

#include "config.h"
#include "group_index.h"

/* Start a poller for every manager of config that has a url. */
int pollers_start(const struct config *config);
/* Ask every poller to poll now (SIGUSR2). */
void pollers_poll_now(void);
/*
 * Fetch a manager's pipeline groups once, now, in this thread (for -r and
 * -n).  NULL with the reason in why when GoCD cannot give them.
 */
struct group_index *gocd_fetch_groups(const struct manager *manager,
    char *why, size_t whylen);

/* Stop and join them; an HTTP request in flight is aborted. */
void pollers_stop(void);

#endif
