/* fuzz_image — libFuzzer harness for libmnv2image's PNG/JPEG decoder.
 *
 * Build (clang):  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *     -Iimage/include image/src/(all .c) tests/fuzz/fuzz_image.c \
 *     $(pkg-config --cflags --libs libpng libturbojpeg)
 * Limits are modest (1 Mpixel, 1 MiB of input) so that every input decodes quickly and
 * the fuzzer explores formats rather than spending its time on large images. Any success
 * must give a consistent image; any failure must come with a message. */
#include "mnv2/image.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const mnv2_image_limits lim = {.max_pixels = (uint64_t)1 << 20, .max_bytes = (size_t)1 << 20};
	char err[MNV2_IMAGE_ERR_LEN];
	mnv2_image img;
	int o = mnv2_image_exif_orientation(data, size);
	if (o < 1 || o > 8)
		abort();
	err[0] = '\0';
	if (mnv2_image_decode(data, size, &lim, &img, err, sizeof err) == 0) {
		uint64_t px = (uint64_t)img.width * img.height;
		volatile uint8_t sink = 0;
		if (!img.data || px == 0 || px > lim.max_pixels || img.stride != (size_t)img.width * 3)
			abort();
		/* touch the first and last pixel so ASan sees the whole buffer is there */
		sink ^= img.data[0];
		sink ^= img.data[px * 3 - 1];
		(void)sink;
		mnv2_image_free(&img);
	} else if (err[0] == '\0' || img.data != NULL) {
		abort();
	}
	return 0;
}
