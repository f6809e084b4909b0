"""Chapter 4's criterion: a phase change made by an induction circuit, shown causally.

The copy loss must start on the plateau (ln V) and end well below it; the best last-layer head's
prefix-matching score must pass its threshold during the drop; mean-ablating the previous-token
head alone, and the induction heads, must each bring back at least half of the drop; the
1-layer control must not drop; the token-matching score of the K-composed circuit must lead the
drop and end above its random-matrix baseline; and a logistic in log-step must fit the copy
loss better than a line and be steeper than the control's (bootstrap intervals apart). The
in-context-learning score on held-out text is reported, both ways.
"""

from __future__ import annotations

import math

from ..recipes.induction import INDUCTION_THRESHOLD
from . import Verdict, verdict

PLATEAU_TOLERANCE = 0.10    # the copy loss starts within 10% of ln V
DROP_FRACTION = 0.5         # ... and must end below half of ln V (the control must not)
ABLATION_RESTORED = 0.5     # an ablation "undoes the drop" when it restores >= 50% of it
MIN_LEAD = 100.0            # steps the token-matching score's onset must precede the drop's
BASELINE_SIGMAS = 5.0       # "above the random baseline": mean + this many standard deviations


def _fmt(value: float | None, fmt: str = ",.0f") -> str:
    return "never" if value is None or not math.isfinite(value) else format(value, fmt)


def _given(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def induction_verdict(*, uniform_loss: float, start_loss: float, end_loss: float,
                      drop_onset: float | None, drop_finish: float | None,
                      induction_step: float | None, slack: float,
                      restored_previous: float, restored_induction: float,
                      restored_induction_heads: float, n_induction_heads: int,
                      control_end: float, match_lead: float | None, match_final: float,
                      match_baseline: tuple[float, float], logistic_r2: float,
                      linear_r2: float, steepness: float, steepness_interval: tuple[float, float],
                      control_steepness: float, control_interval: tuple[float, float],
                      icl_score: float, icl_control: float) -> Verdict:
    """The verdict of chapter 4 from the run's numbers (steps; None or nan where never reached).

    restored_*: share of the copy-loss drop that mean-ablating the previous-token head alone,
    the best induction head alone, and all ``n_induction_heads`` induction heads bring back.
    match_*: the token-matching score of the (previous-token, induction) pair: its lead over the
    copy loss in steps, final value, and random-matrix baseline (mean, std). steepness and
    control_steepness: the logistic's k for the copy loss of each model, with bootstrap
    intervals. icl_*: Olsson et al.'s score (loss late minus early) on held-out text, 2-layer
    model and control.
    """
    if uniform_loss <= 0:
        raise ValueError(f"uniform_loss must be ln V > 0, got {uniform_loss}")
    if slack < 0:
        raise ValueError(f"slack must be >= 0 steps, got {slack}")
    half = DROP_FRACTION * uniform_loss
    during = (_given(induction_step) and _given(drop_onset) and _given(drop_finish)
              and drop_onset - slack <= induction_step <= drop_finish + slack)
    base_mean, base_std = match_baseline
    above_baseline = match_final > base_mean + BASELINE_SIGMAS * base_std
    conditions = {
        "plateau": (abs(start_loss - uniform_loss) <= PLATEAU_TOLERANCE * uniform_loss,
                    f"the copy loss started at {start_loss:.3f}, not within "
                    f"{PLATEAU_TOLERANCE:.0%} of ln V = {uniform_loss:.3f}"),
        "phase change": (end_loss < half and _given(drop_onset),
                         f"the copy loss ended at {end_loss:.3f}, needs < {half:.3f} "
                         f"(half of ln V) with a detected drop"),
        "induction head during the drop": (
            during, f"the prefix-matching score passed {INDUCTION_THRESHOLD} at step "
                    f"{_fmt(induction_step)}; the drop ran {_fmt(drop_onset)}-"
                    f"{_fmt(drop_finish)} (slack {slack:.0f})"),
        "previous-token head needed": (
            restored_previous >= ABLATION_RESTORED,
            f"ablating it restored {restored_previous:.0%}, needs >= {ABLATION_RESTORED:.0%}"),
        "induction heads needed": (
            n_induction_heads > 0 and restored_induction_heads >= ABLATION_RESTORED,
            f"ablating the {n_induction_heads} induction head(s) restored "
            f"{restored_induction_heads:.0%}, needs >= {ABLATION_RESTORED:.0%}"),
        "control flat": (control_end >= half,
                         f"the 1-layer control fell to {control_end:.3f} < {half:.3f}"),
        "composition leads": (
            _given(match_lead) and match_lead >= MIN_LEAD and above_baseline,
            f"token-matching lead {_fmt(match_lead)} steps (needs >= {MIN_LEAD:.0f}), final "
            f"{match_final:.2f} vs random {base_mean:.2f} +- {base_std:.2f} (needs > mean + "
            f"{BASELINE_SIGMAS:g} sd)"),
        "logistic beats a line": (logistic_r2 > linear_r2,
                                  f"logistic R^2 {logistic_r2:.3f} vs line {linear_r2:.3f}"),
        "steeper than the control": (
            steepness_interval[0] > control_interval[1],
            f"k = {steepness:.2f} [{steepness_interval[0]:.2f}, {steepness_interval[1]:.2f}] "
            f"vs the control's {control_steepness:.2f} [{control_interval[0]:.2f}, "
            f"{control_interval[1]:.2f}]: the intervals must not overlap"),
    }
    held = {name: ok for name, (ok, _) in conditions.items()}

    if held["plateau"] and held["phase change"]:
        parts = [f"The 2-layer model's copy loss sat on the plateau at {start_loss:.2f} "
                 f"(ln V = {uniform_loss:.2f}) and fell to {end_loss:.2f}, mostly between "
                 f"steps {_fmt(drop_onset)} and {_fmt(drop_finish)}."]
    else:
        parts = [f"The 2-layer model shows no phase change as defined here (copy loss "
                 f"{start_loss:.2f} -> {end_loss:.2f}, ln V = {uniform_loss:.2f})."]
    parts.append(f"The prefix-matching score passed {INDUCTION_THRESHOLD} at step "
                 f"{_fmt(induction_step)}, " + ("inside the drop." if during
                                                else "not inside the drop."))
    prev = "undoes most of the drop" if held["previous-token head needed"] else "does not"
    both = ("undoes most of it" if held["induction heads needed"] else "does not")
    share = ("so they share the work" if restored_induction < ABLATION_RESTORED
             <= restored_induction_heads else "")
    parts.append(f"Mean-ablating the previous-token head alone restores {restored_previous:.0%} "
                 f"of the drop ({prev}); the best induction head alone restores "
                 f"{restored_induction:.0%}, and all {n_induction_heads} induction head(s) "
                 f"together {restored_induction_heads:.0%} ({both}" +
                 (f", {share})." if share else ")."))
    parts.append(f"The 1-layer control ends at {control_end:.2f}, "
                 + ("above half of ln V: no phase change." if held["control flat"]
                    else "below half of ln V: the control drops too."))
    if held["composition leads"]:
        parts.append(f"The token-matching score of the K-composed circuit moved "
                     f"{match_lead:,.0f} steps before the copy loss and ends at "
                     f"{match_final:.2f} (random matrices {base_mean:.2f} +- {base_std:.2f}): "
                     f"hidden progress.")
    else:
        parts.append(f"The token-matching score of the K-composed circuit did not lead the "
                     f"copy loss by {MIN_LEAD:.0f} steps above its random baseline (lead "
                     f"{_fmt(match_lead)}, final {match_final:.2f}, random "
                     f"{base_mean:.2f} +- {base_std:.2f}).")
    parts.append(("A logistic in log-step fits the copy loss better than a line"
                  if held["logistic beats a line"]
                  else "A logistic in log-step does not fit the copy loss better than a line")
                 + f" (R^2 {logistic_r2:.3f} vs {linear_r2:.3f}), with steepness k = "
                 f"{steepness:.1f} [{steepness_interval[0]:.1f}, {steepness_interval[1]:.1f}] "
                 f"against the control's {control_steepness:.1f} [{control_interval[0]:.1f}, "
                 f"{control_interval[1]:.1f}]"
                 + ("." if held["steeper than the control"] else
                    ": the intervals overlap, so the 2-layer jump is not shown to be steeper."))
    if icl_score < 0:
        parts.append(f"On held-out text-like sequences the in-context-learning score is "
                     f"{icl_score:+.2f} nats (control {icl_control:+.2f}): the model predicts "
                     f"better late in the context.")
    else:
        parts.append(f"On held-out text-like sequences the in-context-learning score is "
                     f"{icl_score:+.2f} nats (control {icl_control:+.2f}): the model predicts "
                     f"worse late in the context, so this run does not show in-context "
                     f"learning in Olsson et al.'s sense.")
    passed = all(held.values())
    parts.append("Verdict: an induction-head phase change, with its causes and a leading "
                 "progress measure." if passed else
                 "Verdict: not shown (" + ", ".join(k for k, ok in held.items() if not ok)
                 + " failed).")
    numbers = {"start_loss": start_loss, "end_loss": end_loss, "drop_onset": drop_onset,
               "drop_finish": drop_finish, "induction_step": induction_step,
               "restored_previous": restored_previous, "restored_induction": restored_induction,
               "restored_induction_heads": restored_induction_heads,
               "control_end": control_end, "match_lead": match_lead,
               "match_final": match_final, "logistic_r2": logistic_r2,
               "linear_r2": linear_r2, "steepness": steepness,
               "control_steepness": control_steepness, "icl_score": icl_score,
               "icl_control": icl_control}
    return verdict(conditions, " ".join(parts), numbers)
