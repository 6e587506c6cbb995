/* test_simd — every SIMD kernel path against the portable reference kernels, byte for byte.
 *
 *  - kernels: random convolutions (any kernel, stride, dilation, padding), 1x1 and
 *    fully-connected GEMMs, 3x3 depthwise convolutions, ADDs and pools, uint8 and int8, odd and
 *    tail channel counts, extreme zero points, scales (tiny, huge, rounding ties) and biases
 *    (wrapping), split in 1..4 parts as threads would run them: the path's output must equal
 *    the portable kernel's, and nothing may be written outside the output;
 *  - threads: every model on 2..7 intra-op threads gives the one-thread bytes, on every path;
 *  - models: the synthetic models and the real ones in ../shared (skipped with a message
 *    when absent) run on the fastest path and on the portable path: all outputs equal; every
 *    convolution, ADD and pool of the real models also runs alone on random inputs on both
 *    paths.
 * On a CPU without a SIMD path the kernel tests say so and check the fallback only. The
 * paths checked are those of the CPU's family: avx2 and avxvnni on x86-64, neon and
 * neondot on aarch64 (run-tests.sh runs this under qemu-aarch64). Environment:
 * MNV2_TEST_EXPECT_PATH=NAME fails test_path_api unless the CPU chose that path;
 * MNV2_TEST_REAL_MODELS=a,b limits the whole-model runs to those real models. */
#include "kernels/simd.h"
#include "model.h"
#include "mnv2/engine.h"
#include "synth_models.h"
#include "test_util.h"

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond, ...)                         \
	do {                                     \
		if (!(cond))                     \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

enum { GUARD = 64, GUARD_BYTE = 0x5A };

static char g_case[512];

static void case_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void case_set(const char *fmt, ...)
{
	char buf[sizeof g_case];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	memcpy(g_case, buf, sizeof buf);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	CHECK(p != NULL, "out of memory (%zu bytes)", n);
	return p;
}

static uint8_t *guarded(size_t n)
{
	uint8_t *b = xmalloc(n + 2 * GUARD);
	memset(b, GUARD_BYTE, n + 2 * GUARD);
	return b + GUARD;
}

static void guard_check(const uint8_t *o, size_t n)
{
	for (size_t i = 0; i < GUARD; i++)
		CHECK(o[-1 - (long)i] == GUARD_BYTE && o[n + i] == GUARD_BYTE,
		      "write outside the %zu-byte output; case: %s", n, g_case);
}

static void compare(const uint8_t *want, const uint8_t *got, size_t n, const char *what)
{
	for (size_t i = 0; i < n; i++)
		CHECK(want[i] == got[i], "%s: byte %zu of %zu: portable %u, simd %u; case: %s", what,
		      i, n, want[i], got[i], g_case);
}

static uint8_t *random_bytes(uint32_t *rng, size_t n)
{
	uint8_t *b = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)test_rand(rng);
	return b;
}


/* ------------------------------------------------------------------------------------ */
/* Convolutions                                                                          */

static int32_t pick_zp(uint32_t *rng, int s)
{
	int32_t lo = s ? -128 : 0;
	switch (test_rand(rng) % 5) {
	case 0: return lo;
	case 1: return lo + 255;
	default: return test_rand_range(rng, lo, lo + 255);
	}
}

static float pick_scale(uint32_t *rng, int k)
{
	switch (test_rand(rng) % 8) {
	case 0: return 1e-9f;                       /* everything rounds to zero */
	case 1: return 1e3f;                        /* saturates */
	case 2: return 0.5f;                        /* ties: round half to even */
	case 3: return 0.25f;
	case 4: return FLT_MIN;
	default: return (float)(test_rand(rng) % 10000 + 1) / 10000.0f / (float)(k * 64 + 1);
	}
}

typedef struct conv_case {
	mnv2_conv_params p;
	int dw;
	uint8_t *in, *w;
	int32_t *bias;
	float *scale;
	size_t in_n, w_n, out_n;
} conv_case;

static void make_conv(uint32_t *rng, conv_case *c, int dw, int kind)
{
	mnv2_conv_params *p = &c->p;
	memset(c, 0, sizeof *c);
	c->dw = dw;
	p->is_signed = (int)(test_rand(rng) % 2);
	p->batch = test_rand_range(rng, 1, 2);
	p->in_h = test_rand_range(rng, 1, 11);
	p->in_w = test_rand_range(rng, 1, 11);
	p->in_c = test_rand_range(rng, 1, 40);
	p->k_h = p->k_w = 3;
	p->stride_h = p->stride_w = 1;
	p->dil_h = p->dil_w = 1;
	p->depth_mult = 1;
	if (kind == 0) { /* any kernel, stride, dilation, padding */
		p->k_h = test_rand_range(rng, 1, 5);
		p->k_w = test_rand_range(rng, 1, 5);
		p->stride_h = test_rand_range(rng, 1, 3);
		p->stride_w = test_rand_range(rng, 1, 3);
		p->dil_h = test_rand_range(rng, 1, 2);
		p->dil_w = test_rand_range(rng, 1, 2);
		if (dw && test_rand(rng) % 3 == 0)
			p->depth_mult = test_rand_range(rng, 2, 3);
	} else if (kind == 1) { /* 1x1, wide channels (the GEMM's direct path) */
		p->k_h = p->k_w = 1;
		p->in_c = test_rand_range(rng, 1, 300);
	} else if (kind == 2) { /* fully connected: batch rows of 1x1 */
		p->k_h = p->k_w = 1;
		p->in_h = p->in_w = 1;
		p->batch = test_rand_range(rng, 1, 9);
		p->in_c = test_rand_range(rng, 1, 700);
	} else { /* 3x3 depthwise or first-layer convolution, strides 1 to 3 */
		p->stride_h = test_rand_range(rng, 1, 3);
		p->stride_w = test_rand(rng) % 3 ? p->stride_h : test_rand_range(rng, 1, 3);
		p->in_c = dw ? test_rand_range(rng, 1, 100) : test_rand_range(rng, 1, 4);
		p->in_h = test_rand_range(rng, 1, 20);
		p->in_w = test_rand_range(rng, 1, 20);
	}
	int eh = (p->k_h - 1) * p->dil_h + 1, ew = (p->k_w - 1) * p->dil_w + 1;
	int same = test_rand(rng) % 2;
	p->pad_top = same ? (eh - 1) / 2 : test_rand_range(rng, 0, eh - 1);
	p->pad_left = same ? (ew - 1) / 2 : test_rand_range(rng, 0, ew - 1);
	if (kind == 1 && test_rand(rng) % 2)
		p->pad_top = p->pad_left = 0;
	p->out_h = (p->in_h + 2 * p->pad_top - eh) / p->stride_h + 1;
	p->out_w = (p->in_w + 2 * p->pad_left - ew) / p->stride_w + 1;
	p->out_h = p->out_h < 1 ? 1 : p->out_h;
	p->out_w = p->out_w < 1 ? 1 : p->out_w;
	if (kind == 1 && p->pad_top == 0 && p->pad_left == 0) { /* direct: same extent */
		p->out_h = p->in_h;
		p->out_w = p->in_w;
	}
	p->out_c = dw ? p->in_c * p->depth_mult
		      : kind == 1 || kind == 2 ? test_rand_range(rng, 1, 300) : test_rand_range(rng, 1, 40);
	p->in_zp = pick_zp(rng, p->is_signed);
	p->w_zp = test_rand(rng) % 3 ? pick_zp(rng, p->is_signed) : 0;
	p->out_zp = pick_zp(rng, p->is_signed);
	int32_t qmin = p->is_signed ? -128 : 0;
	p->act_min = test_rand(rng) % 2 ? qmin : test_rand_range(rng, qmin, qmin + 200);
	p->act_max = test_rand(rng) % 2 ? qmin + 255 : test_rand_range(rng, p->act_min, qmin + 255);
	int k = p->k_h * p->k_w * (dw ? 1 : p->in_c);
	c->scale = xmalloc(sizeof(float) * (size_t)p->out_c);
	float common = pick_scale(rng, k);
	for (int i = 0; i < p->out_c; i++)
		c->scale[i] = test_rand(rng) % 4 ? common : pick_scale(rng, k);
	if (test_rand(rng) % 5) {
		c->bias = xmalloc(sizeof(int32_t) * (size_t)p->out_c);
		for (int i = 0; i < p->out_c; i++)
			c->bias[i] = test_rand(rng) % 16 ? test_rand_range(rng, -(1 << 20), 1 << 20)
							 : (int32_t)test_rand(rng); /* wraps */
	}
	p->bias = c->bias;
	p->scale = c->scale;
	c->in_n = (size_t)p->batch * (size_t)p->in_h * (size_t)p->in_w * (size_t)p->in_c;
	c->w_n = (size_t)p->k_h * (size_t)p->k_w * (dw ? (size_t)p->out_c : (size_t)p->out_c * (size_t)p->in_c);
	c->out_n = (size_t)p->batch * (size_t)p->out_h * (size_t)p->out_w * (size_t)p->out_c;
	c->in = random_bytes(rng, c->in_n);
	c->w = random_bytes(rng, c->w_n);
}

static void free_conv(conv_case *c)
{
	free(c->in);
	free(c->w);
	free(c->bias);
	free(c->scale);
}

/* Runs the case on the portable kernel and on `path` in `nparts` parts; returns whether
 * the path had a packed kernel for it. */
static int check_conv(const conv_case *c, int path, int nparts)
{
	const mnv2_conv_params *p = &c->p;
	uint8_t *want = guarded(c->out_n), *got = guarded(c->out_n);
	if (c->dw)
		mnv2_dwconv2d(p, c->in, c->w, want);
	else
		mnv2_conv2d(p, c->in, c->w, want);
	mnv2_conv_packed *pk;
	CHECK(mnv2_conv_pack(p, c->dw, path, c->w, &pk) == 0, "packing failed; case: %s", g_case);
	size_t wb = pk ? (pk->work_bytes + 63) / 64 * 64 : 0;
	void *work = wb ? aligned_alloc(64, wb) : NULL;
	CHECK(!wb || work, "out of memory");
	for (int part = 0; part < nparts; part++)
		mnv2_conv_exec(p, c->dw, pk, path, c->in, c->w, got, work, part, nparts);
	guard_check(want, c->out_n);
	guard_check(got, c->out_n);
	compare(want, got, c->out_n, c->dw ? "depthwise" : "conv");
	free(work);
	free(pk);
	free(want - GUARD);
	free(got - GUARD);
	return pk != NULL;
}

static void describe_conv(const conv_case *c, int i)
{
	const mnv2_conv_params *p = &c->p;
	case_set("#%d %s %s b%d in %dx%dx%d k %dx%d s %d,%d d %d,%d pad %d,%d out %dx%dx%d dm %d "
		 "zp %d/%d/%d act [%d,%d] scale0 %g bias %s",
		 i, c->dw ? "dw" : "conv", p->is_signed ? "int8" : "uint8", p->batch, p->in_h,
		 p->in_w, p->in_c, p->k_h, p->k_w, p->stride_h, p->stride_w, p->dil_h, p->dil_w,
		 p->pad_top, p->pad_left, p->out_h, p->out_w, p->out_c, p->depth_mult, p->in_zp,
		 p->w_zp, p->out_zp, p->act_min, p->act_max, (double)p->scale[0],
		 p->bias ? "yes" : "no");
}

/* The SIMD paths this CPU runs, checked one after the other (the portable path alone
 * when there is none: the fallback must still give the same bytes). */
static int first_path(void)
{
	return mnv2_kpath_first(mnv2_cpu_path());
}

/* The paths a model loaded for `model` runs on, in order: portable, then its family's up to
 * it; -1 after the last. */
static int next_path(int path, int model)
{
	if (path == MNV2_KPATH_PORTABLE)
		return model == MNV2_KPATH_PORTABLE ? -1 : mnv2_kpath_first(model);
	return path < model ? path + 1 : -1;
}

/* The byte (dot-product) GEMM layout is packed exactly for these paths. */
static int byte_gemm_path(int path)
{
	return path == MNV2_KPATH_AVXVNNI || path == MNV2_KPATH_NEONDOT;
}

static void run_conv_cases(int dw, int kind, int n, uint32_t seed)
{
	uint32_t rng = seed;
	int packed = 0;
	for (int i = 0; i < n; i++) {
		conv_case c;
		make_conv(&rng, &c, dw, kind);
		describe_conv(&c, i);
		int nparts = test_rand_range(&rng, 1, 4);
		int path = first_path() + i % (mnv2_cpu_path() - first_path() + 1);
		case_set("%s path %s", g_case, mnv2_kernel_path_name((mnv2_kernel_path)path));
		packed += check_conv(&c, path, nparts);
		/* weights the SIMD path must take: every GEMM; 3x3 depthwise, multiplier 1 */
		int expect = path > MNV2_KPATH_PORTABLE &&
			     (!dw || (c.p.depth_mult == 1 && c.p.k_h == 3 && c.p.k_w == 3 &&
				      c.p.dil_h == 1 && c.p.dil_w == 1));
		if (expect) {
			mnv2_conv_packed *pk;
			CHECK(mnv2_conv_pack(&c.p, dw, path, c.w, &pk) == 0 && pk != NULL,
			      "the %s path took no packed kernel; case: %s",
			      mnv2_kernel_path_name((mnv2_kernel_path)path), g_case);
			/* the byte-GEMM layout exactly when its path is asked for */
			CHECK(dw || (pk->w8 != NULL) == byte_gemm_path(path),
			      "byte layout %s for path %s; case: %s", pk->w8 ? "packed" : "missing",
			      mnv2_kernel_path_name((mnv2_kernel_path)path), g_case);
			free(pk);
		}
		free_conv(&c);
	}
	if (mnv2_cpu_path() == MNV2_KPATH_PORTABLE)
		fprintf(stderr, "test_simd: this CPU has no SIMD path; fallback checked only\n");
	else
		CHECK(packed > 0, "no case ran a packed kernel");
}

START_TEST(test_conv_any)
{
	run_conv_cases(0, 0, 400, 0x1001u + (uint32_t)_i);
}
END_TEST

START_TEST(test_conv_1x1)
{
	run_conv_cases(0, 1, 300, 0x2002u + (uint32_t)_i);
}
END_TEST

START_TEST(test_fc)
{
	run_conv_cases(0, 2, 200, 0x3003u + (uint32_t)_i);
}
END_TEST

START_TEST(test_conv_3x3)
{
	run_conv_cases(0, 3, 300, 0x4004u + (uint32_t)_i);
}
END_TEST

START_TEST(test_dw_3x3)
{
	run_conv_cases(1, 3, 500, 0x5005u + (uint32_t)_i);
}
END_TEST

START_TEST(test_dw_any)
{
	run_conv_cases(1, 0, 300, 0x6006u + (uint32_t)_i);
}
END_TEST

/* Non-finite requantization scales stay on the portable path (NaN rounds differently). */
START_TEST(test_pack_refuses_nonfinite)
{
	uint32_t rng = 77;
	conv_case c;
	make_conv(&rng, &c, 0, 1);
	c.scale[c.p.out_c - 1] = INFINITY;
	/* packing is plain C: every path's packer can be asked on any host */
	for (int path = MNV2_KPATH_AVX2; path <= MNV2_KPATH_NEONDOT; path++) {
		mnv2_conv_packed *pk = (mnv2_conv_packed *)1;
		ck_assert_int_eq(mnv2_conv_pack(&c.p, 0, path, c.w, &pk), 0);
		ck_assert_ptr_null(pk);
	}
	describe_conv(&c, 0);
	check_conv(&c, mnv2_cpu_path(), 1);
	free_conv(&c);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* ADD                                                                                   */

static void make_add(uint32_t *rng, mnv2_add_params *p, int32_t da[4], int32_t db[4])
{
	int s = (int)(test_rand(rng) % 2);
	for (;;) {
		float as = (float)(test_rand(rng) % 1000 + 1) / 5000.0f;
		float bs = (float)(test_rand(rng) % 1000 + 1) / 5000.0f;
		float os = (float)(test_rand(rng) % 1000 + 1) / (test_rand(rng) % 2 ? 500.0f : 50000.0f);
		if (test_rand(rng) % 6 == 0)
			os = as * 0x1.0p-9f; /* near the top of the allowed ratios */
		if (mnv2_add_params_init(p, as, pick_zp(rng, s), bs, pick_zp(rng, s), os,
					 pick_zp(rng, s)) == 0)
			break;
	}
	p->is_signed = s;
	int32_t qmin = s ? -128 : 0;
	p->act_min = test_rand(rng) % 2 ? qmin : test_rand_range(rng, qmin, qmin + 200);
	p->act_max = test_rand(rng) % 2 ? qmin + 255 : test_rand_range(rng, p->act_min, qmin + 255);
	int bcast = test_rand(rng) % 3 == 0;
	for (int i = 0; i < 4; i++) {
		p->out_dims[i] = i == 3 ? test_rand_range(rng, 1, 100) : test_rand_range(rng, 1, 6);
		da[i] = db[i] = p->out_dims[i];
		if (bcast && test_rand(rng) % 2)
			(test_rand(rng) % 2 ? da : db)[i] = 1;
	}
	p->rank = 4;
	int32_t sa = 1, sb = 1;
	for (int i = 3; i >= 0; i--) {
		p->a_strides[i] = da[i] == 1 && p->out_dims[i] != 1 ? 0 : sa;
		p->b_strides[i] = db[i] == 1 && p->out_dims[i] != 1 ? 0 : sb;
		sa *= da[i];
		sb *= db[i];
	}
}

START_TEST(test_add)
{
	uint32_t rng = 0x7007u;
	for (int i = 0; i < 600; i++) {
		int path = first_path() + i % (mnv2_cpu_path() - first_path() + 1);
		mnv2_add_params p;
		int32_t da[4], db[4];
		make_add(&rng, &p, da, db);
		size_t na = (size_t)da[0] * da[1] * da[2] * da[3], nb = (size_t)db[0] * db[1] * db[2] * db[3];
		size_t n = (size_t)p.out_dims[0] * p.out_dims[1] * p.out_dims[2] * p.out_dims[3];
		case_set("#%d %s out [%d,%d,%d,%d] a [%d,%d,%d,%d] b [%d,%d,%d,%d] mult %d/%d shift %u "
			 "act [%d,%d] zp %d",
			 i, p.is_signed ? "int8" : "uint8", p.out_dims[0], p.out_dims[1], p.out_dims[2],
			 p.out_dims[3], da[0], da[1], da[2], da[3], db[0], db[1], db[2], db[3], p.a_mult,
			 p.b_mult, p.shift, p.act_min, p.act_max, p.out_zp);
		uint8_t *a = random_bytes(&rng, na), *b = random_bytes(&rng, nb);
		uint8_t *want = guarded(n), *got = guarded(n);
		mnv2_add(&p, a, b, want);
		int nparts = test_rand_range(&rng, 1, 4);
		for (int part = 0; part < nparts; part++)
			mnv2_add_exec(&p, path, a, b, got, part, nparts);
		guard_check(got, n);
		compare(want, got, n, "add");
		free(a);
		free(b);
		free(want - GUARD);
		free(got - GUARD);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Pooling                                                                               */

START_TEST(test_pool)
{
	uint32_t rng = 0x8008u + (uint32_t)_i;
	for (int i = 0; i < 500; i++) {
		int path = first_path() + i % (mnv2_cpu_path() - first_path() + 1);
		mnv2_pool_params p = { 0 };
		int is_max = (int)(test_rand(&rng) % 2);
		p.is_signed = (int)(test_rand(&rng) % 2);
		p.batch = test_rand_range(&rng, 1, 2);
		p.in_h = test_rand_range(&rng, 1, 12);
		p.in_w = test_rand_range(&rng, 1, 12);
		p.c = test_rand(&rng) % 4 ? test_rand_range(&rng, 1, 80) : test_rand_range(&rng, 1, 1300);
		int global = test_rand(&rng) % 4 == 0;
		p.k_h = global ? p.in_h : test_rand_range(&rng, 1, 4);
		p.k_w = global ? p.in_w : test_rand_range(&rng, 1, 4);
		p.stride_h = test_rand_range(&rng, 1, 3);
		p.stride_w = test_rand_range(&rng, 1, 3);
		p.pad_top = test_rand_range(&rng, 0, p.k_h);   /* may leave windows empty */
		p.pad_left = test_rand_range(&rng, 0, p.k_w);
		p.out_h = (p.in_h + 2 * p.pad_top - p.k_h) / p.stride_h + 1;
		p.out_w = (p.in_w + 2 * p.pad_left - p.k_w) / p.stride_w + 1;
		p.out_h = p.out_h < 1 ? 1 : p.out_h;
		p.out_w = p.out_w < 1 ? 1 : p.out_w;
		int32_t qmin = p.is_signed ? -128 : 0;
		p.act_min = test_rand(&rng) % 2 ? qmin : test_rand_range(&rng, qmin, qmin + 200);
		p.act_max = test_rand(&rng) % 2 ? qmin + 255 : test_rand_range(&rng, p.act_min, qmin + 255);
		case_set("#%d %s %s b%d in %dx%dx%d k %dx%d s %d,%d pad %d,%d out %dx%d act [%d,%d]",
			 i, is_max ? "max" : "avg", p.is_signed ? "int8" : "uint8", p.batch, p.in_h,
			 p.in_w, p.c, p.k_h, p.k_w, p.stride_h, p.stride_w, p.pad_top, p.pad_left,
			 p.out_h, p.out_w, p.act_min, p.act_max);
		size_t nin = (size_t)p.batch * p.in_h * p.in_w * p.c;
		size_t n = (size_t)p.batch * p.out_h * p.out_w * p.c;
		uint8_t *x = random_bytes(&rng, nin), *want = guarded(n), *got = guarded(n);
		(is_max ? mnv2_maxpool : mnv2_avgpool)(&p, x, want);
		int nparts = test_rand_range(&rng, 1, 4);
		for (int part = 0; part < nparts; part++)
			mnv2_pool_exec(&p, is_max, path, x, got, part, nparts);
		guard_check(got, n);
		compare(want, got, n, is_max ? "maxpool" : "avgpool");
		free(x);
		free(want - GUARD);
		free(got - GUARD);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Models                                                                                */

/* Runs m on `path` and on the portable path with the same inputs; all outputs must be
 * equal. */
static void compare_path(const mnv2_model *m, int path, const uint8_t *input, size_t len,
			 uint32_t seed)
{
	mnv2_error err;
	mnv2_context *fast = mnv2_context_create(m, &err), *ref = mnv2_context_create(m, &err);
	CHECK(fast && ref, "%s", err.msg);
	CHECK(mnv2_context_kernel_path(fast) == mnv2_model_kernel_path(m), "context path");
	CHECK(mnv2_context_set_kernel_path(fast, (mnv2_kernel_path)path, &err) == 0, "%s", err.msg);
	CHECK(mnv2_context_set_kernel_path(ref, MNV2_PATH_PORTABLE, &err) == 0, "%s", err.msg);
	for (int i = 0; i < mnv2_model_num_inputs(m); i++) {
		size_t n;
		uint8_t *d = mnv2_context_input(fast, i, &n);
		uint32_t rng = seed + (uint32_t)i;
		for (size_t k = 0; k < n; k++)
			d[k] = input && i == 0 && len == n ? input[k] : (uint8_t)test_rand(&rng);
		memcpy(mnv2_context_input(ref, i, NULL), d, n);
	}
	CHECK(mnv2_context_run(fast, &err) == 0, "%s", err.msg);
	CHECK(mnv2_context_run(ref, &err) == 0, "%s", err.msg);
	for (int i = 0; i < mnv2_model_num_outputs(m); i++) {
		size_t n1, n2;
		const uint8_t *a = mnv2_context_output(ref, i, &n1), *b = mnv2_context_output(fast, i, &n2);
		CHECK(n1 == n2, "output sizes differ");
		char what[64];
		snprintf(what, sizeof what, "path %s, output %d",
			 mnv2_kernel_path_name((mnv2_kernel_path)path), i);
		compare(a, b, n1, what);
	}
	mnv2_context_free(fast);
	mnv2_context_free(ref);
}

/* Every path the model can run against the portable one. */
static void compare_paths(const mnv2_model *m, const uint8_t *input, size_t len, uint32_t seed)
{
	for (int path = first_path(); path <= (int)mnv2_model_kernel_path(m); path++)
		compare_path(m, path, input, len, seed);
}

START_TEST(test_synthetic_models)
{
	static const enum synth_kind kinds[] = { SYNTH_MNV2_UINT8, SYNTH_MNV2_INT8PC,
						 SYNTH_SSDLITE_HEAD };
	for (int k = 0; k < 3; k++)
		for (uint32_t seed = 1; seed <= 4; seed++) {
			uint8_t *buf;
			size_t len;
			mnv2_error err;
			ck_assert_int_eq(synth_model(kinds[k], seed, NULL, &buf, &len), 0);
			mnv2_model *m = mnv2_model_load_buffer(buf, len, "synth", 0, &err);
			ck_assert_msg(m != NULL, "%s", err.msg);
			case_set("synthetic model kind %d seed %u", k, seed);
			ck_assert_int_eq(mnv2_model_kernel_path(m), mnv2_cpu_path());
			for (uint32_t r = 0; r < 3; r++)
				compare_paths(m, NULL, 0, seed * 100 + r);
			mnv2_model_free(m);
			free(buf);
		}
}
END_TEST

static void compare_ops_on(const mnv2_model *m, int path, uint32_t seed);

/* Every convolution, ADD and pool of m, alone on random inputs, on every path. */
static void compare_ops(const mnv2_model *m, uint32_t seed)
{
	for (int path = first_path(); path <= m->kpath; path++)
		compare_ops_on(m, path, seed);
}

static void compare_ops_on(const mnv2_model *m, int path, uint32_t seed)
{
	uint32_t rng = seed;
	int packed = 0;
	void *work = m->work_bytes ? aligned_alloc(64, (m->work_bytes + 63) / 64 * 64) : NULL;
	for (int i = 0; i < m->nops; i++) {
		const mnv2_op *op = &m->ops[i];
		const mnv2_tensor *in = &m->tensors[op->in[0]], *out = &m->tensors[op->out[0]];
		if (op->kind != MNV2_OP_CONV && op->kind != MNV2_OP_DWCONV && op->kind != MNV2_OP_FC &&
		    op->kind != MNV2_OP_ADD && op->kind != MNV2_OP_AVGPOOL && op->kind != MNV2_OP_MAXPOOL)
			continue;
		case_set("%s operator %d (%s) path %s", m->name, i, op->name,
			 mnv2_kernel_path_name((mnv2_kernel_path)path));
		uint8_t *x = random_bytes(&rng, in->bytes);
		uint8_t *y = op->kind == MNV2_OP_ADD ? random_bytes(&rng, m->tensors[op->in[1]].bytes) : NULL;
		uint8_t *want = guarded(out->bytes), *got = guarded(out->bytes);
		if (op->kind == MNV2_OP_ADD) {
			mnv2_add(&op->k.add, x, y, want);
			mnv2_add_exec(&op->k.add, path, x, y, got, 0, 1);
		} else if (op->kind == MNV2_OP_AVGPOOL || op->kind == MNV2_OP_MAXPOOL) {
			int is_max = op->kind == MNV2_OP_MAXPOOL;
			(is_max ? mnv2_maxpool : mnv2_avgpool)(&op->k.pool, x, want);
			mnv2_pool_exec(&op->k.pool, is_max, path, x, got, 0, 1);
		} else {
			int dw = op->kind == MNV2_OP_DWCONV;
			const void *w = m->tensors[op->in[1]].data;
			(dw ? mnv2_dwconv2d : mnv2_conv2d)(&op->k.conv, x, w, want);
			mnv2_conv_exec(&op->k.conv, dw, op->packed, path, x, w, got, work, 0, 1);
			packed += op->packed != NULL;
		}
		guard_check(got, out->bytes);
		compare(want, got, out->bytes, "operator output");
		free(x);
		free(y);
		free(want - GUARD);
		free(got - GUARD);
	}
	if (path > MNV2_KPATH_PORTABLE)
		CHECK(packed > 0, "%s: no packed convolution", m->name);
	free(work);
}

static const char *const real_models[][2] = {
	{ "mobilenet_v2_1.0_224_quant", "classify" },
	{ "tf2_mobilenet_v2_1.0_224_ptq", "classify" },
	{ "mobilenet_ssd_v2_coco_quant_postprocess", "detect" },
	{ "ssd_mobilenet_v1_1_default_1", "detect" },
};

/* MNV2_TEST_REAL_MODELS: a comma-separated list of the real models to run (default: all
 * four). scripts/run-tests.sh names one classifier under qemu, where inference is ~50x
 * slower; every convolution, ADD and pool of the detectors is still checked alone there
 * (test_real_ops). */
static int real_model_wanted(int i)
{
	const char *list = getenv("MNV2_TEST_REAL_MODELS");
	if (!list || !*list)
		return 1;
	size_t n = strlen(real_models[i][0]);
	for (const char *p = list; (p = strstr(p, real_models[i][0])); p += n)
		if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
			return 1;
	fprintf(stderr, "test_simd: %s not in MNV2_TEST_REAL_MODELS; skipped\n", real_models[i][0]);
	return 0;
}

START_TEST(test_real_models)
{
	const char *shared = test_shared_dir();
	if (!shared) {
		fprintf(stderr, "test_simd: ../shared is absent; real models skipped\n");
		return;
	}
	if (!real_model_wanted(_i))
		return;
	char path[1024];
	mnv2_error err;
	snprintf(path, sizeof path, "%s/models/%s.tflite", shared, real_models[_i][0]);
	mnv2_model *m = mnv2_model_load(path, &err);
	if (!m) {
		fprintf(stderr, "test_simd: %s: %s; skipped\n", path, err.msg);
		return;
	}
	ck_assert_int_eq(mnv2_model_kernel_path(m), mnv2_cpu_path());
	static const char *const inputs[] = { "grace_hopper", "kite_and_cold" };
	for (int k = 0; k < 2; k++) {
		size_t len = 0;
		snprintf(path, sizeof path, "%s/golden/%s/%s/%s.u8", shared, real_models[_i][1],
			 real_models[_i][0], inputs[k]);
		uint8_t *in = test_read_file(path, 1 << 24, &len);
		case_set("%s on %s%s", real_models[_i][0], inputs[k], in ? "" : " (random input)");
		compare_paths(m, in, len, 99 + (uint32_t)k);
		free(in);
	}
	mnv2_model_free(m);
}
END_TEST

/* Every convolution, ADD and pool of each real model alone, on every path (not filtered
 * by MNV2_TEST_REAL_MODELS). */
START_TEST(test_real_ops)
{
	const char *shared = test_shared_dir();
	if (!shared) {
		fprintf(stderr, "test_simd: ../shared is absent; real models skipped\n");
		return;
	}
	char path[1024];
	mnv2_error err;
	snprintf(path, sizeof path, "%s/models/%s.tflite", shared, real_models[_i][0]);
	mnv2_model *m = mnv2_model_load(path, &err);
	if (!m) {
		fprintf(stderr, "test_simd: %s: %s; skipped\n", path, err.msg);
		return;
	}
	compare_ops(m, 1234);
	mnv2_model_free(m);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Threads                                                                               */

/* The same inputs on `threads` threads and on one, on every path: identical outputs. */
static void compare_threads(const mnv2_model *m, int threads, uint32_t seed)
{
	mnv2_error err;
	int mpath = (int)mnv2_model_kernel_path(m);
	for (int path = MNV2_KPATH_PORTABLE; path >= 0; path = next_path(path, mpath)) {
		mnv2_context *one = mnv2_context_create(m, &err), *many = mnv2_context_create(m, &err);
		CHECK(one && many, "%s", err.msg);
		CHECK(mnv2_context_set_kernel_path(one, (mnv2_kernel_path)path, &err) == 0 &&
			      mnv2_context_set_kernel_path(many, (mnv2_kernel_path)path, &err) == 0 &&
			      mnv2_context_set_threads(many, threads, &err) == 0,
		      "%s", err.msg);
		CHECK(mnv2_context_threads(many) == threads, "thread count");
		for (int round = 0; round < 2; round++) { /* the pool is reused */
			/* a run may overwrite its input (its arena slot is reused): set it each time */
			for (int i = 0; i < mnv2_model_num_inputs(m); i++) {
				size_t n;
				uint8_t *d = mnv2_context_input(one, i, &n);
				uint32_t rng = seed + (uint32_t)i;
				for (size_t k = 0; k < n; k++)
					d[k] = (uint8_t)test_rand(&rng);
				memcpy(mnv2_context_input(many, i, NULL), d, n);
			}
			CHECK(mnv2_context_run(one, &err) == 0, "%s", err.msg);
			CHECK(mnv2_context_run(many, &err) == 0, "%s", err.msg);
			for (int i = 0; i < mnv2_model_num_outputs(m); i++) {
				size_t n1, n2;
				const uint8_t *a = mnv2_context_output(one, i, &n1);
				const uint8_t *b = mnv2_context_output(many, i, &n2);
				char what[96];
				snprintf(what, sizeof what, "%d threads, path %s, output %d", threads,
					 mnv2_kernel_path_name((mnv2_kernel_path)path), i);
				CHECK(n1 == n2, "%s: sizes differ", what);
				compare(a, b, n1, what);
			}
		}
		mnv2_context_free(one);
		mnv2_context_free(many);
	}
}

START_TEST(test_threads_synthetic)
{
	static const enum synth_kind kinds[] = { SYNTH_MNV2_UINT8, SYNTH_MNV2_INT8PC,
						 SYNTH_SSDLITE_HEAD };
	static const int counts[] = { 2, 3, 4, 7 };
	for (int k = 0; k < 3; k++) {
		uint8_t *buf;
		size_t len;
		mnv2_error err;
		ck_assert_int_eq(synth_model(kinds[k], 5, NULL, &buf, &len), 0);
		mnv2_model *m = mnv2_model_load_buffer(buf, len, "synth", 0, &err);
		ck_assert_msg(m != NULL, "%s", err.msg);
		for (int t = 0; t < 4; t++) {
			case_set("synthetic model kind %d, %d threads", k, counts[t]);
			compare_threads(m, counts[t], 31 * (uint32_t)t + 1);
		}
		mnv2_model_free(m);
		free(buf);
	}
}
END_TEST

START_TEST(test_threads_real)
{
	const char *shared = test_shared_dir();
	if (!shared) {
		fprintf(stderr, "test_simd: ../shared is absent; real models skipped\n");
		return;
	}
	if (!real_model_wanted(_i))
		return;
	char path[1024];
	mnv2_error err;
	snprintf(path, sizeof path, "%s/models/%s.tflite", shared, real_models[_i][0]);
	mnv2_model *m = mnv2_model_load(path, &err);
	if (!m) {
		fprintf(stderr, "test_simd: %s: %s; skipped\n", path, err.msg);
		return;
	}
	for (int t = 2; t <= 3; t++) {
		case_set("%s, %d threads", real_models[_i][0], t);
		compare_threads(m, t, 7 + (uint32_t)t);
	}
	mnv2_model_free(m);
}
END_TEST

START_TEST(test_threads_api)
{
	uint8_t *buf;
	size_t len;
	mnv2_error err;
	ck_assert_int_eq(synth_model(SYNTH_MNV2_UINT8, 2, NULL, &buf, &len), 0);
	mnv2_model *m = mnv2_model_load_buffer(buf, len, "synth", 0, &err);
	ck_assert_ptr_nonnull(m);
	mnv2_context *c = mnv2_context_create(m, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mnv2_context_threads(c), 1);
	ck_assert_int_eq(mnv2_context_set_threads(c, 0, &err), -1);
	ck_assert_msg(strstr(err.msg, "0 threads requested") != NULL, "%s", err.msg);
	ck_assert_int_eq(mnv2_context_set_threads(c, 65, &err), -1);
	ck_assert_int_eq(mnv2_context_threads(c), 1);
	/* grow, shrink, regrow, run in between; free with threads started */
	static const int seq[] = { 4, 2, 2, 1, 3, 64 };
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(mnv2_context_set_threads(c, seq[i], &err), 0);
		ck_assert_int_eq(mnv2_context_threads(c), seq[i]);
		ck_assert_int_eq(mnv2_context_run(c, &err), 0);
	}
	mnv2_context_free(c);
	mnv2_model_free(m);
	free(buf);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* API                                                                                   */

START_TEST(test_path_api)
{
	mnv2_kernel_path kp;
	/* MNV2_TEST_EXPECT_PATH (set by scripts/run-tests.sh where the CPU is known, e.g. qemu's
	 * "max" CPU): the path this CPU must choose, so that a broken feature check cannot
	 * leave every comparison on the portable path unnoticed */
	const char *want = getenv("MNV2_TEST_EXPECT_PATH");
	if (want && *want) {
		ck_assert_msg(mnv2_kernel_path_parse(want, &kp) == 0, "MNV2_TEST_EXPECT_PATH=%s", want);
		ck_assert_msg(mnv2_cpu_path() == (int)kp, "this CPU chose path %s, expected %s",
			      mnv2_kernel_path_name((mnv2_kernel_path)mnv2_cpu_path()), want);
	}
	ck_assert_str_eq(mnv2_kernel_path_name(MNV2_PATH_PORTABLE), "portable");
	ck_assert_str_eq(mnv2_kernel_path_name(MNV2_PATH_AVX2), "avx2");
	ck_assert_int_eq(mnv2_kernel_path_parse("avx2", &kp), 0);
	ck_assert_int_eq(kp, MNV2_PATH_AVX2);
	ck_assert_int_eq(mnv2_kernel_path_parse("portable", &kp), 0);
	ck_assert_int_eq(kp, MNV2_PATH_PORTABLE);
	ck_assert_str_eq(mnv2_kernel_path_name(MNV2_PATH_AVXVNNI), "avxvnni");
	ck_assert_int_eq(mnv2_kernel_path_parse("avxvnni", &kp), 0);
	ck_assert_int_eq(kp, MNV2_PATH_AVXVNNI);
	ck_assert_str_eq(mnv2_kernel_path_name(MNV2_PATH_NEON), "neon");
	ck_assert_int_eq(mnv2_kernel_path_parse("neon", &kp), 0);
	ck_assert_int_eq(kp, MNV2_PATH_NEON);
	ck_assert_str_eq(mnv2_kernel_path_name(MNV2_PATH_NEONDOT), "neondot");
	ck_assert_int_eq(mnv2_kernel_path_parse("neondot", &kp), 0);
	ck_assert_int_eq(kp, MNV2_PATH_NEONDOT);
	ck_assert_int_eq(mnv2_kernel_path_parse("sse4", &kp), -1);
	ck_assert_int_eq(mnv2_kernel_path_parse("", &kp), -1);

	uint8_t *buf;
	size_t len;
	mnv2_error err;
	ck_assert_int_eq(synth_model(SYNTH_MNV2_UINT8, 1, NULL, &buf, &len), 0);
	mnv2_model *m = mnv2_model_load_buffer(buf, len, "synth", 0, &err);
	ck_assert_ptr_nonnull(m);
	mnv2_context *c = mnv2_context_create(m, &err);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(mnv2_context_kernel_path(c), mnv2_model_kernel_path(m));
	ck_assert_int_eq(mnv2_context_set_kernel_path(c, (mnv2_kernel_path)7, &err), -1);
	ck_assert_msg(strstr(err.msg, "not available") != NULL, "%s", err.msg);
	ck_assert_int_eq(mnv2_context_set_kernel_path(c, (mnv2_kernel_path)-1, &err), -1);
	ck_assert_int_eq(mnv2_context_kernel_path(c), mnv2_model_kernel_path(m));
	/* a SIMD path is available when it is of the model's architecture, no newer */
	int mp = (int)mnv2_model_kernel_path(m);
	int m_x86 = mp == MNV2_PATH_AVX2 || mp == MNV2_PATH_AVXVNNI;
	int m_arm = mp == MNV2_PATH_NEON || mp == MNV2_PATH_NEONDOT;
	for (int q = MNV2_PATH_AVX2; q <= MNV2_PATH_NEONDOT; q++) {
		int q_x86 = q == MNV2_PATH_AVX2 || q == MNV2_PATH_AVXVNNI;
		int ok = q <= mp && (q_x86 ? m_x86 : m_arm);
		ck_assert_msg(mnv2_context_set_kernel_path(c, (mnv2_kernel_path)q, &err) == (ok ? 0 : -1),
			      "path %s on a model loaded for %s", mnv2_kernel_path_name((mnv2_kernel_path)q),
			      mnv2_kernel_path_name((mnv2_kernel_path)mp));
		ck_assert_int_eq(mnv2_context_kernel_path(c), ok ? q : mp);
		ck_assert_int_eq(mnv2_context_set_kernel_path(c, (mnv2_kernel_path)mp, &err), 0);
	}
	if (mnv2_model_kernel_path(m) == MNV2_PATH_PORTABLE) {
		ck_assert_int_eq(mnv2_context_set_kernel_path(c, MNV2_PATH_AVX2, &err), -1);
	} else {
		ck_assert_uint_gt(mnv2_model_workspace_bytes(m), 0);
		ck_assert_int_eq(mnv2_context_set_kernel_path(c, MNV2_PATH_PORTABLE, &err), 0);
		ck_assert_int_eq(mnv2_context_kernel_path(c), MNV2_PATH_PORTABLE);
	}
	/* the profiled run gives the same bytes and a time per op */
	double *ns = calloc((size_t)mnv2_model_num_ops(m), sizeof *ns);
	ck_assert_ptr_nonnull(ns);
	ck_assert_int_eq(mnv2_context_run_profiled(c, ns, &err), 0);
	for (int i = 0; i < mnv2_model_num_ops(m); i++)
		ck_assert_msg(ns[i] >= 0, "op %d took %g ns", i, ns[i]);
	free(ns);
	mnv2_context_free(c);
	mnv2_model_free(m);
	free(buf);
}
END_TEST

static Suite *simd_suite(void)
{
	Suite *s = suite_create("simd");
	TCase *tc = tcase_create("kernels");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_conv_any, 0, 2);
	tcase_add_loop_test(tc, test_conv_1x1, 0, 2);
	tcase_add_loop_test(tc, test_fc, 0, 2);
	tcase_add_loop_test(tc, test_conv_3x3, 0, 2);
	tcase_add_loop_test(tc, test_dw_3x3, 0, 2);
	tcase_add_loop_test(tc, test_dw_any, 0, 2);
	tcase_add_test(tc, test_pack_refuses_nonfinite);
	tcase_add_test(tc, test_add);
	tcase_add_loop_test(tc, test_pool, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("models");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_path_api);
	tcase_add_test(tc, test_synthetic_models);
	tcase_add_loop_test(tc, test_real_models, 0, 4);
	tcase_add_loop_test(tc, test_real_ops, 0, 4);
	suite_add_tcase(s, tc);
	tc = tcase_create("threads");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_threads_api);
	tcase_add_test(tc, test_threads_synthetic);
	tcase_add_loop_test(tc, test_threads_real, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(simd_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
