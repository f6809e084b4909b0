"""The atlas's common record: round trip, validation, normalisation, what chapters printed,
chapter 2's test on any record, and recomputing a missing record."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from emergence_lib import atlas
from emergence_lib.atlas import (
    CHAPTERS,
    TransitionRecord,
    metric_test,
    printed_mismatches,
    printed_values,
    read_records,
    recompute_records,
    toc_chapters,
    transition_record,
    write_record,
)

ANSWERS = {"metric_artefact": (True, "the metric"), "hidden_progress": (None, "not tested"),
           "predictable": (False, "no")}


def logistic_curve(x: np.ndarray, mid: float, k: float, lo: float = 0.0,
                   hi: float = 1.0) -> np.ndarray:
    return lo + (hi - lo) / (1 + np.exp(-k * (np.log(x) - np.log(mid))))


def make(**kw) -> TransitionRecord:
    x = np.geomspace(1, 1000, 25)
    base = dict(chapter="01_test", phenomenon="a jump", parameter="width", unit="units", x=x,
                metric=logistic_curve(x, 30, 6), metric_name="exact match",
                progress=logistic_curve(x, 10, 3), progress_name="per-token",
                answers=ANSWERS, printed={"ch01_mid": "30"}, n_boot=20)
    base.update(kw)
    return transition_record(**base)


def test_round_trip_keeps_every_field_including_none_and_nan(tmp_path: Path) -> None:
    rec = make(notes="n", smooth_metric=np.linspace(0, 1, 25), smooth_metric_name="smooth")
    back = TransitionRecord.from_json(rec.to_json())
    assert back == rec
    odd = make(progress=None, progress_name=None, fit=False)
    assert odd.threshold is None and odd.lead is None
    assert TransitionRecord.from_json(odd.to_json()) == odd
    # NaN survives (as the string "nan" in JSON, back to a float NaN)
    x = np.geomspace(1, 100, 8)
    flat_tail = make(x=x, metric=[0, 0, 0, 0.5, 1, 1, 1, 1], progress=None,
                     progress_name=None, n_boot=0)
    assert math.isnan(flat_tail.threshold_interval[0])
    text = flat_tail.to_json()
    assert '"nan"' in text and "NaN" not in text  # valid JSON everywhere
    json.loads(text)
    back = TransitionRecord.from_json(text)
    assert math.isnan(back.threshold_interval[0]) and back.steepness == flat_tail.steepness
    path = write_record(rec, tmp_path)
    assert path.name == "01_test.atlas.json"
    assert read_records(tmp_path) == {"01_test": rec}


def test_detects_the_transition_and_the_lead() -> None:
    rec = make()
    assert rec.midpoint == pytest.approx(30, rel=0.1)
    assert rec.onset < rec.midpoint < rec.finish
    assert rec.lead is not None and rec.lead > 0        # progress moves first
    assert rec.threshold == pytest.approx(30, rel=0.05)
    assert rec.steepness_interval[0] <= rec.steepness <= rec.steepness_interval[1]
    assert rec.beats_linear


def test_normalisation() -> None:
    rec = make(metric=logistic_curve(np.geomspace(1, 1000, 25), 30, 6, 0.2, 0.8), floor=0.2,
               ceil=0.8)
    y = rec.normalized_metric()
    assert y.min() == pytest.approx(0, abs=0.01) and y.max() == pytest.approx(1, abs=0.01)
    x = rec.normalized_x()
    assert np.interp(1.0, x, y) == pytest.approx(0.5, abs=0.05)  # midpoint at x = 1
    p = rec.normalized_progress()
    assert p[0] == pytest.approx(0, abs=0.05) and p[-1] == pytest.approx(1, abs=0.05)
    down = make(metric=1 - np.array(rec.metric), floor=0.8, ceil=0.2)   # a falling loss
    assert down.normalized_metric()[-1] == pytest.approx(1, abs=0.01)
    none = make(metric=[0.0] * 10 + [1.0] * 15, x=np.arange(1, 26), fit=False,
                progress=None, progress_name=None)
    assert none.midpoint is not None
    s = make(smooth_metric=np.linspace(2, 4, 25), smooth_metric_name="s",
             smooth_metric_floor=2.0, smooth_metric_ceil=4.0)
    assert s.normalized_smooth_metric()[[0, -1]].tolist() == pytest.approx([0, 1])


def test_fixed_levels_and_the_chapters_own_fit() -> None:
    from emergence_lib.fit import fit_logistic

    rec = make(fix_levels=True, floor=0.0, ceil=1.0)
    assert rec.fit_fixed == ("floor", "ceil")
    x = np.geomspace(1, 1000, 25)
    own = fit_logistic(x, logistic_curve(x, 50, 2), n_boot=10)
    rec = make(logistic=own)
    assert rec.threshold == own.threshold and rec.r2 == own.r2


@pytest.mark.parametrize("kw, message", [
    (dict(x=[3, 2, 1] + list(range(4, 26))), "strictly increasing"),
    (dict(x=[0] + list(range(1, 25))), "x"),
    (dict(metric=[1.0] * 25, floor=1.0, ceil=1.0), "floor and ceil must differ"),
    (dict(progress_name=None), "progress_name is required"),
    (dict(progress=[1, 2, 3]), "progress"),
    (dict(answers={"metric_artefact": (True, "s")}), "missing"),
    (dict(answers={**ANSWERS, "other": (True, "s")}), "unknown"),
    (dict(answers={**ANSWERS, "predictable": ("yes", "s")}), "answers\\['predictable'\\]"),
    (dict(smooth_metric=np.ones(25)), "smooth_metric_name is required"),
    (dict(smooth_metric=np.ones(25), smooth_metric_name="s"), "smooth_metric_floor"),
    (dict(smooth_metric=np.ones(3), smooth_metric_name="s"), "smooth_metric"),
])
def test_validation_names_the_argument(kw: dict, message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        make(**kw)


def test_logistic_must_be_a_fit() -> None:
    with pytest.raises(TypeError, match="logistic must be a fit.LogisticFit"):
        make(logistic={"threshold": 3})


def test_from_json_rejects_schema_and_unknown_fields() -> None:
    data = json.loads(make().to_json())
    with pytest.raises(ValueError, match="schema"):
        TransitionRecord.from_json(json.dumps({**data, "schema": 99}))
    with pytest.raises(ValueError, match="unknown fields"):
        TransitionRecord.from_json(json.dumps({**data, "colour": "red"}))


def glue_output(name: str, text: str, prefix: str = "application/papermill.record/") -> dict:
    return {"output_type": "display_data", "data": {f"{prefix}text/plain": repr(text)},
            "metadata": {"scrapbook": {"name": name, "mime_prefix": prefix}}}


def write_notebook(path: Path, outputs: list[dict]) -> Path:
    nb = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": outputs,
                     "execution_count": 1}], "metadata": {}, "nbformat": 4,
          "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


def test_printed_values_reads_glue_outputs(tmp_path: Path) -> None:
    nb = write_notebook(tmp_path / "01_test.ipynb", [
        glue_output("ch01_mid", "30"), glue_output("ch01_text", "a ‘sentence’", prefix=""),
        {"output_type": "display_data", "data": {"application/papermill.record/text/plain":
                                                 "1.5"},
         "metadata": {"scrapbook": {"name": "ch01_raw", "mime_prefix":
                                    "application/papermill.record/"}}},
        {"output_type": "stream", "name": "stdout", "text": "not glue"}])
    got = printed_values(nb)
    assert got == {"ch01_mid": "30", "ch01_text": "a ‘sentence’", "ch01_raw": "1.5"}
    rec = make()
    assert printed_mismatches(rec, got) == []
    assert "printed '31'" in printed_mismatches(rec, {"ch01_mid": "31"})[0]
    assert "no such key" in printed_mismatches(rec, {})[0]
    with pytest.raises(FileNotFoundError, match="notebook_path"):
        printed_values(tmp_path / "missing.ipynb")
    (tmp_path / "bad.ipynb").write_text("{")
    with pytest.raises(ValueError, match="not a notebook"):
        printed_values(tmp_path / "bad.ipynb")


def test_toc_chapters(tmp_path: Path) -> None:
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/intro\nparts:\n  - chapters:\n"
                   "      - file: notebooks/00_a\n      - file: notebooks/03_b\n"
                   "      - file: notebooks/10_atlas\n  - chapters:\n"
                   "      - file: book/status\n")
    assert toc_chapters(toc) == ("00_a", "03_b")
    assert toc_chapters(tmp_path / "none.yml") == CHAPTERS
    assert toc_chapters(None) == CHAPTERS
    assert "10_atlas" not in CHAPTERS and len(CHAPTERS) == 10


def test_metric_test_is_chapter_2s() -> None:
    x = np.geomspace(1, 1000, 25)
    sharp = make(metric=logistic_curve(x, 30, 8), floor=0.0, ceil=1.0,
                 smooth_metric=0.1 + 0.8 * np.log(x) / np.log(1000), smooth_metric_name="tok")
    found = metric_test(sharp)
    assert found.applicable and found.smooth_is_smooth and found.metric_explains
    same = make(metric=logistic_curve(x, 30, 8), smooth_metric=logistic_curve(x, 30, 8),
                smooth_metric_name="tok", floor=0.0, ceil=1.0)
    assert not metric_test(same).metric_explains       # the "smooth" one jumps as sharply
    plain = make(progress_name="weight norm")
    assert not metric_test(plain).applicable           # no smooth metric recorded
    assert "no token-level" in metric_test(plain).reason


def test_recompute_records_copies_record_and_notebook(tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write_notebook(src / "01_test.ipynb", [])
    write_notebook(src / "02_none.ipynb", [])
    out = tmp_path / "out"
    out.mkdir()
    calls = []

    def fake(source: Path, target: Path, cwd: Path) -> None:
        calls.append(source.name)
        write_notebook(target, [glue_output("ch01_mid", "30")])
        if source.stem == "01_test":
            write_record(make(), cwd)

    assert atlas.missing_chapters(["01_test", "02_none"], out) == ["01_test", "02_none"]
    assert atlas.estimate_seconds(["03_grokking", "99_new"]) == CHAPTERS_S(["03_grokking"]) + 60
    got = recompute_records(["01_test", "02_none", "03_absent"], out, search=[src],
                            progress=False, execute=fake)
    assert calls == ["01_test.ipynb", "02_none.ipynb"]
    assert got["01_test"].startswith("recomputed")
    assert got["02_none"] == "executed, but the chapter wrote no record"
    assert got["03_absent"] == "no notebook found to execute"
    assert read_records(out)["01_test"] == make()
    assert printed_values(atlas.executed_notebook("01_test", out)) == {"ch01_mid": "30"}
    # beside its own source, the executed copy never overwrites it
    got = recompute_records(["01_test"], src, search=[src], progress=False, execute=fake)
    assert printed_values(src / "01_test.ipynb") == {}
    assert atlas.executed_notebook("01_test", src).name == "01_test.executed.ipynb"

    def broken(source: Path, target: Path, cwd: Path) -> None:
        raise RuntimeError("cell 3 raised")

    got = recompute_records(["01_test"], out, search=[src], progress=False, execute=broken)
    assert "execution failed: RuntimeError: cell 3 raised" in got["01_test"]


def CHAPTERS_S(names: list[str]) -> float:
    return float(sum(atlas.FAST_CPU_S[n] for n in names))


def test_metric_test_uses_a_token_level_progress_measure() -> None:
    x = np.geomspace(1, 1000, 25)
    rec = make(metric=logistic_curve(x, 30, 8), floor=0.0, ceil=1.0,
               progress=0.1 + 0.8 * np.log(x) / np.log(1000), progress_name="per-token accuracy")
    found = metric_test(rec)
    assert found.applicable and found.metric_explains and "per-token accuracy" in found.reason
    assert atlas.smooth_candidate(make(progress_name="weight norm")) is None


def test_summary_names_the_transition_and_the_answers() -> None:
    rec = make()
    first, second = rec.summary().split("\n")
    assert first.startswith("a jump along width, midpoint 3") and "relative width" in first
    assert second.strip() == "metric artefact: yes; hidden progress: not tested; predictable: no"
    flat = make(metric=np.zeros(25) + np.r_[np.zeros(24), 1e-9], progress=None,
                progress_name=None, fit=False, floor=0.0, ceil=1.0)
    assert "midpoint not detected (relative width nan)" in flat.summary()
