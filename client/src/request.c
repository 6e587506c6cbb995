/* libmnv2client: validating the caller's request and encoding it as one frame. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"

static mnv2c_code check_frame(const mnv2c_image *img, mnv2c_error *err)
{
	if (!mnv2c_pixel_format_name(img->format))
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "raw frame: unknown pixel format %d",
				   (int)img->format);
	if (img->width == 0 || img->height == 0)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "raw frame: size %ux%u is empty",
				   (unsigned)img->width, (unsigned)img->height);
	if (img->n_planes > 3)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "raw frame: %u planes (at most 3)",
				   img->n_planes);
	if ((unsigned)img->color_range > MNV2C_RANGE_FULL ||
	    (unsigned)img->color_matrix > MNV2C_MATRIX_BT709)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "raw frame: unknown colour range %d "
				   "or matrix %d", (int)img->color_range, (int)img->color_matrix);
	if (img->kind == MNV2C_IMAGE_FD) {
		if (img->fd < 0)
			return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "invalid file descriptor %d",
					   img->fd);
		return MNV2C_OK;   /* the descriptor's size is the server's to check */
	}
	if (!img->data || img->len == 0)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "the image is empty");
	if (img->n_planes)
		return MNV2C_OK;   /* explicit planes: the server checks each against len */
	unsigned bpp = mnv2c_pixel_format_bpp(img->format);   /* 0: a planar YUV format */
	uint64_t row = bpp ? (uint64_t)img->width * bpp : img->width;
	uint64_t stride = img->stride ? img->stride : row;
	if (stride < row)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0,
				   "raw frame: stride %u is less than width %u x %u bytes",
				   (unsigned)img->stride, (unsigned)img->width, bpp ? bpp : 1);
	uint64_t need = mnv2c_frame_bytes(img->format, img->width, img->height, img->stride);
	if ((uint64_t)img->len < need)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0,
				   "raw frame: %ux%u with stride %llu needs %llu bytes, got %zu",
				   (unsigned)img->width, (unsigned)img->height,
				   (unsigned long long)stride, (unsigned long long)need, img->len);
	return MNV2C_OK;
}

static mnv2c_code check_image(const mnv2c_image *img, mnv2c_error *err)
{
	if (!img)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no image given");
	if (img->kind == MNV2C_IMAGE_ENCODED) {
		if (!img->data || img->len == 0)
			return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "the image is empty");
		return MNV2C_OK;
	}
	if (img->kind != MNV2C_IMAGE_RAW && img->kind != MNV2C_IMAGE_FD)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "unknown image kind %d",
				   (int)img->kind);
	return check_frame(img, err);
}

static mnv2c_code check_options(const mnv2c_options *opt, mnv2c_error *err)
{
	if (!opt)
		return MNV2C_OK;
	if ((unsigned)opt->resize > MNV2C_RESIZE_CENTER_CROP)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "unknown resize mode %d",
				   (int)opt->resize);
	if ((unsigned)opt->filter > MNV2C_FILTER_BILINEAR)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "unknown resize filter %d",
				   (int)opt->filter);
	return MNV2C_OK;
}

/* Room for n more bytes at the end of c->out (compacting written bytes away first). */
static mnv2c_code reserve_out(mnv2c_client *c, size_t n, mnv2c_error *err)
{
	if (c->out_off > 0) {
		for (size_t i = 0; i < c->n_fds; i++)
			c->fds[i].pos -= c->out_off;   /* all at or after out_off */
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

static void set_image(Mnv2__Image *pi, Mnv2__RawFrame *raw, Mnv2__Plane *planes,
		      Mnv2__Plane **pp, const mnv2c_image *img)
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
	raw->color_range = (Mnv2__ColorRange)img->color_range;
	raw->color_matrix = (Mnv2__ColorMatrix)img->color_matrix;
	for (unsigned i = 0; i < img->n_planes; i++) {
		mnv2__plane__init(&planes[i]);
		planes[i].stride = img->planes[i].stride;
		planes[i].offset = img->planes[i].offset;
		pp[i] = &planes[i];
	}
	raw->n_planes = img->n_planes;
	raw->planes = img->n_planes ? pp : NULL;
	if (img->kind == MNV2C_IMAGE_FD) {
		raw->has_fd = 1;
		raw->fd_offset = img->fd_offset;
	} else {
		raw->data.data = (uint8_t *)(uintptr_t)img->data;
		raw->data.len = img->len;
	}
	pi->source_case = MNV2__IMAGE__SOURCE_RAW;
	pi->raw = raw;
}

/* Registers a duplicate of fd to go with the frame about to be appended at out_len. */
static mnv2c_code attach_fd(mnv2c_client *c, int fd, mnv2c_error *err)
{
	if (c->n_fds == c->cap_fds) {
		size_t cap = c->cap_fds ? c->cap_fds * 2 : 8;
		struct mnv2c_fd_att *p = realloc(c->fds, cap * sizeof *p);
		if (!p)
			return mnv2c__fail(err, MNV2C_ERR_NOMEM, ENOMEM, "out of memory");
		c->fds = p;
		c->cap_fds = cap;
	}
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup < 0) {
		int e = errno;
		return mnv2c__fail(err, MNV2C_ERR_USAGE, e, "cannot duplicate file descriptor %d: "
				   "%s", fd, strerror(e));
	}
	c->fds[c->n_fds++] = (struct mnv2c_fd_att){c->out_len, dup};
	return MNV2C_OK;
}

static void set_options(Mnv2__Options *po, Mnv2__Rect *roi, const mnv2c_options *opt)
{
	if (!opt)
		return;
	po->top_k = opt->top_k;
	po->score_threshold = opt->score_threshold;
	po->max_detections = opt->max_detections;
	po->resize = (Mnv2__ResizeMode)opt->resize;
	po->resize_filter = (Mnv2__ResizeFilter)opt->filter;
	if (opt->roi.x || opt->roi.y || opt->roi.width || opt->roi.height) {
		mnv2__rect__init(roi);
		roi->x = opt->roi.x;
		roi->y = opt->roi.y;
		roi->width = opt->roi.width;
		roi->height = opt->roi.height;
		po->roi = roi;
	}
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
	Mnv2__Rect roi;
	Mnv2__Plane planes[3];
	Mnv2__Plane *pp[3];
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
		set_image(&pimg, &raw, planes, pp, img);
		set_options(&popt, &roi, opt);
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
	if (img && img->kind == MNV2C_IMAGE_FD && (kind == MNV2C_REQ_CLASSIFY ||
						   kind == MNV2C_REQ_DETECT) &&
	    (rc = attach_fd(c, img->fd, err)) != MNV2C_OK)
		return rc;
	c->out_len += size + 4;
	return MNV2C_OK;
}
