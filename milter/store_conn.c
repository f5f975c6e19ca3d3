/*
 * store_conn.c - connections to the shared-state server (see store_conn.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/time.h>

#include "store_conn.h"
#include "strbuf.h"
#include "tls_pipe.h"
#include "xalloc.h"

static struct timeval
timeval_ms(long ms)
{
	return (struct timeval){ .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
}

/* The default node: this host and the milter socket, unique per relay. */
static char *
default_node(const struct config *config)
{
	char host[256] = "localhost";
	struct strbuf node = STRBUF_INIT;

	if (gethostname(host, sizeof(host)) != 0)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	strbuf_addf(&node, "%s:%s", host, config->socket ? config->socket : "");
	return strbuf_detach(&node);
}

struct store_settings *
store_settings_new(const struct config *config)
{
	struct store_settings *s;
	char err[160];

	if (config->shared_state == NULL)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	if (store_url_parse(config->shared_state, &s->url, err, sizeof(err)) != 0)
		abort();	/* config_parse checked it */
	s->url_text = xstrdup(config->shared_state);
	s->password = config->shared_state_password ?
	    xstrdup(config->shared_state_password) : NULL;
	s->ca_file = config->shared_state_ca_file ? xstrdup(config->shared_state_ca_file) : NULL;
	s->prefix = xstrdup(config->shared_state_prefix);
	s->node = config->shared_state_node ? xstrdup(config->shared_state_node) :
	    default_node(config);
	s->timeout_ms = config->shared_state_timeout;
	s->ttl = config->shared_state_ttl;
	return s;
}

void
store_settings_free(struct store_settings *s)
{
	if (s == NULL)
		return;
	free(s->url_text);
	store_url_free(&s->url);
	secret_free(s->password);
	free(s->ca_file);
	free(s->prefix);
	free(s->node);
	free(s);
}

char *
store_key(const struct store_settings *s, const char *kind, const char *name)
{
	struct strbuf key = STRBUF_INIT;

	strbuf_addf(&key, "%s%s%s%s", s->prefix, kind, name ? ":" : "", name ? name : "");
	return strbuf_detach(&key);
}

static redisContext *
connect_plain(const struct store_settings *s, long connect_ms, struct store_conn *conn,
    char *err, size_t errlen)
{
	switch (s->url.transport) {
	case STORE_UNIX:
		return redisConnectUnixWithTimeout(s->url.path, timeval_ms(connect_ms));
	case STORE_TLS: {
		int fd = -1;

		conn->tls = tls_pipe_open(s->url.host, s->url.port, s->ca_file, (int)connect_ms,
		    &fd, err, errlen);
		return conn->tls ? redisConnectFd(fd) : NULL;
	}
	default:
		return redisConnectWithTimeout(s->url.host, s->url.port, timeval_ms(connect_ms));
	}
}

/* A reply that is an error, or not what the command should give: why. */
static bool
reply_ok(redisReply *reply, const char *what, char *err, size_t errlen)
{
	if (reply->type != REDIS_REPLY_ERROR)
		return true;
	/* the server's own words, cut short: they never carry our secrets */
	snprintf(err, errlen, "%s: %.120s", what, reply->str);
	return false;
}

/* AUTH, SELECT and PING: the connection is usable once all three answer. */
static int
handshake(const struct store_settings *s, struct store_conn *conn, char *err,
    size_t errlen)
{
	char db[16];
	redisReply *reply;
	bool ok = true;

	if (s->password != NULL) {
		const char *auth_user[] = { "AUTH", s->url.user, s->password };
		const char *auth[] = { "AUTH", s->password };

		reply = s->url.user ? store_conn_command(conn, err, errlen, 3, auth_user) :
		    store_conn_command(conn, err, errlen, 2, auth);
		if (reply == NULL)
			return -1;
		ok = reply_ok(reply, "AUTH refused", err, errlen);
		freeReplyObject(reply);
	}
	snprintf(db, sizeof(db), "%d", s->url.db);
	if (ok && s->url.db != 0) {
		const char *select[] = { "SELECT", db };

		if ((reply = store_conn_command(conn, err, errlen, 2, select)) == NULL)
			return -1;
		ok = reply_ok(reply, "SELECT refused", err, errlen);
		freeReplyObject(reply);
	}
	if (ok) {
		const char *ping[] = { "PING" };

		if ((reply = store_conn_command(conn, err, errlen, 1, ping)) == NULL)
			return -1;
		ok = reply_ok(reply, "PING refused", err, errlen);
		freeReplyObject(reply);
	}
	return ok ? 0 : STORE_REFUSED;
}

int
store_conn_open(const struct store_settings *s, long connect_ms, long io_ms,
    struct store_conn *conn, char *err, size_t errlen)
{
	int rc;

	memset(conn, 0, sizeof(*conn));
	snprintf(err, errlen, "cannot connect");
	conn->ctx = connect_plain(s, connect_ms, conn, err, errlen);
	if (conn->ctx == NULL || conn->ctx->err) {
		if (conn->ctx != NULL)
			snprintf(err, errlen, "%s", conn->ctx->errstr);
		store_conn_close(conn);
		/* a certificate or CA file we refuse is the config's fault, not the network's */
		return strstr(err, "certificate verify failed") || strstr(err, "CA file") ?
		    STORE_REFUSED : -1;
	}
	/* the handshake gets the connect deadline; commands after it io_ms */
	rc = redisSetTimeout(conn->ctx, timeval_ms(connect_ms)) == REDIS_OK ?
	    handshake(s, conn, err, errlen) : -1;
	if (rc == 0 && redisSetTimeout(conn->ctx, timeval_ms(io_ms)) != REDIS_OK)
		rc = -1;
	if (rc != 0) {
		store_conn_close(conn);
		return rc;
	}
	/* only on TCP: on a unix socket or the TLS pipe's socketpair it fails and
	 * leaves the error set on the context (the pipe keeps its TCP alive itself) */
	if (s->url.transport == STORE_TCP && redisEnableKeepAlive(conn->ctx) != REDIS_OK) {
		snprintf(err, errlen, "%s", conn->ctx->errstr);
		store_conn_close(conn);
		return -1;
	}
	return 0;
}

void
store_conn_close(struct store_conn *conn)
{
	if (conn->ctx != NULL)
		redisFree(conn->ctx);	/* closes the pipe's end too */
	tls_pipe_close(conn->tls);
	memset(conn, 0, sizeof(*conn));
}

redisReply *
store_conn_command(struct store_conn *conn, char *err, size_t errlen, int argc,
    const char **argv)
{
	redisReply *reply;

	reply = redisCommandArgv(conn->ctx, argc, argv, NULL);
	if (reply == NULL)
		snprintf(err, errlen, "%s", conn->ctx->err ? conn->ctx->errstr :
		    "no answer");
	return reply;
}
