"""Static int8 quantization of DRSN models with onnxruntime's quantizer (QDQ format).

    import numpy as np, drsn
    report = drsn.quantize("model.onnx", np.load("calibration.npy"), "model.int8.onnx")
    print(report.summary())

drsn does not quantize by itself: :func:`quantize` drives
``onnxruntime.quantization.quantize_static`` (``pip install "drsn[quantize]"``) with the
settings that suit DRSNs, then loads both files with drsn and reports how much the int8
model's outputs move on the calibration data. drsn runs the result with integer
convolutions (every ``DequantizeLinear -> Conv -> QuantizeLinear`` becomes a QLinearConv).

Defaults:

- per-channel weight scales (``per_channel=True``), s8 weights, u8 activations;
- **only the convolutions are quantized** (``operators=("Conv",)``): each becomes
  ``QuantizeLinear -> QLinearConv -> DequantizeLinear``, which drsn runs as one integer
  convolution step that reads and writes float32 (it quantizes while packing its input
  and dequantizes while writing its output), so everything between the convolutions (the
  shrinkage, BatchNorm, the residual adds) stays float32 at no cost. ``operators="all"``
  gives onnxruntime's default set (Add, Mul, pooling, Sigmoid, ... too), which adds a
  quantize-dequantize pass after each of those operators;
- the **threshold networks and the head stay float** (``keep_float="threshold+head"``):
  every node that works on ``[batch, features]`` tensors (the shrinkage units' FC -> BN ->
  ReLU -> FC -> sigmoid and the classifier) is excluded from quantization. Those layers
  are a small share of the work, and a threshold rounded to 256 levels shifts which
  features soft thresholding zeroes. ``keep_float="none"`` quantizes them too;
  ``keep_float=[names]`` names the nodes to keep.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

__all__ = ["QuantizationReport", "quantize", "threshold_and_head_nodes"]

KEEP_FLOAT_DEFAULT = "threshold+head"
CALIBRATION_METHODS = ("minmax", "entropy", "percentile")
ACTIVATION_TYPES = ("u8", "s8")


def _require_onnxruntime() -> Any:
    try:
        import onnx  # noqa: F401
        from onnxruntime import quantization
    except ImportError as exc:  # pragma: no cover - exercised without the extra
        raise ImportError(
            "drsn.quantize needs onnxruntime and onnx: pip install \"drsn[quantize]\" "
            f"(or pip install onnxruntime onnx): {exc}") from exc
    return quantization


@dataclasses.dataclass
class QuantizationReport:
    """What :func:`quantize` did and how the int8 model compares with the float model on
    the calibration inputs (both run by drsn)."""

    output: str
    samples: int
    operators: str
    per_channel: bool
    activation_type: str
    calibration_method: str
    kept_float: List[str]
    #: argmax of output 0 equal between the float and the int8 model (fraction)
    agreement: float
    #: largest and mean absolute difference of output 0
    max_abs_diff: float
    mean_abs_diff: float
    #: accuracy of each model against `labels`, when given
    float_accuracy: Optional[float] = None
    int8_accuracy: Optional[float] = None
    #: quantized convolutions drsn runs on integers (QLinearConv steps) / all convolutions
    integer_convolutions: int = 0
    convolutions: int = 0

    def summary(self) -> str:
        lines = [
            f"wrote {self.output}",
            f"  calibration: {self.samples} samples, {self.calibration_method}; quantized operators: {self.operators}; "
            f"weights s8 {'per channel' if self.per_channel else 'per tensor'}, activations {self.activation_type}",
            f"  kept float: {len(self.kept_float)} nodes"
            + (f" ({', '.join(self.kept_float[:6])}{', ...' if len(self.kept_float) > 6 else ''})"
               if self.kept_float else ""),
            f"  drsn runs {self.integer_convolutions} of {self.convolutions} convolutions on int8",
            f"  on the calibration set: predicted class unchanged for {100 * self.agreement:.2f}% of inputs; "
            f"output 0 moved by {self.mean_abs_diff:.4g} on average, {self.max_abs_diff:.4g} at most",
        ]
        if self.float_accuracy is not None and self.int8_accuracy is not None:
            lines.append(f"  accuracy: float {100 * self.float_accuracy:.2f}%, int8 {100 * self.int8_accuracy:.2f}% "
                         f"({100 * (self.int8_accuracy - self.float_accuracy):+.2f} points)")
        return "\n".join(lines)


def threshold_and_head_nodes(model: Any) -> List[str]:
    """Names of the nodes of an ONNX model (``onnx.ModelProto``) that work on rank-2
    ``[batch, features]`` tensors: a DRSN's threshold networks and its classifier head.
    Shapes come from ONNX shape inference; a node counts when any of its float inputs or
    outputs has rank 2 (Flatten/Reshape/Squeeze into rank 2 included)."""
    import onnx

    inferred = onnx.shape_inference.infer_shapes(model)
    ranks: Dict[str, int] = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.input) + list(inferred.graph.output):
        t = vi.type.tensor_type
        if t.HasField("shape"):
            ranks[vi.name] = len(t.shape.dim)
    initializers = {i.name for i in inferred.graph.initializer}
    names = []
    for node in inferred.graph.node:
        if node.op_type in ("Constant", "Shape"):
            continue
        values = [v for v in list(node.input) + list(node.output) if v and v not in initializers]
        if any(ranks.get(v) == 2 for v in values):
            names.append(node.name)
    return names


class _Reader:
    def __init__(self, name: str, data: np.ndarray, batch: int):
        self.name, self.data, self.batch, self.position = name, data, batch, 0

    def get_next(self) -> Optional[Dict[str, np.ndarray]]:
        if self.position >= len(self.data):
            return None
        chunk = self.data[self.position:self.position + self.batch]
        self.position += self.batch
        return {self.name: np.ascontiguousarray(chunk, dtype=np.float32)}

    def rewind(self) -> None:
        self.position = 0


def quantize(model: Union[str, os.PathLike], calibration: np.ndarray, output: Union[str, os.PathLike], *,
             per_channel: bool = True, activation_type: str = "u8", calibration_method: str = "minmax",
             keep_float: Union[str, Sequence[str]] = KEEP_FLOAT_DEFAULT, labels: Optional[np.ndarray] = None,
             reduce_range: bool = False, batch: int = 16,
             operators: Union[str, Sequence[str]] = ("Conv",)) -> QuantizationReport:
    """Quantizes the float ONNX model ``model`` to QDQ int8 at ``output`` with onnxruntime's
    ``quantize_static``, calibrated on ``calibration`` (float32 array shaped like the
    model's single input, samples along axis 0), and compares float and int8 outputs on
    the calibration samples with drsn. ``labels`` (int array, one per sample) adds
    accuracies to the report. Raises ValueError for bad arguments and drsn errors when
    drsn cannot load either model."""
    quantization = _require_onnxruntime()
    import onnx

    from ._model import Model

    if activation_type not in ACTIVATION_TYPES:
        raise ValueError(f"activation_type must be one of {ACTIVATION_TYPES}, got {activation_type!r}")
    if calibration_method not in CALIBRATION_METHODS:
        raise ValueError(f"calibration_method must be one of {CALIBRATION_METHODS}, got {calibration_method!r}")
    data = np.asarray(calibration)
    if data.dtype != np.float32:
        data = data.astype(np.float32)
    if data.ndim < 2 or len(data) == 0:
        raise ValueError(f"calibration must hold samples along axis 0 (shape [N, ...]), got shape {data.shape}")
    if not np.all(np.isfinite(data)):
        raise ValueError("calibration data contains NaN or infinite values")
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if len(labels) != len(data):
            raise ValueError(f"{len(labels)} labels for {len(data)} calibration samples")
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    if isinstance(operators, str):
        if operators != "all":
            raise ValueError(f"operators must be 'all' or a list of ONNX operator types, got {operators!r}")
        op_types = None
    else:
        op_types = list(operators)
        if not op_types:
            raise ValueError("operators lists no operator to quantize")

    model, output = os.fspath(model), os.fspath(output)
    proto = onnx.load(model)
    inputs = [i for i in proto.graph.input if i.name not in {t.name for t in proto.graph.initializer}]
    if len(inputs) != 1:
        raise ValueError(f"drsn.quantize handles models with one input; {model} has {len(inputs)}")
    if isinstance(keep_float, str):
        if keep_float == KEEP_FLOAT_DEFAULT:
            kept = threshold_and_head_nodes(proto)
        elif keep_float == "none":
            kept = []
        else:
            raise ValueError(f"keep_float must be {KEEP_FLOAT_DEFAULT!r}, 'none' or a list of node names")
    else:
        kept = list(keep_float)
        unknown = sorted(set(kept) - {n.name for n in proto.graph.node})
        if unknown:
            raise ValueError(f"keep_float names nodes the model does not have: {', '.join(unknown[:5])}")

    q = quantization
    method = {"minmax": q.CalibrationMethod.MinMax, "entropy": q.CalibrationMethod.Entropy,
              "percentile": q.CalibrationMethod.Percentile}[calibration_method]
    with tempfile.TemporaryDirectory() as tmp:
        source = model
        try:  # shape inference and graph cleanup, as onnxruntime recommends before quantizing
            from onnxruntime.quantization.shape_inference import quant_pre_process
            prepared = os.path.join(tmp, "prepared.onnx")
            quant_pre_process(model, prepared, skip_symbolic_shape=True)
            source = prepared
            # pre-processing may rename nothing but can drop nodes: keep only names that survive
            names = {n.name for n in onnx.load(prepared).graph.node}
            kept = [k for k in kept if k in names]
        except Exception:  # noqa: BLE001 - pre-processing is an optimisation, never required
            source = model
        q.quantize_static(
            source, output, _Reader(inputs[0].name, data, batch),
            quant_format=q.QuantFormat.QDQ, per_channel=per_channel, reduce_range=reduce_range,
            activation_type=q.QuantType.QUInt8 if activation_type == "u8" else q.QuantType.QInt8,
            weight_type=q.QuantType.QInt8, calibrate_method=method, nodes_to_exclude=kept,
            op_types_to_quantize=op_types)

    with Model(model) as fm, Model(output) as qm:
        ref, got = [], []
        for start in range(0, len(data), 256):
            chunk = np.ascontiguousarray(data[start:start + 256])
            ref.append(fm.run([chunk])[0])
            got.append(qm.run([chunk])[0])
        summary = qm.summary()
    ref_a, got_a = np.concatenate(ref), np.concatenate(got)
    diff = np.abs(ref_a.astype(np.float64) - got_a)
    report = QuantizationReport(
        output=output, samples=len(data), operators="all" if op_types is None else ",".join(op_types),
        per_channel=per_channel, activation_type=activation_type,
        calibration_method=calibration_method, kept_float=kept,
        agreement=float(np.mean(ref_a.reshape(len(data), -1).argmax(1) == got_a.reshape(len(data), -1).argmax(1))),
        max_abs_diff=float(diff.max()) if diff.size else 0.0, mean_abs_diff=float(diff.mean()) if diff.size else 0.0)
    steps = summary.get("plan_steps", {})
    report.integer_convolutions = int(steps.get("qlinearConv", 0))
    report.convolutions = report.integer_convolutions + int(steps.get("conv", 0))
    if labels is not None:
        report.float_accuracy = float(np.mean(ref_a.reshape(len(data), -1).argmax(1) == labels))
        report.int8_accuracy = float(np.mean(got_a.reshape(len(data), -1).argmax(1) == labels))
    return report
