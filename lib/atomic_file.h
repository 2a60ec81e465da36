/* Whole-file replacement that a crash or a full disk never leaves half done: the bytes go to a
 * temporary file in the same directory (a rename cannot cross filesystems), which is fsynced and
 * renamed over the target, and then the directory is fsynced so the rename survives a power
 * loss. A reader sees the old file or the new one, whole; a write that fails leaves the old one.
 *
 * Every function returns 0 or an errno value (never -1), and, when step is not NULL, names the
 * step that failed ("open", "write", "fsync", "rename", "fsync directory", "fallocate") for the
 * caller's log line. Every error path closes the descriptors it opened and unlinks the
 * temporary file: a disk that refuses write after write costs neither descriptors nor space. */
#ifndef RAMPART_LIB_ATOMIC_FILE_H
#define RAMPART_LIB_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* path becomes the len bytes of buf, with mode when created. The temporary file is
 * DIR/.NAME.tmp: a dot name, so a directory scan that skips dot files (the spool's) never takes
 * it for a finished file, and a crash's leftover is overwritten by the next write of NAME. The
 * costs: two fsyncs per call. */
int afile_write(const char *path, const void *buf, size_t len, mode_t mode, const char **step);

/* The same through a spare: a file that holds reserve bytes of disk (fallocate, blocks beyond its
 * end) so that the next write finds its space even when something else on the filesystem (the
 * spool) has filled it. The bytes are written into the spare's blocks, the spare is renamed over
 * path (the old file's blocks are freed by the rename) and a new spare of reserve bytes is made
 * at once from what that freed. With reserve >= twice the file's size a write fits in the spare
 * and the next spare fits in what the old file held.
 *
 * *spare_err (when not NULL) is 0 when a spare of reserve bytes is in place afterwards, else why
 * not: ENOSPC when the filesystem is full (the next write may fail, and keeps the old file when
 * it does), EOPNOTSUPP when it cannot preallocate (then this is afile_write with a fixed
 * temporary name). A failed write leaves the spare empty but reserved again, so the retry uses
 * it: the spare is the one file an error path keeps, on purpose. The cost: the disk holds up to
 * twice reserve (the spare, and the blocks beyond the file's end it was written into). */
int afile_write_spare(const char *path, const char *spare, const void *buf, size_t len, mode_t mode,
		      uint64_t reserve, int *spare_err, const char **step);

#endif
