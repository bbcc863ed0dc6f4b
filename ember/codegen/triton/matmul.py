"""Matmul as a Triton ``tl.dot`` template: mm, bmm and addmm (bias, alpha, beta fused).

The template is the classic tiled form (Triton's matmul tutorial): each
program computes a ``BLOCK_M x BLOCK_N`` tile of C, walking K in ``BLOCK_K``
steps with f32 accumulation (f64 for f64); programs are ordered in groups of
``GROUP_M`` tile rows so neighbouring programs share tiles of A and B in L2; a
second grid axis runs the batch of a ``bmm``. Operands are read through their
strides (a transposed weight costs no copy); C is contiguous. addmm's
``beta * bias + alpha * (A @ B)`` is the fused epilogue; the bias is read with
its own (broadcast) strides.

Block sizes: under the interpreter, the first config of :data:`CONFIGS`; on a
GPU, each config is timed on the first launch and the fastest is kept on disk
(``tuning.py``: keyed by GPU name, driver, Triton version and the problem).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch

from ..backend import CompiledKernel
from ..kernel import Kernel
from . import TritonLoweringError
from .epilogue import epilogue_lines
from .prelude import PRELUDES
from .source import HEADER, POINTER_SIG
from .tuning import TuningCache, pick

DTYPES = ("f16", "bf16", "f32", "f64")
_STORE = {"f16": "{x}.to(tl.float16)", "bf16": "_ember_to_bf16({x})", "f32": "{x}", "f64": "{x}"}


@dataclass(frozen=True)
class MatmulConfig:
    """One point of the tuning space."""

    block_m: int
    block_n: int
    block_k: int
    group_m: int = 8
    num_warps: int = 4
    num_stages: int = 3


# Triton tutorial / Inductor style configs; the first is the untuned default.
CONFIGS = (
    MatmulConfig(64, 64, 32, 8, 4, 3),
    MatmulConfig(128, 128, 32, 8, 4, 4),
    MatmulConfig(128, 64, 32, 8, 4, 4),
    MatmulConfig(64, 128, 32, 8, 4, 4),
    MatmulConfig(128, 256, 64, 8, 8, 3),
    MatmulConfig(32, 32, 32, 8, 4, 2),
)


@dataclass(frozen=True)
class MatmulSpec:
    """A matmul problem: ``C[b] = beta * bias + alpha * A[b] @ B[b]`` with static shapes.

    Strides are in elements: ``a_strides`` (batch, m, k), ``b_strides`` (batch, k, n),
    ``bias_strides`` (m, n; 0 where broadcast) or None without a bias.
    """

    name: str
    batch: int
    m: int
    n: int
    k: int
    dtype: str
    a_strides: tuple[int, int, int]
    b_strides: tuple[int, int, int]
    bias_strides: tuple[int, int] | None = None
    bias_dtype: str | None = None
    alpha: float = 1.0
    beta: float = 1.0
    precision: str = "ieee"  # f32 dot: "ieee", or "tf32" when torch allows it
    # A pointwise kernel over C's shape computed on the tile before it is stored
    # (``epilogue.py``): its input ``epi_c`` is C; C is then never written.
    epilogue: Kernel | None = None
    epi_c: int = -1

    def key(self) -> str:
        """The problem without its name (tuning cache key)."""
        epi = self.epilogue.text(named=False) if self.epilogue is not None else None
        return (f"{self.batch}x{self.m}x{self.n}x{self.k}/{self.dtype}/{self.a_strides}/"
                f"{self.b_strides}/{self.bias_strides}/{self.bias_dtype}/{self.alpha}/"
                f"{self.beta}/{self.precision}/{self.epi_c}/{epi}")

    def epilogue_inputs(self) -> list[int]:
        """The epilogue's inputs other than C (extra kernel arguments, in order)."""
        if self.epilogue is None:
            return []
        return [i for i in range(len(self.epilogue.inputs)) if i != self.epi_c]


def _fits(cfg: MatmulConfig, spec: MatmulSpec) -> MatmulConfig:
    """Shrinks blocks to the problem (tl.dot needs every dim >= 16)."""
    def clamp(b: int, n: int) -> int:
        return max(16, min(b, 1 << max(0, math.ceil(math.log2(max(n, 1))))))

    return MatmulConfig(clamp(cfg.block_m, spec.m), clamp(cfg.block_n, spec.n),
                        clamp(cfg.block_k, spec.k), cfg.group_m, cfg.num_warps, cfg.num_stages)


def render(spec: MatmulSpec, target: str) -> str:
    """The module text of the template specialized to ``spec`` (block sizes are constexprs)."""
    if spec.dtype not in DTYPES:
        raise TritonLoweringError(f"matmul {spec.name!r}: no Triton template for {spec.dtype}")
    acc_ty = "tl.float64" if spec.dtype == "f64" else "tl.float32"
    sab, sam, sak = spec.a_strides
    sbb, sbk, sbn = spec.b_strides
    m, n, k = spec.m, spec.n, spec.k
    bias_arg = "bias, " if spec.bias_strides is not None else ""
    epi_args = "".join(f"e{i}, " for i in spec.epilogue_inputs())
    prec = f", input_precision=\"{spec.precision}\"" if spec.dtype == "f32" else ""
    lines = [
        "@triton.jit",
        f"def {spec.name}({bias_arg}a, b, {epi_args}c, BLOCK_M: tl.constexpr, "
        "BLOCK_N: tl.constexpr,",
        "        BLOCK_K: tl.constexpr, GROUP_M: tl.constexpr):",
        f"    # C[{spec.batch}, {m}, {n}] = beta * bias + alpha * A @ B over K={k}",
        "    pid = tl.program_id(0)",
        "    bid = tl.program_id(1).to(tl.int64)",
        f"    num_pid_m = ({m} + BLOCK_M - 1) // BLOCK_M",
        f"    num_pid_n = ({n} + BLOCK_N - 1) // BLOCK_N",
        "    num_pid_in_group = GROUP_M * num_pid_n",
        "    group_id = pid // num_pid_in_group",
        "    first_pid_m = group_id * GROUP_M",
        "    group_size_m = tl.minimum(num_pid_m - first_pid_m, GROUP_M)",
        "    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)",
        "    pid_n = (pid % num_pid_in_group) // group_size_m",
        "    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)",
        "    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)",
        "    rk = tl.arange(0, BLOCK_K)",
        f"    a_ptrs = a + bid * {sab} + rm[:, None].to(tl.int64) * {sam} + rk[None, :] * {sak}",
        f"    b_ptrs = b + bid * {sbb} + rk[:, None] * {sbk} + rn[None, :].to(tl.int64) * {sbn}",
        f"    acc = tl.full([BLOCK_M, BLOCK_N], 0, {acc_ty})",
        f"    for k0 in range(0, {k}, BLOCK_K):",
        f"        kmask = (k0 + rk) < {k}",
        f"        x = tl.load(a_ptrs, mask=(rm[:, None] < {m}) & kmask[None, :], other=0)",
        f"        y = tl.load(b_ptrs, mask=kmask[:, None] & (rn[None, :] < {n}), other=0)",
    ]
    if target == "interpret" and spec.dtype in ("f16", "bf16"):
        # the interpreter's dot multiplies bf16 tiles as raw uint16 (numpy has no
        # bf16); widened tiles give the same f32-accumulated products
        lines += ["        x = x.to(tl.float32)", "        y = y.to(tl.float32)"]
    lines += [
        f"        acc = tl.dot(x, y, acc{prec})",
        f"        a_ptrs += BLOCK_K * {sak}",
        f"        b_ptrs += BLOCK_K * {sbk}",
        f"    cmask = (rm[:, None] < {m}) & (rn[None, :] < {n})",
    ]
    if spec.alpha != 1.0:
        lines.append(f"    acc = acc * {float(spec.alpha)!r}")
    if spec.bias_strides is not None and spec.beta != 0:
        sbm, sbn2 = spec.bias_strides
        lines.append(f"    bv = tl.load(bias + rm[:, None] * {sbm} + rn[None, :] * {sbn2}, "
                     "mask=cmask, other=0)")
        bv = f"bv.to({acc_ty})"
        lines.append(f"    acc = acc + {bv}" if spec.beta == 1.0
                     else f"    acc = acc + {bv} * {float(spec.beta)!r}")
    store = _STORE[spec.dtype].format(x="acc")
    if spec.epilogue is not None:
        store = epilogue_lines(spec, lines, store)
    lines.append(f"    tl.store(c + bid * {m * n} + rm[:, None].to(tl.int64) * {n} + rn[None, :], "
                 f"{store}, mask=cmask)")
    return (f"# Generated by ember (matmul template) for target {target!r}\n" + HEADER
            + PRELUDES[target] + "\n\n" + "\n".join(lines) + "\n")


def signature(spec: MatmulSpec) -> dict[str, str]:
    """Triton's signature of the template function (for ahead-of-time compilation)."""
    sig = {}
    if spec.bias_strides is not None:
        sig["bias"] = POINTER_SIG[spec.bias_dtype or spec.dtype]
    sig.update(a=POINTER_SIG[spec.dtype], b=POINTER_SIG[spec.dtype])
    for i in spec.epilogue_inputs():
        sig[f"e{i}"] = POINTER_SIG[spec.epilogue.inputs[i].dtype]
    out = spec.epilogue.outputs[0].dtype if spec.epilogue is not None else spec.dtype
    sig["c"] = POINTER_SIG[out]
    sig.update(BLOCK_M="constexpr", BLOCK_N="constexpr", BLOCK_K="constexpr", GROUP_M="constexpr")
    return sig


class MatmulKernel(CompiledKernel):
    """A launchable matmul: ``launch([bias,] a, b, [epilogue inputs...,] c)``."""

    def __init__(self, spec: MatmulSpec, target: str, configs: Sequence[MatmulConfig] = CONFIGS,
                 tuner: TuningCache | None = None) -> None:
        from .compile import _LazyArtifacts, load_function

        self.name, self.spec, self.target = spec.name, spec, target
        self.fn_name = spec.name
        self.source = render(spec, target)
        self.fn = load_function(self.source, spec.name, interpret=(target == "interpret"))
        self.configs = list(dict.fromkeys(_fits(c, spec) for c in configs))
        self.config: MatmulConfig | None = self.configs[0] if target == "interpret" else None
        self.tuner = tuner
        self.bench = None  # the timer tuning uses (None: triton.testing.do_bench)
        self.artifacts = _LazyArtifacts({"triton": self.source},
                                        {"ptx": lambda: self.compile_for(90)["ptx"]})

    def _grid(self, cfg: MatmulConfig) -> tuple[int, int]:
        s = self.spec
        return (math.ceil(s.m / cfg.block_m) * math.ceil(s.n / cfg.block_n), s.batch)

    def _run(self, cfg: MatmulConfig, args) -> None:
        kw = dict(BLOCK_M=cfg.block_m, BLOCK_N=cfg.block_n, BLOCK_K=cfg.block_k,
                  GROUP_M=cfg.group_m, num_warps=cfg.num_warps, num_stages=cfg.num_stages)
        self.fn[self._grid(cfg)](*args, **kw)

    def launch(self, args: Sequence[torch.Tensor], stream: object | None = None) -> None:
        """Runs on the current stream; the first GPU launch picks the config (autotuning)."""
        if self.spec.m == 0 or self.spec.n == 0 or self.spec.batch == 0:
            return
        if self.config is None:
            self.config = self._tune(args)
        if stream is not None:
            with torch.cuda.stream(stream):
                self._run(self.config, args)
        else:
            self._run(self.config, args)

    def _tune(self, args) -> MatmulConfig:
        cfg = pick(f"matmul/{self.spec.key()}", [c.__dict__ for c in self.configs],
                   lambda c: self._run(MatmulConfig(**c), args), self.tuner, self.bench)
        return MatmulConfig(**cfg)

    def compile_for(self, arch: int = 90, config: MatmulConfig | None = None) -> dict[str, str]:
        """The ``"cuda"`` form compiled ahead of time for ``sm_<arch>`` with ``config``."""
        from .compile import compile_for_target

        cfg = config or self.config or self.configs[0]
        text = self.source if self.target == "cuda" else render(self.spec, "cuda")
        consts = dict(BLOCK_M=cfg.block_m, BLOCK_N=cfg.block_n, BLOCK_K=cfg.block_k,
                      GROUP_M=cfg.group_m)
        return compile_for_target(text, self.spec.name, signature(self.spec), consts, arch=arch,
                                  num_warps=cfg.num_warps, num_stages=cfg.num_stages)


def spec_for(name: str, op: str, attrs: dict, inputs: Sequence[tuple], precision: str
             ) -> MatmulSpec | None:
    """The template problem for an IR matmul node, or None when the template does not apply.

    Args:
        op: "mm", "bmm" or "addmm".
        inputs: ``(shape, dtype, strides)`` per IR input (addmm: bias, a, b).
    """
    if op not in ("mm", "bmm", "addmm"):
        return None
    (ash, adt, ast), (bsh, bdt, bst) = inputs[-2:]
    if adt not in DTYPES or bdt != adt:
        return None
    if op == "bmm":
        (batch, m, k), n = ash, bsh[2]
        a_st, b_st = tuple(ast), tuple(bst)
        if batch > 65535:  # the batch is grid axis 1
            return None
    else:
        (m, k), n, batch = ash, bsh[1], 1
        a_st, b_st = (0,) + tuple(ast), (0,) + tuple(bst)
    bias_st = bias_dt = None
    alpha, beta = float(attrs.get("alpha", 1.0)), float(attrs.get("beta", 1.0))
    if op == "addmm":
        csh, cdt, cst = inputs[0]
        if cdt not in DTYPES:
            return None
        # right-align the bias to (m, n); broadcast dims step by 0
        pad = (1,) * (2 - len(csh)) + tuple(csh)
        spad = (0,) * (2 - len(cst)) + tuple(cst)
        bias_st = tuple(0 if d == 1 else s for d, s in zip(pad, spad))
        bias_dt = cdt
    return MatmulSpec(name, batch, m, n, k, adt, a_st, b_st, bias_st, bias_dt, alpha, beta,
                      precision if adt == "f32" else "ieee")
