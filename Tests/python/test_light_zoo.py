"""The classic CNN architectures that the onnx package ships as its "light" model zoo
(onnx/backend/test/data/light/*.onnx: alexnet, densenet121, inception v1 and v2, resnet50,
shufflenet, squeezenet, vgg19, zfnet512; opset 9). Their weights are not stored: each is a
ConstantOfShape node filling a tensor with one value, computed at load.

Each model must load and agree with onnxruntime on the same file
* as shipped (constant weights), on a random input, and
* with random weights: every ConstantOfShape weight replaced by a random initializer of its
  shape (He-scaled for matrices and filters, in [0.5, 1.5] for vectors, so that batch-norm
  variances stay positive), which exercises the numerics the constant weights hide;
within 1e-4 relative to the output's scale (max |onnxruntime output|), at batch 1 (most of
the files reshape to a fixed [1, features]); the final Softmax's input (the logits) and
every LRN and Gemm output are compared as well.

vgg19 builds 143.7M weights at load, more than the default limit on constants computed at
load (DRSN_LIMIT_MAX_VALUE_ELEMENTS, 2^27, which bounds what a small file can make a load
allocate); it is loaded with that limit raised to 2^28, as its error message suggests.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import drsn
from oracle import ort_run, ort_session

LIGHT = Path(onnx.__file__).resolve().parent / "backend" / "test" / "data" / "light"
NAMES = ["bvlc_alexnet", "densenet121", "inception_v1", "inception_v2", "resnet50", "shufflenet",
         "squeezenet", "vgg19", "zfnet512"]
RELATIVE_TOLERANCE = 1e-4
#: Limits beyond the defaults, per model (see the module docstring).
LIMITS = {"vgg19": {"max_value_elements": 1 << 28}}

pytestmark = pytest.mark.usefixtures("needs_library")


def _path(name: str) -> Path:
    path = LIGHT / f"light_{name}.onnx"
    if not path.exists():
        pytest.skip(f"{path} is not in the installed onnx package")
    return path


def random_weights(model: onnx.ModelProto, seed: int) -> onnx.ModelProto:
    """The model with each ConstantOfShape whose shape is an initializer replaced by a random
    initializer of that shape."""
    rng = np.random.default_rng(seed)
    inits = {t.name: t for t in model.graph.initializer}
    out = onnx.ModelProto()
    out.CopyFrom(model)
    keep, new_inits = [], []
    for node in out.graph.node:
        if node.op_type == "ConstantOfShape" and node.input and node.input[0] in inits:
            shape = [int(d) for d in numpy_helper.to_array(inits[node.input[0]])]
            if len(shape) >= 2:
                fan_in = int(np.prod(shape[1:]))
                value = rng.standard_normal(shape) * np.sqrt(2.0 / max(fan_in, 1))
            else:
                value = rng.uniform(0.5, 1.5, shape)
            new_inits.append(numpy_helper.from_array(value.astype(np.float32), node.output[0]))
        else:
            keep.append(node)
    assert new_inits, "no ConstantOfShape weights found"
    del out.graph.node[:]
    out.graph.node.extend(keep)
    out.graph.initializer.extend(new_inits)
    return out


#: Operators whose outputs are compared too (each relative to its own scale).
PROBED = ("LRN", "Gemm")


def with_probes(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model with more outputs: the input of its final Softmax (the logits: the
    probabilities of a random network are often saturated, the logits are not) and every LRN
    and Gemm output (the constant weights push activations to 1e21, where a final output
    near uniform would hide a wrong normalisation)."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    names = {o.name for o in out.graph.output}
    probes = [n.output[0] for n in out.graph.node if n.op_type in PROBED]
    if out.graph.node[-1].op_type == "Softmax":
        probes.append(out.graph.node[-1].input[0])
    for p in dict.fromkeys(probes):
        if p not in names:
            out.graph.output.append(helper.make_tensor_value_info(p, TensorProto.FLOAT, None))
    return out


def check(model: onnx.ModelProto, name: str, batch: int, seed: int) -> float:
    model = with_probes(model)
    data = model.SerializeToString()
    session = ort_session(data)
    initializers = {t.name for t in model.graph.initializer}
    inp = next(v for v in model.graph.input if v.name not in initializers)
    shape = [batch] + [d.dim_value for d in inp.type.tensor_type.shape.dim[1:]]
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    expected = ort_run(session, {inp.name: x})
    with drsn.Model(data, limits=LIMITS.get(name)) as m:
        actual = m.run(x)
    assert len(actual) == len(expected)
    worst = 0.0
    for got, (out_name, want) in zip(actual, expected.items()):
        assert got.shape == want.shape, (out_name, got.shape, want.shape)
        scale = float(np.max(np.abs(want)))
        assert scale > 0, f"{name} {out_name}: all zero, compares nothing"
        deviation = float(np.max(np.abs(got - want))) / scale
        assert deviation <= RELATIVE_TOLERANCE, f"{name} {out_name}: deviation {deviation:.2e} of the output scale"
        worst = max(worst, deviation)
    return worst


@pytest.mark.parametrize("name", NAMES)
def test_shipped_weights(name):
    model = onnx.load(_path(name))
    print(f"{name}: shipped weights, relative deviation {check(model, name, 1, 0):.2e}")


@pytest.mark.parametrize("name", NAMES)
def test_random_weights(name):
    model = random_weights(onnx.load(_path(name)), seed=1)
    print(f"{name}: random weights, relative deviation {check(model, name, 1, 2):.2e}")
