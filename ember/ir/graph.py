"""Ember IR data structures: an SSA graph of tensor ops.

A :class:`Graph` has inputs, a topologically ordered list of :class:`Node` and
outputs. Each node produces one or more :class:`Value` (a tensor with a static
shape and a dtype). ``kernel`` nodes carry a nested graph (their region): the
fused ops, with the kernel's inputs as region inputs.

Nodes are built through :meth:`Graph.add`, which looks the op up in the op table
(:mod:`ember.ir.ops`) and infers output types from its shape/dtype rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator


@dataclass(frozen=True, slots=True)
class TensorType:
    shape: tuple[int, ...]
    dtype: str

    def __str__(self) -> str:
        return f"{self.dtype}[{','.join(map(str, self.shape))}]"

    @property
    def numel(self) -> int:
        n = 1
        for s in self.shape:
            n *= s
        return n


@dataclass(eq=False, slots=True)
class Value:
    """An SSA tensor value. Identity-compared; names are assigned when printed."""

    type: TensorType
    producer: "Node | None" = None
    hint: str | None = None  # preferred printed name (graph inputs)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.type.shape

    @property
    def dtype(self) -> str:
        return self.type.dtype

    @property
    def rank(self) -> int:
        return len(self.type.shape)

    def __repr__(self) -> str:
        op = self.producer.op if self.producer else "input"
        return f"<Value {self.type} from {op}>"


@dataclass(eq=False, slots=True)
class Node:
    op: str
    inputs: list[Value]
    attrs: dict[str, Any]
    outputs: list[Value] = field(default_factory=list)
    loc: str | None = None  # source location, e.g. "model.py:42"
    region: "Graph | None" = None  # body of a 'kernel' node

    @property
    def out(self) -> Value:
        if len(self.outputs) != 1:
            raise ValueError(f"{self.op} has {len(self.outputs)} outputs")
        return self.outputs[0]

    def __repr__(self) -> str:
        return f"<Node {self.op} {self.attrs}>"


class Graph:
    """A function over tensors: ``inputs -> nodes -> outputs``."""

    def __init__(self, name: str = "graph") -> None:
        self.name = name
        self.inputs: list[Value] = []
        self.nodes: list[Node] = []
        self.outputs: list[Value] = []

    # -- building ---------------------------------------------------------------
    def add_input(self, shape: tuple[int, ...], dtype: str, name: str | None = None) -> Value:
        v = Value(TensorType(tuple(int(s) for s in shape), dtype), None, name)
        self.inputs.append(v)
        return v

    def add(self, op: str, inputs: list[Value] | tuple[Value, ...] = (), *, loc: str | None = None,
            out_types: list[TensorType] | None = None, region: "Graph | None" = None,
            append: bool = True, **attrs: Any) -> Node:
        """Appends a node; its output types come from the op table unless given.

        Raises:
            KeyError: unknown op. ValueError/TypeError: the op's rule rejects the inputs.
        """
        from .ops import get_op

        opdef = get_op(op)
        inputs = list(inputs)
        attrs = opdef.normalize(attrs)
        node = Node(op, inputs, attrs, [], loc, region)
        types = out_types if out_types is not None else opdef.infer(node)
        node.outputs = [Value(t, node) for t in types]
        if append:
            self.nodes.append(node)
        return node

    def value(self, op: str, *inputs: Value, loc: str | None = None, **attrs: Any) -> Value:
        """Shorthand for a single-output :meth:`add`."""
        return self.add(op, list(inputs), loc=loc, **attrs).out

    # -- queries ----------------------------------------------------------------
    def users(self) -> dict[Value, list[Node]]:
        """Maps every value to the nodes that consume it (in graph order)."""
        uses: dict[Value, list[Node]] = {v: [] for v in self.inputs}
        for n in self.nodes:
            for o in n.outputs:
                uses[o] = []
        for n in self.nodes:
            for i in n.inputs:
                uses.setdefault(i, []).append(n)
        return uses

    def walk(self) -> Iterator[Node]:
        """All nodes, including those inside kernel regions."""
        for n in self.nodes:
            yield n
            if n.region is not None:
                yield from n.region.walk()

    def rebuild(self, visit: "Callable[[Node, dict[Value, Value]], list[Node] | None]"
                ) -> dict[Value, Value]:
        """Rewrites the node list in one walk; the substitute-and-rebuild of every pass.

        ``visit(n, subst)`` sees each node with its inputs already rewired through
        ``subst`` and returns the nodes that replace it (None keeps ``n``); it may
        add ``old -> new`` value pairs to ``subst``. The graph's outputs are
        rewired at the end. Returns ``subst``.
        """
        subst: dict[Value, Value] = {}
        out: list[Node] = []
        for n in self.nodes:
            n.inputs = [subst.get(i, i) for i in n.inputs]
            repl = visit(n, subst)
            out.extend([n] if repl is None else repl)
        self.nodes = out
        self.outputs = [subst.get(o, o) for o in self.outputs]
        return subst

    def __str__(self) -> str:
        from .printer import print_graph

        return print_graph(self)
