/* Giving up root: becoming an unprivileged user while keeping the few capabilities the daemon
 * still uses (libcap-ng). */
#ifndef RAMPART_LIB_PRIVS_H
#define RAMPART_LIB_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

/* The capabilities rampartd keeps, and the systemd unit grants (rampart.service says why each):
 * CAP_NET_RAW, CAP_NET_ADMIN, CAP_NET_BIND_SERVICE. */
extern const int privs_kept_caps[];
extern const size_t privs_n_kept_caps;

/* The uid and primary gid of user (a name or a numeric uid). 0, or -1 with a message in err. */
int privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen);

/* Becomes uid/gid (supplementary groups dropped) keeping exactly privs_kept_caps in the calling
 * thread's permitted and effective sets (other threads keep none: the uid change clears theirs),
 * with an empty bounding set so nothing can come back through exec. Then checks that it worked:
 * root cannot be regained. Must run as root. 0, or -1 with a message in err. */
int privs_drop(uid_t uid, gid_t gid, char *err, size_t errlen);

#endif
