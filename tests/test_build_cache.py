"""The build cache (scripts/bookbuild/cache.py): which changes re-execute a chapter.

No real chapter runs: ``fake_execute`` stands in for papermill. Fake chapter 01 writes a
checkpoint into the working directory's ``.cache/``, fake chapter 02 reads it (as chapter 2
reads chapter 1's checkpoints), fake chapter 03 ignores it.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

import build_book  # noqa: E402
from bookbuild import cache  # noqa: E402
from bookbuild.common import Chapter, ChapterRun, EditionPaths  # noqa: E402
from bookbuild.pipeline import run_chapter  # noqa: E402
from bookbuild.status import status_markdown, timings_record  # noqa: E402

CH1, CH2, CH3 = (Chapter(f"notebooks/{s}") for s in ("01_fake", "02_fake", "03_fake"))
CHECKPOINT = ".cache/model.pt"


class FakeBook:
    """A tiny repository (three fake chapters, a one-file library) and a fake executor."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.checkpoint = b"weights v1"  # what fake chapter 01 writes
        self.executed: list[str] = []  # chapter numbers, in execution order
        self.fail: set[str] = set()
        for chapter in (CH1, CH2, CH3):
            self.write_source(chapter, f"# %% [markdown]\n# # {chapter.stem}\n")
        (root / "src" / "emergence_lib").mkdir(parents=True)
        (root / "src" / "emergence_lib" / "__init__.py").write_text("VERSION = 1\n")

    def write_source(self, chapter: Chapter, text: str) -> None:
        """Write a chapter's jupytext source."""
        chapter.source(self.root).parent.mkdir(parents=True, exist_ok=True)
        chapter.source(self.root).write_text(text)

    def execute(self, chapter: Chapter, out_dir: Path, **kwargs: object) -> ChapterRun:
        """Stand-in for ``execute_chapter``: write the notebook, touch the shared checkpoint."""
        self.executed.append(chapter.number)
        nbformat.write(nbformat.v4.new_notebook(), out_dir / f"{chapter.stem}.ipynb")
        if chapter.number in self.fail:
            return ChapterRun(chapter, 1.0, ok=False, error="cell 3 raised CheckFailed")
        ckpt = out_dir / CHECKPOINT
        if chapter == CH1:
            ckpt.parent.mkdir(exist_ok=True)
            ckpt.write_bytes(self.checkpoint)
        elif chapter == CH2:
            if ckpt.is_file():
                ckpt.read_bytes()  # reuse chapter 1's model
            else:
                ckpt.parent.mkdir(exist_ok=True)
                ckpt.write_bytes(self.checkpoint)  # train it here
        return ChapterRun(chapter, 10.0 + int(chapter.number), ok=True, widgets=2)

    def build(
        self,
        chapters: tuple[Chapter, ...] = (CH1, CH2, CH3),
        *,
        edition: str = "instructor",
        full: bool = False,
        force: bool = False,
        tracks_reads: bool | None = None,
        commit: str = "abc1234",
    ) -> dict[str, ChapterRun]:
        """One build: a fresh working directory, the chapters in order, as the pipeline does."""
        paths = EditionPaths(edition, self.root)
        if paths.staging.exists():
            shutil.rmtree(paths.staging)
        paths.executed.mkdir(parents=True)
        if tracks_reads is None:
            tracks_reads = cache.atime_records_reads(paths.executed)
        library = cache.digest_tree(self.root / cache.LIBRARY)
        return {
            c.number: run_chapter(
                c,
                paths,
                full=full,
                force=force,
                library=library,
                tracks_reads=tracks_reads,
                commit=commit,
                execute=self.execute,
            )
            for c in chapters
        }


@pytest.fixture
def book(tmp_path: Path) -> FakeBook:
    return FakeBook(tmp_path)


def reasons(runs: dict[str, ChapterRun]) -> dict[str, str]:
    return {number: run.reason for number, run in runs.items()}


def test_first_build_executes_second_reuses(book: FakeBook) -> None:
    first = book.build(commit="abc1234")
    assert book.executed == ["01", "02", "03"]
    assert set(reasons(first).values()) == {"no cached run"}
    second = book.build(commit="def5678")
    assert book.executed == ["01", "02", "03"], "nothing changed: nothing may run again"
    for number, run in second.items():
        assert run.reused and run.ok
        assert run.run_commit == "abc1234", "a reused run keeps the commit it was made on"
        assert run.run_date == first[number].run_date
        assert run.seconds == first[number].seconds and run.widgets == 2
    paths = EditionPaths("instructor", book.root)
    assert (paths.executed / "02_fake.ipynb").is_file(), "the cached notebook is staged"
    assert (paths.executed / CHECKPOINT).read_bytes() == b"weights v1", "files are restored"


def test_source_change_reexecutes_only_that_chapter(book: FakeBook) -> None:
    book.build()
    book.write_source(CH3, "# %% [markdown]\n# # Chapter 3, edited\n")
    runs = book.build()
    assert book.executed[3:] == ["03"]
    assert runs["03"].reason == "chapter source changed"
    assert runs["01"].reused and runs["02"].reused


def test_library_change_reexecutes_every_chapter(book: FakeBook) -> None:
    book.build()
    (book.root / "src" / "emergence_lib" / "train.py").write_text("STEPS = 10\n")
    runs = book.build()
    assert book.executed[3:] == ["01", "02", "03"]
    assert set(reasons(runs).values()) == {"library (src/emergence_lib) changed"}


def test_library_bytecode_does_not_count(book: FakeBook) -> None:
    book.build()
    pycache = book.root / "src" / "emergence_lib" / "__pycache__"
    pycache.mkdir()
    (pycache / "__init__.cpython-311.pyc").write_bytes(b"\x00")
    book.build()
    assert book.executed == ["01", "02", "03"]


def test_mode_and_edition_have_their_own_runs(book: FakeBook) -> None:
    book.build()
    full = book.build(full=True)
    assert set(reasons(full).values()) == {"no cached run"}, "FULL never reuses a FAST run"
    student = book.build(edition="student")
    assert set(reasons(student).values()) == {"no cached run"}
    count = len(book.executed)
    again = book.build()  # FAST instructor: still cached
    assert len(book.executed) == count and all(r.reused for r in again.values())


def test_force_executes_everything(book: FakeBook) -> None:
    book.build()
    runs = book.build(force=True)
    assert book.executed[3:] == ["01", "02", "03"]
    assert set(reasons(runs).values()) == {"--force"}
    assert book.build()["02"].reused, "a forced run refreshes the cache"


def test_chapter_reading_an_earlier_chapters_file(book: FakeBook) -> None:
    book.build()
    # Chapter 1 edited, same checkpoint: chapter 2 (which read it) stays cached.
    book.write_source(CH1, "# %% [markdown]\n# # Chapter 1, prose edited\n")
    runs = book.build()
    assert book.executed[3:] == ["01"] and runs["02"].reused
    # Chapter 1 now writes a different checkpoint: chapter 2 runs again.
    book.write_source(CH1, "# %% [markdown]\n# # Chapter 1, new training\n")
    book.checkpoint = b"weights v2"
    runs = book.build()
    assert runs["02"].reason == f"input {CHECKPOINT} changed"
    if not cache.atime_records_reads(book.root / "_build"):
        pytest.skip("this file system does not record reads (noatime)")
    assert book.executed[4:] == ["01", "02"], "chapter 3 never read the checkpoint"


def test_chapter_2_alone_then_with_chapter_1(book: FakeBook) -> None:
    """A CHAPTERS=02 build trains chapter 2's model itself; a later full build stays valid."""
    book.build((CH2,))
    runs = book.build()
    assert book.executed == ["02", "01", "03"], "chapter 2 read nothing the first time"
    assert runs["02"].reused


def test_without_read_tracking_every_earlier_file_counts(book: FakeBook) -> None:
    book.build(tracks_reads=False)
    book.write_source(CH1, "# %% [markdown]\n# # new training\n")
    book.checkpoint = b"weights v2"
    runs = book.build(tracks_reads=False)
    assert book.executed[3:] == ["01", "02", "03"]
    assert runs["03"].reason == f"input {CHECKPOINT} changed"


def test_missing_input_reexecutes(book: FakeBook) -> None:
    book.build()
    book.build((CH2, CH3))  # chapter 1 left out: its checkpoint is not in the folder
    assert book.executed[3:] == ["02"]


def test_failed_run_is_not_cached(book: FakeBook) -> None:
    book.build()
    book.write_source(CH3, "# %% [markdown]\n# # broken\n")
    book.fail = {"03"}
    assert not book.build()["03"].ok
    book.fail = set()
    runs = book.build()
    assert runs["03"].reason == "chapter source changed" and runs["03"].ok
    assert runs["03"].reused is False


def test_corrupt_meta_means_no_cached_run(book: FakeBook) -> None:
    book.build()
    entry = cache.entry_dir(EditionPaths("instructor", book.root), "FAST", CH1)
    (entry / cache.META).write_text("{not json")
    assert book.build()["01"].reason == "no cached run"


def test_stale_reason_names_each_key_part(book: FakeBook) -> None:
    key = {"source": "a", "library": "b", "mode": "FAST"}
    meta = {"key": dict(key), "reads": {}}
    assert cache.stale_reason(meta, key, book.root) is None
    assert cache.stale_reason(meta, key, book.root, force=True) == "--force"
    assert cache.stale_reason(None, key, book.root) == "no cached run"
    assert cache.stale_reason(meta, {**key, "mode": "FULL"}, book.root) == "mode changed"
    meta["reads"] = {"gone.pt": "0" * 64}
    assert cache.stale_reason(meta, key, book.root) == "input gone.pt is missing"


def test_status_page_says_executed_or_reused(book: FakeBook) -> None:
    first_load = book.build(commit="abc1234")["01"].run_load
    assert first_load and first_load != "unknown"
    book.write_source(CH3, "# %% [markdown]\n# # edited\n")
    runs = book.build(commit="def5678")
    record = timings_record(runs.values(), edition="instructor", full=False, info={"CPU": "x"})
    rows = {row["chapter"]: row for row in record["chapters"]}
    assert rows[CH1.docname]["executed"] is False and rows[CH1.docname]["run_commit"] == "abc1234"
    assert rows[CH3.docname]["executed"] is True
    assert record["executed_seconds"] == 13.0 and record["total_seconds"] == 11 + 12 + 13
    page = status_markdown(record)
    line1 = next(x for x in page.splitlines() if CH1.docname in x)
    line3 = next(x for x in page.splitlines() if CH3.docname in x)
    assert "reused from the cache: run of" in line1 and "`abc1234`" in line1
    assert " UTC" in line1
    assert rows[CH1.docname]["load_average_at_start"] == first_load
    assert "executed (chapter source changed)" in line3
    assert json.loads(json.dumps(record)) == record


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("yes", True), ("", False), ("false", False), ("0", False)],
)
def test_ci_means_force(value: str, expected: bool) -> None:
    assert build_book.running_in_ci({"CI": value}) is expected
    assert build_book.running_in_ci({}) is False


def test_main_passes_force(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake_build(edition: str, **kwargs: object) -> int:
        seen.update(kwargs)
        return 0

    monkeypatch.setattr(build_book, "build", fake_build)
    monkeypatch.delenv("CI", raising=False)
    assert build_book.main(["--chapters", "00"]) == 0 and seen["force"] is False
    assert build_book.main(["--force"]) == 0 and seen["force"] is True
    monkeypatch.setenv("CI", "true")
    assert build_book.main([]) == 0 and seen["force"] is True


def test_unexecuted_chapter_shows_glue_keys(book: FakeBook) -> None:
    """A CHAPTERS= subset build stages the other chapters without outputs, so without glue
    data: their glue roles become the keys in code font (else Sphinx -W fails on each)."""
    from bookbuild.site import stage_unexecuted

    book.write_source(
        CH1,
        "# %% [markdown]\n# # 1. Fake\n\n# %% [markdown]\n"
        "# The jump is {glue:text}`ch01_ratio:.1f`x at step {glue}`ch01_step`.\n"
        "# ```{glue:figure} ch01_fig\n# :name: fig-x\n# ```\n\n"
        "# %%\nglue('ch01_ratio', 3.0, '.1f')\n",
    )
    out = book.root / "staged"
    out.mkdir()
    stage_unexecuted(CH1, out, edition="instructor", root=book.root)
    nb = nbformat.read(out / "01_fake.ipynb", as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "{glue" not in text
    assert "The jump is `ch01_ratio`x at step `ch01_step`." in text
    assert "```text\n:name: fig-x" in text
    assert "not executed in this build" in nb.cells[1].source
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert code == ["glue('ch01_ratio', 3.0, '.1f')"], "code cells are untouched"


def test_build_environment_is_set_recorded_and_keyed(book: FakeBook, monkeypatch) -> None:
    """The build's settings reach the kernels, a value set by the user wins, and a change of
    either re-executes the chapters (the values are part of the cache key)."""
    from bookbuild.common import BUILD_ENVIRONMENT, build_environment

    for name in BUILD_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    assert build_environment() == BUILD_ENVIRONMENT
    book.build()
    assert all(run.reused for run in book.build().values())
    book.executed.clear()
    monkeypatch.setenv("EMERGENCE_SWEEP_BACKEND", "serial")
    assert build_environment()["EMERGENCE_SWEEP_BACKEND"] == "serial"
    runs = book.build()
    assert book.executed == ["01", "02", "03"]
    assert runs["01"].reason == "build environment (bookbuild/common.py BUILD_ENVIRONMENT) changed"


def test_status_page_shows_cpu_seconds() -> None:
    """CPU seconds per chapter and in total; 'unknown' for a run that did not record them."""
    runs = [ChapterRun(CH1, 20.0, ok=True, cpu_seconds=9.5),
            ChapterRun(CH2, 30.0, ok=True, cpu_seconds=10.25)]
    record = timings_record(runs, edition="student", full=False, info={"CPU": "x"})
    assert record["total_cpu_seconds"] == 19.75
    assert [row["cpu_seconds"] for row in record["chapters"]] == [9.5, 10.25]
    page = status_markdown(record)
    assert "| 20.0 | 9.5 |" in next(x for x in page.splitlines() if CH1.docname in x)
    assert "**19.8**" in page
    unknown = timings_record([ChapterRun(CH1, 20.0, ok=True)], edition="student", full=False,
                             info={})
    assert unknown["total_cpu_seconds"] is None
    assert "| 20.0 | unknown |" in status_markdown(unknown)


# --- the student edition borrowing the instructor edition's trained models (make test) ---


def borrowing_build(book: FakeBook, chapters: tuple[Chapter, ...] = (CH1, CH2),
                    **kwargs: object) -> dict[str, ChapterRun]:
    """A student build that takes its trained models from the instructor edition's runs."""
    paths = EditionPaths("student", book.root)
    if paths.staging.exists():
        shutil.rmtree(paths.staging)
    paths.executed.mkdir(parents=True)
    library = cache.digest_tree(book.root / cache.LIBRARY)
    return {
        c.number: run_chapter(c, paths, full=False, force=True, library=library,
                              tracks_reads=True, commit="abc1234", execute=book.execute,
                              training_from=EditionPaths("instructor", book.root),
                              **kwargs)
        for c in chapters
    }


def test_student_loads_the_instructor_runs_models(book: FakeBook) -> None:
    """Chapter 01's checkpoint comes from the instructor's run, so the student's chapter 02
    finds it; the copy is recorded as the student run's file (a cached rebuild restores it)."""
    book.build(edition="instructor")
    book.checkpoint = b"weights the student would train"
    runs = borrowing_build(book, wait_s=5)
    assert "1 trained-model file(s) from the instructor edition's run" in runs["01"].reason
    assert "the instructor edition's run kept no trained models" in runs["02"].reason
    student = EditionPaths("student", book.root)
    assert (student.executed / CHECKPOINT).read_bytes() == b"weights the student would train"
    stored = cache.load_meta(cache.entry_dir(student, "FAST", CH1))
    assert CHECKPOINT in stored["files"]


def test_borrowing_stops_waiting_for_a_failed_run(book: FakeBook) -> None:
    book.fail = {"01"}
    book.build(edition="instructor", chapters=(CH1,))
    assert cache.failed_marker(cache.entry_dir(EditionPaths("instructor", book.root), "FAST",
                                               CH1)).exists()
    book.fail = set()
    runs = borrowing_build(book, (CH1,), wait_s=60)   # would wait a minute without the marker
    assert "the instructor edition's run failed, so it trains here" in runs["01"].reason


def test_borrowing_does_not_wait_when_no_build_of_the_other_edition_runs(book: FakeBook) -> None:
    runs = borrowing_build(book, wait_s=60)   # would wait a minute each if it waited
    assert "no current instructor run and no instructor build running, so it trains here" in (
        runs["01"].reason)
    assert book.executed == ["01", "02"]


def test_borrowing_waits_while_the_other_build_runs(book: FakeBook) -> None:
    """A live instructor build (its marker names this test's process) is waited for."""
    import os
    import time

    from bookbuild.pipeline import building_marker, is_building

    instructor = EditionPaths("instructor", book.root)
    instructor.out.mkdir(parents=True, exist_ok=True)
    building_marker(instructor).write_text(str(os.getpid()))
    assert is_building(instructor)
    start = time.monotonic()
    runs = borrowing_build(book, (CH1,), wait_s=1.5)
    assert time.monotonic() - start >= 1.5
    assert "no instructor run after 2 s, so it trains here" in runs["01"].reason
    building_marker(instructor).write_text("999999999")   # no such process
    assert not is_building(instructor)


def test_borrowing_ignores_a_run_of_other_code(book: FakeBook) -> None:
    book.build(edition="instructor")
    book.write_source(CH1, "# %% [markdown]\n# # changed\n")
    runs = borrowing_build(book, wait_s=60)
    assert "so it trains here" in runs["01"].reason
    assert "the instructor edition's run kept" in runs["02"].reason  # 02's source is unchanged


def test_training_from_must_be_the_other_edition(book: FakeBook) -> None:
    from bookbuild.common import BuildError
    from bookbuild.pipeline import build

    with pytest.raises(BuildError, match="--training-from must be another edition"):
        build("student", training_from="student", root=book.root)
