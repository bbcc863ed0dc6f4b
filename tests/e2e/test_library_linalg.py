"""Linear algebra, cdist, searchsorted/bucketize and histograms as library steps
(``ember/ir/library_linalg.py``): user-level torch calls compiled with Ember against eager,
bit for bit (the step calls the ATen overload eager calls, with eager's arguments and
input layouts), every output's shape and dtype, batch dims, attributes, no fallback nodes;
errors raised by the kernels themselves; library outputs keep eager's strides."""

from __future__ import annotations

import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # torch.cholesky & co


def _x(*shape, dtype=torch.float32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64).to(dtype)


def _spd(*shape, dtype=torch.float32, seed=0):
    r = _x(*shape, dtype=torch.float64, seed=seed)
    return (r @ r.mT + shape[-1] * torch.eye(shape[-1], dtype=torch.float64)).to(dtype)


def _flat(out):
    if isinstance(out, torch.Tensor):
        return [out]
    return [t for o in out for t in _flat(o)]


def run(fn, *args):
    """Compiled vs eager, bitwise; returns the compiled wrapper's report."""
    with torch.no_grad():
        want = fn(*args)
        compiled = ember.compile(fn)
        got = compiled(*args)
    want, got = _flat(want), _flat(got)
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert (g.dtype, g.shape) == (w.dtype, w.shape), (i, g.dtype, g.shape, w.dtype, w.shape)
        torch.testing.assert_close(g, w, rtol=0, atol=0, equal_nan=True,
                                   msg=lambda m: f"output {i}: {m}")
    return compiled.ember_report


def steps(report):
    return [s for g in report.graphs for s in g.steps]


def assert_native(report, *library):
    assert report.graphs, "nothing compiled"
    assert not report.fallbacks, report.fallbacks
    assert all(g.eager_reason is None for g in report.graphs), report
    assert not report.graph_breaks, report.graph_breaks
    ran = {n for k, n in steps(report) if k == "library"}
    assert set(library) <= ran, (library, steps(report))


A4 = _x(3, 4, 4, seed=1)
A53 = _x(2, 5, 3, seed=2)
A35 = _x(3, 5, dtype=torch.float64, seed=3)
B = _x(3, 4, 2, seed=4)
SPD = _spd(2, 4, 4, seed=5)
SPD64 = _spd(5, 5, dtype=torch.float64, seed=6)

# name -> (function, args, the library ops that must run)
CASES = {
    "cdist-p2-batch-broadcast": (lambda a, b: torch.cdist(a, b), (_x(2, 1, 6, 3), _x(4, 5, 3)),
                                 ["cdist"]),
    "cdist-p1-f64": (lambda a, b: torch.cdist(a, b, p=1.0), (A35, _x(4, 5, dtype=torch.float64)),
                     ["cdist"]),
    "cdist-mm-mode": (lambda a, b: torch.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
                      (_x(30, 4), _x(27, 4, seed=1)), ["euclidean_dist"]),
    "cdist-pinf": (lambda a, b: torch.cdist(a, b, p=float("inf")), (_x(5, 3), _x(4, 3)),
                   ["cdist"]),
    "searchsorted-1d": (lambda s, v: torch.searchsorted(s, v),
                        (_x(10).sort().values, _x(3, 4, seed=1)), ["searchsorted"]),
    "searchsorted-batched-right-int32": (
        lambda s, v: torch.searchsorted(s, v, right=True, out_int32=True),
        (torch.randint(-5, 5, (3, 8)).sort().values, torch.randint(-6, 6, (3, 5))),
        ["searchsorted"]),
    "searchsorted-side-sorter": (
        lambda s, v, p: torch.searchsorted(s, v, side="right", sorter=p),
        (_x(9), _x(6, seed=1), _x(9).argsort()), ["searchsorted"]),
    "searchsorted-bf16-ties": (
        lambda s, v: torch.searchsorted(s, v),
        (torch.tensor([0, 1, 1, 1, 2, 3.5]).bfloat16(), torch.tensor([1, 1.5, -1, 4]).bfloat16()),
        ["searchsorted"]),
    "bucketize": (lambda x, b: (torch.bucketize(x, b), torch.bucketize(x, b, right=True,
                                                                         out_int32=True)),
                  (torch.randint(-4, 4, (4, 5)).float(), torch.tensor([-2.0, 0, 0, 1.5])),
                  ["bucketize"]),
    "histc": (lambda x: (torch.histc(x, 7, -2, 2), torch.histc(x.double(), 4)),
              (_x(5, 6),), ["histc"]),
    "histogram-bins-range-weight": (
        lambda x, w: torch.histogram(x, 6, range=(-1.0, 2.0), weight=w, density=True),
        (_x(4, 5), _x(4, 5, seed=1).abs()), ["histogram"]),
    "histogram-edges": (lambda x, e: torch.histogram(x, e), (_x(20), torch.tensor([-1.0, 0, 2])),
                        ["histogram_edges"]),
    "histogramdd": (lambda x: torch.histogramdd(x, [2, 3]), (_x(10, 2),),
                    ["histogramdd_edges", "histogramdd"]),
    "histogramdd-edges-weight": (
        lambda x, a, b, w: torch.histogramdd(x, [a, b], weight=w, density=True),
        (_x(12, 2), torch.tensor([-1.0, 0, 1]), torch.tensor([-2.0, -1, 0.5, 2]),
         _x(12, seed=1).abs()), ["histogramdd_from_edges"]),
    "scalar-values": (lambda s, i: (torch.searchsorted(s, 0.25), torch.bucketize(1, s),
                                    torch.searchsorted(i, 2.5, right=True, out_int32=True)),
                      (_x(9).sort().values, torch.arange(0, 10, 2)),
                      ["searchsorted_scalar", "bucketize_scalar"]),
    "det-slogdet-logdet": (lambda a: (torch.linalg.det(a), torch.linalg.slogdet(a),
                                      torch.logdet(a @ a.mT)), (A4,), ["det", "slogdet"]),
    "det-transposed-input": (lambda a: torch.linalg.det(a.mT), (A4,), ["det"]),
    "solve_triangular": (
        lambda a, b: (torch.linalg.solve_triangular(a, b, upper=True),
                      torch.linalg.solve_triangular(a, b.mT, upper=False, left=False,
                                                    unitriangular=True)),
        (A4 + 4 * torch.eye(4), B), ["solve_triangular"]),
    "triangular_solve": (lambda b, a: torch.triangular_solve(b, a, upper=False, transpose=True),
                         (B, A4 + 4 * torch.eye(4)), ["triangular_solve"]),
    "qr-modes": (lambda a: (torch.linalg.qr(a), torch.linalg.qr(a, mode="complete"),
                            torch.linalg.qr(a, mode="r"), torch.qr(a, some=False)),
                 (A53,), ["qr"]),
    "svd": (lambda a: (torch.linalg.svd(a), torch.linalg.svd(a, full_matrices=False),
                       torch.linalg.svdvals(a), torch.svd(a)), (A35,), ["svd"]),
    "eigh": (lambda a: (torch.linalg.eigh(a), torch.linalg.eigh(a, UPLO="U"),
                        torch.linalg.eigvalsh(a)), (SPD,), ["eigh"]),
    "cholesky-family": (
        lambda a, b: (torch.cholesky(a), torch.cholesky(a, upper=True),
                      torch.linalg.cholesky_ex(a, upper=True), torch.cholesky_inverse(a),
                      torch.cholesky_solve(b, a, upper=True)),
        (SPD64, _x(5, 3, dtype=torch.float64)),
        ["cholesky", "cholesky_ex", "cholesky_inverse", "cholesky_solve"]),
    "inv_ex-solve_ex": (lambda a, b: (torch.linalg.inv_ex(a), torch.linalg.solve_ex(a, b),
                                      torch.linalg.solve_ex(a, b[..., 0]),
                                      torch.linalg.solve_ex(a, b.mT, left=False)),
                        (A4, B), ["inv_ex", "solve_ex"]),
    "matrix_exp": (lambda a, h: (torch.linalg.matrix_exp(a), torch.linalg.matrix_exp(h)),
                   (A4, _x(2, 3, 3, dtype=torch.bfloat16)), ["matrix_exp"]),
    "lu-family": (
        lambda a, b: (torch.linalg.lu(a), torch.linalg.lu_factor_ex(a),
                      torch.linalg.lu_solve(*torch.linalg.lu_factor_ex(a[..., :4, :])[:2], b),
                      torch.lu_unpack(*torch.linalg.lu_factor_ex(a)[:2]),
                      torch.linalg.lu(a, pivot=True)),
        (_x(3, 5, 4), B), ["lu", "lu_factor_ex", "lu_solve", "lu_unpack"]),
    "ldl": (lambda a, b: (torch.linalg.ldl_factor_ex(a),
                          torch.linalg.ldl_solve(*torch.linalg.ldl_factor_ex(a)[:2], b)),
            (SPD, _x(2, 4, 3)), ["ldl_factor_ex", "ldl_solve"]),
    "householder": (lambda a, c: (torch.geqrf(a), torch.linalg.householder_product(*torch.geqrf(a)),
                                  torch.ormqr(*torch.geqrf(a), c, transpose=True)),
                    (_x(5, 3), _x(5, 2, seed=1)), ["geqrf", "householder_product", "ormqr"]),
    "pinv-rank-cond-nuc": (
        lambda a, s: (torch.linalg.pinv(a), torch.linalg.pinv(s, hermitian=True),
                      torch.linalg.pinv(a, atol=0.1, rtol=0.01), torch.linalg.matrix_rank(a),
                      torch.linalg.cond(s), torch.linalg.matrix_norm(a, "nuc")),
        (A53, SPD), ["pinv", "svd"]),
    "values-only": (  # eager's composites compute no vectors here; neither does Ember
        lambda a, s: (torch.linalg.svdvals(a), torch.linalg.cond(s), torch.linalg.norm(a, 2),
                      torch.linalg.matrix_norm(a, -2), torch.linalg.eigvalsh(s),
                      torch.linalg.matrix_rank(s, hermitian=True)),
        (A35, SPD64), ["svd", "eigh"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_library_step_against_eager(name):
    fn, args, library = CASES[name]
    assert_native(run(fn, *args), *library)


def test_kernels_fuse_around_a_library_step():
    # the scale is a kernel before cdist; what follows it is one kernel after it
    report = run(lambda a, b: torch.relu(torch.cdist(a * 2, b) - 1) * 3, _x(6, 3), _x(5, 3))
    assert_native(report, "cdist")
    assert [k for k, _ in steps(report)] == ["kernel", "library", "kernel"], steps(report)


def test_factorizations_feed_each_other_bitwise():
    # det of an inverse, a triangular solve with R of a QR: eager's factors are column
    # major, and the next LAPACK call's rounding depends on that layout
    a = _x(3, 5, 5, dtype=torch.float64, seed=7)
    report = run(lambda a: (torch.linalg.det(torch.linalg.inv_ex(a).inverse),
                            torch.linalg.solve_triangular(torch.linalg.qr(a).R, a, upper=True)),
                 a)
    assert_native(report, "det", "inv_ex", "qr", "solve_triangular")


def test_library_outputs_keep_eager_strides():
    a = _x(2, 5, 3)
    fn = lambda a: torch.linalg.qr(a)  # noqa: E731
    want, got = fn(a), ember.compile(fn)(a)
    for g, w in zip(got, want):
        assert g.stride() == w.stride(), (g.stride(), w.stride())
        assert torch.equal(g, w)


def test_integer_searchsorted_feeds_a_kernel():
    seq, v = torch.arange(0, 40, 3), torch.randint(-5, 45, (4, 6))
    report = run(lambda s, v: torch.searchsorted(s, v) * 2 + 1, seq, v)
    assert_native(report, "searchsorted")
    assert steps(report)[-1][0] == "kernel"


@pytest.mark.parametrize("case", ["cholesky-not-pd", "inv_ex-singular", "solve_ex-singular",
                                  "sorter-out-of-range"])
def test_errors_from_the_library_step_match_eager(case):
    """Errors only the kernel can see (data-dependent) come from the library step itself,
    with eager's exception type; the graph is still native."""
    if case == "cholesky-not-pd":
        fn, args = (lambda a: torch.cholesky(a) + 1), (-_spd(3, 3),)
    elif case == "inv_ex-singular":
        fn, args = (lambda a: torch.linalg.inv_ex(a, check_errors=True).inverse * 2,
                    (torch.ones(2, 3, 3),))
    elif case == "solve_ex-singular":
        fn, args = (lambda a, b: torch.linalg.solve_ex(a, b, check_errors=True).result,
                    (torch.zeros(3, 3), torch.ones(3, 1)))
    else:
        fn, args = (lambda s, v, p: torch.searchsorted(s, v, sorter=p),
                    (torch.arange(4.0), torch.ones(2), torch.tensor([0, 1, 2, 7])))
    with pytest.raises(Exception) as want:
        fn(*args)
    compiled = ember.compile(fn)
    with pytest.raises(type(want.value)):
        compiled(*args)
    assert_native(compiled.ember_report)


def test_dynamic_sizes_reuse_the_library_step():
    fn = ember.compile(lambda a: torch.linalg.slogdet(a * 2), dynamic=True)
    for n in (3, 4, 6):
        a = _x(2, n, n, seed=n)
        want = torch.linalg.slogdet(a * 2)
        got = fn(a)
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w, rtol=0, atol=0)
    assert not fn.ember_report.fallbacks


# -- effectful linalg ops: the _ex op as a library step plus linalg's error check ------------------
EFFECTFUL = {
    "inv": (lambda a: torch.linalg.inv(a) * 2, (A4,), ["inv_ex"]),
    "cholesky": (lambda a: torch.linalg.cholesky(a, upper=True), (SPD,), ["cholesky_ex"]),
    "solve": (lambda a, b: torch.linalg.solve(a, b), (A4, B), ["solve_ex"]),
    "lu_factor": (lambda a: torch.linalg.lu_factor(a), (A53,), ["lu_factor_ex"]),
    "ldl_factor": (lambda a: torch.linalg.ldl_factor(a), (SPD,), ["ldl_factor_ex"]),
    "matrix_power": (lambda a: torch.linalg.matrix_power(a, -2), (A4,), ["inv_ex"]),
    "tensorinv": (lambda a: torch.linalg.tensorinv(a, ind=1), (_x(6, 2, 3),), ["inv_ex"]),
    "tensorsolve": (lambda a, b: torch.linalg.tensorsolve(a, b), (_x(2, 3, 6), _x(2, 3, seed=1)),
                    ["solve_ex"]),
}


@pytest.mark.parametrize("name", list(EFFECTFUL))
def test_effectful_linalg_ops_are_native(name):
    fn, args, library = EFFECTFUL[name]
    report = run(fn, *args)
    assert_native(report, *library)


@pytest.mark.parametrize("case", ["inv-singular", "cholesky-not-pd", "solve-singular"])
def test_linalg_error_checks_raise_as_eager(case):
    """The check runs after the call on the info output: eager's exception and message."""
    fn, args = {
        "inv-singular": (lambda a: torch.linalg.inv(a) + 1, (torch.ones(2, 3, 3),)),
        "cholesky-not-pd": (lambda a: torch.linalg.cholesky(a), (-_spd(2, 3, 3),)),
        "solve-singular": (lambda a, b: torch.linalg.solve(a, b), (torch.zeros(3, 3),
                                                                 torch.ones(3))),
    }[case]
    with pytest.raises(torch.linalg.LinAlgError) as want:
        fn(*args)
    compiled = ember.compile(fn)
    with pytest.raises(torch.linalg.LinAlgError) as got:
        compiled(*args)
    assert str(got.value) == str(want.value)
    assert_native(compiled.ember_report)
    # and the same compiled graph still computes where the input is fine
    ok = tuple(a + 4 * torch.eye(a.shape[-1]) if a.dim() >= 2 else a for a in args)
    if case == "cholesky-not-pd":
        ok = (_spd(2, 3, 3),)
    torch.testing.assert_close(compiled(*ok), fn(*ok), rtol=0, atol=0)


def test_effectful_op_with_dynamic_sizes():
    fn = ember.compile(lambda a: torch.linalg.inv(a) * 2, dynamic=True)
    for n in (3, 4, 6):
        a = _x(2, n, n, seed=n)
        torch.testing.assert_close(fn(a), torch.linalg.inv(a) * 2, rtol=0, atol=0)
    with pytest.raises(torch.linalg.LinAlgError):
        fn(torch.ones(2, 5, 5))
    report = fn.ember_report
    assert not report.fallbacks and all(g.eager_reason is None for g in report.graphs), report
