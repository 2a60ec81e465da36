/* storage/samples: sample packets of each attack (detection.attack_pcap), one pcap file per
 * attack on a host, written beside the other things storage keeps (storage/samples.c says how:
 * a lock-free ring per capture worker, drained into files by the main loop).
 *
 * Threads: st_samples_sample on the one capture worker that owns the producer; everything else
 * on the main loop. */
#ifndef RAMPART_STORAGE_SAMPLES_H
#define RAMPART_STORAGE_SAMPLES_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "../capture/cap.h"
#include "../detect/det.h"
#include "../lib/ip.h"

#define ST_SAMPLES_MAX_PRODUCERS 32 /* capture workers that can feed samples (API_MAX_SOURCES) */

/* detection.attack_pcap (docs/DETECTION.md); conf/ parses it. */
struct st_samples_config {
	bool enabled;      /* default false */
	char dir[256];     /* default "": STORAGE_DIR/attacks */
	uint32_t packets;  /* per attack at most, default 500 */
	uint32_t snaplen;  /* bytes kept of each packet, default 256 */
	uint32_t keep_days; /* files older than this are deleted, default 30; 0 = never */
	uint32_t max_files; /* at most this many files in dir (oldest attacks go first), default 10000; 0 = no cap */
};

struct st_samples_info {
	const char *path; /* valid until the next drain */
	uint64_t packets; /* written so far */
	bool open;        /* still collecting */
};

struct st_samples_stats {
	uint64_t written;      /* samples in files */
	uint64_t dropped;      /* a worker's ring was full */
	uint64_t skipped;      /* arrived for a closed, unwritable or other-link-type file */
	uint64_t files_opened, files_closed, errors;
	uint64_t files_deleted; /* by keep_days / max_files */
	unsigned open;
};

struct st_samples;
struct st_samples_producer;

/* NULL when cfg is off, or on error (err set). dir "" = storage_dir/attacks. */
struct st_samples *st_samples_new(const struct st_samples_config *cfg, const char *storage_dir, char *err,
				  size_t errlen);
/* Drains what the rings still hold and closes every file. After the workers stopped. */
void st_samples_free(struct st_samples *a);
/* Worker idx's ring (created on first call, before the worker starts); NULL when a is NULL or idx
 * is not below ST_SAMPLES_MAX_PRODUCERS. */
struct st_samples_producer *st_samples_producer(struct st_samples *a, unsigned idx);
/* Worker: r belongs to attack_id (det_counters_attack_of); copies f's bytes into the ring unless
 * the attack has its samples already or the ring is full (counted). No allocation, lock, syscall. */
void st_samples_sample(struct st_samples_producer *p, uint64_t attack_id, enum det_direction dir,
		       const struct flow_record *r, const struct cap_frame *f);
/* Main loop, after each tick: rings into files; closes the files of attacks e says ended (e may be
 * NULL: no closing). now_ns is the capture clock. */
void st_samples_drain(struct st_samples *a, const struct det_engine *e, uint64_t now_ns);
/* The file of an attack; false when it has none (no samples yet, no packets in the source, off). */
bool st_samples_info(const struct st_samples *a, uint64_t attack_id, struct st_samples_info *out);
void st_samples_stats(const struct st_samples *a, struct st_samples_stats *out);
const char *st_samples_dir(const struct st_samples *a);
/* Retention: deletes DIR's ATTACK_ID-*.pcap files older than keep_days (by mtime, against now),
 * then the oldest attacks' beyond max_files; never a file still collecting, nothing else in DIR.
 * Run at start and every 10 minutes by st_samples_drain; exposed for tests. */
void st_samples_sweep(struct st_samples *a, time_t now);
/* Where attack_id's samples go, whether or not any came yet: "" when a is NULL or target is a
 * prefix. For the notifications sent at the ban, before any sample. */
const char *st_samples_path(const struct st_samples *a, uint64_t attack_id, const ip_prefix *target, char *buf,
			    size_t len);

#endif
