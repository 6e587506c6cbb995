/* tflite_writer — see tflite_writer.h. Two parts: a minimal FlatBuffers builder (fb_*) and the
 * TFLite model description that is serialised with it (tfw_*). */
#include "tflite_writer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================================
 * FlatBuffers builder.
 *
 * Builds back to front, like the reference builders: the buffer grows towards lower
 * addresses and everything is addressed by its "ref", the number of bytes between the object
 * and the end of the finished buffer. A uoffset stored at ref r pointing at an object with
 * ref o (created earlier, so o < r) holds r - o. Children (strings, vectors, sub-tables) must
 * therefore be created before the table that refers to them, and no object may be created
 * while a table is open. Alignment is relative to the end; fb_finish() pads the front so the
 * total size is a multiple of the largest alignment used, which makes it absolute too.
 * ====================================================================================== */

#define FB_MAX_SIZE ((size_t)0x7fffffff) /* offsets are 32-bit signed/unsigned */
#define FB_MAX_FIELDS 16

typedef struct {
    uint8_t *buf; /* the data is buf[cap - used, cap) */
    size_t cap, used, minalign;
    int err;
    int in_table;
    size_t obj_start;                /* used at fb_start_table */
    size_t field_ref[FB_MAX_FIELDS]; /* ref of each field of the open table, 0 = absent */
} fb_b;

static void fb_init(fb_b *b)
{
    memset(b, 0, sizeof *b);
    b->minalign = 1;
}

static void fb_release(fb_b *b)
{
    free(b->buf);
    b->buf = NULL;
}

/* Room for n more bytes. */
static int fb_reserve(fb_b *b, size_t n)
{
    size_t want, ncap;
    uint8_t *nb;

    if (b->err)
        return -1;
    if (n > FB_MAX_SIZE - b->used) {
        b->err = 1;
        return -1;
    }
    want = b->used + n;
    if (want <= b->cap)
        return 0;
    ncap = b->cap < 1024 ? 1024 : b->cap;
    while (ncap < want) /* want <= 2^31 - 1, so ncap stays <= 2^31 */
        ncap *= 2;
    nb = malloc(ncap);
    if (!nb) {
        b->err = 1;
        return -1;
    }
    if (b->used)
        memcpy(nb + ncap - b->used, b->buf + b->cap - b->used, b->used);
    free(b->buf);
    b->buf = nb;
    b->cap = ncap;
    return 0;
}

static void fb_push(fb_b *b, const void *p, size_t n)
{
    if (fb_reserve(b, n))
        return;
    b->used += n;
    if (n)
        memcpy(b->buf + b->cap - b->used, p, n);
}

static void fb_push_le(fb_b *b, uint64_t v, size_t size)
{
    uint8_t t[8];
    size_t i;

    for (i = 0; i < size; i++)
        t[i] = (uint8_t)(v >> (8 * i));
    fb_push(b, t, size);
}

static void fb_zeros(fb_b *b, size_t n)
{
    static const uint8_t z[16];

    while (n) {
        size_t k = n < sizeof z ? n : sizeof z;
        fb_push(b, z, k);
        n -= k;
    }
}

/* Pad so that after writing `extra` more bytes the used size is a multiple of align (a power
 * of two). */
static void fb_prep(fb_b *b, size_t align, size_t extra)
{
    if (align > b->minalign)
        b->minalign = align;
    if (extra > FB_MAX_SIZE) {
        b->err = 1;
        return;
    }
    fb_zeros(b, (size_t)(0u - (b->used + extra)) & (align - 1));
}

static size_t fb_string(fb_b *b, const char *s)
{
    size_t len = strlen(s);

    if (b->in_table || len > FB_MAX_SIZE - 8) {
        b->err = 1;
        return 0;
    }
    fb_prep(b, 4, len + 1);
    fb_zeros(b, 1);
    fb_push(b, s, len);
    fb_push_le(b, len, 4);
    return b->err ? 0 : b->used;
}

/* Vector of n scalars of esz bytes each, given as raw little-endian bytes; element data
 * aligned to max(align, esz). */
static size_t fb_vec_raw(fb_b *b, const void *data, size_t n, size_t esz, size_t align)
{
    if (b->in_table || n > (FB_MAX_SIZE - 64) / esz) {
        b->err = 1;
        return 0;
    }
    if (align < esz)
        align = esz;
    fb_prep(b, 4, n * esz);
    fb_prep(b, align, n * esz);
    fb_push(b, data, n * esz);
    fb_push_le(b, n, 4);
    return b->err ? 0 : b->used;
}

/* Vector of n int32 (esz 4) or int64 (esz 8) values, encoded little-endian whatever the
 * host byte order. */
static size_t fb_vec_int(fb_b *b, const void *v, size_t n, size_t esz)
{
    size_t i;

    if (b->in_table || n > (FB_MAX_SIZE - 64) / esz) {
        b->err = 1;
        return 0;
    }
    fb_prep(b, 4, n * esz);
    fb_prep(b, esz, n * esz);
    for (i = n; i-- > 0;) {
        uint64_t x = esz == 8 ? (uint64_t)((const int64_t *)v)[i]
                              : (uint64_t)(uint32_t)((const int32_t *)v)[i];
        fb_push_le(b, x, esz);
    }
    fb_push_le(b, n, 4);
    return b->err ? 0 : b->used;
}

static size_t fb_vec_i32(fb_b *b, const int32_t *v, size_t n)
{
    return fb_vec_int(b, v, n, 4);
}

static size_t fb_vec_i64(fb_b *b, const int64_t *v, size_t n)
{
    return fb_vec_int(b, v, n, 8);
}

static size_t fb_vec_f32(fb_b *b, const float *v, size_t n)
{
    size_t i;

    if (b->in_table || n > (FB_MAX_SIZE - 64) / 4) {
        b->err = 1;
        return 0;
    }
    fb_prep(b, 4, n * 4);
    for (i = n; i-- > 0;) {
        uint32_t x;
        memcpy(&x, &v[i], 4);
        fb_push_le(b, x, 4);
    }
    fb_push_le(b, n, 4);
    return b->err ? 0 : b->used;
}

/* Vector of offsets to objects with the given refs. */
static size_t fb_vec_refs(fb_b *b, const size_t *refs, size_t n)
{
    size_t i;

    if (b->in_table || n > (FB_MAX_SIZE - 64) / 4) {
        b->err = 1;
        return 0;
    }
    fb_prep(b, 4, n * 4);
    for (i = n; i-- > 0;) {
        if (b->err)
            return 0;
        if (refs[i] == 0 || refs[i] > b->used + 4) {
            b->err = 1;
            return 0;
        }
        fb_push_le(b, b->used + 4 - refs[i], 4);
    }
    fb_push_le(b, n, 4);
    return b->err ? 0 : b->used;
}

static void fb_start_table(fb_b *b)
{
    if (b->in_table)
        b->err = 1;
    b->in_table = 1;
    memset(b->field_ref, 0, sizeof b->field_ref);
    b->obj_start = b->used;
}

static int fb_field_ok(fb_b *b, int idx)
{
    if (!b->in_table || idx < 0 || idx >= FB_MAX_FIELDS || b->field_ref[idx])
        b->err = 1;
    return !b->err;
}

static void fb_add_scalar(fb_b *b, int idx, uint64_t v, size_t size)
{
    if (!fb_field_ok(b, idx))
        return;
    fb_prep(b, size, 0);
    fb_push_le(b, v, size);
    if (!b->err)
        b->field_ref[idx] = b->used;
}

static void fb_add_i8(fb_b *b, int idx, int v)
{
    fb_add_scalar(b, idx, (uint8_t)(int8_t)v, 1);
}

static void fb_add_i32(fb_b *b, int idx, int32_t v)
{
    fb_add_scalar(b, idx, (uint32_t)v, 4);
}

static void fb_add_f32(fb_b *b, int idx, float v)
{
    uint32_t x;

    memcpy(&x, &v, 4);
    fb_add_scalar(b, idx, x, 4);
}

static void fb_add_ref(fb_b *b, int idx, size_t ref)
{
    if (!fb_field_ok(b, idx))
        return;
    fb_prep(b, 4, 0);
    if (ref == 0 || ref > b->used + 4) {
        b->err = 1;
        return;
    }
    fb_push_le(b, b->used + 4 - ref, 4);
    if (!b->err)
        b->field_ref[idx] = b->used;
}

/* Closes the table: writes its soffset and a vtable in front of it. Returns its ref. */
static size_t fb_end_table(fb_b *b)
{
    size_t tref, vref, obj_size;
    int nf = 0, i;
    int32_t soff;
    uint8_t *p;

    if (!b->in_table)
        b->err = 1;
    fb_prep(b, 4, 0);
    fb_push_le(b, 0, 4); /* soffset to the vtable, patched below */
    tref = b->used;
    obj_size = tref - b->obj_start;
    b->in_table = 0;
    for (i = 0; i < FB_MAX_FIELDS; i++)
        if (b->field_ref[i])
            nf = i + 1;
    if (b->err || obj_size > 0xffff)
        goto fail;
    for (i = nf; i-- > 0;)
        fb_push_le(b, b->field_ref[i] ? tref - b->field_ref[i] : 0, 2);
    fb_push_le(b, obj_size, 2);
    fb_push_le(b, 4 + 2 * (size_t)nf, 2);
    if (b->err)
        goto fail;
    vref = b->used;
    soff = (int32_t)(vref - tref); /* table position - vtable position, > 0 */
    p = b->buf + b->cap - tref;
    p[0] = (uint8_t)soff;
    p[1] = (uint8_t)(soff >> 8);
    p[2] = (uint8_t)(soff >> 16);
    p[3] = (uint8_t)(soff >> 24);
    return tref;
fail:
    b->err = 1;
    return 0;
}

/* Writes the root offset and the 4-byte file identifier; returns 0 on success. */
static int fb_finish(fb_b *b, size_t root, const char ident[4])
{
    if (b->in_table || root == 0)
        b->err = 1;
    if (b->minalign < 16)
        b->minalign = 16; /* buffer data is 16-aligned; keep every file's size a multiple */
    fb_prep(b, b->minalign, 8);
    fb_push(b, ident, 4);
    if (!b->err && root > b->used + 4)
        b->err = 1;
    if (!b->err)
        fb_push_le(b, b->used + 4 - root, 4);
    return b->err ? -1 : 0;
}

/* ======================================================================================
 * The model description.
 * ====================================================================================== */

#define TFW_MAX_ITEMS (1 << 20) /* per list: buffers, tensors, operators, op inputs, ... */
#define TFW_MAX_RANK 16
#define TFW_MAX_OPT_FIELDS 8

typedef struct {
    uint8_t *data;
    size_t len;
} tfw_buf;

typedef struct {
    char *name;
    int type, rank, buffer, nquant, qdim;
    int32_t *dims;
    float *scales;
    int64_t *zps;
} tfw_ten;

typedef struct {
    int builtin, version;
    char *custom; /* NULL for builtins */
} tfw_opc;

enum { OF_I8, OF_I32, OF_F32, OF_VEC }; /* OF_VEC: the operator's optvec as [int] */

typedef struct {
    int idx, kind;
    int32_t i;
    float f;
} tfw_optf;

typedef struct {
    int opcode;
    int32_t *ins, *outs;
    int nin, nout;
    int opt_type; /* BuiltinOptions union type, 0 = none */
    tfw_optf opt[TFW_MAX_OPT_FIELDS];
    int nopt;
    int32_t *optvec;
    int noptvec;
    uint8_t *custom_opts;
    size_t ncustom_opts;
} tfw_op;

typedef struct {
    char *name;
    int buffer;
} tfw_meta;

struct tfw_model {
    int strict;
    char err[200];
    tfw_buf *bufs;
    int nbufs, capbufs;
    tfw_ten *tens;
    int ntens, captens;
    tfw_opc *opcs;
    int nopcs, capopcs;
    tfw_op *ops;
    int nops, capops;
    tfw_meta *metas;
    int nmetas, capmetas;
    int32_t *inputs, *outputs;
    int ninputs, noutputs;
    char *description;
};

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
/* Records the first error (later ones are consequences); returns -1 for the caller. */
static int set_err(tfw_model *m, const char *fmt, ...)
{
    va_list ap;

    if (!m || m->err[0])
        return -1;
    va_start(ap, fmt);
    vsnprintf(m->err, sizeof m->err, fmt, ap);
    va_end(ap);
    if (!m->err[0])
        strcpy(m->err, "error");
    return -1;
}

/* Returns arr, or a reallocated copy of it, with room for element n (growing *cap
 * geometrically); NULL on failure, arr then being untouched. */
static void *grow(tfw_model *m, void *arr, int n, int *cap, size_t esz, const char *what)
{
    int ncap;
    void *p;

    if (n < *cap)
        return arr;
    if (n >= TFW_MAX_ITEMS) {
        set_err(m, "too many %s (limit %d)", what, TFW_MAX_ITEMS);
        return NULL;
    }
    ncap = *cap ? *cap * 2 : 16;
    if (ncap > TFW_MAX_ITEMS)
        ncap = TFW_MAX_ITEMS;
    p = realloc(arr, (size_t)ncap * esz);
    if (!p) {
        set_err(m, "out of memory growing %s", what);
        return NULL;
    }
    *cap = ncap;
    return p;
}

static void *dup_mem(const void *p, size_t n)
{
    void *q = malloc(n ? n : 1);

    if (q && n)
        memcpy(q, p, n);
    return q;
}

static char *dup_str(const char *s)
{
    return dup_mem(s, strlen(s) + 1);
}

/* Copy of n ints (already validated to be int32 range by the caller's types) as int32. */
static int32_t *dup_ints(const int *v, int n)
{
    int32_t *q = malloc(n > 0 ? (size_t)n * sizeof *q : 1);
    int i;

    if (q)
        for (i = 0; i < n; i++)
            q[i] = (int32_t)v[i];
    return q;
}

tfw_model *tfw_new(void)
{
    tfw_model *m = calloc(1, sizeof *m);

    if (!m)
        return NULL;
    m->strict = 1;
    if (tfw_buffer(m, NULL, 0) != 0) {
        tfw_free(m);
        return NULL;
    }
    return m;
}

static void free_op(tfw_op *op)
{
    free(op->ins);
    free(op->outs);
    free(op->optvec);
    free(op->custom_opts);
}

void tfw_free(tfw_model *m)
{
    int i;

    if (!m)
        return;
    for (i = 0; i < m->nbufs; i++)
        free(m->bufs[i].data);
    for (i = 0; i < m->ntens; i++) {
        free(m->tens[i].name);
        free(m->tens[i].dims);
        free(m->tens[i].scales);
        free(m->tens[i].zps);
    }
    for (i = 0; i < m->nopcs; i++)
        free(m->opcs[i].custom);
    for (i = 0; i < m->nops; i++)
        free_op(&m->ops[i]);
    for (i = 0; i < m->nmetas; i++)
        free(m->metas[i].name);
    free(m->bufs);
    free(m->tens);
    free(m->opcs);
    free(m->ops);
    free(m->metas);
    free(m->inputs);
    free(m->outputs);
    free(m->description);
    free(m);
}

void tfw_set_strict(tfw_model *m, int strict)
{
    if (m)
        m->strict = strict != 0;
}

const char *tfw_last_error(const tfw_model *m)
{
    return m ? m->err : "no model";
}

int tfw_num_tensors(const tfw_model *m)
{
    return m ? m->ntens : -1;
}

int tfw_num_buffers(const tfw_model *m)
{
    return m ? m->nbufs : -1;
}

int tfw_num_operators(const tfw_model *m)
{
    return m ? m->nops : -1;
}

int tfw_buffer(tfw_model *m, const void *data, size_t len)
{
    tfw_buf *b;
    void *p;

    if (!m)
        return -1;
    if (len && !data) {
        set_err(m, "tfw_buffer: NULL data with length %zu", len);
        return -1;
    }
    if (len > FB_MAX_SIZE / 2) {
        set_err(m, "tfw_buffer: %zu bytes is more than a model file can hold", len);
        return -1;
    }
    if (!(p = grow(m, m->bufs, m->nbufs, &m->capbufs, sizeof *m->bufs, "buffers")))
        return -1;
    m->bufs = p;
    b = &m->bufs[m->nbufs];
    b->len = len;
    b->data = NULL;
    if (len) {
        b->data = dup_mem(data, len);
        if (!b->data) {
            set_err(m, "tfw_buffer: out of memory (%zu bytes)", len);
            return -1;
        }
    }
    return m->nbufs++;
}

/* Size in bytes of one element of a tensor type, 0 if not fixed-size / unknown here. */
static size_t type_size(int type)
{
    switch (type) {
    case TFW_FLOAT32: case TFW_INT32: return 4;
    case TFW_FLOAT16: case TFW_INT16: return 2;
    case TFW_INT64: return 8;
    case TFW_UINT8: case TFW_INT8: case TFW_BOOL: return 1;
    default: return 0;
    }
}

static int check_tensor_args(tfw_model *m, const char *fn, const char *name, int type, int rank,
                             const int32_t *dims, int buffer, int nquant, const float *scales,
                             int qdim)
{
    int i;

    if (!name)
        return set_err(m, "%s: NULL name", fn);
    if (type < 0 || type > 127)
        return set_err(m, "%s(%s): type %d does not fit the TensorType byte", fn, name, type);
    if (rank < 0 || rank > TFW_MAX_RANK || (rank > 0 && !dims))
        return set_err(m, "%s(%s): bad rank %d or NULL dims", fn, name, rank);
    if (nquant < 0 || nquant > TFW_MAX_ITEMS || (nquant > 0 && !scales))
        return set_err(m, "%s(%s): bad nquant %d or NULL scales", fn, name, nquant);
    if (!m->strict)
        return 0;
    if (buffer < 0 || buffer >= m->nbufs)
        return set_err(m, "%s(%s): buffer %d does not exist (%d buffers)", fn, name, buffer,
                       m->nbufs);
    for (i = 0; i < rank; i++)
        if (dims[i] < 0)
            return set_err(m, "%s(%s): negative dimension %d", fn, name, (int)dims[i]);
    if (nquant > 1 && (qdim < 0 || qdim >= rank || dims[qdim] != nquant))
        return set_err(m, "%s(%s): %d per-channel parameters do not match dimension %d", fn,
                       name, nquant, qdim);
    return 0;
}

int tfw_tensor(tfw_model *m, const char *name, int type, int rank, const int32_t *dims,
               int buffer, int nquant, const float *scales, const int64_t *zero_points, int qdim)
{
    tfw_ten *t;
    size_t nq = nquant > 0 ? (size_t)nquant : 0;
    void *p;

    if (!m)
        return -1;
    if (check_tensor_args(m, "tfw_tensor", name, type, rank, dims, buffer, nquant, scales, qdim))
        return -1;
    if (!(p = grow(m, m->tens, m->ntens, &m->captens, sizeof *m->tens, "tensors")))
        return -1;
    m->tens = p;
    t = &m->tens[m->ntens];
    memset(t, 0, sizeof *t);
    t->type = type;
    t->rank = rank;
    t->buffer = buffer;
    t->nquant = nquant;
    t->qdim = nquant > 1 ? qdim : 0;
    t->name = dup_str(name);
    t->dims = dup_mem(dims, (size_t)rank * sizeof *dims);
    t->scales = dup_mem(scales, nq * sizeof *scales);
    t->zps = calloc(nq ? nq : 1, sizeof *t->zps);
    if (t->zps && zero_points)
        memcpy(t->zps, zero_points, nq * sizeof *t->zps);
    if (!t->name || !t->dims || !t->scales || !t->zps) {
        free(t->name);
        free(t->dims);
        free(t->scales);
        free(t->zps);
        set_err(m, "tfw_tensor(%s): out of memory", name);
        return -1;
    }
    return m->ntens++;
}

int tfw_const(tfw_model *m, const char *name, int type, int rank, const int32_t *dims,
              const void *data, size_t len, int nquant, const float *scales, const int64_t *zps,
              int qdim)
{
    int b, i;

    if (!m)
        return -1;
    /* validate before creating the buffer; buffer index checked against the one to come */
    if (check_tensor_args(m, "tfw_const", name, type, rank, dims, 0, nquant, scales, qdim))
        return -1;
    if (m->strict && type_size(type)) {
        size_t n = type_size(type);
        for (i = 0; i < rank; i++) {
            if (dims[i] && n > SIZE_MAX / (size_t)dims[i]) {
                set_err(m, "tfw_const(%s): shape too large", name);
                return -1;
            }
            n *= (size_t)dims[i];
        }
        if (n != len) {
            set_err(m, "tfw_const(%s): %zu data bytes but the shape needs %zu", name, len, n);
            return -1;
        }
    }
    b = tfw_buffer(m, data, len);
    if (b < 0)
        return -1;
    return tfw_tensor(m, name, type, rank, dims, b, nquant, scales, zps, qdim);
}

int tfw_act(tfw_model *m, const char *name, int type, int rank, const int32_t *dims,
            float scale, int64_t zero_point)
{
    return tfw_tensor(m, name, type, rank, dims, 0, 1, &scale, &zero_point, 0);
}

/* ---- operators ---------------------------------------------------------------------- */

static int opcode_index(tfw_model *m, int builtin, const char *custom)
{
    int i;
    tfw_opc *c;
    void *p;

    for (i = 0; i < m->nopcs; i++) {
        c = &m->opcs[i];
        if (c->builtin == builtin &&
            ((!custom && !c->custom) || (custom && c->custom && !strcmp(custom, c->custom))))
            return i;
    }
    if (!(p = grow(m, m->opcs, m->nopcs, &m->capopcs, sizeof *m->opcs, "operator codes")))
        return -1;
    m->opcs = p;
    c = &m->opcs[m->nopcs];
    c->builtin = builtin;
    c->version = 1;
    c->custom = NULL;
    if (custom && !(c->custom = dup_str(custom))) {
        set_err(m, "out of memory");
        return -1;
    }
    return m->nopcs++;
}

/* Checks a tensor index used by an operator; -1 is accepted where optional. */
static int check_ref(tfw_model *m, const char *fn, const char *role, int t, int optional)
{
    if (!m->strict)
        return 0;
    if (t == -1 && optional)
        return 0;
    if (t < 0 || t >= m->ntens)
        return set_err(m, "%s: %s tensor %d does not exist (%d tensors)", fn, role, t,
                       m->ntens);
    return 0;
}

static int check_list(tfw_model *m, const char *fn, const char *role, const int *v, int n,
                      int optional)
{
    int i;

    if (n < 0 || n > TFW_MAX_ITEMS || (n > 0 && !v))
        return set_err(m, "%s: bad %s list (n=%d)", fn, role, n);
    for (i = 0; i < n; i++)
        if (check_ref(m, fn, role, v[i], optional))
            return -1;
    return 0;
}

static int check_padact(tfw_model *m, const char *fn, int padding, int act)
{
    if (padding < -128 || padding > 127 || act < -128 || act > 127)
        return set_err(m, "%s: padding %d / activation %d do not fit a byte", fn, padding,
                       act);
    if (m->strict && (padding < 0 || padding > 1))
        return set_err(m, "%s: unknown padding %d", fn, padding);
    if (m->strict && (act < 0 || act > 5))
        return set_err(m, "%s: unknown activation %d", fn, act);
    return 0;
}

static int check_positive(tfw_model *m, const char *fn, const char *what, int a, int b)
{
    if (m->strict && (a < 1 || b < 1))
        return set_err(m, "%s: %s must be >= 1 (got %d, %d)", fn, what, a, b);
    return 0;
}

/* Appends an operator; takes its option fields from tmpl (opcode/ins/outs are set here). */
static int add_op(tfw_model *m, const char *fn, int builtin, const char *custom, const int *ins,
                  int nin, const int *outs, int nout, const tfw_op *tmpl, const int32_t *optvec,
                  int noptvec, const void *copts, size_t ncopts)
{
    tfw_op *op;
    int oc;
    void *p;

    if (check_list(m, fn, "input", ins, nin, 1) || check_list(m, fn, "output", outs, nout, 0))
        return -1;
    if (noptvec < 0 || noptvec > TFW_MAX_ITEMS || (noptvec > 0 && !optvec))
        return set_err(m, "%s: bad option vector (n=%d)", fn, noptvec);
    if ((ncopts && !copts) || ncopts > FB_MAX_SIZE / 2)
        return set_err(m, "%s: bad custom options", fn);
    oc = opcode_index(m, builtin, custom);
    if (oc < 0)
        return -1;
    if (!(p = grow(m, m->ops, m->nops, &m->capops, sizeof *m->ops, "operators")))
        return -1;
    m->ops = p;
    op = &m->ops[m->nops];
    *op = *tmpl;
    op->opcode = oc;
    op->nin = nin;
    op->nout = nout;
    op->noptvec = noptvec;
    op->ncustom_opts = ncopts;
    op->ins = dup_ints(ins, nin);
    op->outs = dup_ints(outs, nout);
    op->optvec = dup_mem(optvec, (size_t)noptvec * sizeof *optvec);
    op->custom_opts = ncopts ? dup_mem(copts, ncopts) : NULL;
    if (!op->ins || !op->outs || !op->optvec || (ncopts && !op->custom_opts)) {
        free_op(op);
        set_err(m, "%s: out of memory", fn);
        return -1;
    }
    return m->nops++;
}

static void opt_add(tfw_op *t, int idx, int kind, int32_t i, float f)
{
    tfw_optf *o = &t->opt[t->nopt++];

    o->idx = idx;
    o->kind = kind;
    o->i = i;
    o->f = f;
}

static void opt_init(tfw_op *t, int type)
{
    memset(t, 0, sizeof *t);
    t->opt_type = type;
}

int tfw_op_conv2d(tfw_model *m, int in, int w, int bias, int out, int padding, int stride_w,
                  int stride_h, int act, int dil_w, int dil_h)
{
    static const char fn[] = "tfw_op_conv2d";
    int ins[3], outs[1];
    tfw_op t;

    if (!m)
        return -1;
    if (check_ref(m, fn, "input", in, 0) || check_ref(m, fn, "weights", w, 0) ||
        check_padact(m, fn, padding, act) ||
        check_positive(m, fn, "stride", stride_w, stride_h) ||
        check_positive(m, fn, "dilation", dil_w, dil_h))
        return -1;
    ins[0] = in;
    ins[1] = w;
    ins[2] = bias;
    outs[0] = out;
    opt_init(&t, 1);
    opt_add(&t, 0, OF_I8, padding, 0);
    opt_add(&t, 1, OF_I32, stride_w, 0);
    opt_add(&t, 2, OF_I32, stride_h, 0);
    opt_add(&t, 3, OF_I8, act, 0);
    opt_add(&t, 4, OF_I32, dil_w, 0);
    opt_add(&t, 5, OF_I32, dil_h, 0);
    return add_op(m, fn, TFW_OP_CONV_2D, NULL, ins, 3, outs, 1, &t, NULL, 0, NULL, 0);
}

int tfw_op_dwconv2d(tfw_model *m, int in, int w, int bias, int out, int padding, int stride_w,
                    int stride_h, int depth_mult, int act, int dil_w, int dil_h)
{
    static const char fn[] = "tfw_op_dwconv2d";
    int ins[3], outs[1];
    tfw_op t;

    if (!m)
        return -1;
    if (check_ref(m, fn, "input", in, 0) || check_ref(m, fn, "weights", w, 0) ||
        check_padact(m, fn, padding, act) ||
        check_positive(m, fn, "stride", stride_w, stride_h) ||
        check_positive(m, fn, "dilation", dil_w, dil_h) ||
        check_positive(m, fn, "depth multiplier", depth_mult, 1))
        return -1;
    ins[0] = in;
    ins[1] = w;
    ins[2] = bias;
    outs[0] = out;
    opt_init(&t, 2);
    opt_add(&t, 0, OF_I8, padding, 0);
    opt_add(&t, 1, OF_I32, stride_w, 0);
    opt_add(&t, 2, OF_I32, stride_h, 0);
    opt_add(&t, 3, OF_I32, depth_mult, 0);
    opt_add(&t, 4, OF_I8, act, 0);
    opt_add(&t, 5, OF_I32, dil_w, 0);
    opt_add(&t, 6, OF_I32, dil_h, 0);
    return add_op(m, fn, TFW_OP_DEPTHWISE_CONV_2D, NULL, ins, 3, outs, 1, &t, NULL, 0, NULL, 0);
}

int tfw_op_pool(tfw_model *m, int builtin, int in, int out, int padding, int stride_w,
                int stride_h, int filter_w, int filter_h, int act)
{
    static const char fn[] = "tfw_op_pool";
    tfw_op t;

    if (!m)
        return -1;
    if (builtin != TFW_OP_AVERAGE_POOL_2D && builtin != TFW_OP_MAX_POOL_2D &&
        builtin != TFW_OP_L2_POOL_2D)
        return set_err(m, "%s: builtin %d is not a 2-D pooling operator", fn, builtin);
    if (check_padact(m, fn, padding, act) ||
        check_positive(m, fn, "stride", stride_w, stride_h) ||
        check_positive(m, fn, "filter size", filter_w, filter_h))
        return -1;
    opt_init(&t, 5);
    opt_add(&t, 0, OF_I8, padding, 0);
    opt_add(&t, 1, OF_I32, stride_w, 0);
    opt_add(&t, 2, OF_I32, stride_h, 0);
    opt_add(&t, 3, OF_I32, filter_w, 0);
    opt_add(&t, 4, OF_I32, filter_h, 0);
    opt_add(&t, 5, OF_I8, act, 0);
    return add_op(m, fn, builtin, NULL, &in, 1, &out, 1, &t, NULL, 0, NULL, 0);
}

int tfw_op_fc(tfw_model *m, int in, int w, int bias, int out, int act, int keep_num_dims)
{
    static const char fn[] = "tfw_op_fc";
    int ins[3];
    tfw_op t;

    if (!m)
        return -1;
    if (check_ref(m, fn, "input", in, 0) || check_ref(m, fn, "weights", w, 0) ||
        check_padact(m, fn, 0, act))
        return -1;
    ins[0] = in;
    ins[1] = w;
    ins[2] = bias;
    opt_init(&t, 8);
    opt_add(&t, 0, OF_I8, act, 0);
    opt_add(&t, 1, OF_I8, 0, 0); /* weights_format DEFAULT */
    opt_add(&t, 2, OF_I8, keep_num_dims != 0, 0);
    return add_op(m, fn, TFW_OP_FULLY_CONNECTED, NULL, ins, 3, &out, 1, &t, NULL, 0, NULL, 0);
}

int tfw_op_add(tfw_model *m, int a, int b, int out, int act)
{
    static const char fn[] = "tfw_op_add";
    int ins[2];
    tfw_op t;

    if (!m)
        return -1;
    if (check_ref(m, fn, "input", a, 0) || check_ref(m, fn, "input", b, 0) ||
        check_padact(m, fn, 0, act))
        return -1;
    ins[0] = a;
    ins[1] = b;
    opt_init(&t, 11);
    opt_add(&t, 0, OF_I8, act, 0);
    return add_op(m, fn, TFW_OP_ADD, NULL, ins, 2, &out, 1, &t, NULL, 0, NULL, 0);
}

int tfw_op_softmax(tfw_model *m, int in, int out, float beta)
{
    static const char fn[] = "tfw_op_softmax";
    tfw_op t;

    if (!m)
        return -1;
    if (check_ref(m, fn, "input", in, 0))
        return -1;
    opt_init(&t, 9);
    opt_add(&t, 0, OF_F32, 0, beta);
    return add_op(m, fn, TFW_OP_SOFTMAX, NULL, &in, 1, &out, 1, &t, NULL, 0, NULL, 0);
}

int tfw_op_concat(tfw_model *m, const int *ins, int nin, int out, int axis, int act)
{
    static const char fn[] = "tfw_op_concat";
    tfw_op t;

    if (!m)
        return -1;
    if (m->strict && nin < 1)
        return set_err(m, "%s: no inputs", fn);
    if (check_list(m, fn, "input", ins, nin, 0) || check_padact(m, fn, 0, act))
        return -1;
    opt_init(&t, 10);
    opt_add(&t, 0, OF_I32, axis, 0);
    opt_add(&t, 1, OF_I8, act, 0);
    return add_op(m, fn, TFW_OP_CONCATENATION, NULL, ins, nin, &out, 1, &t, NULL, 0, NULL, 0);
}

int tfw_op_reshape(tfw_model *m, int in, int shape_tensor, int out, const int32_t *new_shape,
                   int n)
{
    static const char fn[] = "tfw_op_reshape";
    int ins[2];
    tfw_op t;

    if (!m)
        return -1;
    if (check_ref(m, fn, "input", in, 0) || check_ref(m, fn, "shape", shape_tensor, 1))
        return -1;
    if (n < -1 || (n > 0 && !new_shape))
        return set_err(m, "%s: bad new_shape (n=%d)", fn, n);
    ins[0] = in;
    ins[1] = shape_tensor;
    opt_init(&t, n >= 0 ? 17 : 0);
    if (n >= 0)
        opt_add(&t, 0, OF_VEC, 0, 0);
    return add_op(m, fn, TFW_OP_RESHAPE, NULL, ins, shape_tensor == -1 ? 1 : 2, &out, 1, &t,
                  new_shape, n > 0 ? n : 0, NULL, 0);
}

int tfw_op_squeeze(tfw_model *m, int in, int out, const int32_t *dims, int n)
{
    static const char fn[] = "tfw_op_squeeze";
    tfw_op t;

    if (!m)
        return -1;
    if (check_ref(m, fn, "input", in, 0))
        return -1;
    if (n < 0 || (n > 0 && !dims))
        return set_err(m, "%s: bad squeeze_dims (n=%d)", fn, n);
    opt_init(&t, 30);
    opt_add(&t, 0, OF_VEC, 0, 0);
    return add_op(m, fn, TFW_OP_SQUEEZE, NULL, &in, 1, &out, 1, &t, dims, n, NULL, 0);
}

int tfw_op_mean(tfw_model *m, int in, int axes_tensor, int out, int keep_dims)
{
    static const char fn[] = "tfw_op_mean";
    int ins[2];
    tfw_op t;

    if (!m)
        return -1;
    if (check_ref(m, fn, "input", in, 0) || check_ref(m, fn, "axes", axes_tensor, 0))
        return -1;
    ins[0] = in;
    ins[1] = axes_tensor;
    opt_init(&t, 27);
    opt_add(&t, 0, OF_I8, keep_dims != 0, 0);
    return add_op(m, fn, TFW_OP_MEAN, NULL, ins, 2, &out, 1, &t, NULL, 0, NULL, 0);
}

int tfw_op_simple(tfw_model *m, int builtin, const int *ins, int nin, const int *outs, int nout)
{
    static const char fn[] = "tfw_op_simple";
    tfw_op t;

    if (!m)
        return -1;
    if (builtin < 0 || (m->strict && builtin == TFW_OP_CUSTOM))
        return set_err(m, "%s: bad builtin code %d (use tfw_op_custom for CUSTOM)", fn,
                       builtin);
    opt_init(&t, builtin == TFW_OP_PAD ? 22 : 0); /* PadOptions: empty table */
    return add_op(m, fn, builtin, NULL, ins, nin, outs, nout, &t, NULL, 0, NULL, 0);
}

int tfw_op_custom(tfw_model *m, const char *custom_code, const int *ins, int nin,
                  const int *outs, int nout, const void *options, size_t options_len)
{
    static const char fn[] = "tfw_op_custom";
    tfw_op t;

    if (!m)
        return -1;
    if (!custom_code || (m->strict && !custom_code[0]))
        return set_err(m, "%s: missing custom code", fn);
    opt_init(&t, 0);
    return add_op(m, fn, TFW_OP_CUSTOM, custom_code, ins, nin, outs, nout, &t, NULL, 0,
                  options, options_len);
}

int tfw_set_opcode_version(tfw_model *m, int builtin, const char *custom_code, int version)
{
    int i;

    if (!m)
        return -1;
    for (i = 0; i < m->nopcs; i++) {
        tfw_opc *c = &m->opcs[i];
        if (c->builtin == builtin && ((!custom_code && !c->custom) ||
                                      (custom_code && c->custom &&
                                       !strcmp(custom_code, c->custom)))) {
            c->version = version;
            return 0;
        }
    }
    set_err(m, "tfw_set_opcode_version: no operator uses code %d%s%s", builtin,
            custom_code ? " " : "", custom_code ? custom_code : "");
    return -1;
}

void tfw_set_io(tfw_model *m, const int *inputs, int nin, const int *outputs, int nout)
{
    static const char fn[] = "tfw_set_io";
    int32_t *a, *b;

    if (!m)
        return;
    if (check_list(m, fn, "input", inputs, nin, 0) ||
        check_list(m, fn, "output", outputs, nout, 0))
        return;
    a = dup_ints(inputs, nin);
    b = dup_ints(outputs, nout);
    if (!a || !b) {
        free(a);
        free(b);
        set_err(m, "%s: out of memory", fn);
        return;
    }
    free(m->inputs);
    free(m->outputs);
    m->inputs = a;
    m->ninputs = nin;
    m->outputs = b;
    m->noutputs = nout;
}

void tfw_set_description(tfw_model *m, const char *desc)
{
    char *d;

    if (!m)
        return;
    d = desc ? dup_str(desc) : NULL;
    if (desc && !d) {
        set_err(m, "tfw_set_description: out of memory");
        return;
    }
    free(m->description);
    m->description = d;
}

int tfw_add_metadata(tfw_model *m, const char *name, const void *data, size_t len)
{
    int b;
    char *n;
    void *p;

    if (!m)
        return -1;
    if (!name)
        return set_err(m, "tfw_add_metadata: NULL name");
    if (!(p = grow(m, m->metas, m->nmetas, &m->capmetas, sizeof *m->metas, "metadata")))
        return -1;
    m->metas = p;
    if (!(n = dup_str(name)))
        return set_err(m, "tfw_add_metadata: out of memory");
    b = tfw_buffer(m, data, len);
    if (b < 0) {
        free(n);
        return -1;
    }
    m->metas[m->nmetas].name = n;
    m->metas[m->nmetas].buffer = b;
    m->nmetas++;
    return b;
}

/* ======================================================================================
 * Serialisation.
 * ====================================================================================== */

static size_t ser_buffers(fb_b *b, const tfw_model *m, size_t *refs)
{
    int i;

    for (i = 0; i < m->nbufs && !b->err; i++) {
        size_t data = 0;
        if (m->bufs[i].len)
            data = fb_vec_raw(b, m->bufs[i].data, m->bufs[i].len, 1, 16);
        fb_start_table(b);
        if (data)
            fb_add_ref(b, 0, data);
        refs[i] = fb_end_table(b);
    }
    return fb_vec_refs(b, refs, (size_t)m->nbufs);
}

static size_t ser_quant(fb_b *b, const tfw_ten *t)
{
    size_t sc, zp;

    if (t->nquant == 0)
        return 0;
    sc = fb_vec_f32(b, t->scales, (size_t)t->nquant);
    zp = fb_vec_i64(b, t->zps, (size_t)t->nquant);
    fb_start_table(b);
    fb_add_ref(b, 2, sc);
    fb_add_ref(b, 3, zp);
    fb_add_i32(b, 6, t->qdim);
    return fb_end_table(b);
}

static size_t ser_tensors(fb_b *b, const tfw_model *m, size_t *refs)
{
    int i;

    for (i = 0; i < m->ntens && !b->err; i++) {
        const tfw_ten *t = &m->tens[i];
        size_t name = fb_string(b, t->name);
        size_t shape = fb_vec_i32(b, t->dims, (size_t)t->rank);
        size_t q = ser_quant(b, t);
        fb_start_table(b);
        fb_add_ref(b, 0, shape);
        fb_add_i8(b, 1, t->type);
        fb_add_scalar(b, 2, (uint32_t)t->buffer, 4);
        fb_add_ref(b, 3, name);
        if (q)
            fb_add_ref(b, 4, q);
        refs[i] = fb_end_table(b);
    }
    return fb_vec_refs(b, refs, (size_t)m->ntens);
}

static size_t ser_options(fb_b *b, const tfw_op *op)
{
    size_t vec = 0;
    int i;

    for (i = 0; i < op->nopt; i++)
        if (op->opt[i].kind == OF_VEC)
            vec = fb_vec_i32(b, op->optvec, (size_t)op->noptvec);
    fb_start_table(b);
    for (i = 0; i < op->nopt; i++) {
        const tfw_optf *o = &op->opt[i];
        switch (o->kind) {
        case OF_I8: fb_add_i8(b, o->idx, o->i); break;
        case OF_I32: fb_add_i32(b, o->idx, o->i); break;
        case OF_F32: fb_add_f32(b, o->idx, o->f); break;
        default: fb_add_ref(b, o->idx, vec); break;
        }
    }
    return fb_end_table(b);
}

static size_t ser_operators(fb_b *b, const tfw_model *m, size_t *refs)
{
    int i;

    for (i = 0; i < m->nops && !b->err; i++) {
        const tfw_op *op = &m->ops[i];
        size_t ins = fb_vec_i32(b, op->ins, (size_t)op->nin);
        size_t outs = fb_vec_i32(b, op->outs, (size_t)op->nout);
        size_t opts = op->opt_type ? ser_options(b, op) : 0;
        size_t copts = 0;
        if (op->ncustom_opts)
            copts = fb_vec_raw(b, op->custom_opts, op->ncustom_opts, 1, 1);
        fb_start_table(b);
        fb_add_scalar(b, 0, (uint32_t)op->opcode, 4);
        fb_add_ref(b, 1, ins);
        fb_add_ref(b, 2, outs);
        if (opts) {
            fb_add_scalar(b, 3, (uint8_t)op->opt_type, 1);
            fb_add_ref(b, 4, opts);
        }
        if (copts) {
            fb_add_ref(b, 5, copts);
            fb_add_i8(b, 6, 0); /* FLEXBUFFERS */
        }
        refs[i] = fb_end_table(b);
    }
    return fb_vec_refs(b, refs, (size_t)m->nops);
}

static size_t ser_subgraphs(fb_b *b, const tfw_model *m, size_t *refs)
{
    size_t tensors = ser_tensors(b, m, refs);
    size_t ops = ser_operators(b, m, refs);
    size_t ins = fb_vec_i32(b, m->inputs, (size_t)m->ninputs);
    size_t outs = fb_vec_i32(b, m->outputs, (size_t)m->noutputs);
    size_t name = fb_string(b, "main");
    size_t sg;

    fb_start_table(b);
    fb_add_ref(b, 0, tensors);
    fb_add_ref(b, 1, ins);
    fb_add_ref(b, 2, outs);
    fb_add_ref(b, 3, ops);
    fb_add_ref(b, 4, name);
    sg = fb_end_table(b);
    return fb_vec_refs(b, &sg, 1);
}

static size_t ser_opcodes(fb_b *b, const tfw_model *m, size_t *refs)
{
    int i;

    for (i = 0; i < m->nopcs && !b->err; i++) {
        const tfw_opc *c = &m->opcs[i];
        size_t cc = c->custom ? fb_string(b, c->custom) : 0;
        fb_start_table(b);
        fb_add_i8(b, 0, c->builtin < 127 ? c->builtin : 127);
        if (cc)
            fb_add_ref(b, 1, cc);
        fb_add_i32(b, 2, c->version);
        fb_add_i32(b, 3, c->builtin);
        refs[i] = fb_end_table(b);
    }
    return fb_vec_refs(b, refs, (size_t)m->nopcs);
}

static size_t ser_metadata(fb_b *b, const tfw_model *m, size_t *refs)
{
    int i;

    for (i = 0; i < m->nmetas && !b->err; i++) {
        size_t name = fb_string(b, m->metas[i].name);
        fb_start_table(b);
        fb_add_ref(b, 0, name);
        fb_add_scalar(b, 1, (uint32_t)m->metas[i].buffer, 4);
        refs[i] = fb_end_table(b);
    }
    return fb_vec_refs(b, refs, (size_t)m->nmetas);
}

static int max_count(const tfw_model *m)
{
    int n = m->nbufs;

    if (m->ntens > n)
        n = m->ntens;
    if (m->nops > n)
        n = m->nops;
    if (m->nopcs > n)
        n = m->nopcs;
    if (m->nmetas > n)
        n = m->nmetas;
    return n;
}

int tfw_finish(tfw_model *m, uint8_t **out, size_t *out_len)
{
    fb_b b;
    size_t *refs, bufs, sgs, opcs, metas = 0, desc = 0, root;
    uint8_t *bytes;

    if (!m)
        return -1;
    if (!out || !out_len)
        return set_err(m, "tfw_finish: NULL output pointer");
    if (m->err[0])
        return -1;
    refs = malloc(((size_t)max_count(m) + 1) * sizeof *refs);
    if (!refs)
        return set_err(m, "tfw_finish: out of memory");
    fb_init(&b);
    /* created first = stored last: the large buffers end up at the end of the file */
    bufs = ser_buffers(&b, m, refs);
    sgs = ser_subgraphs(&b, m, refs);
    opcs = ser_opcodes(&b, m, refs);
    if (m->nmetas)
        metas = ser_metadata(&b, m, refs);
    if (m->description)
        desc = fb_string(&b, m->description);
    fb_start_table(&b);
    fb_add_scalar(&b, 0, 3, 4); /* schema version */
    fb_add_ref(&b, 1, opcs);
    fb_add_ref(&b, 2, sgs);
    if (desc)
        fb_add_ref(&b, 3, desc);
    fb_add_ref(&b, 4, bufs);
    if (metas)
        fb_add_ref(&b, 6, metas);
    root = fb_end_table(&b);
    free(refs);
    if (fb_finish(&b, root, "TFL3")) {
        fb_release(&b);
        return set_err(m, "tfw_finish: out of memory or model larger than 2 GiB");
    }
    bytes = malloc(b.used);
    if (!bytes) {
        fb_release(&b);
        return set_err(m, "tfw_finish: out of memory");
    }
    memcpy(bytes, b.buf + b.cap - b.used, b.used);
    *out = bytes;
    *out_len = b.used;
    fb_release(&b);
    return 0;
}

int tfw_write_file(tfw_model *m, const char *path)
{
    uint8_t *bytes;
    size_t len;
    FILE *f;
    int ok;

    if (!m)
        return -1;
    if (!path)
        return set_err(m, "tfw_write_file: NULL path");
    if (tfw_finish(m, &bytes, &len))
        return -1;
    f = fopen(path, "wb");
    if (!f) {
        free(bytes);
        return set_err(m, "tfw_write_file: cannot create %s", path);
    }
    ok = fwrite(bytes, 1, len, f) == len;
    ok = (fclose(f) == 0) && ok;
    free(bytes);
    if (!ok)
        return set_err(m, "tfw_write_file: write error on %s", path);
    return 0;
}
