/* intake — see intake.h. */
#include "intake.h"

#include "framing.h"
#include "infer.h"

#include <stdio.h>
#include <string.h>

enum {
	ST_OK = MNV2__STATUS_CODE__STATUS_OK,
	ST_INVALID = MNV2__STATUS_CODE__STATUS_INVALID_ARGUMENT,
	ST_UNAVAILABLE = MNV2__STATUS_CODE__STATUS_UNAVAILABLE,
};

/* Length of the well-formed UTF-8 sequence at p (1..4), 0 when there is none. */
static size_t utf8_seq(const unsigned char *p)
{
	unsigned c = p[0];
	size_t n = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
		 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||   /* overlong, surrogate */
	    (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))     /* overlong, > U+10FFFF */
		return 0;
	return n;
}

/* A message goes into a proto3 string field, which must be UTF-8: other languages'
 * decoders refuse the whole response otherwise. A request's own text in it (a model name,
 * cut at 64 bytes) may not be: every byte outside a well-formed sequence becomes '?'. */
static void utf8_sanitize(char *s)
{
	unsigned char *p = (unsigned char *)s;
	while (*p) {
		size_t n = utf8_seq(p);
		if (n)
			p += n;
		else
			*p++ = '?';
	}
}

/* Classify/Detect: validated now, so a request that cannot succeed takes no queue slot. */
static void task(mnv2d_intake *out, Mnv2__Request *req, const mnv2d_modelset *set,
		 int stopping)
{
	if (stopping) {
		out->status = ST_UNAVAILABLE;
		snprintf(out->msg, sizeof out->msg, "the server is shutting down");
	} else {
		out->status = mnv2d_infer_validate(req, set, &out->model, out->msg,
						   sizeof out->msg);
	}
	if (out->status != ST_OK) {
		out->kind = MNV2D_INTAKE_ERROR;
		utf8_sanitize(out->msg);
		mnv2__request__free_unpacked(req, NULL);
		return;
	}
	out->kind = MNV2D_INTAKE_QUEUE;
	out->req = req;
}

void mnv2d_intake_next(const mnv2d_input *in, size_t max_frame_bytes,
		       const mnv2d_modelset *set, int stopping, mnv2d_intake *out)
{
	static const uint8_t empty[1];
	memset(out, 0, sizeof *out);
	out->model = -1;
	uint8_t hdr[MNV2D_FRAME_HEADER];
	if (in->have < sizeof hdr) {
		out->kind = MNV2D_INTAKE_WAIT;
		return;
	}
	in->copy(in->arg, hdr, sizeof hdr);
	uint32_t n = out->length = mnv2d_frame_length(hdr);
	if (n > max_frame_bytes) {
		out->kind = MNV2D_INTAKE_CLOSE;
		out->too_long = 1;
		snprintf(out->msg, sizeof out->msg, "frame length %u is over the limit of %zu "
			 "bytes", n, max_frame_bytes);
		return;
	}
	if (in->have - sizeof hdr < n) {
		out->kind = MNV2D_INTAKE_WAIT;
		return;
	}
	const uint8_t *p = n ? in->pullup(in->arg, sizeof hdr + (size_t)n) : NULL;
	if (n && !p) {
		out->kind = MNV2D_INTAKE_CLOSE;
		snprintf(out->msg, sizeof out->msg, "out of memory reading a frame");
		return;
	}
	out->consumed = sizeof hdr + (size_t)n;
	out->kind = MNV2D_INTAKE_ERROR;
	out->status = ST_INVALID;
	Mnv2__Request *req = mnv2__request__unpack(NULL, n, n ? p + sizeof hdr : empty);
	if (!req) {
		out->undecodable = 1;
		snprintf(out->msg, sizeof out->msg, "a %u-byte frame does not decode as an "
			 "mnv2.Request", n);
		return;
	}
	out->id = req->request_id;
	if (req->version != 1) {
		snprintf(out->msg, sizeof out->msg, "unsupported protocol version %u; this server "
			 "speaks 1", (unsigned)req->version);
		mnv2__request__free_unpacked(req, NULL);
		return;
	}
	switch (req->body_case) {
	case MNV2__REQUEST__BODY_CLASSIFY:
	case MNV2__REQUEST__BODY_DETECT:
		task(out, req, set, stopping);
		return;
	case MNV2__REQUEST__BODY_STATUS:
		out->kind = MNV2D_INTAKE_STATUS;
		break;
	case MNV2__REQUEST__BODY_LIST_MODELS:
		out->kind = MNV2D_INTAKE_LIST_MODELS;
		break;
	case MNV2__REQUEST__BODY_RELOAD:
		out->kind = MNV2D_INTAKE_RELOAD;
		break;
	default:
		snprintf(out->msg, sizeof out->msg, "the request has no body (classify, detect, "
			 "status, list_models or reload)");
		break;
	}
	mnv2__request__free_unpacked(req, NULL);
}
