/* server — see server.h. */
#include "server.h"

#include "clock.h"
#include "framing.h"
#include "infer.h"
#include "intake.h"
#include "job.h"
#include "pool.h"
#include "queue.h"
#include "reply.h"

#include <errno.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#define MSG_LEN 640
#define ACCEPT_RETRY_MS 100
#define READ_BITE (256u << 10)
/* recvmsg() calls per read callback: other connections get their turn */
#define READ_ROUNDS 8
/* Room for this many descriptors in one recvmsg(); more is MSG_CTRUNC: the connection is
 * closed. A frame may carry one. */
#define MAX_FDS 8

enum {
	ST_OK = MNV2__STATUS_CODE__STATUS_OK,
	ST_INVALID = MNV2__STATUS_CODE__STATUS_INVALID_ARGUMENT,
	ST_DENIED = MNV2__STATUS_CODE__STATUS_PERMISSION_DENIED,
	ST_EXHAUSTED = MNV2__STATUS_CODE__STATUS_RESOURCE_EXHAUSTED,
	ST_UNAVAILABLE = MNV2__STATUS_CODE__STATUS_UNAVAILABLE,
	ST_INTERNAL = MNV2__STATUS_CODE__STATUS_INTERNAL,
};

typedef struct conn {
	struct mnv2d_server *srv;
	struct bufferevent *bev;   /* NULL once closed; writes only */
	struct event *rd;          /* reads, with recvmsg(): bufferevents drop SCM_RIGHTS */
	struct evbuffer *in;       /* the frame being read (at most one) */
	int fd;                    /* the descriptor that came with this frame's first byte */
	char fd_err[200];          /* a descriptor rule this frame broke ("": none) */
	uint64_t id;
	unsigned inflight;         /* its jobs queued or running */
	int draining;              /* shutting down: close once the output is flushed */
	struct conn *prev, *next;  /* the live connections */
} conn;

/* A Reload request waiting for the outcome. */
typedef struct waiter {
	conn *c;
	uint64_t id;
	struct waiter *next;
} waiter;

/* The reload thread and who waits for it: `current` the one running, `next` the one to
 * run after it (requests that came in while it ran, or a SIGHUP). */
typedef struct reloader {
	pthread_t thread;
	int running, again;
	int fd;                    /* eventfd: the thread is done */
	struct event *ev;
	mnv2d_reload_result *res;
	uint64_t generation;
	waiter *current, *next;
	waiter *answering;         /* being answered (a close drops its entries here too) */
} reloader;

struct mnv2d_server {
	mnv2d_server_opts o;
	mnv2d_log *log;
	mnv2d_modelset *set;
	mnv2d_sock *sock;
	struct event_base *base;
	struct evconnlistener *listener;
	struct event *sig[3], *wake, *flush_timer, *accept_retry, *health;
	mnv2d_queue queue;
	int queue_ready;
	mnv2d_pool pool;
	int pool_ready;
	conn *conns;
	unsigned nconns;
	uint64_t next_id;
	size_t inflight;           /* jobs queued or running, all connections */
	int stopping, forced, loop_failed;
	int64_t started;
	reloader rl;
	uint64_t stall_us;         /* a worker busy longer than this is wedged; 0: not checked */
	int wedged;                /* watchdog pings withheld */
	mnv2d_denials denials;
	char reload_err[256];      /* the last reload's failure, for STATUS= ("" after success) */
};

static void maybe_finish(mnv2d_server *s);
static void drop_waiters(mnv2d_server *s, const conn *c);

/* ---- the service manager ---- */

/* "STATUS=serving ..." after `prefix` (e.g. "READY=1\n"). */
static void notify_serving(mnv2d_server *s, const char *prefix)
{
	size_t n = s->set->n;
	mnv2d_notify_sendf(s->o.notify, "%sSTATUS=serving %zu model%s, %u worker%s, generation "
			   "%llu%s%s", prefix, n, n == 1 ? "" : "s", s->o.threads,
			   s->o.threads == 1 ? "" : "s", (unsigned long long)s->set->generation,
			   s->reload_err[0] ? "; last reload failed: " : "", s->reload_err);
}

/* The health timer: pings the watchdog unless a worker is wedged. */
static void health_cb(evutil_socket_t fd, short what, void *arg)
{
	mnv2d_server *s = arg;
	(void)fd;
	(void)what;
	int64_t oldest = mnv2d_pool_oldest_busy(&s->pool);
	uint64_t busy = oldest ? mnv2d_elapsed_us(oldest, mnv2d_now_us()) : 0;
	if (busy > s->stall_us) {
		if (!s->wedged) {
			LOG_ERR(s->log, "a worker has been busy on one request for %.1f s (limit "
				"%.1f s): it is wedged; %s", (double)busy / 1e6,
				(double)s->stall_us / 1e6,
				s->o.notify && s->o.notify->watchdog_usec
					? "watchdog pings stop, so the service manager restarts mnv2d"
					: "no watchdog is configured to act on it");
			mnv2d_notify_sendf(s->o.notify, "STATUS=wedged: a worker has been busy on one "
					   "request for %.1f s; watchdog pings withheld",
					   (double)busy / 1e6);
		}
		s->wedged = 1;
		return;
	}
	if (s->wedged) {
		LOG_WARN(s->log, "the wedged worker finished its request; watchdog pings resume");
		s->wedged = 0;
		notify_serving(s, "");
	}
	if (s->o.notify && s->o.notify->watchdog_usec)
		mnv2d_notify_send(s->o.notify, "WATCHDOG=1");
}

static int start_health(mnv2d_server *s)
{
	uint64_t wd = s->o.notify ? s->o.notify->watchdog_usec : 0;
	s->stall_us = mnv2d_stall_limit_us(s->o.watchdog_ms, wd);
	if (!s->stall_us)
		return 0;
	uint64_t every = (wd ? wd : s->stall_us) / 2;
	if (every < 1000)
		every = 1000;
	struct timeval tv = { (time_t)(every / 1000000), (suseconds_t)(every % 1000000) };
	s->health = event_new(s->base, -1, EV_PERSIST, health_cb, s);
	return s->health && !event_add(s->health, &tv) ? 0 : -1;
}

/* ---- connections ---- */

static void conn_unlink(conn *c)
{
	mnv2d_server *s = c->srv;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	s->nconns--;
}

/* Closes the socket and drops the queued requests. The struct is freed at once when nothing
 * of it is running, else when the last running job comes back: callers must not touch c
 * after this (nor after a conn_send() that fails). */
static void conn_close(conn *c, const char *why)
{
	mnv2d_server *s = c->srv;
	if (!c->bev)
		return;
	LOG_DEBUG(s->log, "connection %llu closed: %s", (unsigned long long)c->id, why);
	drop_waiters(s, c);
	mnv2d_job *j = mnv2d_queue_cancel(&s->queue, c);
	while (j) {
		mnv2d_job *next = j->next;
		c->inflight--;
		s->inflight--;
		mnv2d_job_free(j);
		j = next;
	}
	if (c->rd)
		event_free(c->rd);
	c->rd = NULL;
	if (c->in)
		evbuffer_free(c->in);
	c->in = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	bufferevent_free(c->bev);
	c->bev = NULL;
	conn_unlink(c);
	if (!c->inflight)
		free(c);
}

static void frame_cleanup(const void *data, size_t len, void *arg)
{
	(void)len;
	(void)arg;
	free((void *)data);
}

/* Queues a frame (taken over) for writing. -1 when the connection is (now) closed. */
static int conn_send(conn *c, uint8_t *frame, size_t len)
{
	mnv2d_server *s = c->srv;
	if (!c->bev) {
		free(frame);
		return -1;
	}
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (evbuffer_add_reference(out, frame, len, frame_cleanup, NULL)) {
		free(frame);
		conn_close(c, "out of memory queueing a response");
		return -1;
	}
	size_t pending = evbuffer_get_length(out);
	if (pending > s->o.max_output_bytes) {
		LOG_WARN(s->log, "connection %llu: %zu bytes of responses unsent (limit %zu); the "
			 "client is not reading, disconnecting it", (unsigned long long)c->id,
			 pending, s->o.max_output_bytes);
		conn_close(c, "output limit");
		return -1;
	}
	return 0;
}

static int send_error(conn *c, uint64_t id, unsigned status, const char *msg)
{
	uint8_t *frame;
	size_t len;
	if (mnv2d_reply_error(id, status, msg, &frame, &len)) {
		conn_close(c, "out of memory building a response");
		return -1;
	}
	return conn_send(c, frame, len);
}

/* ---- requests ---- */

static void server_info(mnv2d_server *s, mnv2d_server_info *info)
{
	*info = (mnv2d_server_info){
		.version = s->o.version,
		.uptime_s = mnv2d_elapsed_us(s->started, mnv2d_now_us()) / 1000000,
		.connections = s->nconns,
		.threads = s->o.threads,
		.intra_op_threads = s->set->intra,
		.cpu_budget = s->o.cpu_budget,
		.max_inflight_per_connection = s->o.max_inflight_per_connection,
	};
	mnv2d_queue_counts(&s->queue, &info->queue_depth, &info->queue_capacity,
			   &info->queue_high_water);
}

static int answer_here(conn *c, mnv2d_intake_kind kind, uint64_t id)
{
	mnv2d_server *s = c->srv;
	uint8_t *frame;
	size_t len;
	int rc;
	if (kind == MNV2D_INTAKE_STATUS) {
		mnv2d_server_info info;
		server_info(s, &info);
		rc = mnv2d_reply_status(id, s->set, &info, &frame, &len);
	} else {
		rc = mnv2d_reply_models(id, s->set, &frame, &len);
	}
	if (rc) {
		conn_close(c, "out of memory building a response");
		return -1;
	}
	return conn_send(c, frame, len);
}

/* A request (and its descriptor, -1: none) that is answered without being queued. */
static void discard(Mnv2__Request *req, int fd)
{
	if (fd >= 0)
		close(fd);
	mnv2__request__free_unpacked(req, NULL);
}

/* RESOURCE_EXHAUSTED for a Classify/Detect that got no queue slot; counted for its model. */
static int exhausted(conn *c, uint64_t id, mnv2d_stats *stats, const char *msg)
{
	mnv2d_stats_response(stats, ST_EXHAUSTED, NULL);
	return send_error(c, id, ST_EXHAUSTED, msg);
}

/* 1 when c already has as many requests queued or running as one connection may. */
static int over_quota(const conn *c, char *msg, size_t len)
{
	unsigned limit = c->srv->o.max_inflight_per_connection;
	if (!limit || c->inflight < limit)
		return 0;
	snprintf(msg, len, "this connection already has %u requests queued or running "
		 "(max_inflight_per_connection: %u); wait for answers before sending more",
		 c->inflight, limit);
	return 1;
}

/* A valid Classify/Detect: queued for a worker (the job takes over it->req and fd, which
 * is -1 or the frame's descriptor), unless the connection is over its quota. */
static int enqueue(conn *c, mnv2d_intake *it, int fd, int64_t now)
{
	mnv2d_server *s = c->srv;
	char msg[MSG_LEN];
	uint64_t id = it->id;
	Mnv2__Request *req = it->req;
	mnv2d_stats *stats = &s->set->models[it->model].stats;
	mnv2d_stats_request(stats);
	if (over_quota(c, msg, sizeof msg)) {
		discard(req, fd);
		return exhausted(c, id, stats, msg);
	}
	mnv2d_job *j = calloc(1, sizeof *j);
	if (!j) {
		discard(req, fd);
		mnv2d_stats_response(stats, ST_INTERNAL, NULL);
		return send_error(c, id, ST_INTERNAL, "out of memory");
	}
	uint32_t dl = req->deadline_ms ? req->deadline_ms : s->o.default_deadline_ms;
	*j = (mnv2d_job){ .owner = c, .req = req, .set = mnv2d_modelset_ref(s->set),
			  .model = (size_t)it->model, .request_id = id, .t_read = now,
			  .deadline = dl ? now + (int64_t)dl * 1000 : 0,
			  .has_fd = fd >= 0, .fd = fd };
	if (mnv2d_queue_push(&s->queue, j)) {   /* job_free closes the descriptor */
		mnv2d_job_free(j);
		snprintf(msg, sizeof msg, "the request queue is full (%zu requests); retry later",
			 s->o.queue_depth);
		return exhausted(c, id, stats, msg);
	}
	c->inflight++;
	s->inflight++;
	return 0;
}

/* ---- reload ---- */

static void *reload_main(void *arg)
{
	mnv2d_server *s = arg;
	s->o.reload(s->o.reload_arg, s->rl.generation, s->rl.res);
	uint64_t one = 1;
	while (write(s->rl.fd, &one, sizeof one) < 0 && errno == EINTR)
		;
	return NULL;
}

static int start_reload(mnv2d_server *s)
{
	reloader *r = &s->rl;
	r->res = calloc(1, sizeof *r->res);
	r->generation = s->set->generation + 1;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = r->res ? pthread_create(&r->thread, NULL, reload_main, s) : ENOMEM;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		free(r->res);
		r->res = NULL;
		return -1;
	}
	r->running = 1;
	LOG_INFO(s->log, "reloading the configuration and models (generation %llu)",
		 (unsigned long long)r->generation);
	mnv2d_notify_sendf(s->o.notify, "RELOADING=1\nMONOTONIC_USEC=%lld\nSTATUS=reloading the "
			   "configuration and models (generation %llu)",
			   (long long)mnv2d_now_us(), (unsigned long long)r->generation);
	return 0;
}

/* Answers every waiter of list *l (moved to `answering` first: a send that closes its
 * connection drops that connection's other entries from there). */
static void answer_waiters(mnv2d_server *s, waiter **l, unsigned status, const char *msg,
			   uint64_t generation, uint32_t models)
{
	reloader *r = &s->rl;
	r->answering = *l;
	*l = NULL;
	while (r->answering) {
		waiter *w = r->answering;
		conn *c = w->c;
		uint64_t id = w->id;
		r->answering = w->next;
		free(w);
		uint8_t *frame;
		size_t len;
		int rc = status == ST_OK ? mnv2d_reply_reload(id, generation, models, &frame, &len)
					 : mnv2d_reply_error(id, status, msg, &frame, &len);
		if (!rc)
			conn_send(c, frame, len);
		else
			conn_close(c, "out of memory building a response");
	}
}

static void drop_list(waiter **l, const conn *c)
{
	while (*l) {
		if ((*l)->c == c) {
			waiter *w = *l;
			*l = w->next;
			free(w);
		} else {
			l = &(*l)->next;
		}
	}
}

static void drop_waiters(mnv2d_server *s, const conn *c)
{
	drop_list(&s->rl.current, c);
	drop_list(&s->rl.next, c);
	drop_list(&s->rl.answering, c);
}

/* A Reload request (c non-NULL) or SIGHUP. -1 when c got closed. */
static int request_reload(mnv2d_server *s, conn *c, uint64_t id)
{
	reloader *r = &s->rl;
	const char *no = s->stopping ? "the server is shutting down"
		       : !s->o.reload ? "reload is not available" : NULL;
	if (no)
		return c ? send_error(c, id, ST_UNAVAILABLE, no) : 0;
	if (c) {
		waiter *w = malloc(sizeof *w);
		if (!w)
			return send_error(c, id, ST_INTERNAL, "out of memory");
		*w = (waiter){ .c = c, .id = id };
		waiter **tail = r->running ? &r->next : &r->current;
		while (*tail)
			tail = &(*tail)->next;
		*tail = w;
	}
	if (r->running) {
		r->again = 1;   /* after the current one: it may have read the old files */
		return 0;
	}
	if (start_reload(s)) {
		LOG_ERR(s->log, "cannot start a reload thread");
		/* c is among them: it may be closed (and freed) by the answer */
		int had_c = c != NULL;
		answer_waiters(s, &r->current, ST_UNAVAILABLE, "cannot start a reload thread", 0, 0);
		return had_c ? -1 : 0;
	}
	return 0;
}

static void apply_reload(mnv2d_server *s, mnv2d_reload_result *res, waiter **w)
{
	char msg[1200];
	if (s->stopping) {
		mnv2d_modelset_unref(res->set);
		answer_waiters(s, w, ST_UNAVAILABLE, "the server is shutting down", 0, 0);
		return;
	}
	if (!res->set) {
		LOG_ERR(s->log, "reload failed; still serving generation %llu: %s",
			(unsigned long long)s->set->generation, res->err);
		snprintf(msg, sizeof msg, "reload failed; still serving generation %llu: %s",
			 (unsigned long long)s->set->generation, res->err);
		snprintf(s->reload_err, sizeof s->reload_err, "%.250s", res->err);   /* cut */
		notify_serving(s, "READY=1\n");
		answer_waiters(s, w, ST_UNAVAILABLE, msg, 0, 0);
		return;
	}
	mnv2d_modelset *old = s->set;
	s->set = res->set;   /* queued jobs hold their own references to the old set */
	mnv2d_modelset_unref(old);
	s->o.default_deadline_ms = res->default_deadline_ms;
	s->o.max_output_bytes = res->max_output_bytes;
	s->o.max_connections = res->max_connections;
	s->o.max_inflight_per_connection = res->max_inflight_per_connection;
	/* the allow lists change; the daemon's uid and the socket's group stay */
	mnv2d_access acc = res->access;
	acc.self_uid = s->o.access.self_uid;
	acc.sock_gid = s->o.access.sock_gid;
	acc.sock_gid_known = s->o.access.sock_gid_known;
	s->o.access = acc;
	mnv2d_log_set_level(s->log, res->log_level);
	LOG_INFO(s->log, "reloaded: generation %llu, %zu models",
		 (unsigned long long)s->set->generation, s->set->n);
	s->reload_err[0] = 0;
	notify_serving(s, "READY=1\n");
	answer_waiters(s, w, ST_OK, NULL, s->set->generation, (uint32_t)s->set->n);
}

static void reload_done_cb(evutil_socket_t fd, short what, void *arg)
{
	mnv2d_server *s = arg;
	reloader *r = &s->rl;
	uint64_t v;
	(void)what;
	while (read(fd, &v, sizeof v) < 0 && errno == EINTR)
		;
	if (!r->running)
		return;
	pthread_join(r->thread, NULL);
	r->running = 0;
	mnv2d_reload_result *res = r->res;
	r->res = NULL;
	apply_reload(s, res, &r->current);
	free(res);
	/* those who asked while it ran get the next one */
	r->current = r->next;
	r->next = NULL;
	if (r->again && !s->stopping) {
		r->again = 0;
		request_reload(s, NULL, 0);
	} else {
		r->again = 0;
		answer_waiters(s, &r->current, ST_UNAVAILABLE, "the server is shutting down", 0, 0);
	}
	maybe_finish(s);
}

static const Mnv2__RawFrame *raw_frame_of(const Mnv2__Request *r)
{
	const Mnv2__Image *im = r->body_case == MNV2__REQUEST__BODY_CLASSIFY && r->classify
					? r->classify->image
				: r->body_case == MNV2__REQUEST__BODY_DETECT && r->detect
					? r->detect->image : NULL;
	return im && im->source_case == MNV2__IMAGE__SOURCE_RAW ? im->raw : NULL;
}

/* Turns an outcome into an error answer (freeing a queued request). */
static void intake_error(mnv2d_intake *it, const char *fmt, const char *arg)
{
	if (it->kind == MNV2D_INTAKE_QUEUE)   /* it->model stays: the error counts there */
		mnv2__request__free_unpacked(it->req, NULL);
	it->req = NULL;
	it->kind = MNV2D_INTAKE_ERROR;
	it->status = ST_INVALID;
	snprintf(it->msg, sizeof it->msg, fmt, arg);
}

/* Pairs the frame with the descriptor that came with it (docs/protocol.md, "Frames in file
 * descriptors"): a Classify/Detect whose raw frame says has_fd takes it; anything else with
 * a descriptor, a has_fd without one, or a broken rule is answered INVALID_ARGUMENT (an
 * error the intake found already stands). Returns the descriptor the job takes, or -1; every
 * other one is closed here. */
static int pair_fd(mnv2d_intake *it, int fd, const char *fd_err)
{
	const Mnv2__RawFrame *raw = it->kind == MNV2D_INTAKE_QUEUE ? raw_frame_of(it->req) : NULL;
	int wants = raw && raw->has_fd;
	if (it->kind == MNV2D_INTAKE_ERROR || (!wants && fd < 0 && !*fd_err)) {
		/* an answer already, or nothing to pair */
	} else if (*fd_err) {
		intake_error(it, "%s", fd_err);
	} else if (wants && fd < 0) {
		intake_error(it, "%s", "image: has_fd is set but no file descriptor came with the "
			     "request (SCM_RIGHTS, in the sendmsg that starts with the frame's "
			     "first length byte)");
	} else if (!wants) {
		intake_error(it, "a file descriptor came with this request, but it does not use "
			     "one (%s); the descriptor was closed",
			     it->kind == MNV2D_INTAKE_QUEUE ? "image.raw.has_fd is not set"
							     : "only a raw frame can");
	} else {
		return fd;
	}
	if (fd >= 0)
		close(fd);
	return -1;
}

/* One frame, as the intake left it, with the descriptor that came with it (-1: none) and
 * a descriptor rule it broke (""). -1 when the connection got closed. */
static int handle_frame(conn *c, mnv2d_intake *it, int fd, const char *fd_err, int64_t now)
{
	fd = pair_fd(it, fd, fd_err);
	switch (it->kind) {
	case MNV2D_INTAKE_QUEUE:
		return enqueue(c, it, fd, now);
	case MNV2D_INTAKE_STATUS:
	case MNV2D_INTAKE_LIST_MODELS:
		return answer_here(c, it->kind, it->id);
	case MNV2D_INTAKE_RELOAD:
		return request_reload(c->srv, c, it->id);
	default:
		break;
	}
	if (it->undecodable)
		LOG_DEBUG(c->srv->log, "connection %llu: a %u-byte frame is not an mnv2.Request",
			  (unsigned long long)c->id, it->length);
	if (it->model >= 0) {   /* a Classify/Detect that named a model: it counts there */
		mnv2d_stats *stats = &c->srv->set->models[it->model].stats;
		mnv2d_stats_request(stats);
		mnv2d_stats_response(stats, it->status, NULL);
	}
	return send_error(c, it->id, it->status, it->msg);
}

/* The connection's input buffer (the frame being read) as the intake reads it. */
static void input_copy(void *arg, void *dst, size_t n)
{
	evbuffer_copyout(arg, dst, n);
}

static const uint8_t *input_pullup(void *arg, size_t n)
{
	return evbuffer_pullup(arg, (ev_ssize_t)n);
}

/* Acts on the buffered frame, if it is complete. -1 when c got closed. */
static int process_input(conn *c)
{
	mnv2d_server *s = c->srv;
	struct evbuffer *in = c->in;
	mnv2d_input src = { evbuffer_get_length(in), input_copy, input_pullup, in };
	mnv2d_intake it;
	int64_t now = mnv2d_now_us();
	mnv2d_intake_next(&src, s->o.max_frame_bytes, s->set, s->stopping, &it);
	if (it.kind == MNV2D_INTAKE_WAIT)
		return 0;
	if (it.kind == MNV2D_INTAKE_CLOSE) {
		if (it.too_long)
			LOG_WARN(s->log, "connection %llu: %s; closing the connection",
				 (unsigned long long)c->id, it.msg);
		conn_close(c, it.too_long ? "frame too long" : it.msg);
		return -1;
	}
	/* the frame's descriptor and rule state go with it; the next frame starts clean */
	int fd = c->fd;
	char fd_err[sizeof c->fd_err];
	memcpy(fd_err, c->fd_err, sizeof fd_err);
	c->fd = -1;
	c->fd_err[0] = 0;
	if (handle_frame(c, &it, fd, fd_err, now))
		return -1;   /* closed: c and `in` are gone */
	evbuffer_drain(in, it.consumed);
	return 0;
}

/* Bytes to read next: the rest of the length bytes, or of the payload (at most a bite);
 * 0 when the buffered frame is complete or its length is over the limit. Reading stops at
 * the frame's end, so a descriptor always arrives with the frame whose bytes carry it. */
static size_t want_bytes(const conn *c)
{
	struct evbuffer *in = c->in;
	size_t have = evbuffer_get_length(in);
	uint8_t hdr[MNV2D_FRAME_HEADER];
	if (have < sizeof hdr)
		return sizeof hdr - have;
	evbuffer_copyout(in, hdr, sizeof hdr);
	uint32_t n = mnv2d_frame_length(hdr);
	if (n > c->srv->o.max_frame_bytes)
		return 0;
	size_t left = sizeof hdr + (size_t)n - have;
	return left < READ_BITE ? left : READ_BITE;
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* The descriptors that came with one recvmsg(): the frame's own when it is exactly one
 * that arrived with (some of) the frame's length bytes; otherwise all closed at once and the frame
 * marked to be answered INVALID_ARGUMENT. */
static void take_fds(conn *c, const int *fds, size_t n, int first)
{
	if (!n)
		return;
	if (n == 1 && first && c->fd < 0 && !c->fd_err[0]) {
		c->fd = fds[0];
		return;
	}
	close_fds(fds, n);
	if (c->fd_err[0])
		return;
	if (n > 1)
		snprintf(c->fd_err, sizeof c->fd_err, "%zu file descriptors came with one request; "
			 "a frame carries at most one (all were closed)", n);
	else
		snprintf(c->fd_err, sizeof c->fd_err, "a file descriptor came with a sendmsg that "
			 "began inside the request's payload, not with its length bytes (it was "
			 "closed)");
}

/* One recvmsg() of at most want bytes into the frame buffer, descriptors included.
 * 1: read something; 0: nothing to read now; -1: c got closed. */
static int recv_some(conn *c, size_t want)
{
	mnv2d_server *s = c->srv;
	struct evbuffer *in = c->in;
	/* a descriptor belongs to the frame when it comes with some of its length bytes */
	int first = evbuffer_get_length(in) < MNV2D_FRAME_HEADER;
	struct evbuffer_iovec vec;
	if (evbuffer_reserve_space(in, (ev_ssize_t)want, &vec, 1) < 1) {
		conn_close(c, "out of memory reading a frame");
		return -1;
	}
	union {
		char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { vec.iov_base, vec.iov_len < want ? vec.iov_len : want };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			      .msg_controllen = sizeof ctl.buf };
	ssize_t got;
	do
		got = recvmsg(bufferevent_getfd(c->bev), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	while (got < 0 && errno == EINTR);
	int fds[MAX_FDS];
	size_t nfds = 0;
	for (struct cmsghdr *cm = got >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm;
	     cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k && nfds < MAX_FDS; i++)
			memcpy(&fds[nfds++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
	}
	if (got > 0 && (msg.msg_flags & MSG_CTRUNC)) {
		close_fds(fds, nfds);
		LOG_WARN(s->log, "connection %llu: more file descriptors than a frame may carry "
			 "(ancillary data truncated); closing the connection",
			 (unsigned long long)c->id);
		conn_close(c, "ancillary data truncated");
		return -1;
	}
	if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (got <= 0) {
		close_fds(fds, nfds);
		conn_close(c, got == 0 ? "end of stream" : strerror(errno));
		return -1;
	}
	vec.iov_len = (size_t)got;
	evbuffer_commit_space(in, &vec, 1);
	take_fds(c, fds, nfds, first);
	return 1;
}

static void sock_read_cb(evutil_socket_t fd, short what, void *arg)
{
	conn *c = arg;
	mnv2d_server *s = c->srv;
	(void)fd;
	(void)what;
	/* every path that closes c leaves the loop at once */
	for (int round = 0; !c->draining;) {
		size_t want = want_bytes(c);
		if (!want) {   /* a complete frame is acted on before anything else */
			size_t before = evbuffer_get_length(c->in);
			if (process_input(c))
				break;
			if (evbuffer_get_length(c->in) == before)
				break;   /* cannot happen: a complete frame is always consumed */
			continue;
		}
		/* more bytes wait: the (level-triggered) event calls again */
		if (round++ == READ_ROUNDS || recv_some(c, want) <= 0)
			break;
	}
	maybe_finish(s);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
	conn *c = arg;
	mnv2d_server *s = c->srv;
	(void)bev;
	if (c->draining) {
		conn_close(c, "shutdown");   /* c may be gone now */
		maybe_finish(s);
	}
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
	conn *c = arg;
	mnv2d_server *s = c->srv;
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		conn_close(c, what & BEV_EVENT_EOF ? "end of stream" : strerror(errno));
		maybe_finish(s);   /* c may be gone now */
	}
}

/* ---- accepting ---- */

static void refuse(mnv2d_server *s, evutil_socket_t fd)
{
	char msg[128];
	uint8_t *frame;
	size_t len;
	snprintf(msg, sizeof msg, "too many connections (limit %u); try again later",
		 s->o.max_connections);
	if (!mnv2d_reply_error(0, ST_UNAVAILABLE, msg, &frame, &len)) {
		/* a fresh socket's buffer takes this small frame at once; if not, drop it */
		if (send(fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			LOG_DEBUG(s->log, "refusing a connection: %s", strerror(errno));
		free(frame);
	}
	close(fd);
}

/* A peer the policy does not allow: PERMISSION_DENIED (request_id 0), then closed. */
static void deny(mnv2d_server *s, evutil_socket_t fd, const mnv2d_peer *p, int unknown)
{
	char msg[200], why[96];
	uint8_t *frame;
	size_t len;
	if (unknown)
		snprintf(why, sizeof why, "its credentials cannot be read");
	else if (s->o.access.explicit_lists)
		snprintf(why, sizeof why, "not in allow_uids/allow_gids");
	else if (s->o.access.sock_gid_known)
		snprintf(why, sizeof why, "not root and not in the socket's group %u",
			 (unsigned)s->o.access.sock_gid);
	else
		snprintf(why, sizeof why, "not root");
	unsigned long long suppressed = 0;
	if (mnv2d_denials_note(&s->denials, p->uid, p->pid, mnv2d_now_us(), &suppressed))
		LOG_WARN(s->log, "denied a connection from pid %d uid %u gid %u: %s", (int)p->pid,
			 (unsigned)p->uid, (unsigned)p->gid, why);
	else
		LOG_DEBUG(s->log, "denied a connection from pid %d uid %u gid %u: %s",
			  (int)p->pid, (unsigned)p->uid, (unsigned)p->gid, why);
	if (suppressed)
		LOG_WARN(s->log, "%llu more denied connections were not logged (rate limit)",
			 suppressed);
	snprintf(msg, sizeof msg, "permission denied: uid %u may not use mnv2d (%s)",
		 (unsigned)p->uid, why);
	if (!mnv2d_reply_error(0, ST_DENIED, msg, &frame, &len)) {
		/* a fresh socket's buffer takes this small frame at once; if not, drop it */
		if (send(fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
			LOG_DEBUG(s->log, "denying a connection: %s", strerror(errno));
		free(frame);
	}
	close(fd);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *addr,
		      int addrlen, void *arg)
{
	mnv2d_server *s = arg;
	(void)l;
	(void)addr;
	(void)addrlen;
	mnv2d_peer cred;
	int allowed = mnv2d_access_check(&s->o.access, fd, &cred);
	if (allowed != 1) {
		deny(s, fd, &cred, allowed < 0);
		return;
	}
	if (s->nconns >= s->o.max_connections) {
		LOG_WARN(s->log, "%u connections open (the limit); refusing another",
			 s->nconns);
		refuse(s, fd);
		return;
	}
	conn *c = calloc(1, sizeof *c);
	struct bufferevent *bev = c ? bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE)
				    : NULL;
	if (!bev) {
		LOG_WARN(s->log, "out of memory accepting a connection");
		free(c);
		close(fd);
		return;
	}
	*c = (conn){ .srv = s, .bev = bev, .id = ++s->next_id, .next = s->conns, .fd = -1 };
	c->rd = event_new(s->base, fd, EV_READ | EV_PERSIST, sock_read_cb, c);
	c->in = evbuffer_new();
	if (!c->rd || !c->in || event_add(c->rd, NULL)) {
		LOG_WARN(s->log, "out of memory accepting a connection");
		if (c->rd)
			event_free(c->rd);
		if (c->in)
			evbuffer_free(c->in);
		bufferevent_free(bev);   /* closes fd */
		free(c);
		return;
	}
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	s->nconns++;
	LOG_DEBUG(s->log, "connection %llu from pid %d uid %u gid %u", (unsigned long long)c->id,
		  (int)cred.pid, (unsigned)cred.uid, (unsigned)cred.gid);
	/* the bufferevent only writes; sock_read_cb reads one frame at a time with recvmsg
	 * (input stays bounded to one frame, and descriptors stay with their frame) */
	bufferevent_setcb(bev, NULL, write_cb, event_cb, c);
	bufferevent_enable(bev, EV_WRITE);
}

static void accept_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	mnv2d_server *s = arg;
	(void)fd;
	(void)what;
	if (s->listener)
		evconnlistener_enable(s->listener);
}

static void accept_error_cb(struct evconnlistener *l, void *arg)
{
	mnv2d_server *s = arg;
	int e = errno;
	LOG_WARN(s->log, "accept: %s; pausing accepts for %d ms", strerror(e), ACCEPT_RETRY_MS);
	/* out of file descriptors: the listener would spin; try again a little later */
	evconnlistener_disable(l);
	struct timeval tv = { 0, ACCEPT_RETRY_MS * 1000 };
	evtimer_add(s->accept_retry, &tv);
}

/* ---- completions ---- */

/* Writes completed jobs' responses to their connections (those still open). */
static void deliver(mnv2d_server *s)
{
	mnv2d_job *j = mnv2d_pool_take(&s->pool);
	while (j) {
		mnv2d_job *next = j->next;
		conn *c = j->owner;
		c->inflight--;
		s->inflight--;
		/* conn_send() and conn_close() free a closed connection with nothing in flight:
		 * c is not touched after them */
		if (c->bev && j->frame) {
			conn_send(c, j->frame, j->frame_len);
			j->frame = NULL;
		} else if (c->bev) {
			conn_close(c, "out of memory building a response");
		} else if (!c->inflight) {
			free(c);
		}
		mnv2d_job_free(j);
		j = next;
	}
}

static void wake_cb(evutil_socket_t fd, short what, void *arg)
{
	mnv2d_server *s = arg;
	(void)fd;
	(void)what;
	deliver(s);
	maybe_finish(s);
}

/* ---- shutdown ---- */

static void close_all(mnv2d_server *s, const char *why)
{
	for (conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		conn_close(c, why);
	}
}

static void flush_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	mnv2d_server *s = arg;
	(void)fd;
	(void)what;
	if (s->nconns)
		LOG_WARN(s->log, "shutdown: %u clients did not read their last responses within "
			 "%u ms; closing them", s->nconns, s->o.shutdown_flush_ms);
	close_all(s, "shutdown flush timeout");
	maybe_finish(s);
}

/* Once nothing is in flight: close idle connections, let the others flush. */
static void maybe_finish(mnv2d_server *s)
{
	if (!s->stopping || s->inflight || s->rl.running)
		return;
	for (conn *c = s->conns, *next; c; c = next) {
		next = c->next;
		if (!evbuffer_get_length(bufferevent_get_output(c->bev))) {
			conn_close(c, "shutdown");
		} else if (!c->draining) {
			c->draining = 1;
			event_del(c->rd);
		}
	}
	if (!s->nconns) {
		event_base_loopexit(s->base, NULL);
	} else if (!evtimer_pending(s->flush_timer, NULL)) {
		struct timeval tv = { s->o.shutdown_flush_ms / 1000,
				      (s->o.shutdown_flush_ms % 1000) * 1000 };
		evtimer_add(s->flush_timer, &tv);
	}
}

static void stop_accepting(mnv2d_server *s)
{
	if (s->listener)
		evconnlistener_free(s->listener);
	s->listener = NULL;
	if (s->accept_retry)
		evtimer_del(s->accept_retry);
	mnv2d_sock_remove(s->sock);
	mnv2d_sock_close(s->sock);
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	mnv2d_server *s = arg;
	(void)what;
	if (sig == SIGHUP) {
		if (s->stopping || !s->o.reload)
			LOG_WARN(s->log, "SIGHUP: %s; ignored", s->stopping ? "shutting down"
								     : "reload is not available");
		else
			request_reload(s, NULL, 0);
		return;
	}
	if (s->stopping) {
		if (!s->forced)
			LOG_WARN(s->log, "%s again: closing every connection now",
				 strsignal((int)sig));
		s->forced = 1;
		close_all(s, "forced shutdown");
		maybe_finish(s);
		return;
	}
	size_t depth, cap, hw;
	mnv2d_queue_counts(&s->queue, &depth, &cap, &hw);
	LOG_INFO(s->log, "%s: shutting down; %zu requests in flight (%zu queued), %u connections",
		 strsignal((int)sig), s->inflight, depth, s->nconns);
	mnv2d_notify_sendf(s->o.notify, "STOPPING=1\nSTATUS=shutting down: %zu requests in "
			   "flight, %u connections", s->inflight, s->nconns);
	s->stopping = 1;
	stop_accepting(s);
	mnv2d_queue_close(&s->queue);   /* workers finish what is queued, then exit */
	maybe_finish(s);
}

/* ---- life cycle ---- */

static int add_events(mnv2d_server *s)
{
	static const int sigs[3] = { SIGTERM, SIGINT, SIGHUP };
	for (int i = 0; i < 3; i++)
		if (!(s->sig[i] = evsignal_new(s->base, sigs[i], signal_cb, s)) ||
		    evsignal_add(s->sig[i], NULL))
			return -1;
	s->wake = event_new(s->base, mnv2d_pool_fd(&s->pool), EV_READ | EV_PERSIST, wake_cb, s);
	s->rl.ev = event_new(s->base, s->rl.fd, EV_READ | EV_PERSIST, reload_done_cb, s);
	if (!s->rl.ev || event_add(s->rl.ev, NULL))
		return -1;
	s->flush_timer = evtimer_new(s->base, flush_timeout_cb, s);
	s->accept_retry = evtimer_new(s->base, accept_retry_cb, s);
	if (!s->wake || !s->flush_timer || !s->accept_retry || event_add(s->wake, NULL))
		return -1;
	s->listener = evconnlistener_new(s->base, accept_cb, s, LEV_OPT_CLOSE_ON_EXEC, 0,
					 s->sock->fd);
	if (!s->listener)
		return -1;
	evconnlistener_set_error_cb(s->listener, accept_error_cb);
	return start_health(s);
}

mnv2d_server *mnv2d_server_new(const mnv2d_server_opts *o, mnv2d_modelset *set,
			       mnv2d_sock *sock, mnv2d_log *log, char *err, size_t errlen)
{
	mnv2d_server *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->o = *o;
	s->log = log;
	s->set = mnv2d_modelset_ref(set);
	s->sock = sock;
	s->started = mnv2d_now_us();
	s->rl.fd = -1;
	s->rl.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->rl.fd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		mnv2d_server_free(s);
		return NULL;
	}
	mnv2d_limits lim = { .max_image_pixels = o->max_image_pixels,
			     .max_encoded_bytes = o->max_frame_bytes,
			     .test_wedge_ms = o->test_wedge_ms };
	if (o->test_wedge_model)
		snprintf(lim.test_wedge_model, sizeof lim.test_wedge_model, "%s",
			 o->test_wedge_model);
	if (mnv2d_queue_init(&s->queue, o->queue_depth)) {
		snprintf(err, errlen, "cannot create the request queue");
		mnv2d_server_free(s);
		return NULL;
	}
	s->queue_ready = 1;
	if (mnv2d_pool_start(&s->pool, o->threads, &s->queue, &lim, log, err, errlen)) {
		mnv2d_server_free(s);
		return NULL;
	}
	s->pool_ready = 1;
	if (!(s->base = event_base_new()) || add_events(s)) {
		snprintf(err, errlen, "cannot set up the event loop");
		mnv2d_server_free(s);
		return NULL;
	}
	return s;
}

int mnv2d_server_run(mnv2d_server *s)
{
	notify_serving(s, "READY=1\n");   /* every model loaded, the socket listening */
	if (event_base_dispatch(s->base) < 0) {
		LOG_ERR(s->log, "the event loop failed");
		return -1;
	}
	return 0;
}

void mnv2d_server_free(mnv2d_server *s)
{
	if (!s)
		return;
	if (s->base)
		stop_accepting(s);
	if (s->queue_ready) {
		mnv2d_queue_close(&s->queue);
		close_all(s, "exit");
	}
	if (s->rl.running) {   /* only when the loop failed: wait for the loader */
		pthread_join(s->rl.thread, NULL);
		if (s->rl.res)
			mnv2d_modelset_unref(s->rl.res->set);
		free(s->rl.res);
		s->rl.running = 0;
	}
	if (s->pool_ready) {
		mnv2d_pool_join(&s->pool);
		deliver(s);   /* to closed connections: frees them */
		mnv2d_pool_free(&s->pool);
		s->pool_ready = 0;
	}
	for (int i = 0; i < 3; i++)
		if (s->sig[i])
			event_free(s->sig[i]);
	if (s->wake)
		event_free(s->wake);
	if (s->rl.ev)
		event_free(s->rl.ev);
	if (s->rl.fd >= 0)
		close(s->rl.fd);
	if (s->flush_timer)
		event_free(s->flush_timer);
	if (s->accept_retry)
		event_free(s->accept_retry);
	if (s->health)
		event_free(s->health);
	if (s->base)
		event_base_free(s->base);
	if (s->queue_ready)
		mnv2d_queue_destroy(&s->queue);
	mnv2d_modelset_unref(s->set);
	free(s);
}
