"""Lowers a ``kernel`` node's region to backend-neutral :class:`Kernel` descriptions.

Every value in the region is evaluated at an *index*: one affine expression per
dim of the value over the kernel's iteration axes. Views become index
arithmetic, broadcasting becomes a zero coefficient, and a load composes the
index with the input buffer's strides into an :class:`Access`. f16/bf16 values
are computed in f32 and rounded to their dtype after every IR op (and every
constant carries its dtype's value), as eager PyTorch rounds the result of every
op; an IR op is one eager op (composites that eager computes in f32 are
imported with explicit casts to f32).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..ir import dtypes
from ..ir.dtypes import compute_dtype
from ..ir.graph import Graph, Node, Value
from ..ir.ops import Kind, get_op
from .kernel import Access, Buffer, Instr, Kernel, Reduction, Store


class LowerError(ValueError):
    pass


# An affine expression over iteration axes: (coefficients per axis, constant).
Expr = tuple[tuple[int, ...], int]
Index = tuple[Expr, ...]


@dataclass(frozen=True)
class Layout:
    """Where a tensor's elements are: ``data_ptr + 8*(offset + sum(idx*strides))``-style."""

    strides: tuple[int, ...]
    offset: int = 0

    @staticmethod
    def contiguous(shape: tuple[int, ...]) -> "Layout":
        return Layout(contiguous_strides(shape))


def contiguous_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, acc = [], 1
    for s in reversed(shape):
        strides.append(acc)
        acc *= max(s, 1)
    return tuple(reversed(strides))


def extent(shape: tuple[int, ...], layout: Layout) -> int:
    """Number of elements from the base pointer that an access may touch."""
    if any(s == 0 for s in shape):
        return 0
    return layout.offset + sum((s - 1) * st for s, st in zip(shape, layout.strides)) + 1


_REDUCE_KIND = {"sum": "sum", "mean": "sum", "prod": "prod", "amax": "max", "amin": "min",
                "cumsum": "sum", "cumprod": "prod"}


class _Emitter:
    """Builds one instruction list (body or epilogue) with value numbering."""

    def __init__(self, lowering: "_Lowering", dims: tuple[int, ...]) -> None:
        self.low = lowering
        self.dims = dims  # the sizes of the axes it evaluates over
        self.rank = len(dims)
        self.instrs: list[Instr] = []
        self.memo: dict[tuple, int] = {}

    def emit(self, op: str, args: tuple[int, ...], dtype: str, **attrs) -> int:
        key = (op, args, dtype, tuple(sorted((k, _hashable(v)) for k, v in attrs.items())))
        hit = self.memo.get(key)
        if hit is not None:
            return hit
        self.instrs.append(Instr(op, args, dtype, attrs))
        self.memo[key] = len(self.instrs) - 1
        return self.memo[key]

    def const(self, value, dtype: str) -> int:
        return self.emit("const", (), dtype, value=value)

    def expr(self, e: Expr) -> int:
        """An i64 value for an affine expression of the iteration indices."""
        coeffs, c = e
        acc = None
        for axis, k in enumerate(coeffs):
            if k == 0:
                continue
            term = self.emit("index", (), "i64", axis=axis)
            if k != 1:
                term = self.emit("mul", (term, self.const(k, "i64")), "i64")
            acc = term if acc is None else self.emit("add", (acc, term), "i64")
        if acc is None:
            return self.const(c, "i64")
        return acc if c == 0 else self.emit("add", (acc, self.const(c, "i64")), "i64")


def _hashable(v):
    return (type(v).__name__, str(v)) if isinstance(v, float) else v


class _Lowering:
    def __init__(self, region: Graph, layouts: list[Layout]) -> None:
        self.region = region
        self.layouts = dict(zip(region.inputs, layouts))
        self.buffers = {v: i for i, v in enumerate(region.inputs)}
        # reduction kernels: the reductions (index in Kernel.reductions), the
        # index each is read at in the body and in the epilogue, and how a
        # reduction's input is read in the body
        self.reductions: dict[Node, int] = {}
        self.red_list: list[Reduction] = []
        self.red_index: dict[Node, tuple[Index, Index]] = {}
        self.body: _Emitter | None = None
        self.epilogue: _Emitter | None = None
        self.in_idx: Index | None = None
        # the (axis, lo, hi) ranges the values being evaluated are used in (the
        # part of a cat): loads and gathers read only there (``within``)
        self.within: tuple[tuple[int, int, int], ...] = ()

    # -- evaluation ----------------------------------------------------------------
    def value(self, em: _Emitter, v: Value, idx: Index) -> int:
        """Instr id of ``v`` (in its compute dtype) evaluated at ``idx``."""
        key = ("v", id(v), idx, self.within)
        hit = em.memo.get(key)
        if hit is not None:
            return hit
        res = self._value(em, v, idx)
        em.memo[key] = res
        return res

    def _value(self, em: _Emitter, v: Value, idx: Index) -> int:
        n = v.producer
        cdt = compute_dtype(v.dtype)
        if n is None:
            return self._load(em, v, idx)
        kind = get_op(n.op).kind
        if kind is Kind.POINTWISE:
            args = tuple(self.value(em, i, _broadcast(idx, i.shape, v.shape)) for i in n.inputs)
            if n.op == "cast":
                out = em.emit("cast", args, v.dtype)
                return out if cdt == v.dtype else em.emit("cast", (out,), cdt)
            return _rounded(em, em.emit(get_op(n.op).instr, args, cdt), v.dtype)
        if n.op == "full":
            # A constant of dtype f16/bf16 holds that dtype's value, not the f32 one.
            c = em.const(n.attrs["value"], v.dtype)
            return c if cdt == v.dtype else em.emit("cast", (c,), cdt)
        if n.op == "iota":
            i = em.expr(idx[0])
            start, step = n.attrs["start"], n.attrs["step"]
            work = "f64" if dtypes.is_float(v.dtype) or isinstance(start + step, float) else "i64"
            x = em.emit("cast", (i,), work) if work != "i64" else i
            if step != 1:
                x = em.emit("mul", (x, em.const(step, work)), work)
            if start != 0:
                x = em.emit("add", (x, em.const(start, work)), work)
            return x if work == cdt else _rounded(em, em.emit("cast", (x,), cdt), v.dtype)
        if kind is Kind.VIEW:
            return self.value(em, n.inputs[0], _view_index(n, idx))
        if kind is Kind.GATHER:
            return self._gather(em, n, idx)
        if n.op == "cat":
            return self._cat(em, n, idx)
        if kind is Kind.REDUCTION and not _reduce_axes(n):
            # Reducing over no axes (or a 0-d tensor) is the identity; the shapes agree.
            return self.value(em, n.inputs[0], idx)
        if kind is Kind.REDUCTION and n in self.red_index:
            body_idx, epi_idx = self.red_index[n]
            if _canon(idx, v.shape) != (epi_idx if em is self.epilogue else body_idx):
                raise LowerError(f"{n.op} is read at another index than the kernel's own")
            out = em.emit("reduced", (), compute_dtype(v.dtype), index=self._reduction(n))
            if n.op == "mean":
                count = math.prod(n.inputs[0].shape[a] for a in n.attrs["axes"])
                out = em.emit("mul", (out, em.const(1.0 / count if count else math.nan, cdt)), cdt)
            # the reduction's result is a tensor of its dtype in eager: an f16 sum
            # is rounded before anything uses it
            return _rounded(em, out, v.dtype)
        raise LowerError(f"{n.op} cannot be evaluated inside a kernel here")

    def _reduction(self, n: Node) -> int:
        """The index of reduction ``n``, its value emitted in the body on first use
        (before any body value that reads its result)."""
        k = self.reductions.get(n)
        if k is None:
            x = n.inputs[0]
            val = self.value(self.body, x, self.in_idx)
            kind = _REDUCE_KIND[n.op]
            k = self.reductions[n] = len(self.red_list)
            self.red_list.append(Reduction(kind, val, _accumulator(kind, x.dtype)))
        return k

    def _gather(self, em: _Emitter, n: Node, idx: Index) -> int:
        """take(x, i, axis) or take_along(x, i, axis) at ``idx``: x read at the
        position i holds (wrapped if negative, then clamped into range: indices out
        of range are reported by the importer's check, never read)."""
        x, ind = n.inputs
        along = n.op == "take_along"  # torch.gather: the index shares the output's index
        axis, r = n.attrs["axis"], (1 if along else ind.rank)
        if x.producer is not None or x not in self.layouts:
            raise LowerError(f"{n.op} reads a kernel input only")  # fusion materializes it
        size = x.shape[axis]
        i = self.value(em, ind, idx if along else idx[axis:axis + r])
        i = i if ind.dtype == "i64" else em.emit("cast", (i,), "i64")
        zero = em.const(0, "i64")
        if n.attrs.get("wrap"):
            neg = em.emit("lt", (i, zero), "b8")
            i = em.emit("where", (neg, em.emit("add", (i, em.const(size, "i64")), "i64"), i),
                        "i64")
        i = em.emit("minimum", (em.emit("maximum", (i, zero), "i64"),
                                em.const(max(size - 1, 0), "i64")), "i64")
        zero_e: Expr = ((0,) * em.rank, 0)
        layout = self.layouts[x]
        acc = access(idx[:axis] + (zero_e,) + idx[axis + r:], layout, x.shape, em.rank)
        stride = layout.strides[axis] if size != 1 else 0
        out = em.emit("gather", (i,), x.dtype, buffer=self.buffers[x], access=acc,
                      stride=stride, extent=max(size, 1), **self._within(acc))
        cdt = compute_dtype(x.dtype)
        return out if cdt == x.dtype else em.emit("cast", (out,), cdt)

    def _load(self, em: _Emitter, v: Value, idx: Index) -> int:
        acc = access(idx, self.layouts[v], v.shape, em.rank)
        x = em.emit("load", (), v.dtype, buffer=self.buffers[v], access=acc,
                    **self._within(acc))
        cdt = compute_dtype(v.dtype)
        return x if cdt == v.dtype else em.emit("cast", (x,), cdt)

    def _within(self, acc: Access) -> dict:
        """A read's ``within`` attr: the ranges of the axes its address moves along."""
        w = tuple(r for r in self.within if acc.strides[r[0]] != 0)
        return {"within": w} if w else {}

    def _cat(self, em: _Emitter, n: Node, idx: Index) -> int:
        """cat at ``idx``: each part evaluated at its shifted index, reading only at
        the points in it, and ``where(index < end, part, ...)`` picking the part."""
        axis = n.attrs["axis"]
        coeffs, c = idx[axis]
        live = [(a, k) for a, k in enumerate(coeffs) if k]
        parts, start = [], 0
        for x in n.inputs:
            if x.shape[axis]:
                parts.append((x, start, start + x.shape[axis]))
            start += x.shape[axis]
        if not live:  # one position along the cat axis: its part, read as is
            x, lo, _ = next(p for p in parts if p[1] <= c < p[2])
            return self.value(em, x, _shift(idx, axis, lo))
        if len(live) != 1 or live[0][1] < 0:
            raise LowerError("cat read at a position that is not one domain axis")
        d, k = live[0]
        # the points along d where lo <= k*p + c < hi: [ceil((lo-c)/k), ceil((hi-c)/k))
        saved = self.within
        a0, b0 = next(((lo, hi) for ax, lo, hi in saved if ax == d), (0, em.dims[d]))
        pieces = []  # (part, its start, the points of d in it) (inside an outer cat's)
        for x, lo, hi in parts:
            a, b = max(a0, -((c - lo) // k)), min(b0, -((c - hi) // k))
            if a < b:
                pieces.append((x, lo, a, b))
        if not pieces:  # an empty domain: nothing is read
            return em.const(0, compute_dtype(n.out.dtype))
        if len(pieces) == 1:
            return self.value(em, pieces[0][0], _shift(idx, axis, pieces[0][1]))
        vals = []
        for x, lo, a, b in pieces:
            self.within = tuple(sorted([r for r in saved if r[0] != d] + [(d, a, b)]))
            try:
                vals.append(self.value(em, x, _shift(idx, axis, lo)))
            finally:
                self.within = saved
        i = em.emit("index", (), "i64", axis=d)
        out = vals[-1]
        for (_, _, _, b), v in zip(reversed(pieces[:-1]), reversed(vals[:-1])):
            cond = em.emit("lt", (i, em.const(b, "i64")), "b8")
            out = em.emit("where", (cond, v, out), compute_dtype(n.out.dtype))
        return out

    def store_value(self, em: _Emitter, v: Value, idx: Index) -> int:
        x = self.value(em, v, idx)
        return x if compute_dtype(v.dtype) == v.dtype else em.emit("cast", (x,), v.dtype)

    def buffers_of(self) -> tuple[Buffer, ...]:
        return tuple(Buffer(f"in{i}", v.dtype, extent(v.shape, self.layouts[v]))
                     for i, v in enumerate(self.region.inputs))


def access(idx: Index, layout: Layout, shape: tuple[int, ...], rank: int) -> Access:
    """The flat-offset map of a tensor with ``layout`` read at ``idx`` (``rank`` axes)."""
    strides = [0] * rank
    offset = layout.offset
    for (coeffs, c), st, size in zip(idx, layout.strides, shape):
        if size == 1:
            continue  # any index is 0 on a unit dim; its stride is irrelevant
        offset += st * c
        for a, k in enumerate(coeffs):
            strides[a] += st * k
    return Access(offset, tuple(strides))


def _rounded(em: _Emitter, x: int, dtype: str) -> int:
    """``x`` (computed in f32 for an f16/bf16 ``dtype``) rounded to ``dtype``, as eager
    rounds every op's result; other dtypes are computed in their own type."""
    if compute_dtype(dtype) == dtype:
        return x
    return em.emit("cast", (em.emit("cast", (x,), dtype),), compute_dtype(dtype))


def _identity(rank: int, naxes: int | None = None, axes: list[int] | None = None) -> Index:
    naxes = rank if naxes is None else naxes
    axes = list(range(rank)) if axes is None else axes
    return tuple((tuple(1 if j == a else 0 for j in range(naxes)), 0) if a is not None
                 else ((0,) * naxes, 0) for a in axes)


def _canon(idx: Index, shape: tuple[int, ...]) -> Index:
    """``idx`` with unit dims' expressions zeroed (any index into a unit dim is 0)."""
    return tuple(((0,) * len(e[0]), 0) if s == 1 else e for e, s in zip(idx, shape))


def _broadcast(idx: Index, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Index:
    lead = len(out_shape) - len(in_shape)
    zero = ((0,) * len(idx[0][0]), 0) if idx else None
    return tuple(zero if s == 1 else idx[lead + i] for i, s in enumerate(in_shape))


def _shift(idx: Index, axis: int, by: int) -> Index:
    """``idx`` with ``by`` subtracted along ``axis`` (a cat part's own index)."""
    coeffs, c = idx[axis]
    return idx[:axis] + ((coeffs, c - by),) + idx[axis + 1:]


def _scale(e: Expr, k: int) -> Expr:
    return tuple(c * k for c in e[0]), e[1] * k


def _add(a: Expr, b: Expr) -> Expr:
    return tuple(x + y for x, y in zip(a[0], b[0])), a[1] + b[1]


def _view_index(n: Node, idx: Index) -> Index:
    """The input's index for a view node evaluated at output index ``idx``."""
    x = n.inputs[0]
    naxes = len(idx[0][0]) if idx else 0
    zero: Expr = ((0,) * naxes, 0)
    a = n.attrs
    if n.op == "permute":
        out = [zero] * x.rank
        for i, d in enumerate(a["dims"]):
            out[d] = idx[i]
        return tuple(out)
    if n.op == "expand":
        return _broadcast(idx, x.shape, n.out.shape)
    if n.op == "slice":
        out = list(idx)
        ax = a["axis"]
        out[ax] = _add(_scale(idx[ax], a["step"]), ((0,) * naxes, a["start"]))
        return tuple(out)
    if n.op == "squeeze":
        it = iter(idx)
        return tuple(zero if i in a["axes"] else next(it) for i in range(x.rank))
    if n.op == "unsqueeze":
        return idx[: a["axis"]] + idx[a["axis"] + 1:]
    if n.op == "reshape":
        return _reshape_index(x.shape, n.out.shape, idx, zero)
    if n.op == "unfold":  # x[..., i * step + j, ...] at (..., i, ..., j)
        if not x.rank:
            return ()
        out = list(idx[:-1])
        ax = a["axis"]
        out[ax] = _add(_scale(idx[ax], a["step"]), idx[-1])
        return tuple(out)
    if n.op == "as_strided":  # one flat position of the 1-D operand
        e: Expr = ((0,) * naxes, a["offset"])
        for st, ex in zip(a["stride"], idx):
            e = _add(e, _scale(ex, st))
        return (e,)
    raise LowerError(f"view {n.op} is not inlinable")


def _reshape_index(in_shape, out_shape, idx: Index, zero: Expr) -> Index:
    # Each non-unit input dim is a run of consecutive non-unit output dims (a split);
    # its index is the row-major combination of theirs.
    outs = [(s, e) for s, e in zip(out_shape, idx) if s != 1]
    j, res = 0, []
    for s in in_shape:
        if s == 1:
            res.append(zero)
            continue
        group, prod = [], 1
        while prod < s:
            group.append(outs[j])
            prod *= outs[j][0]
            j += 1
        e, mult = zero, 1
        for size, ex in reversed(group):
            e = _add(e, _scale(ex, mult))
            mult *= size
        res.append(e)
    return tuple(res)


def lower_kernel(name: str, region: Graph, layouts: list[Layout]) -> list[Kernel]:
    """Lowers a kernel region; returns one Kernel, or one per part for a
    materialized ``cat`` (the region's root).

    Args:
        name: the kernel's name.
        region: the region graph. Its first output is the kernel's root; further
            outputs (multi-output kernels) are values a reduction reads at every
            point of its domain, stored while it reduces them (prologue stores).
        layouts: the layout of each region input, in order.
    """
    root, extra = region.outputs[0], region.outputs[1:]
    out = Buffer("out0", root.dtype, root.type.numel)
    out_strides = contiguous_strides(root.shape)
    node = root.producer
    low = _Lowering(region, layouts)
    if node is not None and node.op == "cat":
        # A materialized cat is one straight copy per part, into its slice: one
        # kernel evaluating every part at every point (masked reads) measured
        # 1.1-1.6x slower on large cats and no faster on small ones (bench/cat.py).
        # A cat that a kernel reads is computed inside it (``_cat``).
        return _lower_cat(name, low, node, out, out_strides)
    if node is not None and get_op(node.op).kind is Kind.SCATTER:
        if extra:
            raise LowerError(f"{name}: a scatter kernel has one output")
        return _lower_scatter(name, low, node, out, out_strides)
    if node is not None and get_op(node.op).kind is Kind.SCAN:
        if extra:
            raise LowerError(f"{name}: a scan kernel has one output")
        return [_lower_scan(name, low, node, out, out_strides)]
    reds = [n for n in region.nodes if get_op(n.op).kind is Kind.REDUCTION and _reduce_axes(n)]
    if extra and not reds:
        raise LowerError(f"{name}: several outputs need a reduction kernel")
    if not reds:
        em = _Emitter(low, root.shape)
        v = low.store_value(em, root, _identity(root.rank))
        store = Store(0, v, Access(0, out_strides))
        return [_finish(Kernel(name, root.shape, 0, low.buffers_of(), (out,), tuple(em.instrs),
                               (store,)))]
    return [_lower_reduction(name, low, reds, root, out, out_strides, extra)]


def _lower_reduction(name, low: _Lowering, reds: list[Node], root: Value, out: Buffer,
                     out_strides, extra: list[Value]) -> Kernel:
    """One kernel for all of ``reds`` (reductions of the same input shape over the
    same axes). The body reads a reduction's finished result where a value is
    computed from it at every point (staged kernels: softmax, layer norm); the
    root is stored from the epilogue when it has a reduction's output shape, else
    at every point of the domain (a prologue store of the last stage)."""
    red = reds[0]
    x = red.inputs[0]
    axes = _reduce_axes(red)
    for n in reds[1:]:
        if n.inputs[0].shape != x.shape or set(_reduce_axes(n)) != set(axes):
            raise LowerError(f"{name}: reductions over different domains in one kernel")
    kept = [d for d in range(x.rank) if d not in axes]
    order = kept + list(axes)  # domain axis j iterates input dim order[j]
    domain = tuple(x.shape[d] for d in order)
    nouter = len(kept)
    pos = {d: j for j, d in enumerate(order)}
    low.in_idx = in_idx = _identity(x.rank, len(domain), [pos[d] for d in range(x.rank)])
    low.body = body = _Emitter(low, domain)
    low.epilogue = epi = _Emitter(low, domain[:nouter])
    for n in reds:
        if n.attrs["keepdim"]:
            o_axes = [None if d in axes else kept.index(d) for d in range(x.rank)]
        else:
            o_axes = list(range(nouter))
        epi_idx = _canon(_identity(len(o_axes), nouter, o_axes), n.out.shape)
        body_idx = _canon(_identity(len(o_axes), len(domain), o_axes), n.out.shape)
        low.red_index[n] = (body_idx, epi_idx)
    for n in reds:  # in graph order (the region's nodes are)
        low._reduction(n)
    reduced_shape = reds[-1].out.shape if root.rank == x.rank else None
    full_root = root.shape == x.shape and root.shape != reduced_shape
    outs, stores = [out], []
    if full_root:
        pv = low.store_value(body, root, in_idx)
        stores.append(Store(0, pv, access(in_idx, Layout.contiguous(root.shape), root.shape,
                                          len(domain)), prologue=True))
    else:
        if root.rank == x.rank:
            out_axes = [None if d in axes else kept.index(d) for d in range(x.rank)]
        elif root.rank == nouter:
            out_axes = list(range(nouter))
        else:
            raise LowerError(f"{name}: the root's shape {root.shape} is neither the "
                             f"reduction's input nor its output")
        root_index = _identity(len(out_axes), nouter, out_axes)
        e = low.store_value(epi, root, root_index)
        store_strides = [0] * nouter
        for d, ax in enumerate(out_axes):
            if ax is not None and root.shape[d] != 1:
                store_strides[ax] += out_strides[d]
        stores.append(Store(0, e, Access(0, tuple(store_strides))))
    for j, v in enumerate(extra, 1):
        if v.shape != x.shape:
            raise LowerError(f"{name}: output {j} is not read at every point of the domain")
        # A prologue value has the reduction input's shape, so its index is the input's.
        pv = low.store_value(body, v, in_idx)
        outs.append(Buffer(f"out{j}", v.dtype, v.type.numel))
        acc = access(in_idx, Layout.contiguous(v.shape), v.shape, len(domain))
        stores.append(Store(j, pv, acc, prologue=True))
    k = Kernel(name, domain, len(axes), low.buffers_of(), tuple(outs), tuple(body.instrs),
               tuple(stores), tuple(low.red_list), tuple(epi.instrs))
    return _finish(k)


def _accumulator(kind: str, dtype: str) -> str:
    # The reduction's own dtype; how wide the backend accumulates is its
    # schedule's choice (the CPU's scalar loops sum floats in f64).
    return compute_dtype(dtype)


def _reduce_axes(n: Node) -> tuple[int, ...]:
    return n.attrs["axes"] if n.inputs[0].rank else ()


def _lower_scan(name, low: _Lowering, node: Node, out: Buffer, out_strides) -> Kernel:
    """cumsum/cumprod: the scanned axis is the kernel's one reduce axis, and the
    running value (``scanned``) is stored at every point."""
    x = node.inputs[0]
    if x.rank == 0:  # a scan of one element is the element
        em = _Emitter(low, ())
        v = low.store_value(em, x, ())
        return _finish(Kernel(name, (), 0, low.buffers_of(), (out,), tuple(em.instrs),
                              (Store(0, v, Access(0, ())),)))
    axis = node.attrs["axis"]
    order = [d for d in range(x.rank) if d != axis] + [axis]
    domain = tuple(x.shape[d] for d in order)
    pos = {d: j for j, d in enumerate(order)}
    low.in_idx = in_idx = _identity(x.rank, len(domain), [pos[d] for d in range(x.rank)])
    low.body = body = _Emitter(low, domain)
    low.epilogue = _Emitter(low, domain[:-1])
    cdt = compute_dtype(x.dtype)
    val = low.value(body, x, in_idx)
    low.red_list.append(Reduction(_REDUCE_KIND[node.op], val, cdt))
    run = body.emit("scanned", (), cdt, index=len(low.red_list) - 1)
    pv = _rounded(body, run, x.dtype)
    if cdt != x.dtype:
        pv = body.emit("cast", (pv,), x.dtype)
    acc = access(in_idx, Layout.contiguous(x.shape), x.shape, len(domain))
    return _finish(Kernel(name, domain, 1, low.buffers_of(), (out,), tuple(body.instrs),
                          (Store(0, pv, acc, prologue=True),), tuple(low.red_list)))


def _lower_scatter(name, low: _Lowering, node: Node, out: Buffer,
                   out_strides) -> list[Kernel]:
    """scatter(x, idx, src): a copy of ``x`` into the output, then a kernel over the
    indices' domain whose store writes (or adds) ``src`` at the position each index
    holds. The scatter axis is the one ordered axis: two points collide only when
    they differ along it (their targets differ in every other coordinate), so
    backends run it in order and the other axes freely. It is the outermost loop
    (rows of a row scatter stay contiguous vectors), or the innermost when it is
    the last dim (a scatter along rows reads them in order, one row per thread)."""
    x, ind, src = node.inputs
    axis, combine = node.attrs["axis"], node.attrs["combine"]
    em = _Emitter(low, x.shape)
    v = low.store_value(em, x, _identity(x.rank))
    kernels = [_finish(Kernel(f"{name}_copy", x.shape, 0, low.buffers_of(), (out,),
                              tuple(em.instrs), (Store(0, v, Access(0, out_strides)),)))]
    if not ind.type.numel:
        return kernels
    rest = [d for d in range(x.rank) if d != axis]
    order = rest + [axis] if axis == x.rank - 1 and x.rank > 1 else [axis] + rest
    domain = tuple(ind.shape[d] for d in order)
    pos = {d: j for j, d in enumerate(order)}
    idx = _identity(x.rank, len(domain), [pos[d] for d in range(x.rank)])
    em = _Emitter(low, domain)
    val = low.store_value(em, src, idx)
    i = low.value(em, ind, idx)
    i = i if ind.dtype == "i64" else em.emit("cast", (i,), "i64")
    size, zero = x.shape[axis], em.const(0, "i64")
    if node.attrs["wrap"]:
        neg = em.emit("lt", (i, zero), "b8")
        i = em.emit("where", (neg, em.emit("add", (i, em.const(size, "i64")), "i64"), i), "i64")
    i = em.emit("minimum", (em.emit("maximum", (i, zero), "i64"),
                            em.const(max(size - 1, 0), "i64")), "i64")
    strides = [0] * len(domain)
    for d in range(x.rank):
        if d != axis and x.shape[d] != 1:
            strides[pos[d]] = out_strides[d]
    store = Store(0, val, Access(0, tuple(strides)), index=i,
                  stride=out_strides[axis] if size != 1 else 0, extent=max(size, 1),
                  combine=None if combine == "set" else combine)
    kernels.append(_finish(Kernel(f"{name}_scatter", domain, 0, low.buffers_of(), (out,),
                                  tuple(em.instrs), (store,), ordered=(pos[axis],))))
    return kernels


def _lower_cat(name, low: _Lowering, node: Node, out: Buffer, out_strides) -> list[Kernel]:
    axis = node.attrs["axis"]
    kernels, start = [], 0
    for i, x in enumerate(node.inputs):
        em = _Emitter(low, x.shape)
        v = low.store_value(em, x, _identity(x.rank))
        acc = Access(start * out_strides[axis], out_strides)
        start += x.shape[axis]
        if x.type.numel == 0:
            continue
        kernels.append(_finish(Kernel(f"{name}_part{i}", x.shape, 0, low.buffers_of(), (out,),
                                      tuple(em.instrs), (Store(0, v, acc),))))
    return kernels


def _finish(k: Kernel) -> Kernel:
    k.validate()
    return k
