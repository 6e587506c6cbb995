/* test_kernels — unit tests of the portable kernels (engine/src/kernels) against second,
 * independent implementations of each documented contract.
 *
 * The references below are written in the plainest form: full accumulators in int64 with
 * explicit index math (output coordinates decoded from the flat index), then the documented
 * rounding written out by hand (floor/compare instead of lrintf/roundf, floor division
 * instead of shifts, exact double products rounded once instead of float multiplies).
 * Random shapes, strides, paddings and quantization parameters come from fixed seeds, so a
 * failure reproduces; its message names the case's parameters and the first differing
 * index. Outputs are written between guard bytes, so a write outside the output fails. */
#include "kernels/kernels.h"
#include "fixedpoint.h"
#include "test_util.h"

#include <check.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                               */

/* Check's ck_assert* records a mark point (a write to a pipe) on every passing check,
 * which dominates the run time in per-element loops; CHECK only acts on a failure. */
#define CHECK(cond, ...)                         \
	do {                                     \
		if (!(cond))                     \
			ck_abort_msg(__VA_ARGS__); \
	} while (0)

static char g_case[1024]; /* the current case's parameters, for failure messages */

static void case_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void case_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g_case, sizeof g_case, fmt, ap);
	va_end(ap);
}

static void *xcalloc(size_t n)
{
	void *p = calloc(n ? n : 1, 1);
	CHECK(p != NULL, "out of memory (%zu bytes)", n);
	return p;
}

enum { GUARD = 64, GUARD_BYTE = 0xA5 };

/* An output buffer of n bytes between two guard zones. */
static uint8_t *guarded(size_t n)
{
	uint8_t *b = malloc(n + 2 * GUARD);
	CHECK(b != NULL, "out of memory (%zu bytes)", n);
	memset(b, GUARD_BYTE, n + 2 * GUARD);
	return b + GUARD;
}

static void guarded_free(uint8_t *o, size_t n, const char *what, int iter)
{
	uint8_t *b = o - GUARD;
	for (size_t i = 0; i < GUARD; i++)
		if (b[i] != GUARD_BYTE || o[n + i] != GUARD_BYTE)
			ck_abort_msg("%s, case %d: write outside the %zu-byte output (%s guard, "
				     "byte %zu); case: %s",
				     what, iter, n, b[i] != GUARD_BYTE ? "leading" : "trailing", i,
				     g_case);
	free(b);
}

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static double urand(uint32_t *s) { return (double)test_rand(s) / 4294967296.0; }
static int irand(uint32_t *s, int lo, int hi) { return (int)test_rand_range(s, lo, hi); }
static int coin(uint32_t *s) { return (int)((test_rand(s) >> 7) & 1); }

/* Log-uniform in [lo, hi). */
static float logrand(uint32_t *s, double lo, double hi)
{
	return (float)(lo * pow(hi / lo, urand(s)));
}

static int32_t qmin_of(int sg) { return sg ? -128 : 0; }
static int32_t qmax_of(int sg) { return sg ? 127 : 255; }

static int32_t ldq(const void *p, size_t i, int sg)
{
	return sg ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}

static void stq(void *p, size_t i, int64_t v, int sg)
{
	CHECK(v >= qmin_of(sg) && v <= qmax_of(sg), "reference value %lld out of range",
		      (long long)v);
	if (sg)
		((int8_t *)p)[i] = (int8_t)v;
	else
		((uint8_t *)p)[i] = (uint8_t)v;
}

/* A zero point, at one of the type's extremes 40% of the time. */
static int32_t rand_zp(uint32_t *s, int sg)
{
	switch (irand(s, 0, 4)) {
	case 0:
		return qmin_of(sg);
	case 1:
		return qmax_of(sg);
	default:
		return irand(s, qmin_of(sg), qmax_of(sg));
	}
}

/* An activation range: the type's range, or narrower, or nearly a single value. */
static void rand_act(uint32_t *s, int sg, int32_t *lo, int32_t *hi)
{
	int32_t a = qmin_of(sg), b = qmax_of(sg);
	switch (irand(s, 0, 3)) {
	case 0:
		break;
	case 1:
		a += irand(s, 1, 100);
		b -= irand(s, 1, 100);
		break;
	case 2:
		a = irand(s, a, b);
		b = imin(a + irand(s, 0, 4), b);
		break;
	default:
		a = irand(s, a, b);
		b = irand(s, a, b);
		break;
	}
	*lo = a;
	*hi = b;
}

/* Fills n 8-bit values: uniform, both extremes, a narrow cluster, or one constant. */
static void fill_q(uint32_t *s, void *buf, size_t n, int sg, int mode)
{
	int32_t lo = qmin_of(sg), hi = qmax_of(sg), c = irand(s, lo, hi);
	for (size_t i = 0; i < n; i++) {
		int32_t v;
		switch (mode) {
		case 1:
			v = coin(s) ? hi : lo;
			break;
		case 2:
			v = (int32_t)clamp64(c + irand(s, -3, 3), lo, hi);
			break;
		case 3:
			v = c;
			break;
		default:
			v = irand(s, lo, hi);
			break;
		}
		stq(buf, i, v, sg);
	}
}

static void fill_const(void *buf, size_t n, int sg, int32_t v)
{
	for (size_t i = 0; i < n; i++)
		stq(buf, i, v, sg);
}

/* Compares n 8-bit values. nhwc (or NULL) gives the output's dims, to name the first
 * differing element by its coordinates too. */
static void expect_q(const char *what, int iter, const void *got, const void *want, size_t n,
		     int sg, const int *nhwc)
{
	for (size_t i = 0; i < n; i++) {
		int32_t g = ldq(got, i, sg), w = ldq(want, i, sg);
		if (g == w)
			continue;
		char at[112] = "";
		if (nhwc) {
			size_t c = i % (size_t)nhwc[3], r = i / (size_t)nhwc[3];
			size_t x = r % (size_t)nhwc[2];
			r /= (size_t)nhwc[2];
			size_t y = r % (size_t)nhwc[1];
			snprintf(at, sizeof at, " (n=%zu y=%zu x=%zu c=%zu)", r / (size_t)nhwc[1], y,
				 x, c);
		}
		ck_abort_msg("%s, case %d: first mismatch at index %zu%s of %zu: got %d, want %d; "
			     "case: %s",
			     what, iter, i, at, n, (int)g, (int)w, g_case);
	}
}

/* ---- reference rounding, written out by hand ---- */

static int g_ties; /* how often ref_rne met an exact .5, to prove ties are exercised */

/* Round to nearest, ties to even, of a finite value. */
static int64_t ref_rne(double f)
{
	f = f < -0x1p60 ? -0x1p60 : f > 0x1p60 ? 0x1p60 : f;
	double fl = floor(f), frac = f - fl; /* exact */
	int64_t i = (int64_t)fl;
	if (frac == 0.5)
		g_ties++;
	if (frac > 0.5 || (frac == 0.5 && (i & 1) != 0))
		i++;
	return i;
}

/* Round to nearest, ties away from zero, of a finite value held exactly by a float. */
static int64_t ref_rha(double f)
{
	f = f < -0x1p60 ? -0x1p60 : f > 0x1p60 ? 0x1p60 : f;
	/* |f| + 0.5 is exact in double for any float-valued f below 2^52. */
	return f >= 0 ? (int64_t)floor(f + 0.5) : -(int64_t)floor(-f + 0.5);
}

/* IEEE single product: the exact product (24 + 24 bits fit a double) rounded once. */
static float ref_fmul(float a, float b)
{
	return (float)((double)a * (double)b);
}

static int64_t floor_div(int64_t a, int64_t d)
{
	int64_t q = a / d;
	if (a % d != 0 && ((a < 0) != (d < 0)))
		q--;
	return q;
}

/* The convolution-family requantization: rne((float)acc * scale) + zp, clamped. */
static int64_t ref_requant_fp32(int64_t acc, float scale, int32_t zp, int32_t lo, int32_t hi)
{
	CHECK(acc >= INT32_MIN && acc <= INT32_MAX,
		      "test bug: accumulator %lld overflows int32", (long long)acc);
	float f = ref_fmul((float)acc, scale);
	return clamp64(ref_rne(f) + zp, lo, hi);
}

/* ------------------------------------------------------------------------------------ */
/* Convolution, depthwise convolution, fully connected                                   */

enum { CONV_GENERAL, CONV_BIG_ACC, CONV_FC };

typedef struct conv_case {
	mnv2_conv_params p;
	int dw, kind, pad_bottom, pad_right, bias_mode, scale_mode, fill_mode;
	int32_t *bias;
	float *scale;
	uint8_t *in, *w;
	size_t in_n, w_n, out_n;
} conv_case;

/* One spatial axis, SAME-like: kernel, dilation, stride, paddings 0..2 (each below the
 * dilated kernel), input size and the output size that covers it. */
static void gen_axis(uint32_t *s, int kmax, int allow_dil, int inmax, int *k, int *dil,
		     int *stride, int *pad0, int *pad1, int *in, int *out)
{
	*k = irand(s, 1, kmax);
	*dil = allow_dil ? irand(s, 1, 2) : 1;
	*stride = irand(s, 1, 3);
	int eff = (*k - 1) * *dil + 1;
	*pad0 = irand(s, 0, imin(2, eff - 1));
	*pad1 = irand(s, 0, imin(2, eff - 1));
	int need = imax(1, eff - *pad0 - *pad1);
	*in = irand(s, need, imax(need, inmax));
	*out = (*in + *pad0 + *pad1 - eff) / *stride + 1;
}

static void ref_conv_acc(const mnv2_conv_params *p, int dw, const void *in, const void *w,
			 int64_t *accs);

static void gen_conv(uint32_t *s, conv_case *c, int dw, int kind)
{
	memset(c, 0, sizeof *c);
	mnv2_conv_params *p = &c->p;
	c->dw = dw;
	c->kind = kind;
	int sg = p->is_signed = coin(s);
	p->depth_mult = 1;
	if (kind == CONV_FC) {
		p->batch = irand(s, 1, 4);
		p->in_h = p->in_w = p->out_h = p->out_w = 1;
		p->k_h = p->k_w = p->stride_h = p->stride_w = p->dil_h = p->dil_w = 1;
		p->in_c = irand(s, 1, 300);
		p->out_c = irand(s, 1, 40);
	} else {
		int big = kind == CONV_BIG_ACC;
		p->batch = irand(s, 1, 2);
		gen_axis(s, 5, 1, big ? 6 : 10, &p->k_h, &p->dil_h, &p->stride_h, &p->pad_top,
			 &c->pad_bottom, &p->in_h, &p->out_h);
		gen_axis(s, 5, 1, big ? 6 : 10, &p->k_w, &p->dil_w, &p->stride_w, &p->pad_left,
			 &c->pad_right, &p->in_w, &p->out_w);
		if (big) { /* many taps, so |acc| passes 2^24 and (float)acc rounds */
			p->k_h = imax(p->k_h, 3);
			p->k_w = imax(p->k_w, 3);
			p->dil_h = p->dil_w = p->stride_h = p->stride_w = 1;
			p->pad_top = p->pad_left = c->pad_bottom = c->pad_right = 1;
			p->in_h = imax(p->in_h, p->k_h);
			p->in_w = imax(p->in_w, p->k_w);
			p->out_h = p->in_h + 2 - p->k_h + 1;
			p->out_w = p->in_w + 2 - p->k_w + 1;
		}
		if (dw) {
			p->depth_mult = irand(s, 1, 3);
			p->in_c = irand(s, 1, big ? 4 : 12);
			p->out_c = p->in_c * p->depth_mult;
		} else {
			p->in_c = big ? irand(s, 40, 80) : irand(s, 1, 12);
			p->out_c = big ? irand(s, 1, 4) : irand(s, 1, 12);
		}
	}
	p->in_zp = rand_zp(s, sg);
	p->w_zp = rand_zp(s, sg);
	p->out_zp = rand_zp(s, sg);
	rand_act(s, sg, &p->act_min, &p->act_max);

	c->in_n = (size_t)p->batch * p->in_h * p->in_w * p->in_c;
	c->w_n = (size_t)p->k_h * p->k_w * (dw ? (size_t)p->out_c : (size_t)p->out_c * p->in_c);
	c->out_n = (size_t)p->batch * p->out_h * p->out_w * p->out_c;
	c->in = xcalloc(c->in_n);
	c->w = xcalloc(c->w_n);
	if (kind == CONV_BIG_ACC) {
		/* Every product at +-255*255, all of one sign. */
		p->in_zp = coin(s) ? qmin_of(sg) : qmax_of(sg);
		p->w_zp = coin(s) ? qmin_of(sg) : qmax_of(sg);
		p->act_min = qmin_of(sg);
		p->act_max = qmax_of(sg);
		c->fill_mode = 9;
		fill_const(c->in, c->in_n, sg,
			   p->in_zp == qmin_of(sg) ? qmax_of(sg) : qmin_of(sg));
		fill_const(c->w, c->w_n, sg, p->w_zp == qmin_of(sg) ? qmax_of(sg) : qmin_of(sg));
		/* ... except a few, so outputs differ across positions. */
		for (int i = 0; i < 8; i++) {
			stq(c->in, (size_t)irand(s, 0, (int)c->in_n - 1), irand(s, qmin_of(sg), qmax_of(sg)), sg);
			stq(c->w, (size_t)irand(s, 0, (int)c->w_n - 1), irand(s, qmin_of(sg), qmax_of(sg)), sg);
		}
	} else {
		c->fill_mode = irand(s, 0, 5);
		fill_q(s, c->in, c->in_n, sg, c->fill_mode > 3 ? 0 : c->fill_mode);
		fill_q(s, c->w, c->w_n, sg, c->fill_mode == 1 ? 1 : 0);
	}

	/* Bias: none, small, medium, or as large as int32 allows given the taps. */
	int64_t maxsum = (int64_t)p->k_h * p->k_w * (dw ? 1 : p->in_c) * 255 * 255;
	int64_t room = INT32_MAX - maxsum;
	ck_assert(room > 0);
	c->bias_mode = irand(s, 0, 7);
	if (c->bias_mode != 0) {
		c->bias = xcalloc((size_t)p->out_c * sizeof *c->bias);
		for (int oc = 0; oc < p->out_c; oc++) {
			int64_t b;
			switch (c->bias_mode) {
			case 1: case 2: case 3:
				b = (int64_t)irand(s, -4096, 4096);
				break;
			case 4: case 5:
				b = (int64_t)irand(s, -(1 << 24), 1 << 24);
				break;
			case 6:
				b = coin(s) ? room : -room;
				break;
			default:
				b = (int64_t)floor((urand(s) * 2 - 1) * (double)room);
				break;
			}
			c->bias[oc] = (int32_t)b;
		}
		p->bias = c->bias;
	}

	/* Scales: one for all channels or one per channel, log-uniform over [1e-6, 10] (so
	 * per-channel scales differ by orders of magnitude), or sized from the channel's
	 * actual accumulators so its outputs spread over the range (down to 1e-9 when a
	 * large bias needs it), either exactly or as a power of two (exact ties). */
	c->scale = xcalloc((size_t)p->out_c * sizeof *c->scale);
	int64_t *accs = xcalloc(c->out_n * sizeof *accs);
	ref_conv_acc(p, dw, c->in, c->w, accs);
	int sm = irand(s, 0, 19);
	c->scale_mode = sm < 3 ? 0 : sm < 6 ? 1 : sm < 11 ? 2 : 3;
	float one = logrand(s, 1e-6, 10);
	for (int oc = 0; oc < p->out_c; oc++) {
		int64_t lo = INT64_MAX, hi = INT64_MIN;
		for (size_t o = (size_t)oc; o < c->out_n; o += (size_t)p->out_c) {
			lo = accs[o] < lo ? accs[o] : lo;
			hi = accs[o] > hi ? accs[o] : hi;
		}
		/* Outputs land around out_zp + acc * scale: aim the extreme accumulator at
		 * about 60..250 steps from the zero point. */
		double span = fmax(1.0, fmax((double)llabs(lo), (double)llabs(hi)));
		double fit = fmin(10.0, fmax(1e-9, logrand(s, 60, 250) / span));
		float v;
		switch (c->scale_mode) {
		case 0:
			v = one;
			break;
		case 1:
			v = logrand(s, 1e-6, 10);
			break;
		case 2:
			v = ldexpf(1.0f, imin(3, (int)floor(log2(fit))));
			break;
		default:
			v = (float)fit;
			break;
		}
		c->scale[oc] = v;
	}
	free(accs);
	p->scale = c->scale;

	case_set("%s%s s8=%d N=%d in=%dx%dx%d out=%dx%dx%d k=%dx%d stride=%d,%d dil=%d,%d "
		 "pad t=%d l=%d b=%d r=%d M=%d zp in=%d w=%d out=%d act=[%d,%d] bias_mode=%d "
		 "(bias[0]=%ld) scale_mode=%d (scale[0]=%.9g) fill=%d",
		 dw ? "dwconv2d" : "conv2d",
		 kind == CONV_FC ? "(FC)" : kind == CONV_BIG_ACC ? "(big acc)" : "", sg,
		 p->batch, p->in_h, p->in_w, p->in_c, p->out_h, p->out_w, p->out_c, p->k_h,
		 p->k_w, p->stride_h, p->stride_w, p->dil_h, p->dil_w, p->pad_top, p->pad_left,
		 c->pad_bottom, c->pad_right, p->depth_mult, (int)p->in_zp, (int)p->w_zp,
		 (int)p->out_zp, (int)p->act_min, (int)p->act_max, c->bias_mode,
		 p->bias ? (long)p->bias[0] : 0L, c->scale_mode, (double)c->scale[0],
		 c->fill_mode);
}

static void free_conv(conv_case *c)
{
	free(c->in);
	free(c->w);
	free(c->bias);
	free(c->scale);
}

static struct {
	long outputs, inside, big_acc;
} g_conv_stats;

/* Reference accumulators: every output decoded from its flat index, the sum taken in int64
 * over the taps that fall inside the input. */
static void ref_conv_acc(const mnv2_conv_params *p, int dw, const void *in, const void *w,
			 int64_t *accs)
{
	const int sg = p->is_signed;
	const size_t n = (size_t)p->batch * p->out_h * p->out_w * p->out_c;
	for (size_t o = 0; o < n; o++) {
		int oc = (int)(o % (size_t)p->out_c);
		size_t r = o / (size_t)p->out_c;
		int ox = (int)(r % (size_t)p->out_w);
		r /= (size_t)p->out_w;
		int oy = (int)(r % (size_t)p->out_h);
		int b = (int)(r / (size_t)p->out_h);
		int64_t acc = p->bias ? p->bias[oc] : 0;
		for (int ky = 0; ky < p->k_h; ky++)
			for (int kx = 0; kx < p->k_w; kx++) {
				int iy = oy * p->stride_h + ky * p->dil_h - p->pad_top;
				int ix = ox * p->stride_w + kx * p->dil_w - p->pad_left;
				if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w)
					continue; /* padding contributes nothing */
				for (int ic = 0; ic < p->in_c; ic++) {
					size_t wi;
					if (dw) {
						if (ic != oc / p->depth_mult)
							continue;
						/* [1, k_h, k_w, out_c] */
						wi = ((size_t)ky * p->k_w + kx) * (size_t)p->out_c +
						     (size_t)oc;
					} else {
						/* [out_c, k_h, k_w, in_c] */
						wi = (((size_t)oc * p->k_h + ky) * p->k_w + kx) *
							     (size_t)p->in_c + (size_t)ic;
					}
					size_t xi = (((size_t)b * p->in_h + iy) * p->in_w + ix) *
							    (size_t)p->in_c + (size_t)ic;
					acc += (int64_t)(ldq(in, xi, sg) - p->in_zp) *
					       (ldq(w, wi, sg) - p->w_zp);
				}
			}
		accs[o] = acc;
	}
}

static void ref_conv(const mnv2_conv_params *p, int dw, const void *in, const void *w,
		     void *out)
{
	const size_t n = (size_t)p->batch * p->out_h * p->out_w * p->out_c;
	int64_t *accs = xcalloc(n * sizeof *accs);
	ref_conv_acc(p, dw, in, w, accs);
	for (size_t o = 0; o < n; o++) {
		int oc = (int)(o % (size_t)p->out_c);
		int64_t q = ref_requant_fp32(accs[o], p->scale[oc], p->out_zp, p->act_min,
					     p->act_max);
		g_conv_stats.outputs++;
		g_conv_stats.inside += q > p->act_min && q < p->act_max;
		g_conv_stats.big_acc += accs[o] > (1 << 24) || accs[o] < -(1 << 24);
		stq(out, o, q, p->is_signed);
	}
	free(accs);
}

static void run_conv_case(conv_case *c, int iter)
{
	const mnv2_conv_params *p = &c->p;
	uint8_t *got = guarded(c->out_n);
	uint8_t *want = xcalloc(c->out_n);
	if (c->dw)
		mnv2_dwconv2d(p, c->in, c->w, got);
	else
		mnv2_conv2d(p, c->in, c->w, got);
	ref_conv(p, c->dw, c->in, c->w, want);
	const int dims[4] = {p->batch, p->out_h, p->out_w, p->out_c};
	expect_q(c->dw ? "dwconv2d" : "conv2d", iter, got, want, c->out_n, p->is_signed, dims);
	guarded_free(got, c->out_n, c->dw ? "dwconv2d" : "conv2d", iter);
	free(want);
}

static void conv_suite_run(uint32_t seed, int dw)
{
	uint32_t s = seed;
	memset(&g_conv_stats, 0, sizeof g_conv_stats);
	g_ties = 0;
	int iter = 0;
	for (int i = 0; i < 320; i++, iter++) {
		conv_case c;
		gen_conv(&s, &c, dw, CONV_GENERAL);
		run_conv_case(&c, iter);
		free_conv(&c);
	}
	for (int i = 0; i < 40; i++, iter++) {
		conv_case c;
		gen_conv(&s, &c, dw, CONV_BIG_ACC);
		run_conv_case(&c, iter);
		free_conv(&c);
	}
	if (!dw)
		for (int i = 0; i < 60; i++, iter++) {
			conv_case c;
			gen_conv(&s, &c, dw, CONV_FC);
			run_conv_case(&c, iter);
			free_conv(&c);
		}
	/* The cases must reach the interesting regions, or the comparison proves little
	 * (a quarter of the cases have activation ranges a few values wide). */
	CHECK(g_conv_stats.inside * 6 > g_conv_stats.outputs,
		      "only %ld of %ld outputs inside the activation range", g_conv_stats.inside,
		      g_conv_stats.outputs);
	CHECK(g_conv_stats.big_acc > 1000, "only %ld accumulators beyond 2^24",
		      g_conv_stats.big_acc);
	CHECK(g_ties > 100, "only %d exact rounding ties", g_ties);
}

START_TEST(test_conv2d_random)
{
	conv_suite_run(0xC0417u, 0);
}
END_TEST

START_TEST(test_dwconv2d_random)
{
	conv_suite_run(0xD3E9u, 1);
}
END_TEST

/* A hand-checked case: 1x1 conv, ties at .5 go to even, act clamps. */
START_TEST(test_conv2d_handmade)
{
	const uint8_t in[4] = {10, 11, 12, 13}; /* 1x2x2x1, zp 10 -> 0 1 2 3 */
	const uint8_t w[1] = {12};              /* zp 10 -> 2 */
	const float scale[1] = {0.25f};         /* acc 0 2 4 6 -> 0 0.5 1 1.5 */
	mnv2_conv_params p = {.batch = 1, .in_h = 2, .in_w = 2, .in_c = 1, .out_h = 2,
			      .out_w = 2, .out_c = 1, .k_h = 1, .k_w = 1, .stride_h = 1,
			      .stride_w = 1, .dil_h = 1, .dil_w = 1, .depth_mult = 1, .in_zp = 10,
			      .w_zp = 10, .out_zp = 100, .act_min = 0, .act_max = 101,
			      .scale = scale};
	uint8_t out[4];
	mnv2_conv2d(&p, in, w, out);
	ck_assert_int_eq(out[0], 100);
	ck_assert_int_eq(out[1], 100); /* 0.5 -> 0 */
	ck_assert_int_eq(out[2], 101);
	ck_assert_int_eq(out[3], 101); /* 1.5 -> 2, clamped to 101 */
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* ADD                                                                                   */

typedef struct ref_add_params {
	int64_t a_mult, b_mult, bias;
	int shift;
} ref_add_params;

/* XNNPACK qu8 vadd's derivation, written with frexpf and ldexp instead of bit tricks. */
static int ref_add_init(ref_add_params *r, float a_scale, int32_t a_zp, float b_scale,
			int32_t b_zp, float out_scale)
{
	float ar = fabsf(a_scale / out_scale), br = fabsf(b_scale / out_scale);
	if (!(ar >= ldexpf(1.0f, -10) && ar < 256.0f && br >= ldexpf(1.0f, -10) &&
	      br < 256.0f))
		return -1;
	int e;
	frexpf(ar > br ? ar : br, &e); /* max = m * 2^e, m in [0.5, 1): exponent e - 1 */
	r->shift = 20 - (e - 1);       /* the larger multiplier gets 21 bits */
	r->a_mult = ref_rne(ldexp((double)ar, r->shift));
	r->b_mult = ref_rne(ldexp((double)br, r->shift));
	r->bias = ((int64_t)1 << (r->shift - 1)) - r->a_mult * a_zp - r->b_mult * b_zp;
	return 0;
}

static int32_t ref_add_one(const ref_add_params *r, int32_t a, int32_t b, int32_t zp,
			   int32_t lo, int32_t hi)
{
	int64_t acc = r->bias + (int64_t)a * r->a_mult + (int64_t)b * r->b_mult;
	int64_t v = floor_div(acc, (int64_t)1 << r->shift);
	return (int32_t)(clamp64(v, lo - zp, hi - zp) + zp);
}

static float ratio_rand(uint32_t *s)
{
	return ldexpf(1.0f, -10) * (float)pow(2.0, 18.0 * urand(s));
}

START_TEST(test_add_params)
{
	uint32_t s = 0xADD1u;
	int accepted = 0;
	for (int iter = 0; iter < 3000; iter++) {
		int sg = coin(&s);
		float out_scale = logrand(&s, 1e-4, 1.0);
		float a_scale = out_scale * ratio_rand(&s), b_scale = out_scale * ratio_rand(&s);
		if (iter % 10 == 0) /* ratios just around the limits */
			a_scale = out_scale * (coin(&s) ? ldexpf(1.0f, -10) : 256.0f) *
				  (float)(1.0 + (urand(&s) - 0.5) * 1e-6);
		if (iter % 10 == 1)
			b_scale = a_scale;
		int32_t a_zp = rand_zp(&s, sg), b_zp = rand_zp(&s, sg), out_zp = rand_zp(&s, sg);
		case_set("a_scale=%.9g b_scale=%.9g out_scale=%.9g zp a=%d b=%d out=%d",
			 (double)a_scale, (double)b_scale, (double)out_scale, (int)a_zp,
			 (int)b_zp, (int)out_zp);
		mnv2_add_params p;
		memset(&p, 0x5C, sizeof p);
		ref_add_params r;
		int rc = mnv2_add_params_init(&p, a_scale, a_zp, b_scale, b_zp, out_scale, out_zp);
		int rrc = ref_add_init(&r, a_scale, a_zp, b_scale, b_zp, out_scale);
		CHECK(rc == rrc, "case %d: init returned %d, want %d; %s", iter, rc, rrc,
			      g_case);
		if (rc != 0)
			continue;
		accepted++;
		CHECK(p.shift == (uint32_t)r.shift && p.a_mult == r.a_mult &&
				      p.b_mult == r.b_mult && p.bias == r.bias && p.out_zp == out_zp,
			      "case %d: got mult a=%d b=%d shift=%u bias=%d zp=%d, want a=%lld "
			      "b=%lld shift=%d bias=%lld zp=%d; %s",
			      iter, (int)p.a_mult, (int)p.b_mult, (unsigned)p.shift, (int)p.bias,
			      (int)p.out_zp, (long long)r.a_mult, (long long)r.b_mult, r.shift,
			      (long long)r.bias, (int)out_zp, g_case);
		/* XNNPACK's invariants: shift in [13, 30], the larger multiplier 21 bits. */
		int64_t mx = r.a_mult > r.b_mult ? r.a_mult : r.b_mult;
		CHECK(r.shift >= 13 && r.shift <= 30 && mx >= (1 << 20) && mx <= (1 << 21),
			      "case %d: shift %d, max multiplier %lld; %s", iter, r.shift,
			      (long long)mx, g_case);
	}
	ck_assert_int_gt(accepted, 2500);
}
END_TEST

START_TEST(test_add_params_reject)
{
	const float lo = ldexpf(1.0f, -10), hi = 256.0f;
	const struct {
		float a, b, out;
		int ok;
	} cases[] = {
		{lo, 1, 1, 1},
		{nextafterf(lo, 0), 1, 1, 0},
		{1, lo, 1, 1},
		{1, nextafterf(lo, 0), 1, 0},
		{nextafterf(hi, 0), 1, 1, 1},
		{1, nextafterf(hi, 0), 1, 1},
		{hi, 1, 1, 0},
		{1, hi, 1, 0},
		{300, 300, 1, 0},
		{1e-9f, 1e-9f, 1, 0},
		{0, 1, 1, 0},
		{1, 0, 1, 0},
		{1, 1, 0, 0},
		{NAN, 1, 1, 0},
		{1, NAN, 1, 0},
		{1, 1, NAN, 0},
		{INFINITY, 1, 1, 0},
		{1, 1, INFINITY, 0},
		{lo * 0.5f, lo * 0.5f, 0.5f, 1},  /* ratio exactly 2^-10 */
		{hi * 0.25f, 1, 0.25f, 0},        /* ratio exactly 2^8 */
		{0.02f, 0.03f, 0.04f, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		mnv2_add_params p;
		memset(&p, 0, sizeof p);
		int rc = mnv2_add_params_init(&p, cases[i].a, 0, cases[i].b, 0, cases[i].out, 0);
		CHECK(rc == (cases[i].ok ? 0 : -1),
			      "case %zu: a=%.9g b=%.9g out=%.9g returned %d, want %s", i,
			      (double)cases[i].a, (double)cases[i].b, (double)cases[i].out, rc,
			      cases[i].ok ? "0" : "-1");
	}
}
END_TEST

typedef struct add_case {
	mnv2_add_params p;
	ref_add_params r;
	float a_scale, b_scale, out_scale;
	int32_t a_zp, b_zp;
	int32_t adims[4], bdims[4];
	size_t a_n, b_n, out_n;
	uint8_t *a, *b;
} add_case;

static void contiguous_strides(const int32_t dims[4], int32_t st[4])
{
	st[3] = 1;
	for (int d = 2; d >= 0; d--)
		st[d] = st[d + 1] * dims[d + 1];
}

/* mode 0: random scales and zero points; 1: all scales and zero points equal. */
static void gen_add(uint32_t *s, add_case *c, int mode)
{
	memset(c, 0, sizeof *c);
	mnv2_add_params *p = &c->p;
	int sg = coin(s);
	for (;;) {
		c->out_scale = logrand(s, 1e-3, 1.0);
		int32_t zp = rand_zp(s, sg);
		if (mode == 1) {
			c->a_scale = c->b_scale = c->out_scale;
			c->a_zp = c->b_zp = zp;
		} else {
			c->a_scale = c->out_scale * (irand(s, 0, 3) ? ratio_rand(s) : logrand(s, 0.5, 2));
			c->b_scale = c->out_scale * (irand(s, 0, 3) ? ratio_rand(s) : logrand(s, 0.5, 2));
			c->a_zp = rand_zp(s, sg);
			c->b_zp = rand_zp(s, sg);
		}
		int rc = mnv2_add_params_init(p, c->a_scale, c->a_zp, c->b_scale, c->b_zp,
					      c->out_scale, zp);
		int rrc = ref_add_init(&c->r, c->a_scale, c->a_zp, c->b_scale, c->b_zp,
				       c->out_scale);
		ck_assert_int_eq(rc, rrc);
		if (rc == 0)
			break;
	}
	p->is_signed = sg;
	rand_act(s, sg, &p->act_min, &p->act_max);
	p->rank = irand(s, 1, 4);
	int32_t ast[4], bst[4];
	for (int d = 0; d < 4; d++) {
		int32_t o = d < 4 - p->rank ? 1 : irand(s, 1, 5);
		p->out_dims[d] = o;
		c->adims[d] = o > 1 && irand(s, 0, 2) == 0 ? 1 : o;
		c->bdims[d] = o > 1 && irand(s, 0, 2) == 0 ? 1 : o;
	}
	if (irand(s, 0, 9) == 0) { /* a long run without broadcasting */
		p->rank = 1;
		for (int d = 0; d < 3; d++)
			p->out_dims[d] = c->adims[d] = c->bdims[d] = 1;
		p->out_dims[3] = c->adims[3] = c->bdims[3] = irand(s, 1, 5000);
	}
	contiguous_strides(c->adims, ast);
	contiguous_strides(c->bdims, bst);
	for (int d = 0; d < 4; d++) {
		p->a_strides[d] = c->adims[d] == 1 && p->out_dims[d] != 1 ? 0 : ast[d];
		p->b_strides[d] = c->bdims[d] == 1 && p->out_dims[d] != 1 ? 0 : bst[d];
	}
	c->a_n = (size_t)c->adims[0] * c->adims[1] * c->adims[2] * c->adims[3];
	c->b_n = (size_t)c->bdims[0] * c->bdims[1] * c->bdims[2] * c->bdims[3];
	c->out_n = (size_t)p->out_dims[0] * p->out_dims[1] * p->out_dims[2] * p->out_dims[3];
	c->a = xcalloc(c->a_n);
	c->b = xcalloc(c->b_n);
	fill_q(s, c->a, c->a_n, sg, irand(s, 0, 2));
	fill_q(s, c->b, c->b_n, sg, irand(s, 0, 2));
	case_set("s8=%d scales a=%.9g b=%.9g out=%.9g zp a=%d b=%d out=%d act=[%d,%d] "
		 "out=%dx%dx%dx%d a=%dx%dx%dx%d b=%dx%dx%dx%d mult a=%d b=%d shift=%u",
		 sg, (double)c->a_scale, (double)c->b_scale, (double)c->out_scale, (int)c->a_zp,
		 (int)c->b_zp, (int)p->out_zp, (int)p->act_min, (int)p->act_max,
		 (int)p->out_dims[0], (int)p->out_dims[1], (int)p->out_dims[2],
		 (int)p->out_dims[3], (int)c->adims[0], (int)c->adims[1], (int)c->adims[2],
		 (int)c->adims[3], (int)c->bdims[0], (int)c->bdims[1], (int)c->bdims[2],
		 (int)c->bdims[3], (int)p->a_mult, (int)p->b_mult, (unsigned)p->shift);
}

/* Flat index of an operand's element for output coordinates i[], from the operand's own
 * dims: a size-1 dimension is read at 0. */
static size_t bcast_index(const int32_t dims[4], const int32_t i[4])
{
	size_t idx = 0;
	for (int d = 0; d < 4; d++)
		idx = idx * (size_t)dims[d] + (size_t)(dims[d] == 1 ? 0 : i[d]);
	return idx;
}

static void add_coords(const int32_t dims[4], size_t o, int32_t i[4])
{
	for (int d = 3; d >= 0; d--) {
		i[d] = (int32_t)(o % (size_t)dims[d]);
		o /= (size_t)dims[d];
	}
}

START_TEST(test_add_random)
{
	uint32_t s = 0xADD2u;
	long bcast = 0;
	for (int iter = 0; iter < 600; iter++) {
		add_case c;
		gen_add(&s, &c, 0);
		const mnv2_add_params *p = &c.p;
		int sg = p->is_signed;
		uint8_t *got = guarded(c.out_n), *want = xcalloc(c.out_n);
		mnv2_add(p, c.a, c.b, got);
		for (size_t o = 0; o < c.out_n; o++) {
			int32_t i[4];
			add_coords(p->out_dims, o, i);
			int32_t a = ldq(c.a, bcast_index(c.adims, i), sg);
			int32_t b = ldq(c.b, bcast_index(c.bdims, i), sg);
			stq(want, o, ref_add_one(&c.r, a, b, p->out_zp, p->act_min, p->act_max), sg);
		}
		bcast += c.a_n != c.out_n || c.b_n != c.out_n;
		expect_q("add", iter, got, want, c.out_n, sg, NULL);
		/* Sanity against real arithmetic: within 1 of the rounded real sum. */
		for (size_t o = 0; o < c.out_n; o++) {
			int32_t i[4];
			add_coords(p->out_dims, o, i);
			int32_t a = ldq(c.a, bcast_index(c.adims, i), sg);
			int32_t b = ldq(c.b, bcast_index(c.bdims, i), sg);
			double real = ((double)c.a_scale * (a - c.a_zp) +
				       (double)c.b_scale * (b - c.b_zp)) / (double)c.out_scale;
			int64_t q = clamp64((int64_t)floor(real + 0.5) + p->out_zp, p->act_min,
					    p->act_max);
			int32_t g = ldq(got, o, sg);
			CHECK(llabs(g - q) <= 1,
				      "add, case %d, index %zu: a=%d b=%d got %d, real sum "
				      "rounds to %lld; case: %s",
				      iter, o, (int)a, (int)b, (int)g, (long long)q, g_case);
		}
		guarded_free(got, c.out_n, "add", iter);
		free(want);
		free(c.a);
		free(c.b);
	}
	ck_assert_int_gt(bcast, 300);
}
END_TEST

START_TEST(test_add_equal_scales)
{
	uint32_t s = 0xADD3u;
	for (int iter = 0; iter < 200; iter++) {
		add_case c;
		gen_add(&s, &c, 1);
		const mnv2_add_params *p = &c.p;
		int sg = p->is_signed;
		uint8_t *got = guarded(c.out_n);
		mnv2_add(p, c.a, c.b, got);
		for (size_t o = 0; o < c.out_n; o++) {
			int32_t i[4];
			add_coords(p->out_dims, o, i);
			int32_t a = ldq(c.a, bcast_index(c.adims, i), sg);
			int32_t b = ldq(c.b, bcast_index(c.bdims, i), sg);
			int64_t want = clamp64((int64_t)a + b - p->out_zp, p->act_min, p->act_max);
			int32_t g = ldq(got, o, sg);
			CHECK(llabs(g - want) <= 1,
				      "add(equal scales), case %d, index %zu: a=%d b=%d got %d, "
				      "want %lld (+-1); case: %s",
				      iter, o, (int)a, (int)b, (int)g, (long long)want, g_case);
		}
		guarded_free(got, c.out_n, "add", iter);
		free(c.a);
		free(c.b);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Average and max pooling                                                               */

START_TEST(test_pool_random)
{
	uint32_t s = 0x9001u;
	long windows_partial = 0;
	for (int iter = 0; iter < 500; iter++) {
		mnv2_pool_params p;
		memset(&p, 0, sizeof p);
		int sg = p.is_signed = coin(&s), pb = 0, pr = 0, dil;
		p.batch = irand(&s, 1, 2);
		p.c = irand(&s, 1, 12);
		if (irand(&s, 0, 5) == 0) { /* global pooling, as MobileNet's 7x7 */
			p.in_h = p.k_h = irand(&s, 1, 8);
			p.in_w = p.k_w = irand(&s, 1, 8);
			p.out_h = p.out_w = p.stride_h = p.stride_w = 1;
		} else {
			gen_axis(&s, 5, 0, 10, &p.k_h, &dil, &p.stride_h, &p.pad_top, &pb, &p.in_h,
				 &p.out_h);
			gen_axis(&s, 5, 0, 10, &p.k_w, &dil, &p.stride_w, &p.pad_left, &pr, &p.in_w,
				 &p.out_w);
		}
		rand_act(&s, sg, &p.act_min, &p.act_max);
		size_t in_n = (size_t)p.batch * p.in_h * p.in_w * p.c;
		size_t out_n = (size_t)p.batch * p.out_h * p.out_w * p.c;
		uint8_t *in = xcalloc(in_n);
		int fill = irand(&s, 0, 4);
		fill_q(&s, in, in_n, sg, fill > 3 ? 0 : fill);
		case_set("s8=%d N=%d in=%dx%dx%d out=%dx%d k=%dx%d stride=%d,%d pad t=%d l=%d "
			 "b=%d r=%d act=[%d,%d] fill=%d",
			 sg, p.batch, p.in_h, p.in_w, p.c, p.out_h, p.out_w, p.k_h, p.k_w,
			 p.stride_h, p.stride_w, p.pad_top, p.pad_left, pb, pr, (int)p.act_min,
			 (int)p.act_max, fill);
		uint8_t *avg = guarded(out_n), *max = guarded(out_n);
		uint8_t *want_avg = xcalloc(out_n), *want_max = xcalloc(out_n);
		mnv2_avgpool(&p, in, avg);
		mnv2_maxpool(&p, in, max);
		for (size_t o = 0; o < out_n; o++) {
			int c = (int)(o % (size_t)p.c);
			size_t r = o / (size_t)p.c;
			int ox = (int)(r % (size_t)p.out_w);
			r /= (size_t)p.out_w;
			int oy = (int)(r % (size_t)p.out_h);
			int b = (int)(r / (size_t)p.out_h);
			int64_t sum = 0, count = 0, mx = INT64_MIN;
			for (int ky = 0; ky < p.k_h; ky++)
				for (int kx = 0; kx < p.k_w; kx++) {
					int iy = oy * p.stride_h + ky - p.pad_top;
					int ix = ox * p.stride_w + kx - p.pad_left;
					if (iy < 0 || iy >= p.in_h || ix < 0 || ix >= p.in_w)
						continue;
					int32_t v = ldq(in, (((size_t)b * p.in_h + iy) * p.in_w + ix) *
								    (size_t)p.c + (size_t)c, sg);
					sum += v;
					count++;
					mx = v > mx ? v : mx;
				}
			CHECK(count > 0, "test bug: empty window; %s", g_case);
			windows_partial += count < (int64_t)p.k_h * p.k_w;
			/* Mean rounded half away from zero: floor(|sum|/count + 1/2), signed. */
			int64_t mag = (2 * llabs(sum) + count) / (2 * count);
			int64_t mean = sum < 0 ? -mag : mag;
			stq(want_avg, o, clamp64(mean, p.act_min, p.act_max), sg);
			stq(want_max, o, clamp64(mx, p.act_min, p.act_max), sg);
		}
		const int dims[4] = {p.batch, p.out_h, p.out_w, p.c};
		expect_q("avgpool", iter, avg, want_avg, out_n, sg, dims);
		expect_q("maxpool", iter, max, want_max, out_n, sg, dims);
		guarded_free(avg, out_n, "avgpool", iter);
		guarded_free(max, out_n, "maxpool", iter);
		free(want_avg);
		free(want_max);
		free(in);
	}
	ck_assert_int_gt(windows_partial, 1000);
}
END_TEST

/* Hand-checked rounding: means of -2.5, -1.5, 2.5 and 1/3 of a two- or three-tap window. */
START_TEST(test_avgpool_rounding)
{
	const int8_t in[4][3] = {{-2, -3, 0}, {-1, -2, 0}, {2, 3, 0}, {0, 0, 1}};
	const int8_t want[4] = {-3, -2, 3, 0};
	for (int i = 0; i < 4; i++) {
		mnv2_pool_params p = {.batch = 1, .in_h = 1, .in_w = i == 3 ? 3 : 2, .c = 1,
				      .out_h = 1, .out_w = 1, .k_h = 1, .k_w = i == 3 ? 3 : 2,
				      .stride_h = 1, .stride_w = 1, .act_min = -128, .act_max = 127,
				      .is_signed = 1};
		int8_t out = 99;
		mnv2_avgpool(&p, in[i], &out);
		ck_assert_int_eq(out, want[i]);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Spatial mean                                                                          */

START_TEST(test_mean_hw_random)
{
	uint32_t s = 0x3EA7u;
	g_ties = 0;
	for (int iter = 0; iter < 500; iter++) {
		mnv2_mean_params p;
		memset(&p, 0, sizeof p);
		int sg = p.is_signed = coin(&s);
		p.batch = irand(&s, 1, 3);
		p.h = irand(&s, 1, 14);
		p.w = irand(&s, 1, 14);
		p.c = irand(&s, 1, 16);
		p.in_zp = rand_zp(&s, sg);
		p.out_zp = rand_zp(&s, sg);
		rand_act(&s, sg, &p.qmin, &p.qmax);
		int mode = irand(&s, 0, 2);
		float ratio = mode == 0 ? logrand(&s, 1.0 / 64, 64) :
			      mode == 1 ? logrand(&s, 1e-6, 10) : ldexpf(1.0f, -irand(&s, 0, 8));
		p.scale = mode == 2 ? ratio : ratio / (float)(p.h * p.w);
		size_t plane = (size_t)p.h * p.w;
		size_t in_n = (size_t)p.batch * plane * p.c, out_n = (size_t)p.batch * p.c;
		uint8_t *in = xcalloc(in_n);
		int fill = irand(&s, 0, 3);
		fill_q(&s, in, in_n, sg, fill);
		case_set("s8=%d N=%d h=%d w=%d c=%d zp in=%d out=%d q=[%d,%d] scale=%.9g fill=%d",
			 sg, p.batch, p.h, p.w, p.c, (int)p.in_zp, (int)p.out_zp, (int)p.qmin,
			 (int)p.qmax, (double)p.scale, fill);
		uint8_t *got = guarded(out_n), *want = xcalloc(out_n);
		mnv2_mean_hw(&p, in, got);
		for (size_t o = 0; o < out_n; o++) {
			size_t b = o / (size_t)p.c, c = o % (size_t)p.c;
			int64_t acc = 0;
			for (size_t y = 0; y < (size_t)p.h; y++)
				for (size_t x = 0; x < (size_t)p.w; x++)
					acc += ldq(in, ((b * (size_t)p.h + y) * (size_t)p.w + x) *
							       (size_t)p.c + c, sg);
			acc -= (int64_t)plane * p.in_zp;
			stq(want, o, ref_requant_fp32(acc, p.scale, p.out_zp, p.qmin, p.qmax), sg);
		}
		expect_q("mean_hw", iter, got, want, out_n, sg, NULL);
		guarded_free(got, out_n, "mean_hw", iter);
		free(want);
		free(in);
	}
	ck_assert_int_gt(g_ties, 50);
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Softmax                                                                               */

/* TFLite's table: entry 255 - d holds exp(-in_scale * beta * d). */
static void ref_softmax_table(float t[256], float in_scale, float beta)
{
	const float k = -in_scale * beta;
	for (int d = 0; d <= 255; d++) {
		float e = k * (float)d;
		t[255 - d] = expf(e);
	}
}

/* TFLite's float-table softmax over one row (optimized_ops::Softmax, x86). */
static void ref_softmax_row(const float t[256], size_t depth, const void *in, void *out,
			    float out_scale, int32_t out_zp, int sg)
{
	int32_t mx = INT32_MIN;
	for (size_t j = 0; j < depth; j++)
		mx = ldq(in, j, sg) > mx ? ldq(in, j, sg) : mx;
	float sum = 0.0f;
	for (size_t j = 0; j < depth; j++)
		sum += t[255 - mx + ldq(in, j, sg)];
	const float den = sum * out_scale;
	const float inv = 1.0f / den;
	for (size_t j = 0; j < depth; j++) {
		const float prob = t[255 - mx + ldq(in, j, sg)] * inv;
		int64_t q;
		if (sg) {
			q = ref_rha(prob) + out_zp;
		} else {
			const float biased = prob + 0.5f; /* truncated, as TFLite's uint8 path */
			q = biased >= 0x1p40f ? INT64_C(1) << 40 : (int64_t)biased;
			q += out_zp;
		}
		stq(out, j, clamp64(q, qmin_of(sg), qmax_of(sg)), sg);
	}
}

static size_t rand_depth(uint32_t *s)
{
	switch (irand(s, 0, 3)) {
	case 0:
		return (size_t)irand(s, 1, 4);
	case 1:
		return (size_t)irand(s, 5, 40);
	case 2:
		return coin(s) ? 1001 : 91;
	default:
		return (size_t)irand(s, 41, 1200);
	}
}

START_TEST(test_softmax_random)
{
	uint32_t s = 0x50F7u;
	for (int iter = 0; iter < 400; iter++) {
		mnv2_softmax_params p;
		memset(&p, 0, sizeof p);
		int sg = p.is_signed = coin(&s);
		float in_scale = irand(&s, 0, 5) ? logrand(&s, 1e-3, 1.0) : logrand(&s, 1e-6, 20);
		float beta = coin(&s) ? 1.0f : logrand(&s, 0.1, 4);
		mnv2_softmax_params_init(&p, in_scale, beta);
		float t[256];
		ref_softmax_table(t, in_scale, beta);
		case_set("s8=%d in_scale=%.9g beta=%.9g", sg, (double)in_scale, (double)beta);
		for (int i = 0; i < 256; i++) {
			CHECK(memcmp(&p.table[i], &t[i], sizeof t[i]) == 0,
				      "softmax table, case %d: entry %d is %.9g, want %.9g; %s",
				      iter, i, (double)p.table[i], (double)t[i], g_case);
			/* expf of an argument rounded twice in float: relative error about
			 * 2^-23 * |argument| on top of expf's own. */
			double arg = (double)in_scale * beta * (255 - i);
			double exact = exp(-arg);
			CHECK(fabs(t[i] - exact) <= exact * (1e-6 + 3e-7 * arg) + 1e-37,
				      "softmax table entry %d is %.9g, exp gives %.9g; %s", i,
				      (double)t[i], exact, g_case);
		}
		ck_assert(p.table[255] == 1.0f);
		p.outer = (size_t)irand(&s, 1, 6);
		p.depth = rand_depth(&s);
		int omode = irand(&s, 0, 3);
		p.out_scale = omode == 3 ? logrand(&s, 1e-6, 1.0) :
			      omode == 2 ? logrand(&s, 1.0 / 1024, 1.0 / 16) : 1.0f / 256;
		/* uint8: TFLite requires output zero point 0 and never adds it. */
		p.out_zp = sg ? (omode == 0 ? -128 : rand_zp(&s, sg)) : 0;
		size_t n = p.outer * p.depth;
		uint8_t *in = xcalloc(n);
		int fill = irand(&s, 0, 4);
		fill_q(&s, in, n, sg, fill > 3 ? 0 : fill);
		case_set("s8=%d in_scale=%.9g beta=%.9g outer=%zu depth=%zu out_scale=%.9g "
			 "out_zp=%d fill=%d",
			 sg, (double)in_scale, (double)beta, p.outer, p.depth, (double)p.out_scale,
			 (int)p.out_zp, fill);
		uint8_t *got = guarded(n), *want = xcalloc(n);
		mnv2_softmax(&p, in, got);
		for (size_t r = 0; r < p.outer; r++)
			ref_softmax_row(t, p.depth, in + r * p.depth, want + r * p.depth, p.out_scale,
					p.out_zp, sg);
		expect_q("softmax", iter, got, want, n, sg, NULL);
		guarded_free(got, n, "softmax", iter);
		free(want);
		free(in);
	}
}
END_TEST

/* Properties at the standard output quantization (1/256, zero point at the type's
 * minimum): each row sums to about 256, the largest input gets the largest output, and
 * the output is monotonic in the input. */
START_TEST(test_softmax_properties)
{
	uint32_t s = 0x50F8u;
	for (int iter = 0; iter < 300; iter++) {
		mnv2_softmax_params p;
		memset(&p, 0, sizeof p);
		int sg = p.is_signed = coin(&s);
		float in_scale = logrand(&s, 1e-3, 0.5);
		mnv2_softmax_params_init(&p, in_scale, 1.0f);
		p.outer = 1;
		p.depth = rand_depth(&s);
		p.out_scale = 1.0f / 256;
		p.out_zp = qmin_of(sg);
		uint8_t *in = xcalloc(p.depth), *out = guarded(p.depth);
		fill_q(&s, in, p.depth, sg, irand(&s, 0, 2));
		case_set("s8=%d in_scale=%.9g depth=%zu", sg, (double)in_scale, p.depth);
		mnv2_softmax(&p, in, out);
		int64_t sum = 0;
		size_t arg = 0;
		for (size_t j = 0; j < p.depth; j++) {
			sum += ldq(out, j, sg) - p.out_zp;
			if (ldq(in, j, sg) > ldq(in, arg, sg))
				arg = j;
		}
		CHECK(llabs(sum - 256) <= (long long)p.depth,
			      "softmax, case %d: outputs sum to %lld, want 256 +- %zu; %s", iter,
			      (long long)sum, p.depth, g_case);
		for (size_t j = 0; j < p.depth; j++) {
			CHECK(ldq(out, j, sg) <= ldq(out, arg, sg),
				      "softmax, case %d: output %zu (%d) above the argmax's %zu "
				      "(%d); %s",
				      iter, j, (int)ldq(out, j, sg), arg, (int)ldq(out, arg, sg), g_case);
			size_t k = (size_t)irand(&s, 0, (int)p.depth - 1);
			int32_t xj = ldq(in, j, sg), xk = ldq(in, k, sg);
			int32_t yj = ldq(out, j, sg), yk = ldq(out, k, sg);
			CHECK(xj > xk ? yj >= yk : xj < xk ? yj <= yk : yj == yk,
				      "softmax, case %d: not monotonic: in[%zu]=%d -> %d, in[%zu]=%d "
				      "-> %d; %s",
				      iter, j, (int)xj, (int)yj, k, (int)xk, (int)yk, g_case);
		}
		guarded_free(out, p.depth, "softmax", iter);
		free(in);
	}
}
END_TEST

/* Many short rows with outputs spread over the whole range: a one-ulp difference in the
 * float arithmetic (operation order, a division for a multiplication) moves a quantized
 * output often enough to show up here. Some rows are all at the type's minimum. */
START_TEST(test_softmax_many_rows)
{
	uint32_t s = 0x50F9u;
	for (int iter = 0; iter < 12; iter++) {
		mnv2_softmax_params p;
		memset(&p, 0, sizeof p);
		int sg = p.is_signed = iter & 1;
		float in_scale = logrand(&s, 1e-3, 0.5);
		mnv2_softmax_params_init(&p, in_scale, 1.0f);
		p.outer = 50000;
		p.depth = (size_t)irand(&s, 2, 6);
		p.out_scale = sg ? logrand(&s, 1.0 / 300, 1.0 / 100) : 1.0f / 256;
		p.out_zp = sg ? -128 : 0;
		size_t n = p.outer * p.depth;
		uint8_t *in = xcalloc(n), *got = guarded(n), *want = xcalloc(n);
		for (size_t r = 0; r < p.outer; r++) {
			int low = irand(&s, 0, 3) == 0; /* values near the minimum only */
			for (size_t j = 0; j < p.depth; j++)
				stq(in, r * p.depth + j,
				    low ? qmin_of(sg) + irand(&s, 0, 1) : irand(&s, qmin_of(sg), qmax_of(sg)),
				    sg);
		}
		case_set("s8=%d in_scale=%.9g outer=%zu depth=%zu out_scale=%.9g out_zp=%d", sg,
			 (double)in_scale, p.outer, p.depth, (double)p.out_scale, (int)p.out_zp);
		float t[256];
		ref_softmax_table(t, in_scale, 1.0f);
		mnv2_softmax(&p, in, got);
		for (size_t r = 0; r < p.outer; r++)
			ref_softmax_row(t, p.depth, in + r * p.depth, want + r * p.depth, p.out_scale,
					p.out_zp, sg);
		expect_q("softmax(many rows)", iter, got, want, n, sg, NULL);
		guarded_free(got, n, "softmax", iter);
		free(want);
		free(in);
	}
}
END_TEST

/* TFLite's uint8 path quantizes as (int)(p + 0.5f), which differs from round(p) at
 * p = 0.5 - 2^-25 (the float sum rounds up to 1.0); int8 uses round(p). Search for a
 * two-element row whose second probability lands exactly there. */
START_TEST(test_softmax_uint8_rounding)
{
	const float target = 0x1.fffffep-2f;
	int found = 0;
	for (int si = 1; si <= 50 && !found; si++) {
		const float in_scale = 0.01f * (float)si;
		float t[256];
		ref_softmax_table(t, in_scale, 1.0f);
		for (int d = 1; d < 256 && !found; d++) {
			const float t1 = t[255 - d], sum = 1.0f + t1;
			if (t1 < 1e-3f)
				break;
			float os = 2.0f * t1 / sum;
			for (int step = 0; step < 64; step++) {
				const float den = sum * os;
				const float inv = 1.0f / den;
				const float prob = t1 * inv;
				if (prob == target) {
					found = 1;
					break;
				}
				os = nextafterf(os, prob > target ? 10.0f : 0.0f);
			}
			if (!found)
				continue;
			mnv2_softmax_params p;
			memset(&p, 0, sizeof p);
			mnv2_softmax_params_init(&p, in_scale, 1.0f);
			p.outer = 1;
			p.depth = 2;
			p.out_scale = os;
			const uint8_t u_in[2] = {200, (uint8_t)(200 - d)};
			uint8_t u_out[2];
			p.is_signed = 0;
			mnv2_softmax(&p, u_in, u_out);
			CHECK(u_out[1] == 1, "uint8 softmax: p = %a gave %u, want 1 "
				      "(in_scale %a, d %d, out_scale %a)", (double)target, u_out[1],
				      (double)in_scale, d, (double)os);
			const int8_t s_in[2] = {72, (int8_t)(72 - d)};
			int8_t s_out[2];
			p.is_signed = 1;
			mnv2_softmax(&p, s_in, s_out);
			CHECK(s_out[1] == 0, "int8 softmax: p = %a gave %d, want 0",
				      (double)target, s_out[1]);
		}
	}
	CHECK(found, "test bug: no row reaches p = 0.5 - 2^-25");
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Logistic lookup table                                                                 */

START_TEST(test_logistic_lut)
{
	uint32_t s = 0x1061u;
	for (int iter = 0; iter < 400; iter++) {
		int sg = coin(&s);
		float in_scale = irand(&s, 0, 4) ? logrand(&s, 1e-3, 1.0) : logrand(&s, 1e-5, 20);
		int32_t in_zp = rand_zp(&s, sg);
		int omode = irand(&s, 0, 3);
		float out_scale = omode == 0 ? 1.0f / 256 :
				  omode == 1 ? logrand(&s, 1e-3, 0.1) : logrand(&s, 1e-6, 10);
		if (omode == 3) { /* 1/out_scale an odd integer: y = 0.5 at x = 0 is a tie */
			do
				out_scale = 1.0f / (float)(2 * irand(&s, 0, 127) + 1);
			while (fmodf(1.0f / out_scale, 2.0f) != 1.0f);
		}
		int32_t out_zp = omode == 0 ? qmin_of(sg) : rand_zp(&s, sg);
		case_set("s8=%d in_scale=%.9g in_zp=%d out_scale=%.9g out_zp=%d", sg,
			 (double)in_scale, (int)in_zp, (double)out_scale, (int)out_zp);
		uint8_t table[256 + 2 * GUARD];
		memset(table, GUARD_BYTE, sizeof table);
		mnv2_lut_logistic_init(table + GUARD, in_scale, in_zp, out_scale, out_zp, sg);
		for (int i = 0; i < GUARD; i++)
			CHECK(table[i] == GUARD_BYTE && table[GUARD + 256 + i] == GUARD_BYTE,
				      "logistic table written outside its 256 bytes; %s", g_case);
		const uint8_t *t = table + GUARD;
		const float inv = 1.0f / out_scale;
		int32_t prev = INT32_MIN;
		for (int32_t v = qmin_of(sg); v <= qmax_of(sg); v++) {
			/* The float contract, step by step: dequantize, sigmoid, rescale, round
			 * half away from zero, add the zero point, clamp. */
			const float x = ref_fmul(in_scale, (float)(v - in_zp));
			const float e = expf(-x);
			const float den = 1.0f + e;
			const float y = 1.0f / den;
			const float m = ref_fmul(y, inv);
			int64_t q = clamp64(ref_rha(m) + out_zp, qmin_of(sg), qmax_of(sg));
			/* The same in double: may differ by the last rounding only. */
			double yd = 1.0 / (1.0 + exp(-(double)in_scale * (v - in_zp)));
			int64_t qd = clamp64(ref_rha(yd / out_scale) + out_zp, qmin_of(sg),
					     qmax_of(sg));
			int32_t got = sg ? (int32_t)(int8_t)t[(uint8_t)v] : (int32_t)t[(uint8_t)v];
			CHECK(got == q,
				      "logistic, case %d: table[%d] = %d, want %lld (double "
				      "gives %lld); %s",
				      iter, (int)v, (int)got, (long long)q, (long long)qd, g_case);
			CHECK(llabs(q - qd) <= 1, "logistic, case %d, input %d: float %lld "
				      "vs double %lld; %s", iter, (int)v, (long long)q,
				      (long long)qd, g_case);
			CHECK(got >= prev, "logistic, case %d: table not monotone at %d; %s",
				      iter, (int)v, g_case);
			prev = got;
		}
	}
}
END_TEST

START_TEST(test_lut_apply)
{
	uint32_t s = 0x1A9Bu;
	for (int iter = 0; iter < 100; iter++) {
		uint8_t table[256];
		for (int i = 0; i < 256; i++)
			table[i] = (uint8_t)test_rand(&s);
		size_t n = (size_t)(iter < 3 ? iter : irand(&s, 0, 5000));
		uint8_t *in = xcalloc(n), *out = guarded(n);
		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)test_rand(&s);
		case_set("n=%zu", n);
		mnv2_lut_apply(table, n, in, out);
		for (size_t i = 0; i < n; i++)
			CHECK(out[i] == table[in[i]],
				      "lut_apply, case %d, index %zu: input %u gave %u, want %u", iter,
				      i, in[i], out[i], table[in[i]]);
		/* int8 data: the byte's two's complement pattern indexes the table. */
		int8_t sin[256];
		for (int i = 0; i < 256; i++)
			sin[i] = (int8_t)(i - 128);
		uint8_t sout[256];
		mnv2_lut_apply(table, 256, sin, sout);
		for (int i = 0; i < 256; i++)
			CHECK(sout[i] == table[(i - 128) & 0xFF], "lut_apply: int8 input %d", i - 128);
		guarded_free(out, n, "lut_apply", iter);
		free(in);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* TFLite's fixed-point requantization                                                   */

/* QuantizeMultiplier: m = qm * 2^(shift - 31), qm in [2^30, 2^31), rounded half away;
 * tiny multipliers (shift < -31) flush to zero; beyond TFLite's range (shift > 30) the
 * engine saturates (fixedpoint.h). */
static void ref_quantize_multiplier(double m, int32_t *qm, int *shift)
{
	if (m == 0.0 || !isfinite(m)) {
		*qm = 0;
		*shift = 0;
		return;
	}
	CHECK(m > 0, "test bug: negative multiplier");
	int e = 0;
	double q = m;
	while (q >= 1.0) {
		q /= 2;
		e++;
	}
	while (q < 0.5) {
		q *= 2;
		e--;
	}
	int64_t f = ref_rha(q * 2147483648.0);
	if (f == INT64_C(2147483648)) {
		f /= 2;
		e++;
	}
	if (e < -31) {
		e = 0;
		f = 0;
	}
	if (e > 30) {
		e = 30;
		f = INT32_MAX;
	}
	*qm = (int32_t)f;
	*shift = e;
}

/* SaturatingRoundingDoublingHighMul: round(a * b / 2^31) with ties toward +infinity,
 * which the gemmlowp nudge-and-truncate gives; saturates the one overflow. */
static int32_t ref_srdhm(int32_t a, int32_t b)
{
	if (a == INT32_MIN && b == INT32_MIN)
		return INT32_MAX;
	return (int32_t)floor_div((int64_t)a * b + (INT64_C(1) << 30), INT64_C(1) << 31);
}

/* RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero. */
static int32_t ref_rdbpot(int32_t x, int e)
{
	int64_t mag = x < 0 ? -(int64_t)x : (int64_t)x;
	int64_t half = e > 0 ? INT64_C(1) << (e - 1) : 0;
	int64_t q = (mag + half) / (INT64_C(1) << e);
	return (int32_t)(x < 0 ? -q : q);
}

static int32_t ref_mul_by_qm(int32_t x, int32_t qm, int shift)
{
	int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
	int64_t xs = clamp64((int64_t)x * (INT64_C(1) << left), INT32_MIN, INT32_MAX);
	return ref_rdbpot(ref_srdhm((int32_t)xs, qm), right);
}

static int32_t rand_i32(uint32_t *s)
{
	static const int32_t edges[] = {INT32_MIN, INT32_MIN + 1, -(1 << 30) - 1, -(1 << 30),
					-65536, -257, -256, -255, -129, -128, -3, -2, -1, 0, 1, 2,
					3, 127, 128, 255, 256, 65535, 1 << 30, (1 << 30) + 1,
					INT32_MAX - 1, INT32_MAX};
	switch (irand(s, 0, 3)) {
	case 0:
		return edges[irand(s, 0, (int)(sizeof edges / sizeof edges[0]) - 1)];
	case 1:
		return irand(s, -1000, 1000);
	default:
		return (int32_t)test_rand(s);
	}
}

START_TEST(test_fixedpoint_helpers)
{
	uint32_t s = 0xF1DEu;
	static const double special[] = {1.0, 0.5, 0.25, 2.0, 1.0 - 0x1p-40, 0.5 - 0x1p-45,
					 0x1p-31, 0x1p-32, 0x1.8p-32, 0x1.fffffffffp-32, 0x1p30,
					 0x1p31, 0x1p40, 0.0, INFINITY, 1e-300};
	for (int iter = 0; iter < 20000; iter++) {
		double m = iter < (int)(sizeof special / sizeof special[0]) ?
				   special[iter] : ldexp(0.5 + 0.5 * urand(&s), irand(&s, -40, 40));
		int32_t qm, rqm;
		int sh = 0, rsh = 0;
		mnv2_quantize_multiplier(m, &qm, &sh);
		ref_quantize_multiplier(m, &rqm, &rsh);
		CHECK(qm == rqm && sh == rsh,
			      "quantize_multiplier(%a): got %d, %d, want %d, %d", m, (int)qm, sh,
			      (int)rqm, rsh);
		if (rqm != 0 && rsh > -31 && rsh < 30) /* within half a unit of the last place */
			CHECK(fabs(ldexp((double)rqm, rsh - 31) - m) <= ldexp(1.0, rsh - 32),
			      "quantize_multiplier(%a) off by more than half a unit", m);

		int32_t a = rand_i32(&s), b = rand_i32(&s);
		CHECK(mnv2_srdhm(a, b) == ref_srdhm(a, b), "srdhm(%d, %d): got %d, want %d",
			      (int)a, (int)b, (int)mnv2_srdhm(a, b), (int)ref_srdhm(a, b));
		int e = irand(&s, 0, 31);
		CHECK(mnv2_rdbpot(a, e) == ref_rdbpot(a, e),
			      "rdbpot(%d, %d): got %d, want %d", (int)a, e,
			      (int)mnv2_rdbpot(a, e), (int)ref_rdbpot(a, e));
		int32_t x = rand_i32(&s);
		int32_t q = irand(&s, 0, 9) ? (int32_t)(0x40000000u + (test_rand(&s) & 0x3FFFFFFFu))
					    : rand_i32(&s);
		int shift = irand(&s, -31, 30);
		CHECK(mnv2_mul_by_qm(x, q, shift) == ref_mul_by_qm(x, q, shift),
			      "mul_by_qm(%d, %d, %d): got %d, want %d", (int)x, (int)q, shift,
			      (int)mnv2_mul_by_qm(x, q, shift), (int)ref_mul_by_qm(x, q, shift));
	}
	/* Exact ties of the two roundings. */
	ck_assert_int_eq(ref_srdhm(1 << 30, 1), 1);       /* 0.5 -> 1 */
	ck_assert_int_eq(ref_srdhm(-(1 << 30), 1), 0);    /* -0.5 -> 0 */
	ck_assert_int_eq(mnv2_srdhm(-(1 << 30), 1), 0);
	ck_assert_int_eq(mnv2_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
	ck_assert_int_eq(mnv2_rdbpot(-6, 2), -2);          /* -1.5 -> -2 */
	ck_assert_int_eq(mnv2_rdbpot(6, 2), 2);            /* 1.5 -> 2 */
	ck_assert_int_eq(mnv2_rdbpot(-5, 1), -3);          /* -2.5 -> -3 */
}
END_TEST

/* One QUANTIZE case per iteration: every input value (and some more, in a shuffled order),
 * checked against the reference; log2 of the scale ratio comes from pick_l2. */
static void requant_cases(uint32_t seed, int n_cases, double (*pick_l2)(uint32_t *, int),
			  long *flushed, long *large)
{
	uint32_t s = seed;
	long inside = 0, total = 0;
	for (int iter = 0; iter < n_cases; iter++) {
		int in_sg = coin(&s), out_sg = coin(&s);
		int32_t in_zp = rand_zp(&s, in_sg), out_zp = rand_zp(&s, out_sg);
		int mode = irand(&s, 0, 4);
		double l2 = pick_l2(&s, mode);
		float in_scale = logrand(&s, 1e-4, 1.0);
		float out_scale = (float)((double)in_scale / exp2(l2));
		ck_assert(isnormal(out_scale));
		mnv2_requant_params p;
		memset(&p, 0x5C, sizeof p);
		mnv2_requant_params_init(&p, in_scale, in_zp, in_sg, out_scale, out_zp, out_sg);
		const double ratio = (double)in_scale / (double)out_scale;
		int32_t qm;
		int sh;
		ref_quantize_multiplier(ratio, &qm, &sh);
		case_set("in s8=%d zp=%d scale=%.9g -> out s8=%d zp=%d scale=%.9g (ratio %a, "
			 "want mult %d shift %d)",
			 in_sg, (int)in_zp, (double)in_scale, out_sg, (int)out_zp,
			 (double)out_scale, ratio, (int)qm, sh);
		CHECK(p.mult == qm && p.shift == sh && p.in_zp == in_zp &&
				      p.out_zp == out_zp && p.in_signed == in_sg &&
				      p.out_signed == out_sg,
			      "requant params, case %d: mult %d shift %d; %s", iter, (int)p.mult,
			      p.shift, g_case);
		*flushed += qm == 0;
		*large += sh >= 15;
		size_t n = 256 + (size_t)irand(&s, 0, 300);
		uint8_t *in = xcalloc(n), *got = guarded(n), *want = xcalloc(n);
		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)(i < 256 ? (i * 167 + 13) & 0xFF : test_rand(&s));
		mnv2_requant(&p, n, in, got);
		for (size_t i = 0; i < n; i++) {
			int32_t x = ldq(in, i, in_sg) - in_zp;
			int64_t y = clamp64((int64_t)ref_mul_by_qm(x, qm, sh) + out_zp,
					    qmin_of(out_sg), qmax_of(out_sg));
			stq(want, i, y, out_sg);
			/* Sanity: within 1 of the real product, for ordinary ratios. */
			if (fabs(l2) <= 8) {
				int64_t r = clamp64(ref_rha((double)x * ratio) + out_zp,
						    qmin_of(out_sg), qmax_of(out_sg));
				CHECK(llabs(r - y) <= 1, "requant, case %d: %d -> %lld, real "
					      "%lld; %s", iter, (int)x, (long long)y, (long long)r,
					      g_case);
				inside += y > qmin_of(out_sg) && y < qmax_of(out_sg);
				total++;
			}
		}
		expect_q("requant", iter, got, want, n, out_sg, NULL);
		if (l2 == 0 && in_sg != out_sg && in_zp - out_zp == (in_sg ? -128 : 128))
			for (size_t i = 0; i < n; i++) /* TFLite's XOR fast path, same bytes */
				CHECK(got[i] == (in[i] ^ 0x80), "requant, case %d: XOR path at %zu; %s",
				      iter, i, g_case);
		guarded_free(got, n, "requant", iter);
		free(in);
		free(want);
	}
	CHECK(total == 0 || inside * 3 > total, "only %ld of %ld outputs inside the range",
		      inside, total);
}

/* Ratios where TFLite's own arithmetic is defined (|x| * 2^shift fits int32: shift <= 22),
 * down to multipliers that flush to zero. */
static double l2_tflite_range(uint32_t *s, int mode)
{
	switch (mode) {
	case 0:
		return 16 * urand(s) - 8;
	case 1:
		return 62 * urand(s) - 40;
	case 2:
		return 0;
	case 3:
		return irand(s, -33, 21);
	default:
		return 2 * urand(s) - 1;
	}
}

/* Ratios from 2^22 up, where x * 2^shift would overflow and fixedpoint.h saturates
 * instead (TFLite: undefined), and from 2^30 up the multiplier itself saturates. */
static double l2_beyond_tflite(uint32_t *s, int mode)
{
	switch (mode) {
	case 0:
		return 22 + 12 * urand(s);
	case 1:
		return irand(s, 22, 34);
	case 2:
		return 30 + urand(s);
	default: /* mantissa just below 1: qm near 2^31 */
		return irand(s, 22, 29) + log2(1.0 - ldexp(urand(s), -20));
	}
}

START_TEST(test_requant_random)
{
	long flushed = 0, large = 0;
	requant_cases(0x2E0Au, 800, l2_tflite_range, &flushed, &large);
	ck_assert_int_gt(flushed, 5);
	ck_assert_int_gt(large, 5);
}
END_TEST

START_TEST(test_requant_huge_ratio)
{
	long flushed = 0, large = 0;
	requant_cases(0x2E0Bu, 300, l2_beyond_tflite, &flushed, &large);
	ck_assert_int_eq(flushed, 0);
}
END_TEST

START_TEST(test_requant_sign_flip)
{
	/* int8 <-> uint8 at the same scale with zero points 128 apart is a pure XOR 0x80. */
	for (int dir = 0; dir < 2; dir++) {
		int in_sg = dir, out_sg = !dir;
		mnv2_requant_params p;
		mnv2_requant_params_init(&p, 0.02f, in_sg ? -3 : 125, in_sg, 0.02f,
					 out_sg ? -3 : 125, out_sg);
		uint8_t in[256], out[256];
		for (int i = 0; i < 256; i++)
			in[i] = (uint8_t)i;
		mnv2_requant(&p, 256, in, out);
		for (int i = 0; i < 256; i++)
			CHECK(out[i] == (i ^ 0x80), "requant sign flip %d: input %d gave %u", dir, i,
			      out[i]);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* Float rescale, quantize, dequantize                                                   */

START_TEST(test_rescale_random)
{
	uint32_t s = 0x5CA1u;
	for (int iter = 0; iter < 500; iter++) {
		int in_sg = coin(&s), out_sg = coin(&s);
		int32_t in_zp = rand_zp(&s, in_sg), out_zp = rand_zp(&s, out_sg);
		float in_scale = logrand(&s, 1e-3, 1.0);
		int mode = irand(&s, 0, 3);
		float ratio = mode == 0 ? logrand(&s, 1.0 / 256, 256) :
			      mode == 1 ? logrand(&s, 1e-6, 1e6) :
			      mode == 2 ? ldexpf(1.0f, irand(&s, -8, 8)) : logrand(&s, 0.9, 1.1);
		float out_scale = in_scale / ratio;
		size_t n = 256 + (size_t)irand(&s, 0, 100);
		uint8_t *in = xcalloc(n), *got = guarded(n), *want = xcalloc(n);
		for (size_t i = 0; i < n; i++)
			in[i] = (uint8_t)(i < 256 ? i : test_rand(&s));
		case_set("in s8=%d zp=%d scale=%.9g -> out s8=%d zp=%d scale=%.9g", in_sg,
			 (int)in_zp, (double)in_scale, out_sg, (int)out_zp, (double)out_scale);
		mnv2_rescale(n, in, in_sg, in_scale, in_zp, out_scale, out_zp, out_sg, got);
		/* TFLite: scale = in_s * (1 / out_s), bias = -in_zp * scale, each step one
		 * float rounding, then round half away from zero. */
		const float inv = 1.0f / out_scale;
		const float sc = ref_fmul(in_scale, inv);
		const float bias = ref_fmul(-(float)in_zp, sc);
		for (size_t i = 0; i < n; i++) {
			const float t = ref_fmul((float)ldq(in, i, in_sg), sc);
			const float u = (float)((double)t + (double)bias);
			int64_t y = clamp64(ref_rha(u) + out_zp, qmin_of(out_sg), qmax_of(out_sg));
			stq(want, i, y, out_sg);
			double real = (ldq(in, i, in_sg) - in_zp) * ((double)in_scale / out_scale);
			int64_t r = clamp64(ref_rha(real) + out_zp, qmin_of(out_sg), qmax_of(out_sg));
			CHECK(mode == 1 || llabs(r - y) <= 1,
				      "rescale, case %d, index %zu: float %lld, real %lld; %s", iter,
				      i, (long long)y, (long long)r, g_case);
		}
		expect_q("rescale", iter, got, want, n, out_sg, NULL);
		guarded_free(got, n, "rescale", iter);
		free(in);
		free(want);
	}
}
END_TEST

START_TEST(test_quantize_dequantize)
{
	uint32_t s = 0x0A17u;
	static const float specials[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e30f, -1e30f,
					 FLT_MIN, -FLT_MIN, 1e-40f, FLT_MAX, -FLT_MAX, 2e9f, -2e9f};
	for (int iter = 0; iter < 500; iter++) {
		int sg = coin(&s);
		int32_t zp = rand_zp(&s, sg);
		float scale = coin(&s) ? logrand(&s, 1e-4, 10) : ldexpf(1.0f, irand(&s, -12, 3));
		size_t n = (size_t)irand(&s, 0, 600);
		float *f = xcalloc(n * sizeof *f);
		for (size_t i = 0; i < n; i++) {
			switch (irand(&s, 0, 5)) {
			case 0: /* exact half-way points when the scale is a power of two */
				f[i] = ((float)irand(&s, -300, 300) + 0.5f) * scale;
				break;
			case 1:
				f[i] = specials[irand(&s, 0, (int)(sizeof specials / sizeof specials[0]) - 1)];
				break;
			case 2:
				f[i] = (float)irand(&s, -300, 300) * scale;
				break;
			default:
				f[i] = (float)((urand(&s) * 600 - 300) * scale);
				break;
			}
		}
		case_set("s8=%d zp=%d scale=%.9g n=%zu", sg, (int)zp, (double)scale, n);
		uint8_t *got = guarded(n), *want = xcalloc(n);
		mnv2_quantize_f32(n, f, scale, zp, sg, got);
		for (size_t i = 0; i < n; i++) {
			const float q = (float)((double)f[i] / (double)scale);
			int64_t r = isnan(q) ? 0 : ref_rha(q); /* NaN quantizes to the zero point */
			stq(want, i, clamp64(r + zp, qmin_of(sg), qmax_of(sg)), sg);
		}
		expect_q("quantize_f32", iter, got, want, n, sg, NULL);
		guarded_free(got, n, "quantize_f32", iter);
		free(want);
		free(f);

		/* Dequantize every value: (float)(x - zp) * scale, bit for bit. */
		uint8_t q8[256];
		for (int i = 0; i < 256; i++)
			q8[i] = (uint8_t)i;
		float deq[256 + 2];
		deq[0] = deq[257] = -12345.0f;
		mnv2_dequantize(256, q8, scale, zp, sg, deq + 1);
		ck_assert(deq[0] == -12345.0f && deq[257] == -12345.0f);
		for (int i = 0; i < 256; i++) {
			float w = ref_fmul((float)(ldq(q8, (size_t)i, sg) - zp), scale);
			CHECK(memcmp(&deq[1 + i], &w, sizeof w) == 0,
				      "dequantize, case %d, index %d: got %a, want %a; %s", iter, i,
				      (double)deq[1 + i], (double)w, g_case);
		}
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */
/* PAD                                                                                   */

START_TEST(test_pad_random)
{
	uint32_t s = 0x9ADu;
	for (int iter = 0; iter < 400; iter++) {
		mnv2_pad_params p;
		memset(&p, 0, sizeof p);
		static const size_t elems[] = {1, 1, 2, 3, 4};
		p.elem = elems[irand(&s, 0, 4)];
		int32_t after[4];
		for (int d = 0; d < 4; d++) {
			p.in_dims[d] = irand(&s, 1, 5);
			p.before[d] = irand(&s, 0, 3) == 0 ? 0 : irand(&s, 0, 3);
			after[d] = irand(&s, 0, 3);
			p.out_dims[d] = p.in_dims[d] + p.before[d] + after[d];
		}
		for (int k = 0; k < 4; k++)
			p.value[k] = (uint8_t)test_rand(&s);
		size_t in_n = (size_t)p.in_dims[0] * p.in_dims[1] * p.in_dims[2] * p.in_dims[3];
		size_t out_n = (size_t)p.out_dims[0] * p.out_dims[1] * p.out_dims[2] * p.out_dims[3];
		uint8_t *in = xcalloc(in_n * p.elem), *got = guarded(out_n * p.elem);
		uint8_t *want = xcalloc(out_n * p.elem);
		for (size_t i = 0; i < in_n * p.elem; i++)
			in[i] = (uint8_t)test_rand(&s);
		case_set("elem=%zu in=%dx%dx%dx%d before=%d,%d,%d,%d after=%d,%d,%d,%d", p.elem,
			 (int)p.in_dims[0], (int)p.in_dims[1], (int)p.in_dims[2], (int)p.in_dims[3],
			 (int)p.before[0], (int)p.before[1], (int)p.before[2], (int)p.before[3],
			 (int)after[0], (int)after[1], (int)after[2], (int)after[3]);
		mnv2_pad(&p, in, got);
		for (size_t o = 0; o < out_n; o++) {
			int32_t i[4];
			add_coords(p.out_dims, o, i);
			int inside = 1;
			size_t src = 0;
			for (int d = 0; d < 4; d++) {
				int32_t v = i[d] - p.before[d];
				inside &= v >= 0 && v < p.in_dims[d];
				src = src * (size_t)p.in_dims[d] + (size_t)(v < 0 ? 0 : v);
			}
			memcpy(want + o * p.elem, inside ? in + src * p.elem : p.value, p.elem);
		}
		for (size_t b = 0; b < out_n * p.elem; b++)
			CHECK(got[b] == want[b],
				      "pad, case %d: first mismatch at byte %zu (element %zu): got "
				      "%u, want %u; case: %s",
				      iter, b, b / p.elem, got[b], want[b], g_case);
		guarded_free(got, out_n * p.elem, "pad", iter);
		free(want);
		free(in);
	}
}
END_TEST

/* ------------------------------------------------------------------------------------ */

static Suite *kernels_suite(void)
{
	Suite *s = suite_create("kernels");
	struct {
		const char *name;
		const TTest *fn;
	} tests[] = {
		{"conv2d", test_conv2d_random},
		{"conv2d_handmade", test_conv2d_handmade},
		{"dwconv2d", test_dwconv2d_random},
		{"add_params", test_add_params},
		{"add_params_reject", test_add_params_reject},
		{"add", test_add_random},
		{"add_equal_scales", test_add_equal_scales},
		{"pool", test_pool_random},
		{"avgpool_rounding", test_avgpool_rounding},
		{"mean_hw", test_mean_hw_random},
		{"softmax", test_softmax_random},
		{"softmax_properties", test_softmax_properties},
		{"softmax_many_rows", test_softmax_many_rows},
		{"softmax_uint8_rounding", test_softmax_uint8_rounding},
		{"logistic_lut", test_logistic_lut},
		{"lut_apply", test_lut_apply},
		{"fixedpoint", test_fixedpoint_helpers},
		{"requant", test_requant_random},
		{"requant_huge_ratio", test_requant_huge_ratio},
		{"requant_sign_flip", test_requant_sign_flip},
		{"rescale", test_rescale_random},
		{"quantize_dequantize", test_quantize_dequantize},
		{"pad", test_pad_random},
	};
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		TCase *tc = tcase_create(tests[i].name);
		tcase_set_timeout(tc, 300);
		tcase_add_test(tc, tests[i].fn);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(kernels_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
