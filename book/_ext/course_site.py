"""Small Sphinx fixes for the course site (loaded through ``_config.yml``'s local_extensions).

- Drop duplicate ``<script>`` entries: with Sphinx 7, sphinx-thebe registers its inline
  configuration script twice, and the second copy throws
  ``Identifier 'THEBE_JS_URL' has already been declared`` in the browser console.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _script_key(script: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Identify a script entry by its file name and attributes (inline body included).

    An inline script's file name is ``None`` or ``""`` depending on who added it.
    """
    filename = str(getattr(script, "filename", script) or "")
    attributes = getattr(script, "attributes", {}) or {}
    return filename, tuple(sorted((str(k), str(v)) for k, v in attributes.items()))


def dedupe_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any
) -> None:
    """Keep only the first of identical script entries of a page."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    unique = []
    for script in scripts:
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the page-context hook.

    ``html-page-context`` is emitted with ``emit_firstresult``: handlers after one that
    returns a template name never run, so this one runs early (priority < 500). The
    duplicates already exist by then (they are added when the documents are read).
    """
    app.connect("html-page-context", dedupe_scripts, priority=100)
    return {"version": "0.1", "parallel_read_safe": True, "parallel_write_safe": True}
