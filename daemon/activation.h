/* activation — the listening socket handed over by the service manager (socket
 * activation: LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES; the sockets start at fd 3).
 *
 * Contract:
 *  - mnv2d_activation_take() returns 0 when no socket was passed to this process
 *    (LISTEN_PID unset, or another process's pid), 1 with *fd = 3 when exactly one was,
 *    and -1 with a message when the variables are malformed or name more than one socket
 *    (mnv2d serves one). The variables are removed from the environment in every case, so
 *    nothing the daemon starts takes them for its own.
 *  - It only parses; mnv2d_sock_adopt() (sock.h) checks that the fd really is a listening
 *    AF_UNIX stream socket. */
#ifndef MNV2D_ACTIVATION_H
#define MNV2D_ACTIVATION_H

#include <stddef.h>
#include <sys/types.h>

#define MNV2D_LISTEN_FDS_START 3

/* name (optional, may be NULL) receives LISTEN_FDNAMES's first name, or "". */
int mnv2d_activation_take(int *fd, char *name, size_t namelen, char *err, size_t errlen);

/* The parsing itself, on given values (any may be NULL); exposed for tests. */
int mnv2d_activation_parse(const char *listen_pid, const char *listen_fds,
			   const char *listen_fdnames, pid_t self, int *fd, char *name,
			   size_t namelen, char *err, size_t errlen);

#endif
