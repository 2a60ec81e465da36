#include "privs.h"

#include <cap-ng.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const int privs_kept_caps[] = {CAP_NET_RAW, CAP_NET_ADMIN, CAP_NET_BIND_SERVICE};
const size_t privs_n_kept_caps = sizeof privs_kept_caps / sizeof privs_kept_caps[0];

int privs_lookup(const char *user, uid_t *uid, gid_t *gid, char *err, size_t errlen)
{
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		char *end;
		unsigned long v = strtoul(user, &end, 10);
		if (*user && !*end)
			pw = getpwuid((uid_t)v);
	}
	if (!pw) {
		snprintf(err, errlen, "user %s: %s", user, errno ? strerror(errno) : "no such user");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int privs_drop(uid_t uid, gid_t gid, char *err, size_t errlen)
{
	if (geteuid() != 0) {
		snprintf(err, errlen, "changing to uid %u needs root (running as uid %u)", (unsigned)uid,
			 (unsigned)geteuid());
		return -1;
	}
	capng_clear(CAPNG_SELECT_BOTH);
	for (size_t i = 0; i < privs_n_kept_caps; i++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)privs_kept_caps[i]) != 0) {
			snprintf(err, errlen, "capng_update failed");
			return -1;
		}
	/* capng_change_id keeps the capabilities across setresuid (PR_SET_KEEPCAPS), drops the
	 * supplementary groups, clears the bounding set and applies the sets above. */
	int rc = capng_change_id((int)uid, (int)gid, CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	if (rc != 0) {
		snprintf(err, errlen, "cannot change to uid %u gid %u (capng_change_id %d: %s)", (unsigned)uid,
			 (unsigned)gid, rc, strerror(errno));
		return -1;
	}
	uid_t r, e, s;
	if (getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid || getegid() != gid) {
		snprintf(err, errlen, "uid/gid did not change to %u/%u", (unsigned)uid, (unsigned)gid);
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		snprintf(err, errlen, "root could be regained after the change to uid %u", (unsigned)uid);
		return -1;
	}
	return 0;
}
