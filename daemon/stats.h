/* stats — per-model request counters and latency percentiles, shared by the loop thread
 * and the workers.
 *
 * Contract:
 *  - Fixed memory per model: a log-linear histogram per stage (16 sub-buckets per power of
 *    two, so a percentile is within 1/16 = 6.25% of the true value, exact below 16 µs),
 *    covering 0 .. 2^40 µs; larger values land in the last bucket.
 *  - Latencies are recent: two windows of MNV2D_STATS_WINDOW_S seconds rotate, and the
 *    percentiles are over the current and the previous window (the last 60..120 s).
 *    Request and response counters count from the model set's start.
 *  - A percentile answers the upper edge of the bucket holding that rank, capped at the
 *    largest value recorded (so it never exceeds a real observation); 0 when empty.
 *  - Thread-safe: one mutex per mnv2d_stats, held for a few increments only. */
#ifndef MNV2D_STATS_H
#define MNV2D_STATS_H

#include <pthread.h>
#include <stdint.h>

enum {
	MNV2D_STAGE_QUEUE,
	MNV2D_STAGE_DECODE,
	MNV2D_STAGE_PREPROCESS,
	MNV2D_STAGE_INFERENCE,
	MNV2D_STAGE_POSTPROCESS,
	MNV2D_STAGE_TOTAL,
	MNV2D_STAGES
};

#define MNV2D_STATS_WINDOW_S 60
#define MNV2D_STATUS_CODES 8    /* StatusCode values 0..7 of the wire protocol */
#define MNV2D_HIST_SUB_BITS 4
#define MNV2D_HIST_SUB (1u << MNV2D_HIST_SUB_BITS)
#define MNV2D_HIST_MAX_EXP 40
#define MNV2D_HIST_BUCKETS (MNV2D_HIST_SUB * (MNV2D_HIST_MAX_EXP - MNV2D_HIST_SUB_BITS + 2))

typedef struct mnv2d_hist {
	uint64_t count, max;
	uint64_t bucket[MNV2D_HIST_BUCKETS];
} mnv2d_hist;

/* The timings of one request in µs; only the stages whose bit is set were measured. */
typedef struct mnv2d_timing {
	uint64_t us[MNV2D_STAGES];
	unsigned stages;   /* bit s set: us[s] was measured */
} mnv2d_timing;

typedef struct mnv2d_stats {
	pthread_mutex_t lock;
	uint64_t requests;
	uint64_t responses[MNV2D_STATUS_CODES];
	int64_t window_start;          /* µs, monotonic */
	int cur;                       /* the current window: stage[cur] */
	mnv2d_hist stage[2][MNV2D_STAGES];
} mnv2d_stats;

/* A consistent copy for reporting. */
typedef struct mnv2d_stats_snapshot {
	uint64_t requests;
	uint64_t responses[MNV2D_STATUS_CODES];
	uint64_t p50[MNV2D_STAGES], p90[MNV2D_STAGES], p99[MNV2D_STAGES], count[MNV2D_STAGES];
} mnv2d_stats_snapshot;

const char *mnv2d_stage_name(int stage);   /* "queue", ..., "total" */

void mnv2d_hist_add(mnv2d_hist *h, uint64_t v);
/* Percentile p (0 < p <= 100) as described above, of h and (when not NULL) h2 together. */
uint64_t mnv2d_hist_percentile(const mnv2d_hist *h, const mnv2d_hist *h2, double p);
unsigned mnv2d_hist_bucket(uint64_t v);      /* exposed for tests */
uint64_t mnv2d_hist_upper(unsigned bucket);  /* largest value in a bucket */

int mnv2d_stats_init(mnv2d_stats *s);
void mnv2d_stats_destroy(mnv2d_stats *s);
void mnv2d_stats_request(mnv2d_stats *s);
/* A response with this status code; t (may be NULL) adds its measured stages. */
void mnv2d_stats_response(mnv2d_stats *s, unsigned status, const mnv2d_timing *t);
void mnv2d_stats_snapshot_get(mnv2d_stats *s, mnv2d_stats_snapshot *out);
/* The same at a given time (µs, monotonic), for tests. */
void mnv2d_stats_response_at(mnv2d_stats *s, unsigned status, const mnv2d_timing *t,
			     int64_t now);
void mnv2d_stats_snapshot_at(mnv2d_stats *s, mnv2d_stats_snapshot *out, int64_t now);

#endif
