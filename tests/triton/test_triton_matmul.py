"""The tl.dot matmul template (mm, bmm, addmm; strided operands; f16/bf16/f32/f64)
under Triton's interpreter against torch, compiled for sm_90, and wired into
``ember.compile(backend="triton")``."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("triton")

from ember.codegen.interpret import TORCH_DTYPES  # noqa: E402
from ember.codegen.triton.matmul import (  # noqa: E402
    MatmulConfig, MatmulKernel, spec_for)
from ember.codegen.triton.tuning import TuningCache  # noqa: E402

DT = {v: k for k, v in TORCH_DTYPES.items()}
TOL = {torch.float32: (1e-4, 1e-4), torch.float64: (1e-10, 1e-10),
       torch.float16: (1e-2, 1e-2), torch.bfloat16: (2e-2, 2e-2)}
SMALL = [MatmulConfig(16, 16, 16, 2, 1, 1)]  # several programs and K steps on tiny problems


def _info(t: torch.Tensor):
    return (tuple(t.shape), DT[t.dtype], tuple(t.stride()))


def _run(op, ins, attrs=None, configs=SMALL, name="mm_t"):
    spec = spec_for(name, op, attrs or {}, [_info(t) for t in ins], "ieee")
    assert spec is not None
    ck = MatmulKernel(spec, "interpret", configs)
    shape = (spec.batch, spec.m, spec.n) if op == "bmm" else (spec.m, spec.n)
    out = torch.full(shape, float("nan"), dtype=ins[-1].dtype)
    ck.launch(list(ins) + [out])
    return ck, out


def _g(*shape, dtype=torch.float32, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).to(dtype)


CASES = {
    "mm_tails": ("mm", lambda: [_g(37, 29), _g(29, 45, seed=1)], {}),
    "mm_transposed_b": ("mm", lambda: [_g(20, 33), _g(18, 33, seed=1).t()], {}),
    "mm_sliced_a": ("mm", lambda: [_g(40, 70)[3:30, 5:69:2], _g(32, 17, seed=1)], {}),
    "mm_k0": ("mm", lambda: [_g(5, 0), _g(0, 7)], {}),
    "bmm": ("bmm", lambda: [_g(3, 19, 24), _g(3, 24, 21, seed=1)], {}),
    "bmm_transposed": ("bmm", lambda: [_g(2, 24, 17).transpose(1, 2), _g(2, 24, 9, seed=1)], {}),
    "addmm_row_bias": ("addmm", lambda: [_g(23), _g(17, 30, seed=1), _g(30, 23, seed=2)], {}),
    "addmm_full_bias_ab": ("addmm", lambda: [_g(17, 23), _g(17, 30, seed=1), _g(30, 23, seed=2)],
                           {"alpha": 0.5, "beta": -2.0}),
    "addmm_col_bias_beta0": ("addmm", lambda: [torch.full((17, 1), float("nan")),
                                               _g(17, 30, seed=1), _g(30, 23, seed=2)],
                             {"beta": 0.0}),
}
EAGER = {"mm": torch.mm, "bmm": torch.bmm,
         "addmm": lambda c, a, b, alpha=1.0, beta=1.0: torch.addmm(c, a, b, alpha=alpha, beta=beta)}


# every shape in f32; the other dtypes on three shapes (keeps the interpreter time down)
PARAMS = [(n, torch.float32) for n in CASES] + [
    (n, dt) for n in ("mm_tails", "bmm", "addmm_row_bias")
    for dt in (torch.float16, torch.bfloat16, torch.float64)]


@pytest.mark.parametrize("name,dtype", PARAMS, ids=[f"{n}-{str(d)[6:]}" for n, d in PARAMS])
def test_template(name, dtype):
    op, make, attrs = CASES[name]
    ins = [t.to(dtype) for t in make()]
    ck, out = _run(op, ins, attrs)
    ref = EAGER[op](*[t.double() for t in ins], **attrs).to(dtype)
    rtol, atol = TOL[dtype]
    torch.testing.assert_close(out, ref, rtol=rtol, atol=atol * max(1, ins[-1].shape[-2] ** 0.5))
    asm = ck.compile_for(90)  # and the cuda form compiles for sm_90 (tl.dot -> wgmma/mma)
    assert ".target sm_90" in asm["ptx"]


def test_default_configs_compile_for_sm90():
    spec = spec_for("mm_big", "mm", {}, [((512, 256), "f16", (256, 1)), ((256, 384), "f16", (384, 1))],
                    "ieee")
    ck = MatmulKernel(spec, "interpret")
    for cfg in ck.configs[:3]:
        ptx = ck.compile_for(90, cfg)["ptx"]
        assert ".target sm_90" in ptx and "mma" in ptx


def test_tf32_f32_matmul_compiles_for_sm90():
    spec = spec_for("mm_tf32", "mm", {}, [((128, 64), "f32", (64, 1)), ((64, 96), "f32", (1, 64))],
                    "tf32")
    assert spec.precision == "tf32" and 'input_precision="tf32"' in MatmulKernel(spec, "interpret").source
    ptx = MatmulKernel(spec, "interpret").compile_for(90)["ptx"]
    assert ".target sm_90" in ptx and "tf32" in ptx


def test_grouped_order_covers_every_tile_once():
    """GROUP_M ordering with more tile rows than a group, and a ragged last group."""
    a, b = _g(90, 20), _g(20, 40, seed=1)
    _, out = _run("mm", [a, b], configs=[MatmulConfig(16, 16, 16, 4, 1, 1)])
    torch.testing.assert_close(out, a @ b, rtol=1e-4, atol=1e-4)


def test_interpreter_uses_the_first_config_and_tuning_picks_the_fastest(tmp_path, monkeypatch):
    spec = spec_for("mm_c", "mm", {}, [((40, 24), "f32", (24, 1)), ((24, 36), "f32", (36, 1))],
                    "ieee")
    ck = MatmulKernel(spec, "interpret")
    assert ck.config == ck.configs[0]
    monkeypatch.setattr(TuningCache, "device_key", staticmethod(lambda: "gpu/driver-x/triton-y"))
    cache = TuningCache(str(tmp_path / "tune.json"))
    a, b = _g(40, 24), _g(24, 36, seed=1)
    c = torch.zeros(40, 36)
    timed = []

    def bench(fn):  # every config must compute the right product; "fastest": 32x32 tiles
        c.zero_()
        fn()
        torch.testing.assert_close(c, a @ b, rtol=1e-4, atol=1e-4)
        timed.append(ck.configs[len(timed)])
        return 1.0 if timed[-1].block_m == 32 else 2.0

    ck.tuner, ck.config, ck.bench = cache, None, bench  # as on a GPU, with a stand-in timer
    ck.launch([a, b, c])
    assert timed == ck.configs and ck.config.block_m == 32
    assert MatmulConfig(**cache.lookup(f"matmul/{spec.key()}")) == ck.config
    fresh = MatmulKernel(spec, "interpret", tuner=cache)
    fresh.config, fresh.bench = None, bench
    fresh.launch([a, b, c])  # from the cache: nothing timed again
    assert fresh.config == ck.config and len(timed) == len(ck.configs)
    (tmp_path / "tune.json").write_text("{corrupt")
    assert cache.lookup(f"matmul/{spec.key()}") is None


def test_unsupported_dtypes_and_huge_batches_stay_library_calls():
    assert spec_for("m", "mm", {}, [((2, 2), "i32", (2, 1)), ((2, 2), "i32", (2, 1))], "ieee") is None
    big = [((70000, 2, 2), "f32", (4, 2, 1))] * 2
    assert spec_for("m", "bmm", {}, big, "ieee") is None


def test_matmuls_become_triton_kernels_end_to_end():
    import ember

    def f(x, w, b, y):
        h = torch.nn.functional.linear(x, w, b)  # addmm with a transposed weight
        return torch.relu(h) @ y, torch.bmm(x.view(2, 4, 8), y[:8].expand(2, 8, 6))

    args = [_g(8, 8), _g(16, 8, seed=1), _g(16, seed=2), _g(16, 6, seed=3)]
    compiled = ember.compile(f, backend="triton")
    with torch.no_grad():
        out, ref = compiled(*args), f(*args)
    for o, r in zip(out, ref):
        torch.testing.assert_close(o, r, rtol=1e-4, atol=1e-4)
    report = compiled.ember_report
    names = [k.name for k in report.kernels]
    assert sum("addmm" in n for n in names) == 1 and any("_mm" in n for n in names), names
    assert any("bmm" in n for n in names), names
    steps = [s for g in report.graphs for s in g.steps]
    assert not any(kind == "library" for kind, _ in steps), steps


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_pointwise_epilogues_fuse_into_the_matmul(dtype):
    """Bias + GELU, a residual and a scale, a cast, and a batched epilogue: one Triton
    kernel each (the tile of C never stored), against eager, compiled for sm_90."""
    import ember

    rtol, atol = TOL[dtype]
    x, w, b, r = _g(37, 64, dtype=dtype), _g(64, 48, dtype=dtype, seed=1), \
        _g(48, dtype=dtype, seed=2), _g(37, 48, dtype=dtype, seed=3)
    cases = [
        lambda x, w, b, r: torch.nn.functional.gelu(x @ w + b),
        lambda x, w, b, r: torch.relu(torch.addmm(b, x, w)) * 2 + r,
        lambda x, w, b, r: (x @ w).float() if dtype != torch.float32 else (x @ w).half(),
        lambda x, w, b, r: torch.bmm(x.expand(3, 37, 64), w.expand(3, 64, 48)) * 0.5 + r,
        lambda x, w, b, r: torch.sigmoid(x @ w) * (x @ w),  # C read twice: SiLU
    ]
    for fn in cases:
        compiled = ember.compile(fn, backend="triton")
        with torch.no_grad():
            out, ref = compiled(x, w, b, r), fn(x, w, b, r)
        assert out.dtype == ref.dtype
        tol = max((rtol, atol), TOL[ref.dtype])  # a half result: its own rounding
        torch.testing.assert_close(out.float(), ref.float(), rtol=tol[0], atol=tol[1])
        (k,) = compiled.ember_report.kernels
        assert k.name.startswith("mm") and "mm_k" in k.name  # mm, addmm or bmm + kernel
        assert "c_tile = " in k.artifacts["triton"]
        assert ".target sm_90" in k.artifacts["ptx"]


def test_epilogues_that_do_not_fuse():
    """C also used elsewhere, or read transposed: the matmul stays its own kernel."""
    import ember

    x, w = _g(16, 16), _g(16, 16, seed=1)
    for fn in (lambda x, w: ((x @ w) + 1, (x @ w) * 2),
               lambda x, w: (x @ w).t() * 2 + x):
        compiled = ember.compile(fn, backend="triton")
        with torch.no_grad():
            out, ref = compiled(x, w), fn(x, w)
        for o, e in zip(out if isinstance(out, tuple) else (out,),
                        ref if isinstance(ref, tuple) else (ref,)):
            torch.testing.assert_close(o, e, rtol=1e-4, atol=1e-4)
        assert len(compiled.ember_report.kernels) >= 2
