#!/usr/bin/python3
"""Checks the content of the models written by writer_selftest and gen-models (dev tool).

usage: check_models.py READER.py DIR
  READER.py  the independent TFLite reader (../shared/peers/tflite_reader.py); loaded from
             where it is, never copied
  DIR        holds all_ops.tflite, lenient.tflite and the synth_*.tflite models

Every model is decoded twice — by fb_verify (strict structure, all fields) and by the peer
reader — and the two must agree on tensors, operators and options. Then the expected
content is asserted: what writer_selftest put in, and the shape, operators and quantisation
the synthetic generators promise. Exit status 1 on the first failed file.
"""
import importlib.util
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fb_verify  # noqa: E402

NAMES = {0: "ADD", 1: "AVERAGE_POOL_2D", 2: "CONCATENATION", 3: "CONV_2D",
         4: "DEPTHWISE_CONV_2D", 6: "DEQUANTIZE", 9: "FULLY_CONNECTED", 14: "LOGISTIC",
         17: "MAX_POOL_2D", 22: "RESHAPE", 25: "SOFTMAX", 34: "PAD", 40: "MEAN", 43: "SQUEEZE",
         114: "QUANTIZE"}


class Fail(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Fail(what)


def load_reader(path):
    spec = importlib.util.spec_from_file_location("peer_tflite_reader", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def opname(m, op):
    oc = m["operator_codes"][op.get("opcode_index", 0)]
    b = oc.get("builtin_code", 0)
    return "CUSTOM:" + oc["custom_code"] if b == 32 else NAMES.get(b, "BUILTIN_%d" % b)


def cross_check(m, peer):
    """fb_verify's decoding and the peer reader's must agree."""
    sg = m["subgraphs"][0]
    tens, ops = sg.get("tensors", []), sg.get("operators", [])
    need(len(peer.tensors) == len(tens) and len(peer.operators) == len(ops), "counts differ")
    need(peer.inputs == sg.get("inputs", []) and peer.outputs == sg.get("outputs", []), "io")
    need(peer.description == m.get("description"), "description")
    for t, p in zip(tens, peer.tensors):
        need(p.name == t["name"] and p.shape == t.get("shape", []) and p.type_id == t.get("type", 0)
             and p.buffer == t.get("buffer", 0), "tensor %s differs" % t["name"])
        q = t.get("quantization")
        if q is None:
            need(p.scale is None, "tensor %s: peer sees quantisation" % t["name"])
        else:
            need(list(p.scale) == [np.float32(s) for s in q["scale"]]
                 and list(p.zero_point) == q["zero_point"]
                 and p.quantized_dimension == q.get("quantized_dimension", 0),
                 "tensor %s: quantisation differs" % t["name"])
        data = m["buffers"][t.get("buffer", 0)].get("data", [])
        need((p.data is None) == (len(data) == 0), "tensor %s: constness differs" % t["name"])
        if p.data is not None:
            need(p.data.tobytes() == bytes(data), "tensor %s: data differs" % t["name"])
    keymap = {"activation": "fused_activation_function", "dilation_w": "dilation_w_factor",
              "dilation_h": "dilation_h_factor", "filter_w": "filter_width",
              "filter_h": "filter_height"}
    for k, (op, p) in enumerate(zip(ops, peer.operators)):
        need(p.opname == opname(m, op), "op %d: name %s vs %s" % (k, p.opname, opname(m, op)))
        need(p.inputs == op.get("inputs", []) and p.outputs == op.get("outputs", []),
             "op %d: inputs/outputs differ" % k)
        opts = op.get("builtin_options", {})
        for key, val in p.options.items():
            if key.startswith("_"):
                continue
            mine = opts.get(keymap.get(key, key))
            if key == "padding":
                val = {"SAME": 0, "VALID": 1}[val]
            elif key == "activation":
                val = ["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"].index(val)
            need(mine == val or (mine is None and val in (None, [])) or
                 (isinstance(val, float) and np.float32(val) == np.float32(mine)),
                 "op %d: option %s: peer %r, fb_verify %r" % (k, key, val, mine))


def check_all_ops(m):
    sg = m["subgraphs"][0]
    ops, tens = sg["operators"], sg["tensors"]
    names = [opname(m, o) for o in ops]
    need(names == ["CONV_2D", "CONV_2D", "DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D",
                   "ADD", "FULLY_CONNECTED", "RESHAPE", "RESHAPE", "RESHAPE", "SOFTMAX",
                   "CONCATENATION", "AVERAGE_POOL_2D", "SQUEEZE", "MEAN", "PAD", "LOGISTIC",
                   "QUANTIZE", "DEQUANTIZE", "CUSTOM:MyCustom", "CUSTOM:OtherCustom",
                   "CUSTOM:MyCustom"], "operator sequence %r" % names)
    codes = m["operator_codes"]
    need(len(codes) == 17, "expected 17 deduplicated operator codes, got %d" % len(codes))
    vers = {(c.get("builtin_code"), c.get("custom_code")): c.get("version") for c in codes}
    need(vers[(3, None)] == 3 and vers[(32, "OtherCustom")] == 2 and vers[(32, "MyCustom")] == 1
         and vers[(0, None)] == 1, "opcode versions %r" % vers)
    need(m["description"] == "writer selftest", "description")
    md = m["metadata"]
    need(len(md) == 1 and md[0]["name"] == "min_runtime_version"
         and bytes(m["buffers"][md[0]["buffer"]]["data"]) == b"1.2.3", "metadata")
    need(ops[1]["inputs"] == [0, 1, -1], "absent bias must be -1")
    dw = ops[2]["builtin_options"]
    need(ops[2]["builtin_options_type"] == 2 and dw == {
        "padding": 1, "stride_w": 1, "stride_h": 1, "depth_multiplier": 2,
        "fused_activation_function": 1, "dilation_w_factor": 2, "dilation_h_factor": 2},
        "depthwise options %r" % dw)
    dww = tens[ops[2]["inputs"][1]]
    q = dww["quantization"]
    need(dww["type"] == 9 and q["quantized_dimension"] == 3 and len(q["scale"]) == 12
         and np.allclose(q["scale"], [0.01 * (i + 1) for i in range(12)]), "per-channel weights")
    need(bytes(m["buffers"][dww["buffer"]]["data"]) ==
         bytes((i * 5 - 60) & 0xff for i in range(108)), "depthwise weight bytes")
    need(ops[6]["builtin_options"] == {"fused_activation_function": 0, "weights_format": 0,
                                       "keep_num_dims": True}, "FC options")
    need(ops[6]["inputs"][2] == -1, "FC without bias")
    need(ops[7]["inputs"] == [12] and ops[7]["builtin_options"] == {"new_shape": [4, 5]},
         "reshape with options only")
    need(len(ops[8]["inputs"]) == 2 and ops[8].get("builtin_options_type", 0) == 0
         and "builtin_options" not in ops[8], "reshape with shape tensor only")
    need(ops[9]["builtin_options"] == {"new_shape": []}, "reshape with empty new_shape")
    need(ops[10]["builtin_options"] == {"beta": 0.5}, "softmax beta")
    need(ops[11]["builtin_options"]["axis"] == -1 and len(ops[11]["inputs"]) == 3, "concat")
    need(ops[13]["builtin_options_type"] == 30 and
         ops[13]["builtin_options"] == {"squeeze_dims": [1, 2]}, "squeeze options")
    need(ops[14]["builtin_options_type"] == 27 and
         ops[14]["builtin_options"] == {"keep_dims": False}, "mean options")
    need(ops[15]["builtin_options_type"] == 22 and ops[15]["builtin_options"] == {},
         "PAD must carry an empty PadOptions table")
    for k in (16, 17, 18, 20, 21):
        need(ops[k].get("builtin_options_type", 0) == 0, "op %d: no options expected" % k)
    need(bytes(ops[19]["custom_options"]) == b"\x01\x02\x03\x04" and
         ops[19].get("custom_options_format", 0) == 0 and ops[19]["inputs"][1] == -1,
         "custom options")
    need("custom_options" not in ops[20], "custom op without options")
    i64 = [t for t in tens if t["name"] == "i64"][0]
    data = bytes(m["buffers"][i64["buffer"]]["data"])
    need(list(np.frombuffer(data, "<i8")) == [-1, 0, 1 << 40], "int64 constant")
    need(sg["outputs"] == [17, 29, 20] and sg["inputs"] == [0], "graph io")


def check_lenient(path):
    m = fb_verify.decode(path)  # structurally sound ...
    try:  # ... but refers to things that do not exist
        fb_verify.check_model(m)
        raise Fail("lenient model passed the TFLite-level checks")
    except fb_verify.Bad:
        pass
    sg = m["subgraphs"][0]
    need(sg["tensors"][2]["buffer"] == 99 and sg["tensors"][2]["shape"] == [1, -2, 2, 3],
         "lenient tensor")
    need(sg["operators"][0]["inputs"] == [0, 42, -7] and
         sg["operators"][0]["builtin_options"]["stride_w"] == 0 and sg["outputs"] == [77],
         "lenient operator")


def histogram(m):
    h = {}
    for op in m["subgraphs"][0]["operators"]:
        h[opname(m, op)] = h.get(opname(m, op), 0) + 1
    return h


def check_synth(m, peer, kind):
    int8 = kind == "int8pc"
    sg = m["subgraphs"][0]
    tens = sg["tensors"]
    ins = [peer.tensors[i] for i in peer.inputs]
    outs = [peer.tensors[i] for i in peer.outputs]
    h = histogram(m)
    if kind == "ssdlite":
        need(h == {"CONV_2D": 7, "DEPTHWISE_CONV_2D": 6, "RESHAPE": 4, "CONCATENATION": 2,
                   "LOGISTIC": 1}, "ssdlite operators %r" % h)
        need([i.shape for i in ins] == [[1, 32, 32, 3]] and ins[0].type_name == "UINT8", "input")
        need([o.shape for o in outs] == [[1, 240, 4], [1, 240, 5]], "outputs")
        need(outs[1].qstr() == "scale=0.00390625 zp=0", "scores quantisation")
        for op in peer.operators:
            if op.opname == "CONCATENATION":
                o = peer.tensors[op.outputs[0]]
                lo = (0 - o.zero_point[0]) * o.scale[0]
                hi = (255 - o.zero_point[0]) * o.scale[0]
                step = o.scale[0]  # zero-point nudging may cost up to one step
                for i in op.inputs:
                    t = peer.tensors[i]
                    need(lo <= (0 - t.zero_point[0]) * t.scale[0] + step and
                         (255 - t.zero_point[0]) * t.scale[0] <= hi + step,
                         "concat output range must cover its inputs")
    else:
        expect = {"CONV_2D": 7, "DEPTHWISE_CONV_2D": 2, "ADD": 1, "RESHAPE": 1, "SOFTMAX": 1}
        expect.update({"QUANTIZE": 2, "MEAN": 1} if int8 else {"AVERAGE_POOL_2D": 1})
        need(h == expect, "%s operators %r" % (kind, h))
        need([i.shape for i in ins] == [[1, 16, 16, 3]] and ins[0].type_name == "UINT8", "input")
        need([o.shape for o in outs] == [[1, 10]] and outs[0].type_name == "UINT8" and
             outs[0].qstr() == "scale=0.00390625 zp=0", "output")
        sm = [op for op in peer.operators if op.opname == "SOFTMAX"][0]
        need(peer.tensors[sm.outputs[0]].qstr() ==
             "scale=0.00390625 zp=%d" % (-128 if int8 else 0), "softmax output quantisation")
    act_type = "INT8" if int8 else "UINT8"
    for op in peer.operators:
        if op.opname not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            continue
        x, w, b = (peer.tensors[i] for i in op.inputs)
        o = peer.tensors[op.outputs[0]]
        need(w.is_const and b.is_const and not x.is_const, "conv constants")
        need(x.type_name == act_type and o.type_name == act_type and w.type_name == act_type
             and b.type_name == "INT32", "%s: types" % w.name)
        dw = op.opname == "DEPTHWISE_CONV_2D"
        nch = w.shape[3] if dw else w.shape[0]
        if int8:
            need(len(w.scale) == nch and w.quantized_dimension == (3 if dw else 0)
                 and not w.zero_point.any() and w.data.min() >= -127, "%s: per-channel" % w.name)
        else:
            need(len(w.scale) == 1 and 0 < w.zero_point[0] < 255, "%s: uint8 weights" % w.name)
        need(np.allclose(b.scale, (x.scale[0] * w.scale).astype(np.float32), rtol=1e-6, atol=0)
             and len(b.scale) == len(w.scale), "%s: bias scale = input scale * weight scale" % b.name)
        need(np.unique(w.data).size > 16, "%s: weights use few levels" % w.name)
        if op.options["activation"] == "RELU6":
            need(abs(o.scale[0] - 6 / 255) < 1e-7 and o.zero_point[0] == (-128 if int8 else 0),
                 "%s: RELU6 output quantisation" % o.name)
    need(all(t.get("quantization") for t in tens if t["type"] in (3, 9)),
         "every uint8/int8 tensor is quantised")


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    peer_mod, d = load_reader(argv[0]), argv[1]
    rc = 0
    checks = [("all_ops.tflite", check_all_ops), ("synth_mnv2_uint8.tflite", "uint8"),
              ("synth_mnv2_int8pc.tflite", "int8pc"), ("synth_ssdlite_head.tflite", "ssdlite")]
    for name, chk in checks:
        path = os.path.join(d, name)
        try:
            m = fb_verify.decode(path)
            fb_verify.check_model(m)
            peer = peer_mod.Model(path)
            cross_check(m, peer)
            if callable(chk):
                chk(m)
            else:
                check_synth(m, peer, chk)
            print("%s: content ok" % name)
        except (Fail, fb_verify.Bad, OSError) as e:
            print("%s: FAILED: %s" % (name, e), file=sys.stderr)
            rc = 1
    try:
        check_lenient(os.path.join(d, "lenient.tflite"))
        print("lenient.tflite: content ok")
    except (Fail, fb_verify.Bad, OSError) as e:
        print("lenient.tflite: FAILED: %s" % e, file=sys.stderr)
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
