"""Kernel -> MLIR ``func.func`` (scf loops over static-shape memrefs).

One function per kernel, taking ``memref<size x T>`` arguments (inputs then
outputs; the bare-pointer calling convention later turns each into one
pointer). The loop nest follows the kernel semantics literally::

    scf.for outer axes {                       // axes of size 1 get no loop
      %acc = scf.for reduce axes iter_args(identities) { body; combine }
      epilogue; memref.store ...
    }

Flat offsets are ``offset + sum(stride * iv)`` in ``index`` arithmetic; the
canonicalizer and CSE in ``jit.py`` fold the constants and share terms.
"""

from __future__ import annotations

import re

from mlir import ir
from mlir.dialects import arith, func, memref, scf

from ..kernel import DTYPES, Access, Kernel
from ..schedule import Schedule
from . import LoweringError
from .lowering import (
    LOWERINGS, OpCtx, compute_type, convert, reduce_combine, reduce_identity,
    storage_type, to_storage,
)


class ModuleBuilder:
    """Builds several kernels into one module (inside an active ir.Context)."""

    def __init__(self) -> None:
        self.module = ir.Module.create()
        self._libm: set[str] = set()
        self._symbols: set[str] = set()

    def symbol_for(self, name: str) -> str:
        """A unique, C-safe symbol; the prefix keeps kernels from shadowing libc."""
        base = "ember_" + (re.sub(r"[^A-Za-z0-9_]", "_", name) or "kernel")
        sym, n = base, 1
        while sym in self._symbols:
            sym, n = f"{base}_{n}", n + 1
        self._symbols.add(sym)
        return sym

    def libm_decl(self, name: str, t: ir.Type) -> None:
        if name in self._libm:
            return
        self._libm.add(name)
        with ir.InsertionPoint.at_block_begin(self.module.body):
            f = func.FuncOp(name, ir.FunctionType.get([t], [t]), visibility="private")
        # lets LLVM hoist/vectorize the call, as convert-math-to-libm does
        f.attributes["llvm.readnone"] = ir.UnitAttr.get()

    def add(self, kernel: Kernel, schedule: Schedule | None = None) -> tuple[str, str]:
        """Adds ``kernel``; returns (symbol, MLIR text of its function)."""
        sym = self.symbol_for(kernel.name)
        fn = KernelBuilder(self, kernel, sym, schedule or Schedule()).build()
        try:
            fn.operation.verify()
        except ir.MLIRError as e:  # a bug here, but never hand it to the JIT
            raise LoweringError(f"kernel {kernel.name!r}: built invalid MLIR: {e}") from None
        return sym, str(fn)


class KernelBuilder:
    """Emits one kernel; also the ``env`` that lowering functions call back."""

    def __init__(self, mb: ModuleBuilder, kernel: Kernel, symbol: str, schedule: Schedule):
        self.mb, self.k, self.symbol, self.schedule = mb, kernel, symbol, schedule
        self.acc_dtypes = [schedule.accumulator(kernel, i) for i in range(len(kernel.reductions))]
        self.kernel_name = kernel.name
        self.ivs: list = []  # per domain axis: induction variable or None (size 1)
        self.accs: list = []
        self.in_args: list = []
        self.out_args: list = []
        self._entry = None
        self._idx_consts: dict[int, ir.Value] = {}

    def _cidx(self, v: int):
        """Index constants live once at function entry (keeps `source` terse)."""
        c = self._idx_consts.get(v)
        if c is None:
            c = self._idx_consts[v] = arith.constant(
                ir.IndexType.get(), v, ip=ir.InsertionPoint.at_block_begin(self._entry))
        return c

    # -- env hooks used by lowering.py ------------------------------------
    def buffer_dtype(self, i: int) -> str:
        return self.k.inputs[i].dtype

    def libm_decl(self, name: str, t: ir.Type) -> None:
        self.mb.libm_decl(name, t)

    def index(self, axis: int):
        if not 0 <= axis < len(self.ivs):
            raise LoweringError(
                f"kernel {self.kernel_name!r}: op 'index' axis {axis} is not an axis "
                f"here (rank {len(self.ivs)})")
        iv = self.ivs[axis]
        return self._cidx(0) if iv is None else iv

    def reduced(self, k: int):
        return self.accs[k], self.acc_dtypes[k]

    def offset(self, access: Access, size: int, what: str):
        if len(access.strides) != len(self.ivs):
            raise LoweringError(
                f"kernel {self.kernel_name!r}: access {access} has rank "
                f"{len(access.strides)}, expected {len(self.ivs)}")
        # static bounds check: an out-of-range access would corrupt memory
        ext = [s * (n - 1) for s, n in zip(access.strides, self.k.domain)]
        lo = access.offset + sum(min(0, e) for e in ext)
        hi = access.offset + sum(max(0, e) for e in ext)
        if lo < 0 or hi >= size:
            raise LoweringError(
                f"kernel {self.kernel_name!r}: {what} access {access} reaches elements "
                f"[{lo}, {hi}] of a {size}-element buffer")
        off = None
        for s, iv in zip(access.strides, self.ivs):
            if s == 0 or iv is None:
                continue
            t = iv if s == 1 else arith.muli(iv, self._cidx(s))
            off = t if off is None else arith.addi(off, t)
        if off is None:
            return self._cidx(access.offset)
        return arith.addi(off, self._cidx(access.offset)) if access.offset else off

    def load(self, buffer: int, access: Access):
        b = self.k.inputs[buffer]
        return memref.load(self.in_args[buffer], [self.offset(access, b.size, f"load of {b.name}")])

    # -- emission ---------------------------------------------------------
    def build(self) -> func.FuncOp:
        k = self.k
        types = [ir.MemRefType.get([b.size], storage_type(b.dtype)) for b in k.inputs + k.outputs]
        with ir.InsertionPoint(self.mb.module.body):
            fn = func.FuncOp(self.symbol, ir.FunctionType.get(types, []))
        entry = self._entry = fn.add_entry_block()
        args = list(entry.arguments)
        self.in_args, self.out_args = args[: len(k.inputs)], args[len(k.inputs):]
        with ir.InsertionPoint(entry):
            nouter = len(k.domain) - k.num_reduce
            # an empty outer domain runs nothing: no store may happen
            if all(n > 0 for n in k.domain[:nouter]):
                if k.num_reduce == 0:
                    self._outer(0, nouter, self._pointwise_point)
                else:
                    self._outer(0, nouter, self._reduction_point)
            func.return_([])
        return fn

    def _outer(self, d: int, nouter: int, point) -> None:
        if d == nouter:
            point()
            return
        n = self.k.domain[d]
        if n == 1:
            self.ivs.append(None)
            self._outer(d + 1, nouter, point)
        else:
            loop = scf.ForOp(self._cidx(0), self._cidx(n), self._cidx(1))
            with ir.InsertionPoint(loop.body):
                self.ivs.append(loop.induction_variable)
                self._outer(d + 1, nouter, point)
                scf.yield_([])
        self.ivs.pop()

    def _eval(self, instrs) -> list:
        values: list = []
        for ins in instrs:
            lower = LOWERINGS.get(ins.op)
            if lower is None:
                raise LoweringError(f"kernel {self.kernel_name!r}: unknown op {ins.op!r} ({ins})")
            args = [values[a] for a in ins.args]
            cx = OpCtx(ins, args, [instrs[a].dtype for a in ins.args], self)
            try:
                v = lower(cx)
            except LoweringError:
                raise
            except Exception as e:  # binding-level type errors: name the op
                raise cx.fail(f"{type(e).__name__}: {e}") from None
            if v.type != compute_type(ins.dtype):
                raise cx.fail(f"lowered to {v.type}, expected {compute_type(ins.dtype)}")
            values.append(v)
        return values

    def _store(self, values, instrs, prologue: bool = False) -> None:
        for s in self.k.stores:
            if s.prologue != prologue:
                continue
            out = self.k.outputs[s.output]
            v = convert(values[s.value], instrs[s.value].dtype, out.dtype)
            off = self.offset(s.access, out.size, f"store to {out.name}")
            memref.store(to_storage(v, out.dtype), self.out_args[s.output], [off])

    def _pointwise_point(self) -> None:
        values = self._eval(self.k.body)
        self._store(values, self.k.body)

    def _reduction_point(self) -> None:
        k = self.k
        for r, dt in zip(k.reductions, self.acc_dtypes):  # Kernel.validate does not check these
            if r.dtype not in DTYPES or dt not in DTYPES:
                raise LoweringError(f"kernel {self.kernel_name!r}: reduction {r} has bad dtype")
        self.accs = [reduce_identity(r.kind, dt) for r, dt in zip(k.reductions, self.acc_dtypes)]
        # body values feed reductions and prologue stores; with neither (or an
        # empty reduce domain) the identities are already the result
        has_prologue = any(s.prologue for s in k.stores)
        if (k.reductions or has_prologue) and all(n > 0 for n in k.reduce):
            self.accs = self._reduce(len(k.domain) - k.num_reduce, self.accs)
        # self.ivs is back to the outer axes: epilogue accesses have that rank
        values = self._eval(k.epilogue)
        self._store(values, k.epilogue)

    def _reduce(self, d: int, accs: list) -> list:
        k = self.k
        if d == len(k.domain):
            values = self._eval(k.body)
            self._store(values, k.body, prologue=True)
            return [
                reduce_combine(r.kind, dt, acc,
                               convert(values[r.value], k.body[r.value].dtype, dt))
                for r, dt, acc in zip(k.reductions, self.acc_dtypes, accs)
            ]
        n = k.domain[d]
        if n == 1:
            self.ivs.append(None)
            res = self._reduce(d + 1, accs)
            self.ivs.pop()
            return res
        loop = scf.ForOp(self._cidx(0), self._cidx(n), self._cidx(1), iter_args=accs)
        with ir.InsertionPoint(loop.body):
            self.ivs.append(loop.induction_variable)
            scf.yield_(self._reduce(d + 1, list(loop.inner_iter_args)))
            self.ivs.pop()
        return list(loop.results)


def build_module(kernels: list[Kernel], schedules: list[Schedule] | None = None
                 ) -> tuple[ir.Module, list[tuple[str, str]]]:
    """All ``kernels`` in one module; also (symbol, source text) per kernel."""
    mb = ModuleBuilder()
    schedules = schedules or [Schedule()] * len(kernels)
    return mb.module, [mb.add(k, s) for k, s in zip(kernels, schedules)]
