/* model_info — the public description accessors of a loaded model. */
#include "model.h"

#include <string.h>

static void fill_info(const mnv2_tensor *t, mnv2_tensor_info *o)
{
	memset(o, 0, sizeof *o);
	o->name = t->name;
	o->type = t->type;
	o->rank = t->rank;
	memcpy(o->dims, t->dims, sizeof o->dims);
	o->bytes = t->bytes;
	o->quantized = t->quantized;
	o->scale = t->scale;
	o->zero_point = t->zero_point;
	o->quant_channels = t->nscales;
	o->quant_axis = t->qaxis;
}

int mnv2_model_num_inputs(const mnv2_model *m) { return m->nin; }
int mnv2_model_num_outputs(const mnv2_model *m) { return m->nout; }
int mnv2_model_num_tensors(const mnv2_model *m) { return m->ntensors; }
int mnv2_model_num_ops(const mnv2_model *m) { return m->nops; }

int mnv2_model_input_info(const mnv2_model *m, int i, mnv2_tensor_info *out)
{
	if (i < 0 || i >= m->nin)
		return -1;
	fill_info(&m->tensors[m->inputs[i]], out);
	return 0;
}

int mnv2_model_output_info(const mnv2_model *m, int i, mnv2_tensor_info *out)
{
	if (i < 0 || i >= m->nout)
		return -1;
	fill_info(&m->tensors[m->outputs[i]], out);
	return 0;
}

int mnv2_model_tensor_info(const mnv2_model *m, int i, mnv2_tensor_info *out)
{
	if (i < 0 || i >= m->ntensors)
		return -1;
	fill_info(&m->tensors[i], out);
	return 0;
}

int mnv2_model_op_info(const mnv2_model *m, int i, mnv2_op_info *out)
{
	if (i < 0 || i >= m->nops)
		return -1;
	const mnv2_op *op = &m->ops[i];
	*out = (mnv2_op_info){ .index = i, .name = op->name, .num_inputs = op->nin,
			       .num_outputs = op->nout, .inputs = op->in, .outputs = op->out,
			       .macs = op->macs };
	return 0;
}

uint64_t mnv2_model_macs(const mnv2_model *m) { return m->macs; }
size_t mnv2_model_param_bytes(const mnv2_model *m) { return m->param_bytes; }
size_t mnv2_model_arena_bytes(const mnv2_model *m) { return m->arena_bytes; }
mnv2_plan_mode mnv2_model_plan(const mnv2_model *m) { return (mnv2_plan_mode)m->plan; }
int mnv2_model_num_chains(const mnv2_model *m) { return m->nchains; }
size_t mnv2_model_tile_bytes(const mnv2_model *m) { return m->tile_bytes; }

size_t mnv2_model_plan_arena_bytes(const mnv2_model *m, mnv2_plan_mode p)
{
	if ((int)p < MNV2_PLAN_DEFAULT || (int)p > MNV2_PLAN_FUSED)
		return 0;
	return p == MNV2_PLAN_DEFAULT ? m->arena_bytes : m->plan_arena[p];
}
const char *mnv2_model_name(const mnv2_model *m) { return m->name; }
const char *mnv2_model_description(const mnv2_model *m) { return m->description ? m->description : ""; }
const char *mnv2_model_metadata_name(const mnv2_model *m) { return m->meta_name ? m->meta_name : ""; }
const char *mnv2_model_metadata_description(const mnv2_model *m)
{
	return m->meta_description ? m->meta_description : "";
}
size_t mnv2_model_num_labels(const mnv2_model *m) { return m->nlabels; }
const char *mnv2_model_label(const mnv2_model *m, size_t i) { return i < m->nlabels ? m->labels[i] : NULL; }
