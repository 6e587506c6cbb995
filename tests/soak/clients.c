/* clients — see soak.h. */
#include "soak.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

const char *const soak_bad_names[BAD_KINDS] = {
	"garbage frame", "truncated frame, then close", "oversized length", "corrupt PNG",
	"corrupt JPEG", "not an image", "unknown model", "wrong model kind", "bad version",
	"raw frame too short", "PNG over max_image_pixels", "no body", "bad option",
};

typedef struct client {
	soak_load *l;
	int index;
	uint32_t rng;
	uint64_t next_id;
} client;

/* Whether to go on; while the load is paused, it waits here, between requests. */
static int running(const client *c)
{
	while (atomic_load(&c->l->pause) && !atomic_load(&c->l->stop))
		soak_sleep_ms(5);
	return !atomic_load(&c->l->stop) && soak_now_ms() < c->l->end_ms;
}

static int connect_or_wait(client *c)
{
	int fd = td_connect(c->l->sock, 2000);
	if (fd >= 0) {
		atomic_fetch_add(&c->l->n.connects, 1);
		return fd;
	}
	atomic_fetch_add(&c->l->n.connect_refused, 1);
	if (!atomic_load(&c->l->sock_gone) && running(c))
		soak_fail("client %d: cannot connect to %s: %s", c->index, c->l->sock,
			  strerror(errno));
	soak_sleep_ms(50);
	return -1;
}

/* ---- valid clients: pipelined requests, every answer compared ---- */

typedef struct pending {
	uint64_t id;
	const soak_entry *e;   /* NULL: a Status/ListModels */
} pending;

static int send_status(client *c, int fd, pending *p)
{
	Mnv2__Request r;
	Mnv2__StatusRequest st;
	Mnv2__ListModelsRequest lm;
	mnv2__status_request__init(&st);
	mnv2__list_models_request__init(&lm);
	td_request(&r, p->id = ++c->next_id);
	if (soak_rand(&c->rng) & 1) {
		r.body_case = MNV2__REQUEST__BODY_STATUS;
		r.status = &st;
	} else {
		r.body_case = MNV2__REQUEST__BODY_LIST_MODELS;
		r.list_models = &lm;
	}
	p->e = NULL;
	return td_send(fd, &r);
}

/* One batch on fd: 0, or -1 when the connection is no longer usable. */
static int valid_batch(client *c, int fd)
{
	soak_counts *n = &c->l->n;
	const soak_catalog *cat = c->l->cat;
	pending p[SOAK_PIPELINE + 1];
	int k = 1 + (int)(soak_rand(&c->rng) % SOAK_PIPELINE), sent = 0;
	for (int i = 0; i < k; i++) {
		const soak_entry *e = &cat->e[soak_rand(&c->rng) % cat->n];
		/* real models are slow: one request in four that would use one does */
		if (e->real && soak_rand(&c->rng) % 4)
			e = &cat->e[soak_rand(&c->rng) % cat->n];
		td_image_req q;
		p[sent] = (pending){ ++c->next_id, e };
		soak_entry_request(e, &q, p[sent].id);
		if (td_send(fd, &q.req))
			break;
		atomic_fetch_add(&n->valid_sent, 1);
		sent++;
	}
	if (sent == k && soak_rand(&c->rng) % 8 == 0 && !send_status(c, fd, &p[sent]))
		sent++;
	int failed = sent < k;
	for (int left = sent; left > 0; left--) {
		int eof = 0;
		Mnv2__Response *r = td_recv(fd, SOAK_REPLY_MS, &eof);
		if (!r) {
			for (int i = 0; i < sent; i++)
				if (p[i].id && p[i].e)
					atomic_fetch_add(&n->valid_lost, 1);
			soak_fail("client %d: %d answers missing (%s)", c->index, left,
				  eof ? "connection closed by the server" : "timeout");
			return -1;
		}
		atomic_fetch_add(&n->responses, 1);
		int i = 0;
		while (i < sent && p[i].id != r->request_id)
			i++;
		if (i == sent) {
			soak_fail("client %d: an answer to request %llu, which it did not send",
				  c->index, (unsigned long long)r->request_id);
		} else if (!p[i].e) {
			if (r->status != MNV2__STATUS_CODE__STATUS_OK)
				soak_fail("client %d: status/models: %s", c->index, r->message);
			atomic_fetch_add(&n->other_ok, 1);
		} else if (r->status == MNV2__STATUS_CODE__STATUS_RESOURCE_EXHAUSTED) {
			atomic_fetch_add(&n->valid_retried, 1);   /* answered: back off */
			soak_sleep_ms(20);
		} else {
			char why[300];
			if (soak_entry_check(p[i].e, r, why, sizeof why)) {
				atomic_fetch_add(&n->valid_ok, 1);
			} else {
				atomic_fetch_add(&n->valid_wrong, 1);
				soak_fail("client %d: %s", c->index, why);
			}
		}
		if (i < sent)
			p[i].id = 0;
		mnv2__response__free_unpacked(r, NULL);
	}
	if (failed)
		soak_fail("client %d: could not send a request", c->index);
	return failed ? -1 : 0;
}

static void *valid_client(void *arg)
{
	client *c = arg;
	int fd = -1, budget = 0;
	while (running(c)) {
		if (fd < 0 && (fd = connect_or_wait(c)) < 0)
			continue;
		if (budget <= 0)
			budget = 5 + (int)(soak_rand(&c->rng) % 100);
		if (valid_batch(c, fd) || --budget <= 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* ---- invalid clients: every kind of bad input, each answer checked ---- */

static void put_len(uint8_t *h, uint32_t n)
{
	h[0] = (uint8_t)(n >> 24);
	h[1] = (uint8_t)(n >> 16);
	h[2] = (uint8_t)(n >> 8);
	h[3] = (uint8_t)n;
}

/* A copy of the catalog's PNG whose header says 50000 x 50000 (CRC fixed). */
static uint8_t *huge_png(const soak_catalog *cat, size_t *len)
{
	uint8_t *p = malloc(cat->png_len);
	if (!p || cat->png_len < 33)
		return p;
	memcpy(p, cat->png, cat->png_len);
	put_len(p + 16, 50000);
	put_len(p + 20, 50000);
	put_len(p + 29, (uint32_t)crc32(0, p + 12, 17));
	*len = cat->png_len;
	return p;
}

typedef struct expect {
	int code;              /* -1: the server closes the connection; -2: nothing */
	const char *needle;    /* in the message */
	int id0;               /* the answer has request_id 0 */
} expect;

static int bad_request(client *c, int kind, int fd, expect *x, uint8_t *scratch)
{
	const soak_catalog *cat = c->l->cat;
	uint64_t id = ++c->next_id;
	td_image_req q;
	const uint8_t *grad = cat->e[0].data;   /* the gradient frame */
	Mnv2__StatusRequest st;
	mnv2__status_request__init(&st);
	*x = (expect){ MNV2__STATUS_CODE__STATUS_INVALID_ARGUMENT, "image: ", 0 };
	switch (kind) {
	case BAD_CORRUPT_PNG:
		td_encoded_request(&q, 0, id, "cls", cat->png, cat->png_len / 2);
		break;
	case BAD_CORRUPT_JPEG:
		td_encoded_request(&q, 1, id, "det", cat->jpeg, cat->jpeg_len * 2 / 3);
		break;
	case BAD_NOT_IMAGE:
		for (int i = 0; i < 64; i++)
			scratch[i] = (uint8_t)soak_rand(&c->rng);
		td_encoded_request(&q, 0, id, "", scratch, 64);
		break;
	case BAD_UNKNOWN_MODEL:
		td_encoded_request(&q, 0, id, "no-such-model", cat->png, cat->png_len);
		*x = (expect){ MNV2__STATUS_CODE__STATUS_NOT_FOUND, "no model named", 0 };
		break;
	case BAD_WRONG_KIND:
		td_encoded_request(&q, 1, id, "cls", cat->png, cat->png_len);
		x->needle = "is a classifier";
		break;
	case BAD_VERSION:
		td_request(&q.req, id);
		q.req.version = 7;
		q.req.body_case = MNV2__REQUEST__BODY_STATUS;
		q.req.status = &st;
		x->needle = "unsupported protocol version 7";
		break;
	case BAD_RAW_SHORT:
		td_raw_request(&q, 0, id, "cls", MNV2__PIXEL_FORMAT__PIXEL_FORMAT_RGB888, 64, 48,
			       grad, 100);
		break;
	case BAD_HUGE_PNG: {
		size_t n = 0;
		uint8_t *p = huge_png(cat, &n);
		if (!p)
			return -1;
		memcpy(scratch, p, n < 65536 ? n : 65536);
		free(p);
		td_encoded_request(&q, 0, id, "cls", scratch, n < 65536 ? n : 65536);
		x->needle = "over the limit";
		break;
	}
	case BAD_NO_BODY:
		td_request(&q.req, id);
		x->needle = "no body";
		break;
	default:   /* BAD_BAD_OPTION */
		td_raw_request(&q, 0, id, "cls", MNV2__PIXEL_FORMAT__PIXEL_FORMAT_RGB888, 64, 48,
			       grad, 64 * 48 * 3);
		q.opts.score_threshold = 2.0f;
		q.cls.options = &q.opts;
		x->needle = "score_threshold";
		break;
	}
	return td_send(fd, &q.req);
}

/* Raw framing faults: garbage, truncated, oversized. */
static int bad_framing(client *c, int kind, int fd, expect *x, uint8_t *scratch)
{
	uint32_t n = 1 + soak_rand(&c->rng) % 200;
	if (kind == BAD_GARBAGE) {
		put_len(scratch, n);
		for (uint32_t i = 0; i < n; i++)
			scratch[4 + i] = (uint8_t)soak_rand(&c->rng);
		scratch[4] = 0xff;   /* wire type 7: never a valid message */
		*x = (expect){ MNV2__STATUS_CODE__STATUS_INVALID_ARGUMENT, "does not decode", 1 };
		return td_write_all(fd, scratch, 4 + n, 5000);
	}
	if (kind == BAD_OVERSIZED) {
		put_len(scratch, 0xfffffff0u);
		*x = (expect){ -1, NULL, 0 };
		return td_write_all(fd, scratch, 4 + n, 5000);
	}
	put_len(scratch, 1000);   /* BAD_TRUNCATED: fewer bytes, then the client goes */
	memset(scratch + 4, 0x08, n);
	*x = (expect){ -2, NULL, 0 };
	return td_write_all(fd, scratch, 4 + n, 5000);
}

static void check_bad(client *c, int kind, int fd, const expect *x)
{
	soak_counts *n = &c->l->n;
	if (x->code == -2)
		return;
	if (x->code == -1) {
		if (!td_wait_closed(fd, 10000)) {
			atomic_fetch_add(&n->bad_unexpected, 1);
			soak_fail("client %d: %s: the connection stayed open", c->index,
				  soak_bad_names[kind]);
		}
		return;
	}
	Mnv2__Response *r = td_recv(fd, SOAK_REPLY_MS, NULL);
	if (r)
		atomic_fetch_add(&n->responses, 1);
	if (!r || (int)r->status != x->code || !strstr(r->message, x->needle) ||
	    (x->id0 && r->request_id != 0) || (!x->id0 && r->request_id != c->next_id)) {
		atomic_fetch_add(&n->bad_unexpected, 1);
		soak_fail("client %d: %s: answered %d '%s' (request %llu), expected %d '%s'",
			  c->index, soak_bad_names[kind], r ? (int)r->status : -1,
			  r ? r->message : "(nothing)", r ? (unsigned long long)r->request_id : 0ull,
			  x->code, x->needle);
	}
	if (r)
		mnv2__response__free_unpacked(r, NULL);
}

static void *invalid_client(void *arg)
{
	client *c = arg;
	uint8_t *scratch = malloc(65536 + 8);
	int fd = -1;
	while (scratch && running(c)) {
		if (fd < 0 && (fd = connect_or_wait(c)) < 0)
			continue;
		int kind = (int)(soak_rand(&c->rng) % BAD_KINDS);
		expect x;
		int rc = kind <= BAD_OVERSIZED ? bad_framing(c, kind, fd, &x, scratch)
					       : bad_request(c, kind, fd, &x, scratch);
		atomic_fetch_add(&c->l->n.bad_tried[kind], 1);
		if (rc) {
			if (running(c) && !atomic_load(&c->l->stop))
				soak_fail("client %d: %s: cannot send", c->index,
					  soak_bad_names[kind]);
		} else {
			check_bad(c, kind, fd, &x);
		}
		if (rc || x.code < 0) {
			close(fd);
			fd = -1;
		}
	}
	if (fd >= 0)
		close(fd);
	free(scratch);
	return NULL;
}

/* ---- clients killed mid-request (forked children, SIGKILL) ---- */

static void *killer_client(void *arg)
{
	client *c = arg;
	const soak_catalog *cat = c->l->cat;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", c->l->sock);
	const soak_entry *slow = &cat->e[0];
	for (size_t i = 0; i < cat->n; i++)
		if (!strcmp(cat->e[i].model, TD_SLOW))
			slow = &cat->e[i];
	while (running(c)) {
		/* a valid request to the slow model, sent whole or cut short */
		td_image_req q;
		soak_entry_request(slow, &q, 1);
		size_t len = mnv2__request__get_packed_size(&q.req);
		uint8_t *frame = malloc(len + 4);
		if (!frame)
			break;
		put_len(frame, (uint32_t)len);
		mnv2__request__pack(&q.req, frame + 4);
		size_t part = soak_rand(&c->rng) % 2 ? len + 4 : 4 + soak_rand(&c->rng) % len;
		pid_t pid = fork();
		if (pid == 0) {   /* async-signal-safe calls only */
			int fd = socket(AF_UNIX, SOCK_STREAM, 0);
			if (fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof a) &&
			    write(fd, frame, part) >= 0)
				pause();
			_exit(0);
		}
		free(frame);
		if (pid < 0) {
			soak_fail("client %d: fork: %s", c->index, strerror(errno));
			break;
		}
		soak_sleep_ms(1 + soak_rand(&c->rng) % 40);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		atomic_fetch_add(&c->l->n.killed, 1);
		soak_sleep_ms(20);
	}
	return NULL;
}

/* ---- clients that stop reading ---- */

static void *stopped_reader(void *arg)
{
	client *c = arg;
	const soak_catalog *cat = c->l->cat;
	while (running(c)) {
		int fd = connect_or_wait(c);
		if (fd < 0)
			continue;
		atomic_fetch_add(&c->l->n.slow_readers, 1);
		int64_t until = soak_now_ms() + 1000 + soak_rand(&c->rng) % 3000;
		int status_flood = soak_rand(&c->rng) % 2;
		int disconnected = 0;
		for (int i = 0; !disconnected && soak_now_ms() < until && running(c); i++) {
			td_image_req q;
			Mnv2__StatusRequest st;
			mnv2__status_request__init(&st);
			if (status_flood) {   /* answers pile up until the output limit */
				td_request(&q.req, ++c->next_id);
				q.req.body_case = MNV2__REQUEST__BODY_STATUS;
				q.req.status = &st;
			} else if (i < 8) {   /* a few real requests, never read */
				soak_entry_request(&cat->e[soak_rand(&c->rng) % cat->n], &q,
						   ++c->next_id);
			} else {
				soak_sleep_ms(50);
				continue;
			}
			if (td_send(fd, &q.req))
				disconnected = 1;
		}
		if (status_flood && !disconnected && td_wait_closed(fd, 1))
			disconnected = 1;
		if (disconnected)
			atomic_fetch_add(&c->l->n.slow_disconnected, 1);
		close(fd);
	}
	return NULL;
}

/* ---- the load ---- */

int soak_load_start(soak_load *l)
{
	l->threads = calloc((size_t)l->clients, sizeof *l->threads);
	client *cs = calloc((size_t)l->clients, sizeof *cs);
	l->priv = cs;
	if (!l->threads || !cs)
		return -1;
	int invalid = l->clients * 3 / 16, killers = l->clients * 3 / 32,
	    stoppers = l->clients * 3 / 32;
	for (int i = 0; i < l->clients; i++) {
		cs[i] = (client){ .l = l, .index = i, .rng = 0x1234567u * (uint32_t)(i + 1) };
		void *(*fn)(void *) = i < invalid ? invalid_client
				    : i < invalid + killers ? killer_client
				    : i < invalid + killers + stoppers ? stopped_reader
				    : valid_client;
		if (pthread_create(&l->threads[i], NULL, fn, &cs[i])) {
			atomic_store(&l->stop, 1);
			return -1;
		}
		l->started = i + 1;
	}
	return 0;
}

void soak_load_join(soak_load *l)
{
	for (int i = 0; i < l->started; i++)
		pthread_join(l->threads[i], NULL);
	free(l->priv);
	free(l->threads);
	l->priv = NULL;
	l->threads = NULL;
	l->started = 0;
}
