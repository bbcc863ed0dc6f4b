"""ember bench: eager vs Ember vs Inductor (torch.compile) on the CPU, in one process.

    python bench/run.py                     # the suite, with Inductor (also: ember bench)
    python bench/run.py --models            # and GPT-2/BERT/Llama from transformers configs
    python bench/run.py --cases softmax,rms --reps 20 --profile
    python bench/run.py --no-inductor       # skip Inductor (its C++ compile is slow)
    make bench                              # the suite and the models (installs the extras)

Each case is checked against eager (allclose, tolerances per case) before it is
timed; a wrong result, an error, or an Ember graph that ran eagerly is shown in
the table and makes the exit code 1. Times are medians of ``--reps`` samples
after warm-up, eager/Ember/Inductor sampled in rotating rounds on the same
inputs (see bench/measure.py). "cold" is the first call of a fresh function
(capture + compile + run) in a process that has already compiled something
else; Ember's in-memory kernel cache and Dynamo's caches are reset per case,
and Inductor runs with a fresh on-disk cache and its FX-graph cache off.
"""

from __future__ import annotations

import os
import sys
import tempfile

# Before torch._inductor is imported: its compile workers would disturb timings, and
# caches from earlier runs would make its "cold" compile warm.
os.environ["TORCHINDUCTOR_COMPILE_THREADS"] = "1"
os.environ["TORCHINDUCTOR_FX_GRAPH_CACHE"] = "0"
os.environ["TORCHINDUCTOR_AUTOGRAD_CACHE"] = "0"

# `python bench/run.py` puts bench/ first on sys.path; this checkout's ember must win
# over any installed one.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if sys.path[0] != _ROOT:
    sys.path.insert(0, _ROOT)

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
from typing import Any, Callable  # noqa: E402

import torch  # noqa: E402

import ember  # noqa: E402
import ember.compiler  # noqa: E402
from bench import cases as bench_cases  # noqa: E402
from bench import measure, report  # noqa: E402

DEFAULT_DIR = os.path.join(_ROOT, "bench", "results")
SCHEMA = "ember-bench/1"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="ember bench", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default="",
                   help="only cases whose name contains one of these comma-separated substrings")
    p.add_argument("--reps", type=int, default=30, help="timed samples per case and mode "
                   "(median; at least 20 for figures; default 30)")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls before timing")
    p.add_argument("--no-inductor", action="store_true", help="skip torch.compile/Inductor")
    p.add_argument("--models", action="store_true",
                   help="also GPT-2, BERT and Llama (transformers, random weights)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads (default: torch's default)")
    p.add_argument("--profile", action="store_true",
                   help="print per-call overhead split and per-step time/bytes/GB/s")
    p.add_argument("--json", default=os.path.join(DEFAULT_DIR, "bench.json"),
                   help="result file (default bench/results/bench.json; '' for none)")
    p.add_argument("--png", default=os.path.join(DEFAULT_DIR, "bench.png"),
                   help="chart (default bench/results/bench.png; '' for none)")
    p.add_argument("--copy-mb", type=int, default=256, help="size of the bandwidth copy (MiB)")
    p.add_argument("--tiny", action="store_true",
                   help="shrink every case (tests the instrument; not for figures)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dynamic", action="store_true",
                   help="static vs symbolic-size kernels, and a sequence-length sweep "
                   "(bench/dynamic.py)")
    p.add_argument("--sweep", type=int, default=512,
                   help="--dynamic: sequence lengths 1..N of the sweep (default 512)")
    p.add_argument("--list", action="store_true", help="list the selected cases and exit")
    p.add_argument("--malloc-default", action="store_true",
                   help="leave glibc's malloc thresholds moving (by default they are fixed "
                        "so that page faults of fresh outputs do not land at random: "
                        "bench/measure.py pin_malloc)")
    return p.parse_args(argv)


# -- progress ---------------------------------------------------------------------------
class Progress:
    """A tqdm bar on stderr when available (and stderr is a terminal), else plain lines."""

    def __init__(self, total: int) -> None:
        try:
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=sys.stderr, unit="step", dynamic_ncols=True,
                            disable=None, leave=False)
        except ImportError:
            self.bar = None

    def phase(self, text: str) -> None:
        if self.bar is not None and not self.bar.disable:
            self.bar.set_description_str(text[:48])
        else:
            print(f"  {text}", file=sys.stderr, flush=True)

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# -- one case ---------------------------------------------------------------------------
def _first_call(fn: Callable, inputs: tuple) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*inputs)
    return out, (time.perf_counter() - t0) * 1e3


def _error(e: BaseException) -> dict:
    return {"status": "error", "detail": f"{type(e).__name__}: {e}"[:500], "timing": None,
            "gbps": None}


def _compile_ember(fn: Any, inputs: tuple, ref: Any,
                   case: bench_cases.Case) -> tuple[dict, Any, measure.GraphCalls]:
    em = ember.compile(measure.fresh(fn))
    with measure.record_graph_inputs() as seen:
        out, first_ms = _first_call(em, inputs)
    check = measure.compare(out, ref, case.rtol, case.atol)
    rep = em.ember_report
    eager = [f"{g.name}: {g.eager_reason}" for g in rep.graphs if g.eager_reason]
    status = "ok" if check.ok else "mismatch"
    detail = check.detail
    if check.ok and eager:
        status, detail = "eager", "; ".join(eager)[:500]
    res = {"status": status, "detail": detail, "max_abs_err": check.max_abs_err,
           "first_call_ms": first_ms,
           "compile_ms": sum(g.compile_seconds for g in rep.graphs) * 1e3,
           "graphs": len(rep.graphs), "graph_breaks": len(rep.graph_breaks),
           "kernels": len(rep.kernels), "fallbacks": [f.op for f in rep.fallbacks],
           "eager_graphs": eager}
    return res, em, seen


def _compile_inductor(fn: Any, inputs: tuple, ref: Any, case: bench_cases.Case) -> tuple[dict,
                                                                                         Any]:
    ind = torch.compile(measure.fresh(fn), backend="inductor", dynamic=False)
    out, first_ms = _first_call(ind, inputs)
    check = measure.compare(out, ref, case.rtol, case.atol)
    return ({"status": "ok" if check.ok else "mismatch", "detail": check.detail,
             "max_abs_err": check.max_abs_err, "first_call_ms": first_ms}, ind)


def run_case(case: bench_cases.Case, args: argparse.Namespace, progress: Progress) -> dict:
    torch.manual_seed(args.seed)
    fn, inputs = case.make()
    ref = fn(*inputs)
    ideal = measure.nbytes(inputs) + measure.nbytes(ref)
    res: dict[str, Any] = {"name": case.name, "group": case.group,
                           "memory_bound": case.memory_bound, "rtol": case.rtol,
                           "atol": case.atol, "bytes": ideal,
                           "inputs": [list(t.shape) for t in measure.flat_tensors(list(inputs))]}
    # Fresh caches per case: Dynamo's (every code object), Ember's kernel cache.
    torch._dynamo.reset()
    ember.compiler.clear_cache()
    callables: dict[str, Callable[[], Any]] = {"eager": lambda: fn(*inputs)}
    progress.phase(f"{case.name}: Ember compile")
    em, seen = None, measure.GraphCalls()
    try:
        res["ember"], em, seen = _compile_ember(fn, inputs, ref, case)
        if res["ember"]["status"] != "mismatch":
            callables["ember"] = lambda: em(*inputs)
    except Exception as e:  # noqa: BLE001  (a broken case is reported, the rest still run)
        res["ember"] = _error(e)
        traceback.print_exc(file=sys.stderr)
    progress.update()
    res["inductor"] = None
    if not args.no_inductor:
        progress.phase(f"{case.name}: Inductor compile")
        try:
            res["inductor"], ind = _compile_inductor(fn, inputs, ref, case)
            if res["inductor"]["status"] == "ok":
                callables["inductor"] = lambda: ind(*inputs)
        except Exception as e:  # noqa: BLE001
            res["inductor"] = _error(e)
            traceback.print_exc(file=sys.stderr)
    progress.update()
    progress.phase(f"{case.name}: timing")
    from ember.runtime import diskcache

    diskcache.flush_all()  # the disk cache's background writes (a link) end before timing
    timings = measure.time_interleaved(callables, args.reps, args.warmup,
                                       tick=progress.update)
    res["eager"] = {"status": "ok"}
    for mode in ("eager", "ember", "inductor"):
        m = res[mode]
        if m is None:
            continue
        t = timings.get(mode)
        m["timing"] = t.as_dict() if t else None
        m["gbps"] = ideal / (t.median_ms * 1e-3) / 1e9 if t and case.memory_bound else None
    te = timings["eager"].median_ms
    tm = timings["ember"].median_ms if "ember" in timings else None
    ti = timings["inductor"].median_ms if "inductor" in timings else None
    res["speedup"] = {"ember": te / tm if tm else None, "inductor": te / ti if ti else None,
                      "ember_vs_inductor": ti / tm if tm and ti else None}
    progress.phase(f"{case.name}: Ember profile")
    if em is not None and "ember" in timings:
        try:
            split, graphs = measure.profile_graphs(callables["ember"], em.ember_report, seen,
                                                   args.reps)
            res["ember"]["profile"] = {
                "graphs": [{"graph": g.graph, "calls": g.calls, "exec_ms": g.exec_ms,
                            "steps": g.steps} for g in graphs],
                "split": split}
        except Exception as e:  # noqa: BLE001  (the timings stand without the profile)
            res["ember"]["profile"] = None
            res["ember"]["profile_error"] = f"{type(e).__name__}: {e}"
    progress.update()
    return res


def _broken_case(case: bench_cases.Case, e: BaseException) -> dict:
    """A case that failed outside the compilers (inputs, eager reference, timing)."""
    err = _error(e)
    return {"name": case.name, "group": case.group, "memory_bound": case.memory_bound,
            "rtol": case.rtol, "atol": case.atol, "bytes": None, "inputs": [],
            "eager": dict(err), "ember": dict(err), "inductor": None,
            "speedup": {"ember": None, "inductor": None, "ember_vs_inductor": None}}


# -- the run ----------------------------------------------------------------------------
def _git(*cmd: str) -> str | None:
    try:
        return subprocess.run(["git", *cmd], cwd=_ROOT, capture_output=True, text=True,
                              timeout=10).stdout.strip() or None
    except Exception:  # noqa: BLE001
        return None


def _meta(args: argparse.Namespace) -> dict:
    return {"schema": SCHEMA,
            "time_utc": datetime.datetime.now(datetime.timezone.utc).strftime(
                "%Y-%m-%d %H:%M:%S UTC"),
            "argv": sys.argv[1:], "threads": torch.get_num_threads(), "reps": args.reps,
            "warmup": args.warmup, "inductor": not args.no_inductor, "tiny": args.tiny,
            "torch": torch.__version__, "python": platform.python_version(),
            "ember": getattr(ember, "__version__", "?"), "ember_path": os.path.dirname(
                ember.__file__),
            "git_commit": _git("rev-parse", "--short", "HEAD"),
            "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
            "machine": platform.machine(), "cpu": _cpu_name(), "cpus": os.cpu_count(),
            "loadavg_start": _loadavg(),
            # What else steers the compilers: Ember's options, Inductor's and OpenMP's.
            "env": {k: v for k, v in sorted(os.environ.items())
                    if k.startswith(("EMBER_", "TORCHINDUCTOR_", "OMP_", "MKL_"))
                    and k != "TORCHINDUCTOR_CACHE_DIR"}}


def _cpu_name() -> str | None:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _warm_process(args: argparse.Namespace) -> dict:
    """Compile something else first, so each case's cold compile excludes process start-up."""

    def warm(x):
        return (x * 2.0).sin() + 1.0

    x = torch.randn(1024)
    out = {}
    _, out["ember_ms"] = _first_call(ember.compile(measure.fresh(warm)), (x,))
    if not args.no_inductor:
        _, out["inductor_ms"] = _first_call(
            torch.compile(measure.fresh(warm), backend="inductor", dynamic=False), (x,))
    return out


def select_cases(args: argparse.Namespace, extra: list | None = None) -> tuple[list, list[str]]:
    notes = []
    todo = list(bench_cases.suite(args.tiny))
    if args.models:
        why = bench_cases.transformers_available()
        if why is None:
            todo += bench_cases.models(args.tiny)
        else:
            notes.append(f"--models skipped: transformers is not installed ({why}); "
                         "pip install -e '.[bench]'")
    todo += list(extra or [])
    if args.cases:
        subs = [s.strip().lower() for s in args.cases.split(",") if s.strip()]
        todo = [c for c in todo if any(s in c.name.lower() for s in subs)]
    return todo, notes


def main(argv: list[str] | None = None, extra_cases: list | None = None) -> int:
    """Runs the bench; returns the exit code (1 on any wrong result, error or eager graph).

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).
        extra_cases: more :class:`bench.cases.Case` objects (the tests inject some).
    """
    # Ember's disk cache in a fresh folder for the run (as Inductor's below), so
    # "cold" is a real compile (bench/warm_start.py measures warm starts).
    cache = tempfile.mkdtemp(prefix="ember-bench-cache-")
    old = os.environ.get("EMBER_CACHE_DIR")
    os.environ["EMBER_CACHE_DIR"] = cache
    try:
        return _main(argv, extra_cases)
    finally:
        from ember.runtime import diskcache

        diskcache.flush_all()
        if old is None:
            os.environ.pop("EMBER_CACHE_DIR", None)
        else:
            os.environ["EMBER_CACHE_DIR"] = old
        shutil.rmtree(cache, ignore_errors=True)


def _main(argv: list[str] | None, extra_cases: list | None) -> int:
    args = parse_args(argv)
    if args.reps < 1 or args.warmup < 0:
        print("--reps must be >= 1 and --warmup >= 0", file=sys.stderr)
        return 2
    if args.threads:
        torch.set_num_threads(args.threads)
    malloc = None if args.malloc_default else measure.pin_malloc()
    if args.dynamic:
        from bench import dynamic

        doc = {"meta": _meta(args), "dynamic": dynamic.main(args)}
        if args.json:
            path = args.json.replace("bench.json", "bench-dynamic.json")
            report.write_json(path, doc)
            print(f"\njson: {os.path.relpath(path)}")
        bad = [r for r in doc["dynamic"]["speed"] if not r["symbolic_native"]]
        return 1 if bad or doc["dynamic"]["sweep"]["fallbacks"] else 0
    if not args.no_inductor:
        import torch._inductor.config as inductor_config

        import torch._functorch.config as functorch_config

        # Again here: under `ember bench`, ember (and so Inductor's config) is imported
        # before this file sets the environment.
        inductor_config.compile_threads = 1
        inductor_config.fx_graph_cache = False
        functorch_config.enable_autograd_cache = False
    todo, notes = select_cases(args, extra_cases)
    for n in notes:
        print(n, file=sys.stderr)
    if not todo:
        print(f"no case matches --cases {args.cases!r}", file=sys.stderr)
        return 2
    if args.list:
        for c in todo:
            print(f"{c.name:32s} {c.group:6s} rtol={c.rtol:g} atol={c.atol:g}"
                  + ("  memory-bound" if c.memory_bound else ""))
        return 0
    doc: dict[str, Any] = {"meta": _meta(args)}
    doc["meta"]["malloc"] = malloc or "malloc: default"
    # A fresh Inductor cache per run (Inductor reads the variable whenever it looks).
    cache_dir = tempfile.mkdtemp(prefix="ember-bench-inductor-")
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = cache_dir
    progress = Progress(total=len(todo) * (args.reps + 3))
    try:
        with torch.inference_mode():
            progress.phase("copy bandwidth")
            doc["copy_bandwidth"] = measure.copy_bandwidth(args.copy_mb)
            progress.phase("process warm-up compile")
            doc["meta"]["process_first_compile_ms"] = _warm_process(args)
            doc["cases"] = []
            for case in todo:
                try:
                    doc["cases"].append(run_case(case, args, progress))
                except Exception as e:  # noqa: BLE001  (building or running eagerly failed)
                    traceback.print_exc(file=sys.stderr)
                    doc["cases"].append(_broken_case(case, e))
            progress.phase("copy bandwidth (end)")
            end = measure.copy_bandwidth(args.copy_mb)
    finally:
        progress.close()
        shutil.rmtree(cache_dir, ignore_errors=True)
    doc["copy_bandwidth"]["gbps_end"] = end["gbps"]
    doc["copy_bandwidth"]["clone_gbps_end"] = end["clone_gbps"]
    doc["meta"]["loadavg_end"] = _loadavg()
    doc["summary"] = report.summarize(doc)
    print(report.format_table(doc))
    print()
    print(report.format_summary(doc))
    if args.profile:
        for c in doc["cases"]:
            print()
            print(report.format_profile(c, doc["copy_bandwidth"]["gbps"]))
    if args.json:
        report.write_json(args.json, doc)
        print(f"\njson: {os.path.relpath(args.json)}")
    if args.png:
        why = report.write_png(args.png, doc)
        print(why or f"png: {os.path.relpath(args.png)}")
    return 1 if doc["summary"]["problems"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
