#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int path_mkdir_p(const char *dir, mode_t mode, char *err, size_t errlen)
{
	char p[4096];
	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
		snprintf(err, errlen, "path too long: %.64s...", dir);
		return -1;
	}
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create directory %s: %s", p, strerror(errno));
			return -1;
		}
		*s = c;
		if (!c)
			break;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", dir);
		return -1;
	}
	return 0;
}

int fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int path_mkdir_parent(const char *file, mode_t mode, char *err, size_t errlen)
{
	char p[4096];
	if (snprintf(p, sizeof p, "%s", file) >= (int)sizeof p) {
		snprintf(err, errlen, "path too long: %.64s...", file);
		return -1;
	}
	char *slash = strrchr(p, '/');
	if (!slash || slash == p)
		return 0; /* the current directory or / */
	*slash = '\0';
	return path_mkdir_p(p, mode, err, errlen);
}
