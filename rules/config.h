/*
 * config.h - the validated configuration (SPEC section 4) and its parser.
 *
 * The parser reads libconfig text already in memory, so it does no I/O:
 * the daemon reads the file, the tests pass strings.  A config is never
 * changed after config_parse returns it; a reload builds a new one.  The
 * keys themselves are rows of one table (config_keys.h).
 */
#ifndef MAIL2ALERT_CONFIG_H
#define MAIL2ALERT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "config_enums.h"
#include "event.h"

#define CONFIG_DEFAULT_PATH "/etc/mail2alert/mail2alert.conf"
#define CONFIG_DEFAULT_SOCKET "inet:8895@127.0.0.1"
#define CONFIG_DEFAULT_BODY_LIMIT 65536
/*
 * A GoCD answer (pipeline groups, dashboard, cctray.xml) larger than this,
 * after decoding, is refused: a real 50,000-pipeline document is under
 * 10 MB, so 32 MiB leaves room and keeps a gzip bomb's cost bounded.
 */
#define CONFIG_DEFAULT_GOCD_ANSWER_LIMIT (32L * 1024 * 1024)
#define CONFIG_DEFAULT_SOCKET_MODE 0660
#define CONFIG_DEFAULT_SLACK_API "https://slack.com/api"
#define CONFIG_DEFAULT_POLL_INTERVAL 30
#define CONFIG_DEFAULT_READY_MAX_POLL_AGE 3	/* x poll-interval */
#define CONFIG_DEFAULT_CONNECT_TIMEOUT 10
#define CONFIG_DEFAULT_TIMEOUT 30

enum action_kind {
	ACTION_MAILTO,
	ACTION_SLACK,
	ACTION_CHAT,		/* chat:NAME, a chat-webhooks entry */
};

struct action {
	enum action_kind kind;
	char *target;		/* address, "#channel" / "@user" / user ID, or chat name */
	enum slack_style style;
	char *text;		/* as written in the config, for reports */
};

enum filter_function {
	FILTER_ANY,		/* pipelines.any, pipelines.all */
	FILTER_IN_GROUP,	/* pipelines.in_group [group] */
	FILTER_NAME_LIKE,	/* pipelines.name_like_in_group [regex, group] */
	FILTER_IN_SUBJECT,	/* mail.in_subject [word, ...] */
};

struct rule {
	char *name;		/* optional: NULL */
	char *owner;		/* optional: NULL */
	unsigned events;	/* EVENT_BIT set; 0 = no events filter */
	enum filter_function function;
	char **args;
	size_t nargs;
	struct action *actions;
	size_t nactions;
	int line;		/* where the rule starts, for reports */
};

struct route_rules;
struct chat_driver;

enum want_kind {
	WANT_TO,
	WANT_FROM,
};

struct manager {
	char *name;
	enum want_kind want;
	char *want_address;
	char *url;		/* GoCD base URL; NULL: does not poll */
	enum gocd_api api;
	char *user;
	char *passwd;
	char *token;
	char *passwd_file;	/* read by the daemon into passwd */
	char *token_file;	/* read by the daemon into token */
	char *ca_file;		/* CA bundle for GoCD's TLS, or NULL: system's */
	long connect_timeout;	/* seconds */
	long timeout;		/* seconds, whole request */
	long poll_interval;	/* seconds */
	long answer_limit;	/* bytes of a GoCD answer: the root's gocd-answer-limit */
	struct rule *rules;
	size_t nrules;
	struct route_rules *routes;	/* compiled by route.c at load (route.h) */
	bool posts_to_slack;	/* a rule has a slack: action (the body is needed) */
	bool needs_groups;	/* a rule needs the pipeline groups */
};

/* A channel whose posts go to an incoming webhook instead of the API. */
struct slack_webhook {
	char *channel;
	char *url;
};

/* A named webhook of a chat service (chat-webhooks), for chat:NAME. */
struct chat_webhook {
	char *name;
	char *service;		/* "mattermost", ...: a driver's name */
	char *url;
	const struct chat_driver *driver;
};

#define CONFIG_DEFAULT_SHARED_STATE_PREFIX "mail2alert:"
#define CONFIG_DEFAULT_SHARED_STATE_TIMEOUT 50		/* ms */
#define CONFIG_DEFAULT_SHARED_STATE_TTL (12 * 3600)	/* as GoCD's own cache */

#define CONFIG_DEFAULT_SLACK_QUEUE 1000
#define CONFIG_DEFAULT_SLACK_RETRY_TIME 300	/* seconds */

enum unresolved_policy {
	UNRESOLVED_ACCEPT,
	UNRESOLVED_TEMPFAIL,
	UNRESOLVED_MAILTO,
};

struct config {
	char *path;		/* the file it came from */
	char *socket;
	char *user;		/* NULL: stay who we are */
	char *socket_group;	/* unix socket: group Postfix is in, or NULL */
	long socket_mode;	/* unix socket: permission bits */
	bool allow_root;	/* may keep running as root after start-up */
	char *state_file;	/* NULL: none */
	enum unresolved_policy unresolved;
	char *unresolved_mailto;
	long body_limit;
	long gocd_answer_limit;		/* bytes of one GoCD answer, decoded */
	char *slack_token;
	char *slack_api;
	struct slack_webhook *webhooks;
	size_t nwebhooks;
	struct chat_webhook *chat_webhooks;
	size_t nchat_webhooks;
	long slack_queue_size;		/* posts waiting at most */
	long slack_retry_time;		/* seconds a failing post is retried */
	struct manager *managers;
	size_t nmanagers;
	bool posts_to_slack;		/* some manager posts to Slack */
	char *metrics_listen;		/* HOST:PORT of /metrics, or NULL: off */
	long ready_max_poll_age;	/* /-/ready: groups younger than this x poll-interval */
	/* Shared state (store_url.h): NULL: this relay keeps its own. */
	char *shared_state;
	char *shared_state_password_file;
	char *shared_state_password;	/* read from the file by the daemon; NULL: none */
	char *shared_state_ca_file;	/* rediss://: the CA to check the server by */
	char *shared_state_prefix;	/* of every key mail2alert writes */
	char *shared_state_node;	/* this relay's name there; NULL: host:socket */
	long shared_state_timeout;	/* ms the mail path waits for the store */
	long shared_state_ttl;		/* seconds a stage state is kept there */
	/* Chat posts not yet sent, kept on disk before the reply (outbox_journal.h). */
	char *outbox_journal;		/* NULL: state-file + ".outbox"; "": none */
};

/* Environment lookup used for $NAME expansion (getenv in the daemon). */
typedef const char *(*config_env_fn)(const char *name, void *arg);

/*
 * Parse and validate config text.  path is only used in messages.  On
 * error returns NULL and writes "PATH:LINE: KEY: what is wrong" to err.
 */
struct config *config_parse(const char *text, const char *path,
    config_env_fn env, void *env_arg, char *err, size_t errlen);
void config_free(struct config *config);

/* The webhook URL for a Slack channel, or NULL (post through the API). */
const char *config_webhook_for(const struct config *config, const char *channel);

/*
 * Is a saved post's destination still one of config's: for a slack: post
 * ("#builds", "@user", a user ID) a slack: action targets it or a
 * slack-webhooks entry names it; for a chat: post (named) a chat-webhooks
 * entry has that name.  A saved post for one that is not is dropped, not
 * sent with the bot token.
 */
bool config_chat_destination_known(const struct config *config, const char *destination,
    bool named);

/* The chat-webhooks entry called name, or NULL. */
const struct chat_webhook *config_chat_webhook(const struct config *config,
    const char *name);

/* Does routing treat a and b as one action? */
bool action_same(const struct action *a, const struct action *b);

/*
 * True if any rule of the manager posts to Slack (so the body is needed);
 * worked out once at load, so cheap enough for every header.
 */
bool manager_posts_to_slack(const struct manager *manager);
bool config_posts_to_slack(const struct config *config);

/* True if any rule of the manager needs the pipeline groups (at load too). */
bool manager_needs_groups(const struct manager *manager);

#endif
