"""Scale-out scoring on Dask (drsn.dask, `drsn score`) on LocalClusters of 2 single-threaded
worker processes: the rows equal a single-process Model.run_windows loop over the same
recordings bit for bit (.npy, .wav, .csv, .parquet; recordings split into several ranges);
a worker process killed in the middle of a job costs nothing (every window of every
recording still appears exactly once); corrupt recordings fail their own rows and are
reported while the others are scored; an empty glob and a missing Dask give clear errors."""

import os
import signal
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

import drsn
from drsn.cli import _softmax, _windows_of, read_recording

distributed = pytest.importorskip("distributed")
pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
import drsn.dask as drsn_dask  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
BINDING = REPO_ROOT / "bindings" / "python"
BEARING = REPO_ROOT / "examples" / "bearing"
MODEL = BEARING / "model" / "drsn_cwru.onnx"
CLASSES = BEARING / "data" / "classes.json"
WINDOW, HOP = 2048, 1024
#: Windows per task in these tests: one batch of run_windows (64), so recordings of more
#: than 64 windows are split into several ranges and several tasks.
PER_TASK = 64

pytestmark = pytest.mark.usefixtures("needs_library")


def samples_for(windows):
    return WINDOW + (windows - 1) * HOP


def write_wav(path, values, frames_kept=None):
    pcm = np.clip(np.round(values * 32767), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(12000)
        w.writeframes(pcm.tobytes())
    if frames_kept is not None:  # cut the data short; the header still declares every frame
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size - (len(values) - frames_kept) * 2)


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Good recordings of every format, some split into several ranges, in sorted order."""
    d = tmp_path_factory.mktemp("recordings")
    rng = np.random.default_rng(15)
    paths = {}
    # 65 windows: ranges of 64 + 1, the last one a batch of one window
    paths["a.npy"] = d / "a.npy"
    np.save(paths["a.npy"], rng.standard_normal(samples_for(65)).astype(np.float32))
    paths["b.npy"] = d / "b.npy"  # [channels=1, length] float64: converted like drsn classify
    np.save(paths["b.npy"], rng.standard_normal((1, samples_for(9) + 500)))
    paths["c.wav"] = d / "c.wav"
    write_wav(paths["c.wav"], 0.3 * rng.standard_normal(samples_for(70)))
    paths["d.csv"] = d / "d.csv"
    np.savetxt(paths["d.csv"], rng.standard_normal(samples_for(3)), header="x", comments="")
    paths["e.parquet"] = d / "e.parquet"
    pq.write_table(pa.table({"x": rng.standard_normal(samples_for(70)).astype(np.float32)}),
                   paths["e.parquet"], row_group_size=20000)  # ranges cross row groups
    return d, [str(p) for p in paths.values()]


def reference_signal(path):
    if path.endswith(".parquet"):
        return pq.read_table(path).column("x").to_numpy().astype(np.float32)[None, :]
    return read_recording(path)


def reference(path, batch_size=64):
    """The single-process loop: Model.run_windows over the whole recording."""
    signal_ = reference_signal(path)
    with drsn.Model(str(MODEL), num_threads=1) as model:
        (logits,) = model.run_windows(signal_[0], WINDOW, HOP, batch_size=batch_size)
    return logits


def rows_of(table, path):
    mask = np.array([r == path for r in table.column("recording").to_pylist()])
    return table.filter(pa.array(mask))


def outputs_of(table):
    return np.array(table.column("outputs").to_pylist(), dtype=np.float32)


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=40) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def check_equal_to_loop(table, paths):
    """Every window of every path, in order, bit for bit as the single-process loop."""
    assert table.column("recording").to_pylist() == [
        p for p in paths for _ in range(len(reference(p)))]
    classes = drsn.cli._load_classes(str(CLASSES), 10)
    for path in paths:
        rows = rows_of(table, path)
        expected = reference(path)
        n = len(expected)
        assert rows.column("window").to_pylist() == list(range(n)), path
        assert rows.column("start").to_pylist() == [k * HOP for k in range(n)], path
        got = outputs_of(rows)
        assert got.dtype == np.float32 and got.shape == expected.shape, path
        assert np.array_equal(got, expected), (path, np.abs(got - expected).max())
        probs = _softmax(expected)
        label = probs.argmax(axis=1)
        assert rows.column("label").to_pylist() == label.tolist(), path
        assert rows.column("label_name").to_pylist() == [classes[k] for k in label], path
        conf = rows.column("confidence").to_numpy()
        assert np.array_equal(conf, probs[np.arange(n), label].astype(np.float32)), path


# ---- results ---------------------------------------------------------------------------------

def test_results_equal_single_process_run_windows_loop(client, recordings):
    folder, paths = recordings
    table = drsn_dask.score(MODEL, [str(folder / "*")], hop=HOP, classes=str(CLASSES),
                            client=client, windows_per_task=PER_TASK)
    assert sorted(paths) == paths  # the glob expands in sorted order
    check_equal_to_loop(table, paths)
    assert drsn_dask.failures(table) == {}
    schema = table.schema
    assert schema.field("outputs").type == pa.list_(pa.float32())
    assert schema.field("confidence").type == pa.float32()
    # the long recordings ran as several tasks
    plan = drsn_dask.plan(MODEL, paths, hop=HOP, windows_per_task=PER_TASK)
    assert [len(r) for r in plan.ranges] == [2, 1, 2, 1, 2]

    summary = drsn_dask.summarize(table)
    assert summary.column("recording").to_pylist() == paths
    for row, path in zip(summary.to_pylist(), paths):
        label = _softmax(reference(path)).argmax(axis=1)
        counts = np.bincount(label, minlength=10)
        assert row["windows"] == len(label)
        assert row["label"] == int(counts.argmax())
        assert row["share"] == pytest.approx(counts.max() / len(label))
        assert row["error"] is None


def test_introspection_columns(client, recordings):
    _, paths = recordings
    path = paths[0]
    table = drsn_dask.score(MODEL, path, hop=HOP, client=client, introspect=True,
                            windows_per_task=PER_TASK)
    signal_ = read_recording(path)
    n = table.num_rows
    windows = _windows_of(signal_, 0, n, WINDOW, HOP, True, 1e-8)
    with drsn.Model(str(MODEL), num_threads=1) as model:
        _, taus, zeroed = model.run_introspect(windows)
    expected_tau = np.stack([t.mean(axis=1) for t in taus], axis=1)
    expected_zero = np.stack(zeroed, axis=1)
    got_tau = np.array(table.column("tau_mean").to_pylist(), np.float32)
    got_zero = np.array(table.column("zeroed_fraction").to_pylist(), np.float32)
    assert got_tau.shape == (n, 9) and got_zero.shape == (n, 9)
    np.testing.assert_allclose(got_tau, expected_tau, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got_zero, expected_zero, rtol=0, atol=1e-6)
    assert np.array_equal(outputs_of(table), reference(path))


def test_dataframe_variant(client, recordings, tmp_path):
    _, paths = recordings
    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"\x93NUMPY garbage")
    frame = drsn_dask.score_dataframe(MODEL, paths[:3] + [str(bad)], hop=HOP,
                                      windows_per_task=PER_TASK)
    # the planning failure, then tasks of at most 64 windows: a[0:64], a[64] + b[0:9],
    # c[0:64], c[64:70]
    assert frame.npartitions == 5
    df = frame.compute()
    ok = df[df["error"].isna()]
    errors = df[df["error"].notna()]
    assert errors["recording"].tolist() == [str(bad)]
    assert "not a readable .npy array" in errors["error"].iloc[0]
    for path in paths[:3]:
        rows = ok[ok["recording"] == path]
        assert rows["window"].tolist() == list(range(len(reference(path))))
        assert np.array_equal(np.array(rows["outputs"].tolist(), np.float32), reference(path))


@pytest.mark.parametrize("layout", ["1d", "c3", "fortran3", "big_endian", "int16", "wav2"])
def test_read_samples_reads_ranges_like_read_recording(tmp_path, layout):
    """A range read from the file equals the same slice of the whole recording as
    `drsn classify` reads it, for every .npy layout and a 2-channel .wav, per channel too."""
    from drsn._score import probe, read_samples
    rng = np.random.default_rng(3)
    path = tmp_path / ("rec.wav" if layout == "wav2" else "rec.npy")
    if layout == "1d":
        np.save(path, rng.standard_normal(5000).astype(np.float32))
    elif layout == "c3":
        np.save(path, rng.standard_normal((3, 5000)))
    elif layout == "fortran3":
        np.save(path, np.asfortranarray(rng.standard_normal((3, 5000)).astype(np.float32)))
    elif layout == "big_endian":
        np.save(path, rng.standard_normal((2, 5000)).astype(">f4"))
    elif layout == "int16":
        np.save(path, rng.integers(-30000, 30000, 5000).astype(np.int16))
    else:
        pcm = rng.integers(-30000, 30000, (5000, 2)).astype("<i2")
        with wave.open(str(path), "wb") as w:
            w.setnchannels(2)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(pcm.tobytes())
    whole = read_recording(str(path))
    channels = whole.shape[0]
    assert probe(str(path)) == (channels, 5000)
    for start, stop in [(0, 5000), (0, 1), (1234, 4321), (4999, 5000)]:
        got = read_samples(str(path), start, stop)
        assert got.dtype == np.float32 and np.array_equal(got, whole[:, start:stop])
        got = read_samples(str(path), start, stop, column=channels - 1)
        assert np.array_equal(got, whole[channels - 1:, start:stop])
    assert np.array_equal(read_samples(str(path), 100, None), whole[:, 100:])


def test_pack_groups_short_recordings_and_splits_long_ones():
    from drsn._score import Range, pack
    ranges = [[Range("a", "/a", 0, 10)], [Range("b", "/b", 0, 192), Range("b", "/b", 192, 5)],
              [Range("c", "/c", 0, None)], [Range("d", "/d", 0, 20)], [Range("e", "/e", 0, 30)]]
    tasks, where = pack(ranges, 64)
    assert [[(r.recording, r.first, r.count) for r in t] for t in tasks] == [
        [("a", 0, 10)], [("b", 0, 64)], [("b", 64, 64)], [("b", 128, 64)],
        [("b", 192, 5)], [("c", 0, None)], [("d", 0, 20), ("e", 0, 30)]]
    assert where == [[(0, 0)], [(1, 0), (2, 0), (3, 0), (4, 0)], [(5, 0)], [(6, 0)], [(6, 1)]]


def test_workers_reuse_buffers_under_dask_malloc_settings(recordings):
    """Dask starts workers with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc map and unmap
    every buffer over 128 KiB anew; a task undoes it (drsn._score.keep_buffers): scoring
    the same ranges again then takes almost no page faults (about 250 per 65-window range
    without it). Counted in a fresh process that has the variable from its start (glibc:
    the test machines' Linux)."""
    _, paths = recordings
    script = (
        "import resource, sys\n"
        "import drsn.dask, drsn._score as s\n"
        f"plan = drsn.dask.plan({str(MODEL)!r}, {paths[:3]!r}, hop={HOP})\n"
        "tasks = [r for rs in plan.ranges for r in rs]\n"
        "s.score_ranges(tasks, plan.settings)\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt\n"
        "for _ in range(5):\n"
        "    s.score_ranges(tasks, plan.settings)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before, s._buffers_kept)\n")
    env = dict(os.environ, PYTHONPATH=str(BINDING), MALLOC_TRIM_THRESHOLD_="65536")
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    faults, kept = p.stdout.split()
    assert int(faults) < 1000, faults  # 5 passes over 3 ranges: about 2900 without it
    assert kept == "True"


# ---- fault tolerance ---------------------------------------------------------------------------

def test_worker_killed_mid_job_every_window_exactly_once(recordings, tmp_path):
    """The first task to read samples SIGKILLs its own worker process (a marker file makes it
    happen once, on whichever worker gets there first). Dask's nanny restarts the worker, the
    scheduler runs the lost task again; the job completes with every window once."""
    _, paths = recordings
    marker = tmp_path / "killed"

    def install(marker_path):
        import drsn._score as score_module
        original = score_module.read_samples

        def read_or_die(path, start, stop, column=None):
            try:
                fd = os.open(marker_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                return original(path, start, stop, column)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            os.kill(os.getpid(), signal.SIGKILL)

        score_module.read_samples = read_or_die
        return os.getpid()

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", silence_logs=50) as cluster, \
            distributed.Client(cluster) as c:
        before = set(c.run(install, str(marker)).values())
        table = drsn_dask.score(MODEL, paths, hop=HOP, classes=str(CLASSES), client=c,
                                windows_per_task=PER_TASK)
        c.wait_for_workers(2, timeout=60)
        after = set(c.run(os.getpid).values())
    assert marker.exists(), "no worker was killed"
    killed = int(marker.read_text())
    assert killed in before and killed not in after
    pairs = list(zip(table.column("recording").to_pylist(), table.column("window").to_pylist()))
    assert len(pairs) == len(set(pairs))
    check_equal_to_loop(table, paths)
    assert drsn_dask.failures(table) == {}


def test_recording_that_kills_every_worker_fails_alone(recordings, tmp_path):
    """A recording whose task takes its worker process down every time (as a reader crash
    would) fails with a reason once Dask gives the task up; its task-mates (short
    recordings packed into the same task) are scored again one per task, and the job
    returns. Dask gives a task up after allowed-failures + 1 worker deaths."""
    _, paths = recordings
    poison = tmp_path / "poison.npy"
    np.save(poison, np.zeros(samples_for(3), np.float32))

    class Poison(distributed.WorkerPlugin):
        """Installed on every worker, also those the nanny starts after a death."""

        def __init__(self, poison_path):
            self.poison_path = poison_path

        def setup(self, worker):
            import drsn._score as score_module
            original, poison_path = score_module.read_samples, self.poison_path

            def read_or_die(path, start, stop, column=None):
                if path == poison_path:
                    os.kill(os.getpid(), signal.SIGKILL)
                return original(path, start, stop, column)

            score_module.read_samples = read_or_die

    import dask
    given = [paths[0], paths[1], str(poison)]
    # Batches of 16 windows, tasks of at most 16: a[0:16] ... a[48:64], then a[64] + b + poison
    # in one task. allowed-failures 1: Dask gives a task up after two deaths of its worker
    # (a task queued on the same worker may be given up too: it is run again alone).
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}), \
            drsn_dask.client_for(workers=2) as c:
        c.register_plugin(Poison(str(poison)))
        job = drsn_dask.Job(drsn_dask.plan(MODEL, given, hop=HOP, batch_size=16,
                                           windows_per_task=16), c)
        assert [len(t) for t in job._tasks] == [1, 1, 1, 1, 3]
        outcomes = list(job)
        c.wait_for_workers(2, timeout=60)
    assert [o.recording for o in outcomes] == given
    assert outcomes[2].table is None and "workers died while scoring it" in outcomes[2].error
    assert "-4-alone-2-" in outcomes[2].error  # given up when run alone, after its task was
    for o in outcomes[:2]:
        assert o.error is None
        assert np.array_equal(outputs_of(o.table), reference(o.recording, batch_size=16))


def test_a_task_keeps_its_recordings_apart(recordings, monkeypatch):
    """score_ranges (one task) retries a range whose read raised OSError, and an exception
    from one range fails that recording only, not its task-mates."""
    import drsn._score as score_module
    _, paths = recordings
    plan = drsn_dask.plan(MODEL, paths[:2], hop=HOP, windows_per_task=PER_TASK)
    ranges = [r for rs in plan.ranges for r in rs]
    original = score_module.read_samples
    calls = []

    def flaky(path, start, stop, column=None):
        calls.append(path)
        if path == ranges[0].path and calls.count(path) == 1:
            raise OSError(5, "Input/output error")
        if path == ranges[2].path:
            raise RuntimeError("a reader bug")
        return original(path, start, stop, column)

    monkeypatch.setattr(score_module, "read_samples", flaky)
    task_result = score_module.score_ranges(ranges, plan.settings, io_retries=2, backoff=0.01)
    results = [task_result.range(k) for k in range(len(ranges))]
    assert [r.error is None for r in results] == [True, True, False]
    assert results[2].error == f"'{paths[1]}': RuntimeError: a reader bug"
    assert calls.count(ranges[0].path) == 3  # range 0 read twice (one retry), range 1 once
    got = np.concatenate([outputs_of(results[0].table), outputs_of(results[1].table)])
    assert np.array_equal(got, reference(paths[0]))
    monkeypatch.setattr(score_module, "read_samples", lambda *a, **k: (_ for _ in ()).throw(
        OSError(5, "Input/output error")))
    result = score_module.score_ranges(ranges[:1], plan.settings, io_retries=1, backoff=0.01).range(0)
    assert result.error == f"'{paths[0]}': Input/output error (2 attempts)"


# ---- bad recordings and bad jobs ---------------------------------------------------------------

@pytest.fixture(scope="module")
def corrupt(tmp_path_factory):
    """Recordings that must fail, each with a fragment of its reason."""
    d = tmp_path_factory.mktemp("corrupt")
    rng = np.random.default_rng(7)
    cases = {}
    (d / "garbage.npy").write_bytes(b"this is not an array")
    cases["garbage.npy"] = "not a readable .npy array"
    np.save(d / "truncated.npy", rng.standard_normal(samples_for(20)).astype(np.float32))
    with open(d / "truncated.npy", "r+b") as f:
        f.truncate(4000)
    cases["truncated.npy"] = "not a readable .npy array"
    values = rng.standard_normal(samples_for(10)).astype(np.float32)
    values[5000] = np.nan
    np.save(d / "nan.npy", values)
    cases["nan.npy"] = "NaN or infinite"
    np.save(d / "short.npy", np.zeros(WINDOW - 1, np.float32))
    cases["short.npy"] = "fewer than one window"
    np.save(d / "two_channels.npy", np.zeros((2, samples_for(4)), np.float32))
    cases["two_channels.npy"] = "2 channel(s)"
    # the header declares 100 windows, the data holds 70: the first range of 64 windows
    # scores, the second fails on a worker, and the whole recording fails
    write_wav(d / "cut.wav", 0.3 * rng.standard_normal(samples_for(100)),
              frames_kept=samples_for(70))
    cases["cut.wav"] = "truncated"
    (d / "text.npy.gz").write_bytes(b"x")
    cases["text.npy.gz"] = "unknown recording format"
    return d, cases


def test_corrupt_recordings_fail_their_own_rows(client, recordings, corrupt):
    _, good = recordings
    d, cases = corrupt
    bad = [str(d / name) for name in cases]
    missing = str(d / "missing.npy")
    given = [good[0], *bad, good[2], missing]
    # a scheduler address: the job connects its own client to the running cluster
    table = drsn_dask.score(MODEL, given, hop=HOP, classes=str(CLASSES),
                            client=client.scheduler.address, windows_per_task=PER_TASK)
    failed = drsn_dask.failures(table)
    assert list(failed) == bad + [missing]
    for name, fragment in cases.items():
        reason = failed[str(d / name)]
        assert fragment in reason and str(d / name) in reason, (name, reason)
    assert "does not exist" in failed[missing]
    check_equal_to_loop(table, [good[0], good[2]])
    summary = drsn_dask.summarize(table)
    assert summary.column("recording").to_pylist() == given
    errors = summary.column("error").to_pylist()
    assert [e is not None for e in errors] == [False] + [True] * len(bad) + [False, True]
    assert summary.column("windows").to_pylist()[1] == 0


def test_empty_glob_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"no recordings match '.*nothing\*\.npy'"):
        drsn_dask.score(MODEL, str(tmp_path / "nothing*.npy"))
    with pytest.raises(ValueError, match="no recordings given"):
        drsn_dask.score(MODEL, [])


def test_job_level_errors_before_any_cluster(recordings, tmp_path):
    _, paths = recordings
    with pytest.raises(ValueError, match="takes windows of 2048 samples; window is 1000"):
        drsn_dask.score(MODEL, paths, window=1000)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        drsn_dask.score(tmp_path / "missing.onnx", paths)
    with pytest.raises(ValueError, match="3 class names given, the model outputs 10"):
        drsn_dask.score(MODEL, paths, classes=["a", "b", "c"])


def test_missing_dask_is_a_clear_error():
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'distributed':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import drsn\n")
    env = dict(os.environ, PYTHONPATH=str(BINDING))
    p = subprocess.run([sys.executable, "-c", blocker + "import drsn.dask"], capture_output=True,
                       text=True, env=env, timeout=60)
    assert p.returncode != 0
    assert 'pip install "drsn[dask]"' in p.stderr and "'distributed' is not installed" in p.stderr
    p = subprocess.run([sys.executable, "-c", blocker + "from drsn.cli import main\n"
                        f"sys.exit(main(['score', {str(MODEL)!r}, 'x.npy']))"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 1, p.stderr
    assert p.stderr.strip().splitlines() == [
        "drsn: error: drsn.dask needs dask.distributed and pyarrow, and 'distributed' is not "
        "installed: pip install \"drsn[dask]\""]


# ---- the command line --------------------------------------------------------------------------

def drsn_cli(*args, timeout=180):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(BINDING) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run([sys.executable, "-m", "drsn", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=timeout, cwd=str(REPO_ROOT))


def test_cli_score_names_the_failed_recordings(recordings, corrupt, tmp_path):
    folder, good = recordings
    d, _ = corrupt
    out, summary = tmp_path / "results.parquet", tmp_path / "summary.csv"
    p = drsn_cli("score", MODEL, good[0], str(d / "nan.npy"), str(folder / "[c-d]*"),
                 "-o", out, "--summary", summary, "--workers", 2, "--hop", HOP,
                 "--classes", CLASSES, "--windows-per-task", PER_TASK, "--progress")
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr + p.stdout
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith(f"drsn: error: 1 of 4 recording(s) failed: {d / 'nan.npy'} "), last
    assert "NaN or infinite" in last
    assert "% Completed" in p.stderr  # Dask's progress bar, on stderr
    scored = [good[0], good[2], good[3]]
    for path in scored:
        assert Path(path).name in p.stdout
    assert "FAILED: " in p.stdout and "scored 3 of 4 recordings" in p.stdout
    table = pq.read_table(out)
    check_equal_to_loop(table, scored)
    assert pq.ParquetFile(out).metadata.num_row_groups == 1  # rows buffered, not one group each
    assert list(drsn_dask.failures(out)) == [str(d / "nan.npy")]
    lines = summary.read_text().splitlines()
    assert lines[0].split(",")[:4] == ['"recording"', '"windows"', '"label"', '"label_name"']
    assert len(lines) == 5 and "NaN or infinite" in lines[2]
    assert not (tmp_path / "results.parquet.partial").exists()


def test_cli_score_empty_glob_and_usage_errors(tmp_path):
    p = drsn_cli("score", MODEL, str(tmp_path / "*.npy"))
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == [f"drsn: error: no recordings match '{tmp_path}/*.npy'"]
    p = drsn_cli("score", MODEL, "x.npy", "--scheduler", "tcp://127.0.0.1:1", "--workers", 2)
    assert p.returncode == 2 and "--workers starts a local cluster" in p.stderr
    p = drsn_cli("score", MODEL, "x.npy", "-o", tmp_path / "out.csv")
    assert p.returncode == 2 and "must name a .parquet file" in p.stderr
