/*
 * log.c - syslog or stderr logging (see log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static bool log_to_stderr = true;
static bool log_debug_enabled;

void
log_open(bool to_stderr, bool debug)
{
	log_to_stderr = to_stderr;
	log_debug_enabled = debug;
	if (!to_stderr)
		openlog("mail2alert", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

static const char *
level_name(int priority)
{
	switch (priority) {
	case LOG_ERR:
		return "error: ";
	case LOG_WARNING:
		return "warning: ";
	case LOG_DEBUG:
		return "debug: ";
	default:
		return "";
	}
}

void
log_msg(int priority, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	if (priority == LOG_DEBUG && !log_debug_enabled)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* one line per record, whatever the data held */
	for (char *p = line; *p; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	if (log_to_stderr) {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
		/* one fprintf per line: stdio locks the stream, so threads do not interleave */
		fprintf(stderr, "%s mail2alert: %s%s\n", stamp, level_name(priority), line);
	} else {
		syslog(priority, "%s%s", level_name(priority), line);
	}
}
