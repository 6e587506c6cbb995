/* clock — monotonic microseconds, the one time base of the daemon (queue waits, deadlines,
 * timings, uptime). */
#ifndef MNV2D_CLOCK_H
#define MNV2D_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t mnv2d_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* b - a, or 0 when b is not later (clocks read on different threads). */
static inline uint64_t mnv2d_elapsed_us(int64_t a, int64_t b)
{
	return b > a ? (uint64_t)(b - a) : 0;
}

#endif
