"""Ember IR: an SSA graph of tensor ops, its op table, text form and verifier."""

from .dtypes import DTYPES, FLOATS, from_torch, is_float, to_torch
from .graph import Graph, Node, TensorType, Value
from .ops import OPS, InputRef, IRError, OpDef, get_op
from .parser import ParseError, parse
from .printer import print_graph
from .verifier import VerifyError, verify

__all__ = [
    "DTYPES", "FLOATS", "from_torch", "is_float", "to_torch", "Graph", "Node", "TensorType",
    "Value", "OPS", "InputRef", "IRError", "OpDef", "get_op", "ParseError", "parse",
    "print_graph", "VerifyError", "verify",
]
