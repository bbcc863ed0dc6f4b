"""The ``ember`` command.

    ember demo [--batch N ...]   compile the demo transformer block, compare with eager
    ember bench [--cases ...]    eager vs Ember vs Inductor: bench/run.py (from a checkout)
    ember ir FILE.ir             parse, verify and reprint an IR dump (or a hand-written graph)
    ember ops                    list the IR op table and the ATen ops Ember imports
    ember fuzz [--count N] [--seed S]  random programs compiled and compared with eager
    ember conformance [--ops S]  OpInfo entries compiled and checked against eager
    ember cache info|clear       the on-disk kernel cache: where, how big; empty it
    ember version

Only what a command needs is imported, so ``ember --help`` does not load torch.
"""

from __future__ import annotations

import argparse
import os
import runpy
import sys


def _ir(path: str) -> int:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        print(f"ember ir: {path}: {e.strerror or e}", file=sys.stderr)
        return 1
    except UnicodeDecodeError:
        print(f"ember ir: {path}: not a text file (Ember IR is UTF-8 text)", file=sys.stderr)
        return 1
    from .ir import ParseError, VerifyError, parse, print_graph, verify

    try:
        g = parse(text)
        verify(g)
    except (ParseError, VerifyError) as e:
        print(f"{path}: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001  (malformed input must give one line, not a trace)
        print(f"{path}: not valid Ember IR ({type(e).__name__}: {e})", file=sys.stderr)
        return 1
    sys.stdout.write(print_graph(g))
    return 0


def _ops() -> int:
    from .frontend.importer import _RULES, _qualname
    from .ir.ops import OPS

    kinds: dict[str, list[str]] = {}
    for name, op in OPS.items():
        kinds.setdefault(op.kind, []).append(name)
    print("Ember IR ops by kind:")
    for kind, names in kinds.items():
        print(f"  {kind}: {', '.join(names)}")
    aten = sorted({_qualname(t) for t in _RULES})
    print(f"ATen/prims overloads imported as Ember ops ({len(aten)}); all others run as fallbacks:")
    print("  " + ", ".join(aten))
    return 0


def _fuzz(count: int, seed: int, max_ops: int) -> int:
    import logging

    from .fuzz import check, generate, shrink

    log = logging.getLogger("ember")
    level = log.level
    log.setLevel(logging.ERROR)  # eager fallbacks are expected noise
    try:
        for i, s in enumerate(range(seed, seed + count)):
            p = generate(s, max_ops=max_ops)
            err = check(p)
            if err is not None:
                print(f"seed {s}: {err}\n# shrunk reproducer:\n{shrink(p).script()}")
                return 1
            if (i + 1) % 100 == 0:
                print(f"{i + 1}/{count} programs match eager", file=sys.stderr)
    finally:
        log.setLevel(level)
    print(f"{count} programs (seeds {seed}..{seed + count - 1}): all match eager")
    return 0


def _cache(action: str) -> int:
    from .config import Config, ConfigError
    from .runtime import diskcache

    try:
        config = Config.from_env()
    except ConfigError as e:
        print(f"ember cache: {e}", file=sys.stderr)
        return 2
    disk = diskcache.for_dir(config.cache_dir, config.cache_max_bytes)
    if disk is None:
        print("disk cache: off (EMBER_CACHE_DIR=off)")
        return 0
    if action == "clear":
        print(f"removed {disk.clear()} file(s) from {disk.dir}")
        return 0
    info = disk.info()
    print(f"dir: {info['dir']}")
    print(f"entries: {info['entries']} kernel(s) in {info['binaries']} shared object(s)")
    print(f"bytes: {info['bytes']}")
    print(f"limit: {info['max_bytes']} bytes (EMBER_CACHE_MAX_BYTES; the least recently used "
          f"files go past it)")
    # this process's counters: a fresh `ember cache info` has compiled nothing
    st = diskcache.stats()
    print(f"this process: memory {st['memory_hits']} hit(s) / {st['memory_misses']} miss(es), "
          f"disk {st['disk_hits']} hit(s) / {st['disk_misses']} miss(es), "
          f"{st['disk_writes']} write(s), {st['disk_corrupt']} corrupt, "
          f"{st['disk_evicted']} evicted")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(prog="ember", description="Ember deep-learning compiler")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("demo", help="compile the demo transformer block and compare with eager",
                   add_help=False)
    sub.add_parser("bench", help="eager vs Ember vs Inductor (bench/run.py; "
                   "ember bench --help for its flags)", add_help=False)
    ir = sub.add_parser("ir", help="parse, verify and reprint an Ember IR file")
    ir.add_argument("file")
    sub.add_parser("ops", help="list the IR op table and the imported ATen ops")
    fz = sub.add_parser("fuzz", help="compile random programs and compare them with eager")
    fz.add_argument("--count", type=int, default=100)
    fz.add_argument("--seed", type=int, default=0)
    fz.add_argument("--max-ops", type=int, default=12)
    sub.add_parser("conformance", help="op_db entries through Ember vs eager (see --help)",
                   add_help=False)
    ca = sub.add_parser("cache", help="the on-disk kernel cache (EMBER_CACHE_DIR)")
    ca.add_argument("action", choices=("info", "clear"))
    sub.add_parser("version", help="print the version")
    args, rest = p.parse_known_args(argv)
    if rest and args.cmd not in ("demo", "bench", "conformance"):  # only these pass options through
        p.error(f"unrecognized arguments for 'ember {args.cmd}': {' '.join(rest)}")
    if args.cmd == "demo":
        from .demo import main as demo

        return demo(rest)
    if args.cmd == "bench":
        script = os.path.join(os.path.dirname(os.path.dirname(__file__)), "bench", "run.py")
        if not os.path.exists(script):
            print("ember bench needs a source checkout (bench/run.py)", file=sys.stderr)
            return 2
        sys.argv = [script] + rest
        runpy.run_path(script, run_name="__main__")
        return 0
    if args.cmd == "conformance":
        from .conformance import main as conformance

        return conformance(rest)
    if args.cmd == "ir":
        return _ir(args.file)
    if args.cmd == "ops":
        return _ops()
    if args.cmd == "fuzz":
        return _fuzz(args.count, args.seed, args.max_ops)
    if args.cmd == "cache":
        return _cache(args.action)
    from . import __version__

    print(__version__)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
