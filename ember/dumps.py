"""IR and kernel dumps: ``EMBER_DUMP_DIR=dumps`` writes one folder per captured graph.

Each run (process) writes into a folder of its own, ``<dump_dir>/run-<time>-<pid>``,
so two processes sharing a dump directory, or a later run, never mix their files
or leave an earlier run's kernels beside this run's IR; ``<dump_dir>/LATEST`` names
the newest run's folder. Each graph's folder holds ``fx.py`` (the ATen FX graph),
``NN-<pass>.ir`` (the Ember IR before and after every pass) and
``kernels/<name>.{kernel,mlir,ll}`` (the kernel description, the MLIR as built,
and the lowered LLVM form); a graph that failed to import or compile also gets
``error.txt``. A dump directory that cannot be written turns dumps off (one
warning), never the compiler.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import threading
import time
from typing import Callable

from .config import Config
from .report import GraphInfo

log = logging.getLogger("ember")

_counter = itertools.count()
_runs: dict[str, str] = {}  # dump_dir -> this process's run folder
_lock = threading.Lock()
_warned: set[str] = set()


def run_dir(dump_dir: str) -> str:
    """This process's run folder under ``dump_dir`` (created on first use).

    Raises:
        OSError: when it cannot be created.
    """
    with _lock:
        folder = _runs.get(dump_dir)
        if folder is None:
            stamp = f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
            for i in itertools.count():
                folder = os.path.join(dump_dir, stamp if i == 0 else f"{stamp}-{i}")
                try:
                    os.makedirs(folder)
                    break
                except FileExistsError:
                    continue
            _write(os.path.join(dump_dir, "LATEST"), os.path.basename(folder) + "\n")
            _runs[dump_dir] = folder
        return folder


def _write(path: str, text: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def _warn_once(dump_dir: str, e: OSError) -> None:
    if dump_dir not in _warned:
        _warned.add(dump_dir)
        log.warning("ember: cannot write dumps to %r (%s: %s); compiling without dumps",
                    dump_dir, type(e).__name__, e)


def writer(config: Config, info: GraphInfo) -> Callable[[str, str], None] | None:
    """A ``dump(relative_name, text)`` function for this graph, or None when dumps are
    disabled or the dump directory cannot be written (then one warning is logged)."""
    if not config.dump_dir:
        return None
    if info.dump_dir:  # already opened for this graph (e.g. by the frontend)
        folder = info.dump_dir
    else:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", info.name)
        try:
            folder = os.path.join(run_dir(config.dump_dir), f"{next(_counter):03d}_{safe}")
            os.makedirs(folder, exist_ok=True)
        except OSError as e:
            _warn_once(config.dump_dir, e)
            return None
        info.dump_dir = folder
    failed = []

    def dump(name: str, text: str) -> None:
        if failed:
            return
        try:
            _write(os.path.join(folder, name), text)
        except OSError as e:  # a full disk must not stop the compiler
            failed.append(e)
            _warn_once(config.dump_dir, e)

    if info.fx:
        dump("fx.py", info.fx)
    return dump


def dump_failure(config: Config, info: GraphInfo, error: BaseException) -> None:
    """Dumps ``fx.py`` and ``error.txt`` for a graph Ember could not import or compile."""
    dump = writer(config, info)
    if dump is not None:
        dump("error.txt", f"{type(error).__name__}: {error}\n")
