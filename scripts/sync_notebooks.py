"""Keep every chapter's jupytext source and its committed notebook in step.

For each ``notebooks/NN_slug.py`` (jupytext percent format, the source of truth):

(a) the first code cell must equal ``emergence_lib.course.COLAB_INSTALL_CELL``; it is
    rewritten in the ``.py`` if it differs;
(b) ``notebooks/NN_slug.ipynb`` is (re)written from the ``.py`` with no outputs and no
    execution counts, so Colab opens the same cells the book was built from;
(c) ``notebooks/student/NN_slug.ipynb`` is (re)written the same way without the cells tagged
    ``solution`` (checkers, stubs and the install cell stay): the notebook the student
    edition's Colab button opens.

Usage::

    python scripts/sync_notebooks.py            # fix what differs (make sync)
    python scripts/sync_notebooks.py --check    # only report; exit 1 if anything differs
    python scripts/sync_notebooks.py --from-ipynb notebooks/01_scaling_paradox.ipynb
                                                 # take edits made in the .ipynb first

If an ``.ipynb`` was edited after its ``.py`` and now has different cells, the script stops
rather than overwrite those edits: pass ``--from-ipynb`` to adopt them, or delete the
``.ipynb`` to discard them.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
STUDENT = "student"  # notebooks/student/: emergence_lib.course.STUDENT_NOTEBOOKS
PAIRING = "ipynb,py:percent"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def chapter_sources(folder: Path = NOTEBOOKS) -> list[Path]:
    """The chapter sources ``NN_slug.py`` in a folder, sorted."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.py") if p.is_file())


def cell_signature(nb: Any) -> list[tuple[str, str, tuple[str, ...]]]:
    """What must agree between the two files of a pair: type, source and tags of each cell."""
    return [
        (cell.cell_type, cell.source, tuple(cell.get("metadata", {}).get("tags", [])))
        for cell in nb.cells
    ]


def first_code_cell(nb: Any) -> int | None:
    """Index of the first code cell, or None."""
    return next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), None)


def has_outputs(nb: Any) -> bool:
    """True if any code cell of a notebook has outputs or an execution count."""
    return any(
        cell.get("outputs") or cell.get("execution_count") is not None
        for cell in nb.cells
        if cell.cell_type == "code"
    )


def install_cell_tag() -> str:
    """The tag that hides the install cell on the site (it stays in the notebook for Colab)."""
    from emergence_lib.course import INSTALL_CELL_TAG

    return INSTALL_CELL_TAG


def install_cell() -> str:
    """The Colab install cell, from the library (the single place it is defined)."""
    try:
        from emergence_lib.course import COLAB_INSTALL_CELL
    except ImportError as exc:
        sys.exit(f"sync_notebooks: cannot import emergence_lib.course ({exc}); run `make install`")
    return COLAB_INSTALL_CELL


def to_ipynb(nb: Any) -> Any:
    """A copy of a notebook ready to commit: no outputs, python3 kernel, pairing metadata."""
    import copy

    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    out.metadata["kernelspec"] = dict(KERNELSPEC)
    jupytext_meta = out.metadata.setdefault("jupytext", {})
    jupytext_meta.pop("text_representation", None)
    jupytext_meta["formats"] = PAIRING
    return out


@dataclass
class Change:
    """One thing that differs (and was or would be fixed)."""

    path: Path
    what: str

    def __str__(self) -> str:
        try:
            shown = self.path.relative_to(REPO)
        except ValueError:
            shown = self.path
        return f"{shown}: {self.what}"


def to_student_ipynb(nb: Any) -> Any:
    """The student notebook: :func:`to_ipynb` without solution cells and without pairing."""
    from emergence_lib.course import is_solution

    out = to_ipynb(nb)
    out.cells = [cell for cell in out.cells if not is_solution(cell)]
    out.metadata.pop("jupytext", None)
    return out


def student_path(py: Path) -> Path:
    """``notebooks/NN_slug.py`` -> ``notebooks/student/NN_slug.ipynb``."""
    return py.parent / STUDENT / f"{py.stem}.ipynb"


def sync_student(py: Path, nb: Any, *, check: bool) -> list[Change]:
    """Write (or, with ``check``, compare) the student notebook of one chapter."""
    import jupytext

    target = student_path(py)
    expected = to_student_ipynb(nb)
    if not target.exists():
        changes = [Change(target, "created")]
    else:
        current = jupytext.read(target)
        if cell_signature(current) != cell_signature(expected):
            changes = [Change(target, "cells differ from the .py without solutions; rewritten")]
        elif has_outputs(current):
            changes = [Change(target, "outputs stripped")]
        elif current.metadata.get("kernelspec", {}).get("name") != KERNELSPEC["name"]:
            changes = [Change(target, "kernelspec set to python3")]
        else:
            return []
    if not check:
        target.parent.mkdir(parents=True, exist_ok=True)
        jupytext.write(expected, target, fmt="ipynb")
    return changes


def sync_one(py: Path, *, check: bool, from_ipynb: bool, cell: str,
             tag: str) -> list[Change]:
    """Sync one pair; return what differed. Raises SystemExit on an unsafe overwrite."""
    import jupytext

    ipynb = py.with_suffix(".ipynb")
    changes: list[Change] = []

    if from_ipynb and ipynb.exists():
        nb_ipynb = jupytext.read(ipynb)
        nb_py = jupytext.read(py)
        if cell_signature(nb_ipynb) != cell_signature(nb_py):
            changes.append(Change(py, "updated from its .ipynb"))
            if not check:
                nb_ipynb.metadata.setdefault("jupytext", {})["formats"] = PAIRING
                jupytext.write(nb_ipynb, py, fmt="py:percent")

    nb = jupytext.read(py)
    index = first_code_cell(nb)
    if index is None:
        raise SystemExit(f"sync_notebooks: {py} has no code cell (the first must install)")
    first = nb.cells[index]
    first_tags = list(first.get("metadata", {}).get("tags", []))
    if first.source != cell or tag not in first_tags:
        changes.append(Change(py, "first code cell replaced by COLAB_INSTALL_CELL"))
        first.source = cell
        if tag not in first_tags:
            first.setdefault("metadata", {})["tags"] = [*first_tags, tag]
        if not check:
            jupytext.write(nb, py, fmt="py:percent")

    changes += sync_student(py, nb, check=check)
    if not ipynb.exists():
        changes.append(Change(ipynb, "created"))
    else:
        current = jupytext.read(ipynb)
        if cell_signature(current) != cell_signature(nb):
            if ipynb.stat().st_mtime > py.stat().st_mtime and not from_ipynb and not check:
                raise SystemExit(
                    f"sync_notebooks: {ipynb.name} was modified after {py.name} and its cells "
                    "differ; refusing to overwrite those edits. Run\n"
                    f"  python scripts/sync_notebooks.py --from-ipynb   (adopt the .ipynb edits)\n"
                    f"or delete {ipynb.relative_to(REPO) if ipynb.is_relative_to(REPO) else ipynb}"
                    " to discard them."
                )
            changes.append(Change(ipynb, "cells differ from the .py; rewritten"))
        elif has_outputs(current):
            changes.append(Change(ipynb, "outputs stripped"))
        elif current.metadata.get("kernelspec", {}).get("name") != KERNELSPEC["name"]:
            changes.append(Change(ipynb, "kernelspec set to python3"))
        else:
            return changes
    if not check:
        jupytext.write(to_ipynb(nb), ipynb, fmt="ipynb")
    return changes


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report only; exit 1 on drift")
    parser.add_argument(
        "--from-ipynb", action="store_true", help="adopt edits made in the .ipynb files first"
    )
    parser.add_argument("--folder", type=Path, default=NOTEBOOKS, help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", type=Path, help="chapters to sync (default: all)")
    args = parser.parse_args(argv)

    sources = [p.with_suffix(".py") for p in args.paths] or chapter_sources(args.folder)
    missing = [p for p in sources if not p.is_file()]
    if missing:
        print(f"sync_notebooks: no such chapter source: {missing}", file=sys.stderr)
        return 2
    cell = install_cell()
    tag = install_cell_tag()
    changes: list[Change] = []
    for py in sources:
        changes += sync_one(py, check=args.check, from_ipynb=args.from_ipynb, cell=cell,
                             tag=tag)
    for change in changes:
        print(("would fix " if args.check else "fixed ") + str(change))
    if not changes:
        print(f"{len(sources)} chapter(s) in sync")
    return 1 if (args.check and changes) else 0


if __name__ == "__main__":
    sys.exit(main())
