"""Chapter notebooks: jupytext pairs in sync, clean ``.ipynb``, conventions the build relies on.

Fix a failure here with ``make sync`` (``scripts/sync_notebooks.py``), except the
parameters-cell, toc and solution-tag checks, which need an edit of the ``.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import jupytext
import pytest
import yaml

from emergence_lib.course import (
    COLAB_INSTALL_CELL,
    INSTALL_CELL_TAG,
    STUDENT_NOTEBOOKS,
    is_solution,
)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
SOURCES = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
IDS = [p.stem for p in SOURCES]
SOLUTION_START = re.compile(r"```\{solution-start\}\s*(\S+)")
SOLUTION_END = re.compile(r"```\{solution-end\}")
EXERCISE_LABEL = re.compile(r"^:label:\s*(\S+)", re.M)
EXERCISE_START = re.compile(r"^(?::::+|```+)\{exercise\}", re.M)


def signature(nb: object) -> list[tuple[str, str, tuple[str, ...]]]:
    """Type, source and tags of every cell: what must agree between a pair."""
    return [
        (c.cell_type, c.source, tuple(c.get("metadata", {}).get("tags", [])))
        for c in nb.cells  # type: ignore[attr-defined]
    ]


def toc_files() -> set[str]:
    """Every ``file:`` entry of ``_toc.yml`` (without suffix)."""
    found: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key in ("root", "file"):
                if isinstance(node.get(key), str):
                    found.add(re.sub(r"\.(py|ipynb|md)$", "", node[key]))
            for key in ("parts", "chapters", "sections"):
                walk(node.get(key) or [])
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(yaml.safe_load((REPO / "_toc.yml").read_text()))
    return found


def tags(cell: object) -> list[str]:
    """A cell's tags."""
    return list(cell.get("metadata", {}).get("tags", []))  # type: ignore[attr-defined]


def test_there_are_chapters() -> None:
    """The glob finds the chapter sources (guards against a renamed folder)."""
    assert SOURCES, f"no notebooks/NN_*.py found in {NOTEBOOKS}"


def test_toc_chapters_have_sources() -> None:
    """Every chapter in the toc has its jupytext source."""
    listed = sorted(f for f in toc_files() if f.startswith("notebooks/"))
    missing = [f for f in listed if not (REPO / f"{f}.py").is_file()]
    assert not missing, f"_toc.yml lists chapters without a .py source: {missing}"


@pytest.mark.parametrize("py", SOURCES, ids=IDS)
def test_chapter_is_in_toc(py: Path) -> None:
    """Every chapter file is listed in the toc (otherwise the book silently skips it)."""
    assert f"notebooks/{py.stem}" in toc_files(), f"add `- file: notebooks/{py.stem}` to _toc.yml"


@pytest.mark.parametrize("py", SOURCES, ids=IDS)
def test_pair_exists(py: Path) -> None:
    """Every .py has its committed .ipynb (Colab opens the .ipynb)."""
    assert py.with_suffix(".ipynb").is_file(), f"{py.with_suffix('.ipynb').name} missing: make sync"


@pytest.mark.parametrize("py", SOURCES, ids=IDS)
def test_pair_in_sync(py: Path) -> None:
    """The .py and the .ipynb have the same cells (type, source, tags)."""
    ipynb = py.with_suffix(".ipynb")
    if not ipynb.is_file():
        pytest.skip("no .ipynb (reported by test_pair_exists)")
    a, b = signature(jupytext.read(py)), signature(jupytext.read(ipynb))
    if a != b:
        first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), None)
        where = f"first difference at cell {first}" if first is not None else "cell count"
        pytest.fail(
            f"{py.name} and {ipynb.name} have drifted ({len(a)} vs {len(b)} cells, {where}): "
            "run `make sync`"
        )


@pytest.mark.parametrize("py", SOURCES, ids=IDS)
def test_ipynb_is_clean(py: Path) -> None:
    """Committed notebooks carry no outputs and no execution counts."""
    ipynb = py.with_suffix(".ipynb")
    if not ipynb.is_file():
        pytest.skip("no .ipynb (reported by test_pair_exists)")
    nb = jupytext.read(ipynb)
    dirty = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)
    ]
    assert not dirty, f"{ipynb.name}: cells {dirty} have outputs or execution counts: make sync"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "kernelspec must be python3"


@pytest.mark.parametrize("py", SOURCES, ids=IDS)
def test_first_code_cell_is_the_install_cell(py: Path) -> None:
    """The first code cell is exactly ``emergence_lib.course.COLAB_INSTALL_CELL``."""
    nb = jupytext.read(py)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{py.name} has no code cell"
    assert code[0].source == COLAB_INSTALL_CELL, f"{py.name}: first code cell differs: make sync"
    assert INSTALL_CELL_TAG in tags(code[0]), (
        f"{py.name}: the install cell must be tagged {INSTALL_CELL_TAG!r} (hidden on the site, "
        "kept for Colab): make sync")


@pytest.mark.parametrize("py", SOURCES, ids=IDS)
def test_title_first_and_one_install_cell(py: Path) -> None:
    """The first cell is the markdown title ``# N. ...`` and the install cell appears once."""
    nb = jupytext.read(py)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and re.match(r"# \d+\. \S", first.source), (
        f"{py.name}: the first cell must be the markdown title '# N. Title', got a "
        f"{first.cell_type} cell starting {first.source[:40]!r}")
    installs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                and c.source == COLAB_INSTALL_CELL]
    assert len(installs) == 1, f"{py.name}: the install cell appears at cells {installs}; keep one"


@pytest.mark.parametrize("py", SOURCES, ids=IDS)
def test_parameters_cell(py: Path) -> None:
    """One cell tagged ``parameters`` assigns FAST (a bool, True by default) and SEED."""
    nb = jupytext.read(py)
    cells = [c for c in nb.cells if "parameters" in tags(c)]
    assert len(cells) == 1, f"{py.name}: expected one cell tagged 'parameters', got {len(cells)}"
    assert cells[0].cell_type == "code"
    tree = ast.parse(cells[0].source)
    values = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    assert "FAST" in values and "SEED" in values, f"{py.name}: parameters must define FAST and SEED"
    fast = values["FAST"]
    assert isinstance(fast, ast.Constant) and fast.value is True, "FAST must default to True"


@pytest.mark.parametrize("py", SOURCES, ids=IDS)
def test_solution_cells_are_tagged(py: Path) -> None:
    """Every cell from ``{solution-start}`` to ``{solution-end}`` is tagged ``solution``.

    The student edition removes exactly the cells tagged ``solution``; an untagged cell
    inside a solution would leak it (or break the directive), a tagged cell outside one
    would silently vanish. Exercise statements are never tagged.
    """
    nb = jupytext.read(py)
    labels = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown" and EXERCISE_START.search(cell.source):
            labels.update(EXERCISE_LABEL.findall(cell.source))
            assert "solution" not in tags(cell), f"{py.name}: an exercise statement is tagged"
    inside = False
    problems = []
    for i, cell in enumerate(nb.cells):
        start = cell.cell_type == "markdown" and SOLUTION_START.search(cell.source)
        end = cell.cell_type == "markdown" and SOLUTION_END.search(cell.source)
        if start:
            if inside:
                problems.append(f"cell {i}: solution-start inside another solution")
            inside = True
            if start.group(1) not in labels:
                problems.append(f"cell {i}: solution-start {start.group(1)!r} has no exercise")
        tagged = "solution" in tags(cell)
        if inside and not tagged:
            problems.append(f"cell {i}: inside a solution but not tagged 'solution'")
        if not inside and tagged:
            problems.append(f"cell {i}: tagged 'solution' outside solution-start/-end")
        if end:
            if not inside:
                problems.append(f"cell {i}: solution-end without solution-start")
            inside = False
    if inside:
        problems.append("a solution-start is never closed")
    assert not problems, f"{py.name}: " + "; ".join(problems)


def student_notebook(py: Path) -> Path:
    """The student-edition notebook of a chapter: ``notebooks/student/NN_slug.ipynb``."""
    return REPO / STUDENT_NOTEBOOKS / f"{py.stem}.ipynb"


@pytest.mark.parametrize("py", SOURCES, ids=IDS)
def test_student_notebook_in_sync(py: Path) -> None:
    """The student notebook is the .py without its solution cells, clean (what Colab opens)."""
    target = student_notebook(py)
    assert target.is_file(), f"{target.relative_to(REPO)} missing: make sync"
    nb = jupytext.read(target)
    leaked = [i for i, c in enumerate(nb.cells) if is_solution(c)]
    assert not leaked, f"{target.name}: cells {leaked} are tagged 'solution': make sync"
    source = jupytext.read(py)
    expected = [s for s, c in zip(signature(source), source.cells, strict=True)
                if not is_solution(c)]
    assert signature(nb) == expected, (
        f"{target.relative_to(REPO)} differs from {py.name} without its solutions: make sync")
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{target.name}: cells {dirty} have outputs or execution counts: make sync"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and code[0].source == COLAB_INSTALL_CELL, f"{target.name}: no install cell first"


def test_no_stray_student_notebooks() -> None:
    """Every student notebook belongs to a chapter source (a renamed chapter leaves none)."""
    stems = {p.stem for p in SOURCES}
    stray = sorted(p.name for p in (REPO / STUDENT_NOTEBOOKS).glob("*.ipynb")
                   if p.stem not in stems)
    assert not stray, f"{STUDENT_NOTEBOOKS}/ has notebooks without a chapter: {stray}"
