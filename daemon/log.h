/* log — the daemon's logger: one line per message on a file descriptor (stderr).
 *
 * Contract:
 *  - Levels error < warn < info < debug; a message is written when its level is at or
 *    below the logger's level. Nothing per request is logged at info or above.
 *  - Under systemd (JOURNAL_STREAM names the device:inode of the output fd) each line
 *    starts with the syslog priority "<N>" (error 3, warn 4, info 6, debug 7) and nothing
 *    else, since the journal adds time and process; otherwise "mnv2d: LEVEL: message".
 *  - A line is formatted into a bounded buffer (cut at MNV2D_LOG_LINE bytes) and written
 *    with one write(2), so lines from different threads never interleave.
 *  - The level may be changed (e.g. by a reload) while other threads log: it is atomic.
 */
#ifndef MNV2D_LOG_H
#define MNV2D_LOG_H

#include <stdatomic.h>

#define MNV2D_LOG_LINE 1024

typedef enum mnv2d_level {
	MNV2D_LOG_ERROR = 0,
	MNV2D_LOG_WARN = 1,
	MNV2D_LOG_INFO = 2,
	MNV2D_LOG_DEBUG = 3,
} mnv2d_level;

typedef struct mnv2d_log {
	atomic_int level;
	int fd;
	int journal;    /* 1: "<N>" priority prefixes */
} mnv2d_log;

/* Logs to fd at level; journal mode when JOURNAL_STREAM matches fd's device and inode. */
void mnv2d_log_init(mnv2d_log *lg, int fd, mnv2d_level level);
/* "error", "warn" (or "warning"), "info", "debug": 0; anything else: -1. */
int mnv2d_log_parse_level(const char *s, mnv2d_level *out);
void mnv2d_log_set_level(mnv2d_log *lg, mnv2d_level level);
int mnv2d_log_enabled(const mnv2d_log *lg, mnv2d_level level);

/* Checks JOURNAL_STREAM ("DEV:INODE") against fd; exposed for tests. */
int mnv2d_log_is_journal(const char *journal_stream, int fd);

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void mnv2d_logf(const mnv2d_log *lg, mnv2d_level level, const char *fmt, ...);

#define LOG_ERR(lg, ...) mnv2d_logf((lg), MNV2D_LOG_ERROR, __VA_ARGS__)
#define LOG_WARN(lg, ...) mnv2d_logf((lg), MNV2D_LOG_WARN, __VA_ARGS__)
#define LOG_INFO(lg, ...) mnv2d_logf((lg), MNV2D_LOG_INFO, __VA_ARGS__)
#define LOG_DEBUG(lg, ...) mnv2d_logf((lg), MNV2D_LOG_DEBUG, __VA_ARGS__)

#endif
