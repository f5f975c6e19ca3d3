/*
 * tls_pipe.h - a TLS connection to a server, presented as a cleartext
 * socket, for clients that cannot speak TLS themselves.
 *
 * hiredis 0.14 (Debian 12's) has no TLS, but redisConnectFd() adopts a
 * connected socket.  tls_pipe_open() connects and verifies the server,
 * then hands out one end of a socketpair; a thread pumps bytes between
 * the other end and the TLS connection.
 *
 *   struct tls_pipe *p = tls_pipe_open(host, port, ca_file, 5000, &fd,
 *       err, sizeof(err));
 *   redisContext *c = p ? redisConnectFd(fd) : NULL;   (c now owns fd)
 *   ...
 *   redisFree(c);
 *   tls_pipe_close(p);                                  (either order)
 *
 * When the server closes or fails, the pipe shuts its end of the
 * socketpair down, so the client reads EOF and reports a broken
 * connection; when the client closes its end, the pipe says close_notify
 * to the server and stops.
 *
 * With hiredis: redisSetTimeout() works on the fd (it is a socket);
 * redisEnableKeepAlive() fails on it (AF_UNIX; the pipe sets SO_KEEPALIVE
 * on its TCP connection itself); and do not call redisReconnect() on an
 * adopted fd (hiredis 0.14 knows no address for it): free both and open
 * a new pipe.
 *
 * The caller's process must ignore SIGPIPE, as mail2alert's main() does:
 * the handshake runs in the caller's thread, and OpenSSL's socket BIO
 * writes with write(2).  (The pump thread blocks SIGPIPE itself.)
 */
#ifndef MAIL2ALERT_TLS_PIPE_H
#define MAIL2ALERT_TLS_PIPE_H

#include <stddef.h>

struct tls_pipe;

/*
 * Connect to host:port over TCP, do a TLS handshake (TLS 1.2+), verify the
 * server certificate against ca_file (PEM; NULL = the system default paths)
 * and the host name (X509_VERIFY_PARAM_set1_host, or set1_ip_asc for an IP
 * literal), all within timeout_ms.  On success returns the pipe and in *fd a
 * plain socket (one end of a socketpair, SOCK_CLOEXEC) that speaks cleartext:
 * hand it to redisConnectFd().  A thread pumps bytes between that socket and
 * the TLS connection.  On failure NULL, with a reason in err (never secrets).
 *
 * host is a name, an IPv4 address or an IPv6 address without brackets.
 * timeout_ms bounds the network: connecting (all addresses together) and
 * the handshake.  Reading the CA file comes before it, and the name
 * lookup (getaddrinfo) is bounded by the resolver's own timeouts.
 */
struct tls_pipe *tls_pipe_open(const char *host, int port, const char *ca_file,
    int timeout_ms, int *fd, char *err, size_t errlen);

/*
 * Stop the pump, close both ends, join the thread, free. NULL is fine.
 * "Both ends" are the pipe's own: the TCP connection and its end of the
 * socketpair.  The fd handed out belongs to the client (redisFree closes
 * it) and is never closed here.
 */
void tls_pipe_close(struct tls_pipe *pipe);

#endif
