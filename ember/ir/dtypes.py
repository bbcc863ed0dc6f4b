"""Ember dtype names and their mapping to torch dtypes.

The IR, the kernel description and every backend use the same short names, so
that a printed graph reads like MLIR (``f32[4,8]``).
"""

from __future__ import annotations

import torch

_TORCH = {
    "f16": torch.float16,
    "bf16": torch.bfloat16,
    "f32": torch.float32,
    "f64": torch.float64,
    "i8": torch.int8,
    "i16": torch.int16,
    "i32": torch.int32,
    "i64": torch.int64,
    "u8": torch.uint8,
    "b8": torch.bool,
    "c64": torch.complex64,
    "c128": torch.complex128,
}
_NAMES = {v: k for k, v in _TORCH.items()}

# Complex values exist in graphs only between library steps (fft) and torch-run
# nodes: no kernel computes with them, and no op accepts them unless it lists them.
COMPLEX = ("c64", "c128")
DTYPES = tuple(d for d in _TORCH if d not in COMPLEX)  # what ops accept by default
ALL = DTYPES + COMPLEX  # every dtype a value may have
FLOATS = ("f16", "bf16", "f32", "f64")
INTS = ("i8", "i16", "i32", "i64", "u8")


class UnsupportedDtype(TypeError):
    """A torch dtype Ember does not represent (complex, float8, ...)."""


def from_torch(dtype: torch.dtype) -> str:
    try:
        return _NAMES[dtype]
    except KeyError:
        raise UnsupportedDtype(f"dtype {dtype} is not supported by Ember") from None


def to_torch(name: str) -> torch.dtype:
    return _TORCH[name]


def is_float(name: str) -> bool:
    return name in FLOATS


HALF = ("f16", "bf16")


def compute_dtype(name: str) -> str:
    """The dtype kernels compute values of ``name`` in: f16/bf16 widen to f32."""
    return "f32" if name in HALF else name


def itemsize(name: str) -> int:
    return _TORCH[name].itemsize
