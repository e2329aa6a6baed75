#!/usr/bin/env python3
"""Generates the small ONNX fixtures used by DRSNOnnxTests (run once; outputs committed).

    python3 make_fixtures.py     # writes into this folder

Requires the `onnx` pip package (fixtures were made with onnx 1.23). The expected values
are hard-coded in OnnxFixtureTests.swift; keep both in sync.
"""
import os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))


def typed_tensors_model():
    # Typed-field tensors (helper.make_tensor with raw=False) and raw_data tensors.
    inits = [
        helper.make_tensor("f_typed", TensorProto.FLOAT, [2, 3], [1.5, -2.0, 3.25, 0.0, -0.5, 100.0]),
        helper.make_tensor("f_raw", TensorProto.FLOAT, [2, 3],
                           np.array([1.5, -2.0, 3.25, 0.0, -0.5, 100.0], np.float32).tobytes(), raw=True),
        helper.make_tensor("i64_typed", TensorProto.INT64, [3], [-1, 0, 1 << 40]),
        helper.make_tensor("i64_raw", TensorProto.INT64, [3], np.array([-1, 0, 1 << 40], np.int64).tobytes(), raw=True),
        helper.make_tensor("i32_typed", TensorProto.INT32, [2], [-7, 2147483647]),
        helper.make_tensor("i32_raw", TensorProto.INT32, [2], np.array([-7, 2147483647], np.int32).tobytes(), raw=True),
        helper.make_tensor("b_typed", TensorProto.BOOL, [4], [True, False, False, True]),
        helper.make_tensor("b_raw", TensorProto.BOOL, [4], np.array([1, 0, 0, 1], np.bool_).tobytes(), raw=True),
        helper.make_tensor("d_typed", TensorProto.DOUBLE, [2], [0.25, -1e10]),
        helper.make_tensor("d_raw", TensorProto.DOUBLE, [2], np.array([0.25, -1e10], np.float64).tobytes(), raw=True),
        # FLOAT16 typed: helper stores the bit patterns in int32_data.
        helper.make_tensor("h_typed", TensorProto.FLOAT16, [4], np.array([1.0, -2.5, 65504.0, 6e-8], np.float16)),
        helper.make_tensor("h_raw", TensorProto.FLOAT16, [4], np.array([1.0, -2.5, 65504.0, 6e-8], np.float16).tobytes(), raw=True),
        helper.make_tensor("i8_typed", TensorProto.INT8, [3], [-128, 0, 127]),
        helper.make_tensor("u8_raw", TensorProto.UINT8, [3], np.array([0, 128, 255], np.uint8).tobytes(), raw=True),
        helper.make_tensor("u64_typed", TensorProto.UINT64, [2], [0, 12345678901234]),
        helper.make_tensor("scalar", TensorProto.FLOAT, [], [42.0]),
        helper.make_tensor("empty", TensorProto.FLOAT, [0, 3], []),
    ]
    then_graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y_then"])], "then",
        [], [helper.make_tensor_value_info("y_then", TensorProto.FLOAT, [2, 3])])
    nodes = [
        helper.make_node("Add", ["x", "f_typed"], ["a"], name="add0"),
        helper.make_node("Gemm", ["a", "f_raw", ""], ["g"], name="gemm0", alpha=0.5, transB=1),
        helper.make_node("Custom", ["g"], ["c"], name="custom0", domain="com.example",
                         floats=[1.0, 2.0], ints=[3, -4, 1 << 33], strings=["ab", "c"], mode="reflect",
                         value=helper.make_tensor("v", TensorProto.INT64, [2], [5, 6])),
        helper.make_node("If", ["cond"], ["y"], name="if0", then_branch=then_graph, else_branch=then_graph),
    ]
    graph = helper.make_graph(
        nodes, "typed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3]),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=inits,
        value_info=[helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, None])],
        doc_string="graph doc (skipped field)")
    model = helper.make_model(
        graph, producer_name="make_fixtures", producer_version="1.0",
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3),
                       helper.make_opsetid("com.example", 1)],
        doc_string="model doc (skipped field)")
    model.ir_version = 8
    model.metadata_props.add(key="k", value="v")
    return model


def external_model():
    # Tensors whose data lives in external.bin: 8 bytes of junk, 6 floats, then 3 int64.
    floats = np.array([1, 2, 3, 4, 5, 6], np.float32)
    ints = np.array([-3, 7, 1 << 35], np.int64)
    blob = b"JUNKJUNK" + floats.tobytes() + ints.tobytes()
    with open(os.path.join(HERE, "external.bin"), "wb") as f:
        f.write(blob)

    def ext(name, dtype, dims, entries):
        t = TensorProto()
        t.name = name
        t.data_type = dtype
        t.dims.extend(dims)
        t.data_location = TensorProto.EXTERNAL
        for k, v in entries:
            e = t.external_data.add()
            e.key = k
            e.value = v
        return t

    inits = [
        ext("w", TensorProto.FLOAT, [2, 3], [("location", "external.bin"), ("offset", "8"), ("length", "24")]),
        ext("ids", TensorProto.INT64, [3], [("location", "external.bin"), ("offset", "32")]),  # no length
        ext("past_end", TensorProto.FLOAT, [4], [("location", "external.bin"), ("offset", "48"), ("length", "16")]),
        ext("escape", TensorProto.FLOAT, [1], [("location", "../external.bin")]),
        ext("absolute", TensorProto.FLOAT, [1], [("location", "/etc/passwd")]),
        ext("missing", TensorProto.FLOAT, [1], [("location", "no_such_file.bin")]),
        ext("bad_length", TensorProto.FLOAT, [2, 3], [("location", "external.bin"), ("offset", "8"), ("length", "20")]),
    ]
    graph = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "ext", [],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])], initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def main():
    for name, model in [("typed_tensors.onnx", typed_tensors_model()), ("external.onnx", external_model())]:
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(model.SerializeToString())


if __name__ == "__main__":
    main()
