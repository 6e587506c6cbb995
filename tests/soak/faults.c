/* faults — see soak.h and tests/soak/README.md (the expected behaviour of each). */
#include "soak.h"
#include "test_models.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG_SIZE 1024          /* the "big" model: a 64 MiB arena per worker context */
#define RLIMIT_HEADROOM (128L << 20)
#define START_RLIMIT (160L << 20)

/* ---- the service manager's side of the notify protocol ---- */

#define NOTE_MAX 8192

typedef struct note {
	int64_t t;
	char text[120];
} note;

struct soak_notify {
	int fd;
	pthread_t thread;
	atomic_int stop;
	pthread_mutex_t mu;
	note *notes;
	size_t n;
};

static void *notify_main(void *arg)
{
	soak_notify *n = arg;
	char buf[2100];
	while (!atomic_load(&n->stop)) {
		struct pollfd p = { .fd = n->fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t len = recv(n->fd, buf, sizeof buf - 1, 0);
		if (len <= 0)
			continue;
		buf[len] = 0;
		int64_t t = soak_now_ms();
		pthread_mutex_lock(&n->mu);
		/* one note per line, so each KEY=VALUE can be looked for */
		for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l && n->n < NOTE_MAX;
		     l = strtok_r(NULL, "\n", &save)) {
			n->notes[n->n].t = t;
			snprintf(n->notes[n->n].text, sizeof n->notes[n->n].text, "%s", l);
			n->n++;
		}
		pthread_mutex_unlock(&n->mu);
	}
	return NULL;
}

soak_notify *soak_notify_start(const char *path)
{
	soak_notify *n = calloc(1, sizeof *n);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (!n || strlen(path) >= sizeof a.sun_path)
		goto fail;
	n->notes = calloc(NOTE_MAX, sizeof *n->notes);
	strcpy(a.sun_path, path);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (!n->notes || n->fd < 0 || bind(n->fd, (struct sockaddr *)&a, sizeof a))
		goto fail;
	pthread_mutex_init(&n->mu, NULL);
	if (pthread_create(&n->thread, NULL, notify_main, n))
		goto fail;
	return n;
fail:
	if (n) {
		free(n->notes);
		free(n);
	}
	return NULL;
}

void soak_notify_stop(soak_notify *n)
{
	if (!n)
		return;
	atomic_store(&n->stop, 1);
	pthread_join(n->thread, NULL);
	close(n->fd);
	pthread_mutex_destroy(&n->mu);
	free(n->notes);
	free(n);
}

/* The first note at or after t that starts with `prefix`: its time, or -1. */
static int64_t note_after(soak_notify *n, int64_t t, const char *prefix)
{
	int64_t found = -1;
	pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < n->n && found < 0; i++)
		if (n->notes[i].t >= t && !strncmp(n->notes[i].text, prefix, strlen(prefix)))
			found = n->notes[i].t;
	pthread_mutex_unlock(&n->mu);
	return found;
}

/* The longest time without WATCHDOG=1 within [from, to]. */
static int64_t ping_gap(soak_notify *n, int64_t from, int64_t to)
{
	int64_t last = from, gap = 0;
	pthread_mutex_lock(&n->mu);
	for (size_t i = 0; i < n->n; i++) {
		const note *x = &n->notes[i];
		if (x->t < from || x->t > to || strcmp(x->text, "WATCHDOG=1"))
			continue;
		if (x->t - last > gap)
			gap = x->t - last;
		last = x->t;
	}
	pthread_mutex_unlock(&n->mu);
	return to - last > gap ? to - last : gap;
}

/* ---- helpers ---- */

static void result(soak_fault_result *r, const char *name, int ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void result(soak_fault_result *r, const char *name, int ok, const char *fmt, ...)
{
	va_list ap;
	snprintf(r->name, sizeof r->name, "%s", name);
	r->ok = ok;
	va_start(ap, fmt);
	vsnprintf(r->detail, sizeof r->detail, fmt, ap);
	va_end(ap);
	if (!ok)
		soak_fail("fault '%s': %s", r->name, r->detail);
	else
		soak_note("fault '%s': survived: %s", r->name, r->detail);
}

static void model_path(const soak_env *e, const char *file, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", e->td.dir, file);
}

/* 1 when a classify of the catalog's first entry is answered exactly as before. */
static int serves(const soak_env *e, const soak_catalog *cat)
{
	td_image_req q;
	char why[300];
	soak_entry_request(&cat->e[0], &q, 77);
	Mnv2__Response *r = soak_roundtrip(e->td.sock, &q.req, SOAK_REPLY_MS);
	int ok = r && soak_entry_check(&cat->e[0], r, why, sizeof why);
	if (r)
		mnv2__response__free_unpacked(r, NULL);
	return ok;
}

/* Expects the reload to be refused with the old generation kept: fills msg. */
static int reload_refused(const soak_env *e, long long gen, const char *needle, char *msg,
			  size_t len)
{
	Mnv2__Response *r = soak_reload(e->td.sock);
	char want[64];
	snprintf(want, sizeof want, "still serving generation %lld", gen);
	int ok = r && r->status == MNV2__STATUS_CODE__STATUS_UNAVAILABLE &&
		 strstr(r->message, want) && (!needle || strstr(r->message, needle));
	snprintf(msg, len, "%s", r ? r->message : "no answer to Reload");
	if (r)
		mnv2__response__free_unpacked(r, NULL);
	return ok && soak_generation(e->td.sock) == gen;
}

static int reload_ok(const soak_env *e, long long gen)
{
	Mnv2__Response *r = soak_reload(e->td.sock);
	int ok = r && r->status == MNV2__STATUS_CODE__STATUS_OK && r->reload &&
		 (long long)r->reload->generation == gen + 1;
	if (!ok)
		soak_fail("reload after restoring: %s", r ? r->message : "no answer");
	if (r)
		mnv2__response__free_unpacked(r, NULL);
	return ok;
}

/* ---- during the load ---- */

void soak_fault_garbage_model(soak_env *e, soak_fault_result *r)
{
	char path[256], msg[600];
	size_t len = 0;
	model_path(e, TD_CLS ".tflite", path, sizeof path);
	uint8_t *orig = soak_read_file(path, &len), garbage[4096];
	long long gen = soak_generation(e->td.sock);
	uint32_t rng = 99;
	for (size_t i = 0; i < sizeof garbage; i++)
		garbage[i] = (uint8_t)soak_rand(&rng);
	memcpy(garbage + 4, "TFL3", 4);   /* looks like a model at first glance */
	/* overwritten in place (truncated and rewritten, as cp does): the running set has
	 * this file mapped */
	int ok = orig && gen > 0 && !soak_write_file(path, garbage, sizeof garbage);
	int refused = ok && reload_refused(e, gen, "'" TD_CLS "'", msg, sizeof msg);
	int served = ok && serves(e, soak_cat);
	int restored = orig && !soak_write_file(path, orig, len) && reload_ok(e, gen);
	free(orig);
	result(r, "model file replaced by garbage, reload", refused && served && restored,
	       "reload refused (\"%.160s\"), generation %lld kept serving the old model "
	       "correctly%s", msg, gen, restored ? "; restored file reloaded" : "; RESTORE FAILED");
}

void soak_fault_config_deleted(soak_env *e, soak_fault_result *r)
{
	char msg[600];
	long long gen = soak_generation(e->td.sock);
	int ok = gen > 0 && !unlink(e->td.config);
	int refused = ok && reload_refused(e, gen, "cannot open", msg, sizeof msg);
	/* SIGHUP too: refused the same way, the generation stays */
	int hup = ok && !kill(e->td.pid, SIGHUP);
	soak_sleep_ms(500);
	hup = hup && soak_generation(e->td.sock) == gen && serves(e, soak_cat);
	int restored = !soak_write_file(e->td.config, e->base_config, strlen(e->base_config));
	if (restored) {   /* SIGHUP with the file back: the next generation */
		kill(e->td.pid, SIGHUP);
		int64_t end = soak_now_ms() + 20000;
		while (soak_generation(e->td.sock) != gen + 1 && soak_now_ms() < end)
			soak_sleep_ms(50);
		restored = soak_generation(e->td.sock) == gen + 1;
	}
	result(r, "configuration deleted, reload", refused && hup && restored,
	       "Reload and SIGHUP refused (\"%.160s\"), generation %lld kept serving; "
	       "file restored, SIGHUP loaded generation %lld", msg, gen, gen + 1);
}

void soak_fault_rlimit_reload(soak_env *e, soak_fault_result *r)
{
	char msg[600], cfg[9000], path[256];
	long vm = 0;
	long long gen = soak_generation(e->td.sock);
	model_path(e, "big.tflite", path, sizeof path);
	int ok = gen > 0 && !soak_vmsize_kb(e->td.pid, &vm) && !td_write_slow(path, BIG_SIZE, 2);
	snprintf(cfg, sizeof cfg, "%s  - name: big\n    path: big.tflite\n    kind: classifier\n",
		 e->base_config);
	struct rlimit old, lim;
	ok = ok && !prlimit(e->td.pid, RLIMIT_AS, NULL, &old);
	lim = (struct rlimit){ (rlim_t)(vm * 1024 + RLIMIT_HEADROOM), old.rlim_max };
	ok = ok && !soak_write_file(e->td.config, cfg, strlen(cfg)) &&
	     !prlimit(e->td.pid, RLIMIT_AS, &lim, NULL);
	int refused = ok && reload_refused(e, gen, NULL, msg, sizeof msg);
	int served = ok && serves(e, soak_cat);
	int lifted = !prlimit(e->td.pid, RLIMIT_AS, &old, NULL);
	int restored = lifted && !soak_write_file(e->td.config, e->base_config,
						  strlen(e->base_config)) && reload_ok(e, gen);
	unlink(path);
	result(r, "RLIMIT_AS: a model cannot load, reload", refused && served && restored,
	       "address space limited to %ld MiB (%ld MiB in use): reload of a config with a "
	       "%d MiB-arena model refused (\"%.200s\"), generation %lld kept serving; limit "
	       "lifted, config restored, reloaded", (long)(lim.rlim_cur >> 20), vm >> 10,
	       3 * 64, msg, gen);
}

void soak_fault_wedge(soak_env *e, soak_notify *n, const soak_load *l, const soak_catalog *cat,
		      soak_fault_result *r)
{
	const soak_entry *base = &cat->e[0];
	soak_entry w = *base;
	snprintf(w.model, sizeof w.model, "wedge");
	td_image_req q;
	soak_entry_request(&w, &q, 555);
	unsigned long long ok0 = atomic_load(&l->n.valid_ok);
	int64_t t0 = soak_now_ms();
	Mnv2__Response *resp = soak_roundtrip(e->td.sock, &q.req, SOAK_WEDGE_MS + SOAK_REPLY_MS);
	int64_t t1 = soak_now_ms();
	unsigned long long served = atomic_load(&l->n.valid_ok) - ok0;
	/* the same classes as the classifier it is a copy of (only the model name differs) */
	int same = 0;
	Mnv2__ClassifyResult *ref = mnv2__classify_result__unpack(NULL, base->ref_len, base->ref);
	if (resp && resp->status == MNV2__STATUS_CODE__STATUS_OK && resp->classify && ref &&
	    resp->classify->n_classes == ref->n_classes) {
		same = 1;
		for (size_t i = 0; i < ref->n_classes; i++)
			same &= resp->classify->classes[i]->index == ref->classes[i]->index &&
				resp->classify->classes[i]->score == ref->classes[i]->score;
	}
	if (ref)
		mnv2__classify_result__free_unpacked(ref, NULL);
	if (resp)
		mnv2__response__free_unpacked(resp, NULL);
	soak_sleep_ms(2500);   /* pings resume within one interval */
	int64_t wedged = note_after(n, t0, "STATUS=wedged"),
		serving = note_after(n, t1, "STATUS=serving"),
		ping_after = note_after(n, t1, "WATCHDOG=1"),
		gap = ping_gap(n, t0, t1);
	int ok = same && t1 - t0 >= SOAK_WEDGE_MS && wedged > 0 && serving > 0 &&
		 ping_after > 0 && gap >= SOAK_WATCHDOG_USEC / 1000 && served > 0;
	result(r, "worker wedged (test hook)", ok,
	       "a request held its worker %lld ms (answered%s); %s; watchdog pings withheld "
	       "%lld ms (WATCHDOG_USEC %d ms: a service manager restarts mnv2d), resumed %s; "
	       "the other workers answered %llu valid requests meanwhile",
	       (long long)(t1 - t0), same ? ", correct" : ", WRONG OR MISSING",
	       wedged > 0 ? "STATUS=wedged sent" : "NO STATUS=wedged", (long long)gap,
	       SOAK_WATCHDOG_USEC / 1000,
	       serving > 0 && ping_after > 0 ? "with STATUS=serving" : "NOT", served);
}

/* ---- after the load ---- */

void soak_fault_socket_dir(soak_env *e, soak_load *l, soak_fault_result *r)
{
	enum { CONNS = 4 };
	int fds[CONNS], open_ok = 1;
	(void)l;
	for (int i = 0; i < CONNS; i++)
		open_ok &= (fds[i] = td_connect(e->td.sock, 2000)) >= 0;
	unlink(e->td.sock);
	int removed = open_ok && !rmdir(e->run_dir);
	unsigned answered = 0, asked = 0;
	char why[300];
	int64_t end = soak_now_ms() + 3000;
	while (removed && soak_now_ms() < end) {
		for (int i = 0; i < CONNS; i++) {
			const soak_entry *en = &soak_cat->e[(asked + (unsigned)i) % soak_cat->n];
			td_image_req q;
			soak_entry_request(en, &q, ++asked);
			Mnv2__Response *resp = td_send(fds[i], &q.req) ? NULL
						: td_recv(fds[i], SOAK_REPLY_MS, NULL);
			answered += resp && soak_entry_check(en, resp, why, sizeof why);
			if (resp)
				mnv2__response__free_unpacked(resp, NULL);
		}
	}
	int fresh = td_connect(e->td.sock, 500);
	int refused = fresh < 0;
	int err = errno;
	if (fresh >= 0)
		close(fresh);
	for (int i = 0; i < CONNS; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	result(r, "socket directory removed", removed && answered == asked && asked > 0 &&
	       refused, "%u of %u requests on the %d open connections answered correctly; "
	       "new connections fail (%s) until mnv2d restarts", answered, asked, CONNS,
	       refused ? strerror(err) : "they did NOT");
}

void soak_fault_restart(soak_env *e, const soak_catalog *cat, soak_fault_result *r)
{
	int st = 0;
	int stopped = !td_stop(&e->td, SIGTERM, 20000, &st) && WIFEXITED(st) &&
		      WEXITSTATUS(st) == 0;
	int started = !mkdir(e->run_dir, 0700) && !td_spawn(&e->td, NULL);
	int up = 0;
	for (int64_t end = soak_now_ms() + 20000; started && !up && soak_now_ms() < end;
	     soak_sleep_ms(20)) {
		int fd = td_connect(e->td.sock, 200);
		if (fd >= 0) {
			up = 1;
			close(fd);
		}
	}
	int ok = up && serves(e, cat);
	int st2 = 0;
	int stopped2 = !td_stop(&e->td, SIGTERM, 20000, &st2) && WIFEXITED(st2) &&
		       WEXITSTATUS(st2) == 0;
	result(r, "restart after the socket directory was removed",
	       stopped && ok && stopped2, "SIGTERM: exit %d; directory recreated, restarted, "
	       "answers as before; SIGTERM: exit %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	       WIFEXITED(st2) ? WEXITSTATUS(st2) : -1);
}

void soak_fault_rlimit_start(soak_env *e, const char *mnv2d, soak_fault_result *r)
{
	char cfg_path[256], log_path[256], model[256], cfg[1024];
	snprintf(cfg_path, sizeof cfg_path, "%s/big.yaml", e->td.dir);
	snprintf(log_path, sizeof log_path, "%s/big.log", e->td.dir);
	model_path(e, "big.tflite", model, sizeof model);
	snprintf(cfg, sizeof cfg, "socket: %s/big.sock\nthreads: 4\nmodels:\n"
		 "  - {name: big, path: big.tflite, kind: classifier}\n", e->td.dir);
	int ok = !td_write_slow(model, BIG_SIZE, 2) &&
		 !soak_write_file(cfg_path, cfg, strlen(cfg));
	pid_t pid = ok ? fork() : -1;
	if (pid == 0) {
		struct rlimit lim = { START_RLIMIT, START_RLIMIT };
		int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || setrlimit(RLIMIT_AS, &lim) || dup2(fd, 2) < 0)
			_exit(126);
		execl(mnv2d, mnv2d, "-c", cfg_path, (char *)NULL);
		_exit(127);
	}
	int st = 0, exited = 0;
	for (int64_t end = soak_now_ms() + 30000; pid > 0 && soak_now_ms() < end;
	     soak_sleep_ms(20)) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			exited = 1;
			break;
		}
	}
	if (pid > 0 && !exited) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	size_t len = 0;
	char *log = (char *)soak_read_file(log_path, &len), line[300] = "";
	if (log) {
		log[len] = 0;
		char *err = strstr(log, "error: ");
		snprintf(line, sizeof line, "%.*s", err ? (int)strcspn(err, "\n") : 0,
			 err ? err : "");
	}
	int clear = strstr(line, "'big'") != NULL;
	free(log);
	unlink(model);
	result(r, "RLIMIT_AS: a model cannot load, start",
	       exited && WIFEXITED(st) && WEXITSTATUS(st) == 1 && clear,
	       "started under a %ld MiB address-space limit with a %d MiB-arena model: exit %d, "
	       "\"%.200s\"", START_RLIMIT >> 20, 4 * 64,
	       exited && WIFEXITED(st) ? WEXITSTATUS(st) : -1, line);
}
