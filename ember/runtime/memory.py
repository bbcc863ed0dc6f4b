"""The process's memory as Ember measures it: resident size, the C heap, and
handing freed heap memory back to the system.

Most of what a CPU compile keeps lives in the C heap, not in Python objects: a
JIT batch (MLIR's ``ExecutionEngine`` with its LLVM JIT, and the lowered module
kept for the ``ll`` artifact) is some 0.8 MB of heap here, even for a one-line
kernel. So the kernel cache (``compiler.py``) charges each batch what the heap
grew by while it was built (:func:`heap_in_use` before and after), and bounds
its total.

glibc keeps freed heap memory resident: a JIT batch's allocations, freed while
long-lived small objects sit between them, leave free chunks that later
allocations rarely fit, so a process compiling many graphs grew by about 0.6 MB
per compile even when nothing it compiled was kept (measured: the heap's free
bytes grew by that much, and ``malloc_trim(0)`` gave it all back).
:func:`release_freed` returns it once the free bytes have grown by
``TRIM_BYTES`` since the last time (a ``malloc_trim`` costs some 15 ms on a
200 MB heap; Dask's workers trim the same way). On other C libraries these
measures return None and nothing is trimmed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

# Free heap bytes that may accumulate before they are handed back to the system.
TRIM_BYTES = 32 << 20


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
        "uordblks", "fordblks", "keepcost")]


def _load_libc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        info, trim = libc.mallinfo2, libc.malloc_trim  # glibc 2.33+
    except (OSError, AttributeError):
        return None
    info.restype = _MallInfo2
    info.argtypes = []
    trim.restype = ctypes.c_int
    trim.argtypes = [ctypes.c_size_t]
    return info, trim


_libc = _load_libc()
_lock = threading.Lock()
_free_at_trim = 0  # the heap's free bytes after the last trim


def rss_bytes() -> int | None:
    """This process's resident memory (``VmRSS``), or None without ``/proc``."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def heap_in_use() -> int | None:
    """Bytes the C heap has handed out and not had back (glibc), else None."""
    if _libc is None:
        return None
    m = _libc[0]()
    return m.uordblks + m.hblkhd


def heap_free() -> int | None:
    """Bytes of freed memory the C heap holds on to (glibc), else None."""
    return None if _libc is None else _libc[0]().fordblks


def release_freed(force: bool = False) -> bool:
    """Hands the heap's free memory back to the system (``malloc_trim(0)``) when it
    grew by ``TRIM_BYTES`` since the last time, or whenever ``force``; returns
    whether it trimmed."""
    global _free_at_trim
    if _libc is None:
        return False
    with _lock:
        free = _libc[0]().fordblks
        _free_at_trim = min(_free_at_trim, free)  # growth counts from the lowest point
        if not force and free - _free_at_trim < TRIM_BYTES:
            return False
        _libc[1](0)
        # trimming leaves the free chunks' accounting as it was (their pages go back)
        _free_at_trim = _libc[0]().fordblks
        return True
