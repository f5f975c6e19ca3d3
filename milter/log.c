/*
 * log.c - syslog, journal or stderr logging (see log.h).
 */
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"

enum log_target {
	TARGET_TERMINAL,	/* "mail2alert: LINE": -t, and anything before a target is set */
	TARGET_STDERR,		/* "TIME mail2alert: LINE" */
	TARGET_JOURNAL,		/* "<N>LINE" on a stream journald reads */
	TARGET_SYSLOG,
};

/*
 * Until the daemon or -r/-n choose, lines go to the terminal the way a
 * command's complaints do, so -t and loading the config speak alike.
 */
static enum log_target log_target = TARGET_TERMINAL;
static bool log_debug_enabled;
static atomic_bool log_startup_to_stderr;	/* syslog: copy problems to stderr too */

void
log_open_stderr(bool debug)
{
	log_target = TARGET_STDERR;
	log_debug_enabled = debug;
}

/*
 * True when stderr is the journal stream systemd started us with: it sets
 * JOURNAL_STREAM to "DEVICE:INODE" of that stream, and a descriptor that
 * was redirected since no longer matches (sd_journal_stream_fd(3)).
 */
static bool
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	char end;

	return env != NULL && sscanf(env, "%llu:%llu%c", &dev, &ino, &end) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0 &&
	    (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
log_open_daemon(bool foreground, bool debug)
{
	log_debug_enabled = debug;
	if (foreground) {
		log_target = stderr_is_journal() ? TARGET_JOURNAL : TARGET_STDERR;
		return;
	}
	log_target = TARGET_SYSLOG;
	log_startup_to_stderr = true;
	openlog("mail2alert", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void
log_startup_done(void)
{
	log_startup_to_stderr = false;
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

/* sd-daemon's "<N>" prefix for a syslog priority. */
static const char *
journal_prefix(int priority)
{
	switch (priority) {
	case LOG_ERR:
		return SD_ERR;
	case LOG_WARNING:
		return SD_WARNING;
	case LOG_NOTICE:
		return SD_NOTICE;
	case LOG_DEBUG:
		return SD_DEBUG;
	default:
		return SD_INFO;
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
	/* one fprintf per line: stdio locks the stream, so threads do not interleave */
	switch (log_target) {
	case TARGET_TERMINAL:
		fprintf(stderr, "mail2alert: %s%s\n", level_name(priority), line);
		break;
	case TARGET_STDERR: {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
		fprintf(stderr, "%s mail2alert: %s%s\n", stamp, level_name(priority), line);
		break;
	}
	case TARGET_JOURNAL:
		fprintf(stderr, "%s%s%s\n", journal_prefix(priority), level_name(priority), line);
		break;
	case TARGET_SYSLOG:
		syslog(priority, "%s%s", level_name(priority), line);
		if (log_startup_to_stderr && priority <= LOG_WARNING)
			fprintf(stderr, "mail2alert: %s%s\n", level_name(priority), line);
		break;
	}
}
