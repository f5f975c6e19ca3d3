/*
 * config_file.c - the file side of configuration loading.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
	if (config->shared_state_password_file != NULL &&
	    (config->shared_state_password = read_secret(config->path,
	    "shared-state-password-file", config->shared_state_password_file, err,
	    errlen)) == NULL)
		return false;
	return true;
}

/*
 * libconfig (1.5 here, without config_set_include_func) opens @include
 * files itself, with a plain blocking open: a FIFO would hang the load,
 * a device would never end.  So look at every @include line of text
 * (from file path) before libconfig does: each named file must be one
 * file_read can read, and what it includes too, CONFIG_INCLUDE_DEPTH deep
 * as libconfig allows, and all of them together at most CONFIG_FILE_MAX
 * bytes.  libconfig sees "@include" only at the start of a line.
 */
#define CONFIG_INCLUDE_DEPTH 10

static bool check_includes(const char *path, const char *text, int depth, size_t *total,
    char *err, size_t errlen);

/*
 * The file name of the @include at line of path; p is just after the word
 * "@include".  Only plain names: an escape would let libconfig open a
 * file other than the one checked here.
 */
static bool
include_name(const char *path, int line, const char *p, struct strbuf *name, char *err,
    size_t errlen)
{
	size_t len;

	if ((*p != ' ' && *p != '\t') || *(p += strspn(p, " \t")) != '"') {
		snprintf(err, errlen, "%s:%d: @include: write @include \"FILE\"", path, line);
		return false;
	}
	len = strcspn(++p, "\"\\\n");
	if (p[len] != '"') {
		snprintf(err, errlen, "%s:%d: @include: the file name must be plain text in "
		    "quotes, without backslashes", path, line);
		return false;
	}
	strbuf_add(name, p, len);
	return true;
}

/* Read the file an @include at line of path names, and check its own. */
static bool
check_include(const char *path, int line, const char *name, int depth, size_t *total,
    char *err, size_t errlen)
{
	struct strbuf text = STRBUF_INIT;
	bool ok;

	if (depth >= CONFIG_INCLUDE_DEPTH) {
		snprintf(err, errlen, "%s:%d: @include: nested more than %d deep", path, line,
		    CONFIG_INCLUDE_DEPTH);
		return false;
	}
	if (file_read(name, CONFIG_FILE_MAX - *total, &text) != 0) {
		snprintf(err, errlen, "%s:%d: @include: cannot read %s: %s", path, line, name,
		    errno == EFBIG ? "the files together are larger than mail2alert reads" :
		    file_error(errno));
		strbuf_free(&text);
		return false;
	}
	*total += text.len;
	ok = check_includes(name, strbuf_str(&text), depth + 1, total, err, errlen);
	strbuf_free(&text);
	return ok;
}

/* Check every @include line of text, read from path. */
static bool
check_includes(const char *path, const char *text, int depth, size_t *total,
    char *err, size_t errlen)
{
	int line = 1;

	for (const char *at = text; *at != '\0'; line++) {
		const char *end = strchr(at, '\n'), *p = at + strspn(at, " \t");
		struct strbuf name = STRBUF_INIT;
		bool ok;

		at = end ? end + 1 : at + strlen(at);
		if (strncmp(p, "@include", 8) != 0)
			continue;
		ok = include_name(path, line, p + 8, &name, err, errlen) &&
		    check_include(path, line, strbuf_str(&name), depth, total, err, errlen);
		strbuf_free(&name);
		if (!ok)
			return false;
	}
	return true;
}

/*
 * A relative file name in the configuration is relative to the directory
 * of the configuration file (as path is absolute, see main), so start and
 * every reload read the same files whatever the working directory is.
 */
static void
resolve_relative(const char *config_path, char **file)
{
	const char *slash = strrchr(config_path, '/');
	struct strbuf abs = STRBUF_INIT;

	/* "" is a value of its own (outbox-journal: off), not a file */
	if (*file == NULL || (*file)[0] == '\0' || (*file)[0] == '/' || slash == NULL)
		return;
	strbuf_add(&abs, config_path, (size_t)(slash - config_path) + 1);
	strbuf_adds(&abs, *file);
	free(*file);
	*file = strbuf_detach(&abs);
}

/*
 * Credentials sent to an http:// URL cross the network in clear: worth a
 * warning (at start, reload and -t), one per manager, naming the key, not
 * the secret.
 */
static void
warn_clear_credentials(const struct config *config)
{
	for (size_t i = 0; i < config->nmanagers; i++) {
		const struct manager *m = &config->managers[i];
		const char *key = m->passwd_file ? "passwd-file" : m->passwd ? "passwd" :
		    m->token_file ? "token-file" : m->token ? "token" : NULL;

		if (key != NULL && m->url != NULL && strncasecmp(m->url, "http://", 7) == 0)
			log_warning("%s: manager %s: %s is sent in clear text to an http:// "
			    "url; use https://", config->path, m->name, key);
	}
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct strbuf text = STRBUF_INIT;
	struct config *config;
	size_t total;

	if (file_read(path, CONFIG_FILE_MAX, &text) != 0) {
		snprintf(err, errlen, "%s: cannot open: %s", path, file_error(errno));
		strbuf_free(&text);
		return NULL;
	}
	total = text.len;
	if (!check_includes(path, strbuf_str(&text), 0, &total, err, errlen)) {
		strbuf_free(&text);
		return NULL;
	}
	config = config_parse(strbuf_str(&text), path, env_lookup, NULL, err, errlen);
	strbuf_free(&text);
	if (config == NULL)
		return NULL;
	resolve_relative(path, &config->state_file);
	resolve_relative(path, &config->shared_state_password_file);
	resolve_relative(path, &config->shared_state_ca_file);
	resolve_relative(path, &config->outbox_journal);
	for (size_t i = 0; i < config->nmanagers; i++) {
		resolve_relative(path, &config->managers[i].passwd_file);
		resolve_relative(path, &config->managers[i].token_file);
		resolve_relative(path, &config->managers[i].ca_file);
	}
	if (!read_secrets(config, err, errlen)) {
		config_free(config);
		return NULL;
	}
	warn_clear_credentials(config);
	return config;
}
