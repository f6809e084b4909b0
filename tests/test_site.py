"""Browser tests of the built site (``make book`` first; run with ``pytest -m site``).

Every page of ``_toc.yml`` is opened once, in one headless Chromium (Playwright, the system
``chromium``) shared by all tests, served by one ``http.server`` on 127.0.0.1; the pages load
``SITE_TEST_PARALLEL`` (default 4) at a time, each in its own browser context. Each page
must load with HTTP 200, show all its images, render its widgets, log no console errors
beyond the allow-list below, make no request to any other host, and (chapters) link to its
notebook on Colab: ``notebooks/NN_slug.ipynb`` in the instructor edition, the solution-free
``notebooks/student/NN_slug.ipynb`` in the student edition. Live ipywidgets (dead without a
kernel) must not show; every static frame slider is moved and must change its figure. The
tracks page must list every exercise of the chapter sources.

``SITE_DIR`` selects another build, e.g. ``SITE_DIR=_build/student/html pytest -m site``; a
site under a ``student`` folder is tested as the student edition.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from emergence_lib.course import STUDENT_NOTEBOOKS, is_solution

# Console messages (type "error") that are not failures. Each entry: (regex, reason).
# Empty on purpose: every error seen so far had a real cause and was fixed at the source
# (duplicated sphinx-thebe script, theme colour mode, CDN Font Awesome in matplotlib's
# animation player, widget fonts resolved against the page folder, MathJax from a CDN,
# MathJax 2 calls from widget labels). Add an entry only with a reason that says why the
# message is harmless, e.g.
#   (r"favicon\.ico", "the browser asks for /favicon.ico, which the book does not ship"),
CONSOLE_ERROR_ALLOW_LIST: list[tuple[str, str]] = []

REPO = Path(__file__).resolve().parents[1]
SITE = Path(os.environ.get("SITE_DIR", REPO / "_build" / "html"))
if not SITE.is_absolute():
    SITE = REPO / SITE
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1"}
LOCAL_SCHEMES = {"data", "blob", "about", "javascript"}
CHAPTER_RE = re.compile(r"^notebooks/\d\d_[a-z0-9_]+$")
EDITION = "student" if "student" in SITE.parts else "instructor"
LIVE_WIDGET_SELECTOR = ".widget-slider, .widget-dropdown, .widget-interact"
LIVE_WIDGET_NOTE = ".live-widget-note"  # scripts/bookbuild/decorate.py LIVE_WIDGET_CLASS
# Pages opened at once: page loads mostly wait (network idle, rendering), so they overlap.
PARALLEL = int(os.environ.get("SITE_TEST_PARALLEL", "4"))

pytestmark = [
    pytest.mark.site,
    pytest.mark.skipif(
        not (SITE / "index.html").is_file(),
        reason=f"no built site at {SITE} (run `make book` first)",
    ),
]


def toc_docnames() -> list[str]:
    """Every document of ``_toc.yml`` (root first), as docnames without suffix."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    names: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    names.append(re.sub(r"\.(md|ipynb|py)$", "", node[key]))
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key) or [])
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(toc)
    return names


def built_docnames() -> list[str]:
    """The toc documents present in the built site (a CHAPTERS= subset build has fewer)."""
    return [d for d in toc_docnames() if (SITE / f"{d}.html").is_file()]


def repository_slug() -> str:
    """``org/repo`` from ``_config.yml``'s repository URL."""
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    path = urlparse(config["repository"]["url"]).path.strip("/")
    return path.removesuffix(".git")


@dataclass
class PageReport:
    """What happened when one page was opened."""

    url: str
    status: int | None = None
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    broken_images: list[str] = field(default_factory=list)
    colab_links: list[str] = field(default_factory=list)
    live_widgets: int = 0
    live_widget_notes: int = 0
    fallback_sliders: list[dict[str, object]] = field(default_factory=list)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files without logging every request."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Stay quiet."""


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """Serve the site on 127.0.0.1 (free port) in a thread; yield the base URL."""
    handler = functools.partial(QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def chromium_or_skip() -> str:
    """The Chromium executable; skip (fail under CI) when it is not installed."""
    if not shutil.which(CHROMIUM):
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium, or set CHROMIUM)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


# Playwright's visibility rule (non-empty box, not hidden by CSS), for every match at once.
COUNT_VISIBLE_JS = """(selector) => Array.from(document.querySelectorAll(selector)).filter(el => {
  if (el.checkVisibility && !el.checkVisibility()) return false;
  if (getComputedStyle(el).visibility !== 'visible') return false;
  const r = el.getBoundingClientRect();
  return r.width > 0 && r.height > 0;
}).length"""
BROKEN_IMAGES_JS = (
    "() => Array.from(document.images)"
    ".filter(img => img.naturalWidth === 0)"
    ".map(img => (img.currentSrc || img.src || img.outerHTML).slice(0, 120))"
)
COLAB_LINKS_JS = (
    "() => Array.from(document.querySelectorAll('a[href*=\"colab.research.google.com\"]'))"
    ".map(a => a.getAttribute('href') || '')"
)

# Move every static frame slider (matplotlib's jshtml animation) to its other end, as a drag
# does (an input event), and report whether the figure's image changed.
MOVE_FALLBACK_SLIDERS_JS = """async () => {
  const moved = [];
  for (const slider of document.querySelectorAll('.animation input.anim-slider')) {
    const img = slider.closest('.animation').querySelector('img');
    const before = img ? img.src : '';
    const max = parseInt(slider.max), value = parseInt(slider.value);
    slider.value = String(value === max ? 0 : max);
    slider.dispatchEvent(new Event('input', {bubbles: true}));
    await new Promise(resolve => setTimeout(resolve, 50));
    moved.push({id: slider.id, frames: max + 1, changed: !!img && img.src !== before});
  }
  return moved;
}"""


NAVIGATED = "Execution context was destroyed"  # Playwright, when a navigation replaced the page
NAVIGATION_RETRIES = 3


async def inspect(page: Any, report: PageReport) -> None:
    """Fill ``report`` from the loaded page: images, Colab links, widgets, fallback sliders."""
    await page.wait_for_load_state("networkidle", timeout=30_000)
    # Bring every image into view (lazy loading), then check that it decoded.
    await page.evaluate(
        "() => { for (const img of document.images) { img.loading = 'eager'; } "
        "window.scrollTo(0, document.body.scrollHeight); }"
    )
    await page.wait_for_load_state("networkidle", timeout=30_000)
    await page.wait_for_function(
        "() => Array.from(document.images).every(img => img.complete)", timeout=20_000
    )
    report.broken_images = await page.evaluate(BROKEN_IMAGES_JS)
    report.colab_links = await page.evaluate(COLAB_LINKS_JS)
    report.live_widgets = await page.evaluate(COUNT_VISIBLE_JS, LIVE_WIDGET_SELECTOR)
    report.live_widget_notes = await page.locator(LIVE_WIDGET_NOTE).count()
    report.fallback_sliders = await page.evaluate(MOVE_FALLBACK_SLIDERS_JS)


async def visit(browser: object, url: str) -> PageReport:
    """Open ``url`` in a fresh browser context and collect a :class:`PageReport`."""
    report = PageReport(url)
    context = await browser.new_context()  # type: ignore[attr-defined]
    page = await context.new_page()

    async def on_route(route: object) -> None:
        request_url = route.request.url  # type: ignore[attr-defined]
        parsed = urlparse(request_url)
        if parsed.scheme in LOCAL_SCHEMES or parsed.hostname in LOCAL_HOSTS:
            await route.continue_()  # type: ignore[attr-defined]
        else:
            report.external_requests.append(request_url)
            await route.abort()  # type: ignore[attr-defined]

    await page.route("**/*", on_route)
    page.on(
        "console",
        lambda msg: (
            report.console_errors.append(f"{msg.text} @ {msg.location.get('url', '')}")
            if msg.type == "error"
            else None
        ),
    )
    page.on("pageerror", lambda exc: report.page_errors.append(str(exc)))
    page.on(
        "requestfailed",
        lambda req: (
            report.failed_requests.append(f"{req.url} ({req.failure})")
            if urlparse(req.url).hostname in LOCAL_HOSTS
            else None
        ),
    )
    try:
        response = await page.goto(url, wait_until="load", timeout=60_000)
        report.status = response.status if response else None
        for attempt in range(NAVIGATION_RETRIES):
            try:
                await inspect(page, report)
                break
            except Exception as exc:  # the site root's redirect replaced the page meanwhile
                if NAVIGATED not in str(exc) or attempt == NAVIGATION_RETRIES - 1:
                    raise
    finally:
        await context.close()
    return report


async def visit_all(
    executable: str, server: str, docnames: list[str], parallel: int
) -> dict[str, PageReport | str]:
    """Open every page in one browser, ``parallel`` at a time; a page that could not be
    opened maps to the error text instead of a report."""
    from playwright.async_api import async_playwright

    limit = asyncio.Semaphore(parallel)

    async def one(browser: object, docname: str) -> PageReport | str:
        async with limit:
            try:
                return await visit(browser, f"{server}/{docname}.html")
            except Exception as exc:  # noqa: BLE001 - the page's tests fail with this text
                return f"{docname}: could not be opened: {type(exc).__name__}: {exc}"

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            results = await asyncio.gather(*(one(browser, d) for d in docnames))
        finally:
            await browser.close()
    return dict(zip(docnames, results, strict=True))


class _Reports(dict):
    """Page reports by docname; a page that could not be opened fails its tests."""

    def __getitem__(self, docname: str) -> PageReport:
        report = super().__getitem__(docname)
        if isinstance(report, str):
            pytest.fail(report)
        return report


@pytest.fixture(scope="session")
def reports(server: str) -> dict[str, PageReport]:
    """Open every built toc page (and ``index``) once, in one browser, several at a time."""
    executable = chromium_or_skip()
    return _Reports(asyncio.run(visit_all(executable, server, ["index", *DOCNAMES], PARALLEL)))


DOCNAMES = built_docnames() if (SITE / "index.html").is_file() else []
CHAPTERS = [d for d in DOCNAMES if CHAPTER_RE.match(d)]


def test_every_toc_page_was_built() -> None:
    """All toc documents are in the site, unless it is a CHAPTERS= subset build."""
    missing = [d for d in toc_docnames() if not (SITE / f"{d}.html").is_file()]
    non_chapters = [d for d in missing if not CHAPTER_RE.match(d)]
    assert not non_chapters, f"pages missing from {SITE}: {non_chapters}"
    if missing:
        pytest.skip(f"subset build: chapters {missing} were not built")


def test_index_redirects_to_intro(reports: dict[str, PageReport]) -> None:
    """The site root lands on the intro page."""
    report = reports["index"]
    assert report.status == 200
    assert not report.external_requests, report.external_requests


@pytest.mark.parametrize("docname", DOCNAMES)
def test_page_loads(reports: dict[str, PageReport], docname: str) -> None:
    """HTTP 200, no uncaught JavaScript errors, no failed local requests."""
    report = reports[docname]
    assert report.status == 200, f"{docname}: HTTP {report.status}"
    assert not report.page_errors, f"{docname}: uncaught errors {report.page_errors}"
    assert not report.failed_requests, f"{docname}: failed requests {report.failed_requests}"


@pytest.mark.parametrize("docname", DOCNAMES)
def test_no_request_leaves_localhost(reports: dict[str, PageReport], docname: str) -> None:
    """The site is self-contained: no CDN, no fonts, no analytics."""
    report = reports[docname]
    assert not report.external_requests, f"{docname} requested {report.external_requests}"


@pytest.mark.parametrize("docname", DOCNAMES)
def test_no_console_errors(reports: dict[str, PageReport], docname: str) -> None:
    """No console error other than the documented allow-list."""
    errors = [
        e
        for e in reports[docname].console_errors
        if not any(re.search(pattern, e) for pattern, _ in CONSOLE_ERROR_ALLOW_LIST)
    ]
    assert not errors, f"{docname}: console errors {errors}"


@pytest.mark.parametrize("docname", DOCNAMES)
def test_images_load(reports: dict[str, PageReport], docname: str) -> None:
    """Every <img> decoded (naturalWidth > 0)."""
    report = reports[docname]
    assert not report.broken_images, f"{docname}: images not loaded {report.broken_images}"


def colab_target(docname: str) -> str:
    """The notebook a chapter's Colab button must open: the student one in that edition."""
    if EDITION == "student":
        return f"{STUDENT_NOTEBOOKS}/{Path(docname).name}.ipynb"
    return f"{docname}.ipynb"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_colab_link(reports: dict[str, PageReport], docname: str) -> None:
    """The launch button opens the committed notebook on Colab (student: without solutions)."""
    target = colab_target(docname)
    expected = f"https://colab.research.google.com/github/{repository_slug()}/blob/main/{target}"
    links = reports[docname].colab_links
    assert expected in links, f"{docname}: Colab links {links}, expected {expected}"
    assert (REPO / target).is_file(), f"{target} is not in the repository (make sync)"
    if EDITION == "student":
        cells = json.loads((REPO / target).read_text(encoding="utf-8"))["cells"]
        leaked = [i for i, cell in enumerate(cells) if is_solution(cell)]
        assert not leaked, f"{target}: cells {leaked} are solutions, opened by the student edition"


@pytest.mark.parametrize("docname", CHAPTERS)
def test_live_widgets_replaced_by_fallback(reports: dict[str, PageReport], docname: str) -> None:
    """No live widget shows (it would do nothing without a kernel); each page that had one says
    so and carries a static fallback whose sliders change the figure when moved."""
    report = reports[docname]
    assert report.live_widgets == 0, f"{docname}: {report.live_widgets} live widget(s) visible"
    if report.live_widget_notes:
        assert report.fallback_sliders, f"{docname}: a live widget was hidden, no fallback shows"
    dead = [s for s in report.fallback_sliders if not s["changed"]]
    assert not dead, f"{docname}: moving these frame sliders left the figure unchanged: {dead}"


def test_tracks_page_lists_every_exercise() -> None:
    """book/tracks links every exercise label found in the chapter sources."""
    sys.path.insert(0, str(REPO / "scripts"))
    from bookbuild.toc import load_yaml, toc_chapters
    from bookbuild.tracks import read_exercises

    page = SITE / "book" / "tracks.html"
    assert page.is_file(), "book/tracks.html was not built"
    html = page.read_text(encoding="utf-8")
    labels = [e.label for e in read_exercises(toc_chapters(load_yaml(REPO / "_toc.yml")), REPO)]
    assert labels, "no exercise found in the chapter sources"
    missing = [label for label in labels if f"#{label}\"" not in html]
    assert not missing, f"book/tracks.html does not link {missing}"
