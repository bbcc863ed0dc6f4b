"""Reference interpreter for :class:`~ember.codegen.kernel.Kernel` descriptions.

Evaluates a kernel with torch ops, vectorized over the whole iteration domain
(every value is a tensor broadcastable to the domain shape), so it is slow in
memory but simple enough to trust. Backends' tests compare against it.

It follows the same numeric conventions the code generators use, so results
should agree to rounding: f16/bf16 values are computed in f32 and rounded at
casts, constants and stores; f64 -> f16/bf16 goes through f32 (as torch does);
float -> i8/i16/u8 converts to int32 first and wraps (C behaviour, and what
torch's CPU kernels do). Unlike the loop form, all loads happen before all
stores, which only matters for kernels whose outputs alias their inputs.
"""

from __future__ import annotations

import itertools
import math

import torch

from ..ir import dtypes
from ..ir.ops import INSTR_OPS
from .kernel import FLOAT_DTYPES, Access, Kernel, body_stages

TORCH_DTYPES = {name: dtypes.to_torch(name) for name in dtypes.DTYPES}
_HALF = ("f16", "bf16")
_INT_WIDTH = {"i8": 8, "i16": 16, "i32": 32, "i64": 64, "u8": 8}


def compute_dtype(dtype: str) -> torch.dtype:
    """Torch dtype values of ``dtype`` are computed in (f16/bf16 -> f32)."""
    return TORCH_DTYPES[dtypes.compute_dtype(dtype)]


def convert(v: torch.Tensor, src: str, dst: str) -> torch.Tensor:
    """Cast with the contract's semantics; ``v`` is in ``src``'s compute dtype."""
    if src == dst:
        return v
    if dst == "b8":
        return v != 0  # NaN != 0 is true
    if src in FLOAT_DTYPES:
        if dst in FLOAT_DTYPES:
            if dst in _HALF:
                return v.to(torch.float32).to(TORCH_DTYPES[dst]).to(torch.float32)
            return v.to(TORCH_DTYPES[dst])
        if _INT_WIDTH[dst] < 32:
            return v.to(torch.int32).to(TORCH_DTYPES[dst])
        return v.to(TORCH_DTYPES[dst])
    if dst in _HALF:  # int -> f32 -> half, like torch
        return v.to(torch.float32).to(TORCH_DTYPES[dst]).to(torch.float32)
    return v.to(compute_dtype(dst))


def _const(value, dtype: str, device) -> torch.Tensor:
    if dtype == "b8":
        value = bool(value)
    elif dtype in FLOAT_DTYPES:
        t = torch.tensor(float(value), dtype=torch.float64, device=device)
        return convert(t, "f64", dtype)
    else:
        w = _INT_WIDTH[dtype]
        value = int(value)  # floats truncate toward zero
        if dtype == "u8":
            value %= 256
        else:
            value = ((value + (1 << (w - 1))) % (1 << w)) - (1 << (w - 1))
    return torch.tensor(value, dtype=compute_dtype(dtype), device=device)


def _identity(kind: str, dtype: str, shape, device) -> torch.Tensor:
    cdt = compute_dtype(dtype)
    if kind == "sum":
        v = 0
    elif kind == "prod":
        v = 1
    elif dtype in FLOAT_DTYPES:
        v = -math.inf if kind == "max" else math.inf
    elif dtype == "b8":
        v = kind == "min"
    else:
        info = torch.iinfo(cdt)
        v = info.min if kind == "max" else info.max
    return torch.full(shape, v, dtype=cdt, device=device)


def _reduce(kind: str, dtype: str, v: torch.Tensor, nouter: int) -> torch.Tensor:
    outer = tuple(v.shape[:nouter])
    flat = v.reshape(outer + (-1,))
    if flat.shape[-1] == 0:
        return _identity(kind, dtype, outer, v.device)
    if dtype == "b8":
        return flat.any(-1) if kind in ("sum", "max") else flat.all(-1)
    if kind == "sum":
        return flat.sum(-1, dtype=v.dtype)
    if kind == "prod":
        return flat.prod(-1, dtype=v.dtype)
    return flat.amax(-1) if kind == "max" else flat.amin(-1)  # NaN-propagating


class _Evaluator:
    def __init__(self, kernel: Kernel, inputs, grids, device, accs=None):
        self.k, self.inputs, self.grids, self.accs = kernel, inputs, grids, accs
        self.device = device

    def reduced(self, i: int, vals) -> torch.Tensor:
        """Reduction ``i``'s result; in the body (``accs`` is a dict there) it is
        computed from the body values so far, shaped to broadcast over the domain."""
        if not isinstance(self.accs, dict):
            return self.accs[i]
        if i not in self.accs:
            k, nouter = self.k, len(self.k.domain) - self.k.num_reduce
            r = k.reductions[i]
            v = convert(vals[r.value], k.body[r.value].dtype, r.dtype)
            acc = _reduce(r.kind, r.dtype, v.expand(k.domain), nouter)
            self.accs[i] = acc.reshape(acc.shape + (1,) * k.num_reduce)
        return self.accs[i]

    def scanned(self, i: int, vals) -> torch.Tensor:
        """Reduction ``i``'s running value at every point (an inclusive scan along
        the single reduce axis, in the reduction's dtype, in order)."""
        r = self.k.reductions[i]
        v = convert(vals[r.value], self.k.body[r.value].dtype, r.dtype).expand(self.k.domain)
        fn = {"sum": torch.cumsum, "prod": torch.cumprod}.get(r.kind)
        if fn is None:
            raise ValueError(f"{self.k.name}: no {r.kind} scan")
        return fn(v, dim=-1, dtype=v.dtype)

    def offsets(self, access: Access) -> torch.Tensor:
        off = torch.tensor(access.offset, dtype=torch.int64, device=self.device)
        for s, g in zip(access.strides, self.grids):
            if s:
                off = off + s * g
        return off

    def within(self, ranges) -> torch.Tensor | None:
        """Where a masked read's ``within`` ranges all hold (None: no ranges)."""
        valid = None
        for ax, lo, hi in ranges:
            g = self.grids[ax]
            ok = (g >= lo) & (g < hi)
            valid = ok if valid is None else valid & ok
        return valid

    def run(self, instrs) -> list[torch.Tensor]:
        vals: list[torch.Tensor] = []
        for ins in instrs:
            args = [vals[a] for a in ins.args]
            adts = [instrs[a].dtype for a in ins.args]
            op = ins.op
            if op in ("load", "gather"):
                b = ins.attrs["buffer"]
                bdt = self.k.inputs[b].dtype
                off = self.offsets(ins.attrs["access"])
                if op == "gather":
                    off = off + ins.attrs["stride"] * args[0].long()
                valid = self.within(ins.attrs.get("within", ()))
                if valid is not None:  # a masked read: 0 outside, nothing read there
                    off = torch.where(valid, off, 0)
                raw = self.inputs[b][off]
                if valid is not None:
                    raw = torch.where(valid, raw, torch.zeros((), dtype=raw.dtype))
                v = convert(raw.to(compute_dtype(bdt)), bdt, ins.dtype)
            elif op == "reload":  # the value the matching earlier store wrote
                st = next(s for s in self.k.stores if s.prologue and s.value < len(vals)
                          and s.output == ins.attrs["output"]
                          and s.access == ins.attrs["access"])
                odt = self.k.outputs[st.output].dtype
                stored = convert(vals[st.value], instrs[st.value].dtype, odt)
                v = convert(stored, odt, ins.dtype)
            elif op == "const":
                v = _const(ins.attrs["value"], ins.dtype, self.device)
            elif op == "index":
                v = convert(self.grids[ins.attrs["axis"]], "i64", ins.dtype)
            elif op == "reduced":
                i = ins.attrs["index"]
                v = convert(self.reduced(i, vals), self.k.reductions[i].dtype, ins.dtype)
            elif op == "scanned":
                i = ins.attrs["index"]
                v = convert(self.scanned(i, vals), self.k.reductions[i].dtype, ins.dtype)
            elif op == "cast":
                v = convert(args[0], adts[0], ins.dtype)
            elif op == "where":
                cond = args[0] if adts[0] == "b8" else args[0] != 0
                v = convert(torch.where(cond, args[1], args[2]), adts[1], ins.dtype)
            elif op in INSTR_OPS:  # the op table's eager reference
                r = INSTR_OPS[op].eager(*args)
                if r.dtype == compute_dtype(ins.dtype):
                    v = r
                else:  # torch promoted (e.g. exp of an int); cast like the contract
                    src = next(d for d, t in TORCH_DTYPES.items() if t == r.dtype)
                    v = convert(r, src, ins.dtype)
            else:
                raise ValueError(f"{self.k.name}: unknown op {op!r}")
            vals.append(v)
        return vals


def _store(kernel: Kernel, ev: _Evaluator, vals, instrs, outputs, shape,
           prologue: bool = False) -> None:
    stores = kernel.stores
    if prologue:  # in pass order: a later pass's store overwrites an earlier one's
        stage = body_stages(kernel)
        stores = sorted(stores, key=lambda s: stage[s.value] if s.prologue else 0)
    for s in stores:
        if s.prologue != prologue:
            continue
        out = outputs[s.output]
        odt = kernel.outputs[s.output].dtype
        if s.index is not None:
            _scatter_store(kernel, s, ev, vals, instrs, out, shape)
            continue
        v = convert(vals[s.value], instrs[s.value].dtype, odt)
        off = ev.offsets(s.access)
        v, off = torch.broadcast_tensors(v.to(out.dtype), off)
        out[off.expand(shape).reshape(-1)] = v.expand(shape).reshape(-1)


def _scatter_store(kernel: Kernel, s, ev: _Evaluator, vals, instrs, out, shape) -> None:
    """A scatter store: the points of each position of the ordered axes (in order)
    write distinct elements, so each position is one vectorized write."""
    odt = kernel.outputs[s.output].dtype
    cdt = dtypes.compute_dtype(odt)
    v = convert(vals[s.value], instrs[s.value].dtype, cdt).expand(shape)
    off = (ev.offsets(s.access) + s.stride * vals[s.index]).expand(shape)
    axes = kernel.ordered
    for pos in itertools.product(*(range(shape[a]) for a in axes)):
        at = [slice(None)] * len(shape)
        for a, p in zip(axes, pos):
            at[a] = p
        o, x = off[tuple(at)].reshape(-1), v[tuple(at)].reshape(-1)
        if s.combine is not None:
            old = convert(out[o].to(compute_dtype(odt)), odt, cdt)
            x = _combine(s.combine, cdt, old, x)
        out[o] = convert(x, cdt, odt).to(out.dtype)


def _combine(kind: str, dtype: str, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    if dtype == "b8":
        return (a | b) if kind in ("sum", "max") else (a & b)
    if kind == "sum":
        return a + b
    if kind == "prod":
        return a * b
    return torch.maximum(a, b) if kind == "max" else torch.minimum(a, b)  # NaN-propagating


def run_kernel(kernel: Kernel, inputs: list[torch.Tensor], outputs: list[torch.Tensor]) -> None:
    """Evaluate ``kernel`` on flat 1-D buffers, writing ``outputs`` in place.

    ``inputs``/``outputs`` are 1-D tensors of the buffers' dtypes (b8 ->
    torch.bool) with at least ``size`` elements, in the kernel's order.
    """
    kernel.validate()
    if len(inputs) != len(kernel.inputs) or len(outputs) != len(kernel.outputs):
        raise ValueError(f"{kernel.name}: expected {len(kernel.inputs)} inputs and "
                         f"{len(kernel.outputs)} outputs")
    for t, b in zip(list(inputs) + list(outputs), kernel.inputs + kernel.outputs):
        if t.dim() != 1 or t.dtype != TORCH_DTYPES[b.dtype] or t.numel() < b.size:
            raise ValueError(f"{kernel.name}: buffer {b.name} wants a 1-D {b.dtype}[{b.size}] "
                             f"tensor, got {t.dtype}{list(t.shape)}")
    dom = kernel.domain
    nd, nouter = len(dom), len(dom) - kernel.num_reduce
    if any(n == 0 for n in dom[:nouter]):
        return
    bufs = list(inputs) + list(outputs)
    device = bufs[0].device if bufs else torch.device("cpu")
    grids = []
    for d, n in enumerate(dom):
        shape = [1] * nd
        shape[d] = n
        grids.append(torch.arange(n, dtype=torch.int64, device=device).view(shape))
    if kernel.num_reduce == 0:
        ev = _Evaluator(kernel, inputs, grids, device)
        _store(kernel, ev, ev.run(kernel.body), kernel.body, outputs, dom)
        return
    accs = []
    vals = None
    if kernel.reductions or any(s.prologue for s in kernel.stores):
        done: dict[int, torch.Tensor] = {}  # staged reductions the body read
        if all(n > 0 for n in dom[nouter:]):
            body = _Evaluator(kernel, inputs, grids, device, done)
            vals = body.run(kernel.body)
            _store(kernel, body, vals, kernel.body, outputs, dom, prologue=True)
        for i, r in enumerate(kernel.reductions):
            if vals is None:
                accs.append(_identity(r.kind, r.dtype, dom[:nouter], device))
            elif i in done:
                accs.append(done[i].reshape(dom[:nouter]))
            else:
                v = convert(vals[r.value], kernel.body[r.value].dtype, r.dtype)
                accs.append(_reduce(r.kind, r.dtype, v.expand(dom), nouter))
    outer_grids = [g.view(g.shape[:nouter]) for g in grids[:nouter]]
    ev = _Evaluator(kernel, inputs, outer_grids, device, accs)
    _store(kernel, ev, ev.run(kernel.epilogue), kernel.epilogue, outputs, dom[:nouter])
