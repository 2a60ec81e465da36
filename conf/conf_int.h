/* conf/ private: the YAML node tree the schema walk reads. Used only inside conf/. */
#ifndef RAMPART_CONF_CONF_INT_H
#define RAMPART_CONF_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../lib/ip.h"

/* Bounds on what a configuration may be, so hostile input cannot make the loader deep-recurse or
 * allocate without limit. A real config is a few kilobytes and a few hundred nodes. */
#define CONF_MAX_BYTES (4u << 20)
#define CONF_MAX_NODES 200000u
#define CONF_MAX_DEPTH 64u

enum cn_type { CN_SCALAR, CN_SEQ, CN_MAP };

struct cn {
	enum cn_type type;
	unsigned line, col; /* 1-based, where the node starts */
	bool quoted;        /* a scalar written in quotes (never null) */
	char *s;            /* scalar text, NUL-terminated; may also contain NULs (len counts them) */
	size_t len;
	struct cn **kids;   /* SEQ: items; MAP: key, value, key, value, ... */
	size_t n, cap;      /* entries in kids */
};

/* Parses one YAML document into a tree. An empty document gives *root = NULL. On error returns -1
 * with err = "NAME:LINE:COL: what is wrong". */
int cn_parse(const char *yaml, size_t len, const char *name, struct cn **root, char *err, size_t errlen);
void cn_free(struct cn *n);
/* A plain empty, ~ or null scalar. */
bool cn_is_null(const struct cn *n);
/* The value of key in a mapping, or NULL. */
const struct cn *cn_map_get(const struct cn *map, const char *key);

#endif

/* ---- the schema walk ------------------------------------------------------------------------ */

enum ck_type {
	K_INT,         /* unsigned decimal in min..max, times mult, into an integer of `size` bytes */
	K_DURATION,    /* seconds: 600, 600s, 10m, 1h, 1d; in min..max seconds */
	K_BOOL,        /* true | false */
	K_STR,         /* into char[size]; min = 1: must not be empty */
	K_IDENT,       /* K_STR limited to [A-Za-z_][A-Za-z0-9_]* (goes into SQL) */
	K_URL,         /* K_STR that is empty or starts with http:// or https:// */
	K_ENUM,        /* one of names[], stored as an int */
	K_ADDR,        /* IPv4 or IPv6 address into ip_addr */
	K_ADDR4,       /* IPv4 only */
	K_ADDR6,       /* IPv6 only */
	K_ROUTER_ID,   /* non-zero dotted IPv4 into a host-order uint32_t */
	K_LISTEN,      /* "a.b.c.d:port" or "[v6]:port" into char[size]; min = 0: may be empty */
	K_LISTEN_LIST, /* list of K_LISTEN into struct conf_listen[max_items], count at count_off */
	K_PREFIX_LIST, /* list of prefixes into a malloc'ed ip_prefix *, count at count_off */
	K_COMMUNITIES, /* list of "ASN:VALUE" into uint32_t[max_items], count at count_off */
	K_FAMILIES,    /* non-empty list of names[] OR'ed together (values are bits) */
	K_IFNAMES,     /* list of interface names, strdup'ed into char *[max_items] */
	K_UINT_LIST,   /* list of distinct integers min..max into uint32_t[max_items] */
	K_STRINGS,     /* list of non-empty strings, strdup'ed into char *[max_items] */
	K_FLOW_RULES,  /* list of FlowSpec rules in text form into a malloc'ed struct conf_flow_rule[] */
	K_MAP,         /* a mapping walked with sub, base moved by off */
	K_SEQ_MAP,     /* a list of mappings into a malloc'ed array of elem_size, count at count_off */
};

struct cenum {
	const char *name;
	int value;
};

struct walk;
struct ckey {
	const char *name;
	enum ck_type type;
	size_t off;      /* destination, from the base of the table's struct */
	size_t size;     /* destination size (integers, strings) */
	uint64_t min, max, mult;
	bool required;
	const struct cenum *names;
	const struct ckey *sub;
	size_t count_off;
	size_t max_items;
	size_t elem_size;
	bool (*valid)(uint64_t v); /* extra check on K_INT */
	const char *expect;        /* what to say when valid() refuses */
	void (*init)(void *elem);  /* K_SEQ_MAP: defaults of one element */
	/* K_SEQ_MAP: checks element i after its keys were read (uniqueness, combinations) */
	int (*check)(struct walk *w, const struct cn *node, void *array, size_t i);
};

struct walk {
	const char *name; /* the file, for messages */
	char *err;
	size_t errlen;
	char path[512];
	size_t plen;
};

/* Writes "NAME:LINE:COL: PATH: message" for node at; returns -1. */
int walk_fail(struct walk *w, const struct cn *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Same, with ".key" appended to the current path for this one message. */
int walk_fail_key(struct walk *w, const struct cn *at, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Walks mapping node (a null node counts as empty) with table tbl (ends with a NULL name),
 * storing into base. */
int walk_map(struct walk *w, const struct ckey *tbl, const struct cn *node, void *base);
size_t walk_push(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void walk_pop(struct walk *w, size_t saved);

/* Value syntax shared with print.c and the tests. */
bool conf_parse_listen(const char *s);
bool conf_parse_community(const char *s, uint32_t *out);

/* One prefix and where it was written (list a, entry b), for finding duplicates. */
struct conf_pref_ref {
	ip_prefix p;
	uint32_t a, b;
};
/* Sorts refs and looks for a prefix written twice. True when there is one: *again is the earliest
 * (in (a, b) order) entry that repeats an earlier one, *first that earlier one, so the message
 * points where a reader going down the file meets the problem. O(n log n): lists may be long. */
bool conf_find_dup(struct conf_pref_ref *refs, size_t n, struct conf_pref_ref *first, struct conf_pref_ref *again);
