/* rampartctl: sends one command to a running rampartd over its control socket and prints the
 * reply. Exit status 0 on "done", 1 on "error", 2 when the daemon cannot be reached.
 *
 *   rampartctl [-c CONFIG | -s SOCKET] COMMAND [ARGS...]
 *   rampartctl import-fastnetmon [FASTNETMON_CONF [NETWORKS_LIST [NETWORKS_WHITELIST]]]
 *                                       prints the equivalent rampart.yaml (migrate/fnm.h)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../conf/conf.h"
#include "../lib/path.h"
#include "../migrate/fnm.h"

#define DEFAULT_SOCKET "/run/rampart/rampart.sock"
#define REPLY_TIMEOUT_MS 30000

static void usage(FILE *f)
{
	fprintf(f, "usage: rampartctl [-c CONFIG | -s SOCKET] COMMAND [ARGS...]\n"
		   "commands: ban IP [--for SECONDS], unban IP, bans, attacks, peers, top, stats, exporters,\n"
		   "          flows ATTACK_ID, talkers HOST [--from T] [--to T], reload, help\n"
		   "       rampartctl import-fastnetmon [FASTNETMON_CONF [NETWORKS_LIST [NETWORKS_WHITELIST]]]\n"
		   "          prints the equivalent rampart.yaml (defaults /etc/fastnetmon.conf and the lists it names)\n"
		   "the socket is api.socket of CONFIG, else %s\n",
		DEFAULT_SOCKET);
}

/* A whole file, at most 64 MiB (a networks list of a few million lines); NULL with errno. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (n < cap)
			break;
		if (cap >= (64u << 20)) {
			free(buf);
			buf = NULL;
			errno = EFBIG;
			break;
		}
		char *nb = realloc(buf, cap * 2);
		if (!nb) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = nb;
		cap *= 2;
	}
	int e = errno;
	bool bad = ferror(f);
	fclose(f);
	if (buf && bad) {
		free(buf);
		buf = NULL;
	}
	errno = e;
	*len = n;
	return buf;
}

static int import_fastnetmon(int argc, char **argv)
{
	if (argc > 3) {
		usage(stderr);
		return 2;
	}
	const char *conf_path = argc > 0 ? argv[0] : "/etc/fastnetmon.conf";
	struct fnm_input in = {.conf_name = conf_path};
	char *conf = read_file(conf_path, &in.conf_len);
	if (!conf) {
		fprintf(stderr, "rampartctl: %s: %s\n", conf_path, strerror(errno));
		return 1;
	}
	in.conf = conf;
	char nets[4096], white[4096];
	fnm_list_paths(conf, in.conf_len, nets, sizeof nets, white, sizeof white);
	in.networks_name = argc > 1 ? argv[1] : nets;
	in.whitelist_name = argc > 2 ? argv[2] : white;
	char *nl = read_file(in.networks_name, &in.networks_len);
	if (!nl)
		fprintf(stderr, "rampartctl: %s: %s\n", in.networks_name, strerror(errno));
	char *wl = read_file(in.whitelist_name, &in.whitelist_len);
	if (!wl)
		fprintf(stderr, "rampartctl: %s: %s (no whitelist)\n", in.whitelist_name, strerror(errno));
	in.networks = nl;
	in.whitelist = wl;
	struct fnm_result res;
	int rc = fnm_convert(&in, stdout, &res);
	fprintf(stderr,
		"rampartctl: %u settings read, %u without an equivalent (comments at the end), %u bad lines; "
		"%u networks, %u hostgroups\n",
		res.settings, res.no_equivalent, res.bad_lines, res.networks, res.hostgroups);
	if (rc != 0)
		fprintf(stderr, "rampartctl: no networks found: add them to networks: before using the output\n");
	free(conf);
	free(nl);
	free(wl);
	return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "import-fastnetmon"))
		return import_fastnetmon(argc - 2, argv + 2);
	char socket_path[sizeof(((struct sockaddr_un *)0)->sun_path)] = DEFAULT_SOCKET;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		}
		if (i + 1 >= argc) {
			usage(stderr);
			return 2;
		}
		if (!strcmp(argv[i], "-s")) {
			snprintf(socket_path, sizeof socket_path, "%s", argv[++i]);
		} else if (!strcmp(argv[i], "-c")) {
			struct rampart_conf conf;
			char err[512];
			if (conf_load(argv[++i], &conf, err, sizeof err) != 0) {
				fprintf(stderr, "rampartctl: %s\n", err);
				return 2;
			}
			snprintf(socket_path, sizeof socket_path, "%s", conf.api.socket);
			conf_free(&conf);
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	char line[4096];
	size_t len = 0;
	for (; i < argc; i++) {
		int n = snprintf(line + len, sizeof line - len, "%s%s", len ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof line - len - 1) {
			fprintf(stderr, "rampartctl: command too long\n");
			return 2;
		}
		len += (size_t)n;
	}
	line[len++] = '\n';

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", socket_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "rampartctl: cannot reach rampartd at %s: %s\n", socket_path, strerror(errno));
		return 2;
	}
	if (fd_write_all(fd, line, len) != 0) {
		fprintf(stderr, "rampartctl: %s: %s\n", socket_path, strerror(errno));
		return 2;
	}
	shutdown(fd, SHUT_WR);

	/* Print the reply as it comes; its last line says how it went. */
	char buf[65536], last[4096] = "";
	size_t last_len = 0;
	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, REPLY_TIMEOUT_MS);
		if (pr == 0) {
			fprintf(stderr, "rampartctl: no reply from rampartd within %d s\n", REPLY_TIMEOUT_MS / 1000);
			return 2;
		}
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		for (ssize_t k = 0; k < n; k++) {
			if (buf[k] == '\n') {
				last[last_len] = 0;
				if (!strcmp(last, "done")) {
					close(fd);
					return 0;
				}
				if (!strncmp(last, "error: ", 7)) {
					fprintf(stderr, "rampartctl: %s\n", last + 7);
					close(fd);
					return 1;
				}
				puts(last);
				last_len = 0;
			} else if (last_len < sizeof last - 1) {
				last[last_len++] = buf[k];
			}
		}
	}
	close(fd);
	fprintf(stderr, "rampartctl: rampartd closed the connection without finishing its reply\n");
	return 2;
}
