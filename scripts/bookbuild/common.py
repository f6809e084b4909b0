"""What every stage of the build shares: the repository root, errors, chapters, output paths."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EDITIONS = ("instructor", "student")
MODES = ("FAST", "FULL")


class BuildError(RuntimeError):
    """A problem that stops the build, with a message meant for the person running it."""


@dataclass(frozen=True)
class Chapter:
    """One chapter: ``docname`` is its toc entry, e.g. ``notebooks/01_scaling_paradox``."""

    docname: str

    @property
    def number(self) -> str:
        """The two-digit chapter number, e.g. ``"01"``."""
        return Path(self.docname).name[:2]

    @property
    def stem(self) -> str:
        """The file name without suffix, e.g. ``"01_scaling_paradox"``."""
        return Path(self.docname).name

    def source(self, root: Path = REPO) -> Path:
        """The jupytext source ``notebooks/NN_slug.py``."""
        return root / f"{self.docname}.py"


@dataclass(frozen=True)
class EditionPaths:
    """Where one edition's staged sources, HTML, timings and cached runs go."""

    edition: str
    root: Path = REPO

    @property
    def out(self) -> Path:
        """``_build`` for the instructor edition, ``_build/student`` for the student one."""
        base = self.root / "_build"
        return base if self.edition == "instructor" else base / self.edition

    @property
    def staging(self) -> Path:
        """The staged book source (mirrors the repository layout)."""
        return self.out / "staging"

    @property
    def executed(self) -> Path:
        """The chapters' working directory: the staged ``notebooks/`` folder."""
        return self.staging / "notebooks"

    @property
    def html(self) -> Path:
        """The final HTML site."""
        return self.out / "html"

    @property
    def timings(self) -> Path:
        """Per-chapter execution times of the last build, as JSON."""
        return self.out / "timings.json"

    @property
    def jb_work(self) -> Path:
        """Jupyter Book's own output folder (``<jb_work>/_build/html``, doctrees)."""
        return self.root / "_build" / ".jupyter-book" / self.edition

    @property
    def cache(self) -> Path:
        """Cached chapter runs of this edition, one folder per mode and chapter."""
        return self.root / "_build" / "cache" / self.edition


@dataclass
class ChapterRun:
    """The outcome of one chapter in a build: executed now, or reused from the cache.

    ``seconds`` is the execution time of the run that produced the notebook (for a reused
    chapter, that earlier run's); ``run_date`` (UTC, ISO) and ``run_commit`` say when and on
    which commit it was made, ``run_load`` the load averages when it started (other work on
    the machine slows a run); ``reason`` says why it was executed, or that it was reused.
    """

    chapter: Chapter
    seconds: float
    ok: bool
    error: str = ""
    widgets: int = 0
    reused: bool = False
    reason: str = ""
    run_date: str = ""
    run_commit: str = ""
    run_load: str = ""
    cpu_seconds: float | None = None


# One configuration for every chapter of a build, chosen by measurement (README, "Speed"): the
# kernels inherit these variables; one already set in the environment wins. The cache key and
# the status page record the values a build ran with.
BUILD_ENVIRONMENT = {
    # chapter 1's family through sweep.run: loky (one 1-thread worker per core) took 24.0 s
    # against 29.0 s serial on 2 threads (idle machine, 311 GFLOP/s; benchmarks/sweep.py)
    "EMERGENCE_SWEEP_BACKEND": "loky",
}


def build_environment() -> dict[str, str]:
    """Set the variables of ``BUILD_ENVIRONMENT`` that are not set yet; their values now."""
    for name, value in BUILD_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in BUILD_ENVIRONMENT}

