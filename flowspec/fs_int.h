/* Inside flowspec/ only: the component table and the rule checks shared by the codec and the
 * text parser. */
#ifndef RAMPART_FLOWSPEC_FS_INT_H
#define RAMPART_FLOWSPEC_FS_INT_H

#include "flowspec/fs.h"

/* The keyword of a component (ExaBGP's names), and the largest value and widest wire value
 * (in octets) it allows in the family. */
const char *fs_type_name(int type);
uint32_t fs_type_max(enum fs_afi afi, int type);
unsigned fs_type_width(int type);
bool fs_type_valid(enum fs_afi afi, int type);

/* Everything encode relies on: components valid for the family, prefixes well formed, every
 * list 1..FS_MAX_TERMS terms, operator bits known, no true/false operator, values in range. */
bool fs_rule_check(const struct fs_rule *r, struct fs_err *err);

void fs_errf(struct fs_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
