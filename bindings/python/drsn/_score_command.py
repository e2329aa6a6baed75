"""``drsn score``: a model over many recordings on Dask (see :mod:`drsn.dask`).

    drsn score MODEL.onnx 'recordings/*.npy' -o results.parquet [--scheduler ADDRESS]
               [--workers N] [--window W --hop H] [--classes F] [--summary FILE]

Plans the job (model check, globs, headers), runs it on a LocalCluster of ``--workers``
single-threaded processes (default: one per core) or on the cluster at ``--scheduler``,
shows Dask's progress bar on stderr, writes the rows to ``-o`` (Parquet, in order, in row
groups of 65536 rows as the recordings complete, through a temporary file renamed at the
end) and prints one summary line per recording. Exit status 1 with one ``drsn: error:`` line naming the recordings that
failed; their reasons are in the summary, in ``--summary`` and in the Parquet file's
metadata (``drsn.dask.failures(path)``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, Dict, List, Optional

from .cli import CliError, UsageError, _is_terminal, progress_mode

#: Windows per task by default (drsn.dask too): about 0.3 s of one core for the bearing
#: model, 8 MiB of float32 samples per channel at hop 1024.
WINDOWS_PER_TASK_DEFAULT = 2048
#: Scored recordings listed one per line in the summary before it only counts them.
SUMMARY_ROWS = 20
#: Failed recordings named in the one-line error before it only counts them.
ERROR_NAMES = 5
#: Rows per Parquet row group of ``-o`` (rows are buffered up to this many, in order).
ROW_GROUP_ROWS = 65536


def _short(text: str, width: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def _write_summary(path: str, table: Any) -> None:
    if path.endswith(".parquet"):
        import pyarrow.parquet as pq
        pq.write_table(table, path)
    elif path.endswith(".csv"):
        import pyarrow.csv as pacsv
        pacsv.write_csv(table, path)
    else:
        raise UsageError(f"--summary must name a .parquet or .csv file, got '{path}'")


def _print_summary(rows: List[Dict[str, Any]], classes: Optional[List[str]], seconds: float,
                   windows: int, workers: int) -> None:
    scored = [r for r in rows if r["error"] is None]
    failed = [r for r in rows if r["error"] is not None]
    name = (lambda k: classes[k]) if classes else (lambda k: f"class {k}")
    width = min(60, max([len(r["recording"]) for r in rows] + [9]))
    print(f"{'recording':<{width}}  {'windows':>7}  {'majority class':<16}  {'share':>6}  "
          f"{'mean confidence':>15}")
    for r in scored[:SUMMARY_ROWS]:
        print(f"{r['recording']:<{width}}  {r['windows']:>7}  {name(r['label']):<16}  "
              f"{r['share']:>6.1%}  {r['mean_confidence']:>15.3f}")
    if len(scored) > SUMMARY_ROWS:
        print(f"... {len(scored) - SUMMARY_ROWS} more scored recordings (all of them: --summary FILE)")
    for r in failed:
        print(f"{r['recording']:<{width}}  FAILED: {_short(r['error'])}")
    if scored:
        counts: Dict[int, int] = {}
        for r in scored:
            counts[r["label"]] = counts.get(r["label"], 0) + 1
        spread = ", ".join(f"{name(k)}: {n}" for k, n in
                           sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        print(f"majority classes over recordings: {spread}")
    rate = f" ({windows / seconds:,.0f} windows/s)" if seconds > 0 else ""
    print(f"scored {len(scored)} of {len(rows)} recordings, {windows} windows in {seconds:.2f} s"
          f"{rate} on {workers} Dask worker(s)")


def cmd_score(args: argparse.Namespace) -> int:
    try:
        from . import dask as drsn_dask
    except ImportError as exc:
        raise CliError(str(exc)) from None
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ._score import result_schema
    if args.output is not None and not args.output.endswith(".parquet"):
        raise UsageError(f"-o/--output must name a .parquet file, got '{args.output}'")
    if args.summary is not None and not args.summary.endswith((".parquet", ".csv")):
        raise UsageError(f"--summary must name a .parquet or .csv file, got '{args.summary}'")
    if args.scheduler is not None and args.workers is not None:
        raise UsageError("--workers starts a local cluster; with --scheduler the cluster's own "
                         "workers run the job")
    try:
        job_plan = drsn_dask.plan(
            args.model, args.recordings, args.window, args.hop,
            None if args.no_normalize else "zscore", args.classes, args.introspect,
            epsilon=args.epsilon, batch_size=args.batch_size,
            windows_per_task=args.windows_per_task, column=args.column,
            threads_per_run=1 if args.threads is None else args.threads)
    except FileNotFoundError as exc:
        raise CliError(str(exc)) from None
    settings = job_plan.settings
    mode = progress_mode(args)
    show_progress = mode == "always" or (mode == "auto" and _is_terminal(sys.stderr))
    rows: List[Dict[str, Any]] = []
    failed: List[Dict[str, Any]] = []
    windows = 0
    writer = None
    pending: List[Any] = []  # rows not written yet: written in row groups of ROW_GROUP_ROWS
    pending_rows = 0
    partial = None if args.output is None else args.output + ".partial"
    seconds = 0.0
    try:
        with drsn_dask.client_for(args.scheduler, args.workers) as client:
            workers = len(client.scheduler_info().get("workers", {}))
            t0 = time.perf_counter()  # the job, without starting a local cluster
            job = drsn_dask.Job(job_plan, client, args.retries)
            windows_planned = job_plan.windows
            print(f"scoring {len(job_plan.recordings)} recording(s)"
                  f"{'' if windows_planned is None else f', {windows_planned} windows'} of "
                  f"{settings.window} samples, hop {settings.hop}, "
                  f"{'z-score per window' if settings.normalization else 'no normalisation'}; "
                  f"{job.tasks} task(s) on {workers} worker(s) at {client.scheduler.address}",
                  file=sys.stderr)
            if show_progress:
                job.progress()
            for outcome in job:
                if outcome.table is None:
                    failed.append({"index": outcome.index, "recording": outcome.recording,
                                   "error": outcome.error})
                    rows.append({"recording": outcome.recording, "windows": 0, "label": None,
                                 "share": None, "mean_confidence": None, "error": outcome.error})
                    continue
                if partial is not None:
                    pending.append(outcome.table)
                    pending_rows += outcome.table.num_rows
                    if pending_rows >= ROW_GROUP_ROWS:
                        if writer is None:
                            writer = pq.ParquetWriter(partial, outcome.table.schema)
                        writer.write_table(pa.concat_tables(pending), row_group_size=pending_rows)
                        pending, pending_rows = [], 0
                windows += outcome.table.num_rows
                rows.extend(drsn_dask.summarize(outcome.table).to_pylist())
            seconds = time.perf_counter() - t0
        if partial is not None and args.output is not None:
            if writer is None:
                writer = pq.ParquetWriter(partial, result_schema(settings.classes is not None,
                                                                 settings.introspect))
            if pending:
                writer.write_table(pa.concat_tables(pending), row_group_size=pending_rows)
            meta = drsn_dask._metadata(job_plan, failed)
            writer.add_key_value_metadata({k.decode(): v.decode() for k, v in meta.items()})
            writer.close()
            writer = None
            os.replace(partial, args.output)
    finally:
        if writer is not None:
            writer.close()
        if partial is not None and os.path.exists(partial):
            os.remove(partial)
    classes = list(settings.classes) if settings.classes is not None else None
    columns = ["recording", "windows", "label"] + (["label_name"] if classes else []) + \
        ["share", "mean_confidence", "error"]
    rows = [{c: row.get(c) for c in columns} for row in rows]
    for row in rows:
        if classes is not None:
            row["label_name"] = None if row["label"] is None else classes[row["label"]]
    _print_summary(rows, classes, seconds, windows, workers)
    if args.output is not None:
        print(f"wrote {args.output} ({windows} rows)", file=sys.stderr)
    if args.summary is not None:
        _write_summary(args.summary, pa.Table.from_pylist(rows))
    if failed:
        names = ", ".join(f["recording"] for f in failed[:ERROR_NAMES])
        more = f" and {len(failed) - ERROR_NAMES} more" if len(failed) > ERROR_NAMES else ""
        first = _short(failed[0]["error"], 200)
        raise CliError(f"{len(failed)} of {len(rows)} recording(s) failed: {names}{more} "
                       f"(first: {first}); the others were scored")
    return 0


def add_parser(sub: Any, int_at_least: Any, epsilon_default: float, batch_default: int) -> None:
    """Adds ``drsn score`` to the CLI's subcommands (``sub``: its subparsers; ``int_at_least``:
    the CLI's integer argument type, ``int_at_least(n)`` accepting integers >= n)."""
    positive_int = int_at_least(1)
    p = sub.add_parser("score", help="score many recordings on Dask (local processes or a cluster)")
    p.add_argument("model", help="ONNX model file")
    p.add_argument("recordings", nargs="+", metavar="RECORDING",
                   help="recordings or quoted globs ('data/**/*.npy'): .npy, .wav, .csv, .parquet")
    p.add_argument("-o", "--output", help="write one row per window to this .parquet file")
    p.add_argument("--summary", help="write one row per recording to this .parquet or .csv file")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler address (tcp://host:8786); default: a local cluster")
    p.add_argument("--workers", type=positive_int, default=None,
                   help="worker processes of the local cluster (default: one per core)")
    p.add_argument("--window", type=positive_int, default=None,
                   help="window length in samples (default: the model's declared input length)")
    p.add_argument("--hop", type=positive_int, default=None, help="hop in samples (default: --window)")
    p.add_argument("--classes", help="JSON list of class names in output order")
    p.add_argument("--no-normalize", action="store_true",
                   help="feed windows as cut (default: z-score per window and channel)")
    p.add_argument("--epsilon", type=float, default=epsilon_default,
                   help=f"z-score epsilon (default {epsilon_default:g})")
    p.add_argument("--batch-size", type=positive_int, default=batch_default,
                   help=f"windows per run (default {batch_default})")
    p.add_argument("--windows-per-task", type=positive_int, default=WINDOWS_PER_TASK_DEFAULT,
                   help=f"windows per Dask task (default {WINDOWS_PER_TASK_DEFAULT}; rounded "
                        f"down to whole batches)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads per run of each worker's model (default 1: each worker "
                        "process runs one task at a time on one core)")
    p.add_argument("--column", type=int, default=None, help="use only this channel / column (0-based)")
    p.add_argument("--introspect", action="store_true",
                   help="also the mean tau and zeroed fraction per shrinkage unit, per window")
    p.add_argument("--retries", type=int_at_least(0), default=2,
                   help="times reading a range is tried again after an I/O error (default 2)")
    p.add_argument("--progress", action="store_true",
                   help="always show Dask's progress bar on stderr (default: on a terminal)")
    p.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    p.set_defaults(fn=cmd_score)
