/* labels — see labels.h. */
#include "labels.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BYTES (1u << 20)
#define MAX_LINES 100000u

int mnv2_labels_parse(const char *data, size_t len, mnv2_labels *out)
{
	memset(out, 0, sizeof *out);
	if (len > MAX_BYTES || !(out->blob = malloc(len + 1)))
		return -1;
	memcpy(out->blob, data, len);
	out->blob[len] = '\0';
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += out->blob[i] == '\n';
	n += len && out->blob[len - 1] != '\n';
	if (n > MAX_LINES || !(out->line = calloc(n ? n : 1, sizeof(char *)))) {
		mnv2_labels_free(out);
		return -1;
	}
	char *p = out->blob;
	for (size_t i = 0; i < n; i++) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		size_t l = strlen(p);
		if (l && p[l - 1] == '\r')
			p[l - 1] = '\0';
		out->line[i] = p;
		p = nl ? nl + 1 : p + l;
	}
	out->n = n;
	return 0;
}

int mnv2_labels_load(const char *path, mnv2_labels *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(MAX_BYTES + 1);
	size_t len = 0;
	int ret = -1;
	memset(out, 0, sizeof *out);
	if (!f || !buf) {
		snprintf(err, errlen, "%s: %s", path, f ? "out of memory" : strerror(errno));
		goto done;
	}
	len = fread(buf, 1, MAX_BYTES + 1, f);
	if (ferror(f))
		snprintf(err, errlen, "%s: read error", path);
	else if (len > MAX_BYTES)
		snprintf(err, errlen, "%s: larger than %u bytes", path, MAX_BYTES);
	else if (mnv2_labels_parse(buf, len, out))
		snprintf(err, errlen, "%s: more than %u lines or out of memory", path, MAX_LINES);
	else
		ret = 0;
done:
	if (f)
		fclose(f);
	free(buf);
	return ret;
}

void mnv2_labels_free(mnv2_labels *l)
{
	free(l->line);
	free(l->blob);
	memset(l, 0, sizeof *l);
}
