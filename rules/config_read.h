/*
 * config_read.h - what the parts of the config parser share (internal to
 * rules/config*.c): the parse state, the message helper, typed getters,
 * the generic table reader, and the readers the key table names.
 *
 * config_read.c   generic reading: the table reader, $NAME expansion, getters
 * config_keys.c   the table of keys
 * config_rules.c  the rules language: rules, filters, actions, teams
 * config.c        the root: managers, webhooks, unresolved; parse and free
 */
#ifndef MAIL2ALERT_CONFIG_READ_H
#define MAIL2ALERT_CONFIG_READ_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "config_keys.h"

#define KEY_PATH_MAX 256

/* Bytes $NAME expansion may add to one value, and to one parse in all. */
#define CONFIG_EXPAND_MAX (64 * 1024)
#define CONFIG_EXPAND_TOTAL_MAX (1024 * 1024)

struct config_parse {
	const struct config *config;	/* top-level keys are read first */
	const char *path;
	config_env_fn env;
	void *env_arg;
	char *err;
	size_t errlen;
	size_t expanded;	/* bytes $NAME expansion has added so far */
};

/* The struct of CONFIG_WANT: the two ways a manager says what it wants. */
struct config_want {
	char *to;
	char *from;
};

/* The struct of CONFIG_TEAM; rule first, so the rule readers take it too. */
struct config_team {
	struct rule rule;	/* events and actions */
	char *address;
	char *pattern;		/* release-pattern */
	char **groups;
	size_t ngroups;
};

/* Write "PATH:LINE: KEY: what" to the error buffer; returns false. */
bool config_fail(struct config_parse *p, const config_setting_t *at,
    const char *key, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "path.name" into buf (KEY_PATH_MAX); a deeper path is only cut short. */
void config_key_path(char *buf, const char *path, const char *name);

/* Typed members of group; absent ones leave *out as it was. */
bool config_get_string(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *name, char **out);
/* A list of strings; absent: NULL and 0; on error *out is NULL. */
bool config_get_string_list(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *name, char ***out, size_t *count);
void config_free_string_list(char **list, size_t count);

/* Addresses and channel names end up in SMTP commands and headers. */
bool config_is_clean_token(const char *s);

/*
 * Read the members of group, a group of scope, into obj (the scope's
 * struct) by the table: a member without a row is an error, every row is
 * read in table order, typed rows get their default when absent.
 */
bool config_read_scope(struct config_parse *p, const config_setting_t *group,
    const char *path, enum config_scope scope, void *obj);
/* Free what config_read_scope read by type into obj; secrets are wiped. */
void config_free_scope(enum config_scope scope, void *obj);
/* Wipe and free a secret string. */
void config_free_secret(char *s);

/* The readers of keys that need more than a type. */
bool config_read_unresolved(struct config_parse *p, const config_setting_t *group,
    const char *path, void *config);
bool config_read_shared_state(struct config_parse *p, const config_setting_t *group,
    const char *path, void *config);
bool config_read_webhooks(struct config_parse *p, const config_setting_t *group,
    const char *path, void *config);
bool config_read_chat_webhooks(struct config_parse *p, const config_setting_t *group,
    const char *path, void *config);
bool config_read_managers(struct config_parse *p, const config_setting_t *group,
    const char *path, void *config);
bool config_read_api(struct config_parse *p, const config_setting_t *group,
    const char *path, void *manager);
bool config_read_wanted(struct config_parse *p, const config_setting_t *group,
    const char *path, void *manager);
bool config_read_rules(struct config_parse *p, const config_setting_t *group,
    const char *path, void *manager);
bool config_read_teams(struct config_parse *p, const config_setting_t *group,
    const char *path, void *manager);
bool config_read_filter(struct config_parse *p, const config_setting_t *group,
    const char *path, void *rule);
bool config_read_actions(struct config_parse *p, const config_setting_t *group,
    const char *path, void *rule);
bool config_read_team_actions(struct config_parse *p, const config_setting_t *group,
    const char *path, void *team);
bool config_read_events(struct config_parse *p, const config_setting_t *group,
    const char *path, void *rule);
bool config_read_function(struct config_parse *p, const config_setting_t *group,
    const char *path, void *rule);
bool config_read_args(struct config_parse *p, const config_setting_t *group,
    const char *path, void *rule);
bool config_read_team_groups(struct config_parse *p, const config_setting_t *group,
    const char *path, void *team);

/* Free one rule's contents (config_rules.c). */
void config_free_rule(struct rule *r);

#endif
