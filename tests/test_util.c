/* test_util — see test_util.h. */
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const char *test_shared_dir(void)
{
	const char *d = getenv("MNV2_SHARED_DIR");
	struct stat st;
	if (!d)
		d = "../shared";
	return stat(d, &st) == 0 && S_ISDIR(st.st_mode) ? d : NULL;
}

uint8_t *test_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	uint8_t *buf = malloc(max + 1);
	size_t n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if (!buf || n > max) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

uint32_t test_rand(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

int32_t test_rand_range(uint32_t *s, int32_t lo, int32_t hi)
{
	uint64_t span = (uint64_t)((int64_t)hi - lo) + 1;
	return (int32_t)(lo + (int64_t)(test_rand(s) % span));
}
