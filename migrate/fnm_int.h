/* migrate/ internals shared by the FastNetMon converter's files: the settings read from
 * fastnetmon.conf (fnm_read.c) and the conversion that writes rampart.yaml (fnm.c). */
#ifndef RAMPART_MIGRATE_FNM_INT_H
#define RAMPART_MIGRATE_FNM_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/ip.h"
#include "fnm.h"

#define MAX_GROUPS 256
#define MAX_LISTEN 8
#define MAX_IFACES 16
#define MAX_COMMUNITIES 32
#define SHOW_MAX 160 /* bytes of a value or line quoted in a comment */

struct setting {
	char *key, *val;
	unsigned line;
	bool used;
};

struct plist {
	ip_prefix *p;
	size_t n, cap;
};

struct group {
	char name[64];
	struct plist prefixes;
};

struct cv {
	struct setting *s;
	size_t n, cap;
	char *notes; /* the comments of the tail, built with open_memstream */
	size_t notes_len;
	FILE *nf;
	struct fnm_result *res;
};

/* ---- output: every string written is quoted or filtered, so the output is always YAML ---- */

/* A value or line for a comment: printable ASCII only, at most SHOW_MAX bytes. */
void fnm_show(FILE *f, const char *s);
/* A YAML double-quoted scalar. */
void fnm_yq(FILE *f, const char *s);
/* prefixes of l, one YAML list item per line */
void fnm_print_plist(FILE *f, const struct plist *l);

/* ---- input bytes ---- */

/* s without leading and trailing white space (in place). */
char *fnm_trim(char *s);
/* A NUL-terminated copy of len bytes in which a NUL byte ends nothing early: NULs become '?'. */
char *fnm_copy_text(const char *p, size_t len);
/* A decimal number within 0..max. */
bool fnm_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* "a.b.c.d/len", "v6/len" or a bare address; host bits are cleared (FastNetMon takes
 * 10.0.0.1/24 as 10.0.0.0/24), and said so in *masked. */
bool fnm_parse_prefix(const char *s, ip_prefix *p, bool *masked);
/* Appends p unless already there; -1 out of memory. */
int fnm_plist_add(struct plist *l, const ip_prefix *p);
/* One prefix per line (FastNetMon's lists), '#' comments; bad lines noted and counted. */
int fnm_read_list(struct cv *c, const char *bytes, size_t len, const char *name, struct plist *out);

/* ---- the settings of fastnetmon.conf ---- */

/* Splits text (modified in place) into key = value settings; other lines noted as bad. */
int fnm_read_settings(struct cv *c, char *text);
/* A comment for the tail of the output: fmt with one %s, a. */
void fnm_note(struct cv *c, const char *fmt, const char *a);
/* A setting that has no equivalent, with why. */
void fnm_no_equiv(struct cv *c, struct setting *s, const char *why);
/* The last line that sets key (FastNetMon keeps the last), every one of them marked as read. */
struct setting *fnm_get(struct cv *c, const char *key);
/* key's value, or def when absent. */
const char *fnm_val(struct cv *c, const char *key, const char *def);
/* on/off (FastNetMon's booleans); anything else is noted and taken as def. */
bool fnm_flag(struct cv *c, const char *key, bool def);
/* A number setting within 0..max, or def (absent) / false (bad, noted). */
bool fnm_number(struct cv *c, const char *key, uint64_t max, uint64_t def, uint64_t *out);

#endif
