"""Scale-out batch scoring on Dask: a model over many recordings on many processes or machines.

    import drsn.dask
    table = drsn.dask.score("model.onnx", "recordings/*.npy", window=2048, hop=1024,
                            classes="classes.json")          # a pyarrow.Table, one row per window
    print(drsn.dask.summarize(table))                         # one row per recording
    print(drsn.dask.failures(table))                          # {recording: why it failed}

Needs the optional dependencies: ``pip install "drsn[dask]"`` (dask.distributed, pyarrow).
Dask does the distribution: without ``client`` a LocalCluster with one single-threaded
worker process per core is started and closed afterwards; ``client`` may be a
:class:`distributed.Client` or a scheduler address (``"tcp://host:8786"``) of a cluster
started with ``dask scheduler`` / ``dask worker`` or Dask's Kubernetes / HPC tools. The model
file and the recordings must be readable at the same paths on the client (which expands
globs and reads the recordings' headers) and on every worker.

How a job runs:

* The client hashes the model file (SHA-256), checks the model once (one input [N, C, W] or
  [N, W], a vector of scores per window), expands the globs, reads every recording's
  header and splits it into ranges of at most ``windows_per_task`` windows (.npy, .wav and
  .parquet; a .csv is parsed whole by one task). Tasks hold ranges of consecutive
  recordings, about four per worker thread (see :class:`Job`).
* The worker loads the model once per process (cached by the file's hash, verified
  against the client's), reads only the samples of its ranges and scores them with
  :meth:`drsn.Model.run_windows` -- ranges start on whole batches, so the numbers equal a
  single-process ``run_windows`` over the whole recording bit for bit.
* A recording that cannot be scored (unreadable, corrupt, NaN, too short, wrong channel
  count) fails its own rows: it is left out of the results and listed with the reason in
  :func:`failures`; the job goes on. Reading a range that raises OSError (a network file
  system's hiccup) is tried again ``retries`` times; a task whose worker dies is
  rescheduled by Dask on another worker, so every window of every recording is in the
  results exactly once.

Results: :func:`score` returns a :class:`pyarrow.Table` with the columns of
:func:`drsn._score.result_schema` (``recording`` as given, ``window``, ``start``, ``label``,
``label_name`` when classes are given, ``confidence``, ``outputs``, and with
``introspect=True`` ``tau_mean`` and ``zeroed_fraction`` per shrinkage unit), in the order
of the recordings and windows. :func:`score_dataframe` builds the same rows as a lazy Dask
DataFrame for results larger than memory. ``drsn score`` is the command-line front end.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import glob
import json
import logging
import os
import sys
import uuid
from typing import Any, Dict, Iterator, List, NamedTuple, Optional, Sequence, Union

INSTALL_HINT = 'pip install "drsn[dask]"'

try:
    import dask
    import distributed
    import pyarrow as pa
except ImportError as _exc:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(f"drsn.dask needs dask.distributed and pyarrow, and "
                      f"'{_exc.name}' is not installed: {INSTALL_HINT}") from None

from . import _score
from ._model import WINDOW_BATCH_DEFAULT, ZSCORE_EPSILON_DEFAULT, Model
from ._score import METADATA_KEY, Range, RecordingError, Settings
from ._score_command import WINDOWS_PER_TASK_DEFAULT
from .cli import CliError, _load_classes

__all__ = ["INSTALL_HINT", "WINDOWS_PER_TASK_DEFAULT", "Job", "Outcome", "Plan", "client_for",
           "expand_recordings", "failures", "plan", "score", "score_dataframe", "summarize"]

#: Times a range whose reading raised OSError is tried again (a worker that dies is
#: handled by Dask: distributed.scheduler.allowed-failures, 3 by default).
RETRIES_DEFAULT = 2
#: Tasks per worker thread a job aims at (see :class:`Job`).
TASKS_PER_THREAD = 4
#: Dask settings of the local cluster score() starts: less housekeeping on machines whose
#: cores all run workers. No statistical profiler sampling the workers every 10 ms (it
#: feeds only the dashboard); the event loops' watchdog tick, the memory monitor (which
#: restarts a worker over its memory limit) and the dashboard's system monitor at 0.2, 1
#: and 2 s instead of 20 ms, 100 ms and 0.5 s. Together they take the client process from
#: about 6% to 2% of a core while the cluster runs. (The workers' malloc settings: see
#: drsn._score.keep_buffers.)
LOCAL_CLUSTER_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "200ms",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.admin.system-monitor.interval": "2s",
}

Recordings = Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]]


# ---- planning (on the client) ------------------------------------------------------------

def expand_recordings(recordings: Recordings) -> List[str]:
    """Paths of the recordings: a path, a glob (``*``, ``?``, ``[...]``, ``**``) or a list of
    them; globs expand in sorted order, paths are kept as given, a path named twice is
    scored once. ValueError when a glob matches nothing or nothing is given."""
    items = [recordings] if isinstance(recordings, (str, os.PathLike)) else list(recordings)
    paths: List[str] = []
    for item in items:
        text = os.fspath(item)
        if glob.has_magic(text):
            matches = sorted(p for p in glob.glob(text, recursive=True) if not os.path.isdir(p))
            if not matches:
                raise ValueError(f"no recordings match '{text}'")
            paths.extend(matches)
        else:
            paths.append(text)
    if not paths:
        raise ValueError("no recordings given")
    return list(dict.fromkeys(paths))


class Plan(NamedTuple):
    """A job before it runs: its settings, the recordings in order, the ranges of each
    (empty for one that failed already) and the failures found while planning."""

    settings: Settings
    recordings: List[str]
    ranges: List[List[Range]]
    failed: Dict[int, str]  # recording index -> reason
    num_scores: int         # values of the model's first output per window
    windows_per_task: int   # the most windows one task scores (whole batches)

    @property
    def windows(self) -> Optional[int]:
        """Windows of the recordings not failed yet (None when a .csv must be parsed first)."""
        counts = [r.count for ranges in self.ranges for r in ranges]
        return None if None in counts else sum(c for c in counts if c is not None)


def _model_settings(model: Union[str, "os.PathLike[str]"], window: Optional[int], hop: Optional[int],
                    classes: Any) -> Any:
    path = os.path.abspath(os.fspath(model))
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file '{os.fspath(model)}' does not exist")
    sha256 = _score.file_sha256(path)
    with Model(path, num_threads=1) as m:
        if len(m.inputs) != 1:
            raise ValueError(f"scoring needs a model with one input [N, C, W] or [N, W]; this one "
                             f"has {len(m.inputs)}")
        info = m.inputs[0]
        declared = info.shape
        if len(declared) not in (2, 3):
            raise ValueError(f"scoring needs an input [N, C, W] or [N, W]; input '{info.name}' "
                             f"has rank {len(declared)}")
        if window is None:
            if declared[-1] is None:
                raise ValueError(f"the model's input '{info.name}' has a dynamic window length; "
                                 f"give window=")
            window = int(declared[-1])
        elif declared[-1] is not None and declared[-1] != window:
            raise ValueError(f"the model's input '{info.name}' takes windows of {declared[-1]} "
                             f"samples; window is {window}")
        channels = declared[1] if len(declared) == 3 and declared[1] is not None else 1
        shape = (1, channels, window) if len(declared) == 3 else (1, window)
        out = m.output_shapes([shape])[0]
    if len(out) != 2:
        raise ValueError(f"scoring needs a vector of class scores per window; the model's first "
                         f"output has per-window shape {list(out[1:])}")
    num_scores = int(out[1])
    if classes is None:
        names = None
    elif isinstance(classes, (str, os.PathLike)):
        try:
            names = tuple(_load_classes(os.fspath(classes), num_scores))
        except CliError as exc:
            raise ValueError(str(exc)) from None
    else:
        names = tuple(str(c) for c in classes)
        if len(names) != num_scores:
            raise ValueError(f"{len(names)} class names given, the model outputs {num_scores} scores")
    return path, sha256, window, hop if hop is not None else window, names, num_scores, declared


def plan(model: Union[str, "os.PathLike[str]"], recordings: Recordings, window: Optional[int] = None,
         hop: Optional[int] = None, normalization: Optional[str] = "zscore", classes: Any = None,
         introspect: bool = False, *, epsilon: float = ZSCORE_EPSILON_DEFAULT,
         batch_size: int = WINDOW_BATCH_DEFAULT, windows_per_task: int = WINDOWS_PER_TASK_DEFAULT,
         column: Optional[int] = None, threads_per_run: int = 1) -> Plan:
    """Checks the arguments and the model, expands the recordings and splits them into
    ranges (see :func:`score` for the arguments). Raises for a problem of the whole job
    (model, window, classes, no recordings); a problem of one recording is recorded in
    :attr:`Plan.failed`."""
    for name, value in (("window", window), ("hop", hop)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    for name, value, least in (("batch_size", batch_size, 1), ("windows_per_task", windows_per_task, 1),
                               ("threads_per_run", threads_per_run, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
    if isinstance(normalization, str):
        normalization = normalization.lower()
    if normalization == "none":
        normalization = None
    if normalization not in (None, "zscore"):
        raise ValueError(f"normalization must be 'zscore' or None, got {normalization!r}")
    paths = expand_recordings(recordings)
    model_path, sha256, window, hop, names, num_scores, declared = _model_settings(
        model, window, hop, classes)
    # Ranges hold whole batches, so a range runs the same batches as the whole recording.
    per_task = max(batch_size, windows_per_task // batch_size * batch_size)
    settings = Settings(model_path, sha256, window, hop, normalization, float(epsilon), batch_size,
                        threads_per_run, bool(introspect), names, column)
    want_channels = declared[1] if len(declared) == 3 else 1
    ranges: List[List[Range]] = []
    failed: Dict[int, str] = {}
    for index, path in enumerate(paths):
        try:
            info = _score.probe(path, column)
            if want_channels is not None and info.channels is not None and info.channels != want_channels:
                raise RecordingError(f"'{path}' has {info.channels} channel(s), the model's input "
                                     f"takes {want_channels}")
            ranges.append(_score.plan_ranges(path, os.path.abspath(path), info, window, hop, per_task))
        except RecordingError as exc:
            failed[index] = str(exc)
            ranges.append([])
        except OSError as exc:  # permissions, a vanished file
            failed[index] = f"'{path}': {exc.strerror or exc}"
            ranges.append([])
    return Plan(settings, paths, ranges, failed, num_scores, per_task)


# ---- running --------------------------------------------------------------------------------

class Outcome(NamedTuple):
    """One recording's result: its rows, or why it failed (``table`` is None then)."""

    index: int
    recording: str
    table: Optional[pa.Table]
    error: Optional[str]


def _describe(exc: BaseException) -> str:
    if type(exc).__name__ == "KilledWorker":
        return f"workers died while scoring it, task given up ({exc})"
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_CANCELLED = (concurrent.futures.CancelledError, asyncio.CancelledError)


class Job:
    """A planned job submitted to a Dask client, in recording order. Consecutive ranges are
    packed into tasks of at most ``windows_per_task`` windows, sized so that every worker
    thread gets about TASKS_PER_THREAD tasks (a task of a few milliseconds costs more to
    schedule than to run; a few tasks per thread keep the workers evenly busy to the end).

    Iterate it for the :class:`Outcome` of each recording, in order; a task's results are
    released as soon as its last recording has been yielded, so the client holds little
    more than one recording at a time. A task that fails as a whole (Dask gave it up
    after its worker died ``distributed.scheduler.allowed-failures`` + 1 times: a recording
    that crashes the process, or a task that happened to be queued on the same worker) is
    run again one range per task, one after the other, so that only the culprit fails."""

    def __init__(self, job_plan: Plan, client: "distributed.Client", retries: int = RETRIES_DEFAULT):
        self.plan = job_plan
        self.client = client
        self.retries = retries
        workers = client.scheduler_info().get("workers", {})
        threads = max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))
        batch = job_plan.settings.batch_size
        total = sum(r.count if r.count is not None else job_plan.windows_per_task
                    for ranges in job_plan.ranges for r in ranges)
        size = -(-total // (threads * TASKS_PER_THREAD))
        size = min(job_plan.windows_per_task, max(batch, -(-size // batch) * batch))
        self._tasks, self._where = _score.pack(job_plan.ranges, size)
        self.windows_per_task = size
        self._token = uuid.uuid4().hex[:12]
        self._futures: List[Any] = self._submit([list(t) for t in self._tasks], "")
        self._last_use = {t: i for i, places in enumerate(self._where) for t, _ in places}
        self._done: Dict[int, Any] = {}  # task -> its TaskResult, its exception, or per range
        #                                  (run again one by one) a RangeResult or exception

    def _submit(self, tasks: List[List[Range]], suffix: str) -> List[Any]:
        if not tasks:
            return []
        keys = [f"drsn-score-{self._token}{suffix}-{i}" for i in range(len(tasks))]
        futures: List[Any] = self.client.map(_score.score_ranges, tasks, settings=self.plan.settings,
                                             io_retries=self.retries, key=keys)
        return futures

    @property
    def tasks(self) -> int:
        return len(self._futures)

    def progress(self, stream: Any = None) -> None:
        """Dask's text progress bar over the job's tasks, drawn on ``stream`` (stderr by
        default); returns when every task has finished."""
        if not self._futures:
            return
        with contextlib.redirect_stdout(stream if stream is not None else sys.stderr):
            distributed.progress(self._futures, notebook=False, multi=False)

    def _result(self, t: int, k: int) -> Any:
        """Range k of task t: its RangeResult, or the exception its task raised."""
        if t not in self._done:
            try:
                self._done[t] = self._futures[t].result()
            except _CANCELLED:
                raise
            except Exception:
                self._futures[t].release()
                self._done[t] = self._one_by_one(t)
        result = self._done[t]
        if isinstance(result, Exception):
            return result
        return result.range(k) if isinstance(result, _score.TaskResult) else result[k]

    def _one_by_one(self, t: int) -> List[Any]:
        """Task t's ranges run again one task each, one after the other: a range that
        takes its worker down again then takes no task-mate's attempt with it, and a task
        that only shared a worker with such a range (Dask counts that worker's death
        against every task it held) gets another chance."""
        results: List[Any] = []
        for k, r in enumerate(self._tasks[t]):
            (future,) = self._submit([[r]], f"-{t}-alone-{k}")
            try:
                results.append(future.result().range(0))
            except _CANCELLED:
                raise
            except Exception as exc:
                results.append(exc)
            finally:
                future.release()
        return results

    def _release(self, t: int) -> None:
        self._done.pop(t, None)
        self._futures[t].release()

    def __iter__(self) -> Iterator[Outcome]:
        for index, path in enumerate(self.plan.recordings):
            if index in self.plan.failed:
                yield Outcome(index, path, None, self.plan.failed[index])
                continue
            parts: List[pa.Table] = []
            error: Optional[str] = None
            for t, k in self._where[index]:
                result = self._result(t, k)
                if error is not None:
                    continue
                if isinstance(result, Exception):
                    error = _describe(result)
                elif result.error is not None:
                    error = result.error
                else:
                    parts.append(result.table)
            for t, _ in self._where[index]:
                if self._last_use[t] == index:
                    self._release(t)
            if error is not None:
                yield Outcome(index, path, None, error)
            else:
                yield Outcome(index, path, pa.concat_tables(parts), None)


@contextlib.contextmanager
def client_for(client: Any = None, workers: Optional[int] = None) -> Iterator["distributed.Client"]:
    """The client to run on: ``client`` itself, a new Client connected to a scheduler
    address (closed afterwards), or -- for None -- a LocalCluster of ``workers`` (default:
    one per core) single-threaded worker processes, closed afterwards."""
    if client is not None and not isinstance(client, str):
        if workers is not None:
            raise ValueError("workers applies to the local cluster only; the given client "
                             "has its own workers")
        yield client
        return
    if isinstance(client, str):
        if workers is not None:
            raise ValueError("workers applies to the local cluster only; the scheduler at "
                             f"{client} has its own workers")
        with distributed.Client(client) as remote:
            yield remote
        return
    n = workers if workers is not None else (os.cpu_count() or 1)
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"workers must be an integer >= 1, got {workers!r}")
    # The dashboard (when bokeh is installed) and the scheduler's HTTP routes on a free
    # port; Dask's warnings (e.g. a worker restarted) are left to the job's own report.
    with dask.config.set(LOCAL_CLUSTER_CONFIG), \
            distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                     dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as local:
        yield local


def _metadata(job_plan: Plan, failed: List[Dict[str, Any]]) -> Dict[bytes, bytes]:
    s = job_plan.settings
    meta = {"model_sha256": s.model_sha256, "window": s.window, "hop": s.hop,
            "normalization": s.normalization, "epsilon": s.epsilon,
            "classes": list(s.classes) if s.classes is not None else None,
            "num_scores": job_plan.num_scores, "recordings": len(job_plan.recordings),
            "failed": failed}
    return {METADATA_KEY: json.dumps(meta).encode()}


def score(model: Union[str, "os.PathLike[str]"], recordings: Recordings, window: Optional[int] = None,
          hop: Optional[int] = None, normalization: Optional[str] = "zscore", classes: Any = None,
          client: Any = None, introspect: bool = False, *, workers: Optional[int] = None,
          epsilon: float = ZSCORE_EPSILON_DEFAULT, batch_size: int = WINDOW_BATCH_DEFAULT,
          windows_per_task: int = WINDOWS_PER_TASK_DEFAULT, column: Optional[int] = None,
          threads_per_run: int = 1, retries: int = RETRIES_DEFAULT, progress: bool = False) -> pa.Table:
    """Scores every full window of every recording; returns one row per window.

    * ``model``: path of the ONNX model (one input [N, C, W] or [N, W]).
    * ``recordings``: a path, a glob or a list of them (.npy 1-D or [channels, length],
      .wav PCM, .csv / .txt columns, .parquet numeric columns = channels).
    * ``window`` (default: the model's declared window length), ``hop`` (default: window),
      ``normalization`` (``"zscore"`` per window and channel, or None), ``epsilon``,
      ``batch_size``: as :meth:`drsn.Model.run_windows` and ``drsn classify``.
    * ``classes``: class names (a list, or a JSON file as ``drsn classify --classes``
      takes) for the ``label_name`` column.
    * ``client``: a distributed.Client, a scheduler address, or None for a LocalCluster of
      ``workers`` single-threaded processes (default one per core), closed afterwards.
    * ``introspect``: also the mean threshold tau and the zeroed fraction of each
      shrinkage unit per window (one more pass over the windows).
    * ``windows_per_task``: windows per task (rounded down to whole batches); smaller
      ranges spread a long recording over more workers and bound a worker's memory.
    * ``column``: score only this channel (0-based); ``threads_per_run``: num_threads of
      each worker's model (1: the worker's one thread; parallelism comes from the tasks).
    * ``retries``: times reading a range is tried again after an OSError; ``progress``:
      Dask's progress bar on stderr.

    Failed recordings are not in the rows; :func:`failures` lists them with the reason
    (the table's schema metadata holds them, with the job's parameters).
    """
    job_plan = plan(model, recordings, window, hop, normalization, classes, introspect,
                    epsilon=epsilon, batch_size=batch_size, windows_per_task=windows_per_task,
                    column=column, threads_per_run=threads_per_run)
    tables: List[pa.Table] = []
    failed: List[Dict[str, Any]] = []
    with client_for(client, workers) as c:
        job = Job(job_plan, c, retries)
        if progress:
            job.progress()
        for outcome in job:
            if outcome.table is not None:
                tables.append(outcome.table)
            else:
                failed.append({"index": outcome.index, "recording": outcome.recording,
                               "error": outcome.error})
    schema = _score.result_schema(job_plan.settings.classes is not None, job_plan.settings.introspect)
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    return table.replace_schema_metadata(_metadata(job_plan, failed))


# ---- a lazy Dask DataFrame ------------------------------------------------------------------

def _error_frame(recording: str, error: str, settings: Settings) -> Any:
    import pandas as pd
    schema = _dataframe_schema(settings)
    columns = {f.name: pa.nulls(1, f.type) for f in schema}
    columns["recording"] = pa.array([recording], pa.string())
    columns["error"] = pa.array([error], pa.string())
    return pa.table(columns, schema=schema).to_pandas(types_mapper=pd.ArrowDtype)


def _dataframe_schema(settings: Settings) -> pa.Schema:
    schema = _score.result_schema(settings.classes is not None, settings.introspect)
    fields = [pa.field(f.name, f.type, nullable=True) for f in schema]
    return pa.schema(fields + [pa.field("error", pa.string(), nullable=True)])


def _score_partition(item: Any, settings: Settings) -> Any:
    """One partition of :func:`score_dataframe`: the rows of a task's ranges (one error row
    for a range that fails), or the error row of a recording that failed while planning."""
    import pandas as pd
    if isinstance(item, tuple):
        recording, error = item
        return _error_frame(recording, error, settings)
    frames = []
    task_result = _score.score_ranges(item, settings)
    for k, r in enumerate(item):
        result = task_result.range(k)
        if result.error is not None:
            frames.append(_error_frame(r.recording, result.error, settings))
            continue
        table = result.table
        assert table is not None
        table = table.append_column("error", pa.nulls(table.num_rows, pa.string()))
        frames.append(table.cast(_dataframe_schema(settings)).to_pandas(types_mapper=pd.ArrowDtype))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def score_dataframe(model: Union[str, "os.PathLike[str]"], recordings: Recordings,
                    window: Optional[int] = None, hop: Optional[int] = None,
                    normalization: Optional[str] = "zscore", classes: Any = None,
                    introspect: bool = False, **options: Any) -> Any:
    """The rows of :func:`score` as a lazy :class:`dask.dataframe.DataFrame` (one partition
    per task of at most ``windows_per_task`` windows; pyarrow-backed columns), for results
    larger than memory: nothing is scored until it is computed or written
    (``df.to_parquet(...)``), on the active Dask client.

    It has one more column, ``error``: null on every scored row; a range that fails gives
    one row with ``recording`` and ``error`` set and the other columns null, and so does a
    recording that failed while planning (those rows come first). Keyword
    options as :func:`score` (``epsilon``, ``batch_size``, ``windows_per_task``,
    ``column``, ``threads_per_run``). Planning (the model check, the globs, the headers)
    happens now, on the caller's machine."""
    import dask.dataframe as dd
    import pandas as pd
    job_plan = plan(model, recordings, window, hop, normalization, classes, introspect, **options)
    tasks, _ = _score.pack(job_plan.ranges, job_plan.windows_per_task)
    items: List[Any] = [(job_plan.recordings[i], reason) for i, reason in job_plan.failed.items()]
    items += tasks
    meta = _dataframe_schema(job_plan.settings).empty_table().to_pandas(types_mapper=pd.ArrowDtype)
    return dd.from_map(_score_partition, items, settings=job_plan.settings, meta=meta,
                       label="drsn-score", enforce_metadata=False)


# ---- reading results ------------------------------------------------------------------------

def _job_metadata(source: Any) -> Dict[str, Any]:
    if isinstance(source, pa.Table):
        raw = (source.schema.metadata or {}).get(METADATA_KEY)
    else:
        import pyarrow.parquet as pq
        raw = (pq.read_metadata(os.fspath(source)).metadata or {}).get(METADATA_KEY)
    if raw is None:
        raise ValueError("not a drsn.dask results table (no drsn.score metadata)")
    data: Dict[str, Any] = json.loads(raw)
    return data


def failures(source: Any) -> Dict[str, str]:
    """The recordings that failed and why, in order: from a table :func:`score` returned,
    or from a Parquet file ``drsn score -o`` wrote."""
    return {f["recording"]: f["error"] for f in _job_metadata(source)["failed"]}


def summarize(results: pa.Table) -> pa.Table:
    """One row per recording of a table :func:`score` returned, in order: ``recording``,
    ``windows``, ``label`` (the majority class; ties go to the lower index), ``label_name``
    (when the results have names), ``share`` (of windows with that label),
    ``mean_confidence`` (over those windows) and ``error`` (null, or why the recording
    failed; its other values are then null and ``windows`` is 0)."""
    import numpy as np
    import pyarrow.compute as pc
    meta = (results.schema.metadata or {}).get(METADATA_KEY)
    info = json.loads(meta) if meta is not None else {"failed": [], "classes": None}
    encoded = pc.dictionary_encode(results.column("recording")).combine_chunks()
    names = encoded.dictionary.to_pylist()
    idx = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    label = results.column("label").to_numpy().astype(np.int64)
    conf = results.column("confidence").to_numpy().astype(np.float64)
    k = int(label.max()) + 1 if label.size else 1
    counts = np.zeros((len(names), k), np.int64)
    np.add.at(counts, (idx, label), 1)
    majority = counts.argmax(axis=1) if len(names) else np.zeros(0, np.int64)
    windows = counts.sum(axis=1)
    hit = label == majority[idx] if idx.size else np.zeros(0, bool)
    conf_sum = np.zeros(len(names))
    np.add.at(conf_sum, idx[hit], conf[hit])
    top = counts[np.arange(len(names)), majority] if len(names) else np.zeros(0, np.int64)
    rows: List[Dict[str, Any]] = [
        {"recording": names[r], "windows": int(windows[r]), "label": int(majority[r]),
         "share": float(top[r] / windows[r]), "mean_confidence": float(conf_sum[r] / top[r]),
         "error": None} for r in range(len(names))]
    for f in sorted(info.get("failed", []), key=lambda f: f["index"]):
        row = {"recording": f["recording"], "windows": 0, "label": None, "share": None,
               "mean_confidence": None, "error": f["error"]}
        rows.insert(min(int(f["index"]), len(rows)), row)
    with_names = "label_name" in results.column_names
    classes = info.get("classes")
    fields = [pa.field("recording", pa.string()), pa.field("windows", pa.int64()),
              pa.field("label", pa.int32())]
    if with_names:
        fields.append(pa.field("label_name", pa.string()))
        for row in rows:
            row["label_name"] = None if row["label"] is None or classes is None else classes[row["label"]]
    fields += [pa.field("share", pa.float64()), pa.field("mean_confidence", pa.float64()),
               pa.field("error", pa.string())]
    schema = pa.schema(fields)
    return pa.Table.from_pylist(rows, schema=schema)
