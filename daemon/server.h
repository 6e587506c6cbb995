/* server — the libevent loop: accepts clients on the listening socket, reads framed
 * requests, answers Status/ListModels itself, validates and queues Classify/Detect for the
 * workers, writes responses as they complete, and shuts down cleanly.
 *
 * Contract (see daemon/README.md for the behaviour a client sees):
 *  - One thread runs the loop; it never blocks on inference or on a client. Workers hand
 *    completed jobs back through the pool's eventfd.
 *  - Per connection: frames are checked against max_frame_bytes before anything is
 *    allocated (a bad length closes that connection only); requests may be pipelined and
 *    are answered as they complete, in any order; unsent output over max_output_bytes
 *    (the client stopped reading) disconnects it; a disconnect cancels its queued requests.
 *  - max_connections: further clients get one UNAVAILABLE response and are closed.
 *  - SIGTERM/SIGINT: stop accepting (the socket file is removed at once), answer new
 *    Classify/Detect with UNAVAILABLE, let the workers finish every queued and running
 *    request (deadlines still apply), flush the responses (at most shutdown_flush_ms once
 *    nothing is in flight), close every connection and return 0. A second signal closes
 *    the connections at once (queued requests dropped) and returns when the running ones
 *    have finished.
 *  - SIGHUP is reserved for reload (issue 5): logged and ignored for now. */
#ifndef MNV2D_SERVER_H
#define MNV2D_SERVER_H

#include "log.h"
#include "models.h"
#include "sock.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mnv2d_server_opts {
	const char *version;
	unsigned threads;             /* inference workers */
	size_t queue_depth;
	size_t max_frame_bytes;
	size_t max_output_bytes;
	unsigned max_connections;
	uint32_t default_deadline_ms; /* 0: none */
	uint64_t max_image_pixels;
	unsigned shutdown_flush_ms;
} mnv2d_server_opts;

typedef struct mnv2d_server mnv2d_server;

/* Takes a reference to set; borrows sock (listening) and closes/removes it at shutdown;
 * starts the workers. NULL with a message in err on failure. */
mnv2d_server *mnv2d_server_new(const mnv2d_server_opts *o, mnv2d_modelset *set,
			       mnv2d_sock *sock, const mnv2d_log *log, char *err,
			       size_t errlen);
/* Runs until shut down by a signal: 0 after a clean shutdown, -1 if the loop failed. */
int mnv2d_server_run(mnv2d_server *s);
void mnv2d_server_free(mnv2d_server *s);   /* NULL is fine */

#endif
