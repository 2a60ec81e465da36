/* migrate/: converting other tools' configurations into rampart.yaml. fnm_: FastNetMon's
 * fastnetmon.conf (key = value lines) with its networks_list and networks_whitelist files. */
#ifndef RAMPART_MIGRATE_FNM_H
#define RAMPART_MIGRATE_FNM_H

#include <stddef.h>
#include <stdio.h>

struct fnm_input {
	const char *conf; /* fastnetmon.conf's bytes (any bytes: NULs, CRs, long lines are handled) */
	size_t conf_len;
	const char *conf_name;  /* named in the output's header */
	const char *networks;   /* networks_list's bytes, or NULL when it could not be read */
	size_t networks_len;
	const char *networks_name;
	const char *whitelist;  /* networks_whitelist's bytes, or NULL */
	size_t whitelist_len;
	const char *whitelist_name;
};

struct fnm_result {
	unsigned settings;     /* key = value lines read */
	unsigned no_equivalent; /* settings written out as a comment only */
	unsigned bad_lines;    /* lines that are neither a setting, a comment nor blank; bad prefixes */
	unsigned networks;     /* prefixes in networks (after dropping duplicates) */
	unsigned hostgroups;
};

/* The paths fastnetmon.conf names for the two lists (networks_list_path, white_list_path), or
 * FastNetMon's defaults (/etc/networks_list, /etc/networks_whitelist), into the buffers. */
void fnm_list_paths(const char *conf, size_t conf_len, char *networks, size_t nlen, char *whitelist, size_t wlen);

/* Writes the equivalent rampart.yaml to out: networks, whitelist, thresholds per direction and
 * protocol, hostgroups, ban time and unban policy, the notify script, the ExaBGP and GoBGP
 * announcement settings (communities, next hops, and the peers to fill in), the flow collector
 * ports and the mirror interfaces; every setting without an equivalent, and every line that
 * could not be read, as a comment naming it. Returns 0, or -1 when there are no networks (no
 * loadable configuration can come out; the output says so). */
int fnm_convert(const struct fnm_input *in, FILE *out, struct fnm_result *res);

#endif
