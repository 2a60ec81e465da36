/* A flow export listener: one UDP socket (sFlow, NetFlow v5/v9 or IPFIX) read in recvmmsg
 * batches by one capture worker, its datagrams handed to the capture/ decoders.
 *
 * Memory is fixed at open: BATCH buffers of DGRAM_MAX bytes, their iovecs, addresses and control
 * space. Nothing is allocated per datagram and there is one recvmmsg per batch, not per
 * datagram. Loss is never silent: the kernel's receive-buffer drop counter comes with every
 * datagram (SO_RXQ_OVFL), and a datagram larger than a buffer is counted, not half-decoded. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* recvmmsg */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../lib/clock.h"
#include "../lib/log.h"
#include "flows.h"
#include "source.h"

#define BATCH 64
/* Jumbo frames' payload; exporters keep datagrams under the path MTU, 1500 in practice. */
#define DGRAM_MAX 9216
#define CMSG_SPACE_OVFL CMSG_SPACE(sizeof(uint32_t))

struct cap_flowsrc {
	int fd;
	enum cap_flow_proto proto;
	char name[96];
	cap_flow_decode_fn decode;
	struct cap_flow_ctx *ctx;

	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_storage from[BATCH];
	union {
		char buf[CMSG_SPACE_OVFL];
		struct cmsghdr align;
	} ctl[BATCH];
	uint8_t *data; /* BATCH * DGRAM_MAX */

	struct cap_flowsrc_stats st;
	struct log_once oversize_log, family_log;
};

const char *cap_flow_proto_name(enum cap_flow_proto p)
{
	switch (p) {
	case CAP_FLOW_PROTO_SFLOW: return "sflow";
	case CAP_FLOW_PROTO_NETFLOW: return "netflow";
	case CAP_FLOW_PROTO_IPFIX: return "ipfix";
	}
	return "?";
}

/* The configured endpoint as a socket address (conf/ validated it already). */
static bool parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	ip_addr a;
	uint16_t port;
	int family = ip_parse_endpoint(s, &a, &port);
	memset(ss, 0, sizeof *ss);
	if (family == 4) {
		struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
		v4->sin_family = AF_INET;
		v4->sin_port = htons(port);
		v4->sin_addr.s_addr = htonl(ip_v4_u32(&a));
		*len = sizeof *v4;
		return true;
	}
	if (family == 6) {
		struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons(port);
		memcpy(&v6->sin6_addr, a.b, 16);
		*len = sizeof *v6;
		return true;
	}
	return false;
}

/* The exporter as the decoders key it: IPv4-mapped IPv6 sources of a dual-stack socket are the
 * IPv4 exporters they are, so a router is one exporter whichever socket it reaches. */
static bool sockaddr_ip(const struct sockaddr_storage *ss, ip_addr *out)
{
	if (ss->ss_family == AF_INET) {
		ip_from_v4(out, (const uint8_t *)&((const struct sockaddr_in *)ss)->sin_addr);
		return true;
	}
	if (ss->ss_family == AF_INET6) {
		const uint8_t *b = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
		if (!memcmp(b, ip_v4_mapped_prefix, 12))
			ip_from_v4(out, b + 12);
		else
			ip_from_v6(out, b);
		return true;
	}
	return false;
}

/* Grows the receive buffer to what the configuration asks: SO_RCVBUFFORCE passes the
 * net.core.rmem_max cap when we may (root, CAP_NET_ADMIN); otherwise SO_RCVBUF gets what the cap
 * allows, and the operator is told how much that is. */
static void size_rcvbuf(struct cap_flowsrc *s, uint32_t want)
{
	int v = want > INT32_MAX / 2 ? INT32_MAX / 2 : (int)want;
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof v) != 0)
		(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
	int got = 0;
	socklen_t gl = sizeof got;
	getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &got, &gl);
	s->st.rcvbuf = (uint32_t)got / 2; /* the kernel reports twice what it accounts as payload */
	if ((uint64_t)got / 2 < want)
		log_warn("%s: receive buffer is %d bytes, not the %u configured (capture.udp_rcvbuf): "
			 "raise net.core.rmem_max or run as root",
			 s->name, got / 2, want);
}

struct cap_flowsrc *cap_flowsrc_open(enum cap_flow_proto proto, const char *listen, uint32_t rcvbuf,
				   const struct cap_flow_config *fcfg, char *err, size_t errlen)
{
	struct cap_flowsrc *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->fd = -1;
	s->proto = proto;
	snprintf(s->name, sizeof s->name, "%s %s", cap_flow_proto_name(proto), listen);
	s->decode = proto == CAP_FLOW_PROTO_SFLOW ? cap_sflow_decode : proto == CAP_FLOW_PROTO_IPFIX ? cap_ipfix_decode : cap_netflow_decode;
	s->ctx = cap_flow_new(fcfg);
	s->data = malloc((size_t)BATCH * DGRAM_MAX);
	if (!s->ctx || !s->data) {
		snprintf(err, errlen, "%s: out of memory", s->name);
		goto fail;
	}
	struct sockaddr_storage ss;
	socklen_t sl;
	if (!parse_listen(listen, &ss, &sl)) {
		snprintf(err, errlen, "%s: not an address:port", s->name);
		goto fail;
	}
	s->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		snprintf(err, errlen, "%s: socket: %s", s->name, strerror(errno));
		goto fail;
	}
	int one = 1;
	/* Several workers may later share one port, the kernel spreading exporters over them. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
	    setsockopt(s->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one) != 0) {
		snprintf(err, errlen, "%s: setsockopt: %s", s->name, strerror(errno));
		goto fail;
	}
	size_rcvbuf(s, rcvbuf);
	if (bind(s->fd, (struct sockaddr *)&ss, sl) != 0) {
		snprintf(err, errlen, "%s: bind: %s", s->name, strerror(errno));
		goto fail;
	}
	for (int i = 0; i < BATCH; i++) {
		s->iov[i].iov_base = s->data + (size_t)i * DGRAM_MAX;
		s->iov[i].iov_len = DGRAM_MAX;
	}
	return s;
fail:
	cap_flowsrc_close(s);
	return NULL;
}

void cap_flowsrc_close(struct cap_flowsrc *s)
{
	if (!s)
		return;
	if (s->fd >= 0)
		close(s->fd);
	cap_flow_free(s->ctx);
	free(s->data);
	free(s);
}

const char *cap_flowsrc_name(const struct cap_flowsrc *s)
{
	return s->name;
}

int cap_flowsrc_wait(struct cap_flowsrc *s, int timeout_ms)
{
	struct pollfd p = {.fd = s->fd, .events = POLLIN};
	return poll(&p, 1, timeout_ms);
}

int cap_flowsrc_dispatch(struct cap_flowsrc *s, cap_record_fn fn, void *arg, uint64_t *recv_ns, char *err,
			size_t errlen)
{
	for (int i = 0; i < BATCH; i++) {
		struct msghdr *h = &s->msgs[i].msg_hdr;
		h->msg_name = &s->from[i];
		h->msg_namelen = sizeof s->from[i];
		h->msg_iov = &s->iov[i];
		h->msg_iovlen = 1;
		h->msg_control = s->ctl[i].buf;
		h->msg_controllen = sizeof s->ctl[i].buf;
		h->msg_flags = 0;
	}
	int n = recvmmsg(s->fd, s->msgs, BATCH, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		snprintf(err, errlen, "%s: recvmmsg: %s", s->name, strerror(errno));
		s->st.errors++;
		return -1;
	}
	/* One clock read per batch: the datagrams of a batch arrived within microseconds. */
	uint64_t now = clock_wall_ns();
	*recv_ns = now;
	for (int i = 0; i < n; i++) {
		struct msghdr *h = &s->msgs[i].msg_hdr;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
			if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
				uint32_t drops;
				memcpy(&drops, CMSG_DATA(c), sizeof drops);
				/* the socket's running total when this datagram was queued */
				if (drops > s->st.kernel_drops)
					s->st.kernel_drops = drops;
			}
		s->st.datagrams++;
		s->st.bytes += s->msgs[i].msg_len;
		if (h->msg_flags & MSG_TRUNC) {
			s->st.oversize++;
			log_once(&s->oversize_log, "%s: datagram larger than %d bytes dropped", s->name, DGRAM_MAX);
			continue;
		}
		ip_addr exporter;
		if (!sockaddr_ip(&s->from[i], &exporter)) {
			log_once(&s->family_log, "%s: datagram from an unknown address family %d", s->name,
				 s->from[i].ss_family);
			continue;
		}
		s->decode(s->ctx, s->iov[i].iov_base, s->msgs[i].msg_len, &exporter, now, fn, arg);
	}
	return n;
}

void cap_flowsrc_stats(const struct cap_flowsrc *s, struct cap_flowsrc_stats *out)
{
	*out = s->st;
	cap_flow_stats(s->ctx, &out->decode);
}

size_t cap_flowsrc_exporters(const struct cap_flowsrc *s, struct cap_exporter_info *out, size_t max)
{
	return cap_flow_exporters(s->ctx, out, max);
}

const struct cap_frame *cap_flowsrc_frame(const struct cap_flowsrc *s)
{
	return cap_flow_frame(s->ctx);
}
