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
 *  - max_inflight_per_connection: a Classify/Detect beyond it (counting that connection's
 *    requests queued or running) is answered RESOURCE_EXHAUSTED at once, before it takes a
 *    queue slot; Status, ListModels and Reload never count (they take none).
 *  - SIGTERM/SIGINT: stop accepting (the socket file is removed at once), answer new
 *    Classify/Detect with UNAVAILABLE, let the workers finish every queued and running
 *    request (deadlines still apply), flush the responses (at most shutdown_flush_ms once
 *    nothing is in flight), close every connection and return 0. A second signal closes
 *    the connections at once (queued requests dropped) and returns when the running ones
 *    have finished.
 *  - Hot reload (SIGHUP or a Reload request): the reload function runs on a thread of its
 *    own (it reads files and loads models: never on the loop). On success the loop swaps
 *    the new model set in: requests already queued or running finish on the old set, which
 *    is freed with its last reference; new requests use the new one; nothing is dropped.
 *    On failure the old set keeps serving and the reason is logged and answered
 *    (UNAVAILABLE). A Reload that arrives while one is running gets the result of the next
 *    one, which starts as soon as the current one ends.
 *  - Access control: every accepted peer is checked (access.h); a denied one gets one
 *    PERMISSION_DENIED response (request_id 0) and is closed; the denial is logged at warn
 *    once per (uid, pid), rate-limited. A reload replaces the allow lists.
 *  - Service manager (notify.h; all no-ops without one): READY=1 and STATUS= when
 *    mnv2d_server_run() starts the loop (models loaded, socket listening); RELOADING=1
 *    with MONOTONIC_USEC= when a reload starts and READY=1 when it ends (either way);
 *    STOPPING=1 at the first stop signal. A timer on the loop checks the workers every
 *    half watchdog interval (or half the stall limit without a watchdog): WATCHDOG=1 is
 *    sent only from there — so only while the loop runs — and only while no worker has
 *    been busy on one request longer than the stall limit (the smaller of watchdog_ms and
 *    the watchdog interval); a wedged worker is logged and shown in STATUS=. */
#ifndef MNV2D_SERVER_H
#define MNV2D_SERVER_H

#include "access.h"
#include "log.h"
#include "models.h"
#include "notify.h"
#include "sock.h"

#include <stddef.h>
#include <stdint.h>

/* What a reload produced: a new model set (for the same number of workers, with the given
 * generation) and the settings that may change while running; or set NULL and err. */
typedef struct mnv2d_reload_result {
	mnv2d_modelset *set;
	uint32_t default_deadline_ms;
	size_t max_output_bytes;
	unsigned max_connections;
	unsigned max_inflight_per_connection;   /* 0: no per-connection limit */
	mnv2d_level log_level;
	mnv2d_access access;          /* its allow lists replace the running ones */
	char err[1024];
} mnv2d_reload_result;

typedef void (*mnv2d_reload_fn)(void *arg, uint64_t generation, mnv2d_reload_result *out);

typedef struct mnv2d_server_opts {
	const char *version;
	unsigned threads;             /* inference workers */
	unsigned cpu_budget;          /* CPUs shared by workers and intra-op threads */
	size_t queue_depth;
	size_t max_frame_bytes;
	size_t max_output_bytes;
	unsigned max_connections;
	unsigned max_inflight_per_connection;   /* per connection, queued + running; 0: none */
	uint32_t default_deadline_ms; /* 0: none */
	uint64_t max_image_pixels;
	unsigned shutdown_flush_ms;
	const mnv2d_notify *notify;   /* NULL: no service manager */
	uint32_t watchdog_ms;         /* a worker busy longer on one request is wedged; 0: only
					 the service manager's watchdog interval applies */
	mnv2d_access access;          /* who may connect */
	unsigned test_wedge_ms;       /* TEST ONLY: see pool.h */
	const char *test_wedge_model; /* TEST ONLY: see pool.h; NULL: every model */
	mnv2d_reload_fn reload;       /* NULL: Reload is answered UNAVAILABLE */
	void *reload_arg;
} mnv2d_server_opts;

typedef struct mnv2d_server mnv2d_server;

/* Takes a reference to set; borrows sock (listening) and closes/removes it at shutdown;
 * borrows log (a reload may change its level); starts the workers. NULL with a message in
 * err on failure. */
mnv2d_server *mnv2d_server_new(const mnv2d_server_opts *o, mnv2d_modelset *set,
			       mnv2d_sock *sock, mnv2d_log *log, char *err, size_t errlen);
/* Runs until shut down by a signal: 0 after a clean shutdown, -1 if the loop failed. */
int mnv2d_server_run(mnv2d_server *s);
void mnv2d_server_free(mnv2d_server *s);   /* NULL is fine */

#endif
