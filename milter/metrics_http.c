/*
 * metrics_http.c - the /metrics and health listener (see metrics_http.h).
 *
 * Every answer is built in memory from lock-free counters and snapshot
 * references, so a slow scraper holds nothing the mail path needs.
 */
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "log.h"
#include "metrics.h"
#include "metrics_http.h"
#include "metrics_text.h"
#include "strbuf.h"

/* Scrapers at once; more wait in the kernel's backlog. */
#define METRICS_HTTP_CONNECTIONS 16
/* Seconds an idle connection is kept. */
#define METRICS_HTTP_TIMEOUT 10

static struct MHD_Daemon *daemon_http;

/* Answer with body (copied) and status. */
static enum MHD_Result
answer(struct MHD_Connection *conn, unsigned status, const char *type,
    const char *body, size_t len)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body,
	    MHD_RESPMEM_MUST_COPY);
	enum MHD_Result rc;

	if (resp == NULL)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	rc = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return rc;
}

static enum MHD_Result
serve(void *arg, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_len, void **con_cls)
{
	static const char text[] = "text/plain; charset=utf-8";
	struct strbuf body = STRBUF_INIT;
	enum MHD_Result rc;
	unsigned status = MHD_HTTP_OK;

	(void)arg;
	(void)version;
	(void)upload;
	(void)upload_len;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, text, "GET only\n", 9);
	if (strcmp(url, "/metrics") == 0) {
		metrics_exposition(&body);
		rc = answer(conn, status, METRICS_TEXT_CONTENT_TYPE, strbuf_str(&body), body.len);
	} else if (strcmp(url, "/-/healthy") == 0) {
		rc = answer(conn, status, text, "OK\n", 3);
	} else if (strcmp(url, "/-/ready") == 0) {
		if (!metrics_ready(&body))
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
		else
			strbuf_adds(&body, "OK\n");
		rc = answer(conn, status, text, strbuf_str(&body), body.len);
	} else if (strcmp(url, "/status.json") == 0) {
		char *json = metrics_status_json();

		rc = json ? answer(conn, status, "application/json", json, strlen(json)) : MHD_NO;
		free(json);
	} else {
		strbuf_adds(&body, "not found: try /metrics, /-/healthy, /-/ready, /status.json\n");
		rc = answer(conn, MHD_HTTP_NOT_FOUND, text, strbuf_str(&body), body.len);
	}
	strbuf_free(&body);
	return rc;
}

static void
log_mhd(void *arg, const char *fmt, va_list ap)
{
	char msg[512];
	size_t len;

	(void)arg;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	len = strlen(msg);
	while (len > 0 && msg[len - 1] == '\n')
		msg[--len] = '\0';
	log_warning("metrics-listen: %s", msg);
}

int
metrics_http_start(const struct config *config)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char host[256], why[256], port_text[8];
	unsigned port;
	int rc;

	if (config->metrics_listen == NULL)
		return 0;
	if (!metrics_listen_parse(config->metrics_listen, host, sizeof(host), &port,
	    why, sizeof(why))) {
		log_error("metrics-listen: %s", why);
		return -1;
	}
	snprintf(port_text, sizeof(port_text), "%u", port);
	if ((rc = getaddrinfo(host, port_text, &hints, &ai)) != 0) {
		log_error("metrics-listen: %s: %s", config->metrics_listen, gai_strerror(rc));
		return -1;
	}
	daemon_http = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	    MHD_USE_ERROR_LOG | (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    (uint16_t)port, NULL, NULL, serve, NULL,
	    /* first, or libmicrohttpd says so through its own logger */
	    MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)METRICS_HTTP_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)METRICS_HTTP_TIMEOUT,
	    MHD_OPTION_END);
	freeaddrinfo(ai);
	if (daemon_http == NULL) {
		log_error("metrics-listen: cannot listen on %s", config->metrics_listen);
		return -1;
	}
	log_info("metrics: listening on %s (/metrics, /-/healthy, /-/ready, /status.json)",
	    config->metrics_listen);
	return 0;
}

void
metrics_http_stop(void)
{
	if (daemon_http != NULL) {
		MHD_stop_daemon(daemon_http);
		daemon_http = NULL;
	}
}
