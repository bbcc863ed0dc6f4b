"""Generated source -> files -> imported ``@triton.jit`` functions -> launchable kernels.

Triton's JIT reads a function's source with ``inspect``, so every generated
module is written to a real file, named by the hash of its text, under the
cache folder (``~/.cache/ember/triton``, or a temporary folder when that is not
writable), with an atomic rename; equal texts share one file and one import.

:func:`compile_for_target` compiles a kernel ahead of time for a GPU
architecture (``triton.compile`` on an ``ASTSource``), which needs no GPU: it
is how kernels are checked for sm_90 on a machine without one, and where the
``ptx`` artifact comes from.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..backend import CompiledKernel
from ..kernel import Kernel
from ..schedule import Schedule
from . import interpreting
from .source import block_sizes, kernel_function_name, launch_grid, render, signature

_LOCK = threading.RLock()
_MODULES: dict[tuple[str, bool], Any] = {}
_DIR: Path | None = None


def cache_dir() -> Path:
    """The folder generated modules are written to (created on first use)."""
    global _DIR
    if _DIR is None:
        for base in (Path.home() / ".cache" / "ember" / "triton",
                     Path(tempfile.gettempdir()) / f"ember-triton-{os.getuid()}"):
            try:
                base.mkdir(parents=True, exist_ok=True)
                probe = base / f".probe{os.getpid()}"
                probe.write_text("")
                probe.unlink()
            except OSError:
                continue
            _DIR = base
            break
        else:
            raise OSError("no writable folder for generated Triton modules")
    return _DIR


def write_source(text: str) -> Path:
    """Writes ``text`` to ``<cache>/<sha256>.py`` (atomically, once) and returns the path."""
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    path = cache_dir() / f"ember_{digest}.py"
    if not path.exists() or path.read_text() != text:  # absent, or a corrupt entry
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(text)
        os.replace(tmp, path)
    return path


def load_function(text: str, fn_name: str, interpret: bool | None = None) -> Any:
    """Imports the module ``text`` and returns its ``fn_name``.

    Args:
        interpret: load under Triton's interpreter (an ``InterpretedFunction``)
            or not (a ``JITFunction``, which is what ahead-of-time compilation
            needs); None follows ``TRITON_INTERPRET``.
    """
    import triton

    interpret = interpreting() if interpret is None else interpret
    with _LOCK:
        path = write_source(text)
        key = (str(path), interpret)
        if key not in _MODULES:
            name = f"{path.stem}_{'interp' if interpret else 'jit'}"
            spec = importlib.util.spec_from_file_location(name, path)
            module = importlib.util.module_from_spec(spec)
            # triton.jit picks JIT or interpreter from the knob when it decorates
            with triton.knobs.runtime.scope():
                triton.knobs.runtime.interpret = interpret
                spec.loader.exec_module(module)
            _MODULES[key] = module
        return getattr(_MODULES[key], fn_name)


def compile_for_target(text: str, fn_name: str, sig: dict[str, str],
                       constexprs: dict[str, Any], *, arch: int = 90, num_warps: int = 4,
                       num_stages: int = 1) -> dict[str, str]:
    """Compiles a kernel module ahead of time for ``sm_<arch>``; no GPU needed.

    Args:
        text: the module text (the ``"cuda"`` target's).
        sig: Triton signature (argument name -> ``"*fp32"``, ``"i32"``, ``"constexpr"``).
        constexprs: values of the ``constexpr`` arguments.
    Returns:
        The compiled stages' texts: ``ttir``, ``ttgir``, ``llir``, ``ptx`` (and
        ``cubin`` is dropped: binary).
    """
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource

    fn = load_function(text, fn_name, interpret=False)
    with _LOCK, triton.knobs.runtime.scope():
        triton.knobs.runtime.interpret = False
        src = ASTSource(fn, {k: sig[k] for k in fn.arg_names}, constexprs)
        ck = triton.compile(src, target=GPUTarget("cuda", arch, 32),
                            options={"num_warps": num_warps, "num_stages": num_stages,
                                     "enable_fp_fusion": False})
    return {k: v for k, v in ck.asm.items() if isinstance(v, str)}


class _LazyArtifacts(Mapping):
    """Artifacts, some computed on first access (``ptx`` compiles the kernel)."""

    def __init__(self, fixed: dict[str, str], lazy: dict[str, Callable[[], str]]) -> None:
        self._fixed, self._lazy = dict(fixed), dict(lazy)

    def __getitem__(self, key: str) -> str:
        if key not in self._fixed:
            self._fixed[key] = self._lazy.pop(key)()
        return self._fixed[key]

    def __iter__(self):
        return iter(list(self._fixed) + list(self._lazy))

    def __len__(self) -> int:
        return len(self._fixed) + len(self._lazy)


class TritonKernel(CompiledKernel):
    """A generated Triton kernel, launched with tensors (inputs, then outputs).

    Attributes:
        name: the kernel's name.
        kernel, schedule: what it was generated from.
        source: the module text it runs (the ``triton`` artifact).
        grid: programs per launch.
        artifacts: ``triton`` (source) and ``ptx`` (compiled on first access: for
            the GPU's architecture, or for sm_90 under the interpreter).
    """

    def __init__(self, kernel: Kernel, schedule: Schedule, target: str) -> None:
        self.name = kernel.name
        self.kernel, self.schedule, self.target = kernel, schedule, target
        self.fn_name = kernel_function_name(kernel)
        self.source = render(kernel, schedule, target)
        xblock, rblock = block_sizes(kernel, schedule)
        self.grid = launch_grid(kernel, schedule, xblock, rblock)
        self.constexprs = {"XBLOCK": xblock, "RBLOCK": rblock}
        self.num_warps = schedule.num_warps
        # on a GPU the first launch times tuning candidates (see tuning.py)
        self.tuned = target != "cuda"
        self.tuning_cache = None
        self.fn = load_function(self.source, self.fn_name, interpret=(target == "interpret"))
        self.bools = [i for i, b in enumerate(kernel.inputs + kernel.outputs) if b.dtype == "b8"]
        # ptx: for the device's architecture; under the interpreter (no device),
        # the "cuda" form compiled for sm_90. Only computed when asked for.
        lazy = {"ptx": lambda: self.compile_for(_device_arch() if target == "cuda" else 90)["ptx"]}
        self.artifacts = _LazyArtifacts({"triton": self.source}, lazy)

    def launch(self, args: Sequence[torch.Tensor], stream: object | None = None) -> None:
        """Launches the grid on the current stream (``stream``: a torch stream to use instead)."""
        if 0 in self.grid:
            return
        if self.bools:  # bool buffers are bytes to the kernel
            args = list(args)
            for i in self.bools:
                args[i] = args[i].view(torch.uint8)
        if not self.tuned:
            self.tune(args)
        kw = dict(self.constexprs, num_warps=self.num_warps, num_stages=self.schedule.num_stages)
        if self.target == "cuda":
            kw["enable_fp_fusion"] = False
        if self.target == "interpret":
            import numpy as np

            # the interpreter computes with numpy, which warns where IEEE math
            # gives inf/NaN (log(0), 0/0, overflow); those results are intended
            with np.errstate(all="ignore"):
                self.fn[self.grid](*args, **kw)
        elif stream is not None:
            with torch.cuda.stream(stream):
                self.fn[self.grid](*args, **kw)
        else:
            self.fn[self.grid](*args, **kw)

    def configure(self, cfg: dict) -> None:
        """Launch with ``cfg`` (``XBLOCK``, ``RBLOCK``, ``num_warps``) from now on."""
        self.constexprs = {"XBLOCK": cfg["XBLOCK"], "RBLOCK": cfg["RBLOCK"]}
        self.num_warps = cfg["num_warps"]
        self.grid = launch_grid(self.kernel, self.schedule, cfg["XBLOCK"], cfg["RBLOCK"])

    def tune(self, args: Sequence[torch.Tensor], cache=None, bench=None) -> dict:
        """Times the tuning candidates on ``args`` (bool buffers as uint8), keeps the fastest.

        Run by the first GPU launch; tests call it under the interpreter with a
        stand-in ``bench``.
        """
        from .backend import tuning_candidates
        from .tuning import pick

        def run(cfg):
            self.configure(cfg)
            self.launch(args)

        self.tuned = True  # launches made while timing use the config being timed
        key = f"kernel/{self.schedule.text()}\n{self.kernel.text(named=False)}"
        best = pick(key, tuning_candidates(self.kernel, self.schedule), run,
                    cache or self.tuning_cache, bench)
        self.configure(best)
        return best

    def compile_for(self, arch: int = 90) -> dict[str, str]:
        """This kernel's ``"cuda"`` form compiled ahead of time for ``sm_<arch>``."""
        text = self.source if self.target == "cuda" else render(self.kernel, self.schedule, "cuda")
        return compile_for_target(text, self.fn_name, signature(self.kernel), self.constexprs,
                                  arch=arch, num_warps=self.num_warps,
                                  num_stages=self.schedule.num_stages)


def _device_arch() -> int:
    major, minor = torch.cuda.get_device_capability()
    return major * 10 + minor


def compile_kernels(items: Sequence[tuple[Kernel, Schedule]], target: str | None = None
                    ) -> list[TritonKernel]:
    """One :class:`TritonKernel` per (kernel, schedule); ``target`` defaults to the environment's."""
    target = target or ("interpret" if interpreting() else "cuda")
    return [TritonKernel(k, s, target) for k, s in items]
