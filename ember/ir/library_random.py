"""Random numbers as library steps: each op mirrors one ATen overload tagged
``nondeterministic_seeded`` (``bernoulli``, ``rand``, ``randn_like``, ``native_dropout``,
...), the same way as the linear algebra of ``library_linalg.py`` (tensor arguments are
the node's inputs, every other argument an attribute; the step calls the overload).

Why library steps and not kernels: Ember's results are eager's, and eager's random
numbers are the stream of torch's generator (Philox on CUDA, MT19937 on the CPU) in the
order the program draws them. A kernel generating its own numbers would give other
values; calling the same overload with the same arguments, in the program's order, on
the same generator gives eager's values exactly (``torch.manual_seed`` before the call
reproduces them). What consumes the numbers (dropout's scaling, a noise add) fuses into
the kernel after the step as with any library output.

The ops are marked ``random`` (:class:`~ember.ir.ops.OpDef`): CSE never merges two of
them (two ``rand(3)`` are two draws), DCE keeps one whose result is unused (eager drew
its numbers, which moves every later draw), and the plan runs them in graph order.
Only the default generator is accepted (an explicit ``generator=`` stays a fallback).

Two deterministic kinds of step are here too: ``fractional_max_pool2d/3d``, whose
random input (the window offsets) comes from a ``rand`` step before them, and the
uninitialized factories ``empty_strided``, ``new_empty_strided`` and ``empty_permuted``
(``empty_like`` reaches the last): the values are undefined, but the strides are
eager's (the compiler takes every mirror's output layout from its meta kernel), where
a ``full`` kernel would store contiguously.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from . import dtypes
from .graph import TensorType
from .library_linalg import _mirror
from .ops import IRError, broadcast_shapes

if TYPE_CHECKING:
    from .graph import Node

aten = torch.ops.aten
ALL = dtypes.DTYPES


def _out_dtype(node: "Node", default: str) -> str:
    dt = node.attrs.get("dtype")
    return default if dt is None else dt


def _like(node: "Node") -> list[TensorType]:
    """Same shape as the first input; its dtype unless a ``dtype`` attribute says."""
    x = node.inputs[0]
    return [TensorType(x.shape, _out_dtype(node, x.dtype))]


def _sized(node: "Node") -> list[TensorType]:
    """``size`` from the attribute; ``dtype`` if given, else the first input's (a
    ``new_*`` method) or the default dtype."""
    size = tuple(node.attrs["size"])
    if any(not isinstance(s, int) or s < 0 for s in size):
        raise IRError(f"{node.op}: size {size}")
    default = (node.inputs[0].dtype if node.inputs
               else dtypes.from_torch(torch.get_default_dtype()))
    return [TensorType(size, _out_dtype(node, default))]


def _randperm(node: "Node") -> list[TensorType]:
    return [TensorType((node.attrs["n"],), _out_dtype(node, "i64"))]


def _normal_tt(node: "Node") -> list[TensorType]:
    mean, std = node.inputs
    if mean.dtype != std.dtype:
        raise IRError(f"normal: mean {mean.dtype} and std {std.dtype}")
    return [TensorType(broadcast_shapes(mean.shape, std.shape), mean.dtype)]


def _multinomial(node: "Node") -> list[TensorType]:
    x = node.inputs[0]
    if x.rank not in (1, 2):
        raise IRError(f"multinomial of a {x.rank}-D tensor")
    return [TensorType((*x.shape[:-1], node.attrs["num_samples"]), "i64")]


def _dropout(node: "Node") -> list[TensorType]:
    x = node.inputs[0]
    return [x.type, TensorType(x.shape, "b8")]


def _rrelu(node: "Node") -> list[TensorType]:
    return [node.inputs[0].type, node.inputs[1].type]


def _fractional(dims: int):
    def rule(node: "Node") -> list[TensorType]:
        x = node.inputs[0]
        if x.rank not in (dims + 1, dims + 2) or len(node.attrs["output_size"]) != dims:
            raise IRError(f"{node.op}: input {x.shape}, output_size "
                          f"{node.attrs['output_size']}")
        shape = (*x.shape[:-dims], *node.attrs["output_size"])
        return [TensorType(shape, x.dtype), TensorType(shape, "i64")]
    return rule


_RANDOM: list[tuple[str, Any, Any]] = [
    ("bernoulli", aten.bernoulli.default, _like),
    ("bernoulli_p", aten.bernoulli.p, _like),
    ("uniform", aten.uniform.default, _like),
    ("normal_fill", aten.normal_functional.default, _like),
    ("exponential", aten.exponential.default, _like),
    ("geometric", aten.geometric.default, _like),
    ("log_normal", aten.log_normal.default, _like),
    ("cauchy", aten.cauchy.default, _like),
    ("random_bits", aten.random.default, _like),
    ("rand_like", aten.rand_like.default, _like),
    ("randn_like", aten.randn_like.default, _like),
    ("randint_like", aten.randint_like.default, _like),
    ("randint_like_low", aten.randint_like.low_dtype, _like),
    ("rand", aten.rand.default, _sized),
    ("randn", aten.randn.default, _sized),
    ("randint", aten.randint.default, _sized),
    ("randint_low", aten.randint.low, _sized),
    ("randperm", aten.randperm.default, _randperm),
    ("normal_tt", aten.normal.Tensor_Tensor, _normal_tt),
    ("normal_tf", aten.normal.Tensor_float, _like),
    ("normal_ft", aten.normal.float_Tensor, _like),
    ("normal_ff", aten.normal.float_float, _sized),
    ("multinomial", aten.multinomial.default, _multinomial),
    ("native_dropout", aten.native_dropout.default, _dropout),
    ("rrelu_with_noise", aten.rrelu_with_noise_functional.default, _rrelu),
]

#: the IR ops this module registers
NAMES = tuple(n for n, _, _ in _RANDOM) + ("empty_strided", "new_empty_strided", "empty_permuted",
                                           "fractional_max_pool2d", "fractional_max_pool3d")

for _name, _target, _rule in _RANDOM:
    assert torch.Tag.nondeterministic_seeded in _target.tags, _target
    _mirror(_name, _target, _rule, ALL, random=True)

_mirror("empty_strided", aten.empty_strided.default, _sized, ALL)
_mirror("new_empty_strided", aten.new_empty_strided.default, _sized, ALL)
_mirror("empty_permuted", aten.empty_permuted.default, _sized, ALL)
_mirror("fractional_max_pool2d", aten.fractional_max_pool2d.default, _fractional(2),
        dtypes.FLOATS)
_mirror("fractional_max_pool3d", aten.fractional_max_pool3d.default, _fractional(3),
        dtypes.FLOATS)
