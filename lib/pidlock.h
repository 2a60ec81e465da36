/* One process per directory: a lock file holding the owner's pid, locked with fcntl (OFD lock,
 * so it is held by the open file, not by a thread, and goes away with the process however it
 * ends: nothing stale to clean up after a SIGKILL or a crash). */
#ifndef RAMPART_LIB_PIDLOCK_H
#define RAMPART_LIB_PIDLOCK_H

#include <stddef.h>
#include <sys/types.h>

/* Creates dir if missing, opens DIR/name and takes an exclusive lock on it without waiting, then
 * writes this process's pid into it. Returns the open descriptor (keep it open for as long as the
 * directory is yours; close it to let go). -1 with errno and a message in err: when another process
 * holds the lock, errno is EAGAIN, *holder (if not NULL) its pid (0 if it could not be read) and
 * err "DIR is used by pid N". */
int pidlock_take(const char *dir, const char *name, pid_t *holder, char *err, size_t errlen);

#endif
