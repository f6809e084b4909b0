"""Execute every chapter notebook with papermill and build the Jupyter Book from a staged copy.

Pipeline (see README.md, "The pipeline"; each stage is a module of ``scripts/bookbuild/``):

1. ``toc``: check that ``_config.yml``'s repository URL equals
   ``emergence_lib.course.REPOSITORY_URL``; read the chapters (``notebooks/NN_slug.py``,
   jupytext percent) listed in ``_toc.yml``;
2. ``execute``: for the student edition, drop every cell tagged ``solution`` (before
   execution); execute each chapter with papermill (kernel ``python3`` of this interpreter,
   working directory = the staged ``notebooks/`` folder, widget state stored in the notebook),
   injecting ``FAST = False`` only for ``--full``; tag papermill's injected cell
   ``remove-cell`` so it does not show on the page;
3. ``cache``: a chapter whose cached run is current (same source, library, mode, edition,
   software, and the same files read from earlier chapters) is reused from ``_build/cache``
   instead of executed; ``--force`` (or the environment variable ``CI=true``) executes all;
4. ``status``: write the status page ``book/status.md`` (each chapter executed in this build
   or reused, with when and on which commit its run was made) and ``timings.json``;
5. ``site``: stage ``_config.yml``, ``_toc.yml``, ``book/`` and the executed
   ``notebooks/NN_slug.ipynb`` into ``_build/staging`` (student: ``_build/student/staging``)
   and run ``jupyter-book build`` on it with execution off and warnings as errors; the HTML
   lands in ``_build/html`` (student: ``_build/student/html``).

Usage::

    python scripts/build_book.py [--edition instructor|student] [--full] [--chapters 00,01]
                                 [--force]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bookbuild.common import EDITIONS, REPO, BuildError  # noqa: E402
from bookbuild.execute import DEFAULT_TIMEOUT_S  # noqa: E402
from bookbuild.pipeline import build  # noqa: E402


def env_flag(value: str | None, default: bool) -> bool:
    """Parse ``1/0/true/false/yes/no`` (as in ``make book FAST=0``)."""
    if value is None or value.strip() == "":
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise BuildError(f"expected a boolean such as 1 or 0, got {value!r}")


def running_in_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """True when ``CI`` is set to anything but empty/0/false/no/off (CI executes every chapter)."""
    value = environ.get("CI", "").strip().lower()
    return value not in {"", "0", "false", "no", "off"}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--edition", default=os.environ.get("EDITION", "instructor"), choices=EDITIONS
    )
    parser.add_argument(
        "--fast",
        default=os.environ.get("FAST"),
        help="1 (default): FAST settings; 0: inject FAST=False (FULL)",
    )
    parser.add_argument("--full", action="store_true", help="same as --fast 0")
    parser.add_argument(
        "--chapters",
        default=os.environ.get("CHAPTERS"),
        help="comma list of chapter numbers to build, e.g. 00,03 (default: all)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="execute every chapter even if its cached run is current (implied by CI=true)",
    )
    parser.add_argument(
        "--timeout", type=int, default=DEFAULT_TIMEOUT_S, help="per-cell timeout in seconds"
    )
    parser.add_argument(
        "--no-strict",
        action="store_true",
        help="do not turn Sphinx warnings into errors (debugging only)",
    )
    parser.add_argument(
        "--training-from",
        default=None,
        choices=EDITIONS,
        help="another edition built at the same time: load the models its chapters trained "
        "(from its cache entries, waiting for each) instead of training them again",
    )
    parser.add_argument("--root", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    try:
        full = args.full or not env_flag(args.fast, default=True)
        force = args.force or running_in_ci()
        if force and not args.force:
            print("CI is set: executing every chapter (as --force)")
        return build(
            args.edition,
            full=full,
            chapters_sel=args.chapters,
            timeout_s=args.timeout,
            strict=not args.no_strict,
            force=force,
            root=args.root,
            training_from=args.training_from,
        )
    except BuildError as exc:
        print(f"build_book: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
