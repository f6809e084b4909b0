"""Facts about the course itself, each defined once: where the library is installed from."""

REPOSITORY_URL = "https://github.com/emergence-course/emergence-in-neural-networks"
RELEASE = "v0.1.0"  # the git tag Colab installs the library from
INSTALL_SOURCE = f"emergence-lib @ git+{REPOSITORY_URL}@{RELEASE}"

# The install cell's tag: Jupyter Book drops the cell from the site; the notebook keeps it.
INSTALL_CELL_TAG = "remove-cell"

# The first code cell of every chapter (kept identical by scripts/sync_notebooks.py).
COLAB_INSTALL_CELL = f'''# In Colab: install the course library (and nothing else). Here: nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "{INSTALL_SOURCE}"], check=True)'''


def _plain(value: object) -> object:
    """``value`` with numpy scalars turned into Python numbers (their repr is what glue stores)."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    return value


def glue(name: str, value: object, fmt: str | None = None) -> object:
    """Store ``value`` under ``name`` for the page's ``{glue:text}`name``` roles; return it.

    With ``fmt`` (e.g. ``".2f"``, ``",d"``) the value is stored as already-formatted text, so prose
    can write ``{glue:text}`name```. Outside the book build (Colab, a plain kernel without
    myst-nb) nothing is displayed. The glue key must be a Python identifier.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier (letters, digits, _), got {name!r}")
    plain = _plain(value)
    stored = format(plain, fmt) if fmt is not None else plain
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # Colab or a bare kernel: prose is not rendered there
        return value
    myst_glue(name, stored, display=False)
    return value


# Cells tagged this way are the solutions: the student edition (its book and the notebooks in
# STUDENT_NOTEBOOKS, which its Colab buttons open) is every chapter without them.
SOLUTION_TAG = "solution"
STUDENT_NOTEBOOKS = "notebooks/student"


def is_solution(cell: dict) -> bool:
    """True when a notebook cell is tagged ``SOLUTION_TAG`` (removed from the student edition)."""
    return SOLUTION_TAG in (cell.get("metadata", {}) or {}).get("tags", [])
