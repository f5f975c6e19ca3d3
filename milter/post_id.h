/*
 * post_id.h - the random id a chat post gets when it is built, by which
 * the outbox marks it done (outbox_record.h).
 */
#ifndef MAIL2ALERT_POST_ID_H
#define MAIL2ALERT_POST_ID_H

/* OUTBOX_ID_LEN lowercase hex digits from getrandom(2); malloc'd. */
char *post_id_new(void);

#endif
