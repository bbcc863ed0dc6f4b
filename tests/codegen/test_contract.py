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
