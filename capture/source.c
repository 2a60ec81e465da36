/* cap_src: the one face of every mirror capture source. A switch per burst, not per packet:
 * each implementation runs its own tight loop inside dispatch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap_int.h"

struct cap_src {
	enum cap_src_kind kind;
	struct cap_pcap *pcap;
	struct cap_afp *afp;
	struct cap_xdp *xdp;
	struct cap_dpdkq *dpdk;
	char name[96];
};

struct cap_src *cap_src_open(const struct cap_src_spec *spec, char *err, size_t errlen)
{
	struct cap_src *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "%s: %s: out of memory", spec->key, spec->name);
		return NULL;
	}
	s->kind = spec->kind;
	char perr[256] = "";
	switch (spec->kind) {
	case CAP_SRC_PCAP:
	case CAP_SRC_PCAP_FILE:
		s->pcap = spec->kind == CAP_SRC_PCAP ? cap_pcap_open_live(spec->name, perr, sizeof perr)
						     : cap_pcap_open_offline(spec->name, spec->speed, perr, sizeof perr);
		if (!s->pcap) {
			/* libpcap's text already names the interface or file */
			snprintf(err, errlen, "%s: %s", spec->key, perr);
			free(s);
			return NULL;
		}
		cap_pcap_set_sample(s->pcap, spec->sample);
		snprintf(s->name, sizeof s->name, "%s %s", spec->kind == CAP_SRC_PCAP ? "pcap" : "replay", spec->name);
		return s;
	case CAP_SRC_AFPACKET:
		if (!(s->afp = cap_afp_open(spec, err, errlen))) {
			free(s);
			return NULL;
		}
		snprintf(s->name, sizeof s->name, "%s", cap_afp_name(s->afp));
		return s;
	case CAP_SRC_AFXDP:
		if (!(s->xdp = cap_xdp_open(spec, err, errlen))) {
			free(s);
			return NULL;
		}
		snprintf(s->name, sizeof s->name, "%s", cap_xdp_name(s->xdp));
		return s;
	case CAP_SRC_DPDK:
		if (!(s->dpdk = cap_dpdkq_open(spec, err, errlen))) {
			free(s);
			return NULL;
		}
		snprintf(s->name, sizeof s->name, "%s", cap_dpdkq_name(s->dpdk));
		return s;
	}
	snprintf(err, errlen, "%s: unknown capture source kind %d", spec->key, (int)spec->kind);
	free(s);
	return NULL;
}

void cap_src_close(struct cap_src *s)
{
	if (!s)
		return;
	cap_pcap_close(s->pcap);
	cap_afp_close(s->afp);
	cap_xdp_close(s->xdp);
	cap_dpdkq_close(s->dpdk);
	free(s);
}

const char *cap_src_name(const struct cap_src *s)
{
	return s->name;
}

bool cap_src_live(const struct cap_src *s)
{
	if (s->dpdk)
		return cap_dpdkq_live(s->dpdk);
	return s->kind != CAP_SRC_PCAP_FILE;
}

int cap_src_dispatch(struct cap_src *s, int max, cap_record_fn fn, void *ctx, char *err, size_t errlen)
{
	if (s->afp)
		return cap_afp_dispatch(s->afp, max, fn, ctx, err, errlen);
	if (s->xdp)
		return cap_xdp_dispatch(s->xdp, max, fn, ctx, err, errlen);
	if (s->dpdk)
		return cap_dpdkq_dispatch(s->dpdk, max, fn, ctx, err, errlen);
	return cap_pcap_dispatch(s->pcap, max, fn, ctx, err, errlen);
}

const struct cap_frame *cap_src_frame(const struct cap_src *s)
{
	if (s->xdp)
		return cap_xdp_frame(s->xdp);
	if (s->dpdk)
		return cap_dpdkq_frame(s->dpdk);
	return s->afp ? cap_afp_frame(s->afp) : cap_pcap_frame(s->pcap);
}

void cap_src_stats(struct cap_src *s, struct cap_src_stats *out)
{
	if (s->afp) {
		cap_afp_stats(s->afp, out);
		return;
	}
	if (s->xdp) {
		cap_xdp_stats(s->xdp, out);
		return;
	}
	if (s->dpdk) {
		cap_dpdkq_stats(s->dpdk, out);
		return;
	}
	struct cap_pcap_stats ps;
	cap_pcap_stats(s->pcap, &ps);
	memset(out, 0, sizeof *out);
	out->frames = ps.frames;
	out->sampled_out = ps.sampled_out;
	memcpy(out->decode, ps.decode, sizeof out->decode);
	out->ring_drops = ps.ring_drops;
	out->if_drops = ps.if_drops;
	out->kernel_drops = ps.kernel_drops;
}
