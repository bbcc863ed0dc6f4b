"""FFTs and the complex values around them, as library steps.

Complex dtypes (``c64``, ``c128``) are types of values but not of kernels: no kernel
computes with them, and an op takes them only when its table entry lists them
(``OpDef.infer`` refuses the rest, so the importer makes such an op an ATen fallback).
These library steps are the ops that do, each calling torch:

    fft_r2c, fft_c2c, fft_c2r   aten._fft_r2c / _fft_c2c / _fft_c2r (what every torch.fft
                                function decomposes to; pocketfft/MKL as in eager)
    complex, polar              aten.complex / aten.polar (real parts -> complex)
    conj_physical               aten.conj_physical; the importer maps the lazy ``_conj``
                                (a conjugate-bit view in eager) to it: same values
    complex_copy                ``x.to(dtype, copy=True)``: a cast to a complex dtype
                                (``_to_copy``) or a copy of a complex value (``clone``)
    eig                         aten.linalg_eig (a general matrix's complex eigenpairs)
    complex_pad                 aten.constant_pad_nd of a complex value
    view_as_real, view_as_complex  views (not library steps): torch views, never inlined

so ``torch.fft.fft(x)`` or ``irfft(x)`` of a real ``x`` compiles with no fallback. The
real results (``irfft``, ``hfft``, ``view_as_real``) feed kernels like any library
output. ``.real``/``.imag`` and pointwise math on complex values stay ATen fallbacks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from . import dtypes
from .graph import TensorType
from .library_linalg import _mirror
from .library_order import _by_meta
from .ops import IRError, Kind, OpDef, _register, broadcast_shapes

if TYPE_CHECKING:
    from .graph import Node

aten = torch.ops.aten
REAL = ("f32", "f64")  # pocketfft's real dtypes on the CPU (and complex32 is not Ember's)
FFT = REAL + dtypes.COMPLEX
_TO_COMPLEX = {"f32": "c64", "f64": "c128"}

for _name, _target in (("fft_r2c", aten._fft_r2c.default), ("fft_c2c", aten._fft_c2c.default),
                       ("fft_c2r", aten._fft_c2r.default)):
    _mirror(_name, _target, _by_meta(_target), FFT)


def _complex_of_parts(node: "Node") -> list[TensorType]:
    a, b = node.inputs
    if a.dtype != b.dtype or a.dtype not in _TO_COMPLEX:
        raise IRError(f"{node.op}: parts of dtypes {a.dtype}, {b.dtype} (f32 or f64 alike)")
    return [TensorType(broadcast_shapes(a.shape, b.shape), _TO_COMPLEX[a.dtype])]


_mirror("complex", aten.complex.default, _complex_of_parts, REAL + dtypes.COMPLEX)
_mirror("polar", aten.polar.default, _complex_of_parts, REAL + dtypes.COMPLEX)


def _same(node: "Node") -> list[TensorType]:
    return [node.inputs[0].type]


_mirror("conj_physical", aten.conj_physical.default, _same, dtypes.ALL)
# eigenvalues and vectors of a general (non-symmetric) matrix are complex
_mirror("eig", aten.linalg_eig.default, _by_meta(aten.linalg_eig.default), FFT)


def _complex_copy_rule(node: "Node") -> list[TensorType]:
    x, dt = node.inputs[0], node.attrs["dtype"]
    if dt not in dtypes.COMPLEX:
        raise IRError(f"complex_copy to {dt}: a complex dtype only (real casts are kernels)")
    return [TensorType(x.shape, dt)]


def _complex_copy(x: torch.Tensor, dtype: str) -> torch.Tensor:
    return x.to(dtypes.to_torch(dtype), copy=True)


_register(OpDef("complex_copy", Kind.LIBRARY, {"dtype": str}, _complex_copy_rule, _complex_copy,
                1, dtypes=dtypes.ALL))

_pad_types = _by_meta(aten.constant_pad_nd.default)


def _complex_pad_rule(node: "Node") -> list[TensorType]:
    if node.inputs[0].dtype not in dtypes.COMPLEX:
        raise IRError("complex_pad of a real value (real padding is a kernel: composites.py)")
    return _pad_types(node)


def _view_as_real_rule(node: "Node") -> list[TensorType]:
    x = node.inputs[0]
    if x.dtype not in dtypes.COMPLEX:
        raise IRError(f"view_as_real of {x.dtype}")
    return [TensorType((*x.shape, 2), {"c64": "f32", "c128": "f64"}[x.dtype])]


def _view_as_complex_rule(node: "Node") -> list[TensorType]:
    x = node.inputs[0]
    if x.dtype not in _TO_COMPLEX or not x.shape or x.shape[-1] != 2:
        raise IRError(f"view_as_complex of {x.type} (f32/f64 with a last dim of 2)")
    return [TensorType(x.shape[:-1], _TO_COMPLEX[x.dtype])]


# Views between complex and real values: torch views as every view step (aliasing the
# input); fusion never inlines them (fusion.view_is_inlinable): their index map changes
# the element type, so a kernel reads their real result as a buffer of its own.
_register(OpDef("view_as_real", Kind.VIEW, {}, _view_as_real_rule, torch.view_as_real, 1,
                dtypes=dtypes.ALL))
_register(OpDef("view_as_complex", Kind.VIEW, {}, _view_as_complex_rule, torch.view_as_complex,
                1, dtypes=dtypes.ALL))

# Padding a complex value (fft2's `s` beyond the size): composites.py's rule hands it here
_mirror("complex_pad", aten.constant_pad_nd.default, _complex_pad_rule, dtypes.COMPLEX,
        import_rule=False)

#: the IR ops this module registers
NAMES = ("fft_r2c", "fft_c2c", "fft_c2r", "complex", "polar", "conj_physical", "eig",
         "complex_pad", "complex_copy", "view_as_real", "view_as_complex")
