/* The ceiling for bench/exabgp_vs.sh, and its clock.
 *
 *   bench_bgp_ceiling blast LOCAL PEER LOCAL_AS PEER_AS N NEXT_HOP BIRD_CTL PROTO
 *       opens a BGP session from LOCAL to PEER (IPv4 unicast, 4-byte AS, route refresh, extended
 *       messages: what rampartd offers), then sends N /32s from 100.65.0.0 (the bench's prefixes)
 *       as pre-encoded UPDATEs packed as full as the negotiated message size allows, with the
 *       bench's attributes (ORIGIN IGP, AS_PATH LOCAL_AS, NEXT_HOP, communities 65535:666 and
 *       NO_EXPORT), then End-of-RIB; times until BIRD's protocol PROTO has imported N; the same for
 *       the withdrawals down to 0. Prints "ceiling N: announce A ms, withdraw W ms".
 *   bench_bgp_ceiling feed FILE FIFO BIRD_CTL PROTO WANT [LIMIT_S]
 *       writes FILE to FIFO (ExaBGP lines for rampartd's pipe or ExaBGP's process) and prints the
 *       ms until PROTO's imported count is WANT (-1 after LIMIT_S, default 60).
 *
 * Both start the clock before the first byte is written and stop it at the first answer of
 * BIRD's control socket that shows the count: one connection kept open, `show protocols all
 * PROTO` (a counter BIRD keeps, not a walk of its table) every 2 ms. Forking birdc and `show
 * route count` (a table walk on BIRD's only thread) every 10 ms, as the bench did before, took
 * BIRD's time from the import it was measuring. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ---- BIRD's control socket ---- */

struct bird {
	int fd;
	char buf[65536];
	size_t len;
};

/* Reads until a line "DDDD " (a reply's last line) is in buf; returns its end offset. */
static size_t bird_reply(struct bird *b)
{
	for (;;) {
		for (size_t i = 0; i + 5 <= b->len; i++) {
			if ((i == 0 || b->buf[i - 1] == '\n') && b->buf[i] >= '0' && b->buf[i] <= '9' &&
			    b->buf[i + 4] == ' ') {
				char *nl = memchr(b->buf + i, '\n', b->len - i);
				if (nl)
					return (size_t)(nl - b->buf) + 1;
			}
		}
		if (b->len == sizeof b->buf)
			b->len = 0; /* a reply longer than we read: keep only what follows */
		ssize_t r = read(b->fd, b->buf + b->len, sizeof b->buf - b->len);
		if (r <= 0)
			die("bird control socket");
		b->len += (size_t)r;
	}
}

static void bird_open(struct bird *b, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	b->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (b->fd < 0 || connect(b->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die(path);
	b->len = 0;
	size_t end = bird_reply(b); /* the greeting */
	memmove(b->buf, b->buf + end, b->len - end);
	b->len -= end;
}

/* PROTO's imported route count, -1 when the reply has none (protocol down). */
static long bird_imported(struct bird *b, const char *proto)
{
	char cmd[128];
	int n = snprintf(cmd, sizeof cmd, "show protocols all %s\n", proto);
	if (write_all(b->fd, (const uint8_t *)cmd, (size_t)n) < 0)
		die("bird control socket");
	size_t end = bird_reply(b);
	long count = -1;
	b->buf[end - 1] = '\0';
	const char *r = strstr(b->buf, "Routes:");
	if (r)
		count = strtol(r + 7, NULL, 10);
	memmove(b->buf, b->buf + end, b->len - end);
	b->len -= end;
	return count;
}

/* ms from t0 until PROTO's count is want, -1 after limit_s */
static long wait_count(struct bird *b, const char *proto, long want, double t0, int limit_s)
{
	const struct timespec nap = {0, 2000000};
	for (;;) {
		long c = bird_imported(b, proto);
		double t = now_ms();
		if (c == want || (want == 0 && c < 0))
			return (long)(t - t0 + 0.5);
		if (t - t0 > limit_s * 1e3)
			return -1;
		nanosleep(&nap, NULL);
	}
}

/* ---- the blaster ---- */

static uint8_t *put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v)
{
	p = put16(p, v >> 16);
	return put16(p, v & 0xFFFF);
}

static uint8_t *header(uint8_t *p, unsigned len, uint8_t type)
{
	memset(p, 0xFF, 16);
	put16(p + 16, len);
	p[18] = type;
	return p + 19;
}

/* Reads one BGP message into buf (size cap); returns its type. */
static int read_msg(int fd, uint8_t *buf, size_t cap, size_t *len)
{
	size_t got = 0, want = 19;
	while (got < want) {
		ssize_t r = read(fd, buf + got, want - got);
		if (r <= 0)
			die("bgp read");
		got += (size_t)r;
		if (got == 19) {
			want = (size_t)buf[16] << 8 | buf[17];
			if (want < 19 || want > cap) {
				fprintf(stderr, "bad message length %zu\n", want);
				exit(1);
			}
		}
	}
	*len = want;
	return buf[18];
}

/* Does the OPEN in buf offer capability code? */
static int open_has_cap(const uint8_t *m, size_t len, uint8_t code)
{
	size_t opt_len = m[28], i = 29;
	if (29 + opt_len > len)
		return 0;
	while (i + 2 <= 29 + opt_len) {
		uint8_t type = m[i], plen = m[i + 1];
		if (type == 2)
			for (size_t j = i + 2; j + 2 <= i + 2 + plen;) {
				if (m[j] == code)
					return 1;
				j += 2 + m[j + 1];
			}
		i += 2 + plen;
	}
	return 0;
}

/* UPDATEs for n /32s from first, packed up to max bytes each; announce: with attrs, else
 * withdrawals. Returns the buffer (the End-of-RIB last) and its length. */
static uint8_t *encode(long n, uint32_t first, int announce, uint32_t local_as, uint32_t nh, size_t max, size_t *out_len)
{
	uint8_t attrs[64], *a = attrs;
	*a++ = 0x40, *a++ = 1, *a++ = 1, *a++ = 0;                                  /* ORIGIN IGP */
	*a++ = 0x40, *a++ = 2, *a++ = 6, *a++ = 2, *a++ = 1, a = put32(a, local_as); /* AS_PATH */
	*a++ = 0x40, *a++ = 3, *a++ = 4, a = put32(a, nh);                          /* NEXT_HOP */
	*a++ = 0xC0, *a++ = 8, *a++ = 8, a = put32(a, 0xFFFF029A), a = put32(a, 0xFFFFFF01);
	size_t alen = announce ? (size_t)(a - attrs) : 0;
	size_t per = (max - 23 - alen) / 5, n_msgs = (size_t)(n + (long)per - 1) / per;
	uint8_t *buf = malloc(n_msgs * max + 64), *p = buf;
	if (!buf)
		die("malloc");
	for (long i = 0; i < n;) {
		size_t k = (size_t)(n - i) < per ? (size_t)(n - i) : per;
		size_t len = 23 + alen + 5 * k;
		uint8_t *q = header(p, (unsigned)len, 2);
		q = put16(q, announce ? 0 : (unsigned)(5 * k));
		if (!announce)
			for (size_t j = 0; j < k; j++, i++)
				*q++ = 32, q = put32(q, first + (uint32_t)i);
		q = put16(q, (unsigned)alen);
		memcpy(q, attrs, alen);
		q += alen;
		if (announce)
			for (size_t j = 0; j < k; j++, i++)
				*q++ = 32, q = put32(q, first + (uint32_t)i);
		p = q;
	}
	uint8_t *q = header(p, 23, 2); /* End-of-RIB: an empty UPDATE */
	q = put16(q, 0);
	q = put16(q, 0);
	*out_len = (size_t)(q - buf);
	return buf;
}

static int blast(char **av)
{
	const char *local = av[0], *peer = av[1];
	uint32_t local_as = (uint32_t)strtoul(av[2], NULL, 10), peer_as = (uint32_t)strtoul(av[3], NULL, 10);
	long n = strtol(av[4], NULL, 10);
	struct in_addr nh, lip, pip;
	if (!inet_pton(AF_INET, av[5], &nh) || !inet_pton(AF_INET, local, &lip) || !inet_pton(AF_INET, peer, &pip)) {
		fprintf(stderr, "bad address\n");
		return 2;
	}
	(void)peer_as;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in la = {.sin_family = AF_INET, .sin_addr = lip};
	struct sockaddr_in pa = {.sin_family = AF_INET, .sin_port = htons(179), .sin_addr = pip};
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&la, sizeof la) < 0 || connect(fd, (struct sockaddr *)&pa, sizeof pa) < 0)
		die("connect");

	uint8_t m[4096], *p = m + 19;
	*p++ = 4;
	p = put16(p, local_as > 65535 ? 23456 : local_as);
	p = put16(p, 90);
	memcpy(p, &lip, 4), p += 4;
	uint8_t caps[] = {2, 6, 1, 4, 0, 1, 0, 1, /* MP IPv4 unicast */
			  2, 6, 65, 4, 0, 0, 0, 0, /* 4-byte AS, filled below */
			  2, 2, 2, 0,              /* route refresh */
			  2, 2, 6, 0};             /* extended messages */
	caps[12] = (uint8_t)(local_as >> 24), caps[13] = (uint8_t)(local_as >> 16);
	caps[14] = (uint8_t)(local_as >> 8), caps[15] = (uint8_t)local_as;
	*p++ = sizeof caps;
	memcpy(p, caps, sizeof caps), p += sizeof caps;
	header(m, (unsigned)(p - m), 1);
	if (write_all(fd, m, (size_t)(p - m)) < 0)
		die("write OPEN");
	static uint8_t in[65536];
	size_t len;
	if (read_msg(fd, in, sizeof in, &len) != 1) {
		fprintf(stderr, "expected OPEN\n");
		return 1;
	}
	size_t max = open_has_cap(in, len, 6) ? 65535 : 4096;
	uint8_t ka[19];
	header(ka, 19, 4);
	if (write_all(fd, ka, 19) < 0)
		die("write KEEPALIVE");
	for (;;) {
		int t = read_msg(fd, in, sizeof in, &len);
		if (t == 4)
			break;
		if (t == 3) {
			fprintf(stderr, "NOTIFICATION %u/%u\n", in[19], in[20]);
			return 1;
		}
	}
	struct bird b;
	bird_open(&b, av[6]);
	const char *proto = av[7];
	uint32_t first = 100u << 24 | 65u << 16; /* 100.65.0.0: the bench's first line */
	size_t alen, wlen;
	uint8_t *ann = encode(n, first, 1, local_as, ntohl(nh.s_addr), max, &alen);
	uint8_t *wd = encode(n, first, 0, local_as, ntohl(nh.s_addr), max, &wlen);
	if (wait_count(&b, proto, 0, now_ms(), 10) < 0)
		fprintf(stderr, "%s does not start empty\n", proto);
	double t0 = now_ms();
	if (write_all(fd, ann, alen) < 0)
		die("write UPDATEs");
	long ta = wait_count(&b, proto, n, t0, 60);
	t0 = now_ms();
	if (write_all(fd, wd, wlen) < 0)
		die("write withdrawals");
	long tw = wait_count(&b, proto, 0, t0, 60);
	printf("ceiling %ld: announce %ld ms, withdraw %ld ms (%zu-byte UPDATEs, %zu bytes of announcements)\n", n,
	       ta, tw, max, alen);
	close(fd);
	return 0;
}

static int feed(char **av, int ac)
{
	int fd = open(av[0], O_RDONLY);
	if (fd < 0)
		die(av[0]);
	off_t size = lseek(fd, 0, SEEK_END);
	uint8_t *data = malloc((size_t)size + 1);
	if (!data || pread(fd, data, (size_t)size, 0) != size)
		die("read lines");
	close(fd);
	struct bird b;
	bird_open(&b, av[2]);
	long want = strtol(av[4], NULL, 10);
	int limit = ac > 5 ? atoi(av[5]) : 60;
	double t0 = now_ms();
	int out = open(av[1], O_WRONLY);
	if (out < 0 || write_all(out, data, (size_t)size) < 0)
		die(av[1]);
	close(out);
	printf("%ld\n", wait_count(&b, av[3], want, t0, limit));
	free(data);
	return 0;
}

int main(int ac, char **av)
{
	if (ac == 1) { /* bench/run.sh runs every bench_*: this one needs the namespaces of exabgp_vs.sh */
		printf("run by bench/exabgp_vs.sh (needs BIRD in a namespace)\n");
		return 0;
	}
	if (ac == 10 && !strcmp(av[1], "blast"))
		return blast(av + 2);
	if ((ac == 7 || ac == 8) && !strcmp(av[1], "feed"))
		return feed(av + 2, ac - 2);
	fprintf(stderr, "usage: %s blast LOCAL PEER LOCAL_AS PEER_AS N NEXT_HOP BIRD_CTL PROTO\n"
			"       %s feed FILE FIFO BIRD_CTL PROTO WANT [LIMIT_S]\n",
		av[0], av[0]);
	return 2;
}
