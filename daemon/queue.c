/* queue — see queue.h. */
#include "queue.h"

int mnv2d_queue_init(mnv2d_queue *q, size_t capacity)
{
	*q = (mnv2d_queue){ .capacity = capacity };
	if (pthread_mutex_init(&q->lock, NULL))
		return -1;
	if (pthread_cond_init(&q->nonempty, NULL)) {
		pthread_mutex_destroy(&q->lock);
		return -1;
	}
	return 0;
}

void mnv2d_queue_destroy(mnv2d_queue *q)
{
	pthread_cond_destroy(&q->nonempty);
	pthread_mutex_destroy(&q->lock);
}

static void unlink_job(mnv2d_queue *q, mnv2d_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		q->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		q->tail = j->prev;
	j->prev = j->next = NULL;
	q->depth--;
}

int mnv2d_queue_push(mnv2d_queue *q, mnv2d_job *j)
{
	pthread_mutex_lock(&q->lock);
	if (q->closed || q->depth >= q->capacity) {
		pthread_mutex_unlock(&q->lock);
		return -1;
	}
	j->next = NULL;
	j->prev = q->tail;
	if (q->tail)
		q->tail->next = j;
	else
		q->head = j;
	q->tail = j;
	if (++q->depth > q->high_water)
		q->high_water = q->depth;
	pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

mnv2d_job *mnv2d_queue_pop(mnv2d_queue *q)
{
	pthread_mutex_lock(&q->lock);
	while (!q->head && !q->closed)
		pthread_cond_wait(&q->nonempty, &q->lock);
	mnv2d_job *j = q->head;
	if (j)
		unlink_job(q, j);
	pthread_mutex_unlock(&q->lock);
	return j;
}

mnv2d_job *mnv2d_queue_cancel(mnv2d_queue *q, const void *owner)
{
	mnv2d_job *out = NULL, **tail = &out;
	pthread_mutex_lock(&q->lock);
	for (mnv2d_job *j = q->head, *next; j; j = next) {
		next = j->next;
		if (j->owner != owner)
			continue;
		unlink_job(q, j);
		*tail = j;
		tail = &j->next;
	}
	pthread_mutex_unlock(&q->lock);
	return out;
}

void mnv2d_queue_close(mnv2d_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->nonempty);
	pthread_mutex_unlock(&q->lock);
}

void mnv2d_queue_counts(mnv2d_queue *q, size_t *depth, size_t *capacity, size_t *high_water)
{
	pthread_mutex_lock(&q->lock);
	*depth = q->depth;
	*capacity = q->capacity;
	*high_water = q->high_water;
	pthread_mutex_unlock(&q->lock);
}
