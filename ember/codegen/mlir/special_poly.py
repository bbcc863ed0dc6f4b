"""MLIR lowerings of torch.special's orthogonal polynomials (chebyshev_polynomial_t/u/v/w,
shifted_chebyshev_polynomial_t/u/v/w, hermite_polynomial_h/he, laguerre_polynomial_l,
legendre_polynomial_p): the algorithms of ``codegen/poly_algos.py`` (ATen's) built
in the operand's type (f32 or f64, as eager computes them), with ``math.fma``
where eager's compiler contracts, libm's acos/cos/sin per lane (eager's calls,
bit for bit), and the recurrences as one ``scf.while`` over k that runs while any
lane of the vector is still in its recurrence (the others are masked). Also
zeta(x, q) (``codegen/zeta_algo.py``, the same Ops plus libm's pow; in f64, the
first term powf for f32 operands, as eager: bit for bit). Merged into
``special.SPECIAL_LOWERINGS``."""

from __future__ import annotations

from typing import Any, Callable

from mlir import ir
from mlir.dialects import arith, func, scf, vector
from mlir.dialects import math as mmath

from .. import poly_algos, zeta_algo
from .lowering import CmpF, CmpI, OpCtx, _float_to_int, is_vector, shaped
from .special_fns import V

_PRED = {"lt": CmpF.OLT, "le": CmpF.OLE, "gt": CmpF.OGT, "ge": CmpF.OGE, "eq": CmpF.OEQ,
         "ne": CmpF.UNE}
_IPRED = {"lt": CmpI.slt, "le": CmpI.sle, "gt": CmpI.sgt, "ge": CmpI.sge, "eq": CmpI.eq}


def _i64(like) -> ir.Type:
    return shaped(ir.IntegerType.get_signless(64), like)


def _iconst(like, v: int):
    t = _i64(like)
    attr = ir.IntegerAttr.get(ir.IntegerType.get_signless(64), v)
    return arith.constant(t, ir.DenseElementsAttr.get_splat(t, attr) if is_vector(t) else attr)


def _bconst(like, v: bool):
    t = shaped(ir.IntegerType.get_signless(1), like)
    attr = ir.IntegerAttr.get(ir.IntegerType.get_signless(1), int(v))
    return arith.constant(t, ir.DenseElementsAttr.get_splat(t, attr) if is_vector(t) else attr)


class _Ops:
    """poly_algos.Ops on MLIR values of the operand's type ``t`` (f32 or f64, scalar
    or vector): floats are ``V``, ints raw i64 values, masks raw i1 values."""

    def __init__(self, like, env):
        self.like, self.env = like, env
        self.t = like.v.type
        et = ir.VectorType(self.t).element_type if is_vector(self.t) else self.t
        self.f64 = et == ir.F64Type.get()

    def const(self, c: float) -> V:
        return self._f(c)

    def fma(self, a: V, b: V, c: V) -> V:
        return V(mmath.fma(a.v, b.v, c.v))

    def fn(self, name: str, v: V) -> V:
        if name == "abs":
            return V(mmath.absf(v.v))
        if name == "floor":
            return V(mmath.floor(v.v))
        # libm per lane (what eager calls; math.acos/cos/sin would be other code)
        et = ir.F64Type.get() if self.f64 else ir.F32Type.get()
        sym = name if self.f64 else name + "f"
        self.env.libm_decl(sym, et)
        x = v.v
        if not is_vector(x.type):
            return V(func.call([et], sym, [x]))
        r = x
        for lane in range(ir.VectorType(x.type).shape[0]):
            e = vector.extract(x, [], [lane])
            r = vector.insert(func.call([et], sym, [e]), r, [], [lane])
        return V(r)

    def pow(self, a: V, b: V) -> V:
        # libm's pow (convert-math-to-libm, per lane for vectors): eager's ::pow
        return V(mmath.powf(a.v, b.v))

    def _f(self, a) -> V:
        return a if isinstance(a, V) else V(self.like.v).c(a)

    def sel(self, m, a, b) -> V:
        return V(arith.select(m, self._f(a).v, self._f(b).v))

    def cmp(self, pred: str, a: V, b):
        return arith.cmpf(_PRED[pred], a.v, self._f(b).v)

    def isnan(self, v: V):
        return arith.cmpf(CmpF.UNO, v.v, v.v)

    def tofloat(self, i) -> V:
        return V(arith.sitofp(self.t, i))

    def _i(self, b):
        return _iconst(self.t, b) if isinstance(b, int) else b

    def iadd(self, a, b):
        return arith.addi(a, self._i(b))

    def ineg(self, a):
        return arith.subi(_iconst(self.t, 0), a)

    def icmp(self, pred: str, a, b):
        return arith.cmpi(_IPRED[pred], a, self._i(b))

    def even(self, a):
        return arith.cmpi(CmpI.eq, arith.andi(a, _iconst(self.t, 1)), _iconst(self.t, 0))

    def all(self, *ms):
        r = ms[0]
        for m in ms[1:]:
            r = arith.andi(r, m)
        return r

    def any(self, *ms):
        r = ms[0]
        for m in ms[1:]:
            r = arith.ori(r, m)
        return r

    def not_(self, m):
        return arith.xori(m, _bconst(self.t, True))

    def loop(self, k0: int, step: int, alive, state: list, cond, body) -> list:
        inits = [_iconst(self.t, k0), alive, *(s.v for s in state)]
        types = [v.type for v in inits]
        w = scf.WhileOp(types, inits)
        before = w.before.blocks.append(*types)
        with ir.InsertionPoint(before):
            k, a, *st = before.arguments
            a = arith.andi(a, cond(k, [V(s) for s in st]))
            go = (vector.reduction(ir.IntegerType.get_signless(1), vector.CombiningKind.OR, a)
                  if is_vector(a.type) else a)
            scf.condition(go, [k, a, *st])
        after = w.after.blocks.append(*types)
        with ir.InsertionPoint(after):
            k, a, *st = after.arguments
            new = body(k, [V(s) for s in st])
            new = [arith.select(a, n.v, s) for n, s in zip(new, st)]
            scf.yield_([arith.addi(k, _iconst(self.t, step)), a, *new])
        return [V(r) for r in list(w.results)[2:]]


def _lowering(name: str) -> Callable[[OpCtx], Any]:
    algo = poly_algos.FUNCTIONS[name]

    def lower(cx: OpCtx):
        dt = cx.same_dtype_args()
        if dt not in ("f32", "f64"):
            raise cx.fail(f"{name} needs f32 or f64 operands (eager has no other kernel)")
        x, n = cx.args
        ni = _float_to_int(n, 64)  # static_cast<int64_t>, as x86 converts
        o = _Ops(V(x), cx.env)
        kw = {"limit": poly_algos.HERMITE_LIMIT[dt]} if name.startswith("hermite") else {}
        return cx.result(algo(o, V(x), ni, **kw).v, dt)

    lower.__name__ = f"lower_{name}"
    return lower


def lower_zeta(cx: OpCtx):
    """zeta(x, q) (codegen/zeta_algo.py): in f64 for f32 operands too, as eager's
    double accumulation type, rounded once at the end."""
    dt = cx.same_dtype_args()
    if dt not in ("f32", "f64"):
        raise cx.fail("zeta needs f32 or f64 operands (eager has no other kernel)")
    x, q = cx.args
    first = None
    if dt == "f32":  # eager's first term: powf of the float operands (libm's)
        t64 = shaped(ir.F64Type.get(), x)
        first = V(arith.extf(t64, mmath.powf(q, arith.negf(x))))
        x, q = arith.extf(t64, x), arith.extf(t64, q)
    o = _Ops(V(x), cx.env)
    r = zeta_algo.zeta(o, V(x), V(q), first).v
    return cx.result(r if dt == "f64" else arith.truncf(cx.args[0].type, r), dt)


POLY_LOWERINGS: dict[str, Callable[[OpCtx], Any]] = {
    **{name: _lowering(name) for name in poly_algos.FUNCTIONS}, "zeta": lower_zeta}


