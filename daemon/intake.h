/* intake — the request path from a connection's buffered bytes to what the loop does next:
 * the frame length check, the protobuf decode, the version check and, for Classify/Detect,
 * the validation against the model set (mnv2d_infer_validate). The loop (server.c) calls it
 * for every frame; the fuzzer (tests/fuzz/fuzz_request.c) calls the same function.
 *
 * Contract:
 *  - mnv2d_intake_next() looks at the start of the input through an mnv2d_input (the loop's
 *    is a libevent buffer, the fuzzer's a flat array). It never blocks, never touches a
 *    connection or the loop's state, and allocates only the decoded request.
 *  - The length is checked against max_frame_bytes from the 4 header bytes alone, before
 *    the payload is waited for or made contiguous.
 *  - Outcomes (out->kind):
 *      WAIT         not a whole frame yet; nothing consumed;
 *      CLOSE        the length is over the limit (too_long), or the payload could not be
 *                   made contiguous (out of memory): the stream cannot go on;
 *      ERROR        answer request `id` with `status` and `msg` (an undecodable frame:
 *                   id 0, INVALID_ARGUMENT, `undecodable` set). model >= 0: the request
 *                   named (or defaulted to) that model and counts in its statistics.
 *                   msg is always UTF-8 (a proto3 string): a byte of the request's own
 *                   text (a model name) outside a well-formed sequence becomes '?';
 *      QUEUE        a valid Classify/Detect: `req` is the caller's to free
 *                   (mnv2__request__free_unpacked), `model` its model's index in set;
 *      STATUS, LIST_MODELS, RELOAD: answer those, request `id`.
 *    Every outcome but WAIT and CLOSE consumed `consumed` bytes (header + payload), which
 *    the caller removes from its input once it has acted on them; every outcome but QUEUE
 *    leaves nothing allocated.
 *  - stopping: Classify/Detect are answered UNAVAILABLE "the server is shutting down"
 *    without being validated (and without counting for a model). */
#ifndef MNV2D_INTAKE_H
#define MNV2D_INTAKE_H

#include "mnv2.pb-c.h"
#include "models.h"

#include <stddef.h>
#include <stdint.h>

#define MNV2D_INTAKE_MSG 640

/* A connection's buffered input. */
typedef struct mnv2d_input {
	size_t have;                                    /* bytes buffered */
	void (*copy)(void *arg, void *dst, size_t n);   /* copies the first n <= have bytes */
	const uint8_t *(*pullup)(void *arg, size_t n);  /* the first n <= have bytes,
							   contiguous; NULL: out of memory */
	void *arg;
} mnv2d_input;

typedef enum mnv2d_intake_kind {
	MNV2D_INTAKE_WAIT,
	MNV2D_INTAKE_CLOSE,
	MNV2D_INTAKE_ERROR,
	MNV2D_INTAKE_QUEUE,
	MNV2D_INTAKE_STATUS,
	MNV2D_INTAKE_LIST_MODELS,
	MNV2D_INTAKE_RELOAD,
} mnv2d_intake_kind;

typedef struct mnv2d_intake {
	mnv2d_intake_kind kind;
	size_t consumed;          /* header + payload bytes done with (0: WAIT, CLOSE) */
	uint32_t length;          /* the payload length from the header (once it was there) */
	int too_long;             /* CLOSE: length > max_frame_bytes */
	int undecodable;          /* ERROR: the payload is not an mnv2.Request */
	uint64_t id;              /* the request's request_id (0 when undecodable) */
	unsigned status;          /* ERROR: a StatusCode */
	long model;               /* -1, or the model's index (ERROR, QUEUE) */
	Mnv2__Request *req;       /* QUEUE only */
	char msg[MNV2D_INTAKE_MSG];
} mnv2d_intake;

void mnv2d_intake_next(const mnv2d_input *in, size_t max_frame_bytes,
		       const mnv2d_modelset *set, int stopping, mnv2d_intake *out);

#endif
