"""A reference interpreter: runs an Ember graph op by op with the eager references.

It is the ground truth the compiled code is tested against (and a way to run a
dumped ``.ir`` file without compiling it). Kernel regions are interpreted too.
"""

from __future__ import annotations

from typing import Any

import torch

from .graph import Graph
from .ops import InputRef, get_op, resolve_target


def run_graph(g: Graph, inputs: list[torch.Tensor]) -> list[torch.Tensor]:
    """Evaluates ``g`` on ``inputs``; returns its outputs.

    Raises:
        ValueError: wrong number of inputs.
    """
    if len(inputs) != len(g.inputs):
        raise ValueError(f"{g.name} takes {len(g.inputs)} inputs, got {len(inputs)}")
    env: dict[Any, torch.Tensor] = dict(zip(g.inputs, inputs))
    for n in g.nodes:
        args = [env[v] for v in n.inputs]
        if n.op == "kernel":
            outs = run_graph(n.region, args)
        elif n.op in ("fallback", "eager"):
            outs = _fallback(n, args)
        else:
            res = get_op(n.op).eager(*args, **n.attrs)
            outs = list(res) if isinstance(res, (tuple, list)) else [res]
        env.update(zip(n.outputs, outs))
    return [env[v] for v in g.outputs]


def fallback_call(n) -> tuple[Any, tuple, tuple]:
    """A fallback node's callable and its (args, kwargs) templates (InputRefs inside).

    ``eager`` nodes run the op table's eager reference of their ``of`` op with its
    attributes; ``fallback`` nodes call an ATen overload with args/kwargs.
    """
    if n.op == "eager":
        eager, attrs = get_op(n.attrs["of"]).eager, dict(n.attrs["attrs"])

        def run(*xs):
            return eager(*xs, **attrs)

        return run, tuple(InputRef(i) for i in range(len(n.inputs))), ()
    fn = resolve_target(n.attrs["target"])
    if n.attrs["target"] in CONTIGUOUS_INPUTS:
        fn = _with_contiguous_inputs(fn)
    return fn, n.attrs["args"], n.attrs["kwargs"]


# ATen kernels that read their tensors as if contiguous: their decompositions clone the
# inputs to contiguous first, a same-dtype copy the simplifier drops (the kernel then
# read strided indices as dense: a wrong result, found by the OpInfo conformance run).
CONTIGUOUS_INPUTS = frozenset({"aten._embedding_bag_forward_only.default",
                               "aten._embedding_bag.default"})


def _with_contiguous_inputs(fn):
    def run(*args, **kwargs):
        c = lambda x: x.contiguous() if isinstance(x, torch.Tensor) else x  # noqa: E731
        return fn(*(c(a) for a in args), **{k: c(v) for k, v in kwargs.items()})
    return run


def _fallback(n, args: list[torch.Tensor]) -> list[torch.Tensor]:
    def sub(x):
        if isinstance(x, InputRef):
            return args[x.index]
        return [sub(y) for y in x] if isinstance(x, tuple) else x

    fn, args_t, kwargs_t = fallback_call(n)
    res = fn(*sub(args_t), **{k: sub(v) for k, v in kwargs_t})
    return list(res) if isinstance(res, (tuple, list)) else [res]
