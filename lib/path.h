/* Filesystem paths the daemon creates for itself (data, spool and socket directories, which a
 * fresh machine or a reboot does not have). */
#ifndef RAMPART_LIB_PATH_H
#define RAMPART_LIB_PATH_H

#include <stddef.h>
#include <sys/types.h>

/* mkdir -p: creates dir and every missing parent with mode. 0, or -1 with a message in err
 * naming the component that failed (also when dir exists but is not a directory). */
int path_mkdir_p(const char *dir, mode_t mode, char *err, size_t errlen);
/* The same for the directory that holds file. */
int path_mkdir_parent(const char *file, mode_t mode, char *err, size_t errlen);

#endif
