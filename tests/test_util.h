/* test_util — helpers shared by the test programs. */
#ifndef MNV2_TEST_UTIL_H
#define MNV2_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* ../shared, from MNV2_SHARED_DIR; NULL when it does not exist. */
const char *test_shared_dir(void);
/* Reads a whole file (at most max bytes) into a malloc'd buffer; NULL on failure. */
uint8_t *test_read_file(const char *path, size_t max, size_t *len);
/* Deterministic PRNG (xorshift32). */
uint32_t test_rand(uint32_t *state);
int32_t test_rand_range(uint32_t *state, int32_t lo, int32_t hi); /* inclusive */

#endif
