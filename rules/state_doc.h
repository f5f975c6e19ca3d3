/*
 * state_doc.h - the state file's JSON: pipeline groups per manager, stage
 * states, and Slack posts not yet sent.  Pure: the daemon does the I/O.
 *
 * {"version": 1,
 *  "groups": {"gocd": {"group": ["pipeline", ...], ...}},
 *  "stages": {"pipeline/stage": "success" | "failure" | "unknown"},
 *  "slack": [{"id", "channel" | "chat", "style", "subject", "from", "text", "event",
 *             "queue_id"}]}
 * A post is an outbox record (outbox_record.h): "channel" (a slack: target)
 * or "chat" (a chat-webhooks name); files written before posts had ids
 * have no "id", and such posts are read with id NULL.
 */
#ifndef MAIL2ALERT_STATE_DOC_H
#define MAIL2ALERT_STATE_DOC_H

#include <stddef.h>

#include "group_index.h"
#include "slack_post.h"
#include "stage_table.h"

#define STATE_DOC_VERSION 1

struct state_doc {
	size_t ngroups;
	char **managers;			/* manager names */
	struct group_index **groups;		/* per manager */
	struct stage_table stages;
	size_t nposts;
	struct slack_post **posts;
};

/* Serialise; groups/posts arrays may be empty.  Returns malloc'd JSON. */
char *state_doc_write(const struct state_doc *doc);

/*
 * Parse JSON into doc (zeroed first).  Entries that are not well formed
 * are skipped; a document that is not a state file at all fails with a
 * reason in err.
 */
int state_doc_read(struct state_doc *doc, const char *json, size_t len,
    char *err, size_t errlen);

/* Free what state_doc_read produced. */
void state_doc_free(struct state_doc *doc);

#endif
