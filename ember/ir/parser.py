"""Parses the text form written by :mod:`ember.ir.printer` back into a Graph.

``parse(print_graph(g))`` rebuilds an equivalent graph, and printing it again
gives identical text. Output types are read from the text and checked against
the op table's rule (for ops that have one), so a hand-edited graph with a
wrong type is rejected with the line number.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import torch

from . import dtypes
from .graph import Graph, TensorType, Value
from .ops import InputRef, Kind, get_op
from .printer import torch_symbols


class ParseError(ValueError):
    pass


_TOKEN = re.compile(r"""
    (?P<ws>[ \t]+)
  | (?P<comment>\#\ .*)
  | (?P<string>"(?:[^"\\]|\\.)*")
  | (?P<sym>\#[A-Za-z_][A-Za-z0-9_.:]*)
  | (?P<ref>\$[0-9]+)
  | (?P<value>%[A-Za-z0-9_]+)
  | (?P<at>@[A-Za-z0-9_.]+)
  | (?P<number>-?(?:[0-9]+\.[0-9]*(?:e[-+]?[0-9]+)?|[0-9]+e[-+]?[0-9]+|[0-9]+|inf)(?![A-Za-z0-9_]))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[()\[\]{}<>,:=])
""", re.VERBOSE)


def _tokenize(line: str, lineno: int) -> list[tuple[str, str]]:
    pos, out = 0, []
    while pos < len(line):
        m = _TOKEN.match(line, pos)
        if not m:
            raise ParseError(f"line {lineno}: unexpected text {line[pos:pos + 20]!r}")
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


class _Line:
    def __init__(self, toks: list[tuple[str, str]], lineno: int) -> None:
        self.toks, self.i, self.lineno = toks, 0, lineno

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self) -> tuple[str, str]:
        if self.i >= len(self.toks):
            raise ParseError(f"line {self.lineno}: unexpected end of line")
        self.i += 1
        return self.toks[self.i - 1]

    def expect(self, text: str) -> None:
        kind, tok = self.next()
        if tok != text:
            raise ParseError(f"line {self.lineno}: expected {text!r}, got {tok!r}")

    def accept(self, text: str) -> bool:
        if self.peek() is not None and self.peek()[1] == text:
            self.i += 1
            return True
        return False

    def error(self, msg: str) -> ParseError:
        return ParseError(f"line {self.lineno}: {msg}")


def parse(text: str) -> Graph:
    """Parses one top-level graph.

    Raises:
        ParseError: with the line number, on any syntax or type error.
    """
    lines = [(i + 1, ln) for i, ln in enumerate(text.splitlines()) if ln.strip()]
    it = iter(lines)
    lineno, first = next(it, (0, ""))
    toks = _Line(_tokenize(first, lineno), lineno)
    if toks.next()[1] != "graph":
        raise toks.error("expected 'graph'")
    kind, name = toks.next()
    if kind != "at":
        raise toks.error("expected @name")
    g = Graph(name[1:])
    scope: dict[str, Value] = {}
    _parse_inputs(toks, g, scope)
    toks.expect("{")
    _parse_body(it, g, scope)
    rest = next(it, None)
    if rest is not None:
        raise ParseError(f"line {rest[0]}: text after the graph")
    return g


def _parse_type(ln: _Line) -> TensorType:
    kind, dt = ln.next()
    if dt not in dtypes.ALL:
        raise ln.error(f"unknown dtype {dt!r}")
    ln.expect("[")
    shape = []
    while not ln.accept("]"):
        if shape:
            ln.expect(",")
        kind, tok = ln.next()
        if kind != "number" or not tok.isdigit():
            raise ln.error(f"bad dimension {tok!r} (dimensions are integers >= 0)")
        shape.append(int(tok))
    return TensorType(tuple(shape), dt)


def _parse_inputs(ln: _Line, g: Graph, scope: dict[str, Value]) -> None:
    ln.expect("(")
    while not ln.accept(")"):
        if g.inputs:
            ln.expect(",")
        kind, tok = ln.next()
        if kind != "value":
            raise ln.error(f"expected %name, got {tok!r}")
        ln.expect(":")
        ty = _parse_type(ln)
        scope[tok[1:]] = g.add_input(ty.shape, ty.dtype, tok[1:])


def _use(ln: _Line, scope: dict[str, Value], tok: str) -> Value:
    try:
        return scope[tok[1:]]
    except KeyError:
        raise ln.error(f"use of undefined value {tok}") from None


def _parse_body(it, g: Graph, scope: dict[str, Value]) -> str | None:
    """Parses nodes up to 'return' and the closing brace; returns the comment after it."""
    for lineno, text in it:
        ln = _Line(_tokenize(text, lineno), lineno)
        kind, tok = ln.peek() or ("", "")
        if tok == "return":
            ln.next()
            while ln.peek() is not None and ln.peek()[0] == "value":
                g.outputs.append(_use(ln, scope, ln.next()[1]))
                ln.accept(",")
            if ln.peek() is not None:
                raise ln.error(f"unexpected {ln.peek()[1]!r} after return")
            closing = next(it, None)
            close = _Line(_tokenize(closing[1], closing[0]), closing[0]) if closing else None
            if close is None or close.next()[1] != "}":
                raise ln.error("expected '}' after return")
            comment = close.peek()
            return comment[1][2:] if comment and comment[0] == "comment" else None
        _parse_node(ln, it, g, scope)
    raise ParseError("unexpected end of text: missing 'return'")


def _parse_node(ln: _Line, it, g: Graph, scope: dict[str, Value]) -> None:
    results: list[tuple[str, TensorType]] = []
    while True:
        kind, tok = ln.next()
        if kind != "value":
            raise ln.error(f"expected a result %name, got {tok!r}")
        ln.expect(":")
        results.append((tok[1:], _parse_type(ln)))
        if not ln.accept(","):
            break
    ln.expect("=")
    kind, op = ln.next()
    try:
        opdef = get_op(op)
    except KeyError as e:
        raise ln.error(str(e)) from None
    ln.expect("(")
    inputs: list[Value] = []
    while not ln.accept(")"):
        if inputs:
            ln.expect(",")
        inputs.append(_use(ln, scope, ln.next()[1]))
    attrs: dict[str, Any] = {}
    if ln.peek() is not None and ln.peek()[1] == "{" and not _is_region_open(ln):
        ln.next()
        while not ln.accept("}"):
            if attrs:
                ln.expect(",")
            key = ln.next()[1]
            ln.expect("=")
            attrs[key] = _parse_attr(ln)
    region, loc = None, None
    if ln.accept("region"):
        region = Graph(attrs.get("name", "region"))
        rscope: dict[str, Value] = {}
        _parse_inputs(ln, region, rscope)
        ln.expect("{")
        # A kernel node's location follows its region's closing brace.
        loc = _parse_body(it, region, rscope)
    if ln.peek() is not None and ln.peek()[0] == "comment":
        loc = ln.next()[1][2:].strip() or None
    if ln.peek() is not None:
        raise ln.error(f"unexpected {ln.peek()[1]!r}")
    types = [t for _, t in results]
    try:
        node = g.add(op, inputs, loc=loc, region=region,
                     out_types=types if opdef.kind in (Kind.FALLBACK, Kind.KERNEL) else None, **attrs)
    except (ValueError, TypeError, KeyError) as e:
        raise ln.error(str(e)) from None
    got = [o.type for o in node.outputs]
    if got != types:
        raise ln.error(f"{op} gives {', '.join(map(str, got))}, text says "
                       f"{', '.join(map(str, types))}")
    for (name, _), v in zip(results, node.outputs):
        if name in scope:
            raise ln.error(f"%{name} is defined twice")
        scope[name] = v


def _is_region_open(ln: _Line) -> bool:
    return ln.i + 1 >= len(ln.toks)


_SYMBOLS: dict[str, Any] | None = None


def _parse_attr(ln: _Line) -> Any:
    global _SYMBOLS
    kind, tok = ln.next()
    if kind == "number":
        if tok in ("inf", "-inf"):
            return math.inf if tok == "inf" else -math.inf
        return float(tok) if ("." in tok or "e" in tok) else int(tok)
    if kind == "string":
        return json.loads(tok)
    if kind == "ref":
        return InputRef(int(tok[1:]))
    if kind == "sym":
        if tok.startswith("#device:"):
            return torch.device(tok[len("#device:"):])
        if _SYMBOLS is None:
            _SYMBOLS = torch_symbols()
        if tok[1:] not in _SYMBOLS:
            raise ln.error(f"unknown symbol {tok}")
        return _SYMBOLS[tok[1:]]
    if tok == "[":
        items = []
        while not ln.accept("]"):
            if items:
                ln.expect(",")
            items.append(_parse_attr(ln))
        return tuple(items)
    if kind == "ident":
        if tok in ("true", "false"):
            return tok == "true"
        if tok == "none":
            return None
        if tok == "nan":
            return math.nan
        if tok in dtypes.ALL:
            return tok
        if tok == "dense":
            return _parse_dense(ln)
    raise ln.error(f"bad attribute value {tok!r}")


def _parse_dense(ln: _Line) -> torch.Tensor:
    ln.expect("<")
    ty = _parse_type(ln)
    kind, raw = ln.next()
    if kind != "string":
        raise ln.error("dense<...> needs a hex string")
    ln.expect(">")
    data = bytearray.fromhex(json.loads(raw))
    dt = dtypes.to_torch(ty.dtype)
    if len(data) != ty.numel * dt.itemsize:
        raise ln.error(f"dense<{ty}> has {len(data)} bytes")
    if not data:
        return torch.empty(ty.shape, dtype=dt)
    return torch.frombuffer(data, dtype=torch.uint8).view(dt).reshape(ty.shape).clone()
