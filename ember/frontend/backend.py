"""The Dynamo backend: FX graph from Dynamo -> ATen (functionalized, decomposed) -> Ember.

``torch.compile(fn, backend="ember")`` reaches :func:`ember_backend` through the
``torch_dynamo_backends`` entry point; ``ember.compile`` uses
:class:`EmberBackend` directly, with its own config and report.

Policy: Ember compiles inference graphs. When autograd is needed (grad mode on
and an input or parameter requires grad) the graph runs eagerly with that reason
in the report, so gradients are never silently dropped. Any failure in Ember's
compile path also runs the graph eagerly, logged and reported.
"""

from __future__ import annotations

import functools
import re
import logging
import weakref
from typing import Any, Callable

import torch
from torch._dynamo.backends.common import aot_autograd
from torch._dynamo.exc import RestartAnalysis
from torch._functorch.aot_autograd import make_boxed_func
from torch._subclasses.fake_tensor import unset_fake_temporarily

from .. import dumps
from ..config import Config, ConfigError
from ..report import FallbackInfo, GraphBreak, GraphInfo, Report
from .decomp import decomposition_table
from .importer import import_fx
from .specialize import Specializing, describe_inputs, is_symbolic

log = logging.getLogger("ember")

AUTOGRAD_REASON = ("autograd is needed (grad mode is on and an input or parameter requires "
                   "grad); Ember compiles inference graphs only, so this graph runs eagerly to "
                   "keep gradients (use torch.no_grad() or torch.inference_mode())")

_warned: set[str] = set()


def _warn_once(key: str, msg: str) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(msg)


class EmberBackend:
    """A Dynamo backend that records what it does into ``report``.

    ``owned``: an ``ember.compile`` wrapper (or ``ember.explain``) owns this backend,
    and what Ember compiles should go when the wrapper goes. Dynamo keeps every
    backend it was given (``eval_frame.cached_backends``) and every compiled graph
    (cache entries on the function's code object) until ``torch._dynamo.reset()``;
    so Dynamo is given :meth:`handle` and :class:`_Held` stubs that refer to this
    backend and its compiled graphs weakly, while the backend keeps them (``held``).
    Without an owner (``torch.compile(backend="ember")``) Dynamo holds them itself.
    """

    def __init__(self, config: Config | None = None, report: Report | None = None, *,
                 owned: bool = False) -> None:
        self.config = config or Config.from_env()
        self.report = report if report is not None else Report()
        self.owned = owned
        self.held: list[Callable[..., Any]] = []  # what Dynamo's stubs run (owned only)
        # The Dynamo recompile region of the torch.compile call using this backend
        # (set by ember.api), to route Dynamo's recompile-limit warning to this report.
        self.region: int | None = None
        self._reasons_seen = 0  # Dynamo guard-failure reasons already reported
        _watch_recompile_limit(self)

    def __call__(self, gm: torch.fx.GraphModule, example_inputs: list[Any]) -> Callable[..., Any]:
        reason = getattr(gm, "compile_subgraph_reason", None)
        if reason is not None and reason.graph_break:
            self.report.graph_breaks.append(
                GraphBreak(str(reason.reason), [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}"
                                                for f in reason.user_stack]))
        info = GraphInfo(f"graph{len(self.report.graphs)}")
        reasons = guard_failures(self.report.owner)
        if len(reasons) > self._reasons_seen:  # a recompile: the entries that failed
            info.recompile_reason = "; ".join(dict.fromkeys(reasons[self._reasons_seen:]))
        self._reasons_seen = len(reasons)
        self.report.graphs.append(info)
        if self.config.backend == "eager":
            info.eager_reason = "backend='eager' (capture and report only)"
            return gm.forward
        if torch.is_grad_enabled() and any(isinstance(t, torch.Tensor) and t.requires_grad
                                           for t in example_inputs):
            info.eager_reason = AUTOGRAD_REASON
            _warn_once("autograd", f"ember: {AUTOGRAD_REASON}")
            return gm.forward
        try:
            # aot_autograd's runtime wrappers keep their fw_compiler (in their config)
            fw = (_WeakCall(self, "_compile_fw", info) if self.owned
                  else functools.partial(self._compile_fw, info))
            return aot_autograd(fw_compiler=fw, decompositions=decomposition_table())(
                gm, example_inputs)
        except RestartAnalysis:
            # Dynamo's control flow (say, tensorifying a float it saw in a symbolic
            # graph): it captures the graph again and calls this backend once more.
            self.report.graphs.remove(info)
            raise
        except Exception as e:  # noqa: BLE001  (any failure must fall back, not crash)
            if self.config.strict:
                raise
            return self._eager(info, gm.forward, e)

    def _compile_fw(self, info: GraphInfo, fx_gm: torch.fx.GraphModule,
                    example_inputs: list[Any]) -> Callable[..., Any]:
        from ..compiler import BackendUnavailable

        try:
            # aot_autograd calls us under its fake mode; Ember needs only the example
            # inputs' metadata, and real tensors (constants) must stay real.
            with unset_fake_temporarily():
                if is_symbolic(example_inputs):
                    compiled = self._symbolic(info, fx_gm, example_inputs)
                else:
                    compiled = self._compile_graph(info, fx_gm, example_inputs)
            tokens = _effect_tokens(fx_gm)
            if tokens:
                compiled = _passing_tokens(compiled, tokens)
            return make_boxed_func(self._hold(compiled))
        except BackendUnavailable as e:
            if self.config.strict:
                raise
            info.eager_reason = str(e)
            _warn_once("backend:" + str(e), f"ember: {e}; running eagerly")
            return make_boxed_func(fx_gm.forward)
        except Exception as e:  # noqa: BLE001
            if self.config.strict:
                raise
            return make_boxed_func(self._eager(info, fx_gm.forward, e))

    def _symbolic(self, info: GraphInfo, fx_gm: torch.fx.GraphModule,
                  example_inputs: list[Any]) -> Callable[..., Any]:
        """A graph with symbolic sizes: compiled per concrete signature on first use."""
        from ..codegen.backend import select

        devices = {t.device.type for t in example_inputs if isinstance(t, torch.Tensor)}
        select(self.config.backend, devices)  # BackendUnavailable before any work
        info.fx = fx_gm.code
        info.inputs = describe_inputs(fx_gm, example_inputs)
        compile_static = functools.partial(self._compile_graph, parametric=True)
        info.compiled = Specializing(fx_gm, example_inputs, compile_static, info,
                                     strict=self.config.strict)
        return info.compiled

    def _compile_graph(self, info: GraphInfo, fx_gm: torch.fx.GraphModule,
                       example_inputs: list[Any], parametric: bool = False,
                       eager: Callable[..., Any] | None = None) -> Callable[..., Any]:
        from ..compiler import BackendUnavailable, compile_graph

        info.fx = fx_gm.code
        try:
            # an IR name: "graph1[s77=3]" (a specialization) -> "graph1_s77_3"
            ir_name = re.sub(r"\W+", "_", info.name).strip("_")
            imported = import_fx(fx_gm, example_inputs, ir_name)
            info.fallbacks = [FallbackInfo(f.op, f.reason, f.loc, info.name)
                              for f in imported.fallbacks]
            for f in imported.fallbacks:
                log.info("ember: %s runs eagerly (%s)%s", f.op, f.reason,
                         f" at {f.loc}" if f.loc else "")
            compiled = compile_graph(imported.graph, example_inputs, config=self.config,
                                     eager=eager or fx_gm.forward, info=info,
                                     parametric=parametric)
        except BackendUnavailable:
            raise
        except Exception as e:
            dumps.dump_failure(self.config, info, e)  # fx.py is what a user needs then
            raise
        # Ops the partition pass moved to the eager side (fallback_ops, dtypes) are
        # fallbacks like any other: the report counts them as such.
        moved = [(op, why) for p, op, why in info.notes if p == "partition"]
        info.notes = [note for note in info.notes if note[0] != "partition"]
        info.fallbacks += [FallbackInfo(f"ember.{op}", why, None, info.name) for op, why in moved]
        if imported.asserts:
            return _checking_asserts(compiled, imported.asserts)
        return compiled

    def handle(self) -> "BackendHandle | EmberBackend":
        """What to give ``torch.compile`` as the backend (see the class docstring)."""
        return BackendHandle(self) if self.owned else self

    def _hold(self, compiled: Callable[..., Any]) -> Callable[..., Any]:
        """``compiled`` as Dynamo should keep it: itself without an owner, else a stub
        referring to it weakly (this backend keeps it)."""
        if not self.owned:
            return compiled
        self.held.append(compiled)
        return _Held(compiled)

    def _eager(self, info: GraphInfo, fn: Callable[..., Any], e: Exception) -> Callable[..., Any]:
        info.eager_reason = f"compile failed: {type(e).__name__}: {e}"
        log.warning("ember: compiling %s failed, running it eagerly: %s: %s", info.name,
                    type(e).__name__, e, exc_info=self.config.debug)
        return fn


class BackendHandle:
    """The backend ``ember.compile`` gives ``torch.compile``: the :class:`EmberBackend`
    by weak reference. Dynamo keeps this object until ``torch._dynamo.reset()``; the
    backend, its report and its compiled graphs go with the wrapper owning them."""

    __slots__ = ("_ref", "__weakref__")

    def __init__(self, backend: EmberBackend) -> None:
        self._ref = weakref.ref(backend)

    def __call__(self, gm: torch.fx.GraphModule, example_inputs: list[Any]) -> Callable[..., Any]:
        backend = self._ref()
        if backend is None:  # its wrapper is gone (no call can reach here through it)
            return gm.forward
        return backend(gm, example_inputs)


class _WeakCall:
    """``functools.partial(getattr(obj, name), *args)`` holding ``obj`` weakly."""

    __slots__ = ("_ref", "_name", "_args")

    def __init__(self, obj: Any, name: str, *args: Any) -> None:
        self._ref, self._name, self._args = weakref.ref(obj), name, args

    def __call__(self, *args: Any) -> Any:
        obj = self._ref()
        if obj is None:
            raise RuntimeError("ember: the ember.compile wrapper of this graph was deleted")
        return getattr(obj, self._name)(*self._args, *args)


class _Held:
    """What Dynamo's cache entry runs for a graph an owned backend compiled: the
    compiled graph by weak reference. The entry lives in its wrapper's recompile
    region (``isolate_recompiles``), which only that wrapper's calls enter, so it
    never runs after the wrapper (and the graph) is gone."""

    __slots__ = ("_ref",)

    def __init__(self, compiled: Callable[..., Any]) -> None:
        self._ref = weakref.ref(compiled)

    def __call__(self, *args: Any) -> list[Any]:
        compiled = self._ref()
        if compiled is None:
            raise RuntimeError("ember: a graph of a deleted ember.compile wrapper was called")
        return compiled(*args)


def _checking_asserts(compiled: Callable[..., Any], msgs: list[str]) -> Callable[..., Any]:
    """Runs ``compiled`` and raises as eager's ``aten._assert_async`` would: its last
    ``len(msgs)`` outputs are the conditions (only when the kernels ran; the eager path
    for inputs that miss the compiled signature asserts by itself)."""
    k = len(msgs)
    total = len(compiled.output_slots)

    def run(*args: Any) -> list[Any]:
        outs = compiled(*args)
        if len(outs) == total:  # the kernels ran (the eager path returns total - k)
            n = total - k
            for cond, msg in zip(outs[n:], msgs):
                if callable(msg):  # a check of its own (linalg's, on an info output)
                    msg(cond)
                elif not bool(cond):
                    # a message, or (exception type, message) (indexing: IndexError)
                    exc, text = msg if isinstance(msg, tuple) else (RuntimeError, msg)
                    raise exc(text)
            return outs[:n]
        return outs

    run.report = getattr(compiled, "report", None)
    return run


def _effect_tokens(gm: torch.fx.GraphModule) -> list[int]:
    """Positions of the graph inputs that are effect tokens (``with_effects``' first
    argument: linalg's error checks)."""
    wfx = getattr(torch.ops.higher_order, "with_effects", None)
    toks = {n.args[0] for n in gm.graph.nodes if n.op == "call_function" and n.target is wfx}
    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    return [i for i, p in enumerate(placeholders) if p in toks]


def _passing_tokens(compiled: Callable[..., Any], tokens: list[int]) -> Callable[..., Any]:
    """Runs ``compiled`` with an empty tensor for each effect token input that
    aot_autograd passes as None at run time (the graph only passes tokens through)."""

    def run(*args: Any) -> list[Any]:
        args = list(args)
        for i in tokens:
            if args[i] is None:
                args[i] = torch.empty(0)
        return compiled(*args)

    run.report = getattr(compiled, "report", None)
    return run


def guard_failures(owner: str | None) -> list[str]:
    """Dynamo's guard-failure reasons so far for the frame named ``owner`` (how
    :func:`ember.api._frame_name` names it), e.g. "tensor 'x' size mismatch at
    index 0. expected 4, actual 5": why Dynamo compiled the frame again. Each
    recompile adds one reason per compiled entry it tried."""
    if not owner:
        return []
    try:
        from torch._dynamo.utils import guard_failures as failures
    except ImportError:
        return []
    out = []
    for code, reasons in list(failures.items()):
        if f"'{code.co_name}' ({code.co_filename}:{code.co_firstlineno})" == owner:
            for r in reasons:
                r = str(r).strip()
                head, sep, rest = r.partition(": ")  # drop the compile id ("0/0: ")
                out.append(rest if sep and head.replace("/", "").isdigit() else r)
    return out


# torch.compile's modes; Ember has one way to compile, so they all compile alike.
TORCH_COMPILE_MODES = ("default", "reduce-overhead", "max-autotune",
                       "max-autotune-no-cudagraphs")


def ember_backend(gm: torch.fx.GraphModule, example_inputs: list[Any], *,
                  mode: str | None = None, options: dict[str, Any] | None = None,
                  **kwargs: Any):
    """The ``backend="ember"`` entry point.

    ``torch.compile(fn, backend="ember", mode=..., options={...})`` calls it with
    ``mode`` (one of torch.compile's modes, all compiled alike) and ``options``
    (:class:`ember.config.Config` fields, over the ``EMBER_*`` variables); Config
    fields passed as keywords directly are accepted too.
    """
    if mode is not None and mode not in TORCH_COMPILE_MODES:
        raise ConfigError(f"mode: {mode!r} is not one of "
                          f"{', '.join(map(repr, TORCH_COMPILE_MODES))}")
    if options is not None and not isinstance(options, dict):
        raise ConfigError(f"options: expected a dict of Ember options, got "
                          f"{type(options).__name__}")
    merged = {**(options or {}), **kwargs}
    config = Config.from_env().with_options(**merged) if merged else Config.from_env()
    # A process-wide record with no owner to drop it: keep only the latest graphs.
    del _DEFAULT_REPORT.graphs[:-_DEFAULT_REPORT_KEEP]
    del _DEFAULT_REPORT.graph_breaks[:-_DEFAULT_REPORT_KEEP]
    del _DEFAULT_REPORT.events[:-_DEFAULT_REPORT_KEEP]
    return EmberBackend(config, _DEFAULT_REPORT)(gm, example_inputs)


_DEFAULT_REPORT = Report()
_DEFAULT_REPORT_KEEP = 64


# -- recompile limit ---------------------------------------------------------------------
_live_backends: "weakref.WeakSet[EmberBackend]" = weakref.WeakSet()
_installed = False


def recompile_limit_event(msg: str) -> str:
    """Ember's account of Dynamo's "hit config.recompile_limit" warning (its text)."""
    lines = [ln.strip() for ln in msg.splitlines()]
    limit = lines[0].split("hit ")[-1] if lines else "its recompile limit"
    func = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("function:")),
                "this function")
    why = next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("last reason:")),
               "")
    if len(why) > 240:
        why = why[:237] + "..."
    return (f"Dynamo recompile limit reached ({limit}) for {func}: Dynamo stopped compiling "
            f"it, so calls whose inputs no compiled entry accepts run eagerly, without Ember"
            + (f" (last recompile reason: {why})" if why else ""))


class _RecompileLimitFilter(logging.Filter):
    """Dynamo logs one warning when it gives up on a frame; surface it in Ember."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if "hit config." in msg and "limit" in msg:
            event = recompile_limit_event(msg)
            for r in _reports_for(msg):
                r.events.append(event)
            log.warning("ember: %s", event)
        return True


def _reports_for(msg: str) -> list[Report]:
    """The reports of the compile region that hit the limit (each ``ember.compile`` and
    ``ember.explain`` is a region); outside regions (``torch.compile(backend="ember")``,
    or a torch without regions), those of the function the message names, else the
    entry point's report."""
    try:
        from torch._C._dynamo.eval_frame import get_eval_frame_isolate_recompiles_id

        region = get_eval_frame_isolate_recompiles_id()
    except ImportError:
        region = -1
    backends = list(_live_backends)
    if region >= 0:
        mine = [b.report for b in backends if b.region == region]
    else:
        mine = [b.report for b in backends
                if b.region is None and b.report.owner and b.report.owner in msg]
    return list({id(r): r for r in mine or [_DEFAULT_REPORT]}.values())


def _watch_recompile_limit(backend: EmberBackend) -> None:
    global _installed
    _live_backends.add(backend)
    if not _installed:
        logging.getLogger("torch._dynamo.convert_frame").addFilter(_RecompileLimitFilter())
        _installed = True
