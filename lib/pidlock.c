#include "pidlock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "path.h"

/* The holder's pid as the kernel sees the lock (F_OFD_GETLK gives -1 for OFD locks), so read
 * it from the file, which the holder wrote after locking. */
static pid_t read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	long v = strtol(buf, NULL, 10);
	return v > 0 ? (pid_t)v : 0;
}

int pidlock_take(const char *dir, const char *name, pid_t *holder, char *err, size_t errlen)
{
	char path[512];
	if (holder)
		*holder = 0;
	if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
		snprintf(err, errlen, "%s/%s: path too long", dir, name);
		errno = ENAMETOOLONG;
		return -1;
	}
	if (path_mkdir_p(dir, 0750, err, errlen) != 0)
		return -1;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
		int e = errno;
		if (e == EAGAIN || e == EACCES) {
			pid_t p = read_pid(fd);
			if (holder)
				*holder = p;
			snprintf(err, errlen, "%s is used by pid %ld (lock %s)", dir, (long)p, path);
			e = EAGAIN;
		} else {
			snprintf(err, errlen, "%s: lock: %s", path, strerror(e));
		}
		close(fd);
		errno = e;
		return -1;
	}
	char pid[24];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		int e = errno;
		snprintf(err, errlen, "%s: cannot write the pid: %s", path, strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
