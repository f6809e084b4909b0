"""Execute one chapter with papermill and post-process the executed notebook for the site.

The chapter's jupytext source is read as a notebook (solution cells dropped for the student
edition), run by papermill on the kernel ``python3`` of this interpreter with the working
directory ``out_dir``, widget state stored, ``FAST = False`` injected only for FULL; the
injected cell is tagged ``remove-cell``, CDN stylesheet links are removed from the outputs and
tqdm progress bars (widgets, empty boxes on a static page) become their finished text.
"""

from __future__ import annotations

import html
import logging
import re
import resource
import time
from pathlib import Path
from typing import Any

from .common import REPO, BuildError, Chapter, ChapterRun, build_environment

DEFAULT_TIMEOUT_S = 900
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
PROGRESS_MODELS = {"FloatProgressModel", "IntProgressModel"}
BAR_WIDTH = 10  # characters of a finished text bar (tqdm's default in a notebook)
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
        from emergence_lib.course import is_solution

        nb.cells = [c for c in nb.cells if not is_solution(c)]
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
        if WIDGET_VIEW in out.get("data", {})
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


def widget_state(nb: Any) -> dict[str, Any]:
    """The stored widget models of a notebook by model id ({} when none were stored)."""
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {}) or {}


def progress_bar_text(model_id: str, state: dict[str, Any]) -> str | None:
    """The finished text of a tqdm notebook bar (an HBox of HTML, progress, HTML), else None.

    E.g. ``"train: 100%|██████████| 50/50 [00:01<00:00, 45.2it/s]"``, from the models' final
    values as stored after the cell ran.
    """
    box = state.get(model_id, {})
    if box.get("model_name") != "HBoxModel":
        return None
    children = [state.get(str(c).removeprefix("IPY_MODEL_"), {})
                for c in box.get("state", {}).get("children", [])]
    names = [c.get("model_name") for c in children]
    if len(children) != 3 or names[1] not in PROGRESS_MODELS or names[0] != "HTMLModel":
        return None
    left, bar, right = (c.get("state", {}) for c in children)
    total = float(bar.get("max") or 0)
    done = min(1.0, float(bar.get("value") or 0) / total) if total > 0 else 1.0
    filled = round(done * BAR_WIDTH)
    bar_text = "|" + "█" * filled + " " * (BAR_WIDTH - filled) + "|"

    def plain(text: object) -> str:
        return html.unescape(str(text or "")).replace("\u2007", " ").strip()

    return f"{plain(left.get('value'))}{bar_text} {plain(right.get('value'))}"


def progress_bars_as_text(nb: Any) -> int:
    """Replace each tqdm widget output by its finished text bar (text/plain); return how many.

    A static site has no kernel to drive the bar: the widget renders as an empty box. When no
    other widget view is left, the stored widget state is dropped as well.
    """
    state = widget_state(nb)
    replaced = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            text = progress_bar_text(str(view.get("model_id", "")), state) if view else None
            if text is not None:
                out["data"] = {"text/plain": text}
                replaced += 1
    if replaced and not count_widget_views(nb):
        nb.metadata.pop("widgets", None)
    return replaced


def finalize_executed(path: Path) -> int:
    """Post-process an executed notebook in place for the site.

    Tags papermill's injected-parameters cell ``remove-cell``, removes CDN Font Awesome
    links, turns progress bars into text and checks that widget state was stored. Returns the
    number of widget views left.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-cell" not in tags:
            cell.metadata["tags"] = [*tags, "remove-cell"]
    strip_cdn_font_awesome(nb)
    progress_bars_as_text(nb)
    views = count_widget_views(nb)
    if views and not widget_state(nb):
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


def children_cpu_seconds() -> float:
    """User + system CPU seconds of this process's finished child processes (the kernels)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


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
    start, cpu_start = time.perf_counter(), children_cpu_seconds()
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
    cpu = children_cpu_seconds() - cpu_start
    widgets = finalize_executed(target)
    return ChapterRun(chapter, seconds, ok=True, widgets=widgets, cpu_seconds=cpu)

