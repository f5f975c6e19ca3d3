/*
 * config.c - the root of the configuration: managers, Slack webhooks and
 * the unresolved policy; config_parse and config_free (see config.h).
 *
 * The keys and their types are rows of config_keys.c, read by
 * config_read.c; the rules language is config_rules.c.  What is here are
 * the checks that span several keys.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "config_read.h"
#include "route.h"
#include "store_url.h"
#include "xalloc.h"

bool
config_read_wanted(struct config_parse *p, const config_setting_t *ms,
    const char *path, void *manager)
{
	const config_setting_t *w = config_setting_get_member(ms, "messages-we-want");
	struct manager *m = manager;
	struct config_want want = { 0 };
	char key[KEY_PATH_MAX];

	config_key_path(key, path, "messages-we-want");
	if (w == NULL)
		return config_fail(p, ms, key, "missing (messages-we-want = { to = \"address\"; })");
	if (!config_setting_is_group(w))
		return config_fail(p, w, key,
		    "must be a group { to = \"...\"; } or { from = \"...\"; }");
	if (!config_read_scope(p, w, key, CONFIG_WANT, &want)) {
		config_free_scope(CONFIG_WANT, &want);
		return false;
	}
	if ((want.to == NULL) == (want.from == NULL)) {
		config_free_scope(CONFIG_WANT, &want);
		return config_fail(p, w, key, "needs exactly one of to or from");
	}
	m->want = want.to ? WANT_TO : WANT_FROM;
	m->want_address = want.to ? want.to : want.from;
	if (!address_is_mailbox(m->want_address))
		return config_fail(p, w, key, "\"%s\" is not a mail address "
		    "(one plain local-part@domain: no lists, comments or routes)", m->want_address);
	return true;
}

static const char *const api_names[] = { "auto", "admin", "dashboard", "legacy" };

bool
config_read_api(struct config_parse *p, const config_setting_t *ms, const char *path,
    void *manager)
{
	struct manager *m = manager;
	char *api = NULL, key[KEY_PATH_MAX];

	if (!config_get_string(p, ms, path, "api", &api))
		return false;
	m->api = GOCD_API_AUTO;
	if (api == NULL)
		return true;
	for (size_t i = 0; i < sizeof(api_names) / sizeof(api_names[0]); i++) {
		if (strcmp(api, api_names[i]) == 0) {
			m->api = (enum gocd_api)i;
			free(api);
			return true;
		}
	}
	free(api);
	config_key_path(key, path, "api");
	return config_fail(p, config_setting_get_member(ms, "api"), key,
	    "must be auto, admin, dashboard or legacy");
}

const char *
gocd_api_name(enum gocd_api api)
{
	return api_names[api];
}

/*
 * What is worked out once a manager is read: the facts callers ask about
 * (manager_posts_to_slack, manager_needs_groups), in_subject words in
 * lower case, and the compiled rules routing uses (route.h).
 */
static void
index_manager(struct manager *m)
{
	for (size_t r = 0; r < m->nrules; r++) {
		struct rule *rule = &m->rules[r];

		for (size_t a = 0; a < rule->nactions; a++) {
			if (rule->actions[a].kind != ACTION_MAILTO)
				m->posts_to_slack = true;
		}
		if (rule->function == FILTER_IN_GROUP || rule->function == FILTER_NAME_LIKE)
			m->needs_groups = true;
		if (rule->function == FILTER_IN_SUBJECT) {
			for (size_t i = 0; i < rule->nargs; i++) {
				for (char *c = rule->args[i]; *c; c++)
					*c = (char)tolower((unsigned char)*c);
			}
		}
	}
	m->routes = route_rules_compile(m);
}

/* The checks of a manager that span several keys. */
static bool
check_manager(struct config_parse *p, const config_setting_t *ms, const char *path,
    const struct manager *m)
{
	if (m->name == NULL || *m->name == '\0')
		return config_fail(p, ms, path, "name is missing");
	/* the name goes into log lines and the X-Mail2alert header */
	for (const char *c = m->name; *c; c++) {
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_' && *c != '.')
			return config_fail(p, config_setting_get_member(ms, "name"), path,
			    "name \"%s\": use letters, digits, '-', '_' and '.'", m->name);
	}
	if (m->url == NULL && strcmp(m->name, "gocd") == 0)
		return config_fail(p, ms, path, "manager \"gocd\" polls GoCD and needs url");
	if (m->passwd != NULL && m->passwd_file != NULL)
		return config_fail(p, ms, path, "use either passwd or passwd-file, not both");
	if (m->token != NULL && m->token_file != NULL)
		return config_fail(p, ms, path, "use either token or token-file, not both");
	if ((m->user == NULL) != (m->passwd == NULL && m->passwd_file == NULL))
		return config_fail(p, ms, path, "user and passwd (or passwd-file) go together");
	if (m->user != NULL && (m->token != NULL || m->token_file != NULL))
		return config_fail(p, ms, path, "use either user/passwd or token, not both");
	if (m->url == NULL && m->needs_groups)
		return config_fail(p, ms, path,
		    "rules use pipeline groups, so the manager needs url");
	return true;
}

static bool
parse_manager(struct config_parse *p, const config_setting_t *ms, const char *path,
    struct manager *m)
{
	if (!config_setting_is_group(ms))
		return config_fail(p, ms, path, "a manager must be a group { name = ...; ... }");
	if (!config_read_scope(p, ms, path, CONFIG_MANAGER, m))
		return false;
	m->answer_limit = p->config->gocd_answer_limit;
	index_manager(m);
	return check_manager(p, ms, path, m);
}

bool
config_read_managers(struct config_parse *p, const config_setting_t *root,
    const char *path, void *config)
{
	const config_setting_t *ms = config_setting_get_member(root, "managers");
	struct config *c = config;
	int n;

	(void)path;
	if (ms == NULL)
		return config_fail(p, root, "managers", "missing: nothing to do without managers");
	if (config_setting_type(ms) != CONFIG_TYPE_LIST)
		return config_fail(p, ms, "managers", "must be a list: ( { name = ...; }, ... )");
	n = config_setting_length(ms);
	c->managers = xcalloc((size_t)n, sizeof(*c->managers));
	for (int i = 0; i < n; i++) {
		char mpath[KEY_PATH_MAX];

		snprintf(mpath, sizeof(mpath), "managers[%d]", i);
		c->nmanagers = (size_t)i + 1;
		if (!parse_manager(p, config_setting_get_elem(ms, (unsigned)i), mpath,
		    &c->managers[i]))
			return false;
		c->posts_to_slack = c->posts_to_slack || c->managers[i].posts_to_slack;
		for (int j = 0; j < i; j++) {
			if (strcmp(c->managers[j].name, c->managers[i].name) == 0)
				return config_fail(p, config_setting_get_elem(ms, (unsigned)i), mpath,
				    "a manager named \"%s\" already exists", c->managers[i].name);
		}
	}
	return true;
}

bool
config_read_unresolved(struct config_parse *p, const config_setting_t *root,
    const char *path, void *config)
{
	struct config *c = config;
	char *value = NULL;
	bool ok = true;

	if (!config_get_string(p, root, path, "unresolved", &value))
		return false;
	if (value == NULL || strcmp(value, "accept") == 0)
		c->unresolved = UNRESOLVED_ACCEPT;
	else if (strcmp(value, "tempfail") == 0)
		c->unresolved = UNRESOLVED_TEMPFAIL;
	else if (strncmp(value, "mailto:", 7) == 0 && address_is_mailbox(value + 7)) {
		c->unresolved = UNRESOLVED_MAILTO;
		c->unresolved_mailto = xstrdup(value + 7);
	} else
		ok = config_fail(p, config_setting_get_member(root, "unresolved"), "unresolved",
		    "must be \"accept\", \"tempfail\" or \"mailto:ADDRESS\" "
		    "(one plain address, local-part@domain)");
	free(value);
	return ok;
}

/* shared-state: a URL store_url_parse takes, kept as written. */
bool
config_read_shared_state(struct config_parse *p, const config_setting_t *root,
    const char *path, void *config)
{
	struct config *c = config;
	const config_setting_t *at;
	struct store_url url;
	char why[160];
	bool tls;

	if (!config_get_string(p, root, path, "shared-state", &c->shared_state))
		return false;
	if (c->shared_state == NULL)
		return true;
	at = config_setting_get_member(root, "shared-state");
	if (store_url_parse(c->shared_state, &url, why, sizeof(why)) != 0)
		return config_fail(p, at, "shared-state", "%s", why);
	tls = url.transport == STORE_TLS;
	store_url_free(&url);
	if (c->shared_state_ca_file != NULL && !tls)
		return config_fail(p, config_setting_get_member(root, "shared-state-ca-file"),
		    "shared-state-ca-file", "only a rediss:// shared-state is checked by a CA");
	if (!config_is_clean_token(c->shared_state_prefix) || strlen(c->shared_state_prefix) > 64)
		return config_fail(p, config_setting_get_member(root, "shared-state-prefix"),
		    "shared-state-prefix", "must be at most 64 bytes without spaces");
	if (c->shared_state_node != NULL && (!config_is_clean_token(c->shared_state_node) ||
	    strlen(c->shared_state_node) > 128))
		return config_fail(p, config_setting_get_member(root, "shared-state-node"),
		    "shared-state-node", "must be at most 128 bytes without spaces");
	return true;
}

bool
config_read_webhooks(struct config_parse *p, const config_setting_t *root,
    const char *path, void *config)
{
	const config_setting_t *ws = config_setting_get_member(root, "slack-webhooks");
	struct config *c = config;
	int n;

	(void)path;
	if (ws == NULL)
		return true;
	if (config_setting_type(ws) != CONFIG_TYPE_LIST)
		return config_fail(p, ws, "slack-webhooks", "must be a list: "
		    "( { channel = \"#builds\"; url = \"https://...\"; } )");
	n = config_setting_length(ws);
	c->webhooks = xcalloc((size_t)n, sizeof(*c->webhooks));
	for (int i = 0; i < n; i++) {
		const config_setting_t *w = config_setting_get_elem(ws, (unsigned)i);
		struct slack_webhook *hook = &c->webhooks[i];
		char wpath[KEY_PATH_MAX];

		snprintf(wpath, sizeof(wpath), "slack-webhooks[%d]", i);
		c->nwebhooks = (size_t)i + 1;
		if (!config_setting_is_group(w))
			return config_fail(p, w, wpath, "must be a group { channel = ...; url = ...; }");
		if (!config_read_scope(p, w, wpath, CONFIG_WEBHOOK, hook))
			return false;
		if (hook->channel == NULL || hook->url == NULL)
			return config_fail(p, w, wpath, "needs both channel and url");
		if (strncmp(hook->url, "https://", 8) != 0 && strncmp(hook->url, "http://", 7) != 0)
			return config_fail(p, w, wpath, "url must start with https:// or http://");
	}
	return true;
}

struct config *
config_parse(const char *text, const char *path, config_env_fn env,
    void *env_arg, char *err, size_t errlen)
{
	struct config *c = xcalloc(1, sizeof(*c));
	struct config_parse p = { c, path, env, env_arg, err, errlen, 0 };
	config_t cfg;
	bool ok;

	c->path = xstrdup(path);
	config_init(&cfg);
	if (!config_read_string(&cfg, text)) {
		snprintf(err, errlen, "%s:%d: syntax error: %s", path,
		    config_error_line(&cfg), config_error_text(&cfg));
		ok = false;
	} else {
		ok = config_read_scope(&p, config_root_setting(&cfg), "", CONFIG_ROOT, c);
	}
	config_destroy(&cfg);
	if (!ok) {
		config_free(c);
		return NULL;
	}
	return c;
}

void
config_free(struct config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nmanagers; i++) {
		struct manager *m = &c->managers[i];

		route_rules_free(m->routes);
		for (size_t r = 0; r < m->nrules; r++)
			config_free_rule(&m->rules[r]);
		free(m->rules);
		free(m->want_address);
		config_free_scope(CONFIG_MANAGER, m);
	}
	free(c->managers);
	for (size_t i = 0; i < c->nwebhooks; i++)
		config_free_scope(CONFIG_WEBHOOK, &c->webhooks[i]);
	free(c->webhooks);
	for (size_t i = 0; i < c->nchat_webhooks; i++)
		config_free_scope(CONFIG_CHAT_WEBHOOK, &c->chat_webhooks[i]);
	free(c->chat_webhooks);
	free(c->path);
	free(c->unresolved_mailto);
	free(c->shared_state);
	secret_free(c->shared_state_password);
	config_free_scope(CONFIG_ROOT, c);
	free(c);
}

const char *
config_webhook_for(const struct config *config, const char *channel)
{
	for (size_t i = 0; i < config->nwebhooks; i++) {
		if (strcmp(config->webhooks[i].channel, channel) == 0)
			return config->webhooks[i].url;
	}
	return NULL;
}

bool
config_chat_destination_known(const struct config *config, const char *channel,
    bool named)
{
	if (named)
		return config_chat_webhook(config, channel) != NULL;
	if (config_webhook_for(config, channel) != NULL)
		return true;
	for (size_t i = 0; i < config->nmanagers; i++) {
		const struct manager *m = &config->managers[i];

		for (size_t r = 0; r < m->nrules; r++) {
			for (size_t a = 0; a < m->rules[r].nactions; a++) {
				const struct action *act = &m->rules[r].actions[a];

				if (act->kind == ACTION_SLACK && strcmp(act->target, channel) == 0)
					return true;
			}
		}
	}
	return false;
}

bool
manager_posts_to_slack(const struct manager *m)
{
	return m->posts_to_slack;
}

bool
config_posts_to_slack(const struct config *config)
{
	return config->posts_to_slack;
}

bool
manager_needs_groups(const struct manager *m)
{
	return m->needs_groups;
}
