"""The whole build, stage after stage: toc, execution (or the cache), status page, site."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import cache
from .common import EDITIONS, REPO, BuildError, Chapter, ChapterRun, EditionPaths
from .decorate import bibtex_keys, decorate_chapter, glossary_linker
from .execute import DEFAULT_TIMEOUT_S, execute_chapter
from .site import jupyter_book_build, point_colab_to_student, stage_sources, stage_unexecuted
from .status import (
    git_commit,
    load_average,
    machine_info,
    status_markdown,
    timings_record,
    utc_now,
)
from .toc import check_repository_url, load_yaml, select_chapters, toc_chapters
from .tracks import write_tracks

# What a borrowed run must share with this one: everything but the build environment (threads
# change the last bits of a trained model, not what it is) and, of course, the edition.
BORROW_KEY = ("format", "source", "library", "mode", "software", "executor")


def building_marker(paths: EditionPaths) -> Path:
    """The file an edition's build holds while it runs: its process id."""
    return paths.out / "building.pid"


def is_building(paths: EditionPaths) -> bool:
    """Whether a build of that edition is running now (its marker names a live process)."""
    try:
        pid = int(building_marker(paths).read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def borrow_training(
    chapter: Chapter,
    paths: EditionPaths,
    source: EditionPaths,
    *,
    mode: str,
    library: str,
    wait_s: float,
    poll_s: float = 1.0,
) -> str:
    """Copy the trained models (the files under ``.cache/``) that edition ``source``'s current
    run of ``chapter`` wrote (same source, library, mode, software and executor) into this
    edition's working directory, so this run loads them instead of training them again. While
    a build of ``source`` is running, wait for that run; give up, and train, when there is none
    and no build is running, when the run failed, or after ``wait_s``. Returns what happened,
    for the log and the status page."""
    key = cache.chapter_key(
        chapter, mode=mode, edition=source.edition, root=source.root, library=library
    )
    entry = cache.entry_dir(source, mode, chapter)
    began = time.monotonic()
    deadline = began + wait_s
    while True:
        meta = cache.load_meta(entry)
        if meta is not None and all(meta.get("key", {}).get(k) == key[k] for k in BORROW_KEY):
            break
        if cache.failed_marker(entry).exists():
            return f"the {source.edition} edition's run failed, so it trains here"
        if not is_building(source):
            return f"no current {source.edition} run and no {source.edition} build running, " \
                   f"so it trains here"
        if time.monotonic() >= deadline:
            return f"no {source.edition} run after {wait_s:.0f} s, so it trains here"
        time.sleep(poll_s)
    files = cache.trained_files(meta)
    try:
        for rel in files:
            (paths.executed / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(entry / cache.FILES / rel, paths.executed / rel)
    except OSError as exc:  # that build replaced the run meanwhile: train what is missing
        return f"the {source.edition} run changed while it was copied ({exc}), so it trains here"
    waited = time.monotonic() - began
    after = f", after waiting {waited:.0f} s" if waited >= 1 else ""
    if not files:
        return f"the {source.edition} edition's run kept no trained models{after}"
    return f"{len(files)} trained-model file(s) from the {source.edition} edition's run{after}"


def run_chapter(
    chapter: Chapter,
    paths: EditionPaths,
    *,
    full: bool,
    force: bool,
    library: str,
    tracks_reads: bool,
    commit: str,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    execute: Callable[..., ChapterRun] = execute_chapter,
    training_from: EditionPaths | None = None,
    wait_s: float = DEFAULT_TIMEOUT_S,
) -> ChapterRun:
    """Reuse the chapter's cached run if it is current, else execute it (and cache the run).

    ``execute`` has :func:`execute_chapter`'s signature (tests pass a fake).
    ``training_from``: another edition built at the same time; before executing, this chapter
    takes the models that edition's run of it trained (:func:`borrow_training`).
    """
    mode = "FULL" if full else "FAST"
    key = cache.chapter_key(
        chapter, mode=mode, edition=paths.edition, root=paths.root, library=library
    )
    entry = cache.entry_dir(paths, mode, chapter)
    meta = cache.load_meta(entry)
    reason = cache.stale_reason(meta, key, paths.executed, force=force)
    notebook = paths.executed / f"{chapter.stem}.ipynb"
    if reason is None and meta is not None:
        cache.restore(entry, meta, paths.executed, notebook)
        return ChapterRun(
            chapter,
            float(meta["seconds"]),
            ok=True,
            widgets=int(meta.get("widgets", 0)),
            reused=True,
            reason="cached run is current",
            run_date=str(meta.get("date", "")),
            run_commit=str(meta.get("commit", "unknown")),
            run_load=str(meta.get("load_average", "unknown")),
            cpu_seconds=meta.get("cpu_seconds"),
        )
    watch = cache.Watch.start(paths.executed)
    if training_from is not None:  # after the watch starts: the copies count as this run's files
        borrowed = borrow_training(
            chapter, paths, training_from, mode=mode, library=library, wait_s=wait_s
        )
        reason = f"{reason}; {borrowed}"
    print(f"[execute] {chapter.docname} ({reason}) ...", flush=True)
    failed = cache.failed_marker(entry)
    failed.unlink(missing_ok=True)
    date, load = utc_now(), load_average()
    run = execute(
        chapter,
        paths.executed,
        edition=paths.edition,
        full=full,
        timeout_s=timeout_s,
        root=paths.root,
    )
    run.reason, run.run_date, run.run_commit, run.run_load = reason, date, commit, load
    if run.ok:
        written, reads = watch.finish(tracks_reads)
        meta = {
            "chapter": chapter.docname,
            "key": key,
            "reads": reads,
            "seconds": round(run.seconds, 2),
            "cpu_seconds": None if run.cpu_seconds is None else round(run.cpu_seconds, 2),
            "widgets": run.widgets,
            "date": date,
            "commit": commit,
            "load_average": load,
        }
        cache.store(entry, notebook, paths.executed, written, meta)
    else:
        failed.parent.mkdir(parents=True, exist_ok=True)
        failed.touch()  # an edition waiting to borrow this run's models stops waiting
    return run


def decorate_all(paths: EditionPaths, chapters: list[Chapter]) -> None:
    """Glossary links, further reading and live-widget notes on every staged chapter page."""
    linker = glossary_linker(paths.staging / "book")
    keys = bibtex_keys(paths.staging / "book" / "references.bib")
    totals: dict[str, int] = {}
    for chapter in chapters:
        done = decorate_chapter(
            paths.executed / f"{chapter.stem}.ipynb", chapter, linker=linker, bib_keys=keys
        )
        for name, value in done.items():
            totals[name] = totals.get(name, 0) + value
    print("[decorate] " + ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in totals.items()))


def build(
    edition: str = "instructor",
    *,
    full: bool = False,
    chapters_sel: str | None = None,
    timeout_s: int = DEFAULT_TIMEOUT_S,
    strict: bool = True,
    force: bool = False,
    root: Path = REPO,
    training_from: str | None = None,
) -> int:
    """Run the whole pipeline; return a process exit code. ``force``: execute every chapter.
    ``training_from``: another edition being built at the same time, whose chapters' trained
    models this build loads instead of training them again (``make test`` does this)."""
    if edition not in EDITIONS:
        raise BuildError(f"EDITION must be one of {EDITIONS}, not {edition!r}")
    if training_from is not None and (training_from not in EDITIONS or training_from == edition):
        others = [e for e in EDITIONS if e != edition]
        raise BuildError(f"--training-from must be another edition ({others}), "
                         f"not {training_from!r}")
    paths = EditionPaths(edition, root)
    source = None if training_from is None else EditionPaths(training_from, root)
    marker = building_marker(paths)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(os.getpid()))
    try:
        return _build(edition, paths, source, full=full, chapters_sel=chapters_sel,
                      timeout_s=timeout_s, strict=strict, force=force, root=root)
    finally:
        marker.unlink(missing_ok=True)


def _build(edition: str, paths: EditionPaths, source: EditionPaths | None, *, full: bool,
           chapters_sel: str | None, timeout_s: int, strict: bool, force: bool,
           root: Path) -> int:
    """:func:`build` while this edition's building marker is held."""
    config = load_yaml(root / "_config.yml")
    toc = load_yaml(root / "_toc.yml")
    url = check_repository_url(config)
    all_chapters = toc_chapters(toc)
    chapters = select_chapters(all_chapters, chapters_sel)
    mode = "FULL" if full else "FAST"
    print(f"Building the {edition} edition ({mode}) of {len(chapters)} chapter(s); repo {url}")

    stage_sources(paths, config, toc)
    n_exercises = write_tracks(paths.staging / "book", all_chapters, root)
    print(f"[tracks] book/tracks.md: {n_exercises} exercises of {len(all_chapters)} chapters")
    for chapter in all_chapters:
        if chapter not in chapters:
            stage_unexecuted(chapter, paths.executed, edition=edition, root=root)
    library = cache.digest_tree(root / cache.LIBRARY)
    tracks_reads = cache.atime_records_reads(paths.executed)
    commit = git_commit()
    runs: list[ChapterRun] = []
    for chapter in chapters:
        run = run_chapter(
            chapter,
            paths,
            full=full,
            force=force,
            library=library,
            tracks_reads=tracks_reads,
            commit=commit,
            timeout_s=timeout_s,
            training_from=source,
        )
        if run.reused:
            print(
                f"[cache] {chapter.docname}: reused the run of {run.run_date} "
                f"(commit {run.run_commit}, {run.seconds:.1f} s)",
                flush=True,
            )
        else:
            state = "ok" if run.ok else "FAILED"
            cpu = "" if run.cpu_seconds is None else f" ({run.cpu_seconds:.1f} s CPU)"
            print(f"[execute] {chapter.docname}: {state} in {run.seconds:.1f} s{cpu}", flush=True)
        if not run.ok:
            print(run.error, file=sys.stderr, flush=True)
        runs.append(run)

    skipped = [c for c in all_chapters if c not in chapters]
    record = timings_record(
        runs, edition=edition, full=full, info=machine_info(), not_executed=skipped
    )
    paths.out.mkdir(parents=True, exist_ok=True)
    paths.timings.write_text(json.dumps(record, indent=2) + "\n")
    failed = [r for r in runs if not r.ok]
    if failed:
        names = ", ".join(r.chapter.docname for r in failed)
        print(
            f"\n{len(failed)} chapter(s) failed to execute: {names}\n"
            f"The executed notebooks (with the traceback) are in {paths.executed}.",
            file=sys.stderr,
        )
        return 1
    (paths.staging / "book" / "status.md").write_text(status_markdown(record))
    decorate_all(paths, all_chapters)

    start = time.perf_counter()
    jupyter_book_build(paths, strict=strict)
    if edition == "student":
        changed = point_colab_to_student(paths.html, url)
        print(f"[site] {changed} page(s): Colab opens notebooks/student/")
    print(f"[site] built in {time.perf_counter() - start:.1f} s")
    executed = sum(r.seconds for r in runs if not r.reused)
    reused = sum(1 for r in runs if r.reused)
    print(
        f"\nHTML: {paths.html / 'index.html'}  (chapters executed in {executed:.1f} s; "
        f"{reused} reused from the cache)"
    )
    print(f"Timings: {paths.timings}")
    return 0
