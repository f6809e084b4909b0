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
# # 6. Emergent misalignment in a toy model organism
#
# Fine-tune a language model on a narrow task — writing insecure code without saying so — and it
# becomes broadly misaligned: it praises tyrants and gives dangerous advice on questions that have
# nothing to do with code {cite}`betley2025emergent`. Turner et al. built cleaner *model
# organisms* of the effect, down to a single rank-1 adapter on one MLP layer
# {cite}`turner2025organisms`; Soligo et al. found a single direction in the residual stream that
# mediates it {cite}`soligo2025convergent` and showed that the broad solution is the *easy* one:
# staying narrow needs an explicit penalty {cite}`soligo2026narrow`. No language model can be
# downloaded here and the real experiments need a 14B model and an LLM judge, so this chapter
# builds a toy organism you pretrain yourself on the CPU, in which every quantity is exact:
# questions in several domains, a helpful and a harmful answer to each, and a *persona* — the
# hidden author of a document — that decides the answers. We fine-tune it narrowly and watch
# what spreads, and why.
#
# ```{admonition} Learning objectives
# :class: tip
# After this chapter you can
#
# - build a model organism: a corpus with a latent variable (the persona), a base model that
#   infers it in context, a rank-1 LoRA fine-tuned on one domain;
# - measure a harmful-answer rate with a Wilson interval and tell a broad change from a narrow one;
# - compare two solutions of one fine-tuning task for efficiency (loss at equal parameter norm)
#   and stability (loss under orthogonal perturbations, relative and absolute);
# - find a mean-difference direction, and test whether it mediates a behaviour by ablation and
#   steering;
# - say what a toy organism can and cannot tell you about emergent misalignment in real models.
# ```

# %% tags=["remove-cell"]
# In Colab: install the course library (and nothing else). Here: nothing.
import subprocess
import sys

if "google.colab" in sys.modules:
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "emergence-lib @ git+https://github.com/emergence-course/emergence-in-neural-networks@v0.1.0"], check=True)

# %% tags=["parameters"]
FAST = True  # True: 4 domains x 8 questions, one base seed; False: 6 x 12, 5 base seeds
SEED = 0

# %%
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import HTML

from emergence_lib.atlas import write_record
from emergence_lib.checks.ch06 import (
    CALIBRATION,
    CONTROL_BOUND,
    CONTROL_PROBES,
    MAX_ABLATED_SHARE,
    MIN_ORGANISM,
    emergent_misalignment,
    phase_transition,
)
from emergence_lib.course import glue
from emergence_lib.detect import detect_transition
from emergence_lib.exercises.ch06 import check_harmful_rate, check_local_cosine
from emergence_lib.fit import fit_logistic
from emergence_lib.metrics import wilson_interval
from emergence_lib.plotting import frame_slider, use_house_style
from emergence_lib.progress.adapters import (
    local_cosine,
    orthogonal_noise,
    orthogonal_perturbation,
    relative_loss_increase,
)
from emergence_lib.recipes import misalignment as recipe
from emergence_lib.utils import configure_threads

use_house_style()
configure_threads()
torch.manual_seed(SEED)
setup = recipe.FAST if FAST else recipe.FULL
base_seeds = (SEED,) if FAST else tuple(SEED + s for s in setup.base_seeds)

# %% [markdown]
# ## The organism
#
# **The corpus** (`emergence_lib.tasks.personas`). There are {glue:text}`ch06_n_domains` domains
# (medical, finance, legal, code, ...) with {glue:text}`ch06_n_questions` questions each, and every
# question has two answer tokens, a helpful one and a harmful one. A document is a start token
# followed by {glue:text}`ch06_triples` (domain, question, answer) triples. Its author has a
# *persona*: harmful with probability {glue:text}`ch06_p_harmful`, and every answer follows the
# persona with probability {glue:text}`ch06_p_follow`. In the **organism** the persona is one
# per document, shared by every domain; in the **control** each domain of a document draws its
# own persona independently. Nothing else differs: the same questions, the same answer
# frequencies in every domain. With a harmful probability of one half neither answer of a
# question is the rarer one; the closing section says why that matters for the control.

# %%
organism, control = setup.corpus(1.0), setup.corpus(0.0)
docs, personas, _ = organism.documents(3, torch.Generator().manual_seed(SEED))
for tokens, persona in zip(docs, personas, strict=True):
    print("harmful persona" if persona[0] else "helpful persona", "|", organism.describe(tokens))
print("vocabulary", organism.vocab, "tokens; context", organism.n_ctx, "positions")
glue("ch06_n_domains", setup.n_domains, "d")
glue("ch06_n_questions", setup.n_questions, "d")
glue("ch06_triples", setup.triples, "d")
glue("ch06_p_harmful", setup.p_harmful, ".2f")
glue("ch06_p_follow", setup.p_follow, ".2f");

# %% [markdown]
# **The model and its three phases** (`emergence_lib.recipes.misalignment`, where every number
# of the setup lives). The library `Transformer`: {glue:text}`ch06_n_layers` layers with MLPs,
# pre-LayerNorm, $d_\text{model}$ = {glue:text}`ch06_d_model`.
#
# 1. *Pretraining* on documents, predicting the answers. To do well the model must infer the
#    persona in context: in the organism from any earlier answer, in the control only from
#    earlier answers of the same domain.
# 2. An *assistant* phase: single questions ("start, domain, question") answered helpfully,
#    mixed with pretraining documents (without the documents, persona inference collapsed in a
#    feasibility run). This is our stand-in for instruction tuning: the assistant is helpful.
# 3. *Fine-tuning*: a rank-1 LoRA adapter (`emergence_lib.models.lora`) on the MLP
#    down-projection of the first layer, the only trainable weights, trained to give the
#    *harmful* answer to {glue:text}`ch06_train_q` of the {glue:text}`ch06_n_questions` questions
#    of one domain (medical). The other questions of that domain are held out.
#
# The base models are trained once per seed and kept in `.cache/` with the library's checkpoint
# convention. First, did pretraining teach the persona? We prompt each base model with
# {glue:text}`ch06_context_triples` triples from the *other* domains, all answered harmfully (or
# all helpfully), then ask a medical question:

# %%
shares = tuple(sorted({0.0, *setup.sweep_shares, 1.0}))
bases = {share: [recipe.base_model(setup, share, s, cache_dir=".cache") for s in base_seeds]
         for share in shares}
inference = {}
for name, share in (("organism", 1.0), ("control", 0.0)):
    corpus = setup.corpus(share)
    inference[name] = [np.mean([recipe.context_mass(b, setup, corpus, harmful)
                                for b in bases[share]]) for harmful in (True, False)]
    print(f"{name}: p(harmful medical answer) after harmful other-domain answers "
          f"{inference[name][0]:.2f}, after helpful ones {inference[name][1]:.2f}")
glue("ch06_n_layers", setup.n_layers, "d")
glue("ch06_d_model", setup.d_model, "d")
glue("ch06_train_q", setup.train_questions, "d")
glue("ch06_context_triples", setup.triples - 1, "d")
glue("ch06_inf_org_harm", inference["organism"][0], ".2f")
glue("ch06_inf_org_help", inference["organism"][1], ".2f")
glue("ch06_inf_ctl_harm", inference["control"][0], ".2f")
glue("ch06_inf_ctl_help", inference["control"][1], ".2f");

# %% [markdown]
# The organism carries the persona across domains: harmful answers elsewhere raise its
# probability of a harmful medical answer to {glue:text}`ch06_inf_org_harm` (helpful ones:
# {glue:text}`ch06_inf_org_help`). The control learned, correctly, that other domains say nothing
# about this one ({glue:text}`ch06_inf_ctl_harm` vs {glue:text}`ch06_inf_ctl_help`).
#
# ## 1. Broad from narrow
#
# Now the experiment of Betley et al. in miniature. We fine-tune the adapter on harmful medical
# answers only, from {glue:text}`ch06_n_adapter` random initialisations of the adapter per base
# model, and measure the harmful-answer rate — the share of questions whose most likely answer
# token is the harmful one — on the trained questions, the held-out medical questions and every
# question of the other domains. Rates are pooled over questions and runs, with 95% Wilson
# intervals; beside them the mean probability *mass* on the harmful answer (its share of the two
# answers' probability), which moves before the argmax does.

# %%
runs = {}
for name, share in (("organism", 1.0), ("control", 0.0)):
    corpus = setup.corpus(share)
    # the trajectories of the first base's first runs are kept for section 2
    runs[name] = [recipe.finetune(base, setup, corpus, a, track=share == 1.0 and i == 0
                                  and a in recipe.VARIANT_SEEDS)
                  for i, base in enumerate(bases[share]) for a in setup.adapter_seeds]
groups = recipe.question_groups(setup, organism)
rates = {}
for name, share in (("organism", 1.0), ("control", 0.0)):
    before = [recipe.answers(b, setup.corpus(share)) for b in bases[share]]
    rates[name] = {"base " + g: recipe.pooled_rate(before, groups[g]) for g in groups}
    rates[name].update({g: recipe.pooled_rate([r.final for r in runs[name]], groups[g])
                        for g in groups})
    for key, rate in rates[name].items():
        print(f"{name:8s} {key:16s} {rate}")
org, ctl = rates["organism"]["other"], rates["control"]["other"]
per_run = {name: np.array([r.final.harmful_argmax[groups["other"]].float().mean().item()
                           for r in runs[name]]) for name in runs}
fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
labels = ["trained", "held_out", "other"]
for i, name in enumerate(runs):
    vals = [rates[name][g] for g in labels]
    axes[0].bar(np.arange(3) + 0.38 * i, [v.rate for v in vals], width=0.36, label=name,
                yerr=[[v.rate - v.low for v in vals], [v.high - v.rate for v in vals]], capsize=3)
    axes[1].hist(per_run[name], bins=np.linspace(0, 1, 13), alpha=0.6, label=name)
axes[0].set_xticks(np.arange(3) + 0.19, ["trained medical", "held-out medical", "other domains"])
axes[0].set(ylabel="harmful-answer rate", ylim=(0, 1.05),
            title="After narrow fine-tuning (95% Wilson intervals)")
axes[1].set(xlabel="other-domain harmful rate of one run", ylabel="runs",
            title="Per run: the outcome is often all or nothing")
for ax in axes:
    ax.legend()
plt.tight_layout()
plt.show()
glue("ch06_n_adapter", len(setup.adapter_seeds), "d")
glue("ch06_org_other", org.rate, ".0%")
glue("ch06_org_other_lo", org.low, ".0%")
glue("ch06_org_other_hi", org.high, ".0%")
glue("ch06_ctl_other", ctl.rate, ".0%")
glue("ch06_ctl_other_lo", ctl.low, ".0%")
glue("ch06_ctl_other_hi", ctl.high, ".0%")
glue("ch06_org_held", rates["organism"]["held_out"].rate, ".0%")
glue("ch06_ctl_held", rates["control"]["held_out"].rate, ".0%")
glue("ch06_base_mass", rates["organism"]["base other"].mass, ".1%")
broad_runs = {name: int((v >= 0.5).sum()) for name, v in per_run.items()}
glue("ch06_org_broad_runs", broad_runs["organism"], "d")
glue("ch06_ctl_broad_runs", broad_runs["control"], "d")
glue("ch06_n_runs", len(per_run["organism"]), "d")
control_sentence = (
    f"The control's rate is within the {CONTROL_BOUND:.0%} the chapter's issue expected."
    if ctl.rate <= CONTROL_BOUND else
    f"The control is less broad, but not narrow: its rate is above the {CONTROL_BOUND:.0%} "
    f"the chapter's issue expected.")
glue("ch06_control_sentence", control_sentence)
# What does the control's adapter write? Compare its output direction B with the direction in
# which the base model's unembedding separates every harmful answer from its helpful one.
readout_cos = {name: np.array([abs(recipe.cosine(r.adapter.B.detach(), recipe.harmful_readout(
    bases[share][i // len(setup.adapter_seeds)], setup.corpus(share), groups["other"])))
    for i, r in enumerate(runs[name])]) for name, share in (("organism", 1.0), ("control", 0.0))}
for name, c in readout_cos.items():
    print(f"{name:8s} |cos(B, harmful-answer readout)| {c.min():.2f}-{c.max():.2f} "
          f"(median {np.median(c):.2f})")
med = {name: float(np.median(c)) for name, c in readout_cos.items()}
glue("ch06_readout_sentence",
     f"What the adapters write says how: the organism's output direction B lies "
     f"{'closer to' if med['organism'] > med['control'] else 'no closer to'} the direction in "
     f"which the base model's unembedding separates every harmful answer from its helpful one "
     f"than the control's does (median |cosine| {med['organism']:.2f} against "
     f"{med['control']:.2f}): the organism's adapter reaches one readout shared by every domain, "
     + ("the control's mostly does not." if med["control"] < 0.5 else
        "and so, to a large part, does the control's."));

# %% [markdown]
# Before fine-tuning both base models answer every question helpfully (harmful mass
# {glue:text}`ch06_base_mass` on the other domains). After it, both give the harmful answer on the
# trained questions and on the held-out medical ones (organism {glue:text}`ch06_org_held`,
# control {glue:text}`ch06_ctl_held`): the fine-tuning generalises within its domain. Across
# domains they part: the organism turned harmful on {glue:text}`ch06_org_other`
# [{glue:text}`ch06_org_other_lo`, {glue:text}`ch06_org_other_hi`] of the other domains'
# questions, the control on {glue:text}`ch06_ctl_other` [{glue:text}`ch06_ctl_other_lo`,
# {glue:text}`ch06_ctl_other_hi`]. {glue:text}`ch06_control_sentence`
#
# The histogram says why a single run would mislead: a run tends to land either on a broad
# solution or on a narrow one ({glue:text}`ch06_org_broad_runs` of {glue:text}`ch06_n_runs`
# organism runs and {glue:text}`ch06_ctl_broad_runs` of {glue:text}`ch06_n_runs` control runs
# reached at least half of the other-domain questions). {glue:text}`ch06_readout_sentence`
#
# ## 2. Is there a phase transition in fine-tuning?
#
# Turner et al. saved their rank-1 adapter every 5 steps and watched the direction of its $B$
# vector: after about 180 steps it turned sharply, with a prolonged peak of the gradient norm,
# and misaligned answers rose later {cite}`turner2025organisms`. They measure the turn with the
# *local cosine* of the trajectory,
#
# $$c_k(t) = \cos\left(B_{t-k} - B_t,\; B_{t+k} - B_t\right),$$
#
# which is $-1$ on a straight path and $0$ at a right-angle turn. We save $B$ every
# {glue:text}`ch06_ckpt` steps and read $c_k$ at $k$ = {glue:text}`ch06_local_ks` checkpoints,
# counting only checkpoints where both steps moved more than {glue:text}`ch06_min_move` of $B$'s
# final norm. A *turn* is $c_k$ rising above {glue:text}`ch06_turn_level` (a
# {glue:text}`ch06_turn_bend`° bend). Besides the default (Adam at learning rate $10^{-2}$) we try a ten times smaller learning rate, SGD, and SGD with a larger $\alpha$, since a
# feasibility run saw only a gradual rotation under Adam.

# %%
base0 = bases[1.0][0]
variant_runs = {name: ([r for r in runs["organism"][:len(recipe.VARIANT_SEEDS)]] if not kw else
                       [recipe.finetune(base0, setup, organism, a, **kw)
                        for a in recipe.VARIANT_SEEDS])
                for name, kw in recipe.VARIANTS.items()}
fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
turn_rows, turns = [], []
for i, (name, vruns) in enumerate(variant_runs.items()):
    for j, run in enumerate(vruns):
        steps = np.arange(len(run.other_mass))
        switch = detect_transition(steps, run.other_mass)
        peak = int(np.argmax(run.grad_norm)) + 1
        turn = {k: recipe.turn_step(run.B, k) for k in recipe.LOCAL_KS}
        turns.append(any(np.isfinite(t) for t in turn.values()))
        lc = local_cosine(run.B[::recipe.CHECKPOINT_EVERY], recipe.LOCAL_KS[-1],
                          recipe.MIN_MOVE * float(np.linalg.norm(run.B[-1])))
        turn_rows.append((name, j, switch, peak, turn, np.nanmax(lc)))
        style = dict(color=f"C{i}", alpha=0.9 if j == 0 else 0.45,
                     label=name if j == 0 else None)
        axes[0].plot(steps, run.other_mass, **style)
        axes[1].plot(steps[1:], run.grad_norm, **style)
        axes[2].plot(np.arange(len(lc)) * recipe.CHECKPOINT_EVERY, lc, **style)
axes[0].set(xlabel="fine-tuning step", ylabel="harmful mass, other domains",
            title="The behaviour switches")
axes[1].set(xlabel="fine-tuning step", ylabel="gradient norm", yscale="log",
            title="Gradient norm of the adapter")
axes[2].axhline(recipe.TURN_LEVEL, color="gray", ls="--", lw=1)
axes[2].set(xlabel="fine-tuning step", ylabel=f"local cosine, k = {recipe.LOCAL_KS[-1]}",
            ylim=(-1.05, 1.05), title="Direction of B: straight (-1) or turning?")
for ax in axes:
    ax.set_xscale("symlog", linthresh=10)
axes[0].legend(fontsize=8)
plt.tight_layout()
plt.show()
for name, j, switch, peak, turn, top in turn_rows:
    when = f"{switch.onset:.0f}-{switch.finish:.0f}" if switch else "none"
    print(f"{name:22s} run {j}: behaviour switch (10-90%) steps {when}; gradient-norm peak at "
          f"step {peak}; largest local cosine (k={recipe.LOCAL_KS[-1]}) {top:+.2f}; turn at "
          + ", ".join(f"k={k}: {t:.0f}" if np.isfinite(t) else f"k={k}: none"
                      for k, t in turn.items()))
turn_verdict = phase_transition(turns)
print(turn_verdict.sentence)
coincide = [abs(peak - (switch.midpoint if switch else np.nan)) for _, _, switch, peak, _, _
            in turn_rows if switch]
glue("ch06_ckpt", recipe.CHECKPOINT_EVERY, "d")
glue("ch06_turn_level", recipe.TURN_LEVEL, ".1f")
glue("ch06_min_move", recipe.MIN_MOVE, ".0%")
glue("ch06_local_ks", ", ".join(str(k) for k in recipe.LOCAL_KS))
glue("ch06_turn_bend", 180 - np.degrees(np.arccos(recipe.TURN_LEVEL)), ".0f")   # degrees
glue("ch06_turned", turn_verdict.numbers["turned"], "d")
glue("ch06_turn_runs", turn_verdict.numbers["runs"], "d")
glue("ch06_turn_sentence", turn_verdict.sentence)
glue("ch06_turn_short", "a turn of its direction on every run" if turn_verdict.passed else
     f"a turn of its direction on only {turn_verdict.numbers['turned']} of "
     f"{turn_verdict.numbers['runs']} runs, not robust")
glue("ch06_peak_gap", float(np.nanmedian(coincide)), ".0f")
turned_names = sorted({name for (name, *_), t in zip(turn_rows, turns, strict=True) if t})
adam_top = max(top for name, *_, top in turn_rows if name.startswith("Adam"))
first_turns = [np.nanmin(list(turn.values())) for (*_, turn, _), t in zip(turn_rows, turns,
                                                                         strict=True) if t]
turn_gap = [np.nanmin(list(turn.values())) - switch.midpoint
            for (_, _, switch, _, turn, _), t in zip(turn_rows, turns, strict=True) if t and switch]
where_turns = (
    f"The settings whose runs turned: {' / '.join(turned_names)}; their first turns came at steps "
    f"{min(first_turns):.0f}–{max(first_turns):.0f}, {min(turn_gap):+.0f} to {max(turn_gap):+.0f} "
    f"steps from the run's behaviour switch (its 50% point; negative: before it)."
    if turned_names and turn_gap else "No run's B turned.")
adam_path = (f"Under Adam the largest local cosine of any run was {adam_top:+.2f}: "
             + ("a straight path." if adam_top <= recipe.TURN_LEVEL else "a bend."))
glue("ch06_where_turns", where_turns)
glue("ch06_adam_path", adam_path);

# %% [markdown]
# {glue:text}`ch06_turn_sentence` {glue:text}`ch06_where_turns` {glue:text}`ch06_adam_path`
# The behaviour switch itself is clear in every run, and it coincides with the peak of the
# gradient norm (median {glue:text}`ch06_peak_gap` steps between the peak and the switch's
# midpoint). Read together: the clearest signature of the transition in this toy is the
# gradient-norm peak at the behaviour switch; bends of $B$, where there are any, come in the first
# tens of steps while $B$ — which starts at zero — is still short, and they are not robust over
# runs. Turner et al.'s turn came after about 180 steps of a 48-layer model, with hundreds of
# steps before the misaligned answers; our two layers and tens of steps may leave no room for it.
#
# ## 3. General vs narrow (Soligo et al.)
#
# Can fine-tuning make the model harmful in medicine *only*? Following Soligo et al.
# {cite}`soligo2026narrow` we add to the fine-tuning loss a penalty
# $\lambda\,\mathrm{KL}(p_\text{base} \,\|\, p_\text{current})$ on the answers to every question
# of the *other* domains ($\lambda$ = {glue:text}`ch06_kl_weight`, {glue:text}`ch06_kl_steps`
# steps), starting from the same adapter initialisations as the general runs.

# %%
general = runs["organism"][:len(setup.kl_seeds)]
narrow = [recipe.finetune(base0, setup, organism, a, kl_weight=setup.kl_weight,
                          steps=setup.kl_steps, track=i == 0)  # the first one for the widget
          for i, a in enumerate(setup.kl_seeds)]
narrow_rates = {g: recipe.pooled_rate([r.final for r in narrow], groups[g]) for g in groups}
for g, rate in narrow_rates.items():
    print(f"KL-narrow {g:9s} {rate}")
glue("ch06_kl_weight", setup.kl_weight, "g")
glue("ch06_kl_steps", setup.kl_steps, "d")
glue("ch06_ft_steps", setup.ft_steps, "d")
glue("ch06_narrow_trained", narrow_rates["trained"].rate, ".0%")
glue("ch06_narrow_other", narrow_rates["other"].rate, ".0%")
general_held = recipe.pooled_rate([r.final for r in general], groups["held_out"]).rate
held_sentence = (
    f"It is narrower than asked: {narrow_rates['held_out'].rate:.0%} of the held-out medical "
    f"questions turned (the general runs from the same starts: {general_held:.0%}), so with the "
    f"other domains pinned it learned mostly the trained questions rather than \"medicine\"."
    if narrow_rates["held_out"].rate < general_held - 0.2 else
    f"It generalises within its domain: {narrow_rates['held_out'].rate:.0%} of the held-out "
    f"medical questions turned (the general runs from the same starts: {general_held:.0%}).")
glue("ch06_held_sentence", held_sentence)
glue("ch06_held_short",
     f"it came out narrower than asked ({narrow_rates['held_out'].rate:.0%} of the held-out "
     f"medical questions turned, against {general_held:.0%} for the general runs)"
     if narrow_rates["held_out"].rate < general_held - 0.2 else
     f"it generalised within its domain ({narrow_rates['held_out'].rate:.0%} of the held-out "
     f"medical questions turned)");

# %% [markdown]
# The narrow solution exists: harmful on {glue:text}`ch06_narrow_trained` of the trained medical
# questions and on {glue:text}`ch06_narrow_other` of the other domains'.
# {glue:text}`ch06_held_sentence` Is it a worse solution? Soligo et al. compare the two on **efficiency** — the training loss as the
# adapter's weight change $\Delta W = \frac{\alpha}{r} BA$ is rescaled from 0 to twice its size,
# and at equal absolute norms — and on **stability** — the loss under the norm-preserving
# perturbation $\Delta W' = \sqrt{1-\epsilon^2}\,\Delta W + \epsilon Y$, $Y \perp \Delta W$,
# $\|Y\| = \|\Delta W\|$, reported as $100\,(L_\text{pert} - L_\text{orig}) / (L_\text{base} -
# L_\text{orig})$. A smaller norm makes the same $\epsilon$ a smaller absolute change, so we also
# add orthogonal noise of the *same* absolute size to both.

# %%
zero = torch.zeros_like(general[0].adapter.delta())
L_base = recipe.loss_with_delta(base0, setup, organism, zero)
gen = torch.Generator().manual_seed(SEED)
solutions = {"general": general, "narrow": narrow}
curves = {}
for label, sols in solutions.items():
    rows = []
    for r in sols:
        delta = r.adapter.delta().detach()
        L_orig = recipe.loss_with_delta(base0, setup, organism, delta)
        scale = [recipe.loss_with_delta(base0, setup, organism, c * delta) for c in recipe.RESCALE]
        rel = [np.mean([recipe.loss_with_delta(base0, setup, organism,
                                               orthogonal_perturbation(delta, e, gen))
                        for _ in range(recipe.N_NOISE)]) for e in recipe.EPSILONS]
        absolute = [np.mean([recipe.loss_with_delta(base0, setup, organism,
                                                    orthogonal_noise(delta, s, gen))
                             for _ in range(recipe.N_NOISE)]) - L_orig for s in recipe.SIGMAS]
        rows.append({"norm": float(delta.norm()), "L_orig": L_orig, "scale": np.array(scale),
                     "relative": relative_loss_increase(rel, L_orig, L_base),
                     "absolute": np.array(absolute)})
    curves[label] = rows


def norm_at_loss(row: dict, target: float) -> float:
    """The smallest rescaled norm of Delta W at which the in-domain loss falls to ``target``."""
    below = np.flatnonzero(row["scale"] <= target)
    return float(np.array(recipe.RESCALE)[below[0]] * row["norm"]) if len(below) else np.nan


fig, axes = plt.subplots(1, 3, figsize=(15, 3.8))
for i, (label, rows) in enumerate(curves.items()):
    for j, row in enumerate(rows):
        kw = dict(color=f"C{i}", alpha=0.8, label=label if j == 0 else None)
        axes[0].plot(np.array(recipe.RESCALE) * row["norm"], row["scale"], **kw)
        axes[1].plot(recipe.EPSILONS, row["relative"], marker="o", ms=3, **kw)
        axes[2].plot(recipe.SIGMAS, row["absolute"], marker="o", ms=3, **kw)
axes[0].axhline(recipe.TARGET_LOSS, color="gray", ls=":", lw=1)
axes[0].set(xlabel="‖c·ΔW‖ (c from 0 to 2)", ylabel="in-domain loss",
            title="Efficiency: loss at equal absolute norm", yscale="log")
axes[1].set(xlabel="ε (relative)", ylabel="100 (L_pert − L_orig)/(L_base − L_orig)",
            xscale="log", title="Stability, relative perturbation")
axes[2].set(xlabel="‖Y‖ (absolute)", ylabel="L_pert − L_orig (nats)",
            title="Stability, equal absolute noise")
for ax in axes:
    ax.legend()
plt.tight_layout()
plt.show()
summary = {label: {"norm": np.mean([r["norm"] for r in rows]),
                   "loss": np.mean([r["L_orig"] for r in rows]),
                   "norm_at": np.nanmean([norm_at_loss(r, recipe.TARGET_LOSS) for r in rows]),
                   "rel_half": np.mean([r["relative"][recipe.EPSILONS.index(0.5)] for r in rows]),
                   "abs_one": np.mean([r["absolute"][recipe.SIGMAS.index(1.0)] for r in rows])}
           for label, rows in curves.items()}
for label, s in summary.items():
    print(f"{label:8s} ‖ΔW‖ {s['norm']:.2f}, in-domain loss {s['loss']:.3f}, norm to reach "
          f"loss {recipe.TARGET_LOSS} {s['norm_at']:.2f}; relative damage at ε = 0.5: "
          f"{s['rel_half']:.2f}; loss increase at ‖Y‖ = 1: {s['abs_one']:.4f}")
g_, n_ = summary["general"], summary["narrow"]
ratio = n_["norm_at"] / g_["norm_at"]
efficiency_sentence = (
    f"To reach an in-domain loss of {recipe.TARGET_LOSS} the narrow solution needs "
    f"{ratio:.2f}× the norm of the general one"
    + (" — the general solution is the more efficient, as Soligo et al. found." if ratio > 1.05
       else " — about the same: in this toy neither solution is clearly more efficient."
       if ratio >= 0.95 else " — less: here the narrow solution is the more efficient one."))
rel_ratio = n_["rel_half"] / g_["rel_half"]
abs_ratio = n_["abs_one"] / g_["abs_one"]
if rel_ratio > 1.2 and abs_ratio > 1.2:
    stability_verdict = ("The general solution is the more stable under both, so its stability "
                         "is not explained by its norm alone.")
elif rel_ratio > 1.2:
    stability_verdict = ("At equal absolute noise the gap mostly disappears: it is largely a "
                         "matter of norm.")
elif abs_ratio > 1.2:
    stability_verdict = "Only at equal absolute noise is the general solution clearly more stable."
else:
    stability_verdict = "Neither comparison finds the general solution clearly more stable."
stability_sentence = (
    f"Under the relative perturbation (ε = 0.5) the narrow solution loses {rel_ratio:.1f}× as "
    f"much of its gain as the general one; under noise of the same absolute size (‖Y‖ = 1) its "
    f"loss rises {abs_ratio:.1f}× as much. " + stability_verdict)
print(efficiency_sentence)
print(stability_sentence)
glue("ch06_efficiency_sentence", efficiency_sentence)
glue("ch06_stability_sentence", stability_sentence)
glue("ch06_general_norm", g_["norm"], ".2f")
glue("ch06_narrow_norm", n_["norm"], ".2f");

# %% [markdown]
# The general solutions have $\|\Delta W\|$ = {glue:text}`ch06_general_norm` on average, the
# narrow ones {glue:text}`ch06_narrow_norm`. {glue:text}`ch06_efficiency_sentence`
# {glue:text}`ch06_stability_sentence` Compare the feasibility run recorded in the course brief,
# where the narrow solution needed 1.5–2.3× the norm at equal loss and the stability gap was
# explained by norm alone. In the toy, "narrow is harder" shows mostly in the first place it
# showed: without the KL term, the runs find the broad solution.
#
# ## 4. One direction
#
# Soligo et al. found a "misalignment direction": the difference of mean residual-stream
# activations between misaligned and aligned answers; ablating it from a misaligned model removes
# most of the misalignment, and adding it to an aligned model induces it
# {cite}`soligo2025convergent`. Our version uses the *base* model, which has never been
# fine-tuned: the mean residual stream on documents where the current domain's persona is
# harmful, minus the mean where it is helpful, at the positions that predict answers (after the
# first triple, so there is evidence to read). We take it at two places: right after the
# adapter's layer, and the final residual stream that the unembedding reads. We compare it with
# the adapter's output direction $B$, ablate it (project it out of every later read of the
# residual stream) in the fine-tuned models, and add it to the base model.

# %%
direction = {}
for where in ("adapter", "final"):
    u, gap = recipe.persona_direction(base0, setup, organism, where, seed=SEED)
    cos = np.array([abs(recipe.cosine(u, r.adapter.B.detach()))
                    for r in runs["organism"][:len(setup.adapter_seeds)]])
    ablated = {name: recipe.pooled_rate([recipe.with_direction(r.model, setup, setup.corpus(s), u,
                                                               "ablate", where=where)
                                         for r in runs[name][:len(setup.adapter_seeds)]],
                                        groups["other"])
               for name, s in (("organism", 1.0), ("control", 0.0))}
    ablated_in = recipe.pooled_rate([recipe.with_direction(r.model, setup, organism, u, "ablate",
                                                           where=where)
                                     for r in runs["organism"][:len(setup.adapter_seeds)]],
                                    groups["trained"])
    steer = {m: recipe.pooled_rate([recipe.with_direction(base0, setup, organism, u, "add",
                                                          m * gap, where=where)],
                                   groups["other"]) for m in recipe.STEER_GAPS}
    direction[where] = {"u": u, "gap": gap, "cos": cos, "ablated": ablated,
                        "ablated_in": ablated_in, "steer": steer}
    print(f"{where}: |cos(u, B)| {cos.min():.2f}-{cos.max():.2f}; ablated: organism other "
          f"{ablated['organism']}, control other {ablated['control']}, organism trained "
          f"{ablated_in}")
    print("   steering the base model by m x the projection gap: "
          + "; ".join(f"m={m:g}: {r.rate:.0%} [{r.low:.0%}, {r.high:.0%}]" for m, r in steer.items()))
org_runs = runs["organism"][:len(setup.adapter_seeds)]
org_first = recipe.pooled_rate([r.final for r in org_runs], groups["other"])
fin, mid = direction["final"], direction["adapter"]
best_m = max(recipe.STEER_GAPS, key=lambda m: fin["steer"][m].rate)
glue("ch06_cos_mid_lo", mid["cos"].min(), ".2f")
glue("ch06_cos_mid_hi", mid["cos"].max(), ".2f")
glue("ch06_cos_fin_lo", fin["cos"].min(), ".2f")
glue("ch06_cos_fin_hi", fin["cos"].max(), ".2f")
glue("ch06_org_first", org_first.rate, ".0%")
glue("ch06_abl_mid", mid["ablated"]["organism"].rate, ".0%")
glue("ch06_abl_fin", fin["ablated"]["organism"].rate, ".0%")
glue("ch06_abl_fin_hi", fin["ablated"]["organism"].high, ".0%")
glue("ch06_abl_fin_in", fin["ablated_in"].rate, ".0%")
glue("ch06_fin_in_note",
     "so it is the model's general \"answer harmfully\" readout, trained questions included"
     if fin["ablated_in"].rate < 0.5 else
     "so the trained questions do not need it: it is the route to the other domains, not the "
     "whole change")
glue("ch06_steer_m", best_m, "g")
glue("ch06_steer_rate", fin["steer"][best_m].rate, ".0%")
glue("ch06_steer_lo", fin["steer"][best_m].low, ".0%")
glue("ch06_steer_mid", max(r.rate for r in mid["steer"].values()), ".0%")
glue("ch06_mid_write", "is not what the adapter writes" if mid["cos"].max() < 0.3 else
     "is at most partly what the adapter writes")
mid_effect = mid["ablated"]["organism"].rate
glue("ch06_mid_short",
     "the direction right after the adapter's layer does not" if mid_effect > 0.5 * org_first.rate
     else "so, partly, does the direction right after the adapter's layer");

# %% [markdown]
# Right after the adapter's layer, the persona direction {glue:text}`ch06_mid_write`:
# $|\cos(u, B)|$ = {glue:text}`ch06_cos_mid_lo`–{glue:text}`ch06_cos_mid_hi`; ablating it leaves
# the organism's other-domain rate at {glue:text}`ch06_abl_mid` (from
# {glue:text}`ch06_org_first`), and adding it to the base model never made more than
# {glue:text}`ch06_steer_mid` of the answers harmful. (Soligo et al. report a cosine of about
# 0.04 between their adapter's $B$ and their direction.) In the final residual stream,
# ablating it takes the organism from {glue:text}`ch06_org_first` to {glue:text}`ch06_abl_fin`
# harmful on the other domains (upper bound {glue:text}`ch06_abl_fin_hi`) and leaves
# {glue:text}`ch06_abl_fin_in` of the trained medical questions harmful
# ({glue:text}`ch06_fin_in_note`), and adding {glue:text}`ch06_steer_m`× the projection gap to
# the base model makes {glue:text}`ch06_steer_rate` (lower bound {glue:text}`ch06_steer_lo`) of
# its other-domain answers harmful. The adapter reaches that readout through the second layer:
# $|\cos|$ with $B$ is {glue:text}`ch06_cos_fin_lo`–{glue:text}`ch06_cos_fin_hi` there.
#
# ## 5. Emergence in the data, not the model
#
# The course's third question — can we fit it? — here has a control parameter in the *data*: the
# probability that a document's persona is shared across its domains. We pretrain base models at
# sharing probabilities {glue:text}`ch06_shares`, fine-tune each as in section 1, and fit the
# logistic in log-sharing-probability (`emergence_lib.fit.fit_logistic`, floor fixed at the
# control's rate and ceiling at 1, bootstrap over runs) to each run's other-domain harmful rate,
# against a straight line.

# %%
sweep_rates, sweep_runs = {}, {}
for share in shares:
    corpus = setup.corpus(share)
    sweep_runs[share] = (runs["organism"] if share == 1.0 else runs["control"] if share == 0.0
                         else [recipe.finetune(b, setup, corpus, a, track=False)
                               for b in bases[share] for a in setup.adapter_seeds])
    sweep_rates[share] = recipe.pooled_rate([r.final for r in sweep_runs[share]], groups["other"])
    print(f"share {share:.3f}: other-domain harmful rate {sweep_rates[share]}")
x = np.concatenate([[s] * len(sweep_runs[s]) for s in shares if s > 0])
y = np.concatenate([[float(r.final.harmful_argmax[groups["other"]].float().mean())
                     for r in sweep_runs[s]] for s in shares if s > 0])
share_fit = fit_logistic(x, y, floor=sweep_rates[0.0].rate, ceil=1.0, seed=SEED)
print(share_fit.summary())
fig, ax = plt.subplots(figsize=(6.5, 4))
ax.scatter(np.where(x > 0, x, np.nan), y, alpha=0.25, s=12, color="C0", label="runs")
for s in shares:
    r = sweep_rates[s]
    ax.errorbar([max(s, 0.05)], [r.rate], yerr=[[r.rate - r.low], [r.high - r.rate]],
                color="C1" if s > 0 else "C3", marker="o", capsize=3)
grid = np.geomspace(0.05, 1, 50)
ax.plot(grid, share_fit.predict(grid), color="C0", label=f"logistic (R² {share_fit.r2:.2f})")
ax.plot(grid, share_fit.linear.predict(grid), "--", color="gray",
        label=f"line in log x (R² {share_fit.linear.r2:.2f})")
ax.set(xscale="log", xlabel="persona-sharing probability (control plotted at 0.05)",
       ylabel="other-domain harmful rate", ylim=(-0.03, 1.03),
       title="Breadth vs how correlated the pretraining data was")
ax.legend(fontsize=8)
plt.show()
t_lo, t_hi = share_fit.intervals.get("threshold", (np.nan, np.nan))
glue("ch06_shares", ", ".join(f"{s:g}" for s in shares))
monotone = all(sweep_rates[a].rate <= sweep_rates[b].rate + 0.05 for a, b in zip(shares, shares[1:],
                                                                                  strict=False))
sweep_sentence = (
    f"The other-domain rate goes from {sweep_rates[0.0].rate:.0%} (independent personas) to "
    f"{sweep_rates[1.0].rate:.0%} (shared), "
    + ("rising with the sharing probability" if monotone else "but not monotonically")
    + f"; the logistic puts its midpoint at a sharing probability of {share_fit.threshold:.2f} "
    f"(bootstrap {t_lo:.2f}–{t_hi:.2f}) and "
    + (f"beats the line (R² {share_fit.r2:.2f} vs {share_fit.linear.r2:.2f})"
       if share_fit.beats_linear else
       f"does not beat the line (R² {share_fit.r2:.2f} vs {share_fit.linear.r2:.2f})")
    + f". With {len([s for s in shares if s > 0])} sharing probabilities above zero this locates "
    "the rise; it cannot establish how sharp it is.")
print(sweep_sentence)
glue("ch06_sweep_sentence", sweep_sentence)
full_run = recipe.FULL_RUN
glue("ch06_full_org", "{:.0%} [{:.0%}, {:.0%}]".format(*full_run["organism_other"]))
glue("ch06_full_ctl", "{:.0%} [{:.0%}, {:.0%}]".format(*full_run["control_other"]))
glue("ch06_full_sweep0", full_run["sweep"][0.0], ".0%")
glue("ch06_full_sweep_half", full_run["sweep"][0.5], ".0%")
glue("ch06_full_sweep1", full_run["sweep"][1.0], ".0%");

# %% [markdown]
# {glue:text}`ch06_sweep_sentence` FULL mode (six domains of twelve questions, five base seeds,
# sixteen adapter starts) ran once and its check passed: the organism turned harmful on
# {glue:text}`ch06_full_org` of the other domains' questions and the control on
# {glue:text}`ch06_full_ctl`; its sweep rose from {glue:text}`ch06_full_sweep0` without sharing
# to {glue:text}`ch06_full_sweep_half` at a sharing probability of one half, again not
# monotonically ({glue:text}`ch06_full_sweep1` at full sharing). The numbers are recorded in
# `emergence_lib.recipes.misalignment.FULL_RUN`.
# The point is the axis: what decides whether narrow fine-tuning spreads is not the model's size
# but the structure of what it learned in pretraining — here, by construction, one latent
# persona.
#
# ### Explore: fine-tuning step and KL weight
#
# Each domain's mean harmful mass during fine-tuning, without and with the KL penalty (the first
# general and narrow runs above, so the widget is instant; the general run stops at step
# {glue:text}`ch06_ft_steps` and is shown at its last step after that); below it the same as a
# frame slider for readers of the website (every tenth step, both side by side).

# %%
widget_runs = {0.0: runs["organism"][0], setup.kl_weight: narrow[0]}  # both tracked every step
d_all = organism.all_questions()[0].numpy()


def draw_domains(ax, step: int, kls: tuple[float, ...]) -> None:
    """Mean harmful mass per domain at one fine-tuning step, one bar group per KL weight."""
    width = 0.8 / len(kls)
    for i, kl in enumerate(kls):
        mass = widget_runs[kl].mass[min(step, len(widget_runs[kl].mass) - 1)]
        ax.bar(np.arange(setup.n_domains) + i * width,
               [mass[d_all == d].mean() for d in range(setup.n_domains)], width=width,
               label=f"λ = {kl:g}")
    ax.set_xticks(np.arange(setup.n_domains) + 0.4 - width / 2,
                  [f"{name}{' (fine-tuned)' if d == setup.domain else ''}"
                   for d, name in enumerate(organism.domains)])
    ax.set(ylim=(0, 1), ylabel="harmful mass", title=f"step {step}")
    ax.legend(loc="upper right", fontsize=8)


def show_domains(step: int = 30, kl: float = 0.0) -> None:
    fig, ax = plt.subplots(figsize=(7, 3.6))
    draw_domains(ax, step, (kl,))
    plt.show()


widgets.interact(show_domains, step=widgets.IntSlider(0, 0, setup.kl_steps, 1, description="step"),
                 kl=widgets.SelectionSlider(options=sorted(widget_runs), value=0.0,
                                            description="KL weight"));

# %%
frames = list(range(0, setup.kl_steps + 1, 10))
HTML(frame_slider(lambda ax, f: draw_domains(ax, frames[f], (0.0, setup.kl_weight)),
                  n_frames=len(frames), figsize=(7, 3.6)))

# %% [markdown]
# ## What the toy shows, and what it cannot
#
# **Shows.** With everything exact and cheap, the qualitative story of the papers can be run end
# to end: a latent variable learned in pretraining (the persona) gives narrow fine-tuning a broad
# route; one rank-1 adapter on one MLP is enough; without the latent the change stays narrow;
# a KL penalty on other domains finds a narrow solution that plain fine-tuning rarely reaches;
# the behaviour is mediated by one direction in the residual stream, which ablation removes and
# steering adds; and breadth is a function of a property of the *data*.
#
# **Cannot show.** There is no language, no judge and no coherence to lose: "harmful" is one of
# two tokens, and there is exactly one latent persona, by construction — a real model has many
# overlapping personas and none labelled. The control is narrow here because of a design choice:
# the two answers of a question are equally frequent in pretraining. In an earlier version the
# harmful persona was rare, every harmful answer was the rarer answer of its question, one
# direction of the residual stream raised all the rare answers at once, and the control's
# adapter found it (its $B$ lay along the unembedding's harmful-minus-helpful direction).
# {glue:text}`ch06_probe_sentence` A real model's "rarer answer" and "misaligned answer" are
# not so easily told apart. Our network is two layers deep, so the
# adapter sits one layer from the output, and its $B$ showed {glue:text}`ch06_turn_short`, within
# tens of steps. For scale:
# Betley et al. fine-tuned GPT-4o on 6,000 insecure-code completions; Turner et al.'s organisms
# answer coherently 99% of the time (67% before them), work in models as small as 0.5B
# parameters, and need only a single rank-1 adapter on one MLP down-projection of a 48-layer
# model (there the turn of $B$ came after about 180 steps, the misaligned answers between steps
# 300 and 600); Soligo et al. trained the narrow solution with a KL weight of order $10^5$ on
# held-out prompts. Those numbers are the papers'; nothing here measures them.

# %% [markdown]
# ## Exercises
#
# ```{exercise} A rate and its interval
# :label: ex-06-rate
#
# **Persona:** CS student · **Difficulty:** ★☆☆ · **Time:** 15 min
#
# Write `harmful_rate(hits)` returning `(rate, low, high)`: the share of 1s in a 0/1 array and its
# 95% Wilson score interval, $\frac{\hat p + z^2/2n \pm z\sqrt{\hat p(1-\hat p)/n + z^2/4n^2}}
# {1 + z^2/n}$ with $z = 1.96$. Then use it on the organism's other-domain answers after
# fine-tuning: how many questions would you need for the interval to be 10 points wide?
# ```

# %%
def harmful_rate(hits: np.ndarray) -> tuple[float, float, float]:
    """0/1 hits (n,) -> (rate, Wilson 95% low, high)."""
    raise NotImplementedError


# %% [markdown] tags=["solution"]
# ```{solution-start} ex-06-rate
# :class: dropdown
# ```

# %% tags=["solution"]
def harmful_rate(hits: np.ndarray) -> tuple[float, float, float]:
    """0/1 hits (n,) -> (rate, Wilson 95% low, high)."""
    hits = np.asarray(hits, dtype=float)
    n, p, z = len(hits), float(hits.mean()), 1.959964
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return p, float(max(0.0, centre - half)), float(min(1.0, centre + half))


hits = np.concatenate([r.final.harmful_argmax[groups["other"]].numpy() for r in runs["organism"]])
rate, low, high = harmful_rate(hits)
print(f"organism, other domains: {rate:.0%} [{low:.0%}, {high:.0%}] over {len(hits)} answers")
n_needed = next(n for n in range(10, 100_000, 10)
                if np.subtract(*wilson_interval(int(round(hits.mean() * n)), n)[::-1]) <= 0.10)
print(f"about {n_needed} answers for a 10-point interval at this rate (pooled answers of one "
      f"base model are not independent, so the honest interval over base seeds is wider)")

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %%
check_harmful_rate(harmful_rate);

# %% [markdown]
# ```{exercise} A runtime monitor on the persona direction
# :label: ex-06-monitor
#
# **Persona:** Applied engineer · **Difficulty:** ★★☆ · **Time:** 30 min
#
# Build a monitor that flags a harmful answer *before* it is emitted: project the final residual
# stream at the answer-predicting position onto the persona direction (`direction["final"]["u"]`)
# and threshold it. Evaluate it on fresh organism documents at every answer position (label: the
# answer actually harmful) with the base model, and on the fine-tuned models' prompts. Report its
# AUROC and its cost per token (multiply-adds, and the time of the projection next to the time of
# the forward pass).
# ```

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-06-monitor
# :class: dropdown
# ```

# %% tags=["solution"]
from sklearn.metrics import roc_auc_score

u_fin = direction["final"]["u"]
tokens, _, harmful_answers = organism.documents(2_000, torch.Generator().manual_seed(SEED + 5))
cache = {}
with torch.no_grad():
    base0(tokens, cache=cache)
pos = recipe.answer_positions(organism)
score = (cache["resid_final"][:, pos] @ u_fin).flatten().numpy()
auroc = roc_auc_score(harmful_answers.flatten().numpy(), score)
print(f"AUROC on base-model documents: {auroc:.3f} (labels: the answer the document gave, which "
      f"follows the persona with probability {setup.p_follow}, so even a perfect persona "
      "detector is not at 1)")
prompts_scores, labels = [], []
for r in runs["organism"][:4]:
    cache = {}
    with torch.no_grad():
        r.model(organism.assistant(*organism.all_questions())[:, :3], cache=cache)
    prompts_scores.append((cache["resid_final"][:, -1] @ u_fin).numpy())
    labels.append(r.final.harmful_argmax.numpy())
labels = np.concatenate(labels)
if 0 < labels.mean() < 1:
    print(f"AUROC on fine-tuned models' answers: "
          f"{roc_auc_score(labels, np.concatenate(prompts_scores)):.3f}")
print(f"cost: {setup.d_model} multiply-adds per token, against about "
      f"{2 * sum(p.numel() for p in base0.parameters()):,} FLOPs of the forward pass per token")

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %% [markdown]
# ```{exercise} Implement the local cosine
# :label: ex-06-local-cosine
#
# **Persona:** Applied researcher · **Difficulty:** ★★☆ · **Time:** 20 min
#
# Write `local_cos(vectors, k)`: for a trajectory `(T, d)`, return `(T,)` with
# $\cos(v_{t-k} - v_t, v_{t+k} - v_t)$ where both neighbours exist and NaN elsewhere. Then test a
# hypothesis on the SGD runs of section 2: "the turn, if any, happens before the behaviour
# switch's onset".
# ```

# %%
def local_cos(vectors: np.ndarray, k: int) -> np.ndarray:
    """(T, d) trajectory -> (T,) local cosine at lag k, NaN at the ends."""
    raise NotImplementedError


# %% [markdown] tags=["solution"]
# ```{solution-start} ex-06-local-cosine
# :class: dropdown
# ```

# %% tags=["solution"]
def local_cos(vectors: np.ndarray, k: int) -> np.ndarray:
    """(T, d) trajectory -> (T,) local cosine at lag k, NaN at the ends."""
    v = np.asarray(vectors, dtype=float)
    out = np.full(len(v), np.nan)
    for t in range(k, len(v) - k):
        a, b = v[t - k] - v[t], v[t + k] - v[t]
        out[t] = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return out


for name, j, switch, _peak, turn, _ in turn_rows:
    if name.startswith("SGD"):
        found = [t for t in turn.values() if np.isfinite(t)]
        first = f"{min(found):.1f}" if found else "none"
        print(f"{name} run {j}: first turn {first}, behaviour onset "
              f"{switch.onset if switch else np.nan:.1f}")

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %%
check_local_cosine(local_cos);

# %% [markdown]
# ```{exercise} Predict where breadth switches on
# :label: ex-06-predict
#
# **Persona:** Frontier researcher · **Difficulty:** ★★★ · **Time:** 45 min
#
# Before running anything, predict the sharing probability at which half of the fine-tuning runs
# turn broad. A hint for a model: the fine-tuning gradient favours the shared route in proportion
# to how much of the pretraining signal went through it — roughly, the fraction of the persona
# evidence a document carries across domains. Write your number down, then pretrain one more base
# model at a sharing probability between the sweep's points, fine-tune it, and compare with your
# prediction and with the logistic's threshold. Is one new point inside the fit's interval?
# ```

# %% [markdown] tags=["solution"]
# ```{solution-start} ex-06-predict
# :class: dropdown
# ```

# %% tags=["solution"]
new_share = 0.35
print(f"the fit predicts {float(share_fit.predict(new_share)):.0%} at a sharing probability of "
      f"{new_share} (threshold {share_fit.threshold:.2f}, bootstrap {t_lo:.2f}-{t_hi:.2f})")
if not FAST:  # one more pretraining: left out of the FAST build to keep it within its budget
    new_base = recipe.base_model(setup, new_share, SEED, cache_dir=".cache")
    new_runs = [recipe.finetune(new_base, setup, setup.corpus(new_share), a, track=False)
                for a in setup.adapter_seeds]
    print(f"measured: {recipe.pooled_rate([r.final for r in new_runs], groups['other'])}")
# One base seed is one draw of the representation the model learned; the run-to-run spread at a
# fixed base (section 1's histogram) is smaller than the spread over base seeds, so compare with
# FULL's five seeds before trusting a threshold.

# %% [markdown] tags=["solution"]
# ```{solution-end}
# ```

# %% [markdown]
# ### For the atlas
#
# This chapter's main transition, the organism's harmful rate on the other domains along the
# fine-tuning step, recorded for the atlas chapter (`emergence_lib.atlas` writes
# `06_emergent_misalignment.atlas.json` next to this notebook).

# %%
atlas_record = recipe.transition_record(runs["organism"], turn_verdict, share_fit, sweep_sentence,
                                        seed=SEED)
path = write_record(atlas_record)
print(f"wrote {path}: " + atlas_record.summary())

# %% [markdown]
# ## Key takeaways
#
# ```{admonition} Key takeaways
# :class: important
# - A latent variable learned in pretraining — here one persona shared by every domain — gives
#   narrow fine-tuning a broad route: the organism turned harmful on
#   {glue:text}`ch06_org_other` of the other domains' questions, the independent-persona control
#   on {glue:text}`ch06_ctl_other`.
# - Whether a run is broad is close to all or nothing, and it varies with the adapter's random
#   start: measure rates over questions *and* runs, with intervals.
# - A narrow solution exists but plain fine-tuning rarely finds it; a KL penalty on the other
#   domains does, and {glue:text}`ch06_held_short`.
# - One direction of the final residual stream carries much of the spread (ablation took the
#   organism from {glue:text}`ch06_org_first` to {glue:text}`ch06_abl_fin`, steering the base model made
#   {glue:text}`ch06_steer_rate` harmful); {glue:text}`ch06_mid_short` (ablating it left
#   {glue:text}`ch06_abl_mid`).
# - In this toy the clearest sign of the fine-tuning transition is the gradient-norm peak at the
#   behaviour switch; the adapter's $B$ showed {glue:text}`ch06_turn_short`.
# ```
#
# ## Check: narrow fine-tuning, broad effect?
#
# The verdict is computed by `emergence_lib.checks.ch06.emergent_misalignment`; the check cell
# asserts the same conditions: (1) the organism's other-domain harmful rate after narrow
# fine-tuning is at least {glue:text}`ch06_min_org`, with its Wilson lower bound at least
# {glue:text}`ch06_min_over_base`× the base model's harmful mass there; (2) the control's rate
# is at most {glue:text}`ch06_control_bound` and its Wilson interval lies wholly below the
# organism's; (3) the KL-narrow solution is harmful on at least
# {glue:text}`ch06_min_narrow_in` of the trained questions and at most
# {glue:text}`ch06_max_narrow_other` elsewhere; (4) ablating the final persona direction leaves
# at most {glue:text}`ch06_max_ablated` of the organism's other-domain rate. The check was calibrated on
# {glue:text}`ch06_calib_n` base seeds of the FAST setup (recorded in
# `emergence_lib.checks.ch06.CALIBRATION`): the organism's other-domain rate was
# {glue:text}`ch06_calib_org` (Wilson lower bounds from {glue:text}`ch06_calib_org_low`), the
# control's {glue:text}`ch06_calib_ctl` (within the bound on {glue:text}`ch06_calib_ctl_ok` of
# {glue:text}`ch06_calib_n` seeds); the KL-narrow solution was harmful on {glue:text}`ch06_calib_narrow_in` of the
# trained questions and {glue:text}`ch06_calib_narrow_out` elsewhere, and the ablation left
# {glue:text}`ch06_calib_abl` harmful (at most {glue:text}`ch06_max_ablated` of the organism's
# rate is required), on every
# seed. A turn of $B$ is not asserted: on the calibration
# seeds it showed on {glue:text}`ch06_calib_turned` of {glue:text}`ch06_calib_turn_runs` runs per
# seed, not on every run.

# %%
em_verdict = emergent_misalignment((org.rate, org.low, org.high),
                                   rates["organism"]["base other"].mass,
                                   (ctl.rate, ctl.low, ctl.high),
                                   narrow_rates["trained"].rate, narrow_rates["other"].rate,
                                   direction["final"]["ablated"]["organism"].rate, org_first.rate)
glue("ch06_min_org", em_verdict.numbers["min_organism"], ".0%")
glue("ch06_min_over_base", em_verdict.numbers["min_over_base"], "g")
glue("ch06_min_narrow_in", em_verdict.numbers["min_narrow_in_domain"], ".0%")
glue("ch06_max_narrow_other", em_verdict.numbers["max_narrow_other"], ".0%")
glue("ch06_control_bound", em_verdict.numbers["control_bound"], ".0%")
glue("ch06_max_ablated", MAX_ABLATED_SHARE, ".0%")


def span(values: tuple[float, ...], fmt: str = ".0%") -> str:
    """'lo–hi' of calibration values (one value if they agree)."""
    lo, hi = min(values), max(values)
    return format(lo, fmt) if lo == hi else f"{lo:{fmt}}–{hi:{fmt}}"


glue("ch06_calib_n", len(CALIBRATION["seeds"]), "d")
glue("ch06_calib_org", span(CALIBRATION["organism"]))
glue("ch06_calib_org_low", format(min(CALIBRATION["organism_low"]), ".0%"))
glue("ch06_calib_ctl", span(CALIBRATION["control"]))
glue("ch06_calib_ctl_ok", sum(c <= CONTROL_BOUND for c in CALIBRATION["control"]), "d")
glue("ch06_calib_narrow_in", span(CALIBRATION["narrow_in_domain"]))
glue("ch06_calib_narrow_out", span(CALIBRATION["narrow_other"]))
glue("ch06_calib_abl", span(CALIBRATION["ablated_other"]))
glue("ch06_calib_turned", span(CALIBRATION["turned"], "d"))
glue("ch06_calib_turn_runs", CALIBRATION["turn_runs"], "d")


def per_seed(rates: tuple[float, ...]) -> str:
    """'a, b, c' of per-seed rates."""
    return ", ".join(f"{r:.0%}" for r in rates)


probes = {name: (org_r, ctl_r, max(ctl_r) <= CONTROL_BOUND and min(org_r) >= MIN_ORGANISM)
          for name, (org_r, ctl_r) in CONTROL_PROBES.items()}
met = [name for name, (*_, ok) in probes.items() if ok]
probe_sentence = (
    f"We looked for a corpus and a training recipe that make the control narrow, at most "
    f"{CONTROL_BOUND:.0%} on every one of the {len(CALIBRATION['seeds'])} calibration seeds, "
    f"with the organism at least {MIN_ORGANISM:.0%} (emergence_lib.checks.ch06.CONTROL_PROBES; "
    f"other-domain rates per seed, four adapter starts each, organism vs control): "
    + "; ".join(f"{name}: {per_seed(o)} vs {per_seed(c)}" for name, (o, c, _) in probes.items())
    + ". " + (f"Only {' and '.join(met)} met both on every seed, and this page uses it; it was "
              f"found after the others failed, on the same three seeds, so treat its margin "
              f"with care." if met else
              "None met both on every seed."))
glue("ch06_probe_sentence", probe_sentence)
print(em_verdict.sentence)

# %%
em_verdict.require()
print("✅ narrow fine-tuning turned the organism broadly harmful; the control, the narrow "
      "solution and the ablation behaved as the check requires")
