/*
 * eml.c - message files for the dry run (see eml.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "eml.h"
#include "mime_header.h"
#include "mime_text.h"
#include "xalloc.h"

void
eml_parse(struct eml *e, const char *text, size_t len, size_t body_max)
{
	static const struct {
		const char *name;
		size_t offset;
	} wanted[] = {
		{ "Subject", offsetof(struct eml, subject) },
		{ "From", offsetof(struct eml, from) },
		{ "To", offsetof(struct eml, to) },
		{ "Cc", offsetof(struct eml, cc) },
		{ "Return-Path", offsetof(struct eml, return_path) },
		{ "Content-Type", offsetof(struct eml, content_type) },
		{ "Content-Transfer-Encoding", offsetof(struct eml, encoding) },
	};
	const char *p = text, *end = text + len;
	struct mime_header field;

	memset(e, 0, sizeof(*e));
	while (mime_header_next(&p, end, &field)) {
		for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
			struct strbuf *sb = (struct strbuf *)((char *)e + wanted[i].offset);

			if (sb->data != NULL || !mime_header_is(&field, wanted[i].name))
				continue;
			strbuf_add(sb, "", 0);	/* present, even if empty */
			/* the daemon looks at no more than this either */
			mime_header_unfold(sb, field.value, field.value_len < MIME_HEADER_MAX ?
			    field.value_len : MIME_HEADER_MAX);
		}
	}
	e->body = p;
	e->body_len = (size_t)(end - p) < body_max ? (size_t)(end - p) : body_max;
}

void
eml_free(struct eml *e)
{
	struct strbuf *all[] = { &e->subject, &e->from, &e->to, &e->cc,
	    &e->return_path, &e->content_type, &e->encoding };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		strbuf_free(all[i]);
}

/* The address in one entry of an address list: inside <...>, or bare. */
static void
add_address(const char *entry, size_t len, char ***list, size_t *n, size_t *cap)
{
	const char *lt = memchr(entry, '<', len), *gt;
	const char *start = entry, *end = entry + len;

	if (lt != NULL && (gt = memchr(lt, '>', (size_t)(end - lt))) != NULL) {
		start = lt + 1;
		end = gt;
	}
	while (start < end && strchr(" \t\r\n", *start))
		start++;
	while (end > start && strchr(" \t\r\n", end[-1]))
		end--;
	if (start == end)
		return;
	*list = xgrow(*list, cap, *n + 1, sizeof(char *));
	(*list)[(*n)++] = xstrndup(start, (size_t)(end - start));
}

void
eml_addresses(const char *value, char ***list, size_t *n, size_t *cap)
{
	const char *entry = value;
	bool quoted = false, angled = false;

	for (const char *p = value;; p++) {
		if (*p == '\\' && quoted && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (*p == '<' && !quoted)
			angled = true;
		else if (*p == '>' && !quoted)
			angled = false;
		else if (*p == '\0' || (*p == ',' && !quoted && !angled)) {
			add_address(entry, (size_t)(p - entry), list, n, cap);
			if (*p == '\0')
				return;
			entry = p + 1;
		}
	}
}
