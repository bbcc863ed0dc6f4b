"""MLIR lowerings of torch.special's Bessel and Airy functions (bessel_j0/j1/y0/y1,
modified_bessel_i0/i1/k0/k1, scaled_modified_bessel_k0/k1, spherical_bessel_j0,
airy_ai): the algorithms of ``codegen/bessel_algos.py`` (ATen's, from Cephes)
built as f64 arith/math ops for every float dtype, with the float roundings eager
makes in its f32 kernel where they show (see there), and for f32 operands exp, log,
sin and cos in f32 (see ``_Ops``); one rounding to the operand's type at the end.
Merged into ``special.SPECIAL_LOWERINGS`` beside ``special_fns``' table."""

from __future__ import annotations

import math
from typing import Any, Callable

from mlir import ir
from mlir.dialects import arith
from mlir.dialects import math as mmath

from .. import bessel_algos
from .lowering import CmpF, OpCtx, is_vector, shaped
from .special_fns import V, f64_operand, sel

_PRED = {"lt": CmpF.OLT, "le": CmpF.OLE, "gt": CmpF.OGT, "ge": CmpF.OGE, "eq": CmpF.OEQ}
_FN = {"abs": "absf", "sqrt": "sqrt", "exp": "exp", "log": "log", "sin": "sin", "cos": "cos"}


class _Ops:
    """bessel_algos.Ops on f64 MLIR values (``V``); ``narrow``: the operand's type
    when it is not f64 (rnd rounds through it).

    exp, log, sin and cos of f32 operands: Ember's f32 vector math (vmath.py: one
    polynomial for all lanes, within 1.5 ulp) on the argument, a value of the
    operand's dtype (see bessel_algos.Ops.fn), where eager's float kernel calls
    expf, logf, sinf and cosf; the rest stays f64. (f64 libm calls per lane would
    cost up to 10x more: j0 of 2**20 floats, 23 ms against 1.8 ms.)"""

    def __init__(self, like: V, narrow, f32: bool, env):
        self.like, self.narrow, self.f32, self.env = like, narrow, f32, env

    def fn(self, name: str, v: V, wide: bool = False) -> V:
        if self.f32 and not wide and name in ("exp", "log", "sin", "cos"):
            from .vmath import NEEDS_ENV, VMATH

            x32 = arith.truncf(shaped(self.narrow, v.v), v.v)
            r = VMATH[name](x32, self.env) if name in NEEDS_ENV else VMATH[name](x32)
            return V(arith.extf(v.v.type, r))
        return V(getattr(mmath, _FN[name])(v.v))

    def sel(self, c, a, b) -> V:
        if isinstance(a, V):
            return sel(c, a, b)
        b = b if isinstance(b, V) else self.like.c(b)
        return V(arith.select(c, b._o(a), b.v))

    def cmp(self, pred: str, a: V, b) -> Any:
        return a.cmp(_PRED[pred], b)

    def isinf(self, v: V):
        return self.fn("abs", v).eq(math.inf)

    def rnd(self, v: V) -> V:
        if self.narrow is None:
            return v
        return V(arith.extf(v.v.type, arith.truncf(shaped(self.narrow, v.v), v.v)))

    def const(self, c: float) -> V:
        return self.rnd(self.like.c(c))


def _lowering(name: str) -> Callable[[OpCtx], Any]:
    algo = bessel_algos.FUNCTIONS[name]

    def lower(cx: OpCtx):
        dt, x, d = f64_operand(cx, name)
        d = V(d)
        narrow = None if dt == "f64" else (
            ir.VectorType(x.type).element_type if is_vector(x.type) else x.type)
        r = algo(_Ops(d, narrow, dt == "f32", cx.env), d).v
        return cx.result(r if dt == "f64" else arith.truncf(x.type, r), dt)

    lower.__name__ = f"lower_{name}"
    return lower


BESSEL_LOWERINGS: dict[str, Callable[[OpCtx], Any]] = {
    name: _lowering(name) for name in bessel_algos.FUNCTIONS}
