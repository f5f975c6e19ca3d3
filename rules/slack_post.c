/*
 * slack_post.c - chat posts (see slack_post.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slack_post.h"
#include "xalloc.h"

const char *
slack_color(enum gocd_event event)
{
	switch (event) {
	case EVENT_BREAKS:
	case EVENT_FAILS:
		return "#D50200";
	case EVENT_PASSES:
	case EVENT_FIXED:
		return "#2FA44F";
	case EVENT_CANCELLED:
		return "#DE9E31";
	default:
		return "#4ABCF9";
	}
}

void
slack_post_free(struct slack_post *post)
{
	if (post == NULL)
		return;
	free(post->id);
	free(post->channel);
	free(post->subject);
	free(post->from);
	free(post->text);
	free(post->queue_id);
	free(post);
}
