/* log — see log.h. */
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const int syslog_prio[] = { 3, 4, 6, 7 };

int mnv2d_log_is_journal(const char *journal_stream, int fd)
{
	uintmax_t dev, ino;
	char tail;
	struct stat st;
	if (!journal_stream || sscanf(journal_stream, "%ju:%ju%c", &dev, &ino, &tail) != 2)
		return 0;
	if (fstat(fd, &st))
		return 0;
	return (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

void mnv2d_log_init(mnv2d_log *lg, int fd, mnv2d_level level)
{
	atomic_init(&lg->level, (int)level);
	lg->fd = fd;
	lg->journal = mnv2d_log_is_journal(getenv("JOURNAL_STREAM"), fd);
}

int mnv2d_log_parse_level(const char *s, mnv2d_level *out)
{
	static const struct { const char *name; mnv2d_level level; } names[] = {
		{ "error", MNV2D_LOG_ERROR }, { "warn", MNV2D_LOG_WARN },
		{ "warning", MNV2D_LOG_WARN }, { "info", MNV2D_LOG_INFO },
		{ "debug", MNV2D_LOG_DEBUG },
	};
	for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++) {
		if (!strcmp(s, names[i].name)) {
			*out = names[i].level;
			return 0;
		}
	}
	return -1;
}

void mnv2d_log_set_level(mnv2d_log *lg, mnv2d_level level)
{
	atomic_store(&lg->level, (int)level);
}

int mnv2d_log_enabled(const mnv2d_log *lg, mnv2d_level level)
{
	return (int)level <= atomic_load(&((mnv2d_log *)lg)->level);
}

void mnv2d_logf(const mnv2d_log *lg, mnv2d_level level, const char *fmt, ...)
{
	if (!lg || !mnv2d_log_enabled(lg, level))
		return;
	char line[MNV2D_LOG_LINE];
	int n = lg->journal ? snprintf(line, sizeof line, "<%d>", syslog_prio[level])
			    : snprintf(line, sizeof line, "mnv2d: %s: ", level_names[level]);
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof line - 2)
		len = sizeof line - 2;   /* cut: keep room for the newline */
	line[len++] = '\n';
	const char *p = line;
	while (len) {
		ssize_t w = write(lg->fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;   /* nowhere to report a failing log */
		p += w;
		len -= (size_t)w;
	}
}
