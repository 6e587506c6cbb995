/* libmnv2client: the public blocking and asynchronous calls. */
#include <stdlib.h>

#include "client_internal.h"

mnv2c_code mnv2c_send(mnv2c_client *c, mnv2c_request_kind kind, const mnv2c_image *img,
		      const mnv2c_options *opt, uint64_t *request_id, mnv2c_error *err)
{
	if (!c)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no client handle");
	return mnv2c__send(c, kind, img, opt, mnv2c__deadline(c->timeout_ms), request_id, err);
}

/* geometry with its kind, descriptor and offset set; -1 when geometry is NULL. */
static int fd_image(mnv2c_image *im, int fd, uint64_t fd_offset, const mnv2c_image *geometry)
{
	if (!geometry)
		return -1;
	*im = *geometry;
	im->kind = MNV2C_IMAGE_FD;
	im->data = NULL;
	im->len = 0;
	im->fd = fd;
	im->fd_offset = fd_offset;
	return 0;
}

mnv2c_code mnv2c_send_fd(mnv2c_client *c, mnv2c_request_kind kind, int fd, uint64_t fd_offset,
			 const mnv2c_image *geometry, const mnv2c_options *opt,
			 uint64_t *request_id, mnv2c_error *err)
{
	mnv2c_image im;
	if (fd_image(&im, fd, fd_offset, geometry))
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no frame geometry given");
	return mnv2c_send(c, kind, &im, opt, request_id, err);
}

mnv2c_code mnv2c_receive(mnv2c_client *c, int timeout_ms, mnv2c_response **out,
			 mnv2c_error *err)
{
	int64_t deadline = mnv2c__deadline(timeout_ms);
	if (out)
		*out = NULL;
	if (!c || !out)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no client handle or output pointer");
	for (;;) {
		if ((*out = mnv2c__take_ready(c, 0))) {
			mnv2c__ok(err);
			return MNV2C_OK;
		}
		if (c->broken.code == MNV2C_OK && mnv2c__live_outstanding(c) == 0)
			return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no request is outstanding");
		mnv2c_code rc = mnv2c__io(c, deadline, err);
		/* A broken connection may still have delivered responses: hand those out. */
		if (rc != MNV2C_OK && !c->ready_head)
			return rc;
	}
}

mnv2c_code mnv2c_dispatch(mnv2c_client *c, int timeout_ms, mnv2c_callback cb, void *user,
			  size_t *delivered, mnv2c_error *err)
{
	mnv2c_response *r = NULL;
	size_t n = 0;
	if (delivered)
		*delivered = 0;
	if (!cb)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no callback");
	mnv2c_code rc = mnv2c_receive(c, timeout_ms, &r, err);
	while (rc == MNV2C_OK && r) {
		cb(r, user);
		mnv2c_response_free(r);
		n++;
		r = mnv2c__take_ready(c, 0);
	}
	if (delivered)
		*delivered = n;
	return rc;
}

mnv2c_code mnv2c_flush(mnv2c_client *c, int timeout_ms, mnv2c_error *err)
{
	int64_t deadline = mnv2c__deadline(timeout_ms);
	if (!c)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no client handle");
	while (c->out_len > c->out_off) {
		mnv2c_code rc = mnv2c__io(c, deadline, err);
		if (rc != MNV2C_OK)
			return rc;
	}
	if (c->broken.code != MNV2C_OK) {
		mnv2c__copy_error(err, &c->broken);
		return c->broken.code;
	}
	mnv2c__ok(err);
	return MNV2C_OK;
}

/* Sends one request and waits for its answer until the handle's timeout. On MNV2C_OK the
 * response has status OK and its result set; otherwise err holds the failure. */
static mnv2c_code call(mnv2c_client *c, mnv2c_request_kind kind, const mnv2c_image *img,
		       const mnv2c_options *opt, mnv2c_response **out, mnv2c_error *err)
{
	uint64_t id = 0;
	*out = NULL;
	if (!c)
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no client handle");
	int64_t deadline = mnv2c__deadline(c->timeout_ms);
	mnv2c_code rc = mnv2c__send(c, kind, img, opt, deadline, &id, err);
	if (rc != MNV2C_OK)
		return rc;
	/* The answer may have been read in the same round that then broke the connection. */
	while (!(*out = mnv2c__take_ready(c, id)) && rc == MNV2C_OK)
		rc = mnv2c__io(c, deadline, err);
	if (!*out) {
		if (rc == MNV2C_ERR_TIMEOUT)
			mnv2c__abandon(c, id);
		return rc;
	}
	if ((*out)->status != MNV2C_OK) {
		rc = mnv2c__fail(err, (mnv2c_code)(*out)->status, 0, "%s",
				 *(*out)->message ? (*out)->message : "(the server gave no message)");
		mnv2c_response_free(*out);
		*out = NULL;
		return rc;
	}
	mnv2c__ok(err);
	return MNV2C_OK;
}

/* Moves one result out of a response and frees the rest. */
#define TAKE_RESULT(resp, field, out)           \
	do {                                    \
		*(out) = (resp)->field;         \
		(resp)->field = NULL;           \
		mnv2c_response_free(resp);      \
	} while (0)

mnv2c_code mnv2c_classify(mnv2c_client *c, const mnv2c_image *img, const mnv2c_options *opt,
			  mnv2c_classify_result **out, mnv2c_error *err)
{
	mnv2c_response *r;
	*out = NULL;
	mnv2c_code rc = call(c, MNV2C_REQ_CLASSIFY, img, opt, &r, err);
	if (rc == MNV2C_OK)
		TAKE_RESULT(r, classify, out);
	return rc;
}

mnv2c_code mnv2c_detect(mnv2c_client *c, const mnv2c_image *img, const mnv2c_options *opt,
			mnv2c_detect_result **out, mnv2c_error *err)
{
	mnv2c_response *r;
	*out = NULL;
	mnv2c_code rc = call(c, MNV2C_REQ_DETECT, img, opt, &r, err);
	if (rc == MNV2C_OK)
		TAKE_RESULT(r, detect, out);
	return rc;
}

mnv2c_code mnv2c_status(mnv2c_client *c, mnv2c_server_status **out, mnv2c_error *err)
{
	mnv2c_response *r;
	*out = NULL;
	mnv2c_code rc = call(c, MNV2C_REQ_STATUS, NULL, NULL, &r, err);
	if (rc == MNV2C_OK)
		TAKE_RESULT(r, server_status, out);
	return rc;
}

mnv2c_code mnv2c_list_models(mnv2c_client *c, mnv2c_model_list **out, mnv2c_error *err)
{
	mnv2c_response *r;
	*out = NULL;
	mnv2c_code rc = call(c, MNV2C_REQ_LIST_MODELS, NULL, NULL, &r, err);
	if (rc == MNV2C_OK)
		TAKE_RESULT(r, models, out);
	return rc;
}

mnv2c_code mnv2c_reload(mnv2c_client *c, mnv2c_reload_result **out, mnv2c_error *err)
{
	mnv2c_response *r;
	*out = NULL;
	mnv2c_code rc = call(c, MNV2C_REQ_RELOAD, NULL, NULL, &r, err);
	if (rc == MNV2C_OK)
		TAKE_RESULT(r, reload, out);
	return rc;
}

mnv2c_code mnv2c_classify_fd(mnv2c_client *c, int fd, uint64_t fd_offset,
			     const mnv2c_image *geometry, const mnv2c_options *opt,
			     mnv2c_classify_result **out, mnv2c_error *err)
{
	mnv2c_image im;
	*out = NULL;
	if (fd_image(&im, fd, fd_offset, geometry))
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no frame geometry given");
	return mnv2c_classify(c, &im, opt, out, err);
}

mnv2c_code mnv2c_detect_fd(mnv2c_client *c, int fd, uint64_t fd_offset,
			   const mnv2c_image *geometry, const mnv2c_options *opt,
			   mnv2c_detect_result **out, mnv2c_error *err)
{
	mnv2c_image im;
	*out = NULL;
	if (fd_image(&im, fd, fd_offset, geometry))
		return mnv2c__fail(err, MNV2C_ERR_USAGE, 0, "no frame geometry given");
	return mnv2c_detect(c, &im, opt, out, err);
}
