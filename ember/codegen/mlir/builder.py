"""Kernel -> MLIR ``func.func`` (scf loops over static-shape memrefs).

One function per kernel, taking ``memref<size x T>`` arguments (inputs then
outputs; the bare-pointer calling convention later turns each into one
pointer). The loop nest follows the kernel semantics literally::

    scf.for outer axes {                       // axes of size 1 get no loop
      %acc = scf.for reduce axes iter_args(identities) { body; combine }
      epilogue; memref.store ...
    }

Vector code (``Schedule.vector_width`` > 1, axis ``vector_axis`` in
``Schedule.extra``): that axis runs ``VW`` lanes per iteration, then one
masked iteration for the static remainder (``vector.create_mask``; masked
loads/stores/gathers, masked lanes of a reduction replaced by its identity).
Values that do not vary along the vector axis (stride-0 loads, constants,
indices of other axes, and everything computed only from them) stay scalar and
are broadcast where they meet a vector, so broadcast operands cost one scalar
load per iteration (hoisted by LICM where invariant). Contiguous accesses are
``vector.load``/``store``; other strides are gathers/scatters. When the vector
axis is a reduction axis the accumulators are vectors, reduced horizontally
(``vector.reduction``) once after the reduce loops; when it is an outer axis
(column reductions) each lane is its own accumulator and the epilogue and
stores are vector code too.

Threads (``parallel_axis`` in ``Schedule.extra``): the function ``<sym>_range``
takes two more ``index`` arguments ``[lo, hi)`` bounding that outer axis, and
``<sym>`` calls it on the whole range. When the parallel axis is also the vector
axis, callers pass bounds that are multiples of ``VW`` (or the axis end); the
masked remainder runs in the chunk whose ``hi`` is the end.

Flat offsets are ``offset + sum(stride * iv)`` in ``index`` arithmetic; the
canonicalizer and CSE in ``jit.py`` fold the constants and share terms.
"""

from __future__ import annotations

import re

from mlir import ir
from mlir.dialects import arith, func, llvm, memref, scf, vector
from mlir.dialects.math import absf as math_absf

from ...ir import dtypes
from ..kernel import DTYPES, Access, Kernel, body_stages, needed, passes, row_invariant
from ..params import DYNAMIC, is_param
from ..schedule import Schedule
from . import LoweringError
from .lowering import (
    LOWERINGS, OpCtx, compute_type, convert, from_storage, is_float, is_vector, reduce_combine,
    reduce_identity, storage_type, to_storage,
)

from .memory import MemoryAccess
from .native import MAX_SLOTS as _MAX_SLOTS  # scratch slots of a split reduction
# the static size given to a template's buffers (their real sizes vary per call)
_DYNAMIC_EXTENT = 1 << 40
# staged row kernels prefetch the next row when rows are at least this long
# (shorter rows share pages, where the hardware prefetchers see one stream)
PREFETCH_ROW_BYTES = 1024
CACHE_LINE_BYTES = 64


def _positive(n) -> bool:
    """Size ``n`` > 0 (a template's parameters are never 0 or 1)."""
    return is_param(n) or n > 0


def _above_one(n) -> bool:
    return is_param(n) or n > 1

_CK = vector.CombiningKind


def schedule_option(schedule: Schedule, key: str, default=None):
    """A backend-specific entry of ``Schedule.extra``."""
    for k, v in schedule.extra:
        if k == key:
            return v
    return default


def horizontal_kind(kind: str, dtype: str):
    """The ``vector.reduction`` kind finishing a ``kind`` reduction in ``dtype``."""
    if is_float(dtype):
        return {"sum": _CK.ADD, "prod": _CK.MUL, "max": _CK.MAXIMUMF, "min": _CK.MINIMUMF}[kind]
    if dtype == "b8":
        return {"sum": _CK.OR, "prod": _CK.AND, "max": _CK.OR, "min": _CK.AND}[kind]
    if dtype == "u8":
        return {"sum": _CK.ADD, "prod": _CK.MUL, "max": _CK.MAXUI, "min": _CK.MINUI}[kind]
    return {"sum": _CK.ADD, "prod": _CK.MUL, "max": _CK.MAXSI, "min": _CK.MINSI}[kind]


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

    def add(self, kernel: Kernel, schedule: Schedule | None = None) -> tuple[str, str, dict]:
        """Adds ``kernel``; returns (symbol, MLIR text of its functions, the
        symbols of its extra entries: ``range``, or ``partial`` and ``finish``)."""
        sym = self.symbol_for(kernel.name)
        schedule = schedule or Schedule()
        kb = KernelBuilder(self, kernel, sym, schedule)
        fns = kb.build()
        extra = {"range": kb.range_symbol} if kb.range_symbol else {}
        sa = schedule_option(schedule, "split_reduce")
        if sa is not None and kb.pa is None and _splittable(kernel, sa):
            for mode in ("partial", "finish"):
                kbm = KernelBuilder(self, kernel, f"{sym}_{mode}", schedule, mode=mode)
                fns += kbm.build()
                extra[mode] = f"{sym}_{mode}"
        for fn in fns:
            try:
                fn.operation.verify()
            except ir.MLIRError as e:  # a bug here, but never hand it to the JIT
                raise LoweringError(f"kernel {kernel.name!r}: built invalid MLIR: {e}") from None
        return sym, "\n".join(str(fn) for fn in fns), extra


def _splittable(kernel: Kernel, axis: int) -> bool:
    """Whether reduce axis ``axis`` can be split across threads: one outer point
    (partial accumulators are combined once) and a non-empty domain."""
    nouter = len(kernel.domain) - kernel.num_reduce
    return (nouter <= axis < len(kernel.domain) and _above_one(kernel.domain[axis])
            and all(n == 1 for n in kernel.domain[:nouter])
            and all(_positive(n) for n in kernel.domain) and bool(kernel.reductions)
            and not _staged(kernel))


def _staged(kernel: Kernel) -> bool:
    """Whether the body reads a finished reduction (several passes per row)."""
    return any(i.op == "reduced" for i in kernel.body)


class KernelBuilder(MemoryAccess):
    """Emits one kernel; also the ``env`` that lowering functions call back.

    ``mode`` "partial" (split reductions) builds ``(buffers..., scratch...,
    lo, hi, slot)``: the reductions over ``[lo, hi)`` of the split reduce axis,
    prologue stores included, written to ``scratch[k][slot]``; "finish" builds
    ``(buffers..., scratch..., nslots)``: combines the slots in order, then the
    epilogue and its stores.
    """

    def __init__(self, mb: ModuleBuilder, kernel: Kernel, symbol: str, schedule: Schedule,
                 mode: str = "full"):
        self.mb, self.k, self.symbol, self.schedule = mb, kernel, symbol, schedule
        self.mode = mode
        self.acc_dtypes = [schedule.accumulator(kernel, i) for i in range(len(kernel.reductions))]
        self.kernel_name = kernel.name
        self.ivs: list = []  # per domain axis: induction variable or None (size 1)
        self.accs: list = []
        self.in_args: list = []
        self.out_args: list = []
        self._entry = None
        self._idx_consts: dict[int, ir.Value] = {}
        self._params: list = []  # a template's parameters, loaded at function entry
        nd = len(kernel.domain)
        self.vw = max(1, int(schedule.vector_width))
        va = schedule_option(schedule, "vector_axis")
        if self.vw > 1 and va is None:
            va = nd - 1  # the innermost axis by default
        if self.vw == 1 or va is None or not 0 <= va < nd:
            self.vw, va = 1, None
        self.va = va
        pa = schedule_option(schedule, "parallel_axis")
        nouter = nd - kernel.num_reduce
        self.pa = pa if pa is not None and 0 <= pa < nouter else None
        if mode == "partial":
            self.pa = schedule_option(schedule, "split_reduce")
        elif mode == "finish":
            self.pa = None
        # outputs written with streaming stores (their lines are not read first),
        # but not one a later pass reloads (softmax's stored exp: it must stay cached)
        self.nontemporal = frozenset(schedule_option(schedule, "nontemporal", ())) - {
            i.attrs["output"] for i in kernel.body if i.op == "reload"}
        self.range_symbol = symbol + "_range" if self.pa is not None and mode == "full" else None
        self.scratch: list = []
        self.slot = None
        self.lo = self.hi = None
        self.vec = False        # emitting inside the vector axis
        self.lane_mode = False  # the instruction being lowered is a vector one
        self.mask = None        # the tail iteration's lane mask
        self.vacc = False       # accumulators are vectors
        self.prefetch: list = []  # (buffer, access, row stride): see _prefetch_rows
        self.scan_accs: dict = {}  # at a point: accumulators a 'scanned' combines into
        self.scan_new: dict = {}   # and what it made of them

    def _cidx(self, v):
        """Index constants live once at function entry (keeps `source` terse);
        a template's parameter is its value loaded at entry; a value is itself."""
        if is_param(v):
            return self._params[v.index]
        if isinstance(v, ir.Value):
            return v
        c = self._idx_consts.get(v)
        if c is None:
            c = self._idx_consts[v] = arith.constant(
                ir.IndexType.get(), v, ip=ir.InsertionPoint.at_block_begin(self._entry))
        return c

    def vtype(self, t: ir.Type) -> ir.Type:
        return ir.VectorType.get([self.vw], t)

    def bcast(self, v):
        return vector.broadcast(self.vtype(v.type), v)

    def _lane_offsets(self, stride):
        t = self.vtype(ir.IntegerType.get_signless(64))
        if is_param(stride):  # lane * stride at run time
            i64 = ir.IntegerType.get_signless(64)
            lanes = arith.index_cast(t, vector.step(self.vtype(ir.IndexType.get())))
            st = arith.index_cast(i64, self._cidx(stride))
            return arith.muli(lanes, vector.broadcast(t, st))
        vals = ", ".join(str(stride * i) for i in range(self.vw))
        return arith.constant(t, ir.Attribute.parse(f"dense<[{vals}]> : {t}"))

    def _full_mask(self):
        return self.mask if self.mask is not None else vector.constant_mask(
            self.vtype(ir.IntegerType.get_signless(1)), [self.vw])

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
        iv = self._cidx(0) if iv is None else iv
        if self.lane_mode and axis == self.va:
            vt = self.vtype(ir.IndexType.get())
            return arith.addi(vector.broadcast(vt, iv), vector.step(vt))
        return iv

    def reduced(self, k: int):
        return self.accs[k], self.acc_dtypes[k]

    # -- emission ---------------------------------------------------------
    def build(self) -> list:
        k = self.k
        types = [ir.MemRefType.get([_DYNAMIC_EXTENT if b.size == DYNAMIC else b.size],
                                   storage_type(b.dtype)) for b in k.inputs + k.outputs]
        if k.num_params:  # the parameter array is the last pointer
            types.append(ir.MemRefType.get([k.num_params], ir.IntegerType.get_signless(64)))
        idx = ir.IndexType.get()
        fns = []
        name = self.range_symbol or self.symbol
        extra = [idx, idx] if self.range_symbol else []
        if self.mode != "full":
            extra = [ir.MemRefType.get([_MAX_SLOTS], storage_type(dt)) for dt in self.acc_dtypes]
            extra += [idx, idx, idx] if self.mode == "partial" else [idx]
        with ir.InsertionPoint(self.mb.module.body):
            fn = func.FuncOp(name, ir.FunctionType.get(types + extra, []))
        fns.append(fn)
        entry = self._entry = fn.add_entry_block()
        args = list(entry.arguments)
        nb = len(k.inputs) + len(k.outputs)
        self._load_params(entry, args[nb] if k.num_params else None)
        nb += 1 if k.num_params else 0
        self.in_args = args[: len(k.inputs)]
        self.out_args = args[len(k.inputs): nb]
        if self.range_symbol:
            self.lo, self.hi = args[-2], args[-1]
        if self.mode != "full":
            self.scratch = args[nb: nb + len(self.acc_dtypes)]
        if self.mode == "partial":
            self.lo, self.hi, self.slot = args[-3], args[-2], args[-1]
        elif self.mode == "finish":
            self.slot = args[-1]  # the number of slots
        with ir.InsertionPoint(entry):
            nouter = len(k.domain) - k.num_reduce
            # an empty outer domain runs nothing: no store may happen
            if all(_positive(n) for n in k.domain[:nouter]):
                point = self._pointwise_point if k.num_reduce == 0 else self._reduction_point
                self._outer(0, nouter, point)
            if self.nontemporal:  # streaming stores are weakly ordered: visible first
                llvm.fence(llvm.AtomicOrdering.seq_cst)
            func.return_([])
        if self.range_symbol:
            with ir.InsertionPoint(self.mb.module.body):
                w = func.FuncOp(self.symbol, ir.FunctionType.get(types, []))
            fns.insert(0, w)
            b = w.add_entry_block()
            with ir.InsertionPoint(b):
                n = k.domain[self.pa]
                if is_param(n):
                    n = arith.index_cast(idx, memref.load(
                        b.arguments[-1], [arith.constant(idx, n.index)]))
                else:
                    n = arith.constant(idx, n)
                func.call([], self.range_symbol, list(b.arguments) + [
                    arith.constant(idx, 0), n])
                func.return_([])
        return fns

    def _load_params(self, entry, array) -> None:
        """Loads a template's parameters once, first thing in the function."""
        self._params = []
        if array is None:
            return
        idx = ir.IndexType.get()
        with ir.InsertionPoint(entry):
            for i in range(self.k.num_params):
                v = memref.load(array, [arith.constant(idx, i)])
                self._params.append(arith.index_cast(idx, v))

    def _for(self, lo, hi, step: int, accs: list, inner) -> list:
        loop = scf.ForOp(lo, hi, self._cidx(step), iter_args=accs)
        with ir.InsertionPoint(loop.body):
            self.ivs.append(loop.induction_variable)
            scf.yield_(inner(list(loop.inner_iter_args)))
            self.ivs.pop()
        return list(loop.results)

    def _axis(self, d: int, accs: list, inner) -> list:
        """Loops over axis ``d`` around ``inner(accs) -> accs`` (vector axis:
        main loop plus a masked tail; parallel axis: over ``[lo, hi)``)."""
        n = self.k.domain[d]
        if d == self.va:
            vw = self.vw
            if is_param(n):  # main part and remainder known at run time only
                rem = arith.remui(self._cidx(n), self._cidx(vw))
                main = arith.subi(self._cidx(n), rem)
                some_rem = arith.cmpi(arith.CmpIPredicate.ne, rem, self._cidx(0))
            else:
                main, rem, some_rem = n - n % vw, n % vw, None
            dyn = some_rem is not None
            self.vec = True
            if d == self.pa:
                hi = arith.minsi(self.hi, self._cidx(main)) if dyn or rem else self.hi
                if dyn or main:
                    accs = self._for(self.lo, hi, vw, accs, inner)
                if dyn or rem:  # only the chunk that ends the axis runs the remainder
                    cond = arith.cmpi(arith.CmpIPredicate.eq, self.hi, self._cidx(n))
                    if dyn:
                        cond = arith.andi(cond, some_rem)
                    accs = self._if(cond, accs, lambda a: self._tail(main, rem, a, inner))
            else:
                if dyn or main:
                    accs = self._for(self._cidx(0), self._cidx(main), vw, accs, inner)
                if dyn:
                    accs = self._if(some_rem, accs, lambda a: self._tail(main, rem, a, inner))
                elif rem:
                    accs = self._tail(main, rem, accs, inner)
            self.vec = False
            return accs
        if d == self.pa:
            return self._for(self.lo, self.hi, 1, accs, inner)
        if n == 1:
            self.ivs.append(None)
            accs = inner(accs)
            self.ivs.pop()
            return accs
        return self._for(self._cidx(0), self._cidx(n), 1, accs, inner)

    def _if(self, cond, accs: list, then) -> list:
        """``then(accs)`` when ``cond`` holds, else ``accs`` unchanged."""
        branch = scf.IfOp(cond, [a.type for a in accs], has_else=bool(accs))
        with ir.InsertionPoint(branch.then_block):
            scf.yield_(then(accs))
        if not accs:
            return accs
        with ir.InsertionPoint(branch.else_block):
            scf.yield_(accs)
        return list(branch.results)

    def _tail(self, start, rem, accs: list, inner) -> list:
        # The lane count goes through an empty inline asm so that LLVM never sees
        # a constant mask: with one, LLVM 22's X86 backend turns a masked store
        # of a truncated vector (i64 -> i32) into a full 8-byte store, writing a
        # lane the mask excludes (a neighbour's element, a data race between
        # threads). A run-time mask keeps real masked stores.
        i64 = ir.IntegerType.get_signless(64)
        if isinstance(rem, int):
            n = llvm.inline_asm(i64, [arith.constant(i64, rem)], "", "=r,0")
            n = arith.index_cast(ir.IndexType.get(), n)
        else:
            n = rem  # already a run-time value
        self.mask = vector.create_mask(self.vtype(ir.IntegerType.get_signless(1)), [n])
        self.ivs.append(self._cidx(start) if isinstance(start, int) else start)
        try:
            return inner(accs)
        finally:
            self.ivs.pop()
            self.mask = None

    def _outer(self, d: int, nouter: int, point) -> None:
        if d == nouter:
            point()
            return
        self._axis(d, [], lambda accs: (self._outer(d + 1, nouter, point), [])[1])

    def _eval(self, instrs, need=None, pre=None) -> tuple[list, list]:
        """Lowers ``instrs``; with ``need``, only those it marks; ``pre``: values
        already computed (index -> (value, varying))."""
        values: list = []
        varying: list = []
        va = self.va
        for i, ins in enumerate(instrs):
            if pre and i in pre:
                values.append(pre[i][0])
                varying.append(pre[i][1])
                continue
            if need is not None and not need[i]:
                values.append(None)
                varying.append(False)
                continue
            if ins.op == "scanned":
                v = self._scanned(ins.attrs["index"], instrs, values, varying)
                values.append(convert(v, self.acc_dtypes[ins.attrs["index"]], ins.dtype))
                varying.append(is_vector(v.type))
                continue
            lower = LOWERINGS.get(ins.op)
            if lower is None:
                raise LoweringError(f"kernel {self.kernel_name!r}: unknown op {ins.op!r} ({ins})")
            var = self.vec and (
                (ins.op in ("load", "gather", "reload") and (
                    ins.attrs["access"].strides[va] != 0
                    or any(w[0] == va for w in ins.attrs.get("within", ()))))
                or (ins.op == "index" and ins.attrs["axis"] == va)
                or (ins.op == "reduced" and is_vector(self.accs[ins.attrs["index"]].type))
                or any(varying[a] for a in ins.args))
            # (a gather keeps a uniform index scalar: one address, contiguous lanes)
            args = [values[a] if not var or varying[a] or ins.op == "gather"
                    else self.bcast(values[a]) for a in ins.args]
            cx = OpCtx(ins, args, [instrs[a].dtype for a in ins.args], self)
            self.lane_mode = var
            try:
                v = lower(cx)
            except LoweringError:
                raise
            except Exception as e:  # binding-level type errors: name the op
                raise cx.fail(f"{type(e).__name__}: {e}") from None
            finally:
                self.lane_mode = False
            want = compute_type(ins.dtype)
            if var:
                want = self.vtype(want)
            if v.type != want:
                raise cx.fail(f"lowered to {v.type}, expected {want}")
            values.append(v)
            varying.append(var)
        return values, varying

    def _scanned(self, j: int, instrs, values, varying):
        """Reduction ``j``'s running value at this point: its accumulator combined
        with this point's value (``_reduce`` then carries it to the next point)."""
        r, dt = self.k.reductions[j], self.acc_dtypes[j]
        acc = self.scan_accs[j]
        x = convert(values[r.value], instrs[r.value].dtype, dt)
        if is_vector(acc.type) and not varying[r.value]:
            x = self.bcast(x)
        new = self.scan_new[j] = reduce_combine(r.kind, dt, acc, x)
        return new

    def _store(self, values, instrs, prologue: bool = False, which=None) -> None:
        for i, s in enumerate(self.k.stores):
            if s.prologue != prologue or (which is not None and i not in which):
                continue
            out = self.k.outputs[s.output]
            v = convert(values[s.value], instrs[s.value].dtype, out.dtype)
            if s.index is not None:
                self._scatter_value(v, s, values[s.index])
                continue
            self._store_value(to_storage(v, out.dtype), s.output, s.access)

    def _pointwise_point(self) -> None:
        values, _ = self._eval(self.k.body)
        self._store(values, self.k.body)

    def _reduction_point(self) -> None:
        k = self.k
        for r, dt in zip(k.reductions, self.acc_dtypes):  # Kernel.validate does not check these
            if r.dtype not in DTYPES or dt not in DTYPES:
                raise LoweringError(f"kernel {self.kernel_name!r}: reduction {r} has bad dtype")
        if self.mode == "finish":
            self._finish_point()
            return
        nouter = len(k.domain) - k.num_reduce
        inner_vec = self.va is not None and self.va >= nouter
        # an empty reduce domain leaves every reduction at its identity
        like = self.vtype(ir.F32Type.get()) if self.vec else None
        self.accs = [reduce_identity(r.kind, dt, like) for r, dt in zip(k.reductions, self.acc_dtypes)]
        # body values feed reductions and prologue stores, one pass over the
        # reduce axes per stage (kernel.passes)
        if all(_positive(n) for n in k.reduce):
            for p, (reds, stores) in enumerate(passes(k)):
                self._pass(nouter, inner_vec, reds, stores, first=p == 0)
        if self.mode == "partial":
            for acc, dt, buf in zip(self.accs, self.acc_dtypes, self.scratch):
                memref.store(to_storage(acc, dt), buf, [self.slot])
            return
        # self.ivs is back to the outer axes: epilogue accesses have that rank
        values, _ = self._eval(k.epilogue)
        self._store(values, k.epilogue)
        self.vacc = False

    def _finish_point(self) -> None:
        k = self.k
        accs = [reduce_identity(r.kind, dt) for r, dt in zip(k.reductions, self.acc_dtypes)]
        loop = scf.ForOp(self._cidx(0), self.slot, self._cidx(1), iter_args=accs)
        with ir.InsertionPoint(loop.body):
            i = loop.induction_variable
            scf.yield_([
                reduce_combine(r.kind, dt, acc, from_storage(memref.load(buf, [i]), dt))
                for r, dt, acc, buf in zip(k.reductions, self.acc_dtypes,
                                           list(loop.inner_iter_args), self.scratch)])
        self.accs = list(loop.results)
        values, _ = self._eval(k.epilogue)
        self._store(values, k.epilogue)

    def _pass(self, nouter: int, inner_vec: bool, reds: list[int], stores: list[int],
              first: bool = False) -> None:
        """One pass over the reduce axes: accumulates reductions ``reds`` and writes
        prologue stores ``stores`` (indices into the kernel's lists)."""
        k = self.k
        self.vacc = self.vec or inner_vec
        like = self.vtype(ir.F32Type.get()) if self.vacc else None
        accs = [reduce_identity(k.reductions[j].kind, self.acc_dtypes[j], like) for j in reds]
        need = needed(k.body, [k.reductions[j].value for j in reds]
                      + [k.stores[i].value for i in stores])
        pre = self._hoisted(need) if _staged(k) else None
        # a staged kernel's first pass streams the row from memory, its later
        # passes read it from cache: the first fetches the next row meanwhile
        self.prefetch = self._next_row_reads(need) if first and inner_vec and _staged(k) else []
        tracked = [j for j in reds if self._nan_tracked(j)]
        sums = [reduce_identity("sum", self.acc_dtypes[j], like) for j in tracked]
        res = self._reduce(nouter, accs + sums, reds, stores, need, pre)
        self.prefetch = []
        accs, sums = res[:len(reds)], res[len(reds):]
        if inner_vec:
            accs = [self._halving(k.reductions[j].kind, a) if self._nan_tracked(j)
                    else self._horizontal(k.reductions[j].kind, self.acc_dtypes[j], a)
                    for j, a in zip(reds, accs)]
            sums = [self._horizontal("sum", self.acc_dtypes[j], a) for j, a in zip(tracked, sums)]
        for j, chk in zip(tracked, sums):  # a NaN in the row: the result is NaN
            i = reds.index(j)
            accs[i] = arith.select(arith.cmpf(arith.CmpFPredicate.UNO, chk, chk), chk, accs[i])
        self.vacc = False
        for j, a in zip(reds, accs):
            self.accs[j] = a

    def _next_row_reads(self, need) -> list[tuple[int, Access, int]]:
        """(buffer, access, row stride) of the rows a staged kernel streams from
        memory: loads contiguous along the vector axis whose next outer point is
        at least ``PREFETCH_ROW_BYTES`` further on."""
        k = self.k
        outer = [d for d in range(len(k.domain) - k.num_reduce) if k.domain[d] != 1]
        if not outer:
            return []
        d = outer[-1]  # the innermost outer axis that moves: its next point is the next row
        out = {}
        for i, ins in enumerate(k.body):
            if not need[i] or ins.op != "load" or "within" in ins.attrs:
                continue
            acc, buf = ins.attrs["access"], ins.attrs["buffer"]
            row, size = acc.strides[d], k.inputs[buf].size
            if (acc.strides[self.va] == 1 and not is_param(row) and size != DYNAMIC
                    and row * dtypes.itemsize(k.inputs[buf].dtype) >= PREFETCH_ROW_BYTES):
                out[(buf, acc)] = row
        return [(buf, acc, row) for (buf, acc), row in out.items()]

    def _prefetch_rows(self) -> None:
        """Prefetches the next row of each read in ``self.prefetch``, one per cache
        line of the vector: a row of 4 KiB is a page, which the hardware
        prefetchers do not cross, so without this every row starts with misses
        (layer norm 4096x1024 on two threads: 0.70 -> 0.45 ms)."""
        for buf, acc, row in self.prefetch:
            b = self.k.inputs[buf]
            off = self.offset(acc, b.size, f"prefetch of {b.name}")
            line = max(1, CACHE_LINE_BYTES // dtypes.itemsize(b.dtype))
            for lane in range(0, self.vw, line):  # clamped: the last row has no next
                at = arith.minui(arith.addi(off, self._cidx(row + lane)), self._cidx(b.size - 1))
                memref.prefetch(self.in_args[buf], [at], is_write=False, locality_hint=3,
                                is_data_cache=True)

    def _halving(self, kind: str, acc):
        """The largest (smallest) lane of a NaN-free float vector: halves compared
        and selected (LLVM expands ``vector.reduce.fmaximum``, with NaN and
        signed-zero rules not needed here, lane by lane)."""
        pred = arith.CmpFPredicate.OGT if kind == "max" else arith.CmpFPredicate.OLT
        w = self.vw
        et = ir.VectorType(acc.type).element_type
        while w > 1:
            w //= 2
            t = ir.VectorType.get([w], et)
            lo = vector.extract_strided_slice(t, acc, [0], [w], [1])
            hi = vector.extract_strided_slice(t, acc, [w], [w], [1])
            acc = arith.select(arith.cmpf(pred, lo, hi), lo, hi)
        return vector.extract(acc, [], [0])

    def _nan_tracked(self, j: int) -> bool:
        """Float max/min reductions: a compare-and-select for the value, and a sum
        of magnitudes that is NaN iff a NaN was seen. (``arith.maximumf`` also
        orders -0 below +0, which eager's reductions do not promise either, with
        several dependent instructions per vector: see docs/design.md.)"""
        return self.k.reductions[j].kind in ("max", "min") and is_float(self.acc_dtypes[j])

    def _hoisted(self, need: list[bool]) -> dict:
        """Needed body values that do not vary along the reduce axes (a finished
        reduction, what is computed from it: ``rsqrt(var + eps)``), evaluated
        once before the pass's loops instead of at every point."""
        k = self.k
        nouter = len(k.domain) - k.num_reduce
        inv, stages = row_invariant(k), body_stages(k)
        # only what comes from a finished reduction (stage > 0) and its operands
        hoist = needed(k.body, [i for i, n in enumerate(need) if n and inv[i] and stages[i]])
        hoist = [h and inv[i] for i, h in enumerate(hoist)]
        if not any(hoist):
            return {}
        self.ivs.extend([None] * k.num_reduce)  # index 0: never read by these values
        try:
            values, varying = self._eval(k.body, hoist)
        finally:
            del self.ivs[nouter:]
        return {i: (values[i], varying[i]) for i, h in enumerate(hoist) if h}

    def _horizontal(self, kind: str, dtype: str, acc):
        fm = ir.Attribute.parse("#arith.fastmath<reassoc>") if is_float(dtype) else None
        return vector.reduction(compute_type(dtype), horizontal_kind(kind, dtype), acc,
                                fastmath=fm)

    def _reduce(self, d: int, accs: list, reds: list[int], stores: list[int], need, pre) -> list:
        k = self.k
        if d == len(k.domain):
            self.scan_accs = dict(zip(reds, accs))
            self.scan_new = {}
            values, varying = self._eval(k.body, need, pre)
            if self.prefetch:
                self._prefetch_rows()
            self._store(values, k.body, prologue=True, which=stores)
            out, sums = [], []
            old_sums = iter(accs[len(reds):])
            for j, acc in zip(reds, accs):
                r, dt = k.reductions[j], self.acc_dtypes[j]
                v = convert(values[r.value], k.body[r.value].dtype, dt)
                if self.vacc and not varying[r.value]:
                    v = self.bcast(v)
                if self.vacc and self.mask is not None and self.va >= len(k.domain) - k.num_reduce:
                    v = arith.select(self.mask, v, reduce_identity(r.kind, dt, v))
                if j in self.scan_new:  # a scan combined it where the body read it
                    out.append(self.scan_new[j])
                elif self._nan_tracked(j):
                    # one vmaxps keeps the largest number; NaNs show in a sum of
                    # |v| beside it (NaN iff a NaN was added: no cancellation)
                    pred = arith.CmpFPredicate.OGT if r.kind == "max" else arith.CmpFPredicate.OLT
                    out.append(arith.select(arith.cmpf(pred, v, acc), v, acc))
                    sums.append(arith.addf(next(old_sums), math_absf(v)))
                else:
                    out.append(reduce_combine(r.kind, dt, acc, v))
            return out + sums
        return self._axis(d, accs, lambda a: self._reduce(d + 1, a, reds, stores, need, pre))


def build_module(kernels: list[Kernel], schedules: list[Schedule] | None = None
                 ) -> tuple[ir.Module, list[tuple[str, str, str | None]]]:
    """All ``kernels`` in one module; also (symbol, source text, ranged entry
    symbol or None) per kernel."""
    mb = ModuleBuilder()
    schedules = schedules or [Schedule()] * len(kernels)
    return mb.module, [mb.add(k, s) for k, s in zip(kernels, schedules)]
