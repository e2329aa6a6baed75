"""The working-memory limit (``max_arena_bytes``, DRSN_LIMIT_MAX_ARENA_BYTES).

A run needs an arena of its plan's size (values and per-thread scratch). A plan that needs
more than the limit is refused with LimitExceededError naming the input shapes, the need
and the limit: at load for the declared shapes (batch 1), and when a new batch size is
planned (run, output_shapes). The default (4 GiB, checked against the header by
test_header_constants.py) lets every shipped model load, run, and plan a batch of 64.
"""

import re
from pathlib import Path

import numpy as np
import pytest

import drsn
from oracle import make_model, node
from shared_fixtures import FIXTURES

pytestmark = pytest.mark.usefixtures("needs_library")

REPO_ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*(REPO_ROOT / "Tests" / "models" / "zoo").glob("*.onnx"),
                  *(REPO_ROOT / "examples" / "bearing" / "model").glob("*.onnx"),
                  *(REPO_ROOT / "benchmarks" / "models").glob("*.onnx"),
                  *FIXTURES.glob("*.onnx")])


def conv_model() -> bytes:
    rng = np.random.default_rng(5)
    nodes = [node("Conv", ["x", "w"], ["c"], kernel_shape=[3], pads=[1, 1]),
             node("Relu", ["c"], ["r"]),
             node("Conv", ["r", "w2"], ["y"], kernel_shape=[3], pads=[1, 1])]
    inits = {"w": rng.uniform(-1, 1, (8, 2, 3)).astype(np.float32),
             "w2": rng.uniform(-1, 1, (4, 8, 3)).astype(np.float32)}
    return make_model(nodes, [("x", ["N", 2, 64])], ["y"], inits).SerializeToString()


def batch1_arena_bytes() -> int:
    with drsn.Model(conv_model(), num_threads=1) as m:
        need = m.summary()["arena_bytes_batch1"]
    assert isinstance(need, int) and need > 0
    return need


def test_a_tiny_limit_refuses_the_load():
    with pytest.raises(drsn.LimitExceededError) as info:
        drsn.Model(conv_model(), limits={"max_arena_bytes": 64})
    message = str(info.value)
    assert info.value.status == 9
    for needle in ("max_arena_bytes", "DRSN_LIMIT_MAX_ARENA_BYTES", "of 64 bytes", "[1, 2, 64]",
                   f"needs {batch1_arena_bytes()} bytes", "working memory"):
        assert needle in message, (needle, message)


def test_the_limit_refuses_a_larger_batch_and_the_model_stays_usable():
    need = batch1_arena_bytes()
    x1 = np.random.default_rng(1).uniform(-1, 1, (1, 2, 64)).astype(np.float32)
    with drsn.Model(conv_model(), num_threads=1) as unlimited:
        expected = unlimited.run(x1)[0]
    with drsn.Model(conv_model(), num_threads=1, limits={"max_arena_bytes": 4 * need}) as m:
        np.testing.assert_array_equal(m.run(x1)[0], expected)
        assert m.run(np.zeros((2, 2, 64), np.float32))[0].shape == (2, 4, 64)  # fits: 2 x
        for attempt in range(2):  # refused, not cached: the same shapes are refused again
            with pytest.raises(drsn.LimitExceededError) as info:
                m.run(np.zeros((64, 2, 64), np.float32))
            message = str(info.value)
            assert "[64, 2, 64]" in message and f"of {4 * need} bytes" in message, message
            match = re.search(r"needs (\d+) bytes", message)
            assert match and int(match.group(1)) > 4 * need, message
        with pytest.raises(drsn.LimitExceededError, match="max_arena_bytes"):
            m.output_shapes([[64, 2, 64]])
        np.testing.assert_array_equal(m.run(x1)[0], expected)


def test_the_limit_is_inclusive():
    """A limit of exactly what the plan needs loads and runs; one byte less is refused."""
    need = batch1_arena_bytes()
    with drsn.Model(conv_model(), num_threads=1, limits={"max_arena_bytes": need}) as m:
        assert m.run(np.ones((1, 2, 64), np.float32))[0].shape == (1, 4, 64)
    with pytest.raises(drsn.LimitExceededError):
        drsn.Model(conv_model(), num_threads=1, limits={"max_arena_bytes": need - 1})


@pytest.mark.skipif(not SHIPPED, reason="no shipped models found")
@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_default_limit_lets_every_shipped_model_run(path):
    assert drsn.default_limits()["max_arena_bytes"] == 4 << 30
    with drsn.Model(path) as m:
        shapes = [[1 if d is None else d for d in info.shape] for info in m.inputs]
        m.run([np.zeros(s, np.float32) for s in shapes])
        batch64 = [[64] + s[1:] if m.inputs[i].shape[:1] == (None,) else s for i, s in enumerate(shapes)]
        m.output_shapes(batch64)  # plans the batch of drsn_model_run_windows' default
