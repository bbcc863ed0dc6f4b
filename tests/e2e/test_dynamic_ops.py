"""Ops through symbolic graphs (dynamic=True): each compiled once, called at several
sizes per symbol (1, sizes around and not multiples of the vector width, and a
size large enough for threads), against eager; every call after the first of a
symbolic graph is a specialization with size-parametric kernels."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import ember

SIZES = [(3, 5), (1, 17), (4, 1), (7, 33), (2, 100), (33, 257), (64, 2049)]

UNARY = [torch.exp, torch.tanh, torch.sigmoid, torch.erf, torch.sqrt, torch.abs, torch.neg,
         torch.floor, torch.log1p, torch.sin, torch.asin, torch.atan, torch.erfc,
         torch.relu, F.gelu, F.silu]
BINARY = [torch.add, torch.sub, torch.mul, torch.div, torch.maximum, torch.pow,
          torch.remainder, torch.atan2, torch.lt]
REDUCE = [lambda x: x.sum(-1), lambda x: x.amax(0), lambda x: x.mean((0, 1)),
          lambda x: torch.softmax(x, -1), lambda x: F.layer_norm(x, x.shape[-1:]),
          lambda x: x.var(-1), lambda x: torch.log_softmax(x, 0)]
VIEWS = [lambda x: x.t().contiguous() * 2, lambda x: x[:, 1:] + 1,
         lambda x: x.reshape(-1)[::2] * 3, lambda x: torch.cat([x, x * 2], -1),
         lambda x: x.unsqueeze(0).expand(2, -1, -1) + 1,
         lambda x: x[torch.arange(x.shape[0]).flip(0)] * 2]


def _run(fn, make):
    compiled = ember.compile(fn, dynamic=True, strict=True)
    with torch.no_grad():
        for shape in SIZES:
            args = make(shape)
            torch.testing.assert_close(compiled(*args), fn(*args), rtol=1e-4, atol=1e-5,
                                       equal_nan=True)
    graphs = compiled.ember_report.graphs
    assert graphs and any(g.inputs for g in graphs), "nothing symbolic"
    assert not compiled.ember_report.fallbacks, compiled.ember_report.fallbacks


def _pos(shape):
    return torch.rand(shape) + 0.1


@pytest.mark.parametrize("fn", UNARY, ids=lambda f: getattr(f, "__name__", "f"))
def test_unary(fn):
    make = (lambda s: (torch.rand(s) * 1.8 - 0.9,)) if fn in (torch.asin, torch.atan) else (
        (lambda s: (_pos(s),)) if fn in (torch.sqrt,) else (lambda s: (torch.randn(s),)))
    _run(lambda x: fn(x) * 2, make)


@pytest.mark.parametrize("fn", BINARY, ids=lambda f: getattr(f, "__name__", "f"))
def test_binary_with_broadcast(fn):
    def make(s):
        return _pos(s), _pos(s[-1:])
    _run(lambda x, y: fn(x, y), make)


@pytest.mark.parametrize("i", range(len(REDUCE)))
def test_reductions(i):
    _run(REDUCE[i], lambda s: (torch.randn(s),))


@pytest.mark.parametrize("i", range(len(VIEWS)))
def test_views_and_movement(i):
    _run(VIEWS[i], lambda s: (torch.randn(s),))


def test_integer_ops():
    def f(x, y):
        return torch.div(x, y, rounding_mode="floor") + (x % y) * 2

    _run(f, lambda s: (torch.randint(-50, 50, s), torch.randint(1, 9, s)))
