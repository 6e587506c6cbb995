/* mnv2-soak — load, soak and fault test of a real mnv2d. Usually run by scripts/soak.sh.
 *
 *   mnv2-soak [--minutes M] [--clients N] [--real DIR | --no-real] [--images DIR]
 *             [--report FILE]
 *
 * Starts $MNV2_BUILD_DIR/daemon/mnv2d on a temporary socket with the daemon tests'
 * synthetic models (and the four real models when --real names their directory), computes
 * every valid request's answer alone, then runs N concurrent clients for M minutes (valid,
 * invalid, killed mid-request, not reading) while faults are injected, and prints a
 * summary table. Exit status 0 only when every check held. See tests/soak/README.md. */
#include "soak.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RSS_LIMIT_KB 5120   /* "flat": at most this much growth under steady load */
/* The faults reload the model set seven times (three applied); glibc keeps part of each freed set in its
 * per-thread arenas (no leak: memcheck finds every block freed), so RSS rises over them by
 * up to a set or two. This only catches a runaway. */
#define RSS_FAULTS_LIMIT_KB (256 * 1024)

const soak_catalog *soak_cat;

typedef struct args {
	double minutes;
	int clients;
	const char *real_dir, *images_dir, *report;
} args;

static int usage(void)
{
	fprintf(stderr, "usage: mnv2-soak [--minutes M] [--clients N] [--real DIR | --no-real] "
			"[--images DIR] [--report FILE]\n");
	return 2;
}

static int parse_args(int argc, char **argv, args *a)
{
	*a = (args){ .minutes = 10, .clients = 64 };
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--no-real")) {
			a->real_dir = NULL;
			continue;
		}
		if (!v)
			return -1;
		if (!strcmp(argv[i], "--minutes"))
			a->minutes = strtod(v, NULL);
		else if (!strcmp(argv[i], "--clients"))
			a->clients = atoi(v);
		else if (!strcmp(argv[i], "--real"))
			a->real_dir = v;
		else if (!strcmp(argv[i], "--images"))
			a->images_dir = v;
		else if (!strcmp(argv[i], "--report"))
			a->report = v;
		else
			return -1;
		i++;
	}
	return a->minutes > 0 && a->minutes <= 24 * 60 && a->clients >= 16 && a->clients <= 1024
		       ? 0 : -1;
}

/* ---- the daemon's environment ---- */

static int append(char *buf, size_t cap, const char *fmt, const char *a, const char *b)
{
	size_t n = strlen(buf);
	int w = snprintf(buf + n, cap - n, fmt, a, b);
	return w < 0 || (size_t)w >= cap - n ? -1 : 0;
}

static int write_config(soak_env *e)
{
	static const struct { const char *file, *name, *labels, *kind; } real[] = {
		{ "mobilenet_v2_1.0_224_quant.tflite", "mnv2_quant", "imagenet_labels.txt", "classifier" },
		{ "tf2_mobilenet_v2_1.0_224_ptq.tflite", "mnv2_ptq", "imagenet_labels.txt", "classifier" },
		{ "mobilenet_ssd_v2_coco_quant_postprocess.tflite", "ssd_v2", "coco_labels.txt", "detector" },
		{ "ssd_mobilenet_v1_1_default_1.tflite", "ssd_v1", "coco_labels.txt", "detector" },
	};
	char *c = e->base_config;
	size_t cap = sizeof e->base_config;
	snprintf(c, cap,
		 "socket: %s\nsocket_mode: \"0600\"\nlog_level: info\nthreads: %d\n"
		 "queue_depth: 1024\nmax_inflight_per_connection: %d\nmax_connections: 512\n"
		 "max_frame_bytes: 4M\nmax_output_bytes: 256K\nwatchdog: 1s\nmodels:\n"
		 "  - name: " TD_CLS "\n    path: " TD_CLS ".tflite\n    labels: " TD_CLS ".txt\n"
		 "  - name: " TD_DET "\n    path: " TD_DET ".tflite\n    labels: " TD_DET ".txt\n"
		 "    kind: detector\n"
		 "  - name: " TD_SLOW "\n    path: " TD_SLOW ".tflite\n    kind: classifier\n"
		 "  - name: wedge\n    path: " TD_CLS ".tflite\n    labels: " TD_CLS ".txt\n"
		 "    kind: classifier\n", e->td.sock, e->threads, SOAK_PIPELINE);
	for (size_t i = 0; e->real_dir && i < sizeof real / sizeof real[0]; i++) {
		char p[512];
		snprintf(p, sizeof p, "%s/%s", e->real_dir, real[i].file);
		if (access(p, R_OK))
			continue;
		if (append(c, cap, "  - name: %s\n    path: %s\n", real[i].name, p) ||
		    append(c, cap, "    kind: %s\n%s", real[i].kind, ""))
			return -1;
		snprintf(p, sizeof p, "%s/%s", e->real_dir, real[i].labels);
		if (!access(p, R_OK) && append(c, cap, "    labels: %s\n%s", p, ""))
			return -1;
	}
	return soak_write_file(e->td.config, c, strlen(c));
}

static int start_daemon(soak_env *e)
{
	char ms[16], usec[24];
	snprintf(ms, sizeof ms, "%d", SOAK_WEDGE_MS);
	snprintf(usec, sizeof usec, "%d", SOAK_WATCHDOG_USEC);
	/* set before any thread exists; the daemon takes them (notify.c removes its own) */
	setenv("MNV2D_TEST_HOOKS", "1", 1);
	setenv("MNV2D_TEST_WEDGE_MS", ms, 1);
	setenv("MNV2D_TEST_WEDGE_MODEL", "wedge", 1);
	setenv("NOTIFY_SOCKET", e->notify_path, 1);
	setenv("WATCHDOG_USEC", usec, 1);
	setenv("JSIMD_FORCENONE", "1", 0);
	if (td_spawn(&e->td, NULL))
		return -1;
	for (int64_t end = soak_now_ms() + 60000; soak_now_ms() < end; soak_sleep_ms(20)) {
		int fd = td_connect(e->td.sock, 200);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		if (waitpid(e->td.pid, NULL, WNOHANG) == e->td.pid) {
			e->td.pid = -1;
			break;
		}
	}
	fprintf(stderr, "soak: mnv2d did not start; its log:\n%s\n", td_log(&e->td));
	return -1;
}

/* Waits until the daemon has nothing queued and only our connection; 0 when it did. */
static int wait_idle(const soak_env *e)
{
	for (int64_t end = soak_now_ms() + 20000; soak_now_ms() < end; soak_sleep_ms(100)) {
		Mnv2__Response *r = td_status(e->td.sock);
		int idle = r && r->status_result && r->status_result->queue_depth == 0 &&
			   r->status_result->connections <= 1;
		if (r)
			mnv2__response__free_unpacked(r, NULL);
		if (idle)
			return 0;
	}
	return -1;
}

static int fds_settle(const soak_env *e, int want)
{
	int n = td_fd_count(e->td.pid);
	for (int64_t end = soak_now_ms() + 10000; n != want && soak_now_ms() < end;
	     soak_sleep_ms(100))
		n = td_fd_count(e->td.pid);
	return n;
}

/* The daemon's log: its error and warning lines, counted by their first words (the faults
 * cause some: refused reloads, a wedged worker, clients over the output limit). */
static void log_digest(const soak_env *e)
{
	enum { KINDS = 24 };
	char kinds[KINDS][72], line[1024];
	unsigned counts[KINDS] = { 0 }, n = 0;
	FILE *f = fopen(e->td.log, "r");
	while (f && fgets(line, sizeof line, f)) {
		const char *lv = strstr(line, "mnv2d: error: ") ? "error"
			       : strstr(line, "mnv2d: warning: ") ? "warning" : NULL;
		if (!lv)
			continue;
		char key[72];
		const char *msg = strstr(line, ": ") + 2;
		msg = strstr(msg, ": ") + 2;
		size_t k = (size_t)snprintf(key, sizeof key, "%s: ", lv);
		for (; *msg && *msg != '\n' && k < 60; msg++) {   /* numbers vary: one '#' */
			int digit = *msg >= '0' && *msg <= '9';
			if (!digit || !k || key[k - 1] != '#')
				key[k++] = digit ? '#' : *msg;
		}
		key[k] = 0;
		unsigned i = 0;
		while (i < n && strcmp(kinds[i], key))
			i++;
		if (i == n && n < KINDS)
			snprintf(kinds[n++], sizeof kinds[0], "%s", key);
		if (i < KINDS)
			counts[i]++;
		/* the only errors the faults cause */
		if (!strcmp(lv, "error") && !strstr(line, "reload failed; still serving") &&
		    !strstr(line, "a worker has been busy on one request"))
			soak_fail("mnv2d logged an unexpected error: %s", line);
	}
	if (f)
		fclose(f);
	for (unsigned i = 0; i < n; i++)
		soak_note("daemon log: %5u x %s", counts[i], kinds[i]);
}

/* ---- the summary ---- */

typedef struct figures {
	double load_s, warm_s, steady_s;
	long rss0, rss1, rss2;
	int fd0, fd1;
	soak_fault_result faults[SOAK_FAULTS];
	int n_faults;
	int daemon_alive;
} figures;

static void machine(char *out, size_t len)
{
	char model[160] = "unknown CPU", line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
			snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
			model[strcspn(model, "\n")] = 0;
			break;
		}
	if (f)
		fclose(f);
	struct utsname u;
	uname(&u);
	snprintf(out, len, "%s, %ld CPUs, Linux %s %s", model, sysconf(_SC_NPROCESSORS_ONLN),
		 u.release, u.machine);
}

static unsigned long long total_bad(const soak_counts *n)
{
	unsigned long long t = 0;
	for (int i = 0; i < BAD_KINDS; i++)
		t += atomic_load(&n->bad_tried[i]);
	return t;
}

static void print_summary(FILE *o, const args *a, const soak_env *e, const soak_load *l,
			  const figures *f, int pass)
{
	const soak_counts *n = &l->n;
	char mach[300], date[64];
	time_t now = time(NULL);
	strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
	machine(mach, sizeof mach);
	unsigned long long ok = atomic_load(&n->valid_ok), lost = atomic_load(&n->valid_lost),
			   wrong = atomic_load(&n->valid_wrong);
	int survived = 0;
	for (int i = 0; i < f->n_faults; i++)
		survived += f->faults[i].ok;
	fprintf(o, "\n## mnv2d soak: %s\n\n", pass ? "PASS" : "FAIL");
	fprintf(o, "%s; %s; %.1f min of load (%.0f s warm-up first), %d clients, %d workers, "
		   "%zu valid request kinds (%zu on the real models)\n\n", date, mach,
		f->load_s / 60, f->warm_s, a->clients, e->threads, l->cat->n, l->cat->n_real);
	fprintf(o, "| check | result |\n|---|---|\n");
	fprintf(o, "| load held | %.1f valid requests/s answered (%llu, every one identical to "
		   "its answer alone: %llu wrong), %.1f responses/s in all; %llu queue-full "
		   "answers; %llu Status/ListModels |\n",
		(double)ok / f->load_s, ok, wrong,
		(double)atomic_load(&n->responses) / f->load_s,
		atomic_load(&n->valid_retried), atomic_load(&n->other_ok));
	fprintf(o, "| lost valid requests | %llu |\n", lost);
	fprintf(o, "| RSS under steady load (%.0f s after warm-up; at each end the clients "
		   "pause, the queue drains and a reload trims the allocator) | %.1f MiB → %.1f MiB "
		   "(%+.1f MiB; limit +%d) |\n", f->steady_s, f->rss0 / 1024.0, f->rss1 / 1024.0,
		(f->rss1 - f->rss0) / 1024.0, RSS_LIMIT_KB / 1024);
	fprintf(o, "| RSS over the faults (7 reloads, 3 applied) | %.1f MiB → %.1f MiB (%+.1f MiB: allocator "
		   "retention, no leak) |\n", f->rss1 / 1024.0, f->rss2 / 1024.0,
		(f->rss2 - f->rss1) / 1024.0);
	fprintf(o, "| open fds, idle before → after the load | %d → %d |\n", f->fd0, f->fd1);
	fprintf(o, "| bad inputs tried | %llu, %llu answered otherwise than documented:",
		total_bad(n), atomic_load(&n->bad_unexpected));
	for (int i = 0; i < BAD_KINDS; i++)
		fprintf(o, "%s %s %llu", i ? ";" : "", soak_bad_names[i],
			atomic_load(&n->bad_tried[i]));
	fprintf(o, " |\n");
	fprintf(o, "| clients killed mid-request | %llu |\n", atomic_load(&n->killed));
	fprintf(o, "| clients that stopped reading | %llu (%llu disconnected by the output "
		   "limit) |\n", atomic_load(&n->slow_readers),
		atomic_load(&n->slow_disconnected));
	fprintf(o, "| connections | %llu opened |\n", atomic_load(&n->connects));
	fprintf(o, "| faults survived | %d of %d |\n", survived, f->n_faults);
	for (int i = 0; i < f->n_faults; i++)
		fprintf(o, "| fault: %s | %s: %s |\n", f->faults[i].name,
			f->faults[i].ok ? "survived" : "FAILED", f->faults[i].detail);
	fprintf(o, "| daemon | %s |\n", f->daemon_alive ? "stayed up through the load"
							: "DIED during the load");
	fprintf(o, "| failures | %u |\n", soak_failures());
}

/* ---- the phases ---- */

/* Warm-up (15 % of the time, 45-90 s, with one reload a third of the way in so the
 * allocator has seen two model sets), steady load (65 % of the rest: RSS at its start and
 * end must stay flat), faults under load (the rest). */
/* The smallest of samples every 100 ms over RSS_WINDOW_MS: under load, a single sample
 * also counts whatever images the workers are decoding at that moment (megabytes each for
 * the real models), which is not growth. */
enum { RSS_WINDOW_MS = 1000 };

static long rss_floor(int pid)
{
	long low = soak_rss_kb(pid);
	for (int t = 100; t <= RSS_WINDOW_MS; t += 100) {
		soak_sleep_ms(100);
		long v = soak_rss_kb(pid);
		low = v >= 0 && (low < 0 || v < low) ? v : low;   /* -1: unreadable */
	}
	return low;
}

/* A reload under the load, which must load the next generation. */
static void reload_ok(soak_env *e, const char *when)
{
	long long gen = soak_generation(e->td.sock);
	Mnv2__Response *r = soak_reload(e->td.sock);
	if (!r || r->status != MNV2__STATUS_CODE__STATUS_OK || !r->reload ||
	    (long long)r->reload->generation != gen + 1)
		soak_fail("%s reload: %s", when, r ? r->message : "no answer");
	if (r)
		mnv2__response__free_unpacked(r, NULL);
}

/* Until no request waits in mnv2d's queue, twice 200 ms apart, and then long enough for
 * the ones the workers hold to finish (the slowest valid request takes well under 1 s). */
static void wait_drained(const soak_env *e)
{
	int empty = 0;
	for (int64_t end = soak_now_ms() + 20000; empty < 2 && soak_now_ms() < end;
	     soak_sleep_ms(200)) {
		Mnv2__Response *r = td_status(e->td.sock);
		empty = r && r->status_result && r->status_result->queue_depth == 0 ? empty + 1 : 0;
		if (r)
			mnv2__response__free_unpacked(r, NULL);
	}
	soak_sleep_ms(1000);
}

/* What mnv2d holds, not what glibc's arenas happen to keep: the clients pause (their
 * connections stay open, a stopped reader's unsent answers stay buffered), the queue
 * drains, a reload frees the old model set and mnv2d gives the arenas' free pages back
 * (malloc_trim); the RSS floor then, and the load goes on. Measured on RSS under load,
 * the arenas' retained high-water mark (a heap grows when concurrent requests happen to
 * need more at once, and keeps it) and the requests in flight moved RSS by up to 5.5 MiB
 * in 50 s with no leak (memcheck clean), in steps, at random. A leak is live memory: it
 * shows all the same. */
static long rss_held(soak_env *e, soak_load *l, const char *when)
{
	atomic_store(&l->pause, 1);
	wait_drained(e);
	reload_ok(e, when);
	soak_sleep_ms(200);   /* the old set's last reference goes on the reload thread */
	long rss = rss_floor(e->td.pid);
	atomic_store(&l->pause, 0);
	return rss;
}

static void load_phase(soak_env *e, soak_load *l, soak_notify *nt, const args *a, figures *f)
{
	int64_t t0 = soak_now_ms(), total = (int64_t)(a->minutes * 60000);
	int64_t warm = total * 15 / 100;
	warm = warm < 45000 ? 45000 : warm > 90000 ? 90000 : warm;
	int64_t steady_end = t0 + warm + (total - warm) * 65 / 100;
	f->warm_s = (double)warm / 1000;
	f->steady_s = (double)(steady_end - t0 - warm) / 1000;
	l->end_ms = t0 + total;
	if (soak_load_start(l)) {
		soak_fail("cannot start the client threads");
		return;
	}
	soak_note("load: %d clients for %.1f min", a->clients, a->minutes);
	soak_sleep_ms(warm / 3);
	reload_ok(e, "warm-up");
	soak_sleep_ms(t0 + warm - soak_now_ms());
	f->rss0 = rss_held(e, l, "steady-load start");
	soak_note("steady load from RSS %.1f MiB", f->rss0 / 1024.0);
	soak_sleep_ms(steady_end - RSS_WINDOW_MS - soak_now_ms());
	f->rss1 = rss_held(e, l, "steady-load end");
	soak_note("steady load to RSS %.1f MiB; faults under load", f->rss1 / 1024.0);
	if (f->rss1 - f->rss0 > RSS_LIMIT_KB)
		soak_fail("RSS grew from %ld kB to %ld kB under steady load", f->rss0, f->rss1);
	int64_t rest = l->end_ms - steady_end;
	void (*step[3])(soak_env *, soak_fault_result *) = {
		soak_fault_garbage_model, soak_fault_config_deleted, soak_fault_rlimit_reload };
	for (int i = 0; i < 4; i++) {
		soak_sleep_ms(steady_end + rest * i / 5 - soak_now_ms());
		if (i < 3)
			step[i](e, &f->faults[f->n_faults++]);
		else
			soak_fault_wedge(e, nt, l, l->cat, &f->faults[f->n_faults++]);
	}
	soak_sleep_ms(l->end_ms - soak_now_ms());
	soak_load_join(l);
	f->load_s = (double)(soak_now_ms() - t0) / 1000;
	f->daemon_alive = waitpid(e->td.pid, NULL, WNOHANG) == 0;
	if (!f->daemon_alive) {
		soak_fail("mnv2d died during the load; its log:\n%s", td_log(&e->td));
		e->td.pid = -1;
		return;
	}
	if (wait_idle(e))
		soak_fail("mnv2d did not become idle after the load");
	f->fd1 = fds_settle(e, f->fd0);
	f->rss2 = soak_rss_kb(e->td.pid);
	if (f->fd1 != f->fd0)
		soak_fail("open fds: %d before the load, %d after it", f->fd0, f->fd1);
	if (f->rss2 - f->rss1 > RSS_FAULTS_LIMIT_KB)
		soak_fail("RSS grew from %ld kB to %ld kB over the faults", f->rss1, f->rss2);
}

static void checks(const soak_load *l)
{
	const soak_counts *n = &l->n;
	if (!atomic_load(&n->valid_ok))
		soak_fail("no valid request was answered");
	for (int i = 0; i < BAD_KINDS; i++)
		if (!atomic_load(&n->bad_tried[i]))
			soak_fail("bad input '%s' was never tried", soak_bad_names[i]);
	if (!atomic_load(&n->killed) || !atomic_load(&n->slow_readers))
		soak_fail("no client was killed, or none stopped reading");
	/* the queue (1024) outsizes every client's share together, and a valid client never
	 * has more than its quota in flight: any refusal is a miscounted quota or queue */
	if (atomic_load(&n->valid_retried))
		soak_fail("%llu valid requests were answered RESOURCE_EXHAUSTED",
			  atomic_load(&n->valid_retried));
}

int main(int argc, char **argv)
{
	args a;
	if (parse_args(argc, argv, &a))
		return usage();
	signal(SIGPIPE, SIG_IGN);
	static soak_env e;
	static soak_catalog cat;
	static soak_load l;
	static figures f;
	e.threads = 3;
	e.real_dir = a.real_dir;
	if (td_env_new(&e.td)) {
		fprintf(stderr, "soak: cannot make the test directory: %s\n", strerror(errno));
		return 1;
	}
	snprintf(e.run_dir, sizeof e.run_dir, "%s/run", e.td.dir);
	snprintf(e.td.sock, sizeof e.td.sock, "%s/mnv2d.sock", e.run_dir);
	snprintf(e.notify_path, sizeof e.notify_path, "%s/notify", e.td.dir);
	soak_notify *nt = NULL;
	int rc = 1;
	if (mkdir(e.run_dir, 0700) || write_config(&e) || !(nt = soak_notify_start(e.notify_path)) ||
	    start_daemon(&e)) {
		fprintf(stderr, "soak: set-up failed\n");
		goto out;
	}
	soak_note("mnv2d pid %d on %s (%s)", (int)e.td.pid, e.td.sock, e.td.dir);
	if (soak_catalog_build(&cat, a.real_dir, a.images_dir) ||
	    soak_catalog_reference(&cat, e.td.sock))
		goto out;
	soak_cat = &cat;
	soak_note("%zu valid request kinds, references computed alone", cat.n);
	if (wait_idle(&e))
		soak_fail("mnv2d is not idle after the references");
	soak_sleep_ms(200);
	f.fd0 = td_fd_count(e.td.pid);
	l = (soak_load){ .sock = e.td.sock, .cat = &cat, .clients = a.clients };
	load_phase(&e, &l, nt, &a, &f);
	if (f.daemon_alive) {
		soak_fault_socket_dir(&e, &l, &f.faults[f.n_faults++]);
		soak_fault_restart(&e, &cat, &f.faults[f.n_faults++]);
		char exe[512];
		snprintf(exe, sizeof exe, "%s/daemon/mnv2d", td_build_dir());
		soak_fault_rlimit_start(&e, exe, &f.faults[f.n_faults++]);
	}
	checks(&l);
	log_digest(&e);
	rc = soak_failures() ? 1 : 0;
	print_summary(stdout, &a, &e, &l, &f, rc == 0);
	if (a.report) {
		FILE *o = fopen(a.report, "w");
		if (o) {
			print_summary(o, &a, &e, &l, &f, rc == 0);
			fclose(o);
		}
	}
out:
	if (rc && e.td.pid > 0)
		fprintf(stderr, "soak: the end of mnv2d's log:\n%s\n", td_log(&e.td));
	soak_notify_stop(nt);
	soak_catalog_free(&cat);
	if (e.td.pid > 0)
		td_stop(&e.td, SIGKILL, 5000, NULL);
	unlink(e.td.sock);
	rmdir(e.run_dir);
	td_env_free(&e.td);
	return rc;
}
