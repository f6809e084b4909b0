"""Chapter 3's criterion: did the network grok, and did the restricted loss lead for a reason?

The run must memorize first and generalize much later (the delay), the restricted loss must
fall long before test accuracy jumps (hidden progress), the random-frequency control must agree
with what the key-frequency rule says about the network (a few key frequencies: random sets of
that size fall far less; many: random sets fall about as much), the logistic in log-step must
fit the jump better than a line. ``llc_verdict`` says what the LLC does over training; it
fails only if an SGLD estimate failed its trace check.
"""

from __future__ import annotations

import numpy as np

from . import Verdict, verdict

MIN_DELAY = 5.0               # grokking step / memorization step
MAX_TEST_ACC_AT_MEMORIZATION = 0.30
MIN_LEAD = 100.0              # steps the restricted loss's onset must precede test accuracy's
FEW_SHARE = 0.25              # "a few" key frequencies: at most this share of the spectrum
SPECIFIC_RATIO = 0.5          # few: random sets fall at most this share of the key set's fall
SHARED_RATIO = 0.75           # many: random sets fall at least this share of it


def _fmt(value: float | None, fmt: str = ",.0f") -> str:
    return "never" if value is None else format(value, fmt)


def grokking_verdict(*, memorized_step: float | None, grokked_step: float | None,
                     test_acc_at_memorization: float | None,
                     restricted_below_start_step: float | None,
                     test_jump_onset: float | None, restricted_lead: float | None,
                     n_key: int, n_frequencies: int, key_drop: float,
                     random_drops: object, logistic_r2: float, linear_r2: float) -> Verdict:
    """The verdict of chapter 3 from the run's numbers (steps; None where never reached).

    key_drop / random_drops: how far (share of its starting value) the restricted loss of the key
    frequencies / of each random set of as many frequencies had fallen by ``test_jump_onset``.
    """
    random_drops = np.asarray(random_drops, dtype=float)
    if random_drops.ndim != 1 or not len(random_drops):
        raise ValueError(f"random_drops must be a non-empty 1-d array, got shape "
                         f"{random_drops.shape}")
    if not 1 <= n_key <= n_frequencies:
        raise ValueError(f"n_key must be in [1, n_frequencies={n_frequencies}], got {n_key}")
    ratio = (None if memorized_step is None or grokked_step is None
             else grokked_step / max(memorized_step, 1.0))
    few = n_key <= FEW_SHARE * n_frequencies
    random_median = float(np.median(random_drops))
    control = random_median / key_drop if key_drop > 0 else float("inf")
    needed = f"<= {SPECIFIC_RATIO:g}" if few else f">= {SHARED_RATIO:g}"
    leads_in_time = (restricted_below_start_step is not None and test_jump_onset is not None
                     and restricted_below_start_step < test_jump_onset)

    conditions = {
        "grokked": (ratio is not None,
                    f"memorized at step {_fmt(memorized_step)}, grokked at {_fmt(grokked_step)}"),
        "delay": (ratio is not None and ratio >= MIN_DELAY,
                  f"grokking / memorization = {_fmt(ratio, '.1f')}, needs >= {MIN_DELAY:g}"),
        "chance at memorization": (
            test_acc_at_memorization is not None
            and test_acc_at_memorization < MAX_TEST_ACC_AT_MEMORIZATION,
            f"test accuracy {_fmt(test_acc_at_memorization, '.1%')} when train accuracy hit "
            f"99%, needs < {MAX_TEST_ACC_AT_MEMORIZATION:.0%}"),
        "restricted loss leads": (
            leads_in_time and restricted_lead is not None and restricted_lead >= MIN_LEAD,
            f"restricted loss below its start at step {_fmt(restricted_below_start_step)}, "
            f"test-accuracy jump at {_fmt(test_jump_onset)}, lead {_fmt(restricted_lead)} "
            f"steps (needs >= {MIN_LEAD:.0f})"),
        "random-frequency control": (
            control <= SPECIFIC_RATIO if few else control >= SHARED_RATIO,
            f"random sets fell {control:.2f} of the key set's fall; with "
            f"{'a few' if few else 'many'} key frequencies ({n_key} of {n_frequencies}) that "
            f"must be {needed}"),
        "logistic beats a line": (logistic_r2 > linear_r2,
                                  f"logistic R^2 {logistic_r2:.3f} vs line {linear_r2:.3f}"),
    }
    grokked = all(conditions[k][0] for k in ("grokked", "delay", "chance at memorization"))
    if grokked:
        first = (f"The network grokked: train accuracy reached 99% at step "
                 f"{memorized_step:,.0f} with test accuracy at {test_acc_at_memorization:.0%}, "
                 f"and test accuracy reached 95% only at step {grokked_step:,.0f}, "
                 f"{ratio:.0f}x later.")
    else:
        first = (f"The run does not show grokking as defined here (memorized at step "
                 f"{_fmt(memorized_step)}, test accuracy 95% at {_fmt(grokked_step)}, delay "
                 f"{_fmt(ratio, '.1f')}{'x' if ratio is not None else ''}, test accuracy at "
                 f"memorization "
                 f"{_fmt(test_acc_at_memorization, '.0%')}).")
    if test_jump_onset is None:
        second = ("Test accuracy never began its jump, so there was nothing for the restricted "
                  "loss to lead.")
    elif conditions["restricted loss leads"][0]:
        second = (f"The restricted loss led the test-accuracy jump by {restricted_lead:,.0f} "
                  f"steps.")
    else:
        second = (f"The restricted loss did not lead the test-accuracy jump by {MIN_LEAD:.0f} "
                  f"steps or more (lead {_fmt(restricted_lead)}).")
    share = f"{n_key} of {n_frequencies} frequencies"
    if few and control <= SPECIFIC_RATIO:
        third = (f"The key frequencies are a few ({share}), and they matter: by the jump random "
                 f"sets of as many frequencies had fallen only {control:.0%} as far.")
    elif few:
        third = (f"The key frequencies are a few ({share}), yet random sets of as many "
                 f"frequencies fell {control:.0%} as far by the jump: the control does not "
                 f"single them out.")
    elif control >= SHARED_RATIO:
        third = (f"The network spreads its solution over many frequencies ({share} carry 90% "
                 f"of the a + b - c waves), and random sets of as many frequencies fell "
                 f"{control:.0%} as far by the jump: here the lead belongs to the a + b - c "
                 f"structure as a whole, not to particular frequencies.")
    else:
        third = (f"The key-frequency rule picks many frequencies ({share}), but random sets of "
                 f"as many fell only {control:.0%} as far by the jump: the spectrum is not as "
                 f"flat as the count suggests.")
    fourth = ("A logistic in log-step fits the jump better than a line"
              if conditions["logistic beats a line"][0]
              else "A logistic in log-step does not fit the jump better than a line")
    fourth += f" (R^2 {logistic_r2:.3f} vs {linear_r2:.3f})."
    numbers = {"memorized_step": memorized_step, "grokked_step": grokked_step, "ratio": ratio,
               "restricted_lead": restricted_lead, "n_key": n_key, "key_drop": key_drop,
               "random_drop_median": random_median, "control_ratio": control,
               "logistic_r2": logistic_r2, "linear_r2": linear_r2}
    return verdict(conditions, " ".join([first, second, third, fourth]), numbers)


TRACKS_R = 0.9                # |correlation| of log LLC with log training loss that counts as
                              # "tracks the training loss"


def llc_verdict(*, steps: object, llc: object, train_loss: object,
                test_jump_onset: float | None, grokked_step: float | None,
                traces_passed: int, traces: int) -> Verdict:
    """What the LLC estimates over training show (checkpoint ``steps``, estimates ``llc``, the
    training loss there), and whether every SGLD estimate passed its trace check."""
    steps, llc, train_loss = (np.asarray(v, dtype=float) for v in (steps, llc, train_loss))
    if not (steps.ndim == llc.ndim == train_loss.ndim == 1
            and len(steps) == len(llc) == len(train_loss) >= 2):
        raise ValueError(f"steps, llc and train_loss must be 1-d with the same length >= 2, got "
                         f"{steps.shape}, {llc.shape}, {train_loss.shape}")
    if (steps <= 0).any() or (np.diff(steps) <= 0).any():
        raise ValueError("steps must be positive and increasing")
    peak = int(np.argmax(llc))
    tiny = 1e-12
    logs = np.log(np.maximum(llc, tiny))
    r = float(np.corrcoef(logs, np.log(np.maximum(train_loss, tiny)))[0, 1])
    slopes = np.diff(logs) / np.diff(np.log(steps))          # d log LLC / d log step
    i = int(np.argmin(slopes))
    fall_at = float(np.sqrt(steps[i] * steps[i + 1]))
    if test_jump_onset is None:
        when = "and test accuracy never began a jump in this run"
    elif steps[i + 1] <= test_jump_onset:
        when = f"before test accuracy began its jump (step {test_jump_onset:,.0f})"
    elif grokked_step is not None and steps[i] >= grokked_step:
        when = f"after test accuracy reached 95% (step {grokked_step:,.0f})"
    else:
        when = "while test accuracy was jumping"
    tracks = abs(r) >= TRACKS_R
    sentence = (f"The LLC estimate peaks at step {steps[peak]:,.0f} ({llc[peak]:.3g}) and ends at "
                f"{llc[-1]:.3g}; its steepest fall is between steps {steps[i]:,.0f} and "
                f"{steps[i + 1]:,.0f}, {when}. ")
    if tracks:
        sentence += (f"Across checkpoints its logarithm follows the log training loss (r = "
                     f"{r:.2f}): on this run it measures how saturated the fit is, and shows no "
                     f"feature of its own at the transition.")
    else:
        sentence += (f"It does not simply follow the training loss (r = {r:.2f} between their "
                     f"logarithms).")
    conditions = {"LLC traces": (traces > 0 and traces_passed == traces,
                                 f"{traces_passed} of {traces} SGLD estimates passed the trace "
                                 f"check")}
    numbers = {"peak_step": float(steps[peak]), "peak_llc": float(llc[peak]),
               "final_llc": float(llc[-1]), "log_r_train_loss": r, "steepest_fall_at": fall_at,
               "tracks_train_loss": float(tracks)}
    return verdict(conditions, sentence, numbers)
