/* The DPDK source: poll-mode ports (a NIC bound to vfio-pci, or a virtual device such as
 * net_pcap, net_af_packet, net_tap), read with rte_eth_rx_burst by one worker per set of RX queues.
 *
 * cap_dpdk_start initialises the EAL once for the process and starts every port with rx_queues
 * queues (RSS spreading flows across them where the port can hash) and one mbuf pool per port.
 * Worker k of a port then reads queues k, k + workers, ... (dpdkplan.h): a queue has one reader,
 * so nothing is locked. Each worker registers itself as a DPDK lcore (rte_thread_register) so
 * the pool's per-lcore cache serves it without touching the shared ring per mbuf.
 *
 * Poll mode: a busy worker spins on its queues and makes no system call. 50 us after its last
 * frame it sleeps 20 us (about 70 with the kernel's timer slack) per empty poll: a 1 ms spin kept
 * both cores of a small machine busy at a few kpps (a frame every 0.5 ms restarts it) and starved
 * everything else on them. A 4096-descriptor ring holds 400 us of 10 Mpps, well above a sleep.
 *
 * Timestamps: DPDK leaves the unit of the RX timestamp to the driver; net_pcap's is the
 * capture's microseconds since the epoch, which we use, so a file replayed through net_pcap runs
 * on the file's pace, moved to start at the wall clock. Every other port is stamped once per
 * burst from the TSC, anchored to the wall clock once a second. Drops: imissed + rx_nombuf (the
 * ring or the pool was full) and ierrors (bad frames) from rte_eth_stats, plus what net_tap and
 * net_af_packet lose in the kernel (which rte_eth_stats leaves out), read once per tick by the
 * port's first worker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cap_int.h"

#ifdef RAMPART_DPDK
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include "../lib/clock.h"
#include "../lib/log.h"
#include "dpdkplan.h"

#define RX_DESC 4096
#define BURST 64
#define PREFETCH 4 /* frames ahead: about the time a miss takes, at ~100 ns a frame */
#define MAX_QUEUES 16
#define POOL_CACHE 256
#define POOL_MIN 32767 /* mbufs per port: 75 MiB */
#define SPIN_NS 50000ull         /* empty polls before the worker starts sleeping */
#define IDLE_SLEEP_NS 20000l     /* per empty poll after that */
#define WAIT_NS 100000000ull     /* dispatch returns 0 after this long without a frame */
#define REPLAY_END_NS 100000000ull /* a replayed file that gives nothing this long has ended */
#define DLT_ETHERNET 1

struct dpdk_port {
	uint16_t id;
	char name[64];
	char driver[32];
	bool replay;      /* net_pcap with rx_pcap=: a file, on its own clock, which ends */
	uint64_t ts_mult; /* RX timestamp to ns; 0: stamp from the TSC */
	struct rte_mempool *pool;
	bool configured, started;
	/* What a virtual device loses in the kernel, which rte_eth_stats leaves out (kernel_losses):
	 * net_tap, the tap's own tx_dropped (the kernel found the tap's queue full), by its sysfs
	 * file; net_af_packet, PACKET_STATISTICS of the PMD's sockets (read and reset by the kernel
	 * at each read, so summed here). -1 / 0: none. */
	int tap_dropped_fd;
	uint64_t tap_dropped0; /* at start */
	int afp_fds[MAX_QUEUES];
	unsigned n_afp_fds;
	uint64_t afp_drops;
};

struct cap_dpdk {
	char **argv; /* the EAL keeps pointers into it */
	int argc;
	bool eal;
	struct dpdk_port *ports;
	size_t n_ports;
	unsigned rx_queues, workers;
	int ts_off;       /* RX timestamp dynfield, -1 when no port registered it */
	uint64_t ts_flag;
};

struct cap_dpdkq {
	struct cap_dpdk *d;
	struct dpdk_port *port;
	unsigned member;
	uint16_t queues[MAX_QUEUES];
	unsigned n_queues;
	uint32_t sample, sample_left;
	char name[96];
	bool registered;
	uint64_t hz, tsc0, base_ns, last_rx_tsc;
	uint64_t replay_shift; /* added to a replayed file's timestamps */
	bool replay_shifted;
	uint64_t spin_tsc, wait_tsc, end_tsc; /* SPIN_NS, WAIT_NS, REPLAY_END_NS in TSC cycles */
	struct cap_src_stats st;
	struct log_once bad[CAP_DECODE_RESULT_COUNT];
	struct log_once no_lcore;
	struct cap_frame frame;
};

static uint64_t read_counter_fd(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strtoull(buf, NULL, 10);
}

/* The kernel side of a virtual device, found at start: net_tap's interface counter, or the
 * AF_PACKET sockets net_af_packet opened on its interface (the only ones bound there yet: the
 * daemon opens its own capture sockets after the EAL). The PMDs keep their sockets private and
 * export no drop statistic of their own (DPDK 22.11, xstats included). */
static void find_kernel_losses(struct dpdk_port *p, unsigned if_index)
{
	p->tap_dropped_fd = -1;
	char ifname[IF_NAMESIZE];
	if (!if_index || !if_indextoname(if_index, ifname))
		return;
	if (strcmp(p->driver, "net_tap") == 0) {
		char path[96];
		snprintf(path, sizeof path, "/sys/class/net/%s/statistics/tx_dropped", ifname);
		if ((p->tap_dropped_fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0)
			p->tap_dropped0 = read_counter_fd(p->tap_dropped_fd);
		else
			log_warn("capture: dpdk port %s: %s: %s; the tap's kernel drops are not counted", p->name, path,
				 strerror(errno));
		return;
	}
	if (strcmp(p->driver, "net_af_packet") != 0)
		return;
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;
	while (dir && (e = readdir(dir)) && p->n_afp_fds < MAX_QUEUES) {
		int fd = atoi(e->d_name), domain = 0;
		socklen_t dl = sizeof domain;
		struct sockaddr_ll sll;
		socklen_t sl = sizeof sll;
		if (e->d_name[0] == '.' || fd == dirfd(dir) ||
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) != 0 || domain != AF_PACKET ||
		    getsockname(fd, (struct sockaddr *)&sll, &sl) != 0 || (unsigned)sll.sll_ifindex != if_index)
			continue;
		struct tpacket_stats_v3 ts;
		socklen_t tl = sizeof ts;
		getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &ts, &tl); /* from zero: what came before start */
		p->afp_fds[p->n_afp_fds++] = fd;
	}
	if (dir)
		closedir(dir);
	if (!p->n_afp_fds)
		log_warn("capture: dpdk port %s: no AF_PACKET socket on %s found; its kernel drops are not counted",
			 p->name, ifname);
}

/* Frames the kernel lost before the PMD saw them, since the port started. */
static uint64_t kernel_losses(struct dpdk_port *p)
{
	if (p->tap_dropped_fd >= 0) {
		uint64_t now = read_counter_fd(p->tap_dropped_fd);
		return now > p->tap_dropped0 ? now - p->tap_dropped0 : 0;
	}
	for (unsigned i = 0; i < p->n_afp_fds; i++) {
		struct tpacket_stats_v3 ts;
		socklen_t tl = sizeof ts;
		if (getsockopt(p->afp_fds[i], SOL_PACKET, PACKET_STATISTICS, &ts, &tl) == 0)
			p->afp_drops += ts.tp_drops;
	}
	return p->afp_drops;
}

static void list_ports(char *out, size_t len)
{
	size_t off = 0;
	uint16_t id;
	out[0] = 0;
	RTE_ETH_FOREACH_DEV(id) {
		char name[RTE_ETH_NAME_MAX_LEN];
		if (rte_eth_dev_get_name_by_port(id, name) == 0 && off < len)
			off += (size_t)snprintf(out + off, len - off, "%s%s", off ? ", " : "", name);
	}
	if (!off)
		snprintf(out, len, "none");
}

static int start_port(struct cap_dpdk *d, const struct cap_dpdk_spec *spec, struct dpdk_port *p, const char *name,
		      char *err, size_t errlen)
{
	snprintf(p->name, sizeof p->name, "%s", name);
	p->tap_dropped_fd = -1;
	if (rte_eth_dev_get_port_by_name(name, &p->id) != 0) {
		char found[256];
		list_ports(found, sizeof found);
		snprintf(err, errlen, "%s.ports: %s: no such DPDK port (the EAL has: %s); a virtual device needs "
			 "--vdev=%s,... in %s.eal, a NIC its PCI address and a vfio-pci binding (docs/CAPTURE.md)",
			 spec->key, name, found, name, spec->key);
		return -1;
	}
	struct rte_eth_dev_info di;
	int rc = rte_eth_dev_info_get(p->id, &di);
	if (rc != 0) {
		snprintf(err, errlen, "%s.ports: %s: reading the device: %s", spec->key, name, rte_strerror(-rc));
		return -1;
	}
	snprintf(p->driver, sizeof p->driver, "%s", di.driver_name ? di.driver_name : "?");
	if (d->rx_queues > di.max_rx_queues) {
		snprintf(err, errlen, "%s.rx_queues: %u RX queues, but port %s (%s) has at most %u", spec->key,
			 d->rx_queues, name, p->driver, di.max_rx_queues);
		return -1;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof conf);
	uint64_t rss = di.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP);
	if (d->rx_queues > 1 && rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss; /* the driver's default key: symmetric is not needed, a
							 * flow's packets in one direction meet in one queue */
	}
	/* no TX queue: a mirror is only read. Some drivers pair their queues (net_tap: one fd per
	 * pair) and refuse that; they get as many TX queues as RX, set up and never used. */
	uint16_t tx = 0;
	if (rte_eth_dev_configure(p->id, (uint16_t)d->rx_queues, 0, &conf) != 0)
		tx = (uint16_t)d->rx_queues;
	if (tx && (rc = rte_eth_dev_configure(p->id, (uint16_t)d->rx_queues, tx, &conf)) != 0) {
		snprintf(err, errlen, "%s.ports: %s: configuring %u RX queues: %s", spec->key, name, d->rx_queues,
			 rte_strerror(-rc));
		return -1;
	}
	p->configured = true;
	uint16_t nb_rxd = RX_DESC, nb_txd = 512;
	rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &nb_rxd, &nb_txd);
	/* every descriptor holds an mbuf, a burst in flight, and each lcore cache up to 1.5 times its
	 * size; rounded to 2^n - 1, the size a mempool ring uses best. At least POOL_MIN: net_pcap's
	 * infinite_rx=1 keeps the whole file in the pool (the shared capture: 21 000 frames). */
	uint64_t want = (uint64_t)d->rx_queues * (nb_rxd + BURST) + (uint64_t)(d->workers + 1) * POOL_CACHE * 3 / 2;
	if (want < POOL_MIN)
		want = POOL_MIN;
	unsigned n = 1;
	while (n - 1 < want)
		n <<= 1;
	char pool[RTE_MEMPOOL_NAMESIZE];
	snprintf(pool, sizeof pool, "rampart_rx%u", p->id);
	int socket = rte_eth_dev_socket_id(p->id);
	p->pool = rte_pktmbuf_pool_create(pool, n - 1, POOL_CACHE, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  socket < 0 ? (int)SOCKET_ID_ANY : socket);
	if (!p->pool) {
		snprintf(err, errlen, "%s.eal: port %s: no memory for %u mbufs (%u MiB): %s; give the EAL more "
			 "(hugepages, or -m with --no-huge: docs/CAPTURE.md)", spec->key, name, n - 1,
			 (unsigned)(((uint64_t)(n - 1) * (RTE_MBUF_DEFAULT_BUF_SIZE + 128) + (1u << 20) - 1) >> 20),
			 rte_strerror(rte_errno));
		return -1;
	}
	for (unsigned q = 0; q < d->rx_queues; q++) {
		if ((rc = rte_eth_rx_queue_setup(p->id, (uint16_t)q, nb_rxd, (unsigned)socket, NULL, p->pool)) != 0) {
			snprintf(err, errlen, "%s.ports: %s: RX queue %u: %s", spec->key, name, q, rte_strerror(-rc));
			return -1;
		}
	}
	for (uint16_t q = 0; q < tx; q++) {
		if ((rc = rte_eth_tx_queue_setup(p->id, q, nb_txd, (unsigned)socket, NULL)) != 0) {
			snprintf(err, errlen, "%s.ports: %s: TX queue %u (the driver pairs queues): %s", spec->key, name,
				 q, rte_strerror(-rc));
			return -1;
		}
	}
	if ((rc = rte_eth_dev_start(p->id)) != 0) {
		snprintf(err, errlen, "%s.ports: %s: starting the port: %s", spec->key, name, rte_strerror(-rc));
		return -1;
	}
	p->started = true;
	/* a mirror port receives frames for every address; a vdev that cannot say so still does */
	rc = rte_eth_promiscuous_enable(p->id);
	if (rc != 0 && rc != -ENOTSUP)
		log_warn("capture: dpdk port %s: promiscuous mode: %s", name, rte_strerror(-rc));
	const struct rte_devargs *da = rte_dev_devargs(di.device);
	p->replay = cap_dpdk_is_replay(p->driver, da ? da->args : NULL);
	p->ts_mult = strcmp(p->driver, "net_pcap") == 0 ? 1000 : 0;
	find_kernel_losses(p, di.if_index);
	log_info("capture: dpdk port %s (%s%s): %u RX queue(s) of %u descriptors%s, %u worker(s), %u mbufs", name,
		 p->driver, p->replay ? ", replaying a file" : "", d->rx_queues, nb_rxd,
		 d->rx_queues > 1 ? (rss ? ", RSS" : ", spread by the driver (no RSS)") : "", d->workers, n - 1);
	return 0;
}

void cap_dpdk_stop(struct cap_dpdk *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n_ports; i++) {
		struct dpdk_port *p = &d->ports[i];
		if (p->started)
			rte_eth_dev_stop(p->id);
		if (p->configured)
			rte_eth_dev_close(p->id);
		if (p->tap_dropped_fd >= 0)
			close(p->tap_dropped_fd);
		rte_mempool_free(p->pool);
	}
	if (d->eal)
		rte_eal_cleanup();
	for (int i = 0; i < d->argc; i++)
		free(d->argv[i]);
	free(d->argv);
	free(d->ports);
	free(d);
}

struct cap_dpdk *cap_dpdk_start(const struct cap_dpdk_spec *spec, char *err, size_t errlen)
{
	struct cap_dpdk *d = calloc(1, sizeof *d);
	if (!d || !(d->argv = calloc(spec->n_eal + 2, sizeof *d->argv)) ||
	    !(d->ports = calloc(spec->n_ports ? spec->n_ports : 1, sizeof *d->ports))) {
		snprintf(err, errlen, "%s: out of memory", spec->key);
		cap_dpdk_stop(d);
		return NULL;
	}
	d->rx_queues = spec->rx_queues ? spec->rx_queues : 1;
	d->workers = spec->workers ? spec->workers : 1;
	d->ts_off = -1;
	if (d->rx_queues > MAX_QUEUES) {
		snprintf(err, errlen, "%s.rx_queues: at most %d", spec->key, MAX_QUEUES);
		cap_dpdk_stop(d);
		return NULL;
	}
	if (!(d->argv[d->argc++] = strdup("rampartd")))
		goto oom;
	for (size_t i = 0; i < spec->n_eal; i++)
		if (!(d->argv[d->argc++] = strdup(spec->eal[i])))
			goto oom;
	/* rte_eal_init pins the calling thread to the main lcore's CPU, and every thread created after
	 * it would inherit that: the daemon's threads keep the affinity they were given */
	cpu_set_t cpus;
	bool have_cpus = pthread_getaffinity_np(pthread_self(), sizeof cpus, &cpus) == 0;
	/* rte_eal_init may reorder argv: it gets a copy of the pointers, the strings stay ours */
	char **args = calloc((size_t)d->argc + 1, sizeof *args);
	if (!args)
		goto oom;
	memcpy(args, d->argv, (size_t)d->argc * sizeof *args);
	int rc = rte_eal_init(d->argc, args);
	int e = rte_errno;
	free(args);
	if (have_cpus)
		pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
	if (rc < 0) {
		snprintf(err, errlen, "%s.eal: rte_eal_init failed: %s%s", spec->key, rte_strerror(e),
			 e == EALREADY ? " (the EAL is set up once per process: one capture.dpdk section per daemon)"
				       : " (the EAL's own lines above say which argument)");
		cap_dpdk_stop(d); /* d->eal false: a failed init has nothing to clean up */
		return NULL;
	}
	d->eal = true;
	if (spec->n_ports == 0) {
		snprintf(err, errlen, "%s.ports: no port to read", spec->key);
		cap_dpdk_stop(d);
		return NULL;
	}
	for (size_t i = 0; i < spec->n_ports; i++) {
		d->n_ports = i + 1;
		if (start_port(d, spec, &d->ports[i], spec->ports[i], err, errlen) != 0) {
			cap_dpdk_stop(d);
			return NULL;
		}
	}
	/* registered by a driver that stamps frames (net_pcap does at start) */
	d->ts_off = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
	int bit = rte_mbuf_dynflag_lookup(RTE_MBUF_DYNFLAG_RX_TIMESTAMP_NAME, NULL);
	d->ts_flag = d->ts_off >= 0 && bit >= 0 ? 1ull << bit : 0;
	return d;
oom:
	snprintf(err, errlen, "%s: out of memory", spec->key);
	cap_dpdk_stop(d);
	return NULL;
}

void cap_dpdkq_close(struct cap_dpdkq *q)
{
	free(q);
}

struct cap_dpdkq *cap_dpdkq_open(const struct cap_src_spec *spec, char *err, size_t errlen)
{
	struct cap_dpdk *d = spec->dpdk;
	if (!d) {
		snprintf(err, errlen, "%s: %s: the EAL is not set up", spec->key, spec->name);
		return NULL;
	}
	struct dpdk_port *port = NULL;
	for (size_t i = 0; i < d->n_ports && !port; i++)
		if (strcmp(d->ports[i].name, spec->name) == 0)
			port = &d->ports[i];
	if (!port) {
		snprintf(err, errlen, "%s: %s: not a port started by capture.dpdk", spec->key, spec->name);
		return NULL;
	}
	struct cap_dpdkq *q = calloc(1, sizeof *q);
	if (!q) {
		snprintf(err, errlen, "%s: %s: out of memory", spec->key, spec->name);
		return NULL;
	}
	q->d = d;
	q->port = port;
	q->member = spec->member;
	q->n_queues = cap_dpdk_member_queues(spec->member, spec->members ? spec->members : 1, d->rx_queues, q->queues,
					     MAX_QUEUES);
	if (q->n_queues == 0) {
		snprintf(err, errlen, "%s: %s: worker %u of %u has no RX queue (workers at most rx_queues)", spec->key,
			 spec->name, spec->member + 1, spec->members);
		free(q);
		return NULL;
	}
	q->sample = spec->sample ? spec->sample : 1;
	q->frame.dlt = DLT_ETHERNET;
	if (spec->members > 1)
		snprintf(q->name, sizeof q->name, "dpdk %s #%u", spec->name, spec->member + 1);
	else
		snprintf(q->name, sizeof q->name, "dpdk %s", spec->name);
	q->hz = rte_get_tsc_hz();
	q->spin_tsc = q->hz / (1000000000ull / SPIN_NS);
	q->wait_tsc = q->hz / (1000000000ull / WAIT_NS);
	q->end_tsc = q->hz / (1000000000ull / REPLAY_END_NS);
	q->tsc0 = rte_get_tsc_cycles();
	q->base_ns = clock_wall_ns();
	return q;
}

const char *cap_dpdkq_name(const struct cap_dpdkq *q)
{
	return q->name;
}

bool cap_dpdkq_live(const struct cap_dpdkq *q)
{
	return !q->port->replay;
}

/* Cold path: a frame that did not decode. */
static void report(struct cap_dpdkq *q, enum cap_decode_result r, const char *why, const uint8_t *data,
		   uint32_t caplen, uint32_t len)
{
	struct cap_hex hex = cap_hex_head(data, caplen);
	log_once(&q->bad[r], "capture %s: frame %llu (%u of %u bytes in the first segment): %s: %s; counted and "
		 "skipped [%s]", q->name, (unsigned long long)q->st.frames, caplen, len, cap_decode_strerror(r),
		 why ? why : "?", hex.s);
}

static inline void one(struct cap_dpdkq *q, struct rte_mbuf *m, uint64_t burst_ns, cap_record_fn fn, void *ctx)
{
	q->st.frames++;
	if (q->sample_left) { /* mirror sampling: a countdown, no division per frame */
		q->sample_left--;
		q->st.sampled_out++;
		return;
	}
	q->sample_left = q->sample - 1;
	uint64_t ts = burst_ns;
	if (q->port->ts_mult && (m->ol_flags & q->d->ts_flag)) {
		ts = *RTE_MBUF_DYNFIELD(m, q->d->ts_off, rte_mbuf_timestamp_t *) * q->port->ts_mult;
		if (q->port->replay) {
			/* the file's pace from the wall clock at its first frame: a running daemon's
			 * clock (bans, the ban state, the API) is the wall clock, and must not go back to
			 * the day the file was captured (modulo 2^64, so a file in the future works too) */
			if (!q->replay_shifted) {
				q->replay_shift = burst_ns - ts;
				q->replay_shifted = true;
			}
			ts += q->replay_shift;
		}
	}
	/* the decoder needs the headers only, which a first segment of 2 KiB always holds */
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	struct flow_record rec;
	const char *why = NULL;
	enum cap_decode_result r = cap_decode_ethernet_why(data, m->data_len, ts, &rec, &why);
	q->st.decode[r]++;
	if (r != CAP_DECODE_OK) {
		report(q, r, why, data, m->data_len, m->pkt_len);
		return;
	}
	/* a tag the NIC took off the frame is in the mbuf instead */
	if ((m->ol_flags & RTE_MBUF_F_RX_VLAN_STRIPPED) && rec.vlan == 0)
		rec.vlan = m->vlan_tci & 0x0fff;
	rec.sampling_rate = q->sample;
	q->frame.data = data;
	q->frame.caplen = m->data_len;
	q->frame.len = m->pkt_len;
	fn(ctx, &rec);
}

/* The first two cache lines of the frame: Ethernet, VLAN tags, IP and the transport header,
 * all the decoder reads. */
static inline void prefetch_frame(const struct rte_mbuf *m)
{
	const char *p = rte_pktmbuf_mtod(m, const char *);
	rte_prefetch0(p);
	rte_prefetch0(p + RTE_CACHE_LINE_SIZE);
}

/* Back to the pool in one bulk put when every mbuf of the burst is a plain one (one segment,
 * direct, refcount 1, the same pool: what a PMD hands over on a port without scatter), as a
 * driver's TX fast free does: rte_pktmbuf_free_bulk reads each mbuf's next pointer, on its
 * second cache line, which nothing else on this path touches. Anything else goes the general
 * way. */
static inline void free_burst(struct rte_mbuf **m, uint16_t n)
{
	struct rte_mempool *pool = m[0]->pool;
	for (uint16_t j = 0; j < n; j++) {
		if (m[j]->pool != pool || m[j]->nb_segs != 1 || rte_mbuf_refcnt_read(m[j]) != 1 ||
		    (m[j]->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL))) {
			rte_pktmbuf_free_bulk(m, n);
			return;
		}
	}
	rte_mempool_put_bulk(pool, (void **)m, n);
}

static inline uint64_t ns_of(const struct cap_dpdkq *q, uint64_t tsc)
{
	return cap_dpdk_tsc_ns(q->base_ns, q->tsc0, tsc, q->hz);
}

int cap_dpdkq_dispatch(struct cap_dpdkq *q, int max, cap_record_fn fn, void *ctx, char *err, size_t errlen)
{
	if (!q->registered) {
		/* once, on the worker's own thread: an lcore id gives it the pool's per-lcore cache */
		q->registered = true;
		if (rte_thread_register() != 0)
			log_once(&q->no_lcore, "capture %s: no free DPDK lcore for this worker (%s): it reads "
				 "without the mbuf pool's cache, slower", q->name, rte_strerror(rte_errno));
		q->last_rx_tsc = rte_get_tsc_cycles();
	}
	uint64_t start = rte_get_tsc_cycles();
	if (start - q->tsc0 > q->hz) { /* re-anchor the TSC clock to the wall clock once a second */
		q->base_ns = ns_of(q, start);
		uint64_t wall = clock_wall_ns();
		if (wall > q->base_ns) /* never backwards: a record's clock must not go back */
			q->base_ns = wall;
		q->tsc0 = start;
	}
	int got = 0;
	uint64_t limit = (uint64_t)(max > 0 ? max : 1);
	for (;;) {
		unsigned round = 0;
		for (unsigned i = 0; i < q->n_queues; i++) {
			struct rte_mbuf *m[BURST];
			uint16_t n = rte_eth_rx_burst(q->port->id, q->queues[i], m, BURST);
			if (!n)
				continue;
			uint64_t now = rte_get_tsc_cycles();
			uint64_t ns = ns_of(q, now);
			/* mbuf headers 2 * PREFETCH frames ahead, the frames' own headers PREFETCH
			 * ahead (the mbuf says where they are): both are cold (a NIC wrote them by
			 * DMA), a miss per frame on each. Prefetching the whole burst's headers at
			 * once stalled on the core's few outstanding-miss buffers instead. */
			for (uint16_t j = 0; j < n && j < 2 * PREFETCH; j++)
				rte_prefetch0(m[j]);
			for (uint16_t j = 0; j < n && j < PREFETCH; j++)
				prefetch_frame(m[j]);
			for (uint16_t j = 0; j < n; j++) {
				if (j + 2 * PREFETCH < n)
					rte_prefetch0(m[j + 2 * PREFETCH]);
				if (j + PREFETCH < n)
					prefetch_frame(m[j + PREFETCH]);
				one(q, m[j], ns, fn, ctx);
			}
			free_burst(m, n);
			round += n;
			q->last_rx_tsc = now;
		}
		got += (int)round;
		if ((uint64_t)got >= limit || (round == 0 && got > 0))
			return got;
		if (round)
			continue;
		uint64_t now = rte_get_tsc_cycles();
		uint64_t idle = now - q->last_rx_tsc;
		if (q->port->replay && idle >= q->end_tsc) {
			snprintf(err, errlen, "%s: end of the replayed file", q->name);
			return -1;
		}
		if (now - start >= q->wait_tsc)
			return 0;
		if (idle >= q->spin_tsc) {
			struct timespec ts = {.tv_sec = 0, .tv_nsec = IDLE_SLEEP_NS};
			nanosleep(&ts, NULL);
		}
	}
}

const struct cap_frame *cap_dpdkq_frame(const struct cap_dpdkq *q)
{
	return &q->frame;
}

void cap_dpdkq_stats(struct cap_dpdkq *q, struct cap_src_stats *out)
{
	struct rte_eth_stats es;
	struct cap_dpdk_port_counters c = {0};
	if (q->member == 0 && rte_eth_stats_get(q->port->id, &es) == 0)
		c = (struct cap_dpdk_port_counters){.imissed = es.imissed, .rx_nombuf = es.rx_nombuf, .ierrors = es.ierrors,
						    .kernel_losses = kernel_losses(q->port)};
	cap_dpdk_port_drops(&c, q->member, &q->st);
	*out = q->st;
}

#else /* built without libdpdk: the configuration still loads, a dpdk section fails at start */

struct cap_dpdk *cap_dpdk_start(const struct cap_dpdk_spec *spec, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: this rampartd was built without DPDK (pkg-config found no libdpdk: "
		 "install libdpdk-dev and rebuild)", spec->key);
	return NULL;
}

void cap_dpdk_stop(struct cap_dpdk *d)
{
	(void)d;
}

struct cap_dpdkq *cap_dpdkq_open(const struct cap_src_spec *spec, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s: this rampartd was built without DPDK", spec->key, spec->name);
	return NULL;
}

void cap_dpdkq_close(struct cap_dpdkq *q)
{
	(void)q;
}

const char *cap_dpdkq_name(const struct cap_dpdkq *q)
{
	(void)q;
	return "dpdk";
}

bool cap_dpdkq_live(const struct cap_dpdkq *q)
{
	(void)q;
	return true;
}

int cap_dpdkq_dispatch(struct cap_dpdkq *q, int max, cap_record_fn fn, void *ctx, char *err, size_t errlen)
{
	(void)q, (void)max, (void)fn, (void)ctx;
	snprintf(err, errlen, "built without DPDK");
	return -1;
}

const struct cap_frame *cap_dpdkq_frame(const struct cap_dpdkq *q)
{
	(void)q;
	return NULL;
}

void cap_dpdkq_stats(struct cap_dpdkq *q, struct cap_src_stats *out)
{
	(void)q;
	memset(out, 0, sizeof *out);
}

#endif
