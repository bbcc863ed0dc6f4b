"""The disk cache's size limit (``EMBER_CACHE_MAX_BYTES``): least recently used
files go once the folder passes it; hits count as use; processes evicting the
same folder at once do not crash; ``ember cache info`` shows the limit."""

from __future__ import annotations

import multiprocessing
import os

import pytest
import torch

import ember
from ember import cli, compiler
from ember.codegen.mlir import available
from ember.runtime import diskcache
from ember.runtime.diskcache import DiskCache

BLOB = 4096  # bytes of each synthetic binary


def _store(cache: DiskCache, key: str, when: float) -> None:
    """One synthetic entry and binary (what the CPU backend stores), last used at ``when``."""
    blob = key.encode() * (BLOB // len(key))
    cache._store_now([key], blob, [{"name": key}])
    entry = cache.lookup(key)
    for path in (os.path.join(cache.dir, diskcache.entry_name(key) + ".json"),
                 os.path.join(cache.dir, entry["blob"] + ".so")):
        os.utime(path, (when, when))


def _folder_bytes(cache: DiskCache) -> int:
    return sum(os.path.getsize(os.path.join(cache.dir, n)) for n in os.listdir(cache.dir))


def test_a_tiny_limit_evicts_the_least_recently_used(tmp_path):
    cache = DiskCache(str(tmp_path))
    cache.max_bytes = 1 << 30
    for i, key in enumerate(["a", "b", "c"]):
        _store(cache, f"key-{key}", when=1000.0 + i)
    one = _folder_bytes(cache) // 3  # an entry and its binary
    cache.max_bytes = int(3.5 * one)
    assert cache.lookup("key-a") is not None  # a hit: "a" is now the most recent
    assert cache.blob_path(cache.lookup("key-a")["blob"]) is not None
    before = diskcache.STATS.disk_evicted
    cache._store_now(["key-d"], b"d" * BLOB, [{"name": "key-d"}])  # 4 entries > 3.5
    assert diskcache.STATS.disk_evicted - before == 4  # b and c: entry and binary each
    assert cache.lookup("key-b") is None and cache.lookup("key-c") is None
    for key in ("key-a", "key-d"):
        entry = cache.lookup(key)
        assert entry is not None and cache.blob_path(entry["blob"]) is not None
    assert _folder_bytes(cache) <= diskcache.EVICT_TO * cache.max_bytes
    assert cache.info()["max_bytes"] == cache.max_bytes


def test_eviction_runs_only_past_the_limit(tmp_path, monkeypatch):
    """Below the limit a write costs no folder scan (the running total is kept)."""
    cache = DiskCache(str(tmp_path))
    scans = []
    files = DiskCache._files
    monkeypatch.setattr(DiskCache, "_files", lambda self: scans.append(1) or files(self))
    for i in range(20):
        _store(cache, f"k{i}", when=1000.0 + i)
    assert len(scans) == 1  # the first write counts the folder once
    cache.max_bytes = _folder_bytes(cache) // 2
    _store(cache, "k20", when=2000.0)
    assert len(scans) == 2 and _folder_bytes(cache) <= cache.max_bytes


def test_files_another_process_removed_are_skipped(tmp_path, monkeypatch):
    """Another process evicting the same files: a name listed but gone by the stat,
    and a file deleted between the stat and the unlink, are both fine."""
    cache = DiskCache(str(tmp_path))
    for i in range(6):
        _store(cache, f"k{i}", when=1000.0 + i)
    real_listdir, real_unlink = os.listdir, os.unlink

    def listdir(path):
        return real_listdir(path) + ["0000-gone.json", "0000-gone.so"]

    def unlink(path):
        real_unlink(path)  # "the other process" got there first
        real_unlink(path)  # FileNotFoundError

    monkeypatch.setattr(diskcache.os, "listdir", listdir)
    monkeypatch.setattr(diskcache.os, "unlink", unlink)
    assert cache.evict(0) == 0
    monkeypatch.undo()
    assert os.listdir(cache.dir) == []


def _evict_in_a_loop(folder: str, rounds: int) -> None:
    """Writes (each write past the limit evicts), reads every key written so far (hits
    and misses), and evicts everything, over and over."""
    cache = DiskCache(folder)
    cache.max_bytes = 8 * BLOB
    keys = []
    for r in range(rounds):
        for i in range(8):
            key = f"p{os.getpid()}-{r}-{i}"
            cache._store_now([key], key.encode() * (BLOB // len(key)), [{"name": key}])
            keys.append(key)
        for key in keys:
            entry = cache.lookup(key)
            if entry is not None:
                cache.blob_path(entry["blob"])
        cache.evict(0)
    assert cache.writable  # no error disabled the cache


def test_processes_evicting_one_folder_at_once(tmp_path):
    folder = str(tmp_path)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_evict_in_a_loop, args=(folder, 30)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]


@pytest.mark.skipif(not available()[0], reason="MLIR backend unavailable")
def test_compiles_keep_the_folder_under_the_limit(tmp_path, monkeypatch, capsys):
    folder = str(tmp_path / "cache")
    limit = 64 << 10
    compiler.clear_cache()
    with torch.no_grad():
        for i in range(12):
            ns = {"torch": torch}
            exec(f"def g(x):\n    return torch.cos(x) * {3.0 + i / 64} - 1\n", ns)
            ember.compile(ns["g"], cache_dir=folder, cache_max_bytes=limit)(torch.randn(32))
    diskcache.flush_all()
    cache = diskcache.for_dir(folder)
    assert diskcache.STATS.disk_evicted > 0
    assert cache.info()["bytes"] <= limit
    monkeypatch.setenv("EMBER_CACHE_DIR", folder)
    monkeypatch.setenv("EMBER_CACHE_MAX_BYTES", "64K")
    assert cli.main(["cache", "info"]) == 0
    assert f"limit: {limit} bytes" in capsys.readouterr().out
