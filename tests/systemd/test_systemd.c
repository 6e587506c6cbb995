/* mnv2d as a systemd service, without systemd: the real binary ($MNV2_BUILD_DIR/daemon/mnv2d)
 * against a NOTIFY_SOCKET this test binds itself (READY/STATUS/WATCHDOG/RELOADING/STOPPING,
 * the watchdog withheld while a worker is wedged through the test-only hook), socket
 * activation (LISTEN_FDS set up here, and systemd-socket-activate when installed), and
 * access control (clients run as other uids when the test runs as root). Every wait is
 * bounded; tools that are missing are skipped with a message. */
#include "harness.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ST(x) MNV2__STATUS_CODE__STATUS_##x
#define T_START 20000     /* ms: start-up, model loading included (ASan) */
#define WD_USEC 200000    /* the watchdog interval the tests give: pings every 100 ms */

static td_env env;

static void env_setup(void)
{
	if (td_env_new(&env))
		fprintf(stderr, "cannot create the test environment in /tmp\n");
}

static void env_teardown(void)
{
	td_env_free(&env);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void in_env(char *out, size_t len, const char *name)
{
	ck_assert_msg(env.dir[0], "no test environment");
	ck_assert_int_lt(snprintf(out, len, "%s/%s", env.dir, name), (int)len);
}

static int log_count(const char *needle)
{
	char p[256];
	FILE *f = fopen(env.log, "r");
	int n = 0;
	while (f && fgets(p, sizeof p, f))
		n += strstr(p, needle) != NULL;
	if (f)
		fclose(f);
	return n;
}

/* ---- the notify socket: every datagram, with the time it arrived ---- */

#define RX_MAX 2048
static struct {
	int fd;
	size_t n, cursor;
	int64_t t[RX_MAX];
	char *msg[RX_MAX];
} rx = { .fd = -1 };

static void rx_open(void)
{
	char path[192];
	in_env(path, sizeof path, "notify.sock");
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%.107s", path);
	rx.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(rx.fd, 0);
	ck_assert_int_eq(bind(rx.fd, (struct sockaddr *)&a, sizeof a), 0);
	setenv("NOTIFY_SOCKET", path, 1);
}

/* Reads whatever has arrived. */
static void rx_drain(void)
{
	char buf[4096];
	for (;;) {
		ssize_t n = recv(rx.fd, buf, sizeof buf - 1, 0);
		if (n < 0)
			return;
		ck_assert_int_lt(rx.n, RX_MAX);
		buf[n] = 0;
		rx.t[rx.n] = now_ms();
		rx.msg[rx.n++] = strdup(buf);
	}
}

/* Waits for readable fd (or until end), collecting datagrams meanwhile: 1 readable. */
static int rx_pump_until(int fd, int64_t end)
{
	for (;;) {
		rx_drain();
		int64_t left = end - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd p[2] = { { .fd = rx.fd, .events = POLLIN },
				       { .fd = fd, .events = POLLIN } };
		int r = poll(p, fd >= 0 ? 2 : 1, (int)left);
		if (r > 0 && fd >= 0 && (p[1].revents & (POLLIN | POLLHUP)))
			return 1;
	}
}

static void rx_pump(int ms)
{
	rx_pump_until(-1, now_ms() + ms);
}

/* The next message (from the cursor on) containing needle; its index. Fails after
 * timeout_ms with every message seen. */
static size_t rx_wait(const char *needle, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;
	for (;;) {
		for (; rx.cursor < rx.n; rx.cursor++)
			if (strstr(rx.msg[rx.cursor], needle))
				return rx.cursor++;
		if (now_ms() >= end)
			break;
		rx_pump(20);
	}
	char all[2000] = "";
	for (size_t i = 0; i < rx.n; i++) {
		size_t l = strlen(all);
		snprintf(all + l, sizeof all - l, "[%s] ", rx.msg[i]);
	}
	ck_abort_msg("no '%s' in %d ms; got %s\n%s", needle, timeout_ms, all, td_log(&env));
	return 0;
}

/* WATCHDOG=1 pings that arrived in [from, to) (ms). */
static int pings_between(int64_t from, int64_t to)
{
	int n = 0;
	for (size_t i = 0; i < rx.n; i++)
		n += rx.t[i] >= from && rx.t[i] < to && !strcmp(rx.msg[i], "WATCHDOG=1");
	return n;
}

/* ---- starting the daemon ---- */

/* Config (with extra YAML) written, daemon spawned, READY=1 awaited; its message index. */
static size_t start_notified(const char *extra)
{
	ck_assert_int_eq(td_write_config(&env, extra, NULL), 0);
	ck_assert_int_eq(td_spawn(&env, NULL), 0);
	return rx_wait("READY=1", T_START);
}

/* Forks and execs argv with the daemon's log as stderr; listen_fd (if >= 0) becomes fd 3
 * with LISTEN_FDS=1 and LISTEN_PID set to the child's pid, unless listen_pid_other. */
static void spawn_activated(const char *const *argv, int listen_fd, const char *nfds,
			    int listen_pid_other)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		int log = open(env.log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (log >= 0) {
			dup2(log, STDERR_FILENO);
			dup2(log, STDOUT_FILENO);
			close(log);
		}
		if (listen_fd >= 0) {
			if (listen_fd != 3 && dup2(listen_fd, 3) < 0)
				_exit(126);
			fcntl(3, F_SETFD, 0);
			char pid_s[32];
			snprintf(pid_s, sizeof pid_s, "%d", (int)getpid() + listen_pid_other);
			setenv("LISTEN_PID", pid_s, 1);
			setenv("LISTEN_FDS", nfds, 1);
			setenv("LISTEN_FDNAMES", "mnv2d", 1);
		}
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	env.pid = pid;
}

static const char *daemon_exe(void)
{
	static char exe[512];
	snprintf(exe, sizeof exe, "%s/daemon/mnv2d", td_build_dir());
	return exe;
}

static int listening_socket(const char *path, mode_t mode)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
	ck_assert_int_eq(listen(fd, 16), 0);
	return fd;
}

static void stop_exit0(void)
{
	int status = -1;
	ck_assert_msg(td_stop(&env, SIGTERM, 20000, &status) == 0, "no exit:\n%s", td_log(&env));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %d:\n%s",
		      status, td_log(&env));
}

/* The daemon exits by itself with status 1 (a start-up error). */
static void expect_exit1(const char *needle)
{
	int status = -1;
	ck_assert_msg(td_wait(&env, T_START, &status) == 0, "did not exit:\n%s", td_log(&env));
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "status %d:\n%s", status,
		      td_log(&env));
	ck_assert_msg(log_count(needle) > 0, "no '%s' in the log:\n%s", needle, td_log(&env));
}

/* Status over a fresh connection to path: number of models, or -1. */
static int status_models(const char *path)
{
	Mnv2__Response *r = td_status(path);
	if (!r)
		return -1;
	int n = r->status == ST(OK) ? (int)r->status_result->n_models : -1;
	mnv2__response__free_unpacked(r, NULL);
	return n;
}

/* ---- notify ---- */

START_TEST(notify_lifecycle)
{
	rx_open();
	char wd[32];
	snprintf(wd, sizeof wd, "%d", WD_USEC);
	setenv("WATCHDOG_USEC", wd, 1);
	size_t ready = start_notified(NULL);
	/* READY only once the models are loaded and the socket listens: usable at once */
	int64_t t_ready = rx.t[ready];
	ck_assert_int_eq(status_models(env.sock), 3);
	ck_assert_msg(strstr(rx.msg[ready], "STATUS=serving 3 models, 2 workers, generation 1"),
		      "%s", rx.msg[ready]);
	ck_assert_msg(ready > 0 && strstr(rx.msg[0], "STATUS=loading 3 models from "), "%s",
		      rx.msg[0]);
	for (size_t i = 0; i < ready; i++)
		ck_assert_msg(!strstr(rx.msg[i], "WATCHDOG=1"), "a ping before READY");
	/* pings every WATCHDOG_USEC / 2 */
	rx_pump(1000);
	int pings = pings_between(t_ready, t_ready + 1000);
	ck_assert_msg(pings >= 4 && pings <= 12, "%d pings in 1 s (want ~10)", pings);
	/* SIGHUP: RELOADING=1 with the monotonic clock, then READY=1 with generation 2 */
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	long long t_hup = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	ck_assert_int_eq(kill(env.pid, SIGHUP), 0);
	size_t i = rx_wait("RELOADING=1", 10000);
	const char *mono = strstr(rx.msg[i], "MONOTONIC_USEC=");
	ck_assert_msg(mono != NULL, "%s", rx.msg[i]);
	long long m = atoll(mono + strlen("MONOTONIC_USEC="));
	ck_assert_msg(m >= t_hup && m < t_hup + 10000000, "MONOTONIC_USEC %lld vs %lld", m, t_hup);
	i = rx_wait("READY=1", 10000);
	ck_assert_msg(strstr(rx.msg[i], "generation 2") && !strstr(rx.msg[i], "failed"), "%s",
		      rx.msg[i]);
	/* a broken file: READY=1 again, the old generation, and why */
	FILE *f = fopen(env.config, "a");
	fputs("threads: [\n", f);
	fclose(f);
	ck_assert_int_eq(kill(env.pid, SIGHUP), 0);
	rx_wait("RELOADING=1", 10000);
	i = rx_wait("READY=1", 10000);
	ck_assert_msg(strstr(rx.msg[i], "generation 2; last reload failed: ") &&
		      strstr(rx.msg[i], "mnv2d.yaml:"), "%s", rx.msg[i]);
	ck_assert_int_eq(status_models(env.sock), 3);
	/* SIGTERM: STOPPING=1, a clean exit */
	ck_assert_int_eq(kill(env.pid, SIGTERM), 0);
	i = rx_wait("STOPPING=1", 10000);
	ck_assert_msg(strstr(rx.msg[i], "STATUS=shutting down"), "%s", rx.msg[i]);
	stop_exit0();
}
END_TEST

/* Sends one Classify on fd and waits for its answer while collecting datagrams. */
static Mnv2__Response *classify_pumping(int fd, uint64_t id, int timeout_ms)
{
	static uint8_t frame[16 * 16 * 3];
	td_image_req q;
	td_raw_request(&q, 0, id, TD_CLS, MNV2__PIXEL_FORMAT__PIXEL_FORMAT_RGB888, 16, 16, frame,
		       sizeof frame);
	ck_assert_int_eq(td_send(fd, &q.req), 0);
	ck_assert_msg(rx_pump_until(fd, now_ms() + timeout_ms), "no answer in %d ms:\n%s",
		      timeout_ms, td_log(&env));
	Mnv2__Response *r = td_recv(fd, 20000, NULL);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->request_id, id);
	return r;
}

START_TEST(watchdog_stops_while_wedged)
{
	rx_open();
	char wd[32];
	snprintf(wd, sizeof wd, "%d", WD_USEC);
	setenv("WATCHDOG_USEC", wd, 1);
	setenv("MNV2D_TEST_HOOKS", "1", 1);
	setenv("MNV2D_TEST_WEDGE_MS", "1500", 1);
	start_notified("watchdog: 100ms\n");
	ck_assert_int_eq(log_count("TEST HOOK"), 1);
	rx_pump(500);
	int64_t t0 = now_ms();
	ck_assert_int_ge(pings_between(t0 - 500, t0), 3);
	int fd = td_connect(env.sock, 5000);
	ck_assert_int_ge(fd, 0);
	int64_t t_send = now_ms();
	Mnv2__Response *r = classify_pumping(fd, 1, 20000);
	int64_t t_resp = now_ms();
	ck_assert_msg(r->status == ST(OK), "%s", r->message);
	mnv2__response__free_unpacked(r, NULL);
	ck_assert_int_ge(t_resp - t_send, 1400);
	/* stall limit 100 ms, checked every 100 ms: the health check reports the wedge soon
	 * after the request started, and from then on no ping until the request is done (the
	 * last 150 ms before the answer was read are left out: the first ping after the
	 * wedge may be read just before the answer) */
	size_t i = rx_wait("STATUS=wedged: a worker has been busy on one request", 1000);
	int64_t t_wedged = rx.t[i];
	ck_assert_msg(t_wedged >= t_send && t_wedged - t_send < 1000, "wedge seen after %lld ms",
		      (long long)(t_wedged - t_send));
	int during = pings_between(t_wedged, t_resp - 150);
	ck_assert_msg(during == 0, "%d pings while the worker was wedged (%lld ms)", during,
		      (long long)(t_resp - t_wedged));
	ck_assert_int_ge(pings_between(t_send - 500, t_send), 2);   /* they ran before */
	/* then pings resume, and the status says so */
	rx_wait("STATUS=serving 3 models", 2000);
	rx_pump(800);
	ck_assert_int_ge(pings_between(t_resp, t_resp + 800), 2);
	ck_assert_int_eq(log_count("is wedged"), 1);
	ck_assert_int_eq(log_count("watchdog pings resume"), 1);
	close(fd);
	stop_exit0();
}
END_TEST

START_TEST(watchdog_for_another_pid)
{
	rx_open();
	setenv("WATCHDOG_USEC", "200000", 1);
	setenv("WATCHDOG_PID", "1", 1);   /* meant for someone else */
	size_t ready = start_notified(NULL);
	rx_pump(600);
	ck_assert_int_eq(pings_between(rx.t[ready], now_ms() + 1), 0);
	stop_exit0();
}
END_TEST

START_TEST(test_hook_needs_enabling)
{
	rx_open();
	setenv("MNV2D_TEST_WEDGE_MS", "5000", 1);   /* without MNV2D_TEST_HOOKS=1 */
	start_notified(NULL);
	ck_assert_int_eq(log_count("MNV2D_TEST_WEDGE_MS is ignored"), 1);
	int fd = td_connect(env.sock, 5000);
	int64_t t = now_ms();
	Mnv2__Response *r = classify_pumping(fd, 1, 20000);
	ck_assert_int_eq(r->status, ST(OK));
	mnv2__response__free_unpacked(r, NULL);
	ck_assert_int_lt(now_ms() - t, 4000);
	close(fd);
	stop_exit0();
}
END_TEST

/* ---- socket activation ---- */

START_TEST(activation_listen_fds)
{
	char act[192];
	struct stat st;
	in_env(act, sizeof act, "act.sock");
	int lfd = listening_socket(act, 0600);
	ck_assert_int_eq(td_write_config(&env, NULL, NULL), 0);
	const char *argv[] = { daemon_exe(), "-c", env.config, NULL };
	spawn_activated(argv, lfd, "1", 0);
	/* the passed socket serves: connections queue there until the models are loaded */
	ck_assert_int_eq(status_models(act), 3);
	ck_assert_msg(stat(env.sock, &st) != 0 && errno == ENOENT,
		      "the configured socket was bound as well");
	ck_assert_int_eq(log_count("socket activation: using the listening socket"), 1);
	ck_assert_int_eq(log_count("is not used: the service manager passed"), 1);
	stop_exit0();
	/* the socket is the service manager's: still there, still listening (our fd), and
	 * a restarted daemon serves on it again; a client that connects meanwhile waits */
	ck_assert_int_eq(stat(act, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	int early = td_connect(act, 1000);
	ck_assert_int_ge(early, 0);
	spawn_activated(argv, lfd, "1", 0);
	Mnv2__Request q;
	Mnv2__StatusRequest sr = MNV2__STATUS_REQUEST__INIT;
	td_request(&q, 5);
	q.body_case = MNV2__REQUEST__BODY_STATUS;
	q.status = &sr;
	ck_assert_int_eq(td_send(early, &q), 0);
	Mnv2__Response *r = td_recv(early, T_START, NULL);
	ck_assert_msg(r && r->status == ST(OK), "no answer on the early connection:\n%s",
		      td_log(&env));
	mnv2__response__free_unpacked(r, NULL);
	close(early);
	stop_exit0();
	ck_assert_int_eq(stat(act, &st), 0);
	close(lfd);
}
END_TEST

START_TEST(activation_errors)
{
	char act[192];
	struct stat st;
	in_env(act, sizeof act, "act.sock");
	int lfd = listening_socket(act, 0600);
	ck_assert_int_eq(td_write_config(&env, NULL, NULL), 0);
	const char *argv[] = { daemon_exe(), "-c", env.config, NULL };
	/* two sockets announced */
	spawn_activated(argv, lfd, "2", 0);
	expect_exit1("2 sockets passed (LISTEN_FDS)");
	/* fd 3 is a connected socket, not a listening one */
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	spawn_activated(argv, sv[0], "1", 0);
	expect_exit1("is not listening");
	close(sv[0]);
	close(sv[1]);
	/* LISTEN_PID of another process: not ours; the configured socket is bound */
	spawn_activated(argv, lfd, "1", 1);
	for (int w = 0; status_models(env.sock) != 3 && w < T_START; w += 20)
		usleep(20000);
	ck_assert_int_eq(status_models(env.sock), 3);
	stop_exit0();
	ck_assert_msg(stat(env.sock, &st) != 0, "its own socket is removed at exit");
	close(lfd);
}
END_TEST

/* An executable in PATH (or an absolute path): 1 found. */
static int have_tool(const char *name, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char dirs[4096];
	snprintf(dirs, sizeof dirs, "%s", path && *path ? path : "/usr/bin:/bin");
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", d, name);
		if (!access(out, X_OK))
			return 1;
	}
	return 0;
}

START_TEST(activation_systemd_socket_activate)
{
	char tool[512], act[192];
	if (!have_tool("systemd-socket-activate", tool, sizeof tool)) {
		fprintf(stderr, "SKIP: systemd-socket-activate is not installed (package systemd): "
			"socket activation tested with LISTEN_FDS set up by the test only\n");
		return;
	}
	rx_open();
	in_env(act, sizeof act, "sa.sock");
	ck_assert_int_eq(td_write_config(&env, NULL, NULL), 0);
	char listen_arg[256];
	snprintf(listen_arg, sizeof listen_arg, "--listen=%s", act);
	/* it passes on only the variables it is told to */
	const char *argv[] = { tool, listen_arg, "--fdname=mnv2d", "--setenv=NOTIFY_SOCKET",
			       daemon_exe(), "-c", env.config, NULL };
	spawn_activated(argv, -1, NULL, 0);
	struct stat st;
	for (int w = 0; stat(act, &st) && w < 5000; w += 10)
		usleep(10000);
	ck_assert_msg(S_ISSOCK(st.st_mode), "systemd-socket-activate made no socket:\n%s",
		      td_log(&env));
	/* the first connection starts the daemon (exec in place: same pid). The socket file
	 * exists from bind(), a moment before listen(): a connection in between is refused,
	 * so retry for a while. */
	int models = -1;
	for (int w = 0; models != 3 && w < 10000; w += 50) {
		models = status_models(act);
		if (models != 3)
			usleep(50000);
	}
	ck_assert_int_eq(models, 3);
	rx_wait("READY=1", T_START);
	ck_assert_int_eq(log_count("(mnv2d) (its mode and group are the socket unit's)"), 1);
	ck_assert_int_eq(status_models(act), 3);
	stop_exit0();
	ck_assert_msg(stat(act, &st) == 0, "the daemon unlinked the activated socket");
}
END_TEST

/* ---- access control ---- */

static int need_root(void)
{
	if (geteuid() == 0)
		return 1;
	fprintf(stderr, "SKIP: access control with other uids needs root (the test runs "
		"clients under other uids)\n");
	return 0;
}

/* What a client under other ids saw. */
typedef struct peer_result {
	int connected;
	int answered;
	uint64_t request_id;
	int status;
	int closed_after;   /* EOF right after the answer */
	char message[200];
} peer_result;

/* Forks a client with uid/gid/groups that sends one Status and reads one answer. */
static peer_result peer_status(const char *sock, uid_t uid, gid_t gid, const gid_t *groups,
			       size_t n_groups)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		peer_result res = { 0 };
		close(p[0]);
		if (setgroups(n_groups, groups) || setgid(gid) || setuid(uid))
			_exit(3);
		int fd = td_connect(sock, 2000);
		res.connected = fd >= 0;
		Mnv2__Request q;
		Mnv2__StatusRequest sr = MNV2__STATUS_REQUEST__INIT;
		td_request(&q, 7);
		q.body_case = MNV2__REQUEST__BODY_STATUS;
		q.status = &sr;
		if (fd >= 0) {
			td_send(fd, &q);   /* may fail (EPIPE): the answer is still there */
			Mnv2__Response *r = td_recv(fd, 10000, NULL);
			if (r) {
				res.answered = 1;
				res.request_id = r->request_id;
				res.status = r->status;
				snprintf(res.message, sizeof res.message, "%s", r->message);
				mnv2__response__free_unpacked(r, NULL);
				if (res.status == ST(PERMISSION_DENIED))
					res.closed_after = td_wait_closed(fd, 2000);
			}
			close(fd);
		}
		_exit(write(p[1], &res, sizeof res) == sizeof res ? 0 : 4);
	}
	close(p[1]);
	peer_result res = { 0 };
	ck_assert_int_eq(read(p[0], &res, sizeof res), (ssize_t)sizeof res);
	close(p[0]);
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "client status %d", st);
	return res;
}

static void expect_denied(const peer_result *r, uid_t uid)
{
	char want[64];
	snprintf(want, sizeof want, "uid %u may not use mnv2d", (unsigned)uid);
	ck_assert_msg(r->connected, "could not connect at all");
	ck_assert_msg(r->answered, "no answer:\n%s", td_log(&env));
	ck_assert_uint_eq(r->request_id, 0);
	ck_assert_int_eq(r->status, ST(PERMISSION_DENIED));
	ck_assert_msg(strstr(r->message, want), "%s", r->message);
	ck_assert_msg(r->closed_after, "the connection stayed open");
}

static void expect_allowed(const peer_result *r)
{
	ck_assert_msg(r->connected && r->answered, "no answer:\n%s", td_log(&env));
	ck_assert_msg(r->status == ST(OK), "status %d: %s", r->status, r->message);
	ck_assert_uint_eq(r->request_id, 7);
}

/* Clients under other ids must reach the socket: the directory is opened up. */
static void start_open(const char *extra)
{
	char yaml[512];
	snprintf(yaml, sizeof yaml, "socket_mode: \"0666\"\n%s", extra ? extra : "");
	ck_assert_int_eq(chmod(env.dir, 0711), 0);
	ck_assert_msg(td_start(&env, yaml, NULL) == 0, "mnv2d did not start:\n%s", td_log(&env));
}

START_TEST(access_default_policy)
{
	if (!need_root())
		return;
	start_open(NULL);   /* root daemon, socket group root: only root (and itself) */
	peer_result r = peer_status(env.sock, 65534, 65534, NULL, 0);
	expect_denied(&r, 65534);
	ck_assert_msg(strstr(r.message, "not root and not in the socket's group 0"), "%s",
		      r.message);
	/* logged once per (uid, pid): this process tries three times */
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(3);
		for (int i = 0; i < 3; i++) {
			int fd = td_connect(env.sock, 2000);
			Mnv2__Response *resp = fd >= 0 ? td_recv(fd, 10000, NULL) : NULL;
			if (!resp || resp->status != ST(PERMISSION_DENIED))
				_exit(5);
			mnv2__response__free_unpacked(resp, NULL);
			close(fd);
		}
		_exit(0);
	}
	int st;
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_int_eq(st, 0);
	char line[128];
	snprintf(line, sizeof line, "warning: denied a connection from pid %d uid 65534 gid 65534",
		 (int)pid);
	ck_assert_msg(log_count(line) == 1, "want one '%s':\n%s", line, td_log(&env));
	ck_assert_int_eq(log_count("warning: denied a connection from pid"), 2);
	/* a member of the socket's group (supplementary) may */
	gid_t root_group[] = { 0 };
	r = peer_status(env.sock, 65534, 65534, root_group, 1);
	expect_allowed(&r);
	ck_assert_int_eq(status_models(env.sock), 3);   /* root */
	td_stop(&env, SIGTERM, 20000, NULL);
}
END_TEST

START_TEST(access_socket_group)
{
	if (!need_root())
		return;
	start_open("socket_group: \"4242\"\n");
	gid_t g[] = { 4242 };
	peer_result r = peer_status(env.sock, 65534, 4242, NULL, 0);   /* primary group */
	expect_allowed(&r);
	r = peer_status(env.sock, 65534, 65534, g, 1);                 /* supplementary */
	expect_allowed(&r);
	r = peer_status(env.sock, 65534, 65534, NULL, 0);
	expect_denied(&r, 65534);
	ck_assert_msg(strstr(r.message, "socket's group 4242"), "%s", r.message);
	td_stop(&env, SIGTERM, 20000, NULL);
}
END_TEST

START_TEST(access_allow_lists_and_reload)
{
	if (!need_root())
		return;
	start_open("allow_uids: [65534]\nallow_gids: [4343]\n");
	peer_result r = peer_status(env.sock, 65534, 65534, NULL, 0);
	expect_allowed(&r);
	gid_t g[] = { 4343 };
	r = peer_status(env.sock, 1000, 1000, g, 1);
	expect_allowed(&r);
	r = peer_status(env.sock, 1000, 1000, NULL, 0);
	expect_denied(&r, 1000);
	ck_assert_msg(strstr(r.message, "not in allow_uids/allow_gids"), "%s", r.message);
	/* a reload replaces the lists: 65534 is out, 1000 is in */
	ck_assert_int_eq(td_write_config(&env, "socket_mode: \"0666\"\nallow_uids: [1000]\n",
					 NULL), 0);
	ck_assert_int_eq(kill(env.pid, SIGHUP), 0);
	for (int w = 0; w < 10000; w += 20) {
		r = peer_status(env.sock, 1000, 1000, NULL, 0);
		if (r.status == ST(OK))
			break;
		usleep(20000);
	}
	expect_allowed(&r);
	r = peer_status(env.sock, 65534, 65534, NULL, 0);
	expect_denied(&r, 65534);
	td_stop(&env, SIGTERM, 20000, NULL);
}
END_TEST

/* Runs argv, returns its exit status; its stdout and stderr go to out (cut). */
static int run_capture(const char *const *argv, char *out, size_t len)
{
	int p[2];
	ck_assert_int_eq(pipe(p), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	size_t n = 0;
	int64_t end = now_ms() + 20000;
	while (n < len - 1 && now_ms() < end) {
		struct pollfd pf = { .fd = p[0], .events = POLLIN };
		if (poll(&pf, 1, 200) <= 0)
			continue;
		ssize_t r = read(p[0], out + n, len - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	out[n] = 0;
	close(p[0]);
	int st = -1;
	for (int w = 0; w < 20000 && waitpid(pid, &st, WNOHANG) != pid; w += 10)
		usleep(10000);
	if (!WIFEXITED(st)) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return -1;
	}
	return WEXITSTATUS(st);
}

START_TEST(access_mnv2ctl_under_setpriv)
{
	char setpriv[512], ctl[512], out[4096];
	if (!need_root())
		return;
	if (!have_tool("setpriv", setpriv, sizeof setpriv)) {
		fprintf(stderr, "SKIP: setpriv (util-linux) is not installed\n");
		return;
	}
	snprintf(ctl, sizeof ctl, "%s/client/mnv2ctl", td_build_dir());
	if (access(ctl, X_OK)) {
		fprintf(stderr, "SKIP: %s is not built\n", ctl);
		return;
	}
	start_open(NULL);
	const char *argv[] = { setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", ctl,
			       "--socket", env.sock, "status", NULL };
	int rc = run_capture(argv, out, sizeof out);
	ck_assert_msg(rc == 1 && strstr(out, "PERMISSION_DENIED") && strstr(out, "uid 65534"),
		      "exit %d: %s", rc, out);
	/* allowed after a reload that lists it: mnv2ctl reload as root, then status */
	ck_assert_int_eq(td_write_config(&env, "socket_mode: \"0666\"\nallow_uids: [65534]\n",
					 NULL), 0);
	const char *reload[] = { ctl, "--socket", env.sock, "reload", NULL };
	rc = run_capture(reload, out, sizeof out);
	ck_assert_msg(rc == 0 && strstr(out, "generation 2"), "exit %d: %s", rc, out);
	rc = run_capture(argv, out, sizeof out);
	ck_assert_msg(rc == 0 && strstr(out, "generation 2"), "exit %d: %s", rc, out);
	td_stop(&env, SIGTERM, 20000, NULL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("systemd");
	struct {
		const char *name;
		const TTest *t;
	} tests[] = {
		{ "notify_lifecycle", notify_lifecycle },
		{ "watchdog_wedged", watchdog_stops_while_wedged },
		{ "watchdog_other_pid", watchdog_for_another_pid },
		{ "test_hook_gate", test_hook_needs_enabling },
		{ "activation_listen_fds", activation_listen_fds },
		{ "activation_errors", activation_errors },
		{ "systemd_socket_activate", activation_systemd_socket_activate },
		{ "access_default", access_default_policy },
		{ "access_socket_group", access_socket_group },
		{ "access_lists_reload", access_allow_lists_and_reload },
		{ "access_mnv2ctl_setpriv", access_mnv2ctl_under_setpriv },
	};
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		TCase *tc = tcase_create(tests[i].name);
		tcase_set_timeout(tc, 60);   /* each takes a few seconds; headroom for ASan */
		tcase_add_unchecked_fixture(tc, env_setup, env_teardown);
		tcase_add_test(tc, tests[i].t);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
