"""Prelude helpers for torch.special's orthogonal polynomials (chebyshev_polynomial_t/u/v/w,
shifted_chebyshev_polynomial_t/u/v/w, hermite_polynomial_h/he, laguerre_polynomial_l,
legendre_polynomial_p): one ``@triton.jit`` helper per function and operand dtype,
``_ember_<name>_f32(x, n)`` / ``_ember_<name>_f64(x, n)``, generated from the
algorithm descriptions of ``codegen/poly_algos.py`` (the ones the MLIR rules build,
see there), computing in the operand's dtype as eager does: ``tl.fma`` where eager's
compiler contracts, IEEE division (``div_rn`` for f32), Hermite's NaN limit of the
dtype, and each recurrence as a ``while`` loop that runs while any lane of the block
is still in it (the others keep their values; the reduction that tests it differs
per target, see ``_ANY``). acos/cos/sin are taken in f64 and rounded once (nearly
always the correctly rounded result, whatever the target's f32 forms are; eager's
libm acosf is sometimes an ulp away from it, which the closed forms multiply by about
n: see tests/codegen/poly_cases.check_close); acos refines the target's
``_ember_acos`` (libdevice on the GPU, a ~1e-9 form under the interpreter) by one
Newton step on the half angle. Elsewhere the results are eager's bit for bit under
the interpreter. zeta(x, q) (``codegen/zeta_algo.py``) is generated the same way,
``_ember_zeta_f32/_f64(x, q)``, in f64 with the prelude's ``_ember_pow`` (libdevice on
the GPU; exp2(y log2|x|) in f64 under the interpreter, so f64 results are within
~1e-13 of eager's there, f32 ones bit for bit in the tests). A kernel's module gets
only the helpers its body calls (:func:`used`)."""

from __future__ import annotations

import math
import re

from .. import poly_algos, zeta_algo
from .prelude_bessel import _lit

_PRED = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_TY = {"f32": "tl.float32", "f64": "tl.float64"}
_INT64_MIN = -(1 << 63)


class _E:
    """A named value (float of the dtype, int64, or condition) of the helper being written."""

    __slots__ = ("g", "name")

    def __init__(self, g: "_Gen", name: str):
        self.g, self.name = g, name

    def _bin(self, a, op: str, b) -> "_E":
        return self.g.emit(f"{self.g.o(a)} {op} {self.g.o(b)}")

    def __add__(self, o): return self._bin(self, "+", o)
    def __radd__(self, o): return self._bin(o, "+", self)
    def __sub__(self, o): return self._bin(self, "-", o)
    def __rsub__(self, o): return self._bin(o, "-", self)
    def __mul__(self, o): return self._bin(self, "*", o)
    def __rmul__(self, o): return self._bin(o, "*", self)
    def __truediv__(self, o): return self.g.div(self, o)
    def __rtruediv__(self, o): return self.g.div(o, self)
    def __neg__(self): return self.g.emit(f"-{self.name}")


class _Gen:
    """poly_algos.Ops writing Triton lines for operands of dtype ``dt`` (f32/f64):
    ``x`` the operand, ``n`` its degree truncated to int64 (x86's conversion)."""

    def __init__(self, dt: str, lines: list[str] | None = None):
        self.dt, self.ty = dt, _TY[dt]
        self.lines: list[str] = lines if lines is not None else [
            "x, nf = tl.broadcast(x, nf)",
            # static_cast<int64_t> as x86 does it: NaN, +-inf, |n| >= 2**63 -> INT64_MIN
            "bad = (nf != nf) | (tl.abs(nf) >= 9.223372036854775808e18)",
            f"n = tl.where(bad, tl.full(x.shape, {_INT64_MIN}, tl.int64), "
            "tl.where(bad, 0.0, nf).to(tl.int64))",
        ]
        self.n = 0
        self.loops = 0
        self.indent = ""

    def emit(self, expr: str, name: str | None = None) -> _E:
        if name is None:
            self.n += 1
            name = f"t{self.n}"
        self.lines.append(f"{self.indent}{name} = {expr}")
        return _E(self, name)

    def o(self, v) -> str:
        """A float operand: a value's name, or a literal (joins tensors in the dtype)."""
        return v.name if isinstance(v, _E) else _lit(v)

    def _t(self, v) -> str:
        """A float operand as a tensor of the dtype (literals made full)."""
        return v.name if isinstance(v, _E) else f"tl.full(x.shape, {_lit(v)}, {self.ty})"

    def div(self, a, b) -> _E:
        if self.dt == "f64":
            return self.emit(f"{self.o(a)} / {self.o(b)}")
        return self.emit(f"tl.math.div_rn({self._t(a)}, {self._t(b)})")  # IEEE for f32

    def const(self, c: float) -> _E:
        return self.emit(self._t(c))

    def fma(self, a: _E, b: _E, c: _E) -> _E:
        return self.emit(f"tl.fma({self._t(a)}, {self._t(b)}, {self._t(c)})")

    def fn(self, name: str, v: _E) -> _E:
        if name == "abs":
            return self.emit(f"tl.abs({v.name})")
        if name == "acos":
            return self.emit(f"_ember_poly_acos({v.name})")
        if name == "floor":
            return self.emit(f"tl.floor({v.name})")
        return self.emit(f"tl.{name}({v.name}.to(tl.float64)).to({self.ty})")

    def pow(self, a: _E, b: _E) -> _E:
        return self.emit(f"_ember_pow({self._t(a)}, {self._t(b)})")  # the prelude's C pow

    def sel(self, m: _E, a, b) -> _E:
        return self.emit(f"tl.where({m.name}, {self._t(a)}, {self._t(b)})")

    def cmp(self, pred: str, a: _E, b) -> _E:
        return self.emit(f"{a.name} {_PRED[pred]} {self.o(b)}")

    def isnan(self, v: _E) -> _E:
        return self.emit(f"{v.name} != {v.name}")

    def tofloat(self, i: _E) -> _E:
        return self.emit(f"{i.name}.to({self.ty})")

    def _i(self, b) -> str:
        return b.name if isinstance(b, _E) else str(int(b))

    def iadd(self, a: _E, b) -> _E:
        return self.emit(f"{a.name} + {self._i(b)}")

    def ineg(self, a: _E) -> _E:
        return self.emit(f"0 - {a.name}")

    def icmp(self, pred: str, a: _E, b) -> _E:
        return self.emit(f"{a.name} {_PRED[pred]} {self._i(b)}")

    def even(self, a: _E) -> _E:
        return self.emit(f"({a.name} & 1) == 0")

    def all(self, *ms: _E) -> _E:
        return self.emit(" & ".join(f"({m.name})" for m in ms))

    def any(self, *ms: _E) -> _E:
        return self.emit(" | ".join(f"({m.name})" for m in ms))

    def not_(self, m: _E) -> _E:
        return self.emit(f"~({m.name})")

    def loop(self, k0: int, step: int, alive: _E, state: list, cond, body) -> list:
        """k, the alive mask and the state as loop-carried variables of one ``while``
        that runs while any lane is alive; the body's values kept in the alive lanes."""
        self.loops += 1
        j = self.loops
        k = self.emit(f"tl.full(n.shape, {int(k0)}, tl.int64)", f"k{j}")
        st = [self.emit(self._t(s), f"s{j}_{i}") for i, s in enumerate(state)]
        a = f"a{j}"
        self.emit(f"{alive.name} & ({cond(k, st).name})", a)
        self.lines.append(f"{self.indent}while _ember_poly_any({a}):")
        outer, self.indent = self.indent, self.indent + "    "
        new = body(k, st)
        for s, v in zip(st, new):
            self.emit(f"tl.where({a}, {self._t(v)}, {s.name})", s.name)
        self.emit(f"{k.name} + {int(step)}", k.name)
        self.emit(f"{a} & ({cond(k, st).name})", a)
        self.indent = outer
        return st


def _helper(name: str, dt: str) -> str:
    g = _Gen(dt)
    kw = {"limit": poly_algos.HERMITE_LIMIT[dt]} if name.startswith("hermite") else {}
    r = poly_algos.FUNCTIONS[name](g, _E(g, "x"), _E(g, "n"), **kw)
    body = "\n".join(f"    {line}" for line in g.lines + [f"return {g._t(r)}"])
    return f"\n\n@triton.jit\ndef _ember_{name}_{dt}(x, nf):\n{body}\n"


def _zeta_helper(dt: str) -> str:
    """zeta(x, q) (codegen/zeta_algo.py) in f64, rounded to the operands' dtype; for
    f32 the first term q**-x is the f32 pow of the operands, as eager's powf."""
    lines = ["x, q = tl.broadcast(x, q)", "xd = x.to(tl.float64)", "qd = q.to(tl.float64)",
             "n = x"]  # the loop counter's shape
    first = None
    if dt == "f32":
        lines.append("p0 = _ember_pow(q, -x).to(tl.float64)")
    g = _Gen("f64", lines)
    if dt == "f32":
        first = _E(g, "p0")
    g.lines.append("x = xd")  # literals are made full in x's shape: the f64 x
    r = zeta_algo.zeta(g, _E(g, "xd"), _E(g, "qd"), first)
    body = "\n".join(f"    {line}" for line in g.lines + [f"return {g._t(r)}.to({_TY[dt]})"])
    return f"\n\n@triton.jit\ndef _ember_zeta_{dt}(x, q):\n{body}\n"


# acos in f64, rounded once: the target's _ember_acos refined by one Newton step on
# asin of the half angle's sine s (in [0, 1/2], where sin and cos are well conditioned)
_ACOS = f'''

@triton.jit
def _ember_poly_acos(x):
    d = x.to(tl.float64)
    a0 = _ember_acos(d)
    hi = d > 0.5
    lo = d < -0.5
    s = tl.where(hi, tl.sqrt(tl.maximum(1.0 - d, 0.0) * 0.5),
                 tl.where(lo, tl.sqrt(tl.maximum(1.0 + d, 0.0) * 0.5), d))
    b = tl.where(hi, a0 * 0.5, tl.where(lo, ({math.pi!r} - a0) * 0.5, {math.pi / 2!r} - a0))
    b = b - (tl.sin(b) - s) / tl.cos(b)
    r = tl.where(hi, b + b, tl.where(lo, {math.pi!r} - (b + b), {math.pi / 2!r} - b))
    r = tl.where(tl.abs(d) > 1.0, float("nan"), r)
    return tl.where(d != d, d, r).to(x.dtype)
'''

# whether any lane of a mask is set (a loop's condition), a reduction with a combine
# function per target. The interpreter reduces tl.max's own (triton.language.standard's
# _elementwise_max) with numpy, a prelude combiner once per element in Python; but that
# one is a jit function of triton's standard library, compiled or interpreted as triton
# was first imported, so the compiled target reduces with the prelude's _ember_imax
# (its module follows the target). A 0-d mask (both operands constants) is a scalar.
_ANY_FMT = """

@triton.jit
def _ember_poly_any(a):
    if len(a.shape) == 0:
        return a
    else:
        return tl.reduce(a.to(tl.int32), None, {comb}) > 0
"""
_ANY = {"interpret": _ANY_FMT.format(comb="tl.standard._elementwise_max"),
        "cuda": _ANY_FMT.format(comb="_ember_imax")}

_NAMES = (*poly_algos.FUNCTIONS, "zeta")
HELPERS: dict[tuple[str, str], str] = {
    **{(name, dt): _helper(name, dt) for name in poly_algos.FUNCTIONS for dt in _TY},
    **{("zeta", dt): _zeta_helper(dt) for dt in _TY}}

#: op -> the prelude call for operands ``{x}`` and ``{n}`` of dtype ``{dt}`` (f32/f64)
CALLS = {name: f"_ember_{name}_{{dt}}({{x}}, {{n}})" for name in _NAMES}

_CALLED = re.compile(r"\b_ember_(" + "|".join(_NAMES) + r")_(f32|f64)\(")


def used(body: str, target: str) -> str:
    """The helpers a kernel body calls (in a fixed order), after the two they share,
    for ``target`` ("cuda" or "interpret")."""
    names = set(_CALLED.findall(body))
    if not names:
        return ""
    return _ANY[target] + _ACOS + "".join(
        HELPERS[n, dt] for n in _NAMES for dt in _TY if (n, dt) in names)
