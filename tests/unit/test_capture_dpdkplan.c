/* capture/dpdkplan.h: the DPDK source's arithmetic. Every RX queue of a port has exactly one
 * worker, whatever the counts; a port's drops are counted once (on its first worker) and split
 * into ring/pool drops and wire errors; the TSC clock is exact across seconds, does not overflow
 * at a 5 GHz TSC after years, and never goes before its anchor; a net_pcap port replays a file
 * only when given rx_pcap=, not for rx_iface= or another driver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "capture/dpdkplan.h"

static void test_every_queue_one_worker(void **state)
{
	(void)state;
	for (unsigned queues = 1; queues <= 16; queues++) {
		for (unsigned workers = 1; workers <= queues; workers++) {
			unsigned seen[16] = {0};
			unsigned least = 99, most = 0;
			for (unsigned w = 0; w < workers; w++) {
				uint16_t q[16];
				unsigned n = cap_dpdk_member_queues(w, workers, queues, q, 16);
				assert_true(n >= 1); /* workers <= rx_queues: nobody idles */
				for (unsigned i = 0; i < n; i++) {
					assert_true(q[i] < queues);
					assert_int_equal(q[i] % workers, w);
					seen[q[i]]++;
				}
				least = n < least ? n : least;
				most = n > most ? n : most;
			}
			for (unsigned q = 0; q < queues; q++)
				assert_int_equal(seen[q], 1);
			assert_true(most - least <= 1);
		}
	}
}

static void test_queue_bounds(void **state)
{
	(void)state;
	uint16_t q[4] = {7, 7, 7, 7};
	assert_int_equal(cap_dpdk_member_queues(0, 0, 4, q, 4), 0);  /* no workers */
	assert_int_equal(cap_dpdk_member_queues(3, 3, 8, q, 4), 0);  /* member out of range */
	assert_int_equal(cap_dpdk_member_queues(2, 3, 2, q, 4), 0);  /* more workers than queues */
	assert_int_equal(cap_dpdk_member_queues(0, 1, 16, q, 4), 4); /* out holds 4: stops there */
	assert_int_equal(q[3], 3);
	assert_int_equal(cap_dpdk_member_queues(1, 2, 5, q, 4), 2);
	assert_int_equal(q[0], 1);
	assert_int_equal(q[1], 3);
}

static void test_port_drops_once(void **state)
{
	(void)state;
	struct cap_dpdk_port_counters c = {.imissed = 10, .rx_nombuf = 3, .ierrors = 2};
	struct cap_src_stats first = {.frames = 100}, second = {.frames = 50, .ring_drops = 9};
	cap_dpdk_port_drops(&c, 0, &first);
	cap_dpdk_port_drops(&c, 1, &second);
	assert_int_equal(first.ring_drops, 13);
	assert_int_equal(first.if_drops, 2);
	assert_int_equal(first.kernel_drops, 15);
	assert_int_equal(first.frames, 100); /* our own counts are left alone */
	assert_int_equal(second.ring_drops, 0);
	assert_int_equal(second.if_drops, 0);
	assert_int_equal(second.kernel_drops, 0);
	/* totals since start: a second read replaces, it does not add */
	c.imissed = 11;
	cap_dpdk_port_drops(&c, 0, &first);
	assert_int_equal(first.ring_drops, 14);
	assert_int_equal(first.kernel_drops, 16);
	/* a virtual device's kernel losses (net_tap's queue, net_af_packet's ring) are ring drops,
	 * on the first worker only */
	c.kernel_losses = 7;
	cap_dpdk_port_drops(&c, 0, &first);
	cap_dpdk_port_drops(&c, 1, &second);
	assert_int_equal(first.ring_drops, 21);
	assert_int_equal(first.if_drops, 2);
	assert_int_equal(first.kernel_drops, 23);
	assert_int_equal(second.ring_drops, 0);
}

static void test_tsc_clock(void **state)
{
	(void)state;
	const uint64_t base = 1700000000ull * 1000000000ull;
	const uint64_t hz = 2100000000ull;
	assert_int_equal(cap_dpdk_tsc_ns(base, 1000, 1000, hz), base);
	assert_int_equal(cap_dpdk_tsc_ns(base, 1000, 999, hz), base); /* behind the anchor */
	assert_int_equal(cap_dpdk_tsc_ns(base, 0, hz, hz), base + 1000000000ull);
	assert_int_equal(cap_dpdk_tsc_ns(base, 0, hz / 2, hz), base + 500000000ull);
	assert_int_equal(cap_dpdk_tsc_ns(base, 0, 21, hz), base + 10); /* 21 cycles at 2.1 GHz */
	/* three years of a 5 GHz TSC: the naive d * 1e9 would overflow 64 bits after 3.7 s */
	const uint64_t hz5 = 5000000000ull, years = 3ull * 365 * 86400;
	assert_int_equal(cap_dpdk_tsc_ns(0, 0, years * hz5 + hz5 / 4, hz5), years * 1000000000ull + 250000000ull);
	assert_int_equal(cap_dpdk_tsc_ns(base, 5, 10, 0), base); /* no TSC rate: the anchor */
}

static void test_replay_ports(void **state)
{
	(void)state;
	assert_true(cap_dpdk_is_replay("net_pcap", "rx_pcap=/tmp/x.pcap"));
	assert_true(cap_dpdk_is_replay("net_pcap", "tx_pcap=/tmp/o.pcap,rx_pcap=/tmp/x.pcap"));
	assert_false(cap_dpdk_is_replay("net_pcap", "rx_iface=eth1"));
	assert_false(cap_dpdk_is_replay("net_pcap", "iface=eth1"));
	assert_false(cap_dpdk_is_replay("net_pcap", "xrx_pcap=/tmp/x.pcap")); /* a key, not a substring */
	assert_false(cap_dpdk_is_replay("net_pcap", ""));
	assert_false(cap_dpdk_is_replay("net_pcap", NULL));
	assert_false(cap_dpdk_is_replay("net_af_packet", "rx_pcap=/tmp/x.pcap"));
	assert_false(cap_dpdk_is_replay(NULL, "rx_pcap=/tmp/x.pcap"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_queue_one_worker),
		cmocka_unit_test(test_queue_bounds),
		cmocka_unit_test(test_port_drops_once),
		cmocka_unit_test(test_tsc_clock),
		cmocka_unit_test(test_replay_ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
