/* simd — kernel paths beside the portable reference: weights packed at load, runtime
 * dispatch, and the SIMD kernels' entry points.
 *
 * Contract: for every parameter set the portable kernels accept, mnv2_conv_exec() and
 * mnv2_add_exec() write exactly the bytes the portable kernels write, on every path. A path
 * runs an op only when it has a kernel for the op's shape (and, for convolutions, packed
 * weights); otherwise the portable kernel runs. Nothing here allocates while running.
 *
 * Arithmetic of the packed kernels: (x - x_zp)(w - w_zp) summed in int32 is computed as
 * x * (w - w_zp) summed, with -x_zp * sum(w - w_zp) folded into the bias (all modulo 2^32,
 * as the portable uint32 accumulator); padded taps read x_zp, so they contribute zero.
 * The AVX-VNNI GEMM multiplies bytes: u = x (uint8) or x + 128 (int8) and w8 = w - o
 * (o = 128 for uint8 weights, 0 for int8) both fit vpdpbusd's u8 x s8, and
 * sum (x - x_zp)(w - w_zp) = sum u w8 + (o - w_zp) sum u - (x_zp + 128 [int8]) sum (w - w_zp):
 * the last term is in bias8, the middle one is added per output pixel. */
#ifndef MNV2_SIMD_H
#define MNV2_SIMD_H

#include "kernels.h"

#include <stddef.h>
#include <stdint.h>

enum {
	MNV2_KPATH_PORTABLE = 0,
	MNV2_KPATH_AVX2 = 1,
	MNV2_KPATH_AVXVNNI = 2,
	MNV2_KPATH_NEON = 3,
	MNV2_KPATH_NEONDOT = 4,
};

/* Paths come in families of one architecture (x86-64: avx2 < avxvnni; aarch64:
 * neon < neondot), each path needing the features of the older ones of its family. */
static inline int mnv2_kpath_x86(int path)
{
	return path == MNV2_KPATH_AVX2 || path == MNV2_KPATH_AVXVNNI;
}
static inline int mnv2_kpath_neon(int path)
{
	return path == MNV2_KPATH_NEON || path == MNV2_KPATH_NEONDOT;
}
/* The oldest SIMD path of `path`'s family (the portable path for the portable path). */
static inline int mnv2_kpath_first(int path)
{
	return mnv2_kpath_x86(path) ? MNV2_KPATH_AVX2
	       : mnv2_kpath_neon(path) ? MNV2_KPATH_NEON
				       : MNV2_KPATH_PORTABLE;
}
/* Whether a model loaded for path `model` can run on `path`: the portable path, or a path
 * of its family no newer than it. */
static inline int mnv2_kpath_allowed(int path, int model)
{
	return path == MNV2_KPATH_PORTABLE ||
	       (path >= mnv2_kpath_first(model) && path <= model &&
		mnv2_kpath_first(path) == mnv2_kpath_first(model));
}

/* Rows of the GEMM micro-kernel (output pixels per block) and channels per weight panel. */
#define MNV2_GEMM_MR 4
#define MNV2_GEMM_NR 8
#define MNV2_DW_BLOCK 16
#define MNV2_DW_RING 4       /* pair rows kept per channel block */
#define MNV2_DW_MAX_COLS (1 << 14) /* bounds the pair rows: RING x cols x 64 bytes */
/* Shapes beyond these stay on the portable path (bounds the workspace and packed bytes). */
#define MNV2_PACK_MAX_K (1 << 16)
#define MNV2_PACK_MAX_BYTES ((size_t)256 << 20)

/* GEMM, DW3: the AVX2 layouts (with the AVX-VNNI one); NGEMM, NDW3: the NEON ones. */
/* Output pixel coordinates of a convolution, for the GEMM kernels that build their A rows
 * pixel after pixel: the pixel at flat index px (over batch * out_h * out_w), and the next. */
typedef struct mnv2_opos {
	int b, oy, ox;
} mnv2_opos;

static inline mnv2_opos mnv2_opos_at(const mnv2_conv_params *p, size_t px)
{
	size_t plane = (size_t)p->out_h * (size_t)p->out_w;
	return (mnv2_opos){ (int)(px / plane), (int)(px % plane / (size_t)p->out_w),
			    (int)(px % (size_t)p->out_w) };
}

static inline void mnv2_opos_next(const mnv2_conv_params *p, mnv2_opos *q)
{
	if (++q->ox == p->out_w) {
		q->ox = 0;
		if (++q->oy == p->out_h) {
			q->oy = 0;
			q->b++;
		}
	}
}

typedef enum mnv2_pack_kind {
	MNV2_PACK_GEMM = 1,
	MNV2_PACK_DW3 = 2,
	MNV2_PACK_NGEMM = 3,
	MNV2_PACK_NDW3 = 4,
} mnv2_pack_kind;

/* One allocation: this header, then the arrays it points to (64-byte aligned). */
typedef struct mnv2_conv_packed {
	mnv2_pack_kind kind;
	int k;               /* GEMM: k_h * k_w * in_c */
	int kpairs;          /* GEMM: (k + 1) / 2, int16 pairs per row */
	int astride;         /* GEMM: int32 pairs between rows of the A block (>= kpairs + 8) */
	int direct;          /* GEMM: 1x1, stride 1, no padding: A rows are input pixels */
	int npanels;         /* GEMM: ceil(out_c / 8) panels; DW3: ceil(c / 16) blocks */
	int ncol;            /* DW3: input columns an output row reads (incl. padding) */
	const int16_t *w;    /* GEMM: [panel][kpair][8 channels][2]; DW3: see pack_dw3() */
	const int32_t *bias; /* corrected bias, per padded channel (DW3: permuted) */
	const float *scale;  /* per padded channel (DW3: permuted) */
	/* The byte GEMM layout, for AVX-VNNI and for NEON's dot product (packed when the
	 * avxvnni or neondot path is available; NULL otherwise): */
	int kquads;          /* (k + 3) / 4; NGEMM: rounded up to a multiple of 4 */
	int astride8;        /* bytes between rows of the u8 A block (>= 4 kquads + 32) */
	int32_t zfactor;     /* o - w_zp, times the row sum of u */
	uint8_t xflip;       /* u = x ^ xflip: 0x80 for int8 inputs (NGEMM: uint8 inputs) */
	const int8_t *w8;    /* [panel][kquad][8 channels][4] of w - o */
	const int32_t *bias8; /* bias - (x_zp + xoff) sum (w - w_zp), per padded channel, where
			       * u = x + xoff: xoff = 128 [int8] (AVX-VNNI), -128 [uint8] (NEON) */
	/* NGEMM: w is [panel][k8][8 channels] int16 of w - w_zp, k8 = k rounded up to 8;
	 * A rows (im2col) are bytes, astride8 = k rounded up to 16. NDW3: w is [block][9 taps]
	 * [16 channels] int16 of w - w_zp; bias and scale in channel order. */
	int k8;
	size_t work_bytes;   /* per-thread workspace the kernel needs */
	size_t bytes;        /* size of the allocation */
} mnv2_conv_packed;

/* Fastest path this CPU (and this build) supports: cpuid on x86-64, the auxiliary
 * vector's hwcaps on aarch64. */
int mnv2_cpu_path(void);

/* Whether this build has AVX2 kernels and the CPU runs them: mnv2_cpu_path()'s first test
 * alone, without its extra cpuid (which costs a VM exit per call under virtualisation,
 * noticeable for callers that ask per frame). */
int mnv2_cpu_has_avx2(void);

/* Packs weights for `path` (depthwise = 1 for DEPTHWISE_CONV_2D). *out = NULL when the
 * path has no kernel for this shape; returns -1 only when out of memory. The params'
 * bias and scale must be set. Free the result with free(). */
int mnv2_conv_pack(const mnv2_conv_params *p, int depthwise, int path, const void *w,
		   mnv2_conv_packed **out);

/* Runs a convolution-family op on `path` (falling back to the portable kernels when the
 * path or the packing does not cover it). `work` holds pk->work_bytes, 32-byte aligned.
 * Work is split into `nparts` parts; this call runs part `part` (0 <= part < nparts),
 * so parts may run on different threads with different workspaces. */
void mnv2_conv_exec(const mnv2_conv_params *p, int depthwise, const mnv2_conv_packed *pk,
		    int path, const void *in, const void *w, void *out, void *work, int part,
		    int nparts);
void mnv2_add_exec(const mnv2_add_params *p, int path, const void *a, const void *b,
		   void *out, int part, int nparts);
void mnv2_pool_exec(const mnv2_pool_params *p, int is_max, int path, const void *in,
		    void *out, int part, int nparts);

/* Ranges of the portable kernels (conv.c, add.c, pool.c): output rows [y0, y1) over
 * batch * out_h; for ADD, rows [r0, r1) of out_dims[3] elements over the first three dims. */
void mnv2_conv2d_rows(const mnv2_conv_params *p, const void *in, const void *w, void *out,
		      int y0, int y1);
void mnv2_dwconv2d_rows(const mnv2_conv_params *p, const void *in, const void *w, void *out,
			int y0, int y1);
void mnv2_add_range(const mnv2_add_params *p, const void *a, const void *b, void *out,
		    size_t r0, size_t r1);
void mnv2_pool_rows(const mnv2_pool_params *p, int is_max, const void *in, void *out, int y0,
		    int y1);

/* AVX2 kernels (x86-64 only; compiled with -mavx2). */
/* GEMM: output pixels [px0, px1) x panels [pn0, pn1). */
void mnv2_gemm_conv_avx2(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
			 const void *in, void *out, void *work, size_t px0, size_t px1, int pn0,
			 int pn1);
/* The same with vpdpbusd on the pk->w8 layout (x86-64; -mavx2 -mavxvnni). */
void mnv2_gemm_conv_avxvnni(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
			    const void *in, void *out, void *work, size_t px0, size_t px1,
			    int pn0, int pn1);
/* Depthwise: output rows [y0, y1) x 16-channel blocks [b0, b1). */
void mnv2_dw3_avx2(const mnv2_conv_params *p, const mnv2_conv_packed *pk, const void *in,
		   void *out, void *work, int y0, int y1, int b0, int b1);
void mnv2_dw3_avxvnni(const mnv2_conv_params *p, const mnv2_conv_packed *pk, const void *in,
		      void *out, void *work, int y0, int y1, int b0, int b1);
/* Contiguous (non-broadcasting) ADD of elements [i0, i1). */
void mnv2_add_avx2(const mnv2_add_params *p, const void *a, const void *b, void *out,
		   size_t i0, size_t i1);
void mnv2_pool_avx2(const mnv2_pool_params *p, int is_max, const void *in, void *out, int y0,
		    int y1);

/* NEON kernels (aarch64 only): the same contracts on the NGEMM and NDW3 layouts. The
 * vdotq_s32 GEMM (-march=armv8.2-a+dotprod) computes sum u w8 as the AVX-VNNI one, with
 * u = x - 128 for uint8 inputs (signed x signed bytes). */
void mnv2_gemm_conv_neon(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
			 const void *in, void *out, void *work, size_t px0, size_t px1, int pn0,
			 int pn1);
void mnv2_gemm_conv_neondot(const mnv2_conv_params *p, const mnv2_conv_packed *pk,
			    const void *in, void *out, void *work, size_t px0, size_t px1,
			    int pn0, int pn1);
void mnv2_dw3_neon(const mnv2_conv_params *p, const mnv2_conv_packed *pk, const void *in,
		   void *out, int y0, int y1, int b0, int b1);
void mnv2_add_neon(const mnv2_add_params *p, const void *a, const void *b, void *out,
		   size_t i0, size_t i1);
void mnv2_pool_neon(const mnv2_pool_params *p, int is_max, const void *in, void *out, int y0,
		    int y1);

#endif
