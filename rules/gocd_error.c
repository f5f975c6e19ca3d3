/*
 * gocd_error.c - the text of GoCD's error answers (see gocd_error.h).
 */
#include <cjson/cJSON.h>

#include "gocd_error.h"

#define GOCD_ERROR_MAX 200

void
gocd_error_message(const char *body, size_t len, char *out, size_t outlen)
{
	cJSON *root;
	const char *message;
	size_t n = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (body == NULL || len == 0)
		return;
	root = cJSON_ParseWithLength(body, len);
	message = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(root, "message"));
	for (size_t i = 0; message && message[i] && n + 1 < outlen && n < GOCD_ERROR_MAX; i++) {
		/* what goes into a log line: no controls, no quotes */
		if (message[i] >= ' ' && message[i] < 0x7F && message[i] != '"')
			out[n++] = message[i];
	}
	out[n] = '\0';
	cJSON_Delete(root);
}
