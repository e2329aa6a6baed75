"""Scoring one range of windows of one recording: the work of a :mod:`drsn.dask` task.

Nothing here imports Dask; it runs in the worker processes (and in the client, which
probes the recordings to plan the ranges). It needs numpy and pyarrow.

* :func:`probe` reads a recording's header only: channels and length, or ``length=None``
  for a format that must be parsed whole (.csv / .txt) and is then scored by one task.
* :func:`read_samples` reads samples ``[start, stop)`` of every channel, and only those:
  .npy and .wav by seeking to the first sample, .parquet by the row groups that hold the
  range. Values are converted exactly as ``drsn classify`` converts them
  (:func:`drsn.cli.read_recording`), so a range equals the same slice of the whole
  recording read at once.
* :func:`score_ranges` (one task) runs the windows ``[first, first + count)`` of each of
  its ranges with :meth:`drsn.Model.run_windows` on a model cached per process
  (:func:`cached_model`) and returns one row per window as one :class:`pyarrow.Table`
  (:func:`result_schema`), and per range where its rows are or the reason the recording
  cannot be scored. Problems of the recording (unreadable, wrong
  shape, NaN, too short) are returned, not raised, so that they fail the recording and
  not the job. :func:`score_ranges` (a task: several ranges) also retries an OSError
  and turns anything unexpected into that range's failure, so that one recording's
  trouble never fails its task-mates.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import sys
import threading
import time
import wave
from collections import OrderedDict
from typing import IO, Any, Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import pyarrow as pa

from . import _errors
from ._model import Model, window_count
from .cli import CliError, _read_csv, _softmax, _windows_of, decode_pcm

#: Formats read range by range; the others (.csv, .txt) are parsed whole by one task.
SPLITTABLE_FORMATS = (".npy", ".wav", ".parquet")
#: Every format :func:`read_samples` reads.
FORMATS = SPLITTABLE_FORMATS + (".csv", ".txt")
#: Schema metadata key of a results table (JSON: parameters and failed recordings).
METADATA_KEY = b"drsn.score"
#: Models kept loaded per process (least recently used first out).
MODEL_CACHE_SIZE = 4


class RecordingError(Exception):
    """A recording that cannot be scored: its rows fail, the job goes on."""


class RecordingInfo(NamedTuple):
    """What :func:`probe` learns from a recording's header."""

    channels: Optional[int]  # None (with length None): known only once parsed (.csv, .txt)
    length: Optional[int]    # samples per channel


class Settings(NamedTuple):
    """Everything a task needs besides its range; the same for every task of a job."""

    model_path: str
    model_sha256: str
    window: int
    hop: int
    normalization: Optional[str]   # "zscore" or None
    epsilon: float
    batch_size: int
    threads: int                   # num_threads of the worker's Model
    introspect: bool
    classes: Optional[Tuple[str, ...]]
    column: Optional[int]


class Range(NamedTuple):
    """Windows ``[first, first + count)`` of one recording; ``count=None``: all of them
    (a recording whose length is known only once it is read). ``recording`` is the path
    as given (rows and messages name it), ``path`` the one to read (absolute, so that
    workers started in another folder find it)."""

    recording: str
    path: str
    first: int
    count: Optional[int]


class RangeResult(NamedTuple):
    """One range's result: the rows of its windows, or why the recording failed."""

    table: Optional[pa.Table]
    error: Optional[str]


class TaskResult(NamedTuple):
    """A task's result: the rows of all its ranges that scored, in order, in one table
    (built once per task: per range it would cost as much as a short range's windows), and
    per range where its rows are or why it failed."""

    table: pa.Table
    spans: List[Tuple[int, int]]    # per range: (first row, rows); (0, 0) when it failed
    errors: List[Optional[str]]     # per range: None, or why the recording failed

    def range(self, k: int) -> RangeResult:
        """Range k's rows (a zero-copy slice of the table) or its failure."""
        error = self.errors[k]
        if error is not None:
            return RangeResult(None, error)
        first, rows = self.spans[k]
        return RangeResult(self.table.slice(first, rows), None)


class _Scored(NamedTuple):
    """What running one range gives before its rows are built."""

    first: int                      # first window
    scores: np.ndarray              # [count, K] float32: the model's first output
    taus: Optional[np.ndarray]      # [count, units] with introspection
    zeroed: Optional[np.ndarray]


# ---- reading recordings ------------------------------------------------------------------

def _format(path: str) -> str:
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise RecordingError(f"'{path}': unknown recording format '{ext or '(none)'}' "
                             f"(expected {', '.join(FORMATS)})")
    return ext


class _NpyLayout(NamedTuple):
    """Where a .npy file keeps its samples: channels, length, dtype, C or Fortran order and
    the offset of the data."""

    channels: int
    length: int
    dtype: np.dtype
    fortran: bool
    offset: int


def _npy_layout(path: str, f: IO[bytes]) -> _NpyLayout:
    """Reads the header of the .npy file open as ``f`` (RecordingError for anything but a
    1-D [length] or 2-D [channels, length] array of real numbers whose data is all there)."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(f)
        else:
            raise ValueError(f".npy format version {version[0]}.{version[1]} is not supported")
        offset = f.tell()
    except (ValueError, EOFError, SyntaxError) as exc:  # bad magic or header, an empty file
        raise RecordingError(f"'{path}' is not a readable .npy array ({exc})") from None
    if dtype.kind not in "fiu" or dtype.fields is not None or dtype.subdtype is not None:
        raise RecordingError(f"'{path}': expected real numbers, got dtype {dtype}")
    if len(shape) == 1:
        channels, length = 1, shape[0]
    elif len(shape) == 2:
        channels, length = shape
    else:
        raise RecordingError(f"'{path}': expected a 1-D [length] or 2-D [channels, length] "
                             f"array, got shape {list(shape)}")
    needed = offset + channels * length * dtype.itemsize
    size = os.fstat(f.fileno()).st_size
    if size < needed:
        raise RecordingError(f"'{path}' is not a readable .npy array (truncated: its header "
                             f"declares {needed - offset} bytes of data, the file holds "
                             f"{max(size - offset, 0)})")
    return _NpyLayout(int(channels), int(length), dtype, bool(fortran and len(shape) == 2), offset)


def _read_npy(path: str, start: int, stop: Optional[int], column: Optional[int]) -> np.ndarray:
    """Samples [start, stop) of a .npy recording, reading only those bytes (one read per
    channel of a C-order [channels, length] array, one for all channels in Fortran order)."""
    with open(path, "rb") as f:
        layout = _npy_layout(path, f)
        end = layout.length if stop is None else stop
        if not 0 <= start <= end <= layout.length:
            raise RecordingError(f"'{path}' holds {layout.length} samples per channel, not the "
                                 f"{end} planned (the file changed)")
        channels = range(layout.channels) if column is None else [column]
        n, item = end - start, layout.dtype.itemsize
        if layout.fortran:  # frame after frame: [length, channels] in the file
            f.seek(layout.offset + start * layout.channels * item)
            frames = np.fromfile(f, dtype=layout.dtype, count=n * layout.channels)
            data = frames.reshape(-1, layout.channels).T[list(channels)]
        else:
            rows = []
            for c in channels:
                f.seek(layout.offset + (c * layout.length + start) * item)
                rows.append(np.fromfile(f, dtype=layout.dtype, count=n))
            data = rows[0][None, :] if len(rows) == 1 else np.stack(rows)
    if data.shape[1] != n:
        raise RecordingError(f"'{path}': reading samples {start}..{end} returned "
                             f"{data.shape[1]} (the file changed)")
    return np.ascontiguousarray(data, dtype=np.float32)


def _wav_header(path: str) -> Tuple[int, int, int]:
    """(channels, sample width in bytes, frames) of a PCM .wav file."""
    try:
        with wave.open(path, "rb") as w:
            return w.getnchannels(), w.getsampwidth(), w.getnframes()
    except (wave.Error, EOFError) as exc:
        raise RecordingError(f"'{path}': not a PCM .wav file ({exc})") from None


def _parquet_file(path: str) -> Any:
    import pyarrow.parquet as pq
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise RecordingError(f"'{path}' is not a readable Parquet file ({exc})") from None


def _parquet_columns(path: str, schema: pa.Schema) -> List[str]:
    names = [f.name for f in schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]
    if not names:
        raise RecordingError(f"'{path}': no numeric column to score")
    return names


def probe(path: str, column: Optional[int] = None) -> RecordingInfo:
    """Channels and length of a recording from its header (RecordingError when it cannot
    be read). Reads the whole file only for .csv / .txt, and then only to count."""
    if not os.path.exists(path):
        raise RecordingError(f"recording '{path}' does not exist")
    ext = _format(path)
    if ext == ".npy":
        with open(path, "rb") as f:
            layout = _npy_layout(path, f)
        channels, length = layout.channels, layout.length
    elif ext == ".wav":
        channels, _, length = _wav_header(path)
    elif ext == ".parquet":
        pf = _parquet_file(path)
        channels = len(_parquet_columns(path, pf.schema_arrow))
        length = pf.metadata.num_rows
    else:
        return RecordingInfo(None, None)
    if column is not None:
        if not 0 <= column < channels:
            raise RecordingError(f"'{path}': column {column} requested, the recording has "
                                 f"{channels} channel(s)")
        channels = 1
    return RecordingInfo(int(channels), int(length))


def read_samples(path: str, start: int, stop: Optional[int],
                 column: Optional[int] = None) -> np.ndarray:
    """Samples ``[start, stop)`` (``stop=None``: to the end) of every channel (or of channel
    ``column``) as float32 [channels, n], converted like :func:`drsn.cli.read_recording`.
    RecordingError for an unreadable, truncated or non-finite recording."""
    ext = _format(path)
    if ext == ".npy":
        part = _read_npy(path, start, stop, column)
    elif ext == ".wav":
        channels, width, frames = _wav_header(path)
        end = frames if stop is None else stop
        try:
            with wave.open(path, "rb") as w:
                w.setpos(start)
                raw = w.readframes(end - start)
        except (wave.Error, EOFError) as exc:
            raise RecordingError(f"'{path}': not a PCM .wav file ({exc})") from None
        if len(raw) != (end - start) * channels * width:
            raise RecordingError(f"'{path}' is truncated: its header declares {frames} frames, "
                                 f"frames {start}..{end} hold {len(raw)} of "
                                 f"{(end - start) * channels * width} bytes")
        try:
            data = decode_pcm(raw, width, channels, path)
        except CliError as exc:
            raise RecordingError(str(exc)) from None
        if column is not None:
            data = data[column:column + 1]
        part = np.ascontiguousarray(data, dtype=np.float32)
    elif ext == ".parquet":
        part = _read_parquet(path, start, stop, column)
    else:
        try:
            data = _read_csv(path)
        except CliError as exc:
            raise RecordingError(str(exc)) from None
        if column is not None:
            if not 0 <= column < data.shape[0]:
                raise RecordingError(f"'{path}': column {column} requested, the recording "
                                     f"has {data.shape[0]} channel(s)")
            data = data[column:column + 1]
        part = np.ascontiguousarray(data[:, start:stop], dtype=np.float32)
    if not np.all(np.isfinite(part)):
        raise RecordingError(f"'{path}': the recording contains NaN or infinite values")
    return part


def _read_parquet(path: str, start: int, stop: Optional[int], column: Optional[int]) -> np.ndarray:
    """Rows [start, stop) of the numeric columns (channels), reading only the row groups
    that hold them."""
    pf = _parquet_file(path)
    names = _parquet_columns(path, pf.schema_arrow)
    if column is not None:
        names = names[column:column + 1]
    meta = pf.metadata
    end = meta.num_rows if stop is None else stop
    if end > meta.num_rows:
        raise RecordingError(f"'{path}' holds {meta.num_rows} rows, fewer than the {end} planned "
                             f"(the file changed)")
    groups, first_row, row = [], None, 0
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if row + n > start and row < end:
            groups.append(g)
            if first_row is None:
                first_row = row
        row += n
    try:
        table = pf.read_row_groups(groups, columns=names) if groups else None
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise RecordingError(f"'{path}': reading rows {start}..{end} failed ({exc})") from None
    if table is None or first_row is None:
        return np.zeros((len(names), 0), np.float32)
    table = table.slice(start - first_row, end - start)
    channels = []
    for name in names:
        values = table.column(name)
        if values.null_count:
            raise RecordingError(f"'{path}': column '{name}' has missing values")
        channels.append(values.to_numpy().astype(np.float32))
    return np.stack(channels)


# ---- the worker process -------------------------------------------------------------------

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (glibc malloc.h)
_buffers_kept = False


def keep_buffers() -> bool:
    """Undoes, once per process, what MALLOC_TRIM_THRESHOLD_ in the environment does to
    scoring; True when it changed the settings.

    Dask starts its worker processes with MALLOC_TRIM_THRESHOLD_=65536 (to hand memory back
    to the system early). Setting it also switches off glibc's adaptive mmap threshold, so
    every buffer over 128 KiB -- a range's samples, run_windows' outputs -- is mapped and
    unmapped anew: about 250 page faults per 120k-sample recording, 10-15% of the time of
    the bearing model's windows. With it set, this raises the mmap threshold to 32 MiB
    and the trim threshold to 64 MiB through mallopt (glibc only): buffers are reused, and
    a worker keeps at most that much freed memory (a task's memory is bounded by
    windows_per_task). Without the variable, or off glibc, it changes nothing."""
    global _buffers_kept
    if _buffers_kept:
        return False
    _buffers_kept = True
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ or not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_TRIM_THRESHOLD, 64 << 20)) and bool(mallopt(_M_MMAP_THRESHOLD, 32 << 20))


# ---- the model, once per process --------------------------------------------------------

_MODELS: "OrderedDict[Tuple[str, int], Model]" = OrderedDict()
_MODELS_LOCK = threading.Lock()


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_model(path: str, sha256: str, threads: int) -> Model:
    """The model whose file has this SHA-256, loaded once per process (and thread count).
    Loads it from ``path`` the first time, from the bytes it hashed: a file that differs
    from the one the client hashed (another file at that path on this machine, or one
    replaced during the job) raises RuntimeError instead of scoring with another model."""
    key = (sha256, threads)
    with _MODELS_LOCK:
        model = _MODELS.get(key)
        if model is not None:
            _MODELS.move_to_end(key)
            return model
    with open(path, "rb") as f:
        data = f.read()
    found = hashlib.sha256(data).hexdigest()
    if found != sha256:
        raise RuntimeError(f"the model file '{path}' on this worker has SHA-256 {found[:16]}..., "
                           f"the client scored with {sha256[:16]}...: the file differs between "
                           f"machines or was replaced during the job")
    loaded = Model(data, num_threads=threads)
    with _MODELS_LOCK:
        model = _MODELS.setdefault(key, loaded)
        _MODELS.move_to_end(key)
        while len(_MODELS) > MODEL_CACHE_SIZE:
            _MODELS.popitem(last=False)
    return model


# ---- results --------------------------------------------------------------------------

def result_schema(classes: bool, introspect: bool) -> pa.Schema:
    """Columns of a results table: one row per window."""
    fields = [
        pa.field("recording", pa.string(), nullable=False),
        pa.field("window", pa.int64(), nullable=False),
        pa.field("start", pa.int64(), nullable=False),
        pa.field("label", pa.int32(), nullable=False),
    ]
    if classes:
        fields.append(pa.field("label_name", pa.string(), nullable=False))
    fields += [
        pa.field("confidence", pa.float32(), nullable=False),
        pa.field("outputs", pa.list_(pa.float32()), nullable=False),
    ]
    if introspect:
        fields += [pa.field("tau_mean", pa.list_(pa.float32()), nullable=False),
                   pa.field("zeroed_fraction", pa.list_(pa.float32()), nullable=False)]
    return pa.schema(fields)


def _lists(values: np.ndarray) -> pa.Array:
    """[n, k] float32 -> list<float32> of n lists of k values."""
    n, k = values.shape
    offsets = pa.array(np.arange(n + 1, dtype=np.int32) * k, pa.int32())
    flat = pa.array(np.ascontiguousarray(values, np.float32).reshape(-1), pa.float32())
    return pa.ListArray.from_arrays(offsets, flat)


def _introspect(model: Model, signal: np.ndarray, count: int,
                settings: Settings) -> Tuple[np.ndarray, np.ndarray]:
    """Per window and shrinkage unit: the mean tau and the zeroed fraction, [count, units]
    each (as ``drsn classify --introspect`` computes them, batch by batch)."""
    rank2 = len(model.inputs[0].shape) == 2
    taus: List[np.ndarray] = []
    zeroed: List[np.ndarray] = []
    for first in range(0, count, settings.batch_size):
        n = min(settings.batch_size, count - first)
        batch = _windows_of(signal, first, n, settings.window, settings.hop,
                            settings.normalization is not None, settings.epsilon)
        if rank2:
            batch = batch[:, 0, :]
        _, th, zf = model.run_introspect(batch)
        units = len(th)
        taus.append(np.stack([t.mean(axis=1) for t in th], axis=1) if units
                    else np.zeros((n, 0), np.float32))
        zeroed.append(np.stack(zf, axis=1) if units else np.zeros((n, 0), np.float32))
    return (np.concatenate(taus).astype(np.float32), np.concatenate(zeroed).astype(np.float32))


def _scored_or_error(task: Range, settings: Settings, io_retries: int,
                     backoff: float) -> Union[_Scored, str]:
    """Runs one range; a problem of the recording comes back as its message. An OSError
    is tried again ``io_retries`` times (``backoff`` seconds, then twice as long each
    time); any other exception is that range's failure too."""
    for attempt in range(io_retries + 1):
        try:
            return _run(task, settings)
        except RecordingError as exc:
            return str(exc)
        except _errors.Error as exc:  # the library refused this recording's windows
            return f"'{task.recording}': {exc}"
        except OSError as exc:
            if attempt == io_retries:
                return f"'{task.recording}': {exc.strerror or exc} ({io_retries + 1} attempts)"
            time.sleep(backoff * 2 ** attempt)
        except Exception as exc:
            return f"'{task.recording}': {type(exc).__name__}: {exc}"
    raise AssertionError("unreachable")


def score_ranges(tasks: Sequence[Range], settings: Settings, io_retries: int = 2,
                 backoff: float = 0.2) -> TaskResult:
    """Scores each range, in order: one Dask task (consecutive ranges of short recordings
    are scored together, so that a task is worth scheduling).

    One range's trouble stays with its recording: an OSError (a network file system's
    hiccup, a file that vanished) is retried ``io_retries`` times, ``backoff`` seconds apart
    and then twice as long each time, then reported as that range's failure, and so is
    any other exception (a recording that trips a bug fails, its task-mates are scored)."""
    keep_buffers()
    done: List[Tuple[Range, _Scored]] = []
    spans: List[Tuple[int, int]] = []
    errors: List[Optional[str]] = []
    rows = 0
    for task in tasks:
        outcome = _scored_or_error(task, settings, io_retries, backoff)
        if isinstance(outcome, str):
            spans.append((0, 0))
            errors.append(outcome)
        else:
            n = outcome.scores.shape[0]
            done.append((task, outcome))
            spans.append((rows, n))
            errors.append(None)
            rows += n
    return TaskResult(_rows(done, settings), spans, errors)


def score_range(task: Range, settings: Settings) -> RangeResult:
    """Scores windows ``[task.first, task.first + task.count)`` of ``task.recording``."""
    return score_ranges([task], settings).range(0)


def pack(ranges: Sequence[Sequence[Range]], windows: int) -> Tuple[List[List[Range]],
                                                                   List[List[Tuple[int, int]]]]:
    """Groups the ranges of consecutive recordings into tasks of at most ``windows``
    windows, splitting longer ranges into pieces of ``windows`` (give a multiple of the
    batch size, so pieces start on the same batches as the whole recording); a range of
    unknown length gets a task of its own. Returns the tasks and, per recording, where its
    pieces went: (task index, position in the task), in window order."""
    tasks: List[List[Range]] = []
    where: List[List[Tuple[int, int]]] = []
    current: List[Range] = []
    size = 0
    for recording_ranges in ranges:
        places = []
        pieces = [piece for r in recording_ranges for piece in (
            [r] if r.count is None else
            [r._replace(first=first, count=min(windows, r.first + r.count - first))
             for first in range(r.first, r.first + r.count, windows)])]
        for r in pieces:
            n = windows if r.count is None else r.count
            if current and size + n > windows:
                tasks.append(current)
                current, size = [], 0
            places.append((len(tasks), len(current)))
            current.append(r)
            size += n
        where.append(places)
    if current:
        tasks.append(current)
    return tasks, where


def _read(task: Range, start: int, stop: Optional[int], column: Optional[int]) -> np.ndarray:
    """read_samples of the task's file; messages name the recording as given."""
    try:
        return read_samples(task.path, start, stop, column)
    except RecordingError as exc:
        raise RecordingError(str(exc).replace(f"'{task.path}'", f"'{task.recording}'")) from None


def _run(task: Range, settings: Settings) -> _Scored:
    """Reads a range and runs the model on its windows (RecordingError for a problem of
    the recording)."""
    model = cached_model(settings.model_path, settings.model_sha256, settings.threads)
    window, hop = settings.window, settings.hop
    if task.count is None:
        signal = _read(task, 0, None, settings.column)
        count = window_count(signal.shape[1], window, hop)
        if count == 0:
            raise RecordingError(f"'{task.recording}' has {signal.shape[1]} samples per channel, "
                                 f"fewer than one window of {window}")
        first = 0
    else:
        first, count = task.first, task.count
        start = first * hop
        signal = _read(task, start, start + (count - 1) * hop + window, settings.column)
    declared = model.inputs[0].shape
    if len(declared) == 3 and declared[1] is not None and declared[1] != signal.shape[0]:
        raise RecordingError(f"'{task.recording}' has {signal.shape[0]} channel(s), the model's "
                             f"input takes {declared[1]}")
    (logits, *_rest) = model.run_windows(signal[0] if signal.shape[0] == 1 else signal, window,
                                         hop, normalize=settings.normalization,
                                         epsilon=settings.epsilon, batch_size=settings.batch_size)
    if logits.shape[0] != count:
        raise RuntimeError(f"run_windows returned {logits.shape[0]} windows for a range of {count}")
    taus = zeroed = None
    if settings.introspect:
        taus, zeroed = _introspect(model, signal, count, settings)
    return _Scored(first, logits.reshape(count, -1), taus, zeroed)


def _rows(done: Sequence[Tuple[Range, _Scored]], settings: Settings) -> pa.Table:
    """The rows of the ranges that scored, in one table (see :func:`result_schema`)."""
    schema = result_schema(settings.classes is not None, settings.introspect)
    if not done:
        return schema.empty_table()
    counts = np.array([s.scores.shape[0] for _, s in done], dtype=np.int64)
    scores = np.concatenate([s.scores for _, s in done])
    probs = _softmax(scores)
    label = probs.argmax(axis=1).astype(np.int32)
    n = scores.shape[0]
    # window index: each range counts up from its first window
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    firsts = np.repeat(np.array([s.first for _, s in done], dtype=np.int64), counts)
    windows = firsts + np.arange(n, dtype=np.int64) - offsets
    recordings = pa.DictionaryArray.from_arrays(
        pa.array(np.repeat(np.arange(len(done), dtype=np.int32), counts)),
        pa.array([task.recording for task, _ in done], pa.string()))
    columns: Dict[str, Any] = {
        "recording": recordings.cast(pa.string()),
        "window": pa.array(windows, pa.int64()),
        "start": pa.array(windows * settings.hop, pa.int64()),
        "label": pa.array(label, pa.int32()),
    }
    if settings.classes is not None:
        names = pa.array(list(settings.classes), pa.string())
        columns["label_name"] = pa.DictionaryArray.from_arrays(
            pa.array(label), names).cast(pa.string())
    columns["confidence"] = pa.array(probs[np.arange(n), label].astype(np.float32), pa.float32())
    columns["outputs"] = _lists(scores)
    if settings.introspect:
        columns["tau_mean"] = _lists(np.concatenate([s.taus for _, s in done]))
        columns["zeroed_fraction"] = _lists(np.concatenate([s.zeroed for _, s in done]))
    return pa.table(columns, schema=schema)


def plan_ranges(path: str, absolute: str, info: RecordingInfo, window: int, hop: int,
                windows_per_task: int) -> List[Range]:
    """The ranges of a probed recording: ``windows_per_task`` windows each (the last one
    shorter). RecordingError when it holds no full window."""
    if info.length is None:
        return [Range(path, absolute, 0, None)]
    total = window_count(info.length, window, hop)
    if total == 0:
        raise RecordingError(f"'{path}' has {info.length} samples per channel, fewer than one "
                             f"window of {window}")
    return [Range(path, absolute, first, min(windows_per_task, total - first))
            for first in range(0, total, windows_per_task)]


__all__: Sequence[str] = ["FORMATS", "METADATA_KEY", "Range", "RangeResult", "RecordingError", "TaskResult",
                          "RecordingInfo", "Settings", "cached_model", "file_sha256", "plan_ranges",
                          "probe", "read_samples", "result_schema", "score_range"]
