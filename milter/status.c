/*
 * status.c - mail2alert -s (see status.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "metrics_text.h"
#include "status.h"
#include "strbuf.h"

/* Seconds the daemon has to answer. */
#define STATUS_TIMEOUT 10

/* http://HOST:PORT/status.json; a wildcard address is asked on loopback. */
static bool
status_url(const char *listen, struct strbuf *url, char *why, size_t whylen)
{
	char host[256];
	unsigned port;

	if (!metrics_listen_parse(listen, host, sizeof(host), &port, why, whylen))
		return false;
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "*") == 0)
		strcpy(host, "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		strcpy(host, "::1");
	if (strchr(host, ':') != NULL)
		strbuf_addf(url, "http://[%s]:%u/status.json", host, port);
	else
		strbuf_addf(url, "http://%s:%u/status.json", host, port);
	return true;
}

static double
number(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *
string(const cJSON *o, const char *name, const char *none)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(v) ? v->valuestring : none;
}

/* "12s ago", "3m20s ago", "never" for a unix time, against the daemon's clock. */
static void
print_ago(double when, double now)
{
	long long s = (long long)(now - when);

	if (when <= 0)
		printf("never");
	else if (s < 120)
		printf("%llds ago", s);
	else if (s < 7200)
		printf("%lldm%02llds ago", s / 60, s % 60);
	else
		printf("%lldh%02lldm ago", s / 3600, s / 60 % 60);
}

/* "name n name n ..." of an object of numbers. */
static void
print_counts(const cJSON *o)
{
	const cJSON *v;
	const char *sep = "";

	cJSON_ArrayForEach(v, o) {
		printf("%s%s %.0f", sep, v->string, v->valuedouble);
		sep = ", ";
	}
}

static void
print_manager(const cJSON *m, double now)
{
	printf("manager %s:", string(m, "name", "?"));
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "polls"))) {
		printf(" no GoCD url, nothing to poll\n");
	} else {
		printf(" api %s (configured %s)\n", string(m, "api", "not known yet"),
		    string(m, "api_configured", "?"));
		printf("  last poll: ");
		print_ago(number(m, "last_poll"), now);
		printf(", %s; last success: ", string(m, "last_poll_result", "none"));
		print_ago(number(m, "last_success"), now);
		printf("\n  polls: ");
		print_counts(cJSON_GetObjectItemCaseSensitive(m, "poll_counts"));
		printf("\n");
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "groups_loaded"))) {
			printf("  groups %.0f, pipelines %.0f, confirmed ", number(m, "groups"),
			    number(m, "pipelines"));
			print_ago(number(m, "groups_confirmed"), now);
			printf("\n");
		} else {
			printf("  groups: never loaded\n");
		}
	}
	printf("  messages: ");
	print_counts(cJSON_GetObjectItemCaseSensitive(m, "messages"));
	printf("\n");
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "last_error"))) {
		printf("  last error (");
		print_ago(number(m, "last_error_time"), now);
		printf("): %s\n", string(m, "last_error", ""));
	}
}

static void
print_shared_state(const cJSON *shared)
{
	if (!cJSON_IsObject(shared))
		return;
	printf("shared state: %s (%s), node %s; decided alone %.0f times, outages %.0f\n",
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(shared, "up")) ? "up" : "down",
	    string(shared, "url", "?"), string(shared, "node", "?"),
	    number(shared, "fallbacks"), number(shared, "outages"));
}

static void
print_status(const cJSON *root)
{
	const cJSON *counters = cJSON_GetObjectItemCaseSensitive(root, "counters");
	const cJSON *chat = cJSON_GetObjectItemCaseSensitive(root, "chat");
	const cJSON *m, *driver;
	double now = number(root, "now");
	bool ready = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "ready"));

	printf("mail2alert %s, started ", string(root, "version", "?"));
	print_ago(number(root, "start_time"), now);
	printf("\nready: %s\n", ready ? "yes" : "no");
	if (!ready)
		printf("%s", string(root, "not_ready_because", ""));
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(root, "managers"))
		print_manager(m, now);
	printf("chat: queue depth %.0f\n", number(chat, "queue_depth"));
	cJSON_ArrayForEach(driver, cJSON_GetObjectItemCaseSensitive(chat, "posts")) {
		printf("  %s: ", driver->string);
		print_counts(driver);
		printf("\n");
	}
	print_shared_state(cJSON_GetObjectItemCaseSensitive(root, "shared_state"));
	printf("since start: not wanted %.0f, edge rewrites %.0f, stage states %.0f\n",
	    number(counters, "not_wanted"), number(counters, "edge_rewrites"),
	    number(counters, "stage_states"));
	printf("  events: ");
	print_counts(cJSON_GetObjectItemCaseSensitive(counters, "events"));
	printf("\n  state file saves %.0f (failed %.0f); reloads %.0f (failed %.0f), "
	    "config loaded ", number(counters, "state_file_saves"),
	    number(counters, "state_file_failures"), number(counters, "reloads"),
	    number(counters, "reload_failures"));
	print_ago(number(counters, "last_reload"), now);
	printf("\n");
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "last_reload_error"))) {
		printf("last reload error (");
		print_ago(number(root, "last_reload_error_time"), now);
		printf("): %s\n", string(root, "last_reload_error", ""));
	}
}

int
status_show(const struct config *config, bool json)
{
	struct strbuf url = STRBUF_INIT;
	struct http_request req = { .accept = "application/json",
	    .timeout = STATUS_TIMEOUT, .connect_timeout = STATUS_TIMEOUT };
	struct http_response resp;
	cJSON *root;
	char why[256];
	int rc;

	if (config->metrics_listen == NULL) {
		fprintf(stderr, "mail2alert: -s asks the daemon on metrics-listen, which %s "
		    "does not set\n", config->path);
		return EX_CONFIG;
	}
	if (!status_url(config->metrics_listen, &url, why, sizeof(why))) {
		fprintf(stderr, "mail2alert: %s: metrics-listen: %s\n", config->path, why);
		strbuf_free(&url);
		return EX_CONFIG;
	}
	req.url = url.data;
	if (http_request(&req, &resp) != 0 || resp.status != 200) {
		fprintf(stderr, "mail2alert: cannot reach the daemon at %s: %s\n", url.data,
		    resp.status ? "unexpected HTTP status" : resp.error);
		http_response_free(&resp);
		strbuf_free(&url);
		return EX_UNAVAILABLE;
	}
	root = cJSON_ParseWithLength(strbuf_str(&resp.body), resp.body.len);
	if (root == NULL) {
		fprintf(stderr, "mail2alert: %s: the answer is not JSON\n", url.data);
		rc = EX_UNAVAILABLE;
	} else {
		if (json)
			printf("%s\n", strbuf_str(&resp.body));
		else
			print_status(root);
		rc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "ready")) ? 0 : 1;
		cJSON_Delete(root);
	}
	http_response_free(&resp);
	strbuf_free(&url);
	return rc;
}
