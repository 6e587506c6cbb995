/* libmnv2client — talk to mnv2d over its Unix socket (protocol: docs/protocol.md).
 *
 * Contract:
 *  - Plain C11 structs in, plain C structs out: no protobuf types appear in this header.
 *    Results are copied out of the wire message; each is released with its mnv2c_*_free().
 *  - Every function that can fail returns an mnv2c_code (MNV2C_OK == 0) and, when err is
 *    not NULL, fills *err with the same code and a message saying what and why. Server
 *    answers other than OK come back as their StatusCode (MNV2C_NOT_FOUND, ...) with the
 *    server's message; failures on the client's side are the negative MNV2C_ERR_* codes.
 *    Nothing is ever printed.
 *  - Every byte from the server is untrusted: a response frame longer than
 *    max_frame_bytes (default 32 MiB) is refused before anything is allocated, and any
 *    framing or decoding error makes the connection unusable (a "sticky" error: every later
 *    call on the handle returns it) — the library never guesses where the next frame starts.
 *  - Thread safety: there is no global state. A handle is NOT internally locked: calls on
 *    one handle must not overlap (one thread at a time, or an external mutex). Different
 *    handles may be used concurrently from different threads. Functions that take no
 *    handle (mnv2c_code_name, mnv2c_default_socket_path, the *_free functions on
 *    distinct objects) are safe to call from any thread. The library never installs
 *    signal handlers; writes use MSG_NOSIGNAL, so a closed socket never raises SIGPIPE.
 *  - Blocking calls (mnv2c_classify, ...) send one request and wait for its response for at
 *    most the handle's timeout. Responses to other requests that arrive meanwhile are kept
 *    for mnv2c_receive(); a request whose blocking call timed out is forgotten and its late
 *    response silently dropped. Blocking and asynchronous calls may be mixed on one handle.
 */
#ifndef MNV2_CLIENT_H
#define MNV2_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && !defined(MNV2C_STATIC)
#define MNV2C_API __attribute__((visibility("default")))
#else
#define MNV2C_API
#endif

/* The wire protocol version this library speaks (the `version` field of every message). */
#define MNV2C_PROTOCOL_VERSION 1u
/* Used when MNV2_SOCKET is not set. */
#define MNV2C_DEFAULT_SOCKET "/run/mnv2d/mnv2d.sock"
#define MNV2C_DEFAULT_MAX_FRAME_BYTES ((size_t)32 << 20)
#define MNV2C_DEFAULT_TIMEOUT_MS 30000
#define MNV2C_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define MNV2C_ERR_LEN 512

/* Non-negative values mirror the protocol's StatusCode exactly; negative values are the
 * client's own failures. */
typedef enum mnv2c_code {
	MNV2C_OK = 0,
	MNV2C_INVALID_ARGUMENT = 1,   /* server: malformed request, bad image, bad option */
	MNV2C_NOT_FOUND = 2,          /* server: no such model */
	MNV2C_PERMISSION_DENIED = 3,  /* server: this peer may not use the socket */
	MNV2C_RESOURCE_EXHAUSTED = 4, /* server: request queue full, retry with backoff */
	MNV2C_DEADLINE_EXCEEDED = 5,  /* server: the deadline passed before the request ran */
	MNV2C_UNAVAILABLE = 6,        /* server: shutting down, or no model of that kind */
	MNV2C_INTERNAL = 7,           /* server: a bug or an inference failure */

	MNV2C_ERR_CONNECT = -1,  /* could not connect (err->sys_errno says why) */
	MNV2C_ERR_IO = -2,       /* read or write failed (err->sys_errno); connection lost */
	MNV2C_ERR_CLOSED = -3,   /* the server closed the connection */
	MNV2C_ERR_TIMEOUT = -4,  /* nothing arrived in time (the connection is still usable) */
	MNV2C_ERR_PROTOCOL = -5, /* the server broke the protocol: bad length, undecodable
				    frame, wrong version, unknown request_id, wrong result */
	MNV2C_ERR_NOMEM = -6,    /* out of memory */
	MNV2C_ERR_USAGE = -7,    /* bad argument to the library (NULL image, bad raw frame
				    geometry, request larger than max_frame_bytes, ...) */
} mnv2c_code;

typedef struct mnv2c_error {
	mnv2c_code code;
	int sys_errno;               /* errno behind ERR_CONNECT/ERR_IO, else 0 */
	char message[MNV2C_ERR_LEN]; /* what and why; for server errors the server's text */
} mnv2c_error;

/* "OK", "INVALID_ARGUMENT", ..., "INTERNAL" for server codes (the StatusCode names without
 * the STATUS_ prefix); "CONNECT_FAILED", "IO_ERROR", "CONNECTION_CLOSED", "TIMEOUT",
 * "PROTOCOL_ERROR", "OUT_OF_MEMORY", "USAGE_ERROR" for client codes; "UNKNOWN" otherwise
 * (a newer server's code). Never NULL. */
MNV2C_API const char *mnv2c_code_name(int status);

/* getenv("MNV2_SOCKET") when set and not empty, else MNV2C_DEFAULT_SOCKET. */
MNV2C_API const char *mnv2c_default_socket_path(void);

/* ---- connection ---------------------------------------------------------------------- */

typedef struct mnv2c_client mnv2c_client;

/* Connects to socket_path (NULL: mnv2c_default_socket_path()), waiting at most
 * MNV2C_DEFAULT_CONNECT_TIMEOUT_MS when the server's backlog is full. NULL on failure with
 * err->code MNV2C_ERR_CONNECT, sys_errno set and a message naming the path and the errno
 * text ("cannot connect to /run/mnv2d/mnv2d.sock: No such file or directory"). */
MNV2C_API mnv2c_client *mnv2c_connect(const char *socket_path, mnv2c_error *err);
/* The same with an explicit connect timeout (negative: wait forever). */
MNV2C_API mnv2c_client *mnv2c_connect_timeout(const char *socket_path, int timeout_ms,
					      mnv2c_error *err);
/* Takes over an already connected SOCK_STREAM socket (socketpair, socket activation). The
 * handle owns fd from then on, also on failure (it is closed). */
MNV2C_API mnv2c_client *mnv2c_from_fd(int fd, mnv2c_error *err);
/* Closes the connection and frees everything, including undelivered responses. NULL ok. */
MNV2C_API void mnv2c_close(mnv2c_client *c);

/* Time limit of each blocking call (send and wait for the answer); negative: forever,
 * 0: do not wait at all. Default MNV2C_DEFAULT_TIMEOUT_MS. */
MNV2C_API void mnv2c_set_timeout_ms(mnv2c_client *c, int timeout_ms);
MNV2C_API int mnv2c_timeout_ms(const mnv2c_client *c);
/* Largest response frame accepted, and largest request frame sent (default 32 MiB, at
 * most 4 GiB - 1). A longer response length breaks the connection with ERR_PROTOCOL before
 * any allocation; a longer request is refused with ERR_USAGE and nothing is sent. */
MNV2C_API void mnv2c_set_max_frame_bytes(mnv2c_client *c, size_t max);
MNV2C_API size_t mnv2c_max_frame_bytes(const mnv2c_client *c);

/* ---- requests ------------------------------------------------------------------------ */

typedef enum mnv2c_pixel_format {
	MNV2C_PIX_UNSPECIFIED = 0,
	MNV2C_PIX_RGB888 = 1,   /* R G B */
	MNV2C_PIX_BGR888 = 2,   /* B G R */
	MNV2C_PIX_RGBA8888 = 3, /* R G B A, alpha ignored */
	MNV2C_PIX_GRAY8 = 4,
	MNV2C_PIX_NV12 = 5,     /* 4:2:0: Y plane, then interleaved U V (cw = ceil(w/2) pairs) */
	MNV2C_PIX_NV21 = 6,     /* as NV12 with V U */
	MNV2C_PIX_I420 = 7,     /* 4:2:0: Y, U, V planes (YU12) */
	MNV2C_PIX_YUYV = 8,     /* 4:2:2 packed Y0 U Y1 V; even width */
	MNV2C_PIX_UYVY = 9,     /* 4:2:2 packed U Y0 V Y1; even width */
	MNV2C_PIX_BGRA8888 = 10,/* B G R A, alpha ignored */
} mnv2c_pixel_format;

/* Bytes per pixel of a single-plane format (RGB888 3, YUYV 2, ...); 0 for NV12/NV21/I420
 * and unknown formats. */
MNV2C_API unsigned mnv2c_pixel_format_bpp(mnv2c_pixel_format f);
/* "rgb888", "nv12", ...; NULL for an unknown format. */
MNV2C_API const char *mnv2c_pixel_format_name(mnv2c_pixel_format f);
/* Parses those names (case-insensitive; also "rgba", "bgra", "yu12", "yuy2").
 * Returns 0, or -1 when unknown. */
MNV2C_API int mnv2c_pixel_format_parse(const char *name, mnv2c_pixel_format *out);
/* Bytes of a frame whose planes follow each other (the layout of a RawFrame without
 * planes, docs/protocol.md): plane 0 with stride (0: tightly packed), the chroma planes
 * after it. 0 for an unknown format, an empty size or a stride below the row size. */
MNV2C_API uint64_t mnv2c_frame_bytes(mnv2c_pixel_format f, uint32_t width, uint32_t height,
				      uint32_t stride);

typedef enum mnv2c_color_range {
	MNV2C_RANGE_DEFAULT = 0, /* limited */
	MNV2C_RANGE_LIMITED = 1,
	MNV2C_RANGE_FULL = 2,
} mnv2c_color_range;

typedef enum mnv2c_color_matrix {
	MNV2C_MATRIX_DEFAULT = 0, /* BT.601 */
	MNV2C_MATRIX_BT601 = 1,
	MNV2C_MATRIX_BT709 = 2,
} mnv2c_color_matrix;

/* Where one plane lies in the frame's bytes. */
typedef struct mnv2c_plane {
	uint32_t stride;  /* bytes from one row to the next */
	uint64_t offset;  /* from the frame's byte 0 to the plane's first row */
} mnv2c_plane;

typedef enum mnv2c_image_kind {
	MNV2C_IMAGE_ENCODED = 0, /* data/len: a PNG or JPEG file's bytes */
	MNV2C_IMAGE_RAW = 1,     /* data/len: the frame's bytes (planes as described) */
	MNV2C_IMAGE_FD = 2,      /* fd/fd_offset: the frame's bytes in a sealed memfd or a
				    dmabuf, sent with SCM_RIGHTS (zero-copy; data/len unused) */
} mnv2c_image_kind;

/* An image to send. The library only reads data, and only during the call that sends it
 * (the bytes are copied into the outgoing frame). Build one with the helpers below.
 * MNV2C_IMAGE_FD: the library sends a duplicate of fd (the caller may close its own at
 * once); the server reads the pixels in place when the request runs, so the caller must not
 * rewrite them until the answer has arrived. A memfd must carry F_SEAL_SHRINK
 * (mnv2c_frame_seal()). */
typedef struct mnv2c_image {
	mnv2c_image_kind kind;
	const void *data;
	size_t len;
	mnv2c_pixel_format format; /* raw and fd */
	uint32_t width, height;    /* raw and fd */
	uint32_t stride;           /* plane 0's stride; 0: tightly packed */
	/* raw and fd, all optional (zero: planes follow each other, BT.601 limited range) */
	unsigned n_planes;         /* 0, or the format's number of planes (1..3) */
	mnv2c_plane planes[3];
	mnv2c_color_range color_range;
	mnv2c_color_matrix color_matrix;
	int fd;                    /* fd only */
	uint64_t fd_offset;        /* fd only: the descriptor's byte that is the frame's byte 0 */
} mnv2c_image;

MNV2C_API mnv2c_image mnv2c_image_encoded(const void *data, size_t len);
MNV2C_API mnv2c_image mnv2c_image_raw(mnv2c_pixel_format format, uint32_t width,
				      uint32_t height, uint32_t stride, const void *data,
				      size_t len);
MNV2C_API mnv2c_image mnv2c_image_fd(mnv2c_pixel_format format, uint32_t width,
				     uint32_t height, uint32_t stride, int fd,
				     uint64_t fd_offset);

/* A frame buffer for zero-copy sending when the caller has plain memory: a memfd of `size`
 * bytes mapped read-write at `data`. Fill it, mnv2c_frame_seal() it (once; further calls do
 * nothing), send it with mnv2c_image_fd(..., b->fd, offset) as often as wanted. */
typedef struct mnv2c_frame_buf {
	int fd;
	void *data;
	size_t size;
	int sealed;
} mnv2c_frame_buf;

/* NULL with err (ERR_NOMEM/ERR_IO) on failure. */
MNV2C_API mnv2c_frame_buf *mnv2c_frame_alloc(size_t size, mnv2c_error *err);
/* Adds F_SEAL_SHRINK | F_SEAL_GROW: the size is fixed from now on (the server requires
 * SHRINK: a file shrunk under its mapping would fault). */
MNV2C_API mnv2c_code mnv2c_frame_seal(mnv2c_frame_buf *b, mnv2c_error *err);
/* Unmaps and closes; NULL ok. Frames already sent stay valid on the server's side. */
MNV2C_API void mnv2c_frame_free(mnv2c_frame_buf *b);

typedef enum mnv2c_resize {
	MNV2C_RESIZE_DEFAULT = 0,     /* the model's configured mode */
	MNV2C_RESIZE_STRETCH = 1,
	MNV2C_RESIZE_LETTERBOX = 2,
	MNV2C_RESIZE_CENTER_CROP = 3,
} mnv2c_resize;

/* The resampling filter (docs/protocol.md, "Images"). ANTIALIAS: the reference
 * preprocessing (every source pixel counts when shrinking); BILINEAR: 2 x 2 taps, much
 * cheaper on frames far larger than the model's input, but aliases when shrinking > 2x. */
typedef enum mnv2c_filter {
	MNV2C_FILTER_DEFAULT = 0,     /* the model's configured filter (antialias unless set) */
	MNV2C_FILTER_ANTIALIAS = 1,
	MNV2C_FILTER_BILINEAR = 2,
} mnv2c_filter;

/* Options of classify/detect; a NULL pointer or zero fields mean the server's defaults.
 * Initialise with `mnv2c_options o = {0};`. */
typedef struct mnv2c_options {
	const char *model;      /* NULL/"": the first model of the right kind */
	uint32_t top_k;         /* classify: number of classes */
	float score_threshold;  /* drop results scoring below this */
	uint32_t max_detections;/* detect: at most this many */
	mnv2c_resize resize;
	uint32_t deadline_ms;   /* 0: none; else the server answers DEADLINE_EXCEEDED when
				   the request has not started running this many ms after the
				   server read it */
	struct {                /* region of interest in image pixels; all zero: the whole
				   image. The model sees only it; boxes stay in image pixels */
		uint32_t x, y, width, height;
	} roi;
	mnv2c_filter filter;    /* resampling filter; 0: the model's configured one */
} mnv2c_options;

/* ---- results ------------------------------------------------------------------------- */

typedef struct mnv2c_timing { /* microseconds, as measured by the server */
	uint64_t queue_us, decode_us, preprocess_us, inference_us, postprocess_us, total_us;
} mnv2c_timing;

typedef struct mnv2c_class {
	uint32_t index;
	float score;
	char *label; /* "" when the model has no labels; never NULL */
} mnv2c_class;

typedef struct mnv2c_classify_result {
	char *model;
	size_t n_classes;
	mnv2c_class *classes; /* best first */
	mnv2c_timing timing;
} mnv2c_classify_result;

typedef struct mnv2c_box {
	float xmin, ymin, xmax, ymax;
} mnv2c_box;

typedef struct mnv2c_detection {
	uint32_t class_id;
	char *label;              /* never NULL */
	float score;
	mnv2c_box box;            /* pixels of the original image, clipped to it */
	mnv2c_box box_normalized; /* the model's output: 0..1 of the model input, unclipped */
} mnv2c_detection;

typedef struct mnv2c_detect_result {
	char *model;
	uint32_t image_width, image_height; /* of the original image */
	size_t n_detections;
	mnv2c_detection *detections; /* best first */
	mnv2c_timing timing;
} mnv2c_detect_result;

typedef enum mnv2c_model_kind {
	MNV2C_MODEL_UNSPECIFIED = 0,
	MNV2C_MODEL_CLASSIFIER = 1,
	MNV2C_MODEL_DETECTOR = 2,
} mnv2c_model_kind;

/* "classifier", "detector" or "unspecified". */
MNV2C_API const char *mnv2c_model_kind_name(int kind);

typedef struct mnv2c_model_info {
	char *name, *path, *description; /* never NULL */
	mnv2c_model_kind kind;
	uint32_t input_width, input_height;
	uint64_t macs, parameter_bytes, arena_bytes, load_time_us;
	uint32_t num_labels;
} mnv2c_model_info;

typedef struct mnv2c_model_list {
	size_t n_models;
	mnv2c_model_info *models;
} mnv2c_model_list;

typedef struct mnv2c_stage_latency {
	char *stage; /* queue, decode, preprocess, inference, postprocess, total */
	uint64_t p50_us, p90_us, p99_us;
} mnv2c_stage_latency;

typedef struct mnv2c_status_count {
	int status; /* an mnv2c_code >= 0, or a newer server's code */
	uint64_t count;
} mnv2c_status_count;

typedef struct mnv2c_model_stats {
	char *name;
	uint64_t requests;
	size_t n_responses;
	mnv2c_status_count *responses;
	size_t n_latency;
	mnv2c_stage_latency *latency;
} mnv2c_model_stats;

typedef struct mnv2c_server_status {
	char *version; /* the server's software version */
	uint64_t uptime_s;
	size_t n_models;
	mnv2c_model_info *models;
	size_t n_stats;
	mnv2c_model_stats *stats;
	uint32_t queue_depth, queue_capacity, queue_high_water;
	uint32_t connections, threads;
	uint64_t generation;
	uint32_t intra_op_threads; /* threads inside one inference (0: older server) */
	uint32_t cpu_budget;       /* CPUs shared by threads x intra_op_threads (0: older) */
	/* Classify/Detect one connection may have queued or running; beyond it the server
	 * answers RESOURCE_EXHAUSTED. 0: no per-connection limit (or an older server). */
	uint32_t max_inflight_per_connection;
} mnv2c_server_status;

typedef struct mnv2c_reload_result {
	uint64_t generation;
	uint32_t models;
} mnv2c_reload_result;

MNV2C_API void mnv2c_classify_result_free(mnv2c_classify_result *r);
MNV2C_API void mnv2c_detect_result_free(mnv2c_detect_result *r);
MNV2C_API void mnv2c_model_list_free(mnv2c_model_list *r);
MNV2C_API void mnv2c_server_status_free(mnv2c_server_status *r);
MNV2C_API void mnv2c_reload_result_free(mnv2c_reload_result *r);

/* ---- blocking calls -------------------------------------------------------------------
 * Each sends one request and waits (at most the handle's timeout) for its response. On
 * MNV2C_OK *out holds a result the caller frees; otherwise *out is NULL and err says why.
 * A server answer other than OK is returned as its status code with the server's message. */

MNV2C_API mnv2c_code mnv2c_classify(mnv2c_client *c, const mnv2c_image *img,
				      const mnv2c_options *opt, mnv2c_classify_result **out,
				      mnv2c_error *err);
MNV2C_API mnv2c_code mnv2c_detect(mnv2c_client *c, const mnv2c_image *img,
				    const mnv2c_options *opt, mnv2c_detect_result **out,
				    mnv2c_error *err);
/* Zero-copy: the frame described by geometry (format, size, stride, planes, colour; its
 * kind and data are ignored) lies in fd from fd_offset on (see MNV2C_IMAGE_FD). */
MNV2C_API mnv2c_code mnv2c_classify_fd(mnv2c_client *c, int fd, uint64_t fd_offset,
					 const mnv2c_image *geometry, const mnv2c_options *opt,
					 mnv2c_classify_result **out, mnv2c_error *err);
MNV2C_API mnv2c_code mnv2c_detect_fd(mnv2c_client *c, int fd, uint64_t fd_offset,
				       const mnv2c_image *geometry, const mnv2c_options *opt,
				       mnv2c_detect_result **out, mnv2c_error *err);
MNV2C_API mnv2c_code mnv2c_status(mnv2c_client *c, mnv2c_server_status **out,
				    mnv2c_error *err);
MNV2C_API mnv2c_code mnv2c_list_models(mnv2c_client *c, mnv2c_model_list **out,
					 mnv2c_error *err);
MNV2C_API mnv2c_code mnv2c_reload(mnv2c_client *c, mnv2c_reload_result **out,
				    mnv2c_error *err);

/* ---- asynchronous, pipelined calls ----------------------------------------------------
 * mnv2c_send() queues a request and returns at once with its request_id; responses are
 * collected with mnv2c_receive() (or mnv2c_dispatch()) in whatever order the server sends
 * them. For an event loop: watch mnv2c_fd() for mnv2c_events() (POLLIN, plus POLLOUT while
 * queued request bytes wait for the socket), then call mnv2c_receive(c, 0, ...) until it
 * returns MNV2C_ERR_TIMEOUT. The fd is non-blocking and owned by the handle: do not read,
 * write or close it yourself. */

typedef enum mnv2c_request_kind {
	MNV2C_REQ_CLASSIFY = 1,
	MNV2C_REQ_DETECT = 2,
	MNV2C_REQ_STATUS = 3,
	MNV2C_REQ_LIST_MODELS = 4,
	MNV2C_REQ_RELOAD = 5,
} mnv2c_request_kind;

/* A response as delivered by mnv2c_receive(). Exactly the result pointer matching `kind`
 * is set when status is MNV2C_OK (the others are NULL); on another status all are NULL
 * and message holds the server's text. Free with mnv2c_response_free(). */
typedef struct mnv2c_response {
	uint64_t request_id;
	mnv2c_request_kind kind; /* the kind of the request it answers */
	int status;              /* mnv2c_code >= 0 (or a newer server's code) */
	char *message;           /* never NULL; "" on success */
	mnv2c_timing timing;
	mnv2c_classify_result *classify;
	mnv2c_detect_result *detect;
	mnv2c_server_status *server_status;
	mnv2c_model_list *models;
	mnv2c_reload_result *reload;
} mnv2c_response;

MNV2C_API void mnv2c_response_free(mnv2c_response *r);

/* Queues a request: img and opt are used by CLASSIFY and DETECT only (img required, opt may
 * be NULL) and must be NULL for the others. Writes as much of the frame as the socket takes
 * without blocking; when more than max_pending bytes (see below) are already waiting, first
 * waits (at most the handle's timeout) for the socket to drain, reading arriving responses
 * meanwhile so that the server is never stuck writing to us. *request_id (may be NULL)
 * receives the id, unique on this handle and never 0. */
MNV2C_API mnv2c_code mnv2c_send(mnv2c_client *c, mnv2c_request_kind kind,
				  const mnv2c_image *img, const mnv2c_options *opt,
				  uint64_t *request_id, mnv2c_error *err);

/* mnv2c_send() of a CLASSIFY or DETECT whose frame is in fd (see mnv2c_detect_fd). */
MNV2C_API mnv2c_code mnv2c_send_fd(mnv2c_client *c, mnv2c_request_kind kind, int fd,
				     uint64_t fd_offset, const mnv2c_image *geometry,
				     const mnv2c_options *opt, uint64_t *request_id,
				     mnv2c_error *err);

/* Bytes of queued requests that may wait for the socket before mnv2c_send() blocks
 * (default 8 MiB; at least one request is always accepted). */
MNV2C_API void mnv2c_set_max_pending_bytes(mnv2c_client *c, size_t max);

/* Waits at most timeout_ms (0: just look, negative: forever) for the next response to any
 * outstanding request, while also writing queued request bytes. MNV2C_OK: *out is set.
 * MNV2C_ERR_TIMEOUT: nothing complete yet (*out NULL, connection still fine).
 * MNV2C_ERR_USAGE: no request is outstanding and none is buffered. Any other code: the
 * connection is broken (after the responses already received have been handed out). */
MNV2C_API mnv2c_code mnv2c_receive(mnv2c_client *c, int timeout_ms, mnv2c_response **out,
				     mnv2c_error *err);

/* Callback style: receives like mnv2c_receive(c, timeout_ms) and then hands every response
 * already complete to cb, in arrival order, without waiting again. The response belongs to
 * the library and is freed when cb returns. cb must not call mnv2c_close(c); it may send.
 * Returns MNV2C_OK when at least one response was delivered (count in *delivered, may be
 * NULL), else what mnv2c_receive returned. */
typedef void (*mnv2c_callback)(const mnv2c_response *r, void *user);
MNV2C_API mnv2c_code mnv2c_dispatch(mnv2c_client *c, int timeout_ms, mnv2c_callback cb,
				      void *user, size_t *delivered, mnv2c_error *err);

/* Writes queued request bytes, waiting at most timeout_ms (negative: forever) until all
 * are written. MNV2C_ERR_TIMEOUT when some are still queued. */
MNV2C_API mnv2c_code mnv2c_flush(mnv2c_client *c, int timeout_ms, mnv2c_error *err);

/* The socket, for poll/epoll/libevent; -1 for NULL. */
MNV2C_API int mnv2c_fd(const mnv2c_client *c);
/* POLLIN, | POLLOUT while request bytes are queued (values from <poll.h>). */
MNV2C_API short mnv2c_events(const mnv2c_client *c);
/* Requests sent and not yet answered (including those whose answer is buffered but not
 * yet received), excluding ones abandoned by a timed-out blocking call. */
MNV2C_API size_t mnv2c_outstanding(const mnv2c_client *c);

#ifdef __cplusplus
}
#endif

#endif
