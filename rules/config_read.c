/*
 * config_read.c - generic reading of the configuration: the table reader,
 * $NAME expansion and the typed getters (see config_read.h).
 *
 * Every check names the file, the line and the key, because the person
 * reading the message is an administrator with the file open in an
 * editor.  Unknown keys are errors: a typo must not pass silently.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_read.h"
#include "strbuf.h"
#include "xalloc.h"

bool
config_fail(struct config_parse *p, const config_setting_t *at, const char *key,
    const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s: %s", p->path,
	    at ? config_setting_source_line(at) : 0, key, what);
	return false;
}

static bool
is_name_start(int c)
{
	return isalpha(c) || c == '_';
}

/* Is in exactly one reference, "$NAME" or "${NAME}", and nothing else? */
static bool
is_one_reference(const char *in)
{
	bool braced = in[0] == '$' && in[1] == '{';
	size_t i = braced ? 2 : 1;

	if (in[0] != '$' || !is_name_start((unsigned char)in[i]))
		return false;
	while (isalnum((unsigned char)in[i]) || in[i] == '_')
		i++;
	return braced ? in[i] == '}' && in[i + 1] == '\0' : in[i] == '\0';
}

/*
 * Expand $NAME and ${NAME} from the environment; "$$" is a literal "$".
 * An unset variable is an error: a missing secret must not become "".
 * The value of a secret key (a password such as "pa$word") never appears
 * in an error, not even the part after a '$' that looked like a name,
 * unless the whole value is one reference such as "$GOCD_PASSWD".
 * What variables add is bounded, per value and per file (CONFIG_EXPAND_MAX,
 * CONFIG_EXPAND_TOTAL_MAX), so a huge variable cannot blow up the parse.
 */
static bool
expand_env(struct config_parse *p, const config_setting_t *at, const char *key,
    bool secret, const char *in, char **out)
{
	struct strbuf sb = STRBUF_INIT;
	bool hide = secret && !is_one_reference(in);
	size_t added = 0;	/* bytes the variables of this value added */

	for (size_t i = 0; in[i] != '\0';) {
		bool braced = in[i] == '$' && in[i + 1] == '{';
		size_t start = i + (braced ? 2 : 1), end = start;
		char name[128];
		const char *value;

		if (in[i] != '$') {
			strbuf_addc(&sb, in[i++]);
			continue;
		}
		if (in[i + 1] == '$') {
			strbuf_addc(&sb, '$');
			i += 2;
			continue;
		}
		if (!is_name_start((unsigned char)in[start])) {
			strbuf_addc(&sb, in[i++]);
			continue;
		}
		while (isalnum((unsigned char)in[end]) || in[end] == '_')
			end++;
		if (braced && in[end] != '}') {
			strbuf_free(&sb);
			if (hide)
				return config_fail(p, at, key, "unterminated ${ (value of a secret "
				    "key not shown; write $$ for a literal $)");
			return config_fail(p, at, key, "unterminated ${ in \"%s\"", in);
		}
		if (end - start >= sizeof(name)) {
			strbuf_free(&sb);
			return config_fail(p, at, key, "environment variable name too long");
		}
		memcpy(name, in + start, end - start);
		name[end - start] = '\0';
		value = p->env ? p->env(name, p->env_arg) : NULL;
		if (value == NULL) {
			strbuf_free(&sb);
			if (hide)
				return config_fail(p, at, key, "names an environment variable that "
				    "is not set (value of a secret key not shown; write $$ for a "
				    "literal $)");
			return config_fail(p, at, key, "environment variable %s is not set", name);
		}
		/* added <= CONFIG_EXPAND_MAX, p->expanded <= CONFIG_EXPAND_TOTAL_MAX */
		if (strlen(value) > CONFIG_EXPAND_MAX - added ||
		    strlen(value) > CONFIG_EXPAND_TOTAL_MAX - p->expanded) {
			strbuf_free(&sb);
			if (hide)
				return config_fail(p, at, key, "an environment variable adds more "
				    "than %d bytes to the value (or %d to the file)",
				    CONFIG_EXPAND_MAX, CONFIG_EXPAND_TOTAL_MAX);
			return config_fail(p, at, key, "environment variable %s adds more than "
			    "%d bytes to the value (or %d to the file)", name,
			    CONFIG_EXPAND_MAX, CONFIG_EXPAND_TOTAL_MAX);
		}
		strbuf_adds(&sb, value);
		added += strlen(value);
		p->expanded += strlen(value);
		i = end + (braced ? 1 : 0);
	}
	*out = strbuf_detach(&sb);
	return true;
}

void
config_key_path(char *buf, const char *path, const char *name)
{
	if (snprintf(buf, KEY_PATH_MAX, "%s%s%s", path, *path ? "." : "", name) >= KEY_PATH_MAX)
		buf[KEY_PATH_MAX - 1] = '\0';
}

/* A string member; a secret one keeps its value out of every error. */
static bool
get_string(struct config_parse *p, const config_setting_t *group, const char *path,
    const char *name, bool secret, char **out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char key[KEY_PATH_MAX];

	if (s == NULL)
		return true;
	config_key_path(key, path, name);
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return config_fail(p, s, key, "must be a string");
	free(*out);
	*out = NULL;
	return expand_env(p, s, key, secret, config_setting_get_string(s), out);
}

bool
config_get_string(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *name, char **out)
{
	return get_string(p, group, path, name, false, out);
}

static bool
get_int(struct config_parse *p, const config_setting_t *group, const char *path,
    const char *name, long min, long max, long *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char key[KEY_PATH_MAX];
	long long v;

	if (s == NULL)
		return true;
	config_key_path(key, path, name);
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else
		return config_fail(p, s, key, "must be an integer");
	if (v < min || v > max)
		return config_fail(p, s, key, "must be between %ld and %ld", min, max);
	*out = (long)v;
	return true;
}

/*
 * A permission mode.  libconfig 1.5 has no octal numbers, so "0660" (a
 * string) and 660 (an integer, its digits read as octal) both mean 0660.
 */
static bool
get_mode(struct config_parse *p, const config_setting_t *group, const char *path,
    const char *name, long *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char digits[32], *end, key[KEY_PATH_MAX];
	long mode;

	if (s == NULL)
		return true;
	config_key_path(key, path, name);
	if (config_setting_type(s) == CONFIG_TYPE_STRING)
		snprintf(digits, sizeof(digits), "%s", config_setting_get_string(s));
	else if (config_setting_type(s) == CONFIG_TYPE_INT)
		snprintf(digits, sizeof(digits), "%d", config_setting_get_int(s));
	else
		return config_fail(p, s, key, "must be an octal mode such as \"0660\"");
	mode = strtol(digits, &end, 8);
	if (*digits == '\0' || *end != '\0' || mode < 0 || mode > 0777)
		return config_fail(p, s, key,
		    "must be an octal mode between 0 and 0777, such as \"0660\"");
	*out = mode;
	return true;
}

static bool
get_bool(struct config_parse *p, const config_setting_t *group, const char *path,
    const char *name, bool *out)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char key[KEY_PATH_MAX];

	if (s == NULL)
		return true;
	config_key_path(key, path, name);
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return config_fail(p, s, key, "must be true or false");
	*out = config_setting_get_bool(s);
	return true;
}

bool
config_get_string_list(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *name, char ***out, size_t *count)
{
	const config_setting_t *s = config_setting_get_member(group, name);
	char key[KEY_PATH_MAX];
	int n;

	*out = NULL;
	*count = 0;
	if (s == NULL)
		return true;
	config_key_path(key, path, name);
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST)
		return config_fail(p, s, key, "must be a list of strings, like [\"a\", \"b\"]");
	n = config_setting_length(s);
	*out = xcalloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		bool ok;

		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			ok = config_fail(p, e, key, "element %d must be a string", i + 1);
		else
			ok = expand_env(p, e, key, false, config_setting_get_string(e),
			    &(*out)[i]);
		if (!ok) {
			/* the callers' error paths do not free a partial list */
			config_free_string_list(*out, *count);
			*out = NULL;
			*count = 0;
			return false;
		}
		*count = (size_t)i + 1;
	}
	return true;
}

void
config_free_string_list(char **list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(list[i]);
	free(list);
}

bool
config_is_clean_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == 0x7F || c == '<' || c == '>' || c == ',' ||
		    c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* The row of key name in scope, or NULL. */
static const struct config_key *
find_key(enum config_scope scope, const char *name)
{
	for (const struct config_key *k = config_key_next(NULL); k; k = config_key_next(k)) {
		if (k->scope == scope && strcmp(k->name, name) == 0)
			return k;
	}
	return NULL;
}

/* Read one row by its type into obj, or apply its default. */
static bool
read_typed(struct config_parse *p, const config_setting_t *group, const char *path,
    const struct config_key *k, void *obj)
{
	char *field = (char *)obj + k->offset;

	switch (k->type) {
	case CONFIG_STRING:
		if (!get_string(p, group, path, k->name, (k->flags & CONFIG_KEY_SECRET) != 0,
		    (char **)(void *)field))
			return false;
		if (*(char **)(void *)field == NULL && k->def_text != NULL)
			*(char **)(void *)field = xstrdup(k->def_text);
		return true;
	case CONFIG_INT:
		*(long *)(void *)field = k->def;
		return get_int(p, group, path, k->name, k->min, k->max, (long *)(void *)field);
	case CONFIG_MODE:
		*(long *)(void *)field = k->def;
		return get_mode(p, group, path, k->name, (long *)(void *)field);
	case CONFIG_BOOL:
		*(bool *)(void *)field = k->def != 0;
		return get_bool(p, group, path, k->name, (bool *)(void *)field);
	case CONFIG_STRINGS:
	case CONFIG_GROUP:
	case CONFIG_GROUPS:
		break;
	}
	return true;	/* lists and groups always have their own reader */
}

bool
config_read_scope(struct config_parse *p, const config_setting_t *group,
    const char *path, enum config_scope scope, void *obj)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *member = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(member);

		if (find_key(scope, name) == NULL) {
			char key[KEY_PATH_MAX];

			config_key_path(key, path, name);
			return config_fail(p, member, key, "unknown key");
		}
	}
	for (const struct config_key *k = config_key_next(NULL); k; k = config_key_next(k)) {
		bool ok;

		if (k->scope != scope)
			continue;
		ok = k->read ? k->read(p, group, path, obj) : read_typed(p, group, path, k, obj);
		if (!ok)
			return false;
	}
	return true;
}

void
config_free_secret(char *s)
{
	if (s != NULL)
		memset(s, 0, strlen(s));
	free(s);
}

void
config_free_scope(enum config_scope scope, void *obj)
{
	for (const struct config_key *k = config_key_next(NULL); k; k = config_key_next(k)) {
		char **field = (char **)(void *)((char *)obj + k->offset);

		if (k->scope != scope || k->read != NULL || k->type != CONFIG_STRING)
			continue;
		if (k->flags & CONFIG_KEY_SECRET)
			config_free_secret(*field);
		else
			free(*field);
		*field = NULL;
	}
}
