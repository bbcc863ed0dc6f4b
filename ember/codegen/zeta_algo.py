"""The Hurwitz zeta function of ``torch.special.zeta(x, q)``: one description of
ATen's algorithm (Math.h's ``zeta``, from Cephes) written against the ``Ops`` of
``codegen/poly_algos.py`` plus ``pow`` (C's pow) and ``fn("floor")``, built by the
MLIR rules (``mlir/special_poly.py``) and the Triton prelude
(``triton/prelude_poly.py``) like the orthogonal polynomials.

Eager's CPU kernel computes in ``acc_type<scalar_t, false>``, double for both float
and double operands, and rounds the result to the operand's dtype: here too, the
operands are widened to f64 first and every step below is an f64 step, but one:
the first term q**-x is a pow of the operands themselves, which C++ resolves to
powf for float operands (rounded to float, then widened; measured: with it the
f32 results are eager's bit for bit nearly everywhere, without it 1 in 20 differ
by an ulp), so for f32 the target passes that term in (``first``).

In ATen's order: x == 1 gives inf; x < 1 NaN; q <= 0 gives inf when q is an
integer, else NaN when x is not one. Otherwise s = q**-x, and the direct sum
s += (q + i)**-x for i = 1, 2, ... runs while i < 9 or q + i <= 9, returning s
early once the new term is below MACHEP (2**-53) times s; its trip count depends
on q per element (about |q| + 9 for a negative non-integer q), so it is one loop
that runs while any lane is still summing (``Ops.loop``), the lane's count i a
float of its state. Then the Euler-Maclaurin tail with the twelve constants A
(the Bernoulli numbers' factorial ratios), returning as soon as a term is below
MACHEP times the sum: twelve steps, unrolled, a lane's sum frozen once it has
returned. No product in it feeds a sum that a compiler would contract (0.5 * b
is exact), so no step is an fma.
"""

from __future__ import annotations

from typing import Any

#: ATen's MACHEP for zeta (double's, for float operands too: acc_type is double)
MACHEP = 1.11022302462515654042e-16
#: the Euler-Maclaurin tail's divisors, (2j)! / B_2j, as Math.h (Cephes) has them
A = (12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
     7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
     -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18)


def zeta(o: Any, x, q, first=None):
    """zeta(x, q) of f64 values ``x`` and ``q`` (the Ops of poly_algos, with
    ``pow(a, b)`` and ``fn("floor", v)``); ``first``: the first term q**-x if the
    target computed it itself (f32 operands: eager's powf, widened), else pow's."""
    x_one = o.cmp("eq", x, 1.0)
    x_lt = o.cmp("lt", x, 1.0)
    q_le0 = o.cmp("le", q, 0.0)
    q_int = o.cmp("eq", q, o.fn("floor", q))
    x_frac = o.cmp("ne", x, o.fn("floor", x))  # unordered: a NaN x counts
    pole = o.all(q_le0, q_int)
    undefined = o.all(q_le0, x_frac)
    run = o.not_(o.any(x_one, x_lt, pole, undefined))
    nx = -x

    def hit(st):
        """ATen's early return of the direct sum: the last term b within MACHEP of s."""
        i, _, b, s = st
        ms = s * MACHEP
        return o.all(o.cmp("ge", i, 1.0), o.cmp("lt", -ms, b), o.cmp("lt", b, ms))

    def cond(k, st):
        i, a = st[0], st[1]
        return o.all(o.any(o.cmp("lt", i, 9.0), o.cmp("le", a, 9.0)), o.not_(hit(st)))

    def body(k, st):
        i, a, _, s = st
        a1 = a + 1.0
        b1 = o.pow(a1, nx)
        return [i + 1.0, a1, b1, s + b1]

    s_init = o.pow(q, nx) if first is None else first
    st = o.loop(0, 1, run, [o.const(0.0), q, o.const(0.0), s_init], cond, body)
    summed = hit(st)  # returned from the direct sum
    _, w, b, s0 = st
    done = summed
    s = s0 + b * w / (x - 1.0)
    s = s - 0.5 * b
    a = o.const(1.0)
    for j, aj in enumerate(A):
        a = a * (x + float(2 * j))
        b = b / w
        t = a * b / aj
        s1 = s + t
        s = o.sel(done, s, s1)
        done = o.any(done, o.cmp("lt", o.fn("abs", t / s1), MACHEP))
        a = a * (x + float(2 * j + 1))
        b = b / w
    r = o.sel(summed, s0, s)
    r = o.sel(undefined, float("nan"), r)
    r = o.sel(pole, float("inf"), r)
    r = o.sel(x_lt, float("nan"), r)
    return o.sel(x_one, float("inf"), r)
