/* dispatch — choice of kernel path (cpuid or hwcaps at load) and running an op on a path;
 * see simd.h and the kernel-path functions of mnv2/engine.h. */
#include "simd.h"
#include "../model.h"

#include <string.h>
#if defined(MNV2_HAVE_AVXVNNI) && defined(__x86_64__)
#include <cpuid.h>
#endif
#if defined(MNV2_HAVE_NEON) && defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)     /* the kernel's arch/arm64 uapi hwcap bits */
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#endif

int mnv2_cpu_has_avx2(void)
{
#if defined(MNV2_HAVE_AVX2) && defined(__x86_64__)
	/* cpu_init: idempotent, needed when called before constructors run; then a check of
	 * libgcc's cpu model. "avx2" includes the OS's YMM state check (xgetbv). */
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2");
#else
	return 0;
#endif
}

int mnv2_cpu_path(void)
{
#if defined(MNV2_HAVE_AVX2) && defined(__x86_64__)
	if (!mnv2_cpu_has_avx2())
		return MNV2_KPATH_PORTABLE;
#ifdef MNV2_HAVE_AVXVNNI
	/* AVX-VNNI: cpuid leaf 7 subleaf 1, eax bit 4 (GCC 12 and clang 14 cannot name it
	 * in __builtin_cpu_supports) */
	unsigned a, b, c, d;
	if (__get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 4 & 1))
		return MNV2_KPATH_AVXVNNI;
#endif
	return MNV2_KPATH_AVX2;
#elif defined(MNV2_HAVE_NEON) && defined(__aarch64__)
	unsigned long hw = getauxval(AT_HWCAP);
	if (!(hw & HWCAP_ASIMD))
		return MNV2_KPATH_PORTABLE;
#ifdef MNV2_HAVE_NEONDOT
	if (hw & HWCAP_ASIMDDP)
		return MNV2_KPATH_NEONDOT;
#endif
	return MNV2_KPATH_NEON;
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
	case MNV2_PATH_NEON: return "neon";
	case MNV2_PATH_NEONDOT: return "neondot";
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
	else if (!strcmp(name, "neon"))
		*out = MNV2_PATH_NEON;
	else if (!strcmp(name, "neondot"))
		*out = MNV2_PATH_NEONDOT;
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

#if defined(MNV2_HAVE_AVX2) || defined(MNV2_HAVE_NEON)
/* GEMM work split: by pixels (blocks of MR) unless there are few of them (small maps,
 * fully connected), then by output-channel panels. */
static void gemm_split(const mnv2_conv_params *p, const mnv2_conv_packed *pk, int part,
		       int nparts, size_t *px0, size_t *px1, int *pn0, int *pn1)
{
	size_t lo, hi, px = (size_t)p->batch * (size_t)p->out_h * (size_t)p->out_w;
	size_t blocks = (px + MNV2_GEMM_MR - 1) / MNV2_GEMM_MR;
	*px0 = 0;
	*px1 = px;
	*pn0 = 0;
	*pn1 = pk->npanels;
	if (blocks >= 16 * (size_t)nparts || pk->npanels < 2 * nparts) {
		split(blocks, part, nparts, &lo, &hi);
		*px0 = lo * MNV2_GEMM_MR;
		*px1 = hi * MNV2_GEMM_MR < px ? hi * MNV2_GEMM_MR : px;
	} else {
		split((size_t)pk->npanels, part, nparts, &lo, &hi);
		*pn0 = (int)lo;
		*pn1 = (int)hi;
	}
}

/* Depthwise work split: by rows (parts share no cache line but at their boundary: the
 * 16-channel blocks of a pixel share lines), by blocks only when there are few rows. */
static void dw_split(const mnv2_conv_params *p, const mnv2_conv_packed *pk, int part,
		     int nparts, int *y0, int *y1, int *b0, int *b1)
{
	size_t lo, hi, rows = (size_t)p->batch * (size_t)p->out_h;
	*y0 = 0;
	*y1 = (int)rows;
	*b0 = 0;
	*b1 = pk->npanels;
	if (rows >= 4 * (size_t)nparts || pk->npanels < nparts) {
		split(rows, part, nparts, &lo, &hi);
		*y0 = (int)lo;
		*y1 = (int)hi;
	} else {
		split((size_t)pk->npanels, part, nparts, &lo, &hi);
		*b0 = (int)lo;
		*b1 = (int)hi;
	}
}

#endif

/* Runs the op on `path`'s kernels when it has them; 0 when the portable kernel must. */
static int conv_simd(const mnv2_conv_params *p, int depthwise, const mnv2_conv_packed *pk,
		     int path, const void *in, void *out, void *work, int part, int nparts)
{
	size_t px0 = 0, px1 = 0;
	int a0 = 0, a1 = 0, b0 = 0, b1 = 0;
	if (!pk)
		return 0;
	(void)px0, (void)px1, (void)a0, (void)a1, (void)b0, (void)b1; /* unused without SIMD */
#ifdef MNV2_HAVE_AVX2
	if (mnv2_kpath_x86(path) && pk->kind == MNV2_PACK_GEMM && !depthwise) {
		gemm_split(p, pk, part, nparts, &px0, &px1, &a0, &a1);
#ifdef MNV2_HAVE_AVXVNNI
		/* im2col rows of few bytes (the first 3x3 layer: 27) cost the byte kernel more
		 * than it saves; the AVX2 kernel computes the same bytes */
		if (path >= MNV2_KPATH_AVXVNNI && pk->w8 && (pk->direct || pk->k >= 64)) {
			mnv2_gemm_conv_avxvnni(p, pk, in, out, work, px0, px1, a0, a1);
			return 1;
		}
#endif
		mnv2_gemm_conv_avx2(p, pk, in, out, work, px0, px1, a0, a1);
		return 1;
	}
	if (mnv2_kpath_x86(path) && pk->kind == MNV2_PACK_DW3 && depthwise) {
		dw_split(p, pk, part, nparts, &a0, &a1, &b0, &b1);
#ifdef MNV2_HAVE_AVXVNNI
		if (path >= MNV2_KPATH_AVXVNNI) {
			mnv2_dw3_avxvnni(p, pk, in, out, work, a0, a1, b0, b1);
			return 1;
		}
#endif
		mnv2_dw3_avx2(p, pk, in, out, work, a0, a1, b0, b1);
		return 1;
	}
#endif
#ifdef MNV2_HAVE_NEON
	if (mnv2_kpath_neon(path) && pk->kind == MNV2_PACK_NGEMM && !depthwise) {
		gemm_split(p, pk, part, nparts, &px0, &px1, &a0, &a1);
#ifdef MNV2_HAVE_NEONDOT
		if (path >= MNV2_KPATH_NEONDOT && pk->w8) {
			mnv2_gemm_conv_neondot(p, pk, in, out, work, px0, px1, a0, a1);
			return 1;
		}
#endif
		mnv2_gemm_conv_neon(p, pk, in, out, work, px0, px1, a0, a1);
		return 1;
	}
	if (mnv2_kpath_neon(path) && pk->kind == MNV2_PACK_NDW3 && depthwise) {
		dw_split(p, pk, part, nparts, &a0, &a1, &b0, &b1);
		mnv2_dw3_neon(p, pk, in, out, a0, a1, b0, b1);
		return 1;
	}
#endif
	(void)p, (void)depthwise, (void)path, (void)in, (void)out, (void)work, (void)part;
	(void)nparts;
	return 0;
}

void mnv2_conv_exec(const mnv2_conv_params *p, int depthwise, const mnv2_conv_packed *pk,
		    int path, const void *in, const void *w, void *out, void *work, int part,
		    int nparts)
{
	size_t lo, hi, rows = (size_t)p->batch * (size_t)p->out_h;
	if (conv_simd(p, depthwise, pk, path, in, out, work, part, nparts))
		return;
	split(rows, part, nparts, &lo, &hi);
	if (depthwise)
		mnv2_dwconv2d_rows(p, in, w, out, (int)lo, (int)hi);
	else
		mnv2_conv2d_rows(p, in, w, out, (int)lo, (int)hi);
}

#if defined(MNV2_HAVE_AVX2) || defined(MNV2_HAVE_NEON)
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
	if (mnv2_kpath_x86(path) && add_contiguous(p)) {
		mnv2_add_avx2(p, a, b, out, lo * (size_t)d[3], hi * (size_t)d[3]);
		return;
	}
#endif
#ifdef MNV2_HAVE_NEON
	if (mnv2_kpath_neon(path) && add_contiguous(p)) {
		mnv2_add_neon(p, a, b, out, lo * (size_t)d[3], hi * (size_t)d[3]);
		return;
	}
#endif
	(void)path;
	mnv2_add_range(p, a, b, out, lo, hi);
}

void mnv2_pool_exec(const mnv2_pool_params *p, int is_max, int path, const void *in,
		    void *out, int part, int nparts)
{
	size_t lo, hi;
	split((size_t)p->batch * (size_t)p->out_h, part, nparts, &lo, &hi);
#ifdef MNV2_HAVE_AVX2
	if (mnv2_kpath_x86(path)) {
		mnv2_pool_avx2(p, is_max, in, out, (int)lo, (int)hi);
		return;
	}
#endif
#ifdef MNV2_HAVE_NEON
	if (mnv2_kpath_neon(path)) {
		mnv2_pool_neon(p, is_max, in, out, (int)lo, (int)hi);
		return;
	}
#endif
	(void)path;
	mnv2_pool_rows(p, is_max, in, out, (int)lo, (int)hi);
}
