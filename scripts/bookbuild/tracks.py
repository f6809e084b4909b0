"""The persona tracks page (``book/tracks.md``), generated from the chapters' exercise metadata.

Every exercise of a chapter opens with a directive and a metadata line::

    ```{exercise} Title
    :label: ex-NN-short-name

    **Persona:** CS student · **Difficulty:** ★☆☆ · **Time:** 15 min

The build reads them from every chapter source in the toc and writes one section per persona
(an anchor ``track-<persona>`` an instructor can link), a table of its exercises with links,
and the number of exercises per chapter and persona. Nothing on the page is typed by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .common import REPO, BuildError, Chapter

EXERCISE_RE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{exercise\}[ \t]*(?P<title>.*)$", re.M)
LABEL_RE = re.compile(r"^:label:\s*(\S+)\s*$", re.M)
META_RE = re.compile(
    r"\*\*Persona:\*\*\s*(?P<persona>[^·*\n]+?)\s*·\s*"
    r"\*\*Difficulty:\*\*\s*(?P<difficulty>[^·*\n]+?)\s*·\s*"
    r"\*\*Time:\*\*\s*(?P<time>[^\n]+?)\s*$",
    re.M,
)
DIFFICULTY_RE = re.compile(r"^[★☆]{3}$")


@dataclass(frozen=True)
class Exercise:
    """One exercise: where it is, who it is for, how hard and how long."""

    chapter: Chapter
    chapter_title: str
    label: str
    title: str
    persona: str
    difficulty: str
    time: str


def persona_names() -> dict[str, str]:
    """Lower-cased persona -> its canonical name (``emergence_lib.course.PERSONAS``)."""
    from emergence_lib.course import PERSONAS

    return {name.lower(): name for name in PERSONAS}


def persona_anchor(persona: str) -> str:
    """The page anchor of a persona's section, e.g. ``track-cs-student``."""
    return "track-" + re.sub(r"[^a-z0-9]+", "-", persona.lower()).strip("-")


def persona_title(persona: str) -> str:
    """A persona as a heading or link text: ``applied engineer`` -> ``Applied engineer``."""
    return persona[0].upper() + persona[1:]


def chapter_title(markdown_cells: list[str], chapter: Chapter) -> str:
    """The chapter's title from its first cell ``# N. Title`` (the docname if there is none)."""
    for text in markdown_cells[:1]:
        first = text.strip().splitlines()[0] if text.strip() else ""
        if first.startswith("# "):
            return first[2:].strip()
    return chapter.docname


def parse_exercises(chapter: Chapter, markdown_cells: list[str]) -> list[Exercise]:
    """The exercises of one chapter, in order, from its markdown cells' text.

    Raises :class:`BuildError`, naming the chapter and label, when an exercise has no label,
    no metadata line, an unknown persona or a difficulty other than three stars.
    """
    names = persona_names()
    title = chapter_title(markdown_cells, chapter)
    found: list[Exercise] = []
    for text in markdown_cells:
        for match in EXERCISE_RE.finditer(text):
            fence = match.group("fence")
            body_start = match.end()
            close = re.compile(rf"^{re.escape(fence)}\s*$", re.M).search(text, body_start)
            body = text[body_start:close.start() if close else len(text)]
            label_match = LABEL_RE.search(body)
            where = f"{chapter.docname}: exercise {match.group('title').strip()!r}"
            if not label_match:
                raise BuildError(f"{where} has no ':label: ex-...' line")
            label = label_match.group(1)
            where = f"{chapter.docname}: exercise {label}"
            meta = META_RE.search(body)
            if not meta:
                raise BuildError(
                    f"{where} has no metadata line '**Persona:** ... · **Difficulty:** ... · "
                    "**Time:** ...' (the tracks page is built from it)"
                )
            persona = meta.group("persona").strip()
            if persona.lower() not in names:
                raise BuildError(
                    f"{where}: unknown persona {persona!r}; allowed: {', '.join(names.values())}"
                )
            difficulty = meta.group("difficulty").strip()
            if not DIFFICULTY_RE.match(difficulty):
                raise BuildError(
                    f"{where}: difficulty {difficulty!r} must be three of ★/☆, e.g. ★★☆"
                )
            found.append(
                Exercise(
                    chapter=chapter,
                    chapter_title=title,
                    label=label,
                    title=match.group("title").strip() or label,
                    persona=names[persona.lower()],
                    difficulty=difficulty,
                    time=meta.group("time").strip(),
                )
            )
    labels = [e.label for e in found]
    repeated = sorted({lab for lab in labels if labels.count(lab) > 1})
    if repeated:
        raise BuildError(f"{chapter.docname}: exercise labels used twice: {repeated}")
    return found


def read_exercises(chapters: list[Chapter], root: Path = REPO) -> list[Exercise]:
    """The exercises of every chapter (jupytext sources), in toc order."""
    import jupytext

    exercises: list[Exercise] = []
    for chapter in chapters:
        nb = jupytext.read(chapter.source(root))
        cells = [c.source for c in nb.cells if c.cell_type == "markdown"]
        exercises += parse_exercises(chapter, cells)
    return exercises


def _cell(text: str) -> str:
    """Text safe inside a table cell and a role's explicit title."""
    return text.replace("|", "\\|").replace("`", "").replace("<", "&lt;")


def tracks_markdown(exercises: list[Exercise], chapters: list[Chapter]) -> str:
    """The tracks page: a section per persona with its exercises, then the counts."""
    from emergence_lib.course import PERSONAS

    titles = {e.chapter: e.chapter_title for e in exercises}
    lines = [
        "# Exercise tracks",
        "",
        "Every exercise of the book, by the reader it is written for. This page is generated by "
        "the build from the metadata line under each exercise (persona, difficulty, time), so "
        f"it always lists what the chapters contain: {len(exercises)} exercises in "
        f"{len({e.chapter for e in exercises})} chapters. To assign a track, link its section.",
        "",
        "| track | what it asks | exercises |",
        "| --- | --- | --- |",
    ]
    for persona, asks in PERSONAS.items():
        count = sum(e.persona == persona for e in exercises)
        link = f"{{ref}}`{persona_title(persona)} <{persona_anchor(persona)}>`"
        lines.append(f"| {link} | {asks} | {count} |")
    for persona in PERSONAS:
        lines += ["", f"({persona_anchor(persona)})=", f"## {persona_title(persona)}", ""]
        mine = [e for e in exercises if e.persona == persona]
        if not mine:
            lines.append("No exercise for this persona yet.")
            continue
        lines += ["| exercise | chapter | difficulty | time |", "| --- | --- | --- | --- |"]
        for e in mine:
            lines.append(
                f"| {{ref}}`{_cell(e.title)} <{e.label}>` "
                f"| {{doc}}`{_cell(e.chapter_title)} </{e.chapter.docname}>` "
                f"| {e.difficulty} | {_cell(e.time)} |"
            )
    lines += [
        "",
        "## Exercises per chapter and persona",
        "",
        "| chapter | " + " | ".join(PERSONAS) + " | all |",
        "| --- | " + " | ".join("---" for _ in PERSONAS) + " | --- |",
    ]
    for chapter in chapters:
        counts = [sum(e.chapter == chapter and e.persona == p for e in exercises) for p in PERSONAS]
        title = titles.get(chapter, chapter.stem)
        lines.append(
            f"| {{doc}}`{_cell(title)} </{chapter.docname}>` | "
            + " | ".join(str(c) for c in counts)
            + f" | {sum(counts)} |"
        )
    totals = [sum(e.persona == p for e in exercises) for p in PERSONAS]
    lines.append("| all | " + " | ".join(str(c) for c in totals) + f" | {len(exercises)} |")
    return "\n".join(lines) + "\n"


def write_tracks(staged_book: Path, chapters: list[Chapter], root: Path = REPO) -> int:
    """Write ``tracks.md`` into the staged ``book/`` folder; return the number of exercises."""
    exercises = read_exercises(chapters, root)
    (staged_book / "tracks.md").write_text(tracks_markdown(exercises, chapters), encoding="utf-8")
    return len(exercises)
