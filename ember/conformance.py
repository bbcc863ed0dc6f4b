"""OpInfo conformance: every ``op_db`` entry compiled with Ember and checked against eager.

For each entry of PyTorch's OpInfo database (``torch.testing._internal.
common_methods_invocations.op_db``; needs the ``expecttest`` package) and each
requested dtype the entry supports on the CPU, the entry's samples
(``sample_inputs(device="cpu", dtype=..., requires_grad=False)``; the first one
by default) are called through the entry's callable eagerly and through
``ember.compile`` under ``torch.no_grad()``, with ``torch._dynamo.reset()``
between entries. Comparison follows PyTorch's Inductor OpInfo test:

* ``torch.testing.assert_close`` with its default per-dtype tolerances,
  ``equal_nan=True`` and the dtype checked; tuples, lists and non-tensor
  results compared element by element (non-tensors with ``==``).
* The inputs are compared after the call too: a wrong (or missing) mutation is
  a mismatch.
* float16/bfloat16: Ember rounds every op as eager does, so results are
  compared with eager in the same dtype first. Where that fails, a result
  that is as close to the exact value as eager's is accepted: the reference
  is then computed in float32 from the same (upcast) inputs and cast back, and
  the comparison uses the reduced dtype's default tolerances (Inductor's
  ``reference_in_float``). Such samples are counted as matched with a note.
* Where eager raises, the compiled call must raise the same exception type
  (``isinstance``, or a cause in its ``__cause__`` chain: Dynamo wraps errors
  raised while tracing with fake tensors). ``op.error_inputs`` are checked the
  same way, and their messages against the entry's regex (a different message
  is a note, not a failure).

Each (entry, dtype) is classified:

* ``native``: only kernels and library steps ran (no fallback nodes, no
  graph ran eagerly, no graph break).
* ``partial``: some ATen ops ran as fallback nodes (or Dynamo broke the graph).
* ``eager``: a whole graph ran eagerly (with its reason), or nothing was captured.
* ``mismatch``: a result, a mutated input or an exception type differs from eager.
* ``crash``: Ember raised where eager did not, or Ember's compile path failed
  on something other than a graph it declares it cannot represent
  (``ImportFailure``; those are ``eager``).
* ``skip``: op_db does not support the dtype on the CPU, the entry has no
  samples for it, its sample generator fails, or it ran past the time box.

    ember conformance --ops add --dtypes float32,float16 --out docs/conformance.md
"""

from __future__ import annotations

import contextlib
import re
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import torch
from torch.utils._pytree import tree_flatten, tree_unflatten

STATUSES = ("native", "partial", "eager", "mismatch", "crash", "skip")
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16,
          "float64": torch.float64, "int64": torch.int64, "int32": torch.int32,
          "bool": torch.bool}
# Worse is later: an entry's status is the worst over its samples.
_RANK = {s: i for i, s in enumerate(("skip", "native", "partial", "eager", "mismatch", "crash"))}


class Timeout(BaseException):
    """The entry ran past its time box. A BaseException (as KeyboardInterrupt), so
    that the compile path's ``except Exception`` handlers (Ember's fallback to
    eager, Dynamo's) do not turn it into a crash of the entry."""


@dataclass
class Result:
    """One (entry, dtype): its status, a reason, and per-sample counts."""

    name: str  # op_db entry name with its variant, "nn.functional.gelu" or "div.floor"
    dtype: str
    status: str
    reason: str = ""
    samples: int = 0
    matched: int = 0
    notes: list[str] = field(default_factory=list)
    fallbacks: list[str] = field(default_factory=list)
    seconds: float = 0.0


def entry_name(op: Any) -> str:
    return op.name + (f".{op.variant_test_name}" if op.variant_test_name else "")


def op_db() -> list[Any]:
    from torch.testing._internal.common_methods_invocations import op_db as db

    return list(db)


def select(ops: str | None = None, names: Iterable[str] | None = None) -> list[Any]:
    """The op_db entries whose name contains ``ops`` (any of comma-separated substrings)
    or, with ``names``, exactly those entries."""
    db = op_db()
    if names is not None:
        wanted = set(names)
        return [op for op in db if entry_name(op) in wanted]
    if not ops:
        return db
    subs = [s for s in ops.split(",") if s]
    return [op for op in db if any(s in entry_name(op) for s in subs)]


# -- helpers ----------------------------------------------------------------------------
@contextlib.contextmanager
def _time_box(seconds: float):
    if seconds <= 0 or not hasattr(signal, "SIGALRM"):
        yield
        return

    def on_alarm(signum, frame):
        raise Timeout(f"ran past {seconds:g} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _clone(x: Any) -> Any:
    if isinstance(x, torch.Tensor):
        from torch._prims_common import clone_preserve_strides

        return clone_preserve_strides(x.detach())
    return x


def _call_fn(op: Any, sample: Any) -> tuple[Callable[..., Any], list[torch.Tensor]]:
    """A function of the sample's tensors only (other arguments are constants, as in
    user code), and those tensors."""
    leaves, spec = tree_flatten((sample.input, sample.args, sample.kwargs))
    pos = [i for i, x in enumerate(leaves) if isinstance(x, torch.Tensor)]
    tensors = [leaves[i] for i in pos]
    fixed = list(leaves)
    call = op.op

    def fn(*ts):
        vals = list(fixed)
        for i, t in zip(pos, ts):
            vals[i] = t
        inp, args, kwargs = tree_unflatten(vals, spec)
        return call(inp, *args, **kwargs)

    return fn, tensors


def _caller_seeded(op: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """op_db's ``wrapper_set_seed`` without its own seeding: the random entries' ops
    (dropout, bernoulli, randn_like, ...) seed 42 inside ``freeze_rng_state``, whose RNG
    state save/restore Dynamo cannot trace, so it skipped their frames and nothing was
    compiled. :func:`run_sample` seeds the global RNG alike before the eager and the
    compiled call, which is what the wrapper's seeding is for."""
    return op(*args, **kwargs)


@contextlib.contextmanager
def _seeding_by_caller():
    from torch.testing._internal import common_methods_invocations as cmi

    saved = cmi.wrapper_set_seed
    cmi.wrapper_set_seed = _caller_seeded
    try:
        yield
    finally:
        cmi.wrapper_set_seed = saved


def _raised(got: BaseException | None, want: type) -> bool:
    e = got
    while e is not None:
        if isinstance(e, want):
            return True
        e = e.__cause__ or e.__context__
    return False


# The only per-entry tolerances, each with its reason: (dtype, rtol, atol, reason).
LOOSER: dict[str, tuple[torch.dtype, float, float, str]] = {
    "nn.functional.scaled_dot_product_attention": (
        torch.float32, 1.3e-6, 5e-5,
        "PyTorch's decomposition (the one torch.compile uses) is SDPA's math path: "
        "Ember's result is within 1e-6 of eager's under sdpa_kernel(SDPBackend.MATH) "
        "and as close to a float64 reference as eager's; eager's default CPU kernel "
        "(flash attention, online softmax) sums in another order, up to 1.5e-5 apart "
        "on op_db's samples"),
}


def _compare(actual: Any, expected: Any, path: str = "out",
             tol: tuple[float, float] | None = None) -> None:
    """assert_close over tensors (default tolerances, or ``tol`` = (rtol, atol)), with
    non-tensor results compared with ``==``."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            raise AssertionError(f"{path}: expected a tensor, got {type(actual).__name__}")
        rtol, atol = tol if tol is not None else (None, None)
        torch.testing.assert_close(actual, expected, equal_nan=True, check_dtype=True,
                                   check_device=True, check_layout=True, rtol=rtol, atol=atol,
                                   msg=lambda m: f"{path}: {m}")
    elif isinstance(expected, (tuple, list)):
        if not isinstance(actual, (tuple, list)) or len(actual) != len(expected):
            raise AssertionError(f"{path}: expected a sequence of {len(expected)}, got {actual!r}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, f"{path}[{i}]", tol)
    elif isinstance(expected, float) and expected != expected:
        if not (isinstance(actual, float) and actual != actual):
            raise AssertionError(f"{path}: expected nan, got {actual!r}")
    elif actual != expected:
        raise AssertionError(f"{path}: expected {expected!r}, got {actual!r}")


def _upcast(x: Any) -> Any:
    if isinstance(x, torch.Tensor) and x.dtype in (torch.float16, torch.bfloat16):
        return x.float()
    return x


def _float_reference(fn: Callable[..., Any], tensors: list[torch.Tensor],
                     expected: Any) -> Any | None:
    """fn computed in float32 from the upcast inputs, cast back to eager's dtypes."""
    try:
        with torch.no_grad():
            ref = fn(*[_upcast(_clone(t)) for t in tensors])
    except Exception:  # noqa: BLE001
        return None
    flat_ref, spec = tree_flatten(ref)
    flat_exp, spec_exp = tree_flatten(expected)
    if len(flat_ref) != len(flat_exp):
        return None
    out = [r.to(e.dtype) if isinstance(r, torch.Tensor) and isinstance(e, torch.Tensor) else r
           for r, e in zip(flat_ref, flat_exp)]
    return tree_unflatten(out, spec_exp)


# Entries whose values are undefined (uninitialized memory): only shapes and dtypes are
# compared, as op_db's own tests skip their values ("empty is not comparable").
UNCOMPARABLE = frozenset({"empty", "empty_like", "empty_strided", "empty_permuted", "new_empty",
                          "new_empty_strided"})


def _meta_only(x: Any) -> Any:
    flat, spec = tree_flatten(x)
    return tree_unflatten([torch.zeros(t.shape, dtype=t.dtype) if isinstance(t, torch.Tensor)
                           else t for t in flat], spec)


# -- one sample ----------------------------------------------------------------------------
@dataclass
class _Sample:
    ok: bool  # matched eager
    status: str  # native/partial/eager/mismatch/crash, or skip (eager failed)
    reason: str = ""
    note: str = ""
    fallbacks: list[str] = field(default_factory=list)


def _classify_report(report: Any) -> tuple[str, str, list[str]]:
    graphs = report.graphs
    if not graphs:
        why = [str(b) for b in report.graph_breaks] + list(report.events)
        return "eager", "nothing captured by Dynamo" + (f" ({why[0]})" if why else ""), []
    for g in graphs:
        if g.eager_reason:
            r = g.eager_reason
            if r.startswith("compile failed:") and "ImportFailure" not in r:
                return "crash", r, []
            return "eager", f"{g.name}: {r}", []
    fbs = sorted({f"{f.op}: {f.reason}" for f in report.fallbacks} |
                 {f"{op}: {why}" for g in graphs for p, op, why in g.notes if p == "partition"})
    if fbs:
        return "partial", fbs[0], fbs
    if report.graph_breaks:
        return "partial", f"graph break: {report.graph_breaks[0]}", []
    return "native", "", []


def run_sample(op: Any, sample: Any, dtype: torch.dtype, *, strict: bool = False,
               error_regex: str | None = None, error_type: type | None = None) -> _Sample:
    """Runs one sample eagerly and compiled and compares (see the module docstring)."""
    import ember

    fn, tensors = _call_fn(op, sample)
    eager_in = [_clone(t) for t in tensors]
    comp_in = [_clone(t) for t in tensors]
    want_exc: BaseException | None = None
    expected = None
    with torch.no_grad():
        try:
            torch.manual_seed(0)
            expected = fn(*eager_in)
        except Timeout:
            raise
        except Exception as e:  # noqa: BLE001
            want_exc = e
    if error_type is not None and want_exc is None:
        return _Sample(False, "skip", f"eager does not raise {error_type.__name__} here")
    compiled = ember.compile(fn, backend="cpu", strict=strict)
    got_exc: BaseException | None = None
    actual = None
    with torch.no_grad():
        try:
            torch.manual_seed(0)
            actual = compiled(*comp_in)
        except Timeout:
            raise
        except Exception as e:  # noqa: BLE001
            if _timed_out(e):  # wrapped (Dynamo re-raises it as its own error)
                raise Timeout(str(e)) from e
            got_exc = e
    status, reason, fbs = _classify_report(compiled.ember_report)
    if want_exc is not None:
        want = type(want_exc)
        if got_exc is None:
            return _Sample(False, "mismatch", f"eager raised {want.__name__}: "
                           f"{_short(want_exc)}; Ember did not raise", fallbacks=fbs)
        if not _raised(got_exc, want):
            return _Sample(False, "mismatch", f"eager raised {want.__name__}, Ember raised "
                           f"{type(got_exc).__name__}: {_short(got_exc)}", fallbacks=fbs)
        note = ""
        if error_regex and not re.search(error_regex, str(got_exc)):
            note = f"message differs from /{error_regex}/: {_short(got_exc)}"
        return _Sample(True, status if status != "crash" else "eager", reason, note, fbs)
    if got_exc is not None:
        return _Sample(False, "crash", f"{type(got_exc).__name__}: {_short(got_exc)}",
                       fallbacks=fbs)
    if status == "crash":
        return _Sample(False, "crash", reason, fallbacks=fbs)
    if entry_name(op) in UNCOMPARABLE:
        actual, expected = _meta_only(actual), _meta_only(expected)
    try:
        _compare(actual, expected)
        _compare(comp_in, eager_in, "inputs")
    except AssertionError as e:
        note = ""
        looser = LOOSER.get(entry_name(op))
        if looser is not None and looser[0] == dtype:
            try:
                _compare(actual, expected, tol=looser[1:3])
                _compare(comp_in, eager_in, "inputs")
                note = f"within rtol={looser[1]}, atol={looser[2]} (see LOOSER)"
            except AssertionError:
                pass
        if not note and dtype in (torch.float16, torch.bfloat16):
            ref = _float_reference(fn, tensors, expected)
            try:
                if ref is None:
                    raise AssertionError("no float32 reference")
                _compare(actual, ref)
                _compare(comp_in, eager_in, "inputs")
                note = "matched the float32 reference (not eager's rounding)"
            except AssertionError:
                pass
        if not note:
            return _Sample(False, "mismatch", _short(e, 400), fallbacks=fbs)
        return _Sample(True, status, reason, note, fbs)
    return _Sample(True, status, reason, fallbacks=fbs)


def _timed_out(e: BaseException | None) -> bool:
    seen = set()
    while e is not None and id(e) not in seen:
        if isinstance(e, Timeout):
            return True
        seen.add(id(e))
        e = e.__cause__ or e.__context__
    return False


def _short(e: BaseException | str, n: int = 200) -> str:
    s = " ".join(str(e).split())
    return s if len(s) <= n else s[: n - 3] + "..."


# -- one entry --------------------------------------------------------------------------------
def _supports(op: Any, dtype: torch.dtype) -> bool:
    try:
        return dtype in op.supported_dtypes("cpu")
    except Exception:  # noqa: BLE001
        return False


def run_entry(op: Any, dtype_name: str, *, all_samples: bool = False, errors: bool = True,
              timeout: float = 20.0, strict: bool = False) -> Result:
    """Runs one op_db entry for one dtype and classifies it."""
    import torch._dynamo

    dtype = DTYPES[dtype_name]
    name = entry_name(op)
    res = Result(name, dtype_name, "skip")
    if not _supports(op, dtype):
        res.reason = f"op_db: not supported on cpu for {dtype_name}"
        return res
    t0 = time.perf_counter()
    outcomes: list[_Sample] = []
    torch._dynamo.reset()
    try:
        with _time_box(timeout), _seeding_by_caller():
            torch.manual_seed(0)
            samples = op.sample_inputs("cpu", dtype, requires_grad=False)
            for sample in samples:
                out = run_sample(op, sample, dtype, strict=strict)
                torch._dynamo.reset()
                if out.status == "skip":
                    continue
                outcomes.append(out)
                if not all_samples:
                    break
            if errors and op.error_inputs_func is not None and dtype_name == "float32":
                for ei in op.error_inputs("cpu"):
                    out = run_sample(op, ei.sample_input, dtype, strict=strict,
                                     error_type=ei.error_type, error_regex=ei.error_regex)
                    torch._dynamo.reset()
                    if out.status == "skip":
                        continue
                    out.note = ("error input: " + out.note) if out.note else ""
                    if out.ok:  # raised as eager: how it ran does not classify the entry
                        out.status = "skip"
                    else:
                        out.reason = "error input: " + out.reason
                    outcomes.append(out)
                    if not all_samples:
                        break
    except Timeout as e:
        res.status, res.reason = "skip", f"time box: {e}"
        res.seconds = time.perf_counter() - t0
        torch._dynamo.reset()
        return res
    except Exception as e:  # noqa: BLE001  (the sample generator itself failed)
        if not outcomes:
            res.status, res.reason = "skip", f"sample_inputs failed: {_short(e)}"
            res.seconds = time.perf_counter() - t0
            torch._dynamo.reset()
            return res
        res.notes.append(f"stopped early: {type(e).__name__}: {_short(e)}")
    res.seconds = time.perf_counter() - t0
    if not outcomes:
        res.reason = "no sample ran (op_db gives none for this dtype)"
        return res
    res.samples = len(outcomes)
    res.matched = sum(o.ok for o in outcomes)
    worst = max(outcomes, key=lambda o: _RANK[o.status])
    res.status, res.reason = worst.status, worst.reason
    res.fallbacks = sorted({f for o in outcomes for f in o.fallbacks})
    res.notes += sorted({o.note for o in outcomes if o.note})
    return res


def run(ops: list[Any], dtypes: list[str], *, all_samples: bool = False, errors: bool = True,
        timeout: float = 20.0, progress: Callable[[Result], None] | None = None) -> list[Result]:
    """Every (entry, dtype) of ``ops`` x ``dtypes``.

    Logging is quieted while it runs (Ember logs each fallback and eager graph; the
    table says it once per entry) and restored after, as is Dynamo's config.
    """
    import logging

    names = ("ember", "torch._dynamo", "torch._subclasses", "torch.fx")
    levels = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR if n == "ember" else logging.CRITICAL)
    out = []
    try:
        with torch._dynamo.config.patch(suppress_errors=False):
            for dt in dtypes:
                for op in ops:
                    r = run_entry(op, dt, all_samples=all_samples, errors=errors,
                                  timeout=timeout)
                    out.append(r)
                    if progress:
                        progress(r)
    finally:
        for n, level in levels.items():
            logging.getLogger(n).setLevel(level)
    return out


# -- what is missing ---------------------------------------------------------------------------
# The Ember feature each fallback needs, by ATen op name (regular expressions over
# "aten.op.overload", first match wins). Only the frontend can't express these with
# existing Ember ops; each names the IR/kernel feature that would.
MISSING_FEATURES: list[tuple[str, str]] = [
    ("complex dtypes", r"fft|view_as_complex|complex|polar|angle|_conj|view_as_real"),
    ("gathers / indirect loads (index, gather, embedding, take, put, scatter, index_put)",
     r"aten\.(index|_?index_put|index_select|gather|embedding|_embedding_bag|take|put|scatter|"
     r"scatter_add|scatter_reduce|index_add|index_reduce|index_copy|index_fill|masked_scatter|"
     r"masked_select|diagonal_scatter|select_scatter|as_strided_scatter|grid_sampler|"
     r"_upsample|upsample|nonzero|_unsafe_index|segment_reduce)"),
    ("argmax-style reductions (arg/indices results)",
     r"aten\.(argmax|argmin|max\.dim|min\.dim|max_pool|adaptive_max_pool|kthvalue|mode|"
     r"median|nanmedian|_pdist|cummax|cummin|max_pool.*_with_indices)"),
    ("scans (cumulative ops)", r"aten\.(cumsum|cumprod|logcumsumexp|_cumsum)"),
    ("sort / topk / searching", r"aten\.(sort|topk|msort|argsort|searchsorted|bucketize|"
                                r"histc|histogram|_histogramdd|unique|_unique)"),
    ("integer division / modulo / fmod", r"aten\.(remainder|fmod|div\.Tensor_mode|"
                                         r"floor_divide|frexp|ldexp|lcm|gcd)"),
    ("bit-level float ops (signbit, copysign, nextafter)",
     r"aten\.(signbit|copysign|nextafter)"),
    ("special functions (instructions: lgamma, digamma, erfc, erfinv, Bessel, ...)",
     r"aten\.(special_|lgamma|digamma|polygamma|erfc|erfinv|i0|igamma|mvlgamma|sinc|"
     r"asin|acos|atan|asinh|acosh|atanh|atan2)"),
    ("linear algebra (factorizations, solves)",
     r"aten\.(_?linalg|cholesky|triangular_solve|lu_|geqrf|ormqr|_cdist|_linalg)"),
    ("pooling variants (adaptive with unequal windows, integer average pooling)",
     r"aten\.(avg_pool|_adaptive_avg_pool|adaptive_avg_pool)"),
    ("convolution of a kind the library op rejects", r"aten\.convolution"),
    ("arbitrary strides / negative-step views", r"aten\.(as_strided|flip|unfold|roll)"),
    ("training-mode batch norm (running-stat updates)",
     r"aten\.(_native_batch_norm_legit_functional|_batch_norm_with_update)"),
    ("random numbers", r"aten\.(rand|randn|randint|bernoulli|normal|uniform|exponential|"
                       r"cauchy|geometric|log_normal|multinomial|native_dropout|rrelu)"),
    ("uninitialized or uint64 tensors", r"aten\.(empty_permuted|new_empty_strided|empty_strided|"
                                        r"hash_tensor)"),
]


def missing_feature(fallback: str) -> str:
    """The missing feature of one fallback ("aten.op.overload: reason") or eager reason."""
    op = fallback.split(":", 1)[0].strip()
    for feature, pattern in MISSING_FEATURES:
        if re.search(pattern, op) or (op.startswith("graph") and re.search(pattern, fallback)):
            return feature
    if "with_effects" in fallback:
        return "effectful ops (with_effects tokens: linalg error checks)"
    if "nothing captured" in fallback:
        return "not captured by Dynamo (data-dependent, random or Python-level ops)"
    if "complex" in fallback:
        return "complex dtypes"
    return "other: " + op


def features(results: list[Result]) -> dict[str, list[str]]:
    """Missing feature -> the partial/eager entries that need it."""
    out: dict[str, set[str]] = {}
    for r in results:
        if r.status not in ("partial", "eager"):
            continue
        whys = r.fallbacks or [r.reason]
        for f in {missing_feature(w) for w in whys}:
            out.setdefault(f, set()).add(r.name)
    return {k: sorted(v) for k, v in sorted(out.items(), key=lambda kv: (-len(kv[1]), kv[0]))}


# -- the table ---------------------------------------------------------------------------------
def summary(results: list[Result]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for r in results:
        row = table.setdefault(r.dtype, {s: 0 for s in STATUSES} | {"samples": 0, "matched": 0})
        row[r.status] += 1
        row["samples"] += r.samples
        row["matched"] += r.matched
    return table


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


POLICY = """\
## How it is run

Every entry of PyTorch's OpInfo database (`op_db`) and each requested dtype it
supports on the CPU: its samples (`sample_inputs(device="cpu", dtype=...,
requires_grad=False)`; the first one, or all with `--all-samples`) are called
eagerly and through `ember.compile(backend="cpu")` under `torch.no_grad()`, with
`torch._dynamo.reset()` between entries; for float32, the entry's first error
input (`op.error_inputs`) too. Non-tensor arguments are constants of the compiled
function, as in user code; the global RNG is seeded alike before both calls.
op_db's random entries wrap their op in `wrapper_set_seed`, which seeds inside
`freeze_rng_state` (Dynamo cannot trace the RNG state's save and restore and
skipped those frames); the run replaces the wrapper by a plain call, since the
run's own seeding already gives both calls the same random stream.

## Comparison

* `torch.testing.assert_close` with its default per-dtype tolerances,
  `equal_nan=True`, dtypes checked (as PyTorch's Inductor OpInfo test); tuples,
  lists and non-tensor results element by element.
* The inputs after the call are compared too: a wrong mutation is a mismatch.
* One entry has a looser tolerance, with its reason (`LOOSER` in
  `ember/conformance.py`): `nn.functional.scaled_dot_product_attention` in float32
  (atol 5e-5): PyTorch's decomposition is SDPA's math path (Ember is within 1e-6
  of eager under `sdpa_kernel(SDPBackend.MATH)`), while eager's default CPU kernel
  sums in another order. Rows that needed it carry a note.
* float16/bfloat16 are compared with eager in the same dtype (Ember rounds every
  op as eager does). Where that fails, the sample still matches if it is within
  the dtype's tolerances of a float32 reference computed from the upcast inputs
  and cast back (Inductor's `reference_in_float`); such rows carry a note.
* Where eager raises, Ember must raise the same exception type (an exception
  in the `__cause__` chain counts: Dynamo wraps errors raised while tracing).
  For error inputs a different message is a note, not a failure.
* `empty`, `empty_like`, `empty_strided`, `empty_permuted`, `new_empty`,
  `new_empty_strided` return uninitialized memory: shapes and dtypes only.

## Classification (per entry and dtype; the worst over its samples)

* **native**: only Ember kernels and library steps (no fallback node, no graph
  ran eagerly, no graph break).
* **partial**: some ATen ops ran as fallback nodes (the reason is the first
  fallback's), or Dynamo broke the graph.
* **eager**: a whole graph ran eagerly (Ember's import declared it cannot
  represent it: complex dtypes, effect tokens), or Dynamo captured nothing.
* **mismatch**: a result, a mutated input or an exception type differs from eager.
* **crash**: Ember raised where eager did not, or Ember's compile path failed
  other than by declaring the graph unrepresentable.
* **skip**: op_db does not support the dtype on the CPU, it gives no sample
  for it, the sample generator fails, or the entry ran past its time box. (A
  sample on which eager raises is not skipped: Ember must raise alike.)

Mismatches and crashes are bugs: `tests/conformance/test_opinfo.py` fails on any
that is not listed with a reason in `tests/conformance/known_gaps.py`, and on a
listed entry that passes.
"""


def markdown(results: list[Result], command: str) -> str:
    lines = ["# OpInfo conformance", "",
             f"Generated by `{command}` (torch {torch.__version__}); "
             "see `ember/conformance.py`.", "", POLICY, "## Results", "",
             "| dtype | entries | native | partial | eager | mismatch | crash | skip | "
             "samples matched |", "|---|---|---|---|---|---|---|---|---|"]
    for dt, row in summary(results).items():
        n = sum(row[s] for s in STATUSES)
        lines.append(f"| {dt} | {n} | " + " | ".join(str(row[s]) for s in STATUSES)
                     + f" | {row['matched']}/{row['samples']} |")
    feats = features([r for r in results if r.dtype == "float32"] or results)
    lines += ["", "## Missing features (partial and eager entries, by what they need)", "",
              "| missing feature | entries | the entries |", "|---|---|---|"]
    for feat, names in feats.items():
        lines.append(f"| {_cell(feat)} | {len(names)} | "
                     + ", ".join(f"`{n}`" for n in names) + " |")
    lines += ["", "## Entries", "", "| entry | dtype | status | samples matched | reason |",
              "|---|---|---|---|---|"]
    for r in sorted(results, key=lambda r: (r.dtype, r.name)):
        why = r.reason + (f" ({'; '.join(r.notes)})" if r.notes else "")
        lines.append(f"| `{r.name}` | {r.dtype} | {r.status} | {r.matched}/{r.samples} | "
                     f"{_cell(_short(why, 300))} |")
    return "\n".join(lines) + "\n"


_ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| (?P<dtype>\w+) \| (?P<status>\w+) \| "
                  r"(?P<matched>\d+)/(?P<samples>\d+) \| (?P<reason>.*) \|$")


def update_markdown(old: str, new: list[Result], command: str) -> str:
    """``old`` (a table :func:`markdown` wrote) with the rows of ``new`` replacing
    those of the same entry and dtype; the summary and the missing-feature table
    are recomputed from the rows, and a line naming ``command`` joins the
    preamble. (A row's notes are part of its reason text; the first fallback's
    reason stands for its fallbacks.)"""
    head, sep, _ = old.partition("\n## How it is run")
    if not sep:
        raise ValueError("not a conformance table written by `ember conformance --out`")
    rows: dict[tuple[str, str], Result] = {}
    for line in old.splitlines():
        m = _ROW.match(line)
        if m:
            reason = m["reason"].replace("\\|", "|")
            rows[(m["name"], m["dtype"])] = Result(
                m["name"], m["dtype"], m["status"], reason, int(m["samples"]),
                int(m["matched"]))
    if not rows:
        raise ValueError("the table has no entry rows")
    for r in new:
        rows[(r.name, r.dtype)] = r
    order = {d: i for i, d in enumerate(DTYPES)}
    results = sorted(rows.values(), key=lambda r: (order.get(r.dtype, len(order)), r.name))
    text = markdown(results, "")
    body = text[text.index("## How it is run"):]
    note = (f"The rows of {len(new)} (entry, dtype) pairs were rerun with `{command}`; the "
            "results table and the missing-feature table are recomputed from the rows.")
    return head.rstrip("\n") + "\n\n" + note + "\n\n" + body


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="ember conformance",
                                description="OpInfo conformance of Ember against eager")
    p.add_argument("--ops", default=None, help="entry name substrings, comma-separated")
    p.add_argument("--dtypes", default="float32",
                   help=f"comma-separated, of {', '.join(DTYPES)}")
    p.add_argument("--all-samples", action="store_true")
    p.add_argument("--no-errors", action="store_true", help="skip op.error_inputs")
    p.add_argument("--timeout", type=float, default=20.0, help="seconds per entry and dtype")
    p.add_argument("--out", default=None, help="write the markdown table here")
    p.add_argument("--json", default=None, help="write every result as JSON here")
    p.add_argument("--update", default=None, metavar="FILE",
                   help="rewrite this table (written by --out) with the rows of the entries "
                        "run now replaced; summaries recomputed")
    p.add_argument("-v", "--verbose", action="store_true", help="one line per entry")
    args = p.parse_args(argv)
    dts = [d for d in args.dtypes.split(",") if d]
    bad = [d for d in dts if d not in DTYPES]
    if bad:
        p.error(f"unknown dtypes {bad}; choose from {', '.join(DTYPES)}")
    ops = select(args.ops)
    if not ops:
        p.error(f"no op_db entry matches {args.ops!r}")

    def progress(r: Result) -> None:
        if args.verbose or r.status in ("mismatch", "crash"):
            print(f"{r.status:8s} {r.dtype:8s} {r.name}: {_short(r.reason, 160)}",
                  file=sys.stderr, flush=True)

    results = run(ops, dts, all_samples=args.all_samples, errors=not args.no_errors,
                  timeout=args.timeout, progress=progress)
    for dt, row in summary(results).items():
        print(f"{dt}: " + ", ".join(f"{s} {row[s]}" for s in STATUSES)
              + f"; samples matched {row['matched']}/{row['samples']}")
    if args.json:
        import dataclasses
        import json

        with open(args.json, "w", encoding="utf-8") as f:
            json.dump([dataclasses.asdict(r) for r in results], f, indent=1)
    cmd = "ember conformance " + " ".join(argv if argv is not None else sys.argv[1:])
    if args.update:
        with open(args.update, encoding="utf-8") as f:
            old = f.read()
        with open(args.update, "w", encoding="utf-8") as f:
            f.write(update_markdown(old, results, cmd.strip()))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            f.write(markdown(results, cmd.strip()))
    return 0
