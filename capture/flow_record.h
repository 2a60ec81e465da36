/* The one record every capture source produces: a mirrored packet (packets = 1), a flow a
 * router exported, or a flow the mirror flow table aggregated. Detection and storage consume
 * only this. Counts are raw: detection multiplies by sampling_rate, storage keeps both. */
#ifndef RAMPART_CAPTURE_FLOW_RECORD_H
#define RAMPART_CAPTURE_FLOW_RECORD_H

#include <stdint.h>

#include "../lib/ip.h"

enum flow_source {
	FLOW_SRC_MIRROR = 0, /* pcap, AF_PACKET, DPDK */
	FLOW_SRC_SFLOW = 1,
	FLOW_SRC_NETFLOW5 = 2,
	FLOW_SRC_NETFLOW9 = 3,
	FLOW_SRC_IPFIX = 4,
};

/* flow_record.flags */
#define FLOW_F_FRAGMENT 0x01 /* an IP fragment: MF set or a non-zero offset (IPv4), or a
				 Fragment header (IPv6) */
#define FLOW_F_LATER_FRAGMENT 0x02 /* offset != 0: no transport header, ports are zero */
#define FLOW_F_INGRESS 0x04 /* exporter said this flow is ingress (NetFlow/IPFIX direction) */
#define FLOW_F_EGRESS 0x08

/* TCP flag bits as on the wire */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20

struct flow_record {
	uint64_t start_ns; /* capture clock, ns since the Unix epoch: the packet's timestamp, or */
	uint64_t end_ns;   /* the flow's first and last packet as the exporter reported them */
	ip_addr src;
	ip_addr dst;
	ip_addr exporter;       /* the router/agent that exported it; zero for mirror capture */
	uint64_t packets;       /* raw, unscaled */
	uint64_t bytes;         /* raw, unscaled; IP total length (layer 3), as NetFlow counts */
	uint32_t sampling_rate; /* 1 in N; 1 when unsampled (never 0) */
	uint32_t in_if;
	uint32_t out_if;
	uint16_t src_port;
	uint16_t dst_port;  /* ICMP/ICMPv6: type << 8 | code, as NetFlow exporters encode it */
	uint16_t vlan;      /* outer VLAN id, 0 if none */
	uint8_t protocol;   /* IP protocol / IPv6 next header of the transport */
	uint8_t tcp_flags;  /* OR of every packet's flags */
	uint8_t tos;        /* IPv4 TOS / IPv6 traffic class */
	uint8_t flags;      /* FLOW_F_* */
	uint8_t source;     /* enum flow_source */
	uint8_t ip_version; /* 4 or 6 */
};

#endif
