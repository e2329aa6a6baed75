"""The Python binding itself: library lookup, introspection, loading forms,
options, zero-copy runs, lifetime and thread safety."""

import os
import pathlib
import re
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto

import drsn
from drsn_graphs import rand, rsbu
from oracle import ATOL, make_model, node, ort_run, ort_session

REPO_ROOT = Path(__file__).resolve().parents[2]
BINDING = REPO_ROOT / "bindings" / "python"
HEADER = (REPO_ROOT / "include" / "drsn.h").read_text()


def two_input_model() -> onnx.ModelProto:
    """signal [N,3,L] and gain [N,4] -> features [N,4] (Conv, GAP, Gemm), mask [N,3,L] (bool)."""
    rng = np.random.default_rng(11)
    nodes = [
        node("Conv", ["signal", "w"], ["c"], kernel_shape=[3], pads=[1, 1]),
        node("Relu", ["c"], ["r"]),
        node("GlobalAveragePool", ["r"], ["g"]),
        node("Flatten", ["g"], ["f"]),
        node("Mul", ["f", "gain"], ["features"]),
        node("Greater", ["signal", "zero"], ["mask"]),
    ]
    inits = {"w": rng.uniform(-1, 1, (4, 3, 3)).astype(np.float32), "zero": np.float32(0.0)}
    return make_model(nodes, [("signal", ["N", 3, "L"]), ("gain", ["N", 4])],
                      ["features", ("mask", TensorProto.BOOL)], inits)


def drsn_net() -> onnx.ModelProto:
    """A small 1-D DRSN (two shrinkage units, one downsampling) for the thread tests."""
    rng = np.random.default_rng(5)
    nodes, inits = [], {"stem_w": rand(rng, 4, 1, 3)}
    nodes.append(node("Conv", ["x", "stem_w"], ["stem"], kernel_shape=[3], pads=[1, 1]))
    h = rsbu(rng, nodes, inits, "stem", 4, 8, 2, "u0", [2], "CW", "relu")
    h = rsbu(rng, nodes, inits, h, 8, 8, 1, "u1", [2], "CS", "where")
    inits.update({"fc_w": rand(rng, 10, 8), "fc_b": rand(rng, 10)})
    nodes += [node("GlobalAveragePool", [h], ["gap"]), node("Flatten", ["gap"], ["flat"]),
              node("Gemm", ["flat", "fc_w", "fc_b"], ["logits"], transB=1)]
    return make_model(nodes, [("x", ["N", 1, 256])], ["logits"], inits)


@pytest.fixture(scope="module")
def model_bytes():
    return two_input_model().SerializeToString()


@pytest.fixture
def model(model_bytes, needs_library):
    with drsn.Model(model_bytes) as m:
        yield m


def feeds(batch=2, length=9, seed=0):
    rng = np.random.default_rng(seed)
    return {"signal": rng.uniform(-1, 1, (batch, 3, length)).astype(np.float32),
            "gain": rng.uniform(-1, 1, (batch, 4)).astype(np.float32)}


def run_python(code: str, env_update: dict, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    for key, value in env_update.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


# ---- the library: path, prototypes -----------------------------------------------------------
# (versions, status codes, dtypes and limits against include/drsn.h: test_header_constants.py)

def test_library_path(needs_library):
    path = drsn.library_path()
    assert os.path.basename(path).startswith("libdrsn")


def test_every_header_function_is_declared():
    declared = set(re.findall(r"DRSN_API [^;]*?\b(drsn_\w+)\s*\(", HEADER))
    assert declared == set(drsn._library.PROTOTYPES), declared ^ set(drsn._library.PROTOTYPES)


# ---- library lookup ------------------------------------------------------------------------

def test_library_not_found_with_drsn_library_env(tmp_path):
    missing = tmp_path / "nowhere" / "libdrsn.so"
    proc = run_python("""
        import sys
        sys.path.insert(0, %r)
        import drsn                      # importing works without the library
        try:
            drsn.Model(b"")
        except drsn.LibraryNotFoundError as exc:
            assert isinstance(exc, ImportError) and isinstance(exc, drsn.Error)
            print(exc)
        else:
            raise SystemExit("no error")
    """ % str(BINDING), {"DRSN_LIBRARY": str(missing)}, tmp_path)
    assert proc.returncode == 0, proc.stderr
    message = proc.stdout
    assert str(missing) in message
    assert "DRSN_LIBRARY" in message and "swift build -c release --product drsn" in message


def test_library_not_found_lists_every_place(tmp_path):
    """A copy of the package outside the source tree, no DRSN_LIBRARY, no build under the
    current directory: the message names each place in lookup order."""
    package = tmp_path / "site" / "drsn"
    shutil.copytree(BINDING / "drsn", package, ignore=shutil.ignore_patterns("libdrsn.*", "__pycache__"))
    cwd = tmp_path / "work"
    cwd.mkdir()
    proc = run_python("""
        import sys
        sys.path.insert(0, %r)
        import drsn
        try:
            drsn.library_version()
        except drsn.LibraryNotFoundError as exc:
            print(exc)
        else:
            print("LOADED", drsn.library_path())
    """ % str(package.parent), {"DRSN_LIBRARY": None, "LD_LIBRARY_PATH": None}, cwd)
    assert proc.returncode == 0, proc.stderr
    message = proc.stdout
    if message.startswith("LOADED"):
        pytest.skip(f"libdrsn is installed for the system loader ({message.split()[1]})")
    order = [str(package / "libdrsn.so"), str(cwd / ".build" / "release" / "libdrsn.so"), "system loader"]
    positions = [message.find(p) for p in order]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), message
    assert "source tree" not in message  # not imported from the repository


def test_source_tree_lookup_order():
    from drsn import _library
    env = os.environ.pop("DRSN_LIBRARY", None)
    try:
        places = [where for where, _ in _library.candidates()]
    finally:
        if env is not None:
            os.environ["DRSN_LIBRARY"] = env
    assert places[:3] == ["package folder", "source tree, release build", "source tree, debug build"]
    assert places[-1] == "system loader"


def test_incompatible_abi(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler to build a fake library")
    src = tmp_path / "fake.c"
    src.write_text("unsigned drsn_abi_version(void) { return 2; }\n")
    lib = tmp_path / "libdrsn.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(lib), str(src)], check=True)
    proc = run_python("""
        import sys
        sys.path.insert(0, %r)
        import drsn
        try:
            drsn.library_version()
        except drsn.IncompatibleLibraryError as exc:
            print(exc)
    """ % str(BINDING), {"DRSN_LIBRARY": str(lib)}, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "ABI version 2" in proc.stdout and str(lib) in proc.stdout, proc.stdout


# ---- introspection -------------------------------------------------------------------------

def test_inputs_and_outputs(model):
    assert model.inputs == [drsn.TensorInfo("signal", (None, 3, None), np.dtype(np.float32)),
                            drsn.TensorInfo("gain", (None, 4), np.dtype(np.float32))]
    names = [o.name for o in model.outputs]
    assert names == ["features", "mask"]
    features, mask = model.outputs
    assert features.dtype == np.float32 and mask.dtype == np.bool_
    assert features.shape == (None, 4)
    assert mask.shape == (None, 3, None)
    info = model.inputs[0]
    assert info.name == info[0] and info.shape == info[1]  # a named tuple
    model.inputs.append("x")  # the returned list is a copy
    assert len(model.inputs) == 2


def test_bool_output_is_float_zero_one(model):
    f = feeds(batch=3, length=6)
    f["signal"][0, 0, :3] = 0.0
    features, mask = model.run(f)
    assert mask.dtype == np.float32
    np.testing.assert_array_equal(mask, (f["signal"] > 0).astype(np.float32))


def test_output_shapes_helper(model):
    assert model.output_shapes({"signal": (5, 3, 11), "gain": (5, 4)}) == [(5, 4), (5, 3, 11)]
    assert model.output_shapes([(1, 3, 2), [1, 4]]) == [(1, 4), (1, 3, 2)]
    with pytest.raises(drsn.ShapeError):
        model.output_shapes([(1, 2, 2), (1, 4)])
    with pytest.raises(drsn.InvalidArgumentError):
        model.output_shapes([(1, 3, -2), (1, 4)])
    f = feeds(batch=4, length=13)
    assert [o.shape for o in model.run(f)] == model.output_shapes({k: v.shape for k, v in f.items()})


def test_output_shapes_single_input(needs_library):
    m = make_model([node("Transpose", ["x"], ["y"], perm=[0, 2, 1])], [("x", ["N", 3, 5])], ["y"])
    with drsn.Model(m.SerializeToString()) as model:
        assert model.output_shapes((2, 3, 5)) == [(2, 5, 3)]
        assert model.output_shapes([(2, 3, 5)]) == [(2, 5, 3)]
        assert model.output_shapes({"x": [7, 3, 5]}) == [(7, 5, 3)]


def test_repr(model):
    text = repr(model)
    assert "signal" in text and "features" in text


# ---- loading forms, options --------------------------------------------------------------

def test_load_forms_agree(tmp_path, model_bytes, needs_library):
    path = tmp_path / "m.onnx"
    path.write_bytes(model_bytes)
    f = feeds(batch=3)
    sources = [str(path), path, pathlib.PurePath(path), model_bytes, bytearray(model_bytes), memoryview(model_bytes),
               memoryview(np.frombuffer(model_bytes + b"\0", np.uint8)[:-1])]
    results = []
    for source in sources:
        with drsn.Model(source) as m:
            results.append(m.run(f))
            assert m.source == (str(path) if isinstance(source, (str, os.PathLike)) else "<memory>")
    for r in results[1:]:
        for a, b in zip(results[0], r):
            np.testing.assert_array_equal(a, b)
    expected = ort_run(ort_session(model_bytes), f)
    for a, b in zip(results[0], expected.values()):
        np.testing.assert_allclose(a, b.astype(np.float32), rtol=0, atol=ATOL)


def test_non_contiguous_memoryview(model_bytes, needs_library):
    doubled = np.repeat(np.frombuffer(model_bytes, np.uint8), 2)
    view = memoryview(doubled)[::2]
    assert not view.c_contiguous
    with drsn.Model(view) as m:
        assert [i.name for i in m.inputs] == ["signal", "gain"]


def test_bytes_are_not_needed_after_load(needs_library):
    data = bytearray(two_input_model().SerializeToString())
    m = drsn.Model(data)
    data[:] = b"\0" * len(data)  # the library copied what it needs
    f = feeds()
    np.testing.assert_allclose(m.run(f)[0], ort_run(ort_session(two_input_model().SerializeToString()), f)["features"],
                               rtol=0, atol=ATOL)
    m.close()


@pytest.mark.parametrize("threads", [None, 0, 1, 2, 3, 256])
def test_num_threads(model_bytes, threads, needs_library):
    f = feeds(batch=7, length=31)
    expected = ort_run(ort_session(model_bytes), f)
    with drsn.Model(model_bytes, num_threads=threads) as m:
        assert m.num_threads == threads
        for a, b in zip(m.run(f), expected.values()):
            np.testing.assert_allclose(a, b.astype(np.float32), rtol=0, atol=ATOL)


# ---- running -------------------------------------------------------------------------------

def test_input_forms_agree(model):
    f = feeds(batch=2)
    by_dict = model.run(f)
    by_list = model.run([f["signal"], f["gain"]])
    by_tuple = model.run((f["signal"], f["gain"]))
    as_dict = model.run_dict(f)
    assert list(as_dict) == ["features", "mask"]
    for a, b, c, d in zip(by_dict, by_list, by_tuple, as_dict.values()):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(a, d)


def test_non_contiguous_inputs(model):
    f = feeds(batch=3, length=10)
    expected = model.run(f)
    wide = np.zeros((3, 3, 20), np.float32)
    wide[:, :, ::2] = f["signal"]
    fortran = np.asfortranarray(f["gain"])
    unaligned_buf = np.zeros(f["signal"].size * 4 + 1, np.uint8)
    unaligned = unaligned_buf[1:].view(np.float32).reshape(f["signal"].shape)
    unaligned[...] = f["signal"]
    assert not unaligned.flags.aligned or unaligned.ctypes.data % 4
    for signal, gain in ((wide[:, :, ::2], f["gain"]), (f["signal"], fortran), (unaligned, fortran)):
        before = signal.copy()
        got = model.run({"signal": signal, "gain": gain})
        for a, b in zip(got, expected):
            np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(signal, before)  # inputs are never written


def test_results_are_fresh_arrays(model):
    f = feeds()
    first = model.run(f)
    keep = [a.copy() for a in first]
    second = model.run(feeds(seed=1))
    for a, b in zip(first, keep):
        np.testing.assert_array_equal(a, b)  # a later run does not reuse returned arrays
    assert all(a is not b for a, b in zip(first, second))
    assert all(a.flags.c_contiguous and a.flags.writeable and a.flags.owndata for a in first)


def test_run_into_is_zero_copy(model):
    f = feeds(batch=5, length=7)
    outs = [np.full(s, np.nan, np.float32) for s in model.output_shapes({k: v.shape for k, v in f.items()})]
    addresses = [o.ctypes.data for o in outs]
    got = model.run_into(f, outs)
    assert all(g is o for g, o in zip(got, outs))
    assert [o.ctypes.data for o in outs] == addresses
    for a, b in zip(outs, model.run(f)):
        np.testing.assert_array_equal(a, b)
    by_name = {"mask": np.empty((5, 3, 7), np.float32), "features": np.empty((5, 4), np.float32)}
    got = model.run_into(f, by_name)
    assert got[0] is by_name["features"] and got[1] is by_name["mask"]


def test_varying_shapes_on_one_model(model, model_bytes):
    session = ort_session(model_bytes)
    for batch, length in [(1, 3), (7, 64), (2, 5), (1, 3), (16, 1), (7, 64)]:
        f = feeds(batch, length, seed=batch * 100 + length)
        expected = ort_run(session, f)
        for a, b in zip(model.run(f), expected.values()):
            np.testing.assert_allclose(a, b.astype(np.float32), rtol=0, atol=ATOL)


def three_output_model() -> onnx.ModelProto:
    """x [N,4], y [N,4] -> total [N,4] (Add), scores [N,3] (Gemm), clipped [N,4] (Relu of
    the difference), mask [N,4] (Greater, bool): several outputs of different shapes."""
    rng = np.random.default_rng(17)
    nodes = [
        node("Add", ["x", "y"], ["total"]),
        node("Gemm", ["total", "w", "b"], ["scores"], transB=1),
        node("Sub", ["x", "y"], ["d"]),
        node("Relu", ["d"], ["clipped"]),
        node("Greater", ["x", "y"], ["mask"]),
    ]
    inits = {"w": rng.uniform(-1, 1, (3, 4)).astype(np.float32),
             "b": rng.uniform(-1, 1, 3).astype(np.float32)}
    return make_model(nodes, [("x", ["N", 4]), ("y", ["N", 4])],
                      ["total", "scores", "clipped", ("mask", TensorProto.BOOL)], inits)


@pytest.mark.parametrize("names", [["scores"], ["clipped", "total"], ["mask", "scores", "total"],
                                   ["total", "scores", "clipped", "mask"],
                                   ["mask", "clipped", "scores", "total"], ["scores", "scores"],
                                   ["total", "mask", "total"]], ids=",".join)
def test_run_output_names_match_onnxruntime(names, needs_library):
    """Model.run(x, output_names=[...]) returns the named outputs in that order, like
    onnxruntime's InferenceSession.run(output_names, feeds)."""
    proto = three_output_model()
    rng = np.random.default_rng(3)
    f = {"x": rng.uniform(-1, 1, (5, 4)).astype(np.float32),
         "y": rng.uniform(-1, 1, (5, 4)).astype(np.float32)}
    expected = ort_session(proto).run(names, f)
    with drsn.Model(proto.SerializeToString()) as m:
        got = m.run(f, output_names=names)
        assert isinstance(got, list) and len(got) == len(names)
        for name, a, b in zip(names, got, expected):
            assert a.dtype == np.float32 and a.shape == b.shape, name
            np.testing.assert_allclose(a, b.astype(np.float32), rtol=0, atol=ATOL, err_msg=name)
        # the same arrays as a full run, picked by name; a tuple works as well as a list
        full = dict(zip([o.name for o in m.outputs], m.run(f)))
        for name, a in zip(names, m.run([f["x"], f["y"]], output_names=tuple(names))):
            np.testing.assert_array_equal(a, full[name])
        # run_dict follows output_names too
        as_dict = m.run_dict(f, output_names=names)
        assert list(as_dict) == list(dict.fromkeys(names))


def test_run_output_names_duplicates_and_empty(needs_library):
    """Duplicates are allowed (the same array object at each place, documented); an empty
    selection returns an empty list; None returns everything."""
    with drsn.Model(three_output_model().SerializeToString()) as m:
        f = {"x": np.ones((2, 4), np.float32), "y": np.zeros((2, 4), np.float32)}
        a, b, c = m.run(f, output_names=["total", "scores", "total"])
        assert a is c and a.shape == (2, 4) and b.shape == (2, 3)
        assert m.run(f, output_names=[]) == []
        assert len(m.run(f, output_names=None)) == 4


def test_run_output_names_errors(needs_library):
    with drsn.Model(three_output_model().SerializeToString()) as m:
        f = {"x": np.ones((2, 4), np.float32), "y": np.zeros((2, 4), np.float32)}
        with pytest.raises(drsn.InvalidArgumentError) as info:
            m.run(f, output_names=["scores", "logits"])
        message = str(info.value)
        assert message.startswith("Model.run: "), message
        assert "'logits'" in message, message
        for valid in ("'total'", "'scores'", "'clipped'", "'mask'"):
            assert valid in message, (valid, message)
        assert "'scores'" not in message.split("(")[0], message  # only the unknown one is blamed
        with pytest.raises(drsn.InvalidArgumentError) as info:
            m.run(f, output_names=["a", "scores", "b", "a"])
        assert "unknown outputs 'a', 'b'" in str(info.value), str(info.value)
        with pytest.raises(drsn.InvalidArgumentError, match="not a single str"):
            m.run(f, output_names="scores")  # a str is not a list of names
        with pytest.raises(drsn.InvalidArgumentError, match="expected output names"):
            m.run(f, output_names=[0])
        with pytest.raises(drsn.InvalidArgumentError) as info:
            m.run_dict(f, output_names=["nope"])
        assert str(info.value).startswith("Model.run_dict: ") and "'nope'" in str(info.value)
        with pytest.raises(TypeError):
            m.run(f, ["scores"])  # keyword-only, as the second positional could be misread
        assert len(m.run(f)) == 4  # still usable


def test_zero_batch(model):
    """Every run-time dimension must be between 1 and 2^31 (header): zero-size tensors (an
    empty batch, a dimension of 0 anywhere, a declared dimension given as 0) are refused,
    not run, with a ShapeError naming the input and saying they are not supported -- from
    run, run_into and output_shapes alike."""
    zero_length = feeds(batch=2, length=4)
    zero_length["signal"] = np.zeros((2, 3, 0), np.float32)
    zero_channels = feeds(batch=2, length=4)
    zero_channels["gain"] = np.zeros((2, 0), np.float32)  # declared [N, 4]
    for f in (feeds(batch=0, length=4), zero_length, zero_channels):
        with pytest.raises(drsn.ShapeError) as info:
            model.run(f)
        message = str(info.value)
        assert "zero-size tensors are not supported" in message, message
        assert ("'signal'" if f is not zero_channels else "'gain'") in message, message
    with pytest.raises(drsn.ShapeError, match="zero-size tensors are not supported"):
        model.output_shapes({"signal": [0, 3, 4], "gain": [0, 4]})
    with pytest.raises(drsn.ShapeError, match="zero-size tensors are not supported"):
        model.run_into(feeds(batch=0, length=4), [np.empty((0, 4), np.float32), np.empty((0, 3, 4), np.float32)])
    assert model.run(feeds(batch=1, length=4))[0].shape[0] == 1  # still usable


# ---- lifetime ------------------------------------------------------------------------------

def test_context_manager(model_bytes, needs_library):
    with drsn.Model(model_bytes) as m:
        assert not m.closed
        m.run(feeds())
    assert m.closed
    with pytest.raises(drsn.ClosedError):
        m.run(feeds())


def test_context_manager_closes_on_exception(model_bytes, needs_library):
    with pytest.raises(RuntimeError):
        with drsn.Model(model_bytes) as m:
            raise RuntimeError("boom")
    assert m.closed


def test_garbage_collection_and_shutdown(tmp_path, needs_library):
    """Models dropped by refcount, in a reference cycle, and alive at interpreter exit
    are all released without error or crash."""
    path = tmp_path / "m.onnx"
    path.write_bytes(two_input_model().SerializeToString())
    proc = run_python("""
        import gc, sys
        sys.path.insert(0, %r)
        import drsn
        for _ in range(50):
            drsn.Model(%r)                 # freed by refcount
        a = drsn.Model(%r); a.cycle = a    # freed by the cycle collector
        del a; gc.collect()
        kept = drsn.Model(%r)              # still alive at exit
        kept2 = drsn.Model(%r); kept2.close()
        import threading
        t = threading.Thread(target=lambda: drsn.Model(%r), daemon=True); t.start(); t.join()
        print("ok")
    """ % ((str(BINDING),) + (str(path),) * 5), {}, tmp_path)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr
    assert "Exception ignored" not in proc.stderr, proc.stderr


def test_close_waits_for_running_threads(needs_library):
    data = drsn_net().SerializeToString()
    m = drsn.Model(data)
    x = np.random.default_rng(0).uniform(-1, 1, (16, 1, 256)).astype(np.float32)
    errors, finished = [], []

    def worker():
        try:
            for _ in range(200):
                m.run(x)
            finished.append(True)
        except drsn.ClosedError:
            finished.append(False)
        except Exception as exc:  # anything else is a failure
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    m.run(x)
    m.close()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(finished) == 4


# ---- threads -------------------------------------------------------------------------------

def test_concurrent_runs_match_single_thread(needs_library):
    """8 Python threads run one model at once (the GIL is released during runs);
    every result equals the single-threaded result bit for bit."""
    data = drsn_net().SerializeToString()
    rng = np.random.default_rng(3)
    inputs = [rng.uniform(-1, 1, (b, 1, 256)).astype(np.float32) for b in (1, 7, 3, 16, 1, 5, 7, 2)]
    with drsn.Model(data) as m:
        reference = [m.run(x)[0] for x in inputs]
        expected = ort_run(ort_session(data), {"x": inputs[1]})["logits"]
        np.testing.assert_allclose(reference[1], expected, rtol=0, atol=ATOL)
        mismatches, errors = [], []
        barrier = threading.Barrier(8)

        def worker(t):
            try:
                barrier.wait()
                for k in range(30):
                    i = (t + k) % len(inputs)
                    if k % 3 == 2:
                        out = np.empty_like(reference[i])
                        m.run_into(inputs[i], [out])
                    else:
                        (out,) = m.run(inputs[i])
                    if not np.array_equal(out, reference[i]):
                        mismatches.append((t, k, i, float(np.max(np.abs(out - reference[i])))))
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors, errors
        assert not mismatches, mismatches[:10]


def test_concurrent_models_and_loads(needs_library):
    """Loading, running and closing different models from several threads at once."""
    data = drsn_net().SerializeToString()
    x = np.random.default_rng(4).uniform(-1, 1, (2, 1, 256)).astype(np.float32)
    with drsn.Model(data) as m:
        (reference,) = m.run(x)
    results, errors = [], []

    def worker():
        try:
            for _ in range(5):
                with drsn.Model(data, num_threads=1) as own:
                    results.append(own.run(x)[0])
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(results) == 20
    for r in results:
        np.testing.assert_allclose(r, reference, rtol=0, atol=ATOL)


def test_many_loads_do_not_grow_memory(needs_library):
    """Loading and freeing the same model repeatedly must not leak (RSS growth bounded)."""
    statm = Path("/proc/self/statm")
    if not statm.exists():
        pytest.skip("needs /proc")
    data = drsn_net().SerializeToString()
    x = np.zeros((4, 1, 256), np.float32)

    def rss_mb():
        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    for _ in range(20):
        with drsn.Model(data) as m:
            m.run(x)
    before = rss_mb()
    for _ in range(200):
        with drsn.Model(data) as m:
            m.run(x)
    grown = rss_mb() - before
    assert grown < 20, f"RSS grew {grown:.1f} MiB over 200 load/run/close cycles"
