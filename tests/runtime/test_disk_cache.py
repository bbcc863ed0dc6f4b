"""The on-disk kernel cache (runtime/diskcache.py): warm starts skip the MLIR
compile, bad entries are rebuilt, an unwritable folder warns once, concurrent
writers do not corrupt it, and ``ember cache``."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
import torch

import ember
from ember import cli
from ember.codegen.mlir import available
from ember.config import Config, ConfigError, default_cache_dir
from ember.runtime import diskcache

pytestmark = pytest.mark.skipif(not available()[0], reason="MLIR backend unavailable")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Run in fresh processes: a softmax big enough for threaded (OpenMP) kernels, a
# whole-tensor reduction (split over threads) and libm's erf. Prints what Ember
# did and how many MLIR batches this process compiled.
SCRIPT = r"""
import json, sys, torch, ember
from ember.codegen.mlir import jit
from ember.runtime import diskcache

batches = []
_compile = jit.compile_batch
def counting(kernels, **kw):
    batches.append(len(kernels))
    return _compile(kernels, **kw)
jit.compile_batch = counting

def f(x, y):
    return torch.softmax(x * 2.0, dim=-1) + torch.erf(y).sum() * 1e-3

torch.manual_seed(0)
x, y = torch.randn(512, 512), torch.randn(1 << 18)
with torch.no_grad():
    cf = ember.compile(f)
    out = cf(x, y)
    rep = cf.ember_report
    err = (out - f(x, y)).abs().max().item()
ks = rep.kernels
from ember.compiler import _cache
entries = sorted({e for ck in _cache.values() for e in ck.entries if ck.chunks})
print(json.dumps({"origins": [k.origin for k in ks], "batches": batches, "err": err,
                  "entries": entries, "threads": torch.get_num_threads(),
                  "ll": [k.artifacts["ll"] for k in ks], "mlir": [k.artifacts["mlir"] for k in ks],
                  "report": str(rep), "stats": diskcache.stats()}))
"""


def run_script(cache: str, n: int = 1) -> list[dict]:
    """``n`` processes started together on cache folder ``cache``; their outputs."""
    env = {**os.environ, "PYTHONPATH": ROOT, "EMBER_CACHE_DIR": cache}
    procs = [subprocess.Popen([sys.executable, "-c", SCRIPT], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(n)]
    outs = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=300)
        assert p.returncode == 0, stderr
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    return outs


def test_warm_start_loads_from_disk_without_compiling(tmp_path):
    cache = str(tmp_path / "cache")
    (cold,) = run_script(cache)
    assert cold["batches"] and set(cold["origins"]) == {"compiled"}, cold["origins"]
    assert cold["err"] < 1e-5
    assert cold["stats"]["disk_writes"] > 0
    (warm,) = run_script(cache)
    # every kernel (and the availability probe) came from disk: the JIT never ran
    assert warm["batches"] == [], warm["batches"]
    assert set(warm["origins"]) == {"disk"} and len(warm["origins"]) == len(cold["origins"])
    assert warm["err"] < 1e-5
    assert warm["stats"]["disk_hits"] >= len(warm["origins"])
    assert warm["stats"]["disk_misses"] == 0 and warm["stats"]["disk_corrupt"] == 0
    # the artifacts are the ones the cold process made
    assert warm["ll"] == cold["ll"] and warm["mlir"] == cold["mlir"]
    assert all("define" in t for t in warm["ll"]) and all("func.func" in t for t in warm["mlir"])
    assert "): disk" in warm["report"] and "): compiled" in cold["report"]
    # threaded entries (OpenMP range functions, split reductions) are rebuilt too
    assert warm["entries"] == cold["entries"]
    if cold["threads"] > 1:
        assert "range" in cold["entries"] and "partial" in cold["entries"], cold["entries"]


def test_concurrent_writers_then_a_warm_process(tmp_path):
    cache = str(tmp_path / "cache")
    outs = run_script(cache, n=4)
    for o in outs:
        assert o["err"] < 1e-5 and set(o["origins"]) <= {"compiled", "disk"}
        assert o["stats"]["disk_corrupt"] == 0
    assert not [n for n in os.listdir(os.path.join(cache, "kernels")) if n.endswith(".part")]
    # a process that comes after (this one, with its memory tier emptied) loads them all
    from ember.compiler import clear_cache

    clear_cache()
    torch.manual_seed(0)
    x, y = torch.randn(512, 512), torch.randn(1 << 18)
    with torch.no_grad():
        cf = ember.compile(script_fn, cache_dir=cache)
        torch.testing.assert_close(cf(x, y), script_fn(x, y), rtol=1e-5, atol=1e-5)
    assert {k.origin for k in cf.ember_report.kernels} == {"disk"}


def script_fn(x, y):  # SCRIPT's f
    return torch.softmax(x * 2.0, dim=-1) + torch.erf(y).sum() * 1e-3


# -- in-process: each test has its own folder, and the memory tier is emptied ----------

def fn(x, y):
    return torch.tanh(x) * y + x.sum(dim=-1, keepdim=True)


@pytest.fixture
def inputs():
    torch.manual_seed(1)
    return torch.randn(16, 64), torch.randn(16, 64)


def compile_run(cache_dir, x, y):
    """Compiles ``fn`` afresh (memory tier emptied) with the disk cache at ``cache_dir``."""
    from ember.compiler import clear_cache

    clear_cache()
    with torch.no_grad():
        cf = ember.compile(fn, cache_dir=cache_dir)
        out = cf(x, y)
    torch.testing.assert_close(out, fn(x, y), rtol=1e-5, atol=1e-5)
    return [k.origin for k in cf.ember_report.kernels]


def entry_files(cache_dir, suffix):
    d = os.path.join(cache_dir, "kernels")
    return sorted(os.path.join(d, n) for n in os.listdir(d) if n.endswith(suffix))


@pytest.mark.parametrize("damage", ["truncate_so", "garbage_so", "truncate_json",
                                    "garbage_json", "edit_json"])
def test_corrupt_entry_is_detected_and_rebuilt(tmp_path, inputs, damage, monkeypatch, caplog):
    cache = str(tmp_path / "c")
    assert set(compile_run(cache, *inputs)) == {"compiled"}
    assert set(compile_run(cache, *inputs)) == {"disk"}
    kind, part = damage.split("_")
    files = entry_files(cache, "." + part)
    for path in files:
        data = open(path, "rb").read()
        if kind == "truncate":
            data = data[: len(data) // 2]
        elif kind == "garbage":
            data = os.urandom(len(data))
        else:  # valid JSON, one field changed: only the checksum tells
            entry = json.loads(data)
            entry["meta"]["num_args"] += 1
            data = json.dumps(entry).encode()
        # a new file at the path, as a torn copy or a disk error leaves it: this process
        # has the old binary mapped, and truncating a mapped file in place would crash
        # any later dlopen here (the cache itself only ever os.replace()s files)
        with open(path + ".new", "wb") as f:
            f.write(data)
        os.replace(path + ".new", path)
    # a binary that fails its checksum must never reach dlopen
    from ember.codegen.mlir import native

    loaded = []
    real = native.load_batch
    monkeypatch.setattr(native, "load_batch", lambda p, *a: loaded.append(p) or real(p, *a))
    before = diskcache.STATS.disk_corrupt
    with caplog.at_level(logging.WARNING, logger="ember"):
        assert set(compile_run(cache, *inputs)) == {"compiled"}
    assert diskcache.STATS.disk_corrupt > before
    assert "fails its checksum" in caplog.text
    assert not loaded, "a corrupt entry was loaded"
    # rewritten: the next compile loads it again
    assert set(compile_run(cache, *inputs)) == {"disk"}
    assert loaded


def test_unwritable_folder_warns_once_and_still_works(tmp_path, inputs, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    cache = str(blocker / "cache")  # below a regular file: cannot be created, even by root
    x, y = inputs
    with caplog.at_level(logging.WARNING, logger="ember"):
        assert set(compile_run(cache, x, y)) == {"compiled"}
        assert set(compile_run(cache, x * 2, y)) == {"compiled"}
        assert set(compile_run(cache, x[:8], y[:8])) == {"compiled"}  # other kernels
        diskcache.flush_all()  # the writes (and the failure) happen on the writer thread
    warnings = [r for r in caplog.records if "not writable" in r.getMessage()]
    assert len(warnings) == 1, caplog.text
    assert cache in warnings[0].getMessage()


def test_cache_off_uses_memory_only(tmp_path, inputs):
    assert Config.from_env({"EMBER_CACHE_DIR": "off"}).cache_dir is None
    before = diskcache.stats()
    assert set(compile_run(None, *inputs)) == {"compiled"}
    after = diskcache.stats()
    assert after["disk_hits"] == before["disk_hits"]
    assert after["disk_misses"] == before["disk_misses"]
    assert after["disk_writes"] == before["disk_writes"]


def test_config_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == str(tmp_path / "ember")
    assert Config().cache_dir == str(tmp_path / "ember")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert default_cache_dir() == os.path.join(os.path.expanduser("~"), ".cache", "ember")
    assert Config.from_env({"EMBER_CACHE_DIR": str(tmp_path / "x")}).cache_dir == \
        str(tmp_path / "x")
    for off in ("off", "OFF", "none", "0"):
        assert Config.from_env({"EMBER_CACHE_DIR": off}).cache_dir is None
    assert Config().with_options(cache_dir=None).cache_dir is None
    with pytest.raises(ConfigError, match="cache_dir"):
        Config(cache_dir=3)


def test_the_suite_never_writes_the_users_cache():
    root = Config.from_env().cache_dir
    assert root is not None and "ember-test-cache-" in root
    assert "ember-test-cache-" in Config().cache_dir


def test_cli_cache_info_and_clear(tmp_path, inputs, monkeypatch, capsys):
    cache = str(tmp_path / "cli")
    compile_run(cache, *inputs)
    monkeypatch.setenv("EMBER_CACHE_DIR", cache)
    assert cli.main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert f"dir: {os.path.join(cache, 'kernels')}" in out
    n = int(out.split("entries: ")[1].split()[0])
    assert n > 0 and int(out.split("bytes: ")[1].split()[0]) > 0
    assert "memory" in out and "disk" in out
    assert cli.main(["cache", "clear"]) == 0
    assert "removed" in capsys.readouterr().out
    assert cli.main(["cache", "info"]) == 0
    assert "entries: 0 kernel(s)" in capsys.readouterr().out
    assert set(compile_run(cache, *inputs)) == {"compiled"}  # rebuilt after a clear
    monkeypatch.setenv("EMBER_CACHE_DIR", "off")
    assert cli.main(["cache", "info"]) == 0
    assert "off" in capsys.readouterr().out


def test_a_binary_that_does_not_load_is_a_miss(tmp_path, inputs, caplog):
    """Entries that verify but name a binary dlopen rejects (another platform's, say):
    a warning, a fresh compile, and the entries rewritten."""
    import hashlib

    cache = str(tmp_path / "c")
    assert set(compile_run(cache, *inputs)) == {"compiled"}
    diskcache.flush_all()
    junk = b"\x7fELF not really a shared object" * 10
    digest = hashlib.sha256(junk).hexdigest()
    with open(os.path.join(cache, "kernels", digest + ".so"), "wb") as f:
        f.write(junk)
    for path in entry_files(cache, ".json"):
        entry = json.loads(open(path).read())
        body = {k: entry[k] for k in ("format", "ember", "key", "blob", "meta")}
        body["blob"] = digest
        body["checksum"] = diskcache._checksum({k: v for k, v in body.items()})
        with open(path + ".new", "w") as f:
            f.write(json.dumps(body))
        os.replace(path + ".new", path)
    with caplog.at_level(logging.WARNING, logger="ember"):
        assert set(compile_run(cache, *inputs)) == {"compiled"}
    assert "did not load" in caplog.text
    assert set(compile_run(cache, *inputs)) == {"disk"}
