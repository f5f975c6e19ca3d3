/*
 * status.h - mail2alert -s: ask the running daemon how it is, over HTTP
 * on metrics-listen (/status.json), and print the answer for a person or
 * (-j) as the daemon's JSON.
 */
#ifndef MAIL2ALERT_STATUS_H
#define MAIL2ALERT_STATUS_H

#include <stdbool.h>

#include "config.h"

/*
 * Returns the exit status: 0 ready, 1 not ready, EX_UNAVAILABLE when the
 * daemon cannot be reached, EX_CONFIG when metrics-listen is not set.
 */
int status_show(const struct config *config, bool json);

#endif
