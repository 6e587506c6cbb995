/* mnv2ctl bench: throughput and latency through the daemon. Keeps up to --concurrency
 * requests in flight on one pipelined connection until --requests have been answered;
 * latency is measured per request from send to receive. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

typedef struct bench_state {
	double *sent_at;    /* by request id - first id */
	double *latency_ms; /* of OK responses */
	size_t n_ok;
	uint64_t by_status[8 + 1]; /* 0..7, then any other */
	uint64_t first_id;
} bench_state;

static void report(FILE *out, int json, const bench_state *b, unsigned requests,
		   unsigned conc, double wall)
{
	double p50 = pct(b->latency_ms, b->n_ok, 0.5), p90 = pct(b->latency_ms, b->n_ok, 0.9);
	double p99 = pct(b->latency_ms, b->n_ok, 0.99);
	double rps = wall > 0 ? (double)b->n_ok / wall : 0;
	if (json) {
		fprintf(out, "{\"requests\": %u, \"concurrency\": %u, \"ok\": %zu, \"errors\": {",
			requests, conc, b->n_ok);
		int first = 1;
		for (int s = 1; s <= 8; s++)
			if (b->by_status[s]) {
				fprintf(out, "%s\"%s\": %" PRIu64, first ? "" : ", ",
					s == 8 ? "OTHER" : mnv2c_code_name(s), b->by_status[s]);
				first = 0;
			}
		fprintf(out,
			"}, \"seconds\": %.6f, \"requests_per_second\": %.3f, "
			"\"latency_ms\": {\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f}}\n",
			wall, rps, p50, p90, p99);
		return;
	}
	fprintf(out, "%u requests, concurrency %u: %zu ok in %.3f s, %.1f requests/s\n",
		requests, conc, b->n_ok, wall, rps);
	for (int s = 1; s <= 8; s++)
		if (b->by_status[s])
			fprintf(out, "  %s: %" PRIu64 "\n", s == 8 ? "OTHER" : mnv2c_code_name(s),
				b->by_status[s]);
	fprintf(out, "latency ms: p50 %.3f  p90 %.3f  p99 %.3f\n", p50, p90, p99);
}

int ctl_bench(mnv2c_client *c, const ctl_args *a, const mnv2c_image *img, FILE *out,
	      FILE *errf)
{
	bench_state b = {0};
	mnv2c_request_kind kind = a->bench_detect ? MNV2C_REQ_DETECT : MNV2C_REQ_CLASSIFY;
	unsigned sent = 0, done = 0;
	mnv2c_error err;
	int rc = CTL_EXIT_OK;

	b.sent_at = calloc(a->requests, sizeof *b.sent_at);
	b.latency_ms = calloc(a->requests, sizeof *b.latency_ms);
	if (!b.sent_at || !b.latency_ms) {
		fputs("mnv2ctl: out of memory\n", errf);
		rc = CTL_EXIT_FAILED;
		goto out;
	}
	double start = now_s();
	while (done < a->requests) {
		while (sent < a->requests && sent - done < a->concurrency) {
			uint64_t id;
			if (mnv2c_send(c, kind, img, &a->opt, &id, &err) != MNV2C_OK)
				goto fail;
			if (sent == 0)
				b.first_id = id;
			b.sent_at[id - b.first_id] = now_s();
			sent++;
		}
		mnv2c_response *r;
		if (mnv2c_receive(c, mnv2c_timeout_ms(c), &r, &err) != MNV2C_OK)
			goto fail;
		uint64_t k = r->request_id - b.first_id;
		if (r->status == MNV2C_OK && k < a->requests)
			b.latency_ms[b.n_ok++] = (now_s() - b.sent_at[k]) * 1000.0;
		else
			b.by_status[r->status >= 1 && r->status <= 7 ? r->status : 8]++;
		mnv2c_response_free(r);
		done++;
	}
	double wall = now_s() - start;
	qsort(b.latency_ms, b.n_ok, sizeof *b.latency_ms, cmp_double);
	report(out, a->json, &b, a->requests, a->concurrency, wall);
	rc = b.n_ok == a->requests ? CTL_EXIT_OK : CTL_EXIT_FAILED;
	goto out;
fail:
	fprintf(errf, "mnv2ctl: %s: %s\n", mnv2c_code_name(err.code), err.message);
	rc = CTL_EXIT_FAILED;
out:
	free(b.sent_at);
	free(b.latency_ms);
	return rc;
}
