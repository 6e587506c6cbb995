/* libmnv2 — quantized MobileNetV2/SSD inference engine for .tflite files.
 *
 * Contract:
 *  - mnv2_model_load() maps a .tflite file, validates every offset, length, shape and
 *    operator before use, prepares kernels and plans one activation arena. A loaded model
 *    is immutable and may be shared by any number of threads.
 *  - Each thread that runs inference owns an mnv2_context (its own arena). Running never
 *    allocates memory. A context may split operators over helper threads of its own
 *    (mnv2_context_set_threads).
 *  - Every function that can fail takes an mnv2_error* (may be NULL) and fills it with a
 *    message saying what went wrong and where; nothing is printed.
 */
#ifndef MNV2_ENGINE_H
#define MNV2_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MNV2_MAX_RANK 6
#define MNV2_ERROR_LEN 512

typedef struct mnv2_error {
	char msg[MNV2_ERROR_LEN];
} mnv2_error;

/* Element types, numbered as TFLite's TensorType. */
typedef enum mnv2_dtype {
	MNV2_FLOAT32 = 0,
	MNV2_INT32 = 2,
	MNV2_UINT8 = 3,
	MNV2_INT64 = 4,
	MNV2_INT8 = 9,
} mnv2_dtype;

typedef struct mnv2_tensor_info {
	const char *name;
	mnv2_dtype type;
	int rank;
	int32_t dims[MNV2_MAX_RANK];
	size_t bytes;         /* size of the data in bytes */
	int quantized;        /* 1 when scale/zero_point are meaningful */
	float scale;          /* per-tensor scale (first channel's when per-channel) */
	int32_t zero_point;
	int quant_channels;   /* > 1 for per-channel quantization */
	int quant_axis;
} mnv2_tensor_info;

typedef struct mnv2_op_info {
	int index;
	const char *name;     /* "CONV_2D", or the custom code */
	int num_inputs, num_outputs;
	const int *inputs;    /* tensor indices, -1 for an absent optional input */
	const int *outputs;
	uint64_t macs;        /* multiply-accumulates of one run */
} mnv2_op_info;

typedef struct mnv2_model mnv2_model;
typedef struct mnv2_context mnv2_context;

/* Loading. The buffer variant copies nothing when the caller keeps `data` alive and
 * passes keep=1; with keep=0 the bytes are copied. `name` names the model in errors. */
mnv2_model *mnv2_model_load(const char *path, mnv2_error *err);
mnv2_model *mnv2_model_load_buffer(const void *data, size_t size, const char *name,
				   int keep, mnv2_error *err);
void mnv2_model_free(mnv2_model *m);

/* Description of a loaded model. Pointers stay valid until mnv2_model_free(). */
int mnv2_model_num_inputs(const mnv2_model *m);
int mnv2_model_num_outputs(const mnv2_model *m);
int mnv2_model_input_info(const mnv2_model *m, int i, mnv2_tensor_info *out);
int mnv2_model_output_info(const mnv2_model *m, int i, mnv2_tensor_info *out);
int mnv2_model_num_tensors(const mnv2_model *m);
int mnv2_model_tensor_info(const mnv2_model *m, int i, mnv2_tensor_info *out);
int mnv2_model_num_ops(const mnv2_model *m);
int mnv2_model_op_info(const mnv2_model *m, int i, mnv2_op_info *out);
uint64_t mnv2_model_macs(const mnv2_model *m);
size_t mnv2_model_param_bytes(const mnv2_model *m);
size_t mnv2_model_arena_bytes(const mnv2_model *m);
const char *mnv2_model_name(const mnv2_model *m);
const char *mnv2_model_description(const mnv2_model *m);        /* Model.description or "" */
const char *mnv2_model_metadata_name(const mnv2_model *m);      /* TFLITE_METADATA name or "" */
const char *mnv2_model_metadata_description(const mnv2_model *m);
/* Labels packed in the model (TFLite metadata + appended zip); 0 when there are none. */
size_t mnv2_model_num_labels(const mnv2_model *m);
const char *mnv2_model_label(const mnv2_model *m, size_t i);

/* Memory plans. The layer-by-layer plan keeps every activation tensor whole in the arena.
 * The fused plan runs each inverted residual chain (a CONV_2D producing the expanded
 * tensor, the 3x3 DEPTHWISE_CONV_2D, the 1x1 projection CONV_2D and the residual ADD when
 * there is one) in tiles of output rows, so the expanded tensors live only in small row
 * buffers: only the chains' inputs and outputs are whole tensors. Chains are found at load
 * (every tensor inside one has exactly one consumer and is no graph output); ops outside
 * chains run layer by layer. Both plans give the same bytes. mnv2_model_load() uses
 * MNV2_PLAN_DEFAULT; mnv2_model_load_ex() takes a plan in mnv2_load_options (mnv2/ssd.h). */
typedef enum mnv2_plan_mode {
	MNV2_PLAN_DEFAULT = 0,   /* the fused plan when its arena is smaller, else layers */
	MNV2_PLAN_LAYERS = 1,
	MNV2_PLAN_FUSED = 2,
} mnv2_plan_mode;
/* "layers", "fused" ("default" for MNV2_PLAN_DEFAULT); parse accepts all three, -1 else. */
const char *mnv2_plan_mode_name(mnv2_plan_mode p);
int mnv2_plan_mode_parse(const char *name, mnv2_plan_mode *out);
/* The plan the model runs (never MNV2_PLAN_DEFAULT). */
mnv2_plan_mode mnv2_model_plan(const mnv2_model *m);
/* Arena bytes plan `p` needs for this model (both are computed at load; DEFAULT: the
 * model's plan). mnv2_model_arena_bytes() is the running plan's. */
size_t mnv2_model_plan_arena_bytes(const mnv2_model *m, mnv2_plan_mode p);
/* Fused chains found at load (whatever the plan), and the row buffers each intra-op thread
 * beyond the first allocates for them in the fused plan (the first one's are in the arena). */
int mnv2_model_num_chains(const mnv2_model *m);
size_t mnv2_model_tile_bytes(const mnv2_model *m);

/* Inference contexts: one per thread. */
mnv2_context *mnv2_context_create(const mnv2_model *m, mnv2_error *err);
void mnv2_context_free(mnv2_context *c);
/* Writable input buffer of `bytes` bytes, valid for the context's lifetime. A run may
 * overwrite it (its arena space is reused once the input is read): set it before each run. */
void *mnv2_context_input(mnv2_context *c, int i, size_t *bytes);
int mnv2_context_set_input(mnv2_context *c, int i, const void *data, size_t len,
			   mnv2_error *err);
int mnv2_context_run(mnv2_context *c, mnv2_error *err);
/* Output data after a run; shape may differ from the file's for ops that set it. */
const void *mnv2_context_output(const mnv2_context *c, int i, size_t *bytes);
const mnv2_model *mnv2_context_model(const mnv2_context *c);

/* Kernel paths. The portable C kernels are the reference; every SIMD path gives exactly
 * the same bytes. A model picks the fastest path the CPU supports when it loads (and packs
 * its weights for it); each context starts on that path and may be restricted to an
 * older one of the same architecture, or to the portable path, e.g. to compare paths in
 * tests or benchmarks. */
typedef enum mnv2_kernel_path {
	MNV2_PATH_PORTABLE = 0,
	MNV2_PATH_AVX2 = 1,      /* x86-64 with AVX2 */
	MNV2_PATH_AVXVNNI = 2,   /* x86-64 with AVX2 and AVX-VNNI (byte dot products) */
	MNV2_PATH_NEON = 3,      /* aarch64 (Advanced SIMD) */
	MNV2_PATH_NEONDOT = 4,   /* aarch64 with the dot-product extension (asimddp, sdot) */
} mnv2_kernel_path;
/* "portable", "avx2", "avxvnni", "neon", "neondot". Within an architecture paths are
 * ordered: each newer one needs the CPU features of the older ones (avx2 < avxvnni,
 * neon < neondot). */
const char *mnv2_kernel_path_name(mnv2_kernel_path p);
/* Parses a name given by mnv2_kernel_path_name(); -1 when unknown. */
int mnv2_kernel_path_parse(const char *name, mnv2_kernel_path *out);
mnv2_kernel_path mnv2_model_kernel_path(const mnv2_model *m);
/* Bytes a context allocates beside the arena for the SIMD kernels' per-thread buffers. */
size_t mnv2_model_workspace_bytes(const mnv2_model *m);
/* Fails (and changes nothing) when `p` is newer than the model's path or of another
 * architecture. */
int mnv2_context_set_kernel_path(mnv2_context *c, mnv2_kernel_path p, mnv2_error *err);
mnv2_kernel_path mnv2_context_kernel_path(const mnv2_context *c);

/* Intra-op threads: operators large enough to pay for it are split into n parts run by
 * the calling thread and n - 1 threads started here, which stay until the context is freed
 * or the count changes (they sleep while idle). Outputs are byte-identical for every n.
 * 1 (the default) starts none; fails (changing nothing) outside 1..64. Not on the hot path:
 * allocates the threads' workspaces (and, in the fused plan, mnv2_model_tile_bytes() of row
 * buffers for each thread beyond the first). */
int mnv2_context_set_threads(mnv2_context *c, int n, mnv2_error *err);
int mnv2_context_threads(const mnv2_context *c);

/* mnv2_context_run(), writing each operator's wall time in nanoseconds to op_ns[i]
 * (mnv2_model_num_ops() entries); in the fused plan a chain's time is written to its first
 * operator and 0 to the others. Allocates nothing; for profiles, not for production. */
int mnv2_context_run_profiled(mnv2_context *c, double *op_ns, mnv2_error *err);

const char *mnv2_dtype_name(mnv2_dtype t);
const char *mnv2_version(void);

#ifdef __cplusplus
}
#endif
#endif
