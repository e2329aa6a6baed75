"""Builders for the DRSN sub-graphs used by several test modules: the RSBU threshold
network, the soft-thresholding formulations found in real DRSN code, the TorchScript
exporter's channel-padding chain, and a whole residual shrinkage unit."""

import numpy as np
from onnx import TensorProto, numpy_helper

from oracle import INT64_MAX, i64, node


def rand(rng, *shape, low=-1.0, high=1.0):
    return rng.uniform(low, high, size=shape).astype(np.float32)


def f32(value):
    return np.array(value, dtype=np.float32)


FORMULATIONS = ["relu", "max_zero", "clip", "where"]


def threshold_net(rng, nodes, inits, x, c, spatial_axes, variant, prefix="t"):
    """Appends the RSBU threshold sub-network on |x| and returns the name of tau,
    shaped [N,C,1(,1)] (CW) or [N,1,1(,1)] (CS)."""
    p = prefix
    nodes += [
        node("Abs", [x], [f"{p}_abs"]),
        node("GlobalAveragePool", [f"{p}_abs"], [f"{p}_gap"]),
        node("Flatten", [f"{p}_gap"], [f"{p}_a"], axis=1),                       # [N,C]
        node("Gemm", [f"{p}_a", f"{p}_w1", f"{p}_b1"], [f"{p}_h1"], transB=1),
        node("BatchNormalization", [f"{p}_h1", f"{p}_s", f"{p}_bb", f"{p}_m", f"{p}_v"], [f"{p}_bn"]),
        node("Relu", [f"{p}_bn"], [f"{p}_r"]),
    ]
    out = c if variant == "CW" else 1
    nodes += [node("Gemm", [f"{p}_r", f"{p}_w2", f"{p}_b2"], [f"{p}_h2"], transB=1),
              node("Sigmoid", [f"{p}_h2"], [f"{p}_z"])]                          # [N,out]
    if variant == "CW":
        nodes.append(node("Mul", [f"{p}_a", f"{p}_z"], [f"{p}_tau"]))          # [N,C]
    else:
        nodes += [node("ReduceMean", [f"{p}_a"], [f"{p}_am"], axes=[1], keepdims=1),  # [N,1]
                  node("Mul", [f"{p}_am", f"{p}_z"], [f"{p}_tau"])]
    nodes.append(node("Unsqueeze", [f"{p}_tau", f"{p}_axes"], [f"{p}_t"]))
    inits.update({
        f"{p}_w1": rand(rng, c, c), f"{p}_b1": rand(rng, c), f"{p}_s": rand(rng, c, low=0.5, high=1.5),
        f"{p}_bb": rand(rng, c), f"{p}_m": rand(rng, c, low=-0.2, high=0.2), f"{p}_v": rand(rng, c, low=0.5, high=2.0),
        f"{p}_w2": rand(rng, out, c), f"{p}_b2": rand(rng, out), f"{p}_axes": i64(*spatial_axes),
    })
    return f"{p}_t"


def soft_threshold(nodes, inits, x, t, formulation, p="st"):
    """Appends y = soft_threshold(x, t) in one of the formulations found in DRSN code."""
    if formulation == "relu":          # sign(x) * relu(|x| - t)
        nodes += [node("Abs", [x], [f"{p}_ax"]), node("Sub", [f"{p}_ax", t], [f"{p}_d"]),
                  node("Relu", [f"{p}_d"], [f"{p}_r"]), node("Sign", [x], [f"{p}_sg"]),
                  node("Mul", [f"{p}_sg", f"{p}_r"], [f"{p}_y"])]
    elif formulation == "max_zero":    # sign(x) * max(|x| - t, (|x| - t) - (|x| - t))
        nodes += [node("Abs", [x], [f"{p}_ax"]), node("Sub", [f"{p}_ax", t], [f"{p}_d"]),
                  node("Sub", [f"{p}_d", f"{p}_d"], [f"{p}_zero"]),
                  node("Max", [f"{p}_d", f"{p}_zero"], [f"{p}_r"]), node("Sign", [x], [f"{p}_sg"]),
                  node("Mul", [f"{p}_sg", f"{p}_r"], [f"{p}_y"])]
    elif formulation == "clip":        # sign(x) * clip(|x| - t, min=0)
        inits[f"{p}_zero"] = f32(0.0)
        nodes += [node("Abs", [x], [f"{p}_ax"]), node("Sub", [f"{p}_ax", t], [f"{p}_d"]),
                  node("Clip", [f"{p}_d", f"{p}_zero"], [f"{p}_r"]), node("Sign", [x], [f"{p}_sg"]),
                  node("Mul", [f"{p}_sg", f"{p}_r"], [f"{p}_y"])]
    elif formulation == "where":       # where(x > t, x - t, where(x < -t, x + t, 0))
        inits[f"{p}_zero"] = f32(0.0)
        nodes += [node("Greater", [x, t], [f"{p}_gt"]), node("Sub", [x, t], [f"{p}_xm"]),
                  node("Neg", [t], [f"{p}_nt"]), node("Less", [x, f"{p}_nt"], [f"{p}_lt"]),
                  node("Add", [x, t], [f"{p}_xp"]),
                  node("Where", [f"{p}_lt", f"{p}_xp", f"{p}_zero"], [f"{p}_inner"]),
                  node("Where", [f"{p}_gt", f"{p}_xm", f"{p}_inner"], [f"{p}_y"])]
    else:
        raise ValueError(formulation)
    return f"{p}_y"


def torchscript_pad(nodes, inits, x, rank, torch_pads, p="pad"):
    """F.pad(x, torch_pads) as the TorchScript exporter writes it (opset 11+):
    ConstantOfShape -> Concat -> Reshape -> Slice(step -1) -> Transpose -> Reshape -> Cast -> Pad."""
    nodes += [
        node("Constant", [], [f"{p}_n"], value=numpy_helper.from_array(i64(2 * rank - len(torch_pads)))),
        node("Constant", [], [f"{p}_list"], value=numpy_helper.from_array(i64(*torch_pads))),
        node("ConstantOfShape", [f"{p}_n"], [f"{p}_zeros"], value=numpy_helper.from_array(i64(0))),
        node("Concat", [f"{p}_list", f"{p}_zeros"], [f"{p}_cat"], axis=0),
        node("Constant", [], [f"{p}_s1"], value=numpy_helper.from_array(i64(-1, 2))),
        node("Reshape", [f"{p}_cat", f"{p}_s1"], [f"{p}_pairs"], allowzero=0),
        node("Constant", [], [f"{p}_axes"], value=numpy_helper.from_array(i64(0))),
        node("Constant", [], [f"{p}_starts"], value=numpy_helper.from_array(i64(-1))),
        node("Constant", [], [f"{p}_ends"], value=numpy_helper.from_array(i64(-INT64_MAX))),
        node("Constant", [], [f"{p}_steps"], value=numpy_helper.from_array(i64(-1))),
        node("Slice", [f"{p}_pairs", f"{p}_starts", f"{p}_ends", f"{p}_axes", f"{p}_steps"], [f"{p}_rev"]),
        node("Transpose", [f"{p}_rev"], [f"{p}_tr"], perm=[1, 0]),
        node("Constant", [], [f"{p}_s2"], value=numpy_helper.from_array(i64(-1))),
        node("Reshape", [f"{p}_tr", f"{p}_s2"], [f"{p}_flat"], allowzero=0),
        node("Cast", [f"{p}_flat"], [f"{p}_pads"], to=TensorProto.INT64),
        node("Pad", [x, f"{p}_pads", f"{p}_value"], [f"{p}_y"], mode="constant"),
    ]
    inits[f"{p}_value"] = f32(0.0)
    return f"{p}_y"


def rsbu(rng, nodes, inits, x, c_in, c_out, stride, p, spatial_axes, variant="CW", formulation="relu"):
    """Appends a pre-activation residual shrinkage unit (BN-ReLU-Conv-BN-ReLU-Conv, threshold
    net, soft thresholding, shortcut) and returns its output name. A unit that changes
    stride or width uses the fixtures' shortcut: AveragePool(k1, stride) and zero channels
    padded with the TorchScript chain."""
    kernel = [3] * len(spatial_axes)
    ones = [1] * len(spatial_axes)

    def bn(inp, c, name):
        inits.update({f"{name}_s": rand(rng, c, low=0.5, high=1.5), f"{name}_b": rand(rng, c, low=-0.2, high=0.2),
                      f"{name}_m": rand(rng, c, low=-0.2, high=0.2), f"{name}_v": rand(rng, c, low=0.5, high=1.5)})
        nodes.append(node("BatchNormalization", [inp, f"{name}_s", f"{name}_b", f"{name}_m", f"{name}_v"],
                          [f"{name}_y"]))
        return f"{name}_y"

    h = bn(x, c_in, f"{p}_bn1")
    nodes.append(node("Relu", [h], [f"{p}_r1"]))
    inits[f"{p}_w1"] = rand(rng, c_out, c_in, *kernel) * 0.5
    nodes.append(node("Conv", [f"{p}_r1", f"{p}_w1"], [f"{p}_c1"], kernel_shape=kernel,
                      pads=ones * 2, strides=[stride] * len(kernel)))
    h = bn(f"{p}_c1", c_out, f"{p}_bn2")
    nodes.append(node("Relu", [h], [f"{p}_r2"]))
    inits[f"{p}_w2"] = rand(rng, c_out, c_out, *kernel) * 0.5
    nodes.append(node("Conv", [f"{p}_r2", f"{p}_w2"], [f"{p}_c2"], kernel_shape=kernel, pads=ones * 2))
    t = threshold_net(rng, nodes, inits, f"{p}_c2", c_out, spatial_axes, variant, prefix=f"{p}_t")
    r = soft_threshold(nodes, inits, f"{p}_c2", t, formulation, p=f"{p}_st")
    shortcut = x
    if stride != 1 or c_in != c_out:
        nodes.append(node("AveragePool", [x], [f"{p}_pool"], kernel_shape=ones, strides=[stride] * len(ones)))
        rank = 2 + len(spatial_axes)
        extra = c_out - c_in
        torch_pads = [0, 0] * len(spatial_axes) + [extra // 2, extra - extra // 2]
        shortcut = torchscript_pad(nodes, inits, f"{p}_pool", rank, torch_pads, p=f"{p}_pad")
    nodes.append(node("Add", [r, shortcut], [f"{p}_out"]))
    return f"{p}_out"
