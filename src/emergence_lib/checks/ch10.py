"""Chapter 10 (the atlas): did every chapter contribute its record, does each record say what its
chapter printed, and does the figure show them all; and the atlas's readings of the table (the
steepness ranking, where emergence is the metric's, which progress measures lead), each a plain
function of the records' numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..atlas import TransitionRecord
from . import Verdict, verdict


def atlas_verdict(expected: Sequence[str], records: Mapping[str, TransitionRecord],
                  mismatches: Mapping[str, Sequence[str]], n_curves: int) -> Verdict:
    """``expected``: the toc's chapters; ``records``: chapter -> its record; ``mismatches``:
    chapter -> problems found comparing its record's printed numbers with its executed notebook
    (``atlas.printed_mismatches``, or why it could not be read); ``n_curves``: metric curves
    drawn in the figure's first panel."""
    if isinstance(expected, str) or not isinstance(expected, Sequence) or not expected:
        raise ValueError(f"expected must be a non-empty sequence of chapter stems, got "
                         f"{expected!r}")
    if isinstance(n_curves, bool) or not isinstance(n_curves, int) or n_curves < 0:
        raise ValueError(f"n_curves must be an int >= 0 (curves in the figure), got {n_curves!r}")
    missing = [c for c in expected if c not in records]
    problems = [p for c in expected for p in mismatches.get(c, ())]
    unchecked = [c for c in expected if c in records and c not in mismatches]
    checked = sum(len(records[c].printed) for c in expected if c in records)
    conditions = {
        "every chapter recorded": (not missing, f"no record from {', '.join(missing)}"),
        "printed numbers match": (not problems and not unchecked,
                                  "; ".join(problems) if problems else
                                  f"not compared with a notebook: {', '.join(unchecked)}"),
        "one curve per chapter": (n_curves == len(expected),
                                  f"the figure has {n_curves} metric curves for "
                                  f"{len(expected)} chapters"),
    }
    found = len(expected) - len(missing)
    sentence = (
        f"{found} of the {len(expected)} chapters of the table of contents contributed a record"
        + (f" (missing: {', '.join(missing)})" if missing else "")
        + f"; {checked - len(problems)} of the {checked} numbers the records carry match what "
        f"their chapters printed" + (f" ({len(problems)} do not)" if problems else "")
        + f"; the figure draws {n_curves} metric curves.")
    return verdict(conditions, sentence, {"records": found, "expected": len(expected),
                                          "printed": checked, "mismatches": len(problems),
                                          "curves": n_curves})


# ---- readings of the table --------------------------------------------------------------

def steepness_ranking(records: Mapping[str, TransitionRecord]
                      ) -> list[tuple[str, float, float, float]]:
    """(chapter, |k|, interval low, interval high) of every fitted record, steepest first; k is
    per unit of ln x, so it compares transitions across chapters (a factor e of the control
    parameter) whatever their units. Intervals are the bootstrap's, in |k|."""
    rows = []
    for chapter, r in records.items():
        if r.steepness is None or not math.isfinite(r.steepness):
            continue
        lo, hi = r.steepness_interval or (math.nan, math.nan)
        lo, hi = sorted((abs(lo), abs(hi))) if r.steepness_interval else (math.nan, math.nan)
        rows.append((chapter, abs(r.steepness), lo, hi))
    return sorted(rows, key=lambda row: -row[1])


def separated(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """True when two intervals (lo, hi) do not overlap (NaN bounds never separate)."""
    if not all(math.isfinite(v) for v in (*a, *b)):
        return False
    return a[1] < b[0] or b[1] < a[0]


def metric_reading(answer: bool | None, explains: bool | None) -> str:
    """What the atlas says about the metric question for one chapter: ``answer`` is the
    chapter's own (True: an artefact), ``explains`` chapter 2's test in the atlas (None: not
    applicable). 'the metric' / 'not the metric' when the two agree or only one speaks,
    'disputed' when they disagree, 'not tested' when neither speaks."""
    if answer is None and explains is None:
        return "not tested"
    if answer is not None and explains is not None and bool(answer) != bool(explains):
        return "disputed"
    said = answer if answer is not None else explains
    return "the metric" if said else "not the metric"


def relative_lead(record: TransitionRecord) -> float | None:
    """The progress measure's lead as a share of the metric's midpoint (x-units / x-units), or
    None without a lead or a midpoint."""
    if record.lead is None or not record.midpoint or not math.isfinite(record.lead):
        return None
    return float(record.lead / record.midpoint)


def essay_counts(readings: Mapping[str, str], leads: Mapping[str, float | None],
                 predictable: Mapping[str, bool | None]) -> dict[str, list[str]]:
    """Chapters grouped for the essay: 'metric' / 'real' / 'disputed' / 'untested' by their
    metric reading,
    'leads' (a progress measure moves first), 'lags' (it does not), 'no_progress', and
    'predicted' / 'not_predicted' / 'prediction_untested'."""
    out: dict[str, list[str]] = {k: [] for k in (
        "metric", "real", "disputed", "untested", "leads", "lags", "no_progress", "predicted",
        "not_predicted", "prediction_untested")}
    for c, reading in readings.items():
        out[{"the metric": "metric", "not the metric": "real", "disputed": "disputed"}.get(
            reading, "untested")].append(c)
    for c, value in leads.items():
        out["no_progress" if value is None else "leads" if value > 0 else "lags"].append(c)
    for c, value in predictable.items():
        out[{True: "predicted", False: "not_predicted"}.get(value, "prediction_untested")
            ].append(c)
    return out
