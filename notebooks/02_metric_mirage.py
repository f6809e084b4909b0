# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. The metric mirage
#
# In {doc}`01_scaling_paradox` a family of tiny adders showed the paradox: per-digit accuracy
# climbed steadily with size while whole-answer accuracy lay flat and then shot up. Schaeffer,
# Miranda and Koyejo argued that many published "emergent abilities" are of this kind: the jump
# is made by an all-or-nothing metric, not by the model {cite}`schaeffer2023mirage`. This chapter
# settles the question for *your* models. You will
#
# 1. score the same trained models under five metrics (exact match, per-token accuracy, token
#    edit distance, Brier score, log-probability of the correct answer) and compare the fitted
#    steepness of each;
# 2. test the analytic model: exact match $\approx p^L$ and edit distance $\approx L(1-p)$, and
#    see why averaging the per-digit accuracy *before* raising it to the power $L$ goes wrong;
# 3. turn the answer length $L$ into a knob and watch the curve sharpen;
# 4. see how a small test set manufactures "absence", and
# 5. end with the counterpoint: not every jump in this course is the metric's doing.

# %% tags=["remove-cell"]
# In Colab: install the course library (and nothing else). Here: nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "emergence-lib @ git+https://github.com/emergence-course/emergence-in-neural-networks@v0.1.0"], check=True)

# %% tags=["parameters"]
FAST = True  # True: chapter 1's FAST family (1 seed, 6 widths); False: 3 seeds x 2 splits
SEED = 0

# %%
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML

from emergence_lib import metrics
from emergence_lib.exercises.ch02 import check_exact_match_from_positions, check_samples_needed
from emergence_lib.fit import fit_logistic
from emergence_lib.plotting import frame_slider, use_house_style
from emergence_lib.recipes import addition
from emergence_lib.recipes import mirage as recipe
from emergence_lib.utils import configure_threads

use_house_style()
configure_threads()
started = time.perf_counter()

# %% [markdown]
# ## One family, five scores
#
# We reuse chapter 1's family through the library: the same 2-layer MLPs of widths 8 to 256 on
# 4-digit addition, answers of $L = 5$ digits, least significant first. If you ran chapter 1,
# the trained models come from its cache at once; otherwise they train here. Runtimes on the
# 2-core machine this course was written on (shared with other jobs, so upper bounds): FAST
# trains 6 models in about 40 s and the whole chapter then runs in under a minute of CPU time;
# FULL trains 36 models (3 seeds × 2 data splits): 192 s measured alone on 2 CPU cores (808 s
# when the machine was shared with other jobs), and its analysis adds about 15 s (run through
# papermill after chapter 1's FULL run: 19 s, check passed). When chapter 1
# ran first in the same folder, its checkpoints are reused and nothing is retrained. GPU timing
# not measured.
# Each model kept its test-set logits, shape (5000, 5, 10), so we can score it
# after the fact under any metric we like:
#
# - **exact match**: the share of answers with all five digits right (all or nothing);
# - **per-token accuracy**: the share of digits that are right;
# - **token edit distance**: how many digit insertions, deletions or substitutions turn the
#   prediction into the answer (0 to 5, lower is better);
# - **Brier score**: the squared distance between the predicted distribution over digits and the
#   one-hot answer, averaged over positions (0 to 2, lower is better);
# - **log-probability of the correct answer**: $\sum_i \log p(\text{digit}_i)$, in nats.
#
# The last two use the model's probabilities, not just its argmax, so they also reward a model
# that is "nearly right".

# %%
setup = recipe.FAST if FAST else recipe.FULL
seeds = tuple(SEED + s for s in setup["seeds"])
family = addition.train_addition_family(setup["widths"], seeds, setup["splits"],
                                        cache_dir=".cache")
params, scores = recipe.score_family(family)
names = {"exact_match": "exact match", "token_accuracy": "per-token accuracy",
         "edit_distance": "edit distance (digits)", "brier": "Brier score",
         "log_prob": "log p(correct answer), nats"}
print(f"{'width':>6} {'params':>7} " + " ".join(f"{k[:13]:>13}" for k in names))
for i, member in enumerate(family):
    print(f"{member.width:>6} {member.n_params:>7} "
          + " ".join(f"{scores[k][i]:>13.4f}" for k in names))

# %% [markdown]
# Now the same models side by side, one panel per metric, all on the same log-size axis, each
# with the logistic in log-size fitted to it (95% bootstrap intervals). To make the steepness
# $k$ (per unit of $\ln$ size) comparable across metrics, every fit has its floor and ceiling
# fixed at the metric's own *chance* value (a uniform guess over the ten digits at every
# position: exact match $10^{-5}$, per-token accuracy 0.1, edit distance 4.5, Brier 0.9,
# log-probability $5 \ln 0.1$) and *perfect* value (`recipe.metric_range`). Only the threshold
# and the steepness are fitted. Why fix them? With both free, a curve of six points chooses its
# own range, and the fitted $k$ then says more about where the points happen to stop than about
# the metric: on one of FULL's six seed/split families, free fits even made per-token accuracy
# look steeper than exact match. For the three "lower is better" metrics the logistic simply
# runs downhill.

# %%
fits = {k: recipe.fit_metric(params, scores[k], k, seed=SEED) for k in names}
grid = np.geomspace(params.min() / 1.3, params.max() * 1.3, 200)
fig, axes = plt.subplots(1, 5, figsize=(16, 3.4), sharex=True)
for i, (ax, (key, label)) in enumerate(zip(axes, names.items(), strict=True)):
    ax.scatter(params, scores[key], color=f"C{i}", s=18, alpha=0.7)
    ax.plot(grid, fits[key].predict(grid), color=f"C{i}")
    ax.set(xscale="log", xlabel="parameters", title=label)
    ax.text(0.03, 0.9 if key in ("exact_match", "token_accuracy", "log_prob") else 0.05,
            f"k = {fits[key].steepness:.2f}", transform=ax.transAxes)
plt.tight_layout()
plt.show()
print(f"{'metric':>24} {'steepness k':>12} {'95% interval':>18} {'R² logistic':>12} "
      f"{'R² line':>8}")
for key, label in names.items():
    f = fits[key]
    lo, hi = f.intervals["steepness"]
    print(f"{label:>24} {f.steepness:>12.2f} {f'[{lo:.2f}, {hi:.2f}]':>18} {f.r2:>12.3f} "
          f"{f.linear.r2:>8.3f}")

# %% [markdown]
# Read the table. Exact match has by far the largest fitted steepness; the four smooth metrics
# share one that is several times smaller, and for them a straight line in log-size (the last
# column) fits about as well as the logistic, or better, while it leaves much of exact match
# unexplained. That is the mirage in numbers: the same predictions, scored per token or by
# probability, change gradually.
#
# Be honest about the uncertainty, too. With one seed (FAST) each fit rests on six points, so
# the bootstrap intervals are wide; FULL mode (36 models) narrows them. The check at the end of
# the chapter compares the point estimates with a stated margin.
#
# ## The analytic model: $p^L$ and $L(1-p)$
#
# Suppose every digit of an $L$-digit answer is right with probability $p$, independently. Then
# the whole answer is right with probability $p^L$, and the expected number of wrong digits is
# $L(1-p)$. If $p$ rises smoothly with size, $L(1-p)$ falls smoothly — but $p^L$ stays near zero
# until $p$ is close to 1, then rises steeply: for $L = 5$, $p = 0.5$ gives 3% and $p = 0.9$
# gives 59%.
#
# The obvious way to apply this to our family takes $p$ = the measured per-token accuracy. The
# honest way uses what the model does at each *position*: our models do not have one $p$; each
# of the five positions has its own accuracy $p_i$ (chapter 1 showed each switching on at its
# own size), and independence then predicts $\prod_i p_i$.

# %%
positions = recipe.position_accuracies(family)                      # (n_models, 5)
pred_average = metrics.exact_match_from_accuracy(scores["token_accuracy"], recipe.ANSWER_LENGTH)
pred_product = metrics.exact_match_from_positions(positions)
pred_edit = metrics.edit_distance_from_accuracy(scores["token_accuracy"], recipe.ANSWER_LENGTH)
print(f"{'params':>7} {'exact':>7} {'p**5 (avg p)':>13} {'ratio':>6} {'prod p_i':>9} "
      f"{'edit':>6} {'5(1-p)':>7}")
for i in np.argsort(params, kind="stable"):
    print(f"{params[i]:>7.0f} {scores['exact_match'][i]:>7.4f} {pred_average[i]:>13.4f} "
          f"{pred_average[i] / max(scores['exact_match'][i], 1e-9):>6.1f} "
          f"{pred_product[i]:>9.4f} {scores['edit_distance'][i]:>6.3f} {pred_edit[i]:>7.3f}")
middle = (scores["exact_match"] > 0.02) & (scores["exact_match"] < 0.9)
worst_ratio = float((pred_average / scores["exact_match"])[middle].max()) if middle.any() else 1.0
worst_gap = float(np.abs(pred_product - scores["exact_match"]).max())
print(f"\nmid-transition (2% < exact < 90%): p**5 with the average p overestimates by up to "
      f"{worst_ratio:.1f}x")
print(f"product of per-position accuracies: largest gap to measured exact match {worst_gap:.4f}")

# %%
fig, (ax_em, ax_ed) = plt.subplots(1, 2, figsize=(11, 4))
order = np.argsort(params, kind="stable")
ax_em.scatter(params, scores["exact_match"], color="C0", label="measured exact match", zorder=3)
ax_em.plot(params[order], pred_average[order], "--", color="C1", label="p**5, p = average")
ax_em.plot(params[order], pred_product[order], ":", color="C3", lw=2.5,
           label="product of per-position p_i")
ax_em.set(xscale="log", xlabel="parameters", ylabel="exact match", title="Exact match")
ax_em.legend()
ax_ed.scatter(params, scores["edit_distance"], color="C0", label="measured edit distance",
              zorder=3)
ax_ed.plot(params[order], pred_edit[order], "--", color="C1", label="5 (1 - p)")
ax_ed.set(xscale="log", xlabel="parameters", ylabel="digits", title="Edit distance")
ax_ed.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Two lessons.
#
# **Averaging first goes wrong.** $\bar p^{\,5}$ has the right shape but overestimates exact
# match in the middle of the transition (the ratio column above: several-fold). The reason is
# the AM-GM inequality: for a fixed average, the product $\prod_i p_i$ is largest when all $p_i$ are
# equal. A model with one position at chance (0.1) and four near 1 has $\bar p \approx 0.82$ and
# $\bar p^{\,5} \approx 0.37$, but it gets whole answers right only about 10% of the time.
#
# **Per position, independence holds.** The product of the five per-position accuracies matches
# the measured exact match to within 0.01 for every model (a few thousandths for most; FULL mode
# shows all 36): the errors at different positions are close to independent, so exact match
# carries almost no information that per-position accuracy lacks. The edit distance, meanwhile,
# sits a little *below* $5(1-\bar p)$ (an edit distance may align a shifted prediction instead
# of counting every mismatched digit) and follows it smoothly.
#
# ## Answer length as the knob
#
# If the sharpness comes from the power $L$, then grading the *same* models on shorter answers
# should give gentler curves, and longer answers sharper ones. Our models always answer five
# digits, but we can grade any $L$ of them: exact match on an $L$-digit answer is the share of
# test problems whose chosen $L$ digits are all right. Which $L$ digits? Since each position
# switches on at its own size, "the lowest $L$ digits" mixes the effect of $L$ with the effect
# of which digit is added (try it in the exercises). To make $L$ the only knob we average over
# every choice of $L$ positions out of five (`metrics.exact_match_any_positions`; a row with $c$
# right digits scores $\binom{c}{L} / \binom{5}{L}$).
#
# Next to the measurement we draw the analytic model: a smooth $p(\text{size})$, the logistic
# fitted to per-token accuracy, raised to the power $L$.

# %%
by_length = recipe.exact_match_by_length(family)
smooth_p = fits["token_accuracy"].predict(grid).clip(0.0, 1.0)
length_fits = {L: recipe.fit_metric(params, by_length[L], "exact_match", length=L, n_boot=0)
               for L in recipe.ANSWER_LENGTHS}
analytic_fits = {L: recipe.fit_metric(grid, metrics.exact_match_from_accuracy(smooth_p, L),
                                      "exact_match", length=L, n_boot=0)
                 for L in recipe.ANSWER_LENGTHS}
print(f"{'L':>2} {'k measured':>11} {'k analytic p**L':>16}")
for L in recipe.ANSWER_LENGTHS:
    print(f"{L:>2} {length_fits[L].steepness:>11.2f} {analytic_fits[L].steepness:>16.2f}")


def draw_length(ax: plt.Axes, length: int) -> None:
    """Measured exact match on L-digit answers, its fit, and the analytic p**L, against size."""
    ax.scatter(params, by_length[length], color="C0", label=f"measured, L = {length}", zorder=3)
    ax.plot(grid, length_fits[length].predict(grid), color="C0",
            label=f"logistic fit, k = {length_fits[length].steepness:.2f}")
    ax.plot(grid, metrics.exact_match_from_accuracy(smooth_p, length), "--", color="C1",
            label=f"p**L from smooth p, k = {analytic_fits[length].steepness:.2f}")
    ax.set(xscale="log", ylim=(-0.03, 1.03), xlabel="parameters", ylabel="exact match",
           title=f"Exact match on {length}-digit answers")
    ax.legend(loc="upper left", fontsize=8)


def show_length(length: int = 5) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    draw_length(ax, length)
    plt.show()


widgets.interact(show_length, length=widgets.IntSlider(value=5, min=1,
                                                       max=recipe.ANSWER_LENGTH,
                                                       description="answer length L"));  # noqa: E703

# %% [markdown]
# On the static site, the animation below steps through $L = 1, \dots, 5$ instead of the live
# slider.

# %%
HTML(frame_slider(lambda ax, frame: draw_length(ax, frame + 1), n_frames=recipe.ANSWER_LENGTH))

# %% [markdown]
# The analytic curve sharpens steadily with $L$, and so do the measured ones: $L = 1$ is
# per-token accuracy, $L = 5$ is exact match, and in our runs (FAST and FULL) the fitted $k$
# grew with every added digit. The measured curves sharpen *faster* than $p^L$ with a smooth
# $p$, because the per-position accuracies are themselves uneven (the lesson of the previous
# section). The knob is real, and it is a knob on the *metric*: the models never changed.
#
# ## A resolution-limited evaluation
#
# A second way a metric can fake a jump: it cannot see small values. Exact match of the smallest
# models is a fraction of a percent. Measured on 50 test problems, such a model scores 0/50, and
# the result reads "absent" — but the 95% (Wilson) interval for 0/50 reaches up to 7%, so it
# rules out nothing smaller. Below, each model is evaluated on random subsets of the test set of
# 50, 500 and 5,000 problems, with the interval on every point.

# %%
hits = [recipe.exact_match_hits(m) for m in family]
resolution = {n: np.array([metrics.rate_with_interval(h, n, seed=SEED) for h in hits])
              for n in recipe.TEST_SIZES}                           # n -> (n_models, 3)
fig, axes = plt.subplots(1, len(recipe.TEST_SIZES), figsize=(13, 3.6), sharey=True)
for ax, (n, table) in zip(axes, resolution.items(), strict=True):
    rate, low, high = table.T
    ax.errorbar(params, rate, yerr=[rate - low, high - rate], fmt="o", capsize=3)
    ax.set(xscale="log", xlabel="parameters", title=f"{n:,} test problems")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.axhline(0, color="gray", lw=0.8)
axes[0].set_ylabel("exact match (symlog axis)")
plt.tight_layout()
plt.show()
print(f"{'params':>7} " + " ".join(f"{f'n = {n}':>22}" for n in recipe.TEST_SIZES))
for i in np.argsort(params, kind="stable"):
    print(f"{params[i]:>7.0f} " + " ".join(
        f"{resolution[n][i, 0]:>6.3f} [{resolution[n][i, 1]:.3f}, {resolution[n][i, 2]:.3f}]"
        for n in recipe.TEST_SIZES))

# %% [markdown]
# With 50 problems the small models look like zeros, and a curve through them looks like a
# switch flipping. With 5,000 the same models show small but non-zero rates that grow with size
# — on a log axis, a gradual rise. (The full 5,000-problem curve is still far from smooth in
# exact match: resolution explains the apparent *zeros*, the power $L$ explains the steep
# rise.) Before calling a capability "absent", ask what rate the test set could have detected.
#
# ## Counterpoint: jumps that are not the metric
#
# Does this mean emergence is always a mirage? No, and the course keeps both possibilities open.
# A jump is a metric artifact when a smooth, per-token or probability-based score of the *same*
# predictions moves gradually; it is a fact about the model when even those scores jump.
#
# - Inside this very chapter, each answer *position* switches on abruptly with size (the
#   per-position accuracies printed below): the units digit of a narrow model sits at chance
#   (0.1) and then at 1.0 one width later. Per-token accuracy at one position is as continuous
#   as a metric gets; its jump is the model's. The smooth family average is a mixture of such
#   small, real jumps at different sizes.
# - In {doc}`chapter 3 (grokking) <03_grokking>` the test *loss*, a continuous metric, stays high long after the
#   training set is memorized and then falls within a short stretch of training.
# - In {doc}`chapter 4 (induction heads) <04_induction_heads>` the training *loss* itself sits on a plateau and then drops
#   as two attention heads form together.
#
# Those are loss-based transitions: no choice of a smoother metric removes them.

# %%
print("per-position accuracy (least significant digit first):")
for i in np.argsort(params, kind="stable"):
    print(f"{params[i]:>7.0f} " + " ".join(f"{p:.3f}" for p in positions[i]))

# %% [markdown]
# ## Exercises
#
# ```{exercise} Derive the prediction, then compute it
# :label: ex-02-product
#
# **Persona:** CS student · **Difficulty:** ★☆☆ · **Time:** 15 min
#
# (a) Show that if each of $L$ digits is right with probability $p$, independently, the whole
# answer is right with probability $p^L$ and the expected number of wrong digits is $L(1-p)$.
# (b) Write `exact_match_from_positions(position_accuracy)`: the last axis holds the accuracy
# of each answer position; return the predicted exact match (one value per row) when positions
# are independent. (c) Explain in one sentence why $\bar p^{\,L} \ge \prod_i p_i$.
# ```

# %%
def exact_match_from_positions(position_accuracy: np.ndarray) -> np.ndarray:
    """(..., L) accuracy of each answer position -> (...) predicted exact match."""
    raise NotImplementedError


# %% [markdown] tags=["solution"]
# ```{solution-start} ex-02-product
# :class: dropdown
# ```

# %% tags=["solution"]
def exact_match_from_positions(position_accuracy: np.ndarray) -> np.ndarray:
    """(..., L) accuracy of each answer position -> (...) predicted exact match."""
    return np.prod(np.asarray(position_accuracy, dtype=float), axis=-1)

# (a) Independence: P(all right) = p * p * ... * p = p**L. The number of wrong digits is a sum
# of L indicators, each with mean 1 - p, so its mean is L * (1 - p) (linearity of expectation,
# no independence needed). (c) By the AM-GM inequality the geometric mean of the p_i is at most
# their arithmetic mean; raise both to the power L.


# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %%
check_exact_match_from_positions(exact_match_from_positions);  # noqa: E703

# %% [markdown]
# ```{exercise} What does an honest evaluation cost?
# :label: ex-02-eval-cost
#
# **Persona:** applied engineer · **Difficulty:** ★★☆ · **Time:** 30 min
#
# Your release gate must detect a capability with a 1% exact-match rate. Time each of the five
# metrics on 50, 500 and 5,000 test answers for the widest model (`emergence_lib.bench`
# `time_per_call`). Which metric dominates the cost, and how does it scale with $n$? Given the
# test-set size that a 1% rate needs (next exercise), what does the gate cost per model, and
# which metrics would you log in CI?
# ```

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-02-eval-cost
# :class: dropdown
# ```

# %% tags=["solution"]
from emergence_lib.bench import time_per_call
from emergence_lib.metrics import (
    brier_score,
    edit_distance,
    exact_match,
    log_prob_correct,
    token_accuracy,
)

widest = max(family, key=lambda m: m.n_params)
target = recipe.family_targets(widest.split)
metric_fns = {"exact_match": lambda lg, y: exact_match(lg.argmax(-1), y),
              "token_accuracy": lambda lg, y: token_accuracy(lg.argmax(-1), y),
              "edit_distance": lambda lg, y: edit_distance(lg.argmax(-1), y),
              "brier": brier_score, "log_prob": log_prob_correct}
print(f"{'metric':>15} " + " ".join(f"{f'n={n} (ms)':>13}" for n in recipe.TEST_SIZES))
for name, fn in metric_fns.items():
    times = [time_per_call(lambda fn=fn, n=n: fn(widest.test_logits[:n], target[:n]),
                           repeats=5, warmup=1) for n in recipe.TEST_SIZES]
    print(f"{name:>15} " + " ".join(f"{t * 1e3:>13.3f}" for t in times))
# Measured here: the probability metrics (Brier, log-probability: a softmax over every logit)
# cost the most, then edit distance (a small dynamic programme per row); exact match and token
# accuracy are cheapest. All grow linearly in n and take milliseconds at n = 5,000, far below
# the cost of running the model. The gate should log all five: the smooth ones show progress
# long before exact match moves.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %% [markdown]
# ```{exercise} How many test problems to see a 1% capability?
# :label: ex-02-samples
#
# **Persona:** applied researcher · **Difficulty:** ★★☆ · **Time:** 20 min
#
# A model solves a task with probability `rate`. Write `samples_needed(rate, confidence)`: the
# smallest number of independent test problems $n$ such that, with probability at least
# `confidence`, the model solves at least one of them. Evaluate it for a 1% capability at 95%.
# Then state a hypothesis about the smallest model of our family (for example "its exact match
# is above 0.05%") and say how many test problems would test it, and whether 5,000 suffice.
# ```

# %%
def samples_needed(rate: float, confidence: float) -> int:
    """Smallest n with P(at least one success in n tries) >= confidence."""
    raise NotImplementedError


# %% [markdown] tags=["solution"]
# ```{solution-start} ex-02-samples
# :class: dropdown
# ```

# %% tags=["solution"]
import math


def samples_needed(rate: float, confidence: float) -> int:
    """Smallest n with P(at least one success in n tries) >= confidence."""
    # P(no success in n) = (1 - rate)**n <= 1 - confidence
    return math.ceil(math.log(1 - confidence) / math.log(1 - rate) - 1e-9)


print(f"1% capability, 95% confidence: {samples_needed(0.01, 0.95)} problems "
      f"(the 'rule of three' says 3 / 0.01 = 300)")
print(f"0.05% capability, 95% confidence: {samples_needed(0.0005, 0.95)} problems")
# Seeing at least one success is the weakest test; to *measure* a 1% rate to within +-0.5%
# (Wilson interval) takes on the order of 1,500 problems. 5,000 problems detect 0.06% at
# 95%, so our smallest model's non-zero exact match is just at the edge of resolution.


# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %%
check_samples_needed(samples_needed);  # noqa: E703

# %% [markdown]
# ```{exercise} A continuous metric that is still "emergent"
# :label: ex-02-continuous
#
# **Persona:** frontier researcher · **Difficulty:** ★★★ · **Time:** open-ended
#
# Schaeffer et al.'s argument says: replace a discontinuous metric by a continuous one and the
# jump should disappear. Design a metric that is *continuous* in the model's probabilities yet
# still jumps on this family, and explain what the jump then says about the model. Then
# propose a test that separates "metric artifact" from "model transition" for a new benchmark
# when you can only see a handful of model sizes.
# ```

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-02-continuous
# :class: dropdown
# ```

# %% tags=["solution"]
# Per-position probability of the correct units digit: continuous, and still a jump, because
# the model itself changes abruptly at that position (from chance to exact).
target0 = {s: recipe.family_targets(s)[:, 0] for s in {m.split for m in family}}
units_prob = np.array([m.test_logits[:, 0].softmax(-1).gather(
    -1, target0[m.split][:, None]).mean().item() for m in family])
fit_units = fit_logistic(params, units_prob, floor=recipe.CHANCE, ceil=1.0, n_boot=0)
print(f"mean p(correct units digit): steepness k = {fit_units.steepness:.2f} "
      f"(per-token accuracy of all digits: {fits['token_accuracy'].steepness:.2f})")
# A test: fit the same logistic to a *proper scoring rule* (log-probability or Brier) per
# position. If every per-position score is smooth in log-size, the aggregate jump is the
# metric; if some position's proper score jumps, the model changed there. With few sizes,
# report the steepness intervals and compare with p**L predicted from the smooth scores.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %% [markdown]
# ## Check: is the jump in the metric?
#
# The chapter claims that on its own models exact match is sharper than the smooth metrics
# *because of the metric*. The cell below raises unless
#
# 1. the fitted steepness (per unit of log-size, floor and ceiling fixed at chance and perfect
#    as above) of exact match is at least `recipe.STEEPNESS_MARGIN` = 2 times that of
#    per-token accuracy, and
# 2. the edit distance is smooth: a straight line in log-size fits it with R² ≥
#    `recipe.EDIT_LINEAR_R2` = 0.9, or its fitted steepness is at most half that of exact match.
#
# Measured while writing the chapter: the steepness ratio was 7.7 in FAST, 3.2 in FULL and
# between 3.1 and 7.7 on each of FULL's six seed/split families; the edit distance's line R²
# was between 0.93 and 0.97.

# %%
k_exact, k_token = fits["exact_match"].steepness, fits["token_accuracy"].steepness
edit = fits["edit_distance"]
print(f"steepness: exact match {k_exact:.2f}, per-token accuracy {k_token:.2f} "
      f"(ratio {k_exact / k_token:.2f}, needed >= {recipe.STEEPNESS_MARGIN})")
print(f"edit distance: line in log-size R² {edit.linear.r2:.3f} (needed >= "
      f"{recipe.EDIT_LINEAR_R2}), steepness {edit.steepness:.2f} (or <= "
      f"{k_exact * recipe.EDIT_MAX_STEEPNESS_RATIO:.2f})")
print(f"chapter ran in {time.perf_counter() - started:.0f} s")
if not k_exact >= recipe.STEEPNESS_MARGIN * k_token:
    raise RuntimeError(f"exact match (k = {k_exact:.2f}) is not clearly sharper than per-token "
                       f"accuracy (k = {k_token:.2f}); needed a ratio >= "
                       f"{recipe.STEEPNESS_MARGIN}")
if not (edit.linear.r2 >= recipe.EDIT_LINEAR_R2
        or edit.steepness <= k_exact * recipe.EDIT_MAX_STEEPNESS_RATIO):
    raise RuntimeError(f"edit distance is not smooth: line R² {edit.linear.r2:.3f} < "
                       f"{recipe.EDIT_LINEAR_R2} and steepness {edit.steepness:.2f} > "
                       f"{k_exact * recipe.EDIT_MAX_STEEPNESS_RATIO:.2f}")
print("✅ the jump is in the metric: exact match is sharp, the smooth metrics are not")
