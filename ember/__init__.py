"""Ember: a deep-learning compiler for eager PyTorch programs.

>>> import ember
>>> fast = ember.compile(fn)          # or @ember.compile, or torch.compile(fn, backend="ember")
>>> print(ember.explain(fn, *args))   # graphs, graph breaks, fallbacks, kernels

The public names are imported on first use, so that ``ember --help`` (and other
light commands) start without loading torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
__all__ = ["compile", "explain", "Config", "Report", "__version__"]

_LAZY = {"compile": ".api", "explain": ".api", "Config": ".config", "Report": ".report"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'ember' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
