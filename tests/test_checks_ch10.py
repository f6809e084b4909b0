"""Chapter 10's verdict (the atlas is complete and true to its chapters) and its readings of the
table, each condition fed a counter-example."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emergence_lib.atlas import transition_record
from emergence_lib.checks import ch10

ANSWERS = {"metric_artefact": (None, "a"), "hidden_progress": (None, "b"),
           "predictable": (None, "c")}


def record(chapter: str, k: float = 4.0, mid: float = 30.0, **kw):
    x = np.geomspace(1, 1000, 15)
    y = 1 / (1 + np.exp(-k * (np.log(x) - np.log(mid))))
    return transition_record(chapter=chapter, phenomenon=chapter, parameter="width", unit="u",
                             x=x, metric=y, metric_name="m", answers=ANSWERS,
                             printed={f"k_{chapter}": "1"}, n_boot=20, **kw)


CHAPTERS = ["01_a", "02_b"]
RECORDS = {c: record(c) for c in CHAPTERS}
CLEAN = {c: [] for c in CHAPTERS}


def test_passes_when_complete() -> None:
    v = ch10.atlas_verdict(CHAPTERS, RECORDS, CLEAN, 2)
    assert v.passed, v.failures
    assert v.sentence.startswith("2 of the 2 chapters") and "2 of the 2 numbers" in v.sentence
    v.require()


def test_a_missing_record_fails() -> None:
    v = ch10.atlas_verdict([*CHAPTERS, "03_c"], RECORDS, CLEAN, 3)
    assert not v.passed and "every chapter recorded" in v.failures[0] and "03_c" in v.sentence
    with pytest.raises(Exception, match="no record from 03_c"):
        v.require()


def test_a_mismatch_fails() -> None:
    v = ch10.atlas_verdict(CHAPTERS, RECORDS, {**CLEAN, "01_a": ["01_a: k is '1' but '2'"]}, 2)
    assert not v.passed and any("printed numbers match" in f for f in v.failures)
    assert "(1 do not)" in v.sentence


def test_an_unchecked_record_fails() -> None:
    v = ch10.atlas_verdict(CHAPTERS, RECORDS, {"01_a": []}, 2)
    assert not v.passed and "not compared with a notebook: 02_b" in v.failures[0]


def test_a_missing_curve_fails() -> None:
    v = ch10.atlas_verdict(CHAPTERS, RECORDS, CLEAN, 1)
    assert not v.passed and "one curve per chapter" in v.failures[0]


@pytest.mark.parametrize("args, message", [
    (([], {}, {}, 0), "expected must be a non-empty"),
    (("01_a", {}, {}, 0), "expected must be a non-empty"),
    ((CHAPTERS, RECORDS, CLEAN, -1), "n_curves must be an int"),
    ((CHAPTERS, RECORDS, CLEAN, True), "n_curves must be an int"),
])
def test_bad_input_names_the_argument(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ch10.atlas_verdict(*args)


def test_ranking_is_steepest_first_by_size() -> None:
    recs = {"a": record("a", k=2), "b": record("b", k=8), "c": record("c", k=4)}
    ranked = ch10.steepness_ranking(recs)
    assert [r[0] for r in ranked] == ["b", "c", "a"]
    assert all(lo <= k <= hi for _, k, lo, hi in ranked)
    x = np.geomspace(1, 1000, 15)
    falling = transition_record(chapter="d", phenomenon="loss", parameter="step", unit="u", x=x,
                                metric=1 - 1 / (1 + np.exp(-8 * (np.log(x) - np.log(30)))),
                                metric_name="loss", answers=ANSWERS, n_boot=20)
    assert ch10.steepness_ranking({**recs, "d": falling})[0][0] in ("b", "d")  # by |k|
    assert all(k > 0 for _, k, _, _ in ch10.steepness_ranking({"d": falling}))


def test_separated() -> None:
    assert ch10.separated((1, 2), (3, 4)) and ch10.separated((3, 4), (1, 2))
    assert not ch10.separated((1, 3), (2, 4))
    assert not ch10.separated((1, math.nan), (3, 4))


@pytest.mark.parametrize("answer, explains, reading", [
    (True, None, "the metric"), (None, True, "the metric"), (True, True, "the metric"),
    (False, None, "not the metric"), (None, False, "not the metric"),
    (False, True, "disputed"), (True, False, "disputed"), (None, None, "not tested"),
])
def test_metric_reading(answer, explains, reading) -> None:
    assert ch10.metric_reading(answer, explains) == reading


def test_relative_lead_and_groups() -> None:
    x = np.geomspace(1, 1000, 15)
    r = record("a", progress=1 / (1 + np.exp(-4 * (np.log(x) - np.log(10)))),
               progress_name="p")
    assert r.lead > 0 and ch10.relative_lead(r) == pytest.approx(r.lead / r.midpoint)
    assert ch10.relative_lead(record("b")) is None
    groups = ch10.essay_counts({"a": "the metric", "b": "not the metric", "c": "disputed",
                                "d": "not tested"}, {"a": 0.5, "b": -0.1, "c": None},
                               {"a": True, "b": False, "c": None})
    assert groups["metric"] == ["a"] and groups["real"] == ["b"]
    assert groups["disputed"] == ["c"] and groups["untested"] == ["d"]
    assert groups["leads"] == ["a"] and groups["lags"] == ["b"] and groups["no_progress"] == ["c"]
    assert groups["predicted"] == ["a"] and groups["not_predicted"] == ["b"]
    assert groups["prediction_untested"] == ["c"]
