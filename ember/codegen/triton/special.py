"""Triton rules for division with rounding, the remainders, the inverse
trigonometric and hyperbolic functions, and the special functions' prelude calls
(Bessel, orthogonal polynomials; merged into ``source.LOWERINGS``).

Semantics as in ``codegen/mlir/special.py``: ATen's float floor division and
remainders; integer division never divides by 0 (the importer's assert reports
it as eager does) or computes ``MIN / -1`` (it wraps, as in eager). Triton's
``//`` and ``%`` on integers are C's truncating ``sdiv``/``srem`` (``udiv``/``urem``
for u8), and ``%`` on floats is ``fmod``. The inverse functions are libdevice on
the ``cuda`` target and the prelude's f64-core formulations under the interpreter.
"""

from __future__ import annotations

from typing import Callable

from ..kernel import FLOAT_DTYPES
from .prelude_bessel import CALLS as BESSEL_CALLS
from .prelude_poly import CALLS as POLY_CALLS
from .prelude_special import CALLS
from .rules import INT_WIDTH, UNSIGNED, OpCtx, _div, _float_unary, const


def _ints(cx: OpCtx) -> tuple[str, str, str, str]:
    """(dtype, a, b, safe b): b with 0 and (for MIN / -1) -1 replaced by 1."""
    dt = cx.same_dtype_args()
    if dt == "b8":
        raise cx.fail(f"{cx.instr.op} is not defined on bool (torch raises)")
    a, b = cx.args
    bad = f"({b} == {const(dt, 0)})"
    if dt not in UNSIGNED:
        lo = -(1 << (INT_WIDTH[dt] - 1))
        bad = f"({bad} | (({a} == {const(dt, lo)}) & ({b} == {const(dt, -1)})))"
    return dt, a, b, f"tl.where({bad}, {const(dt, 1)}, {b})"


def _fix(r: str, b: str, dt: str) -> str:
    """r != 0 and sign(r) != sign(b) (integers)."""
    zero = const(dt, 0)
    return f"(({r} != {zero}) & (({r} ^ {b}) < {zero}))"


def lower_fmod(cx: OpCtx) -> str:
    dt = cx.same_dtype_args()
    if dt in FLOAT_DTYPES:
        return cx.result(f"({cx.args[0]} % {cx.args[1]})", dt)
    dt, a, _, sb = _ints(cx)
    return cx.result(f"({a} % {sb})", dt)


def lower_remainder(cx: OpCtx) -> str:
    dt = cx.same_dtype_args()
    if dt in FLOAT_DTYPES:
        return cx.result(f"_ember_remainder_f({cx.args[0]}, {cx.args[1]})", dt)
    dt, a, b, sb = _ints(cx)
    if dt in UNSIGNED:
        return cx.result(f"({a} % {sb})", dt)
    r = f"({a} % {sb})"
    return cx.result(f"tl.where({_fix(r, b, dt)}, {r} + {b}, {r})", dt)


def lower_truncdiv(cx: OpCtx) -> str:
    dt = cx.same_dtype_args()
    if dt in FLOAT_DTYPES:
        a, b = cx.args
        return cx.result(f"_ember_trunc({_div(a, b, dt)})", dt)
    dt, a, _, sb = _ints(cx)
    return cx.result(f"({a} // {sb})", dt)


def lower_floordiv(cx: OpCtx) -> str:
    dt = cx.same_dtype_args()
    if dt in FLOAT_DTYPES:
        a, b = cx.args
        # c10::div_floor_floating, given a / b and (a - fmod(a, b)) / b
        quot, div = _div(a, b, dt), _div(f"({a} - {a} % {b})", b, dt)
        return cx.result(f"_ember_floordiv_f({a}, {b}, {quot}, {div})", dt)
    dt, a, b, sb = _ints(cx)
    if dt in UNSIGNED:
        return cx.result(f"({a} // {sb})", dt)
    q, r = f"({a} // {sb})", f"({a} % {sb})"
    return cx.result(f"tl.where({_fix(r, b, dt)}, {q} - {const(dt, 1)}, {q})", dt)


def _float_fn(name: str, arity: int) -> Callable[[OpCtx], str]:
    def lower(cx: OpCtx) -> str:
        dt = cx.same_dtype_args()
        if dt not in FLOAT_DTYPES:
            raise cx.fail(f"{name} needs float operands")
        return cx.result(f"_ember_{name}({', '.join(cx.args[:arity])})", dt)

    lower.__name__ = f"lower_{name}"
    return lower


def _special(name: str) -> Callable[[OpCtx], str]:
    return _float_unary(name, CALLS.get(name) or BESSEL_CALLS[name])


def _poly(name: str) -> Callable[[OpCtx], str]:
    """An orthogonal polynomial ``(x, n)`` or zeta ``(x, q)`` (prelude_poly.py): f32 and
    f64 only, as eager."""
    def lower(cx: OpCtx) -> str:
        dt = cx.same_dtype_args()
        if dt not in ("f32", "f64"):
            raise cx.fail(f"{name} needs f32 or f64 operands (eager has no other kernel)")
        x, n = cx.args
        return cx.result(POLY_CALLS[name].format(x=x, n=n, dt=dt), dt)

    lower.__name__ = f"lower_{name}"
    return lower


def _bits_fn(name: str, result: str | None = None) -> Callable[[OpCtx], str]:
    """A prelude_bits helper: ``_ember_<name>32`` on f32 compute values (f16/bf16 too),
    ``_ember_<name>64`` on f64; the result in ``result``'s dtype (the operand's if None)."""
    def lower(cx: OpCtx) -> str:
        dt = cx.same_dtype_args()
        if dt not in FLOAT_DTYPES or (name == "nextafter" and dt not in ("f32", "f64")):
            raise cx.fail(f"{cx.instr.op} needs float operands")
        width = "64" if dt == "f64" else "32"
        return cx.result(f"_ember_{name}{width}({', '.join(cx.args)})", result or dt)

    lower.__name__ = f"lower_{name}"
    return lower


SPECIAL_LOWERINGS: dict[str, Callable[[OpCtx], str]] = {
    "nextafter": _bits_fn("nextafter"), "frexp_mantissa": _bits_fn("frexp_m"),
    "frexp_exponent": _bits_fn("frexp_e", "i32"),
    "floordiv": lower_floordiv, "truncdiv": lower_truncdiv,
    "remainder": lower_remainder, "fmod": lower_fmod,
    "atan2": _float_fn("atan2", 2),
    **{n: _float_fn(n, 1) for n in ("asin", "acos", "atan", "asinh", "acosh", "atanh")},
    **{n: _special(n) for n in CALLS}, **{n: _special(n) for n in BESSEL_CALLS},
    **{n: _poly(n) for n in POLY_CALLS},
}
