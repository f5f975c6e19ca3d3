/*
 * store_url.c - parse the `shared-state` URL (see store_url.h).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_url.h"
#include "xalloc.h"

/* A decimal number of at most max, the whole of [s, end). */
static bool
read_number(const char *s, const char *end, long max, int *out)
{
	long n = 0;

	if (s == end)
		return false;
	for (; s < end; s++) {
		if (!isdigit((unsigned char)*s))
			return false;
		n = n * 10 + (*s - '0');
		if (n > max)
			return false;
	}
	*out = (int)n;
	return true;
}

/* Host names and user names: no spaces, controls or URL syntax. */
static bool
is_plain(const char *s, const char *end, const char *also)
{
	if (s == end)
		return false;
	for (; s < end; s++)
		if (!isalnum((unsigned char)*s) && strchr(also, *s) == NULL)
			return false;
	return true;
}

static int
fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

static int
parse_unix(const char *path, struct store_url *out, char *err, size_t errlen)
{
	const char *query = strchr(path, '?');
	const char *end = query ? query : path + strlen(path);

	if (path[0] != '/')
		return fail(err, errlen, "unix: needs an absolute path (unix:/run/redis/redis.sock)");
	for (const char *s = path; s < end; s++)
		if ((unsigned char)*s < 0x21 || *s == 0x7f)
			return fail(err, errlen, "the socket path has a space or control character");
	if (query != NULL && (strncmp(query, "?db=", 4) != 0 ||
	    !read_number(query + 4, query + strlen(query), STORE_DB_MAX, &out->db)))
		return fail(err, errlen, "after the path only ?db=N (0-9999) may follow");
	out->transport = STORE_UNIX;
	out->path = xstrndup(path, (size_t)(end - path));
	return 0;
}

/* HOST[:PORT] or [V6][:PORT], the whole of [s, end). */
static int
parse_host_port(const char *s, const char *end, struct store_url *out, char *err,
    size_t errlen)
{
	const char *host_end, *colon;

	out->port = STORE_DEFAULT_PORT;
	if (*s == '[') {
		host_end = memchr(s, ']', (size_t)(end - s));
		if (host_end == NULL || !is_plain(s + 1, host_end, ":."))
			return fail(err, errlen, "an IPv6 host goes in brackets: redis://[::1]:6379");
		out->host = xstrndup(s + 1, (size_t)(host_end - s - 1));
		colon = host_end + 1 < end ? host_end + 1 : NULL;
		if (colon != NULL && *colon != ':')
			return fail(err, errlen, "only :PORT may follow the bracketed host");
	} else {
		colon = memchr(s, ':', (size_t)(end - s));
		host_end = colon ? colon : end;
		if (!is_plain(s, host_end, ".-_"))
			return fail(err, errlen, "the host must be a name or an address");
		out->host = xstrndup(s, (size_t)(host_end - s));
	}
	if (colon != NULL && (!read_number(colon + 1, end, 65535, &out->port) || out->port == 0))
		return fail(err, errlen, "the port must be a number from 1 to 65535");
	return 0;
}

static int
parse_network(const char *rest, struct store_url *out, char *err, size_t errlen)
{
	const char *slash = strchr(rest, '/');
	const char *end = slash ? slash : rest + strlen(rest);
	const char *at = memchr(rest, '@', (size_t)(end - rest));

	if (strpbrk(rest, "?#") != NULL)
		return fail(err, errlen, "options after ? or # are not read: use the shared-state-* keys");
	if (at != NULL) {
		if (memchr(rest, ':', (size_t)(at - rest)) != NULL)
			return fail(err, errlen, "a password does not belong in the URL: "
			    "put it in the file shared-state-password-file names");
		if (!is_plain(rest, at, ".-_"))
			return fail(err, errlen, "the user name has characters Redis ACLs do not take here");
		out->user = xstrndup(rest, (size_t)(at - rest));
		rest = at + 1;
	}
	if (parse_host_port(rest, end, out, err, errlen) != 0)
		return -1;
	if (slash != NULL && slash[1] != '\0' &&
	    !read_number(slash + 1, slash + strlen(slash), STORE_DB_MAX, &out->db))
		return fail(err, errlen, "the database after / must be a number from 0 to 9999");
	return 0;
}

int
store_url_parse(const char *text, struct store_url *out, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	if (strncmp(text, "unix:", 5) == 0)
		rc = parse_unix(text + 5, out, err, errlen);
	else if (strncmp(text, "redis://", 8) == 0) {
		out->transport = STORE_TCP;
		rc = parse_network(text + 8, out, err, errlen);
	} else if (strncmp(text, "rediss://", 9) == 0) {
		out->transport = STORE_TLS;
		rc = parse_network(text + 9, out, err, errlen);
	} else
		rc = fail(err, errlen, "must start redis://, rediss:// or unix:/");
	if (rc != 0)
		store_url_free(out);
	return rc;
}

void
store_url_free(struct store_url *url)
{
	free(url->host);
	free(url->path);
	free(url->user);
	memset(url, 0, sizeof(*url));
}
