/*
 * tls_pipe_test.c - milter/tls_pipe.c against a real redis-server over TLS,
 * through hiredis 0.14's redisConnectFd().  Not part of the daemon.
 *
 *   tls_pipe_test DIR
 *
 * DIR holds what tests/tls/tls.mk makes with the openssl command:
 * ca.pem (the test CA), other-ca.pem (a CA that signed nothing here),
 * ip.pem/ip.key (signed by ca.pem, SAN IP:127.0.0.1 only) and
 * name.pem/name.key (signed by ca.pem, SAN DNS:localhost only).
 *
 * Starts two redis-servers ($REDIS_SERVER, default /usr/bin/redis-server)
 * on free loopback ports, one per server certificate, runs the checks,
 * prints one line per check and a summary, and exits 1 on any failure.
 * The servers die with the test (PR_SET_PDEATHSIG) should it crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "tls_pipe.h"

#define BIG_VALUE (100 * 1024)
#define PIPELINED 20		/* big SETs, then as many GETs, in one write */
#define WATCHDOG_SECONDS 180	/* a hang fails the test, not the CI job */

static int checks, failures;
static const char *dir;

static void
check(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failures++;
	printf("%s - ", ok ? "ok  " : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static char *
path(const char *name)
{
	static char buf[4][4096];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A loopback TCP socket on a port the kernel picked; listening if asked. */
static int
loopback_socket(int *port, bool listening)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    (listening && listen(fd, 8) != 0) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		perror("loopback socket");
		exit(2);
	}
	*port = ntohs(sin.sin_port);
	return fd;
}

/* A port nothing listens on (just now). */
static int
free_port(void)
{
	int port, fd = loopback_socket(&port, false);

	close(fd);
	return port;
}

static bool
port_open(int port)
{
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* redis-server with TLS only, on a free port; its log in DIR/name.log. */
static pid_t
start_redis(const char *name, int *port)
{
	const char *server = getenv("REDIS_SERVER");
	char port_arg[16], cert[256], key[256], log[256];
	pid_t pid;
	int i, fd;

	if (server == NULL)
		server = "/usr/bin/redis-server";
	*port = free_port();
	snprintf(port_arg, sizeof(port_arg), "%d", *port);
	snprintf(cert, sizeof(cert), "%s.pem", name);
	snprintf(key, sizeof(key), "%s.key", name);
	snprintf(log, sizeof(log), "redis-%s.log", name);
	snprintf(cert, sizeof(cert), "%s", path(cert));
	snprintf(key, sizeof(key), "%s", path(key));
	snprintf(log, sizeof(log), "%s", path(log));

	if ((pid = fork()) < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl(server, server, "--port", "0", "--tls-port", port_arg,
		    "--bind", "127.0.0.1", "--tls-cert-file", cert,
		    "--tls-key-file", key, "--tls-ca-cert-file", path("ca.pem"),
		    "--tls-auth-clients", "no", "--save", "", "--appendonly", "no",
		    "--daemonize", "no", "--dir", dir, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && !port_open(*port); i++)
		usleep(50 * 1000);
	if (!port_open(*port)) {
		fprintf(stderr, "redis-server (%s) did not listen on %d; see %s\n",
		    name, *port, log);
		kill(pid, SIGKILL);
		exit(2);
	}
	return pid;
}

static void
stop_redis(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
	}
}

/* Open a pipe and adopt its fd in hiredis; NULL pair on failure. */
static redisContext *
connect_redis(const char *host, int port, const char *ca,
    struct tls_pipe **pipe_out)
{
	char err[512];
	int fd = -1;
	struct tls_pipe *p = tls_pipe_open(host, port, ca, 3000, &fd, err,
	    sizeof(err));
	redisContext *c;
	struct timeval tv = { 10, 0 };

	*pipe_out = p;
	check(p != NULL && fd >= 0, "tls_pipe_open %s:%d: %s", host, port,
	    p ? "connected" : err);
	if (p == NULL)
		return NULL;
	c = redisConnectFd(fd);
	check(c != NULL && c->err == 0, "redisConnectFd adopts the pipe's fd");
	if (c == NULL || c->err) {
		redisFree(c);
		tls_pipe_close(p);
		*pipe_out = NULL;
		return NULL;
	}
	redisSetTimeout(c, tv);	/* a stalled pump fails a command, not the run */
	return c;
}

static bool
ping(redisContext *c)
{
	redisReply *r = redisCommand(c, "PING");
	bool ok = r != NULL && r->type == REDIS_REPLY_STATUS &&
	    strcmp(r->str, "PONG") == 0;

	freeReplyObject(r);
	return ok;
}

static void
fill(unsigned char *buf, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)	/* every byte value, \0 and \r\n too */
		buf[i] = (unsigned char)((i * 31 + seed * 7 + i / 251) & 0xff);
}

static bool
reply_is(redisReply *r, const unsigned char *want, size_t len)
{
	return r != NULL && r->type == REDIS_REPLY_STRING &&
	    (size_t)r->len == len && memcmp(r->str, want, len) == 0;
}

/* PING, a 100 KB SET/GET, then 20 SETs and 20 GETs pipelined: 2 MB each way. */
static void
test_transfer(int port)
{
	struct tls_pipe *p;
	redisContext *c = connect_redis("127.0.0.1", port, path("ca.pem"), &p);
	unsigned char *value = malloc(BIG_VALUE);
	redisReply *r;
	char key[32];
	int i, good;

	if (c == NULL || value == NULL)
		goto out;
	check(ping(c), "PING -> PONG through the pipe");

	fill(value, BIG_VALUE, 0);
	r = redisCommand(c, "SET m2a:test:big %b", value, (size_t)BIG_VALUE);
	check(r && r->type == REDIS_REPLY_STATUS, "SET of a 100 KB value");
	freeReplyObject(r);
	r = redisCommand(c, "GET m2a:test:big");
	check(reply_is(r, value, BIG_VALUE), "GET returns the 100 KB value intact");
	freeReplyObject(r);

	for (i = 0; i < PIPELINED; i++) {
		fill(value, BIG_VALUE, (unsigned)i + 1);
		snprintf(key, sizeof(key), "m2a:test:%d", i);
		redisAppendCommand(c, "SET %s %b", key, value, (size_t)BIG_VALUE);
	}
	for (i = 0; i < PIPELINED; i++) {
		snprintf(key, sizeof(key), "m2a:test:%d", i);
		redisAppendCommand(c, "GET %s", key);
	}
	for (i = good = 0; i < PIPELINED; i++) {
		r = NULL;
		if (redisGetReply(c, (void **)&r) == REDIS_OK &&
		    r->type == REDIS_REPLY_STATUS)
			good++;
		freeReplyObject(r);
	}
	check(good == PIPELINED, "%d pipelined SETs of 100 KB: %d OK", PIPELINED,
	    good);
	for (i = good = 0; i < PIPELINED; i++) {
		r = NULL;
		fill(value, BIG_VALUE, (unsigned)i + 1);
		if (redisGetReply(c, (void **)&r) == REDIS_OK &&
		    reply_is(r, value, BIG_VALUE))
			good++;
		freeReplyObject(r);
	}
	check(good == PIPELINED, "%d pipelined GETs of 100 KB: %d intact",
	    PIPELINED, good);
	check(ping(c), "PING after the bulk transfer");
out:
	free(value);
	redisFree(c);		/* closes the fd; the pump sees EOF */
	tls_pipe_close(p);
}

/*
 * A host name checked against a DNS SAN; the pipe closed before
 * redisFree: the client sees its connection end.
 */
static void
test_name_and_close_first(int port)
{
	struct tls_pipe *p;
	redisContext *c = connect_redis("localhost", port, path("ca.pem"), &p);
	redisReply *r;
	long t0;

	if (c == NULL)
		return;
	check(ping(c), "PING -> PONG with the host name checked (localhost)");
	tls_pipe_close(p);
	t0 = now_ms();
	r = redisCommand(c, "PING");
	check(r == NULL && c->err != 0 && now_ms() - t0 < 3000,
	    "after tls_pipe_close, the next command fails at once: %s",
	    c->err ? c->errstr : "(no error)");
	freeReplyObject(r);
	redisFree(c);
}

/*
 * tls_pipe_open must fail with want in the reason; if timed, within 3x
 * timeout_ms (reading the system's CAs is slow under valgrind: not timed).
 */
static void
expect_refused(const char *what, const char *host, int port, const char *ca,
    int timeout_ms, bool timed, const char *want)
{
	char err[512] = "";
	int fd = 12345;
	long t0 = now_ms(), took;
	struct tls_pipe *p = tls_pipe_open(host, port, ca, timeout_ms, &fd, err,
	    sizeof(err));

	took = now_ms() - t0;
	check(p == NULL && fd == -1 && strstr(err, want) != NULL &&
	    (!timed || took < 3L * timeout_ms),
	    "%s: refused in %ld ms (timeout %d): %s", what, took, timeout_ms,
	    p ? "(it connected)" : err);
	if (p != NULL) {
		close(fd);
		tls_pipe_close(p);
	}
}

/* A listener that never accepts: TCP connects, TLS never answers. */
static void
test_silent_server(void)
{
	int port, fd = loopback_socket(&port, true);
	char err[512] = "";
	int out = -1;
	long t0 = now_ms(), took;
	struct tls_pipe *p = tls_pipe_open("127.0.0.1", port, path("ca.pem"), 500,
	    &out, err, sizeof(err));

	took = now_ms() - t0;
	check(p == NULL && strstr(err, "timed out") != NULL && took >= 450 &&
	    took < 1500, "a server that never speaks TLS: given up after %ld ms "
	    "(timeout 500): %s", took, p ? "(it connected)" : err);
	if (p != NULL) {
		close(out);
		tls_pipe_close(p);
	}
	close(fd);
}

/*
 * A listener whose accept queue is full: Linux drops the SYN, so the TCP
 * connect itself never completes.
 */
static void
test_connect_timeout(void)
{
	int port, fd = loopback_socket(&port, true), filler[4], i;
	struct sockaddr_in sin;
	char err[512] = "";
	int out = -1;
	long t0, took;
	struct tls_pipe *p;

	listen(fd, 0);		/* a queue of one */
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 4; i++) {
		filler[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
		    SOCK_CLOEXEC, 0);
		connect(filler[i], (struct sockaddr *)&sin, sizeof(sin));
	}
	usleep(100 * 1000);
	t0 = now_ms();
	p = tls_pipe_open("127.0.0.1", port, path("ca.pem"), 500, &out, err,
	    sizeof(err));
	took = now_ms() - t0;
	check(p == NULL && strstr(err, "connect to") != NULL &&
	    strstr(err, "timed out") != NULL && took >= 450 && took < 1500,
	    "a connect that never completes: given up after %ld ms (timeout "
	    "500): %s", took, p ? "(it connected)" : err);
	if (p != NULL) {
		close(out);
		tls_pipe_close(p);
	}
	for (i = 0; i < 4; i++)
		close(filler[i]);
	close(fd);
}

/* The server killed mid-connection: the next command fails, quickly. */
static void
test_server_killed(int port, pid_t *pid)
{
	struct tls_pipe *p;
	redisContext *c = connect_redis("127.0.0.1", port, path("ca.pem"), &p);
	redisReply *r;
	long t0;

	if (c == NULL)
		return;
	check(ping(c), "PING before the server is killed");
	kill(*pid, SIGKILL);
	waitpid(*pid, NULL, 0);
	*pid = -1;
	t0 = now_ms();
	r = redisCommand(c, "PING");
	check(r == NULL && c->err != 0 && now_ms() - t0 < 3000,
	    "redis-server killed: the next command fails in %ld ms: %s",
	    now_ms() - t0, c->err ? c->errstr : "(no error)");
	freeReplyObject(r);
	r = redisCommand(c, "PING");
	check(r == NULL, "and the one after that fails too");
	freeReplyObject(r);
	redisFree(c);
	tls_pipe_close(p);
}

/*
 * tls_pipe_close while the pump is stuck: 2 MB of answers the client
 * never reads fill the socketpair, and the pump waits to write them.
 */
static void
test_close_while_busy(int port)
{
	struct tls_pipe *p;
	redisContext *c = connect_redis("127.0.0.1", port, path("ca.pem"), &p);
	int i, done = 0, queued = 0;
	long t0, took;

	if (c == NULL)
		return;
	for (i = 0; i < PIPELINED; i++)
		redisAppendCommand(c, "GET m2a:test:%d", i);
	while (!done && redisBufferWrite(c, &done) == REDIS_OK)
		;
	usleep(300 * 1000);
	ioctl(c->fd, FIONREAD, &queued);	/* the socketpair is full */
	t0 = now_ms();
	tls_pipe_close(p);
	took = now_ms() - t0;
	check(done && took < 1000, "tls_pipe_close with 2 MB of answers unread "
	    "(%d bytes queued) returns in %ld ms", queued, took);
	redisFree(c);
}

/* A pipe whose fd is closed unused, and tls_pipe_close(NULL). */
static void
test_unused(int port)
{
	char err[512];
	int fd = -1;
	struct tls_pipe *p = tls_pipe_open("127.0.0.1", port, path("ca.pem"),
	    3000, &fd, err, sizeof(err));

	check(p != NULL, "a pipe opened and closed unused: %s",
	    p ? "opened" : err);
	if (p != NULL) {
		close(fd);
		tls_pipe_close(p);
	}
	tls_pipe_close(NULL);
}

int
main(int argc, char **argv)
{
	pid_t ip_server, name_server;
	int ip_port, name_port;
	FILE *f;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	signal(SIGPIPE, SIG_IGN);	/* as mail2alert's main() does */
	alarm(WATCHDOG_SECONDS);
	if ((f = fopen(path("garbage.pem"), "w")) != NULL) {
		fputs("this is not a certificate\n", f);
		fclose(f);
	}

	ip_server = start_redis("ip", &ip_port);
	name_server = start_redis("name", &name_port);

	test_transfer(ip_port);
	test_name_and_close_first(name_port);
	test_close_while_busy(ip_port);
	test_unused(ip_port);
	expect_refused("IP literal, certificate only for localhost", "127.0.0.1",
	    name_port, path("ca.pem"), 2000, false, "IP address mismatch");
	expect_refused("host name, certificate only for 127.0.0.1", "localhost",
	    ip_port, path("ca.pem"), 2000, false, "hostname mismatch");
	expect_refused("the wrong CA", "127.0.0.1", ip_port, path("other-ca.pem"),
	    2000, false, "certificate verify failed");
	expect_refused("the system's CAs", "127.0.0.1", ip_port, NULL, 2000,
	    false, "certificate verify failed");
	expect_refused("a CA file that is missing", "127.0.0.1", ip_port,
	    path("missing.pem"), 2000, false, "cannot read CA file");
	expect_refused("a CA file that is not PEM", "127.0.0.1", ip_port,
	    path("garbage.pem"), 2000, false, "cannot load CA file");
	expect_refused("a port nothing listens on", "127.0.0.1", free_port(),
	    path("ca.pem"), 1000, true, "Connection refused");
	/* not timed: the resolver's time, not the pipe's */
	expect_refused("a name that does not resolve", "no-such-host.invalid",
	    ip_port, path("ca.pem"), 1000, false, "cannot resolve");
	test_silent_server();
	test_connect_timeout();
	test_server_killed(ip_port, &ip_server);

	stop_redis(ip_server);
	stop_redis(name_server);
	printf("tls_pipe_test: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
