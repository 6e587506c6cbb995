/* libmnv2client: validating the caller's request and encoding it as one frame. */
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

static mnv2c_code check_image(const mnv2c_image *img, mnv2c_error *err)
{
	if (!img)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no image given");
	if (!img->data || img->len == 0)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "the image is empty");
	if (img->kind == MNV2C_IMAGE_ENCODED)
		return MNV2C_OK;
	if (img->kind != MNV2C_IMAGE_RAW)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "unknown image kind %d",
				   (int)img->kind);
	unsigned bpp = mnv2c_pixel_format_bpp(img->format);
	if (bpp == 0)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "raw frame: unknown pixel format %d",
				   (int)img->format);
	if (img->width == 0 || img->height == 0)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "raw frame: size %ux%u is empty",
				   (unsigned)img->width, (unsigned)img->height);
	uint64_t row = (uint64_t)img->width * bpp;
	uint64_t stride = img->stride ? img->stride : row;
	if (stride < row)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0,
				   "raw frame: stride %u is less than width %u x %u bytes",
				   (unsigned)img->stride, (unsigned)img->width, bpp);
	/* at most (2^32-1)^2 + 2^34: no overflow in 64 bits */
	uint64_t need = stride * (img->height - 1) + row;
	if ((uint64_t)img->len < need)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0,
				   "raw frame: %ux%u with stride %llu needs %llu bytes, got %zu",
				   (unsigned)img->width, (unsigned)img->height,
				   (unsigned long long)stride, (unsigned long long)need, img->len);
	return MNV2C_OK;
}

static mnv2c_code check_options(const mnv2c_options *opt, mnv2c_error *err)
{
	if (!opt)
		return MNV2C_OK;
	if ((unsigned)opt->resize > MNV2C_RESIZE_CENTER_CROP)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "unknown resize mode %d",
				   (int)opt->resize);
	return MNV2C_OK;
}

/* Room for n more bytes at the end of c->out (compacting written bytes away first). */
static mnv2c_code reserve_out(mnv2c_client *c, size_t n, mnv2c_error *err)
{
	if (c->out_off > 0) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (c->out_cap - c->out_len >= n)
		return MNV2C_OK;
	size_t cap = c->out_cap ? c->out_cap : 4096;
	while (cap - c->out_len < n) {
		if (cap > SIZE_MAX / 2)
			return mnv2c__fail(err, MNV2C_ERR_NOMEM, 0, "request buffer too large");
		cap *= 2;
	}
	uint8_t *p = realloc(c->out, cap);
	if (!p)
		return mnv2c__fail(err, MNV2C_ERR_NOMEM, 0,
				   "out of memory queueing a %zu-byte request", n);
	c->out = p;
	c->out_cap = cap;
	return MNV2C_OK;
}

static void set_image(Mnv2__Image *pi, Mnv2__RawFrame *raw, const mnv2c_image *img)
{
	if (img->kind == MNV2C_IMAGE_ENCODED) {
		pi->source_case = MNV2__IMAGE__SOURCE_ENCODED;
		pi->encoded.data = (uint8_t *)(uintptr_t)img->data; /* read only by pack() */
		pi->encoded.len = img->len;
		return;
	}
	raw->format = (Mnv2__PixelFormat)img->format;
	raw->width = img->width;
	raw->height = img->height;
	raw->stride = img->stride;
	raw->data.data = (uint8_t *)(uintptr_t)img->data;
	raw->data.len = img->len;
	pi->source_case = MNV2__IMAGE__SOURCE_RAW;
	pi->raw = raw;
}

static void set_options(Mnv2__Options *po, const mnv2c_options *opt)
{
	if (!opt)
		return;
	po->top_k = opt->top_k;
	po->score_threshold = opt->score_threshold;
	po->max_detections = opt->max_detections;
	po->resize = (Mnv2__ResizeMode)opt->resize;
}

mnv2c_code mnv2c__encode_request(mnv2c_client *c, uint64_t id, mnv2c_request_kind kind,
				 const mnv2c_image *img, const mnv2c_options *opt,
				 mnv2c_error *err)
{
	Mnv2__Request req;
	Mnv2__ClassifyRequest cls;
	Mnv2__DetectRequest det;
	Mnv2__StatusRequest st;
	Mnv2__ListModelsRequest lm;
	Mnv2__ReloadRequest rl;
	Mnv2__Image pimg;
	Mnv2__RawFrame raw;
	Mnv2__Options popt;
	mnv2c_code rc;

	mnv2__request__init(&req);
	mnv2__classify_request__init(&cls);
	mnv2__detect_request__init(&det);
	mnv2__status_request__init(&st);
	mnv2__list_models_request__init(&lm);
	mnv2__reload_request__init(&rl);
	mnv2__image__init(&pimg);
	mnv2__raw_frame__init(&raw);
	mnv2__options__init(&popt);
	req.version = MNV2C_PROTOCOL_VERSION;
	req.request_id = id;
	if (kind == MNV2C_REQ_CLASSIFY || kind == MNV2C_REQ_DETECT) {
		if ((rc = check_image(img, err)) != MNV2C_OK ||
		    (rc = check_options(opt, err)) != MNV2C_OK)
			return rc;
		set_image(&pimg, &raw, img);
		set_options(&popt, opt);
		char *model = (char *)(uintptr_t)(opt && opt->model ? opt->model : "");
		req.deadline_ms = opt ? opt->deadline_ms : 0;
		if (kind == MNV2C_REQ_CLASSIFY) {
			cls.model = model;
			cls.image = &pimg;
			cls.options = &popt;
			req.body_case = MNV2__REQUEST__BODY_CLASSIFY;
			req.classify = &cls;
		} else {
			det.model = model;
			det.image = &pimg;
			det.options = &popt;
			req.body_case = MNV2__REQUEST__BODY_DETECT;
			req.detect = &det;
		}
	} else if (img || opt) {
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0,
				   "status, list-models and reload requests take no image or options");
	} else if (kind == MNV2C_REQ_STATUS) {
		req.body_case = MNV2__REQUEST__BODY_STATUS;
		req.status = &st;
	} else if (kind == MNV2C_REQ_LIST_MODELS) {
		req.body_case = MNV2__REQUEST__BODY_LIST_MODELS;
		req.list_models = &lm;
	} else if (kind == MNV2C_REQ_RELOAD) {
		req.body_case = MNV2__REQUEST__BODY_RELOAD;
		req.reload = &rl;
	} else {
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "unknown request kind %d", (int)kind);
	}

	size_t size = mnv2__request__get_packed_size(&req);
	if (size > c->max_frame)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0,
				   "request of %zu bytes exceeds the frame limit of %zu bytes",
				   size, c->max_frame);
	if ((rc = reserve_out(c, size + 4, err)) != MNV2C_OK)
		return rc;
	uint8_t *p = c->out + c->out_len;
	p[0] = (uint8_t)(size >> 24);
	p[1] = (uint8_t)(size >> 16);
	p[2] = (uint8_t)(size >> 8);
	p[3] = (uint8_t)size;
	size_t packed = mnv2__request__pack(&req, p + 4);
	if (packed != size)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0,
				   "request encoded to %zu bytes, expected %zu", packed, size);
	c->out_len += size + 4;
	return MNV2C_OK;
}
