/* fuzz_config — libFuzzer harness for the configuration parser (mnv2_config_parse).
 *
 * The input goes to the parser without a copy, so ASan sees any read past the fuzzer's
 * exactly-sized buffer. The file name has a directory so that relative model paths are
 * joined. Checked on every input: the return value is 0 or -1; a failure leaves a message
 * "fuzz.yaml...:LINE:COL: text" with a position inside the input and an all-zero result;
 * a success gives 1..64 models, each with a name and a path, and every string of the
 * result is readable (touched here, so a dangling one trips ASan) and freed.
 *
 * Build by hand (or with scripts/fuzz.sh config):
 *   clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
 *     -fno-sanitize-recover=undefined -Iconfig/include -Iconfig/src \
 *     tests/fuzz/fuzz_config.c config/src/config.c config/src/cfg_*.c $(pkg-config --cflags --libs yaml-0.1) \
 *     -o fuzz_config
 *   ./fuzz_config -max_len=65536 -max_total_time=120 CORPUS_DIR */
#include "mnv2/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "/etc/mnv2d/fuzz.yaml"

static size_t touch(const char *s, int may_be_null)
{
	if (!s && !may_be_null)
		abort();
	return s ? strlen(s) : 0;
}

static void check_success(const mnv2_config *c)
{
	size_t sum = touch(c->path, 0) + touch(c->socket_path, 0) + touch(c->log_level, 0) +
		     touch(c->socket_group, 1);
	if (c->n_models < 1 || c->n_models > MNV2_CONFIG_MAX_MODELS ||
	    c->n_allow_uids > MNV2_CONFIG_MAX_IDS || c->n_allow_gids > MNV2_CONFIG_MAX_IDS)
		abort();
	for (size_t i = 0; i < c->n_models; i++) {
		const mnv2_model_cfg *m = &c->models[i];
		sum += touch(m->name, 0) + touch(m->path, 0) + touch(m->labels, 1);
		if (m->line < 1 || m->ssd.num_aspect_ratios < 1 || m->ssd.num_aspect_ratios > 8 ||
		    m->ssd.num_feature_maps < 0 || m->ssd.num_feature_maps > 8)
			abort();
	}
	if (sum == 0)
		abort();
}

static void check_failure(const mnv2_config *c, const char *err, size_t size)
{
	static const mnv2_config zero;
	int line = 0, col = 0, end = 0;
	if (memcmp(c, &zero, sizeof zero) != 0)
		abort();
	if (sscanf(err, NAME ":%d:%d: %n", &line, &col, &end) != 2 || end == 0 || !err[end])
		abort();
	if (line < 1 || col < 1 || (size_t)line > size + 2 || (size_t)col > size + 2)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mnv2_config c;
	char err[512];
	int rc = mnv2_config_parse((const char *)data, size, NAME, &c, err, sizeof err);
	if (rc == 0) {
		check_success(&c);
		mnv2_config_free(&c);
	} else if (rc == -1) {
		check_failure(&c, err, size);
	} else {
		abort();
	}
	return 0;
}
