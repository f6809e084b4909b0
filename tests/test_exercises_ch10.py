"""Chapter 10's checkers: a correct answer passes, the stub is "not attempted yet", a wrong answer
fails with a message that says what is wrong; and the references themselves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from emergence_lib.atlas import transition_record
from emergence_lib.exercises import ch10

ANSWERS = {"metric_artefact": (None, "a"), "hidden_progress": (None, "b"),
           "predictable": (None, "c")}


def record(chapter: str, parameter: str = "width", k: float = 4.0, mid: float = 30.0,
           lead_by: float | None = None, linear: bool = False):
    x = np.geomspace(1, 1000, 15)
    y = (np.log(x) / np.log(1000) if linear else
         1 / (1 + np.exp(-k * (np.log(x) - np.log(mid)))))
    kw = {}
    if lead_by:
        kw = dict(progress=1 / (1 + np.exp(-k * (np.log(x) - np.log(mid / lead_by)))),
                  progress_name="p")
    return transition_record(chapter=chapter, phenomenon=chapter, parameter=parameter,
                             unit="u", x=x, metric=y, metric_name="m", answers=ANSWERS,
                             n_boot=20, **kw)


def stub(*args, **kwargs):
    raise NotImplementedError


def test_ranking_checker(capsys) -> None:
    assert ch10.check_ranking(ch10.rank_by_steepness)
    result = ch10.check_ranking(stub)
    assert not result and not result.attempted and "not attempted yet" in result.message
    wrong = ch10.check_ranking(lambda s: ch10.rank_by_steepness(s)[::-1])
    assert not wrong and "steepest first" in wrong.message
    signed = ch10.check_ranking(lambda s: [n for n, _ in sorted(
        s.items(), key=lambda i: -i[1] if math.isfinite(i[1]) else math.inf)])
    assert not signed and "negative k" in signed.message
    assert not ch10.check_ranking("not a function")


def test_rank_reference() -> None:
    assert ch10.rank_by_steepness({"a": 1, "b": -5, "c": float("nan"), "d": 1}) == [
        "b", "a", "d", "c"]


def test_wins_prediction() -> None:
    recs = {"a": record("a"), "b": record("b", linear=True)}
    assert ch10.logistic_wins(recs) == sum(bool(r.beats_linear) for r in recs.values())
    assert ch10.check_wins_prediction(ch10.logistic_wins(recs), recs)
    stubbed = ch10.check_wins_prediction(..., recs)
    assert not stubbed.attempted and "not attempted yet" in stubbed.message
    wrong = ch10.check_wins_prediction(ch10.logistic_wins(recs) + 1, recs)
    assert not wrong and "too high" in wrong.message and "R²" in wrong.message


def test_roundtrip_checker_and_reference() -> None:
    assert ch10.roundtrip_error(record("a")) == 0.0
    assert ch10.check_roundtrip(ch10.roundtrip_error)
    assert not ch10.check_roundtrip(stub).attempted
    nan = ch10.check_roundtrip(lambda record: math.nan)
    assert not nan and "NaN" in nan.message
    off = ch10.check_roundtrip(lambda record: 0.5)
    assert not off and "0.5" in off.message


def test_time_verdict_reference_and_checker() -> None:
    assert ch10.time_steeper_verdict([(5, 6), (7, 9)], [(1, 2), (3, 4)]) is True
    assert ch10.time_steeper_verdict([(3, 6)], [(1, 4)]) is False       # overlap
    assert ch10.time_steeper_verdict([(1, 2)], [(3, 4)]) is False
    assert ch10.time_steeper_verdict([], [(3, 4)]) is None
    assert ch10.check_time_verdict(False, False)
    assert not ch10.check_time_verdict(..., False).attempted
    wrong = ch10.check_time_verdict(True, False)
    assert not wrong and "overlap" in wrong.message
    assert not ch10.check_time_verdict("yes", False)
    recs = {"a": record("a", parameter="training step", k=12), "b": record("b", k=1.5)}
    assert ch10.is_time_axis(recs["a"]) and not ch10.is_time_axis(recs["b"])
    refits = ch10.refit_intervals(recs, (0, 1), n_boot=20)
    assert set(refits) == {("a", 0), ("a", 1), ("b", 0), ("b", 1)}
    assert ch10.time_steeper_reference(recs, (0, 1), n_boot=20) is True
    assert ch10.time_steeper_reference({"b": recs["b"]}, (0,), n_boot=20) is None


def test_held_out_midpoints() -> None:
    recs = {c: record(c, lead_by=3.0, mid=m) for c, m in (("a", 20), ("b", 40), ("c", 80))}
    held = ch10.held_out_midpoints(recs)
    assert set(held) == {"a", "b", "c"}
    assert all(f == pytest.approx(1.0, abs=0.1) for *_, f in held.values())   # one common lag
    assert ch10.held_out_midpoints({"a": recs["a"], "b": recs["b"]}) == {}
    mixed = {**recs, "d": record("d", lead_by=30.0, mid=300)}
    assert max(f for *_, f in ch10.held_out_midpoints(mixed).values()) > 2
