/* flexbuf — a bounds-checked reader for the FlexBuffers maps that hold TFLite custom
 * operator options. Only what option maps use: a root map of string keys to inline or
 * indirect scalars (int, uint, float, bool). Nothing is allocated. */
#ifndef MNV2_FLEXBUF_H
#define MNV2_FLEXBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct flexbuf_map {
	const uint8_t *buf;
	size_t len;
	size_t values;     /* position of the values vector */
	size_t keys;       /* position of the keys vector */
	uint32_t width;    /* byte width of the values */
	uint32_t key_width;
	uint64_t size;     /* entry count */
} flexbuf_map;

/* 0 on success, -1 when the buffer is not a well-formed map. */
int flexbuf_root_map(const uint8_t *buf, size_t len, flexbuf_map *out);
/* Looks a key up: 1 found (value stored), 0 absent, -1 malformed or not a number. */
int flexbuf_get_double(const flexbuf_map *m, const char *key, double *out);

#endif
