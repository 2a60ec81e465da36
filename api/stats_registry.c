/* The stats registry: every counter and gauge the daemon shows is one row here (its Prometheus
 * family and labels, type, help, its JSON member, its fragment of a `rampartctl stats` line,
 * and where its value is in a snapshot), and `stats`, /api/v1/stats and /metrics are three
 * renderers of the same rows (docs/API.md, "Stats"). A stat added here shows in all three;
 * a row leaves an output out only with a reason (a string is no Prometheus sample; the
 * exporter list is `rampartctl exporters`' in text).
 *
 * The snapshot is taken once per request on the main loop, so the three views of one moment
 * agree; it is ~400 KB with the capture sources' exporter lists, allocated per request. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "stats_int.h"

static bool has_storage(const struct api_stats_snap *s, enum out o) { (void)o; return s->have_storage; }
static bool has_inserts(const struct api_stats_snap *s, enum out o)
{
	return s->have_storage && (o != OUT_TEXT || s->st.clickhouse); /* files send no INSERTs */
}
static bool has_notify(const struct api_stats_snap *s, enum out o) { (void)o; return s->have_notify; }
static bool has_webhook(const struct api_stats_snap *s, enum out o) { (void)o; return s->have_webhook; }
static bool has_localroute(const struct api_stats_snap *s, enum out o) { (void)o; return s->have_localroute; }
static bool has_state(const struct api_stats_snap *s, enum out o) { (void)o; return s->state_path[0] != '\0'; }
static bool has_samples(const struct api_stats_snap *s, enum out o) { (void)o; return s->have_samples; }
static bool has_bgp(const struct api_stats_snap *s, enum out o) { (void)o; return s->have_bgp; }
static bool has_md5(const struct api_stats_snap *s, enum out o) { (void)o; return s->have_bgp && s->have_md5; }
static bool has_http(const struct api_stats_snap *s, enum out o) { (void)o; return s->have_http; }
static bool has_control(const struct api_stats_snap *s, enum out o) { (void)o; return s->have_control; }

const struct section stats_sections[S_COUNT] = {
	[S_TOP] = {D_ONE, "", NULL, NULL},
	[S_DETECT] = {D_ONE, "detect", "detect:", NULL},
	[S_SRC] = {D_SOURCE, NULL, NULL, NULL},
	[S_SRC_TAIL] = {D_SOURCE, NULL, NULL, NULL},
	[S_SRC_FINISH] = {D_SOURCE, NULL, NULL, NULL},
	[S_LISTENER] = {D_SOURCE, NULL, NULL, NULL},
	[S_LISTENER_STATE] = {D_SOURCE, NULL, NULL, NULL},
	[S_REFUSED] = {D_REFUSAL, NULL, NULL, NULL},
	[S_EXPORTER] = {D_EXPORTER, NULL, NULL, NULL},
	[S_STORAGE] = {D_ONE, "storage", NULL, has_storage},
	[S_STORAGE_OPS] = {D_ONE, "storage", "storage operator events:", has_storage},
	[S_STORAGE_SPOOL] = {D_ONE, "storage", "storage spool", has_storage},
	[S_STORAGE_SPOOL_EVENTS] = {D_ONE, "storage", "storage spool events:", has_storage},
	[S_STORAGE_SPOOL_OPS] = {D_ONE, "storage", "storage spool operator events:", has_storage},
	[S_STORAGE_LOST] = {D_ONE, "storage", "storage lost at stop:", has_storage},
	[S_STORAGE_INSERTS] = {D_ONE, "storage", "storage inserts:", has_inserts},
	[S_STORAGE_RETENTION] = {D_ONE, "storage", "storage retention:", has_storage},
	[S_NOTIFY] = {D_ONE, "notify", "notify:", has_notify},
	[S_WEBHOOK] = {D_ONE, "webhook", "webhook:", has_webhook},
	[S_LOCALROUTE] = {D_ONE, "local_blackhole", "local blackhole:", has_localroute},
	[S_BANSTATE] = {D_ONE, "ban_state", NULL, has_state},
	[S_BANSTATE_DISK] = {D_ONE, "ban_state", "ban state disk:", has_state},
	[S_DECISIONS] = {D_ONE, "decisions", "decisions:", NULL},
	[S_EXABGP] = {D_ONE, "exabgp", "exabgp:", NULL},
	[S_SAMPLES] = {D_ONE, "attack_pcap", "attack pcap:", has_samples},
	[S_BGP] = {D_ONE, "bgp", "bgp:", has_bgp},
	[S_PEER] = {D_PEER, "bgp_peers", NULL, has_bgp},
	[S_MD5] = {D_ONE, "tcp_md5_drops", "tcp md5 drops:", has_md5},
	[S_HTTP] = {D_ONE, "http", "http:", has_http},
	[S_CONTROL] = {D_ONE, "control", "control:", has_control},
};

#define SNAP(f) offsetof(struct api_stats_snap, f)
#define SRC(f) offsetof(struct stat_source, f)
#define EXP(f) offsetof(struct cap_exporter_info, f)
#define PEER(f) offsetof(struct bgp_peer_status, f)

static const char *src_name(const void *b, char *buf, size_t len) { (void)buf, (void)len; return ((const struct stat_source *)b)->s.name; }
static const char *st_dest(const void *b, char *buf, size_t len) { (void)buf, (void)len; return ((const struct api_stats_snap *)b)->st_dest; }
static const char *st_error(const void *b, char *buf, size_t len) { (void)buf, (void)len; return ((const struct api_stats_snap *)b)->st.last_error; }
static const char *bs_path(const void *b, char *buf, size_t len) { (void)buf, (void)len; return ((const struct api_stats_snap *)b)->state_path; }
static const char *exp_addr(const void *b, char *buf, size_t len)
{
	(void)len;
	return ip_format(&((const struct cap_exporter_info *)b)->addr, buf);
}
static const char *exp_agent(const void *b, char *buf, size_t len)
{
	const struct cap_exporter_info *e = b;
	if (ip_is_zero(&e->agent))
		return "";
	(void)len;
	return ip_format(&e->agent, buf);
}
static const char *exp_protocol(const void *b, char *buf, size_t len)
{
	static const char *const protos[] = {"mirror", "sflow", "netflow5", "netflow9", "ipfix"};
	(void)buf, (void)len;
	uint8_t p = ((const struct cap_exporter_info *)b)->source;
	return p < 5 ? protos[p] : "?";
}
static const char *peer_addr(const void *b, char *buf, size_t len)
{
	(void)len;
	return ip_format(&((const struct bgp_peer_status *)b)->address, buf);
}
static uint64_t peer_established(const void *b)
{
	return !strcmp(((const struct bgp_peer_status *)b)->state, "Established");
}

/* The Prometheus family, type and help of a row; R() a row of a section at off. */
#define M(name, t, h) .metric = name, .type = t, .help = h
#define R(s, k, off_, json_, text_, ...) {.sec = s, .kind = k, .off = off_, .json = json_, .text = text_, __VA_ARGS__}

const struct row stats_rows[] = {
	/* clock ticks hosts */
	R(S_TOP, K_TIME, SNAP(clock_ns), "clock_ns", "clock #"),
	R(S_TOP, K_U64, SNAP(ticks), "ticks", " ticks #", M("rampart_ticks_total", COUNTER, "Detection ticks run.")),
	R(S_TOP, K_SIZE, SNAP(hosts), "hosts", " hosts #", M("rampart_hosts_tracked", GAUGE, "Hosts with detection state.")),
	R(S_TOP, K_SIZE, SNAP(bans), "bans", " bans #", M("rampart_bans_active", GAUGE, "Active bans.")),
	/* the engine's host table */
	R(S_DETECT, K_SIZE, SNAP(det.hosts), "hosts", " hosts #"),
	R(S_DETECT, K_SIZE, SNAP(det.max_hosts), "max_hosts", " of #",
	  M("rampart_hosts_max", GAUGE, "The engine's host table size (detection.max_hosts).")),
	R(S_DETECT, K_U64, SNAP(det.hosts_evicted), "pushed_out", " pushed_out #",
	  M("rampart_hosts_pushed_out_total", COUNTER, "Quiet hosts the full host table pushed out for a busier new host.")),
	R(S_DETECT, K_U64, SNAP(det.hosts_overflow[DET_IN]), "hosts_overflow_in", " hosts_overflow_in #",
	  M("rampart_hosts_overflow_total", COUNTER,
	    "Not counted for lack of room: records in a worker's host table (source), host counts of a tick in the engine's (source=\"detect\")."),
	  .labels = "source=\"detect\",direction=\"incoming\""),
	R(S_DETECT, K_U64, SNAP(det.hosts_overflow[DET_OUT]), "hosts_overflow_out", " hosts_overflow_out #",
	  .metric = "rampart_hosts_overflow_total", .labels = "source=\"detect\",direction=\"outgoing\""),
	/* each capture source: a mirror's line (S_SRC), a flow listener's (S_LISTENER), then both */
	R(S_SRC, K_STR, 0, "source", "capture #:", .str = src_name),
	R(S_SRC, K_U64, SRC(s.pcap.frames), "frames", " frames #", M("rampart_capture_frames_total", COUNTER, "Frames read per capture source.")),
	R(S_SRC, K_U64, SRC(s.pcap.decode[CAP_DECODE_OK]), "decoded", " decoded #",
	  M("rampart_capture_decode_total", COUNTER, "Frames per decode result."), .labels = "result=\"ok\""),
	R(S_SRC, K_U64, SRC(s.pcap.decode[CAP_DECODE_TRUNCATED]), "truncated", " truncated #",
	  .metric = "rampart_capture_decode_total", .labels = "result=\"truncated\""),
	R(S_SRC, K_U64, SRC(s.pcap.decode[CAP_DECODE_MALFORMED]), "malformed", " malformed #",
	  .metric = "rampart_capture_decode_total", .labels = "result=\"malformed\""),
	R(S_SRC, K_U64, SRC(s.pcap.decode[CAP_DECODE_NOT_IP]), "not_ip", " not_ip #",
	  .metric = "rampart_capture_decode_total", .labels = "result=\"not_ip\""),
	R(S_SRC, K_U64, SRC(kernel_drops), "kernel_drops", " kernel_drops #",
	  M("rampart_capture_kernel_drops_total", COUNTER, "Frames the kernel dropped before capture.")),
	R(S_SRC, K_U64, SRC(s.pcap.ring_drops), "ring_drops", " ring_drops #",
	  M("rampart_capture_ring_drops_total", COUNTER, "Frames the kernel had for a mirror source but its ring or buffer was full.")),
	R(S_SRC, K_U64, SRC(s.pcap.if_drops), "if_drops", " if_drops #",
	  M("rampart_capture_if_drops_total", COUNTER, "Frames the interface or NIC dropped.")),
	R(S_SRC, K_U64, SRC(s.pcap.bad_blocks), "bad_blocks", " bad_blocks #",
	  M("rampart_capture_bad_blocks_total", COUNTER, "Ring blocks with impossible offsets (the rest of each block is lost).")),
	R(S_SRC, K_U64, SRC(s.pcap.sampled_out), "sampled_out", " sampled_out #",
	  M("rampart_capture_sampled_out_total", COUNTER, "Frames skipped by mirror sampling (sample: N).")),
	R(S_SRC, K_U64, SRC(s.flows.active), "flows_active", " flows_active #", M("rampart_flows_active", GAUGE, "Flows in the mirror flow table.")),
	R(S_SRC, K_U64, SRC(s.flows.exported), "flows_exported", " flows_exported #",
	  M("rampart_flows_exported_total", COUNTER, "Flow rows exported by the mirror flow table.")),
	R(S_LISTENER, K_STR, 0, NULL, "listener #:", .str = src_name),
	R(S_LISTENER, K_U64, SRC(s.udp.datagrams), "datagrams", " datagrams #",
	  M("rampart_flow_datagrams_total", COUNTER, "Datagrams read per flow listener.")),
	R(S_LISTENER, K_U64, SRC(s.udp.bytes), "bytes", " bytes #", M("rampart_flow_bytes_total", COUNTER, "Bytes read per flow listener.")),
	R(S_LISTENER, K_U64, SRC(s.udp.kernel_drops), "kernel_drops", " kernel_drops #"), /* rampart_capture_kernel_drops_total */
	R(S_LISTENER, K_U64, SRC(s.udp.oversize), "oversize", " oversize #",
	  M("rampart_flow_oversize_total", COUNTER, "Datagrams too large for a receive buffer, dropped.")),
	R(S_LISTENER, K_U64, SRC(s.udp.decode.result[CAP_FLOW_TRUNCATED]), "truncated", " truncated #",
	  M("rampart_flow_datagrams_bad_total", COUNTER, "Datagrams dropped whole, by result: truncated, malformed, wrong_version."),
	  .labels = "result=\"truncated\""),
	R(S_LISTENER, K_U64, SRC(s.udp.decode.result[CAP_FLOW_MALFORMED]), "malformed", " malformed #",
	  .metric = "rampart_flow_datagrams_bad_total", .labels = "result=\"malformed\""),
	R(S_LISTENER, K_U64, SRC(s.udp.decode.result[CAP_FLOW_VERSION]), "wrong_version", " wrong_version #",
	  .metric = "rampart_flow_datagrams_bad_total", .labels = "result=\"wrong_version\""),
	R(S_LISTENER, K_U64, SRC(s.udp.decode.exporters), NULL, " exporters #", /* JSON: exporters_known */
	  M("rampart_flow_exporters", GAUGE, "Exporters in a flow listener's table now.")),
	R(S_LISTENER, K_U64, SRC(s.udp.decode.result[CAP_FLOW_TABLE_FULL]), "exporters_refused", " refused_exporter #",
	  M("rampart_flow_exporters_refused_total", COUNTER, "Datagrams of an exporter the full table had no room for.")),
	R(S_LISTENER, K_U32, SRC(s.udp.rcvbuf), "rcvbuf", " rcvbuf #",
	  M("rampart_flow_rcvbuf_bytes", GAUGE, "The receive buffer the kernel granted a flow listener.")),
	R(S_SRC_TAIL, K_U64, SRC(s.flows_dropped), "flows_dropped", " flows_dropped #",
	  M("rampart_flows_dropped_total", COUNTER, "Flow rows the storage ring refused, per capture source.")),
	R(S_SRC_TAIL, K_U64, SRC(s.hosts_overflow), "hosts_overflow", " hosts_overflow #"), /* the sum of the two below */
	R(S_SRC_TAIL, K_U64, SRC(s.hosts_overflow_dir[DET_IN]), "hosts_overflow_in", " hosts_overflow_in #",
	  .metric = "rampart_hosts_overflow_total", .labels = "direction=\"incoming\""),
	R(S_SRC_TAIL, K_U64, SRC(s.hosts_overflow_dir[DET_OUT]), "hosts_overflow_out", " hosts_overflow_out #",
	  .metric = "rampart_hosts_overflow_total", .labels = "direction=\"outgoing\""),
	R(S_SRC_FINISH, K_BOOL, SRC(s.finished), "finished", " finished",
	  M("rampart_capture_finished", GAUGE, "1 when a replayed capture reached its end.")),
	R(S_LISTENER_STATE, K_STR, 0, NULL, "listener # state:", .str = src_name),
	R(S_LISTENER_STATE, K_U64, SRC(s.udp.errors), "errors", " errors #",
	  M("rampart_flow_receive_errors_total", COUNTER, "recvmmsg failures per flow listener.")),
	R(S_LISTENER_STATE, K_SIZE, SRC(s.n_exporters), "exporters_known", " exporters_known #"), /* rampart_flow_exporters */
	R(S_LISTENER_STATE, K_U64, SRC(s.udp.decode.evicted), "exporters_evicted", " exporters_evicted #",
	  M("rampart_flow_exporters_evicted_total", COUNTER, "Exporters pushed out for a new one (never one sending valid data and active).")),
	R(S_LISTENER_STATE, K_U64, SRC(s.udp.decode.templates_reclaimed), "templates_reclaimed", " templates_reclaimed #",
	  M("rampart_flow_templates_reclaimed_total", COUNTER, "Templates freed from exporters that never sent valid data, for room under max_template_bytes.")),
	R(S_LISTENER_STATE, K_U64, SRC(s.udp.decode.template_bytes), "template_bytes", " template_bytes #",
	  M("rampart_flow_template_bytes", GAUGE, "Template memory held per flow listener.")),
	/* per listener and refusal reason (docs/FLOWS.md) */
	R(S_REFUSED, K_U64, 0, "*", "*", M("rampart_flow_refused_total", COUNTER,
	  "State refused to a flow source, by reason (docs/FLOWS.md): datagrams or templates dropped.")),
	/* per listener and exporter; text: `rampartctl exporters` */
	R(S_EXPORTER, K_STR, 0, "exporter", NULL, .str = exp_addr),
	R(S_EXPORTER, K_STR, 0, "agent", NULL, .str = exp_agent),
	R(S_EXPORTER, K_STR, 0, "protocol", NULL, .str = exp_protocol),
	R(S_EXPORTER, K_U32, EXP(domain), "domain", NULL),
	R(S_EXPORTER, K_U32, EXP(sampling_rate), "sampling_rate", NULL),
	R(S_EXPORTER, K_U32, EXP(templates), "templates", NULL),
	R(S_EXPORTER, K_U64, EXP(last_seen_ns), "last_seen_ns", NULL),
	R(S_EXPORTER, K_U64, EXP(datagrams), "datagrams", NULL, M("rampart_flow_exporter_total", COUNTER,
	  "Per exporter: datagrams, records, malformed, template_misses, sequence_gaps."), .labels = "counter=\"datagrams\""),
	R(S_EXPORTER, K_U64, EXP(records), "records", NULL, .metric = "rampart_flow_exporter_total", .labels = "counter=\"records\""),
	R(S_EXPORTER, K_U64, EXP(malformed), "malformed", NULL, .metric = "rampart_flow_exporter_total", .labels = "counter=\"malformed\""),
	R(S_EXPORTER, K_U64, EXP(template_misses), "template_misses", NULL, .metric = "rampart_flow_exporter_total",
	  .labels = "counter=\"template_misses\""),
	R(S_EXPORTER, K_U64, EXP(templates_refused), "templates_refused", NULL),
	R(S_EXPORTER, K_U64, EXP(sequence_gaps), "sequence_gaps", NULL, .metric = "rampart_flow_exporter_total",
	  .labels = "counter=\"sequence_gaps\""),
	R(S_EXPORTER, K_U64, EXP(skipped), "skipped", NULL),
	R(S_EXPORTER, K_U64, EXP(counter_samples), "counter_samples", NULL),
	/* storage */
	R(S_STORAGE, K_STR, 0, "destination", "storage #:", .str = st_dest),
	R(S_STORAGE, K_U64, SNAP(st.flows_queued), "flows_queued", " flows queued #",
	  M("rampart_storage_rows_total", COUNTER, "Rows per table and state."), .labels = "table=\"flows\",state=\"queued\""),
	R(S_STORAGE, K_U64, SNAP(st.flows_written), "flows_written", " written #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"flows\",state=\"written\""),
	R(S_STORAGE, K_U64, SNAP(st.flows_dropped), "flows_dropped", " dropped #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"flows\",state=\"dropped\""),
	R(S_STORAGE, K_U64, SNAP(st.events_queued), "events_queued", " events queued #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"attack_events\",state=\"queued\""),
	R(S_STORAGE, K_U64, SNAP(st.events_written), "events_written", " written #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"attack_events\",state=\"written\""),
	R(S_STORAGE, K_U64, SNAP(st.events_dropped), "events_dropped", " dropped #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"attack_events\",state=\"dropped\""),
	R(S_STORAGE, K_U64, SNAP(st.batches_failed), "batches_failed", " failed_batches #",
	  M("rampart_storage_batches_failed_total", COUNTER, "Batch posts that failed (retried).")),
	R(S_STORAGE, K_STR, 0, "last_error", " last_error: #", .str = st_error, .flags = F_IF_SET),
	R(S_STORAGE_OPS, K_U64, SNAP(st.ops_queued), "operator_events_queued", " queued #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"operator_events\",state=\"queued\""),
	R(S_STORAGE_OPS, K_U64, SNAP(st.ops_written), "operator_events_written", " written #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"operator_events\",state=\"written\""),
	R(S_STORAGE_OPS, K_U64, SNAP(st.ops_dropped), "operator_events_dropped", " dropped #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"operator_events\",state=\"dropped\""),
	R(S_STORAGE_OPS, K_U64, SNAP(st.ops_lost), "operator_events_lost", " lost #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"operator_events\",state=\"lost\""),
	/* the spool: rows that went to disk while ClickHouse was away, came back, or did not fit */
	R(S_STORAGE_SPOOL, K_BOOL, SNAP(st_down), "clickhouse_down", " (ClickHouse down)",
	  M("rampart_storage_clickhouse_down", GAUGE, "1 while the last post or probe failed.")),
	R(S_STORAGE_SPOOL, K_U64, SNAP(st.spool_batches), "spool_batches", ": # batches",
	  M("rampart_storage_spool_batches", GAUGE, "Batches in the disk spool now.")),
	R(S_STORAGE_SPOOL, K_U64, SNAP(st.spool_bytes), "spool_bytes", " # bytes", M("rampart_storage_spool_bytes", GAUGE, "Bytes in the disk spool now.")),
	R(S_STORAGE_SPOOL, K_U64, SNAP(st.flows_spooled), "flows_spooled", ", flows spooled #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"flows\",state=\"spooled\""),
	R(S_STORAGE_SPOOL, K_U64, SNAP(st.flows_replayed), "flows_replayed", " replayed #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"flows\",state=\"replayed\""),
	R(S_STORAGE_SPOOL, K_U64, SNAP(st.flows_spool_dropped), "flows_spool_dropped", " dropped #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"flows\",state=\"spool_dropped\""),
	R(S_STORAGE_SPOOL, K_U64, SNAP(st.batches_deduplicated), "batches_deduplicated", ", deduplicated #",
	  M("rampart_storage_batches_deduplicated_total", COUNTER, "Replays skipped: ClickHouse already had the batch.")),
	R(S_STORAGE_SPOOL_EVENTS, K_U64, SNAP(st.events_spooled), "events_spooled", " spooled #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"attack_events\",state=\"spooled\""),
	R(S_STORAGE_SPOOL_EVENTS, K_U64, SNAP(st.events_replayed), "events_replayed", " replayed #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"attack_events\",state=\"replayed\""),
	R(S_STORAGE_SPOOL_EVENTS, K_U64, SNAP(st.events_spool_dropped), "events_spool_dropped", " dropped #",
	  .metric = "rampart_storage_rows_total", .labels = "table=\"attack_events\",state=\"spool_dropped\""),
	R(S_STORAGE_SPOOL_OPS, K_U64, SNAP(st.ops_spooled), "operator_events_spooled", " spooled #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"operator_events\",state=\"spooled\""),
	R(S_STORAGE_SPOOL_OPS, K_U64, SNAP(st.ops_replayed), "operator_events_replayed", " replayed #",
	  .metric = "rampart_storage_rows_total", .labels = "table=\"operator_events\",state=\"replayed\""),
	R(S_STORAGE_SPOOL_OPS, K_U64, SNAP(st.ops_spool_dropped), "operator_events_spool_dropped", " dropped #",
	  .metric = "rampart_storage_rows_total", .labels = "table=\"operator_events\",state=\"spool_dropped\""),
	R(S_STORAGE_LOST, K_U64, SNAP(st.flows_lost), "flows_lost", " flows #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"flows\",state=\"lost\""),
	R(S_STORAGE_LOST, K_U64, SNAP(st.events_lost), "events_lost", " events #", .metric = "rampart_storage_rows_total",
	  .labels = "table=\"attack_events\",state=\"lost\""),
	R(S_STORAGE_INSERTS, K_U64, SNAP(st.insert_bytes), "insert_bytes", " # bytes encoded,",
	  M("rampart_storage_insert_bytes_total", COUNTER, "INSERT bodies posted to ClickHouse: as encoded (stage=encoded) and as sent (stage=wire)."),
	  .labels = "stage=\"encoded\""),
	R(S_STORAGE_INSERTS, K_U64, SNAP(st.insert_wire_bytes), "insert_wire_bytes", " # bytes sent",
	  .metric = "rampart_storage_insert_bytes_total", .labels = "stage=\"wire\""),
	R(S_STORAGE_RETENTION, K_U64, SNAP(st.partitions_dropped), "partitions_dropped", " partitions_dropped #",
	  M("rampart_storage_partitions_dropped_total", COUNTER, "Old partitions dropped by retention (servers without TTL).")),
	/* actions */
	R(S_NOTIFY, K_U64, SNAP(notify.started), "started", " started #",
	  M("rampart_notify_calls_total", COUNTER, "Notify script calls: started, and how they ended (ok, failed, timed_out), or dropped unstarted."),
	  .labels = "state=\"started\""),
	R(S_NOTIFY, K_U64, SNAP(notify.ok), "ok", " ok #", .metric = "rampart_notify_calls_total", .labels = "state=\"ok\""),
	R(S_NOTIFY, K_U64, SNAP(notify.failed), "failed", " failed #", .metric = "rampart_notify_calls_total", .labels = "state=\"failed\""),
	R(S_NOTIFY, K_U64, SNAP(notify.timed_out), "timed_out", " timed_out #", .metric = "rampart_notify_calls_total",
	  .labels = "state=\"timed_out\""),
	R(S_NOTIFY, K_U64, SNAP(notify.dropped), "dropped", " dropped #", .metric = "rampart_notify_calls_total", .labels = "state=\"dropped\""),
	R(S_NOTIFY, K_U32, SNAP(notify.running), "running", " running #", M("rampart_notify_running", GAUGE, "Notify scripts running now.")),
	R(S_NOTIFY, K_U32, SNAP(notify.queued), "queued", " queued #", M("rampart_notify_queued", GAUGE, "Notify calls waiting for a free slot.")),
	R(S_WEBHOOK, K_U64, SNAP(webhook.queued), "queued", " queued #",
	  M("rampart_webhook_events_total", COUNTER, "Webhook events: queued, sent, retried (attempts), failed (given up), dropped (queue full)."),
	  .labels = "state=\"queued\""),
	R(S_WEBHOOK, K_U64, SNAP(webhook.sent), "sent", " sent #", .metric = "rampart_webhook_events_total", .labels = "state=\"sent\""),
	R(S_WEBHOOK, K_U64, SNAP(webhook.retried), "retried", " retried #", .metric = "rampart_webhook_events_total", .labels = "state=\"retried\""),
	R(S_WEBHOOK, K_U64, SNAP(webhook.failed), "failed", " failed #", .metric = "rampart_webhook_events_total", .labels = "state=\"failed\""),
	R(S_WEBHOOK, K_U64, SNAP(webhook.dropped), "dropped", " dropped #", .metric = "rampart_webhook_events_total", .labels = "state=\"dropped\""),
	R(S_LOCALROUTE, K_U64, SNAP(localroute.added), "added", " added #",
	  M("rampart_local_blackhole_routes_total", COUNTER, "Local kernel blackhole routes added, removed, and changes that failed."),
	  .labels = "op=\"added\""),
	R(S_LOCALROUTE, K_U64, SNAP(localroute.removed), "removed", " removed #", .metric = "rampart_local_blackhole_routes_total",
	  .labels = "op=\"removed\""),
	R(S_LOCALROUTE, K_U64, SNAP(localroute.failed), "failed", " failed #", .metric = "rampart_local_blackhole_routes_total",
	  .labels = "op=\"failed\""),
	/* the ban state file */
	R(S_BANSTATE, K_STR, 0, "file", "ban state #:", .str = bs_path),
	R(S_BANSTATE, K_U64, SNAP(bs.writes), "writes", " writes #",
	  M("rampart_banstate_writes_total", COUNTER, "Ban state file writes, by result (a failed one is retried)."), .labels = "result=\"ok\""),
	R(S_BANSTATE, K_U64, SNAP(bs.write_errors), "write_errors", " failed #", .metric = "rampart_banstate_writes_total",
	  .labels = "result=\"failed\""),
	R(S_BANSTATE, K_U64, SNAP(bs.no_space), "no_space", " (no space #)", M("rampart_banstate_no_space_total", COUNTER,
	  "Ban state writes refused for lack of space (ENOSPC, EDQUOT); the last good file stays.")),
	R(S_BANSTATE, K_BOOL, SNAP(bs.disk_full), "disk_full", " DISK FULL", M("rampart_banstate_disk_full", GAUGE,
	  "1 while the ban state file's disk is full: a write refused, or no room to reserve the next one.")),
	R(S_BANSTATE, K_US, SNAP(bs.last_write_us), "last_write_us", " last # ms", M("rampart_banstate_last_write_seconds", GAUGE,
	  "The last ban state write's time: write, fsync, rename (on the writer thread).")),
	R(S_BANSTATE, K_US, SNAP(bs.last_serialise_us), "last_serialise_us", " (serialise # ms)", M("rampart_banstate_last_serialise_seconds",
	  GAUGE, "The main loop's part of the last ban state write: its tables as the file's text.")),
	R(S_BANSTATE, K_U64, SNAP(bs.last_write_bytes), "last_write_bytes", " # bytes",
	  M("rampart_banstate_last_write_bytes", GAUGE, "The ban state file's size at its last write.")),
	R(S_BANSTATE, K_BOOL, SNAP(bs.restart), "restart", "; at start: restart", .text_false = "; at start: first start",
	  M("rampart_banstate_restart", GAUGE, "1 when this start read a previous run's ban state file: a restart (RFC 4724 Restart State bit).")),
	R(S_BANSTATE, K_U64, SNAP(bs.restored), "restored", ", restored #", M("rampart_banstate_start_records", GAUGE,
	  "What the start found in the ban state file, per record: restored, expired (a ban that ended while down), refused, skipped (a bad line)."),
	  .labels = "result=\"restored\""),
	R(S_BANSTATE, K_U64, SNAP(bs.restored_bans), "restored_bans", " (bans #)",
	  M("rampart_banstate_restored_bans", GAUGE, "Bans the start put back from the ban state file.")),
	R(S_BANSTATE, K_U64, SNAP(bs.expired), "expired", " expired #", .metric = "rampart_banstate_start_records", .labels = "result=\"expired\""),
	R(S_BANSTATE, K_U64, SNAP(bs.refused), "refused", " refused #", .metric = "rampart_banstate_start_records", .labels = "result=\"refused\""),
	R(S_BANSTATE, K_U64, SNAP(bs.skipped), "skipped", " skipped #", .metric = "rampart_banstate_start_records", .labels = "result=\"skipped\""),
	R(S_BANSTATE_DISK, K_U64, SNAP(bs.spare_failures), "spare_failures", " spare_failures #", M("rampart_banstate_spare_failures_total",
	  COUNTER, "Ban state writes after which the next write's space (FILE.spare) could not be reserved.")),
	R(S_BANSTATE_DISK, K_U64, SNAP(bs.disk_full_events), "disk_full_events", " disk_full_events #",
	  M("rampart_banstate_disk_full_events_total", COUNTER, "Times the ban state file's disk became full.")),
	/* mitigation */
	R(S_DECISIONS, K_U64, SNAP(mit.announced), "announced", " announced #", M("rampart_decisions_total", COUNTER, "What the decisions did."),
	  .labels = "kind=\"announced\""),
	R(S_DECISIONS, K_U64, SNAP(mit.withdrawn), "withdrawn", " withdrawn #", .metric = "rampart_decisions_total", .labels = "kind=\"withdrawn\""),
	R(S_DECISIONS, K_U64, SNAP(mit.events), "events", " events #", .metric = "rampart_decisions_total", .labels = "kind=\"events\""),
	R(S_DECISIONS, K_BOOL, SNAP(dry_run), "dry_run", " (dry run)", M("rampart_dry_run", GAUGE, "1 under mitigation.dry_run: nothing is announced.")),
	R(S_EXABGP, K_U64, SNAP(exa.lines), "lines", " lines #", M("rampart_exabgp_lines_total", COUNTER, "ExaBGP API lines read from the pipe and the process.")),
	R(S_EXABGP, K_U64, SNAP(exa.errors), "errors", " errors #", M("rampart_exabgp_errors_total", COUNTER, "ExaBGP API lines refused.")),
	R(S_EXABGP, K_U64, SNAP(exa.replies_dropped), "replies_dropped", " replies_dropped #",
	  M("rampart_exabgp_replies_dropped_total", COUNTER, "Replies to the ExaBGP process dropped: it did not read them.")),
	R(S_EXABGP, K_U64, SNAP(exa.process_starts), "process_starts", " process_starts #",
	  M("rampart_exabgp_process_starts_total", COUNTER, "Starts of api.exabgp_process.")),
	R(S_EXABGP, K_INT, SNAP(exa.process_pid), "process_pid", " process_pid #",
	  M("rampart_exabgp_process_pid", GAUGE, "The ExaBGP process' pid; 0 when it is not running.")),
	R(S_EXABGP, K_SIZE, SNAP(mit.routes), "routes", " routes #", M("rampart_routes", GAUGE, "Prefixes in the routes table, every source.")),
	/* attack sample files (detection.attack_pcap) */
	R(S_SAMPLES, K_U64, SNAP(smp.written), "written", " written #", M("rampart_attack_pcap_samples_total", COUNTER,
	  "Attack sample packets: written to a file, dropped (a worker's ring was full), skipped (file closed, unwritable or of another link type)."),
	  .labels = "state=\"written\""),
	R(S_SAMPLES, K_U64, SNAP(smp.dropped), "dropped", " dropped #", .metric = "rampart_attack_pcap_samples_total", .labels = "state=\"dropped\""),
	R(S_SAMPLES, K_U64, SNAP(smp.skipped), "skipped", " skipped #", .metric = "rampart_attack_pcap_samples_total", .labels = "state=\"skipped\""),
	R(S_SAMPLES, K_U64, SNAP(smp.files_opened), "files_opened", " files #", M("rampart_attack_pcap_files_total", COUNTER, "Attack pcap files opened.")),
	R(S_SAMPLES, K_U64, SNAP(smp.files_deleted), "files_deleted", " deleted #",
	  M("rampart_attack_pcap_files_deleted_total", COUNTER, "Attack pcap files deleted by retention (keep_days, max_files).")),
	R(S_SAMPLES, K_U64, SNAP(smp.errors), "errors", " errors #",
	  M("rampart_attack_pcap_errors_total", COUNTER, "Attack pcap files that could not be written.")),
	R(S_SAMPLES, K_U32, SNAP(smp.open), "open", " open #", M("rampart_attack_pcap_open_files", GAUGE, "Attack pcap files collecting now.")),
	/* BGP */
	R(S_BGP, K_SIZE, SNAP(rib_out), "rib_out", " rib_out #", M("rampart_bgp_rib_out_routes", GAUGE, "Routes in the RIB-out.")),
	R(S_PEER, K_STR, 0, "peer", "bgp peer #:", .str = peer_addr),
	R(S_PEER, K_BOOL, 0, "established", " established", .text_false = " not established", .num = peer_established,
	  M("rampart_bgp_peer_established", GAUGE, "1 while the session is Established.")),
	R(S_PEER, K_U64, PEER(updates_sent), "updates_sent", " updates_sent #",
	  M("rampart_bgp_updates_sent_total", COUNTER, "UPDATE messages sent per peer.")),
	R(S_PEER, K_U64, PEER(taw_received), "treat_as_withdraw", " treat_as_withdraw #",
	  M("rampart_bgp_treat_as_withdraw_total", COUNTER, "UPDATEs received and treated as withdraw (RFC 7606), per peer.")),
	R(S_PEER, K_U64, PEER(attrs_discarded), "attrs_discarded", " attrs_discarded #",
	  M("rampart_bgp_attrs_discarded_total", COUNTER, "Path attributes received and discarded (RFC 7606 attribute discard), per peer.")),
	R(S_MD5, K_U64, SNAP(md5.failure), "wrong_key", " wrong_key #", M("rampart_tcp_md5_drops_total", COUNTER,
	  "TCP segments the kernel dropped for their MD5 signature (RFC 2385), this network namespace, all peers: kind = wrong_key, unsigned (we have a key), unexpected (we have none)."),
	  .labels = "kind=\"wrong_key\""),
	R(S_MD5, K_U64, SNAP(md5.not_found), "unsigned", " unsigned #", .metric = "rampart_tcp_md5_drops_total", .labels = "kind=\"unsigned\""),
	R(S_MD5, K_U64, SNAP(md5.unexpected), "unexpected", " unexpected #", .metric = "rampart_tcp_md5_drops_total", .labels = "kind=\"unexpected\""),
	/* the API's own bounds (docs/OPERATIONS.md, "The API's security model") */
	R(S_HTTP, K_U64, SNAP(http.refused_host), "refused_host", " refused_host #", M("rampart_api_requests_refused_total", COUNTER,
	  "HTTP requests refused: host = Host not this server's (421), token = bearer token missing or wrong (401), content_type = a command not sent as application/json (415)."),
	  .labels = "reason=\"host\""),
	R(S_HTTP, K_U64, SNAP(http.refused_token), "refused_token", " refused_token #", .metric = "rampart_api_requests_refused_total",
	  .labels = "reason=\"token\""),
	R(S_HTTP, K_U64, SNAP(http.refused_type), "refused_content_type", " refused_content_type #",
	  .metric = "rampart_api_requests_refused_total", .labels = "reason=\"content_type\""),
	R(S_HTTP, K_U64, SNAP(http.closed_max_clients), "closed_max_clients", " closed_max_clients #", M("rampart_api_connections_closed_total",
	  COUNTER, "HTTP connections closed by a bound: max_clients = over api.http_max_clients, timeout = request or reply not done by api.http_request_timeout, output = reply past the output cap."),
	  .labels = "reason=\"max_clients\""),
	R(S_HTTP, K_U64, SNAP(http.closed_timeout), "closed_timeout", " closed_timeout #", .metric = "rampart_api_connections_closed_total",
	  .labels = "reason=\"timeout\""),
	R(S_HTTP, K_U64, SNAP(http.closed_output), "closed_output", " closed_output #", .metric = "rampart_api_connections_closed_total",
	  .labels = "reason=\"output\""),
	R(S_HTTP, K_U32, SNAP(http.clients), "connections", " connections #", M("rampart_api_connections", GAUGE, "HTTP connections open now.")),
	R(S_HTTP, K_U64, SNAP(http.accept_errors), "accept_errors", " accept_errors #", M("rampart_api_accept_errors_total", COUNTER,
	  "accept() failures on the HTTP listener (EMFILE, ENFILE, ...); each pauses it 100 ms..1 s.")),
	R(S_CONTROL, K_U64, SNAP(control.closed_max_clients), "closed_max_clients", " closed_max_clients #", M("rampart_control_clients_closed_total",
	  COUNTER, "Control socket clients closed by a bound: max_clients (api.control_max_clients), output (8 MiB of replies not read), timeout (300 s idle, or a line not finished within 10 s)."),
	  .labels = "reason=\"max_clients\""),
	R(S_CONTROL, K_U64, SNAP(control.closed_output), "closed_output", " closed_output #", .metric = "rampart_control_clients_closed_total",
	  .labels = "reason=\"output\""),
	R(S_CONTROL, K_U64, SNAP(control.closed_timeout), "closed_timeout", " closed_timeout #", .metric = "rampart_control_clients_closed_total",
	  .labels = "reason=\"timeout\""),
	R(S_CONTROL, K_U64, SNAP(control.accept_errors), "accept_errors", " accept_errors #", M("rampart_control_accept_errors_total", COUNTER,
	  "accept() failures on the control socket; each pauses it 100 ms..1 s.")),
};
const size_t stats_n_rows = sizeof stats_rows / sizeof stats_rows[0];


/* ---- the snapshot -------------------------------------------------------------------------- */

struct api_stats_snap *api_stats_snap_new(struct api_ctx *rp, const struct api_http_stats *http)
{
	struct api_stats_snap *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->clock_ns = api_now_ns(rp);
	s->ticks = api_ticks(rp);
	s->hosts = det_engine_hosts(rp->engine);
	s->bans = det_engine_bans(rp->engine, NULL, 0); /* the count only */
	det_engine_stats(rp->engine, &s->det);
	s->n_src = api_n_sources(rp);
	if (s->n_src > API_MAX_SOURCES)
		s->n_src = API_MAX_SOURCES;
	for (unsigned i = 0; i < s->n_src; i++) {
		struct stat_source *x = &s->src[i];
		api_source_stats(rp, i, &x->s);
		x->kernel_drops = x->s.flow ? x->s.udp.kernel_drops : x->s.pcap.kernel_drops;
	}
	if ((s->have_storage = rp->storage != NULL)) {
		st_writer_stats(rp->storage, &s->st);
		s->st_dest = st_writer_destination(rp->storage);
		s->st_down = s->st.clickhouse && s->st.clickhouse_down;
	}
	if ((s->have_notify = rp->notify != NULL))
		act_notify_stats(rp->notify, &s->notify);
	if ((s->have_webhook = rp->webhook != NULL))
		act_webhook_stats(rp->webhook, &s->webhook);
	if ((s->have_localroute = rp->localroute != NULL))
		act_localroute_stats(rp->localroute, &s->localroute);
	s->state_path = mit_state_path(rp->mit);
	if (s->state_path[0])
		mit_state_stats(rp->mit, &s->bs);
	mit_stats(rp->mit, &s->mit);
	s->dry_run = rp->conf->mitigation.dry_run;
	api_exa_stats(rp, &s->exa);
	s->have_samples = api_samples_stats(rp, &s->smp);
	if ((s->have_bgp = rp->bgp != NULL)) {
		s->n_peers = bgp_speaker_peers(rp->bgp, s->peers, MAX_PEERS);
		if (s->n_peers > MAX_PEERS)
			s->n_peers = MAX_PEERS;
		s->rib_out = bgp_rib_out_count(rp->bgp);
		s->have_md5 = bgp_md5_counters_read(&s->md5) == 0;
	}
	if ((s->have_http = http != NULL))
		s->http = *http;
	if ((s->have_control = rp->control != NULL))
		api_control_stats(rp->control, &s->control);
	return s;
}

void api_stats_snap_free(struct api_stats_snap *s)
{
	free(s);
}

