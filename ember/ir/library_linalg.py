"""Linear algebra, distances, searching and histograms as library steps.

Each op here mirrors one ATen overload (:data:`MIRRORS`): the node's inputs are the
overload's tensor arguments in schema order (an optional tensor argument, when given,
follows the required ones and is named in the ``given`` attribute), and every other
argument is an attribute of the same name and value (``upper``, ``left``,
``full_matrices``, ``driver``, ``out_int32``, ``right``, ...). The eager reference calls
that overload with those arguments, so a library step computes exactly what eager
computes (LAPACK's results, ties in ``searchsorted``); an input eager rejects at run time
(a non-positive-definite matrix given to ``cholesky``, a singular one with
``check_errors``) raises the same error from the same kernel. The shape and dtype rules
below give every output (LU pivots and ``info`` are int32, as ATen's).

    cdist            aten._cdist_forward: [*, P, M] x [*, R, M] -> [*, P, R];
                     euclidean_dist aten._euclidean_dist (cdist's matrix-multiply mode)
    searchsorted     aten.searchsorted.Tensor/.Scalar (sorter optional), bucketize
                     aten.bucketize.Tensor/.Scalar
    histc            aten.histc: [bins]; histogram aten.histogram.bin_ct/.bins_tensor;
                     histogramdd aten._histogramdd_bin_edges/_from_bin_cts/_from_bin_tensors
    det, slogdet     aten._linalg_det / aten._linalg_slogdet (with their LU and pivots)
    solve_triangular aten.linalg_solve_triangular; triangular_solve aten.triangular_solve
    qr, svd, eigh    aten.linalg_qr / aten._linalg_svd / aten._linalg_eigh
    cholesky ...     aten.cholesky, linalg_cholesky_ex, cholesky_inverse, cholesky_solve
    lu ...           aten.linalg_lu, linalg_lu_factor_ex, linalg_lu_solve, lu_unpack,
                     _linalg_solve_ex, linalg_inv_ex, linalg_ldl_factor_ex, linalg_ldl_solve
    others           aten.geqrf, ormqr, linalg_householder_product, linalg_matrix_exp,
                     linalg_pinv.atol_rtol_tensor

Registered into :data:`ember.ir.ops.OPS` when ``ops`` is imported; the importer's rules
are generated from :data:`MIRRORS` (``frontend/library_linalg.py``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable

import torch

from .dtypes import to_torch
from .graph import TensorType
from .ops import IRError, Kind, OpDef, _register, broadcast_shapes

if TYPE_CHECKING:
    from .graph import Node

aten = torch.ops.aten
LAPACK = ("f32", "f64")  # real dtypes ATen's CPU linear algebra is defined on
SEARCH = ("f16", "bf16", "f32", "f64", "i8", "i16", "i32", "i64", "u8")  # no bool
HIST = ("f16", "bf16", "f32", "f64")

#: ATen overload -> IR op name, for the importer's generated 1:1 rules.
MIRRORS: dict[Any, str] = {}
NO_IMPORT_RULE: set[Any] = set()  # mirrors whose rule another import rule calls

_NONE = type(None)

_ATTR_TYPES: dict[str, Any] = {"bool": bool, "int": int, "float": float, "str": str,
                               "number": (int, float), "List[float]": tuple, "List[int]": tuple,
                               "ScalarType": str, "Layout": torch.layout,  # "f32", ...
                               "Device": torch.device, "MemoryFormat": torch.memory_format,
                               "Generator": _NONE}  # only the default generator (None)


def arg_type(arg: Any) -> str:
    """A schema argument's type as written in ATen's schema (``ScalarType?`` is
    ``Optional[ScalarType]``, not the ``Optional[int]`` of ``arg.type``)."""
    return str(arg.real_type)


def attr_type(schema_type: str) -> Any:
    """The attribute type of a non-tensor schema argument (``Optional[...]`` adds None)."""
    if schema_type.startswith("Optional[") and schema_type.endswith("]"):
        base = _ATTR_TYPES[schema_type[len("Optional["):-1]]
        return tuple(dict.fromkeys((*(base if isinstance(base, tuple) else (base,)), _NONE)))
    return _ATTR_TYPES[schema_type]


def attr_name(arg: str) -> str:
    """The attribute for schema argument ``arg``: its name, but a scalar ``self``
    (searchsorted.Scalar, bucketize.Scalar) is ``value``."""
    return "value" if arg == "self" else arg


def is_tensor_arg(schema_type: str) -> bool:
    return schema_type in ("Tensor", "Optional[Tensor]", "List[Tensor]")


def _mirror(name: str, target: Any, rule: Callable[["Node"], list[TensorType]],
            dtypes: tuple[str, ...], random: bool = False, import_rule: bool = True) -> None:
    """Registers the IR op ``name`` mirroring ATen's ``target``. ``import_rule=False``:
    the importer's generated rule is not registered for ``target`` (another rule owns
    the overload and hands some cases over: ``frontend/library_linalg.MIRROR_RULES``)."""
    schema = target._schema
    attrs = {attr_name(a.name): attr_type(arg_type(a)) for a in schema.arguments
             if not is_tensor_arg(str(a.type))}
    if any(str(a.type) == "Optional[Tensor]" for a in schema.arguments):
        attrs["given"] = tuple  # the optional tensor arguments passed, in input order
    multi = len(schema.returns) > 1 or str(schema.returns[0].type) == "List[Tensor]"

    tensors = [(a.name, str(a.type)) for a in schema.arguments
               if str(a.type) in ("Tensor", "List[Tensor]")]
    required = sum(t == "Tensor" for _, t in tensors)
    scalar_types = [a.name for a in schema.arguments if "ScalarType" in arg_type(a)]
    optional_tensors = [a.name for a in schema.arguments if str(a.type) == "Optional[Tensor]"]
    scalar_self = any(a.name == "self" and not is_tensor_arg(str(a.type))
                      for a in schema.arguments)

    def eager(*xs: torch.Tensor, **kw: Any) -> Any:
        given = list(kw.pop("given", ()))
        for k in scalar_types:  # an Ember dtype name, as every dtype attribute
            if kw.get(k) is not None:
                kw[k] = to_torch(kw[k])
        if scalar_self:  # bucketize.Scalar's first argument is a scalar
            kw["self"] = kw.pop("value")
        listed = len(xs) - len(given) - required  # a Tensor[] argument's inputs
        args, i = {}, 0
        for name, ty in tensors:  # by name: the first argument may be a scalar
            k = 1 if ty == "Tensor" else listed
            args[name] = xs[i] if ty == "Tensor" else list(xs[i:i + k])
            i += k
        args.update(dict.fromkeys(optional_tensors))  # not given: None (a custom op
        args.update(zip(given, xs[i:], strict=True))  # declares no default for them)
        out = target(**args, **kw)
        return tuple(out) if multi else out

    def infer(node: "Node") -> list[TensorType]:
        given = node.attrs.get("given", ())
        optional = [a.name for a in schema.arguments if str(a.type) == "Optional[Tensor]"]
        if len(set(given)) != len(given) or not set(given) <= set(optional):
            raise IRError(f"{name}: given {given} is not a set of {optional}")
        listed = any(t == "List[Tensor]" for _, t in tensors)
        if len(node.inputs) < required + len(given) or (
                not listed and len(node.inputs) != required + len(given)):
            raise IRError(f"{name} takes {required} inputs and {given}, got {len(node.inputs)}")
        return rule(node)

    eager.__name__ = eager.__qualname__ = f"{name}_eager"
    eager.__doc__ = f"Calls {target} (the ATen overload the importer maps from)."
    MIRRORS[target] = name
    if not import_rule:
        NO_IMPORT_RULE.add(target)
    _register(OpDef(name, Kind.LIBRARY, attrs, infer, eager, None, dtypes=dtypes, random=random))


# -- shape helpers ------------------------------------------------------------------------------
def _input(node: "Node", name: str) -> Any:
    """An optional tensor input by its argument name, or None."""
    given = node.attrs.get("given", ())
    if name not in given:
        return None
    return node.inputs[len(node.inputs) - len(given) + given.index(name)]


def _dtype(node: "Node", allowed: tuple[str, ...], *idx: int) -> str:
    """The one dtype of inputs ``idx`` (all by default), which must be in ``allowed``."""
    vs = [node.inputs[i] for i in idx] if idx else list(node.inputs)
    dts = {v.dtype for v in vs}
    if len(dts) != 1 or next(iter(dts)) not in allowed:
        raise IRError(f"{node.op}: operands of one dtype of {allowed}, got {sorted(dts)}")
    return dts.pop()


def _matrix(node: "Node", i: int, square: bool = False) -> tuple[tuple[int, ...], int, int]:
    """(batch dims, rows, cols) of input ``i``, a (batch of) matrix."""
    v = node.inputs[i]
    if v.rank < 2:
        raise IRError(f"{node.op}: input {i} {v.shape} is not a (batch of) matrix")
    m, n = v.shape[-2:]
    if square and m != n:
        raise IRError(f"{node.op}: input {i} {v.shape} is not a (batch of) square matrix")
    return v.shape[:-2], m, n


def _batch(*shapes: tuple[int, ...]) -> tuple[int, ...]:
    return broadcast_shapes(*shapes)


def _ty(shape: tuple[int, ...], dt: str) -> TensorType:
    return TensorType(tuple(shape), dt)


def _one_of(node: "Node", attr: str, allowed: tuple[Any, ...]) -> Any:
    v = node.attrs[attr]
    if v not in allowed:
        raise IRError(f"{node.op}: {attr}={v!r} is not one of {allowed}")
    return v


_EMPTY = (0,)  # what ATen returns for an output it was asked not to compute


# -- distances, searching, histograms -------------------------------------------------------------
def _cdist_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    b1, p, m1 = _matrix(node, 0)
    b2, r, m2 = _matrix(node, 1)
    p_norm, mode = node.attrs.get("p", 2.0), node.attrs.get("compute_mode")
    if m1 != m2 or not p_norm >= 0 or mode not in (None, 0, 1, 2):
        raise IRError(f"cdist: {node.inputs[0].shape} x {node.inputs[1].shape}, p={p_norm}, "
                      f"compute_mode={mode}")
    return [_ty((*_batch(b1, b2), p, r), dt)]


def _index_dtype(node: "Node") -> str:
    return "i32" if node.attrs["out_int32"] else "i64"


def _searchsorted_rule(node: "Node") -> list[TensorType]:
    seq = node.inputs[0]
    scalar = "value" in node.attrs  # searchsorted.Scalar: the value is an attribute
    x = seq if scalar else node.inputs[1]
    _dtype(node, SEARCH, *((0,) if scalar else (0, 1)))
    if seq.rank < 1 or (seq.rank > 1 and (seq.rank != x.rank or seq.shape[:-1] != x.shape[:-1])):
        raise IRError(f"searchsorted: sequence {seq.shape} and values {x.shape}")
    side = _one_of(node, "side", (None, "left", "right"))
    if side == "left" and node.attrs["right"]:
        raise IRError("searchsorted: side='left' with right=True")
    sorter = _input(node, "sorter")
    if sorter is not None and (sorter.dtype != "i64" or sorter.shape != seq.shape):
        raise IRError(f"searchsorted: sorter {sorter.type} for a sequence {seq.type}")
    return [_ty(x.shape, _index_dtype(node))]


def _searchsorted_scalar_rule(node: "Node") -> list[TensorType]:
    if node.inputs[0].rank != 1:
        raise IRError(f"searchsorted: a scalar value needs a 1-D sequence, got {node.inputs[0]}")
    _searchsorted_rule(node)
    return [_ty((), _index_dtype(node))]


def _bucketize_rule(node: "Node") -> list[TensorType]:
    *x, bounds = node.inputs  # bucketize.Scalar: the value is the attribute ``value``
    _dtype(node, SEARCH)
    if bounds.rank != 1:
        raise IRError(f"bucketize: boundaries {bounds.shape} must be 1-D")
    return [_ty(x[0].shape if x else (), _index_dtype(node))]


def _histc_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, HIST)
    a = node.attrs
    if a["bins"] < 1 or not a["min"] <= a["max"]:
        raise IRError(f"histc: bins={a['bins']}, range [{a['min']}, {a['max']}]")
    return [_ty((a["bins"],), dt)]


def _hist_weight(node: "Node", dt: str) -> None:
    w = _input(node, "weight")
    if w is not None and (w.dtype != dt or w.shape != node.inputs[0].shape):
        raise IRError(f"histogram: weight {w.type} for input {node.inputs[0].type}")


def _histogram_rule(node: "Node") -> list[TensorType]:
    x, bins, rng = node.inputs[0], node.attrs["bins"], node.attrs["range"]
    dt = _dtype(node, LAPACK, 0)
    if bins < 1 or (rng is not None and (len(rng) != 2 or not rng[0] <= rng[1]
                                         or not all(map(math.isfinite, rng)))):
        raise IRError(f"histogram: bins={bins}, range={rng}")
    _hist_weight(node, dt)
    return [_ty((bins,), x.dtype), _ty((bins + 1,), x.dtype)]


def _histogram_edges_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK, 0, 1)
    edges = node.inputs[1]
    if edges.rank != 1 or edges.shape[0] < 1:
        raise IRError(f"histogram: bin edges {edges.shape} must be 1-D and not empty")
    _hist_weight(node, dt)
    return [_ty((edges.shape[0] - 1,), dt), _ty(edges.shape, dt)]


_mirror("cdist", aten._cdist_forward.default, _cdist_rule, LAPACK)
_mirror("euclidean_dist", aten._euclidean_dist.default, _cdist_rule, LAPACK)
_mirror("searchsorted", aten.searchsorted.Tensor, _searchsorted_rule, SEARCH)
_mirror("searchsorted_scalar", aten.searchsorted.Scalar, _searchsorted_scalar_rule, SEARCH)
_mirror("bucketize", aten.bucketize.Tensor, _bucketize_rule, SEARCH)
_mirror("bucketize_scalar", aten.bucketize.Scalar, _bucketize_rule, SEARCH)
_mirror("histc", aten.histc.default, _histc_rule, HIST)
_mirror("histogram", aten.histogram.bin_ct, _histogram_rule, LAPACK)
_mirror("histogram_edges", aten.histogram.bins_tensor, _histogram_edges_rule, LAPACK)


def _histdd_rule(node: "Node") -> list[TensorType]:
    """_histogramdd_bin_edges: one edge vector per dim; _histogramdd_from_bin_cts: the
    counts, one dim per input dim."""
    x, bins, rng = node.inputs[0], node.attrs["bins"], node.attrs["range"]
    dt = _dtype(node, LAPACK, 0)
    d = x.shape[-1] if x.rank else 0
    if (x.rank < 2 or len(bins) != d or min(bins, default=1) < 1
            or (rng is not None and len(rng) != 2 * d)):
        raise IRError(f"histogramdd: input {x.shape}, bins={bins}, range={rng}")
    w = _input(node, "weight")
    if w is not None and (w.dtype != dt or w.shape != x.shape[:-1]):
        raise IRError(f"histogramdd: weight {w.type} for input {x.type}")
    if node.op == "histogramdd_edges":
        return [_ty((b + 1,), dt) for b in bins]
    return [_ty(tuple(bins), dt)]


def _histdd_edges_rule(node: "Node") -> list[TensorType]:
    """_histogramdd_from_bin_tensors: input [*, D], D edge vectors (then the weight)."""
    x, w = node.inputs[0], _input(node, "weight")
    edges = node.inputs[1:len(node.inputs) - (w is not None)]
    dt = _dtype(node, LAPACK, *range(len(edges) + 1))
    if (x.rank < 2 or x.shape[-1] != len(edges)
            or any(e.rank != 1 or e.shape[0] < 1 for e in edges)):
        raise IRError(f"histogramdd: input {x.shape}, edges {[e.shape for e in edges]}")
    if w is not None and (w.dtype != dt or w.shape != x.shape[:-1]):
        raise IRError(f"histogramdd: weight {w.type} for input {x.type}")
    return [_ty(tuple(e.shape[0] - 1 for e in edges), dt)]


_mirror("histogramdd_edges", aten._histogramdd_bin_edges.default, _histdd_rule, LAPACK)
_mirror("histogramdd_from_edges", aten._histogramdd_from_bin_tensors.default, _histdd_edges_rule,
        LAPACK)
_mirror("histogramdd", aten._histogramdd_from_bin_cts.default, _histdd_rule, LAPACK)


# -- determinants, factorizations, solves ---------------------------------------------------------
def _det_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    b, n, _ = _matrix(node, 0, square=True)
    lu = [_ty((*b, n, n), dt), _ty((*b, n), "i32")]
    if node.op == "slogdet":
        return [_ty(b, dt), _ty(b, dt), *lu]
    return [_ty(b, dt), *lu]


def _solve_shape(node: "Node", a: int, rhs: int, left: bool) -> tuple[int, ...]:
    """The result of solving with square input ``a`` for right-hand side ``rhs``:
    batch dims broadcast, the matrix dims are the right-hand side's."""
    ba, n, _ = _matrix(node, a, square=True)
    bb, r, c = _matrix(node, rhs)
    if (r if left else c) != n:
        raise IRError(f"{node.op}: {node.inputs[a].shape} and {node.inputs[rhs].shape} "
                      f"(left={left})")
    return (*_batch(ba, bb), r, c)


def _solve_triangular_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    return [_ty(_solve_shape(node, 0, 1, node.attrs["left"]), dt)]


def _triangular_solve_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    out = _solve_shape(node, 1, 0, True)
    n = node.inputs[1].shape[-1]
    return [_ty(out, dt), _ty((*out[:-2], n, n), dt)]


def _cholesky_solve_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    return [_ty(_solve_shape(node, 1, 0, True), dt)]


def _qr_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    b, m, n = _matrix(node, 0)
    k = min(m, n)
    mode = _one_of(node, "mode", ("reduced", "complete", "r"))
    if mode == "complete":
        return [_ty((*b, m, m), dt), _ty((*b, m, n), dt)]
    q = _EMPTY if mode == "r" else (*b, m, k)
    return [_ty(q, dt), _ty((*b, k, n), dt)]


def _svd_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    b, m, n = _matrix(node, 0)
    k = min(m, n)
    a = node.attrs
    _one_of(node, "driver", (None, "gesvd", "gesvdj", "gesvda"))
    if not a["compute_uv"]:
        return [_ty(_EMPTY, dt), _ty((*b, k), dt), _ty(_EMPTY, dt)]
    full = a["full_matrices"]
    return [_ty((*b, m, m if full else k), dt), _ty((*b, k), dt),
            _ty((*b, n if full else k, n), dt)]


def _eigh_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    b, n, _ = _matrix(node, 0, square=True)
    _one_of(node, "UPLO", ("L", "U", "l", "u"))
    vecs = (*b, n, n) if node.attrs["compute_v"] else _EMPTY
    return [_ty((*b, n), dt), _ty(vecs, dt)]


def _ldl_factor_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    b, n, _ = _matrix(node, 0, square=True)
    return [_ty((*b, n, n), dt), _ty((*b, n), "i32"), _ty(b, "i32")]


def _pivots(node: "Node", i: int, shape: tuple[int, ...]) -> None:
    p = node.inputs[i]
    if p.dtype != "i32" or p.shape != shape:
        raise IRError(f"{node.op}: pivots {p.type}, expected i32{list(shape)}")


def _lu_solve_like_rule(node: "Node") -> list[TensorType]:
    """linalg_lu_solve / linalg_ldl_solve: (factor, int32 pivots, B)."""
    dt = _dtype(node, LAPACK, 0, 2)
    b, n, _ = _matrix(node, 0, square=True)
    _pivots(node, 1, (*b, n))
    return [_ty(_solve_shape(node, 0, 2, node.attrs.get("left", True)), dt)]


def _lu_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    b, m, n = _matrix(node, 0)
    k = min(m, n)
    p = (*b, m, m) if node.attrs["pivot"] else _EMPTY
    return [_ty(p, dt), _ty((*b, m, k), dt), _ty((*b, k, n), dt)]


def _lu_factor_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    b, m, n = _matrix(node, 0)
    return [_ty((*b, m, n), dt), _ty((*b, min(m, n)), "i32"), _ty(b, "i32")]


def _lu_unpack_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK, 0)
    b, m, n = _matrix(node, 0)
    k = min(m, n)
    _pivots(node, 1, (*b, k))
    a = node.attrs
    p = (*b, m, m) if a["unpack_pivots"] else _EMPTY
    lo, up = ((*b, m, k), (*b, k, n)) if a["unpack_data"] else (_EMPTY, _EMPTY)
    return [_ty(p, dt), _ty(lo, dt), _ty(up, dt)]


def _solve_ex_rule(node: "Node") -> list[TensorType]:
    """_linalg_solve_ex: B is a vector (batch) where it is 1-D or A's shape minus one dim."""
    dt = _dtype(node, LAPACK)
    a, bv = node.inputs
    b, n, _ = _matrix(node, 0, square=True)
    left = node.attrs["left"]
    vector = bv.rank == 1 or (bv.rank == a.rank - 1 and bv.shape == a.shape[:-1])
    if vector:
        if not left or bv.shape[-1] != n:
            raise IRError(f"solve_ex: A {a.shape} and vector B {bv.shape} (left={left})")
        out = (*_batch(b, bv.shape[:-1]), n)
    else:
        out = _solve_shape(node, 0, 1, left)
    return [_ty(out, dt), _ty(a.shape, dt), _ty((*b, n), "i32"), _ty(b, "i32")]


def _ormqr_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    ba, m, n = _matrix(node, 0)
    tau = node.inputs[1]
    bc, r, c = _matrix(node, 2)
    k = tau.shape[-1] if tau.rank else -1
    left = node.attrs["left"]
    if (tau.rank != len(ba) + 1 or tau.shape[:-1] != ba or bc != ba or k > min(m, n)
            or (r if left else c) != m):
        raise IRError(f"ormqr: A {node.inputs[0].shape}, tau {tau.shape}, C {(*bc, r, c)} "
                      f"(left={left})")
    return [_ty((*bc, r, c), dt)]


def _geqrf_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    b, m, n = _matrix(node, 0)
    return [_ty((*b, m, n), dt), _ty((*b, min(m, n)), dt)]


def _householder_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK)
    b, m, n = _matrix(node, 0)
    tau = node.inputs[1]
    if tau.rank != len(b) + 1 or tau.shape[:-1] != b or not m >= n >= tau.shape[-1]:
        raise IRError(f"householder_product: input {(*b, m, n)} and tau {tau.shape}")
    return [_ty((*b, m, n), dt)]


def _pinv_rule(node: "Node") -> list[TensorType]:
    dt = _dtype(node, LAPACK, 0)
    b, m, n = _matrix(node, 0)
    for name in ("atol", "rtol"):
        tol = _input(node, name)
        if tol is not None and (tol.dtype not in LAPACK or _batch(b, tol.shape) != b):
            raise IRError(f"pinv: {name} {tol.type} for a batch {b} of {dt}")
    return [_ty((*b, n, m), dt)]


def _square(name: str, target: Any, dtypes: tuple[str, ...] = LAPACK, info: bool = False) -> None:
    def rule(node: "Node") -> list[TensorType]:
        dt = _dtype(node, dtypes)
        b, n, _ = _matrix(node, 0, square=True)
        out = [_ty((*b, n, n), dt)]
        return out + [_ty(b, "i32")] if info else out

    _mirror(name, target, rule, dtypes)


_mirror("det", aten._linalg_det.default, _det_rule, LAPACK)
_mirror("slogdet", aten._linalg_slogdet.default, _det_rule, LAPACK)
_mirror("solve_triangular", aten.linalg_solve_triangular.default, _solve_triangular_rule, LAPACK)
_mirror("triangular_solve", aten.triangular_solve.default, _triangular_solve_rule, LAPACK)
_mirror("qr", aten.linalg_qr.default, _qr_rule, LAPACK)
_mirror("svd", aten._linalg_svd.default, _svd_rule, LAPACK)
_mirror("eigh", aten._linalg_eigh.default, _eigh_rule, LAPACK)
_square("cholesky", aten.cholesky.default)
_square("cholesky_ex", aten.linalg_cholesky_ex.default, info=True)
_square("cholesky_inverse", aten.cholesky_inverse.default)
_mirror("cholesky_solve", aten.cholesky_solve.default, _cholesky_solve_rule, LAPACK)
_square("inv_ex", aten.linalg_inv_ex.default, info=True)
_square("matrix_exp", aten.linalg_matrix_exp.default, HIST)
_mirror("ldl_factor_ex", aten.linalg_ldl_factor_ex.default, _ldl_factor_rule, LAPACK)
_mirror("ldl_solve", aten.linalg_ldl_solve.default, _lu_solve_like_rule, LAPACK)
_mirror("lu", aten.linalg_lu.default, _lu_rule, LAPACK)
_mirror("lu_factor_ex", aten.linalg_lu_factor_ex.default, _lu_factor_rule, LAPACK)
_mirror("lu_solve", aten.linalg_lu_solve.default, _lu_solve_like_rule, LAPACK)
_mirror("lu_unpack", aten.lu_unpack.default, _lu_unpack_rule, LAPACK)
_mirror("solve_ex", aten._linalg_solve_ex.default, _solve_ex_rule, LAPACK)
_mirror("ormqr", aten.ormqr.default, _ormqr_rule, LAPACK)
_mirror("geqrf", aten.geqrf.default, _geqrf_rule, LAPACK)
_mirror("householder_product", aten.linalg_householder_product.default, _householder_rule,
        LAPACK)
_mirror("pinv", aten.linalg_pinv.atol_rtol_tensor, _pinv_rule, LAPACK)
