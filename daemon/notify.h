/* notify — the service manager's notification protocol (sd_notify), implemented here.
 *
 * The protocol is one datagram: newline-separated "KEY=VALUE" assignments sent on an
 * AF_UNIX SOCK_DGRAM socket to the address in $NOTIFY_SOCKET (a filesystem path, or an
 * abstract-namespace name written with a leading '@'). systemd identifies the sender by
 * the kernel's credentials on the datagram, so nothing else is needed.
 *
 * Contract:
 *  - mnv2d_notify_init() reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID and removes
 *    them from the environment (nothing the daemon starts inherits them). Without
 *    NOTIFY_SOCKET every send is a no-op that succeeds. A NOTIFY_SOCKET that cannot be
 *    used is reported (-1 and err) and leaves the notifier disabled.
 *  - The watchdog is on when WATCHDOG_USEC is a positive integer and WATCHDOG_PID is
 *    unset or this process's pid; watchdog_usec is 0 otherwise.
 *  - Sends never raise SIGPIPE and block at most MNV2D_NOTIFY_SEND_TIMEOUT_MS when the
 *    receiver's queue is full (then the message is lost and -1 returned); a message is
 *    at most MNV2D_NOTIFY_MAX bytes (longer ones are cut at a line boundary).
 *  - Not thread-safe by itself: the daemon sends only from its loop thread. */
#ifndef MNV2D_NOTIFY_H
#define MNV2D_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#define MNV2D_NOTIFY_MAX 2048
#define MNV2D_NOTIFY_SEND_TIMEOUT_MS 1000

typedef struct mnv2d_notify {
	int fd;                      /* -1: no service manager to notify */
	struct sockaddr_un addr;
	socklen_t addrlen;
	uint64_t watchdog_usec;      /* 0: no watchdog */
} mnv2d_notify;

/* 0 (also when not under a service manager), or -1 with a message in err. */
int mnv2d_notify_init(mnv2d_notify *n, char *err, size_t errlen);
/* 1 when messages go somewhere. */
int mnv2d_notify_enabled(const mnv2d_notify *n);
/* 0 sent (or disabled), -1 failed (errno set). */
int mnv2d_notify_send(const mnv2d_notify *n, const char *msg);
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
int mnv2d_notify_sendf(const mnv2d_notify *n, const char *fmt, ...);
void mnv2d_notify_close(mnv2d_notify *n);   /* fine when never opened, and twice */

/* Exposed for tests. The address of a NOTIFY_SOCKET value: 0, or -1 when it is empty,
 * neither absolute nor abstract ('@'), or too long. */
int mnv2d_notify_address(const char *value, struct sockaddr_un *a, socklen_t *len);
/* WATCHDOG_USEC / WATCHDOG_PID as described above; either may be NULL. */
uint64_t mnv2d_watchdog_usec(const char *usec, const char *pid, pid_t self);
/* The stall limit: a worker busy longer than this on one request is wedged. The smaller
 * of the configured limit (0: none) and the watchdog interval (0: no watchdog); 0 when
 * neither is set. */
uint64_t mnv2d_stall_limit_us(uint32_t config_ms, uint64_t watchdog_usec);

#endif
