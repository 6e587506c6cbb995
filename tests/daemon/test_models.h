/* test_models — small models for the daemon's integration tests, written with
 * tflite_writer, so the tests run without ../shared.
 *
 *  - td_write_detector(): a 2x2-input SSD that ends in TFLite_Detection_PostProcess (its
 *    FlexBuffer options written here). Box encodings are constant zeros, so every box is
 *    its anchor: the four quadrants of the input. The class scores of a cell are its mean
 *    red (class 0) and green (class 1) values / 255 (background 0). A uniformly red image
 *    gives four class-0 detections, score 1, boxes = the image's quadrants.
 *  - td_write_slow(): a classifier (10 classes) of `layers` 3x3 convolutions on a
 *    size x size x 32 input, for tests that need a request to take a while.
 * Both return 0, or -1 with a message on stderr. */
#ifndef TD_TEST_MODELS_H
#define TD_TEST_MODELS_H

#include <stddef.h>
#include <stdint.h>

#define TD_DET_CLASSES 2

int td_write_detector(const char *path);
int td_write_slow(const char *path, int size, int layers);

/* FlexBuffer map of string keys to numbers (what custom options hold); exposed for a test.
 * kinds: 'i' int, 'f' float32, 'b' bool. Returns the length written into out (max bytes),
 * or 0 when it does not fit. */
typedef struct td_flex_entry {
	const char *key;   /* entries must be sorted by key */
	char kind;
	double value;
} td_flex_entry;
size_t td_flexbuffer_map(const td_flex_entry *e, size_t n, uint8_t *out, size_t max);

#endif
