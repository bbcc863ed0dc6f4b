"""Memory access of the MLIR kernel builder: flat offsets (with their static
bounds check), loads, masked reads (``within``), gathers and stores, scalar or
as vectors along the schedule's vector axis (a mixin of ``KernelBuilder``,
which provides ``k``, ``ivs``, ``va``, ``vw``, ``mask``, ``lane_mode``,
``in_args``/``out_args`` and the index helpers)."""

from __future__ import annotations

from mlir import ir
from mlir.dialects import arith, memref, vector

from ..kernel import Access, offset_range
from ..params import DYNAMIC
from . import LoweringError
from .lowering import from_storage, is_vector, reduce_combine, storage_type, to_storage


def zero_attr(t: ir.Type):
    if t.typeid == ir.IntegerType.static_typeid:
        return ir.IntegerAttr.get(t, 0)
    return ir.FloatAttr.get(t, 0.0)


class MemoryAccess:
    def offset(self, access: Access, size: int, what: str, gathered=(0, 1), within=()):
        """The flat offset of ``access`` here; ``gathered`` (stride, extent): the
        range a gather adds (checked, not computed); ``within``: a masked read's
        ranges (checked only there)."""
        if len(access.strides) != len(self.ivs):
            raise LoweringError(
                f"kernel {self.kernel_name!r}: access {access} has rank "
                f"{len(access.strides)}, expected {len(self.ivs)}")
        # static bounds check: an out-of-range access would corrupt memory (a
        # template's kernels are checked per size, by params.check_bounds)
        box = [(0, n) for n in self.k.domain[:len(access.strides)]]
        for ax, a, b in within if size != DYNAMIC else ():
            box[ax] = (max(box[ax][0], a), min(box[ax][1], b))
        if size != DYNAMIC and all(a < b for a, b in box):
            lo, hi = offset_range(access, box)
            lo += min(0, gathered[0] * (gathered[1] - 1))
            hi += max(0, gathered[0] * (gathered[1] - 1))
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

    def _inside(self, within):
        """Whether this point (an i1; along the vector axis, one per lane) is in
        every ``(axis, lo, hi)`` range: ``index - lo <u hi - lo``."""
        cond = None
        for ax, lo, hi in within:
            iv = self.index(ax)
            lo_c, n_c = self._cidx(lo), self._cidx(hi - lo)
            if is_vector(iv.type):
                lo_c, n_c = vector.broadcast(iv.type, lo_c), vector.broadcast(iv.type, n_c)
            ok = arith.cmpi(arith.CmpIPredicate.ult, arith.subi(iv, lo_c), n_c)
            if cond is not None and is_vector(ok.type) != is_vector(cond.type):
                ok, cond = (ok, self.bcast(cond)) if is_vector(ok.type) else (self.bcast(ok), cond)
            cond = ok if cond is None else arith.andi(cond, ok)
        return cond

    def load(self, buffer: int, access: Access, within=()):
        return self._read(self.k.inputs[buffer], self.in_args[buffer], access, "load", within)

    def reload(self, output: int, access: Access):
        """Reads back ``outputs[output]`` at ``access`` (written by an earlier pass)."""
        return self._read(self.k.outputs[output], self.out_args[output], access, "reload")

    def _read(self, b, mem, access: Access, what: str, within=()):
        off = self.offset(access, b.size, f"{what} of {b.name}", within=within)
        inside = self._inside(within) if within else None
        if not self.lane_mode:
            return self._scalar_read(b, mem, off, inside)
        return self._vector_read(b, mem, off, access.strides[self.va], inside)

    def _scalar_read(self, b, mem, off, inside):
        """``mem[off]``; masked (``inside`` an i1): 0 outside, read at 0 there."""
        if inside is None:
            return memref.load(mem, [off])
        x = memref.load(mem, [arith.select(inside, off, self._cidx(0))])
        return arith.select(inside, x, arith.constant(x.type, zero_attr(x.type)))

    def gather(self, buffer: int, access: Access, stride, extent: int, i, within=()):
        """``buffer[access + stride * i]``; ``i`` is an i64 scalar or lane vector."""
        b = self.k.inputs[buffer]
        off = self.offset(access, b.size, f"gather of {b.name}", (stride, extent), within)
        inside = self._inside(within) if within else None
        mem = self.in_args[buffer]
        idx, i64 = ir.IndexType.get(), ir.IntegerType.get_signless(64)
        if not is_vector(i.type):  # one computed address: the base of the lanes
            base = arith.addi(off, arith.muli(arith.index_cast(idx, i), self._cidx(stride)))
            if not self.lane_mode:
                return self._scalar_read(b, mem, base, inside)
            return self._vector_read(b, mem, base, access.strides[self.va], inside)
        vt = self.vtype(storage_type(b.dtype))
        lanes = arith.addi(self._lane_offsets(access.strides[self.va]), arith.muli(
            i, vector.broadcast(self.vtype(i64), arith.index_cast(i64, self._cidx(stride)))))
        zero = arith.constant(vt, ir.DenseElementsAttr.get_splat(
            vt, zero_attr(storage_type(b.dtype))))
        return vector.gather(vt, mem, [off], lanes, self._lane_mask(inside), zero)

    def _lane_mask(self, inside):
        """The lanes a read may touch: the tail's, and those ``inside`` (masked reads)."""
        if inside is None:
            return self._full_mask()
        if not is_vector(inside.type):
            inside = vector.broadcast(self.vtype(ir.IntegerType.get_signless(1)), inside)
        return inside if self.mask is None else arith.andi(inside, self.mask)

    def _vector_read(self, b, mem, off, stride, inside=None):
        """The lanes of a vector read at ``off`` with element ``stride`` (masked in a
        tail, and outside a masked read's ranges: lane 0's ``off`` may then be
        outside the buffer, which the unmasked lanes never are; memref indexing
        lowers to a GEP without ``inbounds``, so that address is only computed).

        A mask that is the same for every lane (the range is on another axis)
        also moves a read that is all off to element 0: a masked load whose off
        lanes reach an unmapped page takes a fault-suppression microcode assist
        on every call (a cat of three 1024-row blocks along rows: 30 ms instead
        of 1.4 ms on the development machine's AMD cores)."""
        vt = self.vtype(storage_type(b.dtype))
        if inside is not None and not is_vector(inside.type):
            off = arith.select(inside, off, self._cidx(0))
            if stride == 1 and self.mask is None and b.size != DYNAMIC and b.size >= self.vw:
                # a plain load (of element 0 on when all off), then zeros where off
                x = vector.load(vt, mem, [off])
                zero = arith.constant(vt, ir.DenseElementsAttr.get_splat(
                    vt, zero_attr(storage_type(b.dtype))))
                return arith.select(inside, x, zero)
        if stride == 1 and self.mask is None and inside is None:
            return vector.load(vt, mem, [off])
        zero = arith.constant(vt, ir.DenseElementsAttr.get_splat(
            vt, zero_attr(storage_type(b.dtype))))
        mask = self._lane_mask(inside)
        if stride == 1:
            return vector.maskedload(vt, mem, [off], mask, zero)
        return vector.gather(vt, mem, [off], self._lane_offsets(stride), mask, zero)

    def _store_value(self, v, out_index: int, access: Access) -> None:
        out = self.k.outputs[out_index]
        off = self.offset(access, out.size, f"store to {out.name}")
        mem = self.out_args[out_index]
        if not self.vec:
            memref.store(v, mem, [off])
            return
        if not is_vector(v.type):
            v = self.bcast(v)
        stride = access.strides[self.va]
        if stride == 0:  # the schedule never vectorizes such an axis
            raise LoweringError(f"kernel {self.kernel_name!r}: store {access} does not "
                                f"vary along vector axis {self.va}")
        if stride == 1:
            if self.mask is None:
                vector.store(v, mem, [off], nontemporal=out_index in self.nontemporal or None)
            else:
                vector.maskedstore(mem, [off], self.mask, v)
        else:
            vector.scatter(None, mem, [off], self._lane_offsets(stride), self._full_mask(), v)

    def _scatter_value(self, v, s, i) -> None:
        """Scatter store ``s`` of ``v`` (compute type of the output's dtype): at
        ``access + stride * i``, ``i`` the store's index value (an i64 scalar, the same
        for every lane: contiguous or strided lanes from one base; or a lane vector:
        a vector scatter). With ``combine``, what the elements hold is read first
        (the lanes' targets are distinct: ``Kernel.ordered``)."""
        out = self.k.outputs[s.output]
        off = self.offset(s.access, out.size, f"scatter store to {out.name}",
                          (s.stride, s.extent))
        mem = self.out_args[s.output]
        idx, i64 = ir.IndexType.get(), ir.IntegerType.get_signless(64)
        if not self.vec:
            at = arith.addi(off, arith.muli(arith.index_cast(idx, i), self._cidx(s.stride)))
            if s.combine:
                old = from_storage(memref.load(mem, [at]), out.dtype)
                v = reduce_combine(s.combine, out.dtype, old, v)
            memref.store(to_storage(v, out.dtype), mem, [at])
            return
        if not is_vector(v.type):
            v = self.bcast(v)
        stride = s.access.strides[self.va]
        if is_vector(i.type):
            lanes = arith.addi(self._lane_offsets(stride), arith.muli(
                i, vector.broadcast(self.vtype(i64), arith.index_cast(i64, self._cidx(s.stride)))))
        else:
            off = arith.addi(off, arith.muli(arith.index_cast(idx, i), self._cidx(s.stride)))
            if stride == 1:  # one row: contiguous lanes (an index_add of rows)
                if s.combine:
                    old = from_storage(self._vector_read(out, mem, off, 1), out.dtype)
                    v = reduce_combine(s.combine, out.dtype, old, v)
                v = to_storage(v, out.dtype)
                if self.mask is None:
                    vector.store(v, mem, [off])
                else:
                    vector.maskedstore(mem, [off], self.mask, v)
                return
            lanes = self._lane_offsets(stride)
        if s.combine:
            vt = self.vtype(storage_type(out.dtype))
            zero = arith.constant(vt, ir.DenseElementsAttr.get_splat(
                vt, zero_attr(storage_type(out.dtype))))
            old = vector.gather(vt, mem, [off], lanes, self._full_mask(), zero)
            v = reduce_combine(s.combine, out.dtype, from_storage(old, out.dtype), v)
        vector.scatter(None, mem, [off], lanes, self._full_mask(), to_storage(v, out.dtype))

