/* sock — the daemon's listening Unix socket.
 *
 * Contract:
 *  - mnv2d_sock_listen() refuses to take over a path that a live daemon listens on (a
 *    connect() succeeds), replaces a stale socket file (connect() is refused), and refuses
 *    any other kind of file. It does not create the directory (systemd's RuntimeDirectory=
 *    does): a missing directory is an error saying so. After bind() the file gets the
 *    configured mode (chmod) and group (chown), and only then does listen() start, so no
 *    client can connect through a wrongly permitted file.
 *  - mnv2d_sock_adopt() takes a socket the service manager bound (socket activation; see
 *    activation.h) after checking that it is a listening AF_UNIX SOCK_STREAM socket. Its
 *    file belongs to the service manager: mode and group are left as they are (the socket
 *    unit sets them) and it is never unlinked here.
 *  - mnv2d_sock_remove() unlinks the path only while it is still the file this process
 *    bound (same device and inode), so it never removes another daemon's socket.
 *  - gid is the socket file's group once listening (access control's default allows it);
 *    gid_known is 0 when there is no file to look at (an abstract or unnamed socket).
 *  - Blocking calls only at startup/shutdown; nothing here runs per request. */
#ifndef MNV2D_SOCK_H
#define MNV2D_SOCK_H

#include <stddef.h>
#include <sys/types.h>

typedef struct mnv2d_sock {
	int fd;           /* listening, non-blocking, close-on-exec; -1 when closed */
	char *path;
	dev_t dev;
	ino_t ino;
	int replaced_stale;   /* a stale socket file was removed */
	int activated;        /* handed over by the service manager (never unlinked here) */
	gid_t gid;            /* the socket file's group */
	int gid_known;
} mnv2d_sock;

/* group NULL or "": leave the group alone. 0, or -1 with a message in err. */
int mnv2d_sock_listen(mnv2d_sock *s, const char *path, mode_t mode, const char *group,
		      char *err, size_t errlen);
/* Takes over fd (a listening socket from the service manager): made non-blocking and
 * close-on-exec, its path read back. 0, or -1 with a message (fd left open). */
int mnv2d_sock_adopt(mnv2d_sock *s, int fd, char *err, size_t errlen);
void mnv2d_sock_remove(mnv2d_sock *s);
/* Closes the fd and forgets the path (call mnv2d_sock_remove() first to unlink it); fine
 * when never opened and when called twice. */
void mnv2d_sock_close(mnv2d_sock *s);

#endif
