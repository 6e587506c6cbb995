/* budget — one CPU budget shared by the inference workers and the threads inside each
 * inference, so the board is never oversubscribed.
 *
 * Contract:
 *  - mnv2d_budget_cpus() counts the CPUs this process may run on (its affinity mask, which
 *    systemd's CPUAffinity= and cpusets narrow); at least 1.
 *  - mnv2d_budget_plan() decides: budget = cpu_budget, or the CPU count when it is 0 (auto);
 *    intra-op threads = intra_op_threads, or budget / workers (at least 1) when it is 0
 *    (auto); an explicit intra_op_threads whose product with the workers exceeds the budget
 *    is lowered to budget / workers (at least 1). Workers are never changed (the operator
 *    chose them). Each adjustment or overcommit is described in `note` (one line; empty
 *    when there is nothing to say) for the caller to log as a warning.
 *  - Pure: no I/O, no globals; the unit tests drive it with any CPU count. */
#ifndef MNV2D_BUDGET_H
#define MNV2D_BUDGET_H

#include <stddef.h>

typedef struct mnv2d_budget {
	unsigned cpus;     /* CPUs the budget allows */
	unsigned workers;  /* inference workers */
	unsigned intra;    /* threads inside one inference (1: the worker alone) */
} mnv2d_budget;

unsigned mnv2d_budget_cpus(void);

/* Returns 1 when `note` (notelen >= 1 bytes) says something worth a warning, else 0. */
int mnv2d_budget_plan(unsigned avail_cpus, unsigned cpu_budget, unsigned workers,
		      unsigned intra_op_threads, mnv2d_budget *out, char *note, size_t notelen);

#endif
