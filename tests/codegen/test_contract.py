"""The codegen contract: op facts live on the op table, backends cover what they claim."""

from __future__ import annotations

import pytest

from ember.codegen import backend as backends
from ember.codegen.interpret import run_kernel  # noqa: F401  (imports its tables)
from ember.codegen.kernel import SCALAR_OPS
from ember.codegen.schedule import Schedule
from ember.frontend.importer import _RULES, resolve_target
from ember.ir.ops import INSTR_OPS, OPS, TRANSCENDENTAL, Kind

LEAVES = {"load", "const", "index", "reduced", "cast"}


def test_every_pointwise_op_is_a_scalar_instruction():
    for op in OPS.values():
        if op.kind is Kind.POINTWISE:
            assert op.instr is not None, op.name
            assert op.instr == "cast" or SCALAR_OPS[op.instr] == op.arity, op.name
        else:
            assert op.instr is None, op.name
    assert set(SCALAR_OPS) == set(INSTR_OPS)


def test_kind_is_an_enum_that_prints_as_its_name():
    assert OPS["exp"].kind is Kind.POINTWISE and str(Kind.REDUCTION) == "reduction"


def test_transcendental_ops_are_marked_on_the_table():
    assert {"exp", "erf", "tanh", "pow", "sigmoid"} <= TRANSCENDENTAL
    assert not {"add", "mul", "relu", "maximum", "sqrt"} & TRANSCENDENTAL


def test_every_aten_overload_on_the_table_is_imported():
    for op in OPS.values():
        for target in op.aten:
            assert resolve_target(target) in _RULES, target


@pytest.mark.parametrize("name", backends.names())
def test_backend_covers_every_instruction_it_claims(name):
    try:
        b = backends.get_backend(name)
    except backends.BackendUnavailable as e:
        pytest.skip(str(e))
    # The lowering table is checked whether or not the backend can run here.
    missing = (set(SCALAR_OPS) | LEAVES) - b.native_ops()
    assert not missing, f"{name} lacks lowerings for {sorted(missing)}"
    assert b.fingerprint() and b.dtypes()


def test_schedule_text_is_stable_and_omits_defaults():
    assert Schedule().text() == "schedule default"
    assert Schedule(vector_width=16, accumulate=("f64",)).text() == \
        "schedule vector_width=16 accumulate=('f64',)"


def test_select_explains_unknown_backends_and_devices():
    with pytest.raises(backends.BackendUnavailable, match="unknown Ember backend 'nope'"):
        backends.select("nope", {"cpu"})
    with pytest.raises(backends.BackendUnavailable, match="no Ember backend for device 'xla'"):
        backends.select("auto", {"xla"})
    with pytest.raises(backends.BackendUnavailable, match="several devices"):
        backends.select("auto", {"cpu", "cuda"})


def test_collapsed_kernels_compute_the_same_on_the_cpu_backend():
    """collapse_axes (the shared rewrite the compiler applies before scheduling)
    keeps results: the interpreter on the original kernel equals the CPU backend
    on the collapsed one, for a pointwise kernel with a broadcast and a reduction."""
    import torch

    from ember.codegen.collapse import collapse_axes
    from ember.codegen.interpret import run_kernel
    from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Reduction, Store
    from ember.codegen.mlir import available

    if not available()[0]:
        pytest.skip("MLIR backend unavailable")
    b = backends.get_backend("cpu")

    def load(buf, offset, *strides):
        return Instr("load", (), "f32", {"buffer": buf, "access": Access(offset, strides)})

    pw = Kernel("pw", (2, 8, 32), 0, (Buffer("x", "f32", 512), Buffer("r", "f32", 16)),
                (Buffer("o", "f32", 512),),
                (load(0, 0, 256, 32, 1), load(1, 0, 8, 1, 0), Instr("sub", (0, 1), "f32"),
                 Instr("exp", (2,), "f32")), (Store(0, 3, Access(0, (256, 32, 1))),))
    red = Kernel("red", (2, 3, 4, 5), 2, (Buffer("x", "f32", 120),), (Buffer("o", "f32", 6),),
                 (load(0, 0, 60, 20, 5, 1),), (Store(0, 0, Access(0, (3, 1))),),
                 (Reduction("sum", 0, "f32"),), (Instr("reduced", (), "f32", {"index": 0}),))
    for k, ins in ((pw, [torch.randn(512), torch.randn(16)]), (red, [torch.randn(120)])):
        c = collapse_axes(k)
        assert len(c.domain) < len(k.domain), c.text()
        want = [torch.zeros(o.size) for o in k.outputs]
        run_kernel(k, ins, want)
        got = [torch.zeros(o.size) for o in k.outputs]
        (ck,) = b.compile([(c, b.schedule(c))])
        ck.launch(ins + got)
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w)
