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


# The four readers the exercises are written for (the "**Persona:**" of every exercise), each
# with what its track asks; book/tracks.md is generated from the exercises with these names.
PERSONAS = {
    "CS student": "predict, run, check: a function or a number compared with the run by a checker",
    "applied engineer": "engineering on the chapter's own model: throughput, memory, export, "
    "serving",
    "applied researcher": "a hypothesis, a seeded sweep, a fit with intervals and a computed "
    "verdict",
    "frontier researcher": "an open question with a quantitative target, a reference attempt "
    "and an honest outcome",
}

# Further reading at the end of each chapter page (keys of book/references.bib, with why).
FURTHER_READING: dict[str, tuple[tuple[str, str], ...]] = {
    "00": (
        ("anderson1972more", "the essay that made 'more is different' a research programme"),
        ("wei2022emergent", "the catalogue of abrupt few-shot capabilities in large models"),
        ("ganguli2022predictability", "smooth loss, unpredictable capabilities, why it matters"),
    ),
    "01": (
        ("wei2022emergent", "the emergent abilities this chapter reproduces in miniature"),
        ("kaplan2020scaling", "the smooth power laws of loss against size"),
        ("hoffmann2022chinchilla", "compute-optimal scaling, the fit the chapter quotes"),
    ),
    "02": (
        ("schaeffer2023mirage", "the argument that the jump is made by the metric"),
        ("srivastava2022bigbench", "the benchmark whose exact-match tasks show the jumps"),
        ("wei2022emergent", "the claims the mirage argument answers"),
    ),
    "03": (
        ("power2022grokking", "the first report of generalization long after memorization"),
        ("nanda2023progress", "the Fourier circuit and the progress measures used here"),
        ("liu2022omnigrok", "grokking explained through weight norm and initialization scale"),
        ("lau2023llc", "the local learning coefficient estimated by SGLD"),
    ),
    "04": (
        ("olsson2022induction", "induction heads and the in-context-learning phase change"),
        ("elhage2021framework", "the circuit view of attention-only transformers used here"),
    ),
    "05": (
        ("barak2022hidden", "hidden progress in SGD on sparse parity"),
        ("kearns1998sq", "the statistical-query model behind the plateau"),
        ("blum1994sq", "why parities are hard for statistical-query learners"),
    ),
    "06": (
        ("betley2025emergent", "narrow fine-tuning that turns a model broadly misaligned"),
        ("turner2025organisms", "small model organisms of emergent misalignment"),
        ("soligo2025convergent", "a shared misalignment direction across fine-tunes"),
        ("soligo2026narrow", "why the general solution is preferred over the narrow one"),
    ),
    "07": (
        ("elhage2022superposition", "the toy model, its phase diagram and its geometry"),
        ("elhage2021framework", "the circuits programme that superposition complicates"),
    ),
    "08": (
        ("atanasov2021silent", "silent alignment of the tangent kernel before the loss moves"),
        ("saxe2014exact", "the exact learning dynamics of deep linear networks"),
    ),
    "09": (
        ("sanford2024logdepth", "why k-hop tasks need depth that grows with log k"),
        ("olsson2022induction", "the attention circuits that pointer chasing composes"),
        ("ganguli2022predictability", "what it would take to predict a threshold in advance"),
    ),
    "10": (
        ("wei2022emergent", "the original list of emergent abilities the atlas answers"),
        ("schaeffer2023mirage", "which of those jumps survive a continuous metric"),
    ),
}
