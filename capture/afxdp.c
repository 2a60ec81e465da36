/* The AF_XDP source: one XSK socket per RX queue, libxdp's default XSK program redirecting the
 * queue's frames into it, read from the UMEM in place.
 *
 * Mode: native (the driver runs XDP) with zero-copy where the driver can, native copy where it
 * cannot, SKB (generic XDP, any driver: veth, virtio without XDP) as the last resort; `auto` tries
 * them in that order and says which it got. A batch of descriptors is peeked, each checked against
 * the UMEM (xskdesc.h), decoded and its chunk handed back to the fill ring in the same batch; the
 * worker waits in poll() only when the RX ring is empty. AF_XDP gives no hardware timestamp in
 * copy mode, so a batch is stamped with the wall clock once (a vDSO read, not a system call).
 * Drops come from XDP_STATISTICS, read once per tick.
 *
 * Sizes: 64 MiB of UMEM per queue (afpacket's default ring), cut into 2 KiB chunks when the
 * interface's MTU fits one (the kernel keeps XDP_PACKET_HEADROOM of each chunk, so 2 KiB holds a
 * 1792-byte frame) and 4 KiB otherwise: 32768 frames where 4 KiB chunks held 16384 in the same
 * memory. The RX ring holds half the chunks, so the kernel has somewhere to put a burst while the
 * worker is off the CPU (on a mirror port that CPU also runs the receive softirq), and the other
 * half stays in the fill ring or in the worker's hands: the fill ring never runs dry before the RX
 * ring is full. The fill ring is topped up once per batch (one reserve and one submit, no system
 * call); with XDP_USE_NEED_WAKEUP a driver that stops polling an empty fill ring asks for a kick,
 * which costs one recvfrom per batch only while it asks (native modes; SKB mode never asks). */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/if_xdp.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <xdp/xsk.h>

#include "../lib/clock.h"
#include "../lib/log.h"
#include "cap_int.h"
#include "xskdesc.h"

#define UMEM_BYTES (64u << 20) /* per queue */
#define SMALL_CHUNK 2048u       /* the smallest chunk AF_XDP takes */
#define LARGE_CHUNK 4096u       /* for an MTU past what a small chunk holds */
#define XDP_HEADROOM 256u       /* XDP_PACKET_HEADROOM, kept by the kernel in every chunk */
#define L2_OVERHEAD 22u         /* Ethernet header and two VLAN tags on top of the MTU */
#define BATCH 256
#define WAIT_MS 100
#define DLT_ETHERNET 1

#ifndef SOL_XDP
#define SOL_XDP 283
#endif

struct cap_xdp {
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp, rx;
	uint8_t *area;
	uint32_t chunk, chunks;
	int fd;
	uint32_t sample, sample_left;
	char name[64];
	char mode[32];
	struct cap_src_stats st;
	struct log_once bad[CAP_DECODE_RESULT_COUNT];
	struct log_once bad_desc;
	struct cap_frame frame;
};

void cap_xdp_close(struct cap_xdp *x)
{
	if (!x)
		return;
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, (size_t)x->chunk * x->chunks);
	free(x);
}

static int rx_queues(const char *ifname)
{
	char path[128];
	int n = 0;
	for (; n < 4096; n++) {
		snprintf(path, sizeof path, "/sys/class/net/%s/queues/rx-%d", ifname, n);
		if (access(path, F_OK) != 0)
			break;
	}
	return n;
}

/* The interface's MTU from sysfs, 1500 when it cannot be read. */
static unsigned if_mtu(const char *ifname)
{
	char path[128];
	snprintf(path, sizeof path, "/sys/class/net/%s/mtu", ifname);
	FILE *f = fopen(path, "r");
	unsigned mtu = 0;
	if (f) {
		if (fscanf(f, "%u", &mtu) != 1)
			mtu = 0;
		fclose(f);
	}
	return mtu ? mtu : 1500;
}

/* Whether the driver runs XDP natively: attaches a two-instruction XDP_PASS program in driver
 * mode and takes it off again. Asked before any socket, because libxdp cannot fall back to SKB
 * mode on the same queue after a failed native attach (the next bind is refused with EBUSY).
 * Returns 1 yes, 0 no (*e the reason), -1 unknown (another program is attached). */
static int native_xdp(unsigned ifindex, int *e)
{
	struct bpf_insn pass[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "rampart_probe", "GPL", pass, 2, NULL);
	if (fd < 0) {
		*e = -fd;
		return 0;
	}
	int rc = bpf_xdp_attach((int)ifindex, fd, XDP_FLAGS_DRV_MODE | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	close(fd);
	if (rc == 0) {
		bpf_xdp_detach((int)ifindex, XDP_FLAGS_DRV_MODE, NULL);
		return 1;
	}
	*e = -rc;
	return rc == -EBUSY || rc == -EEXIST ? -1 : 0;
}

/* One attempt at a mode; 0 or -errno. */
static int try_mode(struct cap_xdp *x, const struct cap_src_spec *spec, uint32_t xdp_flags, uint16_t bind_flags)
{
	struct xsk_socket_config cfg = {
		.rx_size = x->chunks / 2, .tx_size = 0, .libxdp_flags = 0,
		.xdp_flags = xdp_flags, .bind_flags = bind_flags | XDP_USE_NEED_WAKEUP,
	};
	return xsk_socket__create(&x->xsk, spec->name, spec->queue, x->umem, &x->rx, NULL, &cfg);
}

struct cap_xdp *cap_xdp_open(const struct cap_src_spec *spec, char *err, size_t errlen)
{
	struct cap_xdp *x = calloc(1, sizeof *x);
	if (!x) {
		snprintf(err, errlen, "%s: %s: out of memory", spec->key, spec->name);
		return NULL;
	}
	x->fd = -1;
	x->sample = spec->sample ? spec->sample : 1;
	x->frame.dlt = DLT_ETHERNET;
	snprintf(x->name, sizeof x->name, "afxdp %s q%u", spec->name, spec->queue);
	unsigned ifindex = if_nametoindex(spec->name);
	if (ifindex == 0) {
		snprintf(err, errlen, "%s: %s: no such interface: %s", spec->key, spec->name, strerror(errno));
		goto out;
	}
	int nq = rx_queues(spec->name);
	if (nq > 0 && spec->queue >= (unsigned)nq) {
		snprintf(err, errlen, "capture.afxdp.queues: %s has %d RX queue(s), no queue %u", spec->name, nq,
			 spec->queue);
		goto out;
	}
	x->chunk = if_mtu(spec->name) + L2_OVERHEAD + XDP_HEADROOM <= SMALL_CHUNK ? SMALL_CHUNK : LARGE_CHUNK;
	x->chunks = UMEM_BYTES / x->chunk;
	x->area = mmap(NULL, (size_t)x->chunk * x->chunks, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		snprintf(err, errlen, "%s: %s: UMEM: %s", spec->key, spec->name, strerror(errno));
		goto out;
	}
	struct { uint32_t xdp; uint16_t bind; const char *what; } tries[3];
	int n = 0, e = 0, native = spec->xdp_mode == CAP_XDP_SKB ? 0 : native_xdp(ifindex, &e);
	if (native == 0 && spec->xdp_mode == CAP_XDP_NATIVE) {
		if (e == EPERM || e == EACCES)
			snprintf(err, errlen, "%s: %s: loading an XDP program: %s (AF_XDP needs root, or CAP_NET_ADMIN, "
				 "CAP_NET_RAW and CAP_BPF)", spec->key, spec->name, strerror(e));
		else
			snprintf(err, errlen, "capture.afxdp.mode: native: %s: the driver cannot run XDP natively (%s); "
				 "use skb or auto", spec->name, strerror(e));
		goto out;
	}
	if (native != 0) {
		tries[n++] = (typeof(tries[0])){XDP_FLAGS_DRV_MODE, XDP_ZEROCOPY, "native, zero-copy"};
		tries[n++] = (typeof(tries[0])){XDP_FLAGS_DRV_MODE, XDP_COPY, "native, copy"};
	}
	if (spec->xdp_mode != CAP_XDP_NATIVE)
		tries[n++] = (typeof(tries[0])){XDP_FLAGS_SKB_MODE, XDP_COPY, "skb (generic XDP), copy"};
	int rc = -EINVAL;
	for (int i = 0; i < n; i++) {
		/* a UMEM whose rings a failed bind took cannot be bound again: a fresh one per attempt */
		struct xsk_umem_config ucfg = {.fill_size = x->chunks, .comp_size = 64, .frame_size = x->chunk,
					       .frame_headroom = 0, .flags = 0};
		rc = xsk_umem__create(&x->umem, x->area, (uint64_t)x->chunk * x->chunks, &x->fill, &x->comp, &ucfg);
		if (rc) {
			x->umem = NULL;
			break;
		}
		rc = try_mode(x, spec, tries[i].xdp, tries[i].bind);
		if (rc == 0) {
			snprintf(x->mode, sizeof x->mode, "%s", tries[i].what);
			break;
		}
		x->xsk = NULL;
		xsk_umem__delete(x->umem);
		x->umem = NULL;
		if (rc == -EPERM || rc == -EACCES)
			break;
	}
	if (rc) {
		if (spec->xdp_mode == CAP_XDP_NATIVE && rc != -EPERM && rc != -EACCES)
			snprintf(err, errlen, "capture.afxdp.mode: native: %s queue %u: the driver cannot run XDP natively "
				 "(%s); use skb or auto", spec->name, spec->queue, strerror(-rc));
		else
			snprintf(err, errlen, "%s: %s queue %u: AF_XDP socket: %s%s", spec->key, spec->name, spec->queue,
				 strerror(-rc), -rc == EPERM ? " (AF_XDP needs root, or CAP_NET_ADMIN, CAP_NET_RAW and CAP_BPF)" : "");
		goto out;
	}
	x->fd = xsk_socket__fd(x->xsk);
	uint32_t idx;
	if (xsk_ring_prod__reserve(&x->fill, x->chunks, &idx) != x->chunks) {
		snprintf(err, errlen, "%s: %s: cannot fill the fill ring", spec->key, spec->name);
		goto out;
	}
	for (uint32_t i = 0; i < x->chunks; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (uint64_t)i * x->chunk;
	xsk_ring_prod__submit(&x->fill, x->chunks);
	log_info("%s: AF_XDP in %s mode, %u chunks of %u bytes, RX ring %u", x->name, x->mode, x->chunks, x->chunk,
		 x->chunks / 2);
	return x;
out:
	cap_xdp_close(x);
	return NULL;
}

const char *cap_xdp_name(const struct cap_xdp *x)
{
	return x->name;
}

static void report(struct cap_xdp *x, enum cap_decode_result r, const char *why, const uint8_t *d, uint32_t len)
{
	struct cap_hex hex = cap_hex_head(d, len);
	log_once(&x->bad[r], "capture %s: frame %llu (%u bytes): %s: %s; counted and skipped [%s]", x->name,
		 (unsigned long long)x->st.frames, len, cap_decode_strerror(r), why ? why : "?", hex.s);
}

int cap_xdp_dispatch(struct cap_xdp *x, int max, cap_record_fn fn, void *ctx, char *err, size_t errlen)
{
	uint32_t idx;
	uint32_t want = max > 0 && max < BATCH ? (uint32_t)max : BATCH;
	uint32_t n = xsk_ring_cons__peek(&x->rx, want, &idx);
	if (n == 0) {
		struct pollfd pfd = {.fd = x->fd, .events = POLLIN};
		if (poll(&pfd, 1, WAIT_MS) < 0 && errno != EINTR) {
			snprintf(err, errlen, "%s: poll: %s", x->name, strerror(errno));
			return -1;
		}
		n = xsk_ring_cons__peek(&x->rx, want, &idx);
		if (n == 0)
			return 0;
	}
	uint64_t ts = clock_wall_ns(), umem_size = (uint64_t)x->chunk * x->chunks;
	uint64_t refill[BATCH];
	uint32_t m = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		uint64_t chunk = 0;
		const char *why = NULL;
		bool ok = cap_xsk_desc_ok(d->addr, d->len, umem_size, x->chunk, &chunk, &why);
		if (ok || d->addr < umem_size) /* an address outside the UMEM has no chunk to give back */
			refill[m++] = chunk;
		x->st.frames++;
		if (!ok) {
			x->st.bad_blocks++;
			log_once(&x->bad_desc, "capture %s: RX descriptor addr %llu len %u: %s; counted and skipped", x->name,
				 (unsigned long long)d->addr, d->len, why);
			continue;
		}
		if (x->sample_left) {
			x->sample_left--;
			x->st.sampled_out++;
			continue;
		}
		x->sample_left = x->sample - 1;
		const uint8_t *data = x->area + d->addr;
		struct flow_record rec;
		enum cap_decode_result r = cap_decode_ethernet_why(data, d->len, ts, &rec, &why);
		x->st.decode[r]++;
		if (r != CAP_DECODE_OK) {
			report(x, r, why, data, d->len);
			continue;
		}
		rec.sampling_rate = x->sample;
		x->frame.data = data;
		x->frame.caplen = d->len;
		x->frame.len = d->len;
		fn(ctx, &rec);
	}
	xsk_ring_cons__release(&x->rx, n);
	/* the fill ring has room for every chunk, and these m just left it */
	uint32_t fidx;
	if (xsk_ring_prod__reserve(&x->fill, m, &fidx) == m) {
		for (uint32_t i = 0; i < m; i++)
			*xsk_ring_prod__fill_addr(&x->fill, fidx + i) = refill[i];
		xsk_ring_prod__submit(&x->fill, m);
	}
	if (xsk_ring_prod__needs_wakeup(&x->fill))
		recvfrom(x->fd, NULL, 0, MSG_DONTWAIT, NULL, NULL);
	return (int)n;
}

const struct cap_frame *cap_xdp_frame(const struct cap_xdp *x)
{
	return &x->frame;
}

void cap_xdp_stats(struct cap_xdp *x, struct cap_src_stats *out)
{
	struct xdp_statistics ks;
	socklen_t len = sizeof ks;
	if (getsockopt(x->fd, SOL_XDP, XDP_STATISTICS, &ks, &len) == 0) {
		/* cumulative in the kernel: the ring was full, or no chunk was free to fill */
		x->st.ring_drops = ks.rx_ring_full + ks.rx_dropped;
		x->st.if_drops = 0;
	}
	x->st.kernel_drops = x->st.ring_drops + x->st.if_drops;
	*out = x->st;
}
