/* Files and directories: the ones the daemon creates for itself (data, spool and socket
 * directories, which a fresh machine or a reboot does not have) and whole writes. */
#ifndef RAMPART_LIB_PATH_H
#define RAMPART_LIB_PATH_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: creates dir and every missing parent with mode. 0, or -1 with a message in err
 * naming the component that failed (also when dir exists but is not a directory). */
int path_mkdir_p(const char *dir, mode_t mode, char *err, size_t errlen);
/* The same for the directory that holds file. */
int path_mkdir_parent(const char *file, mode_t mode, char *err, size_t errlen);
/* write() until all len bytes are out (short writes and EINTR retried); 0, or -1 with errno. */
int fd_write_all(int fd, const void *p, size_t len);

#endif
