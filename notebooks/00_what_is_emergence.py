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
# # 0. What is emergence?
#
# "More is different," wrote the physicist Philip Anderson {cite}`anderson1972more`: at each new
# scale of a system, new properties appear that are hard to read off the parts. Water molecules
# do not freeze one at a time; below 0 °C the whole liquid reorganises. Neural networks show
# something similar. As a *control parameter* — parameters, training steps, data, compute —
# moves smoothly, a capability that was absent becomes present, sometimes abruptly
# {cite}`wei2022emergent,ganguli2022predictability`.
#
# This course is about those moments. Every chapter trains small networks in front of you, on
# a laptop CPU, and lets you watch a capability appear: adding numbers, generalising after
# memorising (grokking), copying from context (induction heads), finding a hidden parity,
# turning broadly harmful after a narrow fine-tune (emergent misalignment), storing more features
# than dimensions (superposition), aligning a kernel before the loss moves (silent alignment).
# A lab chapter then tests predictions of thresholds, and the atlas puts every transition side by
# side.
#
# ```{admonition} Learning objectives
# :class: tip
# After this chapter you can
# - say what "emergent" means in this course (weak emergence: a property of a curve against a
#   control parameter) and what it does not mean;
# - name the mechanisms that can make a capability appear abruptly, and the chapter that puts
#   each to the test;
# - read the logistic in log-x, $A(x)$, by its threshold $x_c$ and steepness $k$, and turn a
#   steepness into how many times larger $x$ must get to cross from 10% to 90%;
# - state the course's three questions, and check a fit against a known answer before trusting
#   it on an unknown one.
# ```
#
# ## Weak and strong emergence
#
# Philosophers distinguish *weak* emergence — the whole has properties the parts lack, but they
# follow from the parts and their interactions, given enough computation — from *strong*
# emergence, which would not follow even in principle. Everything in this course is weak
# emergence: we can always open the model and find out why. That is the point. "Emergent" here
# is a description of a curve, not a mystery: a capability is emergent when it is absent at
# small scale (or early in training), present at larger scale (or later), and the change is
# abrupt rather than gradual.
#
# ### A collective property: the glider
#
# Conway's Game of Life is the textbook case of weak emergence. Each cell of a grid follows one
# local rule (a live cell with two or three live neighbours stays alive; a dead cell with exactly
# three comes alive; every other cell dies). No cell moves. Yet the five-cell pattern below, a
# *glider*, travels across the grid: every four generations it has the same shape, one cell
# further along each axis. "Moving" is a property of the pattern, not of any cell; it follows
# from the rule (weak emergence), but you see it only by looking at many cells at once. Several
# capabilities in this course are like that: a property of many units together, visible in none
# of them alone.

# %% tags=["remove-cell"]
# In Colab: install the course library (and nothing else). Here: nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "emergence-lib @ git+https://github.com/emergence-course/emergence-in-neural-networks@v0.1.0"], check=True)

# %% tags=["parameters"]
FAST = True  # this chapter trains nothing; FAST and FULL are the same
SEED = 0

# %%
import matplotlib.pyplot as plt
import numpy as np

from emergence_lib.checks.ch00 import recovers_threshold, transition_record
from emergence_lib.course import glue
from emergence_lib.exercises.ch00 import (
    COVERAGE_POINTS,
    EARLY_TOLERANCE,
    FACTOR_RTOL,
    check_coverage,
    check_coverage_verdict,
    check_factor_prediction,
    check_transition_width,
    coverage_sweep,
    early_prediction,
)
from emergence_lib.fit import fit_logistic, logistic
from emergence_lib.plotting import use_house_style

use_house_style()


def life_step(grid: np.ndarray) -> np.ndarray:
    """One generation of Conway's Life on a wrapped (H, W) grid of 0/1 cells."""
    neighbours = sum(np.roll(np.roll(grid, dy, 0), dx, 1)
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
    return ((neighbours == 3) | ((grid == 1) & (neighbours == 2))).astype(int)


grid = np.zeros((10, 10), dtype=int)
grid[[0, 1, 2, 2, 2], [1, 2, 0, 1, 2]] = 1           # the glider
frames = [grid]
for _ in range(8):
    frames.append(life_step(frames[-1]))
fig, axes = plt.subplots(1, 5, figsize=(11, 2.4))
for ax, t in zip(axes, range(0, 9, 2), strict=True):
    ax.imshow(frames[t], cmap="Greys", vmin=0, vmax=1)
    ax.set(title=f"generation {t}", xticks=[], yticks=[])
    ax.grid(False)
plt.tight_layout()
plt.show()
shifted = np.roll(np.roll(frames[0], 1, 0), 1, 1)
same_shape = bool((frames[4] == shifted).all())
print("after 4 generations the glider is " + ("the same shape, one cell down and one right"
      if same_shape else "not a shifted copy of itself (check the rule)"))

# %% [markdown]
# ## What can make a capability appear abruptly?
#
# "It jumped" is a description; a mechanism is an explanation. The literature offers a handful,
# and each chapter of this course puts one or two of them to the test on a model small enough to
# take apart.
#
# - **The metric.** An all-or-nothing score can turn smooth progress into a cliff
#   {cite}`schaeffer2023mirage`. Tested in {doc}`02_metric_mirage`, which scores the same models
#   with five metrics.
# - **Compositional weakest link.** A task that needs $m$ sub-skills succeeds only when all of them
#   do, with about the product of their probabilities, which is steeper than any one of them.
#   Tested in {doc}`01_scaling_paradox` (a five-digit answer as five sub-skills) and taken apart
#   in {doc}`02_metric_mirage` (how much of the jump is the metric, how much the weakest link).
# - **Circuit formation.** A small sub-network that implements an algorithm forms during
#   training, and the capability switches on when it is complete: the Fourier circuit of
#   {doc}`03_grokking` and the previous-token and induction heads of {doc}`04_induction_heads`,
#   which work only together (a collective property, like the glider).
# - **Loss-landscape change.** The geometry of the loss around the weights changes, e.g. the
#   effective number of parameters the solution uses: {doc}`03_grokking` tracks it with the local
#   learning coefficient; {doc}`08_silent_alignment` follows a network's tangent kernel aligning
#   with the task before the loss moves, and {doc}`09_phase_transition_lab` asks whether
#   capacity and gating predict where a threshold falls.
# - **Information content.** How much signal the data carry about the rule bounds how fast any
#   learner can find it; a rule hidden among many inputs gives almost no gradient signal until it
#   is nearly found. Tested in {doc}`05_sparse_parity`.
# - **Collective properties** beyond single circuits: features stored in superposition, more of
#   them than there are neurons, belong to no single neuron ({doc}`07_superposition`); a narrow
#   fine-tune that changes behaviour broadly is {doc}`06_emergent_misalignment`.
#
# ## A phase transition in one picture
#
# The cell below needs no training. It draws the logistic in log-scale that the course fits to
# every transition, with threshold $x_c$ and steepness $k$: as $k$ grows, the same smooth
# control parameter produces an ever more sudden change.

# %%
x = np.geomspace(1e2, 1e6, 400)
fig, ax = plt.subplots()
for k in (0.5, 1, 2, 4, 8):
    ax.plot(x, logistic(x, 0.0, 1.0, 1e4, k), label=f"steepness k = {k}")
ax.axvline(1e4, color="gray", ls=":", lw=1)
ax.set(xscale="log", xlabel="control parameter x (size, steps, data, ...)",
       ylabel="capability", title="One threshold, many degrees of suddenness")
ax.legend()
plt.show()

# %% [markdown]
# ## The three questions
#
# Every chapter holds its phenomenon to the same three questions.
#
# 1. **Is the jump real, or in the metric?** An all-or-nothing score turns smooth progress into a
#    cliff. If each of the $L$ tokens of an answer is right with probability $p$, the whole
#    answer is right with probability about $p^L$ {cite}`schaeffer2023mirage`. Chapters 1 and 2
#    measure both on the same models.
# 2. **Was there hidden progress?** Loss or accuracy can sit flat while the inside of the network
#    reorganises. Each chapter has a *progress measure* that moves before the visible metric
#    does {cite}`barak2022hidden,nanda2023progress`.
# 3. **Can we fit and predict it?** We fit
#    $A(x) = \text{floor} + (\text{ceil} - \text{floor})/(1 + e^{-k(\log x - \log x_c)})$ with
#    bootstrap intervals and ask whether it beats a straight line — and whether the threshold
#    $x_c$ could have been predicted before the jump.
#
# The cell below shows the third question in miniature: points drawn from a known logistic
# (threshold $10^4$, steepness 3) with noise, refitted with the floor and ceiling fixed at 0 and
# 1 (the summary marks them as fixed: they have no interval because they were not fitted). It
# recovers the threshold {glue:text}`ch00_threshold` with 95% interval
# {glue:text}`ch00_threshold_lo` to {glue:text}`ch00_threshold_hi`, and R²
# {glue:text}`ch00_r2` against {glue:text}`ch00_line_r2` for a straight line in $\log x$.

# %%
TRUE_THRESHOLD, TRUE_STEEPNESS, NOISE = 1e4, 3.0, 0.03
rng = np.random.default_rng(SEED)
sizes = np.geomspace(1e3, 1e5, 9)
observed = np.clip(logistic(sizes, 0.0, 1.0, TRUE_THRESHOLD, TRUE_STEEPNESS)
                   + rng.normal(0, NOISE, len(sizes)), 0, 1)
fit = fit_logistic(sizes, observed, floor=0.0, ceil=1.0, n_boot=100, seed=SEED)
print(fit.summary())
lo, hi = fit.intervals["threshold"]
glue("ch00_threshold", fit.threshold, ",.0f")
glue("ch00_threshold_lo", lo, ",.0f")
glue("ch00_threshold_hi", hi, ",.0f")
glue("ch00_r2", fit.r2, ".3f")
glue("ch00_line_r2", fit.linear.r2, ".3f")
result = recovers_threshold(true_threshold=TRUE_THRESHOLD, fitted=fit.threshold, lo=lo, hi=hi,
                            r2=fit.r2, line_r2=fit.linear.r2)
glue("ch00_verdict", result.sentence)
print(result.sentence)

# %% [markdown]
# ## How to use this book
#
# - **Read it** on the website: every chapter was executed by the build, so all figures are real
#   outputs of the code above them, and every number in the prose is inserted from that run. The
#   status page lists how long each chapter took.
# - **Run it** in Colab with the launch button (rocket icon) at the top of a chapter: the first
#   cell installs the course library and nothing else. Or locally: `make book` in the repository
#   builds everything from scratch; `jupyter lab notebooks/` opens the chapters.
# - **FAST and FULL.** Every chapter has a `parameters` cell with `FAST = True`: a smaller setup
#   that still shows the phenomenon on a laptop CPU. `FAST = False` runs the paper-faithful
#   setup; the README lists how long each takes.
# - **Verdicts and check cells.** Each chapter computes its conclusion from its own numbers and
#   prints it, in words that are true whichever way the run came out; its last cell raises an
#   error if the run does not show what the chapter claims. If it fails for you, that is a
#   finding — tell us.
# - **Exercises** come for four personas, each marked with difficulty and expected time:
#   the **CS student** (run, predict, check; with automatic checkers), the **applied engineer**
#   (measure, ship, budget), the **applied researcher** (hypothesis, sweep, uncertainty; with
#   checkers) and the **frontier researcher** (open questions). Solutions sit in collapsed
#   dropdowns in the instructor edition and are left out of the student edition.

# %% [markdown]
# ## Exercises
#
# ```{exercise} From steepness to "how much bigger"
# :label: ex-00-transition-width
#
# **Persona:** CS student · **Difficulty:** ★☆☆ · **Time:** 15 min
#
# A steepness $k$ is hard to feel. First predict: for $k = 4$, is the factor by which $x$ must
# grow to climb from 10% to 90% about 3, 9 or 81? Set `predicted_factor` to your guess before
# computing anything; the checker compares it with the exact factor (within
# {glue:text}`ch00_factor_rtol`). Then write
# `transition_width(steepness, low=0.1, high=0.9)`: the factor by which $x$ must grow for the
# logistic to climb from `low` to `high` of the way from floor to ceiling. Solve
# $A(x) = \text{floor} + p\,(\text{ceil} - \text{floor})$ for $\ln x$ at both levels. Finally read
# the figure above: which curve goes from 10% to 90% within one decade of $x$?
# ```

# %%
predicted_factor = ...   # your guess for k = 4: about 3, 9 or 81?
glue("ch00_factor_rtol", FACTOR_RTOL, ".0%")


def transition_width(steepness: float, low: float = 0.1, high: float = 0.9) -> float:
    """How many times larger x gets while the logistic climbs from ``low`` to ``high``."""
    raise NotImplementedError


# %% [markdown] tags=["solution"]
# ```{solution-start} ex-00-transition-width
# :class: dropdown
# ```

# %% tags=["solution"]
predicted_factor = 3   # 81 for k = 1 (see below), and each doubling of k takes a square root


def transition_width(steepness: float, low: float = 0.1, high: float = 0.9) -> float:
    """How many times larger x gets while the logistic climbs from ``low`` to ``high``."""
    logit = np.log(high / (1 - high)) - np.log(low / (1 - low))
    return float(np.exp(logit / steepness))


for k in (0.5, 1, 2, 4, 8):
    print(f"k = {k}: x grows {transition_width(k):,.3g}-fold from 10% to 90%")
# ln(0.9/0.1) - ln(0.1/0.9) = 2 ln 9, so the factor is 81**(1/k): 3 for k = 4. One decade
# (a factor 10) needs k >= 2 ln 9 / ln 10, about 1.9.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %%
check_factor_prediction(predicted_factor)
check_transition_width(transition_width)
*rest, last = COVERAGE_POINTS   # the next exercise's sweep, from exercises.ch00
glue("ch00_coverage_fewest", min(COVERAGE_POINTS), "d")
glue("ch00_coverage_points", f"{', '.join(map(str, rest))} and {last}");

# %% [markdown]
# ```{exercise} What do the fit and the glider cost, and can they ship?
# :label: ex-00-engineer-bootstrap
#
# **Persona:** applied engineer · **Difficulty:** ★★☆ · **Time:** 30 min
#
# 1. Every chapter fits logistics with a bootstrap, and a build runs them all. Measure
#    `fit_logistic` on the nine points above for `n_boot` = 0, 25 and 100 with
#    `emergence_lib.bench.measure_step` (median time, torch allocations, Python peak memory),
#    and state the cost per bootstrap refit. What would you set in a nightly build, and what in
#    a notebook cell that re-runs on every slider move?
# 2. Ship the chapter's other model, the Life rule: write it as a `torch.nn.Module` on flattened
#    grids (`(B, H*W)` cells of 0/1 in, the next generation out), check it against `life_step`
#    on the glider, measure its throughput in cell updates per second on a batch of random
#    64 × 64 grids, export it with `emergence_lib.export` (`export_model`, `save_exported`,
#    `load_exported`), and show that the reloaded program gives identical generations.
# ```

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-00-engineer-bootstrap
# :class: dropdown
# ```

# %% tags=["solution"]
import tempfile
from pathlib import Path

import torch

from emergence_lib.bench import measure_step
from emergence_lib.export import check_roundtrip, export_model, load_exported, save_exported

costs = {}
for n_boot in (0, 25, 100):
    costs[n_boot] = measure_step(lambda n_boot=n_boot: fit_logistic(
        sizes, observed, floor=0.0, ceil=1.0, n_boot=n_boot, seed=SEED), repeats=3, warmup=1)
    print(f"n_boot {n_boot:>3}: {costs[n_boot].summary('fits')}")
per_refit = (costs[100].seconds - costs[0].seconds) / 100
print(f"one bootstrap refit costs about {per_refit * 1e3:.1f} ms")


class LifeStep(torch.nn.Module):
    """One generation of Life on wrapped (H, W) grids: cells (B, H*W) of 0/1 -> (B, H*W)."""

    def __init__(self, height: int, width: int):
        super().__init__()
        self.height, self.width, self.vocab = height, width, 2   # vocab: export checks ids

    def forward(self, cells: torch.Tensor) -> torch.Tensor:
        grid = cells.view(-1, self.height, self.width)                       # (B, H, W)
        neighbours = sum(torch.roll(grid, (dy, dx), (1, 2))
                         for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0))
        alive = (neighbours == 3) | ((grid == 1) & (neighbours == 2))
        return alive.long().view(-1, self.height * self.width)


life = LifeStep(10, 10)
glider = torch.as_tensor(np.stack(frames[:-1])).view(len(frames) - 1, 100)
same = torch.equal(life(glider), torch.as_tensor(np.stack(frames[1:])).view(-1, 100))
print(f"the module reproduces life_step on the glider's {len(glider)} generations: {same}")

big = LifeStep(64, 64)
grids = (torch.rand(256, 64 * 64, generator=torch.Generator().manual_seed(SEED)) < 0.3).long()
cost = measure_step(lambda: big(grids), repeats=5, warmup=1)
print(f"256 grids of 64 x 64: {cost.per_second * grids.numel():,.0f} cell updates/s "
      f"({cost.summary('generations')})")
with tempfile.TemporaryDirectory() as folder:
    reloaded = load_exported(save_exported(export_model(big, grids[:4]),
                                           Path(folder) / "life.pt2"))
difference = check_roundtrip(big, reloaded, grids)
print(f"exported, saved, reloaded: max |difference| over {len(grids)} grids = {difference}")
assert difference == 0, "the reloaded program must give the same generations"
# The bootstrap cost is linear in n_boot (one least-squares refit each): a nightly build can
# afford a few hundred refits per fit, a slider cell tens (and should say its interval is
# rough). The Life module is elementwise work on integers, memory-bound: its throughput is set
# by how many times the grid is read (nine rolls), not by arithmetic.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %% [markdown]
# ```{exercise} Does a 95% interval contain the truth 95% of the time?
# :label: ex-00-coverage
#
# **Persona:** applied researcher · **Difficulty:** ★★☆ · **Time:** 30 min
#
# Hypothesis: with only {glue:text}`ch00_coverage_fewest` noisy points, the bootstrap's 95% interval of the threshold
# *under-covers*: it contains the true threshold less than 95% of the time. The cell below runs
# the sweep for you (`exercises.ch00.coverage_sweep`): for {glue:text}`ch00_coverage_points`
# points, families drawn
# from the known logistic above with new noise seeds, each refitted with a bootstrap; `sweep[n]`
# holds the `(repeats, 2)` threshold intervals. Write `coverage(intervals, truth)`: the share of
# rows `[lo, hi]` that contain `truth` (ends included). Report the coverage and its 95% Wilson
# interval (`emergence_lib.metrics.wilson_interval`) for each number of points, and the median
# interval width as a factor in $x$. Set `undercover_verdict = True` if the
# {glue:text}`ch00_coverage_fewest`-point coverage's
# Wilson interval lies entirely below 95% (under-coverage shown), `False` if not.
# ```

# %%
COVERAGE_REPEATS, COVERAGE_BOOT = 12, 30   # FAST-sized: raise both for a firmer answer
sweep = coverage_sweep(TRUE_THRESHOLD, TRUE_STEEPNESS, NOISE, repeats=COVERAGE_REPEATS,
                       n_boot=COVERAGE_BOOT, seed=SEED)
glue("ch00_early_tolerance", EARLY_TOLERANCE, "g")


def coverage(intervals: np.ndarray, truth: float) -> float:
    """Share of the (n, 2) intervals [lo, hi] that contain ``truth``."""
    raise NotImplementedError


undercover_verdict = ...   # True: the 5-point interval under-covers; False: not shown

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-00-coverage
# :class: dropdown
# ```

# %% tags=["solution"]
def coverage(intervals: np.ndarray, truth: float) -> float:
    """Share of the (n, 2) intervals [lo, hi] that contain ``truth``."""
    intervals = np.asarray(intervals, dtype=float)
    return float(np.mean((intervals[:, 0] <= truth) & (truth <= intervals[:, 1])))


from emergence_lib.metrics import wilson_interval

for n_points, found in sweep.items():
    covered = round(coverage(found, TRUE_THRESHOLD) * len(found))
    c_lo, c_hi = wilson_interval(covered, len(found))
    print(f"{n_points:>2} points: coverage {covered / len(found):.0%} ({covered} of {len(found)}; "
          f"95% Wilson interval {c_lo:.0%}-{c_hi:.0%}), median width "
          f"x{np.median(found[:, 1] / found[:, 0]):.2f}")
fewest = sweep[min(sweep)]
covered = round(coverage(fewest, TRUE_THRESHOLD) * len(fewest))
undercover_verdict = bool(wilson_interval(covered, len(fewest))[1] < 0.95)
print(f"under-coverage with {min(sweep)} points shown: {undercover_verdict}")
# The coverage is itself a rate over a few repetitions: its Wilson interval says how much the
# sweep can decide. Where it straddles 95%, more repetitions, not a verdict, are the answer.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %%
check_coverage(coverage)
check_coverage_verdict(undercover_verdict, sweep[min(sweep)], TRUE_THRESHOLD);

# %% [markdown]
# ```{exercise} Predict the threshold before the jump
# :label: ex-00-frontier-predict
#
# **Persona:** frontier researcher · **Difficulty:** ★★★ · **Time:** open-ended
#
# Question 3 asks whether $x_c$ could have been predicted *before* the jump. Target: predict the
# threshold within a factor {glue:text}`ch00_early_tolerance` of the truth from points *below* it
# alone (the part of the curve you would have seen before the midpoint). Fit the logistic to the
# first $k$ points above for $k = 3, 4, \ldots$: from which cut-off is the prediction within tolerance, and does its
# interval tell you in advance when it is not? Then make it harder: refit with the ceiling free
# (`ceil=None`), as for a real task whose ceiling is unknown. What extra information (a progress
# measure, the curves of the sub-skills, a second control parameter) could make the prediction
# possible earlier? Chapters 1 to 5 each offer one candidate; chapter 9 tests such predictions
# systematically.
# ```

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-00-frontier-predict
# :class: dropdown
# ```

# %% tags=["solution"]
early = early_prediction(sizes, observed, TRUE_THRESHOLD, seed=SEED)
for cut, guess, (e_lo, e_hi), ok in zip(early.cutoffs, early.thresholds, early.intervals,
                                        early.within(), strict=True):
    note = "  (degenerate: too few points to resample)" if e_hi <= e_lo else ""
    print(f"points up to {cut:>8,.0f}: threshold {guess:>9,.0f} [{e_lo:,.0f}, {e_hi:,.0f}] -> "
          f"{'within' if ok else 'outside'} x{early.tolerance:g}{note}")
print(early.sentence())
free = [fit_logistic(sizes[:k], observed[:k], floor=0.0, n_boot=0).threshold
        for k in range(4, len(sizes) + 1)]
print("with the ceiling free: " + ", ".join(f"{t:,.0f}" for t in free))
# With floor and ceiling known, the rising flank alone pins the midpoint; with the ceiling free,
# the part of the curve seen so far no longer fixes where it will level off, and the early
# refits wander. Read the intervals: a degenerate or very wide one is the warning.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %% [markdown]
# ### For the atlas
#
# This chapter's main transition, the known logistic refitted from noisy points, recorded for
# the atlas chapter (as the calibration case: its answer is known).

# %%
from emergence_lib.atlas import write_record

record = transition_record(sizes, observed, fit, result,
                           early_prediction(sizes, observed, TRUE_THRESHOLD, n_boot=0))
path = write_record(record)
print(f"{record.phenomenon}: midpoint {record.midpoint:,.0f}, threshold {record.threshold:,.0f}; "
      f"wrote {path.name}")
print("answers: " + "; ".join(f"{q} {a.answer}" for q, a in record.answers.items()))

# %% [markdown]
# ## Key takeaways
#
# ```{admonition} Key takeaways
# :class: important
# - "Emergent" in this course is weak emergence: a capability absent at small scale (or early),
#   present later, with an abrupt change; it can always be explained from the parts, and the
#   chapters do explain it.
# - Several mechanisms can make the change abrupt (the metric, the weakest link, circuit
#   formation, a change of the loss landscape, the information in the data, a collective
#   property like the glider); each chapter tests one or two.
# - The logistic in log-x summarises a transition by a threshold and a steepness; a steepness
#   $k$ means $x$ grows $81^{1/k}$-fold from 10% to 90%.
# - Trust a fit only with intervals, a comparison against a straight line, and a check on data
#   whose answer you know: {glue:text}`ch00_verdict`
# ```
#
# ## Check: does the fitting machinery work?
#
# This chapter trains nothing, so its check is on the tool every later chapter relies on, and it
# asserts exactly the verdict printed with the fit above
# (`emergence_lib.checks.ch00.recovers_threshold`): the fit must recover the threshold it was
# given within its interval, and beat the straight line.

# %%
print(result.sentence)
result.require()
print("✅ the fit recovers a known transition")
