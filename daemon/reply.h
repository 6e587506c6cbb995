/* reply — builds and packs Response frames: errors, Status, ListModels.
 *
 * Contract: each function fills a fresh malloc'd frame (header + payload, framing.h) in
 * *frame / *len and returns 0, or -1 when out of memory (nothing allocated). Strings are
 * borrowed from the arguments for the duration of the call only. */
#ifndef MNV2D_REPLY_H
#define MNV2D_REPLY_H

#include "mnv2.pb-c.h"
#include "models.h"

#include <stddef.h>
#include <stdint.h>

/* What Status reports about the server itself. */
typedef struct mnv2d_server_info {
	const char *version;
	uint64_t uptime_s;
	size_t queue_depth, queue_capacity, queue_high_water;
	unsigned connections, threads, intra_op_threads, cpu_budget;
	unsigned max_inflight_per_connection;   /* 0: no per-connection limit */
} mnv2d_server_info;

/* Fills the common fields (version, request_id, status, message, timing may be NULL). */
void mnv2d_reply_init(Mnv2__Response *r, uint64_t request_id, unsigned status,
		      const char *message, Mnv2__Timing *timing);

int mnv2d_reply_error(uint64_t request_id, unsigned status, const char *message,
		      uint8_t **frame, size_t *len);
int mnv2d_reply_models(uint64_t request_id, const mnv2d_modelset *set, uint8_t **frame,
		       size_t *len);
int mnv2d_reply_status(uint64_t request_id, const mnv2d_modelset *set,
		       const mnv2d_server_info *info, uint8_t **frame, size_t *len);

int mnv2d_reply_reload(uint64_t request_id, uint64_t generation, uint32_t models,
		       uint8_t **frame, size_t *len);

const char *mnv2d_status_name(unsigned status);   /* "OK", "INVALID_ARGUMENT", ... */

#endif
