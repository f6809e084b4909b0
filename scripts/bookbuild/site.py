"""Stage the book (config, toc, ``book/``, chapter notebooks) and run ``jupyter-book build``."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .common import REPO, BuildError, Chapter, EditionPaths
from .execute import read_chapter

# A glue role ({glue}`key`, {glue:text}`key:.2f`, {glue:any}`doc::key`) and the opening line of
# a backtick-fenced glue directive (```{glue:figure} key): both need the chapter's run.
GLUE_ROLE_RE = re.compile(r"\{glue(?::[a-z]+)?\}`((?:[^`:]*::)?[A-Za-z_]\w*)(?::[^`]*)?`")
GLUE_DIRECTIVE_RE = re.compile(r"^(`{3,})\{glue(?::[a-z]+)?\}[^\n]*$", re.M)


def without_glue(markdown: str) -> str:
    """Markdown with every glue role shown as its key in code font and every backtick glue
    directive as a literal block: an unexecuted chapter has no glue data, and Sphinx (``-W``)
    would fail on each missing key."""
    markdown = GLUE_ROLE_RE.sub(lambda m: f"`{m.group(1)}`", markdown)
    return GLUE_DIRECTIVE_RE.sub(lambda m: f"{m.group(1)}text", markdown)


def stage_unexecuted(chapter: Chapter, out_dir: Path, *, edition: str, root: Path = REPO) -> None:
    """Stage a chapter left out of a ``CHAPTERS=`` subset build: inputs only, with a note.

    Keeping the page (rather than dropping it from the toc) keeps cross-references valid,
    so the subset build stays warning-free; run-dependent numbers (glue) show as their keys.
    """
    import nbformat

    nb = read_chapter(chapter, edition, root)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = without_glue(cell.source)
    note = nbformat.v4.new_markdown_cell(
        "```{note}\nThis chapter was not executed in this build (a `CHAPTERS=` subset build): "
        "its numbers in the text show as the names of the values the run would insert. "
        "Run `make book` for its outputs.\n```"
    )
    nb.cells.insert(1 if nb.cells and nb.cells[0].cell_type == "markdown" else 0, note)
    nbformat.write(nb, out_dir / f"{chapter.stem}.ipynb")


def stage_sources(paths: EditionPaths, config: dict[str, Any], toc: dict[str, Any]) -> None:
    """Create the staged book: config (edition-adjusted), toc, ``book/``."""
    staging = paths.staging
    if staging.exists():
        shutil.rmtree(staging)
    (staging / "notebooks").mkdir(parents=True)
    shutil.copytree(paths.root / "book", staging / "book")

    staged_config = copy.deepcopy(config)
    staged_config.setdefault("execute", {})["execute_notebooks"] = "off"
    sphinx_config = staged_config.setdefault("sphinx", {}).setdefault("config", {})
    if paths.edition == "student":
        staged_config["title"] = f"{config.get('title', 'Book')} (student edition)"
        sphinx_config["hide_solutions"] = True
    else:
        sphinx_config["hide_solutions"] = False
    (staging / "_config.yml").write_text(yaml.safe_dump(staged_config, sort_keys=False))

    (staging / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False))


COLAB_HREF_RE = r'(href="https://colab\.research\.google\.com/github/{slug}/blob/[^/"]+/)' \
    r'notebooks/(\d\d_[a-z0-9_]+\.ipynb")'


def point_colab_to_student(html_dir: Path, repository_url: str) -> int:
    """Point every page's Colab launch link at ``notebooks/student/NN_slug.ipynb``.

    The book theme builds the link from the page's path (``notebooks/NN_slug.ipynb``, which
    holds the solutions); the student edition's readers must open the notebook without them.
    Returns the number of pages changed.
    """
    from emergence_lib.course import STUDENT_NOTEBOOKS

    slug = "/".join(repository_url.rstrip("/").split("/")[-2:]).removesuffix(".git")
    pattern = re.compile(COLAB_HREF_RE.format(slug=re.escape(slug)))
    changed = 0
    for page in sorted((html_dir / "notebooks").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        new, n = pattern.subn(rf"\g<1>{STUDENT_NOTEBOOKS}/\g<2>", text)
        if n:
            page.write_text(new, encoding="utf-8")
            changed += 1
    return changed


def jupyter_book_build(paths: EditionPaths, *, strict: bool = True) -> None:
    """Run ``jupyter-book build`` on the staged copy and move the HTML into place."""
    exe = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(exe) if exe.exists() else "jupyter-book", "build", str(paths.staging)]
    cmd += ["--path-output", str(paths.jb_work), "--all"]
    if strict:
        cmd += ["-W", "-n", "--keep-going"]
    print("$", " ".join(cmd), flush=True)
    result = subprocess.run(cmd, cwd=paths.root)
    built = paths.jb_work / "_build" / "html"
    if result.returncode != 0:
        raise BuildError(
            f"jupyter-book build failed (exit {result.returncode}); see the Sphinx warnings above"
        )
    if paths.html.exists():
        shutil.rmtree(paths.html)
    paths.html.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(built), str(paths.html))

