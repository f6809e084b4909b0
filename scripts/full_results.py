"""Run chapters' FULL setups and write their results as small committed artefacts.

Chapter 3: trains Nanda et al.'s transformer (``recipes.grokking.FULL``; resumes from a
checkpoint under .cache/ if interrupted), computes the Fourier measures with the random-frequency
control, the logistic fit, the calibrated LLC, and writes histories at the logged steps plus the
key numbers, commit, machine, matmul ceiling, date and seed to
``src/emergence_lib/results/03_grokking_full.json`` (package data the chapter loads). When
devinterp is importable, its LLC estimator is run beside the course's on the same checkpoints.

    EMERGENCE_THREADS=1 .venv/bin/python scripts/full_results.py --chapters 03
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from emergence_lib.bench import matmul_gflops  # noqa: E402
from emergence_lib.recipes import grokking as recipe  # noqa: E402
from emergence_lib.tasks.modular import modular_addition  # noqa: E402
from emergence_lib.train import History, TrainResult  # noqa: E402
from emergence_lib.utils import configure_threads  # noqa: E402

CHAPTERS = ("03",)
HISTORY = ("train_loss", "test_loss", "train_acc", "test_acc", "weight_norm")


def commit() -> str:
    """The checkout's commit (with "+dirty" when tracked files differ from it)."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()
    head = git("rev-parse", "HEAD") or "unknown"
    return head + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def machine() -> dict:
    """Where the run happened: processor, cores, threads, library versions."""
    return {"platform": platform.platform(), "processor": platform.processor() or
            platform.machine(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": np.__version__}


def _floats(values: object) -> list:
    return [None if v is None else float(v) for v in np.asarray(values, dtype=object)]


def run_from_checkpoint(setup: recipe.GrokkingSetup, seed: int, path: Path) -> recipe.GrokkingRun:
    """The run as far as its training checkpoint got (history, snapshots, latest weights)."""
    state = torch.load(path, weights_only=True)
    model = recipe.grokking_model(setup, seed)
    model.load_state_dict(state["model"])
    result = TrainResult(model, History.from_dict(state["history"]),
                         {int(k): v for k, v in state["snapshots"].items()})
    return recipe.GrokkingRun(setup, modular_addition(setup.p, setup.train_frac, seed), result)


def devinterp_side_by_side(run: recipe.GrokkingRun, llc: dict, every: int,
                           seed: int) -> list[dict] | None:
    """devinterp's LLC estimator beside the course's (``llc``, from ``llc_over_training``) on
    every ``every``-th of its checkpoints, with the same settings and step size."""
    from emergence_lib.progress.llc import devinterp_llc
    try:
        from importlib.metadata import version

        import devinterp  # noqa: F401
    except ImportError:
        print("devinterp is not installed: no side-by-side validation")
        return None
    settings = recipe.LLC_SETTINGS[run.setup.name]
    rows = []
    for i in range(0, len(llc["step"]), every):
        step, lr = int(llc["step"][i]), float(llc["lr"][i])
        model = recipe._load(run, step)
        theirs = devinterp_llc(model, recipe.llc_loss_fn(run.setup.p),
                               (run.data.x_train, run.data.y_train), lr=lr, seed=seed,
                               **settings)
        rows.append({"step": step, "lr": lr, "course": float(llc["llc"][i]),
                     "course_std": float(llc["llc_std"][i]), "devinterp": theirs.llc,
                     "devinterp_std": theirs.std, "devinterp_version": version("devinterp")})
        print(f"  {run.setup.name} LLC at step {step}: course {llc['llc'][i]:.4g}, devinterp "
              f"{theirs.llc:.4g} +- {theirs.std:.2g}")
    return rows


def grokking_results(setup: recipe.GrokkingSetup, seed: int, cache: Path,
                     partial: bool = False) -> dict:
    """Train ``setup`` (resuming from ``cache``; with ``partial``, only read what the cache
    holds), analyse it as the chapter does, and return it as a dict."""
    began = time.process_time()
    if partial:
        run = run_from_checkpoint(setup, seed, cache)
    else:
        run = recipe.train_grokking(setup, seed, checkpoint=cache, checkpoint_every=500,
                                    progress=False)
    train_cpu = time.process_time() - began
    if run.result.resumed_from is not None:   # (partly) trained by an earlier invocation
        train_cpu = None
    measures = recipe.fourier_measures(run, seed=seed, progress=False)
    report = recipe.grokking_report(run, measures)
    fit = recipe.transition_fit(run, seed=seed)
    verdict = recipe.chapter_verdict(report, fit)
    kept = np.asarray(sorted(run.result.snapshots))
    at = int(kept[np.abs(kept - (report.test_jump_onset or kept[-1])).argmin()])
    calibration = recipe.calibrate_run_llc(run, at, seed=seed)
    llc = recipe.llc_over_training(run, seed=seed, progress=False)
    llc_says = recipe.run_llc_verdict(report, llc)
    print(report.summary(), verdict.sentence, llc_says.sentence, sep="\n")
    control = measures["random_restricted"]
    return {
        "setup": {k: (list(v) if isinstance(v, tuple) else v)
                  for k, v in dataclasses.asdict(run.setup).items()},
        "seed": seed,
        "steps_done": int(run.steps[-1]),
        "complete": int(run.steps[-1]) == setup.steps,
        "train_seconds": None if train_cpu is None else run.result.seconds,
        "train_cpu_seconds": train_cpu,
        "history": {"step": [int(s) for s in run.steps],
                    **{name: _floats(run[name]) for name in HISTORY}},
        "fourier": {"step": [int(s) for s in measures["step"]],
                    "restricted_loss": _floats(measures["restricted_loss"]),
                    "excluded_loss": _floats(measures["excluded_loss"]),
                    "random_restricted_median": _floats(np.median(control, axis=0)),
                    "random_restricted_low": _floats(np.percentile(control, 5, axis=0)),
                    "random_restricted_high": _floats(np.percentile(control, 95, axis=0)),
                    "key_frequencies": [int(k) for k in measures["key_frequencies"]],
                    "random_draws": int(len(control))},
        "report": {"memorized_step": report.memorized_step,
                   "grokked_step": report.grokked_step, "ratio": report.ratio,
                   "test_acc_at_memorization": report.test_acc_at_memorization,
                   "test_jump_onset": report.test_jump_onset,
                   "restricted_below_start_step": report.restricted_below_start_step,
                   "leads": report.leads, "key_drop": report.key_drop,
                   "random_drop_median": float(np.median(report.random_drops)),
                   "random_lead_median": report.random_lead_median,
                   "phases": recipe.phases(report, float(run.steps[-1]))},
        "fit": {"threshold": fit.threshold, "steepness": fit.steepness, "r2": fit.r2,
                "linear_r2": fit.linear.r2,
                "intervals": {k: list(v) for k, v in fit.intervals.items()}},
        "verdict": {"passed": verdict.passed, "sentence": verdict.sentence,
                    "failures": list(verdict.failures)},
        "llc": {"calibrated_at_step": at, "calibration": calibration.summary(),
                **{k: _floats(v) for k, v in llc.items() if k != "trace_ok"},
                "trace_ok": [bool(v) for v in llc["trace_ok"]],
                "verdict": llc_says.sentence, "settings": recipe.LLC_SETTINGS[setup.name]},
        "llc_devinterp": devinterp_side_by_side(run, llc, 3, seed),
        "analysis_cpu_seconds": time.process_time() - began - (train_cpu or 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", default="03",
                        help=f"comma-separated chapters (available: {', '.join(CHAPTERS)})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-dir", default=str(ROOT / "src" / "emergence_lib" / "results"))
    parser.add_argument("--cache", default=str(ROOT / ".cache" / "full_results"),
                        help="where training checkpoints are kept so a run can resume")
    parser.add_argument("--partial", action="store_true",
                        help="do not train: write the results of what the checkpoint holds, "
                             "marked complete: false")
    parser.add_argument("--no-fast-check", action="store_true",
                        help="skip the FAST run whose LLC is compared with devinterp's")
    args = parser.parse_args()
    chapters = [c.strip() for c in args.chapters.split(",") if c.strip()]
    unknown = sorted(set(chapters) - set(CHAPTERS))
    if unknown:
        parser.error(f"--chapters: no FULL results for {unknown}; available: {list(CHAPTERS)}")
    if args.seed < 0:
        parser.error(f"--seed must be >= 0, got {args.seed}")
    configure_threads()
    ceiling = matmul_gflops()
    for chapter in chapters:
        cache = Path(args.cache) / f"03_grokking_seed{args.seed}.pt"
        results = {"chapter": chapter, "mode": "FULL", "commit": commit(), "machine": machine(),
                   "matmul_ceiling_gflops": ceiling,
                   "date": datetime.datetime.now(datetime.timezone.utc).isoformat(
                       timespec="seconds"),
                   **grokking_results(recipe.FULL, args.seed, cache, args.partial)}
        if not args.no_fast_check:   # the page's FAST checkpoints, course vs devinterp
            fast = recipe.train_grokking(recipe.FAST, args.seed, progress=False)
            fast_llc = recipe.llc_over_training(fast, seed=args.seed, progress=False)
            results["llc_devinterp_fast"] = devinterp_side_by_side(fast, fast_llc, 2, args.seed)
        out = Path(args.out_dir) / recipe.FULL_RESULTS_FILE
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=1) + "\n")
        print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
