"""The scatter family as library steps: stores at computed indices through ATen's own
kernels (scatter, scatter_add, scatter_reduce, index_add/copy/fill/reduce, put,
masked_scatter, diagonal_scatter, as_strided_scatter; index_put has its own import
rule, ``frontend/scatter.py``). Each mirrors its overload like ``library_linalg.py``:
the step calls it, so duplicate indices accumulate in eager's order and an index out
of range raises eager's error from the same kernel. Not yet kernels: a store at a
computed address is no construct of the kernel contract (see docs/design.md).
"""
from __future__ import annotations

import torch

from . import dtypes
from .library_order import _by_meta
from .library_linalg import _mirror
from .ops import IRError, Kind, OpDef, _register

aten = torch.ops.aten
SCATTERS = [("scatter_src", aten.scatter.src), ("scatter_value", aten.scatter.value),
            ("scatter_reduce_src", aten.scatter.reduce),
            ("scatter_reduce_value", aten.scatter.value_reduce),
            ("scatter_add", aten.scatter_add.default), ("scatter_reduce", aten.scatter_reduce.two),
            ("index_add", aten.index_add.default), ("index_copy", aten.index_copy.default),
            ("index_fill", aten.index_fill.int_Scalar),
            ("index_fill_tensor", aten.index_fill.int_Tensor),
            ("index_reduce", aten.index_reduce.default), ("put", aten.put.default),
            ("masked_scatter", aten.masked_scatter.default),
            ("diagonal_scatter", aten.diagonal_scatter.default),
            ("as_strided_scatter", aten.as_strided_scatter.default)]
for _name, _target in SCATTERS:
    _mirror(_name, _target, _by_meta(_target), dtypes.DTYPES)


def _index_put(x, values, *indices, present: tuple, accumulate: bool):
    """aten.index_put with ``indices`` (a Tensor?[]): the given index tensors are inputs,
    ``present`` says which positions hold one (None elsewhere)."""
    it = iter(indices)
    idx = [next(it) if p else None for p in present]
    return aten.index_put.default(x, idx, values, accumulate)


def _index_put_rule(node):
    from .graph import TensorType

    x = node.inputs[0]
    if sum(node.attrs["present"]) != len(node.inputs) - 2:
        raise IRError(f"index_put: {len(node.inputs) - 2} index tensors for "
                      f"{node.attrs['present']}")
    return [TensorType(x.shape, x.dtype)]


_register(OpDef("index_put", Kind.LIBRARY, {"present": tuple, "accumulate": bool},
                _index_put_rule, _index_put, None, dtypes=dtypes.DTYPES))
NAMES = tuple(n for n, _ in SCATTERS) + ("index_put",)
