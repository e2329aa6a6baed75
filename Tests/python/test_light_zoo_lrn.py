"""The light model-zoo networks that use LRN (onnx/backend/test/data/light in the installed
onnx package: AlexNet, GoogLeNet (inception_v1), ZFNet-512; opset 9, 224 x 224 images)
against onnxruntime. Their weights are generated constants, so activations grow to 1e21
and the softmax output is nearly uniform: besides the output (1e-4 absolute), every LRN
output and every Gemm output is compared relative to its largest magnitude (1e-4).
"""

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

import drsn
from oracle import ort_run, ort_session

LIGHT = Path(onnx.__file__).resolve().parent / "backend" / "test" / "data" / "light"
MODELS = ["bvlc_alexnet", "inception_v1", "zfnet512"]


@pytest.mark.parametrize("name", MODELS)
def test_light_model_against_onnxruntime(name):
    path = LIGHT / f"light_{name}.onnx"
    if not path.exists():
        pytest.skip(f"{path} not in this onnx package")
    model = onnx.load(path)
    probes = [n.output[0] for n in model.graph.node if n.op_type in ("LRN", "Gemm")]
    assert sum(n.op_type == "LRN" for n in model.graph.node) == 2
    for p in probes:
        model.graph.output.append(helper.make_tensor_value_info(p, TensorProto.FLOAT, None))
    data = model.SerializeToString()
    try:
        m = drsn.Model(data)
    except drsn.UnsupportedError as exc:
        # AlexNet and GoogLeNet name Dropout's mask output (read by nothing)
        assert "Dropout" in str(exc) and "mask" in str(exc), str(exc)
        pytest.skip(f"needs Dropout's mask output: {exc}")
    inits = {i.name for i in model.graph.initializer}
    (x_info,) = [i for i in model.graph.input if i.name not in inits]
    shape = [d.dim_value for d in x_info.type.tensor_type.shape.dim]
    x = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
    with m:
        actual = m.run_dict({x_info.name: x})
    expected = ort_run(ort_session(data), {x_info.name: x})
    final = model.graph.output[0].name
    np.testing.assert_allclose(actual[final], expected[final], rtol=0, atol=1e-4)
    for p in probes:
        scale = float(np.abs(expected[p]).max())
        assert scale > 0, p
        np.testing.assert_allclose(actual[p], expected[p], rtol=0, atol=1e-4 * scale, err_msg=f"{name} {p}")
