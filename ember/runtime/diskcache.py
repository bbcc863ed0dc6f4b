"""The on-disk tier of the kernel cache (under the in-memory LRU of ``compiler.py``).

Content-addressed: an entry's name is the SHA-256 of Ember's version with a hash
of its source files (:func:`code_version`) and the memory cache's key (backend fingerprint with target and tool versions, opt
level, schedule text, the kernel's name-free text). In ``<cache_dir>/kernels/``:

* ``<hash>.json``, one per kernel: the full key (checked on load, so a hash
  collision or a stale file is a miss), the SHA-256 of its binary, what the
  backend needs to rebuild the kernel (symbols, ``mlir``/``ll`` texts), and a
  checksum of all of that;
* ``<sha256>.so``, one per compiled batch, named by the SHA-256 of its bytes.

A load verifies the entry's checksum, then the binary's hash *before* the
backend ``dlopen``s it; anything that does not verify is deleted and counted as
a miss, so the kernel is compiled again and the entry rewritten. Writes go to a
temporary file in the same folder, are fsynced and ``os.replace``d into place,
so concurrent processes only ever see whole files (equal keys give equal
contents, so the last writer wins harmlessly); a file is never changed in place
(a process may have the binary mapped). The writes run on a background thread
(an fsync costs milliseconds per file; the kernels are already usable from
memory); a lookup of a key still queued waits for it, and pending writes are
finished at exit. A folder that cannot be written disables the disk tier for
the process with one warning on the ``ember`` logger.

Size: the folder is kept under a limit (``EMBER_CACHE_MAX_BYTES``, default
1 GiB) by deleting the least recently used files, entries and binaries alike
(a hit touches the files it read, so their modification time is their last
use). This runs on the writer thread, only when a running total of the folder
(counted once, then kept up to date by this process's writes, and counted again
every ``RESCAN_WRITES`` writes for other processes' files) passes the limit, and
it deletes down to ``EVICT_TO`` of it, so most writes pay nothing. Processes
evicting at once are safe: a file already gone is skipped; a process whose
entry loses its binary meanwhile compiles the kernel again; a loaded binary
stays mapped in the processes using it.

Only backends that can export their code use it (``Backend.export_compiled``):
the CPU (MLIR) backend stores shared objects; Triton kernels are not stored
here (Triton keeps compiled binaries in its own cache, ``~/.triton/cache``).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import atexit
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from .. import __version__

log = logging.getLogger("ember")

FORMAT = 1
SUBDIR = "kernels"
DEFAULT_MAX_BYTES = 1 << 30
EVICT_TO = 0.8  # an eviction leaves the folder at this share of the limit
RESCAN_WRITES = 256  # the running total is counted from the folder again this often
STALE_PART_SECONDS = 3600  # a temporary file this old was left by a killed process


@dataclass
class Stats:
    """This process's cache counters (``ember cache info``, tests)."""

    memory_hits: int = 0
    memory_misses: int = 0
    disk_hits: int = 0
    disk_misses: int = 0
    disk_writes: int = 0
    disk_corrupt: int = 0  # entries or binaries that failed verification (deleted)
    disk_evicted: int = 0  # files deleted to keep the folder under its size limit


STATS = Stats()
_lock = threading.Lock()
_caches: dict[str, "DiskCache"] = {}


def stats() -> dict[str, int]:
    return asdict(STATS)


def reset_stats() -> None:
    for k in asdict(STATS):
        setattr(STATS, k, 0)


def for_dir(root: str | None, max_bytes: int | None = None) -> "DiskCache | None":
    """The disk cache at ``root`` (one object per folder per process), or None when off;
    ``max_bytes`` (when given) sets its size limit."""
    if root is None:
        return None
    with _lock:
        if root not in _caches:
            _caches[root] = DiskCache(root)
        if max_bytes is not None:
            _caches[root].max_bytes = max_bytes
        return _caches[root]


def flush_all(timeout: float | None = None) -> None:
    """Waits for every cache's queued writes (at exit, and in tests)."""
    for cache in list(_caches.values()):
        cache.flush(timeout)


def _after_fork_in_child() -> None:
    # the writer thread does not exist in a forked child, and its lock may have
    # been held: start over (the parent writes what it had queued)
    global _lock
    _lock = threading.Lock()
    for cache in _caches.values():
        cache._init_writer()


atexit.register(flush_all, 60.0)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """Ember's version and a hash of its own source files: a change to the code
    generator (even without a new version number, as in a checkout) never loads
    kernels the old code built (Inductor keys its cache the same way)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    h = hashlib.sha256(__version__.encode())
    for folder, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                h.update(os.path.relpath(path, root).encode())
                with open(path, "rb") as f:
                    h.update(f.read())
    return f"{__version__}+{h.hexdigest()[:16]}"


def entry_name(key: str) -> str:
    return hashlib.sha256(f"ember-{code_version()}\n{key}".encode()).hexdigest()


def _checksum(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _touch(path: str) -> None:
    """Marks a file as just used (its modification time), for the size limit's LRU."""
    try:
        os.utime(path)
    except OSError:
        pass  # a read-only folder: its files just age


class DiskCache:
    """Entries under ``<root>/kernels``; see the module docstring for the format."""

    def __init__(self, root: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = root
        self.dir = os.path.join(root, SUBDIR)
        self.writable = True
        self.max_bytes = max_bytes
        self._total: int | None = None  # the folder's bytes, approximately (writer thread)
        self._writes = 0  # writes since the folder was last counted
        self._warned = False
        self._init_writer()

    def _init_writer(self) -> None:
        self._jobs: list[tuple[list[str], Any, list[dict]]] = []
        self._cv = threading.Condition()
        self._thread: threading.Thread | None = None

    # -- reading -------------------------------------------------------------------------
    def lookup(self, key: str) -> dict | None:
        """The verified entry of ``key`` (``{"blob": sha256, "meta": ...}``), or None."""
        if self._jobs and any(key in job[0] for job in list(self._jobs)):
            self.flush()  # still being written (after the memory tier dropped it)
        path = os.path.join(self.dir, entry_name(key) + ".json")
        try:
            with open(path, "rb") as f:
                raw = f.read()
        except OSError:
            return None
        try:
            entry = json.loads(raw)
            body = {k: entry[k] for k in ("format", "ember", "key", "blob", "meta")}
            ok = entry["checksum"] == _checksum(body)
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            self._discard(path, "entry fails its checksum")
            return None
        if body["format"] != FORMAT or body["ember"] != code_version() or body["key"] != key:
            return None  # another key under this hash, or an older format: rewritten later
        _touch(path)
        return body

    def blob_path(self, digest: str) -> str | None:
        """The path of binary ``digest`` once its bytes hash to that name, else None."""
        path = os.path.join(self.dir, digest + ".so")
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != digest:
            self._discard(path, "binary fails its checksum")
            return None
        _touch(path)
        return path

    def _discard(self, path: str, why: str) -> None:
        STATS.disk_corrupt += 1
        log.warning("ember: disk cache: %s: %s; removed, the kernel is compiled again",
                    path, why)
        try:
            os.unlink(path)
        except OSError:
            pass

    # -- writing -------------------------------------------------------------------------
    def store(self, keys: list[str], blob, metas: list[dict]) -> None:
        """Queues one binary and an entry per key pointing into it for the writer thread.

        ``blob``: the binary's bytes, or a callable returning them (or None: nothing
        is stored), run on the writer thread (the CPU backend links there)."""
        if not self.writable:
            return
        with self._cv:
            self._jobs.append((list(keys), blob, metas))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._writer, daemon=True,
                                                 name="ember-diskcache-writer")
                self._thread.start()
            self._cv.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Waits until the queued writes are on disk; False on timeout."""
        with self._cv:
            return self._cv.wait_for(lambda: not self._jobs, timeout)

    def _writer(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: bool(self._jobs))
                keys, blob, metas = self._jobs[0]
            try:
                self._store_now(keys, blob, metas)
            finally:
                # the blob (a closure over the batch's kernels and JIT engine) must not
                # outlive its job in this idle thread's locals
                del keys, blob, metas
                with self._cv:
                    self._jobs.pop(0)
                    self._cv.notify_all()

    def _store_now(self, keys: list[str], blob, metas: list[dict]) -> None:
        """Writes one binary and an entry per key pointing into it. Never raises."""
        if not self.writable:
            return
        if callable(blob):
            try:
                blob = blob()
            except Exception as e:  # noqa: BLE001  (not stored; the kernels still work)
                log.warning("ember: disk cache: could not make the binary (%s: %s)",
                            type(e).__name__, e)
                return
            if blob is None:
                return
        digest = hashlib.sha256(blob).hexdigest()
        written = 0
        try:
            os.makedirs(self.dir, exist_ok=True)
            blob_file = os.path.join(self.dir, digest + ".so")
            if not os.path.exists(blob_file):
                self._write(blob_file, blob)
                written += len(blob)
            for key, meta in zip(keys, metas):
                body = {"format": FORMAT, "ember": code_version(), "key": key, "blob": digest,
                        "meta": meta}
                data = json.dumps({**body, "checksum": _checksum(body)}).encode()
                self._write(os.path.join(self.dir, entry_name(key) + ".json"), data)
                written += len(data)
                STATS.disk_writes += 1
            self._account(written)
        except Exception as e:  # noqa: BLE001  (OSError; or meta that is not JSON)
            self.writable = False
            if not self._warned:
                self._warned = True
                log.warning("ember: the kernel cache folder %s is not writable (%s); compiled "
                            "kernels are cached in memory only (EMBER_CACHE_DIR sets the "
                            "folder, EMBER_CACHE_DIR=off disables the disk cache)",
                            self.root, getattr(e, "strerror", None) or e)

    def _write(self, path: str, data: bytes) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    # -- the size limit ------------------------------------------------------------------
    def _account(self, written: int) -> None:
        """Adds a write to the running total; past the limit, evicts (writer thread)."""
        self._writes += 1
        if self._total is None or self._writes >= RESCAN_WRITES:
            self._total = sum(size for _, size, _ in self._files())
            self._writes = 0
        else:
            self._total += written
        if self._total > self.max_bytes:
            self._total = self.evict(int(self.max_bytes * EVICT_TO))

    def _files(self) -> list[tuple[float, int, str]]:
        """(last use, size, path) of every entry, binary and stale temporary file;
        files that vanish meanwhile (another process evicting) are left out."""
        try:
            names = os.listdir(self.dir)
        except OSError:
            return []
        now = time.time()
        out = []
        for name in names:
            if not name.endswith((".json", ".so", ".part")):
                continue
            path = os.path.join(self.dir, name)
            try:
                st = os.stat(path)
            except OSError:
                continue
            if name.endswith(".part") and now - st.st_mtime < STALE_PART_SECONDS:
                continue  # another process's write in progress
            out.append((st.st_mtime, st.st_size, path))
        return out

    def evict(self, target: int) -> int:
        """Deletes the least recently used files until the folder holds at most
        ``target`` bytes; returns the bytes left. Safe against other processes
        deleting the same files."""
        files = sorted(self._files())
        total = sum(size for _, size, _ in files)
        for _, size, path in files:
            if total <= target:
                break
            try:
                os.unlink(path)
                STATS.disk_evicted += 1
            except FileNotFoundError:
                pass  # another process evicted it first
            except OSError:
                continue  # still there
            total -= size
        return total

    # -- maintenance (``ember cache``) ---------------------------------------------------
    def info(self) -> dict[str, Any]:
        """``dir``, ``entries`` (kernels), ``binaries``, ``bytes`` (all files) and
        ``max_bytes`` (the size limit)."""
        self.flush()
        entries = binaries = size = 0
        try:
            names = os.listdir(self.dir)
        except OSError:
            names = []
        for name in names:
            try:
                size += os.path.getsize(os.path.join(self.dir, name))
            except OSError:
                continue
            entries += name.endswith(".json") and not name.startswith(".")
            binaries += name.endswith(".so") and not name.startswith(".")
        return {"dir": self.dir, "entries": entries, "binaries": binaries, "bytes": size,
                "max_bytes": self.max_bytes}

    def clear(self) -> int:
        """Deletes every entry and binary, and temporary files older than an hour (left
        by killed processes; younger ones may be another process's write in
        progress); returns how many. Processes that loaded a binary keep running it."""
        self.flush()
        removed = 0
        try:
            names = os.listdir(self.dir)
        except OSError:
            return 0
        now = time.time()
        for name in names:
            path = os.path.join(self.dir, name)
            try:
                if name.endswith(".part") and now - os.path.getmtime(path) < 3600:
                    continue
                if name.endswith((".json", ".so", ".part")):
                    os.unlink(path)
                    removed += 1
            except OSError:
                pass
        return removed
