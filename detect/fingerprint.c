/* Attack fingerprints: what the packets of an attack look like, and what kind of attack that is.
 *
 * Only hosts under attack are fingerprinted, so the per-packet path stays as it was for every
 * other host: the engine publishes a small immutable set of attacked hosts (det_watch), a worker's
 * counters look a host up in it once per tick when the host's entry is created, and only records
 * of those hosts go into the worker's accumulators (fixed size, no allocation). The engine merges
 * them into each attack's accumulator at its merge, and summarises on demand. */
#include <string.h>

#include "det_int.h"

const uint16_t det_fp_size_bounds[DET_FP_SIZES - 1] = {64, 128, 256, 512, 1024, 1500, 9000};

/* ---- space-saving top-K ------------------------------------------------------------------- */

/* Adds count packets of key, of which err may be overcounted already (a merged entry's error). */
static void ss_add(struct det_ss *s, const uint8_t key[16], uint64_t count, uint64_t err)
{
	size_t min = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (!memcmp(s->e[i].key, key, 16)) {
			s->e[i].count += count;
			s->e[i].err += err;
			return;
		}
		if (s->e[i].count < s->e[min].count)
			min = i;
	}
	if (s->n < DET_SS_K) {
		memcpy(s->e[s->n].key, key, 16);
		s->e[s->n].count = count;
		s->e[s->n++].err = err;
		return;
	}
	/* the newcomer takes the smallest counter's place and count: an overestimate, never an
	 * underestimate, so a heavy key cannot be pushed out by many light ones; the inherited
	 * count is its error, so count - err stays what this key was really counted */
	memcpy(s->e[min].key, key, 16);
	s->e[min].err = s->e[min].count + err;
	s->e[min].count += count;
}

static void port_key(uint8_t key[16], uint16_t port)
{
	memset(key, 0, 16);
	key[0] = (uint8_t)(port >> 8);
	key[1] = (uint8_t)port;
}

/* The remote end's network: /24 of an IPv4 address (its last byte of the mapped 16), /64 of an
 * IPv6 one. */
static void prefix_key(uint8_t key[16], const uint8_t addr[16])
{
	ip_addr a;
	memcpy(a.b, addr, 16);
	memcpy(key, addr, 16);
	if (ip_is_v4(&a))
		key[15] = 0;
	else
		memset(key + DET_FP_PREFIX_V6 / 8, 0, 16 - DET_FP_PREFIX_V6 / 8);
}

void det_fp_peer_prefix(const ip_addr *network, ip_prefix *out)
{
	out->addr = *network;
	out->len = ip_is_v4(network) ? DET_FP_PREFIX_V4 : DET_FP_PREFIX_V6;
	ip_prefix_mask(out);
}

static uint16_t key_port(const uint8_t key[16])
{
	return (uint16_t)(key[0] << 8 | key[1]);
}

/* The up-to-DET_FP_TOP largest entries, largest first (selection: K is 16). */
static size_t ss_top(const struct det_ss *s, size_t idx[DET_FP_TOP])
{
	bool taken[DET_SS_K] = {false};
	size_t n = 0;
	while (n < DET_FP_TOP && n < s->n) {
		size_t best = DET_SS_K;
		for (size_t i = 0; i < s->n; i++)
			if (!taken[i] && (best == DET_SS_K || s->e[i].count > s->e[best].count))
				best = i;
		taken[best] = true;
		idx[n++] = best;
	}
	return n;
}

/* ---- accumulators ------------------------------------------------------------------------- */

static unsigned size_bucket(uint64_t size)
{
	unsigned b = 0;
	while (b < DET_FP_SIZES - 1 && size > det_fp_size_bounds[b])
		b++;
	return b;
}

void det_fp_acc_add(struct det_fp_acc *a, const struct flow_record *r, enum det_direction dir, uint64_t scale)
{
	uint64_t pk = r->packets * scale;
	a->packets += pk;
	a->records++;
	a->bytes += r->bytes * scale;
	a->size[size_bucket(r->packets ? r->bytes / r->packets : r->bytes)] += pk;
	if (r->flags & FLOW_F_FRAGMENT)
		a->fragments += pk;
	bool ports = false;
	switch (r->protocol) {
	case 6:
		a->proto[DET_FP_TCP] += pk;
		for (unsigned i = 0; i < 8; i++)
			if (r->tcp_flags & (1u << i))
				a->tcp_flag[i] += pk;
		if ((r->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN)
			a->syn_only += pk;
		else if (!(r->tcp_flags & TCP_SYN) && (r->tcp_flags & (TCP_ACK | TCP_RST)))
			a->ack_rst += pk;
		ports = true;
		break;
	case 17:
		a->proto[DET_FP_UDP] += pk;
		ports = true;
		break;
	case 1:
	case 58: a->proto[DET_FP_ICMP] += pk; break;
	default: a->proto[DET_FP_OTHER] += pk; break;
	}
	const uint8_t *peer = (dir == DET_IN ? r->src : r->dst).b;
	uint8_t key[16];
	ss_add(&a->peers, peer, pk, 0);
	det_hll_add(a->peer_set.reg, DET_HLL_PREC(&a->peer_set), det_key_hash(peer));
	prefix_key(key, peer);
	ss_add(&a->peer_prefixes, key, pk, 0);
	det_hll_add(a->peer_prefix_set.reg, DET_HLL_PREC(&a->peer_prefix_set), det_key_hash(key));
	/* later fragments carry no transport header: their zero ports would only crowd the lists */
	if (ports && !(r->flags & FLOW_F_LATER_FRAGMENT)) {
		port_key(key, r->src_port);
		ss_add(&a->src_ports, key, pk, 0);
		det_hll_add(a->src_port_set.reg, DET_HLL_PREC(&a->src_port_set), det_key_hash(key));
		port_key(key, r->dst_port);
		ss_add(&a->dst_ports, key, pk, 0);
		det_hll_add(a->dst_port_set.reg, DET_HLL_PREC(&a->dst_port_set), det_key_hash(key));
	}
}

static void ss_merge(struct det_ss *into, const struct det_ss *from)
{
	for (size_t i = 0; i < from->n; i++)
		ss_add(into, from->e[i].key, from->e[i].count, from->e[i].err);
}

void det_fp_acc_merge(struct det_fp_acc *into, const struct det_fp_acc *from)
{
	into->packets += from->packets;
	into->bytes += from->bytes;
	into->records += from->records;
	det_hll_merge(into->peer_set.reg, from->peer_set.reg, DET_HLL_PREC(&into->peer_set));
	det_hll_merge(into->peer_prefix_set.reg, from->peer_prefix_set.reg, DET_HLL_PREC(&into->peer_prefix_set));
	det_hll_merge(into->src_port_set.reg, from->src_port_set.reg, DET_HLL_PREC(&into->src_port_set));
	det_hll_merge(into->dst_port_set.reg, from->dst_port_set.reg, DET_HLL_PREC(&into->dst_port_set));
	for (int i = 0; i < DET_FP_PROTOS; i++)
		into->proto[i] += from->proto[i];
	for (int i = 0; i < 8; i++)
		into->tcp_flag[i] += from->tcp_flag[i];
	into->syn_only += from->syn_only;
	into->ack_rst += from->ack_rst;
	into->fragments += from->fragments;
	for (int i = 0; i < DET_FP_SIZES; i++)
		into->size[i] += from->size[i];
	ss_merge(&into->peers, &from->peers);
	ss_merge(&into->peer_prefixes, &from->peer_prefixes);
	ss_merge(&into->src_ports, &from->src_ports);
	ss_merge(&into->dst_ports, &from->dst_ports);
}

void det_fp_acc_summary(const struct det_fp_acc *a, struct det_fingerprint *out)
{
	memset(out, 0, sizeof *out);
	out->packets = a->packets;
	out->bytes = a->bytes;
	memcpy(out->proto, a->proto, sizeof out->proto);
	memcpy(out->tcp_flag, a->tcp_flag, sizeof out->tcp_flag);
	out->syn_only = a->syn_only;
	out->ack_rst = a->ack_rst;
	out->fragments = a->fragments;
	memcpy(out->size, a->size, sizeof out->size);
	size_t idx[DET_FP_TOP], n;
	n = ss_top(&a->peers, idx);
	for (size_t i = 0; i < n; i++) {
		memcpy(out->peers[i].addr.b, a->peers.e[idx[i]].key, 16);
		out->peers[i].packets = a->peers.e[idx[i]].count;
		out->peers[i].error = a->peers.e[idx[i]].err;
	}
	out->n_peers = (uint8_t)n;
	n = ss_top(&a->peer_prefixes, idx);
	for (size_t i = 0; i < n; i++) {
		memcpy(out->peer_prefixes[i].addr.b, a->peer_prefixes.e[idx[i]].key, 16);
		out->peer_prefixes[i].packets = a->peer_prefixes.e[idx[i]].count;
		out->peer_prefixes[i].error = a->peer_prefixes.e[idx[i]].err;
	}
	out->n_peer_prefixes = (uint8_t)n;
	n = ss_top(&a->src_ports, idx);
	for (size_t i = 0; i < n; i++)
		out->src_ports[i] = (struct det_fp_port){key_port(a->src_ports.e[idx[i]].key),
							 a->src_ports.e[idx[i]].count, a->src_ports.e[idx[i]].err};
	out->n_src_ports = (uint8_t)n;
	n = ss_top(&a->dst_ports, idx);
	for (size_t i = 0; i < n; i++)
		out->dst_ports[i] = (struct det_fp_port){key_port(a->dst_ports.e[idx[i]].key),
							 a->dst_ports.e[idx[i]].count, a->dst_ports.e[idx[i]].err};
	out->n_dst_ports = (uint8_t)n;
	out->records = a->records;
	out->distinct_peers = det_hll_estimate(a->peer_set.reg, DET_HLL_PREC(&a->peer_set));
	out->distinct_peer_prefixes = det_hll_estimate(a->peer_prefix_set.reg, DET_HLL_PREC(&a->peer_prefix_set));
	out->distinct_src_ports = det_hll_estimate(a->src_port_set.reg, DET_HLL_PREC(&a->src_port_set));
	out->distinct_dst_ports = det_hll_estimate(a->dst_port_set.reg, DET_HLL_PREC(&a->dst_port_set));
	det_fingerprint_classify(out);
}

void det_fp_from_rates(const struct det_rates *r, enum det_direction d, struct det_fingerprint *out)
{
	memset(out, 0, sizeof *out);
	out->from_rates = true;
	out->packets = (uint64_t)r->v[d][DET_TOTAL][DET_PPS];
	out->bytes = (uint64_t)(r->v[d][DET_TOTAL][DET_BPS] / 8);
	out->proto[DET_FP_TCP] = (uint64_t)r->v[d][DET_TCP][DET_PPS];
	out->proto[DET_FP_UDP] = (uint64_t)r->v[d][DET_UDP][DET_PPS];
	out->proto[DET_FP_ICMP] = (uint64_t)r->v[d][DET_ICMP][DET_PPS];
	uint64_t known = out->proto[DET_FP_TCP] + out->proto[DET_FP_UDP] + out->proto[DET_FP_ICMP];
	out->proto[DET_FP_OTHER] = out->packets > known ? out->packets - known : 0;
	out->syn_only = (uint64_t)r->v[d][DET_SYN][DET_PPS];
	out->fragments = (uint64_t)r->v[d][DET_FRAG][DET_PPS];
	det_fingerprint_classify(out);
}

/* ---- classification ----------------------------------------------------------------------- */

static const struct {
	uint16_t port;
	enum det_attack_kind kind;
} amp_ports[] = {
	{53, DET_KIND_AMP_DNS},     {123, DET_KIND_AMP_NTP},   {1900, DET_KIND_AMP_SSDP},
	{11211, DET_KIND_AMP_MEMCACHED}, {389, DET_KIND_AMP_CLDAP}, {161, DET_KIND_AMP_SNMP},
	{19, DET_KIND_AMP_CHARGEN}, {3702, DET_KIND_AMP_WSD},
};

/* "Most" is more than half: an attack is one thing at a time far more often than not, and a
 * fingerprint that is no majority of anything is honestly unknown. */
static bool most(uint64_t part, uint64_t whole)
{
	return whole && part * 2 > whole;
}

void det_fingerprint_classify(struct det_fingerprint *fp)
{
	uint64_t total = fp->packets;
	fp->kind = DET_KIND_UNKNOWN;
	if (!total)
		return;
	if (most(fp->fragments, total)) {
		fp->kind = DET_KIND_FRAGMENTS;
		return;
	}
	uint64_t udp = fp->proto[DET_FP_UDP], tcp = fp->proto[DET_FP_TCP];
	if (most(udp, total)) {
		fp->kind = DET_KIND_UDP_FLOOD;
		/* reflectors answer from their service port: one source port carries most of it */
		if (fp->n_src_ports && most(fp->src_ports[0].packets - fp->src_ports[0].error, udp))
			for (size_t i = 0; i < sizeof amp_ports / sizeof amp_ports[0]; i++)
				if (fp->src_ports[0].port == amp_ports[i].port)
					fp->kind = amp_ports[i].kind;
		return;
	}
	if (most(fp->proto[DET_FP_ICMP], total)) {
		fp->kind = DET_KIND_ICMP_FLOOD;
		return;
	}
	if (most(tcp, total)) {
		if (most(fp->syn_only, tcp))
			fp->kind = DET_KIND_SYN_FLOOD;
		else if (most(fp->ack_rst, tcp))
			fp->kind = DET_KIND_ACK_RST_FLOOD;
		else
			fp->kind = DET_KIND_TCP_FLOOD;
	}
}

bool det_fp_proven_heavy(const struct det_fingerprint *fp, uint64_t packets, uint64_t error)
{
	return !fp->from_rates && fp->records >= DET_FP_HEAVY_RECORDS && fp->packets &&
	       (packets - error) * 2 >= fp->packets;
}

bool det_fp_heavy_peer(const struct det_fingerprint *fp, ip_addr *out)
{
	/* by guaranteed minimum, not by the listed order (upper bounds): at most one key holds a
	 * guaranteed half, bar an exact tie */
	for (size_t i = 0; i < fp->n_peers; i++)
		if (det_fp_proven_heavy(fp, fp->peers[i].packets, fp->peers[i].error)) {
			*out = fp->peers[i].addr;
			return true;
		}
	return false;
}

bool det_fp_listed(const struct det_fingerprint *fp, uint64_t packets, uint64_t error)
{
	return !fp->from_rates && fp->records >= DET_FP_HEAVY_RECORDS && fp->packets &&
	       (packets - error) * DET_FP_LIST_SHARE >= fp->packets;
}

bool det_fp_heavy_peer_prefix(const struct det_fingerprint *fp, ip_prefix *out)
{
	for (size_t i = 0; i < fp->n_peer_prefixes; i++)
		if (det_fp_proven_heavy(fp, fp->peer_prefixes[i].packets, fp->peer_prefixes[i].error)) {
			det_fp_peer_prefix(&fp->peer_prefixes[i].addr, out);
			return true;
		}
	return false;
}

const char *det_attack_kind_name(enum det_attack_kind k)
{
	static const char *const names[DET_KINDS] = {
		"unknown",	      "syn_flood",	 "ack_rst_flood",	  "tcp_flood",
		"udp_flood",	      "icmp_flood",	 "fragments",		  "dns_amplification",
		"ntp_amplification",  "ssdp_amplification", "memcached_amplification", "cldap_amplification",
		"snmp_amplification", "chargen_amplification", "wsd_amplification",
	};
	return (unsigned)k < DET_KINDS ? names[k] : "?";
}

/* ---- the watch set ------------------------------------------------------------------------ */

static size_t watch_home(uint32_t hash, enum det_direction dir)
{
	return (hash * 2u + (unsigned)dir) & (DET_WATCH_INDEX - 1);
}

void det_watch_add(struct det_watch *w, const ip_addr *host, enum det_direction dir, uint64_t attack_id)
{
	if (w->n == DET_WATCH_MAX || det_watch_find(w, host, ip_hash(host), dir) >= 0)
		return;
	size_t s = watch_home(ip_hash(host), dir);
	while (w->index[s])
		s = (s + 1) & (DET_WATCH_INDEX - 1);
	w->e[w->n].host = *host;
	w->e[w->n].dir = (uint8_t)dir;
	w->e[w->n].attack_id = attack_id;
	w->index[s] = (uint8_t)++w->n;
}

int det_watch_find(const struct det_watch *w, const ip_addr *host, uint32_t hash, enum det_direction dir)
{
	if (!w || !w->n)
		return -1;
	for (size_t s = watch_home(hash, dir); w->index[s]; s = (s + 1) & (DET_WATCH_INDEX - 1)) {
		size_t i = w->index[s] - 1u;
		if (w->e[i].dir == dir && ip_equal(&w->e[i].host, host))
			return (int)i;
	}
	return -1;
}
