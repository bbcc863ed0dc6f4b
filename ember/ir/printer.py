"""Text form of Ember IR, meant for people (one op per line, types inline).

::

    graph @forward(%x: f32[4,8], %w: f32[8,16]) {
      %0: f32[4,16] = mm(%x, %w)  # model.py:3
      %1: f32[4] = sum(%0) {axes=[1], keepdim=false}
      return %1
    }

Values are numbered in order when printed (graph inputs keep their names), so a
printed graph is canonical and :mod:`ember.ir.parser` reads it back exactly.
Kernel regions print nested, with their own numbering and inputs ``%i0..``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import torch

from . import dtypes
from .graph import Graph, Value
from .ops import InputRef

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def torch_symbols() -> dict[str, Any]:
    """Torch enum objects that may appear in fallback arguments, by printed name."""
    syms: dict[str, Any] = {}
    for name in dir(torch):
        obj = getattr(torch, name, None)
        if isinstance(obj, (torch.dtype, torch.layout, torch.memory_format)):
            syms[f"torch.{name}"] = obj
    return syms


def format_attr(v: Any) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return v if v in dtypes.ALL else json.dumps(v)
    if isinstance(v, (tuple, list)):
        return "[" + ", ".join(format_attr(x) for x in v) + "]"
    if isinstance(v, InputRef):
        return f"${v.index}"
    if isinstance(v, torch.Tensor):
        t = v.detach().contiguous().cpu()
        ty = f"{dtypes.from_torch(t.dtype)}[{','.join(map(str, t.shape))}]"
        raw = t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
        return f'dense<{ty} "{raw.hex()}">'
    if isinstance(v, torch.device):
        return f"#device:{v}"
    if isinstance(v, (torch.dtype, torch.layout, torch.memory_format)):
        return "#" + str(v)
    raise TypeError(f"cannot print attribute value {v!r} of type {type(v).__name__}")


class _Names:
    def __init__(self) -> None:
        self.names: dict[Value, str] = {}
        self.count = 0

    def bind_input(self, v: Value, fallback: str) -> str:
        base = v.hint if v.hint and _IDENT.match(v.hint) and not v.hint[0].isdigit() else fallback
        name, k = base, 1
        while name in self.names.values():
            name, k = f"{base}_{k}", k + 1
        self.names[v] = name
        return name

    def bind(self, v: Value) -> str:
        self.names[v] = str(self.count)
        self.count += 1
        return self.names[v]

    def __getitem__(self, v: Value) -> str:
        try:
            return "%" + self.names[v]
        except KeyError:
            raise ValueError(f"value {v!r} is used but not defined in this graph") from None


def print_graph(g: Graph) -> str:
    lines: list[str] = []
    _body(g, lines, "  ", _header(g, _Names(), "graph @" + g.name, "arg"))
    return "\n".join(lines) + "\n"


def _header(g: Graph, names: _Names, head: str, prefix: str) -> tuple[str, _Names]:
    args = ", ".join(f"%{names.bind_input(v, f'{prefix}{i}')}: {v.type}"
                     for i, v in enumerate(g.inputs))
    return (f"{head}({args}) {{", names)


def _body(g: Graph, lines: list[str], indent: str, header: tuple[str, _Names]) -> None:
    text, names = header
    lines.append(text)
    for n in g.nodes:
        outs = ", ".join(f"%{names.bind(o)}: {o.type}" for o in n.outputs)
        ins = ", ".join(names[i] for i in n.inputs)
        s = f"{indent}{outs} = {n.op}({ins})"
        if n.attrs:
            s += " {" + ", ".join(f"{k}={format_attr(v)}" for k, v in n.attrs.items()) + "}"
        if n.region is not None:
            sub = _header(n.region, _Names(), s + " region", "i")
            _body(n.region, lines, indent + "  ", sub)
            s = lines.pop()  # the region's closing line; the location goes after it
        loc = " ".join(n.loc.split()) if n.loc else ""
        if loc:
            s += "  # " + loc
        lines.append(s)
    lines.append(f"{indent}return " + ", ".join(names[o] for o in g.outputs))
    lines.append(indent[:-2] + "}")
