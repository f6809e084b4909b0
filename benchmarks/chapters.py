"""Time each chapter's FAST execution: papermill, one chapter at a time, nothing else running.

Uses the same executor as the book build (``scripts/bookbuild/execute.py``), so the numbers
are what ``make book`` spends per chapter (kernel start included); the build cache is not used.
Beside each chapter it prints the machine's fp32 matmul ceiling
(``emergence_lib.bench.matmul_gflops``, at the thread count the chapters use), measured just
before that chapter, so a slow time can be told from a slow or busy machine. Prints a table,
then each chapter's slowest code cells (papermill's per-cell durations: the profile that says
where a chapter's time goes), and writes ``_build/bench_chapters.json`` with every cell's time.

Usage::

    python benchmarks/chapters.py [--chapters 00,03] [--repeat 1] [--full] [--cells 5]

Run it on an otherwise idle machine; other CPU-heavy work skews the timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from bookbuild.common import BuildError  # noqa: E402  (scripts/ is not a package)
from bookbuild.execute import DEFAULT_TIMEOUT_S, execute_chapter  # noqa: E402
from bookbuild.status import machine_info  # noqa: E402
from bookbuild.toc import load_yaml, select_chapters, toc_chapters  # noqa: E402


def matmul_ceiling() -> float:
    """The fp32 matmul ceiling in GFLOP/s, on the threads the chapters use (EMERGENCE_THREADS)."""
    from emergence_lib.bench import matmul_gflops
    from emergence_lib.utils import configure_threads

    configure_threads()
    return matmul_gflops()


def cell_seconds(path: Path) -> list[tuple[str, float]]:
    """(first source line, seconds) of every code cell of an executed notebook, from the
    per-cell durations papermill records; [] when the notebook is missing (test fakes)."""
    if not path.exists():
        return []
    cells = json.loads(path.read_text())["cells"]
    return [((c["source"] if isinstance(c["source"], str) else "".join(c["source"]))
             .strip().split("\n")[0][:70],
             float(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0))
            for c in cells if c["cell_type"] == "code"]


def median_cells(runs: list[list[tuple[str, float]]]) -> list[dict]:
    """Per code cell, the median seconds over repeated runs (the same cells each run)."""
    runs = [r for r in runs if r]
    if not runs:
        return []
    return [{"cell": i, "first_line": runs[0][i][0],
             "seconds": round(statistics.median(r[i][1] for r in runs), 2)}
            for i in range(len(runs[0]))]


def print_cells(record: dict, top: int) -> None:
    """The ``top`` slowest code cells of each chapter: where its time goes."""
    for row in record["chapters"]:
        cells = sorted(row.get("cells", []), key=lambda c: -c["seconds"])[:top]
        if not cells:
            continue
        total = sum(c["seconds"] for c in row["cells"])
        print(f"\n{row['chapter']}: {total:.1f} s in code cells; the slowest {len(cells)}:")
        for c in cells:
            print(f"  {c['seconds']:7.2f} s  cell {c['cell']:>2}  {c['first_line']}")


def bench(
    chapters_sel: str | None,
    repeat: int,
    full: bool,
    timeout_s: int,
    *,
    root: Path = REPO,
    execute: Callable[..., Any] = execute_chapter,
    ceiling: Callable[[], float] = matmul_ceiling,
) -> dict:
    """Execute the selected chapters ``repeat`` times each; return the JSON record.

    ``execute`` and ``ceiling`` default to the real executor and matmul measurement (tests
    pass fakes).
    """
    if repeat < 1:
        raise BuildError(f"--repeat must be >= 1, got {repeat}")
    toc = load_yaml(root / "_toc.yml")
    chapters = select_chapters(toc_chapters(toc), chapters_sel)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-chapters-") as tmp:
        for chapter in chapters:
            gflops = ceiling()
            seconds, cells = [], []
            for i in range(repeat):
                run = execute(
                    chapter, Path(tmp) / f"run{i}", full=full, timeout_s=timeout_s, root=root
                )
                if not run.ok:
                    raise SystemExit(f"{chapter.docname} failed:\n{run.error}")
                seconds.append(run.seconds)
                cells.append(cell_seconds(Path(tmp) / f"run{i}" / f"{chapter.stem}.ipynb"))
                print(f"  {chapter.docname} run {i + 1}/{repeat}: {run.seconds:.1f} s", flush=True)
            rows.append(
                {
                    "chapter": chapter.docname,
                    "runs_s": [round(s, 2) for s in seconds],
                    "median_s": round(statistics.median(seconds), 2),
                    "min_s": round(min(seconds), 2),
                    "ceiling_gflops": round(gflops, 1),
                    "cells": median_cells(cells),
                }
            )
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "mode": "FULL" if full else "FAST",
        "repeat": repeat,
        "machine": machine_info(),
        "chapters": rows,
        "total_median_s": round(sum(r["median_s"] for r in rows), 2),
        "ceiling_gflops_median": round(statistics.median(r["ceiling_gflops"] for r in rows), 1)
        if rows
        else None,
    }


def print_table(record: dict) -> None:
    """Print the per-chapter timings as a plain-text table."""
    width = max([len(r["chapter"]) for r in record["chapters"]] + [7])
    print(f"\n{'chapter':<{width}}  {'median s':>9}  {'min s':>7}  {'matmul GFLOP/s':>14}")
    for row in record["chapters"]:
        print(
            f"{row['chapter']:<{width}}  {row['median_s']:>9.1f}  {row['min_s']:>7.1f}  "
            f"{row['ceiling_gflops']:>14.1f}"
        )
    print(
        f"{'total':<{width}}  {record['total_median_s']:>9.1f}  {'':>7}  "
        f"{record['ceiling_gflops_median']:>14.1f} (median)"
    )
    machine = record["machine"]
    print(
        f"\n{record['mode']} on {machine['CPU']} ({machine['CPU cores (usable)']} cores), "
        f"torch {machine['torch']}, OMP_NUM_THREADS={machine['OMP_NUM_THREADS']}, "
        f"EMERGENCE_THREADS={os.environ.get('EMERGENCE_THREADS', 'unset')}; "
        "matmul GFLOP/s: fp32 ceiling measured just before each chapter"
    )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chapters", default=None, help="comma list of chapter numbers")
    parser.add_argument("--repeat", type=int, default=1, help="executions per chapter")
    parser.add_argument("--full", action="store_true", help="time FULL instead of FAST")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT_S)
    parser.add_argument("--cells", type=int, default=5,
                        help="print each chapter's N slowest code cells (0: none)")
    parser.add_argument("--out", type=Path, default=REPO / "_build" / "bench_chapters.json")
    args = parser.parse_args(argv)
    try:
        record = bench(args.chapters, args.repeat, args.full, args.timeout)
    except BuildError as exc:
        print(f"chapters benchmark: error: {exc}", file=sys.stderr)
        return 2
    print_table(record)
    if args.cells > 0:
        print_cells(record, args.cells)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
