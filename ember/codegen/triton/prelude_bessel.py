"""Prelude helpers for torch.special's Bessel and Airy functions: one
``@triton.jit`` helper per function, ``_ember_<name>(x)``, generated from the
algorithm descriptions of ``codegen/bessel_algos.py`` (the same ones the MLIR
rules build, see there) as straight-line f64 code with Triton builtins (the same
for both targets). Each is long (the Chebyshev and rational tables unrolled), so
a kernel's module gets only the helpers its body calls (:func:`used`)."""

from __future__ import annotations

import math
import re

from .. import bessel_algos

_FN = {"abs": "tl.abs", "sqrt": "tl.sqrt", "exp": "tl.exp", "log": "tl.log", "sin": "tl.sin",
       "cos": "tl.cos"}
_PRED = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "=="}


def _lit(v: float) -> str:
    if math.isnan(v):
        return 'float("nan")'
    if math.isinf(v):
        return 'float("inf")' if v > 0 else 'float("-inf")'
    return repr(float(v))


class _E:
    """A named f64 value (or condition) of the helper being written."""

    __slots__ = ("g", "name")

    def __init__(self, g: "_Gen", name: str):
        self.g, self.name = g, name

    def _o(self, o) -> str:
        return o.name if isinstance(o, _E) else _lit(o)

    def _bin(self, a, op: str, b) -> "_E":
        return self.g.emit(f"{self._o(a)} {op} {self._o(b)}")

    def __add__(self, o): return self._bin(self, "+", o)
    def __radd__(self, o): return self._bin(o, "+", self)
    def __sub__(self, o): return self._bin(self, "-", o)
    def __rsub__(self, o): return self._bin(o, "-", self)
    def __mul__(self, o): return self._bin(self, "*", o)
    def __rmul__(self, o): return self._bin(o, "*", self)
    def __truediv__(self, o): return self._bin(self, "/", o)
    def __rtruediv__(self, o): return self._bin(o, "/", self)
    def __neg__(self): return self.g.emit(f"-{self.name}")


class _Gen:
    """bessel_algos.Ops writing Triton lines; ``x`` is the operand (any float
    dtype), ``d`` its f64 value."""

    def __init__(self):
        self.lines: list[str] = ["d = x.to(tl.float64)"]
        self.n = 0

    def emit(self, expr: str) -> _E:
        self.n += 1
        name = f"t{self.n}"
        self.lines.append(f"{name} = {expr}")
        return _E(self, name)

    def _o(self, v) -> str:
        return v.name if isinstance(v, _E) else _lit(v)

    def fn(self, name: str, v: _E, wide: bool = False) -> _E:  # f64 throughout
        return self.emit(f"{_FN[name]}({v.name})")

    def sel(self, c, a, b) -> _E:
        return self.emit(f"tl.where({c.name}, {self._o(a)}, {self._o(b)})")

    def cmp(self, pred: str, a: _E, b) -> _E:
        return self.emit(f"{a.name} {_PRED[pred]} {self._o(b)}")

    def isinf(self, v: _E) -> _E:
        return self.emit(f"tl.abs({v.name}) == float(\"inf\")")

    def rnd(self, v: _E) -> _E:  # a no-op for f64 operands
        return self.emit(f"{v.name}.to(x.dtype).to(tl.float64)")

    def const(self, c: float) -> _E:
        return self.rnd(self.emit(f"tl.full(d.shape, {_lit(c)}, tl.float64)"))


def _helper(name: str) -> str:
    g = _Gen()
    r = bessel_algos.FUNCTIONS[name](g, _E(g, "d"))
    body = "\n".join(f"    {line}" for line in g.lines + [f"return {r.name}.to(x.dtype)"])
    return f"\n\n@triton.jit\ndef _ember_{name}(x):\n{body}\n"


HELPERS: dict[str, str] = {name: _helper(name) for name in bessel_algos.FUNCTIONS}

#: op -> the prelude call for an operand ``{x}`` (of any float dtype)
CALLS = {name: f"_ember_{name}({{x}})" for name in bessel_algos.FUNCTIONS}

_CALLED = re.compile(r"\b_ember_(" + "|".join(bessel_algos.FUNCTIONS) + r")\(")


def used(body: str) -> str:
    """The helpers a kernel body calls (in a fixed order)."""
    names = set(_CALLED.findall(body))
    return "".join(HELPERS[n] for n in bessel_algos.FUNCTIONS if n in names)
