"""ConvTranspose (1-D and 2-D) against onnxruntime: strides, pads, dilations, groups,
output_padding, output_shape, auto_pad (NOTSET, SAME_UPPER, SAME_LOWER, VALID), bias,
odd sizes, several opsets, a run split over two threads, the errors for what drsn refuses,
and the ONNX backend node tests (test_convtranspose*). Graphs have a dynamic batch "N"
(oracle.check runs batch 1 and 7 on one loaded model, then the model compiled with N
fixed)."""

import numpy as np
import pytest

import drsn
from node_cases import cases, run_case
from oracle import check, make_model, node, seed_rng_per_test  # noqa: F401 (autouse: re-seeds RNG)

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.uniform(-1.0, 1.0, size=shape).astype(np.float32)


def conv_transpose_model(cin, cout, spatial, kernel, *, group=1, bias=True, opset=17, **attrs):
    """x [N, cin, *spatial] -> ConvTranspose with weights [cin, cout / group, *kernel]."""
    w = rand(cin, cout // group, *kernel)
    inits = {"w": w}
    inputs = ["x", "w"]
    if bias:
        inits["b"] = rand(cout)
        inputs.append("b")
    if group != 1:
        attrs["group"] = group
    return make_model([node("ConvTranspose", inputs, ["y"], **attrs)], [("x", ["N", cin, *spatial])], ["y"],
                      inits, opset=opset)


# (cin, cout, length, kernel, attributes)
CASES_1D = {
    "k3": (3, 4, 9, 3, {}),
    "k1": (5, 3, 7, 1, {}),
    "s2_k4_p1": (4, 6, 11, 4, dict(strides=[2], pads=[1, 1])),
    "s2_k3_op1": (3, 5, 8, 3, dict(strides=[2], pads=[1, 1], output_padding=[1])),
    "s3_k5_asym": (2, 3, 13, 5, dict(strides=[3], pads=[2, 0])),
    "s3_op2": (2, 3, 6, 2, dict(strides=[3], output_padding=[2])),
    "dil2": (3, 4, 10, 3, dict(dilations=[2])),
    "dil3_s2": (3, 2, 7, 3, dict(dilations=[3], strides=[2], pads=[1, 2])),
    "op_dilation": (2, 2, 5, 3, dict(dilations=[3], strides=[2], output_padding=[1])),
    "kernel_shape_attr": (2, 3, 6, 3, dict(kernel_shape=[3])),
    "stride_gt_kernel": (3, 3, 5, 2, dict(strides=[4])),
    "long": (4, 8, 301, 8, dict(strides=[2], pads=[3, 3])),
    "pads_cut_all_taps": (2, 3, 6, 3, dict(pads=[2, 2])),
}


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("case", CASES_1D)
def test_conv_transpose_1d(case, bias):
    cin, cout, length, k, attrs = CASES_1D[case]
    check(conv_transpose_model(cin, cout, [length], [k], bias=bias, **attrs))


# (cin, cout, (H, W), (kH, kW), attributes)
CASES_2D = {
    "k3": (3, 4, (5, 6), (3, 3), {}),
    "k2_s2": (4, 3, (4, 5), (2, 2), dict(strides=[2, 2])),
    "k4_s2_p1": (3, 5, (7, 5), (4, 4), dict(strides=[2, 2], pads=[1, 1, 1, 1])),
    "k3_s2_p1_op1": (2, 4, (5, 5), (3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])),
    "rect_kernel_asym": (3, 2, (6, 7), (2, 3), dict(strides=[1, 2], pads=[0, 1, 1, 0])),
    "mixed_strides_op": (2, 3, (5, 4), (3, 2), dict(strides=[3, 2], output_padding=[2, 1])),
    "dilations": (2, 3, (6, 5), (3, 3), dict(dilations=[2, 1], pads=[1, 0, 2, 1])),
    "dil_stride": (3, 2, (4, 5), (3, 2), dict(dilations=[2, 3], strides=[2, 2])),
    "k1x1_s2": (4, 4, (3, 5), (1, 1), dict(strides=[2, 2])),
    "odd_sizes": (5, 7, (9, 11), (5, 3), dict(strides=[2, 3], pads=[2, 1, 1, 1])),
    "wide": (8, 16, (12, 40), (3, 3), dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])),
}


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("case", CASES_2D)
def test_conv_transpose_2d(case, bias):
    cin, cout, hw, k, attrs = CASES_2D[case]
    check(conv_transpose_model(cin, cout, list(hw), list(k), bias=bias, **attrs))


GROUP_CASES = {
    "1d_g2": (4, 6, [9], [3], 2, dict(strides=[2], pads=[1, 0])),
    "1d_g3_op": (6, 3, [7], [4], 3, dict(strides=[2], output_padding=[1])),
    "1d_depthwise": (5, 5, [8], [3], 5, dict(strides=[2], pads=[1, 1], output_padding=[1])),
    "1d_depthwise_mult2": (4, 8, [10], [5], 4, dict(dilations=[2])),
    "2d_g2": (4, 4, [5, 6], [3, 3], 2, dict(strides=[2, 1], pads=[1, 1, 1, 1])),
    "2d_g4_s2": (8, 12, [4, 5], [2, 3], 4, dict(strides=[2, 2])),
    "2d_depthwise": (3, 3, [6, 5], [3, 3], 3, dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1])),
}


@pytest.mark.parametrize("case", GROUP_CASES)
def test_conv_transpose_groups(case):
    cin, cout, spatial, k, group, attrs = GROUP_CASES[case]
    check(conv_transpose_model(cin, cout, spatial, k, group=group, **attrs))


@pytest.mark.parametrize("opset", [10, 17])
@pytest.mark.parametrize("auto_pad", ["SAME_UPPER", "SAME_LOWER", "VALID", "NOTSET"])
@pytest.mark.parametrize("dims", [1, 2])
def test_conv_transpose_auto_pad(auto_pad, dims, opset):
    # odd total padding on some axes: which side gets the larger half matters (opset 10:
    # ConvTranspose-1, the same rules in onnxruntime)
    spatial, k, strides = ([7], [4], [3]) if dims == 1 else ([5, 4], [3, 4], [2, 3])
    check(conv_transpose_model(3, 4, spatial, k, auto_pad=auto_pad, strides=strides, opset=opset))


@pytest.mark.parametrize("auto_pad", [None, "SAME_UPPER", "SAME_LOWER", "VALID"])
@pytest.mark.parametrize("output_shape", ["smaller_odd", "smaller_even", "natural", "larger"])
@pytest.mark.parametrize("dims", [1, 2])
def test_conv_transpose_output_shape(output_shape, auto_pad, dims):
    # natural size: (in - 1) * stride + kernel = 4 * 2 + 3 = 11 (1-D); 11 x 12 (2-D); onnxruntime
    # accepts a larger output_shape only by less than the stride
    sizes = {"smaller_odd": [8, 9], "smaller_even": [9, 10], "natural": [11, 12], "larger": [12, 14]}
    spatial, k, strides = ([5], [3], [2]) if dims == 1 else ([5, 4], [3, 3], [2, 3])
    attrs = dict(strides=strides, output_shape=sizes[output_shape][:dims])
    if auto_pad is not None:
        attrs["auto_pad"] = auto_pad
    check(conv_transpose_model(2, 3, spatial, k, **attrs))


def test_conv_transpose_output_shape_ignores_pads():
    check(conv_transpose_model(2, 3, [6], [3], strides=[2], pads=[2, 2], output_shape=[12]))


def test_conv_transpose_output_shape_with_output_padding():
    check(conv_transpose_model(2, 3, [5, 5], [3, 3], strides=[2, 2], output_padding=[1, 1], output_shape=[10, 9]))


@pytest.mark.parametrize("opset", [7, 11, 13, 17, 21])
def test_conv_transpose_opsets(opset):
    check(conv_transpose_model(3, 4, [6, 5], [3, 3], group=1, opset=opset, strides=[2, 2], pads=[1, 1, 1, 1],
                               output_padding=[1, 0]))


@pytest.mark.parametrize("case", ["batch1_channel_split", "batch_split", "groups_split"])
def test_conv_transpose_two_threads(case):
    # batch 1: split over output channels (parts cutting across groups too); larger batches: over images
    if case == "batch1_channel_split":
        model = conv_transpose_model(16, 24, [40, 40], [4, 4], strides=[2, 2], pads=[1, 1, 1, 1])
    elif case == "batch_split":
        model = conv_transpose_model(8, 8, [64], [5], strides=[2], pads=[2, 2], output_padding=[1])
    else:
        model = conv_transpose_model(12, 18, [30, 30], [3, 3], group=3, strides=[2, 2])
    check(model, batches=(1, 3), num_threads=2)


def test_conv_transpose_decoder_chain():
    # a ConvTranspose1d decoder as exported from PyTorch: k4 s2 p1 doubling, ReLU between
    nodes = [node("ConvTranspose", ["x", "w1", "b1"], ["t1"], strides=[2], pads=[1, 1], kernel_shape=[4]),
             node("Relu", ["t1"], ["r1"]),
             node("ConvTranspose", ["r1", "w2", "b2"], ["y"], strides=[2], pads=[1, 1], kernel_shape=[4])]
    inits = {"w1": rand(8, 4, 4), "b1": rand(4), "w2": rand(4, 1, 4), "b2": rand(1)}
    check(make_model(nodes, [("x", ["N", 8, 16])], ["y"], inits))


def test_conv_transpose_runtime_weights():
    # weights and bias as graph inputs (not constants) work too
    model = make_model([node("ConvTranspose", ["x", "w", "b"], ["y"], strides=[2], pads=[0, 1])],
                       [("x", ["N", 3, 6]), ("w", [3, 2, 3]), ("b", [2])], ["y"])
    check(model, batches=(2,))


def test_conv_transpose_of_a_constant():
    # a constant input: the node stays (it is not folded) and runs on the constant
    nodes = [node("ConvTranspose", ["c", "w"], ["t"], strides=[2]), node("Add", ["t", "z"], ["y"])]
    check(make_model(nodes, [("z", ["N", 3, 11])], ["y"], {"c": rand(1, 2, 5), "w": rand(2, 3, 3)}))


def reference(x, w, b, strides, pads_begin, out_sizes, dilations, group):
    """ConvTranspose by its definition (float64 scatter): input position i and tap k land on
    output position i * stride - pad_begin + k * dilation."""
    n, c = x.shape[:2]
    spatial, kernel = x.shape[2:], w.shape[2:]
    mg = w.shape[1]
    y = np.zeros((n, mg * group) + tuple(out_sizes))
    for ci in range(c):
        g = ci // (c // group)
        for idx in np.ndindex(*spatial):
            for k in np.ndindex(*kernel):
                o = tuple(idx[a] * strides[a] - pads_begin[a] + k[a] * dilations[a] for a in range(len(spatial)))
                if all(0 <= o[a] < out_sizes[a] for a in range(len(spatial))):
                    y[(slice(None), slice(g * mg, (g + 1) * mg)) + o] += (
                        x[(slice(None), ci) + idx][:, None] * w[(ci, slice(None)) + k][None, :])
    if b is not None:
        y += b.reshape((1, -1) + (1,) * len(spatial))
    return y


@pytest.mark.usefixtures("needs_library")
def test_conv_transpose_output_padding_up_to_dilation():
    # ONNX allows output_padding < max(stride, dilation); onnxruntime refuses output_padding >=
    # stride, so this is checked against the definition instead
    w, b = rand(2, 3, 3), rand(3)
    model = make_model([node("ConvTranspose", ["x", "w", "b"], ["y"], dilations=[3], output_padding=[2])],
                       [("x", ["N", 2, 5])], ["y"], {"w": w, "b": b})
    x = rand(2, 2, 5)
    with drsn.Model(model.SerializeToString()) as m:
        got = m.run_dict({"x": x})["y"]
    want = reference(x, w, b, [1], [0], [4 + 2 + 7], [3], 1)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)


def _load_error(model):
    with pytest.raises(drsn.Error) as info:
        drsn.Model(model.SerializeToString())
    return str(info.value)


@pytest.mark.usefixtures("needs_library")
def test_conv_transpose_3d_is_refused():
    model = conv_transpose_model(2, 2, [3, 3, 3], [2, 2, 2])
    msg = _load_error(model)
    assert "ConvTranspose" in msg and "rank 3 (1-D) or 4 (2-D)" in msg, msg


@pytest.mark.usefixtures("needs_library")
def test_conv_transpose_output_padding_too_large_is_refused():
    model = conv_transpose_model(2, 2, [5], [3], strides=[2], output_padding=[2])
    msg = _load_error(model)
    assert "output_padding" in msg, msg


@pytest.mark.usefixtures("needs_library")
def test_conv_transpose_group_mismatch_is_refused():
    w = rand(3, 2, 3)
    model = make_model([node("ConvTranspose", ["x", "w"], ["y"], group=2)], [("x", ["N", 3, 5])], ["y"], {"w": w})
    msg = _load_error(model)
    assert "group" in msg, msg


# ---- the ONNX backend node tests (reference outputs of ONNX's implementation) ----------

CONFORMANCE = cases("test_convtranspose")


@pytest.mark.usefixtures("needs_library")
@pytest.mark.parametrize("case", [c for c in CONFORMANCE if c.name != "test_convtranspose_3d"], ids=lambda c: c.name)
def test_conv_transpose_onnx_node_cases(case):
    run_case(case, opset_fallback=True)


@pytest.mark.usefixtures("needs_library")
@pytest.mark.parametrize("case", [c for c in CONFORMANCE if c.name == "test_convtranspose_3d"], ids=lambda c: c.name)
def test_conv_transpose_onnx_node_case_3d_is_refused(case):
    with pytest.raises(drsn.UnsupportedError, match="rank 3 .1-D. or 4 .2-D."):
        run_case(case, opset_fallback=True)
