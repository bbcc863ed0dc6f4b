"""Table-driven tests of the op table: every op, compiled as a one-op graph, against eager.

The cases live in :mod:`tests.ir.cases`. Besides the differential test
(``test_compiled_matches_eager``), this checks the table itself: every op of the
compiled kinds has cases, rules reject what they should (``IRError``), and the eager
references agree with the rules (shape/dtype) and with direct torch calls.

Compiling imports :mod:`ember.compiler` lazily, so everything else here runs without it.
"""

from __future__ import annotations

import math

import pytest
import torch

from ember.ir import OPS, Graph, IRError, print_graph, verify
from ember.ir.dtypes import DTYPES, from_torch, is_float, to_torch

from .cases import ACCEPTED, CASES, COMPILED_KINDS, REJECTED, Case
from .cases_fft import FFT_DIRECT
from .cases_order import MORE_DIRECT, ORDER_DIRECT
from .cases_random import RANDOM_DIRECT, UNINITIALIZED, draws
from .cases_scatter import SCATTER_DIRECT

_ids = {"ids": lambda c: c.id}


# -- coverage of the table -----------------------------------------------------------------
def test_every_op_has_cases():
    table = {n for n, o in OPS.items() if o.kind in COMPILED_KINDS}
    covered = {c.op for c in ACCEPTED}
    assert not table - covered, f"ops without an accepted test case: {sorted(table - covered)}"
    assert covered == table, f"cases for ops not in the table: {sorted(covered - table)}"


def test_every_kind_is_known():
    # A new kind of op must be added to COMPILED_KINDS (and get cases) or to this list.
    kinds = {o.kind for o in OPS.values()}
    assert kinds <= set(COMPILED_KINDS) | {"fallback", "kernel"}, kinds


def test_case_ids_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


# -- rules -----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", REJECTED, **_ids)
def test_rule_rejects(case: Case):
    with pytest.raises(IRError):
        case.graph()


@pytest.mark.parametrize("op,attr", [("cast", "dtype"), ("full", "dtype"), ("iota", "dtype")])
def test_dtype_attributes_are_checked(op, attr):
    g = Graph()
    ins = [g.add_input((3,), "f32")] if op == "cast" else []
    attrs = {"cast": {}, "full": {"shape": (2,), "value": 0}, "iota": {"length": 3, "start": 0,
                                                                        "step": 1}}[op]
    with pytest.raises(IRError):
        g.add(op, ins, **attrs, **{attr: "c64"})


def _scan_variants(op: str, dt: str):
    """(input types, attrs) probing `op` with operand dtype `dt`."""
    o = OPS[op]
    if op == "where":
        yield [((3,), "b8"), ((3,), dt), ((3,), dt)], {}
    elif op == "cast":
        for other in DTYPES:
            yield [((3,), dt)], {"dtype": other}
            yield [((3,), other)], {"dtype": dt}
    elif o.kind == "pointwise":
        yield [((3,), dt)] * o.arity, {}
    elif o.kind == "reduction":
        yield [((2, 3), dt)], {"axes": (1,), "keepdim": False}
        yield [((2, 3), dt)], {"axes": (0, 1), "keepdim": True}
    elif op == "mm":
        yield [((2, 3), dt), ((3, 4), dt)], {}
    elif op == "bmm":
        yield [((2, 2, 3), dt), ((2, 3, 4), dt)], {}
    elif op == "addmm":
        yield [((4,), dt), ((2, 3), dt), ((3, 4), dt)], {"beta": 1, "alpha": 1}
    elif op == "cat":
        yield [((2, 3), dt), ((1, 3), dt)], {"axis": 0}
    elif op == "convolution":
        conv = {"stride": (1,), "padding": (0,), "dilation": (1,), "transposed": False,
                "output_padding": (0,), "groups": 1}
        yield [((1, 2, 5), dt), ((3, 2, 2), dt)], conv
        yield [((1, 2, 5), dt), ((3, 2, 2), dt), ((3,), dt)], conv
    elif op == "sort":
        yield [((3, 4), dt)], {"axis": 1, "descending": True, "stable": False}
    elif op == "topk":
        yield [((3, 4), dt)], {"k": 2, "axis": 1, "largest": True, "sorted": True}
    elif op == "kthvalue":
        yield [((3, 4), dt)], {"k": 2, "axis": 1, "keepdim": False}
    elif op in LINALG_SCAN:
        types, attrs = LINALG_SCAN[op]
        yield [(s, dt if d is None else d) for s, d in types], attrs


# (input shapes and dtypes, None: the scanned dtype; attrs) for the linalg library ops.
# The matrices are [2, 1, 1]: torch.ones of that shape is positive definite, invertible,
# and pivots of ones are valid, so the eager reference must run wherever the rule accepts.
_M, _P = ((2, 1, 1), None), ((2, 1), "i32")
LINALG_SCAN = {
    "cdist": ([((2, 3, 2), None), ((4, 2), None)], {"p": 2.0, "compute_mode": None}),
    "euclidean_dist": ([((2, 3, 2), None), ((2, 4, 2), None)], {}),
    "searchsorted": ([((5,), None), ((2, 3), None)],
                     {"out_int32": False, "right": False, "side": None, "given": ()}),
    "bucketize": ([((2, 3), None), ((4,), None)], {"out_int32": True, "right": False}),
    "searchsorted_scalar": ([((5,), None)], {"value": 1, "out_int32": False, "right": False,
                                             "side": "left", "given": ()}),
    "bucketize_scalar": ([((4,), None)], {"value": 1.5, "out_int32": False, "right": False}),
    "histogramdd_from_edges": ([((4, 2), None), ((3,), None), ((2,), None)],
                               {"density": False, "given": ()}),
    "histc": ([((2, 3), None)], {"bins": 4, "min": 0, "max": 0}),
    "histogram": ([((2, 3), None)], {"bins": 4, "range": None, "density": False, "given": ()}),
    "histogram_edges": ([((2, 3), None), ((3,), None)], {"density": False, "given": ()}),
    "histogramdd_edges": ([((4, 2), None)], {"bins": (2, 3), "range": None, "density": False,
                                            "given": ()}),
    "histogramdd": ([((4, 2), None)], {"bins": (2, 3), "range": None, "density": False,
                                      "given": ()}),
    "det": ([_M], {}), "slogdet": ([_M], {}), "qr": ([_M], {"mode": "complete"}),
    "svd": ([_M], {"full_matrices": True, "compute_uv": True, "driver": None}),
    "eigh": ([_M], {"UPLO": "L", "compute_v": True}),
    "cholesky": ([_M], {"upper": True}),
    "cholesky_ex": ([_M], {"upper": False, "check_errors": True}),
    "cholesky_inverse": ([_M], {"upper": False}),
    "cholesky_solve": ([((2, 1, 3), None), _M], {"upper": False}),
    "inv_ex": ([_M], {"check_errors": True}), "matrix_exp": ([_M], {}),
    "ldl_factor_ex": ([_M], {"hermitian": False, "check_errors": False}),
    "ldl_solve": ([_M, _P, ((2, 1, 3), None)], {"hermitian": False}),
    "lu": ([_M], {"pivot": True}),
    "lu_factor_ex": ([_M], {"pivot": True, "check_errors": True}),
    "lu_solve": ([_M, _P, ((2, 1, 3), None)], {"left": True, "adjoint": False}),
    "lu_unpack": ([_M, _P], {"unpack_data": True, "unpack_pivots": True}),
    "solve_ex": ([_M, ((2, 1), None)], {"left": True, "check_errors": True}),
    "solve_triangular": ([_M, ((2, 1, 3), None)], {"upper": True, "left": True,
                                                    "unitriangular": False}),
    "triangular_solve": ([((2, 1, 3), None), _M], {"upper": True, "transpose": False,
                                                    "unitriangular": False}),
    "geqrf": ([_M], {}),
    "ormqr": ([_M, ((2, 1), None), ((2, 1, 3), None)], {"left": True, "transpose": False}),
    "householder_product": ([_M, ((2, 1), None)], {}),
    "pinv": ([_M], {"hermitian": False, "given": ()}),
}


SCAN_OPS = [n for n, o in OPS.items() if o.kind in ("pointwise", "reduction", "library", "movement")]


@pytest.mark.parametrize("op", SCAN_OPS)
def test_rule_and_eager_agree_on_dtypes(op):
    """Whatever the rule accepts, the eager reference runs and gives the inferred type.

    (The rule may be stricter than eager: float-only ops reject ints, which eager promotes.)
    """
    problems = []
    for dt in DTYPES:
        for types, attrs in _scan_variants(op, dt):
            g = Graph()
            ins = [g.add_input(s, d) for s, d in types]
            try:
                node = g.add(op, ins, **attrs)
            except IRError:
                continue
            except Exception as e:  # noqa: BLE001
                problems.append(f"{types} {attrs}: rule raised {type(e).__name__}, not IRError")
                continue
            xs = [torch.ones(s, dtype=to_torch(d)) for s, d in types]
            try:
                out = OPS[op].eager(*xs, **attrs)
            except Exception as e:  # noqa: BLE001
                problems.append(f"{[d for _, d in types]} {attrs}: the rule accepts, eager "
                                f"raises {type(e).__name__}: {str(e).splitlines()[0]}")
                continue
            outs = list(out) if isinstance(out, (tuple, list)) else [out]
            for o, v in zip(outs, node.outputs, strict=True):
                got = (tuple(o.shape), from_torch(o.dtype))
                if got != (v.type.shape, v.type.dtype):
                    problems.append(f"{[d for _, d in types]} {attrs}: rule gives {v.type}, "
                                    f"eager gives {got[1]}{list(got[0])}")
    assert not problems, f"{op}:\n  " + "\n  ".join(problems)


# -- eager references --------------------------------------------------------------------------
@pytest.mark.parametrize("case", ACCEPTED, **_ids)
def test_eager_matches_rule(case: Case):
    outs = case.eager_all(case.inputs())
    types = [v.type for v in case.graph().outputs]
    assert len(outs) == len(types), f"{case.id}: {len(outs)} eager results, {len(types)} types"
    for out, ty in zip(outs, types):
        assert isinstance(out, torch.Tensor)
        assert (tuple(out.shape), from_torch(out.dtype)) == (ty.shape, ty.dtype), (
            f"{case.id}: the rule gives {ty}, the eager reference gives "
            f"{from_torch(out.dtype)}{list(out.shape)}")


def _prod(x, axes, keepdim):
    if not axes:
        return x
    for a in sorted(axes, reverse=True):
        x = torch.prod(x, a, keepdim=keepdim, dtype=x.dtype)
    return x


def _iota(length, start, step, dtype):
    fl = isinstance(start, float) or isinstance(step, float)
    vals = [start + step * i for i in range(length)]
    return torch.tensor(vals, dtype=torch.float64 if fl else torch.int64).to(to_torch(dtype))


def _take(x, idx, axis, wrap):
    # advanced indexing along ``axis`` (negative indices count from the end in
    # Python's indexing; without wrap the cases hold none)
    return x[(slice(None),) * axis + (idx.long(),)]


def _take_along(x, idx, axis):
    # x at every index position, with the coordinate along ``axis`` from idx
    pos = list(torch.meshgrid(*[torch.arange(n) for n in idx.shape], indexing="ij"))
    pos[axis] = idx.long()
    return x[tuple(pos)]


def _addmm(bias, a, b, beta, alpha):
    out = alpha * (a @ b)
    return out + beta * bias if beta != 0 else out


def _reduce(fn):
    return lambda x, axes, keepdim: fn(x, axes, keepdim) if axes else x


def _conv_direct(x, w, b, stride, padding, dilation, transposed, output_padding, groups):
    nd = w.dim() - 2
    if transposed:
        fn = (torch.nn.functional.conv_transpose1d, torch.nn.functional.conv_transpose2d,
              torch.nn.functional.conv_transpose3d)[nd - 1]
        return fn(x, w, b, stride, padding, output_padding, groups, dilation)
    fn = (torch.nn.functional.conv1d, torch.nn.functional.conv2d,
          torch.nn.functional.conv3d)[nd - 1]
    return fn(x, w, b, stride, padding, dilation, groups)


# Written independently of ember/ir/ops.py: the op of the same name in torch, with the
# result dtype the IR promises (integer sums stay in their dtype).
_CDIST_MODES = {None: "use_mm_for_euclid_dist_if_necessary", 1: "use_mm_for_euclid_dist",
                2: "donot_use_mm_for_euclid_dist"}
_EMPTY = torch.empty(0)


def _hist_dd(x, w=None, *, bins, range, density, given):  # noqa: A002 (ATen's name)
    return torch.histogramdd(x, list(bins), range=list(range) if range else None, weight=w,
                             density=density)


def _det_lu(a):
    """The LU factors det/slogdet return: ATen factors a row-major matrix as its transpose
    (column-major without a copy; det(A) = det(A^T))."""
    return torch.linalg.lu_factor(a.mT if a.is_contiguous() else a)


# ember/ir/library_linalg.py's ops through torch's public functions (LU factors and
# pivots of det/slogdet/solve_ex through lu_factor).
LINALG_DIRECT = {
    "cdist": lambda x1, x2, p, compute_mode: torch.cdist(x1, x2, p, _CDIST_MODES[compute_mode]),
    "euclidean_dist": lambda x1, x2: torch.cdist(x1, x2, compute_mode="use_mm_for_euclid_dist"),
    "searchsorted": lambda seq, x, sorter=None, *, out_int32, right, side, given:
        torch.searchsorted(seq, x, out_int32=out_int32, right=right, side=side, sorter=sorter),
    "searchsorted_scalar": lambda seq, sorter=None, *, value, out_int32, right, side, given:
        torch.searchsorted(seq, value, out_int32=out_int32, right=right, side=side,
                           sorter=sorter),
    "bucketize_scalar": lambda b, value, out_int32, right: torch.bucketize(
        value, b, out_int32=out_int32, right=right),
    "histogramdd_from_edges": lambda x, *ew, density, given: torch.histogramdd(
        x, list(ew[:len(ew) - len(given)]), weight=ew[-1] if given else None,
        density=density).hist,
    "bucketize": lambda x, b, out_int32, right: torch.bucketize(x, b, out_int32=out_int32,
                                                                right=right),
    "histc": lambda x, bins, min, max: torch.histc(x, bins, min, max),
    "histogram": lambda x, w=None, *, bins, range, density, given: tuple(
        torch.histogram(x, bins, range=range, weight=w, density=density)),
    "histogram_edges": lambda x, e, w=None, *, density, given: tuple(
        torch.histogram(x, e, weight=w, density=density)),
    "histogramdd_edges": lambda *a, **k: tuple(_hist_dd(*a, **k).bin_edges),
    "histogramdd": lambda *a, **k: _hist_dd(*a, **k).hist,
    "det": lambda a: (torch.linalg.det(a), *_det_lu(a)),
    "slogdet": lambda a: (*torch.linalg.slogdet(a), *_det_lu(a)),
    "qr": lambda a, mode: tuple(torch.linalg.qr(a, mode)),
    "svd": lambda a, full_matrices, compute_uv, driver: (
        tuple(torch.linalg.svd(a, full_matrices, driver=driver)) if compute_uv
        else (_EMPTY, torch.linalg.svdvals(a, driver=driver), _EMPTY)),
    "eigh": lambda a, UPLO, compute_v: (  # noqa: N803 (ATen's name)
        tuple(torch.linalg.eigh(a, UPLO)) if compute_v else (torch.linalg.eigvalsh(a, UPLO),
                                                             _EMPTY)),
    "cholesky": lambda a, upper: torch.linalg.cholesky(a, upper=upper),
    "cholesky_ex": lambda a, upper, check_errors: tuple(torch.linalg.cholesky_ex(
        a, upper=upper, check_errors=check_errors)),
    "cholesky_inverse": lambda a, upper: torch.cholesky_inverse(a, upper),
    "cholesky_solve": lambda b, a, upper: torch.cholesky_solve(b, a, upper),
    "inv_ex": lambda a, check_errors: tuple(torch.linalg.inv_ex(a, check_errors=check_errors)),
    "matrix_exp": torch.linalg.matrix_exp,
    "ldl_factor_ex": lambda a, hermitian, check_errors: tuple(torch.linalg.ldl_factor_ex(
        a, hermitian=hermitian, check_errors=check_errors)),
    "ldl_solve": lambda ld, piv, b, hermitian: torch.linalg.ldl_solve(ld, piv, b,
                                                                      hermitian=hermitian),
    "lu": lambda a, pivot: tuple(torch.linalg.lu(a, pivot=pivot)),
    "lu_factor_ex": lambda a, pivot, check_errors: tuple(torch.linalg.lu_factor_ex(
        a, pivot=pivot, check_errors=check_errors)),
    "lu_solve": lambda lu, piv, b, left, adjoint: torch.linalg.lu_solve(lu, piv, b, left=left,
                                                                        adjoint=adjoint),
    "lu_unpack": lambda lu, piv, unpack_data, unpack_pivots: tuple(torch.lu_unpack(
        lu, piv, unpack_data, unpack_pivots)),
    "solve_ex": lambda a, b, left, check_errors: (
        (r := torch.linalg.solve_ex(a, b, left=left, check_errors=check_errors))[0],
        *torch.linalg.lu_factor(a), r[1]),
    "solve_triangular": lambda a, b, upper, left, unitriangular: torch.linalg.solve_triangular(
        a, b, upper=upper, left=left, unitriangular=unitriangular),
    "triangular_solve": lambda b, a, upper, transpose, unitriangular: tuple(
        torch.triangular_solve(b, a, upper, transpose, unitriangular)),
    "geqrf": lambda a: tuple(torch.geqrf(a)),
    "ormqr": lambda a, tau, c, left, transpose: torch.ormqr(a, tau, c, left, transpose),
    "householder_product": torch.linalg.householder_product,
    "pinv": lambda a, *tols, hermitian, given: torch.linalg.pinv(a, hermitian=hermitian,
                                                                 **dict(zip(given, tols))),
}

DIRECT = {
    **{n: getattr(torch, n, None) or getattr(torch.special, n) for n, o in OPS.items()
       if o.kind == "pointwise" and n not in ("relu", "cast", "floordiv", "truncdiv", "trigamma",
                                               "frexp_mantissa", "frexp_exponent")},
    "trigamma": lambda x: torch.polygamma(1, x),
    "frexp_mantissa": lambda x: torch.frexp(x).mantissa,
    "frexp_exponent": lambda x: torch.frexp(x).exponent,
    "floordiv": torch.floor_divide,
    "truncdiv": lambda a, b: torch.div(a, b, rounding_mode="trunc"),
    "relu": lambda x: torch.where(x <= 0, torch.zeros_like(x), x),  # NaN stays NaN
    "cast": lambda x, dtype: x.to(to_torch(dtype)),
    "full": lambda shape, value, dtype: torch.full(shape, value, dtype=to_torch(dtype)),
    "iota": _iota,
    "constant": lambda value: value,
    "sum": _reduce(lambda x, a, k: torch.sum(x, dim=a, keepdim=k, dtype=x.dtype)),
    "prod": _prod,
    "amax": _reduce(lambda x, a, k: torch.amax(x, dim=a, keepdim=k)),
    "amin": _reduce(lambda x, a, k: torch.amin(x, dim=a, keepdim=k)),
    "mean": _reduce(lambda x, a, k: torch.mean(x, dim=a, keepdim=k)),
    "reshape": lambda x, shape: torch.reshape(x, shape),
    "permute": lambda x, dims: torch.permute(x, dims),
    "expand": lambda x, shape: x.expand(shape),
    "slice": lambda x, axis, start, end, step: torch.ops.aten.slice.Tensor(x, axis, start, end,
                                                                            step),
    "squeeze": lambda x, axes: torch.squeeze(x, axes) if axes else x,
    "unsqueeze": lambda x, axis: torch.unsqueeze(x, axis),
    "cat": lambda *xs, axis: torch.cat(xs, dim=axis),
    "cumsum": lambda x, axis: torch.cumsum(x, axis),
    "unfold": lambda x, axis, size, step: x.unfold(axis, size, step),
    # the logical elements (the op's operand is a flattened tensor, whatever its layout)
    "as_strided": lambda x, size, stride, offset: x.clone(
        memory_format=torch.contiguous_format).as_strided(size, stride, offset),
    "cumprod": lambda x, axis: torch.cumprod(x, axis),
    "take": _take,
    "take_along": _take_along,
    "mm": torch.matmul,
    "bmm": torch.matmul,
    "addmm": _addmm,
    "convolution": lambda x, w, b=None, *, stride, padding, dilation, transposed,
    output_padding, groups: _conv_direct(x, w, b, stride, padding, dilation, transposed,
                                         output_padding, groups),
    "sort": lambda x, axis, descending, stable: tuple(torch.sort(x, dim=axis, descending=descending,
                                                                 stable=stable)),
    "topk": lambda x, k, axis, largest, sorted: tuple(torch.topk(x, k, axis, largest, sorted)),
    "kthvalue": lambda x, k, axis, keepdim: tuple(torch.kthvalue(x, k, axis, keepdim)),
    **LINALG_DIRECT,
    **RANDOM_DIRECT,
    **ORDER_DIRECT,
    **MORE_DIRECT,
    **FFT_DIRECT,
    **SCATTER_DIRECT,
}


def test_direct_table_is_complete():
    assert {c.op for c in ACCEPTED} <= set(DIRECT)


@pytest.mark.parametrize("case", ACCEPTED, **_ids)
def test_eager_matches_direct_torch(case: Case):
    xs = case.inputs()
    got = case.eager_all(xs)
    if draws(case.op):
        torch.manual_seed(0)  # eager_all drew after this seed too
    want = DIRECT[case.op](*xs, **case.attrs)
    want = list(want) if isinstance(want, tuple) else [want]
    if case.op in UNINITIALIZED:
        assert _meta(got) == _meta(want), case.id
        return
    rtol, atol = case.tolerance()
    torch.testing.assert_close(got, want, rtol=rtol, atol=atol, equal_nan=True,
                               check_dtype=False)


# -- compiled vs eager ---------------------------------------------------------------------------
_COMPILED: dict = {}


@pytest.fixture(scope="module")
def compile_graph():
    from ember.compiler import compile_graph

    return compile_graph


def _key(g: Graph, inputs: list[torch.Tensor]):
    return print_graph(g), tuple((tuple(t.shape), t.stride(), t.storage_offset(), t.dtype)
                                 for t in inputs)


def _compiled(case: Case, compile_graph):
    """compile_graph for the case, shared between cases with the same graph and layouts.

    Returns (fn, graph, inputs); the graph is a fresh copy (compile_graph transforms the
    graph it is given in place).
    """
    g, inputs = case.graph(), case.inputs()
    key = _key(g, inputs)
    if key not in _COMPILED:
        verify(g)
        _COMPILED[key] = compile_graph(case.graph(), inputs)
    return _COMPILED[key], g, inputs


def _storage_bytes(t: torch.Tensor) -> torch.Tensor:
    return torch.empty(0, dtype=torch.uint8).set_(t.untyped_storage()).clone()


def _meta(ts: list[torch.Tensor]) -> list[tuple]:
    """What an uninitialized result has: shape, dtype and strides."""
    return [(tuple(t.shape), t.dtype, t.stride()) for t in ts]


def _seed(case: Case) -> None:
    if draws(case.op):
        torch.manual_seed(0)


def _exact(a, b, what):
    torch.testing.assert_close(a, b, rtol=0, atol=0, equal_nan=True,
                               msg=lambda m: f"{what}\n{m}")


@pytest.mark.parametrize("case", ACCEPTED, **_ids)
def test_compiled_matches_eager(case: Case, compile_graph):
    fn, g, inputs = _compiled(case, compile_graph)
    text = print_graph(g)
    expected = [t.clone() for t in case.eager_all(inputs)]
    before = [t.clone() for t in inputs]
    storage_before = [_storage_bytes(t) for t in inputs]

    _seed(case)
    outs = fn(*inputs)
    if case.op in UNINITIALIZED:
        assert _meta(outs) == _meta(expected), case.id
        return
    assert isinstance(outs, (list, tuple)) and len(outs) == len(g.outputs) == len(expected), (
        f"{case.id}: expected a list of {len(g.outputs)} tensors, got {outs!r}")
    rtol, atol = case.tolerance()
    for j, (out, want, v) in enumerate(zip(outs, expected, g.outputs)):
        assert isinstance(out, torch.Tensor), f"{case.id}: output is {type(out).__name__}"
        got_ty = (tuple(out.shape), from_torch(out.dtype))
        assert got_ty == (v.type.shape, v.type.dtype), (
            f"{case.id}: compiled output {j} is {got_ty[1]}{list(got_ty[0])}, the graph says "
            f"{v.type}\n{text}")
        torch.testing.assert_close(
            out, want, rtol=rtol, atol=atol, equal_nan=True, check_dtype=False,
            msg=lambda m: f"{case.id}: compiled result {j} differs from eager\n{m}\n{text}")

    for i, (t, b, s) in enumerate(zip(inputs, before, storage_before)):
        _exact(t, b, f"{case.id}: input {i} was mutated")
        assert torch.equal(_storage_bytes(t), s), f"{case.id}: input {i}'s storage was written"

    first = [o.clone() for o in outs]
    _seed(case)
    outs2 = fn(*inputs)
    for j, (o, o2, f) in enumerate(zip(outs, outs2, first)):
        _exact(o2, f, f"{case.id}: a second call gives a different result {j}")
        _exact(o, f, f"{case.id}: the second call overwrote the first call's output {j}")


def mlir_available() -> tuple[bool, str]:
    from ember.codegen.mlir import available

    return available()


def _kernel_expected(case: Case) -> bool:
    if case.kind not in ("pointwise", "reduction"):
        return False
    return all(math.prod(a.shape) > 0 for a in case.args) and case.out_type().numel > 0


KERNEL_CASES = [c for c in ACCEPTED if _kernel_expected(c)]


@pytest.mark.parametrize("case", KERNEL_CASES, **_ids)
def test_runs_as_ember_kernel(case: Case, compile_graph):
    """Pointwise ops and reductions must run as generated CPU kernels, not eager fallbacks."""
    ok, reason = mlir_available()
    if not ok:
        pytest.skip(f"MLIR backend unavailable: {reason}")
    fn, g, _ = _compiled(case, compile_graph)
    kernels = list(fn.report.kernels)
    assert any(k.backend == "cpu" for k in kernels), (
        f"{case.id}: no 'cpu' kernel in the report "
        f"({[(k.backend, k.name) for k in kernels]})\n{print_graph(g)}")
    for k in kernels:
        assert isinstance(k.name, str) and k.name, k
        assert isinstance(k.source, str) and k.source, k


@pytest.mark.parametrize("kind", ["pointwise", "reduction", "library"])
def test_cases_cover_dtypes(kind):
    # Keeps the table honest when cases are trimmed: every float dtype, some integer and
    # bool operands, and NaN/Inf inputs for each of these kinds.
    args = [a for c in ACCEPTED if c.kind == kind for a in c.args]
    dts = {a.dtype for a in args}
    assert {"f16", "bf16", "f32", "f64", "i32", "i64"} <= dts, dts
    assert any(is_float(a.dtype) and a.domain == "special" for a in args)


def test_linalg_scan_covers_every_linalg_op():
    from ember.ir.library_linalg import MIRRORS

    from ember.ir import library_fft, library_order, library_random, library_scatter

    others = (set(library_random.NAMES) | set(library_order.NAMES) | set(library_fft.NAMES)
              | set(library_scatter.NAMES))
    assert set(LINALG_SCAN) == set(MIRRORS.values()) - others
