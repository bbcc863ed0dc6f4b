"""Buffer planning: reuse only dead buffers, never aliased or returned ones."""

from __future__ import annotations

import torch

import ember
from ember.runtime.plan import StepSpec, plan_buffers

SIG = ("f32", 16)


def test_dead_kernel_buffer_is_reused_by_a_later_kernel():
    steps = [StepSpec("kernel", [0], [1], SIG),   # k0: x -> a
             StepSpec("library", [1], [2]),        # mm(a) -> b   (a dies here)
             StepSpec("kernel", [2], [3], SIG)]   # k1: b -> c  reuses a
    plan = plan_buffers(steps, [0], [3])
    assert plan.reuse == [None, None, 1]
    assert 1 not in plan.frees[1]  # kept for the reuse, not freed
    assert plan.frees[1] == [] and plan.frees[2] == [2]


def test_buffer_seen_through_a_view_or_fallback_stays_alive():
    for kind in ("view", "fallback"):
        steps = [StepSpec("kernel", [0], [1], SIG),
                 StepSpec(kind, [1], [2]),           # an alias of a
                 StepSpec("library", [2], [3]),
                 StepSpec("kernel", [3], [4], SIG),  # a's alias is dead here...
                 StepSpec("kernel", [2], [5], SIG)]  # ...no: still read here
        plan = plan_buffers(steps, [0], [4, 5])
        assert plan.reuse[3] is None, kind
        assert plan.reuse[4] is None, kind


def test_graph_outputs_and_own_inputs_are_never_reused():
    steps = [StepSpec("kernel", [0], [1], SIG),
             StepSpec("kernel", [1], [2], SIG),   # reads a: may not write into a
             StepSpec("kernel", [2], [3], SIG)]   # a is a graph output: never reused
    plan = plan_buffers(steps, [0], [1, 3])
    assert plan.reuse == [None, None, None]


def test_other_signatures_do_not_match():
    steps = [StepSpec("kernel", [0], [1], ("f32", 8)),
             StepSpec("library", [1], [2]),
             StepSpec("kernel", [2], [3], ("f16", 8))]
    assert plan_buffers(steps, [0], [3]).reuse == [None, None, None]


def test_compiled_graph_reuses_buffers_and_stays_correct():
    def f(x, w):
        a = torch.exp(x)
        c = torch.tanh(a @ w)
        e = torch.sigmoid(c @ w)
        return e @ w

    x, w = torch.randn(8, 8), torch.randn(8, 8) * 0.1
    with torch.no_grad():
        compiled = ember.compile(f)
        for _ in range(3):
            torch.testing.assert_close(compiled(x, w), f(x, w))
    steps = compiled.ember_report.graphs[0].steps
    assert sum("reuses" in name for _, name in steps) >= 1, steps
