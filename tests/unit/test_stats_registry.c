/* api/stats_registry.c and stats_render.c: every row of the registry shows in each view it
 * names (its # TYPE in /metrics, its member in /api/v1/stats, its fragment in `rampartctl
 * stats`), a value reaches all three from the snapshot, and /metrics keeps one family
 * together under one # HELP / # TYPE. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/buffer.h>

#include "api/internal.h"
#include "api/stats_int.h"

struct views {
	char *text, *json, *prom;
};

static char *drain(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);
	assert_non_null(s);
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	return s;
}

static void render(const struct api_stats_snap *s, struct views *v)
{
	struct evbuffer *b = evbuffer_new();
	api_stats_text(s, b);
	v->text = drain(b);
	api_stats_json(s, b);
	v->json = drain(b);
	api_stats_prometheus(s, b);
	v->prom = drain(b);
	evbuffer_free(b);
}

static void views_free(struct views *v)
{
	free(v->text);
	free(v->json);
	free(v->prom);
}

/* Every section present: two sources (a replay, a flow listener with one exporter), storage,
 * the actions, a state file, samples, BGP with a peer, the HTTP server and the control socket. */
static struct api_stats_snap *full_snapshot(void)
{
	struct api_stats_snap *s = calloc(1, sizeof *s);
	assert_non_null(s);
	s->n_src = 2;
	s->src[0].s.name = "replay a \"quoted\" file.pcap";
	s->src[0].s.pcap.frames = 21000;
	s->src[1].s.name = "netflow 127.0.0.1:2055";
	s->src[1].s.flow = true;
	s->src[1].s.udp.datagrams = 51;
	s->src[1].s.n_exporters = 1;
	ip_parse("192.0.2.7", &s->src[1].s.exporters[0].addr);
	s->src[1].s.exporters[0].domain = 7;
	s->src[1].s.exporters[0].records = 500;
	s->src[1].s.udp.decode.refused[1] = 3;
	s->have_storage = true;
	s->st_dest = "files in /x";
	s->st.ops_spooled = 7;
	s->st.ops_replayed = 6;
	s->st.ops_spool_dropped = 1;
	s->st.clickhouse = true;
	s->have_notify = s->have_webhook = s->have_localroute = true;
	s->notify.started = 4;
	s->webhook.retried = 2;
	s->localroute.added = 14;
	s->state_path = "/var/lib/rampart/bans.state";
	s->bs.last_write_us = 1234567;
	s->bs.restart = true;
	s->exa.process_pid = 42;
	s->mit.routes = 9;
	s->have_samples = true;
	s->have_bgp = s->have_md5 = true;
	s->n_peers = 1;
	ip_parse("10.0.0.2", &s->peers[0].address);
	s->peers[0].state = "Established";
	s->peers[0].updates_sent = 11;
	s->have_http = s->have_control = true;
	s->http.refused_token = 5;
	s->control.accept_errors = 2;
	return s;
}

static void test_every_row_in_every_view_it_names(void **state)
{
	(void)state;
	struct api_stats_snap *s = full_snapshot();
	struct views v;
	render(s, &v);
	for (size_t k = 0; k < stats_n_rows; k++) {
		const struct row *r = &stats_rows[k];
		char want[256];
		if (r->metric) {
			snprintf(want, sizeof want, "# TYPE %s ", r->metric);
			if (!strstr(v.prom, want))
				fail_msg("row %zu: %s not in /metrics", k, r->metric);
		}
		if (r->json && strcmp(r->json, "*")) {
			snprintf(want, sizeof want, "\"%s\":", r->json);
			if (!strstr(v.json, want))
				fail_msg("row %zu: %s not in /api/v1/stats", k, r->json);
		}
		if (r->text && strcmp(r->text, "*") && r->kind != K_BOOL && r->kind != K_STR) {
			/* the fragment's words before the value (or after it: " # bytes") */
			const char *h = strchr(r->text, '#');
			size_t n = h ? (size_t)(h - r->text) : strlen(r->text);
			const char *frag = n > 1 ? r->text : h + 1;
			if (n <= 1)
				n = strlen(frag);
			snprintf(want, sizeof want, "%.*s", (int)n, frag);
			if (!strstr(v.text, want))
				fail_msg("row %zu: '%s' not in stats", k, want);
		}
	}
	views_free(&v);
	free(s);
}

static void test_a_value_reaches_all_three(void **state)
{
	(void)state;
	struct api_stats_snap *s = full_snapshot();
	struct views v;
	render(s, &v);
	/* the operator_events spool counters */
	assert_non_null(strstr(v.text, "\nstorage spool operator events: spooled 7 replayed 6 dropped 1\n"));
	assert_non_null(strstr(v.json, "\"operator_events_spooled\":7,\"operator_events_replayed\":6,\"operator_events_spool_dropped\":1"));
	assert_non_null(strstr(v.prom, "rampart_storage_rows_total{table=\"operator_events\",state=\"spooled\"} 7\n"));
	assert_non_null(strstr(v.prom, "rampart_storage_rows_total{table=\"operator_events\",state=\"spool_dropped\"} 1\n"));
	/* microseconds: ms in text, as is in JSON, seconds in Prometheus */
	assert_non_null(strstr(v.text, " last 1234.567 ms "));
	assert_non_null(strstr(v.json, "\"last_write_us\":1234567"));
	assert_non_null(strstr(v.prom, "rampart_banstate_last_write_seconds 1.234567\n"));
	assert_non_null(strstr(v.text, "; at start: restart,"));
	/* per source, the label escaped; per exporter and refusal reason */
	assert_non_null(strstr(v.prom, "rampart_capture_frames_total{source=\"replay a \\\"quoted\\\" file.pcap\"} 21000\n"));
	assert_non_null(strstr(v.json, "{\"source\":\"replay a \\\"quoted\\\" file.pcap\",\"frames\":21000,"));
	assert_non_null(strstr(v.prom, "rampart_flow_exporter_total{source=\"netflow 127.0.0.1:2055\",exporter=\"192.0.2.7\",domain=\"7\","
					"counter=\"records\"} 500\n"));
	assert_non_null(strstr(v.json, "\"exporters\":[{\"exporter\":\"192.0.2.7\","));
	assert_non_null(strstr(v.text, "listener netflow 127.0.0.1:2055: datagrams 51 "));
	char r1[96];
	snprintf(r1, sizeof r1, " refused_%s 3", cap_flow_refusal_name((enum cap_flow_refusal)1));
	assert_non_null(strstr(v.text, r1));
	/* a mirror's text line is not a listener's, and the other way round */
	assert_null(strstr(v.text, "capture netflow"));
	assert_non_null(strstr(v.text, "capture replay a \"quoted\" file.pcap: frames 21000 "));
	/* the actions, ExaBGP, BGP and the API in all three */
	assert_non_null(strstr(v.text, "\nnotify: started 4 "));
	assert_non_null(strstr(v.json, "\"notify\":{\"started\":4,"));
	assert_non_null(strstr(v.prom, "rampart_notify_calls_total{state=\"started\"} 4\n"));
	assert_non_null(strstr(v.prom, "rampart_webhook_events_total{state=\"retried\"} 2\n"));
	assert_non_null(strstr(v.prom, "rampart_local_blackhole_routes_total{op=\"added\"} 14\n"));
	assert_non_null(strstr(v.text, " process_pid 42 routes 9\n"));
	assert_non_null(strstr(v.prom, "rampart_exabgp_process_pid 42\n"));
	assert_non_null(strstr(v.text, "\nbgp peer 10.0.0.2: established updates_sent 11 "));
	assert_non_null(strstr(v.json, "\"bgp_peers\":[{\"peer\":\"10.0.0.2\",\"established\":true,\"updates_sent\":11,"));
	assert_non_null(strstr(v.prom, "rampart_bgp_peer_established{peer=\"10.0.0.2\"} 1\n"));
	assert_non_null(strstr(v.prom, "rampart_api_requests_refused_total{reason=\"token\"} 5\n"));
	assert_non_null(strstr(v.json, "\"http\":{\"refused_host\":0,\"refused_token\":5,"));
	assert_non_null(strstr(v.text, "\ncontrol: closed_max_clients 0 closed_output 0 closed_timeout 0 accept_errors 2\n"));
	views_free(&v);
	free(s);
}

static void test_metrics_one_family_one_head(void **state)
{
	(void)state;
	struct api_stats_snap *s = full_snapshot();
	struct views v;
	render(s, &v);
	char seen[4096] = " ", cur[128] = "";
	for (char *line = strtok(v.prom, "\n"); line; line = strtok(NULL, "\n")) {
		char name[128];
		if (!strncmp(line, "# HELP ", 7))
			continue;
		if (sscanf(line, "# TYPE %127s", name) == 1) {
			char key[132];
			snprintf(key, sizeof key, " %s ", name);
			if (strstr(seen, key))
				fail_msg("family %s twice", name);
			strncat(seen, name, sizeof seen - strlen(seen) - 2);
			strcat(seen, " ");
			snprintf(cur, sizeof cur, "%s", name);
			continue;
		}
		size_t n = strcspn(line, "{ ");
		if (strlen(cur) != n || strncmp(line, cur, n))
			fail_msg("sample outside its family %s: %s", cur, line);
	}
	/* nothing of an absent part: no storage, no state file, no BGP */
	s->have_storage = s->have_bgp = false;
	s->state_path = "";
	views_free(&v);
	render(s, &v);
	assert_null(strstr(v.prom, "rampart_storage_"));
	assert_null(strstr(v.prom, "rampart_banstate_"));
	assert_null(strstr(v.prom, "rampart_bgp_"));
	assert_null(strstr(v.text, "\nstorage "));
	assert_null(strstr(v.json, "\"ban_state\""));
	/* the JSON's brackets balance (strings hold none of them here but the quoted name's) */
	int depth = 0;
	bool in_str = false;
	for (const char *p = v.json; *p; p++) {
		if (*p == '\\' && in_str) {
			p++;
			continue;
		}
		if (*p == '"')
			in_str = !in_str;
		else if (!in_str && (*p == '{' || *p == '['))
			depth++;
		else if (!in_str && (*p == '}' || *p == ']'))
			assert_true(--depth >= 0);
	}
	assert_int_equal(depth, 0);
	views_free(&v);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_row_in_every_view_it_names),
		cmocka_unit_test(test_a_value_reaches_all_three),
		cmocka_unit_test(test_metrics_one_family_one_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
