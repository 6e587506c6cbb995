/* queue — the bounded request queue between the loop thread and the workers.
 *
 * Contract:
 *  - At most `capacity` jobs wait; mnv2d_queue_push() on a full (or closed) queue fails at
 *    once and the caller answers RESOURCE_EXHAUSTED (or UNAVAILABLE): memory never grows.
 *  - FIFO. mnv2d_queue_pop() blocks until a job arrives or the queue is closed and empty
 *    (then NULL: the worker exits). Closing lets the workers drain what is queued.
 *  - mnv2d_queue_cancel() unlinks every queued job of one owner (a connection that went
 *    away) and returns them as a list for the caller to free: they never run.
 *  - Tracks the current depth and its high-water mark. All functions are thread-safe. */
#ifndef MNV2D_QUEUE_H
#define MNV2D_QUEUE_H

#include "job.h"

#include <pthread.h>
#include <stddef.h>

typedef struct mnv2d_queue {
	pthread_mutex_t lock;
	pthread_cond_t nonempty;
	mnv2d_job *head, *tail;
	size_t depth, capacity, high_water;
	int closed;
} mnv2d_queue;

int mnv2d_queue_init(mnv2d_queue *q, size_t capacity);
void mnv2d_queue_destroy(mnv2d_queue *q);   /* the queue must be empty */

/* 0: queued; -1: full or closed (the job stays the caller's). */
int mnv2d_queue_push(mnv2d_queue *q, mnv2d_job *j);
mnv2d_job *mnv2d_queue_pop(mnv2d_queue *q);
/* Unlinks owner's jobs; returns them linked by `next` (NULL when none). */
mnv2d_job *mnv2d_queue_cancel(mnv2d_queue *q, const void *owner);
void mnv2d_queue_close(mnv2d_queue *q);

void mnv2d_queue_counts(mnv2d_queue *q, size_t *depth, size_t *capacity, size_t *high_water);

#endif
