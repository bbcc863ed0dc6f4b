"""Op-table cases of the FFT and complex-value library steps (``ember/ir/library_fft.py``),
added to ``cases.CASES`` by :func:`fft_cases`, and their direct torch calls
(:data:`FFT_DIRECT`). Complex inputs (``c64``/``c128``) have random real and imaginary
parts; no kernel takes them, so a complex operand of a kernel op is a rejected case."""

from __future__ import annotations

import torch


def fft_cases(add, A) -> None:
    """Adds the cases through ``add`` (``cases.add``; ``A`` is ``cases.A``)."""
    add("fft_r2c", "f32-onesided", A(4, 10), dim=(1,), normalization=0, onesided=True)
    add("fft_r2c", "f64-2d-full", A(6, 5, dt="f64", lay="transposed"), dim=(0, 1),
        normalization=2, onesided=False)
    add("fft_c2c", "c64-forward", A(3, 8, dt="c64"), dim=(1,), normalization=1, forward=True)
    add("fft_c2c", "c128-inverse-strided", A(5, 6, dt="c128", lay="strided"), dim=(0,),
        normalization=2, forward=False)
    add("fft_c2r", "c64", A(4, 5, dt="c64"), dim=(1,), normalization=2, last_dim_size=8)
    add("fft_c2r", "real-input-rejected", A(4, 5), dim=(1,), normalization=2,
        last_dim_size=8, reject=True)
    add("complex", "f32-broadcast", A(3, 1), A(4))
    add("complex", "f64", A(5, dt="f64"), A(5, dt="f64"))
    add("complex", "dtypes-rejected", A(3), A(3, dt="f64"), reject=True)
    add("polar", "f32", A(2, 3, dom="positive"), A(2, 3))
    add("conj_physical", "c64", A(7, dt="c64"))
    add("conj_physical", "f32", A(3, 2))
    add("eig", "f64", A(2, 4, 4, dt="f64"))
    add("complex_copy", "f32-to-c64", A(3, 4), dtype="c64")
    add("complex_copy", "c128-copy", A(6, dt="c128", lay="strided"), dtype="c128")
    add("complex_copy", "real-target-rejected", A(3, dt="c64"), dtype="f32", reject=True)
    add("complex_pad", "c64", A(3, 4, dt="c64"), pad=(1, 2, 0, 3), value=0)
    add("complex_pad", "c128-crop", A(5, 6, dt="c128"), pad=(-1, 2), value=0)
    add("complex_pad", "real-rejected", A(3, 4), pad=(1, 1), value=0, reject=True)
    add("view_as_real", "c64", A(3, 4, dt="c64"))
    add("view_as_real", "c128-transposed", A(4, 3, dt="c128", lay="transposed"))
    add("view_as_real", "real-rejected", A(3, 2), reject=True)
    add("view_as_complex", "f32", A(5, 2))
    add("view_as_complex", "f64-batch", A(2, 3, 2, dt="f64"))
    add("view_as_complex", "last-dim-rejected", A(3, 3), reject=True)
    add("add", "complex-rejected", A(3, dt="c64"), A(3, dt="c64"), reject=True)
    add("cast", "to-complex-rejected", A(3), dtype="c64", reject=True)


FFT_DIRECT = {
    "fft_r2c": lambda x, dim, normalization, onesided:
        torch.ops.aten._fft_r2c(x, dim, normalization, onesided),
    "fft_c2c": lambda x, dim, normalization, forward:
        torch.ops.aten._fft_c2c(x, dim, normalization, forward),
    "fft_c2r": lambda x, dim, normalization, last_dim_size:
        torch.fft.irfft(x, last_dim_size, dim[0], norm="backward")  # 2: divide by n
        if normalization == 2 else None,
    "complex": lambda a, b: torch.complex(a, b),
    "view_as_real": torch.view_as_real,
    "view_as_complex": torch.view_as_complex,
    "complex_pad": lambda x, pad, value: torch.nn.functional.pad(x, pad, value=value),
    "polar": lambda a, b: torch.polar(a, b),
    "conj_physical": lambda x: torch.conj_physical(x),
    "eig": lambda x: tuple(torch.linalg.eig(x)),
    "complex_copy": lambda x, dtype: x.clone().to({"c64": torch.complex64,
                                                   "c128": torch.complex128}[dtype]),
}
