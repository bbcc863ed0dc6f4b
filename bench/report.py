"""What the bench shows: the table, the summary, the --profile detail, JSON and PNG.

Everything here reads the JSON-ready result document that bench/run.py builds
(schema ``ember-bench/1``, described in docs/status.md), so a saved JSON file can
be re-rendered without re-measuring.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any

LARGE_BYTES = 64 * 1024 * 1024  # "memory-bound kernels on tensors >= 64 MB"
NOISY_IQR = 20.0  # % of the median: a case this spread is not a figure to quote
MODES = ("eager", "ember", "inductor")


def geomean(xs: list[float]) -> float | None:
    xs = [x for x in xs if x and x > 0 and math.isfinite(x)]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def _ok(m: dict | None) -> bool:
    return bool(m) and m.get("status") == "ok" and m.get("timing") is not None


# -- summary ----------------------------------------------------------------------------
def summarize(doc: dict) -> dict:
    """Per group: geomean speedups, the worst case, cold compile; and the large kernels."""
    copy = doc["copy_bandwidth"]["gbps"]
    groups: dict[str, Any] = {}
    for group in dict.fromkeys(c["group"] for c in doc["cases"]):
        cases = [c for c in doc["cases"] if c["group"] == group]
        em = [(c["name"], c["speedup"]["ember"]) for c in cases if _ok(c["ember"])]
        ind = [(c["name"], c["speedup"]["inductor"]) for c in cases
               if _ok(c.get("inductor"))]
        evi = [(c["name"], c["speedup"]["ember_vs_inductor"]) for c in cases
               if _ok(c["ember"]) and _ok(c.get("inductor"))]
        cold = [(c["ember"]["first_call_ms"], c["inductor"]["first_call_ms"]) for c in cases
                if c["ember"].get("first_call_ms") and (c.get("inductor") or {}).get(
                    "first_call_ms")]
        groups[group] = {
            "cases": len(cases),
            "geomean_ember_vs_eager": geomean([s for _, s in em]),
            "geomean_inductor_vs_eager": geomean([s for _, s in ind]),
            "geomean_ember_vs_inductor": geomean([s for _, s in evi]),
            "worst_ember_vs_eager": min(em, key=lambda x: x[1]) if em else None,
            "worst_ember_vs_inductor": min(evi, key=lambda x: x[1]) if evi else None,
            "cold_compile_ms_geomean": {
                "ember": geomean([c["ember"]["first_call_ms"] for c in cases
                                  if c["ember"].get("first_call_ms")]),
                "inductor": geomean([a for _, a in cold]) if cold else None,
                "ember_vs_inductor": geomean([b / a for a, b in cold]) if cold else None},
        }
    large = []
    for c in doc["cases"]:
        for g in ((c["ember"].get("profile") or {}).get("graphs") or []):
            for s in g["steps"]:
                if s["kind"] == "kernel" and (s["bytes"] or 0) >= LARGE_BYTES and s["gbps"]:
                    large.append({"case": c["name"], "kernel": s["name"], "bytes": s["bytes"],
                                  "gbps": s["gbps"], "pct_copy": 100 * s["gbps"] / copy})
    pcts = sorted(k["pct_copy"] for k in large)
    bad = [f"{c['name']}: {m} {c[m]['status']}" + (f" ({c[m]['detail']})" if c[m].get(
        "detail") else "") for c in doc["cases"] for m in ("ember", "inductor")
        if c.get(m) and c[m]["status"] not in ("ok",)]
    noisy = [c["name"] for c in doc["cases"] if (_spread(c) or 0) > NOISY_IQR]
    return {"groups": groups, "large_kernels": large, "noisy_cases": noisy,
            "large_kernels_pct_copy": {"n": len(pcts), "min": pcts[0] if pcts else None,
                                       "median": pcts[len(pcts) // 2] if pcts else None},
            "problems": bad}


# -- terminal -------------------------------------------------------------------------
def _f(x: float | None, fmt: str, width: int) -> str:
    return f"{'-' if x is None else format(x, fmt):>{width}s}"


def _ms(m: dict | None) -> float | None:
    return m["timing"]["median_ms"] if _ok(m) else None


def _status(m: dict | None) -> str:
    if m is None:
        return "-"
    return {"ok": "ok", "mismatch": "WRONG", "error": "ERROR", "eager": "EAGER"}.get(
        m["status"], m["status"])


def _spread(c: dict) -> float | None:
    """The widest interquartile range of the case's timed modes, in % of its median."""
    iqr = [100 * (m["timing"]["p75_ms"] - m["timing"]["p25_ms"]) / m["timing"]["median_ms"]
           for m in (c.get(k) for k in MODES) if m and m.get("timing")]
    return max(iqr) if iqr else None


def format_table(doc: dict) -> str:
    meta = doc["meta"]
    cb = doc["copy_bandwidth"]
    load = meta.get("loadavg_start")
    lines = [f"ember bench: threads={meta['threads']}  reps={meta['reps']} (median; "
             f"warm-up {meta['warmup']})  torch {meta['torch']}  {meta['time_utc']}"
             + (f"  load average {load[0]:.1f}" if load else ""),
             f"{meta.get('malloc') or 'malloc: default'}",
             f"copy bandwidth: {cb['gbps']:.1f} GB/s ({cb['mbytes']} MiB copy, "
             f"threads={cb['threads']}; best {cb['gbps_best']:.1f}; into a fresh tensor "
             f"(clone) {_f(cb.get('clone_gbps'), '.1f', 0)})",
             "times: median ms per call; x = speedup over eager (>1 faster); "
             "em/ind > 1: Ember faster than Inductor; cold = first call of a fresh function;",
             "iqr% = widest interquartile range of the case's samples (noise); GB/s = (bytes "
             "read + written) / time, memory-bound cases"]
    if meta["reps"] < 20:
        lines.append(f"NOTE: reps={meta['reps']} < 20: for developing, not for figures")
    head = (f"{'case':30s} {'check':>11s} {'kern':>4s} {'eager':>9s} {'ember':>9s} "
            f"{'inductor':>9s} {'ember x':>7s} {'ind x':>6s} {'em/ind':>6s} "
            f"{'cold em':>8s} {'cold ind':>8s} {'iqr%':>5s}  GB/s eager/ember/ind")
    lines += [head, "-" * len(head)]
    for c in doc["cases"]:
        em, ind = c["ember"], c.get("inductor")
        check = _status(em) + ("/" + _status(ind) if ind is not None else "")
        sp = c["speedup"]
        gb = ""
        if c["memory_bound"]:
            gb = " / ".join("-" if c[m] is None or c[m].get("gbps") is None
                            else f"{c[m]['gbps']:.1f}" for m in MODES)
        lines.append(
            f"{c['name'][:30]:30s} {check:>11s} {em.get('kernels', 0):4d} "
            f"{_f(_ms(c['eager']), '.3f', 9)} {_f(_ms(em), '.3f', 9)} {_f(_ms(ind), '.3f', 9)} "
            f"{_f(sp['ember'], '.2f', 7)} {_f(sp['inductor'], '.2f', 6)} "
            f"{_f(sp['ember_vs_inductor'], '.2f', 6)} "
            f"{_f(em.get('first_call_ms'), '.0f', 6)}ms "
            f"{_f((ind or {}).get('first_call_ms'), '.0f', 6)}ms {_f(_spread(c), '.0f', 5)}  {gb}")
    return "\n".join(lines)


def format_summary(doc: dict) -> str:
    s = doc["summary"]
    cb = doc["copy_bandwidth"]
    lines = []
    for group, g in s["groups"].items():
        def gm(x):
            return "-" if x is None else f"{x:.2f}x"
        lines.append(f"[{group}] geomean speedup over eager: "
                     f"Ember {gm(g['geomean_ember_vs_eager'])}, "
                     f"Inductor {gm(g['geomean_inductor_vs_eager'])}; "
                     f"Ember vs Inductor {gm(g['geomean_ember_vs_inductor'])}")
        if g["worst_ember_vs_eager"]:
            name, x = g["worst_ember_vs_eager"]
            w = f"[{group}] worst case: Ember {x:.2f}x eager ({name})"
            if g["worst_ember_vs_inductor"]:
                name, x = g["worst_ember_vs_inductor"]
                w += f"; Ember {x:.2f}x Inductor ({name})"
            lines.append(w)
        cc = g["cold_compile_ms_geomean"]
        if cc["ember"]:
            t = f"[{group}] cold compile (first call, geomean): Ember {cc['ember']:.0f} ms"
            if cc["inductor"]:
                t += (f", Inductor {cc['inductor']:.0f} ms (Inductor/Ember "
                      f"{cc['ember_vs_inductor']:.2f}x)")
            lines.append(t)
    lk = s["large_kernels_pct_copy"]
    lines.append(f"copy bandwidth: {cb['gbps']:.1f} GB/s (threads={cb['threads']}; into a fresh "
                 f"tensor {_f(cb.get('clone_gbps'), '.1f', 0)}); Ember kernels "
                 f"moving >= 64 MiB: {lk['n']}" + (
                     f", {lk['min']:.0f}% (min) / {lk['median']:.0f}% (median) of copy"
                     if lk["n"] else ""))
    if s.get("noisy_cases"):
        lines.append(f"NOISY: {len(s['noisy_cases'])} of {len(doc['cases'])} cases have an "
                     f"interquartile range over {NOISY_IQR:.0f}% of the median (machine load?): "
                     + ", ".join(s["noisy_cases"]))
    for p in s["problems"]:
        lines.append(f"PROBLEM {p}")
    return "\n".join(lines)


def format_profile(case: dict, copy_gbps: float) -> str:
    """Per-call overhead split, then every step by time (slowest first) with bytes and GB/s."""
    em = case["ember"]
    prof = em.get("profile")
    if not prof:
        return f"== {case['name']}: no Ember profile ({em['status']})"
    sp = prof["split"]
    call = sp["call"] or float("nan")

    def parts(d: dict) -> str:
        return ", ".join(f"{label} {d[k] * 1e3:.0f} us ({100 * d[k] / call:.0f}%)" for k, label in
                         (("guards_wrappers", "Dynamo guards+wrappers"), ("executor", "executor"),
                          ("kernels", "kernels"), ("library", "library (matmul)"),
                          ("other_steps", "views/fallbacks")))

    lines = [f"== {case['name']}: Ember call {call * 1e3:.0f} us (median) = " + parts(sp)]
    best = sp.get("best")
    if best and any(sp[k] < -0.02 * call for k in ("guards_wrappers", "executor")):
        lines.append(f"   (noisy: the medians disagree; the quickest round: call "
                     f"{best['call'] * 1e3:.0f} us = {parts(best)})")
    # Views are many and mostly free: one line for those under 1% of the call (a reshape
    # that has to copy shows on its own).
    def small_view(s: dict) -> bool:
        return s["kind"] == "view" and s["ms"] < 0.01 * call

    steps = [(g["graph"], s) for g in prof["graphs"] for s in g["steps"] if not small_view(s)]
    views = [s for g in prof["graphs"] for s in g["steps"] if small_view(s)]
    if views:
        steps.append(("*", {"kind": "view", "name": f"{len(views)} views under 1% each",
                            "ms": sum(s["ms"] for s in views), "bytes": None, "gbps": None}))
    steps.sort(key=lambda gs: -gs[1]["ms"])
    lines.append(f"   {'graph':7s} {'kind':8s} {'step':44s} {'ms':>8s} {'%call':>6s} "
                 f"{'MB':>8s} {'GB/s':>7s} {'%copy':>6s}   (MB read + written; %copy of "
                 f"{copy_gbps:.1f} GB/s)")
    for graph, s in steps:
        b, gbps = s["bytes"], s["gbps"]
        lines.append(
            f"   {graph:7s} {s['kind']:8s} {s['name'][:44]:44s} {s['ms']:8.3f} "
            f"{100 * s['ms'] / call:6.1f} {_f(b / 1e6 if b else None, '.2f', 8)} "
            f"{_f(gbps, '.1f', 7)} {_f(100 * gbps / copy_gbps if gbps else None, '.0f', 6)}")
    return "\n".join(lines)


# -- files ------------------------------------------------------------------------------
def write_json(path: str, doc: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(_clean(doc), f, indent=1, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)


def _clean(x: Any) -> Any:
    """JSON-safe: non-finite floats become null, tuples lists, other objects strings."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if x is None or isinstance(x, (bool, int, str)):
        return x
    return str(x)


def write_png(path: str, doc: dict) -> str | None:
    """Speedup over eager per case, Ember and Inductor side by side (log scale).

    Returns None when written, else why not (matplotlib missing).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except Exception as e:  # noqa: BLE001
        return f"no PNG: matplotlib unavailable ({type(e).__name__}: {e})"
    cases = doc["cases"]
    names = [c["name"] for c in cases]
    with_ind = any(c.get("inductor") for c in cases)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(cases) + 2), 4.8))
    width = 0.38 if with_ind else 0.6
    xs = list(range(len(cases)))
    series = [("ember", "Ember", "#d9531e")] + ([("inductor", "Inductor", "#4a7ebb")]
                                              if with_ind else [])
    for k, (mode, label, color) in enumerate(series):
        off = (k - (len(series) - 1) / 2) * width
        vals = [c["speedup"][mode] for c in cases]
        # Bars grow from 1x, up when faster than eager and down when slower.
        bars = ax.bar([x + off for x in xs], [(v - 1.0) if v else 0.0 for v in vals], width,
                      bottom=1.0, label=label, color=color)
        for bar, v, c in zip(bars, vals, cases):
            m = c.get(mode) or {}
            text = (f"{v:.2f}" if v >= 0.1 else f"{v:.2g}") if v else ""
            if m.get("status") not in (None, "ok"):
                text = m["status"].upper()
                bar.set_hatch("//")
                bar.set_edgecolor("red")
            if text:
                ax.annotate(text, (bar.get_x() + bar.get_width() / 2, v or 1.0),
                            ha="center", va="bottom" if (v or 1.0) >= 1 else "top", fontsize=7,
                            color="red" if m.get("status") != "ok" else "black")
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_yscale("log", base=2)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
        lambda y, _: f"{y:.3g}x"))
    lo = min([v for c in cases for v in (c["speedup"]["ember"], c["speedup"]["inductor"]) if v]
             + [1.0])
    hi = max([v for c in cases for v in (c["speedup"]["ember"], c["speedup"]["inductor"]) if v]
             + [1.0])
    ax.set_ylim(lo / 1.6, hi * 1.6)
    ax.set_xticks(xs)
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("speedup over eager (log scale; >1 faster)")
    meta = doc["meta"]
    gm = []
    for group, g in doc["summary"]["groups"].items():
        parts = [f"{lab} {g[k]:.2f}x" for lab, k in (("Ember", "geomean_ember_vs_eager"),
                                                     ("Inductor", "geomean_inductor_vs_eager"))
                 if g.get(k)]
        gm.append(f"{group}: " + (", ".join(parts) or "-"))
    # Where the groups change (suite | model), a dotted line.
    for i in range(1, len(cases)):
        if cases[i]["group"] != cases[i - 1]["group"]:
            ax.axvline(i - 0.5, color="grey", linestyle=":", linewidth=0.8)
    load = meta.get("loadavg_start")
    ax.set_title(f"ember bench, {meta['time_utc']}: threads={meta['threads']}, median of "
                 f"{meta['reps']}" + (f", load average {load[0]:.1f}" if load else "")
                 + "\ngeomean speedup over eager, " + "; ".join(gm), fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None
