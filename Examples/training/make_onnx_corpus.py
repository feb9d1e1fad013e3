"""Writes the ONNX test corpus (Tests/SNNCImportTests/Corpus/): small models built with the
`onnx` package's helpers — good ones snnc must read, and malformed or unsupported ones it must
refuse with a named diagnostic — plus EXPECTED.tsv (file, accepted|refused, first diagnostic id).

    python make_onnx_corpus.py [--out ../../Tests/SNNCImportTests/Corpus]

The test suite reads the committed files; it never runs Python.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def rng():
    return np.random.default_rng(7)


def mlp(opset=17, extra_nodes=None, relu_op="Relu", gemm_attrs=None, raw=True, input_dims=("N", 4)):
    """x[N, 4] → Gemm(4→5) → Relu → Gemm(5→3); weights in raw_data (or typed float_data)."""
    r = rng()
    w1 = r.normal(size=(5, 4)).astype(np.float32)
    b1 = r.normal(size=5).astype(np.float32)
    w2 = r.normal(size=(3, 5)).astype(np.float32)
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"), numpy_helper.from_array(w2, "w2")]
    if not raw:
        inits = [helper.make_tensor(t.name, TensorProto.FLOAT, t.dims, numpy_helper.to_array(t).ravel().tolist()) for t in inits]
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"], name="fc1", transB=1, **(gemm_attrs or {})),
             helper.make_node(relu_op, ["h"], ["a"], name="act1"),
             helper.make_node("Gemm", ["a", "w2"], ["y"], name="fc2", transB=1)]
    nodes += extra_nodes or []
    out = nodes[-1].output[0]
    g = helper.make_graph(nodes, "mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_dims))],
                          [helper.make_tensor_value_info(out, TensorProto.FLOAT, ["N", 3])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="snnc corpus")


def cnn(pool_pads=None, flatten="Flatten", tf_transpose=False, softmax=False):
    """x[1, 2, 6, 6] → Conv 3×3 (3, pad 1) → BN → Relu → MaxPool 2 → Flatten → MatMul + Add (→ 4)."""
    r = rng()
    k = r.normal(size=(3, 2, 3, 3)).astype(np.float32)
    kb = r.normal(size=3).astype(np.float32)
    scale, bias = r.uniform(0.5, 1.5, 3).astype(np.float32), r.normal(size=3).astype(np.float32)
    mean, var = r.normal(size=3).astype(np.float32), r.uniform(0.5, 2, 3).astype(np.float32)
    pooled = 3 if pool_pads is None else 4
    w = r.normal(size=(3 * pooled * pooled, 4)).astype(np.float32)
    b = r.normal(size=4).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in ((k, "k"), (kb, "kb"), (scale, "s"), (bias, "b"), (mean, "m"), (var, "v"), (w, "w"), (b, "wb"))]
    nodes = []
    x = "x"
    if tf_transpose:
        nodes.append(helper.make_node("Transpose", ["x"], ["xt"], name="to_nchw", perm=[0, 3, 1, 2]))
        x = "xt"
    pool_attrs = {"kernel_shape": [2, 2], "strides": [2, 2]}
    if pool_pads:
        pool_attrs["pads"] = pool_pads
    nodes += [helper.make_node("Conv", [x, "k", "kb"], ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
              helper.make_node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"], name="bn", epsilon=1e-5),
              helper.make_node("Relu", ["n"], ["a"], name="relu"),
              helper.make_node("MaxPool", ["a"], ["p"], name="pool", **pool_attrs)]
    if flatten == "Flatten":
        nodes.append(helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1))
    else:
        inits.append(numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape"))
        nodes.append(helper.make_node("Reshape", ["p", "shape"], ["f"], name="reshape"))
    nodes += [helper.make_node("MatMul", ["f", "w"], ["mm"], name="fc"), helper.make_node("Add", ["mm", "wb"], ["y"], name="fc_bias")]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["y"], ["prob"], name="softmax", axis=1))
    shape = [1, 6, 6, 2] if tf_transpose else [1, 2, 6, 6]
    g = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, [1, 4])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="snnc corpus")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "..", "..", "Tests", "SNNCImportTests", "Corpus"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rows = []

    def save(name, model, expect, first_id="", raw_bytes=None):
        path = os.path.join(a.out, name)
        data = raw_bytes if raw_bytes is not None else model.SerializeToString()
        with open(path, "wb") as f:
            f.write(data)
        rows.append((name, expect, first_id))

    good = mlp()
    save("mlp.onnx", good, "accepted")
    save("mlp-typed-fields.onnx", mlp(raw=False), "accepted")
    save("mlp-opset11.onnx", mlp(opset=11), "accepted")
    save("cnn-flatten.onnx", cnn(), "accepted")
    save("cnn-reshape-softmax.onnx", cnn(flatten="Reshape", softmax=True), "accepted", "onnx-dropped")
    save("cnn-tf-transpose.onnx", cnn(tf_transpose=True), "accepted")
    save("cnn-padded-maxpool.onnx", cnn(pool_pads=[1, 1, 1, 1]), "accepted")
    # External data: the initializers in a file beside the model.
    ext = mlp()
    onnx.external_data_helper.convert_model_to_external_data(ext, all_tensors_to_one_file=True, location="mlp-external.bin", size_threshold=0)
    if os.path.exists(os.path.join(a.out, "mlp-external.bin")):
        os.remove(os.path.join(a.out, "mlp-external.bin"))  # onnx.save_model appends to it
    onnx.save_model(ext, os.path.join(a.out, "mlp-external.onnx"))
    rows.append(("mlp-external.onnx", "accepted", ""))
    missing = mlp()
    onnx.external_data_helper.convert_model_to_external_data(missing, all_tensors_to_one_file=True, location="no-such-file.bin", size_threshold=0)
    save("external-missing.onnx", missing, "refused", "onnx-external-data")

    b = good.SerializeToString()
    save("truncated.onnx", None, "refused", "onnx-parse", raw_bytes=b[: len(b) // 2])
    save("not-protobuf.onnx", None, "refused", "onnx-parse", raw_bytes=b"\xff\xff\xff\xff this is not protobuf")
    save("empty.onnx", None, "refused", "onnx-opset", raw_bytes=b"")
    # The graph (field 7) as a length-delimited message whose bytes are not a GraphProto (a tag
    # with field number 0), and the graph's node list (GraphProto field 1) cut inside a varint.
    save("graph-garbage.onnx", None, "refused", "onnx-parse", raw_bytes=b + bytes([0x3A, 0x03, 0x00, 0xFF, 0xFF]))
    save("graph-cut-varint.onnx", None, "refused", "onnx-parse", raw_bytes=b + bytes([0x3A, 0x02, 0x0A, 0xFF]))
    save("unsupported-op.onnx", mlp(relu_op="Sigmoid"), "refused", "onnx-op-unsupported")
    save("gemm-alpha.onnx", mlp(gemm_attrs={"alpha": 2.0}), "refused", "onnx-attribute")
    save("opset-too-old.onnx", mlp(opset=9), "refused", "onnx-opset")
    save("dynamic-features.onnx", mlp(input_dims=("N", "F")), "refused", "onnx-dynamic-shape")
    grouped = cnn()
    for n in grouped.graph.node:
        if n.op_type == "Conv":
            n.attribute.append(helper.make_attribute("group", 2))
    save("grouped-conv.onnx", grouped, "refused", "onnx-attribute")
    ceil = cnn()
    for n in ceil.graph.node:
        if n.op_type == "MaxPool":
            n.attribute.append(helper.make_attribute("ceil_mode", 1))
    save("ceil-mode.onnx", ceil, "refused", "onnx-attribute")
    short = mlp()
    short.graph.initializer[0].raw_data = short.graph.initializer[0].raw_data[:-4]
    save("initializer-short.onnx", short, "refused", "onnx-initializer")
    wrongtype = mlp()
    wrongtype.graph.initializer[0].data_type = TensorProto.STRING
    save("initializer-string.onnx", wrongtype, "refused", "onnx-type")
    shapes = mlp()
    shapes.graph.initializer[2].dims[:] = [3, 6]
    shapes.graph.initializer[2].raw_data = np.zeros((3, 6), np.float32).tobytes()
    save("gemm-shape-mismatch.onnx", shapes, "refused", "onnx-attribute")

    # Hostile values the importer must refuse, never trap on (review findings, 2026-12-04).
    zero = mlp()
    zero.graph.initializer[0].dims[:] = [5, 0]
    zero.graph.initializer[0].raw_data = b""
    save("initializer-zero-dim.onnx", zero, "refused", "onnx-initializer")

    def with_attr(model, op, **attrs):
        for n in model.graph.node:
            if n.op_type == op:
                for k, v in attrs.items():
                    for old in [x for x in n.attribute if x.name == k]:
                        n.attribute.remove(old)
                    n.attribute.append(helper.make_attribute(k, v))
        return model
    save("conv-huge-dilation.onnx", with_attr(cnn(), "Conv", dilations=[2 ** 40, 1]), "refused", "onnx-attribute")
    save("conv-huge-pads.onnx", with_attr(cnn(), "Conv", pads=[2 ** 62, 0, 0, 0]), "refused", "onnx-attribute")
    save("conv-valid-with-pads.onnx", with_attr(cnn(), "Conv", auto_pad="VALID"), "refused", "onnx-attribute")
    save("bn-training-mode.onnx", with_attr(cnn(), "BatchNormalization", training_mode=1), "refused", "onnx-attribute")
    negvar = cnn()
    for t in negvar.graph.initializer:
        if t.name == "v":
            t.raw_data = np.array([-1.0, 1.0, 1.0], np.float32).tobytes()
    save("bn-negative-var.onnx", negvar, "refused", "param-range")
    huge = cnn()
    for i, d in enumerate([1, 2 ** 22, 2 ** 22, 2 ** 22]):
        huge.graph.input[0].type.tensor_type.shape.dim[i].dim_value = d
    save("input-huge.onnx", huge, "refused", "onnx-graph")

    def reshape_to(dims):
        m = cnn(flatten="Reshape")
        for t in m.graph.initializer:
            if t.name == "shape":
                t.CopyFrom(numpy_helper.from_array(np.array(dims, dtype=np.int64), "shape"))
        return m
    save("reshape-batch-7.onnx", reshape_to([7, -1]), "refused", "onnx-op-unsupported")
    save("reshape-int64-max.onnx", reshape_to([2 ** 63 - 1, -1]), "refused", "onnx-attribute")
    shared = cnn()
    shared.graph.node.append(helper.make_node("Relu", ["mm"], ["mm_relu"], name="second_reader"))
    save("matmul-bias-shared.onnx", shared, "refused", "onnx-op-unsupported")
    reuse = cnn(tf_transpose=True)
    reuse.graph.node.insert(1, helper.make_node("Relu", ["x"], ["x_relu"], name="reads_nhwc"))
    save("transpose-input-reused.onnx", reuse, "refused", "onnx-graph")

    def gap(axes):
        """x[1, 2, 6, 6] → Conv 3×3 (3) → Relu → ReduceMean over `axes`, keepdims 0 → Gemm (→ 2)."""
        r = rng()
        inits = [numpy_helper.from_array(r.normal(size=(3, 2, 3, 3)).astype(np.float32), "k"),
                 numpy_helper.from_array(r.normal(size=(2, 3)).astype(np.float32), "w")]
        nodes = [helper.make_node("Conv", ["x", "k"], ["c"], name="conv", kernel_shape=[3, 3]),
                 helper.make_node("Relu", ["c"], ["a"], name="relu"),
                 helper.make_node("ReduceMean", ["a"], ["m"], name="mean", axes=axes, keepdims=0),
                 helper.make_node("Gemm", ["m", "w"], ["y"], name="fc", transB=1)]
        g = helper.make_graph(nodes, "gap", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 6, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 2])], inits)
        return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="snnc corpus")
    save("reducemean-negative-axes.onnx", gap([-2, -1]), "accepted")
    save("reducemean-axes-6.onnx", gap([6, 7]), "refused", "onnx-attribute")
    # A bias-free Gemm and the Add of a constant after it: the dense layer's bias.
    gemm_add = mlp()
    gemm_add.graph.initializer.append(numpy_helper.from_array(rng().normal(size=3).astype(np.float32), "b2"))
    gemm_add.graph.node[-1].output[0] = "y0"
    gemm_add.graph.node.append(helper.make_node("Add", ["y0", "b2"], ["y"], name="fc2_bias"))
    save("mlp-gemm-add.onnx", gemm_add, "accepted")
    # External data named two ways ("./file" and "file"): one file.
    dot = onnx.load(os.path.join(a.out, "mlp-external.onnx"), load_external_data=False)
    for e in dot.graph.initializer[0].external_data:
        if e.key == "location":
            e.value = "./mlp-external.bin"
    save("mlp-external-dot.onnx", dot, "accepted")
    # Three tensors over the same 80 bytes of a file that holds only 80: refused, never decoded
    # three times over.
    overlap = onnx.load(os.path.join(a.out, "mlp-external.onnx"), load_external_data=False)
    for t in overlap.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "overlap.bin"
            if e.key == "offset":
                e.value = "0"
    with open(os.path.join(a.out, "mlp-external.bin"), "rb") as f:
        head = f.read(80)
    with open(os.path.join(a.out, "overlap.bin"), "wb") as f:
        f.write(head)
    save("external-overlap.onnx", overlap, "refused", "onnx-external-data")

    # For every model snnc must read: one input (channels-last, as snnc reads samples) and
    # onnxruntime's output for it, so the test compares snnc's ANN with onnxruntime's.
    import json
    import onnxruntime as ort
    io = {}
    for name, expect, _ in rows:
        if expect != "accepted":
            continue
        sess = ort.InferenceSession(os.path.join(a.out, name), providers=["CPUExecutionProvider"])
        inp = sess.get_inputs()[0]
        dims = [1 if not isinstance(d, int) else d for d in inp.shape]
        x = np.random.default_rng(11).random(dims, dtype=np.float32)
        y = sess.run(None, {inp.name: x})[0]
        hwc = x.transpose(0, 2, 3, 1) if len(dims) == 4 and "transpose" not in name else x
        # A model ending in Softmax outputs probabilities; snnc drops the Softmax and gives logits.
        ends_in_softmax = onnx.load(os.path.join(a.out, name), load_external_data=False).graph.node[-1].op_type == "Softmax"
        io[name] = {"input": [float(v) for v in hwc.ravel()], "output": [float(v) for v in y.ravel()], "softmax": ends_in_softmax}
    with open(os.path.join(a.out, "onnxruntime-outputs.json"), "w") as f:
        json.dump({"onnxruntime": ort.__version__, "onnx": onnx.__version__, "models": io}, f, indent=1)
        f.write("\n")

    with open(os.path.join(a.out, "EXPECTED.tsv"), "w") as f:
        f.write("# file\toutcome\tfirst diagnostic id (made by Examples/training/make_onnx_corpus.py)\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"wrote {len(rows)} files to {a.out}")


if __name__ == "__main__":
    main()
