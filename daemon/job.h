/* job — one Classify or Detect request on its way from the loop thread through the queue
 * to a worker and back.
 *
 * Ownership: the loop thread creates a job (it owns the decoded request and one reference
 * to the model set) and hands it to the queue; a worker takes it, fills `frame` with the
 * packed response and hands it back through the pool's completion list; the loop thread
 * writes the frame to the connection (if it is still open) and frees the job. A job
 * cancelled while queued goes straight back to the loop thread to be freed. */
#ifndef MNV2D_JOB_H
#define MNV2D_JOB_H

#include "mnv2.pb-c.h"
#include "models.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mnv2d_job {
	struct mnv2d_job *prev, *next;  /* queue or completion list links */
	void *owner;                    /* the connection; cancelling matches on it */
	Mnv2__Request *req;             /* decoded request: classify or detect */
	mnv2d_modelset *set;            /* a reference */
	size_t model;                   /* index in set */
	uint64_t request_id;
	int64_t t_read;                 /* µs, monotonic: when the loop read the frame */
	int64_t deadline;               /* µs, monotonic; 0: none */
	uint8_t *frame;                 /* the packed response (worker) */
	size_t frame_len;
	unsigned status;                /* its status code, for logs */
	int has_fd;                     /* fd: the frame's memfd/dmabuf (SCM_RIGHTS), owned */
	int fd;
} mnv2d_job;

/* Closes the job's frame descriptor (if it still has one); idempotent. */
void mnv2d_job_close_fd(mnv2d_job *j);
/* Frees the request, the frame, the set reference and closes the fd; NULL is fine. */
void mnv2d_job_free(mnv2d_job *j);

#endif
