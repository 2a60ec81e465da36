/* The AF_PACKET source: one TPACKET_V3 ring per fanout member, read in place.
 *
 * The kernel fills ring blocks and hands one over when it is full or after RETIRE_MS; we walk
 * each block in place (tpv3.h), decode every frame and give the block back. A member waits in
 * poll() only when its next block is not ours yet, so a busy link costs no system call per
 * packet or per block. The members of an interface share a fanout group (PACKET_FANOUT, hash
 * by flow by default): each member sees whole flows, so its flow table and counters stay right
 * without sharing anything. The kernel's flow hash leaves ports out for fragments, so every
 * fragment of a datagram reaches the same member without PACKET_FANOUT_FLAG_DEFRAG; that flag
 * is off by default because the kernel then holds fragments until their datagram is whole and
 * drops the incomplete ones, which hides a fragment flood (the usual kind) from detection.
 * Drops come from PACKET_STATISTICS, read once per tick. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../lib/log.h"
#include "cap_int.h"
#include "tpv3.h"

#define RETIRE_MS 10     /* longest a frame waits in a block: a tenth of a detection tick */
#define WAIT_MS 100      /* longest wait on a quiet link before the caller moves its clock */
#define SNAPLEN 256      /* headers are all the decoder needs; more frames fit in the ring */
#define FRAME_HINT 2048  /* tp_frame_size: TPACKET_V3 packs frames, this only sizes tp_frame_nr */
#define DLT_ETHERNET 1   /* libpcap's DLT_EN10MB, for attack sample files */

struct cap_afp {
	int fd;
	uint8_t *ring;
	size_t ring_len;
	uint32_t block_size, blocks, cur;
	uint32_t sample, sample_left;
	char name[64];
	struct cap_src_stats st;
	struct log_once bad[CAP_DECODE_RESULT_COUNT];
	struct log_once bad_block;
	struct cap_frame frame;
	cap_record_fn fn;
	void *ctx;
};

static int fanout_mode(enum cap_fanout f)
{
	switch (f) {
	case CAP_FANOUT_LB: return PACKET_FANOUT_LB;
	case CAP_FANOUT_CPU: return PACKET_FANOUT_CPU;
	case CAP_FANOUT_HASH:
	default: return PACKET_FANOUT_HASH;
	}
}

static int fail(char *err, size_t errlen, const struct cap_src_spec *spec, const char *what, int e)
{
	const char *hint = "";
	if (e == EPERM || e == EACCES)
		hint = " (AF_PACKET needs CAP_NET_RAW: run as root or grant the capability)";
	snprintf(err, errlen, "%s: %s: %s: %s%s", spec->key, spec->name, what, strerror(e), hint);
	return -1;
}

void cap_afp_close(struct cap_afp *a)
{
	if (!a)
		return;
	if (a->ring && a->ring != MAP_FAILED)
		munmap(a->ring, a->ring_len);
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

struct cap_afp *cap_afp_open(const struct cap_src_spec *spec, char *err, size_t errlen)
{
	struct cap_afp *a = calloc(1, sizeof *a);
	if (!a) {
		snprintf(err, errlen, "%s: %s: out of memory", spec->key, spec->name);
		return NULL;
	}
	a->fd = -1;
	a->sample = spec->sample ? spec->sample : 1;
	a->frame.dlt = DLT_ETHERNET;
	if (spec->members > 1)
		snprintf(a->name, sizeof a->name, "afpacket %s #%u", spec->name, spec->member + 1);
	else
		snprintf(a->name, sizeof a->name, "afpacket %s", spec->name);

	unsigned ifindex = if_nametoindex(spec->name);
	if (ifindex == 0) {
		fail(err, errlen, spec, "no such interface", errno);
		goto out;
	}
	/* protocol 0: nothing is queued until bind() names the interface */
	a->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		fail(err, errlen, spec, "socket(AF_PACKET)", errno);
		goto out;
	}
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", spec->name);
	if (ioctl(a->fd, SIOCGIFHWADDR, &ifr) != 0) {
		fail(err, errlen, spec, "reading the link type", errno);
		goto out;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER && ifr.ifr_hwaddr.sa_family != ARPHRD_LOOPBACK) {
		snprintf(err, errlen, "%s: %s: link type %u is not Ethernet (a mirror port is; use pcap for "
			 "other links)", spec->key, spec->name, ifr.ifr_hwaddr.sa_family);
		goto out;
	}
	int v = TPACKET_V3;
	if (setsockopt(a->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) != 0) {
		fail(err, errlen, spec, "PACKET_VERSION TPACKET_V3", errno);
		goto out;
	}
	/* the kernel copies at most SNAPLEN bytes of each frame into the ring; tp_len keeps the
	 * frame's length and the decoder takes bytes from the IP header anyway */
	struct sock_filter snap[] = {{BPF_RET | BPF_K, 0, 0, SNAPLEN}};
	struct sock_fprog prog = {.len = 1, .filter = snap};
	if (setsockopt(a->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
		fail(err, errlen, spec, "SO_ATTACH_FILTER", errno);
		goto out;
	}
	a->block_size = spec->block_kb * 1024u;
	a->blocks = (uint32_t)(((uint64_t)spec->ring_mb << 20) / a->block_size);
	if (a->blocks < 2)
		a->blocks = 2;
	struct tpacket_req3 req = {
		.tp_block_size = a->block_size,
		.tp_block_nr = a->blocks,
		.tp_frame_size = FRAME_HINT,
		.tp_frame_nr = (a->block_size / FRAME_HINT) * a->blocks,
		.tp_retire_blk_tov = RETIRE_MS,
		.tp_feature_req_word = TP_FT_REQ_FILL_RXHASH,
	};
	if (setsockopt(a->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0) {
		fail(err, errlen, spec, "PACKET_RX_RING (capture.afpacket.ring_mb / block_kb)", errno);
		goto out;
	}
	a->ring_len = (size_t)a->block_size * a->blocks;
	a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED | MAP_POPULATE, a->fd, 0);
	if (a->ring == MAP_FAILED) /* MAP_LOCKED is refused past RLIMIT_MEMLOCK; the ring still works */
		a->ring = mmap(NULL, a->ring_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, a->fd, 0);
	if (a->ring == MAP_FAILED) {
		fail(err, errlen, spec, "mapping the ring", errno);
		goto out;
	}
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				  .sll_ifindex = (int)ifindex};
	if (bind(a->fd, (struct sockaddr *)&sll, sizeof sll) != 0) {
		fail(err, errlen, spec, "bind", errno);
		goto out;
	}
	struct packet_mreq mr = {.mr_ifindex = (int)ifindex, .mr_type = PACKET_MR_PROMISC};
	if (setsockopt(a->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0) {
		fail(err, errlen, spec, "promiscuous mode", errno);
		goto out;
	}
	/* One group per interface and daemon: the process id keeps two daemons (or a daemon and
	 * another reader) on one interface apart, the interface index keeps our interfaces apart. */
	uint32_t group = ((uint32_t)getpid() * 31u + ifindex) & 0xffffu;
	int mode = fanout_mode(spec->fanout) | (spec->defrag ? PACKET_FANOUT_FLAG_DEFRAG : 0);
	int fo = (int)(group | (uint32_t)mode << 16);
	if (setsockopt(a->fd, SOL_PACKET, PACKET_FANOUT, &fo, sizeof fo) != 0) {
		fail(err, errlen, spec, "PACKET_FANOUT", errno);
		goto out;
	}
	return a;
out:
	cap_afp_close(a);
	return NULL;
}

const char *cap_afp_name(const struct cap_afp *a)
{
	return a->name;
}

/* Cold path: a frame that did not decode. */
static void report(struct cap_afp *a, enum cap_decode_result r, const char *why, const struct cap_tpv3_pkt *p)
{
	struct cap_hex hex = cap_hex_head(p->data, p->caplen);
	log_once(&a->bad[r], "capture %s: frame %llu (%u of %u bytes captured): %s: %s; counted and skipped [%s]",
		 a->name, (unsigned long long)a->st.frames, p->caplen, p->len, cap_decode_strerror(r),
		 why ? why : "?", hex.s);
}

static void on_pkt(void *ctx, const struct cap_tpv3_pkt *p)
{
	struct cap_afp *a = ctx;
	a->st.frames++;
	if (a->sample_left) { /* mirror sampling: a countdown, no division per frame */
		a->sample_left--;
		a->st.sampled_out++;
		return;
	}
	a->sample_left = a->sample - 1;
	struct flow_record rec;
	const char *why = NULL;
	enum cap_decode_result r = cap_decode_ethernet_why(p->data, p->caplen, p->ts_ns, &rec, &why);
	a->st.decode[r]++;
	if (r != CAP_DECODE_OK) {
		report(a, r, why, p);
		return;
	}
	/* a tag the NIC or veth took off the frame is in the ring header instead */
	if ((p->status & TP_STATUS_VLAN_VALID) && rec.vlan == 0)
		rec.vlan = p->vlan_tci & 0x0fff;
	rec.sampling_rate = a->sample;
	a->frame.data = p->data;
	a->frame.caplen = p->caplen;
	a->frame.len = p->len;
	a->fn(a->ctx, &rec);
}

static inline struct tpacket_block_desc *block(const struct cap_afp *a, uint32_t i)
{
	return (struct tpacket_block_desc *)(a->ring + (size_t)i * a->block_size);
}

static inline bool block_ready(const struct cap_afp *a)
{
	return __atomic_load_n(&block(a, a->cur)->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER;
}

int cap_afp_dispatch(struct cap_afp *a, int max, cap_record_fn fn, void *ctx, char *err, size_t errlen)
{
	a->fn = fn;
	a->ctx = ctx;
	if (!block_ready(a)) {
		struct pollfd pfd = {.fd = a->fd, .events = POLLIN | POLLERR};
		int rc = poll(&pfd, 1, WAIT_MS);
		if (rc < 0 && errno != EINTR) {
			snprintf(err, errlen, "%s: poll: %s", a->name, strerror(errno));
			return -1;
		}
		if (!block_ready(a))
			return 0;
	}
	uint64_t before = a->st.frames;
	while (block_ready(a) && a->st.frames - before < (uint64_t)(max > 0 ? max : 1)) {
		struct tpacket_block_desc *b = block(a, a->cur);
		uint32_t n;
		const char *why = NULL;
		if (cap_tpv3_walk((const uint8_t *)b, a->block_size, on_pkt, a, &n, &why) != CAP_TPV3_OK) {
			a->st.bad_blocks++;
			log_once(&a->bad_block, "capture %s: ring block %u: %s after %u packets; the rest of the "
				 "block is lost, counted", a->name, a->cur, why, n);
		}
		__atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		a->cur = (a->cur + 1) % a->blocks;
	}
	return (int)(a->st.frames - before);
}

const struct cap_frame *cap_afp_frame(const struct cap_afp *a)
{
	return &a->frame;
}

void cap_afp_stats(struct cap_afp *a, struct cap_src_stats *out)
{
	/* PACKET_STATISTICS resets on read: added up here. tp_drops is the ring being full. */
	struct tpacket_stats_v3 ks;
	socklen_t len = sizeof ks;
	if (getsockopt(a->fd, SOL_PACKET, PACKET_STATISTICS, &ks, &len) == 0)
		a->st.ring_drops += ks.tp_drops;
	a->st.kernel_drops = a->st.ring_drops + a->st.if_drops;
	*out = a->st;
}
