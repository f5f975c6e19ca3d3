/*
 * state_file.h - persist what the daemon learned (pipeline groups, stage
 * states, unsent Slack posts) in the `state-file`, so a restart while GoCD
 * is down still routes, and a stop loses no post.
 *
 * Written atomically (temp file, fsync, rename), at most every
 * STATE_SAVE_INTERVAL seconds when something changed, and at stop.  A
 * corrupt or truncated file is logged and ignored, never fatal.
 */
#ifndef MAIL2ALERT_STATE_FILE_H
#define MAIL2ALERT_STATE_FILE_H

#include <stddef.h>

#include "slack_post.h"

#define STATE_SAVE_INTERVAL 5		/* seconds */
#define STATE_FILE_MAX (256L * 1024 * 1024)

/*
 * Load path (NULL: no state file) into the snapshots; queue saved posts
 * (into the outbox journal too, when it is open).
 */
void state_file_load(const char *path, size_t slack_queue_limit);
/* Start the thread that saves changes. */
int state_file_start(const char *path);
/*
 * Stop saving, then save once more with the posts not sent (none when
 * the outbox journal keeps them: saved twice, they would be sent twice).
 */
void state_file_stop(struct slack_post **posts, size_t nposts);

#endif
