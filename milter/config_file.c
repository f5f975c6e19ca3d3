/*
 * config_file.c - the file side of configuration loading.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "config_file.h"
#include "files.h"
#include "log.h"
#include "strbuf.h"
#include "xalloc.h"

/* Longest secret read from a file. */
#define SECRET_MAX 4096

static const char *
env_lookup(const char *name, void *arg)
{
	(void)arg;
	return getenv(name);
}

/*
 * Read a secret from file: the first line, without its line end.  A file
 * others can read is worth a warning, not a refusal.
 */
static char *
read_secret(const char *config_path, const char *key, const char *file,
    char *err, size_t errlen)
{
	struct strbuf text = STRBUF_INIT;
	struct stat st;

	if (file_read(file, SECRET_MAX, &text) != 0) {
		snprintf(err, errlen, "%s: %s: cannot read %s: %s", config_path, key, file,
		    file_error(errno));
		secret_free(strbuf_detach(&text));
		return NULL;
	}
	if (stat(file, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
		log_warning("%s: %s can be read by group or others (mode %04o); mode 0600, "
		    "owned by the user mail2alert runs as, keeps it private", key, file,
		    (unsigned)(st.st_mode & 07777));
	if (text.data != NULL)
		text.data[strcspn(text.data, "\r\n")] = '\0';
	if (text.data == NULL || text.data[0] == '\0') {
		snprintf(err, errlen, "%s: %s: %s is empty", config_path, key, file);
		strbuf_free(&text);
		return NULL;
	}
	return strbuf_detach(&text);
}

/* Fill passwd and token of every manager from passwd-file / token-file. */
static bool
read_secrets(struct config *config, char *err, size_t errlen)
{
	for (size_t i = 0; i < config->nmanagers; i++) {
		struct manager *m = &config->managers[i];

		if (m->passwd_file != NULL &&
		    (m->passwd = read_secret(config->path, "passwd-file", m->passwd_file,
		    err, errlen)) == NULL)
			return false;
		if (m->token_file != NULL &&
		    (m->token = read_secret(config->path, "token-file", m->token_file,
		    err, errlen)) == NULL)
			return false;
	}
	return true;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct strbuf text = STRBUF_INIT;
	struct config *config;

	if (file_read(path, CONFIG_FILE_MAX, &text) != 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, file_error(errno));
		strbuf_free(&text);
		return NULL;
	}
	config = config_parse(strbuf_str(&text), path, env_lookup, NULL, err, errlen);
	strbuf_free(&text);
	if (config != NULL && !read_secrets(config, err, errlen)) {
		config_free(config);
		return NULL;
	}
	return config;
}
