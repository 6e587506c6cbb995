/* pool — the inference worker threads and the way their results get back to the loop.
 *
 * Contract:
 *  - mnv2d_pool_start() starts n workers with every signal blocked (signals belong to the
 *    loop thread). Worker w takes jobs from the queue, runs them with its own contexts
 *    (infer.h) and appends them to the completion list; when the list goes from empty to
 *    non-empty it writes the eventfd mnv2d_pool_fd(), which the loop watches.
 *  - mnv2d_pool_take() (loop thread) clears the eventfd and returns every completed job,
 *    oldest first, linked by `next`.
 *  - Workers exit when the queue is closed and empty; mnv2d_pool_join() waits for them.
 *  - Each worker publishes when it started its current job (0 when idle), so a health
 *    check (the systemd watchdog) can tell a wedged worker: mnv2d_pool_oldest_busy().
 *  - Test hook: limits.test_wedge_ms > 0 makes each job (or only those of the model named
 *    limits.test_wedge_model) hold its worker that long (busy) before it runs; main.c
 *    sets it only under MNV2D_TEST_HOOKS=1. */
#ifndef MNV2D_POOL_H
#define MNV2D_POOL_H

#include "infer.h"
#include "job.h"
#include "log.h"
#include "queue.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct mnv2d_worker mnv2d_worker;

typedef struct mnv2d_pool {
	mnv2d_queue *queue;
	mnv2d_limits limits;
	const mnv2d_log *log;
	size_t n, started;
	mnv2d_worker *workers;
	pthread_mutex_t done_lock;
	mnv2d_job *done_head, *done_tail;
	int wake_fd;
} mnv2d_pool;

/* 0, or -1 with a message in err (nothing left running). */
int mnv2d_pool_start(mnv2d_pool *p, size_t n, mnv2d_queue *q, const mnv2d_limits *lim,
		     const mnv2d_log *log, char *err, size_t errlen);
int mnv2d_pool_fd(const mnv2d_pool *p);
mnv2d_job *mnv2d_pool_take(mnv2d_pool *p);
/* Waits for the workers to exit (close the queue first); completed jobs stay to be taken. */
void mnv2d_pool_join(mnv2d_pool *p);
/* Joins, frees completed jobs never taken and releases the pool. */
void mnv2d_pool_free(mnv2d_pool *p);
/* Start time (mnv2d_now_us) of the longest-running current job, 0 when all are idle. */
int64_t mnv2d_pool_oldest_busy(const mnv2d_pool *p);

#endif
