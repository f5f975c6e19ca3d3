/*
 * outbox_journal.h - chat posts on disk before Postfix is answered, so a
 * crash or kill -9 loses none (issue 16, one host without a shared store).
 *
 * An append-only file of lines:
 *   P <record>\n    a post was queued (outbox_record.h: one line of JSON)
 *   D <id>\n        that post is done: sent, failed for good, or dropped
 * A P line is written with one write(2) and flushed with fdatasync(2)
 * before outbox_journal_put returns; a D line is not flushed: should it
 * be lost in a crash, the post is sent again after the restart (at least
 * once, never lost).  A crash between put and Postfix's reply likewise
 * means a second post for the mail Postfix then retries.
 *
 * The file is rewritten (temp file, fsync, rename) to hold only the live
 * posts at open and whenever it grows past max(1 MiB, 4 x the live
 * bytes), and emptied when no post is live.  Failures are logged with
 * the path and the reason; the posts stay queued in memory, mail flows.
 */
#ifndef MAIL2ALERT_OUTBOX_JOURNAL_H
#define MAIL2ALERT_OUTBOX_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "slack_post.h"

/* Largest journal replayed: as much as the state file that held posts before. */
#define OUTBOX_JOURNAL_MAX (256L * 1024 * 1024)
/* Below this the journal is not rewritten, however few posts are live. */
#define OUTBOX_JOURNAL_COMPACT_MIN (1L * 1024 * 1024)

/*
 * Open or create path (mode 0600, as the user the daemon runs as) and
 * replay it: *posts (malloc'd, *n of them, the caller owns both) are the
 * posts put and not done, in the order they were put; they stay live in
 * the journal.  Torn and malformed lines are skipped with a warning each;
 * a file larger than OUTBOX_JOURNAL_MAX is renamed to path.corrupt and a
 * new one started.  0, or -1 (logged) when the journal cannot be used:
 * then it stays off and *n is 0.
 */
int outbox_journal_open(const char *path, struct slack_post ***posts, size_t *n);
/* Is a journal open? */
bool outbox_journal_is_open(void);
/*
 * Append post (which has an id) and flush it to disk.  0, or -1 when it
 * is not on disk (no journal, or a failure, logged once per burst).
 */
int outbox_journal_put(const struct slack_post *post);
/* Post id is done; an id not live (or NULL) is ignored. */
void outbox_journal_done(const char *id);
/* Close the journal; the live posts stay in the file for the next start. */
void outbox_journal_close(void);

#endif
