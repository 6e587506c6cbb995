/* writer_selftest OUTDIR — checks tflite_writer's API behaviour (indices, deduplication,
 * repeatable output, argument and error handling, lenient mode) and writes two models for
 * check_models.py to decode: OUTDIR/all_ops.tflite (every operator helper, metadata,
 * per-channel quantisation, custom options) and OUTDIR/lenient.tflite (deliberately bad
 * references, written with strict mode off). Exit status 0 when every check passes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tflite_writer.h"

static int failures;

#define CHECK(cond)                                                               \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                           \
        }                                                                         \
    } while (0)

/* Finishes m twice and checks both runs give the same bytes; writes them to dir/name. */
static void finish_and_write(tfw_model *m, const char *dir, const char *name)
{
    uint8_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    char path[4096];

    CHECK(tfw_finish(m, &a, &na) == 0);
    CHECK(tfw_finish(m, &b, &nb) == 0);
    CHECK(a && b && na == nb && na % 16 == 0 && memcmp(a, b, na) == 0);
    CHECK(a && na >= 8 && memcmp(a + 4, "TFL3", 4) == 0);
    free(a);
    free(b);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK(tfw_write_file(m, path) == 0);
}

static void build_all_ops(const char *dir)
{
    static const int32_t d_in[4] = {1, 8, 8, 4}, d_w[4] = {6, 3, 3, 4}, d_b[1] = {6};
    static const int32_t d_c[4] = {1, 4, 4, 6}, d_dw[4] = {1, 3, 3, 12}, d_dwo[4] = {1, 2, 2, 12};
    static const int32_t d_p[4] = {1, 2, 2, 6}, d_fcw[2] = {5, 6}, d_fco[4] = {1, 2, 2, 5};
    static const int32_t d_flat[2] = {4, 5}, d_cat[4] = {1, 2, 2, 17}, d_sq[2] = {1, 6};
    static const int32_t d_pool1[4] = {1, 1, 1, 6}, d_pads[2] = {4, 2}, d_padded[4] = {1, 4, 4, 6};
    static const int32_t d_two[1] = {2}, d_mean[2] = {1, 6}, d_i64[1] = {3};
    static const int32_t pads[8] = {0, 0, 1, 1, 1, 1, 0, 0}, axes[2] = {1, 2};
    static const int32_t new_shape[2] = {4, 5}, sq_dims[2] = {1, 2};
    static const int64_t i64[3] = {-1, 0, 1099511627776LL};
    static const uint8_t meta[5] = {'1', '.', '2', '.', '3'}, copts[4] = {1, 2, 3, 4};
    float pc_scales[12], pc_bscales[12], s = 0.02f;
    int64_t pc_zps[12];
    uint8_t wbytes[6 * 3 * 3 * 4], dwbytes[3 * 3 * 12];
    int32_t bias[12];
    int i, in, w, b, conv, conv2, dww, dwb, dwo, avg, mx, fcw, fco, flat, flat2, flat3, sqo;
    int shape_t, catin[3], cat, pool1, padt, padded, axes_t, mean, logi, q8, deq, i64t, add;
    int sm, cust_out[2], op;
    tfw_model *m = tfw_new();

    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(tfw_num_buffers(m) == 1 && tfw_num_tensors(m) == 0 && tfw_num_operators(m) == 0);
    for (i = 0; i < (int)sizeof wbytes; i++)
        wbytes[i] = (uint8_t)(i * 7);
    for (i = 0; i < (int)sizeof dwbytes; i++)
        dwbytes[i] = (uint8_t)(i * 5 - 60);
    for (i = 0; i < 12; i++) {
        pc_scales[i] = 0.01f * (float)(i + 1);
        pc_bscales[i] = s * pc_scales[i];
        pc_zps[i] = 0;
        bias[i] = (i - 6) * 1000;
    }
    in = tfw_act(m, "in", TFW_UINT8, 4, d_in, s, 128);
    CHECK(in == 0);
    w = tfw_const(m, "w", TFW_UINT8, 4, d_w, wbytes, sizeof wbytes, 1, &pc_scales[0],
                  &pc_zps[0], 0);
    CHECK(w == 1 && tfw_num_buffers(m) == 2);
    b = tfw_const(m, "b", TFW_INT32, 1, d_b, bias, 6 * sizeof *bias, 1, &pc_bscales[0], NULL, 0);
    conv = tfw_act(m, "conv", TFW_UINT8, 4, d_c, 6.0f / 255, 0);
    op = tfw_op_conv2d(m, in, w, b, conv, TFW_PAD_SAME, 2, 2, TFW_ACT_RELU6, 1, 1);
    CHECK(op == 0);
    conv2 = tfw_act(m, "conv2", TFW_UINT8, 4, d_c, 6.0f / 255, 0);
    CHECK(tfw_op_conv2d(m, in, w, -1, conv2, TFW_PAD_SAME, 2, 2, TFW_ACT_NONE, 1, 1) == 1);
    /* depthwise, multiplier 2, dilation 2, per-channel int8 weights along dimension 3 */
    dww = tfw_const(m, "dw_w", TFW_INT8, 4, d_dw, dwbytes, sizeof dwbytes, 12, pc_scales, pc_zps, 3);
    dwb = tfw_const(m, "dw_b", TFW_INT32, 1, &d_dw[3], bias, sizeof bias, 12, pc_bscales, NULL, 0);
    dwo = tfw_act(m, "dw", TFW_UINT8, 4, d_dwo, 0.05f, 10);
    CHECK(tfw_op_dwconv2d(m, conv, dww, dwb, dwo, TFW_PAD_VALID, 1, 1, 2, TFW_ACT_RELU, 2, 2) == 2);
    avg = tfw_act(m, "avg", TFW_UINT8, 4, d_p, 6.0f / 255, 0);
    CHECK(tfw_op_pool(m, TFW_OP_AVERAGE_POOL_2D, conv, avg, TFW_PAD_VALID, 2, 2, 2, 2,
                      TFW_ACT_NONE) == 3);
    mx = tfw_act(m, "max", TFW_UINT8, 4, d_p, 6.0f / 255, 0);
    CHECK(tfw_op_pool(m, TFW_OP_MAX_POOL_2D, conv, mx, TFW_PAD_SAME, 2, 2, 3, 3,
                      TFW_ACT_RELU_N1_TO_1) == 4);
    add = tfw_act(m, "add", TFW_UINT8, 4, d_p, 0.05f, 3);
    CHECK(tfw_op_add(m, avg, mx, add, TFW_ACT_RELU) == 5);
    fcw = tfw_const(m, "fc_w", TFW_UINT8, 2, d_fcw, wbytes, 30, 1, &s, NULL, 0);
    fco = tfw_act(m, "fc", TFW_UINT8, 4, d_fco, 0.1f, 128);
    CHECK(tfw_op_fc(m, add, fcw, -1, fco, TFW_ACT_NONE, 1) == 6);
    /* RESHAPE: options only; shape tensor only; shape tensor and empty new_shape */
    flat = tfw_act(m, "flat", TFW_UINT8, 2, d_flat, 0.1f, 128);
    CHECK(tfw_op_reshape(m, fco, -1, flat, new_shape, 2) == 7);
    shape_t = tfw_const(m, "shape", TFW_INT32, 1, d_two, new_shape, sizeof new_shape, 0, NULL,
                        NULL, 0);
    flat2 = tfw_act(m, "flat2", TFW_UINT8, 2, d_flat, 0.1f, 128);
    CHECK(tfw_op_reshape(m, fco, shape_t, flat2, NULL, -1) == 8);
    flat3 = tfw_act(m, "flat3", TFW_UINT8, 2, d_flat, 0.1f, 128);
    CHECK(tfw_op_reshape(m, fco, shape_t, flat3, NULL, 0) == 9);
    sm = tfw_act(m, "softmax", TFW_UINT8, 2, d_flat, 1.0f / 256, 0);
    CHECK(tfw_op_softmax(m, flat, sm, 0.5f) == 10);
    catin[0] = avg, catin[1] = mx, catin[2] = fco;
    cat = tfw_act(m, "concat", TFW_UINT8, 4, d_cat, 0.1f, 128);
    CHECK(tfw_op_concat(m, catin, 3, cat, -1, TFW_ACT_NONE) == 11);
    pool1 = tfw_act(m, "pool1", TFW_UINT8, 4, d_pool1, 6.0f / 255, 0);
    CHECK(tfw_op_pool(m, TFW_OP_AVERAGE_POOL_2D, avg, pool1, TFW_PAD_VALID, 1, 1, 2, 2, 0) == 12);
    sqo = tfw_act(m, "squeezed", TFW_UINT8, 2, d_sq, 6.0f / 255, 0);
    CHECK(tfw_op_squeeze(m, pool1, sqo, sq_dims, 2) == 13);
    axes_t = tfw_const(m, "axes", TFW_INT32, 1, d_two, axes, sizeof axes, 0, NULL, NULL, 0);
    mean = tfw_act(m, "mean", TFW_UINT8, 2, d_mean, 6.0f / 255, 0);
    CHECK(tfw_op_mean(m, conv, axes_t, mean, 0) == 14);
    padt = tfw_const(m, "paddings", TFW_INT32, 2, d_pads, pads, sizeof pads, 0, NULL, NULL, 0);
    padded = tfw_act(m, "padded", TFW_UINT8, 4, d_padded, 6.0f / 255, 0);
    catin[0] = avg, catin[1] = padt;
    CHECK(tfw_op_simple(m, TFW_OP_PAD, catin, 2, &padded, 1) == 15);
    logi = tfw_act(m, "logistic", TFW_UINT8, 4, d_padded, 1.0f / 256, 0);
    CHECK(tfw_op_simple(m, TFW_OP_LOGISTIC, &padded, 1, &logi, 1) == 16);
    q8 = tfw_act(m, "q8", TFW_INT8, 4, d_padded, 1.0f / 256, -128);
    CHECK(tfw_op_simple(m, TFW_OP_QUANTIZE, &logi, 1, &q8, 1) == 17);
    deq = tfw_tensor(m, "deq", TFW_FLOAT32, 4, d_padded, 0, 0, NULL, NULL, 0);
    CHECK(tfw_op_simple(m, TFW_OP_DEQUANTIZE, &q8, 1, &deq, 1) == 18);
    i64t = tfw_const(m, "i64", TFW_INT64, 1, d_i64, i64, sizeof i64, 0, NULL, NULL, 0);
    cust_out[0] = tfw_tensor(m, "custom_out0", TFW_FLOAT32, 0, NULL, 0, 0, NULL, NULL, 0);
    cust_out[1] = tfw_tensor(m, "custom_out1", TFW_FLOAT32, 0, NULL, 0, 0, NULL, NULL, 0);
    catin[0] = deq, catin[1] = -1, catin[2] = i64t;
    CHECK(tfw_op_custom(m, "MyCustom", catin, 3, cust_out, 2, copts, sizeof copts) == 19);
    CHECK(tfw_op_custom(m, "OtherCustom", &deq, 1, &cust_out[1], 1, NULL, 0) == 20);
    CHECK(tfw_op_custom(m, "MyCustom", &deq, 1, &cust_out[0], 1, NULL, 0) == 21);
    CHECK(tfw_set_opcode_version(m, TFW_OP_CONV_2D, NULL, 3) == 0);
    CHECK(tfw_set_opcode_version(m, TFW_OP_CUSTOM, "OtherCustom", 2) == 0);
    CHECK(tfw_add_metadata(m, "min_runtime_version", meta, sizeof meta) == tfw_num_buffers(m) - 1);
    tfw_set_description(m, "writer selftest");
    catin[0] = sm, catin[1] = cust_out[0], catin[2] = sqo;
    tfw_set_io(m, &in, 1, catin, 3);
    CHECK(tfw_num_operators(m) == 22 && tfw_num_tensors(m) == 31);
    CHECK(tfw_last_error(m)[0] == '\0');
    finish_and_write(m, dir, "all_ops.tflite");
    tfw_free(m);
}

/* Each bad call returns -1, records a message, and makes tfw_finish fail. */
static void expect_error(tfw_model *m, int rc, const char *what)
{
    uint8_t *out = (uint8_t *)&failures; /* must stay untouched */
    size_t len = 12345;

    if (rc != -1 || !tfw_last_error(m)[0] || tfw_finish(m, &out, &len) != -1 ||
        out != (uint8_t *)&failures || len != 12345) {
        fprintf(stderr, "error case not handled: %s (rc %d, message '%s')\n", what, rc,
                tfw_last_error(m));
        failures++;
    }
    tfw_free(m);
}

static tfw_model *with_tensors(int strict)
{
    static const int32_t d[4] = {1, 2, 2, 3};
    tfw_model *m = tfw_new();

    if (!m)
        return NULL;
    tfw_set_strict(m, strict);
    tfw_act(m, "a", TFW_UINT8, 4, d, 0.5f, 1);
    tfw_act(m, "b", TFW_UINT8, 4, d, 0.5f, 1);
    return m;
}

static void error_cases(void)
{
    static const int32_t d[4] = {1, 2, 2, 3}, d3[1] = {3};
    static const float sc[3] = {1, 1, 1};
    static const uint8_t bytes[3] = {1, 2, 3};
    tfw_model *m;
    int t[2] = {0, 1};

    m = with_tensors(1);
    expect_error(m, tfw_tensor(m, "x", TFW_UINT8, 4, d, 5, 0, NULL, NULL, 0), "missing buffer");
    m = with_tensors(1);
    expect_error(m, tfw_op_conv2d(m, 0, 7, -1, 1, 0, 1, 1, 0, 1, 1), "missing weights tensor");
    m = with_tensors(1);
    expect_error(m, tfw_op_conv2d(m, 0, 1, -1, 1, 0, 0, 1, 0, 1, 1), "stride 0");
    m = with_tensors(1);
    expect_error(m, tfw_op_conv2d(m, 0, 1, -1, 1, 2, 1, 1, 0, 1, 1), "padding 2");
    m = with_tensors(1);
    expect_error(m, tfw_op_dwconv2d(m, 0, 1, -1, 1, 0, 1, 1, 1, 9, 1, 1), "activation 9");
    m = with_tensors(1);
    expect_error(m, tfw_op_dwconv2d(m, 0, 1, -1, 1, 0, 1, 1, 0, 0, 1, 1), "depth multiplier 0");
    m = with_tensors(1);
    expect_error(m, tfw_op_add(m, 0, 1, 2, 0), "missing output tensor");
    m = with_tensors(1);
    expect_error(m, tfw_op_add(m, 0, -1, 1, 0), "absent required input");
    m = with_tensors(1);
    expect_error(m, tfw_const(m, "c", TFW_INT32, 1, d3, bytes, 3, 0, NULL, NULL, 0),
                 "data size does not match the shape");
    m = with_tensors(1);
    expect_error(m, tfw_const(m, "c", TFW_UINT8, 4, d, bytes, 3, 3, sc, NULL, 2),
                 "per-channel count does not match dimension");
    m = with_tensors(1);
    expect_error(m, tfw_op_pool(m, TFW_OP_ADD, 0, 1, 0, 1, 1, 2, 2, 0), "pool with ADD code");
    m = with_tensors(1);
    expect_error(m, tfw_op_simple(m, TFW_OP_CUSTOM, t, 1, t + 1, 1), "CUSTOM through simple");
    m = with_tensors(1);
    expect_error(m, tfw_op_custom(m, NULL, t, 1, t + 1, 1, NULL, 0), "custom without a name");
    m = with_tensors(1);
    expect_error(m, tfw_op_custom(m, "X", t, 1, t + 1, 1, NULL, 4), "NULL custom options");
    m = with_tensors(1);
    expect_error(m, tfw_op_concat(m, t, 0, 1, 0, 0), "concat without inputs");
    m = with_tensors(1);
    expect_error(m, tfw_op_reshape(m, 0, -1, 1, NULL, 2), "NULL new_shape");
    m = with_tensors(1);
    expect_error(m, tfw_op_squeeze(m, 0, 1, NULL, -1), "negative squeeze count");
    m = with_tensors(1);
    expect_error(m, tfw_op_mean(m, 0, -1, 1, 1), "MEAN without axes");
    m = with_tensors(1);
    expect_error(m, tfw_set_opcode_version(m, TFW_OP_ADD, NULL, 2), "version of unused code");
    m = with_tensors(1);
    expect_error(m, tfw_buffer(m, NULL, 5), "NULL buffer data");
    m = with_tensors(1);
    expect_error(m, tfw_tensor(m, NULL, TFW_UINT8, 4, d, 0, 0, NULL, NULL, 0), "NULL name");
    m = with_tensors(1);
    expect_error(m, tfw_add_metadata(m, NULL, bytes, 3), "metadata without a name");
    m = with_tensors(1);
    tfw_set_io(m, t, 2, t, -1);
    expect_error(m, -1, "negative output count");
    m = with_tensors(1);
    tfw_set_io(m, t, 1, (const int[]){9}, 1);
    expect_error(m, -1, "graph output that does not exist");
    /* memory-safety checks stay on in lenient mode */
    m = with_tensors(0);
    expect_error(m, tfw_tensor(m, "x", TFW_UINT8, 4, NULL, 0, 0, NULL, NULL, 0), "NULL dims");
    m = with_tensors(0);
    expect_error(m, tfw_op_conv2d(m, 0, 1, -1, 1, 300, 1, 1, 0, 1, 1), "padding 300");
    m = with_tensors(0);
    expect_error(m, tfw_tensor(m, "x", 200, 4, d, 0, 0, NULL, NULL, 0), "type 200");
    m = with_tensors(0);
    expect_error(m, tfw_tensor(m, "x", TFW_UINT8, 4, d, 0, 1, NULL, NULL, 0), "NULL scales");
    /* the NULL model */
    CHECK(tfw_buffer(NULL, NULL, 0) == -1);
    CHECK(tfw_op_add(NULL, 0, 1, 2, 0) == -1);
    CHECK(tfw_finish(NULL, NULL, NULL) == -1);
    CHECK(tfw_num_tensors(NULL) == -1);
    tfw_set_io(NULL, t, 1, t, 1);
    tfw_free(NULL);
}

/* Strict mode off: references to tensors and buffers that do not exist, stride 0 and a
 * negative dimension are written as given. */
static void build_lenient(const char *dir)
{
    static const int32_t d[4] = {1, -2, 2, 3};
    tfw_model *m = with_tensors(0);
    int t[2] = {0, 1};

    CHECK(m != NULL);
    if (!m)
        return;
    CHECK(tfw_tensor(m, "orphan", TFW_UINT8, 4, d, 99, 0, NULL, NULL, 0) == 2);
    CHECK(tfw_op_conv2d(m, 0, 42, -7, 1, 0, 0, 1, 0, 1, 1) == 0);
    tfw_set_io(m, t, 1, (const int[]){77}, 1);
    CHECK(tfw_last_error(m)[0] == '\0');
    finish_and_write(m, dir, "lenient.tflite");
    tfw_free(m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: writer_selftest OUTDIR\n");
        return 2;
    }
    build_all_ops(argv[1]);
    error_cases();
    build_lenient(argv[1]);
    if (failures)
        fprintf(stderr, "writer_selftest: %d check(s) failed\n", failures);
    else
        printf("writer_selftest: all checks passed\n");
    return failures ? 1 : 0;
}
