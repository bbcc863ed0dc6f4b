"""The Backend protocol and registry: what the compiler and runtime may ask of a code generator.

A backend turns ``(Kernel, Schedule)`` pairs into launchable kernels for one
device type. The compiler, the partition pass, the report and the runtime speak
only to this interface; ``codegen/mlir`` (CPU) and ``codegen/triton`` (CUDA, or
the CPU under Triton's interpreter) implement it.

Registering: each backend module defines a subclass of :class:`Backend` and
calls :func:`register` at import; :func:`get_backend` and :func:`for_device`
import the modules listed in ``_MODULES`` lazily, so ``import ember`` never
needs MLIR or Triton.
"""

from __future__ import annotations

import importlib
from typing import Sequence

import torch

from .kernel import Kernel
from .schedule import Schedule


class BackendUnavailable(RuntimeError):
    """No backend can compile for these inputs here (the reason says why)."""


class CompiledKernel:
    """A kernel ready to launch.

    Attributes:
        name: the kernel's name.
        artifacts: named texts for dumps and explain: ``"mlir"`` and ``"ll"`` for
            the CPU backend, ``"triton"`` (and ``"ptx"`` when compiled for a GPU)
            for Triton. Values may be computed on first access (a mapping).
    """

    name: str
    artifacts: "dict[str, str]"

    def launch(self, args: Sequence[torch.Tensor], stream: object | None = None) -> None:
        """Runs the kernel on tensors: its inputs, then its outputs (written in place).

        Every tensor is addressed from its ``data_ptr()`` as a flat buffer, as
        the kernel's accesses describe (see ``codegen/kernel.py``).
        """
        raise NotImplementedError

    def pointer_entry(self):
        """A callable taking the data pointers (ints) of inputs then outputs, or None.

        The CPU runtime calls it directly to skip per-call tensor handling; a
        backend that needs tensors (Triton) returns None.
        """
        return None


class Backend:
    """One code generator for one device type.

    Attributes:
        name: what ``ember.compile(backend=...)`` and reports call it ("cpu", "triton").
        device_type: the torch device type whose tensors it runs on ("cpu", "cuda").
        artifact_suffixes: artifact name -> file suffix for dumps.
        parametric: compiles size-parametric templates (graphs with symbolic sizes
            then compile each kernel once for all sizes).
    """

    name: str = ""
    device_type: str = ""
    artifact_suffixes: dict[str, str] = {}
    # Whether ``compile`` accepts size-parametric templates (codegen/params.py)
    # whose kernels have a ``bind(kernel, schedule, values)`` method.
    parametric: bool = False

    def available(self) -> tuple[bool, str]:
        """``(True, "")`` when usable here, else ``(False, reason)``. Never raises."""
        raise NotImplementedError

    def fingerprint(self) -> str:
        """Identifies the generated code's target and tools (cache keys include it)."""
        raise NotImplementedError

    def native_ops(self) -> frozenset[str]:
        """Kernel instructions (``Instr.op``) this backend renders natively."""
        raise NotImplementedError

    def dtypes(self) -> frozenset[str]:
        """Ember dtypes this backend computes with; the partition pass reads this."""
        raise NotImplementedError

    def runs_on(self, device_type: str) -> bool:
        """Whether this backend launches on tensors of ``device_type``."""
        return device_type == self.device_type

    def fusion_veto(self, producer: str, consumer: str) -> str | None:
        """A reason not to fuse two ops (their IR op names) here, or None."""
        return None

    def schedule(self, kernel: Kernel) -> Schedule:
        """The schedule this backend runs ``kernel`` with."""
        return Schedule()

    def compile(self, items: Sequence[tuple[Kernel, Schedule]], *,
                opt_level: int = 3) -> list[CompiledKernel]:
        """Compiles a batch of kernels; one :class:`CompiledKernel` per item, in order."""
        raise NotImplementedError

    def export_compiled(self, kernels: Sequence[CompiledKernel]):
        """For the disk cache (``runtime/diskcache.py``): ``(binary, metas)``, one binary
        holding the code of ``kernels`` (one :meth:`compile` result; bytes, or a
        callable returning bytes or None that the cache runs off the compile path)
        and, per kernel, JSON-able data that :meth:`load_compiled` needs. None (the
        default): not stored on disk."""
        return None

    def load_compiled(self, path: str, metas: Sequence[dict],
                      items: Sequence[tuple[Kernel, Schedule]]) -> list[CompiledKernel]:
        """The kernels of ``items`` from a binary :meth:`export_compiled` made (at
        ``path``, its checksum already verified) and its data; raises on any failure."""
        raise NotImplementedError

    def library_kernel(self, name: str, op: str, attrs: dict,
                       inputs: Sequence[tuple[tuple[int, ...], str, tuple[int, ...]]],
                       epilogue: tuple[Kernel, int] | None = None) -> CompiledKernel | None:
        """This backend's own kernel for a single-output library op (``mm``/``bmm``/
        ``addmm``, ``convolution``, ...), or None: the op then runs through torch's
        kernel (its op table eager reference) on the inputs' device.

        Args:
            name: a name for the kernel.
            op: the IR op; ``attrs`` its attributes.
            inputs: ``(shape, dtype, strides)`` of each IR input, in order.
            epilogue: a pointwise kernel reading the op's result (its input of the
                given index) at the result's own index, to compute in the same
                kernel; None (the default) to ask for the op alone. A backend
                returns None when it cannot fuse that epilogue.
        Returns:
            A kernel launched with the inputs (then, with an epilogue, the
            epilogue's other inputs) then the (fresh, contiguous) output, or None
            to run the op through torch as a library step.
        """
        return None


_REGISTRY: dict[str, Backend] = {}
# name -> module that registers it (imported on first use)
_MODULES = {"cpu": "ember.codegen.mlir.backend", "triton": "ember.codegen.triton.backend"}
# device type -> backend names, in order of preference for backend="auto"
_BY_DEVICE = {"cpu": ("cpu",), "cuda": ("triton",)}


def register(backend: Backend) -> Backend:
    _REGISTRY[backend.name] = backend
    return backend


def get_backend(name: str) -> Backend:
    """The backend called ``name``.

    Raises:
        BackendUnavailable: unknown name, or its module fails to import.
    """
    if name not in _REGISTRY:
        module = _MODULES.get(name)
        if module is None:
            raise BackendUnavailable(f"unknown Ember backend {name!r}; known: {sorted(_MODULES)}")
        try:
            importlib.import_module(module)
        except Exception as e:  # ImportError, or a broken native library
            raise BackendUnavailable(f"backend {name!r} failed to import: "
                                     f"{type(e).__name__}: {e}") from None
    return _REGISTRY[name]


def names() -> list[str]:
    return sorted(_MODULES)


def select(requested: str, device_types: set[str]) -> Backend:
    """The backend for a graph whose tensors live on ``device_types``.

    Args:
        requested: "auto" (by device) or a backend name.
    Raises:
        BackendUnavailable: with the reason, when none fits or the chosen one
            is not available here.
    """
    if len(device_types) > 1:
        raise BackendUnavailable(f"inputs on several devices {sorted(device_types)}")
    device = next(iter(device_types), "cpu")
    if requested == "auto":
        candidates = _BY_DEVICE.get(device, ())
        if not candidates:
            raise BackendUnavailable(f"no Ember backend for device {device!r}")
        reasons = []
        for name in candidates:
            try:
                b = get_backend(name)
            except BackendUnavailable as e:
                reasons.append(str(e))
                continue
            ok, why = b.available()
            if ok:
                return b
            reasons.append(f"the {name} backend is unavailable: {why}")
        raise BackendUnavailable(f"no Ember backend for {device!r} tensors: "
                                 + "; ".join(reasons))
    b = get_backend(requested)
    ok, why = b.available()
    if not ok:
        raise BackendUnavailable(f"the {b.name} backend is unavailable: {why}")
    if not b.runs_on(device):
        raise BackendUnavailable(f"the {b.name} backend does not run on {device!r} tensors")
    return b
