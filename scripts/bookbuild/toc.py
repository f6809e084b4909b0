"""Read ``_config.yml`` and ``_toc.yml``: the chapters of the book, in order, and a subset."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from .common import BuildError, Chapter

CHAPTER_RE = re.compile(r"^notebooks/(\d\d)_[a-z0-9_]+$")


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML mapping, with a clear error if it is missing or malformed."""
    if not path.is_file():
        raise BuildError(f"{path} not found")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise BuildError(f"{path} does not contain a YAML mapping")
    return data


def iter_toc_files(node: Any) -> Iterator[str]:
    """Yield every ``file:`` entry of a jb-book ``_toc.yml`` (root included), in order."""
    if isinstance(node, dict):
        for key in ("root", "file"):
            if isinstance(node.get(key), str):
                yield node[key]
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key) or []:
                yield from iter_toc_files(child)
    elif isinstance(node, list):
        for child in node:
            yield from iter_toc_files(child)


def toc_chapters(toc: dict[str, Any]) -> list[Chapter]:
    """The chapter notebooks (``notebooks/NN_slug``) listed in the toc, in toc order."""
    files = [re.sub(r"\.(py|ipynb|md)$", "", f) for f in iter_toc_files(toc)]
    return [Chapter(f) for f in files if CHAPTER_RE.match(f)]


def select_chapters(chapters: list[Chapter], selection: str | None) -> list[Chapter]:
    """Keep the chapters whose number (or stem) is in a comma list such as ``"00,03"``."""
    if not selection or not selection.strip():
        return chapters
    wanted = {s.strip() for s in selection.split(",") if s.strip()}
    chosen = [c for c in chapters if c.number in wanted or c.stem in wanted]
    unknown = wanted - {c.number for c in chosen} - {c.stem for c in chosen}
    if unknown:
        known = ", ".join(c.number for c in chapters)
        raise BuildError(f"CHAPTERS={selection!r}: no chapter {sorted(unknown)} (toc has {known})")
    return chosen


def check_repository_url(config: dict[str, Any]) -> str:
    """Fail unless ``_config.yml``'s repository URL equals the library's ``REPOSITORY_URL``."""
    try:
        from emergence_lib import course
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BuildError(
            f"cannot import emergence_lib.course ({exc}); run `make install` first"
        ) from exc
    url = str((config.get("repository") or {}).get("url", ""))
    if url.rstrip("/") != str(course.REPOSITORY_URL).rstrip("/"):
        raise BuildError(
            "repository URL mismatch: _config.yml has "
            f"{url!r} but emergence_lib.course.REPOSITORY_URL is {course.REPOSITORY_URL!r}. "
            "They must be equal (the Colab links and the install cell both use it)."
        )
    return url
