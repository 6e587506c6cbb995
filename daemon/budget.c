/* budget — the shared CPU budget of workers and intra-op threads; see budget.h. */
#include "budget.h"

#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

unsigned mnv2d_budget_cpus(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof set, &set) == 0) {
		int n = CPU_COUNT(&set);
		if (n > 0)
			return (unsigned)n;
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* Appends a sentence to note, after "; " when it already says something. */
static void say(char *note, size_t notelen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(char *note, size_t notelen, const char *fmt, ...)
{
	size_t used = strnlen(note, notelen);
	if (used + 3 >= notelen)
		return;
	if (used) {
		memcpy(note + used, "; ", 3);
		used += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(note + used, notelen - used, fmt, ap);
	va_end(ap);
}

int mnv2d_budget_plan(unsigned avail_cpus, unsigned cpu_budget, unsigned workers,
		      unsigned intra_op_threads, mnv2d_budget *out, char *note, size_t notelen)
{
	unsigned cpus = cpu_budget ? cpu_budget : (avail_cpus ? avail_cpus : 1);
	unsigned fair = workers && cpus / workers ? cpus / workers : 1;
	unsigned long long need = (unsigned long long)workers * intra_op_threads;
	int lowered = intra_op_threads && need > cpus && intra_op_threads > fair;
	out->cpus = cpus;
	out->workers = workers;
	out->intra = intra_op_threads && !lowered ? intra_op_threads : fair;
	note[0] = '\0';
	if (cpu_budget && avail_cpus && cpu_budget > avail_cpus)
		say(note, notelen, "cpu_budget %u exceeds the %u CPUs this process may use",
		    cpu_budget, avail_cpus);
	if (lowered)
		say(note, notelen, "%u workers x intra_op_threads %u would need %llu CPUs, the "
		    "CPU budget is %u: using %u intra-op thread%s per inference", workers,
		    intra_op_threads, need, cpus, fair, fair == 1 ? "" : "s");
	if (workers > cpus)
		say(note, notelen, "%u workers exceed the CPU budget of %u: inferences will share "
		    "CPUs (lower 'threads')", workers, cpus);
	return note[0] != '\0';
}
