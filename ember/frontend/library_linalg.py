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

import operator
from typing import Any

import torch

from ..ir.dtypes import COMPLEX, UnsupportedDtype, from_torch
from ..ir.library_linalg import MIRRORS, NO_IMPORT_RULE, arg_type, attr_name, attr_type, is_tensor_arg
from ..ir.ops import OPS
from .complexes import COMPLEX_RULES
from .importer import Unsupported, _Importer, _ttype, rule


def _attr(schema_type: str, name: str, v: Any) -> Any:
    if v is None:
        if _NONE not in _as_tuple(attr_type(schema_type)):
            raise Unsupported(f"argument {name} is None")
        return None
    if isinstance(v, torch.fx.Node):
        raise Unsupported(f"argument {name} is not a constant")
    base = schema_type
    if base.startswith("Optional["):
        base = base[len("Optional["):-1]
    if base == "float":
        return float(v)
    if base == "List[float]":
        return tuple(float(x) for x in v)
    if base in ("int", "bool", "str", "number", "List[int]"):
        return tuple(v) if base == "List[int]" else v
    if base == "ScalarType" and isinstance(v, int) and v in _SCALAR_TYPES:
        v = _SCALAR_TYPES[v]  # a schema default (randint's dtype=4) is the enum's number
    if base == "ScalarType" and isinstance(v, torch.dtype):
        try:
            return from_torch(v)  # an Ember dtype name, as every dtype attribute
        except UnsupportedDtype as e:
            raise Unsupported(str(e)) from None
    if base in ("Layout", "Device", "MemoryFormat") and isinstance(v, attr_type(base)):
        return v
    raise Unsupported(f"argument {name} of type {schema_type}")


_NONE = type(None)
# c10::ScalarType's numbering, for the dtypes Ember has (schema defaults are numbers)
_SCALAR_TYPES = {0: torch.uint8, 1: torch.int8, 2: torch.int16, 3: torch.int32, 4: torch.int64,
                 5: torch.float16, 6: torch.float32, 7: torch.float64, 11: torch.bool,
                 15: torch.bfloat16}


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


# Singular values and eigenvalues only. Eager's composites (svdvals, cond, matrix norms,
# matrix_rank, eigvalsh) call _linalg_svd/_linalg_eigh with compute_uv/compute_v set only
# when autograd may need the vectors (``_may_require_fw_or_bw_grad``); Ember compiles
# inference graphs only, where eager computes the values alone, but the traced graph asks
# for the vectors (the check sees fake tensors as subclasses). The vectors round the
# values differently, so the importer asks for the values alone where eager does: the
# call comes from one of these functions and only the values are used.
_VALUES_ONLY: dict[Any, tuple[str, int, frozenset[str]]] = {
    torch.ops.aten._linalg_svd.default: ("compute_uv", 1, frozenset({
        "linalg_svdvals", "linalg_cond", "linalg_matrix_norm", "linalg_norm", "norm",
        "nuclear_norm", "linalg_matrix_rank"})),
    torch.ops.aten._linalg_eigh.default: ("compute_v", 0, frozenset({
        "linalg_eigvalsh", "linalg_matrix_rank"})),
}


def _values_only(target: Any, n: torch.fx.Node) -> str | None:
    """The flag to turn off where eager computes only the values (see above)."""
    if target not in _VALUES_ONLY:
        return None
    flag, keep, sources = _VALUES_ONLY[target]
    stack = n.meta.get("source_fn_stack") or []
    if not stack or stack[-1][0] not in sources:
        return None
    if all(u.target is operator.getitem and u.args[1] == keep for u in n.users):
        return flag
    return None


# ATen overload -> its generated rule (a module with its own rule for the overload, as
# pooling.py for adaptive_max_pool2d, may hand the cases it does not lower to this one)
MIRROR_RULES: dict[Any, Any] = {}


def _mirror_rule(op: str, target: Any):
    schema = target._schema

    def imp_rule(imp: _Importer, n: torch.fx.Node, *args: Any, **kwargs: Any) -> Any:
        bound = _bind(schema, args, kwargs)
        values_only = _values_only(target, n)
        if values_only is not None:
            bound[values_only] = False
        inputs, optional, given, attrs = [], [], [], {}
        for a in schema.arguments:
            ty, v = arg_type(a), bound[a.name]
            if ty == "Tensor":
                inputs.append(imp.v(v))
            elif ty == "Optional[Tensor]":
                if v is not None:
                    optional.append(imp.v(v))
                    given.append(a.name)
            elif ty == "List[Tensor]":
                inputs += [imp.v(x) for x in v]
            elif is_tensor_arg(ty):
                raise Unsupported(f"argument {a.name} of type {ty}")
            else:
                attrs[attr_name(a.name)] = _attr(ty, a.name, v)
        if any(str(a.type) == "Optional[Tensor]" for a in schema.arguments):
            attrs["given"] = tuple(given)
        node = imp.g.add(op, inputs + optional, loc=imp.loc, append=False, **attrs)
        val = n.meta.get("val")
        vals = list(val) if isinstance(val, (tuple, list)) else [val]
        if len(vals) != len(node.outputs):
            raise Unsupported(f"{op}: {len(node.outputs)} outputs, ATen gives {len(vals)}")
        for i, (o, want) in enumerate(zip(node.outputs, vals)):
            if values_only is not None and i != _VALUES_ONLY[target][1]:
                continue  # the vectors: not computed, not used
            if isinstance(want, torch.Tensor) and o.type != _ttype(want):
                raise Unsupported(f"import produced {o.type}, ATen says {_ttype(want)}")
        imp.g.nodes.append(node)
        many = len(schema.returns) > 1 or str(schema.returns[0].type) == "List[Tensor]"
        return list(node.outputs) if many else node.out

    if target not in NO_IMPORT_RULE:
        rule(target)(imp_rule)
    MIRROR_RULES[target] = imp_rule


for _target, _op in MIRRORS.items():
    _mirror_rule(_op, _target)
    if set(OPS[_op].dtypes) & set(COMPLEX):
        COMPLEX_RULES.add(_target)


class LinalgCheck:
    """linalg's error check on an ``info`` output (``aten._linalg_check_errors``), run
    after the call on that output: eager's exception (``torch.linalg.LinAlgError``) and
    message, from the same function."""

    def __init__(self, api_name: str, is_matrix: bool) -> None:
        self.api_name, self.is_matrix = api_name, is_matrix

    def __call__(self, info: torch.Tensor) -> None:
        torch.ops.aten._linalg_check_errors.default(info, self.api_name,
                                                    is_matrix=self.is_matrix)

    def __repr__(self) -> str:
        return f"LinalgCheck({self.api_name!r}, is_matrix={self.is_matrix})"


@rule(torch.ops.higher_order.with_effects)
def _with_effects(imp: _Importer, n: torch.fx.Node, token: Any, op: Any, *args: Any,
                  **kwargs: Any) -> Any:
    """An effect-ordered call: only linalg's error check is imported (linalg.inv,
    linalg.cholesky, linalg.solve, ... are their ``_ex`` op and this check). The check
    becomes an assert on ``info`` that the runtime runs after the call
    (``Imported.asserts``), and the effect token passes through (aot_autograd passes
    None for a token input at run time: ``backend._passing_tokens``)."""
    if op is not torch.ops.aten._linalg_check_errors.default:
        raise Unsupported(f"with_effects of {op}")
    bound = _bind(op._schema, args, kwargs)
    info, tok = imp.v(bound["info"]), imp.v(token)
    imp.asserts.append((info, LinalgCheck(str(bound["api_name"]), bool(bound["is_matrix"]))))
    return [tok]
