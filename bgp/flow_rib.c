/* The flow RIB-out and the per-peer flow queues. */
#include "flow_rib.h"

#include <stdlib.h>
#include <string.h>

#include "msg.h"

void bgp_flow_rib_init(struct bgp_flow_rib *rib)
{
	memset(rib, 0, sizeof *rib);
}

void bgp_flow_rib_free(struct bgp_flow_rib *rib)
{
	for (size_t i = 0; i < rib->n; i++)
		free(rib->v[i].nlri);
	free(rib->v);
	memset(rib, 0, sizeof *rib);
}

static struct bgp_flow *find(const struct bgp_flow_rib *rib, uint8_t afi, const uint8_t *nlri, size_t len)
{
	for (size_t i = 0; i < rib->n; i++) {
		struct bgp_flow *f = &rib->v[i];
		if (f->afi == afi && f->nlri_len == len && memcmp(f->nlri, nlri, len) == 0)
			return f;
	}
	return NULL;
}

const struct bgp_flow *bgp_flow_rib_find(const struct bgp_flow_rib *rib, uint8_t afi,
					 const uint8_t *nlri, size_t len)
{
	return find(rib, afi, nlri, len);
}

int bgp_flow_rib_set(struct bgp_flow_rib *rib, uint8_t afi, const uint8_t *nlri, size_t len,
		     const uint8_t *ext, size_t n_ext)
{
	return bgp_flow_rib_set6(rib, afi, nlri, len, ext, n_ext, NULL, 0);
}

static bool same_ext(const struct bgp_flow *f, const uint8_t *ext, size_t n_ext, const uint8_t *ext6,
		     size_t n_ext6)
{
	return f->n_ext == n_ext && memcmp(f->ext, ext, n_ext * FS_EXTCOMM_LEN) == 0 &&
	       f->n_ext6 == n_ext6 && (n_ext6 == 0 || memcmp(f->ext6, ext6, n_ext6 * FS_EXTCOMM6_LEN) == 0);
}

static bool same_more(const struct bgp_flow *f, const uint32_t *comm, size_t n_comm, const ip_addr *nh)
{
	static const ip_addr none;
	return f->n_comm == n_comm && (n_comm == 0 || memcmp(f->comm, comm, n_comm * sizeof *comm) == 0) &&
	       ip_equal(&f->next_hop, nh ? nh : &none);
}

static void set_more(struct bgp_flow *f, const uint32_t *comm, size_t n_comm, const ip_addr *nh)
{
	f->n_comm = (uint8_t)n_comm;
	if (n_comm)
		memcpy(f->comm, comm, n_comm * sizeof *comm);
	memset(&f->next_hop, 0, sizeof f->next_hop);
	if (nh)
		f->next_hop = *nh;
}

static void set_ext(struct bgp_flow *f, const uint8_t *ext, size_t n_ext, const uint8_t *ext6, size_t n_ext6)
{
	f->n_ext = (uint8_t)n_ext;
	memcpy(f->ext, ext, n_ext * FS_EXTCOMM_LEN);
	f->n_ext6 = (uint8_t)n_ext6;
	if (n_ext6)
		memcpy(f->ext6, ext6, n_ext6 * FS_EXTCOMM6_LEN);
}

int bgp_flow_rib_set6(struct bgp_flow_rib *rib, uint8_t afi, const uint8_t *nlri, size_t len,
		      const uint8_t *ext, size_t n_ext, const uint8_t *ext6, size_t n_ext6)
{
	return bgp_flow_rib_set_attrs(rib, afi, nlri, len, ext, n_ext, ext6, n_ext6, NULL);
}

int bgp_flow_rib_set_attrs(struct bgp_flow_rib *rib, uint8_t afi, const uint8_t *nlri, size_t len,
			   const uint8_t *ext, size_t n_ext, const uint8_t *ext6, size_t n_ext6,
			   const struct bgp_flow_attrs *more)
{
	const uint32_t *comm = more ? more->comm : NULL;
	size_t n_comm = more && more->comm ? more->n_comm : 0;
	const ip_addr *nh = more ? more->next_hop : NULL;
	if (n_ext > FS_ACTIONS_MAX || n_ext6 > FS_ACTIONS6_MAX || n_comm > FS_EXTRA_MAX || len == 0 ||
	    len > FS_NLRI_MAX + 2)
		return -1;
	struct bgp_flow *f = find(rib, afi, nlri, len);
	if (f) {
		if (same_ext(f, ext, n_ext, ext6, n_ext6) && same_more(f, comm, n_comm, nh))
			return 2;
		set_ext(f, ext, n_ext, ext6, n_ext6);
		set_more(f, comm, n_comm, nh);
		return 1;
	}
	if (rib->n == rib->cap) {
		size_t cap = rib->cap ? rib->cap * 2 : 16;
		struct bgp_flow *v = realloc(rib->v, cap * sizeof *v);
		if (!v)
			return -1;
		rib->v = v;
		rib->cap = cap;
	}
	uint8_t *copy = malloc(len);
	if (!copy)
		return -1;
	memcpy(copy, nlri, len);
	f = &rib->v[rib->n++];
	memset(f, 0, sizeof *f);
	f->afi = afi;
	f->nlri = copy;
	f->nlri_len = (uint16_t)len;
	set_ext(f, ext, n_ext, ext6, n_ext6);
	set_more(f, comm, n_comm, nh);
	return 0;
}

int bgp_flow_rib_del(struct bgp_flow_rib *rib, uint8_t afi, const uint8_t *nlri, size_t len)
{
	struct bgp_flow *f = find(rib, afi, nlri, len);
	if (!f)
		return -1;
	free(f->nlri);
	*f = rib->v[--rib->n];
	return 0;
}

/* ---- per-peer queues ---- */

void bgp_flow_q_init(struct bgp_flow_q *q)
{
	memset(q, 0, sizeof *q);
}

void bgp_flow_q_reset(struct bgp_flow_q *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->v[i].nlri);
	q->n = 0;
}

void bgp_flow_q_free(struct bgp_flow_q *q)
{
	bgp_flow_q_reset(q);
	free(q->v);
	memset(q, 0, sizeof *q);
}

int bgp_flow_q_push(struct bgp_flow_q *q, uint8_t afi, const uint8_t *nlri, size_t len)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->v[i].afi == afi && q->v[i].len == len && memcmp(q->v[i].nlri, nlri, len) == 0)
			return 0;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 16;
		struct bgp_flow_key *v = realloc(q->v, cap * sizeof *v);
		if (!v)
			return -1;
		q->v = v;
		q->cap = cap;
	}
	uint8_t *copy = malloc(len);
	if (!copy)
		return -1;
	memcpy(copy, nlri, len);
	q->v[q->n++] = (struct bgp_flow_key){.afi = afi, .len = (uint16_t)len, .nlri = copy};
	return 0;
}

int bgp_flow_q_replay(struct bgp_flow_q *q, const struct bgp_flow_rib *rib)
{
	if (q->n == 0) {
		/* the usual case, a session coming up: RIB keys are distinct, skip the duplicate scan */
		for (size_t i = 0; i < rib->n; i++) {
			const struct bgp_flow *f = &rib->v[i];
			if (q->n == q->cap) {
				size_t cap = q->cap ? q->cap * 2 : 16;
				struct bgp_flow_key *v = realloc(q->v, cap * sizeof *v);
				if (!v)
					return -1;
				q->v = v;
				q->cap = cap;
			}
			uint8_t *copy = malloc(f->nlri_len);
			if (!copy)
				return -1;
			memcpy(copy, f->nlri, f->nlri_len);
			q->v[q->n++] = (struct bgp_flow_key){.afi = f->afi, .len = f->nlri_len, .nlri = copy};
		}
		return 0;
	}
	for (size_t i = 0; i < rib->n; i++)
		if (bgp_flow_q_push(q, rib->v[i].afi, rib->v[i].nlri, rib->v[i].nlri_len) < 0)
			return -1;
	return 0;
}

static bool same_actions(const struct bgp_flow *a, const struct bgp_flow *b)
{
	return same_ext(a, b->ext, b->n_ext, b->ext6, b->n_ext6) && same_more(a, b->comm, b->n_comm, &b->next_hop);
}

static uint32_t fam_of(uint8_t afi)
{
	return afi == FS_AFI_IPV4 ? BGP_FAM_IPV4_FLOWSPEC : BGP_FAM_IPV6_FLOWSPEC;
}

int bgp_flow_q_flush(struct bgp_flow_q *q, const struct bgp_flow_rib *rib, struct bgp_out_ctx *c)
{
	struct bgp_upd u;
	size_t pos = 0;
	int ret = 1;
	while (pos < q->n) {
		if (c->full(c->arg)) {
			ret = 0;
			break;
		}
		const struct bgp_flow_key *k = &q->v[pos];
		if (!(c->families & fam_of(k->afi))) {
			pos++;
			continue;
		}
		const struct bgp_flow *cur = find(rib, k->afi, k->nlri, k->len);
		struct bgp_attr_enc enc = {
			.ebgp = c->ebgp, .as4 = c->as4, .local_as = c->local_as, .local_pref = 100,
			.ext_communities = cur ? cur->ext : NULL, .n_ext_communities = cur ? cur->n_ext : 0,
			.ipv6_ext_communities = cur ? cur->ext6 : NULL,
			.n_ipv6_ext_communities = cur ? cur->n_ext6 : 0,
			.communities = cur ? cur->comm : NULL, .n_communities = cur ? cur->n_comm : 0,
		};
		if (cur)
			enc.next_hop = cur->next_hop;
		if (bgp_msg_upd_begin_flow(&u, k->afi, cur == NULL, &enc) < 0) {
			ret = -1;
			break;
		}
		/* the run of keys of this family with the same state: same actions, or all withdrawn */
		size_t start = pos;
		while (pos < q->n) {
			const struct bgp_flow_key *nk = &q->v[pos];
			if (nk->afi != k->afi)
				break;
			const struct bgp_flow *ncur = pos == start ? cur : find(rib, nk->afi, nk->nlri, nk->len);
			if ((ncur == NULL) != (cur == NULL) || (cur && !same_actions(cur, ncur)))
				break;
			if (!bgp_msg_upd_add_raw(&u, nk->nlri, nk->len))
				break;
			pos++;
		}
		size_t len = pos > start ? bgp_msg_upd_finish(&u) : 0;
		if (len == 0 || c->send(c->arg, u.buf, len) < 0) {
			pos = start; /* not sent: keep them queued */
			ret = -1;
			break;
		}
		c->updates++;
		if (cur)
			c->prefixes += u.n;
	}
	if (pos == 0)
		return ret; /* nothing sent (and q->v may be NULL) */
	for (size_t i = 0; i < pos; i++)
		free(q->v[i].nlri);
	memmove(q->v, q->v + pos, (q->n - pos) * sizeof *q->v);
	q->n -= pos;
	return ret;
}
