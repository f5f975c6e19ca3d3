/*
 * config_enums.h - the enumerations a config value selects, for the modules
 * that act on one value (the GoCD poller's API, a Slack post's style)
 * without needing the whole configuration.
 */
#ifndef MAIL2ALERT_CONFIG_ENUMS_H
#define MAIL2ALERT_CONFIG_ENUMS_H

/* Which GoCD API gives the pipeline groups (manager key api). */
enum gocd_api {
	GOCD_API_AUTO,
	GOCD_API_ADMIN,
	GOCD_API_DASHBOARD,
	GOCD_API_LEGACY,
};

/* How much of a message a slack: action posts (:brief or :full). */
enum slack_style {
	SLACK_BRIEF,
	SLACK_FULL,
};

/* "auto", "admin", "dashboard" or "legacy". */
const char *gocd_api_name(enum gocd_api api);

#endif
