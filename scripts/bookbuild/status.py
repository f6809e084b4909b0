"""The status page: the machine and software of the build, and each chapter's run.

Each chapter's row says whether it was executed in this build or reused from the build cache
(and then when and on which commit the reused run was made), so the times stay honest.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .common import REPO, Chapter, ChapterRun, build_environment

MODE_NOTES = {
    "FAST": "small settings, the default",
    "FULL": "full, paper-faithful settings",
}


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second (the format of every date the build writes)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def machine_info() -> dict[str, str]:
    """Describe the machine and software this build runs on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024**2:.1f} GiB"
                break
    except OSError:
        pass
    os_name = platform.platform()
    try:
        release = Path("/etc/os-release").read_text()
        pretty = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', release, re.M)
        if pretty:
            os_name = f"{pretty.group(1)} ({platform.system()} {platform.release()})"
    except OSError:
        pass

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPU": cpu,
        "CPU cores (usable)": str(usable),
        "RAM": ram,
        "OS": os_name,
        "Python": platform.python_version(),
        "torch": version("torch"),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "unset"),
        **build_environment(),
        "Load average at start (1/5/15 min)": load_average(),
        "git commit": git_commit(),
    }


def load_average() -> str:
    """The system load averages, which show whether other work shared the CPU."""
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def git_commit() -> str:
    """The short commit hash of the working tree (``+dirty`` if modified), or ``unknown``."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return f"{sha}+dirty" if dirty else sha
    except (OSError, subprocess.CalledProcessError):
        return "unknown"



def timings_record(
    runs: Iterable[ChapterRun],
    *,
    edition: str,
    full: bool,
    info: dict[str, str],
    not_executed: Iterable[Chapter] = (),
) -> dict[str, Any]:
    """The JSON document written to ``timings.json``.

    ``total_seconds`` adds every chapter's run time (reused ones included: the cost of a
    full build); ``executed_seconds`` only the chapters executed in this build.
    """
    runs = list(runs)
    cpu = [r.cpu_seconds for r in runs]
    return {
        "date": utc_now(),
        "mode": "FULL" if full else "FAST",
        "edition": edition,
        "machine": info,
        "total_seconds": round(sum(r.seconds for r in runs), 2),
        "executed_seconds": round(sum(r.seconds for r in runs if not r.reused), 2),
        "total_cpu_seconds": None if None in cpu else round(sum(cpu), 2),  # type: ignore[arg-type]
        "chapters": [
            {
                "chapter": r.chapter.docname,
                "seconds": round(r.seconds, 2),
                "cpu_seconds": None if r.cpu_seconds is None else round(r.cpu_seconds, 2),
                "ok": r.ok,
                "widget_views": r.widgets,
                "executed": not r.reused,
                "reason": r.reason,
                "run_date": r.run_date,
                "run_commit": r.run_commit,
                "load_average_at_start": r.run_load,
            }
            for r in runs
        ],
        "not_executed": [c.docname for c in not_executed],
    }


def run_note(row: dict[str, Any]) -> str:
    """The status page's "this build" cell: executed (and why), or which cached run was reused."""
    if row["executed"]:
        return f"executed ({row['reason']})" if row.get("reason") else "executed"
    date = str(row.get("run_date", "")).replace("T", " ").replace("+00:00", " UTC")
    return f"reused from the cache: run of {date}, commit `{row.get('run_commit', 'unknown')}`"


def status_markdown(record: dict[str, Any]) -> str:
    """Render the status page (MyST markdown) from a timings record."""
    rows = record["chapters"]
    executed = [r for r in rows if r["executed"]]
    reused = [r for r in rows if not r["executed"]]
    lines = [
        "# Build status",
        "",
        "This page is written by `scripts/build_book.py` every time the book is built. "
        "A chapter is either executed in this build, alone and in order, with papermill "
        "(the time includes starting the kernel), or reused from the build cache when its "
        "cached run is current: same chapter source, same library (`src/emergence_lib`), "
        "same mode, edition, software and executor, and the same files read from earlier "
        "chapters' runs (chapter 2 reads chapter 1's checkpoints). A reused chapter shows "
        "the time of the run that made it, and when and on which commit that run was made. "
        "The load average at a run's start tells whether other work shared the CPU. "
        "`make book FORCE=1`, and every CI build, executes every chapter.",
        "",
        f"- **Built**: {record['date']}",
        f"- **Mode**: {record['mode']} ({MODE_NOTES[record['mode']]})",
        f"- **Edition**: {record['edition']}",
        f"- **Executed in this build**: {len(executed)} chapter(s), "
        f"{record['executed_seconds']:.1f} s; **reused from the cache**: {len(reused)}",
        "",
        "## Chapter execution times",
        "",
        "The CPU time (the kernel's, user + system) barely depends on other work on the "
        "machine; the execution (wall) time does.",
        "",
        "| Chapter | Execution time (s) | CPU time (s) | Load average at its start (1/5/15 min) "
        "| This build |",
        "|:--|--:|--:|:--|:--|",
    ]

    def cpu_text(value: object) -> str:
        return "unknown" if value is None else f"{float(value):.1f}"  # type: ignore[arg-type]

    for row in rows:
        load = row.get("load_average_at_start") or "unknown"
        lines.append(
            f"| {{doc}}`../{row['chapter']}` | {row['seconds']:.1f} "
            f"| {cpu_text(row.get('cpu_seconds'))} | {load} | {run_note(row)} |"
        )
    total_cpu = record.get("total_cpu_seconds")
    lines += [
        f"| **Total** | **{record['total_seconds']:.1f}** | **{cpu_text(total_cpu)}** | | |", ""]
    if record.get("not_executed"):
        skipped = ", ".join(f"{{doc}}`../{d}`" for d in record["not_executed"])
        lines += [f"Not executed in this build (`CHAPTERS=` subset): {skipped}.", ""]
    lines += ["## Machine", ""]
    lines += ["| Item | Value |", "|:--|:--|"]
    lines += [f"| {key} | {value} |" for key, value in record["machine"].items()]
    return "\n".join(lines) + "\n"
