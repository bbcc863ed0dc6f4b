"""Kernel cases for the Triton backend: every scalar op and dtype, casts, constants,
addressing (strided, broadcast, sliced, reversed, 0-d, size-1 axes), reductions
(every kind, NaN, empty, integer, bool, half with f32 accumulation, several
reductions and outputs, prologue stores) under several schedules.

Ops are grouped into multi-output kernels (one output per op) so the whole
table is a few dozen kernels: each runs under Triton's interpreter in
milliseconds and compiles for sm_90 in a fraction of a second.

Each case has the expected results computed by torch; the tests also compare
with the kernel interpreter (``ember.codegen.interpret.run_kernel``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import torch

from ember.codegen.interpret import TORCH_DTYPES
from ember.codegen.kernel import SCALAR_OPS, Access, Buffer, Instr, Kernel, Reduction, Store
from ember.codegen.schedule import Schedule

INF, NAN = math.inf, math.nan
# f32 1e-5 (DESIGN.md); f64 1e-12; halves: one rounding of slack
TOL = {"f32": (1e-5, 1e-5), "f64": (1e-12, 1e-12), "f16": (1e-3, 1e-3), "bf16": (8e-3, 8e-3)}
FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -3.0, 0.1, -0.7, 1e-6, -1e-6,
          10.0, -10.0, 80.5, -80.5, INF, -INF, NAN, 2.5, -4.25]
INTS = {
    "i8": [0, 1, -1, 2, -2, 7, -7, 100, -100, 127, -128],
    "i16": [0, 1, -1, 300, -300, 32767, -32768],
    "i32": [0, 1, -1, 2, -7, 100, -100, 2**31 - 1, -(2**31), 12345],
    "i64": [0, 1, -1, 2, -7, 100, 2**63 - 1, -(2**63), 2**40 + 3],
    "u8": [0, 1, 2, 7, 100, 127, 128, 200, 255],
    "b8": [False, True],
}


@dataclass
class Case:
    kernel: Kernel
    inputs: list[torch.Tensor]
    expected: list[torch.Tensor]
    tols: list[tuple[float, float] | None]
    outputs: list[torch.Tensor] | None = None  # initial output contents (default zeros)
    schedules: list[Schedule | None] = field(default_factory=lambda: [None])  # None: backend's


CASES: dict[str, Case] = {}


def add(kernel: Kernel, inputs, expected, tol=None, outputs=None, schedules=None) -> None:
    assert kernel.name not in CASES, kernel.name
    expected = expected if isinstance(expected, list) else [expected]
    tols = tol if isinstance(tol, list) else [tol] * len(expected)
    CASES[kernel.name] = Case(kernel, inputs, expected, tols, outputs, schedules or [None])


def A(offset: int, *strides: int) -> Access:
    return Access(offset, tuple(strides))


def load(buf: int, acc: Access, dt: str) -> Instr:
    return Instr("load", (), dt, {"buffer": buf, "access": acc})


def const(v, dt: str) -> Instr:
    return Instr("const", (), dt, {"value": v})


def values(dt: str, binary: bool = False, limit: float | None = None) -> list[torch.Tensor]:
    """Special values (all pairs for binary ops) plus a few randoms."""
    if dt in ("f16", "bf16", "f32", "f64"):
        base = [v for v in FLOATS if limit is None or not abs(v) > limit]
        g = torch.Generator().manual_seed(0)
        rnd = (torch.randn(24, generator=g, dtype=torch.float64) * 3).tolist()
    else:
        base, rnd = INTS[dt], []
    tdt = TORCH_DTYPES[dt]
    if not binary:
        return [torch.tensor(base + rnd, dtype=tdt)]
    pairs = list(itertools.product(base, base))
    return [torch.tensor([p[i] for p in pairs], dtype=tdt) for i in (0, 1)]


def _load_test_module(name: str):
    """A module of tests/codegen by path (this folder is not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "codegen" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"ember_test_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_tables = _load_test_module("op_tables")  # shared with the MLIR tests
TORCH_OPS, OP_DTYPES, BOOL_RESULT = _tables.TORCH_OPS, _tables.OP_DTYPES, _tables.BOOL_RESULT
RESULT = _tables.RESULT
F, I, B = _tables.F, _tables.I, _tables.B
_poly = _load_test_module("poly_cases")  # the orthogonal polynomials (x, n)
_POLY, _UNINIT = set(_poly.NAMES), _poly.UNINIT
# their Chebyshev closed forms cos(n acos(y)) ... move by about n ulps with one ulp
# of acos, which is not libm's here (n up to 80 in these pairs; poly_cases.check_close)
_POLY_TOL = {"f32": (1e-4, 1e-4), "f64": (1e-11, 1e-11)}


def ops_kernel(name: str, dt: str, arity: int, ops: list[str], inputs: list[torch.Tensor],
               arg_dts: list[str]) -> Kernel:
    """One pointwise kernel computing every op of ``ops`` on the same inputs, one output each."""
    n = inputs[0].numel()
    body = [load(i, A(0, 1), d) for i, d in enumerate(arg_dts)]
    outs, stores = [], []
    for op in ops:
        out_dt = RESULT.get(op, "b8" if op in BOOL_RESULT else dt)
        body.append(Instr(op, tuple(range(arity)), out_dt))
        stores.append(Store(len(outs), len(body) - 1, A(0, 1)))
        outs.append(Buffer(op, out_dt, n))
    return Kernel(name, (n,), 0, tuple(Buffer(f"x{i}", d, n) for i, d in enumerate(arg_dts)),
                  tuple(outs), tuple(body), tuple(stores))


# ---------------------------------------------------------------- scalar ops
for _dt in F + I + B:
    for _arity in (1, 2, 3):
        _ops = [op for op, dts in OP_DTYPES.items() if SCALAR_OPS[op] == _arity and _dt in dts]
        # sin/cos of huge arguments differ between libm and numpy: keep them apart; so
        # the polynomials whose eager result of a NaN x (n >= 2) is uninitialized memory
        _groups = [[o for o in _ops if o not in ("sin", "cos") and o not in _UNINIT],
                   [o for o in _ops if o in ("sin", "cos")], [o for o in _ops if o in _UNINIT]]
        for _gi, _g in enumerate(_groups):
            if not _g:
                continue
            if _arity == 3:
                a, b = values(_dt, binary=True)
                c = torch.arange(a.numel()) % 3 == 0
                ins, arg_dts = [c, a, b], ["b8", _dt, _dt]
            else:
                ins = values(_dt, binary=_arity == 2, limit=100.0 if _gi == 1 else None)
                if _gi == 2:  # those pairs left out
                    _keep = ~(ins[0].isnan() & (ins[1] >= 2))
                    ins = [t[_keep] for t in ins]
                arg_dts = [_dt] * _arity
            _k = ops_kernel(f"ops{_arity}_{_dt}" + ("", "_trig", "_poly")[_gi], _dt, _arity, _g,
                            ins, arg_dts)
            add(_k, ins, [TORCH_OPS[op](*ins) for op in _g],
                [_POLY_TOL[_dt] if op in _POLY else TOL.get(_dt) for op in _g])

# integer division and remainders (every divisor but 0, where eager raises; the
# importer guards compiled integer divisions with an assert)
INT_DIVISION = ["floordiv", "truncdiv", "remainder", "fmod"]
for _dt in I:
    _a, _b = values(_dt, binary=True)
    _keep = _b != 0
    if _dt in ("i32", "i64"):  # eager's MIN / -1 dies of SIGFPE there: nothing to compare
        _keep &= ~((_a == torch.iinfo(TORCH_DTYPES[_dt]).min) & (_b == -1))
    _ins = [_a[_keep], _b[_keep]]
    add(ops_kernel(f"intdiv_{_dt}", _dt, 2, INT_DIVISION, _ins, [_dt, _dt]), _ins,
        [TORCH_OPS[op](*_ins) for op in INT_DIVISION])

_x64 = values("f64")
add(ops_kernel("trigamma_f64", "f64", 1, ["trigamma"], _x64, ["f64"]), _x64,
    [TORCH_OPS["trigamma"](*_x64)], (1e-8, 1e-8))

# accuracy where a naive formulation (exp(x)-1, log(1+x)) would lose digits
_small = torch.tensor([1e-7, -1e-7, 3e-5, -2e-4, 1e-3, 1e-10, 0.3, -0.6], dtype=torch.float32)
_sops = ["expm1", "log1p", "erf", "tanh", "sin"]
add(ops_kernel("small_args", "f32", 1, _sops, [_small], ["f32"]), [_small],
    [TORCH_OPS[o](_small) for o in _sops], (2e-6, 0.0))


# ---------------------------------------------------------------- halves, casts, consts
def _half(dt: str) -> None:
    x = values("f32")[0][:40].clamp(-60, 60).to(TORCH_DTYPES[dt])
    y = torch.linspace(-3, 3, x.numel()).to(TORCH_DTYPES[dt])
    n = x.numel()
    body = (load(0, A(0, 1), dt), load(1, A(0, 1), dt), Instr("mul", (0, 1), dt),
            Instr("exp", (1,), dt), Instr("add", (2, 3), dt), Instr("tanh", (1,), dt),
            Instr("erf", (1,), dt), Instr("cast", (4,), dt))
    k = Kernel(f"half_{dt}", (n,), 0, (Buffer("x", dt, n), Buffer("y", dt, n)),
               (Buffer("o", dt, n), Buffer("o32", "f32", n), Buffer("t", dt, n), Buffer("e", dt, n)),
               body, (Store(0, 4, A(0, 1)), Store(1, 4, A(0, 1)), Store(2, 5, A(0, 1)),
                      Store(3, 6, A(0, 1))))
    xf, yf = x.float(), y.float()
    ref = xf * yf + torch.exp(yf)
    tdt = TORCH_DTYPES[dt]
    add(k, [x, y], [ref.to(tdt), ref, torch.tanh(yf).to(tdt), torch.erf(yf).to(tdt)],
        [TOL[dt], (1e-5, 1e-5), TOL[dt], TOL[dt]])


_half("f16")
_half("bf16")

CASTS = [
    ("f32", "i32", [-2.7, -2.5, -0.5, -0.0, 0.5, 2.5, 2.7, 1e9, -1e9, 123456.9]),
    ("f32", "i64", [-2.7, 3.99, 1e15, -1e15]),
    ("f32", "u8", [0.0, 1.9, 200.5, 255.0, -1.0, -3.7, 300.0]),
    ("f32", "i8", [-1.0, -3.7, 127.9, -128.9, 200.0]),
    ("f64", "i16", [-1.5, 32767.0, -32768.0, 40000.0]),
    ("f32", "b8", [0.0, -0.0, 1.0, -2.0, NAN, INF, 1e-40]),
    ("f64", "b8", [0.0, -0.0, 5e-324, NAN]),
    ("b8", "f32", [False, True]),
    ("b8", "i64", [False, True]),
    ("b8", "f16", [False, True]),
    ("i32", "b8", [0, 1, -1, 2**31 - 1]),
    ("i64", "f16", [2**63 - 1, -(2**63), 65504, 65520, 2049]),
    ("i64", "bf16", [257, 2**40 + 1, -3]),
    ("i32", "f32", [2**24 + 1, -(2**31), 7]),
    ("u8", "i32", [0, 200, 255]),
    ("u8", "f32", [0, 200, 255]),
    ("i8", "i64", [-128, -1, 5]),
    ("i8", "u8", [-128, -1, 5]),
    ("i32", "i8", [200, -200, 255, 2**31 - 1]),
    ("i64", "u8", [-1, 256, 511]),
    ("f64", "f16", [1.0 + 2**-11 + 2**-40, 70000.0, 1e-8, 1 / 3, NAN, -INF]),
    ("f64", "bf16", [1.0 + 2**-8 + 2**-40, 1 / 3, 3e38, 1e39]),
    ("f32", "bf16", [1.0 + 2**-8, 1.0 + 3 * 2**-8, 1.0 + 2**-8 + 2**-20, 3.3895e38, -0.1, NAN]),
    ("f64", "f32", [1 / 3, 1e39, -1e-46]),
    ("f32", "f64", [1 / 3, -INF]),
    ("f16", "f32", [0.1, 65504.0, -INF]),
    ("bf16", "f16", [0.1, 1e5, 3.0]),
    ("f16", "i32", [2.5, -2.5, 1000.0]),
]
for _src, _dst, _vals in CASTS:
    _x = torch.tensor(_vals, dtype=TORCH_DTYPES[_src])
    _n = _x.numel()
    _k = Kernel(f"cast_{_src}_{_dst}", (_n,), 0, (Buffer("x", _src, _n),), (Buffer("y", _dst, _n),),
                (load(0, A(0, 1), _src), Instr("cast", (0,), _dst)), (Store(0, 1, A(0, 1)),))
    add(_k, [_x], _x.to(TORCH_DTYPES[_dst]), (0.0, 0.0))

_CONSTS = [(0.1, "f16"), (0.1, "bf16"), (-INF, "f32"), (NAN, "f64"), (300, "u8"), (-1, "u8"),
           (2**31, "i32"), (2.9, "i32"), (True, "b8"), (NAN, "b8"), (1 / 3, "f64"), (-(2**63), "i64")]
_cexp = []
for _v, _dt in _CONSTS:
    if _dt == "b8":
        _cexp.append(torch.full((3,), bool(_v)))
    elif _dt[0] in "fb":
        _cexp.append(torch.full((3,), float(_v), dtype=torch.float64).float().to(TORCH_DTYPES[_dt])
                     if _dt != "f64" else torch.full((3,), float(_v), dtype=torch.float64))
    else:
        bits = {"u8": 8, "i32": 32, "i64": 64}[_dt]
        w = int(_v) % (1 << bits)
        w -= (1 << bits) * (_dt != "u8" and w >= 1 << (bits - 1))
        _cexp.append(torch.full((3,), w, dtype=TORCH_DTYPES[_dt]))
add(Kernel("consts", (3,), 0, (), tuple(Buffer(f"c{i}", dt, 3) for i, (_, dt) in enumerate(_CONSTS)),
           tuple(const(v, dt) for v, dt in _CONSTS),
           tuple(Store(i, i, A(0, 1)) for i in range(len(_CONSTS)))), [], _cexp, (0.0, 0.0))

# ---------------------------------------------------------------- addressing
TILE2D = Schedule(block=(2, 2))  # 2-D tiles with row and column tails
_g = torch.Generator().manual_seed(1)
_X = torch.randn(12, generator=_g)     # viewed as x.T (transposed 4x3 storage)
_R = torch.randn(4, generator=_g)      # broadcast row
_S = torch.randn(40, generator=_g)     # sliced with offset
_ref = _X.view(4, 3).T * _R[None, :] + _S[5:].as_strided((3, 4), (10, 2))
add(Kernel("strided", (3, 4), 0,
           (Buffer("xt", "f32", 12), Buffer("row", "f32", 4), Buffer("s", "f32", 40)),
           (Buffer("o", "f32", 12), Buffer("orev", "f32", 12)),
           (load(0, A(0, 1, 3), "f32"), load(1, A(0, 0, 1), "f32"), load(2, A(5, 10, 2), "f32"),
            Instr("mul", (0, 1), "f32"), Instr("add", (3, 2), "f32")),
           (Store(0, 4, A(0, 4, 1)), Store(1, 4, A(11, -4, -1)))),
    [_X, _R, _S], [_ref.reshape(-1), _ref.reshape(-1).flip(0)],
    schedules=[None, Schedule(block=(4,), num_warps=1), TILE2D])

_a, _b = torch.tensor([1.5]), torch.tensor([0.0, 0.0, 3.0], dtype=torch.float64)
add(Kernel("scalar0d", (), 0, (Buffer("a", "f32", 1), Buffer("b", "f64", 3)), (Buffer("o", "f64", 1),),
           (load(0, A(0), "f32"), Instr("cast", (0,), "f64"), load(1, A(2), "f64"),
            Instr("pow", (1, 2), "f64")), (Store(0, 3, A(0)),)),
    [_a, _b], torch.tensor([1.5**3], dtype=torch.float64))

_io = (torch.arange(3)[:, None] * 10 + torch.arange(5)).reshape(-1)
add(Kernel("iota", (3, 5), 0, (), (Buffer("o", "f32", 15), Buffer("oi", "i32", 15)),
           (Instr("index", (), "i64", {"axis": 0}), Instr("index", (), "i64", {"axis": 1}),
            const(10, "i64"), Instr("mul", (0, 2), "i64"), Instr("add", (3, 1), "i64"),
            Instr("cast", (4,), "f32"), Instr("cast", (4,), "i32")),
           (Store(0, 5, A(0, 5, 1)), Store(1, 6, A(0, 5, 1)))),
    [], [_io.float(), _io.int()], schedules=[None, Schedule(block=(4,)), TILE2D])

_x6 = torch.tensor([-1.0, 0.0, 0.3, NAN, -INF, 7.0])
add(Kernel("size1", (1, 6, 1), 0, (Buffer("x", "f32", 6),),
           (Buffer("o", "bf16", 6), Buffer("m", "b8", 6)),
           (load(0, A(0, 0, 1, 0), "f32"), const(0.0, "f32"), Instr("gt", (0, 1), "b8"),
            Instr("relu", (0,), "f32"), Instr("cast", (3,), "bf16")),
           (Store(0, 4, A(0, 0, 1, 0)), Store(1, 2, A(0, 0, 1, 0)))),
    [_x6], [torch.relu(_x6).to(torch.bfloat16), _x6 > 0], schedules=[None, TILE2D])

# a 3-d permuted (0,2,1) read and a write into the middle of a larger buffer
_P = torch.randn(2, 3, 4, generator=_g)
_pref = _P.permute(0, 2, 1) * 2.0
_pout = torch.full((30,), -1.0)
_pexp = _pout.clone()
_pexp[3:27] = _pref.reshape(-1)
add(Kernel("permute3", (2, 4, 3), 0, (Buffer("x", "f32", 24),), (Buffer("o", "f32", 30),),
           (load(0, A(0, 12, 1, 4), "f32"), const(2.0, "f32"), Instr("mul", (0, 1), "f32")),
           (Store(0, 2, A(3, 12, 3, 1)),)),
    [_P.reshape(-1)], _pexp, outputs=[_pout], schedules=[None, Schedule(block=(8,)), TILE2D])


# ---------------------------------------------------------------- reductions
def reduction(name, shape, nred, dt, kind, acc_dt=None, prologue=(), epilogue_ops=(), store_dt=None):
    """reduce kind(prologue(load x)) over the trailing nred axes of shape."""
    n = math.prod(shape)
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    nouter = len(shape) - nred
    acc_dt = acc_dt or dt
    body = (load(0, Access(0, tuple(strides)), dt),) + tuple(prologue)
    epi = (Instr("reduced", (), acc_dt, {"index": 0}),) + tuple(epilogue_ops)
    m = math.prod(shape[:nouter])
    ostr = tuple(math.prod(shape[i + 1:nouter]) for i in range(nouter))
    return Kernel(name, tuple(shape), nred, (Buffer("x", dt, n),),
                  (Buffer("o", store_dt or acc_dt, m),), body,
                  (Store(0, len(epi) - 1, Access(0, ostr)),),
                  (Reduction(kind, len(body) - 1, acc_dt),), epi)


LOOP_SMALL = Schedule(block=(2, 4), reduction="loop")        # 2 rows, 4-wide chunks, tails
PERSIST_TAIL = Schedule(block=(4, 8), reduction="persistent")  # row tail masks
_x = torch.randn(5, 7, generator=_g)
_x3 = torch.randn(3, 4, 5, generator=_g)
for _kind, _fn in (("sum", torch.sum), ("prod", torch.prod), ("max", torch.amax), ("min", torch.amin)):
    def _red(t, dims, kind=_kind, fn=_fn):
        return fn(t, dims) if kind != "prod" else t.reshape(t.shape[0], -1).prod(1)
    add(reduction(f"red_{_kind}_1", (5, 7), 1, "f32", _kind), [_x.reshape(-1)], _red(_x, 1),
        schedules=[None, LOOP_SMALL, PERSIST_TAIL])
    add(reduction(f"red_{_kind}_2", (3, 4, 5), 2, "f32", _kind), [_x3.reshape(-1)],
        _red(_x3, (1, 2)), schedules=[None, LOOP_SMALL])
    add(reduction(f"red_{_kind}_all", (3, 4, 5), 3, "f64", _kind), [_x3.double().reshape(-1)],
        (_fn(_x3.double()) if _kind != "prod" else _x3.double().prod()).reshape(1),
        schedules=[None, LOOP_SMALL])
_xn = _x.clone()
_xn[1, 3], _xn[3, 0], _xn[4, 6] = NAN, NAN, INF
for _kind, _fn in (("max", torch.amax), ("min", torch.amin), ("sum", torch.sum)):
    add(reduction(f"red_nan_{_kind}", (5, 7), 1, "f32", _kind), [_xn.reshape(-1)], _fn(_xn, 1),
        schedules=[None, LOOP_SMALL])
# mean = sum * (1/n); f16 input accumulated in f32 (the schedule's), stored as f16
_xh = torch.randn(4, 300, generator=_g).to(torch.float16)
add(reduction("mean_f16", (4, 300), 1, "f16", "sum",
              epilogue_ops=(const(1 / 300, "f16"), Instr("mul", (0, 1), "f16"))),
    [_xh.reshape(-1)], _xh.float().mean(1).half(), (2e-3, 2e-3),
    schedules=[None, Schedule(block=(2, 64), reduction="loop", accumulate=("f32",))])
_xi = torch.randint(-2**31, 2**31 - 1, (6, 9), generator=_g, dtype=torch.int32)
add(reduction("sum_i32_i64", (6, 9), 1, "i32", "sum", acc_dt="i64",
              prologue=(Instr("cast", (0,), "i64"),)), [_xi.reshape(-1)], _xi.long().sum(1),
    schedules=[None, LOOP_SMALL])
_x8 = torch.randint(-128, 127, (3, 50), generator=_g, dtype=torch.int8)
add(reduction("sum_i8_wraps", (3, 50), 1, "i8", "sum"), [_x8.reshape(-1)], _x8.sum(1, dtype=torch.int8),
    schedules=[None, LOOP_SMALL])
for _kind, _dt in (("max", "i32"), ("min", "i64"), ("max", "u8"), ("min", "u8")):
    xi = values(_dt)[0].reshape(1, -1).repeat(3, 1)
    xi[1] = xi[1].roll(3)
    xi[2] = xi[2].flip(0)
    add(reduction(f"red_{_kind}_{_dt}", tuple(xi.shape), 1, _dt, _kind), [xi.reshape(-1)],
        xi.amax(1) if _kind == "max" else xi.amin(1), schedules=[None, LOOP_SMALL])
_xb = torch.tensor([[0, 0, 0], [0, 1, 0], [1, 1, 1]], dtype=torch.bool)
add(reduction("any_b8", (3, 3), 1, "b8", "max"), [_xb.reshape(-1)], _xb.any(1),
    schedules=[None, LOOP_SMALL])
add(reduction("all_b8", (3, 3), 1, "b8", "min"), [_xb.reshape(-1)], _xb.all(1),
    schedules=[None, LOOP_SMALL])

# softmax pieces in one kernel: two reductions, three epilogue outputs and a prologue store
_xs = torch.randn(6, 10, generator=_g) * 5
_mx = _xs.amax(1)
_e = torch.exp(_xs - _mx[:, None])
_s = _e.sum(1)
add(Kernel("logsumexp", (6, 10), 1, (Buffer("x", "f32", 60), Buffer("m", "f32", 6)),
           (Buffer("lse", "f32", 6), Buffer("s", "f32", 6), Buffer("mx", "f32", 6),
            Buffer("e", "f16", 60)),
           (load(0, A(0, 10, 1), "f32"), load(1, A(0, 1, 0), "f32"), Instr("sub", (0, 1), "f32"),
            Instr("exp", (2,), "f32")),
           (Store(0, 4, A(0, 1)), Store(1, 0, A(0, 1)), Store(2, 1, A(0, 1)),
            Store(3, 3, A(0, 10, 1), prologue=True)),
           (Reduction("sum", 3, "f32"), Reduction("max", 0, "f32")),
           (Instr("reduced", (), "f32", {"index": 0}), Instr("reduced", (), "f32", {"index": 1}),
            Instr("log", (0,), "f32"), load(1, A(0, 1), "f32"), Instr("add", (2, 3), "f32"))),
    [_xs.reshape(-1), _mx], [torch.log(_s) + _mx, _s, _mx, _e.half()],
    schedules=[None, LOOP_SMALL, PERSIST_TAIL])

# reduction over a transposed input; the epilogue uses the outer index
_xt = torch.randn(8, 5, generator=_g)
add(Kernel("red_transposed", (5, 8), 1, (Buffer("x", "f32", 40),), (Buffer("o", "f32", 5),),
           (load(0, A(0, 1, 5), "f32"), Instr("abs", (0,), "f32")), (Store(0, 4, A(0, 1)),),
           (Reduction("sum", 1, "f32"),),
           (Instr("reduced", (), "f32", {"index": 0}), Instr("index", (), "i64", {"axis": 0}),
            Instr("cast", (1,), "f32"), const(1.0, "f32"), Instr("add", (0, 2), "f32"))),
    [_xt.reshape(-1)], _xt.abs().sum(0) + torch.arange(5.0), schedules=[None, LOOP_SMALL])

# reduce the middle axis of a 3-d tensor (outer axes 0 and 2 are not adjacent in memory)
_xm = torch.randn(3, 6, 4, generator=_g)
add(Kernel("red_middle", (3, 4, 6), 1, (Buffer("x", "f32", 72),), (Buffer("o", "f32", 12),),
           (load(0, A(0, 24, 1, 4), "f32"),), (Store(0, 0, A(0, 4, 1)),),
           (Reduction("max", 0, "f32"),), (Instr("reduced", (), "f32", {"index": 0}),)),
    [_xm.reshape(-1)], _xm.amax(1).reshape(-1), schedules=[None, LOOP_SMALL])

# zero-size domains: nothing may be written; an empty reduce domain gives the identity
_sent = torch.full((4,), 42.0)
for _name, _dom, _nred in (("empty_pw", (0, 4), 0), ("empty_pw2", (4, 0), 0), ("empty_outer", (0, 5), 1)):
    _nouter = len(_dom) - _nred
    _body = (load(0, Access(0, (1,) * len(_dom)), "f32"), Instr("neg", (0,), "f32"))
    add(Kernel(_name, _dom, _nred, (Buffer("x", "f32", 4),), (Buffer("o", "f32", 4),), _body,
               (Store(0, 1 if not _nred else 0, Access(0, (1,) * _nouter)),),
               (Reduction("sum", 1, "f32"),) if _nred else (),
               (Instr("reduced", (), "f32", {"index": 0}),) if _nred else ()),
        [torch.ones(4)], _sent.clone(), outputs=[_sent.clone()])
for _kind, _ident in (("sum", 0.0), ("max", -INF), ("prod", 1.0)):
    add(reduction(f"empty_red_{_kind}", (3, 0), 1, "f32", _kind), [torch.empty(0)],
        torch.full((3,), _ident))

# staged reductions (the body reads finished reductions): softmax and layer norm
# as one kernel each, along rows and down columns; the kernels are shared with
# tests/codegen/test_staged.py
_sk = _load_test_module("staged_kernels")
for _rows, _n, _col in ((5, 7, False), (3, 33, True), (1, 1, False)):
    _xs = _sk.inputs(_rows, _n, _col, specials=_rows * _n > 8, seed=_n)
    add(_sk.softmax(_rows, _n, _col), [_xs.reshape(-1)], list(_sk.softmax_ref(_xs, _col)),
        schedules=[None, LOOP_SMALL, PERSIST_TAIL])
    _xs = _sk.inputs(_rows, _n, _col, seed=_rows)
    _w, _b = torch.randn(_n, generator=_g), torch.randn(_n, generator=_g)
    add(_sk.layer_norm(_rows, _n, _col), [_xs.reshape(-1), _w, _b],
        list(_sk.layer_norm_ref(_xs, _w, _b, _col)), tol=(1e-4, 1e-4),
        schedules=[None, LOOP_SMALL, PERSIST_TAIL])
# scans (the body reads a reduction's running value): cumsum and cumprod along
# rows and down columns, looped and persistent; shared with tests/codegen/test_scan.py
_sc = _load_test_module("scan_kernels")
for _rows, _n, _col, _kind in ((5, 7, False, "sum"), (3, 33, True, "prod"), (1, 1, False, "sum"),
                               (4, 19, False, "prod")):
    _xs = _sc.inputs(_rows, _n, _col, _kind, seed=_n)
    _flat = (_xs.t() if _col else _xs).contiguous().reshape(-1)
    _out, _tot = _sc.scan_ref(_xs, _kind)
    add(_sc.scan(_rows, _n, _col, _kind), [_flat],
        [(_out.t() if _col else _out).contiguous().reshape(-1), _tot], tol=(1e-5, 1e-5),
        schedules=[None, LOOP_SMALL, PERSIST_TAIL])
_xs = _sc.inputs(3, 10, False, "sum", "i64", seed=2)
add(_sc.scan(3, 10, False, "sum", "i64", then="neg"), [_xs.reshape(-1)],
    [-_xs.cumsum(1).reshape(-1), _xs.sum(1)], schedules=[None, LOOP_SMALL])
_xs = _sk.inputs(4, 20, False, "bf16", seed=3)
add(_sk.softmax(4, 20, False, "bf16"), [_xs.reshape(-1)], list(_sk.softmax_ref(_xs, False)),
    tol=[(8e-3, 8e-3), (1e-5, 1e-5)], schedules=[None, LOOP_SMALL])
# masked reads (within): cat along either axis (part boundaries inside blocks and
# tails), a sum over a cat along the reduce axis, a masked gather and a masked
# epilogue read; shared with tests/codegen/test_masked_reads.py
_mk = _load_test_module("masked_kernels")
for _axis, _rows, _n0, _n1 in ((1, 3, 5, 37), (0, 7, 33, 2), (1, 1, 1, 1)):
    _shape = (lambda n: (_rows, n)) if _axis == 1 else (lambda n: (n, _rows))
    _x0, _x1 = torch.randn(_shape(_n0), generator=_g), torch.randn(_shape(_n1), generator=_g)
    add(_mk.cat(_rows, _n0, _n1, _axis), [_x0.reshape(-1), _x1.reshape(-1)],
        _mk.cat_ref(_x0, _x1, _axis).reshape(-1), schedules=[None, LOOP_SMALL])
_x0, _x1 = torch.randn(5, 17, generator=_g), torch.randn(5, 6, generator=_g)
add(_mk.sum_of_cat(5, 17, 6), [_x0.reshape(-1), _x1.reshape(-1)],
    [torch.cat([_x0, _x1], 1).sum(1), torch.cat([_x0, _x1], 1).reshape(-1)],
    schedules=[None, LOOP_SMALL, PERSIST_TAIL])
_x0, _tab = torch.randn(3, 5, generator=_g), torch.randn(11, 8, generator=_g)
_ids = torch.tensor([4, 0, 10])
add(_mk.gather_cat(3, 5, 11, 8), [_x0.reshape(-1), _ids, _tab.reshape(-1)],
    torch.cat([_x0, _tab[_ids]], 1).reshape(-1), schedules=[None, LOOP_SMALL])
_x, _b0, _b1 = (torch.randn(13, 20, generator=_g), torch.randn(6, generator=_g),
                torch.randn(7, generator=_g))
add(_mk.epilogue_cat(6, 7, 20), [_x.reshape(-1), _b0, _b1],
    _x.amax(1) + torch.cat([_b0, _b1]), schedules=[None, LOOP_SMALL, PERSIST_TAIL])
