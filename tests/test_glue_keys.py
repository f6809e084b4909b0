"""Numbers in prose come from the run: every ``{glue...}`` role a chapter's prose uses names a key
that one of the chapter's own code cells stores with ``glue("key", ...)``.

The book build (``jupyter-book build -W``) also fails on a key missing from the executed
notebook; this test catches it before anything runs, and names the page and the key.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py"))
# {glue}`key`, {glue:text}`key:.2f`, {glue:any}`doc::key` ...: the key is what precedes the format
ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`(?:[^`:]*::)?([A-Za-z_][A-Za-z0-9_]*)(?::[^`]*)?`")
DIRECTIVE = re.compile(r"^[`:]{3,}\{glue(?::[a-z]+)?\}\s+(?:[^\s:]*::)?([A-Za-z_]\w*)", re.M)
STORED = re.compile(r"""\bglue\(\s*(?:name\s*=\s*)?["']([A-Za-z_][A-Za-z0-9_]*)["']""")


def used_and_stored(py: Path) -> tuple[set[str], set[str]]:
    """The glue keys a chapter's markdown uses and the ones its code cells store."""
    nb = jupytext.read(py)
    used: set[str] = set()
    stored: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            used |= set(ROLE.findall(cell.source)) | set(DIRECTIVE.findall(cell.source))
        elif cell.cell_type == "code":
            stored |= set(STORED.findall(cell.source))
    return used, stored


@pytest.mark.parametrize("py", SOURCES, ids=[p.stem for p in SOURCES])
def test_every_glue_key_in_prose_is_stored_by_the_chapter(py: Path) -> None:
    used, stored = used_and_stored(py)
    missing = sorted(used - stored)
    assert not missing, (f"{py.name}: prose uses glue key(s) {missing} that no code cell stores "
                         "with glue(\"key\", value)")


def test_the_patterns_find_roles_and_calls(tmp_path: Path) -> None:
    page = tmp_path / "99_demo.py"
    page.write_text('# %% [markdown]\n# The jump is {glue:text}`ratio:.1f`x and {glue}`step`.\n'
                    '# %%\nglue("ratio", 3.0, ".1f")\n')
    used, stored = used_and_stored(page)
    assert used == {"ratio", "step"}
    assert stored == {"ratio"}
