"""The orthogonal polynomials of ``torch.special`` (chebyshev_polynomial_t/u/v/w,
shifted_chebyshev_polynomial_t/u/v/w, hermite_polynomial_h/he,
laguerre_polynomial_l, legendre_polynomial_p): binary ``(x, n)``, one description
of each algorithm written against a small set of operations (``Ops``) that both
targets implement: the MLIR rules build it as arith/math/scf ops
(``mlir/special_poly.py``), the Triton prelude as the lines of one
``@triton.jit`` helper per function and dtype (``triton/prelude_poly.py``).

The algorithms and branch points are ATen's (Math.h), in its order: ``n`` is
truncated to int64 first (x86's conversion: NaN, +-inf and |n| >= 2**63 give
INT64_MIN, so those n count as negative: the result is 0), then n < 0, the
values at |x| == 1 (x == 0, 1 for the shifted forms; integer arithmetic on n,
wrapping as eager's), the trigonometric closed forms (Chebyshev, for n above 6,
8 or 4 and |x| < 1), n == 0, n == 1, and otherwise the three-term recurrence,
whose trip count depends on n per element: a loop over k that runs while any
lane is still in its recurrence (``Ops.loop``), stopping a lane when ATen's loop
stops it (k past n, or q NaN for the ones that check).

Eager's CPU kernels compute in the operand's dtype (float for f32), and its
compiler contracts ``a * b - c`` into one fused multiply-add (the AVX2 and AVX512
builds torch dispatches to on such CPUs): the recurrences here use ``Ops.fma``
exactly where that contraction happens (measured: with it the f32 and f64
results are eager's bit for bit; without it the recurrences drift apart, by far
more than torch's tolerances for large n). Everything is computed in the operand's
dtype; acos, cos and sin are libm's, as eager calls them.

Where ATen returns an uninitialized variable (U, W, the shifted T, U, W,
Laguerre and Legendre of a NaN x with n >= 2: the loop never runs), eager's
result is whatever a register held, often the previous element's result;
Ember gives NaN there.
"""

from __future__ import annotations

from typing import Any, Callable, Protocol


class Ops(Protocol):
    """What the algorithms use. Float values (of the operand's dtype) support
    + - * / and negation, with Python floats on either side; ``n`` and ``k`` are
    int64 values; masks combine with ``all``/``any``/``not_``."""

    def const(self, c: float) -> Any: ...  # a float value of the dtype
    def fma(self, a: Any, b: Any, c: Any) -> Any: ...  # a * b + c, one rounding
    def fn(self, name: str, v: Any) -> Any: ...  # abs, acos, cos, sin
    def sel(self, m: Any, a: Any, b: Any) -> Any: ...  # a or b may be floats
    def cmp(self, pred: str, a: Any, b: Any) -> Any: ...  # lt le gt ge eq ne (ne: unordered)
    def isnan(self, v: Any) -> Any: ...
    def tofloat(self, i: Any) -> Any: ...  # int64 -> the dtype (rounded)
    def iadd(self, a: Any, b: Any) -> Any: ...  # int64, wrapping; b may be an int
    def ineg(self, a: Any) -> Any: ...
    def icmp(self, pred: str, a: Any, b: Any) -> Any: ...  # lt le gt ge eq; b may be an int
    def even(self, a: Any) -> Any: ...
    def all(self, *ms: Any) -> Any: ...
    def any(self, *ms: Any) -> Any: ...
    def not_(self, m: Any) -> Any: ...

    def loop(self, k0: int, step: int, alive: Any, state: list,
             cond: Callable[[Any, list], Any],
             body: Callable[[Any, list], list]) -> list:
        """k = k0 (int64, shaped as n); while a lane is alive (alive &= cond(k, state)
        before each step): state = body(k, state) in the alive lanes; k += step."""
        ...


def _chebyshev_loop(o: Ops, n, alive, y, q):
    """ATen's Chebyshev recurrence r = (y + y) q - p from p = 1, q (k = 2..n, while
    q is not NaN), contracted to fma(y + y, q, -p); q at the end."""
    yy = y + y

    def cond(k, s):
        return o.all(o.icmp("le", k, n), o.not_(o.isnan(s[1])))

    def body(k, s):
        p, q = s
        return [q, o.fma(yy, q, -p)]

    return o.loop(2, 1, alive, [o.const(1.0), q], cond, body)[1]


def _pm(o: Ops, pos, i):
    """``i`` as the dtype where ``pos`` holds, else -i (int64 negation, wrapping)."""
    return o.sel(pos, o.tofloat(i), o.tofloat(o.ineg(i)))


def _chebyshev(o: Ops, x, n, kind: str, shifted: bool):
    """T, U, V, W (shifted: of x + x - 1 with ATen's own edge tests and thresholds)."""
    y = (x + x - 1.0) if shifted else x
    ay = o.fn("abs", y)
    n1 = o.iadd(n, 1)
    n21 = o.iadd(o.iadd(n, n), 1)
    even = o.even(n)
    # the recurrence's start (n == 1's value) and the edge values
    first = {"t": y, "u": y + y, "v": y + y - 1.0, "w": y + y + 1.0}[kind]
    if shifted:
        hi, lo = o.cmp("eq", x, 1.0), o.cmp("eq", x, 0.0)  # y == 1, y == -1
        edge = o.any(hi, lo)
    else:
        edge = o.cmp("eq", ay, 1.0)
        hi = o.all(edge, o.cmp("gt", x, 0.0))
    one = o.const(1.0)
    if kind == "t":
        at_hi, at_lo = one, o.sel(even, 1.0, -1.0)
    elif kind == "u":
        at_hi, at_lo = o.tofloat(n1), _pm(o, even, n1)
    elif kind == "v":
        at_hi, at_lo = one, _pm(o, even, n21)
    else:
        at_hi, at_lo = o.tofloat(n21), o.sel(even, 1.0, -1.0)
    at_edge = o.sel(hi, at_hi, at_lo)
    # the trigonometric closed forms for |y| < 1 and n above a threshold
    limit = {"t": 6, "u": 8, "v": 8, "w": 8}[kind]
    if shifted:
        limit = 4 if kind == "w" else 6
    trig_on = o.all(o.icmp("gt", n, limit), o.cmp("lt", ay, 1.0))
    a = o.fn("acos", y)
    if kind == "t":
        trig = o.fn("cos", o.tofloat(n) * a)
    elif kind == "u":
        sa = o.fn("sin", a)
        fn1 = o.tofloat(n1)
        trig = o.sel(o.cmp("ne", sa, 0.0), o.fn("sin", fn1 * a) / sa,
                     fn1 * o.fn("cos", fn1 * a) / y)
    elif kind == "v":
        h = a / 2.0
        trig = o.sel(o.cmp("ne", o.fn("sin", h), 1.0),
                     o.fn("cos", (o.tofloat(n) + 0.5) * a) / o.fn("cos", h), at_lo)
    else:
        h = a / 2.0
        # cos(a / 2) == 1 (a tiny): ATen's unshifted form tests x > 0, the shifted not
        rest = at_lo if shifted else o.sel(o.cmp("gt", y, 0.0), o.tofloat(n21), at_lo)
        trig = o.sel(o.cmp("ne", o.fn("cos", h), 1.0),
                     o.fn("sin", (o.tofloat(n) + 0.5) * a) / o.fn("sin", h), rest)
    neg = o.icmp("lt", n, 0)
    small = o.icmp("lt", n, 2)
    run = o.not_(o.any(neg, small, edge, trig_on))
    r = _chebyshev_loop(o, n, run, y, first)
    r = o.sel(o.icmp("eq", n, 1), first, r)
    r = o.sel(o.icmp("eq", n, 0), 1.0, r)
    r = o.sel(trig_on, trig, r)
    r = o.sel(edge, at_edge, r)
    return o.sel(neg, 0.0, r)


def chebyshev_polynomial_t(o, x, n): return _chebyshev(o, x, n, "t", False)
def chebyshev_polynomial_u(o, x, n): return _chebyshev(o, x, n, "u", False)
def chebyshev_polynomial_v(o, x, n): return _chebyshev(o, x, n, "v", False)
def chebyshev_polynomial_w(o, x, n): return _chebyshev(o, x, n, "w", False)
def shifted_chebyshev_polynomial_t(o, x, n): return _chebyshev(o, x, n, "t", True)
def shifted_chebyshev_polynomial_u(o, x, n): return _chebyshev(o, x, n, "u", True)
def shifted_chebyshev_polynomial_v(o, x, n): return _chebyshev(o, x, n, "v", True)
def shifted_chebyshev_polynomial_w(o, x, n): return _chebyshev(o, x, n, "w", True)


def _hermite(o: Ops, x, n, physicists: bool, limit: int):
    """H (k = 2, 4, .. < 2n: r = (x + x) q - k p) or He (k = 1 .. n - 1: r = x q - k p);
    NaN beyond ``limit`` (ATen's: 128 for float, 512 for double)."""
    first = x + x if physicists else x
    run = o.all(o.icmp("ge", n, 2), o.icmp("le", n, limit))
    if physicists:
        nn = o.iadd(n, n)

        def cond(k, s):
            return o.icmp("lt", k, nn)
    else:
        def cond(k, s):
            return o.icmp("lt", k, n)

    def body(k, s):
        p, q = s
        return [q, o.fma(first, q, -(o.tofloat(k) * p))]

    r = o.loop(2 if physicists else 1, 2 if physicists else 1, run, [o.const(1.0), first],
               cond, body)[1]
    r = o.sel(o.icmp("gt", n, limit), float("nan"), r)
    r = o.sel(o.icmp("eq", n, 1), first, r)
    r = o.sel(o.icmp("eq", n, 0), 1.0, r)
    return o.sel(o.icmp("lt", n, 0), 0.0, r)


def hermite_polynomial_h(o, x, n, limit=128): return _hermite(o, x, n, True, limit)
def hermite_polynomial_he(o, x, n, limit=128): return _hermite(o, x, n, False, limit)


def laguerre_polynomial_l(o: Ops, x, n):
    """r = ((k + k) + (1 - x)) q - k p) / (k + 1), k = 1 .. n - 1 while q is not NaN."""
    first = 1.0 - x
    zero = o.cmp("eq", o.fn("abs", x), 0.0)
    run = o.all(o.icmp("ge", n, 2), o.not_(zero))

    def cond(k, s):
        return o.all(o.icmp("lt", k, n), o.not_(o.isnan(s[1])))

    def body(k, s):
        p, q = s
        kf = o.tofloat(k)
        return [q, o.fma(o.tofloat(o.iadd(k, k)) + first, q, -(kf * p))
                / o.tofloat(o.iadd(k, 1))]

    r = o.loop(1, 1, run, [o.const(1.0), first], cond, body)[1]
    r = o.sel(o.icmp("eq", n, 1), first, r)
    r = o.sel(o.icmp("eq", n, 0), 1.0, r)
    r = o.sel(zero, 1.0, r)
    return o.sel(o.icmp("lt", n, 0), 0.0, r)


def legendre_polynomial_p(o: Ops, x, n):
    """r = ((k + k + 1) x q - k p) / (k + 1), k = 1 .. n - 1 while q is not NaN."""
    edge = o.cmp("eq", o.fn("abs", x), 1.0)
    run = o.all(o.icmp("ge", n, 2), o.not_(edge))

    def cond(k, s):
        return o.all(o.icmp("lt", k, n), o.not_(o.isnan(s[1])))

    def body(k, s):
        p, q = s
        kf = o.tofloat(k)
        a = o.tofloat(o.iadd(o.iadd(k, k), 1)) * x
        return [q, o.fma(a, q, -(kf * p)) / o.tofloat(o.iadd(k, 1))]

    r = o.loop(1, 1, run, [o.const(1.0), x], cond, body)[1]
    r = o.sel(o.icmp("eq", n, 1), x, r)
    r = o.sel(o.icmp("eq", n, 0), 1.0, r)
    r = o.sel(edge, o.sel(o.any(o.cmp("gt", x, 0.0), o.even(n)), 1.0, -1.0), r)
    return o.sel(o.icmp("lt", n, 0), 0.0, r)


FUNCTIONS: dict[str, Callable[..., Any]] = {f.__name__: f for f in (
    chebyshev_polynomial_t, chebyshev_polynomial_u, chebyshev_polynomial_v,
    chebyshev_polynomial_w, shifted_chebyshev_polynomial_t, shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v, shifted_chebyshev_polynomial_w, hermite_polynomial_h,
    hermite_polynomial_he, laguerre_polynomial_l, legendre_polynomial_p)}

#: ATen's getHermitianLimit: n above it gives NaN (hermite_polynomial_h/he)
HERMITE_LIMIT = {"f32": 128, "f64": 512}
