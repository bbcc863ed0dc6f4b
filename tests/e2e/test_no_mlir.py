"""Ember without the MLIR wheels: it imports, and graphs run eagerly with one warning."""

from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = r"""
import logging, sys
sys.modules["mlir"] = None  # as if xtc-mlir-python-bindings were not installed
import torch, ember
from ember.codegen.mlir import available
ok, reason = available()
assert not ok and "mlir" in reason.lower(), reason
records = []
class H(logging.Handler):
    def emit(self, r):
        records.append(r.getMessage())
logging.getLogger("ember").addHandler(H())
f = ember.compile(lambda x: torch.exp(x) * 2 + 1)
with torch.no_grad():
    for n in (3, 4, 5):
        x = torch.randn(n)
        torch.testing.assert_close(f(x), torch.exp(x) * 2 + 1)
warnings = [m for m in records if "unavailable" in m]
assert len(warnings) == 1, records
assert all(g.eager_reason for g in f.ember_report.graphs)
print("OK", warnings[0])
"""


def test_ember_imports_and_runs_eagerly_without_mlir():
    env = dict(os.environ, EMBER_STRICT="0")
    res = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("OK"), res.stdout
    assert "cpu backend is unavailable" in res.stdout.lower()
