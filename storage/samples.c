/* Sample packets of each attack (detection.attack_pcap): one pcap file per attack on a host.
 *
 * Two halves. A capture worker, for a record whose host is under attack (det_counters_attack_of),
 * copies up to snaplen bytes of the frame behind it (the mirrored frame, or the raw header of an
 * sFlow sample) into a slot of its own SPSC ring: no allocation, no lock, no syscall; a full ring
 * drops the sample and counts it, and after `packets` samples of one attack the worker copies no
 * more. The main loop, after each tick, drains every ring into DIR/ATTACK_ID-IP.pcap through
 * libpcap's dumper, and closes a file when it holds `packets` samples or a second (of capture
 * clock) after its attack ended. The ban never waits for any of this: detection does not know it
 * exists. A file that cannot be written costs its attack its samples (counted, logged once), never
 * a stall. Sources without packets (NetFlow, IPFIX) give no frame, so no file.
 *
 * Retention keeps the directory bounded on a daemon that runs for months: files older than
 * keep_days go, then the oldest attacks' files beyond max_files (st_samples_sweep). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../lib/clock.h"
#include "../lib/log.h"
#include "../lib/spsc.h"
#include "samples.h"

/* A ring holds at most this many bytes of slots (and 64..4096 slots): at the defaults (256-byte
 * snaplen) 4096 slots, ~1.3 MB per worker, several ticks of five attacks at full mirror rate. */
#define RING_BYTES (4u << 20)
#define RING_MIN 64
#define RING_MAX 4096
/* Per worker: samples taken per attack, direct-mapped by id (attack ids are consecutive, so the
 * last SEEN attacks never collide). */
#define SEEN 128
/* Files open at once: as many as hosts can be watched (DET_WATCH_MAX is 64). Past it the oldest
 * open file is closed early. */
#define MAX_OPEN 64
/* Attacks whose file is remembered for `rampartctl attack`, the API and notifications. */
#define HISTORY 512
#define END_GRACE_NS 1000000000ull
#define CHECK_EVERY_NS 250000000ull /* wall clock between looks at which attacks ended */
/* Retention runs this often: a readdir of a few thousand names, nothing on a busy path. At most
 * the bans of ten minutes (bounded by the per-minute ban cap) can pass max_files meanwhile. */
#define SWEEP_EVERY_NS (600ull * 1000000000ull)

struct slot {
	uint64_t attack_id;
	uint64_t ts_ns;
	ip_addr host;
	uint32_t caplen, len;
	int32_t dlt;
	uint8_t dir;
	uint8_t data[];
};

struct st_samples_producer {
	struct spsc *ring;
	uint32_t snaplen, max_packets;
	struct {
		uint64_t id;
		uint32_t n;
	} seen[SEEN];
	_Atomic uint64_t dropped; /* ring full; written by the worker only (no locked op) */
};

struct file {
	uint64_t attack_id; /* 0 = free */
	ip_addr host;
	uint8_t dir;
	int dlt;
	pcap_t *dead;
	pcap_dumper_t *dumper; /* NULL once closed, or when it could not be opened */
	uint64_t packets;
	bool error;
	bool dirty; /* written since the last flush */
	char path[PATH_MAX];
};

struct st_samples {
	struct st_samples_config cfg;
	char dir[PATH_MAX - 96]; /* room for /ATTACK_ID-IP.pcap */
	size_t slot_size, ring_slots;
	struct st_samples_producer *prod[ST_SAMPLES_MAX_PRODUCERS];
	struct file hist[HISTORY];
	unsigned hist_next;
	struct file *open[MAX_OPEN];
	unsigned n_open;
	struct det_ban_info *attacks; /* scratch for the attack list */
	uint64_t last_check_mono;
	uint64_t last_sweep_mono;
	struct st_samples_stats st;
	struct log_once open_log, write_log, sweep_log;
};

/* mkdir -p for the last two components: DIR and its parent (STORAGE_DIR/attacks before storage
 * made STORAGE_DIR). */
static int make_dir(const char *dir)
{
	if (mkdir(dir, 0750) == 0 || errno == EEXIST)
		return 0;
	char parent[PATH_MAX];
	snprintf(parent, sizeof parent, "%s", dir);
	char *slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -1;
	*slash = '\0';
	if (mkdir(parent, 0750) != 0 && errno != EEXIST)
		return -1;
	return mkdir(dir, 0750) == 0 || errno == EEXIST ? 0 : -1;
}

struct st_samples *st_samples_new(const struct st_samples_config *cfg, const char *storage_dir, char *err, size_t errlen)
{
	if (!cfg->enabled)
		return NULL;
	struct st_samples *a = calloc(1, sizeof *a);
	if (!a || !(a->attacks = calloc(HISTORY, sizeof *a->attacks))) {
		free(a);
		snprintf(err, errlen, "attack_pcap: out of memory");
		return NULL;
	}
	a->cfg = *cfg;
	int n = cfg->dir[0] ? snprintf(a->dir, sizeof a->dir, "%s", cfg->dir)
			    : snprintf(a->dir, sizeof a->dir, "%s/attacks", storage_dir);
	if (n < 0 || (size_t)n >= sizeof a->dir) {
		snprintf(err, errlen, "attack_pcap: directory name too long");
		st_samples_free(a);
		return NULL;
	}
	a->slot_size = (sizeof(struct slot) + cfg->snaplen + 7) & ~(size_t)7;
	size_t slots = RING_BYTES / a->slot_size;
	a->ring_slots = slots < RING_MIN ? RING_MIN : slots > RING_MAX ? RING_MAX : slots;
	/* the directory now, so a wrong path shows at start; a failure here is retried per file */
	if (make_dir(a->dir) != 0)
		log_warn("attack_pcap: cannot create %s: %s (retried when an attack has samples)", a->dir,
			 strerror(errno));
	st_samples_sweep(a, time(NULL)); /* what earlier runs left */
	a->last_sweep_mono = clock_mono_ns();
	return a;
}

struct st_samples_producer *st_samples_producer(struct st_samples *a, unsigned idx)
{
	if (!a || idx >= ST_SAMPLES_MAX_PRODUCERS)
		return NULL;
	if (a->prod[idx])
		return a->prod[idx];
	struct st_samples_producer *p = calloc(1, sizeof *p);
	if (!p || !(p->ring = spsc_new(a->ring_slots, a->slot_size))) {
		free(p);
		return NULL;
	}
	p->snaplen = a->cfg.snaplen;
	p->max_packets = a->cfg.packets;
	a->prod[idx] = p;
	return p;
}

/* ---- worker side: per record of a host under attack ---------------------------------------- */

void st_samples_sample(struct st_samples_producer *p, uint64_t attack_id, enum det_direction dir,
		     const struct flow_record *r, const struct cap_frame *f)
{
	if (!f || !f->data)
		return;
	unsigned k = (unsigned)(attack_id & (SEEN - 1));
	if (p->seen[k].id != attack_id) {
		p->seen[k].id = attack_id;
		p->seen[k].n = 0;
	}
	if (p->seen[k].n >= p->max_packets)
		return;
	struct slot *s = spsc_push_slot(p->ring);
	if (!s) {
		atomic_store_explicit(&p->dropped, atomic_load_explicit(&p->dropped, memory_order_relaxed) + 1,
				      memory_order_relaxed);
		return;
	}
	p->seen[k].n++;
	uint32_t n = f->caplen < p->snaplen ? f->caplen : p->snaplen;
	s->attack_id = attack_id;
	s->ts_ns = r->start_ns;
	s->host = dir == DET_IN ? r->dst : r->src;
	s->caplen = n;
	s->len = f->len > n ? f->len : n;
	s->dlt = f->dlt;
	s->dir = (uint8_t)dir;
	memcpy(s->data, f->data, n);
	spsc_push_commit(p->ring);
}

/* ---- main loop side: rings into files -------------------------------------------------------- */

static void file_close(struct st_samples *a, struct file *f)
{
	if (f->dumper) {
		pcap_dump_close(f->dumper);
		f->dumper = NULL;
		a->st.files_closed++;
	}
	if (f->dead) {
		pcap_close(f->dead);
		f->dead = NULL;
	}
	for (unsigned i = 0; i < a->n_open; i++)
		if (a->open[i] == f) {
			a->open[i] = a->open[--a->n_open];
			break;
		}
}

/* The file of attack id (open ones first: that is where samples go), or HISTORY. */
static unsigned file_index(const struct st_samples *a, uint64_t id)
{
	for (unsigned i = 0; i < a->n_open; i++)
		if (a->open[i]->attack_id == id)
			return (unsigned)(a->open[i] - a->hist);
	for (unsigned i = 0; i < HISTORY; i++)
		if (a->hist[i].attack_id == id)
			return i;
	return HISTORY;
}

static struct file *file_open(struct st_samples *a, const struct slot *s)
{
	if (a->n_open == MAX_OPEN) {
		/* the oldest: attack ids grow, so the smallest id */
		struct file *old = a->open[0];
		for (unsigned i = 1; i < a->n_open; i++)
			if (a->open[i]->attack_id < old->attack_id)
				old = a->open[i];
		file_close(a, old);
	}
	struct file *f = &a->hist[a->hist_next];
	a->hist_next = (a->hist_next + 1) % HISTORY;
	file_close(a, f);
	memset(f, 0, sizeof *f);
	f->attack_id = s->attack_id;
	f->host = s->host;
	f->dir = s->dir;
	f->dlt = s->dlt;
	char ip[IP_STRLEN];
	snprintf(f->path, sizeof f->path, "%s/%" PRIu64 "-%s.pcap", a->dir, s->attack_id, ip_format(&s->host, ip));
	(void)make_dir(a->dir); /* gone since start? pcap_dump_open says what is wrong */
	f->dead = pcap_open_dead_with_tstamp_precision(s->dlt, (int)a->cfg.snaplen, PCAP_TSTAMP_PRECISION_NANO);
	if (f->dead)
		f->dumper = pcap_dump_open(f->dead, f->path);
	if (!f->dumper) {
		a->st.errors++;
		log_once(&a->open_log, "attack_pcap: attack %" PRIu64 ": cannot write %s: %s; its samples are dropped",
			 s->attack_id, f->path, f->dead ? pcap_geterr(f->dead) : "out of memory");
		if (f->dead) {
			pcap_close(f->dead);
			f->dead = NULL;
		}
		f->error = true;
		return f;
	}
	a->st.files_opened++;
	a->open[a->n_open++] = f;
	return f;
}

static void write_slot(struct st_samples *a, const struct slot *s)
{
	unsigned i = file_index(a, s->attack_id);
	struct file *f = i < HISTORY ? &a->hist[i] : file_open(a, s);
	if (!f->dumper || f->dlt != s->dlt || f->packets >= a->cfg.packets) {
		/* closed (full, ended), unwritable, or another link type than the file's first sample */
		a->st.skipped++;
		return;
	}
	struct pcap_pkthdr h = {.caplen = s->caplen, .len = s->len};
	h.ts.tv_sec = (time_t)(s->ts_ns / 1000000000ull);
	h.ts.tv_usec = (suseconds_t)(s->ts_ns % 1000000000ull); /* ns: the dumper is nanosecond */
	pcap_dump((u_char *)f->dumper, &h, s->data);
	f->packets++;
	f->dirty = true;
	a->st.written++;
	if (f->packets == a->cfg.packets)
		file_close(a, f);
}

/* Closes the files of attacks that ended at least END_GRACE_NS ago (late samples still in the
 * rings, or in counters sets handed out before the end, get that long to arrive). */
static void close_ended(struct st_samples *a, const struct det_engine *e, uint64_t now_ns)
{
	uint64_t t = clock_mono_ns();
	if (!a->n_open || t - a->last_check_mono < CHECK_EVERY_NS)
		return;
	a->last_check_mono = t;
	size_t n = det_engine_attacks(e, a->attacks, HISTORY);
	if (n > HISTORY)
		n = HISTORY;
	for (unsigned i = 0; i < a->n_open;) {
		struct file *f = a->open[i];
		const struct det_ban_info *b = NULL;
		for (size_t k = 0; k < n && !b; k++)
			if (a->attacks[k].attack_id == f->attack_id)
				b = &a->attacks[k];
		if (!b || (b->ended_ns && now_ns >= b->ended_ns + END_GRACE_NS))
			file_close(a, f); /* moves the last open file into slot i */
		else
			i++;
	}
}

void st_samples_drain(struct st_samples *a, const struct det_engine *e, uint64_t now_ns)
{
	if (!a)
		return;
	for (unsigned w = 0; w < ST_SAMPLES_MAX_PRODUCERS; w++) {
		struct st_samples_producer *p = a->prod[w];
		if (!p)
			continue;
		/* at most a ring's worth per call, so a busy worker cannot hold the loop */
		for (size_t i = 0; i < a->ring_slots; i++) {
			const struct slot *s = spsc_peek(p->ring);
			if (!s)
				break;
			write_slot(a, s);
			spsc_pop_commit(p->ring);
		}
	}
	for (unsigned i = 0; i < a->n_open; i++)
		if (a->open[i]->dirty) {
			a->open[i]->dirty = false;
			if (pcap_dump_flush(a->open[i]->dumper) != 0) {
				a->st.errors++;
				log_once(&a->write_log, "attack_pcap: writing %s failed (disk full?)", a->open[i]->path);
			}
		}
	if (e)
		close_ended(a, e, now_ns);
	if (e && clock_mono_ns() - a->last_sweep_mono >= SWEEP_EVERY_NS) {
		st_samples_sweep(a, time(NULL));
		a->last_sweep_mono = clock_mono_ns();
	}
}

/* ---- retention ------------------------------------------------------------------------------ */

struct kept {
	uint64_t attack_id;
	time_t mtime;
	bool open;
	char name[96]; /* ATTACK_ID-IP.pcap: at most 20 + 1 + 45 + 5 */
};

static int by_id(const void *x, const void *y)
{
	const struct kept *a = x, *b = y;
	return a->attack_id < b->attack_id ? -1 : a->attack_id > b->attack_id;
}

/* ATTACK_ID-SOMETHING.pcap, the names file_open makes; 0 for any other name. */
static uint64_t sample_file_id(const char *name)
{
	uint64_t id = 0;
	const char *p = name;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (id > (UINT64_MAX - 9) / 10)
			return 0;
		id = id * 10 + (uint64_t)(*p - '0');
	}
	size_t n = strlen(name);
	if (p == name || *p != '-' || n < 6 || strcmp(name + n - 5, ".pcap") != 0)
		return 0;
	return id;
}

static bool is_open(const struct st_samples *a, uint64_t id)
{
	for (unsigned i = 0; i < a->n_open; i++)
		if (a->open[i]->attack_id == id)
			return true;
	return false;
}

static void delete_file(struct st_samples *a, const struct kept *k)
{
	char path[PATH_MAX];
	int m = snprintf(path, sizeof path, "%s/%s", a->dir, k->name);
	if (m < 0 || (size_t)m >= sizeof path) /* cannot happen: the sweep read it through this path */
		return;
	if (unlink(path) != 0 && errno != ENOENT) {
		a->st.errors++;
		log_once(&a->sweep_log, "attack_pcap: retention cannot delete %s: %s", path, strerror(errno));
		return;
	}
	a->st.files_deleted++;
	/* rampartctl attack and the API stop naming a file that is gone */
	unsigned i = file_index(a, k->attack_id);
	if (i < HISTORY && !a->hist[i].dumper)
		a->hist[i].attack_id = 0;
}

void st_samples_sweep(struct st_samples *a, time_t now)
{
	if (!a || (!a->cfg.keep_days && !a->cfg.max_files))
		return;
	DIR *d = opendir(a->dir);
	if (!d)
		return; /* not made yet: nothing to keep */
	struct kept *k = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t id = sample_file_id(de->d_name);
		struct stat sb;
		char path[PATH_MAX];
		size_t len = strlen(de->d_name);
		if (!id || len >= sizeof k->name)
			continue;
		int m = snprintf(path, sizeof path, "%s/%s", a->dir, de->d_name);
		if (m < 0 || (size_t)m >= sizeof path || lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct kept *nk = realloc(k, ncap * sizeof *k);
			if (!nk)
				break; /* the rest waits for the next sweep */
			k = nk;
			cap = ncap;
		}
		k[n] = (struct kept){.attack_id = id, .mtime = sb.st_mtime, .open = is_open(a, id)};
		memcpy(k[n].name, de->d_name, len + 1);
		n++;
	}
	closedir(d);
	size_t left = n;
	if (a->cfg.keep_days) {
		time_t cutoff = now - (time_t)a->cfg.keep_days * 86400;
		for (size_t i = 0; i < n; i++)
			if (!k[i].open && k[i].mtime < cutoff) {
				delete_file(a, &k[i]);
				k[i].attack_id = 0; /* gone */
				left--;
			}
	}
	if (a->cfg.max_files && left > a->cfg.max_files) {
		qsort(k, n, sizeof *k, by_id);
		for (size_t i = 0; i < n && left > a->cfg.max_files; i++)
			if (k[i].attack_id && !k[i].open) {
				delete_file(a, &k[i]);
				left--;
			}
	}
	free(k);
}

void st_samples_free(struct st_samples *a)
{
	if (!a)
		return;
	st_samples_drain(a, NULL, 0);
	while (a->n_open)
		file_close(a, a->open[0]);
	for (unsigned i = 0; i < ST_SAMPLES_MAX_PRODUCERS; i++)
		if (a->prod[i]) {
			spsc_free(a->prod[i]->ring);
			free(a->prod[i]);
		}
	free(a->attacks);
	free(a);
}

bool st_samples_info(const struct st_samples *a, uint64_t attack_id, struct st_samples_info *out)
{
	if (!a || !attack_id)
		return false;
	unsigned i = file_index(a, attack_id);
	if (i == HISTORY || a->hist[i].error)
		return false;
	const struct file *f = &a->hist[i];
	out->path = f->path;
	out->packets = f->packets;
	out->open = f->dumper != NULL;
	return true;
}

void st_samples_stats(const struct st_samples *a, struct st_samples_stats *out)
{
	memset(out, 0, sizeof *out);
	if (!a)
		return;
	*out = a->st;
	out->open = a->n_open;
	for (unsigned i = 0; i < ST_SAMPLES_MAX_PRODUCERS; i++)
		if (a->prod[i])
			out->dropped += atomic_load_explicit(&a->prod[i]->dropped, memory_order_relaxed);
}

const char *st_samples_dir(const struct st_samples *a)
{
	return a ? a->dir : "";
}

const char *st_samples_path(const struct st_samples *a, uint64_t attack_id, const ip_prefix *target, char *buf, size_t len)
{
	buf[0] = '\0';
	if (!a || target->len != ip_max_len(&target->addr))
		return buf; /* a prefix (group total) attack has no one host to sample */
	char ip[IP_STRLEN];
	snprintf(buf, len, "%s/%" PRIu64 "-%s.pcap", a->dir, attack_id, ip_format(&target->addr, ip));
	return buf;
}
