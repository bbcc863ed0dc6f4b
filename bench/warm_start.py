"""Warm start: Ember's compile time per graph in a fresh process, cold vs from the disk cache.

    python bench/warm_start.py               # 3 rounds, the demo block and a small MLP
    python bench/warm_start.py --rounds 5

Each round uses a new, empty cache folder and starts fresh processes:
``off`` (EMBER_CACHE_DIR=off: memory cache only, what Ember did before the disk
tier), ``cold`` (empty folder: compile and store), ``warm`` (same folder again:
load). Each process compiles the models under ``torch.no_grad()`` and prints
``GraphInfo.compile_seconds`` per graph (Ember's own time: passes, kernel
lowering, code generation or loading, runtime steps; not Dynamo's tracing),
and where its kernels came from. The first graph of a process also pays
one-time set-up (the MLIR bindings' import, the backend's availability probe).
Medians over the rounds are printed; the machine may be shared, so expect noise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import json, sys, time, torch
import torch.nn as nn
import ember
from ember.demo import Block

class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(256)
        self.fc1, self.fc2 = nn.Linear(256, 1024), nn.Linear(1024, 256)
    def forward(self, x):
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.norm(x))))

torch.manual_seed(0)
out = []
with torch.no_grad():
    for name, m, x in [("block", Block().eval(), torch.randn(8, 64, 128)),
                       ("mlp", MLP().eval(), torch.randn(16, 256))]:
        cf = ember.compile(m)
        y = cf(x)
        assert torch.allclose(y, m(x), rtol=1e-4, atol=1e-4), name
        for g in cf.ember_report.graphs:
            origins = [k.origin for k in g.kernels]
            out.append({"model": name, "graph": g.name, "ms": g.compile_seconds * 1e3,
                        "kernels": len(origins),
                        "origins": {o: origins.count(o) for o in sorted(set(origins))}})
print(json.dumps(out))
"""


def child(cache: str) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": ROOT, "EMBER_CACHE_DIR": cache}
    r = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        raise SystemExit(f"child failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    runs: dict[str, list[list[dict]]] = {"off": [], "cold": [], "warm": []}
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(prefix="ember-warm-") as d:
            runs["off"].append(child("off"))
            runs["cold"].append(child(d))
            runs["warm"].append(child(d))
    first = runs["warm"][0]
    print(f"Ember compile time per graph, median of {args.rounds} fresh process(es) each")
    print(f"{'graph':18s} {'kernels':>7s} {'off ms':>8s} {'cold ms':>8s} {'warm ms':>8s}  "
          "warm kernels from")
    for i, g in enumerate(first):
        med = {mode: statistics.median(r[i]["ms"] for r in rs) for mode, rs in runs.items()}
        label = f"{g['model']}/{g['graph']}" + (" *" if i == 0 else "")
        print(f"{label:18s} {g['kernels']:7d} {med['off']:8.1f} {med['cold']:8.1f} "
              f"{med['warm']:8.1f}  {g['origins']}")
    print("* first graph of the process: includes importing the MLIR bindings and the "
          "backend's availability probe (itself loaded from the disk cache when warm)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
