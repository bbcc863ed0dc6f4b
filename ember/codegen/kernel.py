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

* ``load``: attrs ``buffer`` (index into ``inputs``) and ``access``.
* ``gather``: one ``i64`` arg ``i``, attrs ``buffer``, ``access``, ``stride``
  and ``extent``: reads ``buffer[access(point) + stride * i]``, a computed
  (indirect) address as embedding or index_select need. ``i`` is in
  ``[0, extent)`` by construction (the lowering clamps it; eager's bounds error
  is raised by a check outside the kernel), so the read is always in bounds.
* ``const``: attr ``value`` (a Python bool/int/float, may be inf/nan).
* ``index``: attr ``axis``; the domain index along that axis, dtype ``i64``.
* ``reduced``: epilogue only; attr ``index`` (which reduction).
* ``cast``: one arg, converts to ``Instr.dtype`` (float->int truncates toward
  zero as in C; anything->bool is ``!= 0``; bool->number is 0/1).
* a pointwise op of :data:`SCALAR_OPS` with the semantics of the PyTorch op of
  the same name; args are indices of *earlier* instructions in the same list,
  all operands of an arithmetic op have the same dtype as the result (the
  fusion pass inserts casts), comparisons take equal-dtype operands and give
  ``b8``; ``where`` takes ``(b8, T, T) -> T``.

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
    """

    output: int
    value: int
    access: Access
    prologue: bool = False


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
            lines.append(f"  store out{s.output}[{s.access}] = {src}{s.value}")
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
        elif ins.op == "reduced":
            if not in_epilogue or not 0 <= ins.attrs["index"] < len(k.reductions):
                raise ValueError(f"{k.name}: instr {i} bad 'reduced'")
        elif ins.op in ("const", "cast", "index"):
            pass
        elif SCALAR_OPS.get(ins.op) != len(ins.args):
            raise ValueError(f"{k.name}: instr {i}: unknown op or arity {ins}")
