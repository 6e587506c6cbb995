/* stats — see stats.h. */
#include "stats.h"

#include "clock.h"

#include <string.h>

static const char *const stage_names[MNV2D_STAGES] = {
	"queue", "decode", "preprocess", "inference", "postprocess", "total",
};

const char *mnv2d_stage_name(int stage)
{
	return stage >= 0 && stage < MNV2D_STAGES ? stage_names[stage] : "?";
}

static unsigned log2_u64(uint64_t v)
{
	unsigned e = 0;
	while (v >>= 1)
		e++;
	return e;
}

/* Values below 2^SUB_BITS have a bucket each; above, 2^SUB_BITS buckets per power of two. */
unsigned mnv2d_hist_bucket(uint64_t v)
{
	if (v < MNV2D_HIST_SUB)
		return (unsigned)v;
	unsigned e = log2_u64(v);
	if (e > MNV2D_HIST_MAX_EXP)
		return MNV2D_HIST_BUCKETS - 1;
	unsigned sub = (unsigned)(v >> (e - MNV2D_HIST_SUB_BITS)) & (MNV2D_HIST_SUB - 1);
	return MNV2D_HIST_SUB * (e - MNV2D_HIST_SUB_BITS + 1) + sub;
}

uint64_t mnv2d_hist_upper(unsigned b)
{
	if (b < MNV2D_HIST_SUB)
		return b;
	if (b >= MNV2D_HIST_BUCKETS - 1)
		return UINT64_MAX;
	unsigned e = b / MNV2D_HIST_SUB + MNV2D_HIST_SUB_BITS - 1, sub = b % MNV2D_HIST_SUB;
	uint64_t width = (uint64_t)1 << (e - MNV2D_HIST_SUB_BITS);
	return ((uint64_t)1 << e) + (sub + 1) * width - 1;
}

void mnv2d_hist_add(mnv2d_hist *h, uint64_t v)
{
	h->bucket[mnv2d_hist_bucket(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

uint64_t mnv2d_hist_percentile(const mnv2d_hist *h, const mnv2d_hist *h2, double p)
{
	uint64_t count = h->count + (h2 ? h2->count : 0);
	uint64_t max = h2 && h2->max > h->max ? h2->max : h->max;
	if (!count)
		return 0;
	/* the smallest rank r with r >= p% of count (at least 1) */
	uint64_t rank = (uint64_t)((p / 100.0) * (double)count);
	if ((double)rank < (p / 100.0) * (double)count)
		rank++;
	if (rank < 1)
		rank = 1;
	if (rank > count)
		rank = count;
	uint64_t seen = 0;
	for (unsigned b = 0; b < MNV2D_HIST_BUCKETS; b++) {
		seen += h->bucket[b] + (h2 ? h2->bucket[b] : 0);
		if (seen >= rank) {
			uint64_t up = mnv2d_hist_upper(b);
			return up < max ? up : max;
		}
	}
	return max;
}

int mnv2d_stats_init(mnv2d_stats *s)
{
	memset(s, 0, sizeof *s);
	return pthread_mutex_init(&s->lock, NULL) ? -1 : 0;
}

void mnv2d_stats_destroy(mnv2d_stats *s)
{
	pthread_mutex_destroy(&s->lock);
}

void mnv2d_stats_request(mnv2d_stats *s)
{
	pthread_mutex_lock(&s->lock);
	s->requests++;
	pthread_mutex_unlock(&s->lock);
}

/* Starts a new window when the current one is over (both when the previous is over too). */
static void rotate(mnv2d_stats *s, int64_t now)
{
	const int64_t w = (int64_t)MNV2D_STATS_WINDOW_S * 1000000;
	if (!s->window_start) {
		s->window_start = now;
		return;
	}
	if (now - s->window_start < w)
		return;
	if (now - s->window_start >= 2 * w)
		memset(s->stage[s->cur], 0, sizeof s->stage[s->cur]);
	s->cur ^= 1;
	memset(s->stage[s->cur], 0, sizeof s->stage[s->cur]);
	s->window_start = now;
}

void mnv2d_stats_response_at(mnv2d_stats *s, unsigned status, const mnv2d_timing *t,
			     int64_t now)
{
	pthread_mutex_lock(&s->lock);
	rotate(s, now);
	if (status < MNV2D_STATUS_CODES)
		s->responses[status]++;
	for (int i = 0; t && i < MNV2D_STAGES; i++)
		if (t->stages & (1u << i))
			mnv2d_hist_add(&s->stage[s->cur][i], t->us[i]);
	pthread_mutex_unlock(&s->lock);
}

void mnv2d_stats_response(mnv2d_stats *s, unsigned status, const mnv2d_timing *t)
{
	mnv2d_stats_response_at(s, status, t, mnv2d_now_us());
}

void mnv2d_stats_snapshot_at(mnv2d_stats *s, mnv2d_stats_snapshot *out, int64_t now)
{
	pthread_mutex_lock(&s->lock);
	rotate(s, now);
	out->requests = s->requests;
	memcpy(out->responses, s->responses, sizeof out->responses);
	for (int i = 0; i < MNV2D_STAGES; i++) {
		const mnv2d_hist *a = &s->stage[s->cur][i], *b = &s->stage[s->cur ^ 1][i];
		out->count[i] = a->count + b->count;
		out->p50[i] = mnv2d_hist_percentile(a, b, 50);
		out->p90[i] = mnv2d_hist_percentile(a, b, 90);
		out->p99[i] = mnv2d_hist_percentile(a, b, 99);
	}
	pthread_mutex_unlock(&s->lock);
}

void mnv2d_stats_snapshot_get(mnv2d_stats *s, mnv2d_stats_snapshot *out)
{
	mnv2d_stats_snapshot_at(s, out, mnv2d_now_us());
}
