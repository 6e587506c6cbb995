/* Unit tests of the daemon's service-manager modules: the notify protocol (addresses,
 * watchdog variables, datagrams on filesystem and abstract sockets), socket activation
 * (variable parsing, adopting the passed socket), access control (policies, the peer's
 * groups over a real socketpair) and the rate-limited memory of logged denials. */
#include "access.h"
#include "activation.h"
#include "notify.h"
#include "sock.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define ERRLEN 512

/* ---- notify ---- */

START_TEST(notify_addresses)
{
	struct sockaddr_un a;
	socklen_t len;
	ck_assert_int_eq(mnv2d_notify_address("/run/systemd/notify", &a, &len), 0);
	ck_assert_str_eq(a.sun_path, "/run/systemd/notify");
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 20);
	ck_assert_int_eq(mnv2d_notify_address("@sd-notify/x", &a, &len), 0);
	ck_assert_int_eq(a.sun_path[0], 0);
	ck_assert_int_eq(memcmp(a.sun_path + 1, "sd-notify/x", 11), 0);
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 12);   /* no NUL */
	ck_assert_int_eq(mnv2d_notify_address("relative/path", &a, &len), -1);
	ck_assert_int_eq(mnv2d_notify_address("", &a, &len), -1);
	ck_assert_int_eq(mnv2d_notify_address("@", &a, &len), -1);
	ck_assert_int_eq(mnv2d_notify_address("/", &a, &len), -1);
	ck_assert_int_eq(mnv2d_notify_address("vsock:2:1234", &a, &len), -1);
	ck_assert_int_eq(mnv2d_notify_address(NULL, &a, &len), -1);
	char longp[200];
	memset(longp, 'a', sizeof longp - 1);
	longp[0] = '/';
	longp[sizeof longp - 1] = 0;
	ck_assert_int_eq(mnv2d_notify_address(longp, &a, &len), -1);
	longp[sizeof a.sun_path - 1] = 0;   /* 107 bytes: the longest that fits */
	ck_assert_int_eq(mnv2d_notify_address(longp, &a, &len), 0);
}
END_TEST

START_TEST(watchdog_variables)
{
	ck_assert_uint_eq(mnv2d_watchdog_usec("30000000", NULL, 42), 30000000);
	ck_assert_uint_eq(mnv2d_watchdog_usec("200000", "42", 42), 200000);
	ck_assert_uint_eq(mnv2d_watchdog_usec("200000", "41", 42), 0);   /* another process */
	ck_assert_uint_eq(mnv2d_watchdog_usec("200000", "4x", 42), 0);
	ck_assert_uint_eq(mnv2d_watchdog_usec("0", NULL, 42), 0);
	ck_assert_uint_eq(mnv2d_watchdog_usec("", NULL, 42), 0);
	ck_assert_uint_eq(mnv2d_watchdog_usec("-5", NULL, 42), 0);
	ck_assert_uint_eq(mnv2d_watchdog_usec("12s", NULL, 42), 0);
	ck_assert_uint_eq(mnv2d_watchdog_usec("99999999999999999999999", NULL, 42), 0);
	ck_assert_uint_eq(mnv2d_watchdog_usec(NULL, "42", 42), 0);
	/* the stall limit: the smaller of the configured one and the watchdog interval */
	ck_assert_uint_eq(mnv2d_stall_limit_us(30000, 0), 30000000);
	ck_assert_uint_eq(mnv2d_stall_limit_us(30000, 10000000), 10000000);
	ck_assert_uint_eq(mnv2d_stall_limit_us(100, 200000), 100000);
	ck_assert_uint_eq(mnv2d_stall_limit_us(0, 200000), 200000);
	ck_assert_uint_eq(mnv2d_stall_limit_us(0, 0), 0);
}
END_TEST

/* A datagram receiver at addr; returns the fd. */
static int dgram_bind(const struct sockaddr_un *a, socklen_t len)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_msg(bind(fd, (const struct sockaddr *)a, len) == 0, "bind: %s",
		      strerror(errno));
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ck_assert_int_eq(poll(&p, 1, 2000), 1);
	ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
	ck_assert_int_ge(n, 0);
	buf[n] = 0;
	ck_assert_str_eq(buf, want);
}

static void notify_roundtrip(const char *value)
{
	struct sockaddr_un a;
	socklen_t len;
	char err[ERRLEN];
	ck_assert_int_eq(mnv2d_notify_address(value, &a, &len), 0);
	int rx = dgram_bind(&a, len);
	setenv("NOTIFY_SOCKET", value, 1);
	setenv("WATCHDOG_USEC", "250000", 1);
	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	mnv2d_notify n;
	ck_assert_int_eq(mnv2d_notify_init(&n, err, sizeof err), 0);
	/* taken out of the environment */
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
	ck_assert_ptr_null(getenv("WATCHDOG_USEC"));
	ck_assert_ptr_null(getenv("WATCHDOG_PID"));
	ck_assert_int_eq(mnv2d_notify_enabled(&n), 1);
	ck_assert_uint_eq(n.watchdog_usec, 250000);
	ck_assert_int_eq(mnv2d_notify_send(&n, "READY=1\nSTATUS=serving"), 0);
	expect_datagram(rx, "READY=1\nSTATUS=serving");
	ck_assert_int_eq(mnv2d_notify_sendf(&n, "STATUS=%d models", 4), 0);
	expect_datagram(rx, "STATUS=4 models");
	/* over the size limit: cut at the last whole line */
	char big[MNV2D_NOTIFY_MAX + 100];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	memcpy(big, "READY=1\n", 8);
	ck_assert_int_eq(mnv2d_notify_send(&n, big), 0);
	expect_datagram(rx, "READY=1\n");
	mnv2d_notify_close(&n);
	mnv2d_notify_close(&n);
	close(rx);
}

START_TEST(notify_filesystem_socket)
{
	char dir[] = "/tmp/mnv2d-notify-XXXXXX", path[128];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/notify", dir);
	notify_roundtrip(path);
	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(notify_abstract_socket)
{
	char name[64];
	snprintf(name, sizeof name, "@mnv2d-test-notify-%d", (int)getpid());
	notify_roundtrip(name);
}
END_TEST

START_TEST(notify_absent_or_bad)
{
	char err[ERRLEN] = "";
	mnv2d_notify n;
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "1000000", 1);
	ck_assert_int_eq(mnv2d_notify_init(&n, err, sizeof err), 0);
	ck_assert_int_eq(mnv2d_notify_enabled(&n), 0);
	ck_assert_int_eq(mnv2d_notify_send(&n, "READY=1"), 0);   /* a no-op */
	ck_assert_ptr_null(getenv("WATCHDOG_USEC"));
	setenv("NOTIFY_SOCKET", "not/absolute", 1);
	ck_assert_int_eq(mnv2d_notify_init(&n, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "NOTIFY_SOCKET='not/absolute'"), "%s", err);
	ck_assert_int_eq(mnv2d_notify_enabled(&n), 0);
	ck_assert_uint_eq(n.watchdog_usec, 0);
	/* a receiver that is gone: an error, never a signal */
	setenv("NOTIFY_SOCKET", "/tmp/mnv2d-no-such-notify-socket", 1);
	ck_assert_int_eq(mnv2d_notify_init(&n, err, sizeof err), 0);
	ck_assert_int_eq(mnv2d_notify_send(&n, "READY=1"), -1);
	mnv2d_notify_close(&n);
}
END_TEST

/* ---- activation ---- */

START_TEST(activation_variables)
{
	char err[ERRLEN], name[16];
	int fd = -1;
	ck_assert_int_eq(mnv2d_activation_parse(NULL, "1", NULL, 7, &fd, name, sizeof name, err,
						sizeof err), 0);
	ck_assert_int_eq(mnv2d_activation_parse("8", "1", NULL, 7, &fd, name, sizeof name, err,
						sizeof err), 0);   /* another process's */
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(mnv2d_activation_parse("7", "1", NULL, 7, &fd, name, sizeof name, err,
						sizeof err), 1);
	ck_assert_int_eq(fd, 3);
	ck_assert_str_eq(name, "");
	ck_assert_int_eq(mnv2d_activation_parse("7", "1", "mnv2d:other", 7, &fd, name,
						sizeof name, err, sizeof err), 1);
	ck_assert_str_eq(name, "mnv2d");
	ck_assert_int_eq(mnv2d_activation_parse("7", "1", "a-very-long-socket-name", 7, &fd,
						name, sizeof name, err, sizeof err), 1);
	ck_assert_str_eq(name, "a-very-long-soc");   /* cut to the buffer */
	ck_assert_int_eq(mnv2d_activation_parse("7", "0", NULL, 7, &fd, NULL, 0, err,
						sizeof err), 0);
	ck_assert_int_eq(mnv2d_activation_parse("7", "2", NULL, 7, &fd, NULL, 0, err,
						sizeof err), -1);
	ck_assert_msg(strstr(err, "2 sockets passed"), "%s", err);
	ck_assert_int_eq(mnv2d_activation_parse("7", NULL, NULL, 7, &fd, NULL, 0, err,
						sizeof err), -1);
	ck_assert_int_eq(mnv2d_activation_parse("7", "1x", NULL, 7, &fd, NULL, 0, err,
						sizeof err), -1);
	ck_assert_int_eq(mnv2d_activation_parse("x7", "1", NULL, 7, &fd, NULL, 0, err,
						sizeof err), -1);
	ck_assert_msg(strstr(err, "LISTEN_PID"), "%s", err);
	ck_assert_int_eq(mnv2d_activation_parse("99999999999", "1", NULL, 7, &fd, NULL, 0, err,
						sizeof err), -1);
	/* the real environment is consumed */
	char pid[32];
	snprintf(pid, sizeof pid, "%d", (int)getpid() + 1);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", "x", 1);
	fd = -1;
	ck_assert_int_eq(mnv2d_activation_take(&fd, name, sizeof name, err, sizeof err), 0);
	ck_assert_ptr_null(getenv("LISTEN_PID"));
	ck_assert_ptr_null(getenv("LISTEN_FDS"));
	ck_assert_ptr_null(getenv("LISTEN_FDNAMES"));
}
END_TEST

START_TEST(adopt_checks_the_socket)
{
	char dir[] = "/tmp/mnv2d-adopt-XXXXXX", path[64], err[ERRLEN];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/s.sock", dir);
	mnv2d_sock s;
	/* a socketpair end: AF_UNIX stream, but not listening */
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(mnv2d_sock_adopt(&s, sv[0], err, sizeof err), -1);
	ck_assert_msg(strstr(err, "not listening"), "%s", err);
	close(sv[0]);
	close(sv[1]);
	/* a datagram socket, a file, a closed fd */
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	ck_assert_int_eq(mnv2d_sock_adopt(&s, d, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "not an AF_UNIX stream socket"), "%s", err);
	close(d);
	int inet = socket(AF_INET, SOCK_STREAM, 0);
	if (inet >= 0) {
		ck_assert_int_eq(mnv2d_sock_adopt(&s, inet, err, sizeof err), -1);
		close(inet);
	}
	int null = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(mnv2d_sock_adopt(&s, null, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "is not a socket"), "%s", err);
	close(null);
	ck_assert_int_eq(mnv2d_sock_adopt(&s, -1, err, sizeof err), -1);
	/* a listening one: taken, non-blocking, close-on-exec, path and group read back */
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(mnv2d_sock_adopt(&s, l, err, sizeof err), 0);
	ck_assert_str_eq(s.path, path);
	ck_assert_int_eq(s.activated, 1);
	ck_assert_int_eq(s.gid_known, 1);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(s.gid, st.st_gid);
	ck_assert(fcntl(l, F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(l, F_GETFD) & FD_CLOEXEC);
	/* never unlinked by us: the service manager owns it */
	mnv2d_sock_remove(&s);
	mnv2d_sock_close(&s);
	ck_assert_int_eq(stat(path, &st), 0);
	unlink(path);
	rmdir(dir);
	/* an abstract one: named with '@', no file group */
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	int n = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "mnv2d-adopt-%d", (int)getpid());
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(mnv2d_sock_adopt(&s, l, err, sizeof err), 0);
	ck_assert_int_eq(s.path[0], '@');
	ck_assert_str_eq(s.path + 1, a.sun_path + 1);
	ck_assert_int_eq(s.gid_known, 0);
	mnv2d_sock_close(&s);
}
END_TEST

/* ---- access ---- */

START_TEST(access_default_policy)
{
	mnv2d_access a = { .self_uid = 990, .sock_gid = 44, .sock_gid_known = 1 };
	ck_assert_int_eq(mnv2d_access_allowed(&a, 0, 0, NULL, 0), 1);        /* root */
	ck_assert_int_eq(mnv2d_access_allowed(&a, 990, 990, NULL, 0), 1);    /* ourselves */
	ck_assert_int_eq(mnv2d_access_allowed(&a, 1000, 44, NULL, 0), 1);    /* the group */
	ck_assert_int_eq(mnv2d_access_allowed(&a, 1000, 1000, NULL, 0), 0);
	gid_t groups[] = { 24, 44, 100 };
	ck_assert_int_eq(mnv2d_access_allowed(&a, 1000, 1000, groups, 3), 1);  /* member */
	ck_assert_int_eq(mnv2d_access_allowed(&a, 1000, 1000, groups, 1), 0);
	a.sock_gid_known = 0;   /* an abstract socket: no group to go by */
	ck_assert_int_eq(mnv2d_access_allowed(&a, 1000, 44, groups, 3), 0);
	ck_assert_int_eq(mnv2d_access_allowed(&a, 0, 0, NULL, 0), 1);
}
END_TEST

START_TEST(access_explicit_policy)
{
	mnv2d_access a = { .explicit_lists = 1, .self_uid = 990, .sock_gid = 44,
			   .sock_gid_known = 1, .uids = { 1000, 1001 }, .n_uids = 2,
			   .gids = { 27 }, .n_gids = 1 };
	ck_assert_int_eq(mnv2d_access_allowed(&a, 1001, 5000, NULL, 0), 1);
	ck_assert_int_eq(mnv2d_access_allowed(&a, 2000, 27, NULL, 0), 1);
	gid_t groups[] = { 44, 27 };
	ck_assert_int_eq(mnv2d_access_allowed(&a, 2000, 2000, groups, 2), 1);
	ck_assert_int_eq(mnv2d_access_allowed(&a, 2000, 2000, groups, 1), 0);
	/* the lists replace the default: root and the socket's group are not implied */
	ck_assert_int_eq(mnv2d_access_allowed(&a, 0, 0, NULL, 0), 0);
	ck_assert_int_eq(mnv2d_access_allowed(&a, 2000, 44, NULL, 0), 0);
	ck_assert_int_eq(mnv2d_access_allowed(&a, 990, 990, NULL, 0), 1);   /* ourselves */
	a.n_uids = a.n_gids = 0;   /* empty lists: only ourselves */
	ck_assert_int_eq(mnv2d_access_allowed(&a, 1001, 27, groups, 2), 0);
	ck_assert_int_eq(mnv2d_access_allowed(&a, 990, 1, NULL, 0), 1);
}
END_TEST

/* Over a real socketpair: the kernel's credentials of this process, and of a child with
 * other ids when running as root. */
START_TEST(access_check_reads_peer)
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	mnv2d_peer p;
	mnv2d_access a = { .explicit_lists = 1, .self_uid = (uid_t)-2 };
	ck_assert_int_eq(mnv2d_access_check(&a, sv[0], &p), 0);
	ck_assert_int_eq(p.pid, getpid());
	ck_assert_uint_eq(p.uid, geteuid());
	ck_assert_uint_eq(p.gid, getegid());
	a.uids[0] = geteuid();
	a.n_uids = 1;
	ck_assert_int_eq(mnv2d_access_check(&a, sv[0], &p), 1);
	close(sv[0]);
	close(sv[1]);
	if (geteuid() != 0) {
		fprintf(stderr, "SKIP: access_check_reads_peer: supplementary groups need root\n");
		return;
	}
	/* a child with uid 65534, primary group 65534 and supplementary groups: the
	 * credentials are those at socket creation (socketpair) or connect() */
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		gid_t g[] = { 4242, 4343 };
		if (setgroups(2, g) || setgid(65534) || setuid(65534))
			_exit(1);
		/* connect to the parent's listener with the new ids: the kernel records them */
		char path[108];
		if (read(ready[0], path, sizeof path) <= 0)
			_exit(1);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
		if (connect(fd, (struct sockaddr *)&sa, sizeof sa))
			_exit(2);
		char b;
		(void)!read(fd, &b, 1);   /* until the parent closes */
		_exit(0);
	}
	char dir[] = "/tmp/mnv2d-peer-XXXXXX", path[108];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	chmod(dir, 0755);
	snprintf(path, sizeof path, "%s/l.sock", dir);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sa, sizeof sa), 0);
	chmod(path, 0666);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(write(ready[1], path, sizeof path), (ssize_t)sizeof path);
	int fd = accept(l, NULL, NULL);
	ck_assert_int_ge(fd, 0);
	mnv2d_access b = { .explicit_lists = 1, .self_uid = 0, .gids = { 4343 }, .n_gids = 1 };
	ck_assert_int_eq(mnv2d_access_check(&b, fd, &p), 1);   /* by a supplementary group */
	ck_assert_uint_eq(p.uid, 65534);
	ck_assert_uint_eq(p.gid, 65534);
	ck_assert_int_eq(p.pid, child);
	b.gids[0] = 4444;
	ck_assert_int_eq(mnv2d_access_check(&b, fd, &p), 0);
	mnv2d_access dflt = { .self_uid = 0, .sock_gid = 4242, .sock_gid_known = 1 };
	ck_assert_int_eq(mnv2d_access_check(&dflt, fd, &p), 1);   /* in the socket's group */
	dflt.sock_gid = 4141;
	ck_assert_int_eq(mnv2d_access_check(&dflt, fd, &p), 0);
	close(fd);
	int st;
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
	close(l);
	unlink(path);
	rmdir(dir);
	close(ready[0]);
	close(ready[1]);
}
END_TEST

START_TEST(denials_once_and_rate_limited)
{
	static mnv2d_denials d;
	unsigned long long sup;
	int64_t t = 1000;
	ck_assert_int_eq(mnv2d_denials_note(&d, 1000, 55, t, &sup), 1);
	ck_assert_int_eq(mnv2d_denials_note(&d, 1000, 55, t + 1, &sup), 0);   /* once */
	ck_assert_int_eq(mnv2d_denials_note(&d, 1000, 56, t + 2, &sup), 1);   /* other pid */
	ck_assert_int_eq(mnv2d_denials_note(&d, 1001, 55, t + 3, &sup), 1);   /* other uid */
	/* a flood of new pids: at most MNV2D_DENIALS_PER_WINDOW warnings per window */
	int logged = 3;
	for (int i = 0; i < 100; i++)
		logged += mnv2d_denials_note(&d, 2000, 1000 + i, t + 10 + i, &sup);
	ck_assert_int_eq(logged, MNV2D_DENIALS_PER_WINDOW);
	/* the next window: a summary of what was not logged */
	ck_assert_int_eq(mnv2d_denials_note(&d, 3000, 1, t + MNV2D_DENIALS_WINDOW_US, &sup), 1);
	ck_assert_uint_eq(sup, 100 - (MNV2D_DENIALS_PER_WINDOW - 3));
	ck_assert_int_eq(mnv2d_denials_note(&d, 3000, 2, t + MNV2D_DENIALS_WINDOW_US + 1, &sup),
			 1);
	ck_assert_uint_eq(sup, 0);
	/* memory is bounded: an old pair is forgotten after MNV2D_DENIALS_REMEMBERED others */
	ck_assert_int_eq(mnv2d_denials_note(&d, 3000, 2, t + 2 * MNV2D_DENIALS_WINDOW_US, &sup), 0);
	for (int i = 0; i < MNV2D_DENIALS_REMEMBERED; i++)
		mnv2d_denials_note(&d, 4000, 100 + i, t + 2 * MNV2D_DENIALS_WINDOW_US, &sup);
	ck_assert_int_eq(mnv2d_denials_note(&d, 3000, 2, t + 3 * MNV2D_DENIALS_WINDOW_US, &sup), 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("service_units");
	TCase *tc = tcase_create("units");
	tcase_add_test(tc, notify_addresses);
	tcase_add_test(tc, watchdog_variables);
	tcase_add_test(tc, notify_filesystem_socket);
	tcase_add_test(tc, notify_abstract_socket);
	tcase_add_test(tc, notify_absent_or_bad);
	tcase_add_test(tc, activation_variables);
	tcase_add_test(tc, adopt_checks_the_socket);
	tcase_add_test(tc, access_default_policy);
	tcase_add_test(tc, access_explicit_policy);
	tcase_add_test(tc, access_check_reads_peer);
	tcase_add_test(tc, denials_once_and_rate_limited);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
