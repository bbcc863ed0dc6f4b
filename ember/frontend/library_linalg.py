"""Import rules for the library ops of ``ember/ir/library_linalg.py``, one per mirrored
ATen overload (:data:`ember.ir.library_linalg.MIRRORS`).

The FX node's arguments are bound to the overload's schema: its tensor arguments become
the node's inputs (optional ones that are given follow, named in ``given``), every other
argument becomes the attribute of the same name, with the schema's default where the call
leaves it out, so the library step calls the overload with exactly eager's arguments.
Every output type the op's rule gives is checked against ATen's metadata; a difference
(or an argument that is not a constant) makes the node a fallback with the reason.

Registered when ``importer.py`` imports this module.
"""

from __future__ import annotations

from typing import Any

import torch

from ..ir.library_linalg import MIRRORS, attr_type, is_tensor_arg
from .importer import Unsupported, _Importer, _ttype, rule


def _attr(schema_type: str, name: str, v: Any) -> Any:
    if v is None:
        if _NONE not in _as_tuple(attr_type(schema_type)):
            raise Unsupported(f"argument {name} is None")
        return None
    if isinstance(v, torch.fx.Node):
        raise Unsupported(f"argument {name} is not a constant")
    base = schema_type.removeprefix("Optional[").removesuffix("]")
    if base == "float":
        return float(v)
    if base == "List[float]":
        return tuple(float(x) for x in v)
    if base in ("int", "bool", "str", "number", "List[int]"):
        return v
    raise Unsupported(f"argument {name} of type {schema_type}")


_NONE = type(None)


def _as_tuple(t: Any) -> tuple:
    return t if isinstance(t, tuple) else (t,)


def _bind(schema: Any, args: tuple, kwargs: dict) -> dict[str, Any]:
    """Argument name -> value, as ATen binds the call (defaults filled in)."""
    positional = [a for a in schema.arguments if not a.kwarg_only]
    if len(args) > len(positional):
        raise Unsupported(f"{len(args)} positional arguments for {schema.name}")
    bound = {a.name: v for a, v in zip(positional, args)}
    for a in schema.arguments:
        if a.name in bound:
            continue
        if a.name in kwargs:
            bound[a.name] = kwargs[a.name]
        elif a.has_default_value():
            bound[a.name] = a.default_value
        else:
            raise Unsupported(f"argument {a.name} missing")
    return bound


def _mirror_rule(op: str, target: Any):
    schema = target._schema

    def imp_rule(imp: _Importer, n: torch.fx.Node, *args: Any, **kwargs: Any) -> Any:
        bound = _bind(schema, args, kwargs)
        inputs, optional, given, attrs = [], [], [], {}
        for a in schema.arguments:
            ty, v = str(a.type), bound[a.name]
            if ty == "Tensor":
                inputs.append(imp.v(v))
            elif ty == "Optional[Tensor]":
                if v is not None:
                    optional.append(imp.v(v))
                    given.append(a.name)
            elif is_tensor_arg(ty):
                raise Unsupported(f"argument {a.name} of type {ty}")
            else:
                attrs[a.name] = _attr(ty, a.name, v)
        if any(str(a.type) == "Optional[Tensor]" for a in schema.arguments):
            attrs["given"] = tuple(given)
        node = imp.g.add(op, inputs + optional, loc=imp.loc, append=False, **attrs)
        val = n.meta.get("val")
        vals = list(val) if isinstance(val, (tuple, list)) else [val]
        if len(vals) != len(node.outputs):
            raise Unsupported(f"{op}: {len(node.outputs)} outputs, ATen gives {len(vals)}")
        for o, want in zip(node.outputs, vals):
            if isinstance(want, torch.Tensor) and o.type != _ttype(want):
                raise Unsupported(f"import produced {o.type}, ATen says {_ttype(want)}")
        imp.g.nodes.append(node)
        many = len(schema.returns) > 1 or str(schema.returns[0].type) == "List[Tensor]"
        return list(node.outputs) if many else node.out

    rule(target)(imp_rule)


for _target, _op in MIRRORS.items():
    _mirror_rule(_op, _target)
