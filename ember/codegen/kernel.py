"""Backend-neutral kernel description (the contract between fusion and codegen).

A kernel is close to MLIR's ``linalg.generic``: an iteration domain, affine index
maps from the domain to flat buffer offsets, and a scalar body. Both code
generators (``codegen/mlir`` and ``codegen/triton``) consume exactly this.

Shape of a kernel
-----------------
``domain`` is the full iteration space. Its trailing ``num_reduce`` axes are
reduction axes (0 means a pointwise kernel); the leading axes are the *outer*
axes. Semantics, in loop form::

    for o in outer(domain):                     # domain[:len(domain) - num_reduce]
        acc[k] = identity(reductions[k].kind)   # for each reduction k
        for r in reduce(domain):                # domain[len(domain) - num_reduce:]
            v = body evaluated at point (o, r)
            acc[k] = combine(acc[k], v[reductions[k].value])
        e = epilogue evaluated at point o       # 'reduced' instrs read acc[k]
        store e[s.value] at outputs[s.output] + s.access(o)   for each store s

For a pointwise kernel (``num_reduce == 0``) there are no reductions and no
epilogue, and stores read ``body`` values at every point of the domain.

Staged reductions (one kernel for softmax or layer norm): a ``reduced`` instruction
may also appear in ``body``, after the value its reduction reduces; there it is
that reduction's finished result for the current outer point. Body values then
have *stages* (:func:`body_stages`): a value that reads ``reduced(k)`` comes one
stage after reduction ``k``. Each stage is its own pass over the reduce axes::

    for o in outer(domain):
        for s in 0, 1, ..., last stage:
            for r in reduce(domain):
                v = body at (o, r)          # only what stage s needs
                acc[k] = combine(acc[k], v[reductions[k].value])  # stage-s reductions
                store prologue values of stage s
        epilogue and its stores, as above

so softmax is ``max`` (stage 0), ``sum(exp(x - reduced(0)))`` (stage 1) and a
prologue store of ``exp(x - reduced(0)) / reduced(1)`` (stage 2): three passes
over a row that stays in cache, one pass over memory.

Several outputs: a kernel may hold any number of reductions (all over the same
reduce axes) and any number of stores, to any of its outputs. In a reduction
kernel a store marked ``prologue`` writes a *body* value at every point of the
full domain (its access has one stride per domain axis), so one pass over the
input can both reduce a value and keep it (softmax's ``exp``); other stores of a
reduction kernel write epilogue values once per outer point.

Addressing
----------
Every buffer is a flat array of ``size`` elements of ``dtype``. An
:class:`Access` maps a domain point to an element offset:
``offset + sum(strides[d] * idx[d])``. In ``body`` an access has one stride per
domain axis; in ``epilogue`` and in the stores of a reduction kernel it has one
stride per *outer* axis. Stride 0 expresses broadcasting. Non-contiguous,
permuted, sliced and expanded inputs are all just different accesses.

Calling convention (shared by every backend)
--------------------------------------------
A compiled kernel is called with the data pointers (Python ints) of
``inputs`` then ``outputs``, in order. A pointer addresses element 0 of the
buffer (``tensor.data_ptr()``, which already includes the storage offset).
A size-parametric template (``num_params > 0``, see ``codegen/params.py``)
takes one more pointer, to its ``i64`` parameter values.

Scalar instructions
-------------------
``Instr.op`` is one of:

* ``load``: attrs ``buffer`` (index into ``inputs``) and ``access``; optional
  ``within``, a tuple of ``(axis, lo, hi)`` triples (see *Masked reads*).
* ``gather``: one ``i64`` arg ``i``, attrs ``buffer``, ``access``, ``stride``
  and ``extent``: reads ``buffer[access(point) + stride * i]``, a computed
  (indirect) address as embedding or index_select need. ``i`` is in
  ``[0, extent)`` by construction (the lowering clamps it; eager's bounds error
  is raised by a check outside the kernel), so the read is always in bounds.
  Optional ``within`` as for ``load``.
* ``reload``: body only; attrs ``output`` and ``access``: reads back what a
  prologue store of an earlier pass wrote to ``outputs[output]`` at this point
  (a store with the same output and access, of a value before this
  instruction; every value that uses the reload comes in a later stage than
  that value). A backend's own rewrite (the CPU stores softmax's ``exp`` in
  its sum pass and reloads it to normalize, see ``codegen/mlir/reuse.py``);
  lowering never emits it.
* ``const``: attr ``value`` (a Python bool/int/float, may be inf/nan).
* ``index``: attr ``axis``; the domain index along that axis, dtype ``i64``.
* ``reduced``: attr ``index`` (which reduction): its finished value at the
  current outer point. In ``body`` only after that reduction's ``value``.
* ``scanned``: attr ``index`` (which reduction): body only, after that
  reduction's value, in a kernel with one reduce axis: the reduction's running
  value *including the current point* (an inclusive scan: cumsum, cumprod).
  The points of a row are combined in order, so a backend evaluates the scan's
  axis sequentially (it may vectorize across rows). The reduction's finished
  value is still its ``reduced`` result.
* ``cast``: one arg, converts to ``Instr.dtype`` (float->int truncates toward
  zero as in C; anything->bool is ``!= 0``; bool->number is 0/1).
* a pointwise op of :data:`SCALAR_OPS` with the semantics of the PyTorch op of
  the same name; args are indices of *earlier* instructions in the same list,
  all operands of an arithmetic op have the same dtype as the result (the
  fusion pass inserts casts), comparisons take equal-dtype operands and give
  ``b8``; ``where`` takes ``(b8, T, T) -> T``.

Masked reads
------------
A ``load`` or ``gather`` with ``within`` reads memory only at points where
``lo <= idx[axis] < hi`` for every triple (domain axes, or outer axes in the
epilogue); elsewhere it touches no memory and its value is 0 of its dtype. Its
access need only be in bounds at the points inside. This is how ``cat`` is one
kernel: part ``k`` is read with its own range of the cat axis and shifted
access, and ``where(index(axis) < end_k, part_k, ...)`` picks the part a point is
in (Triton's masked ``tl.load``; the CPU's ``vector.maskedload``). Computing on
the zeros of the points outside is harmless: no instruction traps (integer
division by zero divides by 1), and the select drops those values.

Scatter stores
--------------
A pointwise kernel may store at computed addresses (``Store.index``, see
:class:`Store`): ``scatter``, ``index_put``, ``index_add``. Points are then not
independent: two points may write the same element. The lowering guarantees
that two points can collide only when they differ in the ``ordered`` domain
axes alone (a scatter's target differs from another's in every other
coordinate), and the kernel's result is that of the loop form visiting those
axes in order: duplicate indices overwrite in order (the last one wins) or
combine in order (``combine``: eager's order of additions, bit for bit). So a
backend runs the ordered axes sequentially and may vectorize or parallelize
across the others, with no atomics. A scatter kernel's output must hold its
initial value first: the kernel after a copy kernel into the same buffer (two
kernels of one step, run in order on the same arguments).

Dtypes are strings: f16 bf16 f32 f64 i8 i16 i32 i64 u8 b8 (b8 = torch.bool,
stored as one byte holding 0 or 1). Backends may compute f16/bf16 in f32 and
round on store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..ir.dtypes import DTYPES, FLOATS as FLOAT_DTYPES
from ..ir.ops import INSTR_OPS

# Scalar instruction -> arity, derived from the op table (``OpDef.instr``): a new
# pointwise op is one entry there plus one rule per backend. ``maximum``/``minimum``
# propagate NaN, like torch.maximum/minimum; float-only ops get float operands
# (the importer inserts casts).
SCALAR_OPS: dict[str, int] = {name: op.arity for name, op in INSTR_OPS.items()}

# Reduction kinds; 'max'/'min' propagate NaN like torch.amax/amin.
REDUCTION_KINDS = ("sum", "prod", "max", "min")


@dataclass(frozen=True, slots=True)
class Access:
    """Affine map from a domain point to a flat element offset."""

    offset: int
    strides: tuple[int, ...]

    def __str__(self) -> str:
        return f"{self.offset}+[{','.join(map(str, self.strides))}]"


@dataclass(frozen=True, slots=True)
class Buffer:
    """A kernel argument: a flat array of ``size`` elements."""

    name: str
    dtype: str
    size: int


@dataclass(frozen=True, slots=True)
class Instr:
    """One scalar SSA instruction; its value is referred to by its list index."""

    op: str
    args: tuple[int, ...]
    dtype: str
    attrs: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)

    def __str__(self) -> str:
        return self.format("v")

    def format(self, prefix: str) -> str:
        """Text with operands named ``{prefix}{index}`` (v: body, e: epilogue)."""
        extra = "".join(f" {k}={v}" for k, v in sorted(self.attrs.items()))
        args = ", ".join(f"{prefix}{a}" for a in self.args)
        return f"{self.op}({args}){extra} : {self.dtype}"


@dataclass(frozen=True, slots=True)
class Reduction:
    """Accumulates ``body[value]`` over the reduce axes with ``kind``."""

    kind: str
    value: int
    dtype: str


@dataclass(frozen=True, slots=True)
class Store:
    """Writes a value (from ``body`` or ``epilogue``) to ``outputs[output]``.

    ``prologue`` (reduction kernels only): the value is a body value, stored at
    every domain point; the access has one stride per domain axis.

    A *scatter store* (``index`` set; pointwise kernels only) writes at a computed
    address, ``access(point) + stride * body[index]``, the index an ``i64`` body value
    in ``[0, extent)`` (the lowering clamps it); with ``combine`` (a reduction kind)
    it combines the value into what the element holds instead of overwriting it.
    """

    output: int
    value: int
    access: Access
    prologue: bool = False
    index: int | None = None
    stride: int = 0
    extent: int = 1
    combine: str | None = None


@dataclass(frozen=True, slots=True)
class Kernel:
    """A fused kernel; see the module docstring for the exact semantics."""

    name: str
    domain: tuple[int, ...]
    num_reduce: int
    inputs: tuple[Buffer, ...]
    outputs: tuple[Buffer, ...]
    body: tuple[Instr, ...]
    stores: tuple[Store, ...]
    reductions: tuple[Reduction, ...] = ()
    epilogue: tuple[Instr, ...] = ()
    # Size-parametric templates (codegen/params.py): sizes, strides and offsets
    # may be ``Param`` (element i of an i64 array passed after the buffers).
    num_params: int = 0
    # Scatter kernels: the domain axes that run in order (see "Scatter stores" in
    # the module docstring).
    ordered: tuple[int, ...] = ()

    @property
    def outer(self) -> tuple[int, ...]:
        return self.domain[: len(self.domain) - self.num_reduce]

    @property
    def reduce(self) -> tuple[int, ...]:
        return self.domain[len(self.domain) - self.num_reduce:]

    def text(self, named: bool = True) -> str:
        """A stable, human-readable form.

        Args:
            named: include the kernel's name; without it the text is the cache
                key, so equal bodies under different names compile once.
        """
        lines = [
            f"kernel{' ' + self.name if named else ''} "
            f"domain=[{','.join(map(str, self.domain))}] num_reduce={self.num_reduce}"
            + (f" params={self.num_params}" if self.num_params else "")
            + (f" ordered=[{','.join(map(str, self.ordered))}]" if self.ordered else "")
        ]
        for kind, bufs in (("in", self.inputs), ("out", self.outputs)):
            for b in bufs:
                size = "?" if b.size < 0 else b.size
                lines.append(f"  {kind} {b.name}: {b.dtype}[{size}]")
        lines += [f"  v{i} = {ins}" for i, ins in enumerate(self.body)]
        lines += [f"  reduce {r.kind}(v{r.value}) : {r.dtype}" for r in self.reductions]
        lines += [f"  e{i} = {ins.format('e')}" for i, ins in enumerate(self.epilogue)]
        for s in self.stores:
            src = "e" if self.num_reduce and not s.prologue else "v"
            at = (f"{s.access} + {s.stride}*v{s.index} (<{s.extent})"
                  if s.index is not None else f"{s.access}")
            op = f" {s.combine}=" if s.combine else " ="
            lines.append(f"  store out{s.output}[{at}]{op} {src}{s.value}")
        return "\n".join(lines)

    def validate(self) -> None:
        """Raises ValueError if the description breaks the rules above."""
        nd, nouter = len(self.domain), len(self.domain) - self.num_reduce
        if not 0 <= self.num_reduce <= nd:
            raise ValueError(f"{self.name}: num_reduce {self.num_reduce} out of range")
        if self.num_reduce == 0 and (self.reductions or self.epilogue):
            raise ValueError(f"{self.name}: pointwise kernel with reductions/epilogue")
        for b in self.inputs + self.outputs:
            if b.dtype not in DTYPES:
                raise ValueError(f"{self.name}: bad dtype {b.dtype!r} for {b.name}")
        _check_instrs(self, self.body, nd, in_epilogue=False)
        _check_instrs(self, self.epilogue, nouter, in_epilogue=True)
        for r in self.reductions:
            if r.kind not in REDUCTION_KINDS or not 0 <= r.value < len(self.body):
                raise ValueError(f"{self.name}: bad reduction {r}")
        for s in self.stores:
            if s.prologue and not self.num_reduce:
                raise ValueError(f"{self.name}: prologue store in a pointwise kernel {s}")
            body = s.prologue or not self.num_reduce
            values, rank = (self.body, nd) if body else (self.epilogue, nouter)
            if not 0 <= s.output < len(self.outputs) or not 0 <= s.value < len(values):
                raise ValueError(f"{self.name}: bad store {s}")
            if len(s.access.strides) != rank:
                raise ValueError(f"{self.name}: store access rank mismatch {s}")
            if s.index is not None or s.combine is not None:
                if self.num_reduce or s.index is None or not 0 <= s.index < len(self.body) \
                        or self.body[s.index].dtype != "i64" or s.extent < 1 \
                        or s.combine not in (None,) + REDUCTION_KINDS:
                    raise ValueError(f"{self.name}: bad scatter store {s} (pointwise kernels "
                                     f"only, an i64 body index, a reduction kind or none)")
        if any(not 0 <= a < nd for a in self.ordered) or (self.ordered and self.num_reduce):
            raise ValueError(f"{self.name}: ordered={self.ordered} (axes of a pointwise "
                             f"kernel)")


def body_stages(kernel: Kernel) -> list[int]:
    """The stage of each body value: 0, or one more than the latest stage of the
    reductions whose ``reduced`` it reads (a reduction's stage is its value's)."""
    stages: list[int] = []
    for ins in kernel.body:
        if ins.op == "reduced":
            stages.append(stages[kernel.reductions[ins.attrs["index"]].value] + 1)
        elif ins.op == "scanned":  # the running value: in its reduction's own pass
            stages.append(stages[kernel.reductions[ins.attrs["index"]].value])
        else:
            stages.append(max((stages[a] for a in ins.args), default=0))
    return stages


def passes(kernel: Kernel) -> list[tuple[list[int], list[int]]]:
    """Per pass over the reduce axes (one per stage that has work): the indices
    of the reductions it accumulates and of the prologue stores it writes."""
    st = body_stages(kernel)
    reds = [st[r.value] for r in kernel.reductions]
    pros = {i: st[s.value] for i, s in enumerate(kernel.stores) if s.prologue}
    out = []
    for p in range(max(reds + list(pros.values()), default=-1) + 1):
        rs = [j for j, s in enumerate(reds) if s == p]
        ss = [i for i, s in pros.items() if s == p]
        if rs or ss:
            out.append((rs, ss))
    return out


def row_invariant(kernel: Kernel) -> list[bool]:
    """For each body value: whether it is the same at every point of a row (does
    not vary along the reduce axes): constants, finished reductions, loads with
    zero strides on the reduce axes, outer indices, and what is computed from
    them. Backends compute those that come from a finished reduction
    (``rsqrt(var + eps)``) once per row, before the pass that needs them."""
    nouter = len(kernel.domain) - kernel.num_reduce
    inv: list[bool] = []
    for ins in kernel.body:
        if ins.op in ("load", "gather", "reload"):
            ok = (not any(ins.attrs["access"].strides[nouter:]) and all(inv[a] for a in ins.args)
                  and all(ax < nouter for ax, _, _ in ins.attrs.get("within", ())))
        elif ins.op == "index":
            ok = ins.attrs["axis"] < nouter
        elif ins.op == "scanned":
            ok = False
        else:
            ok = all(inv[a] for a in ins.args)
        inv.append(ok)
    return inv


def read_box(ins: Instr, dims) -> list[tuple[int, int]] | None:
    """Per axis, the ``[lo, hi)`` indices at which load or gather ``ins`` reads
    (``dims``: the sizes of the axes it is evaluated over, narrowed by its
    ``within``); None when it reads nowhere."""
    box = [(0, n) for n in dims]
    for ax, lo, hi in ins.attrs.get("within", ()):
        a, b = box[ax]
        box[ax] = (max(a, lo), min(b, hi))
    return None if any(a >= b for a, b in box) else box


def offset_range(access: Access, box) -> tuple[int, int]:
    """The smallest and largest flat offset ``access`` reaches over ``box``."""
    lo = hi = access.offset
    for s, (a, b) in zip(access.strides, box):
        lo += min(s * a, s * (b - 1))
        hi += max(s * a, s * (b - 1))
    return lo, hi


def scans(kernel: Kernel) -> set[int]:
    """The reductions whose running value the body reads (``scanned``)."""
    return {i.attrs["index"] for i in kernel.body if i.op == "scanned"}


def needed(instrs, roots) -> list[bool]:
    """Which of ``instrs`` the values ``roots`` depend on (themselves included)."""
    need = [False] * len(instrs)
    for r in roots:
        need[r] = True
    for i in range(len(instrs) - 1, -1, -1):
        if need[i]:
            for a in instrs[i].args:
                need[a] = True
    return need


def _check_instrs(k: Kernel, instrs: tuple[Instr, ...], rank: int, in_epilogue: bool) -> None:
    for i, ins in enumerate(instrs):
        if any(not 0 <= a < i for a in ins.args):
            raise ValueError(f"{k.name}: instr {i} ({ins}) uses a later or bad value")
        if ins.dtype not in DTYPES:
            raise ValueError(f"{k.name}: instr {i} has bad dtype {ins.dtype!r}")
        if ins.op in ("load", "gather"):
            if not 0 <= ins.attrs["buffer"] < len(k.inputs):
                raise ValueError(f"{k.name}: instr {i} loads a bad buffer")
            if len(ins.attrs["access"].strides) != rank:
                raise ValueError(f"{k.name}: instr {i} access rank mismatch")
            if ins.op == "gather" and (len(ins.args) != 1 or ins.attrs["extent"] < 1):
                raise ValueError(f"{k.name}: instr {i}: gather takes one index value "
                                 f"and a positive extent")
            for w in ins.attrs.get("within", ()):
                if len(w) != 3 or not 0 <= w[0] < rank or not w[1] < w[2]:
                    raise ValueError(f"{k.name}: instr {i}: bad within {w} (axis, lo < hi)")
        elif ins.op == "reload":
            if in_epilogue or not any(
                    s.prologue and s.output == ins.attrs["output"]
                    and s.access == ins.attrs["access"] and s.value < i for s in k.stores):
                raise ValueError(f"{k.name}: instr {i}: a reload needs an earlier prologue "
                                 f"store to the same output and access")
        elif ins.op == "reduced":
            j = ins.attrs["index"]
            if not 0 <= j < len(k.reductions) or not (
                    in_epilogue or k.reductions[j].value < i):
                raise ValueError(f"{k.name}: instr {i} bad 'reduced' (in the body it must "
                                 f"follow its reduction's value)")
        elif ins.op == "scanned":
            j = ins.attrs["index"]
            if in_epilogue or k.num_reduce != 1 or not (
                    0 <= j < len(k.reductions) and k.reductions[j].value < i
                    and k.reductions[j].kind in ("sum", "prod")):
                raise ValueError(f"{k.name}: instr {i} bad 'scanned' (body only, one reduce "
                                 f"axis, after its sum or prod reduction's value)")
        elif ins.op in ("const", "cast", "index"):
            pass
        elif SCALAR_OPS.get(ins.op) != len(ins.args):
            raise ValueError(f"{k.name}: instr {i}: unknown op or arity {ins}")
