/* labels — a label file (one label per line, line i = class i), read with bounds:
 * at most 1 MiB and 100000 lines; CR/LF endings; a missing final newline is fine. */
#ifndef MNV2_LABELS_H
#define MNV2_LABELS_H

#include <stddef.h>

typedef struct mnv2_labels {
	char *blob;
	char **line;
	size_t n;
} mnv2_labels;

/* 0 on success; on failure -1 and a message in err (errlen bytes). */
int mnv2_labels_load(const char *path, mnv2_labels *out, char *err, size_t errlen);
int mnv2_labels_parse(const char *data, size_t len, mnv2_labels *out);
void mnv2_labels_free(mnv2_labels *l);

#endif
