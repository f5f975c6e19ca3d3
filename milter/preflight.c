/*
 * preflight.c - what would fail at start (see preflight.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics_text.h"
#include "preflight.h"
#include "store_conn.h"
#include "xalloc.h"

/* Most files checked as the daemon's user: three per manager, and three. */
#define ACCESS_CHECKS_MAX(config) ((config)->nmanagers * 3 + 3)

struct preflight {
	const struct config *config;
	preflight_report_fn report;
	void *arg;
	int errors;
};

static void __attribute__((format(printf, 3, 4)))
problem(struct preflight *pf, bool error, const char *fmt, ...)
{
	char what[1024], msg[1280];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s: %s", pf->config->path, what);
	pf->report(error, msg, pf->arg);
	if (error)
		pf->errors++;
}

/* The directory part of path, as a new string ("/" for "/x"). */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

static bool
is_directory(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* "unix:PATH", "local:PATH" or a bare PATH: libmilter creates it there. */
static void
check_unix_socket(struct preflight *pf, const char *spec, const char *path)
{
	char *dir;

	if (path[0] != '/') {
		problem(pf, true, "socket \"%s\": the path must be absolute (the daemon "
		    "works in /)", spec);
		return;
	}
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		problem(pf, true, "socket \"%s\": path longer than %zu bytes", spec,
		    sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		return;
	}
	dir = dir_of(path);
	if (!is_directory(dir))
		problem(pf, true, "socket \"%s\": directory %s does not exist", spec, dir);
	free(dir);
}

/*
 * "inet:PORT@HOST", "inet:PORT" (every address), "inet6:PORT@HOST", HOST a
 * name, an address or "[address]": what libmilter's mi_milteropen takes.
 * Postfix writes the same socket "inet:HOST:PORT", and libmilter reads that
 * as port atoi("HOST:PORT"), so "inet:127.0.0.1:8895" would listen on port
 * 127 of every address: refused here with the spelling to use.
 */
static void
check_inet_socket(struct preflight *pf, const char *spec, int family, const char *rest)
{
	const char *at = strchr(rest, '@'), *host = at ? at + 1 : NULL;
	char *port = at ? xstrndup(rest, (size_t)(at - rest)) : xstrdup(rest);
	const char *colon = strrchr(rest, ':');
	bool numeric = port[0] != '\0';

	if (at == NULL && colon != NULL) {
		char *phost = xstrndup(rest, (size_t)(colon - rest));
		bool v6 = strchr(phost, ':') != NULL;

		problem(pf, true, "socket \"%s\" is Postfix's spelling (inet:HOST:PORT); "
		    "libmilter's is \"%s:%s@%s\"", spec, v6 ? "inet6" : "inet", colon + 1, phost);
		free(phost);
		free(port);
		return;
	}
	for (const char *p = port; *p; p++)
		numeric = numeric && isdigit((unsigned char)*p);
	if (numeric ? strlen(port) > 5 || atol(port) < 1 || atol(port) > 65535 :
	    port[0] == '\0' || getservbyname(port, "tcp") == NULL)
		problem(pf, true, "socket \"%s\": \"%s\" is not a port (1-65535 or a service "
		    "name); the form is %s:PORT@HOST", spec, port,
		    family == AF_INET6 ? "inet6" : "inet");
	free(port);
	if (host == NULL)
		return;
	if (host[0] == '\0') {
		problem(pf, true, "socket \"%s\": no host after @", spec);
	} else if (host[0] == '[') {
		const char *end = strchr(host, ']');
		char *addr = end ? xstrndup(host + 1, (size_t)(end - host - 1)) : NULL;
		unsigned char buf[sizeof(struct in6_addr)];

		if (addr == NULL || end[1] != '\0' || inet_pton(family, addr, buf) != 1)
			problem(pf, true, "socket \"%s\": \"%s\" is not an %s address", spec, host,
			    family == AF_INET6 ? "IPv6" : "IPv4");
		free(addr);
	} else {
		struct addrinfo hints = { .ai_family = family, .ai_socktype = SOCK_STREAM };
		struct addrinfo *res = NULL;
		int rc = getaddrinfo(host, NULL, &hints, &res);

		if (rc != 0)
			problem(pf, true, "socket \"%s\": host \"%s\" has no %s address: %s%s", spec,
			    host, family == AF_INET6 ? "IPv6" : "IPv4", gai_strerror(rc),
			    family == AF_INET && strchr(host, ':') ? " (IPv6 needs inet6:)" : "");
		if (res != NULL)
			freeaddrinfo(res);
	}
}

static void
check_socket(struct preflight *pf)
{
	const char *spec = pf->config->socket;
	const char *colon = strchr(spec, ':');
	char *kind;

	if (colon == NULL) {
		check_unix_socket(pf, spec, spec);
		return;
	}
	kind = xstrndup(spec, (size_t)(colon - spec));
	if (kind[0] == '\0' || strcasecmp(kind, "unix") == 0 || strcasecmp(kind, "local") == 0)
		check_unix_socket(pf, spec, colon + 1);
	else if (strcasecmp(kind, "inet") == 0)
		check_inet_socket(pf, spec, AF_INET, colon + 1);
	else if (strcasecmp(kind, "inet6") == 0)
		check_inet_socket(pf, spec, AF_INET6, colon + 1);
	else
		problem(pf, true, "socket \"%s\": unknown type \"%s\"; use unix:/PATH, "
		    "inet:PORT@HOST or inet6:PORT@HOST", spec, kind);
	free(kind);
}

/* One file the daemon's user must be able to use. */
struct access_check {
	const char *key;
	const char *path;
	bool directory;		/* must be writable (state file's directory) */
	bool error;		/* false: a warning */
	const char *consequence;
	int err;		/* errno of the attempt, 0: fine */
};

static int
try_access(const struct access_check *c)
{
	int fd;

	if (c->directory)
		return access(c->path, W_OK | X_OK) == 0 ? 0 : errno;
	fd = open(c->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/*
 * Try every check as pw, in a child that becomes pw as the daemon will
 * (file permissions, groups and ACLs all count).  false when that child
 * could not run; the caller then checks as itself.
 */
static bool
try_access_as(const struct passwd *pw, struct access_check *checks, size_t n)
{
	int fds[2], status;
	pid_t pid;
	bool ok = true;

	if (pipe(fds) != 0)
		return false;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return false;
	}
	if (pid == 0) {
		close(fds[0]);
		if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
		    setuid(pw->pw_uid) != 0)
			_exit(1);
		for (size_t i = 0; i < n; i++) {
			int err = try_access(&checks[i]);

			if (write(fds[1], &err, sizeof(err)) != (ssize_t)sizeof(err))
				_exit(1);
		}
		_exit(0);
	}
	close(fds[1]);
	for (size_t i = 0; i < n && ok; i++)
		ok = read(fds[0], &checks[i].err, sizeof(checks[i].err)) ==
		    (ssize_t)sizeof(checks[i].err);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
add_check(struct access_check *checks, size_t *n, const char *key, const char *path,
    bool directory, bool error, const char *consequence)
{
	if (path == NULL)
		return;
	checks[*n] = (struct access_check){ key, path, directory, error, consequence, 0 };
	(*n)++;
}

/* The files: readable, or for the state file's directory writable, as the daemon's user. */
static void
check_files(struct preflight *pf, const struct passwd *pw)
{
	const struct config *config = pf->config;
	struct access_check *checks = xcalloc(ACCESS_CHECKS_MAX(config), sizeof(*checks));
	char *state_dir = config->state_file ? dir_of(config->state_file) : NULL;
	bool as_user = pw != NULL && geteuid() == 0 && pw->pw_uid != 0;
	const char *who = as_user ? pw->pw_name : "this user";
	size_t n = 0;

	for (size_t i = 0; i < config->nmanagers; i++) {
		const struct manager *m = &config->managers[i];

		add_check(checks, &n, "ca-file", m->ca_file, false, true,
		    "every poll of GoCD would fail");
		add_check(checks, &n, "passwd-file", m->passwd_file, false, false,
		    "every reload would fail");
		add_check(checks, &n, "token-file", m->token_file, false, false,
		    "every reload would fail");
	}
	add_check(checks, &n, "shared-state-ca-file", config->shared_state_ca_file, false, true,
	    "the shared state could never be reached");
	add_check(checks, &n, "shared-state-password-file", config->shared_state_password_file,
	    false, false, "every reload would fail");
	if (state_dir != NULL && !is_directory(state_dir)) {
		problem(pf, true, "state-file %s: directory %s does not exist",
		    config->state_file, state_dir);
	} else {
		add_check(checks, &n, "state-file", state_dir, true, false,
		    "the stage states and unsent Slack posts would not be saved");
	}
	if (n > 0 && (!as_user || !try_access_as(pw, checks, n))) {
		as_user = false;
		who = "this user";
		for (size_t i = 0; i < n; i++)
			checks[i].err = try_access(&checks[i]);
	}
	for (size_t i = 0; i < n; i++) {
		const struct access_check *c = &checks[i];

		if (c->err == 0)
			continue;
		if (c->directory)
			problem(pf, c->error, "state-file %s: %s cannot write directory %s: %s; %s",
			    config->state_file, who, c->path, strerror(c->err), c->consequence);
		else
			problem(pf, c->error, "%s %s: %s cannot read it: %s; %s", c->key, c->path,
			    who, strerror(c->err), c->consequence);
	}
	free(state_dir);
	free(checks);
}

/* metrics-listen: HOST:PORT or [IPv6]:PORT (it is opened only at start). */
static void
check_metrics_listen(struct preflight *pf)
{
	char host[256], why[256];
	unsigned port;

	if (pf->config->metrics_listen != NULL &&
	    !metrics_listen_parse(pf->config->metrics_listen, host, sizeof(host), &port,
	    why, sizeof(why)))
		problem(pf, true, "metrics-listen: %s", why);
}

int
preflight_check(const struct config *config, preflight_report_fn report, void *arg)
{
	struct preflight pf = { config, report, arg, 0 };
	struct passwd *pw = NULL;

	check_socket(&pf);
	check_metrics_listen(&pf);
	if (config->user != NULL && (pw = getpwnam(config->user)) == NULL)
		problem(&pf, true, "user \"%s\" does not exist", config->user);
	if (config->socket_group != NULL && getgrnam(config->socket_group) == NULL)
		problem(&pf, true, "socket-group \"%s\" does not exist", config->socket_group);
	/* getpwnam's result lives until the next call: copy what the check needs */
	if (pw != NULL) {
		struct passwd user = *pw;

		user.pw_name = xstrdup(pw->pw_name);
		check_files(&pf, &user);
		free(user.pw_name);
	} else {
		check_files(&pf, NULL);
	}
	return pf.errors;
}

/* The store's own answer decides: refused (AUTH, SELECT) is an error. */
int
preflight_check_store(const struct config *config, preflight_report_fn report, void *arg,
    bool *reachable)
{
	struct preflight pf = { config, report, arg, 0 };
	struct store_settings *settings = store_settings_new(config);
	struct store_conn conn;
	char why[256];
	int rc;

	*reachable = false;
	if (settings == NULL)
		return 0;
	rc = store_conn_open(settings, PREFLIGHT_STORE_MS, PREFLIGHT_STORE_MS, &conn, why,
	    sizeof(why));
	if (rc == 0) {
		store_conn_close(&conn);
		*reachable = true;
	} else if (rc == STORE_REFUSED) {
		problem(&pf, true, "shared-state %s: %s", settings->url_text, why);
	} else {
		problem(&pf, false, "shared-state %s: unreachable (%s); each relay decides "
		    "alone until it answers", settings->url_text, why);
	}
	store_settings_free(settings);
	return pf.errors;
}
