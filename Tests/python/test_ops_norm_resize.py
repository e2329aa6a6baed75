"""Operators of issue 11 (round 2) against onnxruntime: LRN, LayerNormalization,
InstanceNormalization, Split, Tile, ReduceMin/Prod/L1/L2/SumSquare/LogSumExp, Resize and
Upsample. Same conventions as test_ops.py (oracle.check: a dynamic batch dim "N" run at 1
and 7 on one model, plus a static compile; |drsn - onnxruntime| <= 1e-4). Each operator
has odd sizes, the opsets whose signature differs, a run split over two threads, and a
constant input that constant folding computes at load (the operator then leaves the plan).
"""

import numpy as np
import pytest

import drsn
from onnx import TensorProto, helper
from oracle import check, i64, make_model, node, seed_rng_per_test, uniform  # noqa: F401 (autouse: re-seeds RNG)

RNG = np.random.default_rng(0)


def rand(*shape, low=-1.0, high=1.0):
    return RNG.uniform(low, high, size=shape).astype(np.float32)


def f32(*values):
    return np.array(values, dtype=np.float32)


def _folded(model, op):
    """Loads `model` in drsn and asserts that constant folding removed every `op` node."""
    with drsn.Model(model.SerializeToString()) as m:
        summary = m.summary()
    assert op in summary["operators"], summary["operators"]
    assert op not in summary["optimized_operators"], summary["optimized_operators"]


def _refused(model, *fragments):
    """drsn refuses `model` with an UnsupportedError naming every fragment."""
    with pytest.raises(drsn.UnsupportedError) as info:
        drsn.Model(model.SerializeToString())
    for f in fragments:
        assert f in str(info.value), str(info.value)


# ---- LRN ---------------------------------------------------------------------------------

LRN_ATTRS = [dict(size=1), dict(size=3), dict(size=5, alpha=1e-4, beta=0.75, bias=1.0),
             dict(size=5, alpha=0.5, beta=0.5, bias=2.0), dict(size=3, alpha=0.3, beta=1.0, bias=1.5),
             dict(size=7, alpha=0.2, beta=0.6, bias=1.2), dict(size=4, alpha=0.1, beta=0.8, bias=1.0)]


@pytest.mark.parametrize("attrs", LRN_ATTRS, ids=lambda a: "_".join(f"{k}{v}" for k, v in a.items()))
@pytest.mark.parametrize("shape", [["N", 5, 4, 3], ["N", 3, 7, 9], ["N", 11, 1, 13]],
                         ids=lambda s: "x".join(map(str, s)))
def test_lrn(shape, attrs):
    if attrs["size"] % 2 == 0:
        pytest.skip("onnxruntime accepts only odd sizes")  # drsn implements the ONNX window for any size
    check(make_model([node("LRN", ["x"], ["y"], **attrs)], [("x", shape)], ["y"]), gen=uniform(-3, 3))


@pytest.mark.parametrize("opset", [7, 12, 13])
def test_lrn_opsets(opset):
    check(make_model([node("LRN", ["x"], ["y"], size=3, alpha=0.01)], [("x", ["N", 6, 5, 5])], ["y"], opset=opset))


def test_lrn_even_size_matches_the_onnx_window():
    # size 4: window [c - 1, c + 2] (floor / ceil of (size - 1) / 2); onnxruntime refuses even
    # sizes, so the reference here is the ONNX formula in numpy
    x = rand(2, 6, 3, 5, low=-2, high=2)
    size, alpha, beta, bias = 4, 0.3, 0.7, 1.1
    sq = np.zeros_like(x)
    for c in range(6):
        lo, hi = max(0, c - 1), min(5, c + 2)
        sq[:, c] = (x[:, lo:hi + 1] ** 2).sum(axis=1)
    expected = x / (bias + alpha / size * sq) ** beta
    model = make_model([node("LRN", ["x"], ["y"], size=size, alpha=alpha, beta=beta, bias=bias)],
                       [("x", [2, 6, 3, 5])], ["y"])
    with drsn.Model(model.SerializeToString()) as m:
        (y,) = m.run(x)
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-5)


def test_lrn_split_over_threads():
    check(make_model([node("LRN", ["x"], ["y"], size=5, alpha=1e-3, beta=0.75, bias=2.0)],
                     [("x", ["N", 16, 27, 29])], ["y"]), num_threads=2, gen=uniform(-5, 5))


def test_lrn_of_a_constant_is_folded():
    nodes = [node("LRN", ["c"], ["l"], size=3, alpha=0.4), node("Add", ["x", "l"], ["y"])]
    model = make_model(nodes, [("x", ["N", 3, 4, 5])], ["y"], {"c": rand(1, 3, 4, 5, low=-2, high=2)})
    check(model)
    _folded(model, "LRN")


# ---- LayerNormalization ------------------------------------------------------------------

@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape,axis", [(["N", 5], -1), (["N", 3, 7], -1), (["N", 3, 7], 1), (["N", 2, 5, 9], -2),
                                        (["N", 2, 5, 9], 1), (["N", 33], 0), (["N", 4, 17], 2)],
                         ids=lambda v: "x".join(map(str, v)) if isinstance(v, list) else f"axis{v}")
def test_layer_normalization(shape, axis, bias):
    rank = len(shape)
    a = axis % rank
    norm = [7 if d == "N" else d for d in shape[a:]]  # axis 0 normalizes over N too: static only
    if "N" in shape[a:]:
        shape = [7] + shape[1:]
        norm = shape[a:]
    inits = {"s": rand(*norm, low=0.5, high=1.5)}
    ins = ["x", "s"]
    if bias:
        inits["b"] = rand(*norm)
        ins.append("b")
    model = make_model([node("LayerNormalization", ins, ["y"], axis=axis, epsilon=1e-3)], [("x", shape)], ["y"],
                       inits)
    check(model, gen=uniform(-3, 3))


def test_layer_normalization_mean_and_inv_std_dev_outputs():
    model = make_model([node("LayerNormalization", ["x", "s", "b"], ["y", "mean", "inv"], axis=-2)],
                       [("x", ["N", 3, 4, 5])], ["y", "mean", "inv"], {"s": rand(4, 5), "b": rand(4, 5)})
    check(model, gen=uniform(-2, 2))


def test_layer_normalization_unused_statistics_outputs_cost_nothing():
    # Mean / InvStdDev named but read by nothing: their steps are dead and removed
    nodes = [node("LayerNormalization", ["x", "s"], ["y", "mean", "inv"]), node("Relu", ["y"], ["z"])]
    model = make_model(nodes, [("x", ["N", 6, 10])], ["z"], {"s": rand(10)})
    check(model)
    with drsn.Model(model.SerializeToString()) as m:
        assert m.summary()["plan_steps"].get("layerNormStatistics", 0) == 0, m.summary()["plan_steps"]


def test_layer_normalization_broadcast_scale_and_runtime_scale():
    # a constant Scale of shape [1, 6] broadcast to [4, 6]; then Scale and B as graph inputs
    check(make_model([node("LayerNormalization", ["x", "s", "b"], ["y"], axis=-2)], [("x", ["N", 4, 6])], ["y"],
                     {"s": rand(1, 6), "b": rand(6)}))
    check(make_model([node("LayerNormalization", ["x", "s", "b"], ["y"])],
                     [("x", ["N", 3, 8]), ("s", [8]), ("b", [8])], ["y"]))


def test_layer_normalization_refusals():
    _refused(make_model([node("LayerNormalization", ["x", "s"], ["y"], stash_type=11)], [("x", ["N", 4])], ["y"],
                        {"s": rand(4)}), "stash_type 11")
    # a runtime Scale that would need broadcasting
    _refused(make_model([node("LayerNormalization", ["x", "s"], ["y"], axis=1)], [("x", ["N", 3, 4]), ("s", [1, 4])],
                        ["y"]), "Scale", "must be FLOAT of shape [3, 4]")


def test_layer_normalization_split_over_threads():
    check(make_model([node("LayerNormalization", ["x", "s", "b"], ["y"])], [("x", ["N", 64, 130])], ["y"],
                     {"s": rand(130), "b": rand(130)}), num_threads=2)


def test_layer_normalization_of_a_constant_is_folded():
    nodes = [node("LayerNormalization", ["c", "s", "b"], ["l"]), node("Add", ["x", "l"], ["y"])]
    model = make_model(nodes, [("x", ["N", 3, 7])], ["y"], {"c": rand(3, 7, low=-3, high=3), "s": rand(7), "b": rand(7)})
    check(model)
    _folded(model, "LayerNormalization")


# ---- InstanceNormalization ---------------------------------------------------------------

@pytest.mark.parametrize("opset", [7, 17, 21])
@pytest.mark.parametrize("shape", [["N", 3, 7], ["N", 4, 5, 6], ["N", 2, 3, 4, 5], ["N", 5, 1, 33]],
                         ids=lambda s: "x".join(map(str, s)))
def test_instance_normalization(shape, opset):
    c = shape[1]
    model = make_model([node("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-4)], [("x", shape)], ["y"],
                       {"s": rand(c, low=0.5, high=2), "b": rand(c)}, opset=opset)
    check(model, gen=uniform(-4, 4))


def test_instance_normalization_runtime_scale():
    check(make_model([node("InstanceNormalization", ["x", "s", "b"], ["y"])], [("x", ["N", 3, 9]), ("s", [3]), ("b", [3])],
                     ["y"]))


def test_instance_normalization_split_over_threads():
    check(make_model([node("InstanceNormalization", ["x", "s", "b"], ["y"])], [("x", ["N", 16, 30, 31])], ["y"],
                     {"s": rand(16), "b": rand(16)}), num_threads=2)


def test_instance_normalization_of_a_constant_is_folded():
    nodes = [node("InstanceNormalization", ["c", "s", "b"], ["l"]), node("Add", ["x", "l"], ["y"])]
    model = make_model(nodes, [("x", ["N", 2, 9])], ["y"], {"c": rand(1, 2, 9, low=-3, high=3), "s": rand(2), "b": rand(2)})
    check(model)
    _folded(model, "InstanceNormalization")


# ---- Split -------------------------------------------------------------------------------

def _split_model(opset, axis, outputs, split=None, num_outputs=None, shape=("N", 7, 5)):
    inits, ins, attrs = {}, ["x"], {"axis": axis}
    if split is not None:
        if opset < 13:
            attrs["split"] = split
        else:
            inits["split"] = i64(*split)
            ins.append("split")
    if num_outputs is not None:
        attrs["num_outputs"] = num_outputs
    names = [f"y{k}" for k in range(outputs)]
    return make_model([node("Split", ins, names, **attrs)], [("x", list(shape))], names, inits, opset=opset)


@pytest.mark.parametrize("opset", [7, 11, 13, 18])
@pytest.mark.parametrize("axis,outputs,split", [(1, 7, None), (1, 3, [2, 4, 1]), (-1, 2, [1, 4]), (2, 5, None),
                                                (1, 2, [7, 0]), (1, 1, None)])
def test_split(opset, axis, outputs, split):
    if axis < 0 and opset < 11:
        pytest.skip("negative axes from opset 11")
    if opset >= 18 and split is None:
        check(_split_model(opset, axis, outputs, num_outputs=outputs))
    else:
        check(_split_model(opset, axis, outputs, split))


@pytest.mark.parametrize("dim,parts", [(7, 3), (5, 2), (9, 4), (4, 4)])
def test_split_num_outputs_uneven(dim, parts):
    # opset 18: parts of ceil(dim / parts), the last one smaller
    check(_split_model(18, 1, parts, num_outputs=parts, shape=("N", dim, 3)))


def test_split_uneven_without_sizes_is_an_error():
    with pytest.raises(drsn.Error, match="not a multiple"):
        drsn.Model(_split_model(13, 1, 2).SerializeToString())


def test_split_sizes_not_adding_up_is_an_error():
    with pytest.raises(drsn.Error, match="do not add up"):
        drsn.Model(_split_model(13, 1, 2, [3, 3]).SerializeToString())


def test_split_split_over_threads():
    check(_split_model(13, 2, 3, [100, 1, 200], shape=("N", 40, 301)), num_threads=2)


def test_split_of_a_constant_is_folded():
    nodes = [node("Split", ["c"], ["a", "b"], axis=1, split=[2, 3]), node("Concat", ["b", "a"], ["d"], axis=1),
             node("Add", ["x", "d"], ["y"])]
    model = make_model(nodes, [("x", ["N", 4, 5])], ["y"], {"c": rand(4, 5)}, opset=11)
    check(model)
    _folded(model, "Split")


def test_split_of_shape_values_stays_exact():
    # int64 shape arithmetic: Split of a Shape feeds a Reshape
    nodes = [node("Shape", ["x"], ["s"]), node("Split", ["s"], ["n", "rest"], split=[1, 2]),
             node("Concat", ["n", "m"], ["t"], axis=0), node("Reshape", ["x", "t"], ["y"])]
    check(make_model(nodes, [("x", ["N", 3, 5])], ["y"], {"m": i64(-1)}, opset=11))


# ---- Tile --------------------------------------------------------------------------------

@pytest.mark.parametrize("opset", [7, 13])
@pytest.mark.parametrize("shape,repeats", [(["N", 3], [1, 4]), (["N", 3, 5], [2, 1, 3]), (["N", 2, 3, 5], [1, 3, 2, 1]),
                                           (["N", 7], [3, 1]), (["N", 4, 1], [1, 0, 5])],
                         ids=lambda v: "x".join(map(str, v)))
def test_tile(shape, repeats, opset):
    check(make_model([node("Tile", ["x", "r"], ["y"])], [("x", shape)], ["y"], {"r": i64(*repeats)}, opset=opset))


def test_tile_runtime_repeats_are_refused():
    # drsn has no runtime integer tensors: repeats fed at run time are refused at load
    model = make_model([node("Tile", ["x", "r"], ["y"])], [("x", ["N", 3])], ["y"])
    model.graph.input.append(helper.make_tensor_value_info("r", TensorProto.INT64, [2]))
    _refused(model, "'r'", "INT64")


def test_tile_split_over_threads():
    check(make_model([node("Tile", ["x", "r"], ["y"])], [("x", ["N", 9, 31])], ["y"], {"r": i64(3, 2, 5)}),
          num_threads=2)


def test_tile_of_a_constant_is_folded():
    nodes = [node("Tile", ["c", "r"], ["t"]), node("Add", ["x", "t"], ["y"])]
    model = make_model(nodes, [("x", ["N", 4, 6])], ["y"], {"c": rand(2, 3), "r": i64(2, 2)})
    check(model)
    _folded(model, "Tile")


# ---- ReduceMin / Prod / L1 / L2 / SumSquare / LogSumExp ----------------------------------

REDUCE_OPS = ["ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp"]


def _reduce_model(op, opset, axes, keepdims, shape=("N", 5, 7, 3), noop=None):
    attrs, inits, ins = {"keepdims": keepdims}, {}, ["x"]
    if noop is not None:
        attrs["noop_with_empty_axes"] = noop
    if axes is not None:
        if opset >= 18:
            inits["axes"] = i64(*axes)
            ins.append("axes")
        else:
            attrs["axes"] = axes
    return make_model([node(op, ins, ["y"], **attrs)], [("x", list(shape))], ["y"], inits, opset=opset)


@pytest.mark.parametrize("keepdims", [1, 0])
@pytest.mark.parametrize("axes", [[1], [-1], [1, 3], [2, 3], None], ids=lambda a: str(a))
@pytest.mark.parametrize("opset", [13, 18])
@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce(op, opset, axes, keepdims):
    # products of ~100 values stay finite; sums over all 105 * 7 elements stay small enough
    # for 1e-4 absolute agreement
    gen = uniform(0.7, 1.3) if op == "ReduceProd" else uniform(-3, 3) if axes else uniform(-0.5, 0.5)
    check(_reduce_model(op, opset, axes, keepdims), gen=gen)


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce_opset11_and_odd_shapes(op):
    gen = uniform(0.8, 1.2) if op == "ReduceProd" else uniform(-2, 2)
    check(_reduce_model(op, 11, [0, 2], 1, shape=("N", 33, 17)), gen=gen)
    check(_reduce_model(op, 11, [1], 0, shape=("N", 1, 1)), gen=gen)


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce_noop_with_empty_axes(op):
    check(_reduce_model(op, 18, None, 1, noop=1))  # each element alone: |x|, x * x for L1, L2, SumSquare; x otherwise
    check(_reduce_model(op, 18, None, 0, noop=0), gen=uniform(0.99, 1.01) if op == "ReduceProd" else uniform(-0.5, 0.5))


def test_reduce_log_sum_exp_does_not_overflow():
    check(_reduce_model("ReduceLogSumExp", 13, [1], 1), gen=uniform(80, 120))
    check(_reduce_model("ReduceLogSumExp", 13, [2, 3], 0), gen=uniform(-120, -80))


def test_reduce_min_propagates_nan():
    def gen(shape, rng):
        x = rng.uniform(-1, 1, size=shape).astype(np.float32)
        x.flat[::7] = np.nan
        return x
    check(_reduce_model("ReduceMin", 13, [1], 1), gen=gen)


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce_split_over_threads(op):
    gen = uniform(0.99, 1.01) if op == "ReduceProd" else None
    check(_reduce_model(op, 13, [2], 1, shape=("N", 16, 200, 9)), num_threads=2, gen=gen)


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce_of_a_constant_is_folded(op):
    nodes = [node(op, ["c"], ["r"], axes=[1], keepdims=1), node("Add", ["x", "r"], ["y"])]
    model = make_model(nodes, [("x", ["N", 3, 1])], ["y"], {"c": rand(3, 6, low=0.5, high=1.5)}, opset=13)
    check(model)
    _folded(model, op)


@pytest.mark.parametrize("op", ["ReduceProd", "ReduceMin", "ReduceSumSquare", "ReduceL1"])
def test_reduce_of_shape_values_is_exact(op):
    # int64 constants (a Shape) are reduced exactly: 2 * 3 * 5 = 30 elements per sample etc.
    nodes = [node("Shape", ["x"], ["s"]), node("Slice", ["s", "one", "end"], ["dims"]),
             node(op, ["dims"], ["n"], keepdims=1), node("Concat", ["m", "n"], ["t"], axis=0),
             node("Reshape", ["x", "t"], ["y"])]
    model = make_model(nodes, [("x", ["N", 2, 3, 5])], ["y"], {"one": i64(1), "end": i64(4), "m": i64(-1)}, opset=13)
    if op != "ReduceProd":
        # the result is not a valid size for every op; only check that the values are exact
        nodes[-1] = node("Cast", ["t"], ["y"], to=1)
        model = make_model(nodes, [("x", ["N", 2, 3, 5])], ["y"], {"one": i64(1), "end": i64(4), "m": i64(-1)}, opset=13)
    check(model)


# ---- Resize / Upsample -------------------------------------------------------------------

COORDINATE_MODES = ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel", "half_pixel_symmetric",
                    "tf_half_pixel_for_nn"]
NEAREST_MODES = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]
SCALES_2D = [(2.0, 2.0), (1.7, 2.5), (0.6, 0.75), (3.0, 0.5), (1.0, 1.3)]


def _resize_model(opset, shape, scales=None, sizes=None, axes=None, **attrs):
    inits = {}
    if opset < 11:
        inits["scales"] = np.array(scales, dtype=np.float32)
        ins = ["x", "scales"]
    else:
        ins = ["x", "", "", ""]
        if scales is not None:
            inits["scales"] = np.array(scales, dtype=np.float32)
            ins[2] = "scales"
        if sizes is not None:
            inits["sizes"] = i64(*sizes)
            ins[3] = "sizes"
        if opset == 11:  # roi and scales are required inputs at opset 11
            inits["roi"] = np.zeros(0, dtype=np.float32)
            ins[1] = "roi"
            if scales is None:
                inits["scales"] = np.zeros(0, dtype=np.float32)
                ins[2] = "scales"
        while ins[-1] == "":
            ins.pop()
    if axes is not None:
        attrs["axes"] = axes
    return make_model([node("Resize", ins, ["y"], **attrs)], [("x", list(shape))], ["y"], inits, opset=opset)


@pytest.mark.parametrize("scales", SCALES_2D, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("coordinates", COORDINATE_MODES)
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_scales_2d(mode, coordinates, scales):
    if coordinates == "tf_half_pixel_for_nn" and mode == "linear":
        pytest.skip("tf_half_pixel_for_nn is a nearest-neighbour mode")
    opset = 19 if coordinates == "half_pixel_symmetric" else (11 if coordinates == "tf_half_pixel_for_nn" else 13)
    check(_resize_model(opset, ["N", 3, 5, 7], scales=[1, 1, *scales], mode=mode,
                        coordinate_transformation_mode=coordinates))


@pytest.mark.parametrize("nearest_mode", NEAREST_MODES)
@pytest.mark.parametrize("coordinates", ["half_pixel", "asymmetric", "align_corners"])
@pytest.mark.parametrize("scales", [(1.5, 2.5), (0.7, 0.45), (3.0, 1.0)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_resize_nearest_modes(nearest_mode, coordinates, scales):
    check(_resize_model(13, ["N", 2, 6, 9], scales=[1, 1, *scales], mode="nearest", nearest_mode=nearest_mode,
                        coordinate_transformation_mode=coordinates))


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("coordinates", ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"])
@pytest.mark.parametrize("scale", [2.0, 1.6, 0.5, 0.35])
def test_resize_1d_ncw(mode, coordinates, scale):
    check(_resize_model(13, ["N", 4, 11], scales=[1, 1, scale], mode=mode, coordinate_transformation_mode=coordinates))


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("sizes", [(1, 3, 9, 4), (1, 3, 2, 13), (1, 3, 1, 1), (1, 3, 5, 7)], ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("opset", [11, 13, 18])
def test_resize_sizes(mode, sizes, opset):
    check(_resize_model(opset, [1, 3, 5, 7], sizes=sizes, mode=mode))


@pytest.mark.parametrize("policy", ["not_larger", "not_smaller"])
@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_keep_aspect_ratio_policy(policy, mode):
    check(_resize_model(18, ["N", 2, 6, 8], sizes=[9, 5], axes=[2, 3], mode=mode, keep_aspect_ratio_policy=policy))


@pytest.mark.parametrize("axes", [[2, 3], [3, 2], [-1], [3]], ids=lambda a: "_".join(map(str, a)))
@pytest.mark.parametrize("opset", [18, 19])
def test_resize_axes(axes, opset):
    scales = {2: 1.5, 3: 2.5}
    s = [scales[a % 4] for a in axes]
    check(_resize_model(opset, ["N", 2, 4, 6], scales=s, axes=axes, mode="linear"))
    check(_resize_model(opset, ["N", 2, 4, 6], sizes=[7 if a % 4 == 2 else 9 for a in axes], axes=axes,
                        mode="nearest"))


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("scales", [(2.0, 2.0), (1.5, 3.0), (0.5, 0.6)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_resize_opset10(mode, scales):
    # Resize-10: asymmetric coordinates; nearest truncates (ceil when downsampling)
    check(_resize_model(10, ["N", 3, 5, 6], scales=[1, 1, *scales], mode=mode))


def test_resize_rank2_and_batch_scale_one():
    check(_resize_model(13, [6, 5], scales=[1.5, 2.0], mode="linear"))
    check(_resize_model(13, [6, 5], scales=[0.5, 2.0], mode="nearest"))


def test_resize_refusals():
    _refused(_resize_model(13, ["N", 1, 4, 4], scales=[1, 1, 2, 2], mode="cubic"), "cubic")
    _refused(_resize_model(18, ["N", 1, 4, 4], scales=[1, 1, 0.5, 0.5], mode="linear", antialias=1), "antialias")
    model = make_model([node("Resize", ["x", "roi", "s"], ["y"], coordinate_transformation_mode="tf_crop_and_resize")],
                       [("x", ["N", 1, 4, 4])], ["y"], {"roi": f32(0, 0, 0.1, 0.1, 1, 1, 0.9, 0.9), "s": f32(1, 1, 2, 2)},
                       opset=13)
    _refused(model, "tf_crop_and_resize")
    # the channel dim resized
    _refused(_resize_model(13, ["N", 2, 4, 4], scales=[1, 2, 2, 2], mode="linear"), "only the two innermost dims")
    # scales computed at run time
    model = make_model([node("Resize", ["x", "", "s"], ["y"])], [("x", ["N", 1, 4, 4]), ("s", [4])], ["y"], opset=13)
    _refused(model, "Resize scales", "constant")


@pytest.mark.parametrize("mode", ["nearest", "linear"])
def test_resize_split_over_threads(mode):
    check(_resize_model(13, ["N", 8, 33, 41], scales=[1, 1, 2.0, 1.5], mode=mode), num_threads=2)


def test_resize_of_a_constant_is_folded():
    nodes = [node("Resize", ["c", "", "s"], ["r"], mode="linear"), node("Add", ["x", "r"], ["y"])]
    model = make_model(nodes, [("x", ["N", 2, 6, 4])], ["y"], {"c": rand(1, 2, 3, 2), "s": f32(1, 1, 2, 2)}, opset=13)
    check(model)
    _folded(model, "Resize")


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("scales", [(1, 1, 2, 2), (1, 1, 1.5, 2.5), (1, 1, 3, 1), (1, 1, 1, 1)],
                         ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("opset", [7, 8, 9])
def test_upsample(mode, scales, opset):
    if opset < 9:
        model = make_model([node("Upsample", ["x"], ["y"], mode=mode, scales=list(map(float, scales)))],
                           [("x", ["N", 3, 4, 5])], ["y"], opset=opset)
    else:
        model = make_model([node("Upsample", ["x", "s"], ["y"], mode=mode)], [("x", ["N", 3, 4, 5])], ["y"],
                           {"s": np.array(scales, dtype=np.float32)}, opset=opset)
    check(model)


def test_upsample_1d_and_refusals():
    check(make_model([node("Upsample", ["x"], ["y"], mode="linear", scales=[1.0, 1.0, 2.5])], [("x", ["N", 2, 9])],
                     ["y"], opset=7))
    _refused(make_model([node("Upsample", ["x"], ["y"], mode="nearest", scales=[2.0, 1.0, 2.0])],
                        [("x", ["N", 2, 3])], ["y"], opset=7), "only the two innermost dims")


def test_upsample_of_a_constant_is_folded():
    nodes = [node("Upsample", ["c", "s"], ["u"]), node("Add", ["x", "u"], ["y"])]
    model = make_model(nodes, [("x", ["N", 2, 4, 6])], ["y"], {"c": rand(1, 2, 2, 3), "s": f32(1, 1, 2, 2)}, opset=9)
    check(model)
    _folded(model, "Upsample")
