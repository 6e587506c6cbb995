/* access — see access.h. */
#include "access.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59   /* Linux 4.13; older headers lack the name */
#endif

/* Groups read on the stack; more are read into a bounded allocation. */
#define GROUPS_STACK 64
#define GROUPS_MAX 65536   /* NGROUPS_MAX */

static int has_uid(const uid_t *v, size_t n, uid_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return 1;
	return 0;
}

static int has_gid(const gid_t *v, size_t n, gid_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == id)
			return 1;
	return 0;
}

/* Is any of the peer's groups in v[0..n)? */
static int in_groups(const gid_t *v, size_t n, gid_t gid, const gid_t *groups,
		     size_t n_groups)
{
	if (has_gid(v, n, gid))
		return 1;
	for (size_t i = 0; groups && i < n_groups; i++)
		if (has_gid(v, n, groups[i]))
			return 1;
	return 0;
}

int mnv2d_access_allowed(const mnv2d_access *a, uid_t uid, gid_t gid, const gid_t *groups,
			 size_t n_groups)
{
	if (uid == a->self_uid)
		return 1;
	if (a->explicit_lists)
		return has_uid(a->uids, a->n_uids, uid) ||
		       in_groups(a->gids, a->n_gids, gid, groups, n_groups);
	if (uid == 0)
		return 1;
	return a->sock_gid_known && in_groups(&a->sock_gid, 1, gid, groups, n_groups);
}

/* Does the policy depend on the peer's groups at all? */
static int needs_groups(const mnv2d_access *a)
{
	return a->explicit_lists ? a->n_gids > 0 : a->sock_gid_known;
}

int mnv2d_access_check(const mnv2d_access *a, int fd, mnv2d_peer *peer)
{
	struct ucred cred;
	socklen_t cl = sizeof cred;
	*peer = (mnv2d_peer){ 0 };
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) || cl != sizeof cred)
		return -1;
	*peer = (mnv2d_peer){ .pid = cred.pid, .uid = cred.uid, .gid = cred.gid };
	if (mnv2d_access_allowed(a, cred.uid, cred.gid, NULL, 0))
		return 1;
	if (!needs_groups(a))
		return 0;
	gid_t stack[GROUPS_STACK], *groups = stack;
	socklen_t len = sizeof stack;
	int rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	if (rc && errno == ERANGE && len <= GROUPS_MAX * sizeof(gid_t) &&
	    (groups = malloc(len ? len : 1)) != NULL)
		rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	int ok = 0;
	if (!rc && groups)
		ok = mnv2d_access_allowed(a, cred.uid, cred.gid, groups, len / sizeof(gid_t));
	if (groups != stack)
		free(groups);
	return ok;
}

int mnv2d_denials_note(mnv2d_denials *d, uid_t uid, pid_t pid, int64_t now_us,
		       unsigned long long *summary)
{
	*summary = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->seen[i].uid == uid && d->seen[i].pid == pid)
			return 0;
	d->seen[d->next].uid = uid;
	d->seen[d->next].pid = pid;
	d->next = (d->next + 1) % MNV2D_DENIALS_REMEMBERED;
	if (d->n < MNV2D_DENIALS_REMEMBERED)
		d->n++;
	if (!d->window_start || now_us - d->window_start >= MNV2D_DENIALS_WINDOW_US) {
		d->window_start = now_us ? now_us : 1;
		d->in_window = 0;
		*summary = d->suppressed;
		d->suppressed = 0;
	}
	if (d->in_window >= MNV2D_DENIALS_PER_WINDOW) {
		d->suppressed++;
		return 0;
	}
	d->in_window++;
	return 1;
}
