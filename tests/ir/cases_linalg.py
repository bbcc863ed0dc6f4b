"""Op-table cases of the linear algebra, distance, searching and histogram library ops
(``ember/ir/library_linalg.py``), added to ``cases.CASES`` by :func:`linalg_cases`.

Inputs use ``cases``' value domains: ``spd`` (symmetric positive definite), ``sorted``,
``perm`` (a permutation: searchsorted's sorter) and ``pivots`` (LAPACK's 1-based row
interchanges, int32).
"""

from __future__ import annotations

import math


def linalg_cases(add, A) -> None:
    """Adds the cases through ``add`` (``cases.add``; ``A`` is ``cases.A``)."""
    # ember/ir/library_linalg.py: ops mirroring ATen overloads; attributes are ATen's arguments
    add("cdist", "f32-batch-broadcast", A(2, 1, 4, 3), A(3, 5, 3), p=2.0, compute_mode=None)
    add("cdist", "f64-p1-transposed", A(6, 4, dt="f64", lay="transposed"), A(5, 4, dt="f64"),
        p=1.0, compute_mode=None)
    add("cdist", "f32-mm-mode", A(30, 3), A(27, 3), p=2.0, compute_mode=1)
    add("cdist", "f32-pinf-special", A(3, 4, dom="special"), A(2, 4), p=math.inf,
        compute_mode=None)
    add("cdist", "features-rejected", A(3, 4), A(2, 5), p=2.0, compute_mode=None, reject=True)
    add("cdist", "f16-rejected", A(3, 4, dt="f16"), A(2, 4, dt="f16"), p=2.0,
        compute_mode=None, reject=True)
    add("euclidean_dist", "f32", A(30, 4), A(27, 4))
    add("euclidean_dist", "f64-batch", A(2, 5, 3, dt="f64"), A(2, 4, 3, dt="f64"))
    add("euclidean_dist", "features-rejected", A(3, 4), A(2, 5), reject=True)
    ss = dict(out_int32=False, right=False, side=None, given=())
    add("searchsorted", "f32-1d", A(9, dom="sorted"), A(3, 4, dom="intlike"), **ss)
    add("searchsorted", "i64-batched-right-int32", A(2, 7, dt="i64", dom="sorted"),
        A(2, 5, dt="i64", dom="small"), **{**ss, "out_int32": True, "right": True})
    add("searchsorted", "bf16-side-right", A(8, dt="bf16", dom="sorted"),
        A(6, dt="bf16", dom="intlike"), **{**ss, "side": "right"})
    add("searchsorted", "f64-sorter-special", A(10, dt="f64", dom="special"),
        A(7, dt="f64", dom="special"), A(10, dt="i64", dom="perm"),
        **{**ss, "given": ("sorter",)})
    add("searchsorted", "side-conflict-rejected", A(5), A(3), **{**ss, "side": "left",
                                                                 "right": True}, reject=True)
    add("searchsorted", "batch-rejected", A(2, 5), A(3, 4), **ss, reject=True)
    add("searchsorted_scalar", "f32", A(9, dom="sorted"), value=0.5, **ss)
    add("searchsorted_scalar", "i64-float-value-right-sorter", A(7, dt="i64"),
        A(7, dt="i64", dom="perm"), value=2.5, **{**ss, "right": True, "out_int32": True,
                                                   "given": ("sorter",)})
    add("searchsorted_scalar", "2d-rejected", A(2, 5), value=1, **ss, reject=True)
    add("bucketize_scalar", "f64", A(6, dt="f64", dom="sorted"), value=1, out_int32=False,
        right=True)
    add("bucketize_scalar", "i32", A(5, dt="i32", dom="sorted"), value=-0.5, out_int32=True,
        right=False)
    add("bucketize", "f32", A(4, 5, dom="intlike"), A(6, dom="sorted"), out_int32=False,
        right=False)
    add("bucketize", "i32-right-int32-strided", A(3, 6, dt="i32", lay="strided"),
        A(5, dt="i32", dom="sorted"), out_int32=True, right=True)
    add("bucketize", "f16", A(7, dt="f16"), A(4, dt="f16", dom="sorted"), out_int32=False,
        right=False)
    add("bucketize", "2d-boundaries-rejected", A(3), A(2, 2), out_int32=False, right=False,
        reject=True)
    add("histc", "f32-range", A(5, 6), bins=7, min=-2, max=2)
    add("histc", "f64-data-range", A(20, dt="f64"), bins=4, min=0, max=0)
    add("histc", "bf16", A(9, dt="bf16"), bins=3, min=-1.5, max=1.5)
    add("histc", "range-rejected", A(4), bins=3, min=1, max=0, reject=True)
    add("histogram", "f32-weight-density", A(4, 5), A(4, 5, dom="positive"), bins=6,
        range=(-1.0, 2.0), density=True, given=("weight",))
    add("histogram", "f64", A(11, dt="f64"), bins=3, range=None, density=False, given=())
    add("histogram", "bins-rejected", A(4), bins=0, range=None, density=False, given=(),
        reject=True)
    add("histogram_edges", "f32", A(3, 4), A(5, dom="sorted"), density=False, given=())
    add("histogram_edges", "f64-weight", A(8, dt="f64"), A(3, dt="f64", dom="sorted"),
        A(8, dt="f64", dom="positive"), density=True, given=("weight",))
    add("histogramdd_edges", "f32", A(10, 2), bins=(2, 3), range=None, density=False, given=())
    add("histogramdd_edges", "f64-range", A(2, 3, 3, dt="f64"), bins=(1, 2, 4),
        range=(-1.0, 1.0, 0.0, 2.0, -3.0, 3.0), density=False, given=())
    add("histogramdd", "f32-weight", A(10, 2), A(10, dom="positive"), bins=(2, 3), range=None,
        density=True, given=("weight",))
    add("histogramdd_from_edges", "f32", A(10, 2), A(3, dom="sorted"), A(5, dom="sorted"),
        density=False, given=())
    add("histogramdd_from_edges", "f64-weight-density", A(2, 4, 1, dt="f64"),
        A(4, dt="f64", dom="sorted"), A(2, 4, dt="f64", dom="positive"), density=True,
        given=("weight",))
    add("histogramdd_from_edges", "dims-rejected", A(10, 3), A(3), A(3), density=False,
        given=(), reject=True)
    add("histogramdd", "dims-rejected", A(10, 2), bins=(2, 3, 4), range=None, density=False,
        given=(), reject=True)
    # determinants and factorizations
    add("det", "f32-batch", A(3, 4, 4))
    add("det", "f64-transposed", A(5, 5, dt="f64", lay="transposed"))
    add("det", "square-rejected", A(3, 4), reject=True)
    add("det", "i64-rejected", A(3, 3, dt="i64"), reject=True)
    add("slogdet", "f32", A(2, 3, 3))
    add("slogdet", "f64-0d-batch", A(4, 4, dt="f64"))
    add("qr", "f32-reduced-tall", A(2, 5, 3), mode="reduced")
    add("qr", "f64-complete-wide", A(3, 5, dt="f64"), mode="complete")
    add("qr", "f32-r", A(4, 4, lay="transposed"), mode="r")
    add("qr", "mode-rejected", A(4, 4), mode="economic", reject=True)
    add("svd", "f32-thin", A(2, 5, 3), full_matrices=False, compute_uv=True, driver=None)
    add("svd", "f64-full-wide", A(3, 6, dt="f64"), full_matrices=True, compute_uv=True,
        driver=None)
    add("svd", "f32-values", A(4, 4), full_matrices=False, compute_uv=False, driver=None)
    add("eigh", "f32-lower", A(2, 4, 4, dom="spd"), UPLO="L", compute_v=True)
    add("eigh", "f64-upper-values", A(5, 5, dt="f64", dom="spd"), UPLO="U", compute_v=False)
    add("eigh", "uplo-rejected", A(3, 3), UPLO="X", compute_v=True, reject=True)
    add("cholesky", "f32-lower", A(2, 4, 4, dom="spd"), upper=False)
    add("cholesky", "f64-upper", A(5, 5, dt="f64", dom="spd"), upper=True)
    add("cholesky_ex", "f32", A(3, 3, 3, dom="spd"), upper=False, check_errors=False)
    add("cholesky_ex", "f64-upper-not-pd", A(4, 4, dt="f64"), upper=True, check_errors=False)
    add("cholesky_inverse", "f32", A(4, 4, dom="spd"), upper=False)
    add("cholesky_inverse", "f64-batch-upper", A(2, 3, 3, dt="f64", dom="spd"), upper=True)
    add("cholesky_solve", "f32-broadcast", A(2, 4, 3), A(4, 4, dom="spd"), upper=False)
    add("cholesky_solve", "f64-upper", A(3, 2, dt="f64"), A(3, 3, dt="f64", dom="spd"),
        upper=True)
    add("inv_ex", "f32", A(2, 4, 4), check_errors=False)
    add("inv_ex", "f64-transposed", A(3, 3, dt="f64", lay="transposed"), check_errors=False)
    add("matrix_exp", "f32", A(2, 3, 3))
    add("matrix_exp", "f64", A(5, 5, dt="f64"))
    add("matrix_exp", "bf16", A(4, 4, dt="bf16"))
    add("matrix_exp", "f16", A(1, 2, 2, dt="f16"))
    add("ldl_factor_ex", "f32", A(4, 4, dom="spd"), hermitian=False, check_errors=False)
    add("ldl_factor_ex", "f64-batch", A(2, 3, 3, dt="f64", dom="spd"), hermitian=True,
        check_errors=False)
    add("ldl_solve", "f32", A(4, 4, dom="spd"), A(4, dt="i32", dom="pivots"), A(2, 4, 3),
        hermitian=False)
    add("lu", "f32-tall", A(2, 5, 3), pivot=True)
    add("lu", "f64-wide", A(3, 4, dt="f64"), pivot=True)
    add("lu_factor_ex", "f32", A(2, 4, 4), pivot=True, check_errors=False)
    add("lu_factor_ex", "f64-wide", A(3, 5, dt="f64"), pivot=True, check_errors=False)
    add("lu_solve", "f32-left", A(4, 4), A(4, dt="i32", dom="pivots"), A(2, 4, 3), left=True,
        adjoint=False)
    add("lu_solve", "f64-right-adjoint", A(2, 3, 3, dt="f64"), A(2, 3, dt="i32", dom="pivots"),
        A(2, 5, 3, dt="f64"), left=False, adjoint=True)
    add("lu_solve", "pivots-dtype-rejected", A(4, 4), A(4, dt="i64"), A(4, 3), left=True,
        adjoint=False, reject=True)
    add("lu_unpack", "f32", A(2, 5, 3), A(2, 3, dt="i32", dom="pivots"), unpack_data=True,
        unpack_pivots=True)
    add("lu_unpack", "f64-pivots-only", A(4, 4, dt="f64"), A(4, dt="i32", dom="pivots"),
        unpack_data=False, unpack_pivots=True)
    add("lu_unpack", "f32-data-only", A(3, 4), A(3, dt="i32", dom="pivots"), unpack_data=True,
        unpack_pivots=False)
    add("solve_ex", "f32-matrix", A(2, 4, 4), A(2, 4, 3), left=True, check_errors=False)
    add("solve_ex", "f32-vector", A(3, 3), A(3), left=True, check_errors=False)
    add("solve_ex", "f64-batched-vector", A(2, 3, 3, dt="f64"), A(2, 3, dt="f64"), left=True,
        check_errors=False)
    add("solve_ex", "f64-right-broadcast", A(1, 3, 3, dt="f64"), A(4, 2, 3, dt="f64"),
        left=False, check_errors=False)
    add("solve_ex", "shape-rejected", A(3, 3), A(4, 2), left=True, check_errors=False,
        reject=True)
    add("solve_triangular", "f32-upper-left", A(2, 4, 4), A(2, 4, 3), upper=True, left=True,
        unitriangular=False)
    add("solve_triangular", "f64-lower-right-unit", A(3, 3, dt="f64"), A(2, 5, 3, dt="f64"),
        upper=False, left=False, unitriangular=True)
    add("triangular_solve", "f32", A(2, 4, 3), A(4, 4), upper=True, transpose=False,
        unitriangular=False)
    add("triangular_solve", "f64-lower-transpose", A(3, 2, dt="f64"), A(2, 3, 3, dt="f64"),
        upper=False, transpose=True, unitriangular=True)
    add("ormqr", "f32-left", A(5, 3), A(3), A(5, 2), left=True, transpose=False)
    add("ormqr", "f64-right-transpose", A(2, 4, 4, dt="f64"), A(2, 4, dt="f64"),
        A(2, 3, 4, dt="f64"), left=False, transpose=True)
    add("geqrf", "f32-tall", A(2, 5, 3))
    add("geqrf", "f64-wide", A(3, 4, dt="f64"))
    add("householder_product", "f32", A(2, 5, 3), A(2, 2))
    add("householder_product", "f64", A(4, 4, dt="f64"), A(4, dt="f64"))
    add("householder_product", "tau-rejected", A(5, 3), A(4), reject=True)
    add("pinv", "f32", A(2, 5, 3), hermitian=False, given=())
    add("pinv", "f64-hermitian-tols", A(4, 4, dt="f64", dom="spd"), A(dt="f64"), A(dt="f64"),
        hermitian=True, given=("atol", "rtol"))
    add("pinv", "f32-rtol-f64", A(3, 4, 4), A(3, dt="f64", dom="positive"), hermitian=False,
        given=("rtol",))
    add("pinv", "given-rejected", A(3, 3), A(), hermitian=False, given=("tol",), reject=True)
