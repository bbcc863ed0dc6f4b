"""The pass manager: named pipelines, timings, dumps, and debug-mode checks."""

from __future__ import annotations

import pytest

from ember.ir import Graph, VerifyError, parse
from ember.passes import PIPELINES, PassContext, PassManager, register_pass

SRC = """
graph @g(%x: f32[4]) {
  %0: f32[4] = exp(%x)
  %1: f32[4] = exp(%x)
  %2: f32[4] = add(%0, %1)
  return %2
}
"""


def test_default_pipeline_runs_in_order_with_timings_and_dumps():
    dumps: dict[str, str] = {}
    pm = PassManager("default", debug=True, dump=dumps.__setitem__)
    g = pm.run(parse(SRC))
    assert [t.name for t in pm.timings] == PIPELINES["default"]
    assert all(t.seconds >= 0 for t in pm.timings)
    assert list(dumps) == ["00-input.ir"] + [f"{i:02d}-{p}.ir"
                                              for i, p in enumerate(PIPELINES["default"], 1)]
    assert sum(n.op == "kernel" for n in g.nodes) == 1
    assert dumps["02-cse.ir"].count("exp(") == 1


def test_unknown_pass_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown passes"):
        PassManager(["simplify", "no-such-pass"])


def test_debug_mode_catches_a_pass_that_breaks_the_graph():
    @register_pass("test-break-types")
    def break_types(g: Graph, ctx: PassContext) -> Graph:
        g.nodes[0].outputs[0].type = type(g.nodes[0].outputs[0].type)((5,), "f32")
        return g

    with pytest.raises(VerifyError, match="after test-break-types"):
        PassManager(["test-break-types"], debug=True).run(parse(SRC))
    PassManager(["test-break-types"], debug=False).run(parse(SRC))  # unchecked


def test_debug_mode_catches_ir_text_that_does_not_round_trip(monkeypatch):
    from ember.ir import printer

    real = printer.format_attr
    # A printer that writes floats off by one: what it prints parses to another graph.
    monkeypatch.setattr(printer, "format_attr",
                        lambda v: real(v + 1.0) if isinstance(v, float) else real(v))
    src = SRC.replace("%2: f32[4] = add(%0, %1)",
                      "%c: f32[] = full() {shape=[], value=1.0, dtype=f32}\n"
                      "  %2: f32[4] = add(%0, %c)")
    with pytest.raises(VerifyError, match="does not round-trip"):
        PassManager(["dce"], debug=True).run(parse(src))
