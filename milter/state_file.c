/*
 * state_file.c - the state file (see state_file.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock_wait.h"
#include "files.h"
#include "log.h"
#include "metrics.h"
#include "outbox_journal.h"
#include "slack.h"
#include "snapshots.h"
#include "state_doc.h"
#include "state_file.h"
#include "strbuf.h"
#include "xalloc.h"

static char *state_path;
static pthread_t saver;
static bool saver_running;
static pthread_mutex_t saver_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t saver_wake;
static bool saver_stop;

static int write_atomically(const char *path, const char *json);

void
state_file_load(const char *path, size_t slack_queue_limit)
{
	struct strbuf text = STRBUF_INIT;
	struct state_doc doc;
	char why[256];

	if (path == NULL)
		return;
	if (file_read(path, (size_t)STATE_FILE_MAX, &text) != 0) {
		if (errno != ENOENT)
			log_warning("state file %s: %s; starting without it", path,
			    file_error(errno));
		strbuf_free(&text);
		return;
	}
	if (state_doc_read(&doc, strbuf_str(&text), text.len, why, sizeof(why)) != 0) {
		log_warning("state file %s: %s; ignored", path, why);
		strbuf_free(&text);
		return;
	}
	log_info("state file %s: managers=%zu stages=%zu slack_posts=%zu", path,
	    doc.ngroups, doc.stages.states.count, doc.nposts);
	snapshots_restore(&doc);
	slack_requeue(doc.posts, doc.nposts, slack_queue_limit, false);
	if (doc.nposts > 0 && outbox_journal_is_open()) {
		/* they are in the journal now: kept here too, a crash would send them twice */
		char *json = snapshots_state_json(NULL, 0);

		write_atomically(path, json);
		free(json);
	}
	state_doc_free(&doc);
	strbuf_free(&text);
}

/* Write json to path atomically: a crash leaves the old file or the new. */
static int
write_atomically(const char *path, const char *json)
{
	struct strbuf tmp = STRBUF_INIT;
	size_t len = strlen(json), done = 0;
	char *dir_copy = xstrdup(path);
	int fd, dirfd, rc = -1;

	/*
	 * A new file of our own beside the target (O_EXCL under mkostemp): a
	 * name planted there in advance, a symlink say, is never written
	 * through, even when we run as root.
	 */
	strbuf_addf(&tmp, "%s.XXXXXX", path);
	fd = mkostemp(tmp.data, O_CLOEXEC);
	if (fd >= 0) {
		while (done < len) {
			ssize_t n = write(fd, json + done, len - done);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			done += (size_t)n;
		}
		if (done == len && fsync(fd) == 0 && close(fd) == 0) {
			fd = -1;
			rc = rename(tmp.data, path);
		}
		if (fd >= 0)
			close(fd);
	}
	if (rc == 0) {
		/* the rename itself must reach the disk */
		dirfd = open(dirname(dir_copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dirfd >= 0) {
			fsync(dirfd);
			close(dirfd);
		}
	} else {
		log_error("cannot write state file %s: %s", path, strerror(errno));
		unlink(tmp.data);
	}
	free(dir_copy);
	strbuf_free(&tmp);
	return rc;
}

static void
save(struct slack_post **posts, size_t nposts)
{
	char *json = snapshots_state_json(posts, nposts);

	metrics_state_save(write_atomically(state_path, json) == 0);
	free(json);
}

static void *
saver_main(void *arg)
{
	unsigned long saved = snapshots_changes();

	(void)arg;
	pthread_mutex_lock(&saver_lock);
	while (!saver_stop) {
		struct timespec until = deadline_in(STATE_SAVE_INTERVAL);

		while (!saver_stop &&
		    pthread_cond_timedwait(&saver_wake, &saver_lock, &until) != ETIMEDOUT)
			;
		if (saver_stop || snapshots_changes() == saved)
			continue;
		saved = snapshots_changes();
		pthread_mutex_unlock(&saver_lock);
		save(NULL, 0);
		pthread_mutex_lock(&saver_lock);
	}
	pthread_mutex_unlock(&saver_lock);
	return NULL;
}

int
state_file_start(const char *path)
{
	int rc;

	if (path == NULL)
		return 0;
	state_path = xstrdup(path);
	cond_init_monotonic(&saver_wake);
	rc = pthread_create(&saver, NULL, saver_main, NULL);
	if (rc != 0) {
		log_error("cannot start the state file writer: %s", strerror(rc));
		return -1;
	}
	saver_running = true;
	return 0;
}

void
state_file_stop(struct slack_post **posts, size_t nposts)
{
	if (state_path == NULL)
		return;
	if (saver_running) {
		pthread_mutex_lock(&saver_lock);
		saver_stop = true;
		pthread_cond_broadcast(&saver_wake);
		pthread_mutex_unlock(&saver_lock);
		pthread_join(saver, NULL);
		saver_running = false;
	}
	save(posts, nposts);
	if (nposts > 0)
		log_info("state file %s: saved %zu unsent slack posts for the next start",
		    state_path, nposts);
	free(state_path);
	state_path = NULL;
}
