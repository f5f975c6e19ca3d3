/*
 * main.c - command line, start-up, signals and shutdown.
 *
 * Start-up order matters: the configuration and what it names are checked
 * while errors still reach the terminal, signals are blocked before any
 * thread exists (libmilter's own signal thread then gets SIGTERM and
 * SIGINT; a thread of ours gets SIGHUP, SIGUSR1 and SIGUSR2, see sigwait
 * below), the socket is opened before privileges are dropped, threads
 * start after the fork, and the service manager hears READY=1 last.
 *
 * Exit codes are sysexits(3)'s: EX_USAGE for the command line, EX_CONFIG
 * for the configuration and what -t checks, EX_NOPERM for refusing root,
 * EX_UNAVAILABLE for a socket that cannot be listened on (and for -s, a
 * daemon that cannot be reached), EX_OSERR for fork and threads; -s exits
 * 1 when the daemon is not ready.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "cli.h"
#include "config_file.h"
#include "config_keys.h"
#include "files.h"
#include "gocd_poller.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "milter.h"
#include "outbox_journal.h"
#include "preflight.h"
#include "slack.h"
#include "snapshots.h"
#include "shared_state.h"
#include "state_file.h"
#include "status.h"
#include "xalloc.h"

#ifndef MAIL2ALERT_VERSION
#define MAIL2ALERT_VERSION "dev"
#endif

/* Highest descriptor searched for libmilter's listening socket. */
#define LISTEN_FD_SCAN_MAX 64

/* Most --to options of one dry run. */
#define DRY_RUN_TO_MAX 64

struct options {
	const char *config_path;
	bool foreground;
	bool debug;
	bool check_only;
	bool report;
	bool status;
	bool json;
	const char *dry_run;		/* -n FILE.eml */
	const char *from;		/* --from */
	char *to[DRY_RUN_TO_MAX];	/* --to */
	size_t nto;
};

static const char *config_path;		/* for reloads */
static pthread_t signal_thread;
static volatile bool signal_thread_stopping;

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: mail2alert [-c FILE] [-f] [-d]   run (daemonise unless -f)\n"
	    "       mail2alert -t [-c FILE]          check the configuration\n"
	    "       mail2alert -k                    list the configuration keys\n"
	    "       mail2alert -r [-c FILE] [-j]     report where each pipeline's alerts go\n"
	    "       mail2alert -s [-c FILE] [-j]     status of the running daemon\n"
	    "       mail2alert -n FILE.eml [-c FILE] [--from ADDR] [--to ADDR]...\n"
	    "                                        dry run: how one message would be routed\n"
	    "       mail2alert -V | -h\n"
	    "signals: SIGHUP or SIGUSR1 reloads the configuration, SIGUSR2 polls GoCD now,\n"
	    "         SIGTERM stops.  Default config: " CONFIG_DEFAULT_PATH "\n");
}

/* -k: one line per row of the key table (config_keys.h), like postconf -d. */
static void
list_keys(void)
{
	struct strbuf line = STRBUF_INIT;

	for (const struct config_key *k = config_key_next(NULL); k; k = config_key_next(k)) {
		strbuf_reset(&line);
		config_key_describe(&line, k);
		printf("%s\n", strbuf_str(&line));
	}
	strbuf_free(&line);
}

static void
parse_options(int argc, char **argv, struct options *opt)
{
	static const struct option long_options[] = {
		{ "from", required_argument, NULL, 'F' },
		{ "to", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opt->config_path = CONFIG_DEFAULT_PATH;
	while ((c = getopt_long(argc, argv, "c:fdtkrsjn:Vh", long_options, NULL)) != -1) {
		switch (c) {
		case 'r':
			opt->report = true;
			break;
		case 's':
			opt->status = true;
			break;
		case 'j':
			opt->json = true;
			break;
		case 'n':
			opt->dry_run = optarg;
			break;
		case 'F':
			opt->from = optarg;
			break;
		case 'T':
			if (opt->nto == DRY_RUN_TO_MAX) {
				fprintf(stderr, "mail2alert: at most %d --to\n", DRY_RUN_TO_MAX);
				exit(EX_USAGE);
			}
			opt->to[opt->nto++] = optarg;
			break;
		case 'c':
			opt->config_path = optarg;
			break;
		case 'f':
			opt->foreground = true;
			break;
		case 'd':
			opt->debug = true;
			break;
		case 't':
			opt->check_only = true;
			break;
		case 'k':
			list_keys();
			exit(0);
		case 'V':
			printf("mail2alert %s\n", MAIL2ALERT_VERSION);
			exit(0);
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			exit(EX_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mail2alert: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		exit(EX_USAGE);
	}
}

static size_t
count_rules(const struct config *config)
{
	size_t n = 0;

	for (size_t i = 0; i < config->nmanagers; i++)
		n += config->managers[i].nrules;
	return n;
}

/*
 * Accepted sockets inherit TCP_NODELAY from the listener on Linux.  Without
 * it, our end-of-message packets meet Nagle and delayed ACK: 40 ms per
 * message.  libmilter does not expose its socket, so find it.
 */
static void
set_listener_nodelay(void)
{
	for (int fd = 0; fd < LISTEN_FD_SCAN_MAX; fd++) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);
		int listening = 0, on = 1;
		socklen_t optlen = sizeof(listening);

		if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &optlen) != 0 ||
		    !listening || getsockname(fd, (struct sockaddr *)&addr, &len) != 0)
			continue;
		if ((addr.ss_family == AF_INET || addr.ss_family == AF_INET6) &&
		    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0)
			log_warning("cannot set TCP_NODELAY on the milter socket: %s",
			    strerror(errno));
	}
}

/* The file system path of a "unix:/path" or "local:/path" socket, or NULL. */
static const char *
unix_socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

/*
 * Mode, owner and group of a unix socket.  Root gives it to the user it
 * is about to become; anyone may give it a group they are in.
 */
static int
set_socket_access(const char *path, const struct config *config,
    const struct passwd *pw, const struct group *gr)
{
	uid_t owner = geteuid() == 0 && pw ? pw->pw_uid : (uid_t)-1;
	gid_t group = gr ? gr->gr_gid : geteuid() == 0 && pw ? pw->pw_gid : (gid_t)-1;

	if (chmod(path, (mode_t)config->socket_mode) != 0 ||
	    ((owner != (uid_t)-1 || group != (gid_t)-1) && chown(path, owner, group) != 0)) {
		log_error("cannot set owner, group and mode of %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Give a unix socket the mode and group Postfix needs (its owner becomes
 * the user we are about to be), then drop root.  Running on as root is
 * refused unless the config says allow-root: the milter reads every
 * message, from anyone.  Returns 0 or the exit code.
 */
static int
drop_privileges(const struct config *config)
{
	const char *path = unix_socket_path(config->socket);
	struct passwd *pw = NULL;
	struct group *gr = NULL;

	/* checked before start (preflight); checked again: it may have gone since */
	if (config->user != NULL && (pw = getpwnam(config->user)) == NULL) {
		log_error("user \"%s\" does not exist", config->user);
		return EX_CONFIG;
	}
	if (config->socket_group != NULL && (gr = getgrnam(config->socket_group)) == NULL) {
		log_error("socket-group \"%s\" does not exist", config->socket_group);
		return EX_CONFIG;
	}
	if (path != NULL && set_socket_access(path, config, pw, gr) != 0)
		return EX_NOPERM;
	if (pw != NULL && geteuid() == 0 &&
	    (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)) {
		log_error("cannot become user %s: %s", config->user, strerror(errno));
		return EX_NOPERM;
	}
	if (geteuid() == 0 && !config->allow_root) {
		log_error("refusing to handle mail as root: set user = \"mail2alert\" "
		    "(or allow-root = true) in %s", config->path);
		return EX_NOPERM;
	}
	return 0;
}

/*
 * Fork into the background.  The parent waits until the child says it is
 * listening, or fails and says with which exit code, and exits with that:
 * init scripts see whether the daemon started.  The child keeps the
 * terminal as stderr until then, so start-up errors are seen there as well
 * as in syslog.  Returns the write end of that pipe.
 */
static int
daemonise(void)
{
	int ready[2];
	unsigned char status = EX_OSERR;
	pid_t pid;

	fflush(NULL);
	if (pipe(ready) != 0 || (pid = fork()) < 0) {
		log_error("cannot fork: %s", strerror(errno));
		exit(EX_OSERR);
	}
	if (pid > 0) {
		close(ready[1]);
		if (read(ready[0], &status, 1) != 1)
			status = EX_OSERR;	/* the child died before it could say */
		_exit(status);
	}
	close(ready[0]);
	setsid();
	if (chdir("/") != 0) {
		log_error("cannot change to /: %s", strerror(errno));
		exit(EX_OSERR);
	}
	return ready[1];
}

/*
 * Start-up is over: stop copying problems to stderr, and in the background
 * let go of the terminal and tell the waiting parent the exit code (0:
 * started).
 */
static void
report_started(int *ready_fd, int code)
{
	unsigned char status = (unsigned char)code;
	int fd;

	log_startup_done();
	if (*ready_fd < 0)
		return;
	if (code == 0 && (fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (write(*ready_fd, &status, 1) != 1)
		log_warning("cannot tell the parent process that start-up %s",
		    code == 0 ? "worked" : "failed");
	close(*ready_fd);
	*ready_fd = -1;
}

/* sd_notify(3) text for a reload starting: systemd wants the clock with it. */
static void
notify_reloading(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)now.tv_sec * 1000000ULL + (unsigned long long)now.tv_nsec / 1000);
}

/* Both NULL, or equal strings. */
static bool
same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* SIGHUP, SIGUSR1: load the config beside the old one; keep the old on error. */
/* The store's settings are read at start only (shared_state_start). */
static bool
shared_state_changed(const struct config *a, const struct config *b)
{
	return !same_string(a->shared_state, b->shared_state) ||
	    !same_string(a->shared_state_password_file, b->shared_state_password_file) ||
	    !same_string(a->shared_state_ca_file, b->shared_state_ca_file) ||
	    !same_string(a->shared_state_prefix, b->shared_state_prefix) ||
	    !same_string(a->shared_state_node, b->shared_state_node) ||
	    a->shared_state_timeout != b->shared_state_timeout ||
	    a->shared_state_ttl != b->shared_state_ttl;
}

static void
reload(void)
{
	struct config_snapshot *old = config_acquire();
	char err[1024];
	struct config *config;

	notify_reloading();
	config = config_load(config_path, err, sizeof(err));
	if (config == NULL) {
		log_error("reload failed, still running on the previous configuration: %s", err);
		metrics_reload(false, err);
	} else {
		if (old != NULL && strcmp(old->config->socket, config->socket) != 0)
			log_warning("reload: socket changed to %s; restart mail2alert to "
			    "listen there", config->socket);
		if (old != NULL && !same_string(old->config->metrics_listen, config->metrics_listen))
			log_warning("reload: metrics-listen changed to %s; restart mail2alert "
			    "to listen there", config->metrics_listen ? config->metrics_listen :
			    "(none)");
		if (old != NULL && (!same_string(old->config->outbox_journal,
		    config->outbox_journal) || (config->outbox_journal == NULL &&
		    !same_string(old->config->state_file, config->state_file))))
			log_warning("reload: outbox-journal (or the state-file it defaults "
			    "beside) changed; the journal in use stays until mail2alert "
			    "restarts");
		if (old != NULL && shared_state_changed(old->config, config))
			log_warning("reload: shared-state or a shared-state-* key changed; the "
			    "store in use stays until mail2alert restarts");
		metrics_register_managers(config);
		metrics_reload(true, NULL);
		config_publish(config);
		log_info("reloaded %s: managers=%zu rules=%zu", config_path,
		    config->nmanagers, count_rules(config));
	}
	config_release(old);
	sd_notify(0, "READY=1");
}

/*
 * SIGHUP is ours, not libmilter's.  smfi_main() starts a thread
 * (libmilter/signal.c, mi_signal_thread) that sigwait()s for SIGHUP,
 * SIGTERM and SIGINT and stops the milter on any of them.  A thread of ours
 * waiting for SIGHUP as well would race it: the kernel hands a signal sent
 * to the process to whichever waiting thread it picks, so a reload would
 * now and then be a stop.  libmilter has no setting for this, so this
 * program defines sigwait() itself, and libmilter's one call to it (linked
 * from libmilter.a, or from libmilter.so through the executable's exported
 * symbol, which comes first in the lookup) waits for the same set less
 * SIGHUP.  SIGTERM and SIGINT stay libmilter's, handled as before.  Our
 * own signal thread uses sigwaitinfo(), which this leaves alone.  The
 * contract is POSIX sigwait's: 0 with *sig set, or an error number.
 */
int
sigwait(const sigset_t *restrict set, int *restrict sig)
{
	sigset_t without_hup = *set;
	int n;

	sigdelset(&without_hup, SIGHUP);
	while ((n = sigwaitinfo(&without_hup, NULL)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return errno;
	*sig = n;
	return 0;
}

static void *
signal_main(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	while (!signal_thread_stopping) {
		if ((sig = sigwaitinfo(&set, NULL)) < 0 || signal_thread_stopping)
			continue;
		if (sig == SIGHUP || sig == SIGUSR1)
			reload();
		else if (sig == SIGUSR2)
			pollers_poll_now();
	}
	return NULL;
}

/* Block every signal we or libmilter handle, before any thread starts. */
static void
block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Returns 0 or the exit code. */
static int
open_milter_socket(const struct config *config)
{
	if (smfi_setconn(config->socket) != MI_SUCCESS ||
	    smfi_register(mail2alert_filter) != MI_SUCCESS) {
		log_error("cannot set up the milter on %s", config->socket);
		return EX_SOFTWARE;
	}
	/* unix sockets: a stale one from a crash is removed */
	errno = 0;
	if (smfi_opensocket(true) != MI_SUCCESS) {
		log_error("cannot listen on %s: %s", config->socket,
		    errno ? strerror(errno) : "in use, or no permission?");
		return errno == EACCES || errno == EPERM ? EX_NOPERM : EX_UNAVAILABLE;
	}
	set_listener_nodelay();
	return 0;
}

/*
 * Give queued Slack posts a moment to go; the rest stay in the outbox
 * journal or are saved in the state file for the next start or, without
 * either, are lost and said so.
 */
static void
stop_slack_and_save(const char *state_path)
{
	size_t n;
	struct slack_post **left = slack_stop(SLACK_DRAIN_SECONDS, &n);
	bool journaled = outbox_journal_is_open();

	if (slack_dropped() > 0)
		log_warning("slack posts dropped since start (queue full): %lu", slack_dropped());

	if (journaled && n > 0)
		log_info("outbox journal: %zu unsent chat posts kept for the next start", n);
	if (state_path != NULL)
		state_file_stop(journaled ? NULL : left, journaled ? 0 : n);
	outbox_journal_close();
	for (size_t i = 0; i < n; i++) {
		if (state_path == NULL && !journaled)
			log_error("%s: %s=%s status=failed reason=shutdown subject=\"%s\"",
			    left[i]->queue_id, SLACK_POST_KIND(left[i]), left[i]->channel,
			    left[i]->subject);
		slack_post_free(left[i]);
	}
	free(left);
}

/*
 * The outbox journal's file (malloc'd), or NULL for none: outbox-journal
 * as set, "" turning it off; unset, beside the state file if there is one.
 */
static char *
outbox_journal_path(const struct config *config)
{
	struct strbuf path = STRBUF_INIT;

	if (config->outbox_journal != NULL)
		return config->outbox_journal[0] ? xstrdup(config->outbox_journal) : NULL;
	if (config->state_file == NULL)
		return NULL;
	strbuf_addf(&path, "%s.outbox", config->state_file);
	return strbuf_detach(&path);
}

/*
 * Open the outbox journal, as the user we run as so it can be rewritten,
 * and queue what an earlier run left in it.  A journal that cannot be
 * used is logged; posts are then kept in memory only, as without one.
 */
static void
open_outbox(const struct config *config)
{
	char *path = outbox_journal_path(config);
	struct slack_post **posts;
	size_t n;

	if (path != NULL && outbox_journal_open(path, &posts, &n) == 0) {
		slack_requeue(posts, n, (size_t)config->slack_queue_size, true);
		free(posts);
	}
	free(path);
}

/* Everything up to the point where mail can be handled: 0 or the exit code. */
static int
start(struct config *config)
{
	int rc;

	if (!http_init()) {
		log_error("cannot initialise libcurl");
		return EX_SOFTWARE;
	}
	metrics_init();
	metrics_register_managers(config);
	config_publish(config);
	if ((rc = open_milter_socket(config)) != 0 || (rc = drop_privileges(config)) != 0)
		return rc;
	if (pthread_create(&signal_thread, NULL, signal_main, NULL) != 0 ||
	    shared_state_start(config) != 0 || slack_start() != 0) {
		log_error("cannot start threads");
		return EX_OSERR;
	}
	open_outbox(config);
	/* the cache first, so mail routes even while GoCD is down */
	state_file_load(config->state_file, (size_t)config->slack_queue_size);
	if (state_file_start(config->state_file) != 0 || pollers_start(config) != 0)
		return EX_OSERR;
	if (metrics_http_start(config) != 0)
		return EX_UNAVAILABLE;
	return 0;
}

static void
log_preflight_problem(bool error, const char *msg, void *arg)
{
	(void)arg;
	log_msg(error ? LOG_ERR : LOG_WARNING, "%s", msg);
}

static int
run(struct config *config, const struct options *opt)
{
	/* the state file is where start-up put it, whatever a reload says */
	char *state_path;
	int ready_fd = -1, rc;

	log_open_daemon(opt->foreground, opt->debug);
	if (preflight_check(config, log_preflight_problem, NULL) > 0) {
		config_free(config);
		return EX_CONFIG;
	}
	state_path = config->state_file ? xstrdup(config->state_file) : NULL;
	if (!opt->foreground)
		ready_fd = daemonise();
	block_signals();
	rc = start(config);
	report_started(&ready_fd, rc);
	if (rc != 0) {
		free(state_path);
		return rc;
	}
	log_info("starting: version=%s socket=%s managers=%zu rules=%zu",
	    MAIL2ALERT_VERSION, config->socket, config->nmanagers, count_rules(config));
	sd_notifyf(0, "READY=1\nSTATUS=listening on %s", config->socket);
	rc = smfi_main();
	sd_notify(0, "STOPPING=1");
	log_info("stopping");
	metrics_http_stop();
	pollers_stop();
	stop_slack_and_save(state_path);
	shared_state_stop();
	free(state_path);
	signal_thread_stopping = true;
	pthread_kill(signal_thread, SIGUSR2);
	pthread_join(signal_thread, NULL);
	snapshots_shutdown();
	metrics_shutdown();
	http_cleanup();
	return rc == MI_SUCCESS ? EX_OK : EX_SOFTWARE;
}

static void
print_preflight_problem(bool error, const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "mail2alert: %s%s\n", error ? "" : "warning: ", msg);
}

int
main(int argc, char **argv)
{
	struct options opt = { 0 };
	struct config *config;
	char err[1024];

	parse_options(argc, argv, &opt);
	/* absolute, so reloads after daemonise's chdir("/") read the same file */
	config_path = file_absolute(opt.config_path);
	config = config_load(config_path, err, sizeof(err));
	if (config == NULL) {
		fprintf(stderr, "mail2alert: %s\n", err);
		return EX_CONFIG;
	}
	if (opt.check_only) {
		int errors = preflight_check(config, print_preflight_problem, NULL);

		bool reachable;

		errors += preflight_check_store(config, print_preflight_problem, NULL,
		    &reachable);
		if (errors == 0) {
			printf("%s: OK (managers=%zu rules=%zu)\n", opt.config_path,
			    config->nmanagers, count_rules(config));
			if (reachable)
				printf("shared-state %s: answered\n", config->shared_state);
			cli_print_destinations(config, true);
		}
		config_free(config);
		return errors == 0 ? EX_OK : EX_CONFIG;
	}
	if (opt.status) {
		int rc;

		log_open_stderr(opt.debug);
		http_init();
		rc = status_show(config, opt.json);
		http_cleanup();
		config_free(config);
		return rc;
	}
	if (opt.report || opt.dry_run) {
		int rc;

		log_open_stderr(opt.debug);
		http_init();
		rc = opt.report ? cli_report(config, opt.json) :
		    cli_dry_run(config, opt.dry_run, opt.from, opt.to, opt.nto);
		http_cleanup();
		config_free(config);
		return rc;
	}
	return run(config, &opt);
}
