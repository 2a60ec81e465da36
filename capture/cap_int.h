/* capture/ internals shared between the decoder and the pcap source. Not for other modules. */
#ifndef RAMPART_CAPTURE_CAP_INT_H
#define RAMPART_CAPTURE_CAP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cap.h"
#include "source.h"

/* The decoder with a reason: on an error, *why names what was wrong (a static string) so the
 * caller can log it with its own context. *why is only written on error, so the fast path
 * pays nothing for it. */
enum cap_decode_result cap_decode_ethernet_why(const uint8_t *frame, size_t caplen, uint64_t ts_ns,
					       struct flow_record *out, const char **why);
enum cap_decode_result cap_decode_ip_why(const uint8_t *pkt, size_t caplen, uint64_t ts_ns,
					 struct flow_record *out, const char **why);
/* From the bytes that follow an EtherType (Linux cooked captures carry one without a MAC
 * header): VLAN tags, MPLS, IPv4, IPv6. */
enum cap_decode_result cap_decode_ethertype_why(uint16_t ethertype, const uint8_t *p, size_t len,
						uint64_t ts_ns, struct flow_record *out,
						const char **why);

/* The first bytes of a frame that did not decode, as "45 00 00 54 ...", for its log line:
 * at most CAP_HEX_HEAD bytes of the caplen there are. */
#define CAP_HEX_HEAD 24
struct cap_hex {
	char s[3 * CAP_HEX_HEAD + 1];
};
struct cap_hex cap_hex_head(const uint8_t *data, size_t caplen);

/* The AF_PACKET source (afpacket.c), behind cap_src. */
struct cap_afp;
struct cap_afp *cap_afp_open(const struct cap_src_spec *spec, char *err, size_t errlen);
void cap_afp_close(struct cap_afp *a);
const char *cap_afp_name(const struct cap_afp *a);
int cap_afp_dispatch(struct cap_afp *a, int max, cap_record_fn fn, void *ctx, char *err, size_t errlen);
const struct cap_frame *cap_afp_frame(const struct cap_afp *a);
void cap_afp_stats(struct cap_afp *a, struct cap_src_stats *out);

/* The AF_XDP source (afxdp.c), behind cap_src. */
struct cap_xdp;
struct cap_xdp *cap_xdp_open(const struct cap_src_spec *spec, char *err, size_t errlen);
void cap_xdp_close(struct cap_xdp *x);
const char *cap_xdp_name(const struct cap_xdp *x);
int cap_xdp_dispatch(struct cap_xdp *x, int max, cap_record_fn fn, void *ctx, char *err, size_t errlen);
const struct cap_frame *cap_xdp_frame(const struct cap_xdp *x);
void cap_xdp_stats(struct cap_xdp *x, struct cap_src_stats *out);

/* The DPDK source (dpdk.c), behind cap_src: a worker's queues of one port started by
 * cap_dpdk_start. */
struct cap_dpdkq;
struct cap_dpdkq *cap_dpdkq_open(const struct cap_src_spec *spec, char *err, size_t errlen);
void cap_dpdkq_close(struct cap_dpdkq *q);
const char *cap_dpdkq_name(const struct cap_dpdkq *q);
bool cap_dpdkq_live(const struct cap_dpdkq *q);
int cap_dpdkq_dispatch(struct cap_dpdkq *q, int max, cap_record_fn fn, void *ctx, char *err, size_t errlen);
const struct cap_frame *cap_dpdkq_frame(const struct cap_dpdkq *q);
void cap_dpdkq_stats(struct cap_dpdkq *q, struct cap_src_stats *out);

#endif
