"""What the build adds to the pages: the tracks page, glossary links, further reading, the
live-widget notes, progress bars as text and the student edition's Colab links.

Everything here runs on small made-up notebooks, except one tqdm notebook executed by a real
kernel (a few seconds) so the progress-bar conversion sees what tqdm.auto really stores.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest

from emergence_lib.course import FURTHER_READING, PERSONAS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from bookbuild.common import BuildError, Chapter  # noqa: E402
from bookbuild.decorate import (  # noqa: E402
    LIVE_WIDGET_NOTE,
    GlossaryLinker,
    bibtex_keys,
    decorate_chapter,
    hide_live_widgets,
    read_glossary,
)
from bookbuild.execute import finalize_executed, progress_bars_as_text  # noqa: E402
from bookbuild.site import point_colab_to_student  # noqa: E402
from bookbuild.tracks import parse_exercises, persona_anchor, tracks_markdown  # noqa: E402

CH = Chapter("notebooks/07_toy")
SOURCE = '''# %% [markdown]
# # 7. A toy chapter
#
# ## Exercises
#
# ```{exercise} Count the features
# :label: ex-07-count
#
# **Persona:** CS student · **Difficulty:** ★☆☆ · **Time:** 10 min
#
# Count them.
# ```

# %% [markdown]
# ```{exercise} Serve it
# :label: ex-07-serve
#
# **Persona:** Applied engineer · **Difficulty:** ★★☆ · **Time:** 30 min
# ```
'''


def markdown_cells(text: str) -> list[str]:
    """The markdown cells' sources of a jupytext percent text."""
    nb = jupytext.reads(text, fmt="py:percent")
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


# --- tracks ------------------------------------------------------------------------------------


def test_tracks_table_from_a_small_source() -> None:
    exercises = parse_exercises(CH, markdown_cells(SOURCE))
    assert [(e.label, e.persona, e.difficulty, e.time) for e in exercises] == [
        ("ex-07-count", "CS student", "★☆☆", "10 min"),
        ("ex-07-serve", "applied engineer", "★★☆", "30 min"),  # persona name normalised
    ]
    page = tracks_markdown(exercises, [CH])
    row = ("| {ref}`Count the features <ex-07-count>` | {doc}`7. A toy chapter </notebooks/07_toy>`"
           " | ★☆☆ | 10 min |")
    assert row in page
    for persona in PERSONAS:  # one linkable section per persona, even an empty one
        assert f"({persona_anchor(persona)})=" in page
    assert "(track-cs-student)=\n## CS student" in page
    # counts per chapter and persona: 1 CS student, 1 engineer, 0, 0, total 2
    assert "| {doc}`7. A toy chapter </notebooks/07_toy>` | 1 | 1 | 0 | 0 | 2 |" in page
    assert "| all | 1 | 1 | 0 | 0 | 2 |" in page


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("**Persona:** CS student", "**Persona:** data scientist",
         "unknown persona 'data scientist'"),
        ("**Persona:** CS student · **Difficulty:** ★☆☆ · **Time:** 10 min", "Count.",
         "no metadata line"),
        (":label: ex-07-count\n", "", "has no ':label: ex-...' line"),
        ("★☆☆", "easy", "difficulty 'easy'"),
    ],
)
def test_tracks_bad_metadata_is_a_clear_error(old: str, new: str, message: str) -> None:
    cells = [c.replace(old, new) for c in markdown_cells(SOURCE)]
    with pytest.raises(BuildError, match=re.escape(message)) as info:
        parse_exercises(CH, cells)
    assert "notebooks/07_toy" in str(info.value)  # names the chapter ...
    if "label" not in message:
        assert "ex-07-count" in str(info.value)  # ... and the exercise


def test_tracks_repeated_label_is_an_error() -> None:
    cells = [c.replace("ex-07-serve", "ex-07-count") for c in markdown_cells(SOURCE)]
    with pytest.raises(BuildError, match="used twice"):
        parse_exercises(CH, cells)


# --- glossary ----------------------------------------------------------------------------------

GLOSSARY = """# Glossary

```{glossary}
:sorted:
grokking
  Late generalization.

induction head
  A head that copies.

local learning coefficient
LLC
  A volume exponent.
```
"""


def test_read_glossary_terms_and_aliases() -> None:
    entries = read_glossary(GLOSSARY)
    assert [e.terms for e in entries] == [
        ("grokking",), ("induction head",), ("local learning coefficient", "LLC")]


def test_glossary_links_first_prose_occurrence_only() -> None:
    linker = GlossaryLinker(read_glossary(GLOSSARY))
    cell = "\n".join([
        "# Grokking and induction heads",  # heading: left alone
        "`grokking` in code and {cite}`grokking` in a role, $grokking$ in math,",
        "[grokking](https://example.org) in a link.",
        "Then grokking in prose, and grokking again.",
        "```python",
        "induction_heads = 'induction heads'",
        "```",
        "```{exercise} Induction heads",
        ":label: ex-induction-head",
        "",
        "Find the Induction heads. An induction",
        "head broken over two lines is not linked there (lines are linked one by one).",
        "```",
    ])
    out = linker.link(cell)
    lines = out.split("\n")
    assert lines[0] == "# Grokking and induction heads"
    assert lines[1:3] == cell.split("\n")[1:3]
    assert lines[3] == "Then {term}`grokking <grokking>` in prose, and grokking again."
    assert lines[4:10] == cell.split("\n")[4:10]  # code block, directive line and options
    assert "Find the {term}`Induction heads <induction head>`. An induction\n" in out  # plural
    # the state carries over to the next cell of the same chapter: linked once per chapter
    assert linker.link("grokking and LLC") == "grokking and {term}`LLC <LLC>`"
    assert linker.link("the local learning coefficient") == "the local learning coefficient"


def test_glossary_page_parses_and_every_entry_is_defined() -> None:
    entries = read_glossary((ROOT / "book" / "glossary.md").read_text(encoding="utf-8"))
    terms = {t for e in entries for t in e.terms}
    for expected in ("weak emergence", "strong emergence", "phase transition", "progress measure",
                     "metric mirage", "grokking", "induction head", "superposition",
                     "silent alignment", "LLC", "sparse parity", "logistic fit"):
        assert expected in terms, f"book/glossary.md has no entry {expected!r}"


# --- further reading ---------------------------------------------------------------------------


def test_further_reading_keys_are_in_the_bibliography() -> None:
    keys = bibtex_keys(ROOT / "book" / "references.bib")
    unknown = {ch: [k for k, _ in items if k not in keys] for ch, items in FURTHER_READING.items()}
    assert not any(unknown.values()), f"not in references.bib: {unknown}"


@pytest.mark.parametrize("py", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")),
                         ids=lambda p: p.stem)
def test_every_chapter_has_further_reading(py: Path) -> None:
    assert FURTHER_READING.get(py.stem[:2]), (
        f"add chapter {py.stem[:2]} to emergence_lib.course.FURTHER_READING")


def toy_notebook(tmp_path: Path, *, widget: bool) -> Path:
    """A staged chapter notebook: prose, a live widget output, a check section."""
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("interact(f, x=1)")
    if widget:
        code.outputs = [nbformat.v4.new_output(
            "display_data",
            data={"application/vnd.jupyter.widget-view+json": {"model_id": "abc"},
                  "text/plain": "interactive(...)"})]
        nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {
            "state": {"abc": {"model_name": "VBoxModel", "state": {}}}}}
    nb.cells = [nbformat.v4.new_markdown_cell("# 7. Toy\n\nWhere grokking appears."), code,
                nbformat.v4.new_code_cell("HTML(frame_slider(...))"),
                nbformat.v4.new_markdown_cell("## Key takeaways\n\n- It did.\n\n## Check: did it?"),
                nbformat.v4.new_code_cell("verdict.require()")]
    path = tmp_path / "07_toy.ipynb"
    nbformat.write(nb, path)
    return path


def test_decorate_adds_links_reading_and_widget_note(tmp_path: Path) -> None:
    path = toy_notebook(tmp_path, widget=True)
    keys = bibtex_keys(ROOT / "book" / "references.bib")
    done = decorate_chapter(path, Chapter("notebooks/07_toy"),
                            linker=GlossaryLinker(read_glossary(GLOSSARY)), bib_keys=keys)
    assert done == {"glossary_links": 1, "further_reading": 1, "live_widgets": 1}
    nb = nbformat.read(path, as_version=4)
    sources = [c.source for c in nb.cells]
    assert "{term}`grokking <grokking>`" in sources[0]
    assert "remove-output" in nb.cells[1].metadata["tags"]  # the live widget is hidden ...
    assert sources[2] == LIVE_WIDGET_NOTE  # ... with the note right under it
    reading = sources.index(next(s for s in sources if s.startswith("## Further reading")))
    assert sources[reading - 1] == "## Key takeaways\n\n- It did."  # the cell was split:
    assert sources[reading + 1] == "## Check: did it?"  # the reading sits just before the check
    for key, _ in FURTHER_READING["07"]:
        assert f"{{cite:t}}`{key}`" in sources[reading]
    assert "widgets" not in nb.metadata  # no view left on the page: no widget state


def test_hide_live_widgets_leaves_plain_cells_alone(tmp_path: Path) -> None:
    nb = nbformat.read(toy_notebook(tmp_path, widget=False), as_version=4)
    assert hide_live_widgets(nb) == 0 and len(nb.cells) == 5


def test_further_reading_with_unknown_key_is_an_error(tmp_path: Path) -> None:
    path = toy_notebook(tmp_path, widget=False)
    with pytest.raises(BuildError, match=r"FURTHER_READING\['07'\].*not in book/references.bib"):
        decorate_chapter(path, Chapter("notebooks/07_toy"), linker=GlossaryLinker([]),
                         bib_keys={"nothing"})


# --- progress bars -----------------------------------------------------------------------------

TQDM_NOTEBOOK = '''# %%
from tqdm.auto import tqdm

total = sum(i for i in tqdm(range(40), desc="train"))
'''


def test_tqdm_bar_becomes_its_finished_text(tmp_path: Path) -> None:
    """A real tqdm.auto bar, executed with widget state stored, ends as text, not a widget."""
    papermill = pytest.importorskip("papermill")
    source = tmp_path / "bar.ipynb"
    nbformat.write(jupytext.reads(TQDM_NOTEBOOK, fmt="py:percent"), source)
    out = tmp_path / "out.ipynb"
    papermill.execute_notebook(str(source), str(out), kernel_name="python3", cwd=str(tmp_path),
                               progress_bar=False, store_widget_state=True)
    nb = nbformat.read(out, as_version=4)
    view = "application/vnd.jupyter.widget-view+json"
    assert any(view in o.get("data", {}) for o in nb.cells[0].outputs), "tqdm drew no widget"
    assert finalize_executed(out) == 0  # no widget view left
    nb = nbformat.read(out, as_version=4)
    texts = [o["data"]["text/plain"] for o in nb.cells[0].outputs if "data" in o]
    assert any(re.match(r"train: 100%\|█{10}\| 40/40 \[", t) for t in texts), texts
    assert "widgets" not in nb.metadata
    assert progress_bars_as_text(nb) == 0  # idempotent


# --- student edition ---------------------------------------------------------------------------


def test_colab_links_point_to_student_notebooks(tmp_path: Path) -> None:
    url = "https://github.com/org/repo"
    page = tmp_path / "notebooks" / "01_x.html"
    page.parent.mkdir()
    link = 'href="https://colab.research.google.com/github/org/repo/blob/main/notebooks/01_x.ipynb"'
    other = 'href="https://github.com/org/repo/blob/main/notebooks/01_x.ipynb"'
    page.write_text(f"<a {link}>Colab</a> <a {other}>source</a>")
    assert point_colab_to_student(tmp_path, url) == 1
    text = page.read_text()
    assert "blob/main/notebooks/student/01_x.ipynb" in text and other in text
    assert point_colab_to_student(tmp_path, url) == 0  # already pointed
