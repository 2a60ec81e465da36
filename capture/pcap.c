/* The libpcap source: a live interface or a pcap/pcapng file, frames decoded into records.
 *
 * Live capture waits at most LIVE_TIMEOUT_MS for a frame, so the caller's loop gets control back
 * on a quiet link and can move its clock on (and see that it was asked to stop). Offline replay either runs flat out
 * or sleeps to keep the capture's own pace. Frames that do not decode are counted per result
 * and logged once per kind with the frame number, its lengths, the reason and its first bytes. */
#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../lib/clock.h"
#include "../lib/log.h"
#include "cap_int.h"

/* Headers are all the decoder needs (bytes come from the IP length fields); a short snap length
 * keeps the kernel ring holding many more packets in a burst. IPv6 with a long extension chain
 * still fits. */
#define LIVE_SNAPLEN 256
#define LIVE_TIMEOUT_MS 100      /* longest wait for a frame on a quiet link */
#define LIVE_BLOCK_TIMEOUT_MS 10  /* longest a frame waits in a ring block */
#define LIVE_BUFFER_BYTES (32 << 20)

#ifndef DLT_LINUX_SLL2
#define DLT_LINUX_SLL2 276
#endif
#define SLL_HLEN 16
#define SLL2_HLEN 20

enum cap_link { LINK_ETHERNET, LINK_RAW, LINK_SLL, LINK_SLL2 };

struct cap_pcap {
	pcap_t *pc;
	int fd; /* live: the selectable descriptor we wait on; -1 offline */
	char name[128]; /* interface or file, for log lines */
	enum cap_link link;
	bool offline;
	bool eof;
	bool nano; /* timestamps' sub-second part is ns, not us */
	enum cap_pcap_speed speed;
	bool paced;          /* the first frame fixed the pacing origin */
	uint64_t pace_ts0;   /* capture time of that frame */
	uint64_t pace_mono0; /* monotonic time it was delivered */
	uint64_t last_ts;
	struct cap_pcap_stats st;
	struct log_once bad[CAP_DECODE_RESULT_COUNT];
	struct cap_frame frame; /* the frame behind the record fn is given */
	uint32_t sample;     /* keep 1 frame in sample; 1 = all */
	uint32_t sample_left; /* frames to skip before the next one kept */
	cap_record_fn fn; /* the current dispatch's callback */
	void *ctx;
};

static bool link_from_dlt(int dlt, enum cap_link *out)
{
	switch (dlt) {
	case DLT_EN10MB:
		*out = LINK_ETHERNET;
		return true;
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
#endif
#ifdef DLT_IPV6
	case DLT_IPV6:
#endif
		*out = LINK_RAW;
		return true;
	case DLT_LINUX_SLL:
		*out = LINK_SLL;
		return true;
	case DLT_LINUX_SLL2:
		*out = LINK_SLL2;
		return true;
	default:
		return false;
	}
}

static struct cap_pcap *wrap(pcap_t *pc, const char *name, bool offline, char *err, size_t errlen)
{
	int dlt = pcap_datalink(pc);
	enum cap_link link;
	if (!link_from_dlt(dlt, &link)) {
		const char *dn = pcap_datalink_val_to_name(dlt);
		snprintf(err, errlen, "%s: link type %s (%d) is not supported (Ethernet, raw IP, Linux "
			 "cooked only)", name, dn ? dn : "unknown", dlt);
		pcap_close(pc);
		return NULL;
	}
	struct cap_pcap *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, errlen, "%s: out of memory", name);
		pcap_close(pc);
		return NULL;
	}
	p->pc = pc;
	p->fd = -1;
	p->link = link;
	p->offline = offline;
	p->nano = pcap_get_tstamp_precision(pc) == PCAP_TSTAMP_PRECISION_NANO;
	p->frame.dlt = dlt;
	p->sample = 1;
	snprintf(p->name, sizeof p->name, "%s", name);
	return p;
}

struct cap_pcap *cap_pcap_open_live(const char *ifname, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pc = pcap_create(ifname, ebuf);
	if (!pc) {
		snprintf(err, errlen, "%s: %s", ifname, ebuf);
		return NULL;
	}
	pcap_set_snaplen(pc, LIVE_SNAPLEN);
	pcap_set_promisc(pc, 1);
	/* Not immediate mode but a 10 ms ring-block timeout: the kernel hands over a block at most
	 * 10 ms after its first frame, so a packet reaches the counters within 10 ms whatever the
	 * link's rate (a tenth of a tick, nothing beside the 1 s average), while a link costs at most
	 * one wakeup per block or per 10 ms instead of one per packet. The handle is non-blocking and cap_pcap_dispatch() does the bounded wait on a
	 * quiet link itself (libpcap's own poll timeout is not a promise on TPACKET_V3). */
	pcap_set_immediate_mode(pc, 0);
	pcap_set_timeout(pc, LIVE_BLOCK_TIMEOUT_MS);
	pcap_set_buffer_size(pc, LIVE_BUFFER_BYTES);
	pcap_set_tstamp_precision(pc, PCAP_TSTAMP_PRECISION_NANO); /* falls back to us if refused */
	int rc = pcap_activate(pc);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s%s%s", ifname, pcap_statustostr(rc), *pcap_geterr(pc) ? ": " : "",
			 pcap_geterr(pc));
		pcap_close(pc);
		return NULL;
	}
	if (rc > 0)
		log_warn("capture %s: %s: %s", ifname, pcap_statustostr(rc), pcap_geterr(pc));
	int fd = pcap_get_selectable_fd(pc);
	if (fd < 0 || pcap_setnonblock(pc, 1, ebuf) != 0) {
		snprintf(err, errlen, "%s: cannot make the capture non-blocking: %s", ifname,
			 fd < 0 ? "no selectable descriptor" : ebuf);
		pcap_close(pc);
		return NULL;
	}
	struct cap_pcap *p = wrap(pc, ifname, false, err, errlen);
	if (p)
		p->fd = fd;
	return p;
}

struct cap_pcap *cap_pcap_open_offline(const char *path, enum cap_pcap_speed speed, char *err,
				       size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	/* pcap and pcapng alike; microsecond files are scaled to ns by libpcap */
	pcap_t *pc = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!pc) {
		snprintf(err, errlen, "%s: %s", path, ebuf);
		return NULL;
	}
	struct cap_pcap *p = wrap(pc, path, true, err, errlen);
	if (p)
		p->speed = speed;
	return p;
}

void cap_pcap_close(struct cap_pcap *p)
{
	if (!p)
		return;
	pcap_close(p->pc);
	free(p);
}

/* Cold path: a frame that did not decode. */
static void report(struct cap_pcap *p, enum cap_decode_result r, const char *why,
		   const struct pcap_pkthdr *h, const u_char *data)
{
	struct cap_hex hex = cap_hex_head(data, h->caplen);
	log_once(&p->bad[r], "capture %s: frame %llu (%u of %u bytes captured): %s: %s; counted and "
		 "skipped [%s]", p->name, (unsigned long long)p->st.frames, h->caplen, h->len,
		 cap_decode_strerror(r), why ? why : "?", hex.s);
}

static void on_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *data)
{
	struct cap_pcap *p = (struct cap_pcap *)user;
	uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000000ull +
		      (uint64_t)h->ts.tv_usec * (p->nano ? 1u : 1000u);
	p->last_ts = ts;
	p->st.frames++;
	if (p->sample_left) { /* mirror sampling: a countdown, no division per frame */
		p->sample_left--;
		p->st.sampled_out++;
		return;
	}
	p->sample_left = p->sample - 1;
	struct flow_record rec;
	const char *why = NULL;
	enum cap_decode_result r;
	switch (p->link) {
	case LINK_ETHERNET:
		r = cap_decode_ethernet_why(data, h->caplen, ts, &rec, &why);
		break;
	case LINK_RAW:
		r = cap_decode_ip_why(data, h->caplen, ts, &rec, &why);
		break;
	case LINK_SLL: /* 16-byte header, EtherType last */
		if (h->caplen < SLL_HLEN) {
			r = CAP_DECODE_TRUNCATED;
			why = "Linux cooked header cut short";
			break;
		}
		r = cap_decode_ethertype_why((uint16_t)(data[14] << 8 | data[15]), data + SLL_HLEN,
					     h->caplen - SLL_HLEN, ts, &rec, &why);
		break;
	case LINK_SLL2: /* 20-byte header, EtherType first */
	default:
		if (h->caplen < SLL2_HLEN) {
			r = CAP_DECODE_TRUNCATED;
			why = "Linux cooked v2 header cut short";
			break;
		}
		r = cap_decode_ethertype_why((uint16_t)(data[0] << 8 | data[1]), data + SLL2_HLEN,
					     h->caplen - SLL2_HLEN, ts, &rec, &why);
		break;
	}
	p->st.decode[r]++;
	if (r == CAP_DECODE_OK) {
		rec.sampling_rate = p->sample;
		p->frame.data = data;
		p->frame.caplen = h->caplen;
		p->frame.len = h->len;
		p->fn(p->ctx, &rec);
	}
	else
		report(p, r, why, h, data);
}

/* Sleeps until the frame stamped ts is due at the capture's own pace, counted from the first. */
static void pace(struct cap_pcap *p, uint64_t ts)
{
	if (!p->paced) {
		p->paced = true;
		p->pace_ts0 = ts;
		p->pace_mono0 = clock_mono_ns();
		return;
	}
	if (ts <= p->pace_ts0)
		return;
	uint64_t due = p->pace_mono0 + (ts - p->pace_ts0);
	if (due <= clock_mono_ns())
		return;
	struct timespec at = {.tv_sec = (time_t)(due / 1000000000ull), .tv_nsec = (long)(due % 1000000000ull)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
}

static int dispatch_offline(struct cap_pcap *p, int max, char *err, size_t errlen)
{
	int n = 0;
	while (n < max) {
		struct pcap_pkthdr *h;
		const u_char *data;
		int rc = pcap_next_ex(p->pc, &h, &data);
		if (rc == 1) {
			if (p->speed == CAP_SPEED_RECORDED)
				pace(p, (uint64_t)h->ts.tv_sec * 1000000000ull +
						(uint64_t)h->ts.tv_usec * (p->nano ? 1u : 1000u));
			on_frame((u_char *)p, h, data);
			n++;
			continue;
		}
		p->eof = true;
		if (rc == PCAP_ERROR_BREAK) {
			snprintf(err, errlen, "%s: end of capture file", p->name);
		} else {
			snprintf(err, errlen, "%s: %s", p->name, pcap_geterr(p->pc));
			log_err("capture %s: read error after frame %llu: %s", p->name,
				(unsigned long long)p->st.frames, pcap_geterr(p->pc));
		}
		break;
	}
	return n > 0 ? n : -1;
}

int cap_pcap_dispatch(struct cap_pcap *p, int max, cap_record_fn fn, void *ctx, char *err,
		      size_t errlen)
{
	if (max <= 0)
		max = 1;
	p->fn = fn;
	p->ctx = ctx;
	if (p->offline) {
		if (p->eof) {
			snprintf(err, errlen, "%s: end of capture file", p->name);
			return -1;
		}
		return dispatch_offline(p, max, err, errlen);
	}
	int rc = pcap_dispatch(p->pc, max, on_frame, (u_char *)p);
	if (rc == 0) {
		struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
		if (poll(&pfd, 1, LIVE_TIMEOUT_MS) <= 0)
			return 0; /* quiet link (or EINTR): the caller moves its clock on */
		rc = pcap_dispatch(p->pc, max, on_frame, (u_char *)p);
	}
	if (rc == PCAP_ERROR_BREAK)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", p->name, pcap_geterr(p->pc));
		return -1;
	}
	return rc;
}

const struct cap_frame *cap_pcap_frame(const struct cap_pcap *p)
{
	return &p->frame;
}

uint64_t cap_pcap_last_ts(const struct cap_pcap *p)
{
	return p->last_ts;
}

void cap_pcap_stats(struct cap_pcap *p, struct cap_pcap_stats *out)
{
	if (!p->offline) {
		struct pcap_stat ps;
		if (pcap_stats(p->pc, &ps) == 0) {
			p->st.ring_drops = ps.ps_drop;
			p->st.if_drops = ps.ps_ifdrop;
			p->st.kernel_drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
		}
	}
	*out = p->st;
}

void cap_pcap_set_sample(struct cap_pcap *p, uint32_t n)
{
	p->sample = n ? n : 1;
	p->sample_left = 0;
}
