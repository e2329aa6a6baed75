"""The ONNX backend node-test cases (../shared/onnx-node-tests next to the repository,
$DRSN_ONNX_NODE_TESTS overrides it; see the README there) as an extra oracle: a case's
model runs on each of its data sets and every output is compared with the stored one
(computed by ONNX's reference implementation) within 1e-4 absolute + 1e-3 relative.

`run_case` can turn graph inputs into initializers of each data set (drsn requires some
inputs constant, e.g. LSTM weights) and, for operators whose newest version differs from
the previous ones only in element types (LSTM, GRU, ConvTranspose at opset 22), runs a
case declaring a newer opset than drsn supports at drsn's newest opset."""

import os
import re
from pathlib import Path
from typing import Iterable

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

import drsn

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_TESTS = Path(os.environ.get("DRSN_ONNX_NODE_TESTS") or REPO_ROOT.parent / "shared" / "onnx-node-tests")


def cases(*prefixes: str) -> list[Path]:
    """The case folders whose names start with one of `prefixes` (none when the folder is absent)."""
    if not NODE_TESTS.is_dir():
        return []
    return sorted(p for p in NODE_TESTS.iterdir() if p.is_dir() and p.name.startswith(prefixes))


def _load(model: onnx.ModelProto, opset_fallback: bool) -> drsn.Model:
    try:
        return drsn.Model(model.SerializeToString())
    except drsn.Error as exc:
        m = re.search(r"drsn supports opsets (\d+) to (\d+)", str(exc))
        if not (opset_fallback and m):
            raise
        for o in model.opset_import:
            if o.domain in ("", "ai.onnx"):
                o.version = min(o.version, int(m.group(2)))
        return drsn.Model(model.SerializeToString())


def run_case(case: Path, constant_inputs: Iterable[int] = (), opset_fallback: bool = False) -> None:
    """Runs `case` through drsn and compares with its stored outputs. `constant_inputs`: input
    positions of the case's (single) node that become initializers of each data set."""
    model = onnx.load(case / "model.onnx")
    initialized = {i.name for i in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in initialized]
    outputs = [o.name for o in model.graph.output]
    constant = {model.graph.node[0].input[k] for k in constant_inputs
                if k < len(model.graph.node[0].input) and model.graph.node[0].input[k]}
    sets = sorted(case.glob("test_data_set_*"))
    assert sets, f"{case}: no test_data_set_*"
    for data_set in sets:
        inputs = [numpy_helper.to_array(onnx.load_tensor(str(f))) for f in sorted(data_set.glob("input_*.pb"))]
        expected = [numpy_helper.to_array(onnx.load_tensor(str(f))) for f in sorted(data_set.glob("output_*.pb"))]
        feeds = dict(zip(names, inputs))
        variant = onnx.ModelProto()
        variant.CopyFrom(model)
        for name in constant:
            variant.graph.initializer.append(numpy_helper.from_array(feeds.pop(name), name))
        kept = [i for i in variant.graph.input if i.name not in constant]
        del variant.graph.input[:]
        variant.graph.input.extend(kept)
        with _load(variant, opset_fallback) as m:
            got = m.run_dict(feeds)
        for name, want in zip(outputs, expected):
            assert got[name].shape == want.shape, f"{case.name}/{data_set.name} {name}: shape {got[name].shape} != {want.shape}"
            np.testing.assert_allclose(got[name], want, rtol=1e-3, atol=1e-4,
                                       err_msg=f"{case.name}/{data_set.name} output {name}")


def skip_without_cases(found: list[Path], prefix: str) -> None:
    if not found:
        pytest.skip(f"no {prefix}* cases in {NODE_TESTS}")
