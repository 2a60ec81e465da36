/* lib/atomic_file: whole writes, every error path closing and unlinking what it opened, and the
 * spare that lets a write through on a filesystem something else has filled. Failures are
 * injected for real: RLIMIT_FSIZE cuts a write short, a missing directory refuses the open, a
 * directory in the way refuses the rename, and (as root) a 256 KiB tmpfs that fills. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/atomic_file.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/test_afile.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* the names in dir d, but the ones listed */
static int entries(const char *d)
{
	DIR *dd = opendir(d);
	int n = 0;
	struct dirent *de;
	assert_non_null(dd);
	while ((de = readdir(dd)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(dd);
	return n;
}

static void assert_file(const char *path, const char *want)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t n = read(fd, buf, sizeof buf);
	close(fd);
	assert_int_equal(n, (ssize_t)strlen(want));
	assert_memory_equal(buf, want, strlen(want));
}

static void test_write_replaces_whole(void **state)
{
	(void)state;
	char path[128];
	const char *step = "untouched";
	snprintf(path, sizeof path, "%s/state", dir);
	assert_int_equal(afile_write(path, "one\n", 4, 0640, &step), 0);
	assert_string_equal(step, "untouched"); /* set on failure only */
	assert_file(path, "one\n");
	assert_int_equal(afile_write(path, "two two\n", 8, 0640, NULL), 0);
	assert_file(path, "two two\n");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(entries(dir), 1); /* no temporary file left */
	/* a path without a directory part is in the working directory */
	char cwd[256];
	assert_non_null(getcwd(cwd, sizeof cwd));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(afile_write("bare", "x", 1, 0600, NULL), 0);
	assert_int_equal(chdir(cwd), 0);
	snprintf(path, sizeof path, "%s/bare", dir);
	assert_file(path, "x");
}

/* RLIMIT_FSIZE makes the write fail half-way (EFBIG): the old file stays, the temporary file is
 * gone, no descriptor is kept */
static void test_failed_write_keeps_old_file(void **state)
{
	(void)state;
	char path[128], big[8192];
	snprintf(path, sizeof path, "%s/state", dir);
	assert_int_equal(afile_write(path, "good\n", 5, 0640, NULL), 0);
	memset(big, 'x', sizeof big);
	struct rlimit old, lim = {.rlim_cur = 4096, .rlim_max = RLIM_INFINITY};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	signal(SIGXFSZ, SIG_IGN);
	int fds = open_fds();
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	const char *step = NULL;
	for (int i = 0; i < 50; i++) /* fifty refusals: fifty descriptors if one leaked */
		assert_int_equal(afile_write(path, big, sizeof big, 0640, &step), EFBIG);
	char spare[128];
	snprintf(spare, sizeof spare, "%s/state.spare", dir);
	int serr = 0;
	assert_int_equal(afile_write_spare(path, spare, big, sizeof big, 0640, 0, &serr, NULL), EFBIG);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_string_equal(step, "write");
	assert_int_equal(open_fds(), fds);
	assert_file(path, "good\n");
	/* the spare stays (empty: it holds reserved space only), the temporary file does not */
	assert_int_equal(entries(dir), 2);
	struct stat st;
	assert_int_equal(stat(spare, &st), 0);
	assert_int_equal(st.st_size, 0);
}

static void test_failed_open_and_rename(void **state)
{
	(void)state;
	char path[160];
	const char *step = NULL;
	int fds = open_fds();
	snprintf(path, sizeof path, "%s/missing/state", dir);
	assert_int_equal(afile_write(path, "x", 1, 0640, &step), ENOENT);
	assert_string_equal(step, "open");
	/* a non-empty directory where the file goes: the rename fails, the temporary is removed */
	snprintf(path, sizeof path, "%s/isdir", dir);
	assert_int_equal(mkdir(path, 0750), 0);
	char inner[200];
	snprintf(inner, sizeof inner, "%s/keep", path);
	assert_int_equal(afile_write(inner, "k", 1, 0640, NULL), 0);
	int e = afile_write(path, "x", 1, 0640, &step);
	assert_true(e == EISDIR || e == ENOTEMPTY || e == EEXIST);
	assert_string_equal(step, "rename");
	assert_int_equal(entries(dir), 1);
	char spare[200];
	snprintf(spare, sizeof spare, "%s/isdir.spare", dir);
	e = afile_write_spare(path, spare, "x", 1, 0640, 4096, NULL, &step);
	assert_true(e == EISDIR || e == ENOTEMPTY || e == EEXIST);
	assert_string_equal(step, "rename");
	assert_int_equal(open_fds(), fds);
}

static uint64_t blocks_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

static void test_spare_reserves(void **state)
{
	(void)state;
	char path[128], spare[128];
	snprintf(path, sizeof path, "%s/state", dir);
	snprintf(spare, sizeof spare, "%s/state.spare", dir);
	int serr = -1;
	assert_int_equal(afile_write_spare(path, spare, "a b c\n", 6, 0640, 65536, &serr, NULL), 0);
	if (serr == EOPNOTSUPP)
		skip(); /* this filesystem cannot preallocate */
	assert_int_equal(serr, 0);
	assert_file(path, "a b c\n");
	struct stat st;
	assert_int_equal(stat(spare, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_true(blocks_of(spare) >= 65536);
	/* a crash's half-written spare is emptied and reserved again before use */
	int fd = open(spare, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage garbage", 15), 15);
	close(fd);
	assert_int_equal(afile_write_spare(path, spare, "d\n", 2, 0640, 65536, &serr, NULL), 0);
	assert_int_equal(serr, 0);
	assert_file(path, "d\n");
	assert_int_equal(stat(spare, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_true(blocks_of(spare) >= 65536);
}

/* The fault itself: a 256 KiB tmpfs that another writer fills. With the spare, three writes in
 * a row still succeed; without one, the same write fails (so the disk really is full); a write
 * beyond the reserve fails and leaves the last good file and the spare. Root only (mount). */
static void test_spare_on_full_tmpfs(void **state)
{
	(void)state;
	if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		skip();
	char mnt[128], path[160], spare[160], fill[160], plain[160];
	snprintf(mnt, sizeof mnt, "%s/tmpfs", dir);
	assert_int_equal(mkdir(mnt, 0750), 0);
	assert_int_equal(mount("tmpfs", mnt, "tmpfs", 0, "size=256k"), 0);
	snprintf(path, sizeof path, "%s/state", mnt);
	snprintf(spare, sizeof spare, "%s/state.spare", mnt);
	snprintf(fill, sizeof fill, "%s/spool", mnt);
	snprintf(plain, sizeof plain, "%s/other", mnt);
	int serr = -1;
	char text[3][2048];
	for (int i = 0; i < 3; i++) {
		memset(text[i], 'a' + i, sizeof text[i] - 1);
		text[i][(i + 1) * 600] = '\n';
		text[i][(i + 1) * 600 + 1] = 0;
	}
	assert_int_equal(afile_write_spare(path, spare, "start\n", 6, 0640, 16384, &serr, NULL), 0);
	assert_int_equal(serr, 0);
	/* the spool fills what is left */
	int fd = open(fill, O_WRONLY | O_CREAT, 0640);
	char chunk[4096] = {0};
	while (write(fd, chunk, sizeof chunk) == (ssize_t)sizeof chunk)
		;
	close(fd);
	const char *step = NULL;
	assert_int_equal(afile_write(plain, text[0], strlen(text[0]), 0640, &step), ENOSPC);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(afile_write_spare(path, spare, text[i], strlen(text[i]), 0640, 16384, &serr, &step), 0);
		assert_int_equal(serr, 0); /* the next spare came from what the old file freed */
		assert_file(path, text[i]);
	}
	/* beyond the reserve: refused, the last good file and the spare stay */
	static char huge[65536];
	memset(huge, 'z', sizeof huge);
	assert_int_equal(afile_write_spare(path, spare, huge, sizeof huge, 0640, 16384, &serr, &step), ENOSPC);
	assert_string_equal(step, "write");
	assert_file(path, text[2]);
	assert_int_equal(serr, 0);
	assert_int_equal(afile_write_spare(path, spare, "end\n", 4, 0640, 16384, &serr, NULL), 0);
	assert_file(path, "end\n");
	/* space back: the spare is there again */
	assert_int_equal(unlink(fill), 0);
	assert_int_equal(afile_write_spare(path, spare, "after\n", 6, 0640, 16384, &serr, NULL), 0);
	assert_int_equal(serr, 0);
	assert_true(blocks_of(spare) >= 16384);
	assert_int_equal(umount2(mnt, MNT_DETACH), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_replaces_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_write_keeps_old_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_open_and_rename, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spare_reserves, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spare_on_full_tmpfs, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
