/*
 * config_chat.c - the chat-webhooks list: named webhooks of the chat
 * services that have a driver (chat_driver.h), for chat:NAME actions.
 *
 *   chat-webhooks = ( { name = "ops"; service = "mattermost";
 *                       url = "https://mm.example.com/hooks/xyz"; } );
 */
#include <stdio.h>
#include <string.h>

#include "chat_driver.h"
#include "config_read.h"
#include "xalloc.h"

/* A name as chat:NAME can spell it: letters, digits, - _ . */
static bool
is_chat_name(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == n;
}

bool
config_read_chat_webhooks(struct config_parse *p, const config_setting_t *root,
    const char *path, void *config)
{
	const config_setting_t *ws = config_setting_get_member(root, "chat-webhooks");
	struct config *c = config;
	int n;

	(void)path;
	if (ws == NULL)
		return true;
	if (config_setting_type(ws) != CONFIG_TYPE_LIST)
		return config_fail(p, ws, "chat-webhooks", "must be a list: ( { name = \"ops\"; "
		    "service = \"mattermost\"; url = \"https://...\"; } )");
	n = config_setting_length(ws);
	c->chat_webhooks = xcalloc((size_t)n + 1, sizeof(*c->chat_webhooks));
	for (int i = 0; i < n; i++) {
		const config_setting_t *w = config_setting_get_elem(ws, (unsigned)i);
		struct chat_webhook *hook = &c->chat_webhooks[i];
		char wpath[KEY_PATH_MAX];

		snprintf(wpath, sizeof(wpath), "chat-webhooks[%d]", i);
		c->nchat_webhooks = (size_t)i + 1;
		if (!config_setting_is_group(w))
			return config_fail(p, w, wpath,
			    "must be a group { name = ...; service = ...; url = ...; }");
		if (!config_read_scope(p, w, wpath, CONFIG_CHAT_WEBHOOK, hook))
			return false;
		if (hook->name == NULL || hook->service == NULL || hook->url == NULL)
			return config_fail(p, w, wpath, "needs name, service and url");
		if (!is_chat_name(hook->name))
			return config_fail(p, w, wpath, "name \"%s\": letters, digits, "
			    "'-', '_' and '.' only", hook->name);
		for (int j = 0; j < i; j++) {
			if (strcmp(c->chat_webhooks[j].name, hook->name) == 0)
				return config_fail(p, w, wpath, "name \"%s\" is taken by "
				    "chat-webhooks[%d]", hook->name, j);
		}
		hook->driver = chat_driver_find(hook->service);
		if (hook->driver == NULL) {
			struct strbuf names = STRBUF_INIT;
			bool ok;

			chat_driver_names(&names);
			ok = config_fail(p, w, wpath, "service \"%s\": must be one of %s",
			    hook->service, names.data);
			strbuf_free(&names);
			return ok;
		}
		if (strncmp(hook->url, "https://", 8) != 0 && strncmp(hook->url, "http://", 7) != 0)
			return config_fail(p, w, wpath, "url must start with https:// or http://");
	}
	return true;
}

const struct chat_webhook *
config_chat_webhook(const struct config *config, const char *name)
{
	for (size_t i = 0; i < config->nchat_webhooks; i++) {
		if (strcmp(config->chat_webhooks[i].name, name) == 0)
			return &config->chat_webhooks[i];
	}
	return NULL;
}
