/* access — who may use the daemon, decided on every accepted connection from the peer's
 * kernel-recorded credentials (SO_PEERCRED; its supplementary groups from SO_PEERGROUPS).
 *
 * Contract:
 *  - The daemon's own uid is always allowed (the same principal: `mnv2ctl reload` in the
 *    unit's ExecReload= runs as it, and it could signal the daemon anyway).
 *  - Explicit policy (allow_uids and/or allow_gids in the configuration): a peer is allowed
 *    when its uid is listed, or its primary group or one of its supplementary groups is
 *    listed. An empty list allows no one by that criterion.
 *  - Default policy (neither key): uid 0, and peers in the socket file's group (primary or
 *    supplementary) — the group the socket's mode already lets connect.
 *  - Supplementary groups count as they do for the file's permissions: a user whose
 *    primary group is their own (the usual setup) but who is a member of `video` is "in
 *    video". When the kernel cannot report them, only the primary group is checked.
 *  - mnv2d_denials remembers which (uid, pid) pairs were already logged (the last
 *    MNV2D_DENIALS_REMEMBERED) and allows at most MNV2D_DENIALS_PER_WINDOW warnings per
 *    MNV2D_DENIALS_WINDOW_US; the rest are counted, so a client retrying in a loop, or
 *    many processes, cannot flood the journal. Fixed memory; loop thread only. */
#ifndef MNV2D_ACCESS_H
#define MNV2D_ACCESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MNV2D_ACCESS_MAX_IDS 64
#define MNV2D_DENIALS_REMEMBERED 64
#define MNV2D_DENIALS_PER_WINDOW 10
#define MNV2D_DENIALS_WINDOW_US 60000000

typedef struct mnv2d_access {
	int explicit_lists;          /* allow_uids / allow_gids were configured */
	uid_t uids[MNV2D_ACCESS_MAX_IDS];
	size_t n_uids;
	gid_t gids[MNV2D_ACCESS_MAX_IDS];
	size_t n_gids;
	uid_t self_uid;              /* always allowed */
	gid_t sock_gid;              /* default policy: the socket file's group ... */
	int sock_gid_known;          /* ... when there is a file */
} mnv2d_access;

typedef struct mnv2d_peer {
	pid_t pid;
	uid_t uid;
	gid_t gid;
} mnv2d_peer;

/* The policy on given credentials (groups: supplementary, may be NULL). 1 allowed. */
int mnv2d_access_allowed(const mnv2d_access *a, uid_t uid, gid_t gid, const gid_t *groups,
			 size_t n_groups);
/* Reads fd's peer into *peer and applies the policy: 1 allowed, 0 denied, -1 when the
 * credentials cannot be read (deny). */
int mnv2d_access_check(const mnv2d_access *a, int fd, mnv2d_peer *peer);

typedef struct mnv2d_denials {
	struct { uid_t uid; pid_t pid; } seen[MNV2D_DENIALS_REMEMBERED];
	size_t n, next;
	int64_t window_start;        /* µs */
	unsigned in_window;
	unsigned long long suppressed;   /* not logged since the last summary */
} mnv2d_denials;

/* Should this denial be logged at warn? 1 yes, 0 no (already logged, or over the rate).
 * *summary receives how many were suppressed before this one when a new window opens
 * (0 otherwise), for a "N more denials not logged" line. */
int mnv2d_denials_note(mnv2d_denials *d, uid_t uid, pid_t pid, int64_t now_us,
		       unsigned long long *summary);

#endif
