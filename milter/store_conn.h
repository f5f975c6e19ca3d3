/*
 * store_conn.h - one connection to the shared-state server (Redis or
 * Valkey; see store_url.h), ready for commands: connected within a
 * deadline, TLS when asked (tls_pipe.h), authenticated, its database
 * selected and a PING answered.  Every command after that has an I/O
 * timeout, so a server that stops answering fails the call, never hangs
 * the thread.
 *
 * A connection belongs to one thread; the daemon has two (shared_state.c
 * for the mail path, shared_outbox.c for the chat worker), and -t opens one
 * to check the URL.
 */
#ifndef MAIL2ALERT_STORE_CONN_H
#define MAIL2ALERT_STORE_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "store_url.h"

/* What a connection needs, copied from the config at start. */
struct store_settings {
	char *url_text;		/* shared-state as written: safe to log */
	struct store_url url;
	char *password;		/* secret; NULL: no AUTH */
	char *ca_file;
	char *prefix;
	char *node;
	long timeout_ms;	/* the mail path's wait */
	long ttl;		/* seconds */
};

/* NULL when config has no shared-state; else the settings (node defaulted). */
struct store_settings *store_settings_new(const struct config *config);
void store_settings_free(struct store_settings *s);

struct store_conn {
	redisContext *ctx;
	struct tls_pipe *tls;
};

/*
 * store_conn_open: the server answered but said no (AUTH, SELECT), or its
 * certificate is not one shared-state-ca-file vouches for.
 */
#define STORE_REFUSED (-2)

/*
 * Open conn: connect_ms bounds connecting and the first answers, io_ms
 * every command later.  -1 (not reached) or STORE_REFUSED, with the
 * reason in err (no secret in it).
 */
int store_conn_open(const struct store_settings *s, long connect_ms, long io_ms,
    struct store_conn *conn, char *err, size_t errlen);
void store_conn_close(struct store_conn *conn);

/*
 * One command, waited for.  NULL when the connection failed (the reason in
 * err; close it then); else the reply, an error reply included: free it
 * with freeReplyObject.
 */
redisReply *store_conn_command(struct store_conn *conn, char *err, size_t errlen,
    int argc, const char **argv);

/* "prefix" + parts joined: a key in the store (malloc'd). */
char *store_key(const struct store_settings *s, const char *kind, const char *name);

#endif
