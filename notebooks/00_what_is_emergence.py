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
# storing more features than dimensions (superposition).
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
# ## A phase transition in one picture
#
# The cell below needs no training. It draws the logistic in log-scale that the course fits to
# every transition, with threshold $x_c$ and steepness $k$: as $k$ grows, the same smooth
# control parameter produces an ever more sudden change.

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

from emergence_lib.fit import fit_logistic, logistic
from emergence_lib.plotting import use_house_style

use_house_style()
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
# The cell below shows the third question in miniature: points drawn from a known logistic with
# noise, refitted, with the recovered threshold and its 95% interval.

# %%
rng = np.random.default_rng(SEED)
sizes = np.geomspace(1e3, 1e5, 9)
observed = np.clip(logistic(sizes, 0.0, 1.0, 1e4, 3.0) + rng.normal(0, 0.03, len(sizes)), 0, 1)
fit = fit_logistic(sizes, observed, floor=0.0, ceil=1.0, n_boot=100, seed=SEED)
print(fit.summary())

# %% [markdown]
# ## How to use this book
#
# - **Read it** on the website: every chapter was executed by the build, so all figures are real
#   outputs of the code above them. The status page lists how long each chapter took.
# - **Run it** in Colab with the launch button (rocket icon) at the top of a chapter: the first
#   cell installs the course library and nothing else. Or locally: `make book` in the repository
#   builds everything from scratch; `jupyter lab notebooks/` opens the chapters.
# - **FAST and FULL.** Every chapter has a `parameters` cell with `FAST = True`: a smaller setup
#   that still shows the phenomenon in about two minutes on a 2-core CPU. `FAST = False` runs
#   the paper-faithful setup; each chapter states how long it takes.
# - **Check cells.** Each chapter ends with a cell that raises an error if the transition it
#   promises did not happen in your run. If it fails for you, that is a finding — tell us.
# - **Exercises** come for four personas, each marked with difficulty and expected time:
#   the **CS student** (run, predict, check; with automatic checkers), the **applied engineer**
#   (measure, ship, budget), the **applied researcher** (hypothesis, sweep, uncertainty; with
#   checkers) and the **frontier researcher** (open questions). Solutions sit in collapsed
#   dropdowns in the instructor edition and are left out of the student edition.
#
# ## Check: does the fitting machinery work?
#
# This chapter trains nothing, so its check is on the tool every later chapter relies on: the fit
# above must recover the threshold it was given within its interval, and beat the straight line.

# %%
lo, hi = fit.intervals["threshold"]
print(f"true threshold 1e4; fitted {fit.threshold:.3g}, interval [{lo:.3g}, {hi:.3g}]")
if not (lo <= 1e4 <= hi and fit.r2 > fit.linear.r2):
    raise RuntimeError("the logistic fit did not recover a known threshold")
print("✅ the fit recovers a known transition")
