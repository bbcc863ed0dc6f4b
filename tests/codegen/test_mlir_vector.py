"""MLIR CPU backend: vector code, masked tails, vector reductions and threads.

Every case of test_mlir_backend.py is compiled again under the schedules
``choose_schedule`` picks for 128-, 256- and 512-bit vectors (so AVX2 and SSE
widths are tested on any host that runs the wider ones), with and without
threads (every kernel that can be split is split: no work threshold), and
checked against torch and the reference interpreter. Then targeted cases: odd
sizes around the vector width, broadcast and strided (gathered) inputs,
strided (scattered) outputs, column reductions, NaN/inf in max/min lanes and
tails, prologue stores, small dtypes, and threaded == single-threaded results.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch

from ember.codegen.interpret import TORCH_DTYPES, run_kernel
from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Reduction, Store
from ember.codegen.mlir import available, compile_kernels
from ember.codegen.mlir.backend import choose_schedule, host_vector_bits
from ember.codegen.schedule import Schedule

from . import test_mlir_backend as base

_OK, _REASON = available()
if not _OK:
    pytest.skip(f"MLIR backend unavailable: {_REASON}", allow_module_level=True)

INF, NAN = math.inf, math.nan
BITS = [b for b in (128, 256, 512) if b <= host_vector_bits()]


def A(offset: int, *strides: int) -> Access:
    return Access(offset, tuple(strides))


def load(buf: int, acc: Access, dt: str) -> Instr:
    return Instr("load", (), dt, {"buffer": buf, "access": acc})


def sched(k: Kernel, bits: int, threads: int = 1) -> Schedule:
    return choose_schedule(k, bits, threads, min_parallel_work=0)


def _run(ck, k: Kernel, ins, outs=None):
    outs = outs if outs is not None else [
        torch.zeros(b.size, dtype=TORCH_DTYPES[b.dtype]) for b in k.outputs]
    ck(*[t.data_ptr() for t in list(ins) + list(outs)])
    return outs


def _interp(k: Kernel, ins, outs=None):
    outs = outs if outs is not None else [
        torch.zeros(b.size, dtype=TORCH_DTYPES[b.dtype]) for b in k.outputs]
    run_kernel(k, list(ins), outs)
    return outs


def _close(got, exp, what, rtol=1e-5, atol=1e-5):
    exp = exp.reshape(-1).to(got.dtype)
    if got.dtype.is_floating_point:
        if got.dtype in (torch.float16, torch.bfloat16):
            rtol = atol = 8e-3
        torch.testing.assert_close(got.double(), exp.double(), rtol=rtol, atol=atol,
                                   equal_nan=True, msg=lambda m: f"{what}: {m}")
    else:
        assert torch.equal(got, exp), f"{what}: {got} vs {exp}"


# ------------------------------------------------------------ all base cases
@pytest.fixture(scope="module", params=[(b, t) for b, t in ((128, 2), (256, 1), (512, 2))
                                         if b in BITS],
                ids=lambda p: f"{p[0]}bit-{p[1]}thr")
def compiled_vec(request):
    bits, threads = request.param
    cases = list(base.CASES.values())
    scheds = [sched(c.kernel, bits, threads) for c in cases]
    cks = compile_kernels([c.kernel for c in cases], schedules=scheds)
    return {ck.name: (ck, s) for ck, s in zip(cks, scheds)}


def test_base_cases_vectorized(compiled_vec):
    vectorized = 0
    for name, case in base.CASES.items():
        ck, s = compiled_vec[name]
        vectorized += s.vector_width > 1
        ins = [t.contiguous() for t in case.inputs]
        outs = base._outputs(case)
        ck(*base._ptrs(ins, outs))
        exps = case.expected if isinstance(case.expected, list) else [case.expected]
        tols = case.tol if isinstance(case.tol, list) else [case.tol] * len(exps)
        for i, (got, exp, tol) in enumerate(zip(outs, exps, tols)):
            tol = tol or base.TOL.get(case.kernel.outputs[i].dtype, (0.0, 0.0))
            base._check(got[:exp.numel()], exp, tol, f"{name} [{s.text()}] out{i} vs torch")
        ref = base._outputs(case)
        run_kernel(case.kernel, ins, ref)
        for i, (got, r) in enumerate(zip(outs, ref)):
            tol = base.TOL.get(case.kernel.outputs[i].dtype, (0.0, 0.0))
            base._check(got, r, tol, f"{name} [{s.text()}] out{i} vs interpreter")
    assert vectorized > len(base.CASES) // 2


# ------------------------------------------------------------ targeted kernels
def pointwise_chain(n: int, dt: str = "f32") -> Kernel:
    """o = exp(x) * y[bcast] + where(x > 0, x, -x) over (rows, n) with a
    transposed third input z (gathered)."""
    rows = 3
    return Kernel(
        f"pw_{n}_{dt}", (rows, n), 0,
        (Buffer("x", dt, rows * n), Buffer("y", dt, rows), Buffer("zt", dt, rows * n)),
        (Buffer("o", dt, rows * n), Buffer("ot", "f32", rows * n)),
        (load(0, A(0, n, 1), dt), load(1, A(0, 1, 0), dt), Instr("exp", (0,), dt),
         Instr("mul", (2, 1), dt), Instr("const", (), dt, {"value": 0.0}),
         Instr("gt", (0, 4), "b8"), Instr("neg", (0,), dt), Instr("where", (5, 0, 6), dt),
         Instr("add", (3, 7), dt), load(2, A(0, 1, rows), dt), Instr("add", (8, 9), dt),
         Instr("cast", (10,), "f32")),
        (Store(0, 10, A(0, n, 1)), Store(1, 11, A(0, 1, rows))))  # second one scattered


SIZES = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 100, 129]


@pytest.mark.parametrize("bits", BITS)
def test_pointwise_odd_sizes_strided_and_broadcast(bits):
    g = torch.Generator().manual_seed(0)
    for dt in ("f32", "f16", "bf16", "f64"):
        ks = [pointwise_chain(n, dt) for n in SIZES]
        ss = [sched(k, bits, 2) for k in ks]
        assert any(s.vector_width > 1 for s in ss)
        cks = compile_kernels(ks, schedules=ss)
        for k, ck, s in zip(ks, cks, ss):
            ins = [torch.randn(b.size, generator=g).to(TORCH_DTYPES[b.dtype]) for b in k.inputs]
            ins[0][::4] = torch.tensor(NAN).to(ins[0].dtype)
            got = _run(ck, k, ins)
            for i, (a, b) in enumerate(zip(got, _interp(k, ins))):
                _close(a, b, f"{k.name} [{s.text()}] out{i}")


def row_reduce(rows: int, n: int, kind: str, dt: str = "f32", acc: str | None = None) -> Kernel:
    """reduce kind over rows of x (rows, n), plus a prologue store of x*2."""
    acc = acc or dt
    body = (load(0, A(0, n, 1), dt), Instr("cast", (0,), acc), Instr("add", (1, 1), acc))
    return Kernel(f"rr_{kind}_{rows}x{n}_{dt}", (rows, n), 1, (Buffer("x", dt, rows * n),),
                  (Buffer("o", acc, rows), Buffer("p", acc, rows * n)), body,
                  (Store(0, 0, A(0, 1)), Store(1, 2, A(0, n, 1), prologue=True)),
                  (Reduction(kind, 1, acc),), (Instr("reduced", (), acc, {"index": 0}),))


def col_reduce(rows: int, n: int, kind: str, dt: str = "f32") -> Kernel:
    """reduce kind over the rows of x (rows, n): domain (n, rows), reduce axis strided."""
    return Kernel(f"cr_{kind}_{rows}x{n}_{dt}", (n, rows), 1, (Buffer("x", dt, rows * n),),
                  (Buffer("o", dt, n),),
                  (load(0, A(0, 1, n), dt),), (Store(0, 3 if dt != "b8" else 1, A(0, 1)),),
                  (Reduction(kind, 0, dt),),
                  (Instr("reduced", (), dt, {"index": 0}),
                   Instr("index", (), "i64", {"axis": 0}), Instr("cast", (1,), dt),
                   Instr("add", (0, 2), dt)) if dt != "b8" else
                  (Instr("reduced", (), dt, {"index": 0}), Instr("logical_not", (0,), "b8")))


def _reduce_ref(x: torch.Tensor, kind: str, dim: int) -> torch.Tensor:
    if kind == "sum":
        return x.sum(dim)
    if kind == "prod":
        return x.prod(dim)
    return x.amax(dim) if kind == "max" else x.amin(dim)


@pytest.mark.parametrize("bits", BITS)
@pytest.mark.parametrize("kind", ["sum", "max", "min", "prod"])
def test_row_and_column_reductions(bits, kind):
    g = torch.Generator().manual_seed(1)
    shapes = [(1, 1), (1, 37), (37, 1), (3, 5), (4, 16), (5, 17), (2, 64), (3, 65), (7, 129),
              (2, 1000)]
    ks, xs = [], []
    for rows, n in shapes:
        x = torch.randn(rows, n, generator=g) * (0.3 if kind == "prod" else 1)
        if kind in ("max", "min") and n > 2:
            x[0, n - 1] = NAN           # NaN in the tail lanes of row 0
            x[-1, 0] = INF if kind == "max" else -INF
            if rows > 2:
                x[1, n // 2] = NAN      # and in the main lanes of row 1
        ks += [row_reduce(rows, n, kind), col_reduce(rows, n, kind)]
        xs += [x, x]
    ss = [sched(k, bits, 2) for k in ks]
    cks = compile_kernels(ks, schedules=ss)
    for i, (k, ck, s) in enumerate(zip(ks, cks, ss)):
        x = xs[i]
        got = _run(ck, k, [x.reshape(-1)])
        if k.name.startswith("rr"):
            _close(got[0], _reduce_ref(x, kind, 1), f"{k.name} [{s.text()}]", rtol=1e-5)
            _close(got[1], x * 2, f"{k.name} [{s.text()}] prologue")
        else:
            exp = _reduce_ref(x, kind, 0) + torch.arange(x.shape[1])
            _close(got[0], exp, f"{k.name} [{s.text()}]", rtol=1e-5)


@pytest.mark.parametrize("bits", BITS)
def test_small_dtype_reductions(bits):
    g = torch.Generator().manual_seed(2)
    cases = []
    for rows, n in ((3, 7), (4, 33), (2, 100)):
        xi = torch.randint(-100, 100, (rows, n), generator=g, dtype=torch.int8)
        cases.append((row_reduce(rows, n, "sum", "i8", "i64"), xi, (xi.long() * 1).sum(1)))
        xb = torch.rand(rows, n, generator=g) > 0.9
        xb[0] = False
        cases.append((row_reduce(rows, n, "max", "b8"), xb, xb.any(1)))
        cases.append((col_reduce(rows, n, "min", "b8"), xb, ~xb.all(0)))
        xu = torch.randint(0, 255, (rows, n), generator=g, dtype=torch.uint8)
        cases.append((col_reduce(rows, n, "max", "u8"), xu,
                      (xu.amax(0).int() + torch.arange(n)).to(torch.uint8)))
        xh = torch.randn(rows, n, generator=g).half()
        cases.append((row_reduce(rows, n, "sum", "f16", "f32"), xh, xh.float().sum(1)))
    ks = [c[0] for c in cases]
    ss = [sched(k, bits) for k in ks]
    cks = compile_kernels(ks, schedules=ss)
    for (k, x, exp), ck, s in zip(cases, cks, ss):
        got = _run(ck, k, [x.reshape(-1)])
        _close(got[0], exp, f"{k.name} [{s.text()}]")
        if not any(st.prologue for st in k.stores):  # the interpreter lacks them
            ref = _interp(k, [x.reshape(-1)])
            _close(got[0], ref[0], f"{k.name} [{s.text()}] vs interpreter")


def test_threaded_equals_single_threaded():
    g = torch.Generator().manual_seed(3)
    ks = [pointwise_chain(1001), row_reduce(37, 300, "sum"), col_reduce(50, 333, "sum"),
          row_reduce(64, 65, "max")]
    for k in ks:
        ins = [torch.randn(b.size, generator=g).to(TORCH_DTYPES[b.dtype]) for b in k.inputs]
        one = sched(k, 512 if 512 in BITS else BITS[-1], 1)
        res = []
        for threads in (1, 2, 3, 7):
            s = dataclasses.replace(one, threads=threads, parallel_axes=threads > 1,
                                    extra=one.extra + ((("parallel_axis", 0),) if threads > 1 else ()))
            (ck,) = compile_kernels([k], schedules=[s])
            if threads > 1:
                assert ck.chunks and len(ck.chunks) == min(threads, len(ck.chunks))
                bounds = [b for c in ck.chunks for b in c]
                assert bounds[0] == 0 and bounds[-1] == k.domain[0]
                assert all(bounds[i] == bounds[i + 1] for i in range(1, len(bounds) - 1, 2))
            res.append(_run(ck, k, ins))
        for r in res[1:]:
            for a, b in zip(res[0], r):
                assert torch.equal(a.view(torch.uint8), b.view(torch.uint8)), k.name


def test_parallel_axis_can_be_an_inner_outer_axis():
    k = pointwise_chain(1001)  # domain (3, 1001): 3 rows balance 2 threads badly
    s = sched(k, 512 if 512 in BITS else BITS[-1], 2)
    assert dict(s.extra)["parallel_axis"] == 1
    (ck,) = compile_kernels([k], schedules=[s])
    assert ck.chunks and ck.chunks[0][1] % s.vector_width == 0
    g = torch.Generator().manual_seed(6)
    ins = [torch.randn(b.size, generator=g) for b in k.inputs]
    got = _run(ck, k, ins)
    one = _run(ck.fn, k, ins)
    for a, b, r in zip(got, one, _interp(k, ins)):
        assert torch.equal(a, b)
        _close(a, r, "pw parallel axis 1")


def test_index_and_where_in_vector_lanes():
    n = 37
    k = Kernel("iota_v", (2, n), 0, (Buffer("x", "f32", 2 * n),),
               (Buffer("o", "i64", 2 * n), Buffer("m", "b8", 2 * n)),
               (Instr("index", (), "i64", {"axis": 1}), Instr("index", (), "i64", {"axis": 0}),
                Instr("const", (), "i64", {"value": 100}), Instr("mul", (1, 2), "i64"),
                Instr("add", (0, 3), "i64"), load(0, A(0, n, 1), "f32"),
                Instr("const", (), "f32", {"value": 0.0}), Instr("lt", (5, 6), "b8"),
                Instr("logical_not", (7,), "b8")),
               (Store(0, 4, A(0, n, 1)), Store(1, 8, A(0, n, 1))))
    for bits in BITS:
        (ck,) = compile_kernels([k], schedules=[sched(k, bits)])
        x = torch.randn(2 * n)
        o, m = _run(ck, k, [x])
        assert torch.equal(o, (torch.arange(2)[:, None] * 100 + torch.arange(n)).reshape(-1))
        assert torch.equal(m, ~(x < 0))


def test_vector_source_has_vector_ops():
    k = row_reduce(8, 100, "max")
    (ck,) = compile_kernels([k], schedules=[sched(k, 256, 2)])
    # lanes halved and compared (vmaxps), NaN tracked by a sum of magnitudes
    assert "vector.extract_strided_slice" in ck.source and "math.absf" in ck.source
    assert "vector.reduction <add>" in ck.source
    assert "vector.maskedload" in ck.source and "vector.create_mask" in ck.source
    assert "_range" in ck.source


@pytest.mark.parametrize("bits", BITS)
def test_pow_special_exponents(bits):
    n = 50
    for e in (2.0, 3.0, 0.5, -1.0, -2.0, -0.5, 1.0, 1.7):
        k = Kernel("powc", (n,), 0, (Buffer("x", "f32", n),), (Buffer("o", "f32", n),),
                   (load(0, A(0, 1), "f32"), Instr("const", (), "f32", {"value": e}),
                    Instr("pow", (0, 1), "f32")), (Store(0, 2, A(0, 1)),))
        (ck,) = compile_kernels([k], schedules=[sched(k, bits)])
        x = torch.cat([torch.linspace(-3, 3, n - 5), torch.tensor([0.0, -0.0, INF, -INF, NAN])])
        (o,) = _run(ck, k, [x])
        torch.testing.assert_close(o, torch.pow(x, e), rtol=2e-6, atol=1e-6, equal_nan=True)


# ------------------------------------------------------------ end to end
E2E = [
    ("softmax_odd", lambda x: torch.softmax(x, -1), [(7, 13)]),
    ("softmax_big", lambda x: torch.softmax(x * 3, -1), [(300, 1000)]),
    ("log_softmax_col", lambda x: torch.log_softmax(x, 0), [(33, 65)]),
    ("layer_norm", lambda x, w, b: torch.nn.functional.layer_norm(x, x.shape[-1:], w, b),
     [(129, 77), (77,), (77,)]),
    ("amax_nan", lambda x: (x.amax(-1), x.amin(0)), [(17, 19)]),
    ("gelu_tanh", lambda x: torch.nn.functional.gelu(x, approximate="tanh") * torch.sigmoid(x),
     [(1000, 531)]),
    ("sum_dim0_t", lambda x: x.t().sum(-1) + x.mean(0), [(129, 33)]),
    ("bcast", lambda x, y: torch.erf(x + y) * torch.expm1(y) - torch.log1p(x.abs()),
     [(65, 1), (1, 71)]),
]


@pytest.mark.parametrize("name", [e[0] for e in E2E])
def test_end_to_end_matches_eager(name):
    import ember

    _, fn, shapes = next(e for e in E2E if e[0] == name)
    g = torch.Generator().manual_seed(4)
    args = [torch.randn(*s, generator=g) for s in shapes]
    if name == "amax_nan":
        args[0][3, 5] = NAN
        args[0][0, 0] = INF
    with torch.no_grad():
        got = ember.compile(fn)(*args)
        exp = fn(*args)
    got = got if isinstance(got, tuple) else (got,)
    exp = exp if isinstance(exp, tuple) else (exp,)
    for a, b in zip(got, exp):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5, equal_nan=True)


# ------------------------------------------------------------ split reductions
def whole_reduce(shape, kind: str, dt: str = "f32", acc: str | None = None) -> Kernel:
    """kind over all of x (as a (1, *shape) domain), epilogue adds x[0], prologue x*2."""
    acc = acc or dt
    n = math.prod(shape)
    strides = tuple(math.prod(shape[i + 1:]) for i in range(len(shape)))
    body = (load(0, Access(0, (0,) + strides), dt), Instr("cast", (0,), acc),
            Instr("add", (1, 1), acc))
    return Kernel(f"wr_{kind}_{'x'.join(map(str, shape))}_{dt}", (1,) + tuple(shape), len(shape),
                  (Buffer("x", dt, n),), (Buffer("o", acc, 1), Buffer("p", acc, n)), body,
                  (Store(0, 3, A(0, 0)), Store(1, 2, Access(0, (0,) + strides), prologue=True)),
                  (Reduction(kind, 1, acc),),
                  (Instr("reduced", (), acc, {"index": 0}), load(0, A(0, 0), dt),
                   Instr("cast", (1,), acc), Instr("add", (0, 2), acc)))


@pytest.mark.parametrize("threads", [2, 3, 5])
def test_split_whole_reductions(threads):
    g = torch.Generator().manual_seed(5)
    cases = []
    for shape in ((1000,), (3, 333), (77, 5), (2, 3)):
        for kind in ("sum", "max", "min", "prod"):
            x = torch.randn(*shape, generator=g) * (0.9 if kind == "prod" else 1)
            if kind in ("max", "min") and x.numel() > 6:
                x.view(-1)[x.numel() - 2] = NAN
            cases.append((whole_reduce(shape, kind), x))
    xi = torch.randint(-1000, 1000, (999,), generator=g, dtype=torch.int32)
    cases.append((whole_reduce((999,), "sum", "i32", "i64"), xi))
    xb = torch.zeros(500, dtype=torch.bool)
    xb[321] = True
    cases.append((whole_reduce((500,), "max", "b8"), xb))
    ks = [c[0] for c in cases]
    ss = [sched(k, 512 if 512 in BITS else BITS[-1], threads) for k in ks]
    cks = compile_kernels(ks, schedules=ss)
    split_seen = 0
    for (k, x), ck, s in zip(cases, cks, ss):
        split_seen += ck.chunks is not None
        got = _run(ck, k, [x.reshape(-1)])
        kind = k.reductions[0].kind
        acc_dt = TORCH_DTYPES[k.outputs[0].dtype]
        xa = x.reshape(-1).to(acc_dt)
        red = {"sum": torch.sum, "prod": torch.prod, "max": torch.amax, "min": torch.amin}[kind]
        if acc_dt == torch.bool:
            r = xa.any() if kind == "max" else xa.all()
            exp = r | xa[0]
        else:
            exp = red(xa) + xa[0]
        _close(got[0], exp.reshape(1), f"{k.name} [{s.text()}]", rtol=2e-5)
        _close(got[1], xa + xa if acc_dt != torch.bool else xa, f"{k.name} [{s.text()}] prologue")
        # the single-threaded entry agrees
        one = _run(ck.fn, k, [x.reshape(-1)])
        _close(one[0], got[0], f"{k.name} single vs split", rtol=2e-5)
    assert split_seen >= len(cases) // 2
