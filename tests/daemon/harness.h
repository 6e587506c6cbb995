/* harness — runs the real mnv2d binary for integration tests and speaks its wire protocol.
 *
 *  - td_env_new() makes a temporary directory holding the test models (test_models.h and
 *    tests/gen's synthetic classifier) and their label files; td_env_free() removes it.
 *  - td_start() writes a configuration (common keys + the caller's extra YAML), forks and
 *    execs $MNV2_BUILD_DIR/daemon/mnv2d with stderr to a log file, and waits (bounded) until
 *    the socket accepts connections. The daemon dies with the test (PR_SET_PDEATHSIG).
 *    $MNV2D_WRAP, when set, is a command put in front (words split at spaces), e.g. valgrind
 *    with its options: scripts/run-tests.sh runs the daemon tests so under memcheck.
 *  - td_stop() signals it and waits at most timeout_ms (then SIGKILL): the exit status.
 *  - Framing and protobuf helpers: every read and write is bounded by a timeout; nothing
 *    in a test can hang. */
#ifndef TD_HARNESS_H
#define TD_HARNESS_H

#include "mnv2.pb-c.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct td_env {
	char dir[128];
	char sock[192];
	char config[192];
	char log[192];
	pid_t pid;
} td_env;

/* Model files in the environment directory. */
#define TD_CLS "cls"        /* synth_mnv2_uint8: 16x16 input, 10 classes, labels c0..c9 */
#define TD_DET "det"        /* td_write_detector: labels red, green */
#define TD_SLOW "slow"      /* td_write_slow; each request also held TD_SLOW_WEDGE_MS */
/* td_spawn() starts the daemon with its test hook (MNV2D_TEST_HOOKS=1,
 * MNV2D_TEST_WEDGE_MS, MNV2D_TEST_WEDGE_MODEL=slow) unless the test set
 * MNV2D_TEST_WEDGE_MS itself: requests to TD_SLOW keep a worker busy at least this long
 * whatever the engine's speed (SIMD kernels made the model itself fast). */
#define TD_SLOW_WEDGE_MS 60
#define TD_RAW_SSD "ssdraw" /* synth_ssdlite_head: an SSD without post-processing */

int td_env_new(td_env *e);
void td_env_free(td_env *e);   /* stops a running daemon (SIGKILL) and removes the files */

/* extra: more top-level YAML (e.g. "threads: 1\nqueue_depth: 1\n"; socket_mode, log_level,
 * threads and queue_depth given there replace the harness's defaults); models: the models
 * list YAML, NULL for the three test models. 0 when the daemon is up. */
int td_write_config(td_env *e, const char *extra, const char *models);
int td_spawn(td_env *e, const char *const *extra_args);  /* no wait for the socket */
int td_start(td_env *e, const char *extra, const char *models);
/* Waits at most timeout_ms for the daemon to exit; -1 if it did not (it is then killed). */
int td_wait(td_env *e, int timeout_ms, int *status);
int td_stop(td_env *e, int sig, int timeout_ms, int *status);
/* The daemon's log (for failure messages); a static buffer. */
const char *td_log(const td_env *e);

/* $MNV2_BUILD_DIR, or "." */
const char *td_build_dir(void);

/* Connects (bounded); -1 on failure. */
int td_connect(const char *path, int timeout_ms);
int td_write_all(int fd, const void *data, size_t len, int timeout_ms);
int td_send(int fd, const Mnv2__Request *r);
/* Reads one response; NULL on timeout, EOF or a bad frame. *eof set to 1 on EOF/reset. */
Mnv2__Response *td_recv(int fd, int timeout_ms, int *eof);
/* 1 when the peer has closed (read gives EOF or a reset) within timeout_ms, discarding any
 * data before it. */
int td_wait_closed(int fd, int timeout_ms);
/* Open file descriptors of a process (counting /proc/PID/fd). */
int td_fd_count(pid_t pid);

/* Request builders (static storage inside, valid until the next call of the same one). */
void td_request(Mnv2__Request *r, uint64_t id);
typedef struct td_image_req {
	Mnv2__Request req;
	Mnv2__ClassifyRequest cls;
	Mnv2__DetectRequest det;
	Mnv2__Image image;
	Mnv2__RawFrame raw;
	Mnv2__Options opts;
} td_image_req;
/* A Classify (detect = 0) or Detect request with a raw frame (data borrowed). */
void td_raw_request(td_image_req *q, int detect, uint64_t id, const char *model,
		    Mnv2__PixelFormat fmt, uint32_t w, uint32_t h, const void *data, size_t len);
void td_encoded_request(td_image_req *q, int detect, uint64_t id, const char *model,
			const void *data, size_t len);

/* A w x h RGB888 frame filled with one colour; malloc'd. */
uint8_t *td_solid_rgb(uint32_t w, uint32_t h, uint8_t r, uint8_t g, uint8_t b);

/* Status: the response (caller frees) for one request on a fresh connection. */
Mnv2__Response *td_status(const char *sock);
const Mnv2__ModelStats *td_model_stats(const Mnv2__Response *status, const char *name);
uint64_t td_count(const Mnv2__ModelStats *s, Mnv2__StatusCode code);

#endif
