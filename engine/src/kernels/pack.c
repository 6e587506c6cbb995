/* pack — weights repacked at load into the layouts of the SIMD kernels; see simd.h.
 * Plain C: packing is arithmetic on integers, the same on every host. */
#include "simd.h"
#include "requant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 64

static size_t align_up(size_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

static int scales_finite(const mnv2_conv_params *p)
{
	/* A non-finite scale can make NaN, which the SIMD rounding turns into another integer
	 * than lrintf does: such ops stay portable. */
	for (int c = 0; c < p->out_c; c++)
		if (!isfinite(p->scale[c]))
			return 0;
	return 1;
}

/* One block for the header and `n` arrays of the given byte sizes. */
static mnv2_conv_packed *alloc_packed(const size_t *sizes, int n, uint8_t **arrays)
{
	size_t total = align_up(sizeof(mnv2_conv_packed));
	for (int i = 0; i < n; i++) /* sizes are bounded by mnv2_conv_pack() */
		total += align_up(sizes[i]);
	uint8_t *base = aligned_alloc(ALIGN, total);
	if (!base)
		return NULL;
	memset(base, 0, total);
	size_t off = align_up(sizeof(mnv2_conv_packed));
	for (int i = 0; i < n; i++) {
		arrays[i] = base + off;
		off += align_up(sizes[i]);
	}
	mnv2_conv_packed *pk = (mnv2_conv_packed *)(void *)base;
	pk->bytes = total;
	return pk;
}

static int32_t wval(const mnv2_conv_params *p, const void *w, size_t i)
{
	return mnv2_ld(w, i, p->is_signed) - p->w_zp;
}

/* The byte layout: [panel][kquad][8 channels][4] bytes of w - o, and bias8 for inputs
 * u = x + xoff (AVX-VNNI: xoff = 128 for int8 inputs; NEON: xoff = -128 for uint8). */
static void pack_gemm_vnni(const mnv2_conv_params *p, const void *w, mnv2_conv_packed *pk,
			   int8_t *w8, int32_t *bias8, int32_t xoff)
{
	size_t k = (size_t)pk->k;
	int32_t o = p->is_signed ? 0 : 128;
	uint32_t xshift = (uint32_t)xoff;
	for (int oc = 0; oc < p->out_c; oc++) {
		size_t panel = (size_t)oc / MNV2_GEMM_NR, j = (size_t)oc % MNV2_GEMM_NR;
		int8_t *dst = w8 + panel * (size_t)pk->kquads * MNV2_GEMM_NR * 4 + j * 4;
		uint32_t sum = 0;
		for (size_t i = 0; i < k; i++) {
			int32_t raw = mnv2_ld(w, (size_t)oc * k + i, p->is_signed);
			dst[(i / 4) * MNV2_GEMM_NR * 4 + i % 4] = (int8_t)(raw - o);
			sum += (uint32_t)(raw - p->w_zp);
		}
		uint32_t b = p->bias ? (uint32_t)p->bias[oc] : 0;
		bias8[oc] = (int32_t)(b - ((uint32_t)p->in_zp + xshift) * sum);
	}
	pk->zfactor = o - p->w_zp;
	pk->xflip = xoff ? 0x80 : 0;
	pk->w8 = w8;
	pk->bias8 = bias8;
}

/* GEMM: [panel][kpair][8 channels][2] int16 of w - w_zp, zero beyond out_c and k; with
 * the AVX-VNNI path also its byte layout (kernels of both paths can then run). */
static mnv2_conv_packed *pack_gemm(const mnv2_conv_params *p, const void *w, int path)
{
	size_t k = (size_t)p->k_h * (size_t)p->k_w * (size_t)p->in_c;
	int kpairs = (int)((k + 1) / 2), npanels = (p->out_c + MNV2_GEMM_NR - 1) / MNV2_GEMM_NR;
	int kquads = (int)((k + 3) / 4), vnni = path >= MNV2_KPATH_AVXVNNI;
	size_t nch = (size_t)npanels * MNV2_GEMM_NR;
	size_t sizes[5] = { nch * (size_t)kpairs * 2 * sizeof(int16_t), nch * sizeof(int32_t),
			    nch * sizeof(float), vnni ? nch * (size_t)kquads * 4 : 0,
			    vnni ? nch * sizeof(int32_t) : 0 };
	uint8_t *arr[5];
	mnv2_conv_packed *pk = alloc_packed(sizes, 5, arr);
	if (!pk)
		return NULL;
	int16_t *pw = (int16_t *)(void *)arr[0];
	int32_t *bias = (int32_t *)(void *)arr[1];
	float *scale = (float *)(void *)arr[2];
	for (int oc = 0; oc < p->out_c; oc++) {
		size_t panel = (size_t)oc / MNV2_GEMM_NR, j = (size_t)oc % MNV2_GEMM_NR;
		int16_t *dst = pw + panel * (size_t)kpairs * MNV2_GEMM_NR * 2 + j * 2;
		uint32_t sum = 0;
		for (size_t i = 0; i < k; i++) {
			int32_t v = wval(p, w, (size_t)oc * k + i);
			dst[(i / 2) * MNV2_GEMM_NR * 2 + i % 2] = (int16_t)v;
			sum += (uint32_t)v;
		}
		uint32_t b = p->bias ? (uint32_t)p->bias[oc] : 0;
		bias[oc] = (int32_t)(b - (uint32_t)p->in_zp * sum);
		scale[oc] = p->scale[oc];
	}
	pk->kind = MNV2_PACK_GEMM;
	pk->k = (int)k;
	pk->kpairs = kpairs;
	pk->astride = (kpairs + 8 + 7) / 8 * 8; /* >= 16 int16 of slack for im2col's stores */
	pk->direct = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
		     p->pad_top == 0 && p->pad_left == 0 && p->out_h == p->in_h &&
		     p->out_w == p->in_w;
	pk->npanels = npanels;
	pk->w = pw;
	pk->bias = bias;
	pk->scale = scale;
	pk->work_bytes = (size_t)MNV2_GEMM_MR * (size_t)pk->astride * sizeof(int32_t);
	pk->kquads = kquads;
	pk->astride8 = (4 * kquads + 32 + 31) / 32 * 32;
	if (vnni) {
		size_t a8 = (size_t)MNV2_GEMM_MR * (size_t)pk->astride8;
		pk->work_bytes = a8 > pk->work_bytes ? a8 : pk->work_bytes;
		pack_gemm_vnni(p, w, pk, (int8_t *)(void *)arr[3], (int32_t *)(void *)arr[4],
			       p->is_signed ? 128 : 0);
	}
	return pk;
}

/* Channel of lane `lane` (0..7) in half `half` of a 16-channel block, in the order
 * _mm256_unpack{lo,hi}_epi16 leave them: lo = 0-3, 8-11; hi = 4-7, 12-15. */
static int dw_lane_channel(int half, int lane)
{
	return (lane < 4 ? lane : lane + 4) + (half ? 4 : 0);
}

/* DW3: per 16-channel block, for kx = 0..2, four pairs of taps: A = (w[0][kx], w[1][kx]),
 * B = (w[2][kx], 0) for one output row, C = (0, w[0][kx]), D = (w[1][kx], w[2][kx]) for the
 * row below it from the same pair rows (dwconv_avx2.c), each as a lo and a hi vector of
 * 8 lanes x 2 int16 (24 vectors); bias and scale per block as [half][lane]. */
static mnv2_conv_packed *pack_dw3(const mnv2_conv_params *p, const void *w)
{
	int c = p->out_c, nb = (c + MNV2_DW_BLOCK - 1) / MNV2_DW_BLOCK;
	size_t nch = (size_t)nb * MNV2_DW_BLOCK;
	size_t sizes[3] = { (size_t)nb * 24 * 16 * sizeof(int16_t), nch * sizeof(int32_t),
			    nch * sizeof(float) };
	uint8_t *arr[3];
	mnv2_conv_packed *pk = alloc_packed(sizes, 3, arr);
	if (!pk)
		return NULL;
	int16_t *pw = (int16_t *)(void *)arr[0];
	int32_t *bias = (int32_t *)(void *)arr[1];
	float *scale = (float *)(void *)arr[2];
	for (int b = 0; b < nb; b++)
		for (int half = 0; half < 2; half++)
			for (int lane = 0; lane < 8; lane++) {
				int ch = b * MNV2_DW_BLOCK + dw_lane_channel(half, lane);
				size_t slot = ((size_t)b * 2 + (size_t)half) * 8 + (size_t)lane;
				if (ch >= c)
					continue;
				uint32_t sum = 0;
				/* (set, element) of each kernel row: A = 0, B = 1, C = 2, D = 3 */
				static const int place[3][2][2] = { { { 0, 0 }, { 2, 1 } },
								    { { 0, 1 }, { 3, 0 } },
								    { { 1, 0 }, { 3, 1 } } };
				for (int t = 0; t < 9; t++) {
					int32_t v = wval(p, w, (size_t)t * (size_t)c + (size_t)ch);
					int ky = t / 3, kx = t % 3;
					for (int i = 0; i < 2; i++) {
						size_t vec = (size_t)(kx * 4 + place[ky][i][0]) * 2 + (size_t)half;
						pw[((size_t)b * 24 + vec) * 16 + (size_t)lane * 2 +
						   (size_t)place[ky][i][1]] = (int16_t)v;
					}
					sum += (uint32_t)v;
				}
				uint32_t bv = p->bias ? (uint32_t)p->bias[ch] : 0;
				bias[slot] = (int32_t)(bv - (uint32_t)p->in_zp * sum);
				scale[slot] = p->scale[ch];
			}
	pk->kind = MNV2_PACK_DW3;
	pk->npanels = nb;
	pk->ncol = (p->out_w - 1) * p->stride_w + 3;
	pk->w = pw;
	pk->bias = bias;
	pk->scale = scale;
	pk->work_bytes = (size_t)MNV2_DW_RING * (size_t)pk->ncol * 64;
	return pk;
}

/* NGEMM: [panel][k8][8 channels] int16 of w - w_zp (zero beyond out_c and k), the bias
 * corrected by -x_zp sum (w - w_zp); with the dot-product path also the byte layout
 * (kquads rounded up to whole 16-byte steps) for u = x - 128 [uint8]. */
static mnv2_conv_packed *pack_ngemm(const mnv2_conv_params *p, const void *w, int path)
{
	size_t k = (size_t)p->k_h * (size_t)p->k_w * (size_t)p->in_c;
	size_t k8 = (k + 7) / 8 * 8, k16 = (k + 15) / 16 * 16;
	int npanels = (p->out_c + MNV2_GEMM_NR - 1) / MNV2_GEMM_NR, dot = path >= MNV2_KPATH_NEONDOT;
	size_t nch = (size_t)npanels * MNV2_GEMM_NR;
	size_t sizes[5] = { nch * k8 * sizeof(int16_t), nch * sizeof(int32_t), nch * sizeof(float),
			    dot ? nch * k16 : 0, dot ? nch * sizeof(int32_t) : 0 };
	uint8_t *arr[5];
	mnv2_conv_packed *pk = alloc_packed(sizes, 5, arr);
	if (!pk)
		return NULL;
	int16_t *pw = (int16_t *)(void *)arr[0];
	int32_t *bias = (int32_t *)(void *)arr[1];
	float *scale = (float *)(void *)arr[2];
	for (int oc = 0; oc < p->out_c; oc++) {
		size_t panel = (size_t)oc / MNV2_GEMM_NR, j = (size_t)oc % MNV2_GEMM_NR;
		int16_t *dst = pw + panel * k8 * MNV2_GEMM_NR + j;
		uint32_t sum = 0;
		for (size_t i = 0; i < k; i++) {
			int32_t v = wval(p, w, (size_t)oc * k + i);
			dst[i * MNV2_GEMM_NR] = (int16_t)v;
			sum += (uint32_t)v;
		}
		uint32_t b = p->bias ? (uint32_t)p->bias[oc] : 0;
		bias[oc] = (int32_t)(b - (uint32_t)p->in_zp * sum);
		scale[oc] = p->scale[oc];
	}
	pk->kind = MNV2_PACK_NGEMM;
	pk->k = (int)k;
	pk->k8 = (int)k8;
	pk->kquads = (int)(k16 / 4);
	pk->astride8 = (int)k16;
	pk->direct = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
		     p->pad_top == 0 && p->pad_left == 0 && p->out_h == p->in_h &&
		     p->out_w == p->in_w;
	pk->npanels = npanels;
	pk->w = pw;
	pk->bias = bias;
	pk->scale = scale;
	pk->work_bytes = (size_t)MNV2_GEMM_MR * k16;
	if (dot)
		pack_gemm_vnni(p, w, pk, (int8_t *)(void *)arr[3], (int32_t *)(void *)arr[4],
			       p->is_signed ? 0 : -128);
	return pk;
}

/* NDW3: per 16-channel block, 9 taps x 16 int16 of w - w_zp (zero beyond c); bias
 * (corrected by -x_zp sum (w - w_zp)) and scale per padded channel, in channel order. */
static mnv2_conv_packed *pack_ndw3(const mnv2_conv_params *p, const void *w)
{
	int c = p->out_c, nb = (c + MNV2_DW_BLOCK - 1) / MNV2_DW_BLOCK;
	size_t nch = (size_t)nb * MNV2_DW_BLOCK;
	size_t sizes[3] = { nch * 9 * sizeof(int16_t), nch * sizeof(int32_t), nch * sizeof(float) };
	uint8_t *arr[3];
	mnv2_conv_packed *pk = alloc_packed(sizes, 3, arr);
	if (!pk)
		return NULL;
	int16_t *pw = (int16_t *)(void *)arr[0];
	int32_t *bias = (int32_t *)(void *)arr[1];
	float *scale = (float *)(void *)arr[2];
	for (int ch = 0; ch < c; ch++) {
		size_t b = (size_t)ch / MNV2_DW_BLOCK, j = (size_t)ch % MNV2_DW_BLOCK;
		uint32_t sum = 0;
		for (size_t t = 0; t < 9; t++) {
			int32_t v = wval(p, w, t * (size_t)c + (size_t)ch);
			pw[(b * 9 + t) * MNV2_DW_BLOCK + j] = (int16_t)v;
			sum += (uint32_t)v;
		}
		uint32_t bv = p->bias ? (uint32_t)p->bias[ch] : 0;
		bias[ch] = (int32_t)(bv - (uint32_t)p->in_zp * sum);
		scale[ch] = p->scale[ch];
	}
	pk->kind = MNV2_PACK_NDW3;
	pk->npanels = nb;
	pk->w = pw;
	pk->bias = bias;
	pk->scale = scale;
	pk->work_bytes = 0;
	return pk;
}

int mnv2_conv_pack(const mnv2_conv_params *p, int depthwise, int path, const void *w,
		   mnv2_conv_packed **out)
{
	*out = NULL;
	int neon = mnv2_kpath_neon(path);
	if (!(neon || mnv2_kpath_x86(path)) || p->out_c < 1 || !scales_finite(p))
		return 0;
	/* packed weights take up to three times the file's bytes (plus k's rounding): bounded */
	uint64_t k = (uint64_t)p->k_h * (uint64_t)p->k_w * (uint64_t)p->in_c;
	uint64_t bytes = ((uint64_t)p->out_c + 16) * (depthwise ? 24 : k + 16) * 3 + 4096;
	if (k < 1 || k > MNV2_PACK_MAX_K || bytes > MNV2_PACK_MAX_BYTES)
		return 0;
	int dw3 = depthwise && p->depth_mult == 1 && p->in_c == p->out_c && p->k_h == 3 &&
		  p->k_w == 3 && p->dil_h == 1 && p->dil_w == 1 &&
		  (uint64_t)p->out_w * (uint64_t)p->stride_w <= MNV2_DW_MAX_COLS;
	if (!depthwise)
		*out = neon ? pack_ngemm(p, w, path) : pack_gemm(p, w, path);
	else if (dw3)
		*out = neon ? pack_ndw3(p, w) : pack_dw3(p, w);
	else
		return 0;
	return *out ? 0 : -1;
}
