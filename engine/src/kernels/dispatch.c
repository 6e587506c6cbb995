/* dispatch — choice of kernel path (cpuid at load) and running an op on a path; see simd.h
 * and the kernel-path functions of mnv2/engine.h. */
#include "simd.h"
#include "../model.h"

#include <string.h>

int mnv2_cpu_path(void)
{
#if defined(MNV2_HAVE_AVX2) && defined(__x86_64__)
	__builtin_cpu_init(); /* idempotent; needed when called before constructors run */
	/* "avx2" includes the OS's YMM state check (xgetbv) */
	return __builtin_cpu_supports("avx2") ? MNV2_KPATH_AVX2 : MNV2_KPATH_PORTABLE;
#else
	return MNV2_KPATH_PORTABLE;
#endif
}

const char *mnv2_kernel_path_name(mnv2_kernel_path p)
{
	switch (p) {
	case MNV2_PATH_PORTABLE: return "portable";
	case MNV2_PATH_AVX2: return "avx2";
	}
	return "unknown";
}

int mnv2_kernel_path_parse(const char *name, mnv2_kernel_path *out)
{
	if (!strcmp(name, "portable"))
		*out = MNV2_PATH_PORTABLE;
	else if (!strcmp(name, "avx2"))
		*out = MNV2_PATH_AVX2;

	else
		return -1;
	return 0;
}

mnv2_kernel_path mnv2_model_kernel_path(const mnv2_model *m)
{
	return (mnv2_kernel_path)m->kpath;
}

size_t mnv2_model_workspace_bytes(const mnv2_model *m) { return m->work_bytes; }

/* [lo, hi) of part `part` of n items in nparts parts. */
static void split(size_t n, int part, int nparts, size_t *lo, size_t *hi)
{
	*lo = n * (size_t)part / (size_t)nparts;
	*hi = n * (size_t)(part + 1) / (size_t)nparts;
}

void mnv2_conv_exec(const mnv2_conv_params *p, int depthwise, const mnv2_conv_packed *pk,
		    int path, const void *in, const void *w, void *out, void *work, int part,
		    int nparts)
{
	size_t lo, hi, rows = (size_t)p->batch * (size_t)p->out_h;
#ifdef MNV2_HAVE_AVX2
	if (path >= MNV2_KPATH_AVX2 && pk && pk->kind == MNV2_PACK_GEMM && !depthwise) {
		size_t px = rows * (size_t)p->out_w, blocks = (px + MNV2_GEMM_MR - 1) / MNV2_GEMM_MR;
		if (blocks >= 16 * (size_t)nparts || pk->npanels < 2 * nparts) { /* by pixels */
			split(blocks, part, nparts, &lo, &hi);
			hi = hi * MNV2_GEMM_MR < px ? hi * MNV2_GEMM_MR : px;
			mnv2_gemm_conv_avx2(p, pk, in, out, work, lo * MNV2_GEMM_MR, hi, 0,
					    pk->npanels);
		} else { /* few pixels (small maps, fully connected): by output channels */
			split((size_t)pk->npanels, part, nparts, &lo, &hi);
			mnv2_gemm_conv_avx2(p, pk, in, out, work, 0, px, (int)lo, (int)hi);
		}
		return;
	}
	if (path >= MNV2_KPATH_AVX2 && pk && pk->kind == MNV2_PACK_DW3 && depthwise) {
		/* by rows: parts share no cache line but at their boundary (16-channel blocks
		 * of a pixel share lines); by blocks only when there are few rows */
		if (rows >= 4 * (size_t)nparts || pk->npanels < nparts) {
			split(rows, part, nparts, &lo, &hi);
			mnv2_dw3_avx2(p, pk, in, out, work, (int)lo, (int)hi, 0, pk->npanels);
		} else {
			split((size_t)pk->npanels, part, nparts, &lo, &hi);
			mnv2_dw3_avx2(p, pk, in, out, work, 0, (int)rows, (int)lo, (int)hi);
		}
		return;
	}
#else
	(void)pk;
	(void)path;
	(void)work;
#endif
	split(rows, part, nparts, &lo, &hi);
	if (depthwise)
		mnv2_dwconv2d_rows(p, in, w, out, (int)lo, (int)hi);
	else
		mnv2_conv2d_rows(p, in, w, out, (int)lo, (int)hi);
}

#ifdef MNV2_HAVE_AVX2
/* Both inputs have the output's shape and layout (no broadcasting). */
static int add_contiguous(const mnv2_add_params *p)
{
	int32_t s = 1;
	for (int i = 3; i >= 0; i--) {
		if (p->out_dims[i] != 1 && (p->a_strides[i] != s || p->b_strides[i] != s))
			return 0;
		s *= p->out_dims[i];
	}
	return 1;
}
#endif

void mnv2_add_exec(const mnv2_add_params *p, int path, const void *a, const void *b,
		   void *out, int part, int nparts)
{
	const int32_t *d = p->out_dims;
	size_t lo, hi, rows = (size_t)d[0] * (size_t)d[1] * (size_t)d[2];
	split(rows, part, nparts, &lo, &hi);
#ifdef MNV2_HAVE_AVX2
	if (path >= MNV2_KPATH_AVX2 && add_contiguous(p)) {
		mnv2_add_avx2(p, a, b, out, lo * (size_t)d[3], hi * (size_t)d[3]);
		return;
	}
#else
	(void)path;
#endif
	mnv2_add_range(p, a, b, out, lo, hi);
}

void mnv2_pool_exec(const mnv2_pool_params *p, int is_max, int path, const void *in,
		    void *out, int part, int nparts)
{
	size_t lo, hi;
	split((size_t)p->batch * (size_t)p->out_h, part, nparts, &lo, &hi);
#ifdef MNV2_HAVE_AVX2
	if (path >= MNV2_KPATH_AVX2) {
		mnv2_pool_avx2(p, is_max, in, out, (int)lo, (int)hi);
		return;
	}
#else
	(void)path;
#endif
	mnv2_pool_rows(p, is_max, in, out, (int)lo, (int)hi);
}
