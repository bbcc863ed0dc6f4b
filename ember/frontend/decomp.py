"""Decomposition policy: which ATen ops are broken down before import.

We start from PyTorch's core-ATen table and add the composite ops whose
decompositions Ember fuses well (softmax, layer norm, GELU, linear, ...).
``var_mean``/``var`` are left alone on purpose: PyTorch decomposes them into
``prims`` ops, and the importer expands them itself into Ember's mean/sum ops,
which fuse better (see ``importer._var_mean``).
"""

from __future__ import annotations

import functools

import torch
from torch._decomp import core_aten_decompositions, get_decompositions

aten = torch.ops.aten

_EXTRA = [
    "_softmax", "_log_softmax", "native_layer_norm", "gelu", "silu", "linear", "hardtanh",
    "leaky_relu", "mish", "rms_norm", "_safe_softmax", "softmax", "log_softmax",
    "native_group_norm", "elu", "linalg_vector_norm", "softplus", "hardswish", "hardsigmoid",
    "ldexp", "dist",
]
# Not in _EXTRA: batch norm, whose decomposition writes running stats in place,
# which aot_autograd's inference graph rejects (it runs as one eager op).
# Removed from the table: ops the importer handles better itself.
# masked_fill.Scalar: its decomposition (scalar_tensor + where) drops eager's check
# that the fill value fits the dtype (eager raises; the importer keeps the check).
# index_add, index_copy, index_fill: their decompositions (index_put) drop eager's checks
# (the source's shape; index_copy and index_fill want int64 indices); the importer
# makes scatter kernels of them itself (frontend/scatter.py), with those checks.
# linalg_svdvals: the table's reference computes a full SVD (U and V too), which rounds
# differently from eager's values-only LAPACK call; undecomposed, ATen's composite calls
# _linalg_svd(compute_uv=False) as eager does (a library step, ir/library_linalg.py).
# _euclidean_dist (cdist's matrix-multiply mode): a library step of its own, bitwise eager's.
# linspace: the decomposition's f32 start + step * i differs from eager's kernel by an
# ulp, which flips f16/bf16 and int64 roundings; library steps (ir/library_order.py).
_KEEP = [aten.var_mean.correction, aten.var.correction, aten.addmm.default,
         aten.masked_fill.Scalar, aten.index_add.default, aten.index_copy.default,
         aten.index_fill.int_Scalar, aten.index_fill.int_Tensor, aten.linalg_svdvals.default,
         aten._euclidean_dist.default, aten.linspace.default, aten.linspace.Tensor_Tensor,
         aten.linspace.Tensor_Scalar, aten.linspace.Scalar_Tensor]


@functools.cache
def decomposition_table() -> dict:
    table = dict(core_aten_decompositions())
    table.update(get_decompositions([getattr(aten, n) for n in _EXTRA if hasattr(aten, n)]))
    for op in _KEEP:
        table.pop(op, None)
    return table
