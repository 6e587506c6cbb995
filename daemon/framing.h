/* framing — the wire's frames: a 4-byte big-endian length, then that many bytes of one
 * serialized protobuf message (proto/mnv2.proto).
 *
 * Contract:
 *  - mnv2d_frame_length() reads a header and checks the length against a limit before the
 *    caller allocates anything; a length over the limit is a protocol error that closes
 *    the connection (the stream cannot be resynchronised).
 *  - mnv2d_frame_pack() serializes a message into one malloc'd buffer holding the header
 *    and the payload, ready to write. Pure functions, no state. */
#ifndef MNV2D_FRAMING_H
#define MNV2D_FRAMING_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>
#include <stdint.h>

#define MNV2D_FRAME_HEADER 4

/* The length in a 4-byte header. */
uint32_t mnv2d_frame_length(const uint8_t hdr[MNV2D_FRAME_HEADER]);
void mnv2d_frame_put_length(uint8_t hdr[MNV2D_FRAME_HEADER], uint32_t len);

/* 0 and a malloc'd frame in *out / *len; -1 when out of memory or the message does not fit
 * a frame (over 4 GiB). */
int mnv2d_frame_pack(const ProtobufCMessage *msg, uint8_t **out, size_t *len);

#endif
