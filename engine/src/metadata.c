/* metadata — TFLite model metadata: the TFLITE_METADATA record (ModelMetadata,
 * metadata_schema.fbs) and the label file packed in the zip archive that the metadata
 * tools append to the model.
 *
 * Metadata is optional decoration: a record or archive that is malformed or uses a
 * feature we do not read (compressed zip members) leaves the fields empty; it never makes
 * the load fail, and nothing outside the file is read. */
#include "model.h"
#include "fb_reader.h"
#include "tflite_schema.h"

#include <stdlib.h>
#include <string.h>

enum { MD_NAME, MD_DESCRIPTION, MD_VERSION, MD_SUBGRAPHS, MD_AUTHOR, MD_LICENSE,
       MD_ASSOCIATED_FILES };
enum { SGMD_NAME, SGMD_DESCRIPTION, SGMD_INPUTS, SGMD_OUTPUTS, SGMD_ASSOCIATED_FILES };
enum { TMD_NAME, TMD_DESCRIPTION, TMD_DIMENSION_NAMES, TMD_CONTENT, TMD_PROCESS_UNITS,
       TMD_STATS, TMD_ASSOCIATED_FILES };
enum { AF_NAME, AF_DESCRIPTION, AF_TYPE };
enum { AF_TENSOR_AXIS_LABELS = 2 };

#define MAX_LABEL_BYTES (1u << 20)
#define MAX_LABELS 100000u

static char *dup_printable(const char *s, uint32_t len)
{
	char *d = malloc((size_t)len + 1);
	if (!d)
		return NULL;
	for (uint32_t i = 0; i < len; i++)
		d[i] = (unsigned char)s[i] < 0x20 && s[i] != '\n' ? '?' : s[i];
	d[len] = '\0';
	return d;
}

/* The name of the first TENSOR_AXIS_LABELS file in a vector of AssociatedFile. */
static int labels_file(const fb_table *t, int field, const char **name, uint32_t *len)
{
	fb_vec files;
	if (fb_get_vec(t, field, 4, &files) != 1)
		return 0;
	for (uint32_t i = 0; i < files.len; i++) {
		fb_table af;
		uint8_t type;
		if (fb_vec_table(&files, i, &af) || fb_get_u8(&af, AF_TYPE, 0, &type) < 0)
			return 0;
		if (type == AF_TENSOR_AXIS_LABELS && fb_get_string(&af, AF_NAME, name, len) == 1 && *len)
			return 1;
	}
	return 0;
}

/* Labels of the first output tensor, or failing that of the model. */
static int find_labels_name(const fb_table *md, const char **name, uint32_t *len)
{
	fb_vec sgs, outs;
	fb_table sg, out;
	if (fb_get_vec(md, MD_SUBGRAPHS, 4, &sgs) == 1 && sgs.len && !fb_vec_table(&sgs, 0, &sg) &&
	    fb_get_vec(&sg, SGMD_OUTPUTS, 4, &outs) == 1 && outs.len && !fb_vec_table(&outs, 0, &out) &&
	    labels_file(&out, TMD_ASSOCIATED_FILES, name, len))
		return 1;
	return labels_file(md, MD_ASSOCIATED_FILES, name, len);
}

static uint32_t rd32(const uint8_t *p) { return fb_u32(p); }
static uint16_t rd16(const uint8_t *p) { return fb_u16(p); }

/* Locates a stored (uncompressed) member of a zip archive appended to the file. */
static const uint8_t *zip_member(const uint8_t *d, size_t size, const char *name,
				 uint32_t nlen, size_t *out_len)
{
	if (size < 22)
		return NULL;
	size_t lo = size > 22 + 65535 ? size - 22 - 65535 : 0, eocd = 0;
	int found = 0;
	for (size_t p = size - 22 + 1; p-- > lo;)
		if (rd32(d + p) == 0x06054b50u) {
			eocd = p;
			found = 1;
			break;
		}
	if (!found)
		return NULL;
	uint32_t cd_size = rd32(d + eocd + 12), cd_off = rd32(d + eocd + 16);
	uint16_t entries = rd16(d + eocd + 10);
	if ((uint64_t)cd_size + cd_off > eocd)
		return NULL;
	size_t delta = eocd - cd_size - cd_off; /* bytes before the archive */
	size_t p = cd_off + delta, end = p + cd_size;
	for (uint16_t i = 0; i < entries; i++) {
		if (p + 46 > end || rd32(d + p) != 0x02014b50u)
			return NULL;
		uint16_t method = rd16(d + p + 10), fnl = rd16(d + p + 28);
		uint32_t csize = rd32(d + p + 20), usize = rd32(d + p + 24);
		size_t next = p + 46 + fnl + rd16(d + p + 30) + rd16(d + p + 32);
		if (next > end)
			return NULL;
		if (fnl == nlen && !memcmp(d + p + 46, name, nlen)) {
			uint64_t lh = (uint64_t)rd32(d + p + 42) + delta;
			if (method != 0 || csize != usize || lh + 30 > eocd ||
			    rd32(d + lh) != 0x04034b50u)
				return NULL;
			uint64_t data = lh + 30 + rd16(d + lh + 26) + rd16(d + lh + 28);
			if (data > eocd || csize > eocd - data)
				return NULL;
			*out_len = csize;
			return d + data;
		}
		p = next;
	}
	return NULL;
}

static int split_labels(mnv2_model *m, const uint8_t *data, size_t len)
{
	if (len > MAX_LABEL_BYTES)
		return 0;
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	n += len && data[len - 1] != '\n';
	if (n == 0 || n > MAX_LABELS || !(m->labels = calloc(n, sizeof(char *))))
		return n ? -1 : 0;
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		size_t e = start;
		while (e < len && data[e] != '\n')
			e++;
		size_t l = e - start;
		if (l && data[start + l - 1] == '\r')
			l--;
		if (!(m->labels[i] = dup_printable((const char *)data + start, (uint32_t)l)))
			return -1;
		m->nlabels = i + 1;
		start = e + 1;
	}
	return 0;
}

static const uint8_t *metadata_record(const mnv2_model *m, size_t *len)
{
	fb_buf b = { m->data, m->size };
	fb_table model, md, buf;
	fb_vec mds, bufs, data;
	if (fb_root(&b, "TFL3", &model) || fb_get_vec(&model, TFL_MODEL_METADATA, 4, &mds) != 1 ||
	    fb_get_vec(&model, TFL_MODEL_BUFFERS, 4, &bufs) != 1)
		return NULL;
	for (uint32_t i = 0; i < mds.len; i++) {
		const char *name;
		uint32_t nlen, bi;
		if (fb_vec_table(&mds, i, &md) || fb_get_string(&md, TFL_METADATA_NAME, &name, &nlen) != 1 ||
		    nlen != 15 || memcmp(name, "TFLITE_METADATA", 15) ||
		    fb_get_u32(&md, TFL_METADATA_BUFFER, 0, &bi) != 1 || bi >= bufs.len ||
		    fb_vec_table(&bufs, bi, &buf) || fb_get_vec(&buf, TFL_BUFFER_DATA, 1, &data) != 1)
			continue;
		*len = data.len;
		return fb_vec_data(&data);
	}
	return NULL;
}

int mnv2_metadata_read(mnv2_model *m, mnv2_error *err)
{
	size_t len, llen;
	const uint8_t *rec = metadata_record(m, &len);
	fb_buf b = { rec, len };
	fb_table md;
	const char *s, *lname;
	uint32_t slen, lnlen;
	if (!rec || fb_root(&b, "M001", &md))
		return 0;
	if (fb_get_string(&md, MD_NAME, &s, &slen) == 1 && !(m->meta_name = dup_printable(s, slen)))
		return mnv2_fail(err, "%s: out of memory", m->name);
	if (fb_get_string(&md, MD_DESCRIPTION, &s, &slen) == 1 &&
	    !(m->meta_description = dup_printable(s, slen)))
		return mnv2_fail(err, "%s: out of memory", m->name);
	if (!find_labels_name(&md, &lname, &lnlen))
		return 0;
	const uint8_t *labels = zip_member(m->data, m->size, lname, lnlen, &llen);
	if (labels && split_labels(m, labels, llen))
		return mnv2_fail(err, "%s: out of memory reading labels", m->name);
	return 0;
}
