/* framing — see framing.h. */
#include "framing.h"

#include <stdlib.h>

uint32_t mnv2d_frame_length(const uint8_t hdr[MNV2D_FRAME_HEADER])
{
	return (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
}

void mnv2d_frame_put_length(uint8_t hdr[MNV2D_FRAME_HEADER], uint32_t len)
{
	hdr[0] = (uint8_t)(len >> 24);
	hdr[1] = (uint8_t)(len >> 16);
	hdr[2] = (uint8_t)(len >> 8);
	hdr[3] = (uint8_t)len;
}

int mnv2d_frame_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len)
{
	size_t n = protobuf_c_message_get_packed_size(msg);
	if (n > UINT32_MAX)
		return -1;
	uint8_t *buf = malloc(MNV2D_FRAME_HEADER + n);
	if (!buf)
		return -1;
	mnv2d_frame_put_length(buf, (uint32_t)n);
	if (protobuf_c_message_pack(msg, buf + MNV2D_FRAME_HEADER) != n) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = MNV2D_FRAME_HEADER + n;
	return 0;
}
