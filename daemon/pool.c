/* pool — see pool.h. */
#include "pool.h"

#include "clock.h"
#include "reply.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct mnv2d_worker {
	mnv2d_pool *pool;
	size_t index;
	pthread_t thread;
	atomic_int_least64_t busy_since;
};

static void complete(mnv2d_pool *p, mnv2d_job *j)
{
	pthread_mutex_lock(&p->done_lock);
	int was_empty = !p->done_head;
	j->next = NULL;
	j->prev = p->done_tail;
	if (p->done_tail)
		p->done_tail->next = j;
	else
		p->done_head = j;
	p->done_tail = j;
	pthread_mutex_unlock(&p->done_lock);
	if (was_empty) {
		uint64_t one = 1;
		/* eventfd writes only fail when the counter would overflow: it is then set */
		while (write(p->wake_fd, &one, sizeof one) < 0 && errno == EINTR)
			;
	}
}

/* The test hook: a worker stuck on one request, as a hung inference would be. */
static void wedge(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *worker_main(void *arg)
{
	mnv2d_worker *w = arg;
	mnv2d_pool *p = w->pool;
	mnv2d_job *j;
	while ((j = mnv2d_queue_pop(p->queue))) {
		int64_t t = mnv2d_now_us();
		atomic_store(&w->busy_since, t);
		if (p->limits.test_wedge_ms &&
		    (!p->limits.test_wedge_model[0] ||
		     !strcmp(p->limits.test_wedge_model, j->set->models[j->model].name)))
			wedge(p->limits.test_wedge_ms);
		mnv2d_fdframe frame;
		unsigned st = mnv2d_infer_run(j, w->index, &p->limits, t, &frame);
		if (st == MNV2__STATUS_CODE__STATUS_INTERNAL)
			LOG_WARN(p->log, "worker %zu: request %llu on model '%s' failed: INTERNAL",
				 w->index, (unsigned long long)j->request_id,
				 j->set->models[j->model].name);
		complete(p, j);
		/* the reply is on its way; now the frame's pages (0.1 ms for 1080p NV12) */
		mnv2d_fdframe_unmap(&frame);
		atomic_store(&w->busy_since, 0);
	}
	return NULL;
}

int mnv2d_pool_start(mnv2d_pool *p, size_t n, mnv2d_queue *q, const mnv2d_limits *lim,
		     const mnv2d_log *log, char *err, size_t errlen)
{
	*p = (mnv2d_pool){ .queue = q, .limits = *lim, .log = log, .n = n, .wake_fd = -1 };
	if (pthread_mutex_init(&p->done_lock, NULL)) {
		snprintf(err, errlen, "cannot create a mutex");
		return -1;
	}
	p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	p->workers = calloc(n ? n : 1, sizeof *p->workers);
	if (p->wake_fd < 0 || !p->workers) {
		snprintf(err, errlen, "cannot start workers: %s", strerror(errno));
		mnv2d_pool_free(p);
		return -1;
	}
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (size_t i = 0; i < n; i++) {
		mnv2d_worker *w = &p->workers[i];
		w->pool = p;
		w->index = i;
		atomic_init(&w->busy_since, 0);
		int rc = pthread_create(&w->thread, NULL, worker_main, w);
		if (rc) {
			snprintf(err, errlen, "cannot start worker %zu: %s", i, strerror(rc));
			break;
		}
		p->started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (p->started < n) {
		mnv2d_queue_close(q);
		mnv2d_pool_free(p);
		return -1;
	}
	return 0;
}

int mnv2d_pool_fd(const mnv2d_pool *p)
{
	return p->wake_fd;
}

mnv2d_job *mnv2d_pool_take(mnv2d_pool *p)
{
	uint64_t v;
	while (read(p->wake_fd, &v, sizeof v) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&p->done_lock);
	mnv2d_job *j = p->done_head;
	p->done_head = p->done_tail = NULL;
	pthread_mutex_unlock(&p->done_lock);
	return j;
}

void mnv2d_pool_join(mnv2d_pool *p)
{
	for (size_t i = 0; i < p->started; i++)
		pthread_join(p->workers[i].thread, NULL);
	p->started = 0;
}

void mnv2d_pool_free(mnv2d_pool *p)
{
	mnv2d_pool_join(p);
	for (mnv2d_job *j = p->done_head, *next; j; j = next) {
		next = j->next;
		mnv2d_job_free(j);
	}
	p->done_head = p->done_tail = NULL;
	free(p->workers);
	p->workers = NULL;
	if (p->wake_fd >= 0)
		close(p->wake_fd);
	p->wake_fd = -1;
	pthread_mutex_destroy(&p->done_lock);
}

int64_t mnv2d_pool_oldest_busy(const mnv2d_pool *p)
{
	int64_t oldest = 0;
	for (size_t i = 0; i < p->started; i++) {
		int64_t t = atomic_load(&p->workers[i].busy_since);
		if (t && (!oldest || t < oldest))
			oldest = t;
	}
	return oldest;
}
