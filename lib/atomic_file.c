/* Atomic whole-file writes (atomic_file.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"
#include "path.h"

static int fail(const char **step, const char *what, int err)
{
	if (step)
		*step = what;
	return err ? err : EIO;
}

/* The directory that holds path: what its rename must be made durable in. */
static int sync_dir(const char *path, const char **step)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash) {
		snprintf(dir, sizeof dir, ".");
	} else {
		size_t n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof dir)
			return fail(step, "fsync directory", ENAMETOOLONG);
		memcpy(dir, path, n);
		dir[n] = 0;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail(step, "fsync directory", errno);
	int e = fsync(fd) != 0 ? errno : 0;
	close(fd);
	/* EINVAL: a filesystem that cannot sync a directory has nothing to make durable */
	return e && e != EINVAL ? fail(step, "fsync directory", e) : 0;
}

int afile_write(const char *path, const void *buf, size_t len, mode_t mode, const char **step)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	int n = snprintf(tmp, sizeof tmp, "%.*s.%s.tmp", (int)dirlen, path, path + dirlen);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return fail(step, "open", ENAMETOOLONG);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return fail(step, "open", errno);
	int e = 0;
	const char *what = NULL;
	if (fd_write_all(fd, buf, len) != 0)
		e = errno, what = "write";
	else if (fsync(fd) != 0)
		e = errno, what = "fsync";
	if (close(fd) != 0 && !e)
		e = errno, what = "close";
	if (!e && rename(tmp, path) != 0)
		e = errno, what = "rename";
	if (e) {
		unlink(tmp);
		return fail(step, what, e);
	}
	return sync_dir(path, step);
}

/* fd's blocks beyond its end, as many as reserve: 0 or why not */
static int reserve_blocks(int fd, uint64_t reserve)
{
	if (!reserve)
		return 0;
	if (reserve > (uint64_t)INT64_MAX)
		return EFBIG;
	struct stat st;
	if (fstat(fd, &st) == 0 && (uint64_t)st.st_blocks * 512 >= reserve)
		return 0;
	return fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)reserve) == 0 ? 0 : errno;
}

int afile_write_spare(const char *path, const char *spare, const void *buf, size_t len, mode_t mode,
		      uint64_t reserve, int *spare_err, const char **step)
{
	int dummy;
	if (!spare_err)
		spare_err = &dummy;
	int fd = open(spare, O_WRONLY | O_CREAT | O_CLOEXEC, mode);
	if (fd < 0) {
		*spare_err = errno;
		return fail(step, "open", errno);
	}
	struct stat st;
	int e = 0;
	const char *what = NULL;
	/* a spare with bytes in it is a crash's leftover: emptied, which frees its blocks too */
	if (fstat(fd, &st) != 0)
		e = errno, what = "open";
	else if (st.st_size != 0 && ftruncate(fd, 0) != 0)
		e = errno, what = "write";
	/* the spare made after the last write holds the space; this is for the first write, or one
	 * that outgrew it: whatever fallocate gets now is taken before the write can lose it */
	if (!e && reserve_blocks(fd, reserve > len ? reserve : len) != 0 && len)
		reserve_blocks(fd, len);
	if (!e && fd_write_all(fd, buf, len) != 0)
		e = errno, what = "write";
	else if (!e && fsync(fd) != 0)
		e = errno, what = "fsync";
	if (!e && rename(spare, path) != 0)
		e = errno, what = "rename";
	if (e) {
		/* the spare stays, empty, with its blocks (truncating frees them; taken again at once) */
		if (ftruncate(fd, 0) == 0)
			*spare_err = reserve_blocks(fd, reserve);
		else
			*spare_err = errno;
		close(fd);
		return fail(step, what, e);
	}
	/* renamed: a failed close cannot lose what fsync put on disk */
	close(fd);
	int rc = sync_dir(path, step);
	/* the next spare, from the blocks the rename freed */
	fd = open(spare, O_WRONLY | O_CREAT | O_CLOEXEC, mode);
	if (fd < 0) {
		*spare_err = errno;
	} else {
		*spare_err = reserve_blocks(fd, reserve);
		close(fd);
	}
	return rc;
}
