"""int8: QuantizeLinear / DequantizeLinear / QLinearConv and onnxruntime-quantized DRSNs.

Oracles: onnxruntime on the same file (operators, and whole models both unoptimised --
the QDQ graph evaluated operator by operator, which drsn must match -- and optimised, its
own int8 execution), and ONNX's reference evaluator (onnx.reference) for QLinearConv with
full-range 8-bit weights, where onnxruntime's non-VNNI kernel saturates 16-bit pair sums.
Models are quantized here with onnxruntime's quantize_static (QDQ, u8 / s8 activations,
per tensor / per channel) on random calibration inputs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import drsn
from oracle import make_model, node
from shared_fixtures import fixture

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "benchmarks" / "models"
BEARING = REPO / "examples" / "bearing"


def ort_run(model: onnx.ModelProto | str, feeds: dict, optimize: bool = False) -> list:
    so = ort.SessionOptions()
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimize
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    source = model if isinstance(model, str) else model.SerializeToString()
    return ort.InferenceSession(source, so, providers=["CPUExecutionProvider"]).run(None, feeds)


def drsn_run(model: onnx.ModelProto | str, inputs: list, **kw) -> list:
    source = model if isinstance(model, str) else model.SerializeToString()
    with drsn.Model(source, **kw) as m:
        return m.run(inputs)


# ---- QuantizeLinear / DequantizeLinear ---------------------------------------------------

SPECIALS = np.array([0, 0.25, 0.75, 1.25, -0.25, -0.75, 63.75, -64.25, 1e6, -1e6, 3.5, -3.5], np.float32)


def q_dq_model(opset: int, dtype: np.dtype, per_axis: bool, axis: int, zero_point: bool = True,
               shape=(2, 3, 4, 5)) -> tuple[onnx.ModelProto, dict]:
    rng = np.random.default_rng(opset * 7 + per_axis)
    n = shape[axis] if per_axis else 1
    scale = (rng.uniform(0.01, 0.5, n) if per_axis else np.array(0.5)).astype(np.float32)
    info = np.iinfo(dtype)
    zp = rng.integers(info.min // 2, info.max // 2 + 1, n if per_axis else None).astype(dtype)
    attrs = {"axis": axis} if opset >= 13 and per_axis else {}
    inits = {"s": scale}
    q_in, dq_in = ["x", "s"], ["q", "s"]
    if zero_point:
        inits["z"] = np.asarray(zp, dtype)
        q_in.append("z")
        dq_in.append("z")
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    model = make_model([node("QuantizeLinear", q_in, ["q"], **attrs), node("DequantizeLinear", dq_in, ["y"], **attrs)],
                       [("x", list(shape))], [("q", elem), "y"], inits, opset=opset)
    x = (rng.standard_normal(shape) * 40).astype(np.float32)
    flat = x.reshape(-1)
    flat[:len(SPECIALS)] = SPECIALS  # exact ties (scale 0.5) and saturation
    return model, {"x": x}


Q_DQ_CASES = [(opset, dtype, per_axis, axis)
              for opset in (10, 13, 19, 21)
              for dtype in (np.uint8, np.int8, np.uint16, np.int16)
              for per_axis, axis in ((False, 1), (True, 1), (True, -1), (True, 0))
              if (opset >= 13 or not per_axis)              # per-axis quantization starts at opset 13
              and (np.dtype(dtype).itemsize == 1 or opset >= 21)]  # 16-bit codes at opset 21


@pytest.mark.parametrize("opset,dtype,per_axis,axis", Q_DQ_CASES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_quantize_dequantize_matches_onnxruntime(opset, dtype, per_axis, axis):
    model, feeds = q_dq_model(opset, dtype, per_axis, axis)
    want_q, want_y = ort_run(model, feeds)
    got_q, got_y = drsn_run(model, [feeds["x"]])
    np.testing.assert_array_equal(got_q, want_q.astype(np.float32))
    np.testing.assert_array_equal(got_y, want_y)


def test_quantize_without_zero_point_is_uint8():
    model, feeds = q_dq_model(13, np.uint8, False, 1, zero_point=False)
    want_q, want_y = ort_run(model, feeds)
    got_q, got_y = drsn_run(model, [feeds["x"]])
    np.testing.assert_array_equal(got_q, want_q.astype(np.float32))
    np.testing.assert_array_equal(got_y, want_y)
    with drsn.Model(model.SerializeToString()) as m:
        assert m.outputs[0].dtype == "uint8" or "UINT8" in str(m.outputs[0].dtype).upper()


def test_quantize_nan_and_infinities_saturate():
    """ONNX leaves NaN unspecified; drsn maps it to the lowest code (never a trap or garbage)."""
    model, _ = q_dq_model(13, np.uint8, False, 1)
    x = np.zeros((2, 3, 4, 5), np.float32)
    x.reshape(-1)[:3] = [np.nan, np.inf, -np.inf]
    q, y = drsn_run(model, [x])
    z = float(numpy_helper.to_array(model.graph.initializer[1]))
    assert q.reshape(-1)[:3].tolist() == [0.0, 255.0, 0.0]
    assert np.all(np.isfinite(y))
    assert np.all(q.reshape(-1)[3:] == z)


def test_dequantize_constants_are_folded():
    """DequantizeLinear of int8 / int32 initializers (weights, biases) becomes a float constant."""
    w = np.arange(-6, 6, dtype=np.int8).reshape(3, 4)
    b = np.array([-100000, 7, 2 ** 30], np.int32)
    model = make_model(
        [node("DequantizeLinear", ["w", "ws", "wz"], ["wf"], axis=0), node("DequantizeLinear", ["b", "bs"], ["bf"]),
         node("Gemm", ["x", "wf", "bf"], ["y"], transB=1)],
        [("x", [2, 4])], ["y"],
        {"w": w, "ws": np.array([0.5, 0.25, 0.125], np.float32), "wz": np.array([1, -2, 0], np.int8),
         "b": b, "bs": np.array(1e-3, np.float32)}, opset=13)
    x = np.random.default_rng(3).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(drsn_run(model, [x])[0], ort_run(model, {"x": x})[0], rtol=1e-6, atol=1e-5)
    with drsn.Model(model.SerializeToString()) as m:
        steps = m.summary()["plan_steps"]
    assert "dequantizeLinear" not in steps


@pytest.mark.parametrize("case,message", [
    ("block", "block_size"),
    ("float8", "FLOAT8E4M3FN"),
    ("matmul", "QLinearMatMul"),
    ("scale2d", "blocked quantization"),
])
def test_unsupported_quantization_is_refused_clearly(case, message):
    if case == "block":
        model = make_model([node("QuantizeLinear", ["x", "s", "z"], ["q"], axis=1, block_size=2)],
                           [("x", [2, 4])], [("q", TensorProto.UINT8)],
                           {"s": np.full((2, 2), 0.1, np.float32), "z": np.zeros((2, 2), np.uint8)}, opset=21)
    elif case == "float8":
        z = helper.make_tensor("z", TensorProto.FLOAT8E4M3FN, [], [0.0])
        model = make_model([node("QuantizeLinear", ["x", "s", "z"], ["q"])], [("x", [2, 4])],
                           [("q", TensorProto.FLOAT8E4M3FN)], {"s": np.array(0.1, np.float32)}, opset=19)
        model.graph.initializer.append(z)
    elif case == "matmul":
        model = make_model([node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                            node("QLinearMatMul", ["q", "s", "z", "b", "s", "z", "s", "z"], ["y"])],
                           [("x", [2, 4])], [("y", TensorProto.UINT8)],
                           {"s": np.array(0.1, np.float32), "z": np.array(3, np.uint8),
                            "b": np.ones((4, 3), np.uint8)}, opset=13)
    else:
        model = make_model([node("QuantizeLinear", ["x", "s", "z"], ["q"])], [("x", [2, 4])],
                           [("q", TensorProto.UINT8)],
                           {"s": np.full((2, 2), 0.1, np.float32), "z": np.zeros((2, 2), np.uint8)}, opset=13)
    with pytest.raises(drsn.Error) as err:
        drsn.Model(model.SerializeToString())
    assert message in str(err.value)


# ---- QLinearConv ---------------------------------------------------------------------------

CONV_CASES = [
    # (x shape, weight shape, attributes)
    ((2, 5, 37), (7, 5, 3), {"pads": [1, 1]}),
    ((1, 32, 64), (16, 32, 3), {"pads": [1, 1], "strides": [2]}),
    ((2, 1, 100), (4, 1, 5), {"pads": [2, 2], "strides": [2]}),
    ((2, 6, 9, 11), (4, 3, 3, 3), {"pads": [1, 1, 1, 1], "strides": [2, 2], "group": 2}),
    ((1, 3, 8, 20), (9, 3, 3, 3), {"pads": [1, 0, 1, 0], "dilations": [1, 2]}),
    ((1, 16, 8, 8), (32, 16, 1, 1), {}),
    ((1, 4, 7, 7), (4, 1, 3, 3), {"pads": [1, 1, 1, 1], "group": 4}),
]


def qlinear_conv_model(xs, ws, attrs, x_type, w_type, per_channel, seed, weight_bits=8, opset=13):
    rng = np.random.default_rng(seed)
    m = ws[0]
    wi = np.iinfo(w_type)
    if weight_bits == 7:
        w = rng.integers(-64, 64, ws) + (0 if w_type == np.int8 else 128)
    else:
        w = rng.integers(wi.min, wi.max + 1, ws)
    w = w.astype(w_type)
    n = m if per_channel else 1
    w_scale = rng.uniform(0.002, 0.02, n).astype(np.float32) if per_channel else np.array(0.01, np.float32)
    w_zp = (np.zeros(n, w_type) if w_type == np.int8 else rng.integers(100, 156, n).astype(w_type))
    if not per_channel:
        w_zp = np.array(w_zp[0], w_type)
    xi = np.iinfo(x_type)
    inits = {"xs": np.array(0.05, np.float32), "xz": np.array(xi.min + 100 if x_type == np.uint8 else -3, x_type),
             "w": w, "ws": w_scale, "wz": w_zp, "ys": np.array(0.5, np.float32),
             "yz": np.array(120 if x_type == np.uint8 else 5, x_type),
             "b": rng.integers(-5000, 5000, m).astype(np.int32)}
    model = make_model(
        [node("QuantizeLinear", ["x", "xs", "xz"], ["xq"]),
         node("QLinearConv", ["xq", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["yq"], **attrs),
         node("DequantizeLinear", ["yq", "ys", "yz"], ["y"])],
        [("x", list(xs))], ["y", ("yq", helper.np_dtype_to_tensor_dtype(np.dtype(x_type)))], inits, opset=opset)
    x = (rng.standard_normal(xs) * 3).astype(np.float32)
    return model, x


@pytest.mark.parametrize("case", range(len(CONV_CASES)))
@pytest.mark.parametrize("types", [(np.uint8, np.int8), (np.int8, np.int8), (np.uint8, np.uint8)])
@pytest.mark.parametrize("per_channel", [False, True])
def test_qlinear_conv_matches_onnxruntime(case, types, per_channel):
    """7-bit weights: onnxruntime's AVX2 kernel (u8 x s8 pairs summed in saturating int16) is
    exact there, so drsn must give the same codes."""
    xs, ws, attrs = CONV_CASES[case]
    model, x = qlinear_conv_model(xs, ws, attrs, *types, per_channel, seed=case, weight_bits=7)
    want_y, want_q = ort_run(model, {"x": x})
    got_y, got_q = drsn_run(model, [x])
    np.testing.assert_array_equal(got_q, want_q.astype(np.float32))
    np.testing.assert_array_equal(got_y, want_y)


@pytest.mark.parametrize("case", [i for i, c in enumerate(CONV_CASES) if len(c[0]) == 4])
@pytest.mark.parametrize("types", [(np.uint8, np.int8), (np.int8, np.uint8)])
def test_qlinear_conv_full_range_weights_match_onnx_reference(case, types):
    """Full 8-bit weights and nonzero zero points: exact against ONNX's reference evaluator,
    up to one code where its float64 requantization and the float32 one the runtimes use
    round differently (its per-channel path handles 2-D convolutions only; the kernel tests
    cover 1-D the same way)."""
    xs, ws, attrs = CONV_CASES[case]
    model, x = qlinear_conv_model(xs, ws, attrs, *types, per_channel=True, seed=100 + case, opset=19)
    want_y, want_q = ReferenceEvaluator(model).run(None, {"x": x})
    got_y, got_q = drsn_run(model, [x])
    diff = np.abs(got_q - want_q.astype(np.float32))
    assert diff.max() <= 1
    assert np.mean(diff > 0) < 0.01


def test_qlinear_conv_isa_variants_agree_bit_for_bit(tmp_path):
    """Integer convolution: every ISA variant the CPU can run gives the same codes."""
    xs, ws, attrs = CONV_CASES[3]
    model, x = qlinear_conv_model(xs, ws, attrs, np.uint8, np.int8, True, seed=5)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    np.save(tmp_path / "x.npy", x)
    script = ("import sys, numpy as np, drsn; m = drsn.Model(sys.argv[1]); "
              "np.save(sys.argv[3], m.run([np.load(sys.argv[2])])[1])")
    results = {}
    for isa in ["baseline", "avx2", "avx512"]:
        env = dict(os.environ, DRSN_FORCE_ISA=isa, PYTHONPATH=str(REPO / "bindings" / "python"))
        out = tmp_path / f"{isa}.npy"
        r = subprocess.run([sys.executable, "-c", script, str(path), str(tmp_path / "x.npy"), str(out)], env=env,
                           capture_output=True, text=True)
        assert r.returncode == 0 or isa != "baseline", r.stderr
        if r.returncode == 0 and out.exists():
            results[isa] = np.load(out)
    assert "baseline" in results and len(results) >= 2, results.keys()
    for isa, q in results.items():
        np.testing.assert_array_equal(q, results["baseline"], err_msg=isa)


# ---- onnxruntime-quantized DRSNs ----------------------------------------------------------

CONFIGS = [("u8", False), ("u8", True), ("s8", False), ("s8", True)]


def assert_qdq_semantics(got: np.ndarray, reference: np.ndarray, fp: np.ndarray) -> None:
    """drsn against the QDQ graph evaluated operator by operator (onnxruntime, unoptimised:
    float convolutions on dequantized weights). drsn accumulates convolutions exactly in
    int32, so where a float sum lies within rounding of a quantization boundary the two
    pick neighbouring codes; such flips stay well below the quantization error itself
    (measured: 0-8% of it on the small models, 21% on the wide one, whose 19 convolutions
    over 2048 positions give the most boundary cases): mean |drsn - reference| <= 30% of
    mean |reference - float model|, drsn no further from the float model than the
    reference (+10%), and the same class for >= 99% of the samples."""
    err = np.abs(reference - fp).mean()
    assert np.abs(got - reference).mean() <= 0.3 * err
    assert np.abs(got - fp).mean() <= 1.1 * err
    assert np.mean(got.argmax(1) == reference.argmax(1)) >= 0.99


def quantized(source: Path, out: Path, activation: str, per_channel: bool, seed: int = 0) -> np.ndarray:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    m = onnx.load(source)
    name = m.graph.input[0].name
    dims = [d.dim_value or 1 for d in m.graph.input[0].type.tensor_type.shape.dim]
    rng = np.random.default_rng(seed)
    data = [rng.standard_normal([1] + dims[1:]).astype(np.float32) for _ in range(8)]

    class Reader(CalibrationDataReader):
        def get_next(self):
            return {name: data.pop()} if data else None

    quantize_static(str(source), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                    activation_type=QuantType.QUInt8 if activation == "u8" else QuantType.QInt8,
                    weight_type=QuantType.QInt8)
    return rng.standard_normal([64] + dims[1:]).astype(np.float32)


def model_sources() -> list:
    names = [BENCH / f"{n}.onnx" for n in ("drsn_cw_1d", "drsn_cs_1d", "drsn_cw_2d", "drsn_cw_1d_wide")]
    names.append(BEARING / "model" / "drsn_cwru.onnx")
    names += [REPO / "Tests" / "models" / "zoo" / f"{n}.onnx" for n in ("ref_cs_1d.ts17", "post_cw_1d.ts17")]
    return names


# the wide model in one configuration (time); the others in all four
DRSN_CASES = [(source, act, pc) for source in model_sources() for act, pc in CONFIGS
              if not source.name.startswith("drsn_cw_1d_wide") or (act, pc) == ("u8", True)]


@pytest.mark.parametrize("source,activation,per_channel", DRSN_CASES,
                         ids=lambda v: v.stem if isinstance(v, Path) else str(v))
def test_quantized_drsn_matches_onnxruntime(source, activation, per_channel, tmp_path):
    """Random inputs for the random-weight models, the shipped CWRU windows for the trained
    bearing model. Against onnxruntime's own int8 execution (optimised: QLinear* kernels,
    which approximate the QDQ graph differently): at least as close to it on average as it
    is to the float model, and the same class as often as onnxruntime's int8 execution
    agrees with its own QDQ evaluation, and on >= 99% of inputs where that one does."""
    assert source.exists(), source
    path = tmp_path / "q.onnx"
    x = quantized(source, path, activation, per_channel)
    if source.name == "drsn_cwru.onnx":
        x, _ = bearing_windows(64)
    name = onnx.load(path).graph.input[0].name
    fp = ort_run(str(source), {name: x})[0]
    reference = ort_run(str(path), {name: x})[0]            # the QDQ graph, operator by operator
    ort_int8 = ort_run(str(path), {name: x}, optimize=True)[0]  # onnxruntime's own int8 execution
    with drsn.Model(str(path)) as m:
        got = m.run([x])[0]
        steps = m.summary()["plan_steps"]
    assert steps.get("qlinearConv", 0) > 0 and steps.get("conv", 0) == 0, steps
    assert_qdq_semantics(got, reference, fp)
    # where onnxruntime's int8 kernels depart from its own QDQ evaluation (on the wide model
    # as far as from the float model), drsn is held to how close that evaluation is
    bar = max(np.abs(ort_int8 - fp).mean(), 1.1 * np.abs(ort_int8 - reference).mean())
    assert np.abs(got - ort_int8).mean() <= bar
    ort_self = np.mean(ort_int8.argmax(1) == reference.argmax(1))
    assert np.mean(got.argmax(1) == ort_int8.argmax(1)) >= min(0.99, ort_self)


@pytest.mark.parametrize("name", ["drsn_cw_1d.onnx", "drsn_cw_2d.legacy.onnx"])
def test_quantized_shared_fixtures(name, tmp_path):
    source = fixture(name)
    if source is None:
        pytest.skip(f"{name} not found")
    path = tmp_path / "q.onnx"
    x = quantized(source, path, "u8", True)
    feeds = {onnx.load(path).graph.input[0].name: x}
    reference = ort_run(str(path), feeds)[0]
    got = drsn_run(str(path), [x])[0]
    assert_qdq_semantics(got, reference, ort_run(str(source), feeds)[0])


def test_quantized_model_threads_and_batches_agree(tmp_path):
    """The integer convolution splits images over channel blocks at small batches: the same
    codes on 1 and 2 threads, and batch 64 equals 64 single runs."""
    path = tmp_path / "q.onnx"
    x = quantized(BENCH / "drsn_cw_2d.onnx", path, "u8", True)
    one = drsn_run(str(path), [x], num_threads=1)[0]
    two = drsn_run(str(path), [x], num_threads=2)[0]
    np.testing.assert_array_equal(one, two)
    with drsn.Model(str(path), num_threads=2) as m:
        singles = np.concatenate([m.run([x[i:i + 1]])[0] for i in range(0, 64, 9)])
    np.testing.assert_array_equal(singles, one[::9])


# ---- drsn.quantize and the shipped int8 bearing model ----------------------------------------

def bearing_windows(n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    raw = np.load(BEARING / "data" / "test_windows.npy")
    labels = np.load(BEARING / "data" / "test_labels.npy")
    if n is not None:
        raw, labels = raw[::len(raw) // n][:n], labels[::len(raw) // n][:n]
    w = raw.astype(np.float64)
    w = ((w - w.mean(1, keepdims=True)) / (w.std(1, keepdims=True) + 1e-8)).astype(np.float32)
    return w[:, None, :], labels


def test_drsn_quantize_reports_and_keeps_threshold_network_float(tmp_path):
    x, y = bearing_windows(40)
    out = tmp_path / "b.int8.onnx"
    report = drsn.quantize(BEARING / "model" / "drsn_cwru.onnx", x, out, labels=y)
    assert out.exists() and report.samples == 40
    assert report.integer_convolutions == report.convolutions == 19
    assert report.agreement >= 0.95 and report.int8_accuracy >= report.float_accuracy - 0.05
    assert any("fc1" in n for n in report.kept_float) and not any("conv" in n.lower() for n in report.kept_float)
    q = onnx.load(out)
    quantized_inputs = {i for n in q.graph.node if n.op_type == "DequantizeLinear" for i in n.output}
    for n in q.graph.node:
        if n.op_type == "Gemm":  # the threshold networks and the head read float tensors
            assert not set(n.input) & quantized_inputs, n.name
    assert "wrote" in report.summary() and "accuracy" in report.summary()
    # only the convolutions are quantized, and each QuantizeLinear -> QLinearConv ->
    # DequantizeLinear runs as one integer step reading and writing float32
    with drsn.Model(str(out)) as m:
        steps = m.summary()["plan_steps"]
    assert steps["qlinearConv"] == 19 and not {"quantizeLinear", "dequantizeLinear", "quantizeDequantize"} & set(steps)
    everything = drsn.quantize(BEARING / "model" / "drsn_cwru.onnx", x, tmp_path / "all.onnx", keep_float="none")
    assert everything.kept_float == []


def test_drsn_quantize_rejects_bad_arguments(tmp_path):
    x, _ = bearing_windows(8)
    model = BEARING / "model" / "drsn_cwru.onnx"
    with pytest.raises(ValueError, match="activation_type"):
        drsn.quantize(model, x, tmp_path / "o.onnx", activation_type="u4")
    with pytest.raises(ValueError, match="NaN"):
        drsn.quantize(model, np.full_like(x, np.nan), tmp_path / "o.onnx")
    with pytest.raises(ValueError, match="labels"):
        drsn.quantize(model, x, tmp_path / "o.onnx", labels=np.zeros(3))
    with pytest.raises(ValueError, match="does not have"):
        drsn.quantize(model, x, tmp_path / "o.onnx", keep_float=["no_such_node"])


def test_cli_quantize(tmp_path):
    x, y = bearing_windows(16)
    np.save(tmp_path / "cal.npy", x)
    np.save(tmp_path / "labels.npy", y)
    env = dict(os.environ, PYTHONPATH=str(REPO / "bindings" / "python"))
    cmd = [sys.executable, "-m", "drsn", "quantize", str(BEARING / "model" / "drsn_cwru.onnx"), str(tmp_path / "cal.npy"),
           "-o", str(tmp_path / "q.onnx"), "--labels", str(tmp_path / "labels.npy"), "--activation-type", "s8"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "19 of 19 convolutions" in r.stdout and "activations s8" in r.stdout and "accuracy" in r.stdout
    r = subprocess.run(cmd[:-2] + ["--keep-float", "nope"], env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "does not have" in r.stderr


def test_shipped_int8_bearing_model_keeps_accuracy():
    """examples/bearing/model/drsn_cwru.int8.onnx (examples/bearing/quantize_model.py): on the
    320 shipped windows, accuracy within 0.5 points of fp32 and the same predictions as
    onnxruntime's int8 execution of the same file on >= 99% of them."""
    x, y = bearing_windows()
    fp = drsn_run(str(BEARING / "model" / "drsn_cwru.onnx"), [x])[0]
    q = drsn_run(str(BEARING / "model" / "drsn_cwru.int8.onnx"), [x])[0]
    ort_q = ort_run(str(BEARING / "model" / "drsn_cwru.int8.onnx"), {"signal": x}, optimize=True)[0]
    acc_fp, acc_q = np.mean(fp.argmax(1) == y), np.mean(q.argmax(1) == y)
    assert acc_q >= acc_fp - 0.005, (acc_fp, acc_q)
    assert np.mean(q.argmax(1) == ort_q.argmax(1)) >= 0.99
