"""The ``drsn`` command-line tool (installed with the Python package as a console script;
also ``python3 -m drsn``).

    drsn inspect  MODEL.onnx [--json]
    drsn run      MODEL.onnx INPUT.npy [INPUT2.npy ...] [-o OUT.npy|OUT.npz]
    drsn classify MODEL.onnx RECORDING.(npy|csv|wav) --window 2048 --hop 1024
                  [--classes classes.json] [--no-normalize] [--introspect]
                  [--progress | --no-progress]
    drsn score    MODEL.onnx 'recordings/*.npy' [-o results.parquet] [--scheduler ADDRESS]
                  [--workers N] [--window W --hop H] [--classes classes.json]
    drsn bench    MODEL.onnx [--batch 1,64] [--threads 1,2] [--quick]
    drsn monitor  MODEL.onnx [RECORDING.(wav|npy|csv) | -] --window 2048 --hop 512
                  [--classes classes.json] [--channels N --format f32|s16] [--rate HZ]
                  [--realtime] [--jsonl] [--vote N]

It is a thin layer over the binding (:class:`drsn.Model`): everything it computes goes
through libdrsn. Errors print one line ``drsn: error: ...`` on stderr and exit with a
non-zero status (1: the operation failed, 2: bad command line); no traceback.
"""

from __future__ import annotations

import argparse
import csv
import importlib
import io
import json
import math
import os
import statistics
import sys
import time
import wave
from typing import IO, Any, Callable, Dict, Iterator, List, NoReturn, Optional, Sequence, Tuple

import numpy as np

from . import _errors
from ._model import WINDOW_BATCH_DEFAULT, ZSCORE_EPSILON_DEFAULT, Model, TensorInfo

PROG = "drsn"
#: Without --progress, a progress bar is shown (on a terminal) for work expected to take
#: longer than this, estimated from the time of the work done so far.
PROGRESS_MIN_SECONDS = 0.5


class CliError(Exception):
    """A failure reported as one line by main() (exit status 1)."""


class UsageError(Exception):
    """A bad command line (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``drsn: error: ... (see drsn X --help)``."""

    def error(self, message: str) -> NoReturn:  # noqa: D401 (argparse API)
        raise UsageError(f"{message} (see `{self.prog} --help`)")


# ---- helpers -------------------------------------------------------------------------

def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip() != ""]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected comma-separated integers >= 0, got {text!r}")
    return values


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse ``type``: an integer >= ``minimum``, else a one-line error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {value}")
        return value
    return parse


_positive_int = int_at_least(1)


def _load_model(path: str, threads: Optional[int]) -> Model:
    if not os.path.exists(path):
        raise CliError(f"model file '{path}' does not exist")
    return Model(path, num_threads=threads)


def _shape(shape: Sequence[Optional[int]]) -> str:
    return "[" + ", ".join("?" if d is None else str(d) for d in shape) + "]"


def _load_npy(path: str) -> np.ndarray:
    if not os.path.exists(path):
        raise CliError(f"file '{path}' does not exist")
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, EOFError) as exc:  # EOFError: an empty file
        raise CliError(f"'{path}' is not a readable .npy array ({exc})") from None
    if not isinstance(array, np.ndarray):
        raise CliError(f"'{path}' holds several arrays (.npz); give a single .npy array")
    return array


def _human(n: float) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:g}"


# ---- inspect ---------------------------------------------------------------------------

def _counts_table(before: Dict[str, int], after: Dict[str, int]) -> List[str]:
    names = sorted(set(before) | set(after))
    width = max([len(n) for n in names] + [8])
    lines = [f"  {'operator':<{width}}  {'loaded':>6}  {'optimised':>9}"]
    for n in names:
        b, a = before.get(n, 0), after.get(n, 0)
        lines.append(f"  {n:<{width}}  {b:>6}  {a:>9}")
    lines.append(f"  {'total':<{width}}  {sum(before.values()):>6}  {sum(after.values()):>9}")
    return lines


def cmd_inspect(args: argparse.Namespace) -> int:
    with _load_model(args.model, args.threads) as model:
        summary = model.summary()
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    print(f"model      {args.model}")
    print(f"producer   {summary.get('producer') or '?'}   opset {summary.get('opset', '?')}")

    def tensors(kind: str) -> None:
        for t in summary.get(kind, []):
            shape = t.get("shape")
            shape_s = "?" if shape is None else "[" + ", ".join(
                "?" if d is None or d < 0 else str(d) for d in shape) + "]"
            print(f"  {t.get('name')}: {t.get('dtype')} {shape_s}")

    print("inputs")
    tensors("inputs")
    print("outputs")
    tensors("outputs")
    params = summary.get("parameters")
    flops = summary.get("flops_per_sample")
    print(f"parameters       {params if params is not None else '?'}")
    print(f"FLOPs per sample {'?' if flops is None else f'{flops} ({_human(flops)}FLOP)'}")
    if summary.get("steps_per_run") is not None:
        print(f"steps per run    {summary['steps_per_run']} (batch 1)")
    if summary.get("arena_bytes_batch1") is not None:
        print(f"arena            {_human(summary['arena_bytes_batch1'])}B (batch 1)")
    if "threads" in summary:
        print(f"threads          {summary['threads']}")
    print("operators (as loaded -> after optimisation)")
    for line in _counts_table(summary.get("operators", {}), summary.get("optimized_operators", {})):
        print(line)
    passes = summary.get("passes") or []
    print("passes / fusions applied")
    if passes:
        for p in passes:
            print(f"  {p}")
    else:
        print("  (none)")
    units = summary.get("shrinkage_units")
    if units is None:
        print("shrinkage units  ? (the input shapes are not known without a concrete shape)")
    else:
        print(f"shrinkage units  {len(units)}")
        for k, u in enumerate(units):
            kind = "channel-shared" if u.get("thresholds_per_sample") == 1 else "channel-wise"
            print(f"  unit {k}: {u.get('thresholds_per_sample')} threshold(s) per sample ({kind}), "
                  f"{u.get('features_per_sample')} features per sample")
    return 0


# ---- run -------------------------------------------------------------------------------

def cmd_run(args: argparse.Namespace) -> int:
    with _load_model(args.model, args.threads) as model:
        arrays = [_load_npy(p) for p in args.inputs]
        if len(arrays) != len(model.inputs):
            raise CliError(f"the model has {len(model.inputs)} input(s) "
                           f"({', '.join(i.name for i in model.inputs)}), "
                           f"{len(arrays)} .npy file(s) given")
        t0 = time.perf_counter()
        outputs = model.run(arrays)
        elapsed = time.perf_counter() - t0
        names = [o.name for o in model.outputs]
    for name, value in zip(names, outputs):
        print(f"{name}: float32 {_shape(value.shape)}", file=sys.stderr if args.output else sys.stdout)
    if args.output:
        if args.output.endswith(".npz"):
            by_name: Dict[str, Any] = dict(zip(names, outputs))
            np.savez(args.output, **by_name)
        else:
            if len(outputs) != 1:
                raise CliError(f"the model has {len(outputs)} outputs; write them all with "
                               f"-o FILE.npz")
            np.save(args.output, outputs[0])
        print(f"wrote {args.output} ({elapsed * 1e3:.2f} ms run)", file=sys.stderr)
    else:
        with np.printoptions(precision=5, suppress=True, threshold=200, edgeitems=4):
            for name, value in zip(names, outputs):
                print(f"{name} =\n{value}")
    return 0


# ---- classify -------------------------------------------------------------------------

def read_recording(path: str, csv_column: Optional[int] = None) -> np.ndarray:
    """A recording as float32 [channels, length] (1 channel: [1, length]).

    * .npy: 1-D [length] or 2-D [channels, length], any real dtype (converted to float32);
    * .csv / .txt: one row per sample, one column per channel (a header row of names is
      skipped; ``csv_column`` keeps only that 0-based column);
    * .wav: PCM 8/16/24/32-bit integer, every channel, scaled to [-1, 1).
    """
    if not os.path.exists(path):
        raise CliError(f"recording '{path}' does not exist")
    ext = os.path.splitext(path)[1].lower()
    if ext == ".npy":
        array = _load_npy(path)
        if array.dtype.kind not in "fiu":
            raise CliError(f"'{path}': expected real numbers, got dtype {array.dtype}")
        if array.ndim == 1:
            array = array[None, :]
        elif array.ndim != 2:
            raise CliError(f"'{path}': expected a 1-D [length] or 2-D [channels, length] array, "
                           f"got shape {_shape(array.shape)}")
    elif ext in (".csv", ".txt"):
        array = _read_csv(path)
    elif ext == ".wav":
        array = _read_wav(path)
    else:
        raise CliError(f"'{path}': unknown recording format '{ext or '(none)'}' "
                       f"(expected .npy, .csv or .wav)")
    if csv_column is not None:
        if not 0 <= csv_column < array.shape[0]:
            raise CliError(f"--column {csv_column}: the recording has {array.shape[0]} channel(s)")
        array = array[csv_column:csv_column + 1]
    if not np.all(np.isfinite(array)):
        raise CliError(f"'{path}': the recording contains NaN or infinite values")
    return np.ascontiguousarray(array, dtype=np.float32)


def _read_csv(path: str) -> np.ndarray:
    with open(path, newline="") as f:
        text = f.read()
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t ")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    if not rows:
        raise CliError(f"'{path}' is empty")
    try:
        [float(c) for c in rows[0] if c.strip()]
    except ValueError:
        rows = rows[1:]  # a header row
    try:
        data = np.array([[float(c) for c in r if c.strip()] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise CliError(f"'{path}': not a table of numbers ({exc})") from None
    if data.ndim != 2 or data.size == 0:
        raise CliError(f"'{path}': every row must have the same number of numeric columns")
    channels: np.ndarray = data.T  # columns are channels
    return channels


def _read_wav(path: str) -> np.ndarray:
    try:
        with wave.open(path, "rb") as w:
            channels, width, frames = w.getnchannels(), w.getsampwidth(), w.getnframes()
            raw = w.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise CliError(f"'{path}': not a PCM .wav file ({exc})") from None
    return decode_pcm(raw, width, channels, path)


def decode_pcm(raw: bytes, width: int, channels: int, path: str) -> np.ndarray:
    """Interleaved little-endian PCM frames of a .wav file as float64 [channels, frames],
    scaled to [-1, 1)."""
    if width == 1:
        data = (np.frombuffer(raw, np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 2:
        data = np.frombuffer(raw, "<i2").astype(np.float64) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        data = v.astype(np.float64) / float(1 << 23)
    elif width == 4:
        data = np.frombuffer(raw, "<i4").astype(np.float64) / float(1 << 31)
    else:
        raise CliError(f"'{path}': unsupported sample width {width} bytes")
    by_channel: np.ndarray = data.reshape(-1, channels).T
    return by_channel


def _load_classes(path: Optional[str], count: int) -> list[str]:
    if path is None:
        return [f"class {k}" for k in range(count)]
    if not os.path.exists(path):
        raise CliError(f"classes file '{path}' does not exist")
    with open(path) as f:
        try:
            data = json.load(f)
        except ValueError as exc:
            raise CliError(f"'{path}' is not valid JSON ({exc})") from None
    if isinstance(data, dict):
        if "classes" in data:
            data = data["classes"]
        else:
            try:
                data = [data[k] for k in sorted(data, key=int)]
            except ValueError:
                raise CliError(f"'{path}': expected a list of class names or "
                               f"{{index: name}}") from None
    if not isinstance(data, list) or not all(isinstance(c, str) for c in data):
        raise CliError(f"'{path}': expected a JSON list of class names")
    if len(data) != count:
        raise CliError(f"'{path}' names {len(data)} classes but the model outputs {count} scores")
    return data


def _is_terminal(stream: Optional[IO[str]]) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_mode(args: argparse.Namespace) -> str:
    """The progress bar mode of a command line: "never" (--no-progress, which wins over
    --progress), "always" (--progress) or "auto" (neither; see :class:`Progress`)."""
    if getattr(args, "no_progress", False):
        return "never"
    return "always" if getattr(args, "progress", False) else "auto"


class Progress:
    """A one-line progress bar on stderr for ``total`` units of work (windows).

    ``mode``:

    * ``"always"`` (--progress): drawn at every update, even for short jobs and when
      stderr is not a terminal;
    * ``"never"`` (--no-progress): never drawn;
    * ``"auto"``: drawn only when stderr is a terminal and the job is expected to take
      longer than ``min_seconds`` -- estimated at each update from the time the work done
      so far took (the first update is the first chunk), or already took longer. A job
      that completes in its first update draws nothing.

    :attr:`possible` is False when nothing can ever be drawn (``"never"``, or ``"auto"``
    without a terminal): callers then need not split their work into chunks.
    Updates are drawn at most every ``interval`` seconds (the last one always).
    """

    def __init__(self, total: int, mode: str = "auto", unit: str = "windows",
                 stream: Optional[IO[str]] = None, min_seconds: float = PROGRESS_MIN_SECONDS,
                 clock: Callable[[], float] = time.perf_counter, interval: float = 0.1) -> None:
        if mode not in ("auto", "always", "never"):
            raise ValueError(f"progress mode must be 'auto', 'always' or 'never', got {mode!r}")
        self.stream: IO[str] = sys.stderr if stream is None else stream
        self.total, self.unit, self.min_seconds = total, unit, min_seconds
        self.clock, self.interval = clock, interval
        self._terminal = _is_terminal(self.stream)
        self.possible = mode == "always" or (mode == "auto" and self._terminal)
        self.shown = mode == "always"
        self.drawn = False
        self.start = clock()
        self._last_draw = -math.inf

    def expected_seconds(self, done: int, elapsed: float) -> float:
        """The whole job's expected time, extrapolated from ``done`` units in ``elapsed``."""
        return elapsed * self.total / done if done > 0 else math.inf

    def update(self, done: int) -> None:
        if not self.possible:
            return
        now = self.clock()
        elapsed = now - self.start
        if not self.shown:
            if done >= self.total:
                return  # finished before a bar was due
            if max(elapsed, self.expected_seconds(done, elapsed)) <= self.min_seconds:
                return
            self.shown = True
        if done < self.total and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        frac = min(done / self.total, 1.0) if self.total else 1.0
        width = 30
        fill = int(round(frac * width))
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = ""
        if 0 < done < self.total and rate > 0:
            eta = f", {(self.total - done) / rate:.0f} s left"
        clear = "\x1b[K" if self._terminal else ""  # the line may have become shorter
        self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{self.total} "
                          f"{self.unit} {rate:,.0f}/s{eta}{clear}")
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    probs: np.ndarray = e / e.sum(axis=1, keepdims=True)
    return probs


def _windows_of(signal: np.ndarray, first: int, count: int, window: int, hop: int,
                normalize: bool, epsilon: float) -> np.ndarray:
    """Windows [first, first + count) as [count, channels, window], normalised like
    drsn_model_run_windows (per window and channel, population std)."""
    idx = (first + np.arange(count))[:, None] * hop + np.arange(window)[None, :]
    w = np.transpose(signal[:, idx], (1, 0, 2))
    if normalize:
        w64 = w.astype(np.float64)
        mean = w64.mean(axis=2, keepdims=True)
        std = w64.std(axis=2, keepdims=True)
        w = (w64 - mean) / (std + epsilon)
    return np.ascontiguousarray(w, dtype=np.float32)


def _chunks(total: int, batch_size: int, progressive: bool) -> List[Tuple[int, int]]:
    """(first window, count) of the run_windows calls for ``total`` windows. One call for
    all of them unless a progress bar may be drawn (``progressive``); then a first chunk
    of one batch, which times the job for the bar's decision, then chunks of about 1% of
    the windows (at least one batch, at most 4096 windows) so that the bar moves. The
    results do not depend on the chunking (each window is normalised on its own)."""
    if not progressive:
        return [(0, total)]
    first = min(batch_size, total)
    chunk = max(batch_size, min(4096, math.ceil(total / 100)))
    spans = [(0, first)]
    spans += [(start, min(chunk, total - start)) for start in range(first, total, chunk)]
    return spans


def _check_window_input(model: Model, window: int, channels: int, what: str) -> None:
    """CliError when the model's declared input cannot take windows of `window` samples of
    `channels` channels (the library would refuse them too, in its own words)."""
    if len(model.inputs) != 1:
        return
    declared = model.inputs[0].shape
    if declared and declared[-1] is not None and declared[-1] != window:
        raise CliError(f"the model's input '{model.inputs[0].name}' {_shape(declared)} takes "
                       f"windows of {declared[-1]} samples; --window is {window}")
    if len(declared) == 3 and declared[1] is not None and declared[1] != channels:
        raise CliError(f"the model's input '{model.inputs[0].name}' {_shape(declared)} takes "
                       f"{declared[1]} channel(s); {what} has {channels}")


def cmd_classify(args: argparse.Namespace) -> int:
    signal = read_recording(args.recording, args.column)
    channels, length = signal.shape
    window, hop = args.window, args.hop
    with _load_model(args.model, args.threads) as model:
        from ._model import window_count
        _check_window_input(model, window, channels, "the recording")
        total = window_count(length, window, hop)
        if total == 0:
            raise CliError(f"'{args.recording}' has {length} samples per channel, fewer than one "
                           f"window of {window}")
        normalize = None if args.no_normalize else "zscore"
        mode = progress_mode(args)
        progress = Progress(total, mode)
        parts = []
        t0 = time.perf_counter()
        for first, n in _chunks(total, args.batch_size, progress.possible):
            segment = signal[:, first * hop:(first + n - 1) * hop + window]
            if channels == 1:
                segment = segment[0]
            (logits, *_rest) = model.run_windows(segment, window, hop, normalize=normalize,
                                                 epsilon=args.epsilon, batch_size=args.batch_size)
            if logits.shape[0] != n:
                raise CliError(f"internal: {logits.shape[0]} windows from a chunk of {n}")
            parts.append(logits)
            progress.update(first + n)
        progress.close()
        elapsed = time.perf_counter() - t0
        logits = np.concatenate(parts)
        if logits.ndim != 2:
            raise CliError(f"the model's first output has per-window shape "
                           f"{_shape(logits.shape[1:])}; classify needs a vector of class scores")

        intro = None
        if args.introspect:
            rank2 = len(model.inputs[0].shape) == 2
            units: Optional[List[Any]] = None
            sums_t: List[np.ndarray] = []
            sums_z: List[float] = []
            step = args.batch_size
            progress = Progress(total, mode, unit="windows introspected")
            for first in range(0, total, step):
                n = min(step, total - first)
                batch = _windows_of(signal, first, n, window, hop, not args.no_normalize, args.epsilon)
                if rank2:
                    batch = batch[:, 0, :]
                batch_units = model.shrinkage_units([batch.shape])
                if units is None:
                    units = batch_units
                    sums_t = [np.zeros(u.thresholds_per_sample) for u in units]
                    sums_z = [0.0 for _ in units]
                elif [tuple(u) for u in batch_units] != [tuple(u) for u in units]:
                    raise CliError(f"libdrsn reports {len(batch_units)} shrinkage units for a "
                                   f"batch of {n} windows but {len(units)} for a batch of "
                                   f"{min(step, total)}; the model did not change (a library bug)")
                _, th, zf = model.run_introspect(batch)
                for u in range(len(units)):
                    sums_t[u] += th[u].astype(np.float64).sum(axis=0)
                    sums_z[u] += float(zf[u].astype(np.float64).sum())
                progress.update(first + n)
            progress.close()
            intro = (units or [], [s / total for s in sums_t], [s / total for s in sums_z])

    classes = _load_classes(args.classes, logits.shape[1])
    probs = _softmax(logits)
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    counts = np.bincount(pred, minlength=len(classes))
    seconds = f", {length / args.rate:.2f} s at {args.rate:g} Hz" if args.rate else ""
    print(f"recording  {args.recording}: {channels} channel(s) x {length} samples{seconds}")
    print(f"windows    {total} of {window} samples, hop {hop}, "
          f"{'no normalisation' if args.no_normalize else 'z-score per window'}; "
          f"{elapsed * 1e3:.1f} ms ({total / elapsed if elapsed > 0 else float('inf'):,.0f} windows/s)")
    width = max(len(c) for c in classes)
    print(f"  {'class':<{width}}  {'windows':>7}  {'share':>6}  {'mean confidence':>15}")
    for k in np.argsort(-counts, kind="stable"):
        if counts[k] == 0:
            continue
        print(f"  {classes[k]:<{width}}  {counts[k]:>7}  {counts[k] / total:>6.1%}  "
              f"{conf[pred == k].mean():>15.3f}")
    majority = int(np.argmax(counts))
    print(f"majority class: {classes[majority]} ({counts[majority]}/{total} windows, "
          f"{counts[majority] / total:.1%}; mean probability {probs[:, majority].mean():.3f})")
    if intro is not None:
        units, mean_t, mean_z = intro
        if not units:
            print("shrinkage units: none recognised in this model")
        else:
            print("shrinkage units (means over all windows)")
            print(f"  {'unit':>4}  {'taus':>4}  {'mean tau':>9}  {'zeroed fraction':>15}")
            for u, unit in enumerate(units):
                print(f"  {u:>4}  {unit.thresholds_per_sample:>4}  {mean_t[u].mean():>9.4f}  "
                      f"{mean_z[u]:>15.3f}")
            print(f"  {'all':>4}  {'':>4}  {'':>9}  {np.mean(mean_z):>15.3f}")
    return 0


# ---- monitor -----------------------------------------------------------------------------

#: Raw sample formats of `drsn monitor` on stdin: name -> (numpy dtype, scale to float).
RAW_FORMATS = {"f32": (np.dtype("<f4"), 1.0), "s16": (np.dtype("<i2"), 1.0 / 32768.0)}


def stdin_chunks(stream: IO[bytes], channels: int, fmt: str,
                 read_size: int = 1 << 16) -> Iterator[np.ndarray]:
    """Chunks [channels, frames] (float32) of interleaved raw samples as they arrive on a
    binary stream: each read returns what is there (at most `read_size` bytes), so a live
    source gives chunks of any size; a partial frame waits for the next read."""
    dtype, scale = RAW_FORMATS[fmt]
    frame_bytes = dtype.itemsize * channels
    fd = stream.fileno() if hasattr(stream, "fileno") else None
    pending = b""
    while True:
        if fd is not None:
            data = os.read(fd, read_size)
        else:
            data = stream.read(read_size)
        if not data:
            break
        pending += data
        usable = len(pending) - len(pending) % frame_bytes
        if usable == 0:
            continue
        raw, pending = pending[:usable], pending[usable:]
        samples = np.frombuffer(raw, dtype=dtype).astype(np.float32)
        if scale != 1.0:
            samples *= np.float32(scale)
        yield np.ascontiguousarray(samples.reshape(-1, channels).T)
    if pending:
        print(f"{PROG}: warning: the input ended inside a frame ({len(pending)} bytes dropped)",
              file=sys.stderr)


def replay_chunks(signal: np.ndarray, chunk: int, rate: Optional[float],
                  realtime: bool) -> Iterator[np.ndarray]:
    """Chunks of `chunk` frames of a recording [channels, length]; with `realtime`, each is
    handed out when its last sample would have been acquired at `rate` Hz."""
    start = time.perf_counter()
    for pos in range(0, signal.shape[1], chunk):
        end = min(pos + chunk, signal.shape[1])
        if realtime and rate:
            delay = start + end / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        yield signal[:, pos:end]


class MajorityVote:
    """The majority class of the last `size` windows; `update` returns True when it changed
    (the first window sets it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.recent: List[int] = []
        self.counts: Dict[int, int] = {}
        self.current: Optional[int] = None

    def update(self, label: int) -> bool:
        self.recent.append(label)
        self.counts[label] = self.counts.get(label, 0) + 1
        if len(self.recent) > self.size:
            old = self.recent.pop(0)
            self.counts[old] -= 1
        best = max(self.counts.values())
        if self.current is not None and self.counts.get(self.current, 0) == best:
            return False  # a tie keeps the current majority
        leader = max(self.counts, key=lambda k: (self.counts[k], -k))
        changed = leader != self.current
        self.current = leader
        return changed


def cmd_monitor(args: argparse.Namespace) -> int:
    window, hop = args.window, args.hop
    if args.recording in (None, "-"):
        if args.realtime:
            raise UsageError("--realtime replays a file; stdin is read as it arrives")
        channels = args.channels
        rate = args.rate
        chunks: Iterator[np.ndarray] = stdin_chunks(sys.stdin.buffer, channels, args.format)
        source = f"stdin ({args.format}, {channels} channel(s), interleaved)"
    else:
        signal = read_recording(args.recording)
        channels = signal.shape[0]
        rate = args.rate
        if rate is None and args.recording.lower().endswith(".wav"):
            with wave.open(args.recording, "rb") as w:
                rate = float(w.getframerate())
        if args.realtime and not rate:
            raise UsageError(f"--realtime needs the sampling rate: give --rate for '{args.recording}'")
        chunk = args.chunk or (max(1, int(round(rate / 100))) if rate else hop)
        chunks = replay_chunks(signal, chunk, rate, args.realtime)
        source = (f"{args.recording} ({channels} channel(s) x {signal.shape[1]} samples"
                  f"{f' at {rate:g} Hz' if rate else ''}, "
                  f"{'real time' if args.realtime else 'as fast as possible'})")
    normalize = None if args.no_normalize else "zscore"
    out = sys.stdout

    def emit(record: Dict[str, Any], text: str) -> None:
        out.write(json.dumps(record) + "\n" if args.jsonl else text + "\n")
        out.flush()

    def when(start: int) -> Tuple[Optional[float], str]:
        if rate:
            t = start / rate
            return t, f"{t:10.3f} s"
        return None, f"sample {start:>10}"

    with _load_model(args.model, args.threads) as model:
        _check_window_input(model, window, channels, "the signal")
        classes: Optional[List[str]] = None
        vote = MajorityVote(args.vote)
        windows = 0
        latencies: List[float] = []
        if not args.jsonl:
            print(f"monitoring {source}: windows of {window} every {hop} samples", file=sys.stderr)
        with model.stream(window=window, hop=hop, channels=channels, normalize=normalize,
                          epsilon=args.epsilon, max_waiting=args.max_waiting) as stream:

            def report(result: Any, arrived: float) -> None:
                nonlocal classes, windows
                done = time.perf_counter()
                logits = result.outputs[0]
                if logits.shape[0] == 0:
                    return
                if logits.ndim != 2:
                    raise CliError(f"the model's first output has per-window shape "
                                   f"{_shape(logits.shape[1:])}; monitor needs a vector of class scores")
                if classes is None:
                    classes = _load_classes(args.classes, logits.shape[1])
                probs = _softmax(logits)
                latency_ms = (done - arrived) * 1e3
                for start, p in zip(result.starts.tolist(), probs):
                    label = int(p.argmax())
                    t, at = when(start)
                    name = classes[label]
                    record: Dict[str, Any] = {"event": "window", "index": windows, "start": start,
                                              "time": t, "class": name, "label": label,
                                              "confidence": round(float(p[label]), 6),
                                              "latency_ms": round(latency_ms, 3)}
                    emit(record, f"{at}  window {windows:>6}  {name:<12} {float(p[label]):.3f}")
                    windows += 1
                    latencies.append(latency_ms)
                    if vote.update(label):
                        votes = vote.counts[label]
                        emit({"event": "majority", "index": windows - 1, "start": start, "time": t,
                              "class": name, "label": label, "votes": votes, "of": len(vote.recent)},
                             f"{at}  majority -> {name} ({votes} of the last {len(vote.recent)} windows)")

            try:
                for chunk_array in chunks:
                    arrived = time.perf_counter()
                    report(stream.push(chunk_array if channels > 1 else chunk_array[0]), arrived)
            except KeyboardInterrupt:
                pass  # stop reading; the windows waiting are still reported
            report(stream.flush(), time.perf_counter())
    majority = classes[vote.current] if classes is not None and vote.current is not None else None
    summary: Dict[str, Any] = {"event": "end", "windows": windows, "majority": majority}
    if latencies:
        summary["latency_ms_p50"] = round(float(np.percentile(latencies, 50)), 3)
        summary["latency_ms_p99"] = round(float(np.percentile(latencies, 99)), 3)
    if args.jsonl:
        emit(summary, "")
    else:
        lat = (f"; push-to-output latency p50 {summary['latency_ms_p50']:.2f} ms, "
               f"p99 {summary['latency_ms_p99']:.2f} ms" if latencies else "")
        print(f"end: {windows} windows; majority {majority or '(none)'}{lat}", file=sys.stderr)
    return 0


# ---- bench -------------------------------------------------------------------------------

def _bench_shape(model_inputs: Sequence[TensorInfo], batch: int,
                 overrides: Dict[str, Tuple[int, ...]]) -> List[Tuple[int, ...]]:
    shapes: List[Tuple[int, ...]] = []
    for info in model_inputs:
        if info.name in overrides:
            shapes.append(overrides[info.name])
            continue
        dims = []
        for axis, d in enumerate(info.shape):
            if d is None:
                if axis != 0:
                    raise CliError(f"input '{info.name}' has dynamic dimension {axis} "
                                   f"{_shape(info.shape)}; give its shape with "
                                   f"--shape {info.name}=D0,D1,...")
                d = batch
            elif axis == 0 and d != batch:
                raise CliError(f"input '{info.name}' has a fixed batch of {d} {_shape(info.shape)}; "
                               f"use --batch {d}")
            dims.append(d)
        shapes.append(tuple(dims))
    return shapes


def _time_runs(fn: Callable[[], object], warmup: int, repeat: int, max_seconds: float) -> float:
    """Median seconds per call after `warmup` calls; stops early after max_seconds (>= 3 runs)."""
    for _ in range(warmup):
        fn()
    times: List[float] = []
    start = time.perf_counter()
    while len(times) < repeat:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        if len(times) >= 3 and time.perf_counter() - start > max_seconds:
            break
    return statistics.median(times)


def cmd_bench(args: argparse.Namespace) -> int:
    overrides: Dict[str, Tuple[int, ...]] = {}
    for spec in args.shape or []:
        name, _, dims = spec.partition("=")
        try:
            overrides[name] = tuple(int(d) for d in dims.split(","))
        except ValueError:
            raise UsageError(f"--shape expects NAME=D0,D1,..., got {spec!r}") from None
    if args.quick:
        warmup, repeat, max_seconds = 1, 3, 0.5
    else:
        warmup, repeat, max_seconds = args.warmup, args.repeat, args.max_seconds
    ort: Any = None
    if not args.no_onnxruntime:
        try:
            ort = importlib.import_module("onnxruntime")
        except ImportError:
            ort = None
    rng = np.random.default_rng(0)
    rows: List[Dict[str, Any]] = []
    from ._library import load
    isa_fn = getattr(load(), "isa", None)
    isa = f"; libdrsn kernels: {isa_fn().decode()}" if isa_fn is not None else ""
    print(f"model {args.model}; median of up to {repeat} runs after {warmup} warm-up run(s){isa}")
    if ort is None:
        print("onnxruntime: " + ("skipped (--no-onnxruntime)" if args.no_onnxruntime
                                 else "not importable, timing drsn only"))
    else:
        print(f"onnxruntime {ort.__version__} (CPU, all graph optimisations) on the same file")
    header = f"{'batch':>5}  {'threads':>7}  {'drsn ms':>9}  {'samples/s':>10}"
    if ort is not None:
        header += f"  {'ort ms':>9}  {'ort/drsn':>8}"
    print(header)
    for threads in args.threads:
        with _load_model(args.model, threads) as model:
            session = None
            if ort is not None:
                so = ort.SessionOptions()
                so.intra_op_num_threads = threads
                so.inter_op_num_threads = 1
                so.log_severity_level = 3
                session = ort.InferenceSession(args.model, so, providers=["CPUExecutionProvider"])
            for batch in args.batch:
                if batch < 1:
                    raise UsageError(f"--batch values must be >= 1, got {batch}")
                shapes = _bench_shape(model.inputs, batch, overrides)
                inputs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
                outputs = [np.empty(s, np.float32) for s in model.output_shapes(shapes)]
                t_drsn = _time_runs(lambda: model.run_into(inputs, outputs), warmup, repeat, max_seconds)
                line = f"{batch:>5}  {threads:>7}  {t_drsn * 1e3:>9.3f}  {batch / t_drsn:>10,.0f}"
                row = {"batch": batch, "threads": threads, "drsn_ms": t_drsn * 1e3}
                if session is not None:
                    feeds = {i.name: a for i, a in zip(model.inputs, inputs)}
                    t_ort = _time_runs(lambda: session.run(None, feeds), warmup, repeat, max_seconds)
                    line += f"  {t_ort * 1e3:>9.3f}  {t_ort / t_drsn:>8.2f}"
                    row.update(ort_ms=t_ort * 1e3, ratio=t_ort / t_drsn)
                print(line, flush=True)
                rows.append(row)
    if ort is not None:
        print("ort/drsn > 1: drsn is faster")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    from ._quantization import quantize
    calibration = _load_npy(args.calibration)
    labels = np.load(args.labels, allow_pickle=False) if args.labels else None
    keep: Any = args.keep_float
    if keep not in ("threshold+head", "none"):
        keep = [name for name in keep.split(",") if name]
    try:
        report = quantize(args.model, calibration, args.output, per_channel=not args.per_tensor,
                          activation_type=args.activation_type, calibration_method=args.calibration_method,
                          keep_float=keep, labels=labels, reduce_range=args.reduce_range,
                          operators="all" if args.operators == "all" else args.operators.split(","))
    except (ValueError, ImportError) as exc:
        raise UsageError(str(exc)) from exc
    print(report.summary())
    return 0


# ---- main ----------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="drsn: inference runtime for Deep Residual Shrinkage "
                                            "Networks (ONNX, float32) -- command-line tool")
    parser.add_argument("--version", action="store_true", help="print the binding and library versions")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def common(p: argparse.ArgumentParser, threads: bool = True) -> None:
        p.add_argument("model", help="ONNX model file")
        if threads:
            p.add_argument("--threads", type=int, default=None,
                           help="threads per run (0: one per core; default: the library's)")

    p = sub.add_parser("inspect", help="inputs, outputs, operators, parameters, FLOPs, fusions")
    common(p)
    p.add_argument("--json", action="store_true", help="print the library's JSON summary")
    p.set_defaults(fn=cmd_inspect)

    p = sub.add_parser("run", help="run a model on .npy inputs")
    common(p)
    p.add_argument("inputs", nargs="+", metavar="INPUT.npy", help="one float32 .npy per model input, in order")
    p.add_argument("-o", "--output", help="write the output (.npy, one output) or all outputs (.npz)")
    p.set_defaults(fn=cmd_run)

    p = sub.add_parser("classify", help="classify a long recording window by window")
    common(p)
    p.add_argument("recording", help="recording: .npy (1-D, or [channels, length]), .csv "
                                     "(columns = channels) or PCM .wav; converted to float32")
    p.add_argument("--window", type=_positive_int, required=True, help="window length in samples")
    p.add_argument("--hop", type=_positive_int, default=None, help="hop in samples (default: --window)")
    p.add_argument("--classes", help="JSON list of class names in output order")
    p.add_argument("--no-normalize", action="store_true",
                   help="feed windows as cut (default: z-score per window and channel)")
    p.add_argument("--epsilon", type=float, default=ZSCORE_EPSILON_DEFAULT,
                   help=f"z-score epsilon (default {ZSCORE_EPSILON_DEFAULT:g})")
    p.add_argument("--batch-size", type=_positive_int, default=WINDOW_BATCH_DEFAULT,
                   help=f"windows per run (default {WINDOW_BATCH_DEFAULT})")
    p.add_argument("--introspect", action="store_true",
                   help="also report mean thresholds and zeroed fractions per shrinkage unit")
    p.add_argument("--progress", action="store_true",
                   help="always show a progress bar on stderr, even for short jobs and when "
                        "stderr is not a terminal (default: on a terminal, for jobs expected "
                        "to take over half a second)")
    p.add_argument("--no-progress", action="store_true",
                   help="never show a progress bar (wins over --progress)")
    p.add_argument("--column", type=int, default=None, help="use only this channel / CSV column (0-based)")
    p.add_argument("--rate", type=float, default=None, help="sampling rate in Hz (only to print the duration)")
    p.set_defaults(fn=cmd_classify)

    p = sub.add_parser("monitor", help="classify a live signal (stdin, or a replayed file) window by window")
    common(p)
    p.add_argument("recording", nargs="?", default=None,
                   help="a .wav, .npy or .csv recording to replay; '-' or nothing: raw interleaved "
                        "samples from stdin (--format, --channels)")
    p.add_argument("--window", type=_positive_int, required=True, help="window length in samples")
    p.add_argument("--hop", type=_positive_int, default=None, help="hop in samples (default: --window)")
    p.add_argument("--classes", help="JSON list of class names in output order")
    p.add_argument("--channels", type=_positive_int, default=1, help="channels of the stdin signal (default 1)")
    p.add_argument("--format", choices=sorted(RAW_FORMATS), default="f32",
                   help="stdin samples: f32 (float32) or s16 (16-bit PCM, scaled to [-1, 1)); "
                        "little-endian, interleaved (default f32)")
    p.add_argument("--rate", type=float, default=None,
                   help="sampling rate in Hz (times in seconds; .wav files carry theirs)")
    p.add_argument("--realtime", action="store_true",
                   help="replay the file at its real rate (default: as fast as possible)")
    p.add_argument("--chunk", type=_positive_int, default=None,
                   help="frames per chunk when replaying a file (default: 10 ms, or --hop without a rate)")
    p.add_argument("--vote", type=_positive_int, default=10,
                   help="the majority class is taken over the last N windows (default 10)")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per line (events window, majority, end)")
    p.add_argument("--no-normalize", action="store_true",
                   help="feed windows as cut (default: z-score per window and channel)")
    p.add_argument("--epsilon", type=float, default=ZSCORE_EPSILON_DEFAULT,
                   help=f"z-score epsilon (default {ZSCORE_EPSILON_DEFAULT:g})")
    p.add_argument("--max-waiting", type=int, default=0,
                   help="windows that may wait to share a batch (latency bound; default 0)")
    p.set_defaults(fn=cmd_monitor)

    from ._score_command import add_parser as add_score
    add_score(sub, int_at_least, ZSCORE_EPSILON_DEFAULT, WINDOW_BATCH_DEFAULT)

    p = sub.add_parser("bench", help="time drsn (and onnxruntime when installed)")
    common(p, threads=False)
    p.add_argument("--batch", type=_int_list, default=[1, 64], help="batch sizes, e.g. 1,64")
    p.add_argument("--threads", dest="threads", type=_int_list, default=[1],
                   help="thread counts, e.g. 1,2 (0: one per core)")
    p.add_argument("--shape", action="append", metavar="NAME=D0,D1,...",
                   help="shape of an input with dynamic non-batch dimensions")
    p.add_argument("--warmup", type=int, default=3, help="warm-up runs (default 3)")
    p.add_argument("--repeat", type=_positive_int, default=20, help="timed runs (default 20)")
    p.add_argument("--max-seconds", type=float, default=3.0, help="time cap per configuration")
    p.add_argument("--quick", action="store_true", help="1 warm-up, at most 3 runs (smoke test)")
    p.add_argument("--no-onnxruntime", action="store_true", help="time drsn only")
    p.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    p.set_defaults(fn=cmd_bench)

    p = sub.add_parser("quantize", help="int8 QDQ model with onnxruntime's quantizer, calibrated on a .npy")
    common(p, threads=False)
    p.add_argument("calibration", metavar="CALIBRATION.npy",
                   help="float32 samples shaped like the model input, samples along axis 0")
    p.add_argument("-o", "--output", required=True, help="the quantized model (.onnx)")
    p.add_argument("--per-tensor", action="store_true", help="one weight scale per tensor (default: per channel)")
    p.add_argument("--activation-type", choices=["u8", "s8"], default="u8", help="activation codes (default u8)")
    p.add_argument("--calibration-method", choices=["minmax", "entropy", "percentile"], default="minmax",
                   help="how activation ranges are chosen (default minmax)")
    p.add_argument("--keep-float", default="threshold+head", metavar="WHICH",
                   help="nodes left in float: threshold+head (default: the shrinkage threshold networks "
                        "and the classifier), none, or comma-separated node names")
    p.add_argument("--reduce-range", action="store_true", help="7-bit weights (onnxruntime's reduce_range)")
    p.add_argument("--operators", default="Conv", metavar="OPS",
                   help="operator types to quantize, comma-separated (default Conv: the rest stays float32 "
                        "at no cost), or all (onnxruntime's default set)")
    p.add_argument("--labels", metavar="LABELS.npy", help="class per calibration sample: also report accuracy")
    p.set_defaults(fn=cmd_quantize)
    return parser


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, _errors.Error) and exc.call is not None:
        # the binding's "Model.run: " names a Python call the command line user did not make
        text = exc.detail.strip() or text
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if isinstance(exc, _errors.LibraryNotFoundError):
        first = lines[0].removeprefix("drsn: ").split(". Tried")[0]
        tried = []
        for line in lines[1:]:
            if line.startswith("To fix"):
                break
            if line.startswith("- "):
                tried.append(line[2:].split(" (")[0])
        return (f"{first} (tried {', '.join(tried)}); build it with `swift build -c release "
                f"--product drsn` in the repository or set DRSN_LIBRARY to its path")
    return " ".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            from . import __version__, library_path, library_version
            from ._library import load
            isa_fn = getattr(load(), "isa", None)
            isa = f", kernels: {isa_fn().decode()}" if isa_fn is not None else ""
            print(f"drsn {__version__} (binding), libdrsn {library_version()} at {library_path()}{isa}")
            return 0
        if args.command is None:
            raise UsageError(f"choose a command: inspect, run, classify, monitor, score, bench or quantize "
                             f"(see `{PROG} --help`)")
        if getattr(args, "hop", None) is None and args.command in ("classify", "monitor"):
            args.hop = args.window
        command: Callable[[argparse.Namespace], int] = args.fn
        return command(args)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        try:
            sys.stdout = None  # nothing more can be written
        finally:
            return 1
    except (CliError, _errors.Error, OSError, ValueError, TypeError, MemoryError) as exc:
        print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        return 1
    except Exception as exc:  # a bug in this tool: still one line, but say what it was
        print(f"{PROG}: error: internal error in the drsn tool ({type(exc).__name__}: "
              f"{_one_line(exc)}); please report it", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
