"""Op-table cases of the orthogonal polynomials and zeta beyond the binary cases, added to
``cases.CASES`` by :func:`special_cases` (their input domains: ``polyx``/``polyn``,
``zetax``/``zetaq`` in ``cases._values``)."""

from __future__ import annotations

from ember.ir.ops import POLY


def special_cases(add, A) -> None:
    """Adds the cases through ``add`` (``cases.add``; ``A`` is ``cases.A``)."""
    _poly_cases(add, A)
    _zeta_cases(add, A)


def _poly_cases(add, A) -> None:
    """The orthogonal polynomials (x, n) beyond the binary cases: every x of POLY_X
    with every n of POLY_N (a row broadcast), f32 and f64."""
    for k, op in enumerate(POLY):
        add(op, "f32-degrees", A(6, 12, dom="polyx"), A(12, dom="polyn"))
        add(op, "f64-degrees-transposed", A(12, 12, dt="f64", lay="transposed", dom="polyx"),
            A(12, dt="f64", dom="polyn"))
        add(op, "f32-n-0d", A(5, 4, dom="polyx"), A(dom="polyn"))
        if k % 4 == 0:
            add(op, "f16-rejected", A(4, dt="f16"), A(4, dt="f16"), reject=True)


def _zeta_cases(add, A) -> None:
    """zeta (x, q) beyond the binary cases: every x of ZETA_X with every q of ZETA_Q
    and random q in [-10, 30), f32 and f64; q a 0-d tensor; f16 rejected (as eager)."""
    add("zeta", "f32-domains", A(14, 1, dom="zetax"), A(24, dom="zetaq"))
    add("zeta", "f64-domains-transposed", A(18, 14, dt="f64", lay="transposed", dom="zetax"),
        A(18, 1, dt="f64", dom="zetaq"))
    add("zeta", "f64-x-column", A(14, 1, dt="f64", dom="zetax"), A(18, dt="f64", dom="zetaq"))
    add("zeta", "f32-q-0d", A(14, dom="zetax"), A(dom="zetaq"))
    add("zeta", "f16-rejected", A(4, dt="f16"), A(4, dt="f16"), reject=True)
    add("zeta", "bf16-rejected", A(4, dt="bf16"), A(4, dt="bf16"), reject=True)
