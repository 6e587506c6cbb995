/* libmnv2client: error reporting, code names, defaults and small constructors. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

mnv2c_code mnv2c__fail(mnv2c_error *err, mnv2c_code code, int sys_errno, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		err->code = code;
		err->sys_errno = sys_errno;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof err->message, fmt, ap);
		va_end(ap);
	}
	return code;
}

void mnv2c__copy_error(mnv2c_error *dst, const mnv2c_error *src)
{
	if (dst && dst != src)
		memcpy(dst, src, sizeof *dst);
}

void mnv2c__ok(mnv2c_error *err)
{
	if (err) {
		err->code = MNV2C_OK;
		err->sys_errno = 0;
		err->message[0] = '\0';
	}
}

int64_t mnv2c__now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mnv2c__deadline(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : mnv2c__now_ms() + timeout_ms;
}

int mnv2c__remaining(int64_t deadline)
{
	if (deadline < 0)
		return -1;
	int64_t left = deadline - mnv2c__now_ms();
	if (left <= 0)
		return 0;
	return left > 1000000000 ? 1000000000 : (int)left;
}

const char *mnv2c_code_name(int status)
{
	switch (status) {
	case MNV2C_OK: return "OK";
	case MNV2C_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
	case MNV2C_NOT_FOUND: return "NOT_FOUND";
	case MNV2C_PERMISSION_DENIED: return "PERMISSION_DENIED";
	case MNV2C_RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
	case MNV2C_DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
	case MNV2C_UNAVAILABLE: return "UNAVAILABLE";
	case MNV2C_INTERNAL: return "INTERNAL";
	case MNV2C_ERR_CONNECT: return "CONNECT_FAILED";
	case MNV2C_ERR_IO: return "IO_ERROR";
	case MNV2C_ERR_CLOSED: return "CONNECTION_CLOSED";
	case MNV2C_ERR_TIMEOUT: return "TIMEOUT";
	case MNV2C_ERR_PROTOCOL: return "PROTOCOL_ERROR";
	case MNV2C_ERR_NOMEM: return "OUT_OF_MEMORY";
	case MNV2C_ERR_USAGE: return "USAGE_ERROR";
	default: return "UNKNOWN";
	}
}

const char *mnv2c_model_kind_name(int kind)
{
	switch (kind) {
	case MNV2C_MODEL_CLASSIFIER: return "classifier";
	case MNV2C_MODEL_DETECTOR: return "detector";
	default: return "unspecified";
	}
}

const char *mnv2c_default_socket_path(void)
{
	const char *env = getenv("MNV2_SOCKET");
	return env && *env ? env : MNV2C_DEFAULT_SOCKET;
}

unsigned mnv2c_pixel_format_bpp(mnv2c_pixel_format f)
{
	switch (f) {
	case MNV2C_PIX_RGB888:
	case MNV2C_PIX_BGR888: return 3;
	case MNV2C_PIX_RGBA8888: return 4;
	case MNV2C_PIX_GRAY8: return 1;
	case MNV2C_PIX_YUYV:
	case MNV2C_PIX_UYVY: return 2;
	case MNV2C_PIX_BGRA8888: return 4;
	default: return 0;
	}
}

mnv2c_image mnv2c_image_encoded(const void *data, size_t len)
{
	mnv2c_image im = {0};
	im.kind = MNV2C_IMAGE_ENCODED;
	im.data = data;
	im.len = len;
	return im;
}

mnv2c_image mnv2c_image_raw(mnv2c_pixel_format format, uint32_t width, uint32_t height,
			    uint32_t stride, const void *data, size_t len)
{
	mnv2c_image im = {0};
	im.kind = MNV2C_IMAGE_RAW;
	im.format = format;
	im.width = width;
	im.height = height;
	im.stride = stride;
	im.data = data;
	im.len = len;
	return im;
}
