/*
 * config_file.c - the file side of configuration loading.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "strbuf.h"

static const char *
env_lookup(const char *name, void *arg)
{
	(void)arg;
	return getenv(name);
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct strbuf text = STRBUF_INIT;
	struct config *config;
	char chunk[8192];
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0 && text.len <= CONFIG_FILE_MAX)
		strbuf_add(&text, chunk, n);
	if (ferror(fp) || text.len > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: %s", path, ferror(fp) ? strerror(errno) :
		    "larger than " "4 MiB; is this the right file?");
		fclose(fp);
		strbuf_free(&text);
		return NULL;
	}
	fclose(fp);
	config = config_parse(strbuf_str(&text), path, env_lookup, NULL, err, errlen);
	strbuf_free(&text);
	return config;
}
