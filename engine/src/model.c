/* model — loading (mmap or buffer), freeing and describing models. */
#include "model.h"
#include "mnv2/ssd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MNV2_MAX_FILE_BYTES ((size_t)1 << 31)

int mnv2_fail(mnv2_error *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof err->msg, fmt, ap);
		va_end(ap);
	}
	return -1;
}

const char *mnv2_version(void) { return MNV2_VERSION; }

const char *mnv2_dtype_name(mnv2_dtype t)
{
	switch (t) {
	case MNV2_FLOAT32: return "float32";
	case MNV2_INT32: return "int32";
	case MNV2_UINT8: return "uint8";
	case MNV2_INT64: return "int64";
	case MNV2_INT8: return "int8";
	}
	return "unknown";
}

const char *mnv2_plan_mode_name(mnv2_plan_mode p)
{
	switch (p) {
	case MNV2_PLAN_DEFAULT: return "default";
	case MNV2_PLAN_LAYERS: return "layers";
	case MNV2_PLAN_FUSED: return "fused";
	}
	return "unknown";
}

int mnv2_plan_mode_parse(const char *name, mnv2_plan_mode *out)
{
	for (int p = MNV2_PLAN_DEFAULT; p <= MNV2_PLAN_FUSED; p++)
		if (!strcmp(name, mnv2_plan_mode_name((mnv2_plan_mode)p))) {
			*out = (mnv2_plan_mode)p;
			return 0;
		}
	return -1;
}

/* Taller tiles cost fewer kernel calls and rebuilt halo rows. With the tile heights the
 * budget gave, the arena peaks at some chains; every other chain's tiles grow as long as
 * the fused arena does not, up to TILE_MAX_BYTES of row buffers (doubling, then
 * bisecting): each intra-op thread beyond the first allocates that much again, and
 * taller tiles gain little more (bench/README.md). */
#define TILE_MAX_BYTES ((size_t)128 << 10)
#define GROW_MAX_CHAINS 64
#define GROW_MAX_TENSORS 2048

static int grow_tiles(mnv2_model *m, mnv2_error *err)
{
	size_t target = m->plan_arena[MNV2_PLAN_FUSED];
	if (m->nchains > GROW_MAX_CHAINS || m->ntensors > GROW_MAX_TENSORS)
		return 0; /* each step replans: bounded load time for any file */
	for (int c = 0; c < m->nchains; c++) {
		int good = m->chains[c].rows, bad = m->ops[m->chains[c].dw].k.conv.out_h + 1;
		while (good + 1 < bad) {
			int next = 2 * good < bad ? 2 * good : (good + bad) / 2;
			mnv2_fuse_rows(m, c, next);
			if (mnv2_plan(m, MNV2_PLAN_FUSED, err))
				return -1;
			if (m->arena_bytes <= target && m->chains[c].bytes <= TILE_MAX_BYTES)
				good = next;
			else
				bad = next;
		}
		const mnv2_conv_params *dp = &m->ops[m->chains[c].dw].k.conv;
		if (dp->stride_h == 1 && good > 2 && good % 2 && good < dp->out_h)
			good--; /* the stride-1 depthwise kernels do rows in pairs */
		mnv2_fuse_rows(m, c, good);
	}
	return mnv2_plan(m, MNV2_PLAN_FUSED, err);
}

/* Both plans' arenas are measured; the chosen one is planned last and kept. The default
 * is the fused plan when it needs a smaller arena (it runs as fast or faster: README),
 * else the layer-by-layer one. */
static int plan_both(mnv2_model *m, const mnv2_load_options *o, mnv2_error *err)
{
	int mode = o ? (int)o->plan : MNV2_PLAN_DEFAULT, rows = o ? o->tile_rows : 0;
	if (mode < MNV2_PLAN_DEFAULT || mode > MNV2_PLAN_FUSED)
		return mnv2_fail(err, "%s: unknown memory plan %d", m->name, mode);
	if (rows < 0 || rows > 4096)
		return mnv2_fail(err, "%s: %d tile rows requested; 0 (automatic) to 4096 are supported",
				 m->name, rows);
	if (mnv2_fuse_find(m, rows, err) || mnv2_plan(m, MNV2_PLAN_LAYERS, err) ||
	    mnv2_plan(m, MNV2_PLAN_FUSED, err) || (!rows && grow_tiles(m, err)))
		return -1;
	if (mode == MNV2_PLAN_DEFAULT)
		mode = m->plan_arena[MNV2_PLAN_FUSED] < m->plan_arena[MNV2_PLAN_LAYERS] ?
			       MNV2_PLAN_FUSED : MNV2_PLAN_LAYERS;
	return mode == MNV2_PLAN_LAYERS ? mnv2_plan(m, MNV2_PLAN_LAYERS, err) : 0;
}

static mnv2_model *finish_load(mnv2_model *m, const mnv2_load_options *o, mnv2_error *err)
{
	if (mnv2_model_parse(m, err) || (o && o->ssd && mnv2_ssd_attach(m, o->ssd, err)) ||
	    mnv2_ops_prepare(m, err) || plan_both(m, o, err) ||
	    mnv2_metadata_read(m, err)) {
		mnv2_model_free(m);
		return NULL;
	}
	for (int i = 0; i < m->ntensors; i++)
		if (m->tensors[i].is_const)
			m->param_bytes += m->tensors[i].bytes;
	return m;
}

/* Ops below this many MACs run on the calling thread alone: waking the others would
 * cost more than it saves. */
#define PARALLEL_MIN_MACS (1u << 16)

static mnv2_model *new_model(const char *name, mnv2_error *err)
{
	mnv2_model *m = calloc(1, sizeof *m);
	if (m)
		m->parallel_min_macs = PARALLEL_MIN_MACS;
	if (m && !(m->name = strdup(name ? name : "<buffer>"))) {
		free(m);
		m = NULL;
	}
	if (!m)
		mnv2_fail(err, "out of memory");
	return m;
}

mnv2_model *mnv2_model_load(const char *path, mnv2_error *err)
{
	return mnv2_model_load_ex(path, NULL, err);
}

mnv2_model *mnv2_model_load_ex(const char *path, const mnv2_load_options *opts,
			       mnv2_error *err)
{
	struct stat st;
	mnv2_model *m = new_model(path, err);
	if (!m)
		return NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		mnv2_fail(err, "%s: cannot open: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 8 || (uint64_t)st.st_size > MNV2_MAX_FILE_BYTES) {
		mnv2_fail(err, "%s: not a regular file of 8 bytes to 2 GiB (%lld bytes)", path,
			  (long long)st.st_size);
		goto fail;
	}
	m->size = (size_t)st.st_size;
	m->map = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (m->map == MAP_FAILED) {
		m->map = NULL;
		mnv2_fail(err, "%s: cannot map: %s", path, strerror(errno));
		goto fail;
	}
	m->data = m->map;
	close(fd);
	return finish_load(m, opts, err);
fail:
	if (fd >= 0)
		close(fd);
	mnv2_model_free(m);
	return NULL;
}

mnv2_model *mnv2_model_load_buffer(const void *data, size_t size, const char *name, int keep,
				   mnv2_error *err)
{
	return mnv2_model_load_buffer_ex(data, size, name, keep, NULL, err);
}

mnv2_model *mnv2_model_load_buffer_ex(const void *data, size_t size, const char *name,
				      int keep, const mnv2_load_options *opts, mnv2_error *err)
{
	mnv2_model *m = new_model(name, err);
	if (!m)
		return NULL;
	if (size > MNV2_MAX_FILE_BYTES) {
		mnv2_fail(err, "%s: %zu bytes is too large", m->name, size);
		mnv2_model_free(m);
		return NULL;
	}
	if (keep) {
		m->data = data;
	} else {
		if (!(m->owned = malloc(size ? size : 1))) {
			mnv2_fail(err, "%s: out of memory", m->name);
			mnv2_model_free(m);
			return NULL;
		}
		if (size)
			memcpy(m->owned, data, size);
		m->data = m->owned;
	}
	m->size = size;
	return finish_load(m, opts, err);
}

void mnv2_model_free(mnv2_model *m)
{
	if (!m)
		return;
	for (int i = 0; m->tensors && i < m->ntensors; i++) {
		free(m->tensors[i].name);
		free(m->tensors[i].scales);
		free(m->tensors[i].zero_points);
	}
	for (int i = 0; m->ops && i < m->nops; i++) {
		free(m->ops[i].scales);
		free(m->ops[i].bias);
		free(m->ops[i].softmax);
		free(m->ops[i].detect);
		free(m->ops[i].anchors);
		free(m->ops[i].packed);
	}
	for (size_t i = 0; i < m->nlabels; i++)
		free(m->labels[i]);
	free(m->labels);
	free(m->gen_anchors);
	free(m->chains);
	free(m->op_chain);
	free(m->tensors);
	free(m->ops);
	free(m->inputs);
	free(m->outputs);
	free(m->description);
	free(m->meta_name);
	free(m->meta_description);
	if (m->map)
		munmap(m->map, m->size);
	free(m->owned);
	free(m->name);
	free(m);
}
