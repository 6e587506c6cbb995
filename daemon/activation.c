/* activation — see activation.h. */
#include "activation.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A decimal integer of at most 10 digits with nothing else: 0, or -1. */
static int parse_num(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = 0;
	if (!s || !*s)
		return -1;
	for (; *s; s++, n++) {
		if (*s < '0' || *s > '9' || n >= 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

int mnv2d_activation_parse(const char *listen_pid, const char *listen_fds,
			   const char *listen_fdnames, pid_t self, int *fd, char *name,
			   size_t namelen, char *err, size_t errlen)
{
	uint64_t pid, nfds;
	if (name && namelen)
		name[0] = 0;
	if (!listen_pid)
		return 0;
	if (parse_num(listen_pid, &pid)) {
		snprintf(err, errlen, "socket activation: LISTEN_PID='%.40s' is not a process id",
			 listen_pid);
		return -1;
	}
	if (pid != (uint64_t)self)
		return 0;   /* for another process: not ours to take */
	if (parse_num(listen_fds, &nfds)) {
		snprintf(err, errlen, "socket activation: LISTEN_FDS='%.40s' is not a number",
			 listen_fds ? listen_fds : "");
		return -1;
	}
	if (nfds == 0)
		return 0;
	if (nfds != 1) {
		snprintf(err, errlen, "socket activation: %llu sockets passed (LISTEN_FDS); mnv2d "
			 "serves exactly one (one ListenStream= in mnv2d.socket)",
			 (unsigned long long)nfds);
		return -1;
	}
	if (name && namelen && listen_fdnames) {
		size_t n = strcspn(listen_fdnames, ":");
		if (n >= namelen)
			n = namelen - 1;
		memcpy(name, listen_fdnames, n);
		name[n] = 0;
	}
	*fd = MNV2D_LISTEN_FDS_START;
	return 1;
}

int mnv2d_activation_take(int *fd, char *name, size_t namelen, char *err, size_t errlen)
{
	int rc = mnv2d_activation_parse(getenv("LISTEN_PID"), getenv("LISTEN_FDS"),
					getenv("LISTEN_FDNAMES"), getpid(), fd, name, namelen,
					err, errlen);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	return rc;
}
