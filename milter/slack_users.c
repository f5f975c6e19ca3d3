/*
 * slack_users.c - Slack user lookups and their cache (see slack_users.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "log.h"
#include "slack.h"
#include "slack_lookup.h"
#include "slack_users.h"
#include "strbuf.h"
#include "xalloc.h"

/* users.list pages asked for one name at most: 200 users a page. */
#define SLACK_USERS_PAGES_MAX 100

struct cached_user {
	char *target;		/* "@name" or "@user@example.com" */
	char *id;
	time_t expires;		/* monotonic */
};

static struct cached_user *cache;
static size_t ncache, cache_cap;

static time_t
now_monotonic(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

void
slack_users_reset(void)
{
	for (size_t i = 0; i < ncache; i++) {
		free(cache[i].target);
		free(cache[i].id);
	}
	free(cache);
	cache = NULL;
	ncache = cache_cap = 0;
}

/* Percent-encode s for a query string. */
static void
add_query_value(struct strbuf *url, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c) != NULL)
			strbuf_addc(url, (char)c);
		else
			strbuf_addf(url, "%%%02X", c);
	}
}

static int
lookup(const struct config *config, const char *target, const atomic_bool *stop,
    char **id, char *why, size_t whylen)
{
	bool email = strchr(target + 1, '@') != NULL;
	char *cursor = NULL;
	enum slack_lookup result = SLACK_LOOKUP_MORE;

	for (int page = 0; result == SLACK_LOOKUP_MORE && page < SLACK_USERS_PAGES_MAX; page++) {
		struct strbuf url = STRBUF_INIT;
		struct http_response resp = { 0 };
		struct http_request req = {
			.token = config->slack_token,
			.accept = "application/json",
			.timeout = SLACK_REQUEST_TIMEOUT,
			.stop = stop,
		};
		char *next = NULL;

		if (email) {
			strbuf_addf(&url, "%s/users.lookupByEmail?email=", config->slack_api);
			add_query_value(&url, target + 1);
		} else {
			strbuf_addf(&url, "%s/users.list?limit=200", config->slack_api);
			if (cursor != NULL) {
				strbuf_adds(&url, "&cursor=");
				add_query_value(&url, cursor);
			}
		}
		req.url = url.data;
		if (http_request(&req, &resp) != 0) {
			snprintf(why, whylen, "%s", resp.error);
			result = SLACK_LOOKUP_RETRY;
		} else if (email) {
			result = slack_lookup_email_answer(resp.status, resp.body.data,
			    resp.body.len, id, why, whylen);
		} else {
			result = slack_lookup_list_answer(resp.status, resp.body.data,
			    resp.body.len, target + 1, id, &next, why, whylen);
		}
		http_response_free(&resp);
		strbuf_free(&url);
		free(cursor);
		cursor = next;
	}
	free(cursor);
	switch (result) {
	case SLACK_LOOKUP_FOUND:
		return 0;
	case SLACK_LOOKUP_RETRY:
		return -1;
	case SLACK_LOOKUP_MORE:
		snprintf(why, whylen, "users_not_found (users.list: more than %d pages)",
		    SLACK_USERS_PAGES_MAX);
		return 1;
	default:
		return 1;
	}
}

int
slack_user_id(const struct config *config, const char *target, const atomic_bool *stop,
    char **id, char *why, size_t whylen)
{
	time_t now = now_monotonic();
	int rc;

	*id = NULL;
	for (size_t i = 0; i < ncache; i++) {
		if (strcmp(cache[i].target, target) == 0 && cache[i].expires > now) {
			*id = xstrdup(cache[i].id);
			return 0;
		}
	}
	rc = lookup(config, target, stop, id, why, whylen);
	if (rc != 0) {
		char reason[300];

		snprintf(reason, sizeof(reason), "user lookup: %s", why);
		snprintf(why, whylen, "%s", reason);
		return rc;
	}
	log_info("slack user %s is %s", target, *id);
	for (size_t i = 0; i < ncache; i++) {
		if (strcmp(cache[i].target, target) == 0) {
			free(cache[i].id);
			cache[i].id = xstrdup(*id);
			cache[i].expires = now + SLACK_USERS_TTL;
			return 0;
		}
	}
	cache = xgrow(cache, &cache_cap, ncache + 1, sizeof(*cache));
	cache[ncache++] = (struct cached_user){ xstrdup(target), xstrdup(*id),
	    now + SLACK_USERS_TTL };
	return 0;
}
