/* fastnetmon.conf -> rampart.yaml. The input is outside bytes: every line is taken apart
 * without trusting it (no length, encoding or syntax assumed), anything unreadable becomes a
 * comment naming its line, and every string written out is quoted, so the output is always YAML. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fnm_int.h"

/* ---- thresholds ---------------------------------------------------------------------------- */

/* FastNetMon's ban_for_X / threshold_X pairs and the rampart key each becomes, with FastNetMon's
 * defaults (ban_for_pps and ban_for_bandwidth on, 20000 pps, 1000 Mbit/s, 3500 flows/s). */
static const struct th_map {
	const char *ban_for, *threshold, *key;
	bool def_on;
	uint64_t def, max;
} th_maps[] = {
	{"ban_for_pps", "threshold_pps", "pps", true, 20000, 1000000000000ull},
	{"ban_for_bandwidth", "threshold_mbps", "mbps", true, 1000, 1000000000ull},
	{"ban_for_flows", "threshold_flows", "flows", false, 3500, 1000000000000ull},
	{"ban_for_tcp_pps", "threshold_tcp_pps", "tcp_pps", false, 0, 1000000000000ull},
	{"ban_for_udp_pps", "threshold_udp_pps", "udp_pps", false, 0, 1000000000000ull},
	{"ban_for_icmp_pps", "threshold_icmp_pps", "icmp_pps", false, 0, 1000000000000ull},
	{"ban_for_tcp_bandwidth", "threshold_tcp_mbps", "tcp_mbps", false, 0, 1000000000ull},
	{"ban_for_udp_bandwidth", "threshold_udp_mbps", "udp_mbps", false, 0, 1000000000ull},
	{"ban_for_icmp_bandwidth", "threshold_icmp_mbps", "icmp_mbps", false, 0, 1000000000ull},
};
#define N_TH (sizeof th_maps / sizeof th_maps[0])

/* "{ pps: N, mbps: N }" for the settings prefixed with pfx ("" for the default group, "NAME_"
 * for a hostgroup, which FastNetMon gives pps, bandwidth and flows only). */
static void thresholds(struct cv *c, const char *pfx, bool group, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = 0;
	used += (size_t)snprintf(out, outlen, "{");
	bool any = false;
	for (size_t i = 0; i < (group ? 3 : N_TH); i++) {
		const struct th_map *m = &th_maps[i];
		char bk[160], tk[160];
		snprintf(bk, sizeof bk, "%s%s", pfx, m->ban_for);
		snprintf(tk, sizeof tk, "%s%s", pfx, m->threshold);
		bool on = fnm_flag(c, bk, m->def_on);
		uint64_t v;
		bool have = fnm_number(c, tk, m->max, m->def, &v);
		if (!on || !have || v == 0)
			continue;
		if (used < outlen)
			used += (size_t)snprintf(out + used, outlen - used, "%s %s: %llu", any ? "," : "", m->key,
						 (unsigned long long)v);
		any = true;
	}
	if (used < outlen)
		snprintf(out + used, outlen - used, " }");
}

/* ---- capture ------------------------------------------------------------------------------- */

/* host and a port list ("2055" or "2055,2056") -> listen endpoints */
static void listeners(struct cv *c, FILE *f, const char *section, const char *host_key, const char *port_key,
		      const char *def_port)
{
	const char *host = fnm_val(c, host_key, "0.0.0.0");
	char ports[256];
	snprintf(ports, sizeof ports, "%s", fnm_val(c, port_key, def_port));
	fprintf(f, "  %s:\n    listen: [", section);
	unsigned n = 0;
	char seen[MAX_LISTEN][128];
	char *save = NULL;
	for (char *p = strtok_r(ports, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
		char ep[128];
		snprintf(ep, sizeof ep, strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, p);
		ip_addr a;
		uint16_t port;
		bool dup = false;
		for (unsigned k = 0; k < n; k++)
			dup |= !strcmp(seen[k], ep);
		if (dup)
			continue;
		if (n == MAX_LISTEN || !ip_parse_endpoint(ep, &a, &port)) {
			fnm_note(c, n == MAX_LISTEN ? "%s: more than 8 listen addresses, the rest left out"
						: "%s: not a listen address (host:port), left out",
			     ep);
			c->res->bad_lines++;
			continue;
		}
		fprintf(f, "%s", n ? ", " : "");
		fnm_yq(f, ep);
		snprintf(seen[n++], sizeof seen[0], "%s", ep);
	}
	fprintf(f, "]\n");
}

/* The characters rampart.yaml takes in capture interfaces (conf/walk.c), so that what is written
 * loads. No ':': "eth0:1" is an alias label, not a device, and capturing it means capturing eth0. */
static bool iface_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 15)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.-@", *s))
			return false;
	return true;
}

/* ---- communities --------------------------------------------------------------------------- */

/* "65001:666", "[65001:666 65001:777]" or "65001:666,65001:777" */
static void add_communities(struct cv *c, const char *key, char (*list)[16], size_t *n)
{
	struct setting *s = fnm_get(c, key);
	if (!s)
		return;
	char buf[512];
	snprintf(buf, sizeof buf, "%s", s->val);
	char *save = NULL;
	for (char *t = strtok_r(buf, "[], \t", &save); t; t = strtok_r(NULL, "[], \t", &save)) {
		char *colon = strchr(t, ':');
		uint64_t hi, lo;
		if (!colon) {
			fnm_no_equiv(c, s, "not a community ASN:VALUE, left out");
			continue;
		}
		*colon = 0;
		if (!fnm_parse_u64(t, 65535, &hi) || !fnm_parse_u64(colon + 1, 65535, &lo)) {
			fnm_no_equiv(c, s, "not a community ASN:VALUE (each 0..65535), left out");
			continue;
		}
		char cs[16];
		snprintf(cs, sizeof cs, "%u:%u", (unsigned)hi, (unsigned)lo);
		bool dup = false;
		for (size_t i = 0; i < *n; i++)
			dup |= !strcmp(list[i], cs);
		if (!dup && *n < MAX_COMMUNITIES)
			memcpy(list[(*n)++], cs, sizeof cs);
	}
}

/* ---- the conversion ------------------------------------------------------------------------ */

void fnm_list_paths(const char *conf, size_t conf_len, char *networks, size_t nlen, char *whitelist, size_t wlen)
{
	snprintf(networks, nlen, "/etc/networks_list");
	snprintf(whitelist, wlen, "/etc/networks_whitelist");
	char *text = fnm_copy_text(conf, conf_len);
	if (!text)
		return;
	struct fnm_result res = {0};
	FILE *nf = fopen("/dev/null", "w");
	struct cv c = {.res = &res, .nf = nf};
	if (nf && fnm_read_settings(&c, text) == 0) {
		struct setting *s = fnm_get(&c, "networks_list_path");
		if (s && *s->val)
			snprintf(networks, nlen, "%s", s->val);
		s = fnm_get(&c, "white_list_path");
		if (s && *s->val)
			snprintf(whitelist, wlen, "%s", s->val);
	}
	if (nf)
		fclose(nf);
	free(c.s);
	free(text);
}

static void groups_free(struct group *g, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(g[i].prefixes.p);
	free(g);
}

static bool covered(const struct plist *nets, const ip_prefix *p)
{
	for (size_t i = 0; i < nets->n; i++)
		if (nets->p[i].len <= p->len && ip_is_v4(&nets->p[i].addr) == ip_is_v4(&p->addr) &&
		    ip_prefix_contains(&nets->p[i], &p->addr))
			return true;
	return false;
}

static int convert(struct cv *c, const struct fnm_input *in, FILE *f)
{
	int rc = 0;
	struct plist nets = {0}, white = {0};
	struct group *groups = NULL;
	size_t n_groups = 0;

	/* the lists' own settings, whichever files were given */
	fnm_get(c, "networks_list_path");
	fnm_get(c, "white_list_path");
	if (in->networks && fnm_read_list(c, in->networks, in->networks_len, in->networks_name, &nets) < 0)
		goto oom;
	if (in->whitelist && fnm_read_list(c, in->whitelist, in->whitelist_len, in->whitelist_name, &white) < 0)
		goto oom;
	if (!in->whitelist)
		fnm_note(c, "%s: not read; no whitelist", in->whitelist_name);
	c->res->networks = (unsigned)nets.n;

	const char *ll = fnm_val(c, "logging_level", "info");
	fprintf(f, "log_level: %s\n", !strcmp(ll, "debug") ? "debug" : "info");
	if (strcmp(ll, "debug") && strcmp(ll, "info"))
		fnm_note(c, "logging_level = %s: taken as info", ll);

	if (nets.n) {
		fprintf(f, "networks: ");
		fnm_print_plist(f, &nets);
		fputc('\n', f);
	} else {
		fprintf(f, "# networks: none found in %s: FastNetMon's networks_list is required; add them here\n",
			in->networks ? in->networks_name : "(not read)");
		fprintf(f, "networks: []\n");
		rc = -1;
	}
	fprintf(f, "whitelist: ");
	fnm_print_plist(f, &white);
	fputc('\n', f);

	/* thresholds: FastNetMon checks each limit in either direction it processes */
	bool in_on = fnm_flag(c, "process_incoming_traffic", true), out_on = fnm_flag(c, "process_outgoing_traffic", true);
	char th[1024];
	thresholds(c, "", false, th, sizeof th);
	fprintf(f, "thresholds:\n");
	if (in_on)
		fprintf(f, "  incoming: %s\n", th);
	if (out_on)
		fprintf(f, "  outgoing: %s\n", th);
	if (!in_on)
		fprintf(f, "  # process_incoming_traffic = off: no incoming thresholds\n");
	if (!out_on)
		fprintf(f, "  # process_outgoing_traffic = off: no outgoing thresholds\n");
	if (!in_on && !out_on)
		fprintf(f, "  {}\n");

	/* hostgroup = NAME:PREFIX,PREFIX (one line per group); NAME_enable_ban, NAME_ban_for_*, NAME_threshold_* */
	for (size_t i = 0; i < c->n; i++) {
		struct setting *s = &c->s[i];
		if (strcmp(s->key, "hostgroup"))
			continue;
		s->used = true;
		char buf[4096];
		snprintf(buf, sizeof buf, "%s", s->val);
		char *colon = strchr(buf, ':');
		/* an IPv6 prefix has colons too: the name is what comes before the first one */
		if (!colon || colon == buf) {
			fnm_no_equiv(c, s, "not NAME:PREFIX,PREFIX, left out");
			continue;
		}
		*colon = 0;
		char *name = fnm_trim(buf);
		bool ok = strlen(name) < sizeof groups[0].name && strcmp(name, "default") && *name;
		for (const char *p = name; ok && *p; p++)
			ok = isalnum((unsigned char)*p) || *p == '_' || *p == '-';
		if (!ok) {
			fnm_no_equiv(c, s, "the group's name is not letters, digits, _ or - (at most 63, not default), left out");
			continue;
		}
		struct group *g = NULL;
		for (size_t k = 0; k < n_groups; k++)
			if (!strcmp(groups[k].name, name))
				g = &groups[k];
		if (!g) {
			if (n_groups == MAX_GROUPS) {
				fnm_no_equiv(c, s, "more than 256 hostgroups, left out");
				continue;
			}
			struct group *ng = realloc(groups, (n_groups + 1) * sizeof *ng);
			if (!ng)
				goto oom;
			groups = ng;
			g = &groups[n_groups++];
			memset(g, 0, sizeof *g);
			snprintf(g->name, sizeof g->name, "%s", name);
		}
		char *save = NULL;
		for (char *t = strtok_r(colon + 1, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
			ip_prefix p;
			bool masked, taken = false;
			if (!fnm_parse_prefix(t, &p, &masked)) {
				fprintf(c->nf, "# hostgroup %s (line %u): ", g->name, s->line);
				fnm_show(c->nf, t);
				fprintf(c->nf, " is not a prefix, left out\n");
				c->res->bad_lines++;
				continue;
			}
			for (size_t k = 0; k < n_groups; k++)
				for (size_t j = 0; &groups[k] != g && j < groups[k].prefixes.n; j++)
					taken |= ip_prefix_equal(&groups[k].prefixes.p[j], &p);
			char pb[IP_PREFIX_STRLEN];
			if (taken) {
				fprintf(c->nf, "# hostgroup %s (line %u): %s is in an earlier group already, left out\n",
					g->name, s->line, ip_prefix_format(&p, pb));
				continue;
			}
			if (!covered(&nets, &p)) {
				fprintf(c->nf, "# hostgroup %s (line %u): %s is outside the networks (FastNetMon does not "
					       "monitor it either), left out\n",
					g->name, s->line, ip_prefix_format(&p, pb));
				continue;
			}
			if (fnm_plist_add(&g->prefixes, &p) < 0)
				goto oom;
		}
	}
	size_t n_out = 0;
	for (size_t k = 0; k < n_groups; k++)
		n_out += groups[k].prefixes.n > 0;
	fprintf(f, "hostgroups:%s\n", n_out ? "" : " []");
	for (size_t k = 0; k < n_groups; k++) {
		struct group *g = &groups[k];
		char pfx[80];
		snprintf(pfx, sizeof pfx, "%s_", g->name);
		char key[160];
		snprintf(key, sizeof key, "%senable_ban", pfx);
		bool ban = fnm_flag(c, key, true);
		thresholds(c, pfx, true, th, sizeof th);
		if (!g->prefixes.n) {
			fnm_note(c, "hostgroup %s: no prefix left, left out", g->name);
			continue;
		}
		fprintf(f, "  - name: \"%s\"\n    prefixes: ", g->name);
		fnm_print_plist(f, &g->prefixes);
		fputc('\n', f);
		if (ban) {
			fprintf(f, "    thresholds:\n");
			if (in_on)
				fprintf(f, "      incoming: %s\n", th);
			if (out_on)
				fprintf(f, "      outgoing: %s\n", th);
		} else {
			fprintf(f, "    # %s_enable_ban = off: no thresholds, so nothing in the group is banned\n",
				g->name);
			fprintf(f, "    thresholds: {}\n");
		}
		c->res->hostgroups++;
	}

	/* detection */
	uint64_t v;
	fprintf(f, "detection:\n");
	if (fnm_number(c, "ban_time", 365ull * 86400, 1900, &v)) {
		if (v)
			fprintf(f, "  ban_time: %llu\n", (unsigned long long)v);
		else
			fnm_note(c, "ban_time = 0: Rampart bans for 1 s at least; its default (600 s) is used%s", "");
	}
	fprintf(f, "  unban_only_if_attack_finished: %s\n", fnm_flag(c, "unban_only_if_attack_finished", true) ? "true" : "false");
	if (fnm_number(c, "average_calculation_time", 3600, 5, &v) && v)
		fprintf(f, "  average_s: %llu\n", (unsigned long long)v);
	if (fnm_flag(c, "collect_attack_pcap_dumps", false))
		fprintf(f, "  attack_pcap: { enabled: true }\n");

	/* capture: FastNetMon's mirror modes all become libpcap on the same interfaces */
	bool afp = fnm_flag(c, "mirror_afpacket", false), pcap = fnm_flag(c, "pcap", false);
	bool xdp = fnm_flag(c, "mirror_afxdp", false), netmap = fnm_flag(c, "mirror_netmap", false);
	fprintf(f, "capture:\n  pcap:\n    interfaces: [");
	struct setting *ifs = fnm_get(c, "interfaces");
	if ((afp || pcap || xdp || netmap) && ifs) {
		char buf[1024];
		snprintf(buf, sizeof buf, "%s", ifs->val);
		unsigned n = 0;
		char seen[MAX_IFACES][16];
		char *save = NULL;
		for (char *t = strtok_r(buf, ", \t", &save); t; t = strtok_r(NULL, ", \t", &save)) {
			bool dup = false;
			for (unsigned k = 0; k < n; k++)
				dup |= !strcmp(seen[k], t);
			if (dup)
				continue;
			if (n == MAX_IFACES || !iface_name_ok(t)) {
				fnm_note(c, n == MAX_IFACES ? "interfaces: %s: more than 16, left out"
							: "interfaces: %s is not an interface name, left out",
				     t);
				continue;
			}
			fprintf(f, "%s", n ? ", " : "");
			fnm_yq(f, t);
			snprintf(seen[n++], sizeof seen[0], "%s", t);
		}
	} else if (ifs && *ifs->val) {
		fnm_no_equiv(c, ifs, "no mirror capture is on (mirror_afpacket, pcap, mirror_afxdp, mirror_netmap), so no interface is captured");
	}
	fprintf(f, "]\n");
	struct setting *s;
	if (xdp && (s = fnm_get(c, "mirror_afxdp")))
		fnm_no_equiv(c, s, "AF_XDP: Rampart captures these interfaces with libpcap (AF_PACKET) instead");
	if (netmap && (s = fnm_get(c, "mirror_netmap")))
		fnm_no_equiv(c, s, "netmap: Rampart captures these interfaces with libpcap (AF_PACKET) instead");
	if (fnm_flag(c, "sflow", false))
		listeners(c, f, "sflow", "sflow_host", "sflow_port", "6343");
	if (fnm_flag(c, "netflow", false)) {
		listeners(c, f, "netflow", "netflow_host", "netflow_port", "2055");
		fnm_note(c, "netflow: FastNetMon takes IPFIX on its NetFlow port; Rampart's netflow listeners take v5 "
			"and v9: give IPFIX exporters a capture.ipfix.listen address of their own%s",
		     "");
	}
	static const char *ratios[] = {"netflow_sampling_ratio", "mirror_af_packet_custom_sampling_rate",
				       "netmap_sampling_ratio"};
	for (size_t i = 0; i < sizeof ratios / sizeof ratios[0]; i++)
		if ((s = fnm_get(c, ratios[i])) && strcmp(s->val, "1"))
			fnm_no_equiv(c, s, "Rampart scales by the sampling rate the exporter reports (sFlow, NetFlow, "
				       "IPFIX) and takes a mirror port as unsampled; there is no fixed ratio");

	/* mitigation: ExaBGP's and GoBGP's announcement settings */
	bool ban_on = fnm_flag(c, "enable_ban", true);
	bool exa = fnm_flag(c, "exabgp", false), gobgp = fnm_flag(c, "gobgp", false);
	char comm[MAX_COMMUNITIES][16];
	size_t n_comm = 0;
	ip_addr nh4 = {0}, nh6 = {0};
	bool have4 = false, have6 = false;
	if (exa) {
		add_communities(c, "exabgp_community", comm, &n_comm);
		add_communities(c, "exabgp_community_host", comm, &n_comm);
		const char *nh = fnm_val(c, "exabgp_next_hop", "");
		if (*nh && ip_parse(nh, &nh4) && ip_is_v4(&nh4) && !ip_is_zero(&nh4))
			have4 = true;
		if ((s = fnm_get(c, "exabgp_command_pipe")))
			fnm_no_equiv(c, s, "Rampart speaks BGP to the routers itself: ExaBGP's neighbors (in exabgp.conf) "
				       "become bgp.peers below");
		if ((s = fnm_get(c, "exabgp_announce_whole_subnet")) && !strcmp(s->val, "on"))
			fnm_no_equiv(c, s, "Rampart announces the attacked host (or, for a hostgroup total, its prefixes), "
				       "never the whole network");
		if ((s = fnm_get(c, "exabgp_announce_host")) && strcmp(s->val, "on"))
			fnm_no_equiv(c, s, "Rampart always announces the attacked host");
	}
	if (gobgp) {
		add_communities(c, "gobgp_community_host", comm, &n_comm);
		add_communities(c, "gobgp_community_host_ipv6", comm, &n_comm);
		const char *nh = fnm_val(c, "gobgp_next_hop", "");
		ip_addr a;
		if (!have4 && *nh && ip_parse(nh, &a) && ip_is_v4(&a) && !ip_is_zero(&a))
			nh4 = a, have4 = true;
		nh = fnm_val(c, "gobgp_next_hop_ipv6", "");
		if (*nh && ip_parse(nh, &a) && !ip_is_v4(&a) && !ip_is_zero(&a))
			nh6 = a, have6 = true;
		static const char *subnet[] = {"gobgp_announce_whole_subnet", "gobgp_announce_whole_subnet_ipv6"};
		for (size_t i = 0; i < sizeof subnet / sizeof subnet[0]; i++)
			if ((s = fnm_get(c, subnet[i])) && !strcmp(s->val, "on"))
				fnm_no_equiv(c, s, "Rampart announces the attacked host (or, for a hostgroup total, its "
					       "prefixes), never the whole network");
		static const char *subcomm[] = {"gobgp_community_subnet", "gobgp_community_subnet_ipv6"};
		for (size_t i = 0; i < sizeof subcomm / sizeof subcomm[0]; i++)
			if ((s = fnm_get(c, subcomm[i])))
				fnm_no_equiv(c, s, "for whole-network announcements only, which Rampart does not make");
		if ((s = fnm_get(c, "gobgp_announce_host_ipv6")) && strcmp(s->val, "on"))
			fnm_no_equiv(c, s, "Rampart announces IPv6 hosts like IPv4 ones (no per-family switch)");
	}
	fprintf(f, "mitigation:\n  action: blackhole\n");
	if (!ban_on)
		fprintf(f, "  # enable_ban = off: detect and record, announce nothing\n  dry_run: true\n");
	if ((s = fnm_get(c, "enable_ban_ipv6")) && ban_on && strcmp(s->val, "on"))
		fnm_no_equiv(c, s, "Rampart bans IPv6 hosts like IPv4 ones; leave the IPv6 networks out to not watch them");
	if (n_comm || have4 || have6) {
		fprintf(f, "  blackhole:\n");
		if (n_comm) {
			fprintf(f, "    communities: [");
			for (size_t i = 0; i < n_comm; i++)
				fprintf(f, "%s\"%s\"", i ? ", " : "", comm[i]);
			fprintf(f, "]\n");
		}
		char ab[IP_STRLEN];
		if (have4)
			fprintf(f, "    next_hop_ipv4: \"%s\"\n", ip_format(&nh4, ab));
		if (have6)
			fprintf(f, "    next_hop_ipv6: \"%s\"\n", ip_format(&nh6, ab));
	}

	/* actions */
	const char *script = fnm_val(c, "notify_script_path", "");
	bool script_on = fnm_flag(c, "notify_script_enabled", true);
	if (strlen(script) > 255) {
		fnm_note(c, "notify_script_path = %s: longer than Rampart's 255 characters, left out", script);
		script = "";
	}
	for (const char *p = script; *p; p++)
		if (*p < 0x20 || *p >= 0x7f) {
			/* YAML is Unicode text: bytes that are not printable ASCII would not come back as the same path */
			fnm_note(c, "notify_script_path = %s: not printable ASCII, left out", script);
			script = "";
			break;
		}
	if (*script && script_on) {
		fprintf(f, "actions:\n  notify_script: ");
		fnm_yq(f, script);
		fputc('\n', f);
	}

	if (exa || gobgp) {
		fprintf(f, "# FastNetMon announced through %s%s%s, whose neighbors are in %s, not in fastnetmon.conf.\n"
			   "# Rampart speaks BGP itself: uncomment and name the routers (docs/BGP.md).\n"
			   "# bgp:\n"
			   "#   local_as: 65001\n"
			   "#   router_id: 192.0.2.1\n"
			   "#   peers:\n"
			   "#     - { address: 192.0.2.2, remote_as: 65002, families: [ipv4-unicast, ipv6-unicast] }\n",
			exa ? "ExaBGP" : "", exa && gobgp ? " and " : "", gobgp ? "GoBGP" : "",
			exa && gobgp ? "exabgp.conf and gobgpd.conf" : exa ? "exabgp.conf" : "gobgpd.conf");
	}
	if ((s = fnm_get(c, "prometheus")) && !strcmp(s->val, "on"))
		fnm_no_equiv(c, s, "Rampart serves Prometheus metrics at /metrics on api.http (default 127.0.0.1:8080)");
	if ((s = fnm_get(c, "enable_api")) && !strcmp(s->val, "on"))
		fnm_no_equiv(c, s, "Rampart's API is rampartctl on api.socket and HTTP on api.http");
	/* whatever is left: the settings of a feature that is off are unused; the rest has no
	 * counterpart (the storage back ends say where Rampart's data goes instead) */
	static const struct feature {
		const char *prefix, *sw, *instead;
	} features[] = {
		{"netflow_", "netflow", NULL},
		{"sflow_", "sflow", NULL},
		{"exabgp_", "exabgp", NULL},
		{"gobgp_", "gobgp", NULL},
		{"redis_", "redis_enabled", "Rampart writes flows and attacks to ClickHouse or files (storage)"},
		{"mongodb_", "mongodb_enabled", "Rampart writes flows and attacks to ClickHouse or files (storage)"},
		{"influxdb", "influxdb", "Rampart's counters are Prometheus metrics at /metrics on api.http"},
		{"graphite", "graphite", "Rampart's counters are Prometheus metrics at /metrics on api.http"},
		{"kafka_traffic_export", "kafka_traffic_export", "Rampart writes flows to ClickHouse or files (storage)"},
		{"prometheus_", "prometheus", "Rampart serves /metrics on api.http (default 127.0.0.1:8080)"},
	};
	for (size_t i = 0; i < c->n; i++) {
		struct setting *st = &c->s[i];
		if (st->used)
			continue;
		const char *why = "no equivalent in Rampart";
		char buf[200];
		for (size_t k = 0; k < sizeof features / sizeof features[0]; k++) {
			const struct feature *ft = &features[k];
			if (strncmp(st->key, ft->prefix, strlen(ft->prefix)) && strcmp(st->key, ft->sw))
				continue;
			bool was_used = false;
			for (size_t j = 0; j < c->n; j++)
				was_used |= !strcmp(c->s[j].key, ft->sw) && c->s[j].used;
			struct setting *sw = NULL;
			for (size_t j = 0; j < c->n; j++)
				if (!strcmp(c->s[j].key, ft->sw))
					sw = &c->s[j];
			bool on = sw && !strcmp(sw->val, "on");
			for (size_t j = 0; !was_used && j < c->n; j++)
				if (!strcmp(c->s[j].key, ft->sw))
					c->s[j].used = true;
			if (!on) {
				snprintf(buf, sizeof buf, "not used: %s is off", ft->sw);
				why = buf;
			} else if (ft->instead) {
				why = ft->instead;
			}
			break;
		}
		fnm_no_equiv(c, st, why);
	}
	goto done;
oom:
	rc = -1;
	fprintf(f, "# out of memory: the conversion is incomplete\n");
done:
	free(nets.p);
	free(white.p);
	groups_free(groups, n_groups);
	return rc;
}

int fnm_convert(const struct fnm_input *in, FILE *out, struct fnm_result *res)
{
	struct fnm_result local;
	if (!res)
		res = &local;
	memset(res, 0, sizeof *res);
	struct cv c = {.res = res};
	c.nf = open_memstream(&c.notes, &c.notes_len);
	char *text = in->conf ? fnm_copy_text(in->conf, in->conf_len) : NULL;
	int rc = -1;
	if (!c.nf || (in->conf && !text)) {
		fprintf(out, "# out of memory\n");
		goto out;
	}
	fprintf(out, "# Rampart configuration converted by rampartctl import-fastnetmon from ");
	fnm_show(out, in->conf_name ? in->conf_name : "fastnetmon.conf");
	fprintf(out, ",\n# ");
	fnm_show(out, in->networks_name ? in->networks_name : "networks_list");
	fprintf(out, " and ");
	fnm_show(out, in->whitelist_name ? in->whitelist_name : "networks_whitelist");
	fprintf(out, ". Check it with rampartd -c FILE --check-config;\n"
		     "# every key is described in rampart.yaml(5). Settings without an equivalent are listed at the end.\n");
	if (text && fnm_read_settings(&c, text) != 0) {
		fprintf(out, "# out of memory\n");
		goto out;
	}
	rc = convert(&c, in, out);
	fflush(c.nf);
	if (c.notes_len) {
		fprintf(out, "\n# ---- FastNetMon settings and lines without an equivalent ----\n");
		fwrite(c.notes, 1, c.notes_len, out);
	}
out:
	if (c.nf)
		fclose(c.nf);
	free(c.notes);
	free(c.s);
	free(text);
	return rc;
}
