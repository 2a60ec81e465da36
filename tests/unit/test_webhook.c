/* actions/webhook.c: the JSON body a receiver gets. A host ban names the host in "ip"; a prefix
 * (group total, carpet bombing) ban names the prefix there too, as the notify script's first
 * argument does, never the bare network address (which reads as a ban of one host). The receiver
 * is a socket on loopback in this process, one request per connection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions/act.h"

/* ev as mitigation hands it on: no hostgroup, fingerprint or sample file */
static const struct mit_event *mitigated(const struct det_event *ev)
{
	static struct mit_event e;
	e = (struct mit_event){.type = mit_event_type_of(ev->type), .ev = ev, .action = "blackhole", .hostgroup = "", .trigger = "", .samples_path = ""};
	return &e;
}

static int listen_loopback(uint16_t *port)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(s, 4), 0);
	socklen_t len = sizeof sa;
	assert_int_equal(getsockname(s, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return s;
}

/* Accepts one POST, answers 200 and returns its body (in buf), within 5 s. */
static const char *receive(int ls, char *buf, size_t size)
{
	struct pollfd p = {.fd = ls, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
	int c = accept(ls, NULL, NULL);
	assert_true(c >= 0);
	size_t got = 0;
	const char *body = NULL;
	for (;;) {
		struct pollfd q = {.fd = c, .events = POLLIN};
		assert_int_equal(poll(&q, 1, 5000), 1);
		ssize_t n = read(c, buf + got, size - 1 - got);
		assert_true(n > 0);
		got += (size_t)n;
		buf[got] = '\0';
		const char *end = strstr(buf, "\r\n\r\n");
		const char *cl = strcasestr(buf, "Content-Length:");
		if (end && cl && got >= (size_t)(end + 4 - buf) + strtoul(cl + 15, NULL, 10)) {
			body = end + 4;
			break;
		}
	}
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	assert_int_equal(write(c, ok, sizeof ok - 1), (ssize_t)(sizeof ok - 1));
	close(c);
	return body;
}

static struct det_event event(const char *target, enum det_event_type type)
{
	struct det_event ev;
	memset(&ev, 0, sizeof ev);
	ev.type = type;
	ev.attack_id = 3;
	assert_true(ip_prefix_parse(target, &ev.target));
	ev.direction = DET_IN;
	ev.hostgroup = -1;
	ev.rates.v[DET_IN][DET_TOTAL][DET_PPS] = 3148;
	return ev;
}

static void test_ip_is_the_host_or_the_prefix(void **state)
{
	(void)state;
	uint16_t port;
	int ls = listen_loopback(&port);
	struct conf_actions cfg = {.webhook_timeout_s = 2, .webhook_retries = 0};
	snprintf(cfg.webhook_url, sizeof cfg.webhook_url, "http://127.0.0.1:%u/hook", port);
	struct act_webhook *w = act_webhook_new(&cfg);
	assert_non_null(w);
	static const struct {
		const char *target, *want;
		enum det_event_type type;
	} cases[] = {
		{"192.0.2.10", "\"action\":\"ban\",\"attack_id\":3,\"time_ns\":0,\"ip\":\"192.0.2.10\","
			       "\"prefix\":\"192.0.2.10/32\",", DET_EV_BAN},
		{"10.20.5.0/24", "\"action\":\"ban\",\"attack_id\":3,\"time_ns\":0,\"ip\":\"10.20.5.0/24\","
				 "\"prefix\":\"10.20.5.0/24\",", DET_EV_BAN},
		{"10.20.5.0/24", "\"action\":\"unban\",\"attack_id\":3,\"time_ns\":0,\"ip\":\"10.20.5.0/24\","
				 "\"prefix\":\"10.20.5.0/24\",", DET_EV_UNBAN},
		{"2001:db8:20:5::/64", "\"ip\":\"2001:db8:20:5::/64\",\"prefix\":\"2001:db8:20:5::/64\",", DET_EV_BAN},
		{"2001:db8::53", "\"ip\":\"2001:db8::53\",\"prefix\":\"2001:db8::53/128\",", DET_EV_BAN},
	};
	char buf[4096];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct det_event ev = event(cases[i].target, cases[i].type);
		act_webhook_event(w, mitigated(&ev));
		const char *body = receive(ls, buf, sizeof buf);
		if (!strstr(body, cases[i].want))
			fail_msg("%s: want %s in %s", cases[i].target, cases[i].want, body);
		assert_non_null(strstr(body, "\"pps\":3148,"));
	}
	struct act_webhook_stats st;
	for (int i = 0; i < 500; i++) { /* the thread counts a POST once curl has the answer */
		act_webhook_stats(w, &st);
		if (st.sent == 5)
			break;
		usleep(10000);
	}
	assert_int_equal(st.sent, 5);
	assert_int_equal(st.failed, 0);
	act_webhook_free(w);
	close(ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_is_the_host_or_the_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
