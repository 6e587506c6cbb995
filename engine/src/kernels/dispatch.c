/* dispatch — choice of kernel path (cpuid at load) and running an op on a path; see simd.h
 * and the kernel-path functions of mnv2/engine.h. */
#include "simd.h"
#include "../model.h"

#include <string.h>
#if defined(MNV2_HAVE_AVXVNNI) && defined(__x86_64__)
#include <cpuid.h>
#endif

int mnv2_cpu_path(void)
{
#if defined(MNV2_HAVE_AVX2) && defined(__x86_64__)
	__builtin_cpu_init(); /* idempotent; needed when called before constructors run */
	/* "avx2" includes the OS's YMM state check (xgetbv) */
	if (!__builtin_cpu_supports("avx2"))
		return MNV2_KPATH_PORTABLE;
#ifdef MNV2_HAVE_AVXVNNI
	/* AVX-VNNI: cpuid leaf 7 subleaf 1, eax bit 4 (GCC 12 and clang 14 cannot name it
	 * in __builtin_cpu_supports) */
	unsigned a, b, c, d;
	if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1))
		return MNV2_KPATH_AVXVNNI;
#endif
	return MNV2_KPATH_AVX2;
#else
	return MNV2_KPATH_PORTABLE;
#endif
}

const char *mnv2_kernel_path_name(mnv2_kernel_path p)
{
	switch (p) {
	case MNV2_PATH_PORTABLE: return "portable";
	case MNV2_PATH_AVX2: return "avx2";
	case MNV2_PATH_AVXVNNI: return "avxvnni";
	}
	return "unknown";
}

int mnv2_kernel_path_parse(const char *name, mnv2_kernel_path *out)
{
	if (!strcmp(name, "portable"))
		*out = MNV2_PATH_PORTABLE;
	else if (!strcmp(name, "avx2"))
		*out = MNV2_PATH_AVX2;
	else if (!strcmp(name, "avxvnni"))
		*out = MNV2_PATH_AVXVNNI;

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
		size_t px0 = 0, px1 = px;
		int pn0 = 0, pn1 = pk->npanels;
		if (blocks >= 16 * (size_t)nparts || pk->npanels < 2 * nparts) { /* by pixels */
			split(blocks, part, nparts, &lo, &hi);
			px0 = lo * MNV2_GEMM_MR;
			px1 = hi * MNV2_GEMM_MR < px ? hi * MNV2_GEMM_MR : px;
		} else { /* few pixels (small maps, fully connected): by output channels */
			split((size_t)pk->npanels, part, nparts, &lo, &hi);
			pn0 = (int)lo;
			pn1 = (int)hi;
		}
#ifdef MNV2_HAVE_AVXVNNI
		/* im2col rows of few bytes (the first 3x3 layer: 27) cost the byte kernel more
		 * than it saves; the AVX2 kernel computes the same bytes */
		if (path >= MNV2_KPATH_AVXVNNI && pk->w8 && (pk->direct || pk->k >= 64)) {
			mnv2_gemm_conv_avxvnni(p, pk, in, out, work, px0, px1, pn0, pn1);
			return;
		}
#endif
		mnv2_gemm_conv_avx2(p, pk, in, out, work, px0, px1, pn0, pn1);
		return;
	}
	if (path >= MNV2_KPATH_AVX2 && pk && pk->kind == MNV2_PACK_DW3 && depthwise) {
		/* by rows: parts share no cache line but at their boundary (16-channel blocks
		 * of a pixel share lines); by blocks only when there are few rows */
		int y0 = 0, y1 = (int)rows, b0 = 0, b1 = pk->npanels;
		if (rows >= 4 * (size_t)nparts || pk->npanels < nparts) {
			split(rows, part, nparts, &lo, &hi);
			y0 = (int)lo;
			y1 = (int)hi;
		} else {
			split((size_t)pk->npanels, part, nparts, &lo, &hi);
			b0 = (int)lo;
			b1 = (int)hi;
		}
#ifdef MNV2_HAVE_AVXVNNI
		if (path >= MNV2_KPATH_AVXVNNI) {
			mnv2_dw3_avxvnni(p, pk, in, out, work, y0, y1, b0, b1);
			return;
		}
#endif
		mnv2_dw3_avx2(p, pk, in, out, work, y0, y1, b0, b1);
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
