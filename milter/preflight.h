/*
 * preflight.h - what would fail at start, checked without starting.
 *
 * config_parse (rules/) checks what the text says; this checks what the
 * system says about it: the socket spec as libmilter will read it, that
 * user and socket-group exist, that ca-file, passwd-file and token-file
 * can be read by the user the daemon will run as, and that the state
 * file's directory exists and that user can write it.  -t runs it, and
 * so does the daemon before it forks, so the two fail alike.
 */
#ifndef MAIL2ALERT_PREFLIGHT_H
#define MAIL2ALERT_PREFLIGHT_H

#include <stdbool.h>

#include "config.h"

/*
 * Called once per problem: error true for what stops the daemon or a
 * part of it, false for a warning.  msg reads "FILE: KEY ...: what".
 */
typedef void (*preflight_report_fn)(bool error, const char *msg, void *arg);

/* Check config; returns the number of errors reported. */
int preflight_check(const struct config *config, preflight_report_fn report, void *arg);

/* How long -t gives the shared-state server to answer (ms). */
#define PREFLIGHT_STORE_MS 2000

/*
 * Connect to shared-state (if set) as the daemon would: unreachable is a
 * warning (relays then decide alone), refused (AUTH, SELECT, a certificate
 * the CA does not vouch for) an error.
 * *reachable tells whether it answered.  -t only: the daemon connects in
 * the background and never waits for the server.
 */
int preflight_check_store(const struct config *config, preflight_report_fn report,
    void *arg, bool *reachable);

#endif
