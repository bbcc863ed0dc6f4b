"""Public API: ``ember.compile`` and ``ember.explain``."""

from __future__ import annotations

import functools
from typing import Any, Callable

import torch

from .config import Config
from .frontend.backend import EmberBackend
from .report import Report


class _State:
    def __init__(self, orig: Any, config: Config) -> None:
        self.orig = orig
        self.config = config
        self.report = Report(owner=_frame_name(orig))
        self.backend = EmberBackend(config, self.report)


def _frame_name(fn: Any) -> str | None:
    """How Dynamo names ``fn``'s frame in its messages: ``'f' (path.py:12)``."""
    code = getattr(getattr(fn, "forward", fn), "__code__", None)
    if code is None:
        return None
    return f"'{code.co_name}' ({code.co_filename}:{code.co_firstlineno})"


def compile(fn: Any = None, *, backend: str = "auto", fullgraph: bool = False,
            **options: Any) -> Any:
    """Compiles a function or ``nn.Module`` with Ember.

    Usable as ``@ember.compile``, ``@ember.compile(backend="cpu")`` or
    ``ember.compile(fn_or_module, ...)``. Python that Dynamo cannot capture keeps
    running eagerly; ATen ops Ember does not know run eagerly inside the graph.
    Shapes are static: a new input shape or dtype recompiles.

    Args:
        fn: the function or module.
        backend: "auto" (pick by device), "cpu", "triton" (CUDA tensors, or CPU
            tensors under ``TRITON_INTERPRET=1``), or "eager" (capture and report only).
        fullgraph: raise on graph breaks instead of running the rest eagerly.
        **options: other :class:`ember.config.Config` fields (dump_dir, debug, ...).
    Returns:
        The compiled callable (for a module, an ``OptimizedModule``); its
        ``ember_report`` attribute accumulates what Ember did.
    """
    if fn is None:
        return functools.partial(compile, backend=backend, fullgraph=fullgraph, **options)
    if backend not in ("auto", "cpu", "triton", "eager"):
        raise ValueError(f"unknown Ember backend {backend!r}; "
                         "expected 'auto', 'cpu', 'triton' or 'eager'")
    if not callable(fn):
        raise TypeError(f"ember.compile expects a function or nn.Module, got {type(fn).__name__}")
    state = _State(fn, Config.from_env().with_options(backend=backend, **options))
    compiled = torch.compile(fn, backend=state.backend, dynamic=False, fullgraph=fullgraph)
    if isinstance(fn, torch.nn.Module):
        compiled._ember_state = state
        compiled.ember_report = state.report
        return compiled

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return compiled(*args, **kwargs)

    wrapper._ember_state = state
    wrapper.ember_report = state.report
    return wrapper


def explain(fn: Any, *args: Any, **kwargs: Any) -> Report:
    """Compiles and runs ``fn(*args, **kwargs)`` once, fresh, and reports what happened.

    Args:
        fn: a plain function or module, or one returned by :func:`compile` (its
            options are reused).
    Returns:
        A :class:`ember.report.Report`: ``graphs``, ``graph_breaks`` (with reasons),
        ``fallbacks`` (op and reason), ``kernels`` (backend, name, source); printable.
    """
    state = getattr(fn, "_ember_state", None)
    orig = state.orig if state is not None else fn
    config = state.config if state is not None else Config.from_env()
    fresh = _State(orig, config)
    torch.compile(orig, backend=fresh.backend, dynamic=False)(*args, **kwargs)
    return fresh.report
