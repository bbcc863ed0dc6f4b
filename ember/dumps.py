"""IR and kernel dumps: ``EMBER_DUMP_DIR=dumps`` writes one folder per captured graph.

Each folder holds ``fx.py`` (the ATen FX graph), ``NN-<pass>.ir`` (the Ember IR
before and after every pass) and ``kernels/<name>.{kernel,mlir,ll}`` (the kernel
description, the MLIR as built, and the lowered LLVM form).
"""

from __future__ import annotations

import itertools
import os
import re
from typing import Callable

from .config import Config
from .report import GraphInfo

_counter = itertools.count()


def writer(config: Config, info: GraphInfo) -> Callable[[str, str], None] | None:
    """A ``dump(relative_name, text)`` function for this graph, or None when disabled."""
    if not config.dump_dir:
        return None
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", info.name)
    folder = os.path.join(config.dump_dir, f"{next(_counter):03d}_{safe}")
    info.dump_dir = folder

    def dump(name: str, text: str) -> None:
        path = os.path.join(folder, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, path)

    if info.fx:
        dump("fx.py", info.fx)
    return dump
