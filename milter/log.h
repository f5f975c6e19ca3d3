/*
 * log.h - the daemon's log: syslog facility mail, stderr, or the journal.
 *
 * Lines follow Postfix's form so admins can grep one message across
 * Postfix and us: "QUEUEID: key=value key=value".  Never pass a secret.
 *
 * Where lines go:
 *   log_open_stderr   "TIME mail2alert: LINE" on stderr (-r, -n, -f in a
 *                     terminal)
 *   log_open_daemon   foreground: the journal when stderr is the stream
 *                     systemd named in JOURNAL_STREAM ("<N>LINE", N the
 *                     sd-daemon priority, no time stamp: journald adds it),
 *                     else as log_open_stderr.  Background: syslog(3),
 *                     facility mail, ident mail2alert[pid]; until
 *                     log_startup_done, warnings and errors also go to
 *                     stderr, so start-up failures reach the terminal.
 */
#ifndef MAIL2ALERT_LOG_H
#define MAIL2ALERT_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_open_stderr(bool debug);
void log_open_daemon(bool foreground, bool debug);
void log_startup_done(void);
void log_msg(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)

#endif
