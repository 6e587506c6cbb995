/* libmnv2client: the connection — socket setup, non-blocking I/O, framing, and the
 * bookkeeping of outstanding requests and ready responses. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"

static mnv2c_client *new_client(int fd, mnv2c_error *err)
{
	mnv2c_client *c = calloc(1, sizeof *c);
	if (!c) {
		close(fd);
		mnv2c__fail(err, MNV2C_ERR_NOMEM, ENOMEM, "out of memory");
		return NULL;
	}
	c->fd = fd;
	c->timeout_ms = MNV2C_DEFAULT_TIMEOUT_MS;
	c->max_frame = MNV2C_DEFAULT_MAX_FRAME_BYTES;
	c->max_pending = MNV2C_DEFAULT_MAX_PENDING;
	c->next_id = 1;
	mnv2c__ok(&c->broken);
	mnv2c__ok(err);
	return c;
}

static int set_nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

mnv2c_client *mnv2c_from_fd(int fd, mnv2c_error *err)
{
	if (fd < 0) {
		mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "invalid file descriptor %d", fd);
		return NULL;
	}
	if (set_nonblocking(fd) != 0) {
		int e = errno;
		close(fd);
		mnv2c__fail(err, MNV2C_ERR_CONNECT, e, "cannot make fd %d non-blocking: %s", fd,
			    strerror(e));
		return NULL;
	}
	return new_client(fd, err);
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* connect() on a non-blocking Unix socket fails with EAGAIN while the server's backlog is
 * full; it has nothing to poll for, so retry with a growing pause until the deadline. */
static int connect_retry(int fd, const struct sockaddr_un *sa, int64_t deadline)
{
	int pause = 1;
	for (;;) {
		if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		int left = mnv2c__remaining(deadline);
		if (left == 0)
			return -1; /* errno is still EAGAIN */
		sleep_ms(left > 0 && left < pause ? left : pause);
		pause = pause < 64 ? pause * 2 : 64;
	}
}

mnv2c_client *mnv2c_connect_timeout(const char *socket_path, int timeout_ms, mnv2c_error *err)
{
	struct sockaddr_un sa;
	const char *path = socket_path ? socket_path : mnv2c_default_socket_path();
	size_t len = strlen(path);

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (len == 0 || len >= sizeof sa.sun_path) {
		mnv2c__fail(err, MNV2C_ERR_CONNECT, ENAMETOOLONG,
			    "cannot connect to %s: socket path %s (%zu bytes, at most %zu)", path,
			    len ? "too long" : "empty", len, sizeof sa.sun_path - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, len);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || connect_retry(fd, &sa, mnv2c__deadline(timeout_ms)) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		mnv2c__fail(err, MNV2C_ERR_CONNECT, e, "cannot connect to %s: %s", path,
			    e == EAGAIN ? "server busy (listen backlog full) until the timeout"
					: strerror(e));
		return NULL;
	}
	return new_client(fd, err);
}

mnv2c_client *mnv2c_connect(const char *socket_path, mnv2c_error *err)
{
	return mnv2c_connect_timeout(socket_path, MNV2C_DEFAULT_CONNECT_TIMEOUT_MS, err);
}

void mnv2c_close(mnv2c_client *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	while (c->ready_head) {
		mnv2c_ready *n = c->ready_head;
		c->ready_head = n->next;
		mnv2c_response_free(n->resp);
		free(n);
	}
	for (size_t i = 0; i < c->n_fds; i++)
		close(c->fds[i].fd);
	free(c->fds);
	free(c->out);
	free(c->in);
	free(c->reqs);
	free(c);
}

void mnv2c_set_timeout_ms(mnv2c_client *c, int timeout_ms) { c->timeout_ms = timeout_ms; }
int mnv2c_timeout_ms(const mnv2c_client *c) { return c->timeout_ms; }
size_t mnv2c_max_frame_bytes(const mnv2c_client *c) { return c->max_frame; }
int mnv2c_fd(const mnv2c_client *c) { return c ? c->fd : -1; }

void mnv2c_set_max_frame_bytes(mnv2c_client *c, size_t max)
{
	c->max_frame = max > MNV2C_MAX_FRAME_LIMIT ? MNV2C_MAX_FRAME_LIMIT : max;
}

void mnv2c_set_max_pending_bytes(mnv2c_client *c, size_t max) { c->max_pending = max; }

short mnv2c_events(const mnv2c_client *c)
{
	return (short)(POLLIN | (c->out_len > c->out_off ? POLLOUT : 0));
}

size_t mnv2c__live_outstanding(const mnv2c_client *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_reqs; i++)
		n += !c->reqs[i].abandoned;
	return n;
}

size_t mnv2c_outstanding(const mnv2c_client *c)
{
	size_t n = mnv2c__live_outstanding(c);
	for (const mnv2c_ready *r = c->ready_head; r; r = r->next)
		n++;
	return n;
}

/* ---- the sticky error -------------------------------------------------------------- */

static mnv2c_code set_broken(mnv2c_client *c, mnv2c_error *err, mnv2c_code code, int e,
			     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static mnv2c_code set_broken(mnv2c_client *c, mnv2c_error *err, mnv2c_code code, int e,
			     const char *fmt, ...)
{
	if (c->broken.code == MNV2C_OK) {
		va_list ap;
		c->broken.code = code;
		c->broken.sys_errno = e;
		va_start(ap, fmt);
		vsnprintf(c->broken.message, sizeof c->broken.message, fmt, ap);
		va_end(ap);
	}
	mnv2c__copy_error(err, &c->broken);
	return c->broken.code;
}

/* ---- outstanding requests ---------------------------------------------------------- */

static mnv2c_outstanding_req *find_req(mnv2c_client *c, uint64_t id)
{
	for (size_t i = 0; i < c->n_reqs; i++)
		if (c->reqs[i].id == id)
			return &c->reqs[i];
	return NULL;
}

static void remove_req(mnv2c_client *c, mnv2c_outstanding_req *r)
{
	*r = c->reqs[--c->n_reqs];
}

void mnv2c__abandon(mnv2c_client *c, uint64_t id)
{
	mnv2c_outstanding_req *r = find_req(c, id);
	if (r)
		r->abandoned = 1;
}

static int add_req(mnv2c_client *c, uint64_t id, mnv2c_request_kind kind)
{
	if (c->n_reqs == c->cap_reqs) {
		size_t cap = c->cap_reqs ? c->cap_reqs * 2 : 16;
		mnv2c_outstanding_req *p = realloc(c->reqs, cap * sizeof *p);
		if (!p)
			return -1;
		c->reqs = p;
		c->cap_reqs = cap;
	}
	c->reqs[c->n_reqs++] = (mnv2c_outstanding_req){id, kind, 0};
	return 0;
}

mnv2c_response *mnv2c__take_ready(mnv2c_client *c, uint64_t id)
{
	mnv2c_ready **pp = &c->ready_head, *prev = NULL;
	for (; *pp; prev = *pp, pp = &(*pp)->next) {
		mnv2c_ready *n = *pp;
		if (id != 0 && n->resp->request_id != id)
			continue;
		*pp = n->next;
		if (c->ready_tail == n)
			c->ready_tail = prev;
		mnv2c_response *r = n->resp;
		free(n);
		return r;
	}
	return NULL;
}

/* ---- incoming frames --------------------------------------------------------------- */

/* A frame for request_id 0 is about the connection itself (e.g. PERMISSION_DENIED sent
 * before closing): it becomes the sticky error. */
static mnv2c_code connection_error(mnv2c_client *c, const Mnv2__Response *m, mnv2c_error *err)
{
	if (m->status == MNV2__STATUS_CODE__STATUS_OK)
		return set_broken(c, err, MNV2C_ERR_PROTOCOL, 0,
				  "server sent an OK response for request_id 0");
	return set_broken(c, err, (mnv2c_code)m->status, 0, "%s",
			  m->message && *m->message ? m->message : "(the server gave no message)");
}

static mnv2c_code check_response(mnv2c_client *c, const Mnv2__Response *m,
				 mnv2c_outstanding_req **req, mnv2c_error *err)
{
	if (m->version != MNV2C_PROTOCOL_VERSION)
		return set_broken(c, err, MNV2C_ERR_PROTOCOL, 0,
				  "server speaks protocol version %u, this client version %u",
				  (unsigned)m->version, MNV2C_PROTOCOL_VERSION);
	if (m->request_id == 0)
		return connection_error(c, m, err);
	if (!(*req = find_req(c, m->request_id)))
		return set_broken(c, err, MNV2C_ERR_PROTOCOL, 0,
				  "server answered request_id %llu, which is not outstanding",
				  (unsigned long long)m->request_id);
	if (m->status == MNV2__STATUS_CODE__STATUS_OK &&
	    m->result_case != mnv2c__result_case((*req)->kind))
		return set_broken(c, err, MNV2C_ERR_PROTOCOL, 0,
				  "server answered request_id %llu with result field %d, "
				  "expected %d",
				  (unsigned long long)m->request_id, (int)m->result_case,
				  (int)mnv2c__result_case((*req)->kind));
	return MNV2C_OK;
}

static mnv2c_code handle_frame(mnv2c_client *c, const uint8_t *buf, size_t len,
			       mnv2c_error *err)
{
	Mnv2__Response *m = mnv2__response__unpack(NULL, len, buf);
	mnv2c_outstanding_req *req = NULL;
	mnv2c_response *resp = NULL;
	mnv2c_code rc;

	if (!m)
		return set_broken(c, err, MNV2C_ERR_PROTOCOL, 0,
				  "cannot decode a %zu-byte response frame as mnv2.Response", len);
	if ((rc = check_response(c, m, &req, err)) == MNV2C_OK && !req->abandoned)
		rc = mnv2c__convert_response(m, req->kind, &resp, err);
	if (rc == MNV2C_OK) {
		remove_req(c, req);
		mnv2c_ready *n = resp ? malloc(sizeof *n) : NULL;
		if (resp && !n) {
			mnv2c_response_free(resp);
			rc = mnv2c__fail(err, MNV2C_ERR_NOMEM, ENOMEM, "out of memory");
		} else if (n) {
			n->next = NULL;
			n->resp = resp;
			if (c->ready_tail)
				c->ready_tail->next = n;
			else
				c->ready_head = n;
			c->ready_tail = n;
		}
	}
	mnv2__response__free_unpacked(m, NULL);
	if (rc == MNV2C_ERR_NOMEM) /* the frame is lost: its caller would wait forever */
		return set_broken(c, err, rc, ENOMEM, "out of memory receiving a response");
	return rc;
}

/* Reads into dst; returns bytes read, 0 at EOF, -1 with errno (EAGAIN: nothing now). */
static ssize_t read_some(int fd, void *dst, size_t n)
{
	ssize_t got;
	do
		got = recv(fd, dst, n, MSG_DONTWAIT);
	while (got < 0 && errno == EINTR);
	return got;
}

static mnv2c_code eof_error(mnv2c_client *c, mnv2c_error *err)
{
	if (c->in)
		return set_broken(c, err, MNV2C_ERR_CLOSED, 0,
				  "server closed the connection in the middle of a frame "
				  "(%zu of %zu payload bytes received)",
				  c->in_got, c->in_len);
	if (c->hdr_got)
		return set_broken(c, err, MNV2C_ERR_CLOSED, 0,
				  "server closed the connection in the middle of a frame "
				  "(%zu of 4 length bytes received)",
				  c->hdr_got);
	return set_broken(c, err, MNV2C_ERR_CLOSED, 0, "server closed the connection");
}

/* Starts the payload of a frame whose 4 length bytes are in c->hdr. */
static mnv2c_code start_payload(mnv2c_client *c, mnv2c_error *err)
{
	size_t len = (size_t)c->hdr[0] << 24 | (size_t)c->hdr[1] << 16 | (size_t)c->hdr[2] << 8 |
		     c->hdr[3];
	if (len > c->max_frame)
		return set_broken(c, err, MNV2C_ERR_PROTOCOL, 0,
				  "response frame length %zu exceeds the limit of %zu bytes "
				  "(length bytes %02x %02x %02x %02x)",
				  len, c->max_frame, c->hdr[0], c->hdr[1], c->hdr[2], c->hdr[3]);
	if (!(c->in = malloc(len ? len : 1)))
		return set_broken(c, err, MNV2C_ERR_NOMEM, ENOMEM,
				  "out of memory for a %zu-byte response frame", len);
	c->in_len = len;
	c->in_got = 0;
	return MNV2C_OK;
}

/* Reads and handles every frame the socket has now. */
static mnv2c_code read_frames(mnv2c_client *c, mnv2c_error *err)
{
	for (;;) {
		int in_header = c->in == NULL;
		uint8_t *dst = in_header ? c->hdr + c->hdr_got : c->in + c->in_got;
		size_t want = in_header ? 4 - c->hdr_got : c->in_len - c->in_got;
		ssize_t got = want ? read_some(c->fd, dst, want) : 0;
		if (want && got == 0)
			return eof_error(c, err);
		if (got < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return MNV2C_OK;
			int e = errno;
			return set_broken(c, err, e == ECONNRESET ? MNV2C_ERR_CLOSED : MNV2C_ERR_IO,
					  e, "reading from the server: %s", strerror(e));
		}
		mnv2c_code rc = MNV2C_OK;
		if (in_header) {
			c->hdr_got += (size_t)got;
			if (c->hdr_got == 4 && (rc = start_payload(c, err)) != MNV2C_OK)
				return rc;
		} else {
			c->in_got += (size_t)got;
		}
		if (c->in && c->in_got == c->in_len) {
			rc = handle_frame(c, c->in, c->in_len, err);
			free(c->in);
			c->in = NULL;
			c->hdr_got = 0;
			if (rc != MNV2C_OK)
				return rc;
		}
	}
}

/* ---- outgoing bytes ---------------------------------------------------------------- */

/* send() of out[out_off, end), with the descriptor fd (>= 0) as SCM_RIGHTS. */
static ssize_t send_chunk(mnv2c_client *c, size_t end, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {c->out + c->out_off, end - c->out_off};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&ctl, 0, sizeof ctl);
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof ctl.buf;
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	return sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* Closes our duplicate of the first pending descriptor (it was sent). */
static void pop_fd(mnv2c_client *c)
{
	close(c->fds[0].fd);
	memmove(c->fds, c->fds + 1, (c->n_fds - 1) * sizeof *c->fds);
	c->n_fds--;
}

static mnv2c_code write_some(mnv2c_client *c, mnv2c_error *err)
{
	while (c->out_off < c->out_len) {
		/* a frame with a descriptor starts its own sendmsg, which carries it; plain
		 * bytes before it stop short of it */
		int with_fd = c->n_fds && c->fds[0].pos == c->out_off;
		size_t end = c->out_len;
		if (c->n_fds > (size_t)with_fd)
			end = c->fds[with_fd].pos;
		ssize_t n = send_chunk(c, end, with_fd ? c->fds[0].fd : -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return MNV2C_OK;
		if (n < 0) {
			int e = errno;
			/* The server may have said why before closing: read that first. */
			(void)read_frames(c, NULL);
			return set_broken(c, err,
					  e == EPIPE || e == ECONNRESET ? MNV2C_ERR_CLOSED
									: MNV2C_ERR_IO,
					  e, "writing to the server: %s", strerror(e));
		}
		if (with_fd)
			pop_fd(c);
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	return MNV2C_OK;
}

mnv2c_code mnv2c__io(mnv2c_client *c, int64_t deadline, mnv2c_error *err)
{
	if (c->broken.code != MNV2C_OK) {
		mnv2c__copy_error(err, &c->broken);
		return c->broken.code;
	}
	struct pollfd pfd = {c->fd, mnv2c_events(c), 0};
	int n;
	do
		n = poll(&pfd, 1, mnv2c__remaining(deadline));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;
		return mnv2c__fail(err, MNV2C_ERR_IO, e, "poll: %s", strerror(e));
	}
	if (n == 0)
		return mnv2c__fail(err, MNV2C_ERR_TIMEOUT, 0, "no response within the timeout");
	mnv2c_code rc = MNV2C_OK;
	if (pfd.revents & (POLLOUT | POLLERR | POLLHUP))
		rc = write_some(c, err);
	if (rc == MNV2C_OK && pfd.revents & (POLLIN | POLLERR | POLLHUP))
		rc = read_frames(c, err);
	return rc;
}

mnv2c_code mnv2c__send(mnv2c_client *c, mnv2c_request_kind kind, const mnv2c_image *img,
		       const mnv2c_options *opt, int64_t deadline, uint64_t *id,
		       mnv2c_error *err)
{
	mnv2c_code rc;
	if (c->broken.code != MNV2C_OK) {
		mnv2c__copy_error(err, &c->broken);
		return c->broken.code;
	}
	/* Make room first, reading responses meanwhile so the server can keep writing. */
	while (c->out_len - c->out_off > c->max_pending)
		if ((rc = mnv2c__io(c, deadline, err)) != MNV2C_OK)
			return rc;
	if (add_req(c, c->next_id, kind) != 0)
		return mnv2c__fail(err, MNV2C_ERR_NOMEM, ENOMEM, "out of memory");
	if ((rc = mnv2c__encode_request(c, c->next_id, kind, img, opt, err)) != MNV2C_OK) {
		c->n_reqs--; /* the entry just added */
		return rc;
	}
	if (id)
		*id = c->next_id;
	c->next_id++;
	/* Push what the socket takes now; a failure here is sticky and reported later. */
	(void)write_some(c, NULL);
	mnv2c__ok(err);
	return MNV2C_OK;
}
