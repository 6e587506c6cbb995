/* libmnv2client internals: the connection state shared by the client's modules.
 *
 *  conn.c     socket, non-blocking I/O, framing, the outstanding/ready bookkeeping
 *  request.c  mnv2c_image/mnv2c_options -> one encoded Request frame
 *  convert.c  a decoded Response -> plain C result structs, and their *_free()
 *  api.c      the public blocking and asynchronous calls
 *  util.c     errors, code names, defaults
 */
#ifndef MNV2C_CLIENT_INTERNAL_H
#define MNV2C_CLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "mnv2/client.h"
#include "mnv2.pb-c.h"

#define MNV2C_DEFAULT_MAX_PENDING ((size_t)8 << 20)
#define MNV2C_MAX_FRAME_LIMIT ((size_t)UINT32_MAX)

/* A request sent and not yet answered. */
typedef struct mnv2c_outstanding_req {
	uint64_t id;
	mnv2c_request_kind kind;
	int abandoned; /* its blocking call timed out: drop the answer */
} mnv2c_outstanding_req;

/* A converted response waiting to be handed out. */
typedef struct mnv2c_ready {
	struct mnv2c_ready *next;
	mnv2c_response *resp;
} mnv2c_ready;

struct mnv2c_client {
	int fd;
	int timeout_ms;
	size_t max_frame;
	size_t max_pending;
	uint64_t next_id;

	/* queued request bytes: out[out_off, out_len) still to be written */
	uint8_t *out;
	size_t out_off, out_len, out_cap;
	/* descriptors (our duplicates) to send, in order, each with the sendmsg that starts
	 * at out[pos] (the first byte of its request's frame) */
	struct mnv2c_fd_att {
		size_t pos;
		int fd;
	} *fds;
	size_t n_fds, cap_fds;

	/* the response frame being read */
	uint8_t hdr[4];
	size_t hdr_got;
	uint8_t *in;     /* NULL while reading a header */
	size_t in_len, in_got;

	mnv2c_outstanding_req *reqs;
	size_t n_reqs, cap_reqs;
	mnv2c_ready *ready_head, *ready_tail;

	/* sticky: once code != MNV2C_OK the connection is unusable */
	mnv2c_error broken;
};

/* util.c */
mnv2c_code mnv2c__fail(mnv2c_error *err, mnv2c_code code, int sys_errno, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void mnv2c__copy_error(mnv2c_error *dst, const mnv2c_error *src);
void mnv2c__ok(mnv2c_error *err);
int64_t mnv2c__now_ms(void);
/* Absolute deadline for a relative timeout (negative: none, returned as -1). */
int64_t mnv2c__deadline(int timeout_ms);
/* Milliseconds left until deadline for poll() (-1 for none, 0 when passed). */
int mnv2c__remaining(int64_t deadline);

/* request.c: appends one frame (4-byte length + Request) to c->out. */
mnv2c_code mnv2c__encode_request(mnv2c_client *c, uint64_t id, mnv2c_request_kind kind,
				 const mnv2c_image *img, const mnv2c_options *opt,
				 mnv2c_error *err);

/* convert.c: copies a validated response into a new mnv2c_response. */
mnv2c_code mnv2c__convert_response(const Mnv2__Response *m, mnv2c_request_kind kind,
				   mnv2c_response **out, mnv2c_error *err);
/* The response result case that answers a request kind. */
Mnv2__Response__ResultCase mnv2c__result_case(mnv2c_request_kind kind);

/* conn.c */
/* Appends a request frame and registers it as outstanding; waits until deadline when
 * more than max_pending bytes are already queued. */
mnv2c_code mnv2c__send(mnv2c_client *c, mnv2c_request_kind kind, const mnv2c_image *img,
		       const mnv2c_options *opt, int64_t deadline, uint64_t *id,
		       mnv2c_error *err);
/* One round of I/O: waits for the socket (until deadline) and then writes what it can and
 * reads every complete frame available. ERR_TIMEOUT when the deadline passed first. */
mnv2c_code mnv2c__io(mnv2c_client *c, int64_t deadline, mnv2c_error *err);
/* Removes and returns the first ready response (any id when id == 0); NULL if none. */
mnv2c_response *mnv2c__take_ready(mnv2c_client *c, uint64_t id);
/* Marks an outstanding request abandoned (its answer will be dropped). */
void mnv2c__abandon(mnv2c_client *c, uint64_t id);
size_t mnv2c__live_outstanding(const mnv2c_client *c);

#endif
