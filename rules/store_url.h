/*
 * store_url.h - the `shared-state` setting: where the Redis (or Valkey)
 * server that relays share lives.  Pure: parsing only.
 *
 *   redis://HOST[:PORT][/DB]      plain TCP (port 6379, db 0 by default)
 *   rediss://HOST[:PORT][/DB]     TLS, checked against shared-state-ca-file
 *   unix:/PATH[?db=DB]            a local socket
 *
 * HOST may be a name, an IPv4 address or [IPv6].  A user name may come
 * before the host (redis://USER@HOST, for Redis 6 ACLs), a password never
 * does: it belongs in shared-state-password-file, not in a config that
 * `-t` and logs may print.
 */
#ifndef MAIL2ALERT_STORE_URL_H
#define MAIL2ALERT_STORE_URL_H

#include <stddef.h>

#define STORE_DEFAULT_PORT 6379
#define STORE_DB_MAX 9999

enum store_transport {
	STORE_TCP,
	STORE_TLS,
	STORE_UNIX,
};

struct store_url {
	enum store_transport transport;
	char *host;		/* TCP and TLS: without brackets */
	int port;
	char *path;		/* unix */
	char *user;		/* NULL: the default user */
	int db;
};

/* Parse text into out (zeroed first); on error -1 with the reason in err. */
int store_url_parse(const char *text, struct store_url *out, char *err, size_t errlen);
void store_url_free(struct store_url *url);

#endif
