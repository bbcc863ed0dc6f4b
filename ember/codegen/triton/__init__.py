"""Triton GPU code generator: :class:`~ember.codegen.kernel.Kernel` -> Triton source.

Pipeline: ``source`` renders each (kernel, schedule) pair as the text of a
Python module holding one ``@triton.jit`` function (scalar ops come from the
per-instruction table ``source.LOWERINGS``); ``compile`` writes that text to a
content-addressed file (Triton's JIT reads source files), imports it, and wraps
the function in a launchable :class:`~ember.codegen.backend.CompiledKernel`;
``backend`` registers the :class:`~ember.codegen.backend.Backend` (name
"triton", device "cuda") and chooses schedules; ``matmul`` holds the
``tl.dot`` template; ``tuning`` times launch configs on a GPU and remembers the
fastest; ``collapse`` merges axes before index math is generated; ``prelude``
holds the helper functions every module starts with.

Two targets share everything but a few helper functions (see ``source.PRELUDES``):
``"cuda"`` (libdevice for expm1/log1p/tanh/pow, hardware bf16 rounding) and
``"interpret"`` (formulations that Triton's CPU interpreter, ``TRITON_INTERPRET=1``,
can run). Without a GPU, kernels run under the interpreter and the ``"cuda"``
form is compiled ahead of time for sm_90 down to PTX (``compile.compile_for_target``).

Generated code uses only Triton *builtins* (``tl.load``, ``tl.reduce``,
``tl.where``, ``tl.math``...), never ``triton.language.standard``'s jit
functions (``tl.sum``, ``tl.zeros``, ``tl.sigmoid``): whether those run under the
interpreter is fixed when ``triton`` is first imported, while a generated
module follows ``TRITON_INTERPRET`` as it is when the module is loaded.

This package imports without Triton: ``triton`` is imported only inside
functions that need it.
"""

from __future__ import annotations

__all__ = ["TritonLoweringError", "available", "interpreting"]


class TritonLoweringError(Exception):
    """A kernel the Triton backend cannot render (message names kernel and op)."""


def interpreting() -> bool:
    """Whether Triton runs kernels with its CPU interpreter (``TRITON_INTERPRET=1``).

    Read through Triton's own knob (which reads the environment variable), not
    ember's Config: it is Triton's switch and Triton honours it, whatever Ember's
    configuration says.
    """
    try:
        import triton
    except Exception:
        return False
    return bool(triton.knobs.runtime.interpret)


def available() -> tuple[bool, str]:
    """``(True, "")`` when Triton can run kernels here, else ``(False, reason)``. Never raises."""
    try:
        import triton  # noqa: F401
    except Exception as e:
        return False, f"triton is not importable: {type(e).__name__}: {e}"
    if interpreting():
        return True, ""
    try:
        import torch

        if torch.cuda.is_available():
            return True, ""
    except Exception as e:  # a broken CUDA install
        return False, f"CUDA check failed: {type(e).__name__}: {e}"
    return False, "no CUDA device, and TRITON_INTERPRET=1 (Triton's CPU interpreter) is not set"
