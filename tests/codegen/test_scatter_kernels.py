"""Scatter stores (``Store.index``, ``Kernel.ordered``) on the kernel interpreter and
the MLIR backend, at vector widths and thread counts that put duplicates inside
vectors' rows, at vector tails and across thread chunks, against torch's scatter and
index_add bit for bit; on the Triton interpreter in ``tests/triton``. And the
contract's checks."""

from __future__ import annotations

import pytest
import torch

from ember.codegen.collapse import collapse_axes
from ember.codegen.interpret import TORCH_DTYPES, run_kernel
from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Store
from ember.codegen.mlir import available, compile_kernels
from ember.codegen.mlir.backend import choose_schedule
from ember.codegen.params import check_bounds

CONFIGS = [(512, 1), (512, 2), (256, 2), (64, 1)]  # vector bits, threads


def _backends():
    out = [("interpreter", run_kernel)]
    if available()[0]:
        for bits, threads in CONFIGS:
            def launch(k, ins, outs, bits=bits, threads=threads):
                s = choose_schedule(k, bits, threads, min_parallel_work=1)
                compile_kernels([k], schedules=[s])[0].launch(ins + outs)
            out.append((f"mlir {bits} bits, {threads} threads", launch))
    return out


def scatter_kernel(m: int, n: int, rows: int, dt: str, combine: str | None,
                   row_index: bool) -> Kernel:
    """out[idx[s, c], c] (op)= src[s, c] over domain (m, n) (the ordered axis first);
    ``row_index``: idx[s] is one index per s (index_add of rows: uniform across lanes)."""
    idx_acc = Access(0, (1, 0)) if row_index else Access(0, (n, 1))
    body = (Instr("load", (), dt, {"buffer": 0, "access": Access(0, (n, 1))}),
            Instr("load", (), "i64", {"buffer": 1, "access": idx_acc}))
    st = Store(0, 0, Access(0, (0, 1)), index=1, stride=n, extent=rows, combine=combine)
    return Kernel("scatter", (m, n), 0, (Buffer("src", dt, m * n),
                                         Buffer("idx", "i64", m if row_index else m * n)),
                  (Buffer("out", dt, rows * n),), body, (st,), ordered=(0,))


@pytest.mark.parametrize("row_index", [False, True])
@pytest.mark.parametrize("m,n,rows", [(1, 1, 1), (9, 37, 4), (40, 16, 3), (7, 130, 64)])
@pytest.mark.parametrize("dt,combine", [("f32", "sum"), ("f32", None), ("f64", "sum"),
                                        ("bf16", "sum"), ("i8", "sum"), ("b8", "sum"),
                                        ("i64", "max"), ("f32", "prod")])
def test_scatter_store(row_index, m, n, rows, dt, combine):
    tdt = TORCH_DTYPES[dt]
    src = (torch.randn(m, n) * (1e4 if dt.startswith("f") else 5)).to(tdt)
    idx = torch.randint(0, rows, (m,) if row_index else (m, n))
    init = (torch.randn(rows, n) * 5).to(tdt)
    full = idx[:, None].expand(m, n) if row_index else idx
    if combine is None:
        want = init.scatter(0, full, src)
    elif combine == "sum" and dt not in ("b8", "bf16"):
        want = init.scatter_add(0, full, src)
    else:  # one row after the other, rounded to the dtype at every step (torch's
        # scatter_add of bf16 sums in f32 and rounds once: the importer casts for it)
        want = init.clone()
        for s in range(m):
            cur = want[full[s], torch.arange(n)]
            if dt == "b8":
                new = cur | src[s]
            else:
                new = {"sum": cur + src[s], "prod": cur * src[s],
                       "max": torch.maximum(cur, src[s])}[combine]
            want[full[s], torch.arange(n)] = new
    k = scatter_kernel(m, n, rows, dt, combine, row_index)
    for what, launch in _backends():
        out = init.clone().reshape(-1)
        launch(k, [src.reshape(-1), idx.reshape(-1)], [out])
        assert torch.equal(out.view(rows, n), want), what


def test_scatter_kernel_text_and_checks():
    k = scatter_kernel(3, 4, 5, "f32", "sum", False)
    assert "ordered=[0]" in k.text() and "store out0[0+[0,1] + 4*v1 (<5)] sum= v0" in k.text()
    check_bounds(k)
    # the ordered axis keeps its own axis when the others merge
    c = collapse_axes(Kernel("k", (3, 2, 4), 0, k.inputs, k.outputs, (
        Instr("load", (), "f32", {"buffer": 0, "access": Access(0, (8, 4, 1))}),
        Instr("load", (), "i64", {"buffer": 1, "access": Access(0, (8, 4, 1))})),
        (Store(0, 0, Access(0, (0, 4, 1)), index=1, stride=8, extent=2, combine="sum"),),
        ordered=(0,)))
    assert c.domain == (3, 8) and c.ordered == (0,) and c.stores[0].index == 1
    bad = [
        Kernel("k", (3, 4), 1, k.inputs, k.outputs, k.body, k.stores, ordered=(0,)),
        Kernel("k", (3, 4), 0, k.inputs, k.outputs, k.body,
               (Store(0, 0, Access(0, (0, 1)), index=0, stride=4, extent=5),), ordered=(0,)),
        Kernel("k", (3, 4), 0, k.inputs, k.outputs, k.body,
               (Store(0, 0, Access(0, (0, 1)), index=1, stride=4, extent=5, combine="mean"),)),
        Kernel("k", (3, 4), 0, k.inputs, k.outputs, k.body, k.stores, ordered=(2,)),
    ]
    for b in bad:
        with pytest.raises(ValueError):
            b.validate()
    with pytest.raises(ValueError):  # a store past the buffer for some index
        check_bounds(Kernel("k", (3, 4), 0, k.inputs, k.outputs, k.body,
                            (Store(0, 0, Access(0, (0, 1)), index=1, stride=4, extent=6),),
                            ordered=(0,)))


def test_schedule_never_splits_or_vectorizes_the_ordered_axis():
    k = scatter_kernel(4096, 1, 3, "f32", "sum", False)  # only the ordered axis moves
    s = choose_schedule(k, 512, 2, min_parallel_work=1)
    assert s.vector_width == 1 and s.threads == 1
    k = scatter_kernel(64, 256, 3, "f32", "sum", False)
    s = choose_schedule(k, 512, 2, min_parallel_work=1)
    assert dict(s.extra).get("parallel_axis") == 1 and dict(s.extra).get("vector_axis") == 1


@pytest.mark.parametrize("n,m,cols", [(1, 1, 1), (37, 9, 4), (130, 40, 7)])
@pytest.mark.parametrize("dt,combine", [("f32", "sum"), ("f32", None), ("i32", "min")])
def test_scatter_store_along_the_innermost_axis(n, m, cols, dt, combine):
    """out[c, idx[c, s]] (op)= src[c, s]: the ordered axis last (one row per thread, read
    in order), as the lowering lays out a scatter along the last dim."""
    tdt = TORCH_DTYPES[dt]
    src = (torch.randn(n, m) * 1e3).to(tdt)
    idx = torch.randint(0, cols, (n, m))
    init = (torch.randn(n, cols) * 5).to(tdt)
    want = init.clone()
    for s in range(m):
        cur = want[torch.arange(n), idx[:, s]]
        new = {None: src[:, s], "sum": cur + src[:, s],
               "min": torch.minimum(cur, src[:, s])}[combine]
        want[torch.arange(n), idx[:, s]] = new
    body = (Instr("load", (), dt, {"buffer": 0, "access": Access(0, (m, 1))}),
            Instr("load", (), "i64", {"buffer": 1, "access": Access(0, (m, 1))}))
    st = Store(0, 0, Access(0, (cols, 0)), index=1, stride=1, extent=cols, combine=combine)
    k = Kernel("scatter_rows", (n, m), 0, (Buffer("src", dt, n * m), Buffer("idx", "i64", n * m)),
               (Buffer("out", dt, n * cols),), body, (st,), ordered=(1,))
    for what, launch in _backends():
        out = init.clone().reshape(-1)
        launch(k, [src.reshape(-1), idx.reshape(-1)], [out])
        assert torch.equal(out.view(n, cols), want), what
