"""The ``ember`` command (defects issue, item 10): one-line errors, strict arguments,
and a ``--help`` that does not load torch."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ember(*args: str, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": ROOT}
    return subprocess.run([sys.executable, "-m", "ember.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, **kw)


def one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_ir_on_missing_file_directory_and_binary(tmp_path):
    assert "No such file" in one_line_error(ember("ir", str(tmp_path / "missing.ir")))
    assert "Is a directory" in one_line_error(ember("ir", str(tmp_path)))
    binary = tmp_path / "blob.ir"
    binary.write_bytes(bytes(range(256)) * 4)
    assert "not a text file" in one_line_error(ember("ir", str(binary)))


def test_ir_rejects_negative_dimensions(tmp_path):
    bad = tmp_path / "neg.ir"
    bad.write_text("graph @g(%x: f32[-4]) {\n  return %x\n}\n")
    assert "bad dimension '-4'" in one_line_error(ember("ir", str(bad)))
    good = tmp_path / "ok.ir"
    good.write_text("graph @g(%x: f32[4]) {\n  %0: f32[4] = neg(%x)\n  return %0\n}\n")
    r = ember("ir", str(good))
    assert r.returncode == 0 and "neg(%x)" in r.stdout


def test_verifier_rejects_negative_dimensions():
    from ember.ir import Graph, VerifyError, verify

    g = Graph("g")
    x = g.add_input((-4,), "f32", "x")
    g.outputs.append(x)
    with pytest.raises(VerifyError, match="bad shape"):
        verify(g)


@pytest.mark.parametrize("args", [("ops", "--bogus"), ("version", "extra"), ("ir", "a", "b")])
def test_unknown_arguments_are_errors(args):
    r = ember(*args)
    assert r.returncode == 2 and "unrecognized arguments" in r.stderr


def test_help_does_not_import_torch():
    code = ("import sys\nfrom ember import cli\n"
            "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('torch loaded' if 'torch' in sys.modules else 'torch not loaded')\n")
    env = {**os.environ, "PYTHONPATH": ROOT}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "torch not loaded" in r.stdout, r.stdout + r.stderr
    assert "usage: ember" in r.stdout


def test_package_names_still_import():
    import ember

    assert callable(ember.compile) and callable(ember.explain)
    assert ember.Config().backend == "auto" and ember.Report().graphs == []
    assert {"compile", "explain", "Config", "Report"} <= set(dir(ember))
