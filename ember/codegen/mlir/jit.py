"""Lowering to the LLVM dialect, the ExecutionEngine, and the ctypes call path.

Function pointers: ``ExecutionEngine.raw_lookup`` only returns the *packed*
``_mlir_<name>(void **args)`` wrappers, which would cost an argument array per
call. So after lowering we append ``__ember_addrs(ptr)``, an LLVM function
storing the address of every kernel into a table; one packed call at compile
time yields the raw ``void k(ptr, ...)`` entry points, then called directly
through a per-kernel ``ctypes.CFUNCTYPE``.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading

from mlir import ir
from mlir.dialects import llvm
from mlir.execution_engine import ExecutionEngine
from mlir.passmanager import PassManager

from ..kernel import Kernel
from . import LoweringError
from . import omp
from .builder import build_module
from .native import CompiledKernel, _make_kernel, chunks_of, num_args

# Order matters: math-to-llvm first (intrinsics, vectorizable), then libm for
# what is left (log1p with approximate-log1p=false, erf). expm1 is emitted as a
# libm call by lowering.py because math-to-llvm would expand it to exp(x) - 1.
PIPELINE = ",".join([
    "canonicalize",
    "cse",
    "loop-invariant-code-motion",
    "convert-scf-to-cf",
    "convert-math-to-llvm{approximate-log1p=false}",
    "convert-math-to-libm",
    "convert-vector-to-llvm",
    "finalize-memref-to-llvm",
    "convert-arith-to-llvm",
    "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1}",
    "convert-cf-to-llvm",
    "reconcile-unrealized-casts",
    # drops the dead memref descriptors; keeps `ck.llvm` readable
    "canonicalize",
])

log = logging.getLogger("ember")

_ADDRS = "__ember_addrs"
_state: dict = {}


_BATCHES_PER_CONTEXT = 256


def _context() -> tuple[ir.Context, PassManager]:
    """The shared context and pass manager (callers hold the package lock).

    A context never frees the types and attributes it has uniqued, so a fresh
    one is started now and then; live batches keep their old one alive.
    """
    _state["uses"] = _state.get("uses", 0) + 1
    if _state["uses"] > _BATCHES_PER_CONTEXT:
        _state.clear()
        _state["uses"] = 1
    if "ctx" not in _state:
        ctx = ir.Context()
        # batches are small; the thread pool's start-up costs more than it saves
        ctx.enable_multithreading(False)
        with ctx:
            pm = PassManager.parse(f"builtin.module({PIPELINE})")
        _state["ctx"], _state["pm"] = ctx, pm
    return _state["ctx"], _state["pm"]


class _Batch:
    """Keeps the engine (the code) and the lowered module (for ``llvm``) alive."""

    uses_omp = False  # some kernel has a `_range_omp` entry (calls into libgomp)

    def __init__(self, module: ir.Module, engine: ExecutionEngine, lock: threading.RLock):
        self.module, self.engine, self.lock = module, engine, lock
        self._llvm: dict[str, str] | None = None

    def llvm_text(self, symbol: str) -> str:
        with self.lock:
            if self._llvm is None:
                self._llvm = {}
                text = _translate_to_llvm_ir(self.module)
                if text:
                    self._llvm = _split_functions(text)
                else:  # fallback: LLVM-dialect functions (C API entry missing)
                    for op in self.module.body.operations:
                        self._llvm[ir.StringAttr(op.attributes["sym_name"]).value] = str(op)
            return self._llvm.get(symbol, "")


def compile_batch(kernels: list[Kernel], *, opt_level: int, lock: threading.RLock,
                  schedules=None) -> list[CompiledKernel]:
    """Build, lower and JIT ``kernels`` as one module (caller holds ``lock``)."""
    ctx, pm = _context()
    names = ", ".join(repr(k.name) for k in kernels)
    with ctx, ir.Location.unknown():
        module, built = build_module(kernels, schedules)
        try:
            pm.run(module.operation)
        except ir.MLIRError as e:
            raise LoweringError(f"lowering to LLVM failed for kernel(s) {names}: {e}") from None
        symbols = [sym for sym, _, _ in built] + [s for _, _, ex in built for s in ex.values()]
        # parallel kernels run their chunks on torch's OpenMP threads when it has them
        gomp = omp.runtime()
        ranges = [(ex["range"], num_args(k))
                  for k, (_, _, ex) in zip(kernels, built) if "range" in ex] if gomp else []
        symbols += omp.append_omp_functions(module, ranges)
        _append_address_table(module, symbols)
        try:
            # position-independent, so that the object links into a shared
            # library for the disk cache (export_batch)
            engine = ExecutionEngine(module, opt_level=opt_level,
                                     shared_libs=[gomp[0]] if ranges else [], enable_pic=True)
        except Exception as e:
            raise LoweringError(f"JIT failed for kernel(s) {names}: {e}") from None
        addrs = _read_address_table(engine, len(symbols))
        if addrs is None:
            raise LoweringError(f"JIT failed for kernel(s) {names} (unresolved symbol?)")
    batch = _Batch(module, engine, lock)
    batch.uses_omp = bool(ranges)
    by_symbol = dict(zip(symbols, addrs))
    schedules = schedules or [None] * len(kernels)
    out = []
    for k, (sym, src, ex), sc in zip(kernels, built, schedules):
        entries = dict(ex)
        if "range" in ex and f"{ex['range']}_omp" in by_symbol:
            entries["range_omp"] = f"{ex['range']}_omp"
        # a template's thread chunks depend on its sizes: set when it is bound
        chunks = None if k.num_params else chunks_of(k, sc)
        out.append(_make_kernel(k, chunks, src, sym, entries, by_symbol, batch))
    return out


# -- the disk cache's side: a batch as a shared object, and back ------------------------

def export_batch(cks: list[CompiledKernel]):
    """For the disk cache: ``(link, metas)``. ``link()`` returns the bytes of a shared
    object holding ``cks``'s code (one JIT batch), or None when linking failed;
    the disk cache calls it on its writer thread. ``metas``, per kernel, is what
    ``native.load_batch`` needs: its symbols, thread chunks (a function of kernel
    and schedule, both in the key) and its ``mlir``/``ll`` texts.

    The engine's object file (position-independent) is linked with ``ld -shared``;
    ``-Bsymbolic`` binds the kernels' calls to each other inside the library, and
    libm (and torch's libgomp for OpenMP entries) are recorded as needed libraries
    so that ``dlopen`` resolves them. None when this cannot be done here (no
    ``ld``, several batches): the kernels are then cached in memory only.
    """
    batches = {id(ck._batch): ck._batch for ck in cks}
    ld = shutil.which("ld")
    if len(batches) != 1 or ld is None:
        return None
    batch = next(iter(batches.values()))
    if not isinstance(batch, _Batch):
        return None
    libs = [p for p in (_loaded_library("libm.so"),) if p]
    if batch.uses_omp:
        gomp = omp.runtime()
        if gomp is None:
            return None
        libs += [gomp[0], "-rpath", os.path.dirname(gomp[0])]
    metas = [{"name": ck.name, "symbol": ck.symbol, "num_args": ck.num_args,
              "entries": ck.entries, "chunks": ck.chunks, "mlir": ck.source, "ll": ck.llvm}
             for ck in cks]
    tmp = tempfile.mkdtemp(prefix="ember-link-")
    obj, lib = os.path.join(tmp, "k.o"), os.path.join(tmp, "k.so")
    try:
        with batch.lock:
            batch.engine.dump_to_object_file(obj)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    def link() -> bytes | None:
        try:
            r = subprocess.run([ld, "-shared", "-Bsymbolic", "-o", lib, obj, *libs],
                               capture_output=True, text=True)
            if r.returncode != 0 or not os.path.exists(lib):
                log.warning("ember: disk cache: linking kernels %s failed: %s",
                            ", ".join(ck.name for ck in cks), r.stderr.strip()[:500])
                return None
            with open(lib, "rb") as f:
                return f.read()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    return link, metas


@functools.lru_cache(maxsize=None)
def _loaded_library(stem: str) -> str | None:
    """Path of a library this process has mapped whose file name starts with ``stem``."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.rstrip("\n").split(" ", 5)[-1].strip()
                if os.path.basename(path).startswith(stem):
                    return path
    except OSError:
        pass
    return None


def _append_address_table(module: ir.Module, symbols: list[str]) -> None:
    wanted = set(symbols)
    for op in module.body.operations:
        if ir.StringAttr(op.attributes["sym_name"]).value in wanted:
            # the engine wraps every function in a packed `_mlir_<name>`; at
            # -O3 each wrapper would inline (and re-optimize) a kernel copy
            op.attributes["no_inline"] = ir.UnitAttr.get()
    ptr = llvm.PointerType.get()
    with ir.InsertionPoint(module.body):
        f = llvm.LLVMFuncOp(_ADDRS, ir.TypeAttr.get(ir.Type.parse("!llvm.func<void (ptr)>")))
        block = f.body.blocks.append(ptr)
        with ir.InsertionPoint(block):
            table = block.arguments[0]
            for i, sym in enumerate(symbols):
                slot = table if i == 0 else llvm.getelementptr(
                    ptr, table, [], [i], ir.TypeAttr.get(ptr), 0)
                llvm.store(llvm.mlir_addressof(ptr, sym), slot)
            llvm.return_()


def _read_address_table(engine: ExecutionEngine, n: int) -> list[int] | None:
    packed = engine.raw_lookup(_ADDRS)  # forces compilation of the module
    if not packed:
        return None
    table = (ctypes.c_void_p * n)()
    arg = ctypes.c_void_p(ctypes.addressof(table))
    ctypes.CFUNCTYPE(None, ctypes.c_void_p)(packed)((ctypes.c_void_p * 1)(ctypes.addressof(arg)))
    addrs = list(table)
    return None if not all(addrs) else addrs


def _translate_to_llvm_ir(module: ir.Module) -> str | None:
    """Real LLVM IR via the C API (the Python bindings do not expose it)."""
    try:
        lib = ctypes.CDLL(os.path.join(os.path.dirname(ir.__file__), "_mlir_libs",
                                       "libMLIRPythonCAPI.so"))
        translate = lib.mlirTranslateModuleToLLVMIRToString
    except (OSError, AttributeError):
        return None

    class MlirOperation(ctypes.Structure):
        _fields_ = [("ptr", ctypes.c_void_p)]

    translate.restype = ctypes.c_void_p
    translate.argtypes = [MlirOperation]
    get_ptr = ctypes.pythonapi.PyCapsule_GetPointer
    get_ptr.restype = ctypes.c_void_p
    get_ptr.argtypes = [ctypes.py_object, ctypes.c_char_p]
    try:
        op = get_ptr(module.operation._CAPIPtr, b"mlir.ir.Operation._CAPIPtr")
    except Exception:
        return None
    text = translate(MlirOperation(op))
    if not text:
        return None
    try:
        return ctypes.string_at(text).decode()
    finally:
        # LLVMPrintModuleToString's buffer; LLVMDisposeMessage is its free()
        dispose = getattr(lib, "LLVMDisposeMessage", None) or ctypes.CDLL(None).free
        dispose.argtypes = [ctypes.c_void_p]
        dispose(text)


def _split_functions(ir_text: str) -> dict[str, str]:
    """Per defined function: its text plus the declarations/attributes it uses."""
    lines = ir_text.splitlines()
    decls = {ln.split("@", 1)[1].split("(", 1)[0]: ln for ln in lines if ln.startswith("declare")}
    attrs = {ln.split(" ", 2)[1]: ln for ln in lines if ln.startswith("attributes #")}
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        if not lines[i].startswith("define"):
            i += 1
            continue
        j = lines.index("}", i)
        fn = "\n".join(lines[i:j + 1])
        sym = lines[i].split("@", 1)[1].split("(", 1)[0]
        used = "\n".join(d for name, d in decls.items() if f"@{name}(" in fn)
        tags = re.findall(r"#\d+", fn + used)
        attr = "\n".join(a for t, a in attrs.items() if t in tags)
        out[sym] = "\n\n".join(p for p in (used, fn, attr) if p) + "\n"
        i = j + 1
    return out
