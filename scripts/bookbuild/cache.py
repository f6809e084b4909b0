"""The build cache: reuse a chapter's executed notebook while nothing it depends on changed.

A chapter's cached run lives in ``_build/cache/<edition>/<FAST|FULL>/<NN_slug>/``:
``executed.ipynb`` (the notebook as staged for the site), ``files/`` (what the run wrote into
its working directory, e.g. chapter 1's checkpoints under ``.cache/``) and ``meta.json`` (the
key, the files it read, its time, date and commit). The run is *current*, and reused, when

- its key is unchanged: the chapter's source file, every file of ``src/emergence_lib``, the
  mode, the edition, the versions of the software that shapes the outputs, and the executor
  (``bookbuild/execute.py``, which post-processes the notebook); and
- every file it read from earlier chapters' runs still has the content it read then (chapter 2
  loads chapter 1's checkpoints from ``.cache/``: if chapter 1's new run wrote different ones,
  chapter 2 is executed again).

Chapters run in toc order in one working directory, fresh for every build; a reused chapter's
files are restored into it before the next chapter runs, so every chapter sees what it would
see in a full build. Which earlier files a run read is told by their access times (set before
the run to a second before their modification time, which makes the next read update them,
even under ``relatime``); where the file system does not record reads (``noatime``), every
earlier file counts as read.

Why not jupyter-cache (installed with jupyter-book): its hash covers a notebook's code cells
and kernelspec only, not the library, the parameters or the files chapters share, and its
executors do not run papermill (parameters, widget state); the key above is a few file hashes
(milliseconds) and the cache stays readable as plain files.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import Chapter, EditionPaths, build_environment

FORMAT = "1"  # bump when the layout of a cached run changes
LIBRARY = Path("src") / "emergence_lib"
EXECUTOR = Path(__file__).with_name("execute.py")
SOFTWARE = ("torch", "numpy", "matplotlib", "ipywidgets", "papermill", "nbformat")
NOTEBOOK, META, FILES = "executed.ipynb", "meta.json", "files"
TRAINED = ".cache"  # where chapters keep trained models (the recipes' cache_dir and checkpoints)
KEY_LABELS = {
    "format": "cache format",
    "source": "chapter source",
    "library": "library (src/emergence_lib)",
    "mode": "mode",
    "edition": "edition",
    "software": "software versions",
    "executor": "executor (bookbuild/execute.py)",
    "environment": "build environment (bookbuild/common.py BUILD_ENVIRONMENT)",
}
CHAPTER_NOTEBOOK_RE = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")
PRIME_NS = 1_000_000_000  # primed access time = modification time - 1 s


def digest_file(path: Path) -> str:
    """SHA-256 of a file's bytes (hex)."""
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def digest_tree(folder: Path) -> str:
    """SHA-256 over every file under ``folder`` (relative path and content; caches skipped)."""
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            sha.update(f"{path.relative_to(folder).as_posix()}\0{digest_file(path)}\n".encode())
    return sha.hexdigest()


def software_versions() -> str:
    """Python and the versions of the packages in ``SOFTWARE``, as one line."""

    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "none"

    versions = [f"{dist} {version(dist)}" for dist in SOFTWARE]
    return ", ".join([f"python {platform.python_version()}", *versions])


def chapter_key(
    chapter: Chapter, *, mode: str, edition: str, root: Path, library: str | None = None
) -> dict[str, str]:
    """What a chapter's run depends on, before the files of earlier chapters (``KEY_LABELS``).

    ``library`` is :func:`digest_tree` of ``root/src/emergence_lib`` (computed once per build).
    """
    return {
        "format": FORMAT,
        "source": digest_file(chapter.source(root)),
        "library": library if library is not None else digest_tree(root / LIBRARY),
        "mode": mode,
        "edition": edition,
        "software": software_versions(),
        "executor": digest_file(EXECUTOR),
        "environment": json.dumps(build_environment(), sort_keys=True),
    }


def entry_dir(paths: EditionPaths, mode: str, chapter: Chapter) -> Path:
    """The folder of a chapter's cached run for one edition and mode."""
    return paths.cache / mode / chapter.stem


def failed_marker(entry: Path) -> Path:
    """The file that says the last execution of this entry's chapter failed (beside the entry)."""
    return entry.with_name(entry.name + ".failed")


def load_meta(entry: Path) -> dict[str, Any] | None:
    """The cached run's ``meta.json``, or None when there is no complete cached run."""
    try:
        meta = json.loads((entry / META).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or not (entry / NOTEBOOK).is_file():
        return None
    return meta


def stale_reason(
    meta: dict[str, Any] | None, key: dict[str, str], workdir: Path, *, force: bool = False
) -> str | None:
    """Why a chapter must be executed (e.g. ``"chapter source changed"``); None if its cached
    run is current. ``workdir`` holds the earlier chapters' files as this build left them."""
    if force:
        return "--force"
    if meta is None:
        return "no cached run"
    cached_key = meta.get("key", {})
    for name, value in key.items():
        if cached_key.get(name) != value:
            return f"{KEY_LABELS.get(name, name)} changed"
    for rel, digest in sorted(meta.get("reads", {}).items()):
        path = workdir / rel
        if not path.is_file():
            return f"input {rel} is missing"
        if digest_file(path) != digest:
            return f"input {rel} changed"
    return None


def working_files(workdir: Path) -> dict[str, os.stat_result]:
    """Every file of the working directory except the staged chapter notebooks, by path."""
    files = {}
    for path in workdir.rglob("*"):
        rel = path.relative_to(workdir).as_posix()
        if path.is_file() and not CHAPTER_NOTEBOOK_RE.match(rel):
            files[rel] = path.stat()
    return files


def atime_records_reads(folder: Path) -> bool:
    """Whether reading a file in ``folder`` updates its access time once primed (not noatime)."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / ".atime-probe"
    try:
        probe.write_bytes(b"probe")
        st = probe.stat()
        os.utime(probe, ns=(st.st_mtime_ns - PRIME_NS, st.st_mtime_ns))
        probe.read_bytes()
        return probe.stat().st_atime_ns > st.st_mtime_ns - PRIME_NS
    except OSError:
        return False
    finally:
        probe.unlink(missing_ok=True)


@dataclass
class Watch:
    """The working directory just before a chapter runs: its files, their content, primed."""

    workdir: Path
    before: dict[str, os.stat_result]
    digests: dict[str, str]

    @classmethod
    def start(cls, workdir: Path) -> Watch:
        """Record and hash every file, then prime its access time (see the module docstring)."""
        before = working_files(workdir)
        digests = {rel: digest_file(workdir / rel) for rel in before}
        for rel, st in before.items():
            os.utime(workdir / rel, ns=(st.st_mtime_ns - PRIME_NS, st.st_mtime_ns))
        return cls(workdir, working_files(workdir), digests)

    def finish(self, tracks_reads: bool) -> tuple[list[str], dict[str, str]]:
        """(files the run wrote, {file it read: content digest before the run}).

        A file it changed or deleted counts as read too (its old content was there to read);
        without ``tracks_reads`` every earlier file counts as read.
        """
        after = working_files(self.workdir)

        def changed(rel: str) -> bool:
            old, new = self.before[rel], after[rel]
            return (old.st_mtime_ns, old.st_size) != (new.st_mtime_ns, new.st_size)

        written = sorted(rel for rel in after if rel not in self.before or changed(rel))
        reads = {
            rel: digest
            for rel, digest in self.digests.items()
            if not tracks_reads
            or rel not in after
            or changed(rel)
            or after[rel].st_atime_ns > self.before[rel].st_atime_ns
        }
        return written, reads


def store(entry: Path, notebook: Path, workdir: Path, written: list[str], meta: dict) -> None:
    """Save a successful run: its notebook, the files it wrote, ``meta.json`` (replaces any)."""
    tmp = entry.with_name(entry.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    (tmp / FILES).mkdir(parents=True)
    shutil.copy2(notebook, tmp / NOTEBOOK)
    for rel in written:
        (tmp / FILES / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(workdir / rel, tmp / FILES / rel)
    (tmp / META).write_text(json.dumps({**meta, "files": written}, indent=2) + "\n")
    if entry.exists():
        shutil.rmtree(entry)
    tmp.rename(entry)


def trained_files(meta: dict[str, Any]) -> list[str]:
    """The files under ``TRAINED`` that a cached run wrote (its trained models)."""
    return [rel for rel in meta.get("files", []) if rel.split("/")[0] == TRAINED]


def restore(entry: Path, meta: dict[str, Any], workdir: Path, notebook: Path) -> None:
    """Put a cached run back: its notebook at ``notebook``, its files into ``workdir``."""
    shutil.copy2(entry / NOTEBOOK, notebook)
    for rel in meta.get("files", []):
        (workdir / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(entry / FILES / rel, workdir / rel)
