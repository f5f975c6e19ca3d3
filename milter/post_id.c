/*
 * post_id.c - random post ids (see post_id.h).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "outbox_record.h"
#include "post_id.h"
#include "xalloc.h"

/*
 * 128 random bits: ids of posts on every relay sharing a store never meet.
 * getrandom only fails before the kernel's pool is ready, long before a
 * mail arrives; should it, time, pid and a counter still keep this
 * process's ids apart.
 */
char *
post_id_new(void)
{
	static atomic_uint_fast64_t counter;
	unsigned char bytes[OUTBOX_ID_LEN / 2];
	char *id = xmalloc(OUTBOX_ID_LEN + 1);
	ssize_t n;

	while ((n = getrandom(bytes, sizeof(bytes), 0)) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof(bytes)) {
		struct timespec now;
		uint64_t a, b = atomic_fetch_add(&counter, 1) ^ ((uint64_t)getpid() << 40);

		clock_gettime(CLOCK_REALTIME, &now);
		a = (uint64_t)now.tv_sec << 30 ^ (uint64_t)now.tv_nsec;
		for (size_t i = 0; i < 8; i++) {
			bytes[i] = (unsigned char)(a >> (8 * i));
			bytes[8 + i] = (unsigned char)(b >> (8 * i));
		}
	}
	for (size_t i = 0; i < sizeof(bytes); i++) {
		id[2 * i] = "0123456789abcdef"[bytes[i] >> 4];
		id[2 * i + 1] = "0123456789abcdef"[bytes[i] & 15];
	}
	id[OUTBOX_ID_LEN] = '\0';
	return id;
}
