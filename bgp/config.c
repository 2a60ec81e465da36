/* Defaults of the speaker and of each peer, in one place so the config loader, the tests and the
 * daemon agree on them. */
#include <string.h>

#include "bgp.h"

void bgp_config_defaults(struct bgp_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->listen_port = 179;
	cfg->connect_retry_s = 5;
	cfg->graceful_restart_s = 120;
}

void bgp_peer_config_defaults(struct bgp_peer_config *p)
{
	memset(p, 0, sizeof *p);
	p->port = 179;
	p->families = BGP_FAM_IPV4_UNICAST | BGP_FAM_IPV6_UNICAST;
	p->hold_time = 90;
	p->extended_next_hop = true;
}
