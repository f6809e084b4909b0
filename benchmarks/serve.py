"""Latency of a small and a larger Transformer served by ``emergence_lib.serve``: p50/p95 of
POST /predict through uvicorn on 127.0.0.1 with a real HTTP client (httpx), at a short and a
long context, beside the model's forward alone (in process) and the budget guard's refusal of a
context one token over the limit. Prints a table with the machine's matmul ceiling, writes JSON.

    .venv/bin/python benchmarks/serve.py [--repeats 50] [--contexts 8 128] [--json FILE]

The models are untrained (seeded): latency does not depend on the weights' values. Wall-clock
numbers: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import torch

from emergence_lib.bench import matmul_gflops, time_per_call
from emergence_lib.capacity import count_flops
from emergence_lib.models.transformer import Transformer
from emergence_lib.serve import LocalServer, make_app, measure_latency
from emergence_lib.utils import count_parameters

VOCAB, N_CTX = 64, 128
MODELS = {  # name -> Transformer keyword arguments
    "small": {"d_model": 32, "n_layers": 1, "n_heads": 2, "d_mlp": 64},
    "large": {"d_model": 256, "n_layers": 4, "n_heads": 8, "d_mlp": 1024},
}


def build(name: str, seed: int = 0) -> Transformer:
    """The seeded model ``name`` of MODELS, pre-LayerNorm, in eval mode."""
    torch.manual_seed(seed)
    return Transformer(vocab=VOCAB, n_ctx=N_CTX, layernorm=True, **MODELS[name]).eval()


def payloads(context: int, count: int = 8, seed: int = 0) -> list[list[int]]:
    """``count`` seeded token lists of length ``context``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, VOCAB, (count, context), generator=generator).tolist()


def bench(models: list[str], contexts: list[int], repeats: int) -> list[dict]:
    """One row per (model, context): served p50/p95/mean, the forward alone, FLOPs; and one row
    per model for the guard's 413 at N_CTX + 1 tokens."""
    rows = []
    for name in models:
        model = build(name)
        with LocalServer(make_app(model, max_context=N_CTX, name=name)) as server:
            for context in contexts:
                bodies = payloads(context)
                x = torch.tensor([bodies[0]])
                with torch.inference_mode():
                    forward_s = time_per_call(lambda m=model, x=x: m(x), repeats=repeats)
                stats = measure_latency(server.url, bodies, repeats=repeats)
                flops = context * count_flops(model, n_ctx=context)
                rows.append({"model": name, "params": count_parameters(model),
                             "context": context, "status": 200, "forward_ms": forward_s * 1e3,
                             "forward_gflops": flops / forward_s / 1e9,
                             **{k: stats[k] for k in ("p50_ms", "p95_ms", "mean_ms", "n",
                                                      "errors")}})
            over = measure_latency(server.url, payloads(N_CTX + 1), repeats=repeats,
                                   expect=413)
            rows.append({"model": name, "params": count_parameters(model),
                         "context": N_CTX + 1, "status": 413, "forward_ms": 0.0,
                         "forward_gflops": 0.0,
                         **{k: over[k] for k in ("p50_ms", "p95_ms", "mean_ms", "n",
                                                 "errors")}})
    return rows


def print_table(rows: list[dict], ceiling: float) -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{platform.processor() or platform.machine()}")
    print(f"matmul ceiling: {ceiling:.1f} GFLOP/s (fp32, 2048^3)")
    print(f"{'model':>6} {'params':>9} {'context':>7} {'status':>6} {'p50 ms':>8} "
          f"{'p95 ms':>8} {'forward ms':>10} {'fwd GFLOP/s':>11} {'errors':>6}")
    for r in rows:
        print(f"{r['model']:>6} {r['params']:>9} {r['context']:>7} {r['status']:>6} "
              f"{r['p50_ms']:>8.2f} {r['p95_ms']:>8.2f} {r['forward_ms']:>10.2f} "
              f"{r['forward_gflops']:>11.2f} {r['errors']:>6}")
    print("forward GFLOP/s counts every query over all its context's keys (an upper bound); "
          "the 413 rows are refusals of N_CTX + 1 tokens, answered before the model runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--contexts", type=int, nargs="+", default=[8, N_CTX])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--json", type=Path, default=Path("_build/bench_serve.json"))
    args = parser.parse_args()
    ceiling = matmul_gflops()
    rows = bench(args.models, args.contexts, args.repeats)
    print_table(rows, ceiling)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": rows, "ceiling_gflops": ceiling,
                                     "torch": torch.__version__,
                                     "threads": torch.get_num_threads()}, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
