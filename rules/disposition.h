/*
 * disposition.h - what happens to a wanted message's envelope, decided
 * once (SPEC sections 1.5-1.7).
 *
 * route_message says which actions the rules want; this turns that into
 * what Postfix must do: which recipients go, which come, the new To:
 * list, the trace header and the reply.  The daemon applies the value
 * with smfi_* calls and the dry run (-n) prints it, so the two cannot
 * disagree.  Pure: no I/O, no libmilter.
 */
#ifndef MAIL2ALERT_DISPOSITION_H
#define MAIL2ALERT_DISPOSITION_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "route.h"
#include "strbuf.h"

enum disposition_outcome {
	OUTCOME_ROUTED,			/* triggers replaced by the mailto: targets */
	OUTCOME_DISCARDED,		/* no mailto: target and nobody else: dropped */
	OUTCOME_TRIGGER_REMOVED,	/* no mailto: target; bystanders still get it */
	OUTCOME_UNRESOLVED,		/* groups never loaded: delivered unchanged */
	OUTCOME_TEMPFAIL,		/* groups never loaded: 451, Postfix retries */
	OUTCOME_FALLBACK,		/* groups never loaded: to unresolved-mailto */
};

/* The SMTP reply of OUTCOME_TEMPFAIL. */
#define DISPOSITION_TEMPFAIL_CODE "451"
#define DISPOSITION_TEMPFAIL_XCODE "4.3.0"
#define DISPOSITION_TEMPFAIL_TEXT \
	"mail2alert: pipeline groups not loaded yet, try again later"

/*
 * Every string points into the inputs (recipients, actions, config) except
 * trace, which is owned; free with disposition_free.
 */
struct disposition {
	enum disposition_outcome outcome;
	const char **remove;	/* envelope recipients to delete, as Postfix passed them */
	size_t nremove;
	const char **add;	/* envelope recipients to add */
	size_t nadd;
	const char **to;	/* the new To: header's addresses; none: To: untouched */
	size_t nto;
	char *trace;		/* X-Mail2alert value, or NULL: no header */
	const struct action **posts;	/* chat posts to queue */
	size_t nposts;
	/*
	 * Why, when it is not just the rules: "groups-not-loaded" for the
	 * unresolved outcomes, "pipeline-not-in-any-group" when no mailto:
	 * target came out and a rule needed a group the loaded groups do not
	 * give the pipeline (hidden from the API user?); else NULL.
	 */
	const char *reason;
};

/*
 * Decide for a message the manager in->manager wants, sent to recipients
 * (as Postfix passed them), whose rules gave result.
 */
void disposition_decide(struct disposition *out, const struct config *config,
    const struct route_input *in, const struct route_result *result,
    const char *const *recipients, size_t nrecipients);
void disposition_free(struct disposition *d);

/* "routed", "discarded", "trigger-removed", "unresolved", "tempfail", "fallback" */
const char *disposition_outcome_name(enum disposition_outcome outcome);

/* Does the outcome come from groups never loaded (SPEC 1.7)? */
bool disposition_is_unresolved(enum disposition_outcome outcome);

/*
 * The log line's tail after the queue id, Postfix style:
 * "manager=gocd pipeline=p stage=s event=BREAKS to=<a> slack=#c status=routed".
 */
void disposition_describe(struct strbuf *out, const struct disposition *d,
    const struct route_input *in, const struct route_result *result);

#endif
