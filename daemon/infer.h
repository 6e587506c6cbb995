/* infer — what a Classify or Detect request asks, checked and carried out.
 *
 * Contract:
 *  - mnv2d_infer_validate() runs on the loop thread before a request is queued: it finds
 *    the model (by name, or the first of the request's kind) and checks the image and the
 *    options, so a request that cannot succeed never takes a queue slot. It answers a
 *    status code and, when not OK, a message for the client.
 *  - mnv2d_infer_run() runs on a worker with that worker's context: deadline check (the
 *    deadline passed while queued: DEADLINE_EXCEEDED, nothing runs), image decoding (bad
 *    image: INVALID_ARGUMENT with the decoder's message), preprocessing with the requested
 *    or configured resize mode and filter, inference (failure: INTERNAL with the engine's
 *    message), post-processing (top-K with labels; detections with labels, boxes in the
 *    original image's pixels and the model's normalized boxes). It packs the Response into
 *    job->frame with the timing breakdown and records it in the model's statistics. A
 *    frame's descriptor is closed before it returns; a memfd frame's mapping is handed
 *    back for the worker to unmap once the response is on its way.
 *  - Nothing here touches the network or the loop's state; it is safe on any thread. */
#ifndef MNV2D_INFER_H
#define MNV2D_INFER_H

#include "fdframe.h"
#include "job.h"
#include "models.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mnv2d_limits {
	uint64_t max_image_pixels;   /* width * height of any image */
	size_t max_encoded_bytes;    /* an encoded image (it also had to fit a frame) */
	unsigned test_wedge_ms;      /* TEST ONLY (MNV2D_TEST_WEDGE_MS): each request holds
					its worker this long before running; 0 in service */
	char test_wedge_model[65];   /* TEST ONLY: only this model's requests ("": all) */
} mnv2d_limits;

/* Returns a StatusCode; on OK *model is the model's index in set. */
unsigned mnv2d_infer_validate(const Mnv2__Request *req, const mnv2d_modelset *set,
			      long *model, char *msg, size_t msglen);

/* Runs job on worker `worker`'s context; t_dequeue is when the worker took it. Returns the
 * response's status code; job->frame is NULL only when even an error could not be packed
 * (out of memory). The job's descriptor is closed on return, on every path; *release
 * gets the memfd frame's read-only mapping (base NULL when none), which the caller unmaps
 * with mnv2d_fdframe_unmap() after handing the response on: unmapping a 1080p frame takes
 * about 0.1 ms that the reply need not wait for. */
unsigned mnv2d_infer_run(mnv2d_job *job, size_t worker, const mnv2d_limits *lim,
			 int64_t t_dequeue, mnv2d_fdframe *release);

#endif
