"""Public API: ``ember.compile`` and ``ember.explain``.

Each ``ember.compile`` call (and each ``ember.explain``) is its own Dynamo
*region* (``torch.compile(isolate_recompiles=True)``): Dynamo keeps compiled code
per code object, and by default every new backend object spends one of the code
object's ``recompile_limit`` slots, so twelve compiled instances of one module
class, or a few ``explain`` calls, would leave later wrappers running eagerly.
In its own region a wrapper counts only its own recompiles (new shapes, dtypes,
...); kernels are still shared between wrappers through Ember's kernel cache.
"""

from __future__ import annotations

import functools
import inspect
import logging
from typing import Any

import torch

from .config import Config, ConfigError
from .frontend.backend import EmberBackend
from .report import Report

log = logging.getLogger("ember")


class _State:
    def __init__(self, orig: Any, config: Config) -> None:
        self.orig = orig
        self.config = config
        self.report = Report(owner=_frame_name(orig))
        # Owned (what Dynamo keeps refers to it weakly) where each wrapper is a recompile
        # region of its own, so that no other wrapper's call can reach its graphs.
        self.backend = EmberBackend(config, self.report, owned=_ISOLATE)


def _frame_name(fn: Any) -> str | None:
    """How Dynamo names ``fn``'s frame in its messages: ``'f' (path.py:12)``."""
    code = getattr(getattr(fn, "forward", fn), "__code__", None)
    if code is None:
        return None
    return f"'{code.co_name}' ({code.co_filename}:{code.co_firstlineno})"


_ISOLATE = "isolate_recompiles" in inspect.signature(torch.compile).parameters


def _torch_compile(fn: Any, backend: EmberBackend, fullgraph: bool = False,
                   dynamic: bool | None = None) -> Any:
    """``torch.compile`` in a recompile region of its own (when torch has them)."""
    kw = {"isolate_recompiles": True} if _ISOLATE else {}
    compiled = torch.compile(fn, backend=backend.handle(), dynamic=dynamic, fullgraph=fullgraph,
                             **kw)
    region_of = getattr(compiled, "forward", compiled)  # a module's, or the function's
    backend.region = getattr(region_of, "_isolate_recompiles_id", None)
    return compiled


def compile(fn: Any = None, *, backend: str | None = None, fullgraph: bool = False,
            dynamic: bool | None = None, **options: Any) -> Any:
    """Compiles a function or ``nn.Module`` with Ember.

    Usable as ``@ember.compile``, ``@ember.compile(backend="cpu")`` or
    ``ember.compile(fn_or_module, ...)``. Python that Dynamo cannot capture keeps
    running eagerly; ATen ops Ember does not know run eagerly inside the graph.
    Every option is checked here, before anything runs.

    Shapes (``dynamic``, with ``torch.compile``'s meaning): ``None`` (the default)
    compiles the first call for its exact sizes; when a size changes, Dynamo
    captures the graph once more with that size symbolic, and Ember compiles that
    graph per concrete size on first use (no further Dynamo recompiles, so no
    recompile limit). ``True`` starts symbolic (sizes 0 and 1 stay specialized, as
    Dynamo does); ``False`` recompiles for every new shape (until Dynamo's
    recompile limit, then eager). ``torch._dynamo.mark_dynamic`` is honoured
    unless ``dynamic=False``.

    Args:
        fn: the function or module.
        backend: "auto" (pick by device), "cpu" (MLIR), "triton" (CUDA tensors, or CPU
            tensors under ``TRITON_INTERPRET=1``), or "eager" (capture and report only);
            None takes ``EMBER_BACKEND`` (default "auto").
        fullgraph: raise on graph breaks instead of running the rest eagerly.
        dynamic: None, True or False, as described above.
        **options: other :class:`ember.config.Config` fields (dump_dir, debug, ...);
            they override the ``EMBER_*`` variables.
    Returns:
        The compiled callable (for a module, an ``OptimizedModule``); its
        ``ember_report`` attribute accumulates what Ember did.
    Raises:
        ember.config.ConfigError: a bad option value or ``EMBER_*`` variable.
        TypeError: an unknown option, or ``fn`` is not callable.
    """
    if backend is not None:
        options["backend"] = backend
    config = Config.from_env().with_options(**options)  # validates, even for a decorator
    if dynamic not in (None, True, False):
        raise ConfigError(f"dynamic: expected None, True or False, got {dynamic!r}")
    if fn is None:
        return functools.partial(compile, fullgraph=fullgraph, dynamic=dynamic, **options)
    if not callable(fn):
        raise TypeError(f"ember.compile expects a function or nn.Module, got {type(fn).__name__}")
    state = _State(fn, config)
    compiled = _torch_compile(fn, state.backend, fullgraph, dynamic)
    rnn = _rnn_event(fn)
    if rnn:
        state.report.events.append(rnn)
        log.warning("ember: %s", rnn)
    if isinstance(fn, torch.nn.Module):
        compiled._ember_state = state
        compiled.ember_report = state.report
        return compiled
    first = [True]

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = compiled(*args, **kwargs)
        if first[0]:
            first[0] = False
            if _note_nothing_captured(state.report):
                log.warning("ember: %s", state.report.events[-1])
        return out

    wrapper._ember_state = state
    wrapper.ember_report = state.report
    return wrapper


def explain(fn: Any, *args: Any, **kwargs: Any) -> Report:
    """Compiles and runs ``fn(*args, **kwargs)`` once, fresh, and reports what happened.

    The compilation lives in a Dynamo region of its own, so explaining a function
    never uses up the recompile slots of its ``ember.compile`` wrappers. (Dynamo
    has no public way to drop a region's entries: they count only toward Dynamo's
    ``accumulated_recompile_limit``, 256 per code object.)

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
    _torch_compile(orig, fresh.backend)(*args, **kwargs)
    _note_nothing_captured(fresh.report, _rnn_event(orig))
    return fresh.report


_RNN_TYPES = (torch.nn.RNN, torch.nn.GRU, torch.nn.LSTM)


def _rnn_event(fn: Any) -> str | None:
    """Why a module holding RNN/GRU/LSTM runs eagerly (Dynamo skips the frames using
    them while ``torch._dynamo.config.allow_rnn`` is False), or None."""
    if not isinstance(fn, torch.nn.Module) or torch._dynamo.config.allow_rnn:
        return None
    names = [name or type(m).__name__ for name, m in fn.named_modules()
             if isinstance(m, _RNN_TYPES)]
    if not names:
        return None
    return (f"Dynamo does not capture torch.nn.RNN/GRU/LSTM (here: {', '.join(names)}): a "
            "frame that calls one runs eagerly as a whole, without Ember (set "
            "torch._dynamo.config.allow_rnn = True for Dynamo's experimental support)")


def _note_nothing_captured(report: Report, why: str | None = None) -> bool:
    """Adds an event when a call captured no graph at all (everything ran eagerly)."""
    if report.graphs:
        return False
    if why is not None and why not in report.events:
        report.events.append(why)
    report.events.append("Dynamo captured no graph: the call ran eagerly, without Ember"
                         + ("" if why else " (Dynamo skipped its frames; "
                                           "TORCH_LOGS=graph_breaks,recompiles shows why)"))
    return True
