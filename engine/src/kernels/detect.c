/* detect — see detect.h. */
#include "detect.h"
#include "mnv2/engine.h"

#include <math.h>
#include <string.h>

typedef struct box_info {
	float score;
	int index;   /* anchor * row_len + column */
} box_info;

typedef struct scratch {
	float *decoded;     /* num_boxes * 4 */
	float *cand;        /* num_boxes */
	int *cls;           /* num_boxes * max_classes_per_detection */
	int *keep;          /* num_boxes */
	int *order, *tmp;   /* num_boxes each */
	int *selected;      /* num_boxes */
	box_info *info, *info_tmp; /* max_detections + detections_per_class each */
	uint8_t *active;    /* num_boxes */
} scratch;

static size_t info_len(const mnv2_detect_params *p)
{
	return (size_t)p->max_detections + (size_t)p->detections_per_class;
}

size_t mnv2_detect_scratch_bytes(const mnv2_detect_params *p)
{
	size_t n = (size_t)p->num_boxes;
	return n * 4 * sizeof(float) + n * sizeof(float) +
	       n * (size_t)p->max_classes_per_detection * sizeof(int) + 5 * n * sizeof(int) +
	       2 * info_len(p) * sizeof(box_info) + n + 64;
}

static void carve(const mnv2_detect_params *p, void *mem, scratch *s)
{
	size_t n = (size_t)p->num_boxes;
	char *c = mem;
	s->decoded = (float *)(void *)c, c += n * 4 * sizeof(float);
	s->cand = (float *)(void *)c, c += n * sizeof(float);
	s->cls = (int *)(void *)c, c += n * (size_t)p->max_classes_per_detection * sizeof(int);
	s->keep = (int *)(void *)c, c += n * sizeof(int);
	s->order = (int *)(void *)c, c += n * sizeof(int);
	s->tmp = (int *)(void *)c, c += n * sizeof(int);
	s->selected = (int *)(void *)c, c += n * sizeof(int);
	s->info = (box_info *)(void *)c, c += info_len(p) * sizeof(box_info);
	s->info_tmp = (box_info *)(void *)c, c += info_len(p) * sizeof(box_info);
	s->active = (uint8_t *)c;
}

static float dq(const mnv2_dq *q, const void *data, size_t i)
{
	switch (q->type) {
	case MNV2_UINT8: return ((float)((const uint8_t *)data)[i] - (float)q->zp) * q->scale;
	case MNV2_INT8: return ((float)((const int8_t *)data)[i] - (float)q->zp) * q->scale;
	default: {
		float f;
		memcpy(&f, (const uint8_t *)data + 4 * i, 4);
		return f;
	}
	}
}

/* Class score of flat index i, after the optional sigmoid. */
static float score_of(const mnv2_detect_params *p, const void *scores, size_t i)
{
	float v = dq(&p->scores, scores, i);
	return p->scores_are_logits ? 1.0f / (1.0f + expf(-v)) : v;
}

/* Class scores as read by the NMS: 8-bit scores through a table of the 256 possible
 * answers of score_of() (the same floats, without a dequantization and an expf per
 * element); float scores directly. */
typedef struct score_reader {
	const mnv2_detect_params *p;
	const void *scores;
	const uint8_t *bytes;  /* NULL for float scores */
	float table[256];
} score_reader;

static void reader_init(score_reader *r, const mnv2_detect_params *p, const void *scores)
{
	r->p = p;
	r->scores = scores;
	r->bytes = NULL;
	if (p->scores.type != MNV2_UINT8 && p->scores.type != MNV2_INT8)
		return;
	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;   /* as int8 for MNV2_INT8: the same bits */
	for (int i = 0; i < 256; i++)
		r->table[i] = score_of(p, all, (size_t)i);
	r->bytes = scores;
}

static inline float score_at(const score_reader *r, size_t i)
{
	return r->bytes ? r->table[r->bytes[i]] : score_of(r->p, r->scores, i);
}

static int decode(const mnv2_detect_params *p, const void *boxes, float *out, int *bad)
{
	for (int i = 0; i < p->num_boxes; i++) {
		const float *a = &p->anchors[4 * (size_t)i];
		double ty = dq(&p->boxes, boxes, 4 * (size_t)i), tx = dq(&p->boxes, boxes, 4 * (size_t)i + 1);
		double th = dq(&p->boxes, boxes, 4 * (size_t)i + 2), tw = dq(&p->boxes, boxes, 4 * (size_t)i + 3);
		float yc = (float)(ty / p->y_scale * a[2] + a[0]);
		float xc = (float)(tx / p->x_scale * a[3] + a[1]);
		float hh = (float)(0.5 * exp(th / p->h_scale) * a[2]);
		float hw = (float)(0.5 * exp(tw / p->w_scale) * a[3]);
		float *b = &out[4 * (size_t)i];
		b[0] = yc - hh;
		b[1] = xc - hw;
		b[2] = yc + hh;
		b[3] = xc + hw;
		if (!(b[0] <= b[2]) || !(b[1] <= b[3])) {
			*bad = i;
			return -1;
		}
	}
	return 0;
}

static float iou(const float *bi, const float *bj)
{
	const float area_i = (bi[2] - bi[0]) * (bi[3] - bi[1]);
	const float area_j = (bj[2] - bj[0]) * (bj[3] - bj[1]);
	if (area_i <= 0 || area_j <= 0)
		return 0.0f;
	/* decode() admits no NaN, so plain comparisons equal fmaxf/fminf (which GCC calls
	 * through the PLT without -ffinite-math-only); a zero's sign cannot change a ratio
	 * compared with the threshold */
	float ymin = bi[0] > bj[0] ? bi[0] : bj[0], xmin = bi[1] > bj[1] ? bi[1] : bj[1];
	float ymax = bi[2] < bj[2] ? bi[2] : bj[2], xmax = bi[3] < bj[3] ? bi[3] : bj[3];
	float h = ymax - ymin, w = xmax - xmin;
	float inter = (h > 0.0f ? h : 0.0f) * (w > 0.0f ? w : 0.0f);
	return inter / (area_i + area_j - inter);
}

/* Stable merge sort of idx[0..n) by decreasing key[idx]. */
static void sort_desc(int *idx, int *tmp, int n, const float *key)
{
	for (int width = 1; width < n; width *= 2) {
		for (int lo = 0; lo < n; lo += 2 * width) {
			int mid = lo + width < n ? lo + width : n;
			int hi = lo + 2 * width < n ? lo + 2 * width : n;
			int a = lo, b = mid, o = lo;
			while (a < mid && b < hi)
				tmp[o++] = key[idx[b]] > key[idx[a]] ? idx[b++] : idx[a++];
			while (a < mid)
				tmp[o++] = idx[a++];
			while (b < hi)
				tmp[o++] = idx[b++];
		}
		memcpy(idx, tmp, sizeof(int) * (size_t)n);
	}
}

/* Single-class greedy NMS over scores[0..num_boxes); selected anchors in order. */
static int nms_single(const mnv2_detect_params *p, scratch *s, const float *scores, int max_out)
{
	int nkeep = 0, nsel = 0, active = 0;
	for (int i = 0; i < p->num_boxes; i++)
		if (scores[i] >= p->score_threshold)
			s->keep[nkeep++] = i;
	/* keep is in anchor order, so a stable sort keeps equal scores in anchor order */
	memcpy(s->order, s->keep, sizeof(int) * (size_t)nkeep);
	sort_desc(s->order, s->tmp, nkeep, scores);
	memset(s->active, 1, (size_t)nkeep);
	active = nkeep;
	int out_size = nkeep < max_out ? nkeep : max_out;
	for (int i = 0; i < nkeep; i++) {
		if (active == 0 || nsel >= out_size)
			break;
		if (!s->active[i])
			continue;
		s->selected[nsel++] = s->order[i];
		s->active[i] = 0;
		active--;
		const float *bi = &s->decoded[4 * (size_t)s->order[i]];
		for (int j = i + 1; j < nkeep; j++)
			if (s->active[j] && iou(bi, &s->decoded[4 * (size_t)s->order[j]]) > p->iou_threshold) {
				s->active[j] = 0;
				active--;
			}
	}
	return nsel;
}

static void write_row(float *ob, float *oc, float *os, int row, const float *box, int cls,
		      float score)
{
	memcpy(&ob[4 * (size_t)row], box, 4 * sizeof(float));
	oc[row] = (float)cls;
	os[row] = score;
}

static int fast_nms(const mnv2_detect_params *p, scratch *s, const score_reader *r, float *ob,
		    float *oc, float *os)
{
	const int row_len = p->label_offset + p->num_classes, k = p->max_classes_per_detection;
	for (int a = 0; a < p->num_boxes; a++) {
		int *cls = &s->cls[(size_t)a * k];
		size_t base = (size_t)a * row_len + p->label_offset;
		for (int j = 0; j < k; j++) { /* top k, lower class index first on ties */
			int best = -1;
			float bv = 0;
			for (int c = 0; c < p->num_classes; c++) {
				int used = 0;
				for (int u = 0; u < j; u++)
					used |= cls[u] == c;
				float v = score_at(r, base + (size_t)c);
				if (!used && (best < 0 || v > bv)) {
					best = c;
					bv = v;
				}
			}
			cls[j] = best;
		}
		s->cand[a] = score_at(r, base + (size_t)cls[0]);
	}
	int nsel = nms_single(p, s, s->cand, p->max_detections);
	for (int i = 0; i < nsel; i++) {
		int a = s->selected[i];
		size_t base = (size_t)a * row_len + p->label_offset;
		for (int j = 0; j < k; j++) {
			int c = s->cls[(size_t)a * k + j];
			write_row(ob, oc, os, i * k + j, &s->decoded[4 * (size_t)a], c,
				  score_at(r, base + (size_t)c));
		}
	}
	return nsel;
}

/* Stable merge of info[0..n) by decreasing score. */
static void sort_info(box_info *v, box_info *tmp, int n)
{
	for (int width = 1; width < n; width *= 2) {
		for (int lo = 0; lo < n; lo += 2 * width) {
			int mid = lo + width < n ? lo + width : n;
			int hi = lo + 2 * width < n ? lo + 2 * width : n;
			int a = lo, b = mid, o = lo;
			while (a < mid && b < hi)
				tmp[o++] = v[b].score > v[a].score ? v[b++] : v[a++];
			while (a < mid)
				tmp[o++] = v[a++];
			while (b < hi)
				tmp[o++] = v[b++];
		}
		memcpy(v, tmp, sizeof(box_info) * (size_t)n);
	}
}

static int regular_nms(const mnv2_detect_params *p, scratch *s, const score_reader *r,
		       float *ob, float *oc, float *os)
{
	const int row_len = p->label_offset + p->num_classes;
	int kept = 0;
	for (int c = 0; c < p->num_classes; c++) {
		for (int a = 0; a < p->num_boxes; a++)
			s->cand[a] = score_at(r, (size_t)a * row_len + p->label_offset + (size_t)c);
		int nsel = nms_single(p, s, s->cand, p->detections_per_class);
		int n = kept;
		for (int i = 0; i < nsel; i++)
			s->info[n++] = (box_info){ s->cand[s->selected[i]],
						   s->selected[i] * row_len + c + p->label_offset };
		sort_info(s->info, s->info_tmp, n);
		kept = n < p->max_detections ? n : p->max_detections;
	}
	for (int i = 0; i < kept; i++) {
		int a = s->info[i].index / row_len;
		int c = s->info[i].index - a * row_len - p->label_offset;
		write_row(ob, oc, os, i, &s->decoded[4 * (size_t)a], c, s->info[i].score);
	}
	return kept;
}

int mnv2_detect(const mnv2_detect_params *p, const void *boxes, const void *scores,
		void *mem, float *ob, float *oc, float *os, float *count, int *bad_box)
{
	scratch s;
	carve(p, mem, &s);
	memset(ob, 0, sizeof(float) * 4 * (size_t)p->out_rows);
	memset(oc, 0, sizeof(float) * (size_t)p->out_rows);
	memset(os, 0, sizeof(float) * (size_t)p->out_rows);
	*count = 0;
	if (decode(p, boxes, s.decoded, bad_box))
		return -1;
	score_reader r;
	reader_init(&r, p, scores);
	int n = p->use_regular_nms ? regular_nms(p, &s, &r, ob, oc, os)
				   : fast_nms(p, &s, &r, ob, oc, os);
	*count = (float)n;
	return 0;
}
