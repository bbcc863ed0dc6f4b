"""Streaming (non-temporal) stores for outputs of ``NONTEMPORAL_BYTES`` or more:
chosen by the CPU schedule, emitted with a fence after them, and correct on
pointwise and staged kernels, at odd sizes (unaligned rows) and on threads."""

from __future__ import annotations

import pytest
import torch

import ember
from ember.codegen.mlir import available
from ember.codegen.mlir import backend as cpu

pytestmark = pytest.mark.skipif(not available()[0], reason="MLIR backend unavailable")


def _kernels(fn, *args):
    with torch.no_grad():
        rep = ember.explain(fn, *args)
        got = ember.compile(fn)(*args)
    return rep, got


def test_large_outputs_stream_and_match(monkeypatch):
    monkeypatch.setattr(cpu, "NONTEMPORAL_BYTES", 1 << 20)
    x, r = torch.randn(517, 1031), torch.randn(517, 1031)  # rows not 64-byte aligned
    fn = lambda a, b: torch.relu(a + b) * 2  # noqa: E731
    rep, got = _kernels(fn, x, r)
    assert torch.equal(got, fn(x, r))
    (k,) = rep.kernels
    mlir = k.artifacts["mlir"]
    assert "nontemporal = true" in mlir and "llvm.fence" in mlir
    # a staged kernel's prologue stores (layer norm's result) stream as well
    ln = lambda a: torch.nn.functional.layer_norm(a, a.shape[-1:])  # noqa: E731
    rep, got = _kernels(ln, x)
    torch.testing.assert_close(got, ln(x))
    assert "nontemporal = true" in rep.kernels[0].artifacts["mlir"]
    # but not an output a later pass reloads (softmax stores exp, then reloads it)
    rep, got = _kernels(lambda a: torch.softmax(a, -1), x)
    torch.testing.assert_close(got, torch.softmax(x, -1))
    mlir = rep.kernels[0].artifacts["mlir"]
    assert "nontemporal" not in mlir


def test_transcendental_kernels_do_not_stream(monkeypatch):
    monkeypatch.setattr(cpu, "NONTEMPORAL_BYTES", 1 << 20)
    x = torch.randn(517, 1031)
    rep, got = _kernels(lambda a: torch.exp(a) * 2, x)
    torch.testing.assert_close(got, torch.exp(x) * 2)
    assert "nontemporal" not in rep.kernels[0].artifacts["mlir"]


def test_small_outputs_do_not_stream():
    x = torch.randn(64, 64)
    rep, got = _kernels(lambda a: a * 3, x)
    assert "nontemporal" not in rep.kernels[0].artifacts["mlir"]
    s = cpu.choose_schedule(_one_kernel(4096, 4096), vector_bits=512, threads=2)
    assert dict(s.extra)["nontemporal"] == (0,)  # 64 MiB: above the threshold


def _one_kernel(rows, cols):
    from ember.codegen.kernel import Access, Buffer, Instr, Kernel, Store

    acc = Access(0, (cols, 1))
    return Kernel("k", (rows, cols), 0, (Buffer("x", "f32", rows * cols),),
                  (Buffer("o", "f32", rows * cols),),
                  (Instr("load", (), "f32", {"buffer": 0, "access": acc}),),
                  (Store(0, 0, acc),))
