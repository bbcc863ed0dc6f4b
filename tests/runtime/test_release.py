"""What a deleted ``ember.compile`` wrapper held is released (issue 11, memory).

Dynamo keeps every backend object ``torch.compile`` was given
(``eval_frame.cached_backends``) and each compiled graph in cache entries on the
function's code object, until ``torch._dynamo.reset()``; Ember gives it a weak
handle and weak stubs, so Ember's part (backend, report, compiled graphs and
their steps) goes with the wrapper: ``del`` and a garbage collection (a compiled
graph and its report record refer to each other). Kernels live on in the shared
in-memory kernel cache (bounded) until evicted or ``compiler.clear_cache()``.
These tests never call ``torch._dynamo.reset()`` before checking.
"""

from __future__ import annotations

import gc
import itertools
import weakref

import pytest
import torch

import ember
from ember import compiler
from ember.frontend import backend as ember_backend
from ember.runtime import diskcache

_ids = itertools.count()


def _fresh_function(body: str = "torch.exp(x) * {c} + 1"):
    """A function of its own (its own code object), with a constant no other test uses,
    so that its kernel is compiled here (not found in a cache)."""
    i = next(_ids)
    ns = {"torch": torch}
    exec(f"def f_release_{i}(x):\n    return {body.format(c=1.0 + i / 1024 + 0.123)}\n", ns)
    return ns[f"f_release_{i}"]


class _Block(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(8, 8)

    def forward(self, x):
        return torch.relu(self.lin(x)) * 2


def _held(report) -> list[object]:
    """Everything Ember compiled for ``report``: each graph's compiled callable and
    each specialization's."""
    out = []
    for g in report.graphs:
        out += [g.compiled] if g.compiled is not None else []
        out += [s.compiled for s in g.specializations if s.compiled is not None]
    return out


@pytest.mark.parametrize("kind", ["function", "module", "dynamic"])
def test_a_deleted_wrapper_releases_what_ember_compiled(kind):
    fn = _Block() if kind == "module" else _fresh_function()
    compiled = ember.compile(fn, dynamic=(kind == "dynamic"))
    with torch.no_grad():
        compiled(torch.randn(4, 8))
        compiled(torch.randn(5, 8))  # a recompile, or a second specialization
    state = compiled._ember_state
    held = _held(state.report)
    assert len(held) >= 2, state.report  # two graphs, or a symbolic one and two sizes
    refs = [weakref.ref(x) for x in (state.backend, state.report, *held)]
    del state, held, compiled, fn
    gc.collect()
    alive = [r() for r in refs if r() is not None]
    assert not alive, f"still alive after del (no Dynamo reset): {alive}"


def test_dynamo_keeps_only_a_weak_handle_until_reset(monkeypatch):
    handles = []
    make = ember_backend.EmberBackend.handle

    def spy(self):
        h = make(self)
        handles.append(weakref.ref(h))
        return h

    monkeypatch.setattr(ember_backend.EmberBackend, "handle", spy)
    compiled = ember.compile(_fresh_function())
    with torch.no_grad():
        compiled(torch.randn(16))
    backend = weakref.ref(compiled._ember_state.backend)
    (handle,) = handles
    assert handle()._ref() is backend()
    del compiled
    gc.collect()
    assert backend() is None
    torch._dynamo.reset()
    gc.collect()
    assert handle() is None, "torch._dynamo.reset() releases the handle Dynamo kept"


def test_a_deleted_explain_report_releases_its_graphs():
    fn = _fresh_function()
    report = ember.explain(fn, torch.randn(16))
    held = _held(report)
    assert held
    refs = [weakref.ref(x) for x in held]
    del report, held
    gc.collect()
    assert all(r() is None for r in refs)


def test_kernels_go_when_the_kernel_cache_drops_them():
    """Nothing but the in-memory kernel cache keeps a compiled kernel: not the deleted
    wrapper, and not the disk cache's writer thread (which kept the last batch it
    wrote alive in its locals)."""
    before = set(compiler._cache)
    compiled = ember.compile(_fresh_function("torch.sin(x) * {c} - x"))
    with torch.no_grad():
        compiled(torch.randn(32))
    assert [k.origin for k in compiled.ember_report.kernels] == ["compiled"]
    new = [weakref.ref(compiler._cache[k]) for k in set(compiler._cache) - before]
    assert new
    del compiled
    diskcache.flush_all()  # the writer has written the batch (and gone idle)
    gc.collect()
    assert all(r() is not None for r in new), "the kernel cache keeps them"
    compiler.clear_cache()
    gc.collect()
    assert all(r() is None for r in new)
