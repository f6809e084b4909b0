"""Execute one chapter with papermill and post-process the executed notebook for the site.

The chapter's jupytext source is read as a notebook (solution cells dropped for the student
edition), run by papermill on the kernel ``python3`` of this interpreter with the working
directory ``out_dir``, widget state stored, ``FAST = False`` injected only for FULL; the
injected cell is tagged ``remove-cell`` and CDN stylesheet links are removed from the outputs.
"""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path
from typing import Any

from .common import REPO, BuildError, Chapter, ChapterRun, build_environment

SOLUTION_TAG = "solution"
DEFAULT_TIMEOUT_S = 900
KERNEL_NAME = "python3"
CDN_FONT_AWESOME_RE = re.compile(
    r"<link[^>]*href=[\"']https?://[^\"']*font-awesome[^\"']*[\"'][^>]*>\s*", re.IGNORECASE
)


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
    build_environment()  # the kernel inherits the build's settings
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

