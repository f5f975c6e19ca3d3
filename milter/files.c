/*
 * files.c - bounded whole-file reads (see files.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "xalloc.h"

int
file_read(const char *path, size_t max, struct strbuf *out)
{
	char chunk[65536];
	size_t start = out->len;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), saved;
	struct stat st;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		saved = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(fd);
		errno = saved;
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || out->len - start + (size_t)n > max)
			break;
		strbuf_add(out, chunk, (size_t)n);
	}
	saved = n < 0 ? errno : EFBIG;
	close(fd);
	explicit_bzero(chunk, sizeof(chunk));	/* secret files are read here too */
	if (n != 0) {
		errno = saved;
		return -1;
	}
	return 0;
}

const char *
file_error(int err)
{
	if (err == EINVAL)
		return "not a regular file";
	if (err == EFBIG)
		return "larger than mail2alert reads";
	return strerror(err);
}

char *
file_absolute(const char *path)
{
	struct strbuf abs = STRBUF_INIT;
	char *cwd;

	if (path[0] == '/' || (cwd = getcwd(NULL, 0)) == NULL)
		return xstrdup(path);
	strbuf_addf(&abs, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
	free(cwd);
	return strbuf_detach(&abs);
}
