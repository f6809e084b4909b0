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
# # 1. The scaling paradox
#
# Language-model loss falls smoothly and predictably as models grow, yet particular skills seem to
# switch on all at once: GPT-3's 13B model added three-digit numbers correctly less than 10% of
# the time, its 175B model 80% of the time {cite}`brown2020gpt3,wei2022emergent`. How can a smooth cause have a
# sudden effect? In this chapter you will
#
# 1. plot the published scaling law for loss next to the published "emergence points";
# 2. train your own family of tiny models on multi-digit addition and watch the same paradox
#    appear on a laptop CPU: per-digit accuracy rises smoothly with size while
#    whole-answer accuracy jumps;
# 3. see how a task that needs *every* one of several sub-skills sharpens a smooth curve (the
#    weakest link), and
# 4. fit the logistic in log-size with bootstrap intervals and check whether it really beats a
#    straight line.
#
# The three questions of the course ({doc}`00_what_is_emergence`) run through it: is the jump in
# the model or in the metric, was there hidden progress, and can we fit and predict it?
#
# ```{admonition} Learning objectives
# :class: tip
# After this chapter you can
# - compute what the Chinchilla scaling law says about the loss of two model sizes, and contrast
#   it with published accuracy-against-scale curves of single skills;
# - train a family of models and score the same predictions two ways (per-digit accuracy and
#   exact match), and explain why the all-or-nothing score is the sharper one (the weakest link);
# - fit the logistic in log-size with floor and ceiling fixed at chance and perfect, read its
#   threshold and steepness with bootstrap intervals, compare it with a straight line, and say
#   what a bootstrap over a handful of models can and cannot tell you.
# ```

# %% tags=["remove-cell"]
# In Colab: install the course library (and nothing else). Here: nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "emergence-lib @ git+https://github.com/emergence-course/emergence-in-neural-networks@v0.1.0"], check=True)

# %% tags=["parameters"]
FAST = True  # True: one seed and one data split (6 models, 2,000 steps); False: 3 seeds x 2 splits (36, 3,000 steps)
SEED = 0

# %%
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML

from emergence_lib.checks import ch01 as ch01_criterion
from emergence_lib.checks.ch01 import scaling_paradox
from emergence_lib.course import glue
from emergence_lib.detect import first_crossing
from emergence_lib.exercises.ch01 import (
    FRONTIER_TOLERANCE,
    THRESHOLD_SHIFT_RTOL,
    check_crossing_size,
    check_paradox_verdict,
    check_threshold_shift,
    check_weakest_link,
    crossing_size_reference,
    prediction_met,
    small_task_ratio,
)
from emergence_lib.fit import logistic, steepness_ratio
from emergence_lib.metrics import exact_match_from_positions
from emergence_lib.plotting import (
    frame_slider,
    plot_curves,
    plot_family,
    plot_logistic_fit,
    use_house_style,
)
from emergence_lib.recipes import addition as recipe
from emergence_lib.recipes import mirage
from emergence_lib.references import (
    CHINCHILLA,
    GPT3_13B_UPPER_BOUND,
    GPT3_ARITHMETIC,
    GPT3_ARITHMETIC_13B,
    GPT3_FLOPS,
    WEI_EMERGENCE,
    chinchilla_loss,
    compute_optimal_params,
)
from emergence_lib.utils import configure_threads

use_house_style()
configure_threads()
# the setup and the exercises' tolerances, from the modules that define them
train_config = recipe.addition_config()
glue("ch01_n_digits", recipe.N_DIGITS, "d")
glue("ch01_n_inputs", 2 * recipe.N_DIGITS, "d")
glue("ch01_n_outputs", recipe.N_DIGITS + 1, "d")
glue("ch01_depth", recipe.DEPTH, "d")
glue("ch01_width_min", min(recipe.WIDTHS), "d")
glue("ch01_width_max", max(recipe.WIDTHS), "d")
glue("ch01_lr", f"{train_config.lr:g}")
glue("ch01_batch", train_config.batch_size, "d")
glue("ch01_fast_steps", recipe.FAST["steps"], ",d")
glue("ch01_n_train", recipe.N_TRAIN, ",d")
glue("ch01_n_test", recipe.N_TEST, ",d")
glue("ch01_shift_rtol", THRESHOLD_SHIFT_RTOL, ".0%");

# %% [markdown]
# ## Smooth loss, sudden skills
#
# Hoffmann et al. fitted the final loss of hundreds of language models with
# $L(N, D) = E + A/N^{\alpha} + B/D^{\beta}$, where $N$ is the number of parameters and $D$ the
# number of training tokens {cite}`hoffmann2022chinchilla`. Below, on the left, is their fit for
# compute-optimal models ($D \approx 20N$, trained with $C \approx 6ND$ FLOPs), against training
# compute. Nothing in it is sudden: each tenfold increase in compute buys a little less loss. The
# dashed lines mark the training compute at which Wei et al. saw few-shot skills first rise above
# chance {cite}`wei2022emergent`. On the right are accuracy-against-compute curves of one model
# family, GPT-3, on few-shot arithmetic {cite}`brown2020gpt3`: its 13B model (2.3·10²² FLOPs)
# and its 175B model (3.1·10²³ FLOPs). Brown et al. give the 175B scores in a table; for 13B their
# text says only that it "can solve 2 digit addition … only half the time, and all other
# operations less than 10% of the time", so 2-digit addition is drawn at 0.5 and the other
# tasks' 13B scores only as the grey bar below 10%; their dotted lines start at that bound.

# %%
flops = np.geomspace(1e18, 1e25, 200)
optimal_loss = chinchilla_loss(compute_optimal_params(flops), 20 * compute_optimal_params(flops))
fig, (ax_loss, ax_arith) = plt.subplots(1, 2, figsize=(11, 4))
ax_loss.plot(flops, optimal_loss, label="Chinchilla fit, compute-optimal (D = 20N)")
ax_loss.axhline(CHINCHILLA["E"], color="gray", ls=":", label=f"irreducible E = {CHINCHILLA['E']}")
for i, row in enumerate(WEI_EMERGENCE):
    ax_loss.axvline(row["flops"], color=f"C{i + 1}", ls="--", lw=1,
                    label=f"{row['task']} emerges ({row['model']} {row['params'] / 1e9:.0f}B)")
ax_loss.set(xscale="log", xlabel="training compute (FLOPs)", ylabel="loss (nats / token)",
            title="Loss falls smoothly")
ax_loss.legend(fontsize=7)
small, large = sorted(GPT3_FLOPS)
x_13b, x_175b = GPT3_FLOPS[small], GPT3_FLOPS[large]
ax_arith.vlines(x_13b, 0, GPT3_13B_UPPER_BOUND, lw=8, color="gray", alpha=0.35,
                label="13B, every other task: under 10%")
for i, task in enumerate(GPT3_ARITHMETIC):
    at_13b, at_175b = GPT3_ARITHMETIC_13B[task], GPT3_ARITHMETIC[task]
    bound = at_13b == GPT3_13B_UPPER_BOUND          # the text gives only "less than 10%"
    if not bound or at_175b > at_13b:               # from the value (or the bound) to 175B
        ax_arith.plot([x_13b, x_175b], [at_13b, at_175b], color=f"C{i}", ls=":" if bound else "-")
    if not bound:
        ax_arith.plot(x_13b, at_13b, "o", color=f"C{i}")
    ax_arith.plot(x_175b, at_175b, "o", color=f"C{i}", label=f"{task} (175B: {at_175b:.1%})")
for row in WEI_EMERGENCE:
    if "addition" in row["task"]:
        ax_arith.axvline(row["flops"], color="gray", ls="--", lw=0.8)
ax_arith.set(xscale="log", xlim=(1e22, 6e23), ylim=(-0.03, 1.05), xlabel="training compute (FLOPs)",
             ylabel="few-shot accuracy", title="GPT-3 13B → 175B: skills arrive late")
ax_arith.legend(fontsize=7, loc="upper left")
plt.tight_layout()
plt.show()

# %%
# What the smooth law says between the sizes where the skill changed (compute-optimal D = 20N)
gpt3_sizes = np.array([6.7e9, 13e9, 175e9])
loss_6b, loss_13b, loss_175b = chinchilla_loss(gpt3_sizes, 20 * gpt3_sizes)
glue("ch01_loss_6b", loss_6b, ".2f")
glue("ch01_loss_13b", loss_13b, ".2f")
glue("ch01_loss_175b", loss_175b, ".2f")
glue("ch01_loss_gap", abs(loss_6b - loss_13b), ".2f")
glue("ch01_loss_side", "below" if loss_13b < loss_6b else "above")
glue("ch01_loss_drop_pct", 100 * (loss_13b - loss_175b) / loss_13b, ".0f")
glue("ch01_gpt3_3digit", 100 * GPT3_ARITHMETIC["3-digit addition"], ".0f")
print(f"Chinchilla loss, D = 20N: 6.7B {loss_6b:.3f}, 13B {loss_13b:.3f}, 175B {loss_175b:.3f} "
      f"nats/token (13B - 6.7B = {loss_13b - loss_6b:+.3f}; 175B is "
      f"{100 * (loss_13b - loss_175b) / loss_13b:.0f}% below 13B)")

# %% [markdown]
# By the fit, a compute-optimal 13B model's loss ({glue:text}`ch01_loss_13b` nats per token) is
# about {glue:text}`ch01_loss_gap` nats *{glue:text}`ch01_loss_side`* that of a 6.7B model
# ({glue:text}`ch01_loss_6b`), and going on to 175B lowers it by only another
# {glue:text}`ch01_loss_drop_pct`% ({glue:text}`ch01_loss_175b`). Over the same range, GPT-3's
# three-digit addition went from under 10% to {glue:text}`ch01_gpt3_3digit`%. Loss is an average
# over every token of the training distribution; a skill like addition is a tiny slice of it,
# scored all or nothing. To see how the two can disagree we need models we can take apart, so we
# train our own.
#
# ## A family of tiny models learning to add
#
# The task: add two {glue:text}`ch01_n_digits`-digit numbers. Each model sees the
# {glue:text}`ch01_n_inputs` digits one-hot encoded (least significant first) and predicts the
# {glue:text}`ch01_n_outputs` digits of the sum, also least significant first, with a separate
# 10-way softmax per position. Every model is the same {glue:text}`ch01_depth`-hidden-layer ReLU
# network, only wider or narrower: widths {glue:text}`ch01_width_min` to
# {glue:text}`ch01_width_max`, about 1k to 99k parameters. They all train the same way (AdamW,
# learning rate {glue:text}`ch01_lr` with a one-cycle schedule, batch {glue:text}`ch01_batch`,
# {glue:text}`ch01_steps` steps; FAST stops at {glue:text}`ch01_fast_steps` because the widest
# model's jump is over by step 1,000) on the same {glue:text}`ch01_n_train` problems and are
# scored on {glue:text}`ch01_n_test` problems they never saw. All of these numbers live in
# `emergence_lib.recipes.addition`.
#
# The trainings do not depend on each other, so the recipe hands them to
# `emergence_lib.sweep.run`, one config (width, seed, data split and the settings above) per
# model. By default they run one after another in this notebook's process. Set
# `EMERGENCE_SWEEP_BACKEND=loky` before starting Jupyter to train one model per core, or
# `EMERGENCE_DASK_SCHEDULER=tcp://HOST:8786` to send them to a Dask cluster; the chapter itself
# stays the same. Every model is seeded by its config, so any backend trains the same models,
# bit for bit when it uses the same number of torch threads. Finished models are kept in
# `.cache/addition/`, one file per config: running the cell again, or chapter 2 in the same
# folder, loads them instead of training again.

# %%
setup = recipe.FAST if FAST else recipe.FULL
seeds = tuple(SEED + s for s in setup["seeds"])
family = recipe.train_addition_family(setup["widths"], seeds, setup["splits"],
                                      steps=setup["steps"], cache_dir=".cache")
glue("ch01_steps", setup["steps"], ",d")
params, exact = recipe.family_table(family, "exact_match")
_, per_digit = recipe.family_table(family, "token_accuracy")
print(f"{'width':>6} {'params':>8} {'per-digit acc':>14} {'exact match':>12}")
for member in family:
    print(f"{member.width:>6} {member.n_params:>8} {member.scores['token_accuracy']:>14.3f} "
          f"{member.scores['exact_match']:>12.3f}")

# %% [markdown]
# Two scores of the same predictions: **per-digit accuracy** (the share of answer digits that are
# right) and **exact match** (the share of answers with all five digits right). Plotted against
# size on a log axis, the first climbs steadily; the second lies flat near zero and then shoots up
# (the verdict further down tests both descriptions with a fit).

# %%
fig, ax = plt.subplots()
plot_family(params, {"per-digit accuracy": per_digit, "exact match": exact}, ax=ax,
            ylabel="test accuracy", title="Same models, two scores")
ax.axhline(0.1, color="gray", lw=0.8, ls=":")
plt.show()

# %% [markdown]
# ### The same paradox along training time
#
# Size is not the only axis. Each run was evaluated many times during training, most densely
# where the widest model's jump sits. For the widest model of this run, exact match waits near
# zero while per-digit accuracy climbs: when exact match first reaches 10% (step
# {glue:text}`ch01_steps_exact_start`), per-digit accuracy is already at
# {glue:text}`ch01_steps_digit_at_exact_start`, and exact match reaches 90% by step
# {glue:text}`ch01_steps_exact_end`. The logistic in log-steps puts exact match's threshold at
# step {glue:text}`ch01_step_threshold` (R² {glue:text}`ch01_step_r2` against
# {glue:text}`ch01_step_line_r2` for a line in log-steps), {glue:text}`ch01_step_k_ratio` times as
# steep as per-digit accuracy's; {glue:text}`ch01_step_digit`. Successive evaluations of one run
# are not independent samples, so the bootstrap intervals the cell prints for the step axis are
# too narrow; treat them as a description of this run, not as uncertainty.

# %%
widest = max(family, key=lambda m: (m.width, -m.seed, -m.split))
history = widest.result.history
exact_start, exact_end = (first_crossing(history["step"], history["test_exact_match"], level)
                          or np.nan for level in (0.1, 0.9))   # nan: never reached
digit_then = np.interp([exact_start, exact_end], history["step"], history["test_token_accuracy"])
print(f"width {widest.width}: exact match reaches 10% at step {exact_start:.0f} and 90% at step "
      f"{exact_end:.0f}; per-digit accuracy is {digit_then[0]:.2f} and {digit_then[1]:.2f} then")
glue("ch01_steps_exact_start", exact_start, ".0f")
glue("ch01_steps_exact_end", exact_end, ".0f")
glue("ch01_steps_digit_at_exact_start", digit_then[0], ".2f")
trained = history["step"] > 0      # log axis: leave out step 0
step_fits = {name: mirage.fit_metric(history["step"][trained], history[f"test_{name}"][trained],
                                     name, seed=SEED)
             for name in ("exact_match", "token_accuracy")}
for name, f in step_fits.items():
    lo_s, hi_s = f.intervals["threshold"]
    print(f"{name} vs step: threshold step {f.threshold:.0f} [{lo_s:.0f}, {hi_s:.0f}], "
          f"steepness {f.steepness:.2f}, R² {f.r2:.3f} vs line {f.linear.r2:.3f}")
glue("ch01_step_threshold", step_fits["exact_match"].threshold, ".0f")
glue("ch01_step_r2", step_fits["exact_match"].r2, ".2f")
glue("ch01_step_line_r2", step_fits["exact_match"].linear.r2, ".2f")
glue("ch01_step_k_ratio",
     step_fits["exact_match"].steepness / step_fits["token_accuracy"].steepness, ".1f")
digit_step = step_fits["token_accuracy"]
digit_step_smooth = digit_step.linear.r2 >= digit_step.r2 - ch01_criterion.DIGIT_LINE_GAP
glue("ch01_step_digit", (
    f"per-digit accuracy is fitted by a line in log-steps "
    f"{'about as well as' if digit_step_smooth else 'less well than'} by the logistic "
    f"(R² {digit_step.linear.r2:.2f} vs {digit_step.r2:.2f})" + ("" if digit_step_smooth else
                                ": along training time both scores follow S-curves, and what "
                                "sets exact match apart is how much later and steeper its "
                                "rise is")))
fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(11, 4))
plot_curves(history["step"], {"per-digit accuracy": history["test_token_accuracy"],
                              "exact match": history["test_exact_match"]},
            ax=ax_a, ylabel="test accuracy", title=f"width {widest.width} during training")
for member in family:
    if member.seed == seeds[0] and member.split == setup["splits"][0]:
        h = member.result.history
        ax_b.plot(h["step"] + 1, h["test_exact_match"], label=f"width {member.width}")
ax_b.set(xscale="log", xlabel="step + 1", ylabel="exact match", title="Every width")
ax_b.legend(fontsize=8)
plt.tight_layout()
plt.show()

# %% [markdown]
# ### Hidden inside the average: each digit switches on at its own size
#
# Per-digit accuracy is an average over five answer positions. Pull it apart and a caveat worth
# remembering appears: a position tends to be either near chance (0.1) or near perfect, and each
# switches on at its own width, not necessarily in order of place value. The cell below says, for
# this run, which positions the smallest model already has and at which width each of the others
# first passes 90%: {glue:text}`ch01_positions`. Which digit a small network spends its capacity
# on is decided by its training, not by the carry structure alone. The smooth average is a
# *mixture of small jumps*.

# %%
fig, ax = plt.subplots()
positions = {f"digit {i} (10^{i})": recipe.family_table(family, f"pos{i}_accuracy")[1]
             for i in range(recipe.N_DIGITS + 1)}
plot_family(params, positions, ax=ax, ylabel="test accuracy at this position",
            title="Per-position accuracy", markers=False)
plt.show()
widths = np.array([m.width for m in family])
learned_at, drops = {}, []        # position -> first width with mean accuracy >= 0.9; set-backs
for name, acc in positions.items():
    means = [acc[widths == w].mean() for w in setup["widths"]]
    learned_at[name] = next((w for w, a in zip(setup["widths"], means, strict=True) if a >= 0.9),
                            None)
    for i in range(len(means) - 1):
        (w0, a0), (w1, a1) = (setup["widths"][i], means[i]), (setup["widths"][i + 1], means[i + 1])
        if a0 - a1 > 0.3:         # a wider model lost a position a narrower one had
            drops.append(f"{name} falls from {a0:.2f} at width {w0} to {a1:.2f} at width {w1}")
    print(f"{name}: mean accuracy by width {np.round(means, 2).tolist()}")
smallest_width = min(setup["widths"])
early = [n for n, w in learned_at.items() if w == smallest_width]
later = [f"{n} at width {w}" for n, w in learned_at.items() if w not in (None, smallest_width)]
never = [n for n, w in learned_at.items() if w is None]
positions_text = (f"width {smallest_width} already has {', '.join(early) or 'none of them'}; "
                  + (", ".join(later) if later else "no other position passes 90%")
                  + (f"; {', '.join(never)} never" if never else "")
                  + "".join(f"; {d}" for d in drops))
glue("ch01_positions", positions_text)
print(positions_text)

# %% [markdown]
# ## The weakest link
#
# Suppose a task needs $m$ sub-skills and succeeds only when all of them do. If sub-skill $i$
# succeeds with probability $p_i$ independently, the task succeeds with probability
# $\prod_i p_i$. Even when each $p_i$ is a gentle logistic in log-size, the product is steeper
# and its threshold moves right: a task built from five smooth skills looks emergent. Move the
# sliders to see it (with a live kernel); on the static site the animation below steps through
# $m$ for you.

# %%
sizes = np.geomspace(1e2, 1e6, 300)


def draw_weakest_link(ax, m: int, steepness: float = 1.5, threshold: float = 1e4) -> None:
    """One sub-skill's logistic and the all-of-m product, on a log size axis."""
    skill = logistic(sizes, 0.0, 1.0, threshold, steepness)
    ax.plot(sizes, skill, label="one sub-skill", color="C0")
    ax.plot(sizes, skill**m, label=f"all {m} sub-skills", color="C1")
    ax.set(xscale="log", ylim=(-0.02, 1.02), xlabel="model size", ylabel="success probability",
           title=f"Weakest link: m = {m}")
    ax.legend(loc="upper left")


def show_weakest_link(m: int = 5, steepness: float = 1.5, log10_threshold: float = 4.0) -> None:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    draw_weakest_link(ax, m, steepness, 10**log10_threshold)
    plt.show()


widgets.interact(show_weakest_link,
                 m=widgets.IntSlider(value=5, min=1, max=10, description="sub-skills m"),
                 steepness=widgets.FloatSlider(value=1.5, min=0.3, max=5.0, step=0.1,
                                               description="steepness k"),
                 log10_threshold=widgets.FloatSlider(value=4.0, min=3.0, max=5.0, step=0.25,
                                                     description="log10 x_c"));

# %%
HTML(frame_slider(lambda ax, frame: draw_weakest_link(ax, frame + 1), n_frames=8))

# %% [markdown]
# Exact match on our addition task is exactly such a product: five positions, each of which must
# be right. We come back to how well "product of per-position accuracies" predicts exact match
# in the next chapter, the metric mirage.
#
# ## Fitting the jump: a logistic in log-size
#
# The course fits every transition with
# $A(x) = \text{floor} + (\text{ceil} - \text{floor}) / (1 + e^{-k(\log x - \log x_c)})$:
# $x_c$ is the threshold (halfway point) and $k$ the steepness per unit of $\ln x$. We fix what
# we know: the floor at the score of a uniform guess (0.1 per digit; $0.1^5$ for a whole
# five-digit answer) and the ceiling at a perfect score, and fit the rest. This is the convention
# of the next chapter too (`emergence_lib.recipes.mirage.fit_metric`), so the two chapters report
# the same steepness for the same models. A fit alone proves little, so we report 95% bootstrap
# intervals (refitting on resampled models) and compare with the simplest alternative, a straight
# line in $\log x$.

# %%
fit_exact = mirage.fit_metric(params, exact, "exact_match", seed=SEED)
fit_digit = mirage.fit_metric(params, per_digit, "token_accuracy", seed=SEED)
ratio = steepness_ratio(fit_exact, fit_digit)   # paired: both fits resample the same models
print("exact match:\n" + fit_exact.summary())
print("\nper-digit accuracy:\n" + fit_digit.summary())
print("\nexact match vs per-digit: " + ratio.summary())
models_per_size = len(family) // len(setup["widths"])
k_lo, k_hi = fit_exact.intervals["steepness"]
at_top = fit_exact.steepness >= k_hi - 0.05 * (k_hi - k_lo)
sizes_sorted = np.unique(params)
above = np.searchsorted(sizes_sorted, fit_exact.threshold)
glue("ch01_k_exact", fit_exact.steepness, ".2f")
glue("ch01_k_exact_lo", k_lo, ".2f")
glue("ch01_k_exact_hi", k_hi, ".2f")
glue("ch01_k_digit", fit_digit.steepness, ".2f")
glue("ch01_k_ratio", ratio.ratio, ".1f")
glue("ch01_k_ratio_lo", ratio.interval[0], ".1f")
glue("ch01_k_ratio_hi", ratio.interval[1], ".1f")
glue("ch01_k_share", 100 * ratio.share_steeper, ".0f")
glue("ch01_threshold_exact", fit_exact.threshold, ",.0f")
glue("ch01_threshold_where", (
    f"between the models of {sizes_sorted[above - 1]:,.0f} and {sizes_sorted[above]:,.0f} "
    "parameters" if 0 < above < len(sizes_sorted) else "outside the range of trained sizes"))
glue("ch01_r2_exact", fit_exact.r2, ".2f")
glue("ch01_r2_exact_line", fit_exact.linear.r2, ".2f")
glue("ch01_r2_digit", fit_digit.r2, ".2f")
glue("ch01_r2_digit_line", fit_digit.linear.r2, ".2f")
glue("ch01_boot_caveat", (
    "With one model per size, as here, a resample can only leave out or repeat sizes. Leaving "
    "out the model nearest the threshold blurs the jump, so the resamples bound exact match's "
    "steepness better from below than from above"
    + (f" (the estimate {fit_exact.steepness:.2f} sits at the top of its interval "
       f"[{k_lo:.2f}, {k_hi:.2f}])" if at_top else
       f" (its interval is [{k_lo:.2f}, {k_hi:.2f}] around {fit_exact.steepness:.2f})")
    + ". Nor does the interval know how much another seed would move the curve: FAST trains "
      "one seed, so what this run supports is a lower bound for this seed, not a precise factor. "
      "FULL (`FAST = False`: 3 seeds × 2 data splits) resamples seeds and splits too."
    if models_per_size == 1 else
    f"Each size has {models_per_size} models here (seeds × data splits), so the bootstrap "
    "resamples seeds and splits as well as sizes, and the interval includes how much another "
    "seed moves the curve."))

fig, (ax_e, ax_d) = plt.subplots(1, 2, figsize=(11, 4))
plot_logistic_fit(fit_exact, params, exact, ax=ax_e, label="exact match")
plot_logistic_fit(fit_digit, params, per_digit, ax=ax_d, label="per-digit accuracy", color="C1")
ax_e.set(xlabel="parameters", ylabel="accuracy", title="Exact match")
ax_d.set(xlabel="parameters", title="Per-digit accuracy")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the numbers, not just the picture. The exact-match threshold is at about
# {glue:text}`ch01_threshold_exact` parameters, {glue:text}`ch01_threshold_where`. Its steepness,
# {glue:text}`ch01_k_exact` per unit of $\ln x$ (95% interval {glue:text}`ch01_k_exact_lo` to
# {glue:text}`ch01_k_exact_hi`), is {glue:text}`ch01_k_ratio` times per-digit accuracy's
# {glue:text}`ch01_k_digit`; the paired bootstrap (both scores refitted on the same resampled
# models) puts the ratio between {glue:text}`ch01_k_ratio_lo` and {glue:text}`ch01_k_ratio_hi`,
# and exact match is the steeper curve in {glue:text}`ch01_k_share`% of the refits.
# {glue:text}`ch01_boot_caveat`
#
# The straight line tells the two scores apart too. For exact match it explains R² =
# {glue:text}`ch01_r2_exact_line` against {glue:text}`ch01_r2_exact` for the logistic; for
# per-digit accuracy the line gives R² = {glue:text}`ch01_r2_digit_line` against
# {glue:text}`ch01_r2_digit`. The verdict cell below turns these numbers into the chapter's
# conclusion; the check cell at the end asserts the same conditions. Whether the sharper curve is
# a fact about the models or a fact about the metric is the subject of the next chapter.

# %%
by_size = {w: [m for m in family if m.width == w] for w in setup["widths"]}
smallest, largest = by_size[min(by_size)], by_size[max(by_size)]
result = scaling_paradox(
    small_exact=np.mean([m.scores["exact_match"] for m in smallest]),
    small_digit=np.mean([m.scores["token_accuracy"] for m in smallest]),
    large_exact=np.mean([m.scores["exact_match"] for m in largest]),
    exact_r2=fit_exact.r2, exact_line_r2=fit_exact.linear.r2,
    digit_r2=fit_digit.r2, digit_line_r2=fit_digit.linear.r2,
    ratio=ratio.ratio, ratio_lo=ratio.interval[0], ratio_hi=ratio.interval[1])
glue("ch01_verdict", result.sentence)
glue("ch01_small_exact_max", ch01_criterion.SMALL_EXACT_MAX, ".0%")   # the criterion's limits
glue("ch01_small_digit_min", ch01_criterion.SMALL_DIGIT_MIN, ".0%")
glue("ch01_large_exact_min", ch01_criterion.LARGE_EXACT_MIN, ".0%")
glue("ch01_exact_residual_ratio", ch01_criterion.EXACT_RESIDUAL_RATIO, "g")
glue("ch01_digit_line_gap", ch01_criterion.DIGIT_LINE_GAP, "g")
glue("ch01_digit_line_min", ch01_criterion.DIGIT_LINE_MIN, "g")
print(result.sentence)

# %% [markdown]
# ## Exercises
#
# ```{exercise} The weakest link in code
# :label: ex-01-weakest-link
#
# **Persona:** CS student · **Difficulty:** ★☆☆ · **Time:** 15 min
#
# Write `weakest_link(skill_probs)`: given an array whose *last* axis holds the success
# probabilities of $m$ independent sub-skills, return the probability that all of them succeed
# (one value per row). Then **predict, before you look**: every sub-skill follows the widget's
# default logistic ($k = 1.5$, threshold $x_c = 10^4$). At what size, as a multiple of $x_c$,
# do all $m = 5$ of them succeed together half the time? Write the factor into
# `threshold_shift` (a number, e.g. `2.0`); the cell after the checker reads the answer off the
# widget's own curve and compares (within {glue:text}`ch01_shift_rtol`).
# ```

# %%
def weakest_link(skill_probs: np.ndarray) -> np.ndarray:
    """(..., m) sub-skill success probabilities -> (...) probability that all succeed."""
    raise NotImplementedError


threshold_shift = ...   # your prediction: the all-of-5 50% point, in multiples of x_c


# %% [markdown] tags=["solution"]
# ```{solution-start} ex-01-weakest-link
# :class: dropdown
# ```

# %% tags=["solution"]
def weakest_link(skill_probs: np.ndarray) -> np.ndarray:
    """(..., m) sub-skill success probabilities -> (...) probability that all succeed."""
    return np.prod(np.asarray(skill_probs, dtype=float), axis=-1)

# The threshold moves right: each factor is < 1, so the product needs every p_i close to 1,
# which happens only at larger sizes; the curve also gets steeper. All five reach 50% together
# when each is at 0.5**(1/5) = 0.87: (x / x_c)**k = 0.87 / 0.13, so x / x_c = 6.7**(1 / 1.5).
threshold_shift = (0.5 ** 0.2 / (1 - 0.5 ** 0.2)) ** (1 / 1.5)


# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %%
check_weakest_link(weakest_link);
product_5 = logistic(sizes, 0.0, 1.0, 1e4, 1.5) ** 5        # the widget's default curve, m = 5
measured_shift = float(np.exp(first_crossing(np.log(sizes), product_5, 0.5)) / 1e4)
glue("ch01_measured_shift", measured_shift, ".2f")
check_threshold_shift(threshold_shift, measured_shift);

# %% [markdown]
# ```{exercise} What does the jump cost? Ship the adder
# :label: ex-01-engineer-cost
#
# **Persona:** applied engineer · **Difficulty:** ★★☆ · **Time:** 40 min
#
# You must ship the smallest model of the family that answers at least 90% of additions exactly.
# (a) Measure, with `emergence_lib.bench.measure_step`, the inference throughput (answers per
# second for a batch of 256) and memory of a model below the exact-match threshold and of the
# one you ship, and the cost of one training step of the shipped width. (b) Export it with
# `emergence_lib.export.export_model`, save, reload, and show the reloaded program gives
# *identical* outputs (`check_roundtrip`). (c) Serve the reloaded program with
# `emergence_lib.serve.make_app` behind `LocalServer` (a real uvicorn server on 127.0.0.1) with
# a **digit-count guard**: a request is the digits of `a` then of `b`
# (`recipes.addition.adder_request`), at most `2 * N_DIGITS` digits; a longer request must get
# a 413 that names the limit. (d) Measure p50/p95 latency with a real HTTP client
# (`latency_by_model`) for the model below the threshold and the shipped one. What does crossing
# the threshold cost? Serving needs the optional extra `[serve]` (FastAPI, uvicorn, httpx:
# `pip install 'emergence-lib[serve]'`); without it the cell says so and skips the service.
# ```

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-01-engineer-cost
# :class: dropdown
# ```

# %% tags=["solution"]
import importlib.util

import torch

from emergence_lib.bench import measure_step
from emergence_lib.export import check_roundtrip, export_model, load_exported, save_exported
from emergence_lib.tasks import addition_problems, from_digits

problems = addition_problems(seed=setup["splits"][0])
batch = problems.x_test[:256]
first_run = [m for m in family if m.seed == seeds[0] and m.split == setup["splits"][0]]
good = [m for m in first_run if m.scores["exact_match"] >= 0.9]
chosen = min(good, key=lambda m: m.n_params) if good else max(first_run, key=lambda m: m.n_params)
below = max((m for m in first_run if m.n_params < fit_exact.threshold),
            key=lambda m: m.n_params, default=first_run[0])
for label, member in (("below the threshold", below), ("shipped", chosen)):
    model = member.result.model.eval()

    def infer(model=model) -> torch.Tensor:
        with torch.no_grad():
            return model(batch)                                   # (256, 5, 10)

    cost = measure_step(infer, repeats=10, warmup=2)
    print(f"width {member.width:>3} ({label}, {member.n_params:,} parameters, "
          f"{member.n_params * 4 / 1024:.0f} KiB, exact match {member.scores['exact_match']:.3f}): "
          f"{cost.per_second * len(batch):,.0f} answers/s; " + cost.summary("batches"))

train_model = recipe.addition_model(chosen.width, seed=SEED)
optimizer = torch.optim.AdamW(train_model.parameters(), lr=3e-3)
xb, yb = problems.x_train[:256], problems.y_train[:256]


def train_step() -> None:
    """One AdamW step of the shipped width on a batch of 256 (the recipe's loss)."""
    optimizer.zero_grad()
    recipe.sequence_loss(train_model, (xb, yb)).backward()
    optimizer.step()


print(f"training width {chosen.width}: " + measure_step(train_step, repeats=10).summary())

shipped = chosen.result.model.eval()
reloaded = load_exported(save_exported(export_model(shipped, batch), ".cache/adder.pt2"))
difference = check_roundtrip(shipped, reloaded, batch)
print(f"export -> save -> load: max |difference| on {len(batch)} problems = {difference}")
assert difference == 0.0, "the reloaded program must give identical outputs"

n_digits = recipe.N_DIGITS
if any(importlib.util.find_spec(name) is None for name in ("fastapi", "uvicorn", "httpx")):
    print("FastAPI, uvicorn or httpx is not installed, so the service is skipped: "
          "pip install 'emergence-lib[serve]' (in Colab: !pip install -q fastapi uvicorn httpx)")
else:
    import httpx

    from emergence_lib.serve import LocalServer, latency_by_model, make_app

    options = {"vocab": 10, "encode": recipe.adder_encode(n_digits), "unit": "digits",
               "readout": recipe.adder_readout, "validate": recipe.adder_validate}
    app = make_app(reloaded.module(), max_context=2 * n_digits, name="adder", **options)
    with LocalServer(app) as server:
        url = server.url + "/predict"
        full = httpx.post(url, json={"tokens": recipe.adder_request(4821, 3907)}).json()
        short = httpx.post(url, json={"tokens": recipe.adder_request(58, 67, 2)}).json()
        too_long = httpx.post(url, json={"tokens": recipe.adder_request(12345, 67890, 5)})
        odd = httpx.post(url, json={"tokens": [1, 2, 3]})
        alive = httpx.get(server.url + "/health").status_code
    print(f"4821 + 3907 -> {int(from_digits(full['answer']))} (p = {full['probability']:.3f}); "
          f"58 + 67 -> {int(from_digits(short['answer']))}")
    print(f"5-digit operands: {too_long.status_code} {too_long.json()['message']}")
    print(f"odd digit count: {odd.status_code} {odd.json()['message']}")
    print(f"/health afterwards: {alive}")
    assert too_long.status_code == 413 and f"max_context={2 * n_digits}" in \
        too_long.json()["message"]
    payloads = [recipe.adder_request(int(a), int(b)) for a, b in zip(
        from_digits(problems.x_test[:8, :n_digits]), from_digits(problems.x_test[:8, n_digits:]),
        strict=True)]
    latency = latency_by_model({f"width {below.width} (below)": below.result.model,
                                f"width {chosen.width} (shipped)": chosen.result.model},
                               payloads, max_context=2 * n_digits, repeats=10, **options)
    for name, stats in latency.items():
        print(f"{name:>20}: p50 {stats['p50_ms']:.2f} ms, p95 {stats['p95_ms']:.2f} ms "
              f"({stats['n']} requests, {stats['errors']} errors)")
    (_, low), (_, high) = latency.items()
    slower = high["p50_ms"] / low["p50_ms"]
    print(f"crossing the threshold: {chosen.n_params / below.n_params:.1f}x the parameters, "
          f"{slower:.1f}x the median latency" + (
              ": the HTTP round trip, not the model, sets the latency at this size"
              if slower < 1.5 else
              ": more than the forward passes measured above explain, so repeat on an idle "
              "machine before you quote it"))
# A forward pass of either model is a fraction of a millisecond (the throughputs above), so on
# an idle machine the HTTP round trip dominates; timings on a shared machine are noisy.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %% [markdown]
# ```{exercise} Where does the family cross 50%?
# :label: ex-01-crossing
#
# **Persona:** applied researcher · **Difficulty:** ★★☆ · **Time:** 30 min
#
# A threshold read off a fitted logistic depends on the fit. A model-free alternative: the size at
# which accuracy first reaches a level, interpolating linearly in $\log(\text{size})$ between
# measured points. (a) Write `crossing_size(sizes, accuracy, level)` (points may come in any
# order; return `nan` if the level is never reached). (b) **Hypothesis:** the sharpening does
# not need a solved task or 5-digit answers: on 2-digit addition (3-digit answers) trained
# briefly, where no model yet answers more than a few percent exactly, exact match already
# rises more steeply in log-size than per-digit accuracy, *within the uncertainty*. The cell
# below runs the sweep for you through the same recipe (`recipes.addition.SMALL`: widths
# {glue:text}`ch01_small_widths`, {glue:text}`ch01_small_n_seeds` seeds,
# {glue:text}`ch01_small_steps` steps). Fit both scores as the chapter does (`mirage.fit_metric`
# with `length=3`: floor and ceiling fixed at chance and perfect), compute the paired-bootstrap
# steepness ratio (`fit.steepness_ratio`), and set `verdict = True` if its 95% interval lies
# above 1, `False` otherwise. (The reference run gives {glue:text}`ch01_small_ratio`,
# interval {glue:text}`ch01_small_ratio_lo` to {glue:text}`ch01_small_ratio_hi`.)
# ```

# %%
def crossing_size(sizes: np.ndarray, accuracy: np.ndarray, level: float) -> float:
    """Smallest size where accuracy reaches ``level``, linear in log(size); nan if never."""
    raise NotImplementedError


small = recipe.SMALL          # the sweep: 2-digit addition, narrow widths, 2 seeds
small_family = recipe.train_addition_family(
    small["widths"], tuple(SEED + s for s in small["seeds"]), small["splits"],
    steps=small["steps"], n_digits=small["n_digits"], n_train=small["n_train"],
    n_test=small["n_test"], cache_dir=".cache", progress=not FAST)
glue("ch01_small_widths", ", ".join(str(w) for w in small["widths"]))
glue("ch01_small_n_seeds", len(small["seeds"]))
glue("ch01_small_steps", small["steps"], ",d")
print(f"{'width':>6} {'seed':>5} {'per-digit':>10} {'exact':>7}")
for m in small_family:
    print(f"{m.width:>6} {m.seed:>5} {m.scores['token_accuracy']:>10.3f} "
          f"{m.scores['exact_match']:>7.3f}")
verdict = ...   # True if exact match is steeper within the uncertainty, else False


# %% [markdown] tags=["solution"]
# ```{solution-start} ex-01-crossing
# :class: dropdown
# ```

# %% tags=["solution"]
def crossing_size(sizes: np.ndarray, accuracy: np.ndarray, level: float) -> float:
    """Smallest size where accuracy reaches ``level``, linear in log(size); nan if never."""
    order = np.argsort(sizes)
    log_size = np.log(np.asarray(sizes, dtype=float)[order])
    acc = np.asarray(accuracy, dtype=float)[order]
    above = np.flatnonzero(acc >= level)
    if len(above) == 0:
        return float("nan")
    i = above[0]
    if i == 0:
        return float(np.exp(log_size[0]))
    t = (level - acc[i - 1]) / (acc[i] - acc[i - 1])
    return float(np.exp(log_size[i - 1] + t * (log_size[i] - log_size[i - 1])))


size_grid = np.unique(params)     # one point per size: the mean over seeds and splits
exact_mean = np.array([exact[params == n].mean() for n in size_grid])
print(f"exact match crosses 50% at about {crossing_size(size_grid, exact_mean, 0.5):,.0f} "
      "parameters")

small_params, small_exact = recipe.family_table(small_family, "exact_match")
_, small_digit = recipe.family_table(small_family, "token_accuracy")
answer_length = small["n_digits"] + 1
small_fit_exact = mirage.fit_metric(small_params, small_exact, "exact_match",
                                    length=answer_length, seed=SEED)
small_fit_digit = mirage.fit_metric(small_params, small_digit, "token_accuracy",
                                    length=answer_length, seed=SEED)
small_ratio = steepness_ratio(small_fit_exact, small_fit_digit)
print(f"2-digit addition: exact match k = {small_fit_exact.steepness:.2f}, per-digit k = "
      f"{small_fit_digit.steepness:.2f}; " + small_ratio.summary())
verdict = bool(small_ratio.interval[0] > 1.0)
print("hypothesis", "supported: exact match is steeper within the uncertainty" if verdict else
      "not shown: the interval reaches down to 1 or below, so this sweep cannot tell")
# What this does and does not show: with the ceiling fixed at a perfect score, the fits
# describe the low tail of curves that never get far (exact match stays at a few percent), and
# 2 seeds x 4 widths give the bootstrap 8 models. A stronger test trains until the larger
# models solve the task and adds seeds before it adds widths.


# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %%
check_crossing_size(crossing_size);
small_k_ratio, small_interval = small_task_ratio(small_family, seed=SEED)
glue("ch01_small_ratio", small_k_ratio, ".1f")
glue("ch01_small_ratio_lo", small_interval[0], ".1f")
glue("ch01_small_ratio_hi", small_interval[1], ".1f")
check_paradox_verdict(verdict, small_interval);

# %% [markdown]
# ```{exercise} Predict the threshold from the task's structure
# :label: ex-01-frontier
#
# **Persona:** frontier researcher · **Difficulty:** ★★★ · **Time:** open-ended
#
# Treat the five answer positions as the sub-skills of the weakest-link model. From the
# per-position curves alone, predict the size at which exact match crosses 50%. **Target:**
# within {glue:text}`ch01_frontier_tol` of the measured crossing (stated before comparing).
# When does the prediction miss? Is the independence assumption the culprit (are position
# errors correlated?) or is it the interpolation between the few sizes we trained? Propose a
# better estimator and say, with the numbers, whether it met the target.
# ```

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-01-frontier
# :class: dropdown
# ```

# %% tags=["solution"]
predicted = exact_match_from_positions(np.stack(
    [recipe.family_table(family, f"pos{i}_accuracy")[1] for i in range(recipe.N_DIGITS + 1)],
    axis=-1))
sizes_u = np.unique(params)       # average over the seeds and splits of each size
measured_u = np.array([exact[params == n].mean() for n in sizes_u])
predicted_u = np.array([predicted[params == n].mean() for n in sizes_u])
print("size      measured exact match   product of positions")
for n, measured, guess in zip(sizes_u, measured_u, predicted_u, strict=True):
    print(f"{n:>8.0f}   {measured:>10.3f}            {guess:>10.3f}")
measured_at = crossing_size_reference(sizes_u, measured_u, 0.5)
predicted_at = crossing_size_reference(sizes_u, predicted_u, 0.5)
print(f"largest |measured - product| {np.max(np.abs(exact - predicted)):.3f} (any model); "
      f"50% crossing: measured {measured_at:,.0f}, predicted {predicted_at:,.0f} parameters "
      f"(ratio {predicted_at / measured_at:.2f}; trained sizes are a factor "
      f"{np.exp(np.mean(np.diff(np.log(sizes_u)))):.1f} apart)")
met = prediction_met(predicted_at, measured_at, FRONTIER_TOLERANCE)
print(f"target (within {FRONTIER_TOLERANCE:.0%} of the measured crossing): "
      + (f"met, off by {abs(predicted_at / measured_at - 1):.0%}" if met else
         "not met" + (f", off by {abs(predicted_at / measured_at - 1):.0%}"
                      if np.isfinite(predicted_at / measured_at) else
                      " (a curve never crosses 50% in the trained range)")))
# If the largest gap is small, errors at different positions are close to independent and the
# product predicts exact match; what is left of the miss comes from interpolating between sizes
# a factor of 2-3 apart. A better estimator fits each position's logistic first and multiplies
# the fits. With one seed (FAST) the target can be met by luck: FULL's 6 models per size say
# more.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %% [markdown]
# ### For the atlas
#
# This chapter's main transition, exact match against model size with per-digit accuracy as
# its progress measure, recorded for the atlas chapter.

# %%
from emergence_lib.atlas import write_record

glue("ch01_frontier_tol", FRONTIER_TOLERANCE, ".0%")
record = recipe.transition_record(family, paradox=result, seed=SEED, logistic=fit_exact, printed={
    "ch01_threshold_exact": f"{fit_exact.threshold:,.0f}", "ch01_k_exact": f"{fit_exact.steepness:.2f}",
    "ch01_k_ratio": f"{ratio.ratio:.1f}"})
write_record(record)
midpoint = "none detected" if record.midpoint is None else f"{record.midpoint:,.0f}"
print(f"atlas: {record.phenomenon}, midpoint {midpoint} {record.unit}, "
      f"threshold {record.threshold:,.0f} (steepness {record.steepness:.2f})")
print("answers: " + "; ".join(f"{q} {a.answer}" for q, a in record.answers.items()))

# %% [markdown]
# ## Key takeaways
#
# ```{admonition} Key takeaways
# :class: important
# - A smooth scaling law for loss and an abrupt skill curve are not in conflict: loss averages
#   over everything, a skill is one narrow, all-or-nothing slice.
# - On our own family: {glue:text}`ch01_verdict`
# - An all-or-nothing score is a product over its parts (the weakest link), which makes it
#   steeper and moves its threshold to larger sizes; each answer position also has its own small
#   jump, so the smooth per-digit average is itself a mixture.
# - Fix what you know (chance and perfect) before you fit, report intervals, compare with a line,
#   and say what your resampling covers: a bootstrap over six models bounds a steepness from
#   below, and knows nothing about other seeds.
# ```
#
# ## Check: did the family show the paradox?
#
# This chapter claims that its own models show the paradox, and the check asserts exactly the
# conditions of the verdict printed above (`emergence_lib.checks.ch01.scaling_paradox`): the
# smallest model gets well above chance of the digits but almost no whole answers (exact match
# below {glue:text}`ch01_small_exact_max`, per-digit above {glue:text}`ch01_small_digit_min`),
# the largest answers more than {glue:text}`ch01_large_exact_min` exactly, exact match jumps (the
# line leaves at least {glue:text}`ch01_exact_residual_ratio` times as much of the variance
# unexplained, $1 - R^2$, as the logistic), per-digit
# accuracy is smooth (a line in log-size fits it within {glue:text}`ch01_digit_line_gap` of the
# logistic's R², with R² of at least {glue:text}`ch01_digit_line_min`), and exact match is the
# steeper curve within the uncertainty (the lower end of the paired-bootstrap interval of the
# steepness ratio is above 1).

# %%
print(result.sentence)
result.require()
print("✅ the family shows the paradox")
