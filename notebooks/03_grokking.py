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
# # 3. Grokking
#
# Train a network on half of all sums $(a + b) \bmod p$ and it soon gets every training example
# right while scoring at chance on the rest: it has memorized. Keep training, with weight decay,
# and hundreds or thousands of steps later test accuracy shoots to 100%. Power et al. called this
# delayed generalization *grokking* {cite}`power2022grokking`. Nanda et al. reverse-engineered
# the solution — the network adds numbers by rotating waves of a few *key frequencies* — and
# built progress measures from it that move long before test accuracy does
# {cite}`nanda2023progress`. In this chapter you will
#
# 1. train grokking from scratch in seconds (FAST) or reproduce Nanda et al.'s transformer (FULL);
# 2. let the transition detector report the memorization step, the grokking step and their ratio;
# 3. compute the Fourier progress measures (restricted and excluded loss) and the local learning
#    coefficient {cite}`lau2023llc` over training, and measure how far each leads the jump;
# 4. turn the two knobs that set the delay, weight decay and training fraction
#    {cite}`liu2022omnigrok`.
#
# This is the course's clearest case of *hidden progress* ({doc}`00_what_is_emergence`): the
# visible metric is flat while the inside of the network reorganizes.

# %% tags=["remove-cell"]
# In Colab: install the course library (and nothing else). Here: nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "emergence-lib @ git+https://github.com/emergence-course/emergence-in-neural-networks@v0.1.0"], check=True)

# %% tags=["parameters"]
FAST = True  # True: a small squared-embedding network, about a minute; False: Nanda et al.'s transformer
SEED = 0

# %%
import time

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import HTML

from emergence_lib.exercises.ch03 import check_delay_exponent, check_top_frequencies
from emergence_lib.plotting import frame_slider, use_house_style
from emergence_lib.progress.fourier import embedding_spectrum, logit_frequency_shares, pair_logits
from emergence_lib.recipes import grokking as recipe
from emergence_lib.utils import configure_threads, count_parameters

use_house_style()
configure_threads()
started = time.perf_counter()
setup = recipe.FAST if FAST else recipe.FULL

# %% [markdown]
# ## The task and the two setups
#
# The data are *all* $p^2$ pairs $(a, b)$, each shown as the three tokens `a b =` with label
# $(a + b) \bmod p$; a seeded random share of the pairs is the training set, the rest the test
# set. Training is full batch with AdamW, so the only randomness is the split and the
# initialization.
#
# - **FAST** ($p = 59$, 50% train): the embeddings of $a$ and $b$ (width 256) are added,
#   squared, and read out linearly. Squaring is the simplest nonlinearity that can multiply two
#   waves, $\cos(wa)\cos(wb)$, which is what modular addition needs. Seed 0: memorized at
#   step 55, 95% test accuracy at step 1,292; its 2,000 steps take about 12 s on a shared CPU.
# - **FULL** (Nanda et al.): $p = 113$, 30% train, a one-layer transformer (d_model 128, 4 heads
#   of 32, ReLU MLP of 512, no LayerNorm) read out at the `=` position, AdamW lr $10^{-3}$,
#   weight decay 1.0, weights initialized with standard deviation $1/\sqrt{128}$. Computing
#   queries, MLP and unembedding only at the `=` position is exact for one layer and halves the
#   cost (all positions take about twice as long). Measured with this recipe (seed 0): memorized at
#   step 198, test accuracy $\ge 95\%$ at step 8,166 (41× later). Measured alone on 2 CPU cores
#   (`benchmarks/grokking.py --full`, about 56 ms per step): the 10,000 steps take 570 s and test
#   accuracy is first logged above 95% at step 8,500, after about 8 minutes. The whole chapter
#   with `FAST = False` (training plus the Fourier measures and the LLC over checkpoints) ran
#   through papermill in 1,174 s on one core of a shared machine and passed its check (grokked at
#   step 8,166; the restricted loss led the test-accuracy jump by 3,526 steps). GPU timing not
#   measured.

# %%
run = recipe.train_grokking(setup, SEED)
model = run.result.model
print(f"{setup.name}: p={setup.p}, {len(run.data.x_train)} training pairs, "
      f"{count_parameters(model):,} parameters, {setup.steps:,} steps in {run.result.seconds:.0f} s")

# %%
steps = run.steps
fig, (ax_acc, ax_loss, ax_norm) = plt.subplots(1, 3, figsize=(13, 3.6))
x = np.maximum(steps, 1)
ax_acc.plot(x, run["train_acc"], label="train")
ax_acc.plot(x, run["test_acc"], label="test")
ax_acc.set(xscale="log", xlabel="step", ylabel="accuracy", title="Accuracy")
ax_loss.plot(x, run["train_loss"], label="train")
ax_loss.plot(x, run["test_loss"], label="test")
ax_loss.set(xscale="log", yscale="log", xlabel="step", ylabel="cross-entropy", title="Loss")
ax_norm.plot(x, run["weight_norm"], color="C2")
ax_norm.set(xscale="log", xlabel="step", ylabel="total L2 norm", title="Weight norm")
ax_acc.legend()
ax_loss.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# On the log step axis the story has three acts: train accuracy reaches 100% within tens of
# steps while test accuracy stays at chance and the test loss even *rises* (the network is
# confidently wrong on unseen pairs); then a long plateau in which nothing visible happens
# except that weight decay shrinks the weights; then test accuracy climbs to 100%.
#
# ## What the detector sees
#
# `recipe.grokking_report` uses the library's transition detector: the memorization step is the
# first step with train accuracy $\ge 99\%$, the grokking step the first with test accuracy
# $\ge 95\%$, and the *lead* of a progress measure is how many steps its own transition (the
# first sustained 10% of its change) comes before the test-accuracy one.

# %%
measures = recipe.fourier_measures(run)
report = recipe.grokking_report(run, measures)
freqs = recipe.final_key_frequencies(run)
print(f"key frequencies of the final model: {freqs}")
print(report.summary())

# %% [markdown]
# ## Inside the network: key frequencies
#
# Write the logits as a function of $a$, $b$ and the candidate answer $c$. A network that has
# learned the algorithm of Nanda et al. produces logits of the form
# $\sum_k \alpha_k \cos\big(w_k (a + b - c)\big)$ with $w_k = 2\pi k / p$ for a few key
# frequencies $k$: every wave peaks at $c = a + b$, so their sum picks out the answer. The left
# panel shows how much of the final logits' variance each frequency's wave carries; the right
# one the Fourier spectrum of the input embeddings.

# %%
shares = logit_frequency_shares(pair_logits(model, setup.p))
spectrum = embedding_spectrum(model, setup.p)
k = np.arange(1, len(shares) + 1)
fig, (ax_l, ax_e) = plt.subplots(1, 2, figsize=(11, 3.4))
ax_l.bar(k, shares, color=["C3" if f in freqs else "C0" for f in k])
ax_l.set(xlabel="frequency k", ylabel="share of logit variance",
         title="Logits: waves in a + b - c (key in red)")
ax_e.bar(k, spectrum)
ax_e.set(xlabel="frequency k", ylabel="norm", title="Embedding spectrum")
plt.tight_layout()
plt.show()

# %% [markdown]
# The transformer of FULL ends with a handful of key frequencies, as in Nanda et al. The FAST
# network spreads its solution over more of them, and its embeddings still carry much of their
# large random initialization (weight decay has not finished shrinking it), so its embedding
# spectrum is nearly flat: there the logits, not the weights, are the place to look.
#
# ## Progress measures: restricted and excluded loss
#
# With the key frequencies of the *final* model fixed, we go back through the saved snapshots.
# The **restricted loss** keeps only the key-frequency waves of the logits and scores them on all
# pairs; the **excluded loss** removes those waves and scores what is left on the *training*
# pairs. If the generalizing circuit grows during the plateau, the restricted loss should fall
# long before the test loss does, and the excluded loss should rise as the memorizing part is
# cleaned away.

# %%
fig, ax = plt.subplots(figsize=(7.5, 4))
ax.plot(x, run["test_loss"], label="test loss")
ax.plot(x, run["train_loss"], label="train loss")
ax.plot(x, measures["restricted_loss"], label="restricted loss (key waves only, all pairs)")
ax.plot(x, measures["excluded_loss"], label="excluded loss (key waves removed, train pairs)")
if report.grokked_step:
    ax.axvline(report.grokked_step, color="gray", ls=":", label="test acc ≥ 95%")
ax.set(xscale="log", yscale="log", xlabel="step", ylabel="cross-entropy")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# Compare the leads printed by the report above. The restricted loss starts falling within the
# first tens of steps — while the network is still memorizing — and keeps falling through the
# plateau: the key-frequency part of the logits already predicts unseen pairs long before the
# full logits do, because the memorizing part drowns it out. The test loss only turns down
# shortly before the accuracy jump. The excluded loss behaves differently in the two setups: in
# the FAST network it turns upward only around the jump itself (a negative lead), so here it
# marks the *clean-up* of the memorized part rather than announcing it.

# %% [markdown]
# ## The local learning coefficient
#
# Singular learning theory measures the *effective* number of parameters of a solution by its
# local learning coefficient $\lambda$: how fast the volume of nearly-as-good parameters shrinks
# as the tolerance shrinks {cite}`watanabe2009algebraic`. A regular model with $d$ parameters
# has $\lambda = d/2$ (the library's unit test checks its estimator on linear regression); a
# simpler, more degenerate solution has less. Lau et al. estimate it by sampling around the
# trained weights with stochastic-gradient Langevin dynamics (SGLD): $\hat\lambda = n\beta\,
# (\mathbb{E}[L_n(w)] - L_n(w^*))$ {cite}`lau2023llc`. We estimate it at a few log-spaced
# snapshots. The absolute numbers depend on the SGLD settings (`recipe.LLC_SETTINGS`); compare
# them across training, not with other models.

# %%
llc = recipe.llc_over_training(run, seed=SEED)
fig, ax = plt.subplots(figsize=(7.5, 3.6))
ax.errorbar(llc["step"], llc["llc"], yerr=llc["llc_std"], marker="o", label="LLC estimate")
ax.set(xscale="log", xlabel="step", ylabel=r"$\hat\lambda$", title="Local learning coefficient")
ax2 = ax.twinx()
ax2.plot(x, run["test_acc"], color="C1", alpha=0.6, label="test accuracy")
ax2.set_ylabel("test accuracy")
plt.show()
for s, v in zip(llc["step"], llc["llc"], strict=True):
    print(f"step {s:>6}: LLC {v:8.1f}")

# %% [markdown]
# The estimate is largest around memorization — a lookup table uses many effective parameters —
# and falls through the plateau as the network settles on a simpler solution; its decline
# starts well before test accuracy moves, another view of the same hidden progress. One caution
# when reading the late values: once the training loss is essentially zero, the tempered
# posterior barely lifts the loss above it and the estimate approaches zero; the SGLD settings
# (step size, localization, chain length) were chosen for this chapter, not validated for such
# saturated cross-entropy losses. Lau et al. discuss how to calibrate them {cite}`lau2023llc`.
#
# ## Two knobs: weight decay and the training fraction
#
# Why does generalization wait? With weight decay, the optimizer prefers small weights, and the
# Fourier circuit reaches the same training loss with a smaller norm than a lookup table, so it
# slowly wins {cite}`nanda2023progress,liu2022omnigrok`. The stronger the weight decay, the sooner;
# the more training pairs, the less a lookup table helps. Below, a small grid of shorter FAST
# runs (`recipe.GRID_STEPS` steps each) — move the sliders to compare. A dash in the table
# below means the run did not reach 95% test accuracy within those steps.

# %%
grid = recipe.grokking_grid(seed=SEED)
wds, fracs = recipe.GRID_WEIGHT_DECAYS, recipe.GRID_TRAIN_FRACS


def draw_grid_run(ax, wd, frac):
    g = grid[(wd, frac)]
    gx = np.maximum(g.steps, 1)
    ax.plot(gx, g["train_acc"], label="train")
    ax.plot(gx, g["test_acc"], label="test")
    rep = recipe.grokking_report(g)
    when = "not within the run" if rep.grokked_step is None else f"step {rep.grokked_step:,.0f}"
    ax.set(xscale="log", ylim=(-0.02, 1.02), xlabel="step", ylabel="accuracy",
           title=f"weight decay {wd}, train fraction {frac}: test ≥ 95% at {when}")
    ax.legend(loc="center right")


def show_grid_run(weight_decay, train_fraction):
    fig, ax = plt.subplots(figsize=(7, 3.6))
    draw_grid_run(ax, weight_decay, train_fraction)
    plt.show()


widgets.interact(show_grid_run,
                 weight_decay=widgets.SelectionSlider(options=list(wds), value=wds[1]),
                 train_fraction=widgets.SelectionSlider(options=list(fracs), value=fracs[1]));

# %% [markdown]
# For readers of the web page, the same runs as an animation (weight decay grows frame by
# frame, for each training fraction in turn):

# %%
pairs = [(wd, f) for f in fracs for wd in wds]
HTML(frame_slider(lambda ax, i: draw_grid_run(ax, *pairs[i]), len(pairs), figsize=(7, 3.6)))

# %%
print("grokking step (test acc ≥ 95%) by weight decay (rows) and train fraction (columns)")
print("wd \\ frac " + "".join(f"{f:>10}" for f in fracs))
for wd in wds:
    cells = []
    for f in fracs:
        at = recipe.grokking_report(grid[(wd, f)]).grokked_step
        cells.append(f"{'—' if at is None else f'{at:,.0f}':>10}")
    print(f"{wd:<10}" + "".join(cells))

# %% [markdown]
# ## Exercises
#
# ```{exercise} Find the key frequencies
# :label: ex-03-key-frequencies
#
# **Persona:** CS student · **Difficulty:** ★☆☆ · **Time:** 15 min
#
# Write `top_frequencies(spectrum, n)`: entry $i$ of `spectrum` is the strength of frequency
# $i + 1$; return the `n` strongest frequencies, strongest first. Then predict: with weight decay
# 0, would the final model's logit spectrum be sparser or flatter? Check by training
# `recipe.train_grokking(recipe.FAST, weight_decay=0.0)`.
# ```

# %%
def top_frequencies(spectrum: np.ndarray, n: int) -> np.ndarray:
    """(K,) strengths of frequencies 1..K -> (n,) the strongest frequencies, strongest first."""
    raise NotImplementedError


# %% [markdown] tags=["solution"]
# ```{solution-start} ex-03-key-frequencies
# :class: dropdown
# ```

# %% tags=["solution"]
def top_frequencies(spectrum: np.ndarray, n: int) -> np.ndarray:
    """(K,) strengths of frequencies 1..K -> (n,) the strongest frequencies, strongest first."""
    return np.argsort(-np.asarray(spectrum, dtype=float), kind="stable")[:n] + 1

# Without weight decay nothing pushes the network from the memorizing solution to the compact
# Fourier one: it stays memorized (test accuracy near chance for thousands of steps) and its
# logit spectrum stays flat.


# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %%
check_top_frequencies(top_frequencies);

# %% [markdown]
# ```{exercise} Steps per second and memory
# :label: ex-03-engineer-speed
#
# **Persona:** applied engineer · **Difficulty:** ★★☆ · **Time:** 30 min
#
# Measure steps per second and peak memory of one full-batch training step of the FAST and the
# FULL model, and run `benchmarks/grokking.py` to compare the library's loop with a plain loop.
# Which share of the machine's matmul ceiling does the FULL step reach, and why is it far below
# 100%? Would computing all three positions (not only `=`) change the answer?
# ```

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-03-engineer-speed
# :class: dropdown
# ```

# %% tags=["solution"]
import torch.nn.functional as F

from emergence_lib.bench import time_per_call
from emergence_lib.tasks.modular import modular_addition

for s in (recipe.FAST, recipe.FULL):
    data = modular_addition(s.p, s.train_frac, 0)
    net = recipe.grokking_model(s)

    def one_step(net=net, data=data, p=s.p):
        loss = F.cross_entropy(recipe.answer_logits(net, data.x_train, p), data.y_train)
        loss.backward()

    seconds = time_per_call(one_step, repeats=5, warmup=1)
    print(f"{s.name}: {1 / seconds:.1f} forward+backward passes per second")
# Memory: the parameters are tiny (under 1 MB); the activations of a full batch dominate
# (FULL: 3,831 pairs x 512 MLP units x 4 bytes ~ 8 MB per layer). The step is small matrices
# and elementwise work, so it reaches only a fraction of the matmul ceiling; computing every
# position triples the attention and MLP work for no change in the loss.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %% [markdown]
# ```{exercise} Does the delay scale like 1 / weight decay?
# :label: ex-03-delay-exponent
#
# **Persona:** applied researcher · **Difficulty:** ★★☆ · **Time:** 40 min
#
# Hypothesis: the grokking step is proportional to $1/\text{weight decay}$. Write
# `delay_exponent(weight_decays, grok_steps)` returning the slope of $\log(\text{step})$ against
# $\log(\text{weight decay})$ (the hypothesis predicts $-1$). Then run FAST at weight decays
# 0.2, 0.3, 0.5 and 1.0 with three seeds each and report the exponent with a bootstrap interval
# over seeds.
# ```

# %%
def delay_exponent(weight_decays: np.ndarray, grok_steps: np.ndarray) -> float:
    """Slope of log(grok step) on log(weight decay)."""
    raise NotImplementedError


# %% [markdown] tags=["solution"]
# ```{solution-start} ex-03-delay-exponent
# :class: dropdown
# ```

# %% tags=["solution"]
def delay_exponent(weight_decays: np.ndarray, grok_steps: np.ndarray) -> float:
    """Slope of log(grok step) on log(weight decay)."""
    return float(np.polyfit(np.log(weight_decays), np.log(grok_steps), 1)[0])

# The sweep: for wd in (0.2, 0.3, 0.5, 1.0) and seed in (0, 1, 2), train
# recipe.train_grokking(recipe.FAST, seed, weight_decay=wd, snapshots=False) with enough steps,
# take recipe.grokking_report(run).grokked_step, then resample seeds with replacement 1,000 times
# and refit the slope to get a 95% interval. Report whether -1 lies inside it.


# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %%
check_delay_exponent(delay_exponent);

# %% [markdown]
# ```{exercise} Predict the grokking step
# :label: ex-03-frontier
#
# **Persona:** frontier researcher · **Difficulty:** ★★★ · **Time:** open-ended
#
# Weight decay multiplies the weights by $(1 - \eta\,\text{wd})$ each step when the gradient is
# negligible. From the weight norm at memorization and the norm at which the Fourier solution
# fits the training set, predict the grokking step before training, with a stated tolerance.
# Where does the prediction miss (the gradient is not negligible during the plateau)? Does the
# LLC's decline or the restricted loss predict the jump better?
# ```

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-03-frontier
# :class: dropdown
# ```

# %% [markdown] tags=["solution"]
# A first estimate: the norm decays roughly like $\|w_t\| \approx \|w_m\|\,e^{-\eta\,\text{wd}\,
# (t - t_m)}$, so the step at which it reaches the norm $\|w_g\|$ of the generalizing solution is
# $t_m + \log(\|w_m\| / \|w_g\|)/(\eta\,\text{wd})$. Read $\|w_m\|$ and $\|w_g\|$ off the weight
# norm curve above and compare. AdamW's update is not a pure decay (the normalized gradient step
# pushes back), so expect this to overestimate the delay; fitting the decay rate on the plateau
# instead of assuming $\eta\,\text{wd}$ is the natural revision.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %% [markdown]
# ## Check: did the network grok?
#
# The cell below raises unless (1) train accuracy reached 99% at least 5× earlier (in steps)
# than test accuracy reached 95%, (2) test accuracy was below 30% when train accuracy first hit
# 99%, (3) the restricted loss fell (for good) below its starting value before test accuracy
# began its jump (the first sustained 10% of its rise), and (4) the restricted loss's own
# transition (the first sustained 10% of its fall) leads the test-accuracy jump by at least 100
# steps — hidden progress, measured with the library's `lead`.

# %%
print(report.summary())
print(f"chapter ran in {time.perf_counter() - started:.0f} s")
if report.memorized_step is None or report.grokked_step is None:
    raise RuntimeError(f"no transition: memorized at {report.memorized_step}, "
                       f"grokked at {report.grokked_step}")
if not report.ratio >= 5:
    raise RuntimeError(f"grokking step / memorization step = {report.ratio:.1f}, expected >= 5")
if not report.test_acc_at_memorization < 0.30:
    raise RuntimeError(f"test accuracy at memorization {report.test_acc_at_memorization:.1%} "
                       f"should be below 30%")
below, onset = report.restricted_below_start_step, report.test_jump_onset
if below is None or onset is None or not below < onset:
    raise RuntimeError(f"restricted loss fell below its start at step {below}, not before the "
                       f"test-accuracy jump at step {onset}")
restricted_lead = report.leads.get("restricted loss")
if restricted_lead is None or not restricted_lead >= 100:
    raise RuntimeError(f"restricted loss should lead the test-accuracy jump by >= 100 steps, "
                       f"led by {restricted_lead}")
print("✅ grokking reproduced: memorization, a long plateau, then generalization, with the "
      "restricted loss falling first")
