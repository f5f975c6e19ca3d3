/*
 * config_keys.h - every configuration key, one row each (SPEC section 4).
 *
 * In the spirit of Postfix's mail_params.c: a key is a row that says its
 * name, where it is allowed, its type, default and bounds, and where its
 * value goes.  One generic reader (config_read.c) walks the rows of a
 * scope: it rejects keys that have no row, reads typed values into their
 * struct, applies the defaults, and frees what it read.  Keys whose value
 * needs more than a type (lists of rules, actions, enumerations) name a
 * reader of their own in the row.  `mail2alert -k` lists the rows, and
 * tests/system/test_config_keys.py checks the manual page and
 * mail2alert-import against them, so a new key is one row plus its line
 * in man/mail2alert.conf.5.
 */
#ifndef MAIL2ALERT_CONFIG_KEYS_H
#define MAIL2ALERT_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

/* Where a key is allowed: the group it is a member of. */
enum config_scope {
	CONFIG_ROOT,		/* the top level */
	CONFIG_WEBHOOK,		/* slack-webhooks[] */
	CONFIG_CHAT_WEBHOOK,	/* chat-webhooks[] */
	CONFIG_MANAGER,		/* managers[] */
	CONFIG_WANT,		/* managers[].messages-we-want */
	CONFIG_RULE,		/* managers[].rules[] */
	CONFIG_FILTER,		/* managers[].rules[].filter */
	CONFIG_TEAM,		/* managers[].teams[] */
};

enum config_type {
	CONFIG_STRING,		/* env-expanded, malloc'd char * */
	CONFIG_INT,		/* long, between min and max */
	CONFIG_BOOL,		/* bool */
	CONFIG_MODE,		/* long, octal permission bits */
	CONFIG_STRINGS,		/* list of strings: always its own reader */
	CONFIG_GROUP,		/* { ... }: always its own reader */
	CONFIG_GROUPS,		/* ( { ... }, ... ): always its own reader */
};

/* Flags of a row. */
#define CONFIG_KEY_REQUIRED	0x1	/* must be present (its reader says so) */
#define CONFIG_KEY_SECRET	0x2	/* wiped when freed */
#define CONFIG_KEY_NOT_IMPORTED	0x4	/* the Python mail2alert had no such key,
					   so mail2alert-import does not carry it */

struct config_parse;
struct config_setting_t;

/*
 * A key's own reader: read key name of group (path is the group's key
 * path, for messages) into obj, the scope's struct.  Called whether or not
 * the key is present, so it also applies the default and requiredness.
 */
typedef bool (*config_read_fn)(struct config_parse *p,
    const struct config_setting_t *group, const char *path, void *obj);

struct config_key {
	const char *name;
	enum config_scope scope;
	enum config_type type;
	size_t offset;		/* of the value in the scope's struct */
	config_read_fn read;	/* its own reader, or NULL: read by type */
	long def, min, max;	/* CONFIG_INT, CONFIG_BOOL, CONFIG_MODE */
	const char *def_text;	/* CONFIG_STRING default; own readers: as documented */
	unsigned flags;
};

/* The rows in reading order: the first, or the one after key; NULL at the end. */
const struct config_key *config_key_next(const struct config_key *key);

/*
 * One line for `mail2alert -k`, tab-separated: key path (such as
 * "managers[].rules[].filter.events"), type, default ("-": none), bounds
 * ("-": none), flags ("required", "secret", "not-imported", or "-").
 */
void config_key_describe(struct strbuf *out, const struct config_key *key);

#endif
