/*
 * files.c - bounded whole-file reads (see files.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "files.h"

int
file_read(const char *path, size_t max, struct strbuf *out)
{
	char chunk[65536];
	size_t start = out->len;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), saved;

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || out->len - start + (size_t)n > max)
			break;
		strbuf_add(out, chunk, (size_t)n);
	}
	saved = n < 0 ? errno : EFBIG;
	close(fd);
	if (n != 0) {
		errno = saved;
		return -1;
	}
	return 0;
}
