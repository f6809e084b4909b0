"""Execute every chapter notebook with papermill and build the Jupyter Book from a staged copy.

Pipeline (see README.md, "The pipeline"):

1. check that ``_config.yml``'s repository URL equals ``emergence_lib.course.REPOSITORY_URL``;
2. read the chapters (``notebooks/NN_slug.py``, jupytext percent) listed in ``_toc.yml``;
3. for the student edition, drop every cell tagged ``solution`` (before execution);
4. execute each chapter with papermill (kernel ``python3`` of this interpreter, working
   directory = the staged ``notebooks/`` folder, widget state stored in the notebook),
   injecting ``FAST = False`` only for ``--full``; tag papermill's injected cell
   ``remove-cell`` so it does not show on the page;
5. stage ``_config.yml``, ``_toc.yml``, ``book/`` and the executed ``notebooks/NN_slug.ipynb``
   into ``_build/staging`` (student: ``_build/student/staging``), write the status page
   ``book/status.md`` and ``timings.json``;
6. run ``jupyter-book build`` on the staged copy with execution off and warnings as errors;
   the HTML lands in ``_build/html`` (student: ``_build/student/html``).

Usage::

    python scripts/build_book.py [--edition instructor|student] [--full] [--chapters 00,01]
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import importlib.metadata
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CHAPTER_RE = re.compile(r"^notebooks/(\d\d)_[a-z0-9_]+$")
SOLUTION_TAG = "solution"
EDITIONS = ("instructor", "student")
DEFAULT_TIMEOUT_S = 900
KERNEL_NAME = "python3"
CDN_FONT_AWESOME_RE = re.compile(
    r"<link[^>]*href=[\"']https?://[^\"']*font-awesome[^\"']*[\"'][^>]*>\s*", re.IGNORECASE
)
MODE_NOTES = {
    "FAST": "small settings, the default",
    "FULL": "full, paper-faithful settings",
}


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
    """Where one edition's staged sources, HTML and timings go."""

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


@dataclass
class ChapterRun:
    """The outcome of executing one chapter."""

    chapter: Chapter
    seconds: float
    ok: bool
    error: str = ""
    widgets: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------- config & toc


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, with a clear error if it is missing or malformed."""
    if not path.is_file():
        raise BuildError(f"{path} not found")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise BuildError(f"{path} does not contain a YAML mapping")
    return data


def iter_toc_files(node: Any) -> Iterator[str]:
    """Yield every ``file:`` entry of a jb-book ``_toc.yml`` (root included), in order."""
    if isinstance(node, dict):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                yield node[key]
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key) or []:
                yield from iter_toc_files(child)
    elif isinstance(node, list):
        for child in node:
            yield from iter_toc_files(child)


def toc_chapters(toc: dict[str, Any]) -> list[Chapter]:
    """The chapter notebooks (``notebooks/NN_slug``) listed in the toc, in toc order."""
    files = [re.sub(r"\.(py|ipynb|md)$", "", f) for f in iter_toc_files(toc)]
    return [Chapter(f) for f in files if CHAPTER_RE.match(f)]


def select_chapters(chapters: list[Chapter], selection: str | None) -> list[Chapter]:
    """Keep the chapters whose number (or stem) is in a comma list such as ``"00,03"``."""
    if not selection or not selection.strip():
        return chapters
    wanted = {s.strip() for s in selection.split(",") if s.strip()}
    chosen = [c for c in chapters if c.number in wanted or c.stem in wanted]
    unknown = wanted - {c.number for c in chosen} - {c.stem for c in chosen}
    if unknown:
        known = ", ".join(c.number for c in chapters)
        raise BuildError(f"CHAPTERS={selection!r}: no chapter {sorted(unknown)} (toc has {known})")
    return chosen


def check_repository_url(config: dict[str, Any]) -> str:
    """Fail unless ``_config.yml``'s repository URL equals the library's ``REPOSITORY_URL``."""
    try:
        from emergence_lib import course
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BuildError(
            f"cannot import emergence_lib.course ({exc}); run `make install` first"
        ) from exc
    url = str((config.get("repository") or {}).get("url", ""))
    if url.rstrip("/") != str(course.REPOSITORY_URL).rstrip("/"):
        raise BuildError(
            "repository URL mismatch: _config.yml has "
            f"{url!r} but emergence_lib.course.REPOSITORY_URL is {course.REPOSITORY_URL!r}. "
            "They must be equal (the Colab links and the install cell both use it)."
        )
    return url


# --------------------------------------------------------------------------- notebooks


def read_chapter(chapter: Chapter, edition: str, root: Path = REPO) -> Any:
    """Read a chapter's jupytext source as a notebook; drop solutions for the student edition."""
    import jupytext

    src = chapter.source(root)
    if not src.is_file():
        raise BuildError(f"{chapter.docname} is in _toc.yml but {src} does not exist")
    nb = jupytext.read(src)
    if edition == "student":
        nb.cells = [c for c in nb.cells if SOLUTION_TAG not in c.metadata.get("tags", [])]
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata.pop("jupytext", None)
    return nb


def count_widget_views(nb: Any) -> int:
    """How many outputs of an executed notebook are ipywidget views."""
    return sum(
        1
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "application/vnd.jupyter.widget-view+json" in out.get("data", {})
    )


def strip_cdn_font_awesome(nb: Any) -> int:
    """Remove Font Awesome stylesheet links to a CDN from HTML outputs; return how many.

    matplotlib's ``FuncAnimation.to_jshtml()`` links Font Awesome 4 from a CDN for its
    player buttons. The site must not leave its host, and the book theme already ships
    Font Awesome (its script turns the ``<i class="fa fa-play">`` icons into SVG).
    """
    removed = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            html = data.get("text/html")
            if html is None:
                continue
            text = "".join(html) if isinstance(html, list) else html
            new, n = CDN_FONT_AWESOME_RE.subn("", text)
            if n:
                data["text/html"] = new
                removed += n
    return removed


def finalize_executed(path: Path) -> int:
    """Post-process an executed notebook in place for the site.

    Tags papermill's injected-parameters cell ``remove-cell``, removes CDN Font Awesome
    links, and checks that widget state was stored. Returns the number of widget views.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    strip_cdn_font_awesome(nb)
    views = count_widget_views(nb)
    state = nb.metadata.get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    if views and not state.get("state"):
        raise BuildError(
            f"{path.name}: {views} widget output(s) but no widget state was stored; "
            "the widgets would not render on the site"
        )
    nbformat.write(nb, path)
    return views


POLL_SLICE_S = 1.0
ENGINE_NAME = "course-nbclient"


def _poll_in_slices(channel: Any, slice_s: float = POLL_SLICE_S) -> None:
    """Make ``channel.get_msg(timeout)`` wait in short slices instead of one long poll.

    Under CPU load, a long ZeroMQ poll on the kernel's shell channel sometimes misses the
    wake-up for a message that has already arrived (seen here with ipywidgets cells: the
    execute reply was only picked up when the 900 s cell timeout expired; see also
    jupyter/nbclient#312). Each new slice re-checks the socket, so a missed wake-up costs
    at most ``slice_s`` seconds. Timeout semantics are unchanged (``None`` = wait forever).
    """
    from queue import Empty

    original = channel.get_msg

    async def get_msg(timeout: float | None = None) -> dict[str, Any]:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            step = slice_s if remaining is None else min(slice_s, remaining)
            try:
                return await original(timeout=step)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    channel.get_msg = get_msg


def register_engine() -> str:
    """Register (once) a papermill engine whose kernel client polls in slices; return its name."""
    from nbclient.util import run_sync
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE_NAME in papermill_engines._engines:
        return ENGINE_NAME

    class SlicedPollClient(PapermillNotebookClient):
        """Papermill's notebook client with :func:`_poll_in_slices` on shell and iopub."""

        async def async_start_new_kernel_client(self) -> Any:
            kc = await super().async_start_new_kernel_client()
            _poll_in_slices(kc.shell_channel)
            _poll_in_slices(kc.iopub_channel)
            return kc

        start_new_kernel_client = run_sync(async_start_new_kernel_client)

    class SlicedPollEngine(NBClientEngine):
        """papermill's nbclient engine, executing with :class:`SlicedPollClient`."""

        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: int = 60,
            execution_timeout: int | None = None,
            **kwargs: Any,
        ) -> Any:
            for unused in ("input_path", "timeout", "startup_timeout"):
                kwargs.pop(unused, None)
            client = SlicedPollClient(
                nb_man,
                kernel_name=kernel_name,
                timeout=execution_timeout,
                startup_timeout=start_timeout,
                log=logging.getLogger("papermill"),
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
                **kwargs,
            )
            return client.execute()

    papermill_engines.register(ENGINE_NAME, SlicedPollEngine)
    return ENGINE_NAME


def execute_chapter(
    chapter: Chapter,
    out_dir: Path,
    *,
    edition: str = "instructor",
    full: bool = False,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    root: Path = REPO,
) -> ChapterRun:
    """Execute one chapter with papermill into ``out_dir/NN_slug.ipynb`` and time it."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    nb = read_chapter(chapter, edition, root)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"{chapter.stem}.ipynb"
    parameters = {"FAST": False} if full else {}
    start = time.perf_counter()
    try:
        papermill.execute_notebook(
            nb,
            str(target),
            engine_name=register_engine(),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            cwd=str(out_dir),
            execution_timeout=timeout_s,
            progress_bar=False,
            log_output=False,
            store_widget_state=True,
        )
    except PapermillExecutionError as exc:
        seconds = time.perf_counter() - start
        trace = "\n".join(exc.traceback[-12:]) if exc.traceback else ""
        trace = re.sub(r"\x1b\[[0-9;]*m", "", trace)
        msg = f"cell {exc.exec_count} raised {exc.ename}: {exc.evalue}\n{trace}"
        return ChapterRun(chapter, seconds, ok=False, error=msg)
    except Exception as exc:  # kernel died, timeout, ...
        seconds = time.perf_counter() - start
        return ChapterRun(chapter, seconds, ok=False, error=f"{type(exc).__name__}: {exc}")
    seconds = time.perf_counter() - start
    widgets = finalize_executed(target)
    return ChapterRun(chapter, seconds, ok=True, widgets=widgets)


# --------------------------------------------------------------------------- status page


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
    """The JSON document written to ``timings.json``."""
    runs = list(runs)
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "mode": "FULL" if full else "FAST",
        "edition": edition,
        "machine": info,
        "total_seconds": round(sum(r.seconds for r in runs), 2),
        "chapters": [
            {
                "chapter": r.chapter.docname,
                "seconds": round(r.seconds, 2),
                "ok": r.ok,
                "widget_views": r.widgets,
            }
            for r in runs
        ],
        "not_executed": [c.docname for c in not_executed],
    }


def status_markdown(record: dict[str, Any]) -> str:
    """Render the status page (MyST markdown) from a timings record."""
    lines = [
        "# Build status",
        "",
        "This page is written by `scripts/build_book.py` every time the book is built. "
        "Each chapter was executed once, alone and in order, with papermill; the time "
        "includes starting the kernel.",
        "",
        f"- **Built**: {record['date']}",
        f"- **Mode**: {record['mode']} ({MODE_NOTES[record['mode']]})",
        f"- **Edition**: {record['edition']}",
        "",
        "## Chapter execution times",
        "",
        "| Chapter | Execution time (s) |",
        "|:--|--:|",
    ]
    for row in record["chapters"]:
        lines.append(f"| {{doc}}`../{row['chapter']}` | {row['seconds']:.1f} |")
    lines += [f"| **Total** | **{record['total_seconds']:.1f}** |", ""]
    if record.get("not_executed"):
        skipped = ", ".join(f"{{doc}}`../{d}`" for d in record["not_executed"])
        lines += [f"Not executed in this build (`CHAPTERS=` subset): {skipped}.", ""]
    lines += ["## Machine", ""]
    lines += ["| Item | Value |", "|:--|:--|"]
    lines += [f"| {key} | {value} |" for key, value in record["machine"].items()]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- staging & build


def stage_unexecuted(chapter: Chapter, out_dir: Path, *, edition: str, root: Path = REPO) -> None:
    """Stage a chapter left out of a ``CHAPTERS=`` subset build: inputs only, with a note.

    Keeping the page (rather than dropping it from the toc) keeps cross-references valid,
    so the subset build stays warning-free.
    """
    import nbformat

    nb = read_chapter(chapter, edition, root)
    note = nbformat.v4.new_markdown_cell(
        "```{note}\nThis chapter was not executed in this build (a `CHAPTERS=` subset build); "
        "run `make book` for its outputs.\n```"
    )
    nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, note)
    nbformat.write(nb, out_dir / f"{chapter.stem}.ipynb")


def stage_sources(paths: EditionPaths, config: dict[str, Any], toc: dict[str, Any]) -> None:
    """Create the staged book: config (edition-adjusted), toc, ``book/``."""
    staging = paths.staging
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "notebooks").mkdir(parents=True)
    shutil.copytree(paths.root / "book", staging / "book")

    staged_config = copy.deepcopy(config)
    staged_config.setdefault("execute", {})["execute_notebooks"] = "off"
    sphinx_config = staged_config.setdefault("sphinx", {}).setdefault("config", {})
    if paths.edition == "student":
        staged_config["title"] = f"{config.get('title', 'Book')} (student edition)"
        sphinx_config["hide_solutions"] = True
    else:
        sphinx_config["hide_solutions"] = False
    (staging / "_config.yml").write_text(yaml.safe_dump(staged_config, sort_keys=False))

    (staging / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))


def jupyter_book_build(paths: EditionPaths, *, strict: bool = True) -> None:
    """Run ``jupyter-book build`` on the staged copy and move the HTML into place."""
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(paths.staging)]
    cmd += ["--path-output", str(paths.jb_work), "--all"]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    print("$", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=paths.root)
    built = paths.jb_work / "_build" / "html"
    if result.returncode != 0:
        raise BuildError(
            f"jupyter-book build failed (exit {result.returncode}); see the Sphinx warnings above"
        )
    if paths.html.exists():
        shutil.rmtree(paths.html)
    paths.html.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(built), str(paths.html))


def build(
    edition: str = "instructor",
    *,
    full: bool = False,
    chapters_sel: str | None = None,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    strict: bool = True,
    root: Path = REPO,
) -> int:
    """Run the whole pipeline; return a process exit code."""
    if edition not in EDITIONS:
        raise BuildError(f"EDITION must be one of {EDITIONS}, not {edition!r}")
    paths = EditionPaths(edition, root)
    config = load_yaml(root / "_config.yml")
    toc = load_yaml(root / "_toc.yml")
    url = check_repository_url(config)
    all_chapters = toc_chapters(toc)
    chapters = select_chapters(all_chapters, chapters_sel)
    mode = "FULL" if full else "FAST"
    print(f"Building the {edition} edition ({mode}) of {len(chapters)} chapter(s); repo {url}")

    stage_sources(paths, config, toc)
    for chapter in all_chapters:
        if chapter not in chapters:
            stage_unexecuted(chapter, paths.staging / "notebooks", edition=edition, root=root)
    runs: list[ChapterRun] = []
    for chapter in chapters:
        print(f"[execute] {chapter.docname} ...", flush=True)
        run = execute_chapter(
            chapter,
            paths.staging / "notebooks",
            edition=edition,
            full=full,
            timeout_s=timeout_s,
            root=root,
        )
        state = "ok" if run.ok else "FAILED"
        print(f"[execute] {chapter.docname}: {state} in {run.seconds:.1f} s", flush=True)
        if not run.ok:
            print(run.error, file=sys.stderr, flush=True)
        runs.append(run)

    skipped = [c for c in all_chapters if c not in chapters]
    record = timings_record(
        runs, edition=edition, full=full, info=machine_info(), not_executed=skipped
    )
    paths.out.mkdir(parents=True, exist_ok=True)
    paths.timings.write_text(json.dumps(record, indent=2) + "\n")
    failed = [r for r in runs if not r.ok]
    if failed:
        names = ", ".join(r.chapter.docname for r in failed)
        print(
            f"\n{len(failed)} chapter(s) failed to execute: {names}\n"
            f"The executed notebooks (with the traceback) are in {paths.staging / 'notebooks'}.",
            file=sys.stderr,
        )
        return 1
    (paths.staging / "book" / "status.md").write_text(status_markdown(record))

    start = time.perf_counter()
    jupyter_book_build(paths, strict=strict)
    print(f"[site] built in {time.perf_counter() - start:.1f} s")
    total = sum(r.seconds for r in runs)
    print(f"\nHTML: {paths.html / 'index.html'}  (chapters executed in {total:.1f} s)")
    print(f"Timings: {paths.timings}")
    return 0


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
        "--timeout", type=int, default=DEFAULT_TIMEOUT_S, help="per-cell timeout in seconds"
    )
    parser.add_argument(
        "--no-strict",
        action="store_true",
        help="do not turn Sphinx warnings into errors (debugging only)",
    )
    parser.add_argument("--root", type=Path, default=REPO, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    venv_bin = str(Path(sys.executable).parent)
    if venv_bin not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = venv_bin + os.pathsep + os.environ.get("PATH", "")
    try:
        full = args.full or not env_flag(args.fast, default=True)
        return build(
            args.edition,
            full=full,
            chapters_sel=args.chapters,
            timeout_s=args.timeout,
            strict=not args.no_strict,
            root=args.root,
        )
    except BuildError as exc:
        print(f"build_book: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
