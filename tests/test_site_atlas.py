"""Browser test of the atlas page (``make book`` first; run with ``pytest -m site``): it renders
its figures and its table, and the status page lists it. Reuses ``tests/test_site.py``'s
served site (``SITE_DIR``), its ``server`` fixture and its Chromium settings."""

from __future__ import annotations

import asyncio
import json

import pytest
from test_site import CHROMIUM_ARGS, SITE, chromium_or_skip, server  # noqa: F401 - fixture

ATLAS = "notebooks/10_atlas"
STATUS = "book/status"



def _atlas_not_executed() -> bool:
    """True when the build's timings (``SITE/../timings.json``) list the atlas as not executed:
    a ``CHAPTERS=`` subset build stages it without outputs."""
    timings = SITE.parent / "timings.json"
    if not timings.is_file():
        return False
    return ATLAS in json.loads(timings.read_text()).get("not_executed", [])


pytestmark = [
    pytest.mark.site,
    pytest.mark.skipif(not (SITE / f"{ATLAS}.html").is_file(),
                       reason=f"no atlas page in {SITE} (run `make book` first)"),
    pytest.mark.skipif(_atlas_not_executed(),
                       reason="subset build: the atlas was not executed (no figures to check)"),
]

ATLAS_JS = """() => {
  const main = document.querySelector('main') || document.body;
  const images = Array.from(main.querySelectorAll('img'));
  const tables = Array.from(main.querySelectorAll('table'));
  const atlas = tables.find(t => /phenomenon/.test(t.innerText) && /steepness/.test(t.innerText));
  return {
    title: (main.querySelector('h1') || {}).innerText || '',
    images: images.length,
    decoded: images.filter(img => img.complete && img.naturalWidth > 0).length,
    rows: atlas ? atlas.querySelectorAll('tbody tr').length : -1,
    headers: atlas ? Array.from(atlas.querySelectorAll('thead th')).map(th => th.innerText) : [],
    text: main.innerText.slice(0, 200000),
  };
}"""


async def _read(executable: str, url: str, script: str) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()

            async def local_only(route: object) -> None:
                host = route.request.url.split("/")[2] if "://" in route.request.url else ""
                if host.startswith("127.0.0.1") or not host:
                    await route.continue_()
                else:
                    await route.abort()

            await page.route("**/*", local_only)
            response = await page.goto(url, wait_until="load", timeout=60_000)
            await page.evaluate("() => { for (const img of document.images) "
                                "{ img.loading = 'eager'; } "
                                "window.scrollTo(0, document.body.scrollHeight); }")
            await page.wait_for_load_state("networkidle", timeout=30_000)
            await page.wait_for_function(
                "() => Array.from(document.images).every(img => img.complete)", timeout=20_000)
            found = await page.evaluate(script)
            found["status"] = response.status if response else None
            return found
        finally:
            await browser.close()


@pytest.fixture(scope="module")
def atlas_page(server: str) -> dict:  # noqa: F811 - the imported fixture
    return asyncio.run(_read(chromium_or_skip(), f"{server}/{ATLAS}.html", ATLAS_JS))


def test_atlas_page_renders_figure_and_table(atlas_page: dict) -> None:
    assert atlas_page["status"] == 200
    assert "atlas of transitions" in atlas_page["title"].lower()
    # the curves figure and the steepness ranking, both decoded
    assert atlas_page["images"] >= 2 and atlas_page["decoded"] == atlas_page["images"]
    assert atlas_page["rows"] >= 1, "the atlas table (phenomenon ... steepness) is missing"
    for header in ("phenomenon", "midpoint", "steepness k", "predictable?"):
        assert header in atlas_page["headers"], atlas_page["headers"]
    assert "every chapter contributed its record" in atlas_page["text"]


def test_status_page_lists_the_atlas(server: str) -> None:  # noqa: F811
    found = asyncio.run(_read(chromium_or_skip(), f"{server}/{STATUS}.html",
                              "() => ({links: Array.from(document.querySelectorAll('a'))"
                              ".map(a => a.getAttribute('href') || ''),"
                              " text: document.body.innerText})"))
    assert found["status"] == 200
    assert any("10_atlas" in href for href in found["links"]), "no link to the atlas"
    assert "atlas of transitions" in found["text"].lower()
