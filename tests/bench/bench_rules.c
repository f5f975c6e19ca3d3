/*
 * bench_rules.c - micro-benchmark of the pure rule library (rules/).
 *
 *   bench_rules [-q] [-r RULES] [-p PIPELINES] [-g GROUPS] [-P POLL_PIPELINES]
 *
 * Measures, with clock_gettime(CLOCK_MONOTONIC):
 *   - config_parse of a generated config with RULES rules (default 1000:
 *     a mix of pipelines.in_group, pipelines.name_like_in_group,
 *     mail.in_subject and pipelines.any, most with an events filter);
 *   - rule evaluation per message, as the milter's end-of-message step does
 *     it: route_read_subject (decode + parse + edge detection against a
 *     stage table) + route_input_init + route_message, against a group index
 *     of PIPELINES pipelines in GROUPS groups (default 10,000 in 100); the
 *     median ns/message of several batches, for the mix and for each filter
 *     function alone;
 *   - a poll: gocd_groups_parse of a generated admin API document of
 *     POLL_PIPELINES pipelines (default 50,000) and groups_publish of the
 *     result over a previous index of the same size (the swap frees it);
 *     median of 5;
 *   - the memory held by a PIPELINES index (mallinfo2 and VmRSS deltas).
 *
 * Prints measured values next to the targets of the performance issue.
 * Timings are never asserted: exit status 0 unless set-up fails.
 * -q: fewer and smaller batches (CI smoke).
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "gocd_groups.h"
#include "group_index.h"
#include "route.h"
#include "snapshots.h"
#include "stage_table.h"
#include "strbuf.h"
#include "xalloc.h"

#define TARGET_ROUTE_NS 10000.0		/* <= 10 us per message */
#define TARGET_POLL_MS 150.0		/* parse + swap of 50,000 pipelines */
#define TARGET_RSS_KB 4096.0		/* whole daemon idle, 10,000 pipelines */

static const char *const event_texts[] = {
	"passed", "failed", "is broken", "is fixed", "is cancelled",
};
static const char *const event_sets[] = {
	"[\"BREAKS\", \"FIXED\"]",
	"[\"FAILS\", \"BREAKS\"]",
	"[\"BREAKS\"]",
	"[\"CANCELLED\"]",
	"[\"FIXED\", \"PASSES\"]",
	"[\"BREAKS\", \"FIXED\", \"CANCELLED\"]",
};
#define NEVENT_SETS (sizeof(event_sets) / sizeof(event_sets[0]))

/* ------------------------------------------------------------ helpers */

static double
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double
now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time of this thread: what the code costs, whatever else the machine runs. */
static double
cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* VmRSS of this process in kB. */
static long
vm_rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	}
	fclose(f);
	return kb;
}

/* Bytes the allocator has handed out (small chunks + mmapped ones). */
static size_t
heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

/* Deterministic pseudo-random numbers (xorshift), same run to run. */
static unsigned long rng_state = 88172645463325252UL;

static unsigned long
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void
pipeline_name(char *buf, size_t len, size_t group, size_t p)
{
	snprintf(buf, len, "g%03zu-service-%04zu", group, p);
}

static void
group_name(char *buf, size_t len, size_t group)
{
	snprintf(buf, len, "team-%03zu", group);
}

static struct group_index *
build_index(size_t npipelines, size_t ngroups)
{
	struct group_index *index = group_index_new();
	size_t per = (npipelines + ngroups - 1) / ngroups;

	for (size_t i = 0; i < npipelines; i++) {
		char g[64], p[64];

		group_name(g, sizeof(g), i / per);
		pipeline_name(p, sizeof(p), i / per, i % per);
		group_index_add(index, g, p);
	}
	return index;
}

/* ------------------------------------------------------------ config */

enum mix {
	MIX_ALL,		/* the realistic mix */
	MIX_IN_GROUP,
	MIX_NAME_LIKE,
	MIX_IN_SUBJECT,
	MIX_ANY,
};
static const char *const mix_names[] = {
	"mix", "in_group only", "name_like_in_group only", "in_subject only", "any only",
};

/*
 * A config with nrules rules.  The mix: 40% in_group, 20%
 * name_like_in_group, 20% in_subject, 20% any; three rules in four have an
 * events filter.  Actions: one mailto per rule out of 50 team addresses,
 * every tenth rule a second one.
 */
static char *
config_text(size_t nrules, size_t ngroups, size_t per_group, enum mix mix)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_adds(&sb, "socket = \"inet:8895@127.0.0.1\";\nallow-root = true;\n"
	    "managers = (\n  {\n    name = \"gocd\";\n"
	    "    url = \"http://127.0.0.1:8153/go\";\n    api = \"admin\";\n"
	    "    messages-we-want = { to = \"mail2alert@example.com\"; };\n"
	    "    rules = (\n");
	for (size_t i = 0; i < nrules; i++) {
		size_t g = (i * 7) % ngroups, kind = i % 10;
		char group[64];
		enum mix f;

		group_name(group, sizeof(group), g);
		if (mix != MIX_ALL)
			f = mix;
		else
			f = kind < 4 ? MIX_IN_GROUP : kind < 6 ? MIX_NAME_LIKE :
			    kind < 8 ? MIX_IN_SUBJECT : MIX_ANY;
		strbuf_addf(&sb, "      { name = \"rule %zu\"; filter = { ", i);
		if (i % 4 != 3)
			strbuf_addf(&sb, "events = %s; ", event_sets[i % NEVENT_SETS]);
		switch (f) {
		case MIX_IN_GROUP:
			strbuf_addf(&sb, "function = \"pipelines.in_group\"; args = [\"%s\"]; ",
			    group);
			break;
		case MIX_NAME_LIKE:
			/* release pipelines of a group: "(g012-service-00[0-4][0-9])-release" style */
			strbuf_addf(&sb, "function = \"pipelines.name_like_in_group\"; "
			    "args = [\"^(g%03zu-service-00%zu[0-9])(-release)?$\", \"%s\"]; ",
			    g, (i / 10) % 10, group);
			break;
		case MIX_IN_SUBJECT:
			strbuf_addf(&sb, "function = \"mail.in_subject\"; "
			    "args = [\"service-%04zu\", \"%s\"]; ", i % per_group,
			    event_texts[i % 5]);
			break;
		default:
			strbuf_adds(&sb, "function = \"pipelines.any\"; ");
			break;
		}
		strbuf_addf(&sb, "}; actions = [\"mailto:team-%02zu@example.com\"",
		    i % 50);
		if (i % 10 == 9)
			strbuf_addf(&sb, ", \"mailto:lead-%02zu@example.com\"", i % 20);
		strbuf_addf(&sb, "]; }%s\n", i + 1 < nrules ? "," : "");
	}
	strbuf_adds(&sb, "    );\n  }\n);\n");
	return strbuf_detach(&sb);
}

static struct config *
parse_config(const char *text)
{
	char err[1024];
	struct config *c = config_parse(text, "bench.conf", NULL, NULL, err, sizeof(err));

	if (c == NULL) {
		fprintf(stderr, "bench_rules: generated config does not parse: %s\n", err);
		exit(1);
	}
	return c;
}

/* ------------------------------------------------------------ subjects */

struct subject {
	char *raw;
	size_t len;
};

/*
 * Subjects as they come in Subject: headers: 90% name a pipeline in the
 * index, 10% one GoCD does not know; one in ten is RFC 2047 Q-encoded and
 * folded the way Jakarta Mail does it.
 */
static struct subject *
make_subjects(size_t n, size_t ngroups, size_t per_group)
{
	struct subject *s = xcalloc(n, sizeof(*s));

	for (size_t i = 0; i < n; i++) {
		char pipe[64], text[256];
		unsigned long r = rng();
		const char *ev = event_texts[r % 5];

		if ((r >> 8) % 10 == 0)
			snprintf(pipe, sizeof(pipe), "unknown-%04lu", (r >> 16) % 10000);
		else
			pipeline_name(pipe, sizeof(pipe), (r >> 16) % ngroups,
			    (r >> 32) % per_group);
		if ((r >> 40) % 10 == 0) {
			/* two encoded-words, folded between them */
			char ev_q[32];

			snprintf(ev_q, sizeof(ev_q), "%s", ev);
			for (char *c = ev_q; *c; c++) {
				if (*c == ' ')
					*c = '_';
			}
			snprintf(text, sizeof(text), "=?UTF-8?Q?Stage_[%s/%lu/build/1]?=\r\n"
			    " =?UTF-8?Q?_%s?=", pipe, 100 + i % 900, ev_q);
		} else {
			snprintf(text, sizeof(text), "Stage [%s/%lu/build/1] %s", pipe,
			    100 + i % 900, ev);
		}
		s[i].raw = xstrdup(text);
		s[i].len = strlen(text);
	}
	return s;
}

struct route_bench {
	double ns_per_msg;	/* median over batches, wall clock */
	double cpu_ns_per_msg;	/* median over batches, thread CPU time */
	double ns_min, ns_max;
	double actions_per_msg;
	double read_ns_per_msg;	/* route_read_subject alone */
};

static struct route_bench
bench_route(const struct manager *m, const struct group_index *index,
    struct stage_table *stages, const struct subject *subjects, size_t nsubjects,
    size_t batch, size_t nbatches)
{
	struct route_result result = ROUTE_RESULT_INIT;
	double *t = xcalloc(nbatches, sizeof(double));
	double *tr = xcalloc(nbatches, sizeof(double));
	double *tc = xcalloc(nbatches, sizeof(double));
	size_t next = 0, actions = 0, total = 0;
	struct route_bench out;

	/* warm-up: caches, lazy allocations */
	for (size_t i = 0; i < batch && i < nsubjects; i++) {
		struct route_subject s;
		struct route_input in;

		route_read_subject(&s, subjects[i].raw, subjects[i].len, stages);
		route_input_init(&in, m, index, &s);
		route_message(&in, &result);
		route_subject_free(&s);
	}
	for (size_t b = 0; b < nbatches; b++) {
		double t0 = now_ns(), c0 = cpu_ns();

		for (size_t i = 0; i < batch; i++) {
			const struct subject *sj = &subjects[next];
			struct route_subject s;
			struct route_input in;

			next = (next + 1) % nsubjects;
			route_read_subject(&s, sj->raw, sj->len, stages);
			route_input_init(&in, m, index, &s);
			route_message(&in, &result);
			actions += result.nactions;
			total++;
			route_subject_free(&s);
		}
		t[b] = (now_ns() - t0) / (double)batch;
		tc[b] = (cpu_ns() - c0) / (double)batch;
	}
	/* the subject step alone, for the breakdown */
	for (size_t b = 0; b < nbatches; b++) {
		double t0 = cpu_ns();

		for (size_t i = 0; i < batch; i++) {
			const struct subject *sj = &subjects[next];
			struct route_subject s;

			next = (next + 1) % nsubjects;
			route_read_subject(&s, sj->raw, sj->len, stages);
			route_subject_free(&s);
		}
		tr[b] = (cpu_ns() - t0) / (double)batch;
	}
	route_result_free(&result);
	out.ns_per_msg = median(t, nbatches);
	out.cpu_ns_per_msg = median(tc, nbatches);
	out.ns_min = t[0];
	out.ns_max = t[nbatches - 1];
	out.read_ns_per_msg = median(tr, nbatches);
	out.actions_per_msg = total ? (double)actions / (double)total : 0;
	free(t);
	free(tr);
	free(tc);
	return out;
}

/* ------------------------------------------------------------ poll */

/* An admin API v1 document shaped like GoCD's (and the lab's stand-in). */
static char *
admin_document(size_t npipelines, size_t per_group, size_t *len)
{
	const char *base = "http://gocd.example.com:8153/go";
	struct strbuf sb = STRBUF_INIT;
	size_t ngroups = (npipelines + per_group - 1) / per_group;

	strbuf_addf(&sb, "{\n  \"_links\": {\n    \"self\": {\"href\": \"%s/api/admin/pipeline_groups\"},\n"
	    "    \"doc\": {\"href\": \"https://api.gocd.org/current/#pipeline-group-config\"},\n"
	    "    \"find\": {\"href\": \"%s/api/admin/pipeline_groups/:group_name\"}\n  },\n"
	    "  \"_embedded\": {\n    \"groups\": [\n", base, base);
	for (size_t g = 0; g < ngroups; g++) {
		char gname[64];

		snprintf(gname, sizeof(gname), "poll-group-%04zu", g);
		strbuf_addf(&sb, "      {\n        \"_links\": {\n"
		    "          \"self\": {\"href\": \"%s/api/admin/pipeline_groups/%s\"},\n"
		    "          \"doc\": {\"href\": \"https://api.gocd.org/current/#pipeline-group-config\"},\n"
		    "          \"find\": {\"href\": \"%s/api/admin/pipeline_groups/:group_name\"}\n"
		    "        },\n        \"name\": \"%s\",\n"
		    "        \"authorization\": {\"view\": {\"users\": [\"operate\"], \"roles\": []}, "
		    "\"admins\": {\"users\": [\"admin\"], \"roles\": []}},\n"
		    "        \"pipelines\": [\n", base, gname, base, gname);
		for (size_t p = 0; p < per_group && g * per_group + p < npipelines; p++) {
			char pname[64];

			snprintf(pname, sizeof(pname), "poll-g%04zu-pipeline-%04zu", g, p);
			strbuf_addf(&sb, "          {\n            \"_links\": {\n"
			    "              \"self\": {\"href\": \"%s/api/admin/pipelines/%s\"},\n"
			    "              \"doc\": {\"href\": \"https://api.gocd.org/current/#pipeline-config\"},\n"
			    "              \"find\": {\"href\": \"%s/api/admin/pipelines/:pipeline_name\"}\n"
			    "            },\n            \"name\": \"%s\"\n          }%s\n",
			    base, pname, base, pname,
			    p + 1 < per_group && g * per_group + p + 1 < npipelines ? "," : "");
		}
		strbuf_addf(&sb, "        ]\n      }%s\n", g + 1 < ngroups ? "," : "");
	}
	strbuf_adds(&sb, "    ]\n  }\n}\n");
	*len = sb.len;
	return strbuf_detach(&sb);
}

struct poll_bench {
	double parse_ms, swap_ms, total_ms;	/* medians, wall clock */
	double cpu_ms;				/* median, thread CPU time */
	double total_min, total_max;
	size_t pipelines;
};

static struct poll_bench
bench_poll(const char *doc, size_t len, size_t runs)
{
	double *parse = xcalloc(runs, sizeof(double));
	double *swap = xcalloc(runs, sizeof(double));
	double *total = xcalloc(runs, sizeof(double));
	double *cpu = xcalloc(runs, sizeof(double));
	struct poll_bench out = { 0 };
	char err[256];
	struct group_index *first;

	/* what is in force before the poll: an index of the same size */
	first = gocd_groups_parse(GOCD_API_ADMIN, doc, len, err, sizeof(err));
	if (first == NULL) {
		fprintf(stderr, "bench_rules: admin document does not parse: %s\n", err);
		exit(1);
	}
	out.pipelines = group_index_pipeline_count(first);
	groups_publish("gocd", first);
	for (size_t r = 0; r < runs; r++) {
		double c0 = cpu_ns(), t0 = now_ns(), t1;
		struct group_index *index = gocd_groups_parse(GOCD_API_ADMIN, doc, len,
		    err, sizeof(err));

		t1 = now_ns();
		if (index == NULL) {
			fprintf(stderr, "bench_rules: admin document does not parse: %s\n", err);
			exit(1);
		}
		/* no message holds the old snapshot: publishing frees it */
		groups_publish("gocd", index);
		parse[r] = (t1 - t0) / 1e6;
		swap[r] = (now_ns() - t1) / 1e6;
		total[r] = parse[r] + swap[r];
		cpu[r] = (cpu_ns() - c0) / 1e6;
	}
	out.parse_ms = median(parse, runs);
	out.swap_ms = median(swap, runs);
	out.total_ms = median(total, runs);
	out.cpu_ms = median(cpu, runs);
	out.total_min = total[0];
	out.total_max = total[runs - 1];
	free(parse);
	free(swap);
	free(total);
	free(cpu);
	return out;
}

/* ------------------------------------------------------------ main */

static const char *
verdict(double value, double target)
{
	return value <= target ? "met" : "NOT met";
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_rules [-q] [-r RULES] [-p PIPELINES] [-g GROUPS] "
	    "[-P POLL_PIPELINES]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	size_t nrules = 1000, npipelines = 10000, ngroups = 100, poll_pipelines = 50000;
	size_t batch = 5000, nbatches = 7, poll_runs = 5, nsubjects = 8192;
	bool quick = false;
	int opt;

	while ((opt = getopt(argc, argv, "qr:p:g:P:")) != -1) {
		switch (opt) {
		case 'q':
			quick = true;
			break;
		case 'r':
			nrules = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			npipelines = strtoul(optarg, NULL, 10);
			break;
		case 'g':
			ngroups = strtoul(optarg, NULL, 10);
			break;
		case 'P':
			poll_pipelines = strtoul(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (nrules == 0 || npipelines == 0 || ngroups == 0 || ngroups > npipelines ||
	    poll_pipelines == 0)
		usage();
	if (quick) {
		batch = 1000;
		nbatches = 3;
		poll_runs = 3;
	}
	size_t per_group = (npipelines + ngroups - 1) / ngroups;

	printf("bench_rules: %zu rules, %zu pipelines in %zu groups, poll document of "
	    "%zu pipelines%s\n", nrules, npipelines, ngroups, poll_pipelines,
	    quick ? " (quick)" : "");

	/* 1. memory held by the index, measured first, on a quiet heap */
	long rss0 = vm_rss_kb();
	size_t heap0 = heap_in_use();
	struct group_index *index = build_index(npipelines, ngroups);
	size_t heap1 = heap_in_use();
	long rss1 = vm_rss_kb();

	/* 2. config parse */
	char *text = config_text(nrules, ngroups, per_group, MIX_ALL);
	double t0 = now_ns();
	struct config *config = parse_config(text);
	double config_ms = (now_ns() - t0) / 1e6;

	/* 3. rule evaluation */
	struct stage_table stages = STAGE_TABLE_INIT;
	struct subject *subjects = make_subjects(nsubjects, ngroups, per_group);

	/* states known for half the pipelines, as after a day of mail */
	for (size_t i = 0; i < npipelines; i += 2) {
		char p[64];

		pipeline_name(p, sizeof(p), i / per_group, i % per_group);
		stage_table_set(&stages, p, "build", i % 4 ? STAGE_SUCCESS : STAGE_FAILURE);
	}
	struct route_bench mixed = bench_route(&config->managers[0], index, &stages,
	    subjects, nsubjects, batch, nbatches);
	struct route_bench single[5];

	for (int m = MIX_IN_GROUP; m <= MIX_ANY; m++) {
		char *t = config_text(nrules, ngroups, per_group, (enum mix)m);
		struct config *c = parse_config(t);

		single[m] = bench_route(&c->managers[0], index, &stages, subjects, nsubjects,
		    batch / 5, nbatches);
		config_free(c);
		free(t);
	}

	/* 4. poll: parse + swap */
	size_t doc_len;
	char *doc = admin_document(poll_pipelines, 100, &doc_len);
	struct poll_bench poll = bench_poll(doc, doc_len, poll_runs);

	free(doc);

	printf("\nTimes are medians of batches; \"cpu\" is this thread's CPU time "
	    "(CLOCK_THREAD_CPUTIME_ID),\n\"wall\" the elapsed time.  Targets are judged on "
	    "cpu: other load on the machine\ndoes not count against the code.\n");
	printf("\n%-50s %12s %12s %10s  %s\n", "measure", "cpu", "wall", "target", "");
	printf("%-50s %12s %12s %10s  %s\n", "-------", "---", "----", "------", "");
	printf("%-50s %9.2f us %9.2f us %7.2f us  %s\n",
	    "rule evaluation per message, mix", mixed.cpu_ns_per_msg / 1e3,
	    mixed.ns_per_msg / 1e3, TARGET_ROUTE_NS / 1e3,
	    verdict(mixed.cpu_ns_per_msg, TARGET_ROUTE_NS));
	printf("%-50s %12s %6.2f-%.2f us\n", "  wall min-max of batches", "",
	    mixed.ns_min / 1e3, mixed.ns_max / 1e3);
	printf("%-50s %9.2f us\n", "  of which route_read_subject", mixed.read_ns_per_msg / 1e3);
	printf("%-50s %12.2f\n", "  actions per message (union)", mixed.actions_per_msg);
	for (int m = MIX_IN_GROUP; m <= MIX_ANY; m++) {
		char label[96];

		snprintf(label, sizeof(label), "  %zu rules, %s", nrules, mix_names[m]);
		printf("%-50s %9.2f us %9.2f us   (%.1f actions/message)\n", label,
		    single[m].cpu_ns_per_msg / 1e3, single[m].ns_per_msg / 1e3,
		    single[m].actions_per_msg);
	}
	printf("%-50s %9.2f ms %9.2f ms %7.2f ms  %s\n", "poll: parse + swap",
	    poll.cpu_ms, poll.total_ms, TARGET_POLL_MS, verdict(poll.cpu_ms, TARGET_POLL_MS));
	printf("%-50s %12s %9.2f ms\n", "  gocd_groups_parse", "", poll.parse_ms);
	printf("%-50s %12s %9.2f ms\n", "  groups_publish (frees the previous index)", "",
	    poll.swap_ms);
	printf("%-50s %12s %6.2f-%.2f ms\n", "  wall min-max of parse + swap", "",
	    poll.total_min, poll.total_max);
	printf("%-50s %9.2f MB  (%zu pipelines)\n", "  admin document size",
	    (double)doc_len / 1e6, poll.pipelines);
	printf("%-50s %9.0f kB\n", "index of pipelines: heap in use (mallinfo2)",
	    (double)(heap1 - heap0) / 1024.0);
	printf("%-50s %9ld kB %25.0f kB  (for the whole daemon: bench.py)\n",
	    "index of pipelines: VmRSS delta", rss1 - rss0, TARGET_RSS_KB);
	printf("%-50s %12s %9.2f ms\n", "config_parse of the rules (reload)", "", config_ms);

	for (size_t i = 0; i < nsubjects; i++)
		free(subjects[i].raw);
	free(subjects);
	stage_table_free(&stages);
	config_free(config);
	free(text);
	group_index_free(index);
	snapshots_shutdown();
	return 0;
}
