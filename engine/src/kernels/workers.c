/* workers — see workers.h.
 *
 * A run publishes fn/arg, sets `pending` to the number of threads and bumps the atomic
 * generation `gen` (release); threads waiting for a new generation spin on it, then sleep
 * on cv_work after re-checking it under the mutex. The runner always broadcasts cv_work
 * under the mutex after the bump, so a thread that decided to sleep cannot miss it. Each
 * thread decrements `pending` (acq_rel) when its part is done; the last one broadcasts
 * cv_done under the mutex, and the runner waits for pending == 0 the same way. */
#include "workers.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SPIN 2000 /* polls before sleeping: some tens of microseconds */

struct mnv2_workers {
	int n;
	pthread_t *threads;
	pthread_mutex_t mu;
	pthread_cond_t cv_work, cv_done;
	atomic_uint gen;
	atomic_int pending;
	atomic_int stop;
	mnv2_work_fn fn;           /* written before gen is bumped, read after it is seen */
	void *arg;
};

typedef struct start {
	mnv2_workers *w;
	int part;
} start;

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Waits until gen differs from `seen` or stop is set; returns the new generation. */
static unsigned wait_work(mnv2_workers *w, unsigned seen)
{
	unsigned g;
	for (int i = 0; i < SPIN; i++) {
		g = atomic_load_explicit(&w->gen, memory_order_acquire);
		if (g != seen || atomic_load_explicit(&w->stop, memory_order_acquire))
			return g;
		relax();
	}
	pthread_mutex_lock(&w->mu);
	while ((g = atomic_load_explicit(&w->gen, memory_order_acquire)) == seen &&
	       !atomic_load_explicit(&w->stop, memory_order_acquire))
		pthread_cond_wait(&w->cv_work, &w->mu);
	pthread_mutex_unlock(&w->mu);
	return g;
}

static void *thread_main(void *p)
{
	start *s = p;
	mnv2_workers *w = s->w;
	int part = s->part;
	free(s);
	unsigned seen = 0;
	for (;;) {
		seen = wait_work(w, seen);
		if (atomic_load_explicit(&w->stop, memory_order_acquire))
			return NULL;
		w->fn(w->arg, part);
		if (atomic_fetch_sub_explicit(&w->pending, 1, memory_order_acq_rel) == 1) {
			pthread_mutex_lock(&w->mu);
			pthread_cond_broadcast(&w->cv_done);
			pthread_mutex_unlock(&w->mu);
		}
	}
}

static void stop_threads(mnv2_workers *w, int started)
{
	pthread_mutex_lock(&w->mu);
	atomic_store_explicit(&w->stop, 1, memory_order_release);
	pthread_cond_broadcast(&w->cv_work);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i < started; i++)
		pthread_join(w->threads[i], NULL);
}

mnv2_workers *mnv2_workers_create(int n, int *why)
{
	int err = EINVAL;
	mnv2_workers *w = NULL;
	if (n < 1 || n > MNV2_MAX_THREADS || !(w = calloc(1, sizeof *w)) ||
	    !(w->threads = calloc((size_t)n, sizeof *w->threads))) {
		err = w ? ENOMEM : err;
		goto fail;
	}
	w->n = n;
	atomic_init(&w->gen, 0);
	atomic_init(&w->pending, 0);
	atomic_init(&w->stop, 0);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv_work, NULL);
	pthread_cond_init(&w->cv_done, NULL);
	for (int i = 0; i < n - 1; i++) {
		start *s = malloc(sizeof *s);
		if (s) {
			*s = (start){ w, i + 1 };
			err = pthread_create(&w->threads[i], NULL, thread_main, s);
		}
		if (!s || err) {
			free(s);
			err = s ? err : ENOMEM;
			stop_threads(w, i);
			pthread_mutex_destroy(&w->mu);
			pthread_cond_destroy(&w->cv_work);
			pthread_cond_destroy(&w->cv_done);
			goto fail;
		}
	}
	return w;
fail:
	if (w)
		free(w->threads);
	free(w);
	if (why)
		*why = err;
	return NULL;
}

void mnv2_workers_free(mnv2_workers *w)
{
	if (!w)
		return;
	stop_threads(w, w->n - 1);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv_work);
	pthread_cond_destroy(&w->cv_done);
	free(w->threads);
	free(w);
}

int mnv2_workers_count(const mnv2_workers *w) { return w ? w->n : 1; }

void mnv2_workers_run(mnv2_workers *w, mnv2_work_fn fn, void *arg)
{
	if (!w || w->n == 1) {
		fn(arg, 0);
		return;
	}
	w->fn = fn;
	w->arg = arg;
	atomic_store_explicit(&w->pending, w->n - 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&w->gen, 1, memory_order_release);
	pthread_mutex_lock(&w->mu);
	pthread_cond_broadcast(&w->cv_work);
	pthread_mutex_unlock(&w->mu);
	fn(arg, 0);
	for (int i = 0; i < SPIN; i++) {
		if (atomic_load_explicit(&w->pending, memory_order_acquire) == 0)
			return;
		relax();
	}
	pthread_mutex_lock(&w->mu);
	while (atomic_load_explicit(&w->pending, memory_order_acquire) != 0)
		pthread_cond_wait(&w->cv_done, &w->mu);
	pthread_mutex_unlock(&w->mu);
}
