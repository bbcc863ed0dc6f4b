"""Kernel + Schedule -> the text of a Triton module (one ``@triton.jit`` function).

Layout of a generated kernel
----------------------------
Pointwise: the domain is flattened; each program handles ``XBLOCK`` consecutive
flat points ``xoffs`` (masked at the tail), and each domain index is recovered
with ``//`` and ``%`` by static sizes. Reductions: the outer axes are flattened
into ``xoffs`` (a column, ``[XBLOCK, 1]``) and the reduce axes into ``roffs``
(a row, ``[1, RBLOCK]``). ``persistent`` loads a whole row as one block;
``loop`` walks the row ``RBLOCK`` at a time into a ``[XBLOCK, RBLOCK]``
accumulator reduced once after the loop. Prologue stores write body values
inside the row loop; the epilogue runs on ``[XBLOCK, 1]`` values after it.
Staged kernels (a body that reads finished reductions): persistent rows reduce
each reduction where a later body value first reads it (``[XBLOCK, 1]``,
broadcast over the row); looped rows make one loop per stage
(``kernel.passes``), each computing only what its stage needs.

An access ``offset + sum(stride * idx)`` is emitted as ``c * xoffs`` when the
strides are those of the flattened axes scaled by ``c`` (the contiguous case),
otherwise as a sum over the non-unit axes it steps along. Offsets are int32
unless a buffer or the domain could reach 2**31, then int64.

Values: every instruction becomes one variable (``v3`` in the body, ``e1`` in
the epilogue) in the *compute type* of its dtype: f16/bf16 in f32 (rounded at
casts, constants and stores), b8 as ``tl.int1`` (stored as one byte: bool
tensors are passed as uint8 views), others as themselves. Scalar ops come from
:data:`LOWERINGS` (``rules.py``), one function per ``Instr.op``.
"""

from __future__ import annotations

import math
import re

from ..collapse import collapse_axes
from ..kernel import FLOAT_DTYPES, Access, Kernel, needed, passes
from ..schedule import Schedule
from . import TritonLoweringError, prelude_bessel, prelude_poly
from .online import finish as online_finish, online_pairs, update as online_update
from .online import welford_finish, welford_update
from .prelude import PRELUDES
from .rules import (  # noqa: F401  (HEADER, POINTER_SIG, LOWERINGS: re-exported)
    HEADER, INT32_MAX, INT_WIDTH, LOWERINGS, POINTER_SIG, TARGETS, OpCtx, _float_lit,
    compute_ty, convert, from_storage, to_storage,
)


# --------------------------------------------------------------------------
# reductions


def identity_literal(kind: str, dtype: str) -> str:
    """Neutral element of ``kind`` for an accumulator of ``dtype`` (b8 accumulates as int8)."""
    if dtype == "b8":
        return "1" if kind in ("prod", "min") else "0"
    if kind in ("sum", "prod"):
        v: float = 0 if kind == "sum" else 1
        return _float_lit(float(v)) if dtype in FLOAT_DTYPES else str(v)
    if dtype in FLOAT_DTYPES:
        return _float_lit(-math.inf if kind == "max" else math.inf)
    if dtype == "u8":
        return "0" if kind == "max" else "255"
    w = INT_WIDTH[dtype]
    return str(-(1 << (w - 1)) if kind == "max" else (1 << (w - 1)) - 1)


def identity(kind: str, dtype: str) -> str:
    """The neutral element as a typed 0-d constant."""
    ty = "tl.int8" if dtype == "b8" else compute_ty(dtype)
    return f"tl.full([], {identity_literal(kind, dtype)}, {ty})"


def combiner(kind: str, dtype: str) -> str:
    """The ``@triton.jit`` combine function of the prelude for ``kind`` over ``dtype``."""
    if dtype == "b8":  # int8 0/1: any = max, all = min
        return "_ember_imax" if kind in ("sum", "max") else "_ember_imin"
    if kind == "sum":
        return "_ember_add"
    if kind == "prod":
        return "_ember_mul"
    if dtype in FLOAT_DTYPES:
        return "_ember_fmax" if kind == "max" else "_ember_fmin"
    return "_ember_imax" if kind == "max" else "_ember_imin"


# --------------------------------------------------------------------------
# the generator


def block_sizes(kernel: Kernel, schedule: Schedule) -> tuple[int, int]:
    """(XBLOCK, RBLOCK) of a schedule (RBLOCK is 1 for pointwise kernels)."""
    blk = tuple(schedule.block) or (1024,)
    x = blk[0]
    r = blk[1] if len(blk) > 1 else 1
    for b in (x, r):
        if b < 1 or b & (b - 1):
            raise TritonLoweringError(f"kernel {kernel.name!r}: block sizes must be powers "
                                      f"of two, got {schedule.block}")
    return x, r


# Masked-off lanes of the last block may compute offsets up to a block past the
# end; blocks never exceed 2**20 elements (Triton's limit), whatever a tuner picks.
BLOCK_SLACK = 1 << 20


def needs_int64(kernel: Kernel) -> bool:
    """Whether some offset of the kernel (or of a masked-off lane) may pass 2**31 - 1.

    Independent of block sizes, so a tuner may change them without regenerating.
    """
    dom = kernel.domain
    nouter = len(dom) - kernel.num_reduce
    if max([b.size for b in kernel.inputs + kernel.outputs] + [0]) + BLOCK_SLACK > INT32_MAX:
        return True
    if math.prod(dom) + BLOCK_SLACK > INT32_MAX:
        return True

    def bound(acc: Access, dims) -> int:
        return abs(acc.offset) + sum(abs(s) * max(d - 1, 0) for s, d in zip(acc.strides, dims))

    accs = [(i.attrs["access"], dom) for i in kernel.body if i.op in ("load", "gather")]
    accs += [(i.attrs["access"], dom[:nouter]) for i in kernel.epilogue
             if i.op in ("load", "gather")]
    if any(abs(i.attrs["stride"]) * i.attrs["extent"] + BLOCK_SLACK > INT32_MAX
           for i in kernel.body + kernel.epilogue if i.op == "gather"):
        return True
    if any(abs(s.stride) * s.extent + BLOCK_SLACK > INT32_MAX
           for s in kernel.stores if s.index is not None):
        return True
    accs += [(s.access, dom if (s.prologue or not kernel.num_reduce) else dom[:nouter])
             for s in kernel.stores]
    return any(bound(a, d) + BLOCK_SLACK > INT32_MAX for a, d in accs)


class _Gen:
    """Renders one kernel; ``load``/``index`` are the hooks the lowerings call."""

    def __init__(self, kernel: Kernel, schedule: Schedule, fn_name: str,
                 original: Kernel | None = None) -> None:
        self.kernel, self.schedule, self.fn_name = kernel, schedule, fn_name
        self.original = original or kernel
        self.lines: list[str] = []
        self.depth = 1
        self._carries: set[int] = set()  # scans carried across a row loop's blocks
        dom = kernel.domain
        self.tile2d = is_tile2d(kernel, schedule)
        # axes from ``split`` on are the "r" part: the reduce axes, or the
        # innermost axis of a 2-D tiled pointwise kernel
        self.split = 1 if self.tile2d else kernel.num_reduce
        self.nouter = len(dom) - self.split
        self.xblock, self.rblock = block_sizes(kernel, schedule)
        self.i64 = needs_int64(kernel)
        self.ity = "tl.int64" if self.i64 else "tl.int32"
        self.in_epilogue = False
        self.index_vars: dict[int, str] = {}

    # -- text helpers
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    # -- addressing
    def _flat_strides(self, dims) -> list[int]:
        return [math.prod(dims[i + 1:]) for i in range(len(dims))]

    def _axes(self, part: str) -> list[int]:
        nd = len(self.kernel.domain)
        o = self.kernel.ordered
        if o:  # a scatter: the ordered axes are a loop's ("s": sidx), the rest the block's
            return ([a for a in range(nd) if a not in o] if part == "x"
                    else list(o) if part == "s" else [])
        if part == "s":
            return []
        if not self.split:
            return list(range(nd)) if part == "x" else []
        return list(range(self.nouter)) if part == "x" else list(range(self.nouter, nd))

    def _part_expr(self, strides, part: str) -> str | None:
        """The offset contribution of the ``part`` axes ("x" or "r"), or None when zero."""
        dom = self.kernel.domain
        axes = [a for a in self._axes(part) if dom[a] > 1 and strides[a] != 0]
        if not axes:
            return None
        all_axes = self._axes(part)
        dims = [dom[a] for a in all_axes]
        flat = dict(zip(all_axes, self._flat_strides(dims)))
        base = {"x": "xoffs", "r": "roffs", "s": "sidx"}[part]
        live = [a for a in all_axes if dom[a] > 1]
        c = strides[live[0]] // flat[live[0]] if strides[live[0]] % flat[live[0]] == 0 else None
        if c is not None and all(strides[a] == c * flat[a] for a in live):
            return base if c == 1 else f"{c} * {base}"
        return " + ".join(f"{strides[a]} * {self.index_var(a)}" if strides[a] != 1
                          else self.index_var(a) for a in axes)

    def offset(self, acc: Access, rank_outer: bool) -> tuple[str, str | None]:
        """(offset expression, mask name or None for a constant address)."""
        strides = list(acc.strides)
        if rank_outer:  # an epilogue access: one stride per outer axis
            strides += [0] * self.kernel.num_reduce
        parts = {p: self._part_expr(strides, p) for p in ("x", "r", "s")}
        terms = [e for e in (parts["x"], parts["r"], parts["s"]) if e]
        if acc.offset:
            terms.insert(0, str(acc.offset))
        expr = " + ".join(terms) if terms else "0"
        if not self.split:
            return expr, ("xmask" if parts["x"] else None)
        if parts["x"] and parts["r"]:
            return expr, "mask"
        if parts["x"]:
            return expr, "xmask"
        if parts["r"]:
            return expr, "rmask"
        return expr, None

    def index_var(self, axis: int) -> str:
        """The variable holding the domain index along ``axis`` (emitted once)."""
        if axis not in self.index_vars:
            dom = self.kernel.domain
            part = "r" if self.split and axis >= self.nouter else "x"
            part = "s" if axis in self.kernel.ordered else part
            axes = self._axes(part)
            dims = [dom[a] for a in axes]
            flat = dict(zip(axes, self._flat_strides(dims)))[axis]
            base = {"x": "xoffs", "r": "roffs", "s": "sidx"}[part]
            e = base if flat == 1 else f"({base} // {flat})"
            if axis != axes[0]:
                e = f"{e} % {dom[axis]}"
            name = f"i{axis}"
            self.emit(f"{name} = {e}")
            self.index_vars[axis] = name
        return self.index_vars[axis]

    # -- hooks for the lowerings
    def load(self, buf: int, acc: Access, within=()) -> str:
        expr, mask = self.offset(acc, rank_outer=self.in_epilogue)
        inside = self._inside(within)
        if mask is None and inside is None:
            # A one-element load is a scalar; broadcast it to the block (one cached
            # address on a GPU): Triton's interpreter mishandles f64 scalars in the
            # bitwise ops of the NaN-aware helpers (maximum, pow, logical ops).
            return f"tl.load(in{buf} + {expr} + 0 * xoffs)"
        if mask is None:
            return f"tl.load(in{buf} + {expr} + 0 * xoffs, mask={inside}, other=0)"
        mask = mask if inside is None else f"{mask} & {inside}"
        return f"tl.load(in{buf} + ({expr}), mask={mask}, other=0)"

    def gather(self, buf: int, acc: Access, stride: int, i: str, within=()) -> str:
        """A read at a computed address (the index block ``i`` is in range)."""
        expr, _ = self.offset(acc, rank_outer=self.in_epilogue)
        mask = "xmask" if self.in_epilogue else self.full_mask
        inside = self._inside(within)
        mask = mask if inside is None else f"{mask} & {inside}"
        return f"tl.load(in{buf} + ({expr}) + {stride} * ({i}) + 0 * xoffs, mask={mask}, other=0)"

    def _inside(self, within) -> str | None:
        """A masked read's condition: the point is in every ``(axis, lo, hi)`` range."""
        terms = []
        for ax, lo, hi in within:
            v = self.index(ax)
            terms.append(f"(({v} >= {lo}) & ({v} < {hi}))")
        return " & ".join(terms) if terms else None

    def index(self, axis: int) -> str:
        if self.kernel.domain[axis] <= 1:
            return "tl.full([], 0, tl.int64)"
        v = self.index_var(axis)
        return f"{v}.to(tl.int64)" if not self.i64 else v

    # -- instruction lists
    def instrs(self, instrs, prefix: str, need=None, before=None) -> list[str]:
        """Emits ``instrs`` (only those ``need`` marks); ``before(i, names)`` runs
        before instruction ``i`` is emitted, with the names emitted so far."""
        names: list[str] = []
        for i, ins in enumerate(instrs):
            if need is not None and not need[i]:
                names.append("None")
                continue
            if before is not None:
                before(i, names)
            if ins.op == "scanned":
                names.append(self._scanned(i, ins, names))
                continue
            fn = LOWERINGS.get(ins.op)
            if fn is None:
                raise TritonLoweringError(f"kernel {self.kernel.name!r}: no Triton lowering for "
                                          f"op {ins.op!r}")
            cx = OpCtx(ins, [names[a] for a in ins.args], [instrs[a].dtype for a in ins.args], self)
            name = f"{prefix}{i}"
            self.emit(f"{name} = {fn(cx)}")
            names.append(name)
        return names

    def store(self, st, names, instrs, full: str, rank_outer: bool) -> None:
        out = self.kernel.outputs[st.output]
        val = convert(names[st.value], instrs[st.value].dtype, out.dtype)
        expr, _ = self.offset(st.access, rank_outer=rank_outer)
        if st.index is not None:  # a scatter store: the lanes' targets are distinct
            expr = f"({expr}) + {st.stride} * ({names[st.index]})"
            if st.combine:
                old = from_storage(f"tl.load(out{st.output} + ({expr}) + {full}, "
                                   f"mask={self.full_mask}, other=0)", out.dtype)
                comb = combiner(st.combine, out.dtype)
                if out.dtype == "b8":  # int8 0/1, as the reductions combine bools
                    val = f"({comb}({old}.to(tl.int8), ({val}).to(tl.int8)) != 0)"
                else:
                    val = f"{comb}({old}, {val})"
        val = to_storage(val, out.dtype)
        # the pointer always has the block's shape, so any value shape broadcasts to it
        self.emit(f"tl.store(out{st.output} + ({expr}) + {full}, {val}, mask={self.full_mask})")

    # -- whole kernels
    def render(self) -> str:
        k = self.kernel
        params = [f"in{i}" for i in range(len(k.inputs))] + [f"out{i}" for i in range(len(k.outputs))]
        params += ["XBLOCK: tl.constexpr", "RBLOCK: tl.constexpr"]
        head = ["@triton.jit", f"def {self.fn_name}({', '.join(params)}):"]
        pid = "tl.program_id(0).to(tl.int64)" if self.i64 else "tl.program_id(0)"
        arange = "tl.arange(0, {b})" + (".to(tl.int64)" if self.i64 else "")
        if math.prod(k.domain[:self.nouter]) == 0:
            self.emit("pass  # empty domain: never launched")
        elif k.ordered:
            self.render_scatter(pid, arange)
        elif self.tile2d:
            self.render_pointwise2d(pid, arange)
        elif not k.num_reduce:
            self.render_pointwise(pid, arange)
        else:
            self.render_reduction(pid, arange)
        doc = [f"    # {line}" for line in self.original.text().splitlines()]
        if k.domain != self.original.domain:
            doc.append(f"    # generated for the merged domain {list(k.domain)} "
                       f"num_reduce={k.num_reduce}")
        return "\n".join(head + doc + self.lines) + "\n"

    def render_pointwise(self, pid: str, arange: str) -> None:
        k = self.kernel
        n = math.prod(k.domain)
        self.emit(f"xoffs = {pid} * XBLOCK + {arange.format(b='XBLOCK')}")
        self.emit(f"xmask = xoffs < {n}")
        self.full_mask = "xmask"
        names = self.instrs(k.body, "v")
        zero = f"tl.full([XBLOCK], 0, {self.ity})"
        for st in k.stores:
            self.store(st, names, k.body, zero, rank_outer=False)

    def render_scatter(self, pid: str, arange: str) -> None:
        """A kernel with scatter stores: the block spans the axes but the ordered ones
        (points whose stores never collide), and a loop walks the ordered axes in
        order, so duplicate indices combine as in the loop form, with no atomics."""
        k = self.kernel
        self.emit(f"xoffs = {pid} * XBLOCK + {arange.format(b='XBLOCK')}")
        self.emit(f"xmask = xoffs < {math.prod(spread(k))}")
        self.full_mask = "xmask"
        n = math.prod(k.domain[a] for a in k.ordered)
        if self.i64:  # offsets may pass 2**31: the loop's index too
            self.emit(f"for sidx32 in range(0, {n}):")
            self.depth += 1
            self.emit("sidx = tl.cast(sidx32, tl.int64)")
        else:
            self.emit(f"for sidx in range(0, {n}):")
            self.depth += 1
        names = self.instrs(k.body, "v")
        zero = f"tl.full([XBLOCK], 0, {self.ity})"
        for st in k.stores:
            self.store(st, names, k.body, zero, rank_outer=False)
        self.depth -= 1

    def render_pointwise2d(self, pid: str, arange: str) -> None:
        # [XBLOCK rows of the leading axes, RBLOCK points of the innermost axis]:
        # a transposed read and a contiguous write both move whole tiles
        k = self.kernel
        rows, cols = math.prod(k.domain[:-1]), k.domain[-1]
        self.emit(f"xoffs = {pid} * XBLOCK + {arange.format(b='XBLOCK')}[:, None]")
        self.emit(f"xmask = xoffs < {rows}")
        pid1 = "tl.program_id(1).to(tl.int64)" if self.i64 else "tl.program_id(1)"
        self.emit(f"roffs = {pid1} * RBLOCK + {arange.format(b='RBLOCK')}[None, :]")
        self.emit(f"rmask = roffs < {cols}")
        self.emit("mask = xmask & rmask")
        self.full_mask = "mask"
        names = self.instrs(k.body, "v")
        full = f"tl.full([XBLOCK, RBLOCK], 0, {self.ity})"
        for st in k.stores:
            self.store(st, names, k.body, full, rank_outer=False)

    def render_reduction(self, pid: str, arange: str) -> None:
        k, sch = self.kernel, self.schedule
        outer, red = math.prod(k.outer), math.prod(k.reduce)
        self.emit(f"xoffs = {pid} * XBLOCK + {arange.format(b='XBLOCK')}[:, None]")
        self.emit(f"xmask = xoffs < {outer}")
        accs = [sch.accumulator(k, j) for j in range(len(k.reductions))]
        self._accty = ["tl.int8" if a == "b8" else compute_ty(a) for a in accs]
        self._accs = accs
        # a row longer than the block must loop, whatever the schedule asked for
        looped = sch.reduction == "loop" or red > self.rblock
        self.full = f"tl.full([XBLOCK, RBLOCK], 0, {self.ity})"
        if red == 0:  # empty rows: every accumulator is its identity
            for j, r in enumerate(k.reductions):
                self.emit(f"r{j} = tl.full([XBLOCK, 1], {identity_literal(r.kind, accs[j])}, "
                          f"{self._accty[j]})")
                self._finished(j)
        elif looped:
            # one loop over the row per stage (staged kernels read finished
            # reductions in later stages: softmax's max, then its sum), but
            # softmax's max and sum of exp in one, and layer norm's sum and
            # squared deviations (online.py)
            plan = passes(k)
            pairs = online_pairs(k, plan, accs)
            for p, (reds, stores) in enumerate(plan):
                if p - 1 not in pairs:
                    self._looped_pass(arange, red, reds, stores, pairs.get(p))
        else:
            self._persistent(arange, red)
        self.in_epilogue = True
        self.full_mask = "xmask"
        names = self.instrs(k.epilogue, "e")
        zero = f"tl.full([XBLOCK, 1], 0, {self.ity})"
        for st in k.stores:
            if not st.prologue:
                self.store(st, names, k.epilogue, zero, rank_outer=True)

    def _masked(self, j: int, names) -> str:
        k = self.kernel
        r, acc = k.reductions[j], self._accs[j]
        v = convert(names[r.value], k.body[r.value].dtype, r.dtype)
        v = f"{v}.to(tl.int8)" if acc == "b8" else convert(v, r.dtype, acc)
        return f"tl.where(mask, {v}, {identity(r.kind, acc)})"

    def _scanned(self, i: int, ins, names) -> str:
        """``v{i}``: reduction ``j``'s running value along the row block (an
        inclusive ``tl.associative_scan``), after the carry of earlier blocks
        when the row loops."""
        j = ins.attrs["index"]
        acc = self._accs[j]
        comb = combiner(self.kernel.reductions[j].kind, acc)
        self.emit(f"s{i} = tl.associative_scan({self._masked(j, names)}, 1, {comb})")
        if j in self._carries:  # inside a row loop: the carry goes first
            self.emit(f"s{i} = {comb}(carry{j}, s{i})")
            self.emit(f"carry{j} = {comb}(carry{j}, tl.reduce({self._masked(j, names)}, 1, "
                      f"{comb}, keep_dims=True))")
        self.emit(f"v{i} = {convert(f's{i}', acc, ins.dtype)}")
        return f"v{i}"

    def _finished(self, j: int) -> None:
        """``a{j}``: reduction ``j``'s result in its dtype, from ``r{j}``."""
        acc, r = self._accs[j], self.kernel.reductions[j]
        if acc == "b8":
            self.emit(f"a{j} = r{j} != 0")
        else:
            self.emit(f"a{j} = {convert(f'r{j}', acc, r.dtype)}")

    def _row_offsets(self, base: str, arange: str, red: int) -> None:
        self.emit(f"roffs = {base}{arange.format(b='RBLOCK')}[None, :]")
        self.emit(f"rmask = roffs < {red}")
        self.emit("mask = xmask & rmask")
        self.full_mask = "mask"

    def _persistent(self, arange: str, red: int) -> None:
        """The whole row is one block: the body once, each reduction reduced as
        soon as a later value reads it (or after the body)."""
        k = self.kernel
        self._row_offsets("", arange, red)
        saved = dict(self.index_vars)
        done: set[int] = set()

        def reduce(j: int, names) -> None:
            if j not in done:
                comb = combiner(k.reductions[j].kind, self._accs[j])
                self.emit(f"r{j} = tl.reduce({self._masked(j, names)}, 1, {comb}, keep_dims=True)")
                self._finished(j)
                done.add(j)

        def before(i: int, names) -> None:
            if k.body[i].op == "reduced":
                reduce(k.body[i].attrs["index"], names)

        names = self.instrs(k.body, "v", before=before)
        for st in k.stores:
            if st.prologue:
                self.store(st, names, k.body, self.full, rank_outer=False)
        for j in range(len(k.reductions)):
            reduce(j, names)
        # reduce-axis indices are row-local; outer ones stay valid
        self.index_vars = {a: v for a, v in saved.items() if a < self.nouter}

    def _looped_pass(self, arange: str, red: int, reds: list[int], stores: list[int],
                     online: tuple[int, int] | None = None) -> None:
        """One loop over the row for ``reds`` and ``stores``; ``online``: (kind, first,
        second) reductions computed together (the second's own pass is skipped)."""
        k = self.kernel
        self._carries = {i.attrs["index"] for i in k.body if i.op == "scanned"} & set(reds)
        if online:
            j2 = online[2]
            self.emit(f"acc{j2} = tl.full([XBLOCK, RBLOCK], 0.0, tl.float32)")
            if online[0] == "welford":
                self.emit(f"wm{j2} = tl.full([XBLOCK, RBLOCK], 0.0, tl.float32)")
                self.emit(f"wn{j2} = tl.full([XBLOCK, RBLOCK], 0.0, tl.float32)")
        for j in reds:
            r = k.reductions[j]
            self.emit(f"acc{j} = tl.full([XBLOCK, RBLOCK], "
                      f"{identity_literal(r.kind, self._accs[j])}, {self._accty[j]})")
            if j in self._carries:
                self.emit(f"carry{j} = tl.full([XBLOCK, 1], "
                          f"{identity_literal(r.kind, self._accs[j])}, {self._accty[j]})")
        self.emit(f"for rbase in range(0, {red}, RBLOCK):")
        self.depth += 1
        self._row_offsets("rbase + ", arange, red)
        saved = dict(self.index_vars)
        need = needed(k.body, [k.reductions[j].value for j in reds]
                      + [k.stores[i].value for i in stores])
        names = self.instrs(k.body, "v", need)
        for i in stores:
            self.store(k.stores[i], names, k.body, self.full, rank_outer=False)
        for j in reds:
            comb = combiner(k.reductions[j].kind, self._accs[j])
            value = names[k.reductions[j].value]
            if online and j == online[1] and online[0] == "softmax":
                for line in online_update(j, online[2], self._masked(j, names), value, comb):
                    self.emit(line)
                continue
            self.emit(f"acc{j} = {comb}(acc{j}, {self._masked(j, names)})")
            if online and j == online[1]:  # Welford's state from the same values
                for line in welford_update(online[2], value):
                    self.emit(line)
        self.depth -= 1
        self._carries = set()
        # reduce-axis indices are loop-local; outer ones stay valid
        self.index_vars = {a: v for a, v in saved.items() if a < self.nouter}
        for j in reds:
            comb = combiner(k.reductions[j].kind, self._accs[j])
            if online and j == online[1] and online[0] == "softmax":
                add = combiner("sum", self._accs[online[2]])
                lines = online_finish(j, online[2], comb, add)
            else:
                lines = [f"r{j} = tl.reduce(acc{j}, 1, {comb}, keep_dims=True)"]
                if online and j == online[1]:
                    lines += welford_finish(online[2])
            for line in lines:
                self.emit(line)
            if online and j == online[1]:
                self._finished(online[2])
            self._finished(j)


def spread(kernel: Kernel) -> list[int]:
    """The sizes of a scatter kernel's axes that a block spans (all but the ordered)."""
    return [n for a, n in enumerate(kernel.domain) if a not in kernel.ordered]


def is_tile2d(kernel: Kernel, schedule: Schedule) -> bool:
    """Whether a pointwise kernel runs as 2-D tiles (a two-entry ``block``) over its
    merged domain (which then has at least two axes)."""
    return (not kernel.num_reduce and not kernel.ordered and len(schedule.block) == 2
            and len(kernel.domain) >= 2)


def launch_grid(kernel: Kernel, schedule: Schedule, xblock: int, rblock: int) -> tuple[int, ...]:
    """Programs per launch for block sizes ``xblock``/``rblock``."""
    if kernel.num_reduce:
        return (math.ceil(math.prod(kernel.outer) / xblock),)
    if kernel.ordered:  # a scatter: its ordered axes are a loop in every program
        return (math.ceil(math.prod(spread(collapse_axes(kernel))) / xblock),)
    c = collapse_axes(kernel)
    if is_tile2d(c, schedule):
        return (math.ceil(math.prod(c.domain[:-1]) / xblock), math.ceil(c.domain[-1] / rblock))
    return (math.ceil(math.prod(kernel.domain) / xblock),)


def kernel_function_name(kernel: Kernel) -> str:
    """A Python identifier for the kernel's function."""
    name = re.sub(r"\W", "_", kernel.name) or "kernel"
    # never shadow the module's globals (tl, triton, libdevice, the _ember_ helpers)
    if name[0].isdigit() or name in ("tl", "triton", "libdevice") or name.startswith("_ember"):
        name = "k_" + name
    return name


def render(kernel: Kernel, schedule: Schedule, target: str) -> str:
    """The full module text for ``kernel`` under ``schedule`` for ``target`` ("cuda"/"interpret").

    Raises:
        TritonLoweringError: an op/dtype combination the contract does not define.
        ValueError: an ill-formed kernel (``Kernel.validate``).
    """
    if target not in TARGETS:
        raise ValueError(f"unknown Triton target {target!r}; expected one of {TARGETS}")
    kernel.validate()
    name = kernel_function_name(kernel)
    collapsed = collapse_axes(kernel)
    gen = _Gen(collapsed, schedule, name, kernel)
    body = gen.render()
    return (f"# Generated by ember for target {target!r}; {schedule.text()}\n"
            + HEADER + PRELUDES[target] + prelude_bessel.used(body)
            + prelude_poly.used(body, target) + "\n\n" + body)


def signature(kernel: Kernel) -> dict[str, str]:
    """Triton's signature of the kernel function (for ahead-of-time compilation)."""
    sig = {f"in{i}": POINTER_SIG[b.dtype] for i, b in enumerate(kernel.inputs)}
    sig.update({f"out{i}": POINTER_SIG[b.dtype] for i, b in enumerate(kernel.outputs)})
    sig.update(XBLOCK="constexpr", RBLOCK="constexpr")
    return sig
