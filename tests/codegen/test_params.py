"""Size-parametric kernel templates (codegen/params.py) on the MLIR backend.

A template is compiled once and bound to the sizes of each concrete kernel; every
bound kernel must compute what the concrete kernel computes (checked against the
reference interpreter), for sizes around the vector width, with vector tails,
gathers with run-time strides, offsets, row and column reductions, prologue
stores, threads and split reductions.
"""

from __future__ import annotations

import dataclasses

import pytest
import torch

from ember.codegen.interpret import TORCH_DTYPES, run_kernel
from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Store
from ember.codegen.mlir import available, compile_kernels
from ember.codegen.params import DYNAMIC, Param, check_bounds, parametrize

from . import test_mlir_backend as base
from .test_mlir_vector import BITS, SIZES, _close, col_reduce, pointwise_chain, row_reduce, sched
from .test_mlir_vector import whole_reduce

_OK, _REASON = available()
if not _OK:
    pytest.skip(f"MLIR backend unavailable: {_REASON}", allow_module_level=True)


def _inputs(k: Kernel, g: torch.Generator) -> list[torch.Tensor]:
    out = []
    for b in k.inputs:
        dt = TORCH_DTYPES[b.dtype]
        if dt.is_floating_point:
            out.append(torch.randn(b.size, generator=g).to(dt))
        elif dt == torch.bool:
            out.append(torch.rand(b.size, generator=g) > 0.5)
        else:
            out.append(torch.randint(-50, 50, (b.size,), generator=g).to(dt))
    return out


def _check_bound(kernels: list[Kernel], bits: int, threads: int = 1) -> int:
    """Compiles the distinct templates of ``kernels``, binds each kernel and checks
    it against the interpreter; returns the number of templates compiled."""
    g = torch.Generator().manual_seed(0)
    items = [(k, sched(k, bits, threads)) for k in kernels]
    pairs = [parametrize(k) for k, _ in items]
    keys = [f"{s.text()}\n{t.text(named=False)}" for (t, _), (_, s) in zip(pairs, items)]
    distinct = {}
    for key, (t, _), (_, s) in zip(keys, pairs, items):
        distinct.setdefault(key, (t, s))
    cks = compile_kernels([t for t, _ in distinct.values()],
                          schedules=[s for _, s in distinct.values()])
    by_key = dict(zip(distinct, cks))
    for key, (t, values), (k, s) in zip(keys, pairs, items):
        ck = by_key[key]
        ck = ck.bind(k, s, values) if values else ck
        ins = _inputs(k, g)
        outs = [torch.zeros(b.size, dtype=TORCH_DTYPES[b.dtype]) for b in k.outputs]
        ck(*[x.data_ptr() for x in ins + outs])
        ref = [torch.zeros(b.size, dtype=TORCH_DTYPES[b.dtype]) for b in k.outputs]
        run_kernel(k, ins, ref)
        for i, (a, b) in enumerate(zip(outs, ref)):
            _close(a, b, f"{k.name} [{s.text()}] template {t.text(named=False)[:60]} out{i}",
                   rtol=1e-4, atol=1e-4)  # reassociated float sums
    return len(distinct)


def test_parametrize_keeps_zero_and_one_and_abstracts_the_rest():
    k = pointwise_chain(17)
    t, values = parametrize(k)
    assert t.num_params == len(values) and values
    assert t.domain == (Param(0), Param(1))  # (3, 17)
    assert values[:2] == (3, 17)
    assert all(b.size == DYNAMIC for b in t.inputs + t.outputs)
    loads = [i.attrs["access"] for i in t.body if i.op == "load"]
    assert loads[1].strides == (1, 0)  # broadcast and unit strides stay constants
    assert "params=" in t.text() and "$0" in t.text()
    t.validate()
    # another size: the same template, other values
    t2, values2 = parametrize(pointwise_chain(100))
    assert t2.text(named=False) == t.text(named=False) and values2 != values
    # a size of 1 is structure: another template
    t1, _ = parametrize(pointwise_chain(1))
    assert t1.text(named=False) != t.text(named=False)


def test_check_bounds_rejects_an_access_past_the_buffer():
    k = pointwise_chain(5)
    bad = dataclasses.replace(k, inputs=(Buffer("x", "f32", 14),) + k.inputs[1:])
    with pytest.raises(ValueError, match="reaches elements"):
        parametrize(bad)
    check_bounds(k)


@pytest.mark.parametrize("bits", BITS)
def test_pointwise_templates_over_many_sizes(bits):
    for dt in ("f32", "bf16"):
        ks = [pointwise_chain(n, dt) for n in SIZES]
        n = _check_bound(ks, bits, threads=2)
        assert n < len(ks) // 2, f"{n} templates for {len(ks)} sizes"


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("kind", ["sum", "max"])
def test_reduction_templates(bits, kind):
    shapes = [(3, 5), (4, 16), (5, 17), (2, 64), (3, 65), (7, 129), (9, 1000), (2, 33)]
    ks = [f(r, n, kind) for r, n in shapes for f in (row_reduce, col_reduce)]
    _check_bound(ks, bits, threads=2)


def test_split_whole_reduction_and_small_dtypes():
    ks = [whole_reduce((n,), "sum") for n in (100, 1001, 4099)]
    ks += [whole_reduce((3, n), "max") for n in (50, 77)]
    ks += [row_reduce(3, n, "sum", "i8", "i64") for n in (7, 33, 100)]
    _check_bound(ks, BITS[-1], threads=3)


def test_base_cases_as_templates():
    """Every op of the scalar table, through a template with its values bound."""
    ks = [c.kernel for c in base.CASES.values()]
    _check_bound(ks, BITS[-1], threads=2)


def test_offsets_and_negative_strides():
    """A flipped, offset input (x[::-1] of a slice) read with a run-time stride."""
    def flipped(n: int) -> Kernel:
        return Kernel(f"flip{n}", (2, n), 0, (Buffer("x", "f32", 2 * n + 4),),
                      (Buffer("o", "f32", 2 * n),),
                      (Instr("load", (), "f32", {"buffer": 0,
                                                 "access": Access(n + 2, (n + 1, -1))}),
                       Instr("exp", (0,), "f32")),
                      (Store(0, 1, Access(0, (n, 1))),))
    ks = [flipped(n) for n in (70, 100, 300)]  # one schedule (full vector width)
    assert _check_bound(ks, BITS[-1]) == 1
