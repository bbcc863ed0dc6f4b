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
import logging
import weakref
from typing import Any, Callable

import torch
from torch._dynamo.backends.common import aot_autograd
from torch._functorch.aot_autograd import make_boxed_func
from torch._subclasses.fake_tensor import unset_fake_temporarily

from ..config import Config
from ..report import FallbackInfo, GraphBreak, GraphInfo, Report
from .decomp import decomposition_table
from .importer import import_fx

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
    """A Dynamo backend that records what it does into ``report``."""

    def __init__(self, config: Config | None = None, report: Report | None = None) -> None:
        self.config = config or Config.from_env()
        self.report = report if report is not None else Report()
        _watch_recompile_limit(self.report)

    def __call__(self, gm: torch.fx.GraphModule, example_inputs: list[Any]) -> Callable[..., Any]:
        reason = getattr(gm, "compile_subgraph_reason", None)
        if reason is not None and reason.graph_break:
            self.report.graph_breaks.append(
                GraphBreak(str(reason.reason), [f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}"
                                                for f in reason.user_stack]))
        info = GraphInfo(f"graph{len(self.report.graphs)}")
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
            fw = functools.partial(self._compile_fw, info)
            return aot_autograd(fw_compiler=fw, decompositions=decomposition_table())(
                gm, example_inputs)
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
                return make_boxed_func(self._compile_graph(info, fx_gm, example_inputs))
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

    def _compile_graph(self, info: GraphInfo, fx_gm: torch.fx.GraphModule,
                       example_inputs: list[Any]) -> Callable[..., Any]:
        from ..compiler import compile_graph

        info.fx = fx_gm.code
        imported = import_fx(fx_gm, example_inputs, info.name)
        info.fallbacks = [FallbackInfo(f.op, f.reason, f.loc, info.name)
                          for f in imported.fallbacks]
        for f in imported.fallbacks:
            log.info("ember: %s runs eagerly (%s)%s", f.op, f.reason,
                     f" at {f.loc}" if f.loc else "")
        return compile_graph(imported.graph, example_inputs, config=self.config,
                             eager=fx_gm.forward, info=info)

    def _eager(self, info: GraphInfo, fn: Callable[..., Any], e: Exception) -> Callable[..., Any]:
        info.eager_reason = f"compile failed: {type(e).__name__}: {e}"
        log.warning("ember: compiling %s failed, running it eagerly: %s: %s", info.name,
                    type(e).__name__, e, exc_info=self.config.debug)
        return fn


def ember_backend(gm: torch.fx.GraphModule, example_inputs: list[Any], **options: Any):
    """The ``backend="ember"`` entry point; ``options`` are Config fields."""
    config = Config.from_env().with_options(**options) if options else Config.from_env()
    # A process-wide record with no owner to drop it: keep only the latest graphs.
    del _DEFAULT_REPORT.graphs[:-_DEFAULT_REPORT_KEEP]
    del _DEFAULT_REPORT.graph_breaks[:-_DEFAULT_REPORT_KEEP]
    return EmberBackend(config, _DEFAULT_REPORT)(gm, example_inputs)


_DEFAULT_REPORT = Report()
_DEFAULT_REPORT_KEEP = 64


# -- recompile limit ---------------------------------------------------------------------
_live_reports: "weakref.WeakSet[Report]" = weakref.WeakSet()
_installed = False


class _RecompileLimitFilter(logging.Filter):
    """Dynamo logs one warning when it gives up on a frame; surface it in Ember."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if "hit config." in msg and "limit" in msg:
            first = msg.splitlines()[0]
            func = next((ln.strip() for ln in msg.splitlines() if "function:" in ln), "")
            event = f"Dynamo recompile limit reached ({first.split('hit ')[-1]}); {func}; " \
                    "further calls with new shapes/dtypes run eagerly, without Ember"
            reports = list(_live_reports)
            # To the reports of the function named in the message, else to all.
            mine = [r for r in reports if r.owner and r.owner in msg] or reports
            for r in mine:
                r.events.append(event)
            log.warning("ember: %s", event)
        return True


def _watch_recompile_limit(report: Report) -> None:
    global _installed
    _live_reports.add(report)
    if not _installed:
        logging.getLogger("torch._dynamo.convert_frame").addFilter(_RecompileLimitFilter())
        _installed = True
