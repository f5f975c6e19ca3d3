/*
 * outbox_journal.c - the on-disk outbox (see outbox_journal.h).
 *
 * In memory we keep only where each live post's P line is in the file
 * (offset and length, in file order), not the post: compaction copies
 * those lines from the file itself.  journal_lock guards the file
 * descriptor, its size and that list; it is never held across an fsync.
 * A put writes under the lock and flushes after it, on a reference to the
 * file it wrote to, so a compaction that swaps files meanwhile cannot
 * close that descriptor under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "log.h"
#include "outbox_journal.h"
#include "outbox_record.h"
#include "strbuf.h"
#include "xalloc.h"

/* The journal file; closed when the last user lets go of a retired one. */
struct jfile {
	int fd;
	unsigned refs;		/* the journal's own, plus puts flushing it */
};

/* Where a live post's P line is. */
struct live {
	char id[OUTBOX_ID_LEN + 1];
	off_t off;
	size_t len;
};

static pthread_mutex_t journal_lock = PTHREAD_MUTEX_INITIALIZER;
static char *journal_path;
static struct jfile *current;		/* NULL: no journal */
static off_t file_size;			/* of current */
static struct live *live;		/* in file order */
static size_t live_len, live_cap, live_bytes;
static bool compacting;
static bool failing;			/* a write failed; logged once until one works */

static struct jfile *
jfile_new(int fd)
{
	struct jfile *f = xmalloc(sizeof(*f));

	f->fd = fd;
	f->refs = 1;
	return f;
}

/* Let go of f; the last one closes it.  journal_lock held. */
static void
jfile_release(struct jfile *f)
{
	if (f != NULL && --f->refs == 0) {
		close(f->fd);
		free(f);
	}
}

/* Index of id among the live posts, or -1.  Mostly the oldest is done. */
static long
live_find(const char *id)
{
	for (size_t i = 0; i < live_len; i++) {
		if (strcmp(live[i].id, id) == 0)
			return (long)i;
	}
	return -1;
}

static void
live_add(const char *id, off_t off, size_t len)
{
	live = xgrow(live, &live_cap, live_len + 1, sizeof(*live));
	snprintf(live[live_len].id, sizeof(live[live_len].id), "%s", id);
	live[live_len].off = off;
	live[live_len++].len = len;
	live_bytes += len;
}

static void
live_remove(size_t i)
{
	live_bytes -= live[i].len;
	memmove(&live[i], &live[i + 1], (live_len - i - 1) * sizeof(*live));
	live_len--;
}

/* Write all of buf to fd, retrying short writes.  0 or -1 (errno). */
static int
write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Append one line to the journal, at *at.  A partial write is cut off
 * again, so the next line does not run into it.  journal_lock held.
 */
static int
append_line(const char *line, size_t len, off_t *at)
{
	ssize_t n;
	int saved;

	while ((n = write(current->fd, line, len)) < 0 && errno == EINTR)
		;
	if (n == (ssize_t)len) {
		*at = file_size;
		file_size += (off_t)len;
		return 0;
	}
	saved = n < 0 ? errno : ENOSPC;		/* short: the disk is full */
	if (n > 0 && ftruncate(current->fd, file_size) != 0)
		log_error("outbox journal %s: cannot cut off a partial line: %s",
		    journal_path, strerror(errno));
	errno = saved;
	return -1;
}

/* A write worked or failed: log the first failure of a burst and the end of it. */
static void
note_result(bool ok, const char *what, int err)
{
	bool was;

	pthread_mutex_lock(&journal_lock);
	was = failing;
	failing = !ok;
	pthread_mutex_unlock(&journal_lock);
	if (!ok && !was)
		log_error("outbox journal %s: cannot %s: %s; posts stay queued in memory "
		    "only until it works again", journal_path, what, strerror(err));
	else if (ok && was)
		log_info("outbox journal %s: writing again", journal_path);
}

/* Copy len bytes at off of from to the end of to. */
static int
copy_range(int from, off_t off, size_t len, int to)
{
	char buf[65536];

	while (len > 0) {
		ssize_t n = pread(from, buf, len < sizeof(buf) ? len : sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;	/* the file is shorter than we wrote */
			return -1;
		}
		if (write_all(to, buf, (size_t)n) != 0)
			return -1;
		off += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Make a rename in path's directory durable. */
static void
sync_directory(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, strlen(path) + 1, ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

/*
 * Swap the compacted file in, if nothing was appended to the old one
 * since the copy reached copied: live lines in the old file at or past
 * snap_end follow the snap_bytes of the copied live lines in the new.
 * journal_lock held.  True when swapped.
 */
static bool
swap_in(struct jfile *src, int fd, const char *tmp, const struct live *snap, size_t nsnap,
    off_t snap_end, off_t snap_bytes, off_t copied, off_t new_size)
{
	size_t j = 0;
	off_t pos = 0;

	if (current != src || file_size != copied)
		return false;
	if (rename(tmp, journal_path) != 0)
		return false;
	for (size_t i = 0; i < live_len; i++) {
		if (live[i].off >= snap_end) {
			live[i].off = snap_bytes + (live[i].off - snap_end);
			continue;
		}
		/* still live, so in the copy: find it there (both are in file order) */
		for (; j < nsnap && snap[j].off != live[i].off; j++)
			pos += (off_t)snap[j].len;
		live[i].off = pos;
	}
	current = jfile_new(fd);
	file_size = new_size;
	jfile_release(src);		/* the journal's reference */
	return true;
}

/*
 * Rewrite the journal to hold only the live P lines.  The copy is made
 * and flushed without the lock; lines appended meanwhile are copied after
 * it, until a look under the lock finds none new, and the new file takes
 * the old one's place.  0 or -1 (logged, the old file stays).
 */
static int
compact(void)
{
	struct strbuf tmp = STRBUF_INIT;
	struct live *snap = NULL;
	struct jfile *src;
	off_t snap_end, copied, size = 0, snap_bytes = 0;
	size_t nsnap;
	bool swapped = false;
	int fd, rc = -1;

	pthread_mutex_lock(&journal_lock);
	if (compacting || current == NULL) {
		pthread_mutex_unlock(&journal_lock);
		return 0;
	}
	compacting = true;
	src = current;
	src->refs++;
	nsnap = live_len;
	snap = xmalloc((nsnap ? nsnap : 1) * sizeof(*snap));
	memcpy(snap, live, nsnap * sizeof(*snap));
	snap_end = copied = file_size;
	pthread_mutex_unlock(&journal_lock);

	strbuf_addf(&tmp, "%s.XXXXXX", journal_path);
	/* a new file of our own (O_EXCL, 0600): nothing planted there is written through */
	fd = mkostemp(tmp.data, O_APPEND | O_CLOEXEC);
	for (size_t i = 0; fd >= 0 && i < nsnap; i++) {
		if (copy_range(src->fd, snap[i].off, snap[i].len, fd) != 0)
			goto out;
		snap_bytes += (off_t)snap[i].len;
	}
	size = snap_bytes;
	while (fd >= 0 && !swapped) {
		off_t end;
		bool closed;

		if (fdatasync(fd) != 0)
			goto out;
		pthread_mutex_lock(&journal_lock);
		swapped = swap_in(src, fd, tmp.data, snap, nsnap, snap_end, snap_bytes, copied,
		    size);
		end = file_size;
		closed = current != src && !swapped;
		pthread_mutex_unlock(&journal_lock);
		if (swapped)
			break;
		if (closed || end == copied)
			goto out;	/* the journal closed, or the rename failed */
		if (copy_range(src->fd, copied, (size_t)(end - copied), fd) != 0)
			goto out;
		size += end - copied;
		copied = end;
	}
	if (swapped) {
		sync_directory(journal_path);
		rc = 0;
	}
out:
	if (rc != 0) {
		log_error("outbox journal %s: cannot rewrite it: %s", journal_path,
		    strerror(errno));
		if (fd >= 0) {
			unlink(tmp.data);
			close(fd);
		}
	}
	pthread_mutex_lock(&journal_lock);
	compacting = false;
	jfile_release(src);
	pthread_mutex_unlock(&journal_lock);
	free(snap);
	strbuf_free(&tmp);
	return rc;
}

/* Replay one line (without its newline) at off; len counts the newline. */
static void
replay_line(const char *line, size_t len, off_t off, size_t lineno,
    struct slack_post ***posts, size_t *n)
{
	struct slack_post *post;
	char why[256];
	long i;

	if (len > 2 && strncmp(line, "P ", 2) == 0) {
		if (outbox_record_read(line + 2, len - 3, &post, why, sizeof(why)) != 0) {
			log_warning("outbox journal %s: line %zu skipped: %s", journal_path,
			    lineno, why);
			return;
		}
		if (live_find(post->id) >= 0) {
			log_warning("outbox journal %s: line %zu skipped: post %s again",
			    journal_path, lineno, post->id);
			slack_post_free(post);
			return;
		}
		live_add(post->id, off, len);
		*posts = xrealloc(*posts, (*n + 1) * sizeof(**posts));
		(*posts)[(*n)++] = post;
		return;
	}
	if (len == 3 + OUTBOX_ID_LEN && strncmp(line, "D ", 2) == 0) {
		char id[OUTBOX_ID_LEN + 1];

		memcpy(id, line + 2, OUTBOX_ID_LEN);
		id[OUTBOX_ID_LEN] = '\0';
		/* done before: forget it (an unknown id was compacted away) */
		if (outbox_record_is_id(id) && (i = live_find(id)) >= 0) {
			live_remove((size_t)i);
			slack_post_free((*posts)[i]);
			memmove(&(*posts)[i], &(*posts)[i + 1], (*n - (size_t)i - 1) *
			    sizeof(**posts));
			(*n)--;
			return;
		}
		if (outbox_record_is_id(id))
			return;
	}
	log_warning("outbox journal %s: line %zu skipped: neither a post nor a done mark",
	    journal_path, lineno);
}

/* The posts text (the journal's contents) holds, put and not done. */
static void
replay(const struct strbuf *text, struct slack_post ***posts, size_t *n)
{
	const char *p = strbuf_str(text), *end = p + text->len;
	size_t lineno = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		lineno++;
		if (nl == NULL) {
			/* a crash mid-write: that post was never confirmed to Postfix */
			log_warning("outbox journal %s: incomplete last line %zu (%zu bytes) "
			    "skipped", journal_path, lineno, (size_t)(end - p));
			break;
		}
		replay_line(p, (size_t)(nl - p) + 1, (off_t)(p - strbuf_str(text)), lineno,
		    posts, n);
		p = nl + 1;
	}
}

/* Set a journal too large to read aside, where an admin can look at it. */
static void
set_aside(const char *path)
{
	struct strbuf aside = STRBUF_INIT;

	strbuf_addf(&aside, "%s.corrupt", path);
	if (rename(path, aside.data) != 0)
		log_error("outbox journal %s: cannot rename it to %s: %s", path, aside.data,
		    strerror(errno));
	else
		log_error("outbox journal %s: larger than %ld bytes, renamed to %s; "
		    "starting with an empty journal", path, OUTBOX_JOURNAL_MAX, aside.data);
	strbuf_free(&aside);
}

/*
 * Open path for appending, creating it; one larger than we replay is set
 * aside first.  The descriptor, or -1 (logged).
 */
static int
open_journal_file(const char *path)
{
	int flags = O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC;
	int fd = open(path, flags, 0600);
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size > OUTBOX_JOURNAL_MAX) {
		close(fd);
		set_aside(path);
		fd = open(path, flags, 0600);
	}
	if (fd < 0) {
		log_error("outbox journal %s: cannot open it: %s; chat posts are kept in "
		    "memory only", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_error("outbox journal %s: not a regular file; chat posts are kept in "
		    "memory only", path);
		close(fd);
		return -1;
	}
	return fd;
}

int
outbox_journal_open(const char *path, struct slack_post ***posts, size_t *n)
{
	struct strbuf text = STRBUF_INIT;
	int fd;

	*posts = NULL;
	*n = 0;
	if ((fd = open_journal_file(path)) < 0)
		return -1;
	if (file_read(path, (size_t)OUTBOX_JOURNAL_MAX, &text) != 0) {
		log_error("outbox journal %s: cannot read it: %s; chat posts are kept in "
		    "memory only", path, file_error(errno));
		close(fd);
		strbuf_free(&text);
		return -1;
	}
	journal_path = xstrdup(path);
	current = jfile_new(fd);
	file_size = (off_t)text.len;
	replay(&text, posts, n);
	strbuf_free(&text);
	/* start small, and without the torn or bad lines the next append would follow */
	if ((size_t)file_size != live_bytes && compact() != 0) {
		/* sent now, they would be sent again from the file at the next start */
		log_error("outbox journal %s: not used; its %zu posts wait in it for a "
		    "start that can rewrite it", path, *n);
		for (size_t i = 0; i < *n; i++)
			slack_post_free((*posts)[i]);
		free(*posts);
		*posts = NULL;
		*n = 0;
		outbox_journal_close();
		return -1;
	}
	log_info("outbox journal %s: posts=%zu to send", path, *n);
	return 0;
}

bool
outbox_journal_is_open(void)
{
	bool open;

	pthread_mutex_lock(&journal_lock);
	open = current != NULL;
	pthread_mutex_unlock(&journal_lock);
	return open;
}

int
outbox_journal_put(const struct slack_post *post)
{
	struct strbuf line = STRBUF_INIT;
	char *record;
	struct jfile *f;
	off_t at;
	int rc = 0, err = 0;

	if (post->id == NULL || !outbox_journal_is_open())
		return -1;
	record = outbox_record_write(post);
	if (strlen(record) > (size_t)OUTBOX_RECORD_MAX) {
		log_error("%s: %s=%s status=not-journaled reason=too-large bytes=%zu",
		    post->queue_id, SLACK_POST_KIND(post), post->channel, strlen(record));
		free(record);
		return -1;
	}
	strbuf_addf(&line, "P %s\n", record);
	free(record);
	pthread_mutex_lock(&journal_lock);
	if (current == NULL || append_line(line.data, line.len, &at) != 0) {
		err = current == NULL ? EBADF : errno;
		pthread_mutex_unlock(&journal_lock);
		strbuf_free(&line);
		note_result(false, "append a post", err);
		return -1;
	}
	live_add(post->id, at, line.len);
	f = current;
	f->refs++;
	pthread_mutex_unlock(&journal_lock);
	strbuf_free(&line);
	/* the slow part, unlocked: other messages append meanwhile */
	if (fdatasync(f->fd) != 0) {
		err = errno;
		rc = -1;
	}
	pthread_mutex_lock(&journal_lock);
	jfile_release(f);
	pthread_mutex_unlock(&journal_lock);
	note_result(rc == 0, "flush a post to disk", err);
	return rc;
}

void
outbox_journal_done(const char *id)
{
	char line[OUTBOX_ID_LEN + 4];
	bool rewrite = false, ok = true;
	int err = 0;
	off_t at;
	long i;

	pthread_mutex_lock(&journal_lock);
	if (current == NULL || id == NULL || (i = live_find(id)) < 0) {
		pthread_mutex_unlock(&journal_lock);
		return;
	}
	live_remove((size_t)i);
	if (live_len == 0 && !compacting) {
		/* nothing left to send: start again from empty, unflushed (see .h) */
		if (ftruncate(current->fd, 0) == 0)
			file_size = 0;
		else
			ok = false, err = errno;
	} else {
		snprintf(line, sizeof(line), "D %s\n", id);
		if (append_line(line, strlen(line), &at) != 0)
			ok = false, err = errno;
		rewrite = !compacting && file_size > OUTBOX_JOURNAL_COMPACT_MIN &&
		    file_size > 4 * (off_t)live_bytes;
	}
	pthread_mutex_unlock(&journal_lock);
	if (!ok)
		note_result(false, "mark a post done", err);
	if (rewrite)
		compact();
}

void
outbox_journal_close(void)
{
	pthread_mutex_lock(&journal_lock);
	jfile_release(current);
	current = NULL;
	free(live);
	live = NULL;
	live_len = live_cap = live_bytes = 0;
	file_size = 0;
	failing = false;
	free(journal_path);
	journal_path = NULL;
	pthread_mutex_unlock(&journal_lock);
}
