/*
 * http.c - bounded HTTP requests with libcurl (see http.h).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "xalloc.h"

#ifndef MAIL2ALERT_VERSION
#define MAIL2ALERT_VERSION "dev"
#endif

struct transfer {
	struct http_response *resp;
	size_t max;			/* bytes of the answer, decoded */
	bool too_big;
};

bool
http_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

void
http_cleanup(void)
{
	curl_global_cleanup();
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;

	if (size * n > t->max - t->resp->body.len) {
		t->too_big = true;
		return 0;		/* makes curl fail the transfer */
	}
	strbuf_add(&t->resp->body, data, size * n);
	return size * n;
}

/*
 * An entity tag as RFC 9110 8.8.3 allows: visible ASCII and obs-text, no
 * space or control.  Anything else is not kept, so it cannot be echoed
 * into the next request's If-None-Match (a bare CR would split it).
 */
static bool
etag_is_clean(const char *v, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c <= 0x20 || c == 0x7F)
			return false;
	}
	return true;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct transfer *t = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		char *end;
		long seconds = strtol(data + 12, &end, 10);

		/* only the delta-seconds form: Slack sends that */
		if (end != data + 12 && seconds >= 0)
			t->resp->retry_after = seconds;
	} else if (len > 18 && strncasecmp(data, "X-RateLimit-Reset:", 18) == 0) {
		char *end;
		long long reset = strtoll(data + 18, &end, 10);

		/* Rocket.Chat: ms since the epoch; Mattermost: seconds from now */
		if (end != data + 18 && reset >= 0)
			t->resp->ratelimit_reset = reset;
	} else if (len > 5 && strncasecmp(data, "ETag:", 5) == 0) {
		const char *v = data + 5;
		size_t vlen = len - 5;

		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
		    v[vlen - 1] == ' '))
			vlen--;
		free(t->resp->etag);
		t->resp->etag = etag_is_clean(v, vlen) ? xstrndup(v, vlen) : NULL;
	}
	return len;
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	const struct http_request *req = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return req->stop != NULL && atomic_load(req->stop);	/* non-zero aborts */
}

static struct curl_slist *
request_headers(const struct http_request *req)
{
	struct curl_slist *h = NULL;
	char line[1024];

	if (req->accept != NULL) {
		snprintf(line, sizeof(line), "Accept: %s", req->accept);
		h = curl_slist_append(h, line);
	}
	if (req->etag != NULL) {
		snprintf(line, sizeof(line), "If-None-Match: %s", req->etag);
		h = curl_slist_append(h, line);
	}
	if (req->post_json != NULL)
		h = curl_slist_append(h, "Content-Type: application/json; charset=utf-8");
	if (req->token != NULL) {
		struct strbuf auth = STRBUF_INIT;

		strbuf_addf(&auth, "Authorization: Bearer %s", req->token);
		h = curl_slist_append(h, auth.data);
		/* the secret does not linger in freed memory */
		memset(auth.data, 0, auth.len);
		strbuf_free(&auth);
	}
	return h;
}

int
http_request(const struct http_request *req, struct http_response *resp)
{
	struct transfer t = { resp, req->max_body ? req->max_body : (size_t)HTTP_MAX_BYTES,
	    false };
	struct curl_slist *headers;
	CURLcode rc;
	CURL *curl = curl_easy_init();

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	resp->ratelimit_reset = -1;
	if (curl == NULL) {
		snprintf(resp->error, sizeof(resp->error), "cannot initialise libcurl");
		return -1;
	}
	headers = request_headers(req);
	curl_easy_setopt(curl, CURLOPT_URL, req->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "mail2alert/" MAIL2ALERT_VERSION);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, req->connect_timeout ?
	    req->connect_timeout : (long)HTTP_CONNECT_TIMEOUT);
	/* TLS peer and host verification stay libcurl's default: on */
	if (req->ca_file != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, req->ca_file);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, req->timeout ? req->timeout :
	    (long)HTTP_TOTAL_TIMEOUT);
	if (req->post_json != NULL)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->post_json);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);	/* threads */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
	curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)req);
	curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	if (req->user != NULL) {
		curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(curl, CURLOPT_USERNAME, req->user);
		curl_easy_setopt(curl, CURLOPT_PASSWORD, req->passwd);
	}
	/* an announced Content-Length over the limit is refused before the body */
	curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t.max);
	rc = curl_easy_perform(curl);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	} else {
		if (t.too_big || rc == CURLE_FILESIZE_EXCEEDED)
			snprintf(resp->error, sizeof(resp->error), "answer larger than %zu bytes",
			    t.max);
		else
			snprintf(resp->error, sizeof(resp->error), "%s",
			    rc == CURLE_ABORTED_BY_CALLBACK ? "stopped" : curl_easy_strerror(rc));
		strbuf_free(&resp->body);	/* a refused answer's memory goes back now */
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	return rc == CURLE_OK ? 0 : -1;
}

void
http_response_free(struct http_response *resp)
{
	strbuf_free(&resp->body);
	free(resp->etag);
	resp->etag = NULL;
}

void
http_url_for_log(const char *url, char *out, size_t outlen)
{
	const char *scheme_end = strstr(url, "://");
	const char *host = scheme_end ? scheme_end + 3 : url;
	/*
	 * Up to the last '@', not the first: admins write passwords with '@'
	 * or '/' unencoded, and a cut at the first '@', or only before the
	 * first '/', printed the rest of the password.  A path with an '@'
	 * loses its start in the log, which is the cheaper mistake.
	 */
	const char *at = strrchr(host, '@');

	if (at != NULL)
		snprintf(out, outlen, "%.*s%s", (int)(host - url), url, at + 1);
	else
		snprintf(out, outlen, "%s", url);
}
