"""Shared case table for the IR tests: one-op graphs for every op of the op table.

A :class:`Case` names an op, its tensor arguments (shape, dtype, memory layout and
value domain) and its attributes. ``case.graph()`` builds the one-op IR graph whose
inputs are graph inputs (it raises :class:`ember.ir.IRError` for cases marked
``reject``), ``case.inputs()`` makes deterministic input tensors with the requested
layout, and ``case.eager(inputs)`` runs the op table's eager reference.

The table is built once at import (:data:`CASES`); ``test_ops_table`` compiles the
accepted cases, ``test_text_roundtrip`` prints and parses them.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from typing import Any

import torch

from ember.ir import OPS, Graph, TensorType
from ember.ir.dtypes import is_float, to_torch

from .cases_linalg import linalg_cases
from .cases_fft import fft_cases
from .cases_order import more_cases, order_cases
from .cases_random import draws, random_cases
from .cases_scatter import scatter_cases
from .cases_special import special_cases

# Kinds whose ops are compiled and compared against the eager reference.
COMPILED_KINDS = ("pointwise", "source", "constant", "reduction", "scan", "view", "movement",
                  "gather", "scatter", "library")

NAN, INF = math.nan, math.inf
# Values mixed into "special" float inputs.
SPECIALS = (NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, 1e-30, -1e30)
# The orthogonal polynomials' x (first, then uniform in [-1.1, 1.1]) and n (repeated):
# the edges +-1, 0, 1/2 (the shifted forms'), outside [-1, 1]; n negative, 0, 1, small,
# above the Chebyshev closed forms' thresholds (4, 6, 8), fractional (truncated)
POLY_X = (1.0, -1.0, 0.0, -0.0, 0.5, -0.5, 0.3, -0.8, 0.95, 1.25, -1.5, 2.0)
POLY_N = (7.0, -3.0, -1.0, 0.0, 1.0, 2.0, 3.0, 5.0, 9.0, 12.0, 6.5, -0.5)
# zeta's x (every value of ZETA_X down a column) and q (along a row; then uniform):
# x == 1, just around it, x < 1, integers and not, large (30: q**-x underflows for
# large q), +-inf, NaN; q <= 0 integers (poles) and not (NaN for a fractional x, else
# a direct sum of about |q| + 9 terms), tiny, around the sum's bound 9, large, +-inf, NaN
ZETA_X = (1.0, 0.999, 1.001, 0.5, -2.0, 1.5, 2.0, 3.0, 4.5, 7.0, 30.0, INF, -INF, NAN)
ZETA_Q = (0.0, -1.0, -6.0, -0.5, -3.25, -20.5, 1e-20, 0.3, 1.0, 2.5, 8.75, 9.0, 11.0, 75.5,
          1e6, INF, -INF, NAN)
# (their "special" x has no NaN: eager's result of a NaN x, n >= 2, is an
# uninitialized variable of ATen's)
POLY_NAN_X_UNDEFINED = {"chebyshev_polynomial_u", "chebyshev_polynomial_w",
                        "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u",
                        "shifted_chebyshev_polynomial_w", "laguerre_polynomial_l",
                        "legendre_polynomial_p"}  # as tests/codegen/poly_cases.UNINIT


@dataclass(frozen=True)
class Arg:
    """One tensor input of a case.

    layout: contig | transposed (last two dims swapped in memory) | reversed (all dims
        reversed in memory) | strided (last dim taken with step 2 from a larger buffer,
        storage offset 1) | offset (storage offset 3) | expanded (stride 0 on dim 0).
    domain: normal | positive | nonzero | gt_m1 | near1 | intlike | zeros | special |
        special_nonan | negbase | onenan | polyx | polyn | zetax | zetaq (floats); small |
        normal | full (ints: full = the whole u8/i8 range).
    """

    shape: tuple[int, ...]
    dtype: str = "f32"
    layout: str = "contig"
    domain: str = "normal"

    def __str__(self) -> str:
        s = f"{self.dtype}[{','.join(map(str, self.shape))}]"
        if self.layout != "contig":
            s += "/" + self.layout
        return s


@dataclass
class Case:
    op: str
    tag: str
    args: tuple[Arg, ...]
    attrs: dict[str, Any] = field(default_factory=dict)
    reject: bool = False  # Graph.add must raise IRError

    @property
    def id(self) -> str:
        return f"{self.op}-{self.tag}"

    @property
    def kind(self) -> str:
        return OPS[self.op].kind

    def graph(self) -> Graph:
        """The one-op graph; raises IRError when the op's rule rejects the case."""
        g = Graph(f"case_{self.op}")
        ins = [g.add_input(a.shape, a.dtype, f"x{i}") for i, a in enumerate(self.args)]
        node = g.add(self.op, ins, **self.attrs)
        g.outputs = list(node.outputs)
        return g

    def inputs(self) -> list[torch.Tensor]:
        seed = zlib.crc32(self.id.encode())
        return [make_tensor(a, seed + 7919 * i) for i, a in enumerate(self.args)]

    def eager(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        """The eager reference's result (the first output of a multi-output op)."""
        return self.eager_all(inputs)[0]

    def eager_all(self, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Every output of the eager reference (sort: values and indices); a random op's
        drawn after seeding the global generator with 0, as every call in these tests."""
        if draws(self.op):
            torch.manual_seed(0)
        out = OPS[self.op].eager(*inputs, **self.attrs)
        return list(out) if isinstance(out, (tuple, list)) else [out]

    def out_type(self) -> TensorType:
        return self.graph().outputs[0].type

    def tolerance(self) -> tuple[float, float]:
        """(rtol, atol) for comparing the compiled result with the eager reference."""
        out = self.out_type().dtype
        dts = {a.dtype for a in self.args} | {out}
        if not is_float(out):
            return 0.0, 0.0
        if dts & {"f16", "bf16"}:
            return 1e-2, 1e-2
        heavy = self.kind in ("reduction", "scan", "library")  # accumulations
        if out == "f64":
            return (1e-10, 1e-10) if heavy else (1e-7, 1e-7)
        return (1e-4, 1e-4) if heavy else (1e-5, 1e-5)

    def __repr__(self) -> str:
        return f"Case({self.id}: {self.op}({', '.join(map(str, self.args))}) {self.attrs})"


# -- input tensors ------------------------------------------------------------------------
def _values(shape: tuple[int, ...], dtype: str, domain: str, gen: torch.Generator) -> torch.Tensor:
    """Logical (contiguous) values of the requested domain."""
    n = math.prod(shape)
    if domain == "spd":  # symmetric positive definite matrices (cholesky, eigh)
        r = torch.randn(shape, generator=gen, dtype=torch.float64)
        eye = torch.eye(shape[-1], dtype=torch.float64)
        return (r @ r.mT + shape[-1] * eye).to(to_torch(dtype))
    if domain == "sorted":  # ascending along the last dim, with ties (searchsorted)
        return _values(shape, dtype, "small" if not is_float(dtype) else "intlike",
                       gen).sort(-1).values
    if domain == "perm":  # a permutation of the last dim (searchsorted's sorter)
        return torch.rand(shape, generator=gen).argsort(-1).to(to_torch(dtype))
    if domain == "pivots":  # LAPACK's 1-based row interchanges: pivots[i] in [i+1, k]
        k = shape[-1]
        lo = torch.arange(1, k + 1).expand(shape)
        v = lo + (torch.rand(shape, generator=gen) * (k + 1 - lo)).long()
        return v.to(to_torch(dtype))
    if domain.startswith("idx"):  # indices in [0, n) (scatter, index_put)
        return torch.randint(0, int(domain[3:]), shape, generator=gen).to(to_torch(dtype))
    if domain in ("seglen", "segoff"):  # segment lengths 1..n / offsets 0, 1, 3, 6, ...
        v = torch.arange(1, n + 1) if domain == "seglen" else torch.arange(n).cumsum(0)
        return v.to(to_torch(dtype)).reshape(shape)
    if dtype in ("c64", "c128"):  # random real and imaginary parts
        return torch.randn(shape, generator=gen, dtype=to_torch(dtype))
    if is_float(dtype):
        r = torch.randn(n, generator=gen, dtype=torch.float64)
        u = torch.rand(n, generator=gen, dtype=torch.float64)
        if domain == "normal":
            v = r * 2
        elif domain == "positive":
            v = u * 4 + 0.05
        elif domain == "nonzero":
            v = torch.where(r < 0, -1.0, 1.0) * (u * 2 + 0.25)
        elif domain == "gt_m1":
            v = u * 4 - 0.9
        elif domain == "unit":  # [-1, 1]: inverse trig and atanh
            v = u * 2 - 1
        elif domain == "prob":  # [0, 1]: ndtri
            v = u
        elif domain == "near1":
            v = torch.where(r < 0, -1.0, 1.0) * (u * 0.5 + 0.75)
        elif domain == "intlike":
            v = torch.randint(-3, 4, (n,), generator=gen).double()
        elif domain == "zeros":
            v = torch.where(u < 0.5, 0.0, r * 2)
        elif domain in ("special", "special_nonan"):
            idx = torch.randint(0, len(SPECIALS), (n,), generator=gen)
            v = torch.where(u < 0.6, torch.tensor(SPECIALS, dtype=torch.float64)[idx], r * 2)
            if domain == "special_nonan":
                v = v.nan_to_num(0.25, INF, -INF)
        elif domain == "negbase":  # negative bases / integral exponents for pow
            v = -(u * 3 + 0.5)
        elif domain == "polyx":
            v = torch.cat([torch.tensor(POLY_X, dtype=torch.float64), u * 2.2 - 1.1])[:n]
        elif domain == "zetax":
            v = torch.tensor(ZETA_X, dtype=torch.float64).repeat(n // len(ZETA_X) + 1)[:n]
        elif domain == "zetaq":
            v = torch.cat([torch.tensor(ZETA_Q, dtype=torch.float64), u * 40 - 10])[:n]
        elif domain == "polyn":
            v = torch.tensor(POLY_N, dtype=torch.float64).repeat(n // len(POLY_N) + 1)[:n]
        elif domain == "onenan":  # a single NaN at a random position
            v = r * 2
            if n:
                v[torch.randint(0, n, (1,), generator=gen)] = NAN
        else:
            raise ValueError(domain)
        return v.to(to_torch(dtype)).reshape(shape)
    if dtype == "b8":
        return (torch.rand(n, generator=gen) < 0.5).reshape(shape)
    if domain in ("minmax", "minus1"):  # the dtype's extremes; all -1
        info = torch.iinfo(to_torch(dtype))
        v = torch.tensor([info.min, info.max, info.min, -1] * n)[:n]
        return (v if domain == "minmax" else torch.full((n,), -1)).to(to_torch(dtype)).reshape(shape)
    if domain == "shift":  # amounts: negative, in range, and the width or more
        bits = torch.iinfo(to_torch(dtype)).bits
        lo, hi = (0 if dtype == "u8" else -3), bits + 3
    elif dtype == "u8":
        lo, hi = {"small": (0, 4), "positive": (1, 20), "full": (0, 256)}.get(domain, (0, 256))
    elif domain == "nonzero":  # divisors: [-20, 20] without 0
        v = torch.randint(1, 21, (n,), generator=gen) * torch.where(
            torch.rand(n, generator=gen) < 0.5, -1, 1)
        return v.to(to_torch(dtype)).reshape(shape)
    elif domain == "small":
        lo, hi = -3, 4
    elif domain == "positive":
        lo, hi = 1, 20
    elif domain == "full" and dtype == "i8":
        lo, hi = -128, 128
    else:
        lo, hi = -20, 21
    return torch.randint(lo, hi, (n,), generator=gen).to(to_torch(dtype)).reshape(shape)


def _garbage(dtype: str):
    """Fill for buffer elements outside the logical tensor (visible if read by mistake)."""
    if is_float(dtype) or dtype in ("c64", "c128"):
        return NAN
    return True if dtype == "b8" else 123


def _permuted(vals: torch.Tensor, perm: list[int]) -> torch.Tensor:
    inv = [perm.index(i) for i in range(len(perm))]
    return vals.permute(perm).contiguous().permute(inv)


def make_tensor(arg: Arg, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    shape, dt, layout = arg.shape, to_torch(arg.dtype), arg.layout
    vals = _values(shape, arg.dtype, arg.domain, gen)
    rank = len(shape)
    if layout == "contig" or rank == 0:
        return vals
    if layout == "transposed" and rank >= 2:
        perm = list(range(rank))
        perm[-1], perm[-2] = perm[-2], perm[-1]
        return _permuted(vals, perm)
    if layout == "reversed" and rank >= 2:
        return _permuted(vals, list(reversed(range(rank))))
    if layout == "strided" or (layout in ("transposed", "reversed") and rank < 2):
        n = shape[-1]
        base = torch.full(shape[:-1] + (2 * n + 1,), _garbage(arg.dtype), dtype=dt)
        base[..., 1:2 * n + 1:2] = vals
        return base[..., 1::2]
    if layout == "offset":
        base = torch.full((vals.numel() + 3,), _garbage(arg.dtype), dtype=dt)
        base[3:] = vals.reshape(-1)
        return base[3:].view(shape)
    if layout == "expanded":
        assert shape[0] >= 1, arg
        return vals[:1].clone().expand(shape)
    raise ValueError(f"unknown layout {layout!r}")


# -- the table -----------------------------------------------------------------------------
CASES: list[Case] = []


def add(op: str, tag: str, *args: Arg, reject: bool = False, **attrs: Any) -> None:
    CASES.append(Case(op, tag, tuple(args), attrs, reject))


def A(*shape: int, dt: str = "f32", lay: str = "contig", dom: str = "normal") -> Arg:
    return Arg(tuple(shape), dt, lay, dom)


NONCONTIG = ("transposed", "strided", "offset", "expanded", "reversed")
INTS_ROT = ("i32", "i64", "i8", "u8", "i16")
# Main-case domain of float-only unary ops whose interesting domain is restricted.
UNARY_DOMAIN = {"log": "positive", "log2": "positive", "sqrt": "positive", "rsqrt": "positive",
                "log1p": "gt_m1", "reciprocal": "nonzero", "asin": "unit", "acos": "unit",
                "atanh": "unit", "acosh": "positive", "erfinv": "unit", "ndtri": "prob"}
HALF_UNARY = {"exp": "f16", "log": "bf16", "sigmoid": "bf16", "sqrt": "f16", "relu": "bf16"}


def _unary_cases() -> None:
    unary = [n for n, o in OPS.items() if o.kind == "pointwise" and o.arity == 1
             and n not in ("cast", "logical_not") and n not in BITWISE]
    for k, op in enumerate(unary):
        fo = OPS[op].float_only
        dom = UNARY_DOMAIN.get(op, "normal")
        lay = NONCONTIG[k % len(NONCONTIG)]
        add(op, "f32", A(4, 8, dom=dom))
        add(op, "f32-special", A(4, 8, dom="special"))
        add(op, f"f32-{lay}", A(5, 6, lay=lay, dom=dom))
        add(op, "f64-0d", A(dt="f64", dom=dom))
        add(op, "f32-empty", A(0, 5, dom=dom))
        if op in HALF_UNARY:
            add(op, HALF_UNARY[op], A(3, 7, dt=HALF_UNARY[op], dom=dom))
        idt = INTS_ROT[k % len(INTS_ROT)]
        if fo:
            add(op, f"{idt}-rejected", A(4, dt=idt), reject=True)
            add(op, "b8-rejected", A(4, dt="b8"), reject=True)
        else:
            add(op, f"{idt}-{lay}", A(6, 5, dt=idt, lay=lay))
            add(op, "i8", A(4, 8, dt="i8"))
            add(op, "u8", A(4, 8, dt="u8", dom="full"))
    add("relu", "b8", A(4, 8, dt="b8"))
    add("logical_not", "f32", A(4, 8, dom="zeros"))
    add("logical_not", "f32-special", A(4, 8, dom="special"))
    add("logical_not", "b8-transposed", A(5, 6, dt="b8", lay="transposed"))
    add("logical_not", "i32-0d", A(dt="i32", dom="small"))
    add("logical_not", "u8", A(4, 8, dt="u8", dom="full"))
    add("logical_not", "b8-empty", A(0, 5, dt="b8"))


ARITH = ("add", "sub", "mul", "maximum", "minimum")
LOGICAL = ("logical_and", "logical_or")
COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")
B8_BINARY = {"add", "mul", "maximum", "logical_or", "lt"}
HALF_BINARY = {"add": "f16", "mul": "bf16", "div": "f16", "lt": "bf16", "floordiv": "bf16",
               "remainder": "f16", "atan2": "bf16"}
# Division with rounding and remainders: integer cases for every integer dtype
# (divisors never 0: eager raises there), and i8 MIN / -1 (which wraps; eager's
# int32/int64 MIN / -1 dies of SIGFPE, so there is nothing to compare with).
INT_DIVISION = ("floordiv", "truncdiv", "remainder", "fmod")


# Integer and bool only: every integer dtype over its whole range, bool, layouts,
# broadcasting, 0-d and empty operands; floats are rejected by the rule.
BITWISE = ("bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not")
SHIFTS = ("bitwise_left_shift", "bitwise_right_shift")


def _bitwise_cases() -> None:
    for k, op in enumerate(BITWISE):
        n = OPS[op].arity
        lay = NONCONTIG[k % len(NONCONTIG)]
        for idt in ("i8", "i16", "i32", "i64", "u8", "b8"):
            dom = "full" if idt in ("u8", "i8") else "normal"
            add(op, idt, *[A(4, 8, dt=idt, dom=dom)] * n)
        add(op, f"i64-{lay}", *[A(5, 6, dt="i64", lay=lay)] * n)
        add(op, "i32-0d", *[A(dt="i32")] * n)
        add(op, "b8-empty", *[A(0, 5, dt="b8")] * n)
        add(op, "f32-rejected", *[A(4, 8)] * n, reject=True)
        if n == 2:
            add(op, "i32-row", A(4, 8, dt="i32"), A(8, dt="i32"))
            add(op, "u8-outer", A(3, 1, dt="u8", dom="full"), A(1, 5, dt="u8", dom="full"))


def _shift_cases() -> None:
    for op in SHIFTS:
        for idt in ("i8", "i16", "i32", "i64", "u8"):
            add(op, idt, A(4, 8, dt=idt, dom="full"), A(4, 8, dt=idt, dom="shift"))
        add(op, "i64-row-transposed", A(5, 6, dt="i64", lay="transposed"), A(6, dt="i64",
                                                                              dom="shift"))
        add(op, "i32-0d-amount", A(3, 4, dt="i32"), A(dt="i32", dom="small"))
        add(op, "f32-rejected", A(4, 8), A(4, 8), reject=True)
        add(op, "b8-rejected", A(4, 8, dt="b8"), A(4, 8, dt="b8"), reject=True)


def _binary_cases() -> None:
    binary = [n for n, o in OPS.items() if o.kind == "pointwise" and o.arity == 2
              and n not in BITWISE and n not in SHIFTS]
    for k, op in enumerate(binary):
        fo = OPS[op].float_only
        da, db = "normal", "normal"
        if op in ("div",) + INT_DIVISION:
            db = "nonzero"
        elif op == "pow":
            da = "positive"
        elif op in LOGICAL:
            da = db = "zeros"
        elif op in COMPARE or op in ("maximum", "minimum"):
            da = db = "intlike"  # equal elements occur
        lay_a = NONCONTIG[k % len(NONCONTIG)]
        lay_b = NONCONTIG[(k + 2) % len(NONCONTIG)]
        add(op, "f32-row", A(4, 8, dom=da), A(8, dom=db))
        sx = "special_nonan" if op in POLY_NAN_X_UNDEFINED else "special"
        add(op, "f32-special", A(4, 8, dom=sx), A(8, dom="special"))
        add(op, "f32-outer", A(3, 1, dom=da), A(1, 5, dom=db))
        if k % 2:
            add(op, "f64-0d-lhs", A(dt="f64", dom=da), A(2, 3, dt="f64", dom=db))
        else:
            add(op, "f64-0d-rhs", A(2, 3, dt="f64", dom=da), A(dt="f64", dom=db))
        add(op, f"f32-{lay_a}-{lay_b}", A(5, 6, lay=lay_a, dom=da), A(5, 6, lay=lay_b, dom=db))
        add(op, "f32-empty", A(0, 5, dom=da), A(5, dom=db))
        idts = [INTS_ROT[k % len(INTS_ROT)]]
        if op in COMPARE or op in ("maximum", "minimum"):
            idts = ["u8", "i8"]  # signedness matters: values span the whole 8-bit range
        for idt in idts:
            if fo:
                add(op, f"{idt}-rejected", A(4, 8, dt=idt), A(4, 8, dt=idt), reject=True)
            else:
                dom = "full" if idt in ("u8", "i8") and op not in ("mul",) else "normal"
                add(op, idt, A(4, 8, dt=idt, dom=dom),
                    A(4, 8, dt=idt, dom="nonzero" if op in INT_DIVISION else dom))
        if op in B8_BINARY:
            add(op, "b8", A(4, 8, dt="b8"), A(8, dt="b8"))
        if op in HALF_BINARY:
            h = HALF_BINARY[op]
            add(op, h, A(3, 7, dt=h, dom=da), A(3, 7, dt=h, dom=db))
        # rule rejections common to all binary ops
        add(op, "mixed-dtypes-rejected", A(4, dt="f32"), A(4, dt="f64"), reject=True)
        if k % 3 == 0:
            add(op, "no-broadcast-rejected", A(4, 8), A(5), reject=True)
    add("add", "f32-long", A(1031), A(1031))
    add("maximum", "f32-long-onenan", A(2, 1031, dom="onenan"), A(1031, dom="onenan"))
    add("exp", "f32-long-transposed", A(67, 31, lay="transposed"))
    for op in INT_DIVISION:
        for idt in ("i8", "i16", "i32", "i64", "u8"):
            if idt != INTS_ROT[[n for n, o in OPS.items() if o.kind == "pointwise"
                                and o.arity == 2 and n not in BITWISE
                                and n not in SHIFTS].index(op)
                               % len(INTS_ROT)]:
                add(op, f"{idt}-all", A(3, 7, dt=idt, dom="full"), A(7, dt=idt, dom="nonzero"))
        add(op, "i8-min-by-minus1", A(4, dt="i8", dom="minmax"), A(4, dt="i8", dom="minus1"))
        add(op, "f32-zero-divisor", A(4, 8, dom="special"), A(8, dom="zeros"))
        add(op, "b8-rejected", A(4, dt="b8"), A(4, dt="b8"), reject=True)
    # pow with negative bases and integral exponents is defined by eager (no NaN).
    add("pow", "f32-negbase-intexp", A(4, 8, dom="negbase"), A(8, dom="intlike"))


def _other_pointwise_cases() -> None:
    b8c = dict(dt="b8")
    add("where", "f32", A(4, 8, **b8c), A(4, 8), A(8))
    add("where", "f32-special", A(4, 8, **b8c), A(4, 8, dom="special"), A(8, dom="special"))
    add("where", "f32-bcast", A(3, 1, **b8c), A(1, 5), A())
    add("where", "f32-noncontig", A(5, 6, dt="b8", lay="transposed"), A(5, 6, lay="strided"),
        A(5, 6, lay="expanded"))
    add("where", "i64-0d", A(**b8c), A(dt="i64"), A(dt="i64"))
    add("where", "b8", A(4, 8, **b8c), A(4, 8, dt="b8"), A(4, 8, dt="b8"))
    add("where", "f16-empty", A(0, 5, **b8c), A(5, dt="f16"), A(0, 1, dt="f16"))
    add("where", "u8-f64", A(2, 3, **b8c), A(2, 3, dt="u8", dom="full"), A(3, dt="u8", dom="full"))
    add("where", "f32-cond-rejected", A(4), A(4), A(4), reject=True)
    add("where", "branch-dtypes-rejected", A(4, **b8c), A(4), A(4, dt="f64"), reject=True)

    def cast(tag, arg, dtype, reject=False):
        add("cast", tag, arg, dtype=dtype, reject=reject)

    cast("f32-i32", A(4, 8, dom="normal"), "i32")
    cast("f32-b8-special", A(4, 8, dom="special"), "b8")
    cast("b8-f32", A(4, 8, dt="b8"), "f32")
    cast("u8-i32", A(4, 8, dt="u8", dom="full"), "i32")
    cast("i8-u8", A(4, 8, dt="i8", dom="full"), "u8")
    cast("i32-i8", A(4, 8, dt="i32"), "i8")
    cast("i64-f64-transposed", A(5, 6, dt="i64", lay="transposed"), "f64")
    cast("f32-f16", A(4, 8), "f16")
    cast("f16-f32-special", A(4, 8, dt="f16", dom="special"), "f32")
    cast("f32-bf16-special", A(4, 8, dom="special"), "bf16")
    cast("bf16-f32-strided", A(5, 6, dt="bf16", lay="strided"), "f32")
    cast("f64-f32-special", A(4, 8, dt="f64", dom="special"), "f32")
    cast("f32-u8-positive", A(4, 8, dom="positive"), "u8")
    cast("i32-f32-0d", A(dt="i32"), "f32")
    cast("f32-i64-empty", A(0, 5), "i64")


def _source_cases() -> None:
    add("full", "f32", shape=(2, 3), value=1.5, dtype="f32")
    add("full", "i32-neg", shape=(4, 1, 3), value=-7, dtype="i32")
    add("full", "b8-0d", shape=(), value=True, dtype="b8")
    add("full", "i64-empty", shape=(0, 3), value=0, dtype="i64")
    add("full", "f32-inf", shape=(5,), value=-INF, dtype="f32")
    add("full", "f32-nan", shape=(2, 2), value=NAN, dtype="f32")
    add("full", "f16", shape=(3, 2), value=2.5, dtype="f16")
    add("full", "f64-int-value", shape=(2,), value=3, dtype="f64")
    add("full", "negative-shape-rejected", shape=(-1, 2), value=0.0, dtype="f32", reject=True)
    add("iota", "i64", length=8, start=0, step=1, dtype="i64")
    add("iota", "f32-frac", length=5, start=0.5, step=0.25, dtype="f32")
    add("iota", "i32-negstep", length=6, start=10, step=-3, dtype="i32")
    add("iota", "f64-empty", length=0, start=0, step=1, dtype="f64")
    add("iota", "f32-int-step", length=7, start=-3, step=2, dtype="f32")
    add("iota", "negative-length-rejected", length=-1, start=0, step=1, dtype="i64", reject=True)

    gen = torch.Generator().manual_seed(5)
    add("constant", "f32", value=torch.randn(3, 4, generator=gen))
    add("constant", "f32-special", value=torch.tensor([NAN, INF, -INF, -0.0, 1e-30]))
    add("constant", "i64", value=torch.randint(-50, 50, (2, 3), generator=gen))
    add("constant", "b8", value=torch.rand(2, 5, generator=gen) < 0.5)
    add("constant", "f16-0d", value=torch.tensor(1.5, dtype=torch.float16))
    add("constant", "bf16", value=torch.randn(4, generator=gen).to(torch.bfloat16))
    add("constant", "u8-empty", value=torch.zeros(0, 3, dtype=torch.uint8))


def _reduction_cases() -> None:
    for k, op in enumerate(("sum", "prod", "amax", "amin", "mean")):
        dom = "near1" if op == "prod" else "normal"
        lay = ("reversed", "strided", "transposed", "offset", "expanded")[k]
        add(op, "f32-ax1", A(4, 8, dom=dom), axes=(1,), keepdim=False)
        add(op, "f32-special", A(4, 8, dom="special"), axes=(1,), keepdim=False)
        add(op, f"f32-ax02-keep-{lay}", A(3, 4, 5, lay=lay, dom=dom), axes=(0, 2), keepdim=True)
        add(op, "f32-ax02", A(3, 4, 5, dom=dom), axes=(0, 2), keepdim=False)
        add(op, "f32-all", A(3, 4, 5, dom=dom), axes=(0, 1, 2), keepdim=False)
        add(op, "f64-0d", A(dt="f64", dom=dom), axes=(), keepdim=False)
        add(op, "f32-noaxes", A(3, 4, dom=dom), axes=(), keepdim=True)
        add(op, "unsorted-axes-rejected", A(3, 4, 5), axes=(2, 0), keepdim=False, reject=True)
        add(op, "axis-out-of-range-rejected", A(3, 4), axes=(2,), keepdim=False, reject=True)
        if op in ("amax", "amin"):
            add(op, "empty-axis-rejected", A(0, 5), axes=(0,), keepdim=False, reject=True)
            add(op, "f32-empty-keep", A(0, 5), axes=(1,), keepdim=False)
            add(op, "b8", A(4, 8, dt="b8"), axes=(1,), keepdim=False)
        else:
            add(op, "f32-empty-axis", A(0, 5), axes=(0,), keepdim=False)
    # Long rows and columns (vectorized loops and their remainders).
    add("sum", "f32-long-row", A(3, 1000), axes=(1,), keepdim=False)
    add("sum", "f32-long-col", A(1001, 3), axes=(0,), keepdim=False)
    add("amax", "f32-long-onenan", A(4, 1031, dom="onenan"), axes=(1,), keepdim=False)
    add("amin", "f64-long-col-onenan", A(517, 3, dt="f64", dom="onenan"), axes=(0,),
        keepdim=True)
    add("sum", "f64-0d-ax0", A(dt="f64"), axes=(0,), keepdim=True)
    add("sum", "i32", A(4, 8, dt="i32"), axes=(1,), keepdim=False)
    add("sum", "i64-all", A(3, 4, 5, dt="i64", lay="transposed"), axes=(0, 1, 2), keepdim=False)
    add("prod", "i64", A(4, 8, dt="i64", dom="small"), axes=(1,), keepdim=False)
    add("amax", "u8", A(4, 8, dt="u8", dom="full"), axes=(1,), keepdim=False)
    add("amax", "i8-all", A(4, 8, dt="i8", dom="full"), axes=(0, 1), keepdim=True)
    add("amin", "u8", A(4, 8, dt="u8", dom="full"), axes=(0,), keepdim=False)
    add("amin", "i32", A(4, 8, dt="i32"), axes=(1,), keepdim=True)
    add("mean", "i32-rejected", A(4, 8, dt="i32"), axes=(1,), keepdim=False, reject=True)
    add("sum", "f16", A(4, 64, dt="f16"), axes=(1,), keepdim=False)
    add("mean", "bf16", A(4, 64, dt="bf16"), axes=(1,), keepdim=False)
    add("amax", "f16", A(4, 8, dt="f16"), axes=(0, 1), keepdim=False)


def _scan_cases() -> None:
    for op in ("cumsum", "cumprod"):
        dom = "near1" if op == "cumprod" else "normal"
        add(op, "f32-ax1", A(4, 8, dom=dom), axis=1)
        add(op, "f32-ax0-transposed", A(5, 3, lay="transposed", dom=dom), axis=0)
        add(op, "f32-special", A(4, 8, dom="special"), axis=1)
        add(op, "f32-3d-ax1-strided", A(2, 9, 3, lay="strided", dom=dom), axis=1)
        add(op, "f32-long-row", A(3, 1000, dom=dom), axis=1)
        add(op, "f32-empty", A(3, 0), axis=1)
        add(op, "f64-0d", A(dt="f64", dom=dom), axis=0)
        add(op, "i64", A(4, 8, dt="i64", dom="small"), axis=1)
        add(op, "i32-offset", A(4, 8, dt="i32", lay="offset", dom="small"), axis=0)
        add(op, "f16", A(4, 64, dt="f16", dom=dom), axis=1)
        add(op, "bf16-col", A(33, 4, dt="bf16", dom=dom), axis=0)
        add(op, "axis-out-of-range-rejected", A(3, 4), axis=2, reject=True)
        add(op, "b8-rejected", A(3, 4, dt="b8"), axis=1, reject=True)


def _view_cases() -> None:
    add("reshape", "f32-flatten", A(4, 6), shape=(24,))
    add("reshape", "f32-merge-transposed", A(4, 6, lay="transposed"), shape=(24,))
    add("reshape", "f32-split-strided", A(2, 3, 4, lay="strided"), shape=(6, 2, 2))
    add("reshape", "i64", A(4, 6, dt="i64"), shape=(2, 2, 6))
    add("reshape", "f64-0d", A(dt="f64"), shape=(1, 1))
    add("reshape", "f32-to-0d", A(1, 1, lay="transposed"), shape=())
    add("reshape", "f32-empty", A(0, 5), shape=(5, 0))
    add("reshape", "b8-offset", A(2, 3, dt="b8", lay="offset"), shape=(3, 2))
    add("reshape", "f16-expanded", A(3, 4, dt="f16", lay="expanded"), shape=(2, 6))
    add("reshape", "numel-rejected", A(4, 6), shape=(5, 5), reject=True)
    add("permute", "f32", A(2, 3, 4), dims=(2, 0, 1))
    add("permute", "f32-transposed", A(5, 6, lay="transposed"), dims=(1, 0))
    add("permute", "i32-strided", A(3, 4, 5, dt="i32", lay="strided"), dims=(1, 2, 0))
    add("permute", "f64-0d", A(dt="f64"), dims=())
    add("permute", "b8-empty", A(2, 0, 3, dt="b8"), dims=(2, 1, 0))
    add("permute", "bad-perm-rejected", A(2, 3), dims=(0, 0), reject=True)
    add("expand", "f32", A(3, 1), shape=(2, 3, 5))
    add("expand", "i64-vec", A(1, dt="i64"), shape=(4,))
    add("expand", "f32-0d", A(), shape=(2, 3))
    add("expand", "f32-strided", A(4, 1, lay="strided"), shape=(4, 6))
    add("expand", "b8-transposed", A(1, 4, dt="b8", lay="transposed"), shape=(3, 4))
    add("expand", "f16-empty", A(1, 5, dt="f16"), shape=(0, 5))
    add("expand", "bad-shape-rejected", A(3, 2), shape=(3, 4), reject=True)
    add("slice", "f32-step3", A(10, 6), axis=0, start=1, end=9, step=3)
    add("slice", "f32-empty", A(10, 6), axis=1, start=2, end=2, step=1)
    add("slice", "f32-transposed", A(5, 6, lay="transposed"), axis=1, start=1, end=6, step=2)
    add("slice", "i32-strided", A(2, 3, 8, dt="i32", lay="strided"), axis=2, start=3, end=8, step=2)
    add("slice", "b8", A(7, 3, dt="b8"), axis=0, start=0, end=7, step=4)
    add("slice", "f64-offset", A(6, 4, dt="f64", lay="offset"), axis=1, start=1, end=3, step=1)
    add("slice", "end-rejected", A(4, 6), axis=1, start=0, end=7, step=1, reject=True)
    add("slice", "step0-rejected", A(4, 6), axis=1, start=0, end=6, step=0, reject=True)
    add("squeeze", "f32", A(1, 4, 1, 3), axes=(0, 2))
    add("squeeze", "f32-none", A(2, 3), axes=())
    add("squeeze", "i64-to-0d", A(1, dt="i64"), axes=(0,))
    add("squeeze", "f32-expanded", A(2, 1, 5, lay="expanded"), axes=(1,))
    add("squeeze", "b8-transposed", A(3, 1, dt="b8", lay="transposed"), axes=(1,))
    add("squeeze", "not-size1-rejected", A(2, 3), axes=(0,), reject=True)
    add("unsqueeze", "f32-front", A(4, 5), axis=0)
    add("unsqueeze", "f32-end-transposed", A(4, 5, lay="transposed"), axis=2)
    add("unsqueeze", "f64-0d", A(dt="f64"), axis=0)
    add("unsqueeze", "b8-strided", A(3, 4, dt="b8", lay="strided"), axis=1)
    add("unsqueeze", "i32-empty", A(0, 3, dt="i32"), axis=1)
    add("unsqueeze", "axis-rejected", A(4), axis=2, reject=True)
    add("unfold", "f32-ax1", A(4, 10), axis=1, size=3, step=2)
    add("unfold", "f32-ax0-transposed", A(7, 3, lay="transposed"), axis=0, size=2, step=1)
    add("unfold", "i64-whole", A(2, 5, dt="i64"), axis=1, size=5, step=3)
    add("unfold", "b8-size0", A(3, 4, dt="b8"), axis=1, size=0, step=1)
    add("unfold", "f64-0d", A(dt="f64"), axis=0, size=1, step=1)
    add("unfold", "size-rejected", A(3, 4), axis=1, size=5, step=1, reject=True)
    add("as_strided", "f32-windows", A(20), size=(3, 4), stride=(5, 1), offset=2)
    add("as_strided", "f32-overlap-strided", A(12, lay="strided"), size=(4, 3), stride=(2, 1),
        offset=0)
    add("as_strided", "i32-offset-bcast", A(9, dt="i32", lay="offset"), size=(2, 3),
        stride=(0, 3), offset=1)
    add("as_strided", "f16-0d", A(5, dt="f16"), size=(), stride=(), offset=4)
    add("as_strided", "past-end-rejected", A(6), size=(2, 3), stride=(3, 1), offset=1,
        reject=True)
    add("as_strided", "2d-operand-rejected", A(2, 3), size=(6,), stride=(1,), offset=0,
        reject=True)


def _gather_cases() -> None:
    # indices in range: "small" is -3..3 (valid with wrap on an axis of 4 or more),
    # "positive" is 1..19 (an axis of 20)
    add("take", "f32-ax0-wrap", A(4, 6), A(5, dt="i64", dom="small"), axis=0, wrap=True)
    add("take", "f16-ax1-2d-idx", A(3, 4, dt="f16", lay="transposed"),
        A(2, 3, dt="i32", dom="small"), axis=1, wrap=True)
    add("take", "f32-no-wrap", A(20, 3, lay="strided"), A(7, dt="i64", dom="positive"),
        axis=0, wrap=False)
    add("take", "b8-ax2", A(2, 3, 4, dt="b8"), A(3, dt="i64", dom="small"), axis=2, wrap=True)
    add("take", "bf16-0d-idx", A(5, 4, dt="bf16"), A(dt="i64", dom="small"), axis=0, wrap=True)
    add("take", "i64-empty-idx", A(4, 2, dt="i64"), A(0, dt="i64"), axis=0, wrap=False)
    add("take", "float-idx-rejected", A(4, 2), A(3), axis=0, wrap=False, reject=True)
    add("take", "axis-rejected", A(4, 2), A(3, dt="i64"), axis=2, wrap=False, reject=True)
    # torch.gather: "positive" indices (1..19) on an axis of 20
    add("take_along", "f32-ax0", A(20, 5), A(3, 5, dt="i64", dom="positive"), axis=0)
    add("take_along", "f16-ax1-smaller", A(4, 20, dt="f16", lay="transposed"),
        A(2, 7, dt="i32", dom="positive"), axis=1)
    add("take_along", "i64-3d", A(2, 20, 3, dt="i64"), A(2, 4, 3, dt="i64", dom="positive"),
        axis=1)
    add("take_along", "rank-rejected", A(4, 2), A(3, dt="i64"), axis=0, reject=True)
    add("take_along", "larger-rejected", A(4, 2), A(3, 3, dt="i64"), axis=0, reject=True)


def _movement_cases() -> None:
    add("cat", "f32-2-ax0", A(2, 3), A(4, 3), axis=0)
    add("cat", "f32-3-ax1-with-empty", A(3, 1), A(3, 0), A(3, 4), axis=1)
    add("cat", "f32-noncontig", A(4, 5, lay="transposed"), A(2, 5, lay="strided"),
        A(3, 5, lay="expanded"), axis=0)
    add("cat", "i64-ax2", A(2, 2, 3, dt="i64"), A(2, 2, 1, dt="i64"), axis=2)
    add("cat", "b8", A(2, 3, dt="b8"), A(2, 3, dt="b8", lay="offset"), axis=1)
    add("cat", "f16-single", A(3, 4, dt="f16"), axis=1)
    add("cat", "f64-all-empty", A(0, 3, dt="f64"), A(0, 3, dt="f64"), axis=0)
    add("cat", "u8-3", A(1, 4, dt="u8", dom="full"), A(2, 4, dt="u8", dom="full"),
        A(3, 4, dt="u8", dom="full"), axis=0)
    add("cat", "dtypes-rejected", A(2, 3), A(2, 3, dt="f64"), axis=0, reject=True)
    add("cat", "dtypes3-rejected", A(2, 3, dt="i32"), A(2, 3, dt="i32"), A(2, 3, dt="i64"),
        axis=0, reject=True)
    add("cat", "shapes-rejected", A(2, 3), A(2, 4), axis=0, reject=True)
    add("cat", "0d-rejected", A(), A(), axis=0, reject=True)


def _matmul_cases() -> None:
    add("mm", "f32", A(4, 8), A(8, 5))
    add("mm", "f32-transposed", A(4, 8, lay="transposed"), A(8, 5, lay="transposed"))
    add("mm", "f32-strided-offset", A(4, 8, lay="strided"), A(8, 5, lay="offset"))
    add("mm", "f64", A(3, 7, dt="f64"), A(7, 2, dt="f64"))
    add("mm", "i64", A(4, 8, dt="i64"), A(8, 5, dt="i64"))
    add("mm", "bf16", A(4, 16, dt="bf16"), A(16, 5, dt="bf16"))
    add("mm", "f32-k0", A(4, 0), A(0, 5))
    add("mm", "f32-m0", A(0, 3), A(3, 5))
    add("mm", "f32-special", A(4, 8, dom="special"), A(8, 5))
    add("mm", "shape-rejected", A(4, 8), A(7, 5), reject=True)
    add("mm", "dtype-rejected", A(4, 8), A(8, 5, dt="f64"), reject=True)
    add("mm", "rank-rejected", A(2, 4, 8), A(2, 8, 5), reject=True)
    add("bmm", "f32", A(2, 3, 4), A(2, 4, 5))
    add("bmm", "f32-noncontig", A(2, 3, 4, lay="reversed"), A(2, 4, 5, lay="transposed"))
    add("bmm", "f16", A(3, 4, 8, dt="f16"), A(3, 8, 2, dt="f16"))
    add("bmm", "i32", A(2, 3, 4, dt="i32"), A(2, 4, 5, dt="i32"))
    add("bmm", "f32-b0", A(0, 3, 4), A(0, 4, 5))
    add("bmm", "batch-rejected", A(2, 3, 4), A(3, 4, 5), reject=True)
    add("addmm", "f32-row-bias", A(5), A(4, 8), A(8, 5), beta=1.0, alpha=1.0)
    add("addmm", "f32-beta-alpha", A(4, 5, lay="transposed"), A(4, 8), A(8, 5, lay="strided"),
        beta=0.5, alpha=2.0)
    add("addmm", "f32-col-bias", A(4, 1), A(4, 8), A(8, 5), beta=-1.5, alpha=0.25)
    add("addmm", "f32-0d-bias", A(), A(4, 8), A(8, 5), beta=1.0, alpha=1.0)
    add("addmm", "f32-beta0-nan-bias", A(4, 5, dom="special"), A(4, 8), A(8, 5), beta=0.0,
        alpha=1.0)
    add("addmm", "i64-int-scalars", A(1, 5, dt="i64"), A(4, 8, dt="i64"), A(8, 5, dt="i64"),
        beta=2, alpha=3)
    add("addmm", "f64", A(5, dt="f64"), A(3, 7, dt="f64"), A(7, 5, dt="f64"), beta=1.0, alpha=-1.0)
    add("addmm", "bias-rejected", A(3), A(4, 8), A(8, 5), beta=1.0, alpha=1.0, reject=True)


def _conv(stride=(1,), padding=(0,), dilation=(1,), transposed=False, output_padding=(0,),
          groups=1, nd=1) -> dict:
    def per_dim(v):
        return v * nd if len(v) == 1 else v

    return dict(stride=per_dim(stride), padding=per_dim(padding), dilation=per_dim(dilation),
                transposed=transposed, output_padding=per_dim(output_padding), groups=groups)


def _library_cases() -> None:
    # convolution: every rank, groups, stride/padding/dilation, transposed, bias or not
    add("convolution", "2d-f32-pad", A(2, 3, 7, 6), A(4, 3, 3, 3), **_conv(padding=(1,), nd=2))
    add("convolution", "1d-f64-bias-groups-stride-dilation", A(2, 4, 11, dt="f64"),
        A(6, 2, 3, dt="f64"), A(6, dt="f64"), **_conv(stride=(2,), dilation=(2,), groups=2))
    add("convolution", "3d-f32-noncontig", A(1, 2, 4, 5, 3, lay="transposed"), A(3, 2, 2, 2, 2),
        **_conv(padding=(1, 0, 1), nd=3))
    add("convolution", "transposed-2d-f32-strided", A(2, 4, 5, 5, lay="strided"),
        A(4, 3, 3, 3), A(3),
        **_conv(stride=(2,), padding=(1,), output_padding=(1,), transposed=True, nd=2))
    add("convolution", "transposed-1d-groups", A(1, 4, 6), A(4, 1, 3),
        **_conv(groups=2, transposed=True))
    add("convolution", "bf16-bias", A(1, 3, 6, 6, dt="bf16"), A(2, 3, 3, 3, dt="bf16"),
        A(2, dt="bf16"), **_conv(nd=2))
    add("convolution", "f16", A(1, 2, 9, dt="f16"), A(2, 2, 3, dt="f16"), **_conv(padding=(2,)))
    add("convolution", "i64", A(1, 2, 5, dt="i64"), A(3, 2, 2, dt="i64"), A(3, dt="i64"),
        **_conv())
    add("convolution", "f32-special", A(1, 2, 7, dom="special"), A(3, 2, 3), **_conv())
    add("convolution", "channels-rejected", A(1, 3, 7), A(4, 2, 3), **_conv(), reject=True)
    add("convolution", "groups-rejected", A(1, 4, 7), A(3, 2, 3), **_conv(groups=2),
        reject=True)
    add("convolution", "kernel-too-large-rejected", A(1, 2, 2), A(3, 2, 3), **_conv(),
        reject=True)
    add("convolution", "b8-rejected", A(1, 2, 5, dt="b8"), A(3, 2, 2, dt="b8"), **_conv(),
        reject=True)
    add("convolution", "bias-rejected", A(1, 2, 5), A(3, 2, 2), A(2), **_conv(), reject=True)
    # sort / topk / kthvalue: (values, int64 indices); odd sizes, NaN, ties, layouts
    add("sort", "f32", A(5, 7), axis=1, descending=False, stable=False)
    add("sort", "f32-desc-stable-axis0-transposed", A(6, 5, lay="transposed", dom="intlike"),
        axis=0, descending=True, stable=True)
    add("sort", "f32-special", A(3, 12, dom="special"), axis=1, descending=False, stable=True)
    add("sort", "bf16", A(4, 9, dt="bf16"), axis=1, descending=True, stable=False)
    add("sort", "f16", A(9, dt="f16"), axis=0, descending=False, stable=True)
    add("sort", "i32-strided", A(3, 7, dt="i32", lay="strided"), axis=1, descending=False,
        stable=True)
    add("sort", "b8", A(11, dt="b8"), axis=0, descending=False, stable=True)
    add("sort", "0d", A(), axis=0, descending=False, stable=False)
    add("sort", "axis-rejected", A(3, 4), axis=2, descending=False, stable=False, reject=True)
    add("topk", "f32", A(4, 9), k=3, axis=1, largest=True, sorted=True)
    add("topk", "f32-smallest-axis0-strided", A(7, 4, lay="strided"), k=2, axis=0,
        largest=False, sorted=True)
    add("topk", "f64-special", A(2, 13, dt="f64", dom="special"), k=5, axis=1, largest=True,
        sorted=True)
    add("topk", "i64", A(3, 10, dt="i64"), k=4, axis=1, largest=True, sorted=True)
    add("topk", "f16-k0", A(3, 5, dt="f16"), k=0, axis=1, largest=True, sorted=True)
    add("topk", "k-rejected", A(3, 5), k=6, axis=1, largest=True, sorted=True, reject=True)
    add("topk", "b8-rejected", A(3, 5, dt="b8"), k=1, axis=1, largest=True, sorted=True,
        reject=True)
    add("kthvalue", "f32", A(4, 9), k=3, axis=1, keepdim=False)
    add("kthvalue", "f64-keepdim-axis0-transposed", A(5, 4, dt="f64", lay="transposed"), k=5,
        axis=0, keepdim=True)
    add("kthvalue", "bf16", A(3, 7, dt="bf16", dom="intlike"), k=2, axis=1, keepdim=False)
    add("kthvalue", "i32", A(6, dt="i32"), k=6, axis=0, keepdim=False)
    add("kthvalue", "k-rejected", A(3, 5), k=0, axis=1, keepdim=False, reject=True)



_unary_cases()
_bitwise_cases()
_shift_cases()
_binary_cases()
special_cases(add, A)
_other_pointwise_cases()
_source_cases()
_reduction_cases()
_scan_cases()
_view_cases()
_movement_cases()
_gather_cases()
_matmul_cases()
_library_cases()
linalg_cases(add, A)
random_cases(add, A)
order_cases(add, A)
more_cases(add, A)
fft_cases(add, A)
scatter_cases(add, A)

ACCEPTED = [c for c in CASES if not c.reject]
REJECTED = [c for c in CASES if c.reject]
