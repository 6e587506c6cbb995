/* workers — a persistent pool of threads for splitting one operator over several cores.
 *
 * mnv2_workers_create(n) starts n - 1 threads; the caller of mnv2_workers_run() is part 0.
 * A run hands every thread the same function and argument, each calls fn(arg, part) for
 * its own part, and the run returns when all parts are done. Threads spin briefly between
 * runs (ops follow each other within microseconds) and then sleep on a condition
 * variable, so an idle pool costs no CPU. Runs allocate nothing. One thread at a time may
 * call mnv2_workers_run() on a pool (it belongs to one context). */
#ifndef MNV2_WORKERS_H
#define MNV2_WORKERS_H

#define MNV2_MAX_THREADS 64

typedef struct mnv2_workers mnv2_workers;
typedef void (*mnv2_work_fn)(void *arg, int part);

/* NULL when threads cannot be created (errno-style reason in *why, may be NULL). */
mnv2_workers *mnv2_workers_create(int n, int *why);
void mnv2_workers_free(mnv2_workers *w);
int mnv2_workers_count(const mnv2_workers *w);
void mnv2_workers_run(mnv2_workers *w, mnv2_work_fn fn, void *arg);

#endif
