/*
 * tls_pipe.c - TLS for a cleartext client, through a socketpair (see
 * tls_pipe.h).
 *
 * A pipe is a TCP connection to the server (net), a socketpair whose far
 * end the client owns (local is ours), and a thread that moves bytes:
 *
 *   client == local --[up, 16 KiB]--> SSL_write --> net
 *                   <-[down, 16 KiB]-- SSL_read <--
 *
 * Each buffer is filled only when empty and drained to empty, so a call
 * that has to be repeated is repeated with the same arguments, as
 * SSL_read(3) and SSL_write(3) require.  No lock: the caller's thread
 * hands the pipe to the pump at pthread_create and takes it back at
 * pthread_join.
 *
 * OpenSSL man pages followed: SSL_get_error(3) (what each result asks of
 * us; the thread's error queue must be empty before each I/O call),
 * SSL_read(3), SSL_write(3), SSL_pending(3), SSL_shutdown(3) (never after
 * a fatal error), SSL_CTX_set_min_proto_version(3),
 * SSL_CTX_load_verify_locations(3), X509_VERIFY_PARAM_set1_host(3),
 * SSL_get_verify_result(3).
 */
#include "tls_pipe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define TLS_PIPE_BUF (16 * 1024)

/* One direction's bytes in flight: data[off..len) is still to be written. */
struct pump_buf {
	unsigned char data[TLS_PIPE_BUF];
	size_t off, len;
};

struct tls_pipe {
	SSL_CTX *ctx;
	SSL *ssl;
	int net_fd;		/* TCP to the server, non-blocking */
	int local_fd;		/* our end of the socketpair, non-blocking */
	int wake[2];		/* tls_pipe_close closes wake[1] */
	pthread_t thread;
	bool thread_started;
	struct pump_buf up;	/* client to server */
	struct pump_buf down;	/* server to client */
};

/* Format a reason into err, when the caller gave room for one. */
static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * The reason of the earliest error in this thread's OpenSSL queue (the
 * cause; later entries are consequences), or fallback; empties the queue.
 */
static const char *
ssl_reason(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_peek_error();
	const char *reason = e ? ERR_reason_error_string(e) : NULL;

	if (reason != NULL)
		snprintf(buf, len, "%s", reason);
	else if (e != 0)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", fallback);
	ERR_clear_error();
	return buf;
}

static struct timespec
deadline_after_ms(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Milliseconds until deadline, rounded up; 0 once it has passed. */
static int
ms_left(const struct timespec *deadline)
{
	struct timespec now;
	long long ns;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(deadline->tv_sec - now.tv_sec) * 1000000000LL +
	    (deadline->tv_nsec - now.tv_nsec);
	return ns > 0 ? (int)((ns + 999999) / 1000000) : 0;
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out, -1 errno. */
static int
wait_fd(int fd, short events, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int ms, n;

	for (;;) {
		if ((ms = ms_left(deadline)) == 0)
			return 0;
		n = poll(&pfd, 1, ms);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* "host:port", or "[host]:port" for an IPv6 address, for messages. */
static void
format_where(char *buf, size_t len, const char *host, int port)
{
	snprintf(buf, len, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
}

static bool
is_ip_literal(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

/*
 * Connect to each address of host in turn, non-blocking, until one
 * answers or the deadline passes.  Returns the connected socket
 * (non-blocking, close-on-exec) or -1 with the reason in err.
 */
static int
connect_tcp(const char *host, int port, const char *where, int timeout_ms,
    const struct timespec *deadline, char *err, size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char service[16], numeric[INET6_ADDRSTRLEN];
	int fd = -1, rc, ready, soerr;
	socklen_t soerr_len;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &res)) != 0) {
		set_err(err, errlen, "cannot resolve %s: %s", host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	set_err(err, errlen, "connect to %s: no address", where);
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, numeric,
		    sizeof(numeric), NULL, 0, NI_NUMERICHOST) != 0)
			snprintf(numeric, sizeof(numeric), "?");
		fd = socket(ai->ai_family,
		    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			set_err(err, errlen, "connect to %s (%s): socket: %s",
			    where, numeric, strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			ready = wait_fd(fd, POLLOUT, deadline);
			if (ready == 0) {
				set_err(err, errlen, "connect to %s (%s): timed out "
				    "after %d ms", where, numeric, timeout_ms);
				close(fd);
				fd = -1;
				break;	/* no time left for the other addresses */
			}
			soerr = errno;
			if (ready > 0) {
				soerr_len = sizeof(soerr);
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
				    &soerr_len) != 0)
					soerr = errno;
				if (soerr == 0)
					break;
			}
			errno = soerr;
		}
		set_err(err, errlen, "connect to %s (%s): %s", where, numeric,
		    strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/*
 * The TLS context of one pipe: TLS 1.2 or later, the peer verified
 * against ca_file or the system's CA paths.
 */
static SSL_CTX *
make_ctx(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	char reason[256];

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		set_err(err, errlen, "SSL_CTX_new: %s",
		    ssl_reason(reason, sizeof(reason), "failed"));
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
		set_err(err, errlen, "cannot require TLS 1.2: %s",
		    ssl_reason(reason, sizeof(reason), "failed"));
		goto fail;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file != NULL) {
		if (access(ca_file, R_OK) != 0) {
			set_err(err, errlen, "cannot read CA file %s: %s", ca_file,
			    strerror(errno));
			goto fail;
		}
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			set_err(err, errlen, "cannot load CA file %s: %s", ca_file,
			    ssl_reason(reason, sizeof(reason), "no certificates"));
			goto fail;
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		set_err(err, errlen, "cannot load the system's CA certificates: %s",
		    ssl_reason(reason, sizeof(reason), "failed"));
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/*
 * The connection of one pipe on fd: the host name sent (SNI) and checked
 * against the certificate, or for an IP literal the address checked
 * (X509_VERIFY_PARAM_set1_host(3), X509_VERIFY_PARAM_set1_ip_asc).
 */
static SSL *
make_ssl(SSL_CTX *ctx, int fd, const char *host, char *err, size_t errlen)
{
	SSL *ssl;
	X509_VERIFY_PARAM *param;
	char reason[256];

	if ((ssl = SSL_new(ctx)) == NULL) {
		set_err(err, errlen, "SSL_new: %s",
		    ssl_reason(reason, sizeof(reason), "failed"));
		return NULL;
	}
	param = SSL_get0_param(ssl);
	if (is_ip_literal(host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1)
			goto fail;
	} else {
		X509_VERIFY_PARAM_set_hostflags(param,
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_host(param, host, 0) != 1 ||
		    SSL_set_tlsext_host_name(ssl, host) != 1)
			goto fail;
	}
	if (SSL_set_fd(ssl, fd) != 1)
		goto fail;
	return ssl;
fail:
	set_err(err, errlen, "cannot set up TLS for %s: %s", host,
	    ssl_reason(reason, sizeof(reason), "failed"));
	SSL_free(ssl);
	return NULL;
}

/* SSL_connect until done, failed, or the deadline passed (SSL_get_error(3)). */
static int
handshake(SSL *ssl, int fd, const char *where, int timeout_ms,
    const struct timespec *deadline, char *err, size_t errlen)
{
	char reason[256];
	long verify;
	int rc, ready;
	short events;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		rc = SSL_connect(ssl);
		if (rc == 1)
			return 0;
		switch (SSL_get_error(ssl, rc)) {
		case SSL_ERROR_WANT_READ:
			events = POLLIN;
			break;
		case SSL_ERROR_WANT_WRITE:
			events = POLLOUT;
			break;
		case SSL_ERROR_SYSCALL:
			set_err(err, errlen, "TLS handshake with %s: %s", where,
			    errno ? strerror(errno) : ssl_reason(reason,
			    sizeof(reason), "the server closed the connection"));
			ERR_clear_error();
			return -1;
		case SSL_ERROR_ZERO_RETURN:
			set_err(err, errlen, "TLS handshake with %s: the server "
			    "closed the connection", where);
			ERR_clear_error();
			return -1;
		default:
			verify = SSL_get_verify_result(ssl);
			if (verify != X509_V_OK)
				set_err(err, errlen, "TLS handshake with %s: "
				    "certificate verify failed: %s", where,
				    X509_verify_cert_error_string(verify));
			else
				set_err(err, errlen, "TLS handshake with %s: %s",
				    where, ssl_reason(reason, sizeof(reason),
				    "failed"));
			ERR_clear_error();
			return -1;
		}
		ready = wait_fd(fd, events, deadline);
		if (ready == 0) {
			set_err(err, errlen, "TLS handshake with %s: timed out "
			    "after %d ms", where, timeout_ms);
			return -1;
		}
		if (ready < 0) {
			set_err(err, errlen, "TLS handshake with %s: poll: %s",
			    where, strerror(errno));
			return -1;
		}
	}
}

/* Close *fd if open, and mark it closed. */
static void
close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Free a pipe whose thread has ended or never started. */
static void
pipe_free(struct tls_pipe *p)
{
	SSL_free(p->ssl);
	SSL_CTX_free(p->ctx);
	close_fd(&p->net_fd);
	close_fd(&p->local_fd);
	close_fd(&p->wake[0]);
	close_fd(&p->wake[1]);
	free(p);
}

/* The state of one pump: what each side can still do, and waits for. */
struct pump {
	bool local_eof;		/* the client closed its end, or it failed */
	bool local_in;		/* recv may have data: try it */
	bool local_out;		/* send may have room: try it */
	bool tls_eof;		/* the server closed, or TLS failed */
	bool tls_failed;	/* fatal: no SSL_shutdown (SSL_shutdown(3)) */
	short read_wait;	/* what SSL_read waits for on net; 0: try it */
	short write_wait;	/* what SSL_write waits for on net; 0: try it */
};

/* What an SSL_read or SSL_write result asks of us (SSL_get_error(3)). */
static void
tls_result(struct tls_pipe *p, struct pump *s, int rc, short *wait)
{
	switch (SSL_get_error(p->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		*wait = POLLIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		*wait = POLLOUT;
		break;
	case SSL_ERROR_ZERO_RETURN:	/* close_notify: a clean end */
		s->tls_eof = true;
		break;
	default:		/* SYSCALL, SSL (EOF without close_notify too) */
		s->tls_eof = true;
		s->tls_failed = true;
		break;
	}
}

/* Client to up: true if anything changed. */
static bool
pump_local_read(struct tls_pipe *p, struct pump *s)
{
	struct pump_buf *up = &p->up;
	ssize_t n;

	if (s->local_eof || up->len > 0 || !s->local_in)
		return false;
	n = recv(p->local_fd, up->data, sizeof(up->data), 0);
	if (n > 0)
		up->len = (size_t)n;
	else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		s->local_in = false;
	else if (n == 0 || errno != EINTR)
		s->local_eof = true;	/* closed, or broken */
	return s->local_in;
}

/* Up to the server: true if anything changed. */
static bool
pump_tls_write(struct tls_pipe *p, struct pump *s)
{
	struct pump_buf *up = &p->up;
	int rc;

	if (s->tls_eof || up->len == 0 || s->write_wait != 0)
		return false;
	ERR_clear_error();
	rc = SSL_write(p->ssl, up->data + up->off, (int)(up->len - up->off));
	if (rc > 0) {
		up->off += (size_t)rc;
		if (up->off == up->len)
			up->off = up->len = 0;
		return true;
	}
	tls_result(p, s, rc, &s->write_wait);
	return s->tls_eof;
}

/*
 * Server to down: true if anything changed.  SSL_read is tried again as
 * soon as down is empty, before any poll, so bytes OpenSSL has already
 * decrypted (SSL_pending(3)) never wait for the socket to turn readable;
 * it waits for the socket only after WANT_READ or WANT_WRITE.
 */
static bool
pump_tls_read(struct tls_pipe *p, struct pump *s)
{
	struct pump_buf *down = &p->down;
	int rc;

	if (s->tls_eof || down->len > 0 || s->read_wait != 0)
		return false;
	ERR_clear_error();
	rc = SSL_read(p->ssl, down->data, (int)sizeof(down->data));
	if (rc > 0) {
		down->len = (size_t)rc;
		return true;
	}
	tls_result(p, s, rc, &s->read_wait);
	return s->tls_eof;
}

/* Down to the client: true if anything changed. */
static bool
pump_local_write(struct tls_pipe *p, struct pump *s)
{
	struct pump_buf *down = &p->down;
	ssize_t n;

	if (s->local_eof || down->len == 0 || !s->local_out)
		return false;
	/* MSG_NOSIGNAL: a client gone is EPIPE here, never SIGPIPE */
	n = send(p->local_fd, down->data + down->off, down->len - down->off,
	    MSG_NOSIGNAL);
	if (n > 0) {
		down->off += (size_t)n;
		if (down->off == down->len)
			down->off = down->len = 0;
	} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		s->local_out = false;
	} else if (n == 0 || errno != EINTR) {
		s->local_eof = true;	/* the client is gone */
	}
	return s->local_out;
}

/*
 * The pump thread: moves bytes until either side ends or tls_pipe_close
 * closes wake[1].  On its way out it says close_notify to the server
 * (unless TLS failed) and shuts both sockets down, so the client reads
 * EOF and the server sees the connection end.
 */
static void *
pump_main(void *arg)
{
	struct tls_pipe *p = arg;
	struct pump s = { .local_in = true, .local_out = true };
	struct pollfd pfd[3];
	short local_events, net_events;

	for (;;) {
		/*
		 * Each step moves bytes, or records what it waits for, or
		 * that its side ended; until none can go on without waiting.
		 */
		while (pump_local_read(p, &s) | pump_tls_write(p, &s) |
		    pump_tls_read(p, &s) | pump_local_write(p, &s))
			;
		/* Client gone: what could go out without waiting went out. */
		if (s.local_eof)
			break;
		if (s.tls_eof) {
			p->up.off = p->up.len = 0;	/* nowhere to go */
			if (p->down.len == 0)
				break;
		}

		local_events = 0;
		if (p->up.len == 0 && !s.local_in)
			local_events |= POLLIN;
		if (p->down.len > 0 && !s.local_out)
			local_events |= POLLOUT;
		net_events = 0;
		if (!s.tls_eof && p->up.len > 0)
			net_events |= s.write_wait;
		if (!s.tls_eof && p->down.len == 0)
			net_events |= s.read_wait;

		/*
		 * An fd we want nothing from is left out (-1), so a hang-up
		 * we are not waiting for cannot wake us again and again.
		 */
		pfd[0] = (struct pollfd){ .fd = p->wake[0], .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = local_events ? p->local_fd : -1,
		    .events = local_events };
		pfd[2] = (struct pollfd){ .fd = net_events ? p->net_fd : -1,
		    .events = net_events };
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents)
			break;		/* tls_pipe_close */
		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
			s.local_in = true;
		if (pfd[1].revents & (POLLOUT | POLLHUP | POLLERR))
			s.local_out = true;
		if (pfd[2].revents & (s.read_wait | POLLHUP | POLLERR))
			s.read_wait = 0;
		if (pfd[2].revents & (s.write_wait | POLLHUP | POLLERR))
			s.write_wait = 0;
	}

	if (!s.tls_failed) {
		ERR_clear_error();
		(void)SSL_shutdown(p->ssl);	/* one try: close_notify */
	}
	ERR_clear_error();
	shutdown(p->local_fd, SHUT_RDWR);
	shutdown(p->net_fd, SHUT_RDWR);
	return NULL;
}

struct tls_pipe *
tls_pipe_open(const char *host, int port, const char *ca_file,
    int timeout_ms, int *fd, char *err, size_t errlen)
{
	struct tls_pipe *p;
	struct timespec deadline;
	char where[300];
	int pair[2], flags, one = 1;
	sigset_t all, old;

	*fd = -1;
	if (host == NULL || *host == '\0' || port <= 0 || port > 65535 ||
	    timeout_ms <= 0) {
		set_err(err, errlen, "tls_pipe_open: bad arguments");
		return NULL;
	}
	format_where(where, sizeof(where), host, port);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		set_err(err, errlen, "tls_pipe_open: %s", strerror(errno));
		return NULL;
	}
	p->net_fd = p->local_fd = p->wake[0] = p->wake[1] = -1;

	if ((p->ctx = make_ctx(ca_file, err, errlen)) == NULL)
		goto fail;
	/* the time for the network; reading the CA file is not on it */
	deadline = deadline_after_ms(timeout_ms);
	p->net_fd = connect_tcp(host, port, where, timeout_ms, &deadline, err,
	    errlen);
	if (p->net_fd < 0)
		goto fail;
	/* small commands and answers: no Nagle delay; notice a dead peer */
	setsockopt(p->net_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(p->net_fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	if ((p->ssl = make_ssl(p->ctx, p->net_fd, host, err, errlen)) == NULL)
		goto fail;
	if (handshake(p->ssl, p->net_fd, where, timeout_ms, &deadline, err,
	    errlen) != 0)
		goto fail;

	if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
		set_err(err, errlen, "tls_pipe_open: %s", strerror(errno));
		goto fail;
	}
	p->local_fd = pair[1];
	flags = fcntl(p->local_fd, F_GETFL);
	if (flags < 0 || fcntl(p->local_fd, F_SETFL, flags | O_NONBLOCK) != 0) {
		set_err(err, errlen, "tls_pipe_open: fcntl: %s", strerror(errno));
		close(pair[0]);
		goto fail;
	}

	/*
	 * The pump takes no signals: the daemon's are for its signal thread,
	 * and a SIGPIPE from OpenSSL's write(2) stays pending on the pump and
	 * dies with it.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	errno = pthread_create(&p->thread, NULL, pump_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (errno != 0) {
		set_err(err, errlen, "tls_pipe_open: pthread_create: %s",
		    strerror(errno));
		close(pair[0]);
		goto fail;
	}
	p->thread_started = true;
	*fd = pair[0];
	return p;
fail:
	pipe_free(p);
	return NULL;
}

void
tls_pipe_close(struct tls_pipe *p)
{
	if (p == NULL)
		return;
	if (p->thread_started) {
		close_fd(&p->wake[1]);	/* the pump's poll sees POLLHUP */
		pthread_join(p->thread, NULL);
	}
	pipe_free(p);
}
