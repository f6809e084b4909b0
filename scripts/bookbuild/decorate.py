"""What the site adds to a staged chapter page (after execution or the cache; never cached).

- **Glossary links**: the first occurrence of each term of ``book/glossary.md`` in a chapter's
  prose becomes ``{term}`text <Term>``` (outside code, math, headings, directive options,
  links, HTML and existing roles), so no chapter source has to change.
- **Further reading**: ``emergence_lib.course.FURTHER_READING`` rendered as a section before
  the chapter's check (or at the end).
- **Live widgets**: on a static page an ipywidget has no kernel, so its sliders do nothing.
  A cell whose output is a live widget gets ``remove-output`` and a one-line note under it
  (the static frame slider that follows works on the page); the notebooks keep the widget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import BuildError, Chapter

GLOSSARY_OPEN_RE = re.compile(r"^(`{3,}|:{3,})\{glossary\}\s*$")
FENCE_RE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*(\S*)")
HEADING_RE = re.compile(r"^\s{0,3}#{1,6}\s")
OPTION_RE = re.compile(r"^\s*:[A-Za-z][\w-]*:")
TARGET_RE = re.compile(r"^\s*\([\w.-]+\)=\s*$")
# Spans of a line that must stay as they are: roles with their content, inline code, inline
# math, links and images (text and target), HTML tags, substitutions.
PROTECTED_RE = re.compile(
    r"\{[^{}\s]+\}`[^`]*`"  # {role}`content`
    r"|`+[^`]*`+"  # inline code
    r"|\$[^$\n]+\$"  # inline math
    r"|!?\[[^\]]*\]\([^)]*\)"  # links and images
    r"|\[[^\]]*\]"  # reference-style link text, footnotes
    r"|<[^>\n]+>"  # HTML tags, autolinks
    r"|\{\{[^}]*\}\}"  # substitutions
)
# Directives whose body is prose (terms there are linked); any other fenced block is skipped.
PROSE_DIRECTIVES = {
    "exercise", "solution-start", "note", "tip", "hint", "important", "warning", "caution",
    "attention", "seealso", "admonition", "dropdown", "margin", "sidebar", "topic",
}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
LIVE_WIDGET_CLASS = "live-widget-note"  # tests/test_site.py looks for it
LIVE_WIDGET_NOTE = (
    f'<p class="{LIVE_WIDGET_CLASS}"><em>The widget of the cell above is live in Colab or '
    "Jupyter (the launch button at the top of the page runs it); a static page has no kernel "
    "to redraw it, so the frame slider below shows the same figures here.</em></p>"
)


@dataclass(frozen=True)
class GlossaryEntry:
    """One glossary entry: its terms (the first is the main one; the others are aliases)."""

    terms: tuple[str, ...]


def read_glossary(text: str) -> list[GlossaryEntry]:
    """The entries of the ``{glossary}`` directive(s) of a MyST page, in page order.

    Inside the directive a term is a line at column 0; consecutive term lines are aliases of
    one entry; indented lines are the definition; option lines (``:sorted:``) are skipped.
    """
    entries: list[GlossaryEntry] = []
    fence: str | None = None
    current: list[str] = []
    for line in text.splitlines():
        if fence is None:
            opened = GLOSSARY_OPEN_RE.match(line)
            if opened:
                fence = opened.group(1)
            continue
        if line.strip() == fence:
            fence = None
        elif line and not line[0].isspace() and not OPTION_RE.match(line):
            current.append(line.strip())
            continue
        if current:
            entries.append(GlossaryEntry(tuple(current)))
            current = []
    if fence is not None:
        raise BuildError("book/glossary.md: the {glossary} directive is never closed")
    if current:
        entries.append(GlossaryEntry(tuple(current)))
    return entries


def term_pattern(entries: list[GlossaryEntry]) -> re.Pattern[str]:
    """One regex matching any term of any entry (longest first, plural s/es allowed)."""
    terms = sorted({t for e in entries for t in e.terms}, key=len, reverse=True)
    parts = [r"\s+".join(re.escape(w) for w in t.split()) for t in terms]
    return re.compile(r"(?<![\w-])(" + "|".join(parts) + r")(?:e?s)?(?![\w-])", re.IGNORECASE)


class GlossaryLinker:
    """Links the first occurrence of each glossary entry in one chapter's prose."""

    def __init__(self, entries: list[GlossaryEntry]) -> None:
        self.entries = entries
        self.by_term = {t.lower(): (i, t) for i, e in enumerate(entries) for t in e.terms}
        self.pattern = term_pattern(entries) if entries else None
        self.seen: set[int] = set()

    def _link_text(self, text: str) -> str:
        """Link terms in unprotected text (no roles, code, math or links in it)."""

        def replace(match: re.Match[str]) -> str:
            key = re.sub(r"\s+", " ", match.group(1)).lower()
            index, term = self.by_term[key]
            if index in self.seen:
                return match.group(0)
            self.seen.add(index)
            shown = re.sub(r"\s+", " ", match.group(0))
            return f"{{term}}`{shown} <{term}>`"

        return self.pattern.sub(replace, text) if self.pattern else text

    def _link_line(self, line: str) -> str:
        """Link terms in one prose line, leaving its protected spans alone."""
        out, last = [], 0
        for span in PROTECTED_RE.finditer(line):
            out.append(self._link_text(line[last:span.start()]))
            out.append(span.group(0))
            last = span.end()
        out.append(self._link_text(line[last:]))
        return "".join(out)

    def link(self, markdown: str) -> str:
        """One markdown cell with its not-yet-linked terms linked (state carries across cells)."""
        if self.pattern is None:
            return markdown
        lines = markdown.split("\n")
        stack: list[tuple[str, bool]] = []  # open fences: (fence, body is prose)
        in_math = False
        at_options = False
        for i, line in enumerate(lines):
            fence = FENCE_RE.match(line)
            if fence:
                marks, info = fence.group(1), fence.group(2)
                if stack and marks[0] == stack[-1][0][0] and len(marks) >= len(stack[-1][0]) \
                        and not info:
                    stack.pop()
                    at_options = False
                    continue
                name = info[1:-1] if info.startswith("{") and info.endswith("}") else None
                prose = (not stack or stack[-1][1]) and name in PROSE_DIRECTIVES
                stack.append((marks, prose))
                at_options = True
                continue
            if stack and not stack[-1][1]:
                continue
            if at_options and (OPTION_RE.match(line) or not line.strip()):
                continue
            at_options = False
            if line.strip().startswith("$$"):
                if not (line.strip() != "$$" and line.strip().endswith("$$")):
                    in_math = not in_math
                continue
            if in_math or HEADING_RE.match(line) or TARGET_RE.match(line):
                continue
            if line.lstrip().startswith(("\\begin", "\\end", "<")):
                continue
            lines[i] = self._link_line(line)
        return "\n".join(lines)


def glossary_linker(book_dir: Path) -> GlossaryLinker:
    """A linker for ``book_dir/glossary.md`` (no terms when the page does not exist)."""
    page = book_dir / "glossary.md"
    entries = read_glossary(page.read_text(encoding="utf-8")) if page.is_file() else []
    return GlossaryLinker(entries)


def further_reading_markdown(chapter: Chapter, bib_keys: set[str]) -> str | None:
    """The chapter's "Further reading" section, or None when it has no list."""
    from emergence_lib.course import FURTHER_READING

    items = FURTHER_READING.get(chapter.number)
    if not items:
        return None
    unknown = [key for key, _ in items if key not in bib_keys]
    if unknown:
        raise BuildError(
            f"emergence_lib.course.FURTHER_READING[{chapter.number!r}] cites {unknown}, "
            "which are not in book/references.bib"
        )
    lines = ["## Further reading", ""]
    lines += [f"- {{cite:t}}`{key}`: {why}." for key, why in items]
    return "\n".join(lines)


def bibtex_keys(bib: Path) -> set[str]:
    """The entry keys of a BibTeX file."""
    return set(re.findall(r"^@\w+\{\s*([^,\s]+)\s*,", bib.read_text(encoding="utf-8"), re.M))


CHECK_HEADING_RE = re.compile(r"^[ ]{0,3}##[ \t]+Check\b", re.M)


def insert_before_check(nb: Any, markdown: str) -> None:
    """Insert a markdown cell right before the chapter's ``## Check`` heading (or at the end).

    The heading usually shares its cell with the key takeaways: that cell is split in two.
    """
    import nbformat

    new = nbformat.v4.new_markdown_cell(markdown)
    for i, cell in enumerate(nb.cells):
        match = CHECK_HEADING_RE.search(cell.source) if cell.cell_type == "markdown" else None
        if match is None:
            continue
        before, after = cell.source[:match.start()].rstrip(), cell.source[match.start():]
        if before:
            cell.source = before
            rest = nbformat.v4.new_markdown_cell(after)
            rest.metadata = dict(cell.metadata)
            nb.cells[i + 1:i + 1] = [new, rest]
        else:
            nb.cells.insert(i, new)
        return
    nb.cells.append(new)


def hide_live_widgets(nb: Any) -> int:
    """Tag each code cell showing a live widget ``remove-output`` and put the note under it.

    Returns how many cells were changed. Progress bars are text by now
    (``execute.progress_bars_as_text``). The stored widget state goes when no view is shown.
    """
    import nbformat

    changed = 0
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if cell.cell_type != "code":
            continue
        if not any(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", [])):
            continue
        tags = list(cell.metadata.get("tags", []))
        if "remove-output" not in tags:
            cell.metadata["tags"] = [*tags, "remove-output"]
        cells.append(nbformat.v4.new_markdown_cell(LIVE_WIDGET_NOTE))
        changed += 1
    nb.cells = cells
    hidden = {"remove-output", "remove-cell"}
    shown = [
        out
        for cell in nb.cells
        if cell.cell_type == "code" and not hidden & set(cell.metadata.get("tags", []))
        for out in cell.get("outputs", [])
        if WIDGET_VIEW in out.get("data", {})
    ]
    if changed and not shown:
        nb.metadata.pop("widgets", None)
    return changed


def decorate_chapter(
    path: Path, chapter: Chapter, *, linker: GlossaryLinker, bib_keys: set[str]
) -> dict[str, int]:
    """Add glossary links, further reading and the live-widget notes to a staged notebook."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    linker.seen = set()
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "remove-cell" not in cell.metadata.get("tags", []):
            cell.source = linker.link(cell.source)
    linked = len(linker.seen)
    reading = further_reading_markdown(chapter, bib_keys)
    if reading is not None:
        insert_before_check(nb, reading)
    widgets = hide_live_widgets(nb)
    nbformat.write(nb, path)
    return {"glossary_links": linked, "further_reading": int(reading is not None),
            "live_widgets": widgets}
