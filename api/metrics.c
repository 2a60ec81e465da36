/* /metrics: every counter and gauge of the daemon in Prometheus' text exposition format
 * (version 0.0.4), one # HELP and # TYPE per family; the HTTP server (http.c) serves it. */
#include <event2/buffer.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../lib/log.h"
#include "../mitigation/state.h"
#include "api.h"
#include "internal.h"

/* ---- /metrics ------------------------------------------------------------------------------ */

static void metric_head(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value as the exposition format wants it: backslash, quote and newline escaped. The
 * source names carry file paths, which may contain any of them. */
static const char *label(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"')
			buf[o++] = '\\';
		if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
			continue;
		}
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static const char *const decode_result_label[CAP_DECODE_RESULT_COUNT] = {
	[CAP_DECODE_OK] = "ok",
	[CAP_DECODE_TRUNCATED] = "truncated",
	[CAP_DECODE_MALFORMED] = "malformed",
	[CAP_DECODE_NOT_IP] = "not_ip",
};

/* What the API refused and closed (docs/OPERATIONS.md, "The API's security model"). */
static void api_metrics(const struct api_ctx *rp, const struct api_http_stats *st, struct evbuffer *b)
{
	metric_head(b, "rampart_api_requests_refused_total", "counter",
		    "HTTP requests refused: host = Host not this server's (421), token = bearer token missing or "
		    "wrong (401), content_type = a command not sent as application/json (415).");
	evbuffer_add_printf(b, "rampart_api_requests_refused_total{reason=\"host\"} %" PRIu64 "\n", st->refused_host);
	evbuffer_add_printf(b, "rampart_api_requests_refused_total{reason=\"token\"} %" PRIu64 "\n", st->refused_token);
	evbuffer_add_printf(b, "rampart_api_requests_refused_total{reason=\"content_type\"} %" PRIu64 "\n",
			    st->refused_type);
	metric_head(b, "rampart_api_connections_closed_total", "counter",
		    "HTTP connections closed by a bound: max_clients = over api.http_max_clients, timeout = request "
		    "or reply not done by api.http_request_timeout, output = reply past the output cap.");
	evbuffer_add_printf(b, "rampart_api_connections_closed_total{reason=\"max_clients\"} %" PRIu64 "\n",
			    st->closed_max_clients);
	evbuffer_add_printf(b, "rampart_api_connections_closed_total{reason=\"timeout\"} %" PRIu64 "\n",
			    st->closed_timeout);
	evbuffer_add_printf(b, "rampart_api_connections_closed_total{reason=\"output\"} %" PRIu64 "\n",
			    st->closed_output);
	metric_head(b, "rampart_api_connections", "gauge", "HTTP connections open now.");
	evbuffer_add_printf(b, "rampart_api_connections %u\n", st->clients);
	metric_head(b, "rampart_api_accept_errors_total", "counter",
		    "accept() failures on the HTTP listener (EMFILE, ENFILE, ...); each pauses it 100 ms..1 s.");
	evbuffer_add_printf(b, "rampart_api_accept_errors_total %" PRIu64 "\n", st->accept_errors);
	if (rp->control) {
		struct api_control_stats cs;
		api_control_stats(rp->control, &cs);
		metric_head(b, "rampart_control_clients_closed_total", "counter",
			    "Control socket clients closed by a bound: max_clients (api.control_max_clients), output "
			    "(8 MiB of replies not read), timeout (300 s idle).");
		evbuffer_add_printf(b, "rampart_control_clients_closed_total{reason=\"max_clients\"} %" PRIu64 "\n",
				    cs.closed_max_clients);
		evbuffer_add_printf(b, "rampart_control_clients_closed_total{reason=\"output\"} %" PRIu64 "\n",
				    cs.closed_output);
		evbuffer_add_printf(b, "rampart_control_clients_closed_total{reason=\"timeout\"} %" PRIu64 "\n",
				    cs.closed_timeout);
		metric_head(b, "rampart_control_accept_errors_total", "counter",
			    "accept() failures on the control socket; each pauses it 100 ms..1 s.");
		evbuffer_add_printf(b, "rampart_control_accept_errors_total %" PRIu64 "\n", cs.accept_errors);
	}
}

/* The per-peer counters of struct bgp_peer_status, one family each. */
struct peer_counter {
	const char *name, *help;
	size_t off; /* of a uint64_t in struct bgp_peer_status */
};
static const struct peer_counter peer_counters[] = {
	{"rampart_bgp_updates_sent_total", "UPDATE messages sent per peer.",
	 offsetof(struct bgp_peer_status, updates_sent)},
	{"rampart_bgp_treat_as_withdraw_total", "UPDATEs received and treated as withdraw (RFC 7606), per peer.",
	 offsetof(struct bgp_peer_status, taw_received)},
	{"rampart_bgp_attrs_discarded_total",
	 "Path attributes received and discarded (RFC 7606 attribute discard), per peer.",
	 offsetof(struct bgp_peer_status, attrs_discarded)},
};

void api_metrics_write(struct api_ctx *rp, const struct api_http_stats *st, struct evbuffer *b)
{
	static struct api_source_stats ws[API_MAX_SOURCES]; /* ~10 KB each (exporters); main loop only */
	char names[API_MAX_SOURCES][300];
	for (unsigned i = 0; i < api_n_sources(rp); i++) {
		api_source_stats(rp, i, &ws[i]);
		label(ws[i].name, names[i], sizeof names[i]);
	}

	metric_head(b, "rampart_capture_frames_total", "counter", "Frames read per capture source.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		evbuffer_add_printf(b, "rampart_capture_frames_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].pcap.frames);
	metric_head(b, "rampart_capture_decode_total", "counter", "Frames per decode result.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		for (int r = 0; r < CAP_DECODE_RESULT_COUNT; r++)
			evbuffer_add_printf(b, "rampart_capture_decode_total{source=\"%s\",result=\"%s\"} %" PRIu64 "\n",
					    names[i], decode_result_label[r],
					    ws[i].pcap.decode[r]);
	metric_head(b, "rampart_capture_kernel_drops_total", "counter", "Frames the kernel dropped before capture.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		evbuffer_add_printf(b, "rampart_capture_kernel_drops_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].flow ? ws[i].udp.kernel_drops : ws[i].pcap.kernel_drops);
	metric_head(b, "rampart_capture_ring_drops_total", "counter",
		    "Frames the kernel had for a mirror source but its ring or buffer was full.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		evbuffer_add_printf(b, "rampart_capture_ring_drops_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].pcap.ring_drops);
	metric_head(b, "rampart_capture_if_drops_total", "counter", "Frames the interface or NIC dropped.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		evbuffer_add_printf(b, "rampart_capture_if_drops_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].pcap.if_drops);
	metric_head(b, "rampart_capture_bad_blocks_total", "counter",
		    "Ring blocks with impossible offsets (the rest of each block is lost).");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		evbuffer_add_printf(b, "rampart_capture_bad_blocks_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].pcap.bad_blocks);
	metric_head(b, "rampart_capture_sampled_out_total", "counter", "Frames skipped by mirror sampling (sample: N).");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		evbuffer_add_printf(b, "rampart_capture_sampled_out_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].pcap.sampled_out);
	metric_head(b, "rampart_flows_active", "gauge", "Flows in the mirror flow table.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		evbuffer_add_printf(b, "rampart_flows_active{source=\"%s\"} %" PRIu64 "\n", names[i], ws[i].flows.active);
	metric_head(b, "rampart_flows_exported_total", "counter", "Flow rows exported by the mirror flow table.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		evbuffer_add_printf(b, "rampart_flows_exported_total{source=\"%s\"} %" PRIu64 "\n", names[i],
				    ws[i].flows.exported);
	metric_head(b, "rampart_hosts_overflow_total", "counter",
		    "Not counted for lack of room: records in a worker's host table (source), host counts of a tick in the engine's (source=\"detect\").");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		for (int d = 0; d < DET_DIRECTIONS; d++)
			evbuffer_add_printf(b, "rampart_hosts_overflow_total{source=\"%s\",direction=\"%s\"} %" PRIu64 "\n",
					    names[i], det_direction_name((enum det_direction)d), ws[i].hosts_overflow_dir[d]);
	struct det_engine_stats ds;
	det_engine_stats(rp->engine, &ds);
	for (int d = 0; d < DET_DIRECTIONS; d++)
		evbuffer_add_printf(b, "rampart_hosts_overflow_total{source=\"detect\",direction=\"%s\"} %" PRIu64 "\n",
				    det_direction_name((enum det_direction)d), ds.hosts_overflow[d]);
	metric_head(b, "rampart_hosts_pushed_out_total", "counter",
		    "Quiet hosts the full host table pushed out for a busier new host.");
	evbuffer_add_printf(b, "rampart_hosts_pushed_out_total %" PRIu64 "\n", ds.hosts_evicted);

	/* flow export listeners (docs/FLOWS.md): per listener, then per exporter */
	metric_head(b, "rampart_flow_datagrams_total", "counter", "Datagrams read per flow listener.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		if (ws[i].flow)
			evbuffer_add_printf(b, "rampart_flow_datagrams_total{source=\"%s\"} %" PRIu64 "\n", names[i],
					    ws[i].udp.datagrams);
	metric_head(b, "rampart_flow_oversize_total", "counter", "Datagrams too large for a receive buffer, dropped.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		if (ws[i].flow)
			evbuffer_add_printf(b, "rampart_flow_oversize_total{source=\"%s\"} %" PRIu64 "\n", names[i],
					    ws[i].udp.oversize);
	metric_head(b, "rampart_flow_refused_total", "counter",
		    "State refused to a flow source, by reason (docs/FLOWS.md): datagrams or templates dropped.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		for (int r = 0; ws[i].flow && r < CAP_REFUSE_COUNT; r++)
			evbuffer_add_printf(b, "rampart_flow_refused_total{source=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
					    names[i], cap_flow_refusal_name((enum cap_flow_refusal)r),
					    ws[i].udp.decode.refused[r]);
	metric_head(b, "rampart_flow_exporters_evicted_total", "counter",
		    "Exporters pushed out for a new one (never one sending valid data and active).");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		if (ws[i].flow)
			evbuffer_add_printf(b, "rampart_flow_exporters_evicted_total{source=\"%s\"} %" PRIu64 "\n",
					    names[i], ws[i].udp.decode.evicted);
	metric_head(b, "rampart_flow_template_bytes", "gauge", "Template memory held per flow listener.");
	for (unsigned i = 0; i < api_n_sources(rp); i++)
		if (ws[i].flow)
			evbuffer_add_printf(b, "rampart_flow_template_bytes{source=\"%s\"} %" PRIu64 "\n", names[i],
					    ws[i].udp.decode.template_bytes);
	metric_head(b, "rampart_flow_exporter_total", "counter",
		    "Per exporter: datagrams, records, malformed, template_misses, sequence_gaps.");
	for (unsigned i = 0; i < api_n_sources(rp); i++) {
		size_t n = ws[i].n_exporters < API_EXPORTERS_SHOWN ? ws[i].n_exporters : API_EXPORTERS_SHOWN;
		for (size_t j = 0; ws[i].flow && j < n; j++) {
			const struct cap_exporter_info *e = &ws[i].exporters[j];
			char a[IP_STRLEN];
			ip_format(&e->addr, a);
			const struct {
				const char *k;
				uint64_t v;
			} c[] = {{"datagrams", e->datagrams},	    {"records", e->records},
				 {"malformed", e->malformed},	    {"template_misses", e->template_misses},
				 {"sequence_gaps", e->sequence_gaps}};
			for (size_t k = 0; k < sizeof c / sizeof c[0]; k++)
				evbuffer_add_printf(b,
						    "rampart_flow_exporter_total{source=\"%s\",exporter=\"%s\",domain=\"%" PRIu32
						    "\",counter=\"%s\"} %" PRIu64 "\n",
						    names[i], a, e->domain, c[k].k, c[k].v);
		}
	}

	metric_head(b, "rampart_hosts_tracked", "gauge", "Hosts with detection state.");
	evbuffer_add_printf(b, "rampart_hosts_tracked %zu\n", det_engine_hosts(rp->engine));
	metric_head(b, "rampart_bans_active", "gauge", "Active bans.");
	evbuffer_add_printf(b, "rampart_bans_active %zu\n", det_engine_bans(rp->engine, NULL, 0)); /* the count only */
	metric_head(b, "rampart_ticks_total", "counter", "Detection ticks run.");
	evbuffer_add_printf(b, "rampart_ticks_total %" PRIu64 "\n", api_ticks(rp));
	struct mit_stats ms;
	mit_stats(rp->mit, &ms);
	metric_head(b, "rampart_decisions_total", "counter", "What the decisions did.");
	evbuffer_add_printf(b, "rampart_decisions_total{kind=\"announced\"} %" PRIu64 "\n", ms.announced);
	evbuffer_add_printf(b, "rampart_decisions_total{kind=\"withdrawn\"} %" PRIu64 "\n", ms.withdrawn);
	evbuffer_add_printf(b, "rampart_decisions_total{kind=\"events\"} %" PRIu64 "\n", ms.events);

	struct api_samples_stats as;
	if (api_samples_stats(rp, &as)) { /* attack sample packets (detection.attack_pcap) */
		metric_head(b, "rampart_attack_pcap_samples_total", "counter",
			    "Attack sample packets: written to a file, dropped (a worker's ring was full), skipped "
			    "(file closed, unwritable or of another link type).");
		evbuffer_add_printf(b, "rampart_attack_pcap_samples_total{state=\"written\"} %" PRIu64 "\n", as.written);
		evbuffer_add_printf(b, "rampart_attack_pcap_samples_total{state=\"dropped\"} %" PRIu64 "\n", as.dropped);
		evbuffer_add_printf(b, "rampart_attack_pcap_samples_total{state=\"skipped\"} %" PRIu64 "\n", as.skipped);
		metric_head(b, "rampart_attack_pcap_files_total", "counter", "Attack pcap files opened.");
		evbuffer_add_printf(b, "rampart_attack_pcap_files_total %" PRIu64 "\n", as.files_opened);
		metric_head(b, "rampart_attack_pcap_files_deleted_total", "counter",
			    "Attack pcap files deleted by retention (keep_days, max_files).");
		evbuffer_add_printf(b, "rampart_attack_pcap_files_deleted_total %" PRIu64 "\n", as.files_deleted);
		metric_head(b, "rampart_attack_pcap_errors_total", "counter", "Attack pcap files that could not be written.");
		evbuffer_add_printf(b, "rampart_attack_pcap_errors_total %" PRIu64 "\n", as.errors);
		metric_head(b, "rampart_attack_pcap_open_files", "gauge", "Attack pcap files collecting now.");
		evbuffer_add_printf(b, "rampart_attack_pcap_open_files %u\n", as.open);
	}

	if (rp->storage) {
		struct st_stats s;
		st_writer_stats(rp->storage, &s);
		metric_head(b, "rampart_storage_rows_total", "counter", "Rows per table and state.");
		const struct {
			const char *table, *state;
			uint64_t v;
		} rows[] = {
			{"flows", "queued", s.flows_queued},	{"flows", "written", s.flows_written},
			{"flows", "dropped", s.flows_dropped},	{"flows", "lost", s.flows_lost},
			{"attack_events", "queued", s.events_queued}, {"attack_events", "written", s.events_written},
			{"attack_events", "dropped", s.events_dropped}, {"attack_events", "lost", s.events_lost},
			{"operator_events", "queued", s.ops_queued}, {"operator_events", "written", s.ops_written},
			{"operator_events", "dropped", s.ops_dropped}, {"operator_events", "lost", s.ops_lost},
			/* the spool: rows that went to disk while ClickHouse was away, came back, or did
			 * not fit its budget */
			{"flows", "spooled", s.flows_spooled},	{"flows", "replayed", s.flows_replayed},
			{"flows", "spool_dropped", s.flows_spool_dropped},
			{"attack_events", "spooled", s.events_spooled}, {"attack_events", "replayed", s.events_replayed},
			{"attack_events", "spool_dropped", s.events_spool_dropped},
		};
		for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
			evbuffer_add_printf(b, "rampart_storage_rows_total{table=\"%s\",state=\"%s\"} %" PRIu64 "\n",
					    rows[i].table, rows[i].state, rows[i].v);
		metric_head(b, "rampart_storage_batches_failed_total", "counter", "Batch posts that failed (retried).");
		evbuffer_add_printf(b, "rampart_storage_batches_failed_total %" PRIu64 "\n", s.batches_failed);
		metric_head(b, "rampart_storage_insert_bytes_total", "counter",
			    "INSERT bodies posted to ClickHouse: as encoded (stage=encoded) and as sent (stage=wire).");
		evbuffer_add_printf(b, "rampart_storage_insert_bytes_total{stage=\"encoded\"} %" PRIu64 "\n", s.insert_bytes);
		evbuffer_add_printf(b, "rampart_storage_insert_bytes_total{stage=\"wire\"} %" PRIu64 "\n",
				    s.insert_wire_bytes);
		metric_head(b, "rampart_storage_spool_bytes", "gauge", "Bytes in the disk spool now.");
		evbuffer_add_printf(b, "rampart_storage_spool_bytes %" PRIu64 "\n", s.spool_bytes);
		metric_head(b, "rampart_storage_spool_batches", "gauge", "Batches in the disk spool now.");
		evbuffer_add_printf(b, "rampart_storage_spool_batches %" PRIu64 "\n", s.spool_batches);
		metric_head(b, "rampart_storage_batches_deduplicated_total", "counter",
			    "Replays skipped: ClickHouse already had the batch.");
		evbuffer_add_printf(b, "rampart_storage_batches_deduplicated_total %" PRIu64 "\n",
				    s.batches_deduplicated);
		metric_head(b, "rampart_storage_partitions_dropped_total", "counter",
			    "Old partitions dropped by retention (servers without TTL).");
		evbuffer_add_printf(b, "rampart_storage_partitions_dropped_total %" PRIu64 "\n",
				    s.partitions_dropped);
		metric_head(b, "rampart_storage_clickhouse_down", "gauge", "1 while the last post or probe failed.");
		evbuffer_add_printf(b, "rampart_storage_clickhouse_down %d\n", s.clickhouse && s.clickhouse_down);
	}
	api_state_metrics(rp->mit, b);
	if (rp->bgp) {
		struct bgp_peer_status st[64];
		size_t n = bgp_speaker_peers(rp->bgp, st, 64);
		metric_head(b, "rampart_bgp_peer_established", "gauge", "1 while the session is Established.");
		for (size_t i = 0; i < n && i < 64; i++) {
			char a[IP_STRLEN];
			evbuffer_add_printf(b, "rampart_bgp_peer_established{peer=\"%s\"} %d\n", ip_format(&st[i].address, a),
					    !strcmp(st[i].state, "Established"));
		}
		for (size_t k = 0; k < sizeof peer_counters / sizeof peer_counters[0]; k++) {
			const struct peer_counter *pc = &peer_counters[k];
			metric_head(b, pc->name, "counter", pc->help);
			for (size_t i = 0; i < n && i < 64; i++) {
				char a[IP_STRLEN];
				uint64_t v;
				memcpy(&v, (const char *)&st[i] + pc->off, sizeof v);
				evbuffer_add_printf(b, "%s{peer=\"%s\"} %" PRIu64 "\n", pc->name, ip_format(&st[i].address, a), v);
			}
		}
		struct bgp_md5_counters md5;
		if (bgp_md5_counters_read(&md5) == 0) {
			metric_head(b, "rampart_tcp_md5_drops_total", "counter",
				    "TCP segments the kernel dropped for their MD5 signature (RFC 2385), this network "
				    "namespace, all peers: kind = wrong_key, unsigned (we have a key), unexpected (we have none).");
			evbuffer_add_printf(b, "rampart_tcp_md5_drops_total{kind=\"wrong_key\"} %" PRIu64 "\n", md5.failure);
			evbuffer_add_printf(b, "rampart_tcp_md5_drops_total{kind=\"unsigned\"} %" PRIu64 "\n", md5.not_found);
			evbuffer_add_printf(b, "rampart_tcp_md5_drops_total{kind=\"unexpected\"} %" PRIu64 "\n", md5.unexpected);
		}
		metric_head(b, "rampart_bgp_rib_out_routes", "gauge", "Routes in the RIB-out.");
		evbuffer_add_printf(b, "rampart_bgp_rib_out_routes %zu\n", bgp_rib_out_count(rp->bgp));
	}
	api_metrics(rp, st, b);
}

