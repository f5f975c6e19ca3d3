/*
 * http.h - one bounded HTTP request with libcurl, for the GoCD poller
 * (GET) and the Slack worker (POST).
 *
 * Bounded in time (connect and total timeouts), in size (max_bytes) and
 * abortable (stop flag), so a hanging server can delay only its own
 * thread, and a stop never waits for a timeout.
 */
#ifndef MAIL2ALERT_HTTP_H
#define MAIL2ALERT_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define HTTP_CONNECT_TIMEOUT 10		/* seconds */
#define HTTP_TOTAL_TIMEOUT 30		/* seconds */
#define HTTP_MAX_BYTES (64L * 1024 * 1024)

struct http_request {
	const char *url;
	const char *accept;		/* Accept header, or NULL */
	const char *user, *passwd;	/* Basic auth, or NULL */
	const char *token;		/* Bearer token, or NULL */
	const char *etag;		/* If-None-Match, or NULL */
	const char *post_json;		/* POST this JSON body, or NULL: GET */
	long timeout;			/* total seconds; 0: HTTP_TOTAL_TIMEOUT */
	long connect_timeout;		/* seconds; 0: HTTP_CONNECT_TIMEOUT */
	const char *ca_file;		/* CA bundle, or NULL: the system's */
	const atomic_bool *stop;	/* abort the transfer when it turns true */
	size_t max_body;		/* bytes of the decoded answer; 0: HTTP_MAX_BYTES */
};

struct http_response {
	long status;			/* 0: no HTTP answer */
	struct strbuf body;
	char *etag;			/* ETag header, or NULL */
	long retry_after;		/* Retry-After seconds, or -1 */
	long long ratelimit_reset;	/* X-RateLimit-Reset as sent, or -1 */
	char error[256];		/* why the transfer failed */
};

/* Process-wide set-up; call once before any thread starts. */
bool http_init(void);
void http_cleanup(void);

/* 0 when an HTTP answer came (any status); -1 with error set otherwise. */
int http_request(const struct http_request *req, struct http_response *resp);
void http_response_free(struct http_response *resp);

/* url without any "user:password@" part, for log lines. */
void http_url_for_log(const char *url, char *out, size_t outlen);

#endif
