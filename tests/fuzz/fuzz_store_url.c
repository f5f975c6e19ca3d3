/*
 * fuzz_store_url.c - the shared-state URL parser (rules/store_url.c).
 *
 * Invariants:
 *   - a failed parse leaves a reason in err and nothing set;
 *   - a parsed URL has a host (TCP, TLS) or an absolute path (unix), a
 *     port from 1 to 65535 for TCP and TLS, a db from 0 to STORE_DB_MAX,
 *     and never a password (no ':' before an '@').
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "store_url.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_url url;
	char err[160] = "";
	char *text = malloc(size + 1);

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	if (store_url_parse(text, &url, err, sizeof(err)) != 0) {
		FUZZ_CHECK(err[0] != '\0', "failure without a reason");
		FUZZ_CHECK(url.host == NULL && url.path == NULL && url.user == NULL,
		    "failed parse left data");
		free(text);
		return 0;
	}
	FUZZ_CHECK(url.db >= 0 && url.db <= STORE_DB_MAX, "db %d", url.db);
	if (url.transport == STORE_UNIX) {
		FUZZ_CHECK(url.path != NULL && url.path[0] == '/', "unix without a path");
	} else {
		FUZZ_CHECK(url.host != NULL && url.host[0] != '\0', "no host");
		FUZZ_CHECK(url.port >= 1 && url.port <= 65535, "port %d", url.port);
		FUZZ_CHECK(url.user == NULL || strchr(url.user, ':') == NULL, "password kept");
	}
	store_url_free(&url);
	free(text);
	return 0;
}
