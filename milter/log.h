/*
 * log.h - the daemon's log: syslog facility mail, or stderr with -f.
 *
 * Lines follow Postfix's form so admins can grep one message across
 * Postfix and us: "QUEUEID: key=value key=value".  Never pass a secret.
 */
#ifndef MAIL2ALERT_LOG_H
#define MAIL2ALERT_LOG_H

#include <stdbool.h>
#include <syslog.h>

void log_open(bool to_stderr, bool debug);
void log_msg(int priority, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)

#endif
