/*
 * bench_journal.c - what the outbox journal costs a chat post (issue 16).
 *
 *   bench_journal [-q] [-n POSTS] [-r ROUNDS] [-t THREADS] [DIR]
 *
 * What the milter's end-of-message step does per post, journal off and
 * on, in interleaved rounds:
 *   off  build the post (its fields copied, post_id_new), free it: what
 *        slack_enqueue adds without a journal (the queue itself is the
 *        same either way and left out);
 *   on   the same plus outbox_journal_put (one write, one fdatasync) and
 *        outbox_journal_done (one unflushed write), as the worker does it.
 * THREADS threads put at once (the milter runs one per connection), each
 * POSTS posts per round.  Prints the median microseconds per post of each
 * and their ratio, and the file system the journal is on (DIR, default
 * build/bench: a tmpfs would measure nothing).  Never asserts timings.
 *
 *   bench_journal -C [DIR]
 *
 * checks instead what no system test reaches: compaction while threads
 * put.  Four threads put 2 KiB posts and mark all but every 7th done, so
 * the file passes 1 MiB and is rewritten under them; then the journal is
 * closed and opened again, and must hold exactly the posts left live, in
 * order.  Exit 1 if not.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "outbox_journal.h"
#include "post_id.h"
#include "strbuf.h"
#include "xalloc.h"

#define TEXT "Stage [api-service/1234/build/1] failed\n\nSee details: " \
	"https://gocd.example.com/go/pipelines/api-service/1234/build/1\n"

struct run {
	bool journal;
	int posts;
};

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static struct slack_post *
build(void)
{
	struct slack_post *post = xcalloc(1, sizeof(*post));

	post->id = post_id_new();
	post->channel = xstrdup("#builds");
	post->subject = xstrdup("Stage [api-service/1234/build/1] failed");
	post->from = xstrdup("GoCD Server <go@gocd.example.com>");
	post->text = xstrdup(TEXT);
	post->event = EVENT_BREAKS;
	post->queue_id = xstrdup("4Bc1X2Y3Z");
	return post;
}

#define CHECK_THREADS 4
#define CHECK_POSTS 2000

static char *check_ids[CHECK_THREADS][CHECK_POSTS];

static void *
check_worker(void *arg)
{
	char **ids = arg;
	struct strbuf text = STRBUF_INIT;

	while (text.len < 2048)
		strbuf_adds(&text, TEXT);
	for (int i = 0; i < CHECK_POSTS; i++) {
		struct slack_post *post = build();

		free(post->text);
		post->text = xstrdup(text.data);
		outbox_journal_put(post);
		ids[i] = xstrdup(post->id);
		if (i % 7 != 0)
			outbox_journal_done(post->id);
		slack_post_free(post);
	}
	strbuf_free(&text);
	return NULL;
}

/* -C: compaction under concurrent puts keeps exactly the live posts. */
static int
check_compaction(const char *path)
{
	pthread_t tid[CHECK_THREADS];
	struct slack_post **posts;
	size_t n, want = 0, found = 0;
	int bad = 0;

	for (int t = 0; t < CHECK_THREADS; t++)
		pthread_create(&tid[t], NULL, check_worker, check_ids[t]);
	for (int t = 0; t < CHECK_THREADS; t++)
		pthread_join(tid[t], NULL);
	outbox_journal_close();
	if (outbox_journal_open(path, &posts, &n) != 0)
		return 1;
	for (int t = 0; t < CHECK_THREADS; t++) {
		size_t at = 0;

		for (int i = 0; i < CHECK_POSTS; i += 7) {
			want++;
			/* each thread's posts in its order: find them in the replay */
			while (at < n && strcmp(posts[at]->id, check_ids[t][i]) != 0)
				at++;
			if (at == n) {
				bad++;
				at = 0;
			} else {
				found++;
			}
		}
		for (int i = 0; i < CHECK_POSTS; i++)
			free(check_ids[t][i]);
	}
	printf("compaction check: %zu posts live, %zu replayed, %zu found in order, "
	    "%d missing: %s\n", want, n, found, bad, bad == 0 && n == want ? "ok" : "FAILED");
	for (size_t i = 0; i < n; i++)
		slack_post_free(posts[i]);
	free(posts);
	return bad == 0 && n == want ? 0 : 1;
}

static void *
worker(void *arg)
{
	const struct run *run = arg;

	for (int i = 0; i < run->posts; i++) {
		struct slack_post *post = build();

		if (run->journal) {
			outbox_journal_put(post);
			outbox_journal_done(post->id);
		}
		slack_post_free(post);
	}
	return NULL;
}

/* Microseconds per post of one round, THREADS threads at once. */
static double
round_us(bool journal, int posts, int threads)
{
	pthread_t tid[64];
	struct run run = { journal, posts };
	double t0 = now_us();

	for (int i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, worker, &run);
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	return (now_us() - t0) / (posts * threads);
}

static int
compare(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), compare);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	int posts = 500, rounds = 7, threads = 1, c, rc = 0;
	bool check = false;
	const char *dir = "build/bench";
	double off[64], on[64];
	struct strbuf path = STRBUF_INIT;
	struct slack_post **left;
	struct statfs fs;
	size_t nleft;

	while ((c = getopt(argc, argv, "Cqn:r:t:")) != -1) {
		if (c == 'C') {
			check = true;
		} else if (c == 'q') {
			posts = 100;
			rounds = 3;
		} else if (c == 'n') {
			posts = atoi(optarg);
		} else if (c == 'r') {
			rounds = atoi(optarg);
		} else if (c == 't') {
			threads = atoi(optarg);
		} else {
			fprintf(stderr, "usage: bench_journal [-q] [-n POSTS] [-r ROUNDS] "
			    "[-t THREADS] [DIR]\n       bench_journal -C [DIR]\n");
			return 2;
		}
	}
	if (optind < argc)
		dir = argv[optind];
	if (posts < 1 || rounds < 1 || rounds > 64 || threads < 1 || threads > 64) {
		fprintf(stderr, "bench_journal: 1 <= rounds, threads <= 64; posts >= 1\n");
		return 2;
	}
	log_open_stderr(false);
	strbuf_addf(&path, "%s/bench-journal.%ld", dir, (long)getpid());
	if (outbox_journal_open(path.data, &left, &nleft) != 0)
		return 1;
	free(left);
	if (check) {
		rc = check_compaction(path.data);
		outbox_journal_close();
		unlink(path.data);
		strbuf_free(&path);
		return rc;
	}
	for (int r = 0; r < rounds; r++) {
		off[r] = round_us(false, posts, threads);
		on[r] = round_us(true, posts, threads);
	}
	statfs(dir, &fs);
	printf("outbox journal, %d rounds x %d posts x %d threads, %s (f_type 0x%lx):\n",
	    rounds, posts, threads, dir, (unsigned long)fs.f_type);
	{
		double m_off = median(off, rounds), m_on = median(on, rounds);

		printf("  journal off: %8.2f us per post (median)\n", m_off);
		printf("  journal on:  %8.2f us per post (median; put+fdatasync+done)\n", m_on);
		printf("  ratio on/off: %.1f; added per post: %.0f us\n", m_on / m_off,
		    m_on - m_off);
	}
	outbox_journal_close();
	unlink(path.data);
	strbuf_free(&path);
	return rc;
}
