"""Convolution paths on one model across input sizes, against onnxruntime.

drsn picks a convolution algorithm per layer and input size (Winograd F(2x2, 3x3) where
the tile rows fit the register width, the direct kernel with row, flattened or dense
layouts otherwise) and packs each layer's weights once per model. A model with dynamic
spatial dimensions therefore runs the same weights through different algorithms: every
size must still match onnxruntime, in any order, including sizes revisited after others.
"""

import numpy as np
import onnxruntime as ort
import pytest

import drsn
from oracle import make_model, node

RNG = np.random.default_rng(20261129)


def _model(channels: int, pre_activation: bool):
    c = channels
    inits = {
        "w1": (RNG.standard_normal((c, c, 3, 3)) * 0.2).astype(np.float32),
        "b1": RNG.standard_normal(c).astype(np.float32),
        "w2": (RNG.standard_normal((c, c, 3, 3)) * 0.2).astype(np.float32),
    }
    nodes = []
    x = "x"
    if pre_activation:
        inits.update({"s": RNG.uniform(0.5, 1.5, c).astype(np.float32), "t": RNG.standard_normal(c).astype(np.float32),
                      "m": RNG.standard_normal(c).astype(np.float32), "v": RNG.uniform(0.5, 2, c).astype(np.float32)})
        nodes += [node("BatchNormalization", ["x", "s", "t", "m", "v"], ["bn"]), node("Relu", ["bn"], ["a"])]
        x = "a"
    nodes += [node("Conv", [x, "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]), node("Relu", ["c1"], ["r1"]),
              node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
              # The same weights again: shared packed weights.
              node("Conv", ["c2", "w2"], ["y"], pads=[1, 1, 1, 1])]
    return make_model(nodes, [("x", ["N", c, "H", "W"])], ["y"], inits)


# Square and rectangular maps: multiples of 8/16/32 columns (Winograd on some ISA), odd
# and non-multiple sizes (direct), 1-row maps, revisits.
SIZES = [(32, 32), (30, 30), (16, 16), (14, 14), (8, 8), (7, 7), (16, 32), (2, 16), (9, 64), (1, 16),
         (32, 32), (7, 7), (8, 8)]


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("channels,pre", [(8, False), (16, True), (32, True)])
def test_sizes_in_sequence_match_onnxruntime(channels, pre, threads):
    onnx_model = _model(channels, pre)
    data = onnx_model.SerializeToString()
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    with drsn.Model(data, num_threads=threads) as model:
        for batch, (h, w) in zip([3, 1, 2, 5, 2, 1, 4, 3, 1, 2, 1, 3, 2], SIZES):
            x = RNG.standard_normal((batch, channels, h, w)).astype(np.float32)
            ref = sess.run(None, {"x": x})[0]
            got = model.run(x)[0]
            assert got.shape == ref.shape
            dev = float(np.abs(got - ref).max())
            scale = max(1.0, float(np.abs(ref).max()))
            assert dev <= 1e-4 * scale, f"{h}x{w} batch {batch}: max deviation {dev} (|ref| up to {scale})"
