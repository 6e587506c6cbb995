#!/usr/bin/python3
"""Strict structural check of TFLite files written by tests/tflite_writer.c (dev tool).

Walks every object reachable from the root following a hand-written subset of the TFLite
schema (schema version 3; a field with index i at vtable slot 4 + 2*i) and checks what a
FlatBuffers verifier checks: offsets inside the file, alignment of tables, vectors, scalars and
buffer data (16 bytes), vtable sizes, NUL-terminated strings, and no field the writer never
writes. Then checks the TFLite-level references: opcode indices, tensor and buffer indices,
quantisation vector lengths, the union type against the options table.

usage: fb_verify.py [--dump] [--foreign] MODEL.tflite...   (exit status 1 if a file is bad)
--foreign: for files from other writers (e.g. the TFLite converter): fields outside the subset
are skipped instead of rejected, and checks of this writer's conventions are left out.
Pure standard library: `decode(path)` returns the model as nested dicts for other checks.
"""
import json
import struct
import sys

SCALAR = {"b": 1, "B": 1, "?": 1, "i": 4, "I": 4, "f": 4, "q": 8}

SCHEMA = {
    "Model": {0: ("version", "I"), 1: ("operator_codes", ("tvec", "OperatorCode")),
              2: ("subgraphs", ("tvec", "SubGraph")), 3: ("description", "str"),
              4: ("buffers", ("tvec", "Buffer")), 5: ("metadata_buffer", ("vec", "i")),
              6: ("metadata", ("tvec", "Metadata"))},
    "OperatorCode": {0: ("deprecated_builtin_code", "b"), 1: ("custom_code", "str"),
                     2: ("version", "i"), 3: ("builtin_code", "i")},
    "SubGraph": {0: ("tensors", ("tvec", "Tensor")), 1: ("inputs", ("vec", "i")),
                 2: ("outputs", ("vec", "i")), 3: ("operators", ("tvec", "Operator")),
                 4: ("name", "str")},
    "Tensor": {0: ("shape", ("vec", "i")), 1: ("type", "b"), 2: ("buffer", "I"),
               3: ("name", "str"), 4: ("quantization", ("table", "QuantizationParameters"))},
    "QuantizationParameters": {0: ("min", ("vec", "f")), 1: ("max", ("vec", "f")),
                               2: ("scale", ("vec", "f")), 3: ("zero_point", ("vec", "q")),
                               6: ("quantized_dimension", "i")},
    "Operator": {0: ("opcode_index", "I"), 1: ("inputs", ("vec", "i")),
                 2: ("outputs", ("vec", "i")), 3: ("builtin_options_type", "B"),
                 4: ("builtin_options", ("union", "builtin_options_type")),
                 5: ("custom_options", ("vec", "B")), 6: ("custom_options_format", "b")},
    "Buffer": {0: ("data", ("vec", "B", 16))},
    "Metadata": {0: ("name", "str"), 1: ("buffer", "I")},
    "Conv2DOptions": {0: ("padding", "b"), 1: ("stride_w", "i"), 2: ("stride_h", "i"),
                      3: ("fused_activation_function", "b"), 4: ("dilation_w_factor", "i"),
                      5: ("dilation_h_factor", "i")},
    "DepthwiseConv2DOptions": {0: ("padding", "b"), 1: ("stride_w", "i"), 2: ("stride_h", "i"),
                               3: ("depth_multiplier", "i"),
                               4: ("fused_activation_function", "b"),
                               5: ("dilation_w_factor", "i"), 6: ("dilation_h_factor", "i")},
    "Pool2DOptions": {0: ("padding", "b"), 1: ("stride_w", "i"), 2: ("stride_h", "i"),
                      3: ("filter_width", "i"), 4: ("filter_height", "i"),
                      5: ("fused_activation_function", "b")},
    "FullyConnectedOptions": {0: ("fused_activation_function", "b"),
                              1: ("weights_format", "b"), 2: ("keep_num_dims", "?")},
    "SoftmaxOptions": {0: ("beta", "f")},
    "ConcatenationOptions": {0: ("axis", "i"), 1: ("fused_activation_function", "b")},
    "AddOptions": {0: ("fused_activation_function", "b")},
    "ReshapeOptions": {0: ("new_shape", ("vec", "i"))},
    "PadOptions": {},
    "ReducerOptions": {0: ("keep_dims", "?")},
    "SqueezeOptions": {0: ("squeeze_dims", ("vec", "i"))},
}
UNION = {1: "Conv2DOptions", 2: "DepthwiseConv2DOptions", 5: "Pool2DOptions",
         8: "FullyConnectedOptions", 9: "SoftmaxOptions", 10: "ConcatenationOptions",
         11: "AddOptions", 17: "ReshapeOptions", 22: "PadOptions", 27: "ReducerOptions",
         30: "SqueezeOptions"}


class Bad(Exception):
    pass


class Walker:
    def __init__(self, buf, foreign=False):
        self.b = buf
        self.n = len(buf)
        self.foreign = foreign

    def need(self, cond, what):
        if not cond:
            raise Bad(what)

    def u(self, fmt, pos, what):
        size = struct.calcsize("<" + fmt)
        self.need(0 <= pos and pos + size <= self.n, "%s: read at %d out of bounds" % (what, pos))
        return struct.unpack_from("<" + fmt, self.b, pos)[0]

    def deref(self, pos, what):
        self.need(pos % 4 == 0, "%s: offset field at %d not 4-aligned" % (what, pos))
        tgt = pos + self.u("I", pos, what)
        self.need(tgt < self.n and tgt > pos, "%s: offset %d -> %d outside the file" % (what, pos, tgt))
        return tgt

    def vector(self, pos, esz, align, what):
        self.need(pos % 4 == 0, "%s: vector at %d not 4-aligned" % (what, pos))
        count = self.u("I", pos, what)
        start = pos + 4
        self.need(start % max(esz, align) == 0,
                  "%s: vector data at %d not %d-aligned" % (what, start, max(esz, align)))
        self.need(start + count * esz <= self.n, "%s: vector of %d runs past the end" % (what, count))
        return start, count

    def string(self, pos, what):
        start, count = self.vector(pos, 1, 1, what)
        self.need(start + count < self.n and self.b[start + count] == 0,
                  "%s: string not NUL-terminated" % what)
        return bytes(self.b[start:start + count]).decode("utf-8")

    def table(self, pos, name, what):
        self.need(pos % 4 == 0, "%s: table at %d not 4-aligned" % (what, pos))
        vt = pos - self.u("i", pos, what)
        self.need(vt % 2 == 0 and 0 <= vt, "%s: bad vtable position %d" % (what, vt))
        vsize, osize = self.u("H", vt, what), self.u("H", vt + 2, what)
        self.need(vsize >= 4 and vsize % 2 == 0 and vt + vsize <= self.n,
                  "%s: bad vtable size %d" % (what, vsize))
        self.need(osize >= 4 and pos + osize <= self.n, "%s: bad object size %d" % (what, osize))
        schema, out, raw = SCHEMA[name], {}, {}
        for i in range((vsize - 4) // 2):
            off = self.u("H", vt + 4 + 2 * i, what)
            if off == 0 or (self.foreign and i not in schema):
                continue
            self.need(i in schema, "%s: %s has unexpected field %d" % (what, name, i))
            fname, kind = schema[i]
            size = SCALAR[kind] if isinstance(kind, str) and kind in SCALAR else 4
            self.need(off >= 4 and off + size <= osize,
                      "%s.%s: field offset %d outside the object" % (what, fname, off))
            self.need((pos + off) % size == 0, "%s.%s: field not %d-aligned" % (what, fname, size))
            raw[fname] = (pos + off, kind)
        for fname, (fpos, kind) in raw.items():
            w = "%s.%s" % (what, fname)
            if kind == "str":
                out[fname] = self.string(self.deref(fpos, w), w)
            elif isinstance(kind, str):
                out[fname] = self.u(kind, fpos, w)
            elif kind[0] == "vec":
                fmt, align = kind[1], kind[2] if len(kind) > 2 and not self.foreign else 1
                start, count = self.vector(self.deref(fpos, w), SCALAR[fmt], align, w)
                out[fname] = list(struct.unpack_from("<%d%s" % (count, fmt), self.b, start))
            elif kind[0] == "tvec":
                start, count = self.vector(self.deref(fpos, w), 4, 4, w)
                out[fname] = [self.table(self.deref(start + 4 * k, w), kind[1], "%s[%d]" % (w, k))
                              for k in range(count)]
            elif kind[0] == "table":
                out[fname] = self.table(self.deref(fpos, w), kind[1], w)
            elif kind[0] == "union":
                self.need(kind[1] in raw, "%s: union value without its type field" % w)
                t = self.u("B", raw[kind[1]][0], w)
                self.need(t in UNION, "%s: union type %d unknown or missing" % (w, t))
                out[fname] = self.table(self.deref(fpos, w), UNION[t], w)
        return out


def decode(path, foreign=False):
    with open(path, "rb") as f:
        buf = f.read()
    w = Walker(buf, foreign)
    w.need(len(buf) >= 8 and (foreign or len(buf) % 16 == 0), "file size %d" % len(buf))
    w.need(buf[4:8] == b"TFL3", "file identifier %r" % buf[4:8])
    return w.table(w.deref(0, "root"), "Model", "Model")


def check_model(m, foreign=False):
    """TFLite-level consistency of a decoded model; raises Bad."""
    def need(cond, what):
        if not cond:
            raise Bad(what)
    need(m.get("version") == 3, "schema version %r" % m.get("version"))
    codes, bufs = m.get("operator_codes", []), m.get("buffers", [])
    need(len(bufs) >= 1 and not bufs[0].get("data"), "buffer 0 must exist and be empty")
    for k, oc in enumerate(codes):
        b = oc.get("builtin_code", 0)
        if foreign:  # files from before builtin_code existed only have the byte
            b = max(b, oc.get("deprecated_builtin_code", 0))
        need(oc.get("deprecated_builtin_code", 0) == min(b, 127), "opcode %d: codes disagree" % k)
        need((b == 32) == ("custom_code" in oc), "opcode %d: custom_code vs builtin %d" % (k, b))
    keys = [(oc.get("builtin_code", 0), oc.get("custom_code")) for oc in codes]
    need(foreign or len(set(keys)) == len(keys), "operator codes not deduplicated")
    for md in m.get("metadata", []):
        need(md.get("buffer", 0) < len(bufs), "metadata %r: bad buffer" % md.get("name"))
    need(len(m.get("subgraphs", [])) == 1, "expected one subgraph")
    sg = m["subgraphs"][0]
    tens = sg.get("tensors", [])
    for k, t in enumerate(tens):
        need(t.get("buffer", 0) < len(bufs), "tensor %d: buffer out of range" % k)
        q = t.get("quantization")
        if q is not None and (q.get("scale") or not foreign):  # others write empty tables
            sc, zp = q.get("scale", []), q.get("zero_point", [])
            need(len(sc) == len(zp) and len(sc) >= 1, "tensor %d: scale/zero_point lengths" % k)
            need(all(s > 0 for s in sc), "tensor %d: non-positive scale" % k)
            if len(sc) > 1:
                qd = q.get("quantized_dimension", 0)
                need(qd < len(t.get("shape", [])) and t["shape"][qd] == len(sc),
                     "tensor %d: per-channel dimension mismatch" % k)
    for k in sg.get("inputs", []) + sg.get("outputs", []):
        need(0 <= k < len(tens), "graph input/output %d out of range" % k)
    for k, op in enumerate(sg.get("operators", [])):
        need(op.get("opcode_index", 0) < len(codes), "op %d: opcode index out of range" % k)
        need(all(-1 <= i < len(tens) for i in op.get("inputs", [])), "op %d: bad input" % k)
        need(all(0 <= i < len(tens) for i in op.get("outputs", [])), "op %d: bad output" % k)
        need(("builtin_options" in op) == (op.get("builtin_options_type", 0) != 0),
             "op %d: options type without table or the reverse" % k)


def main(argv):
    dump, foreign = "--dump" in argv, "--foreign" in argv
    paths = [a for a in argv if a not in ("--dump", "--foreign")]
    if not paths:
        sys.exit(__doc__)
    rc = 0
    for p in paths:
        try:
            m = decode(p, foreign)
            check_model(m, foreign)
            sg = m["subgraphs"][0]
            print("%s: ok (%d tensors, %d operators, %d buffers)"
                  % (p, len(sg.get("tensors", [])), len(sg.get("operators", [])),
                     len(m.get("buffers", []))))
            if dump:
                print(json.dumps(m, indent=1, default=str))
        except (Bad, UnicodeDecodeError, KeyError) as e:
            print("%s: INVALID: %s" % (p, e), file=sys.stderr)
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
