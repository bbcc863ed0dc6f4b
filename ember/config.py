"""Ember's configuration: one dataclass, read from the environment in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Config:
    """Options of a compilation.

    Attributes:
        backend: "auto" (by device), "cpu", or "eager" (capture and report only).
        dump_dir: where IR/kernel dumps go (``EMBER_DUMP_DIR``); None disables dumps.
        debug: verify the IR after every pass (``EMBER_DEBUG=1``).
        fallback_ops: Ember ops forced to run eagerly (``EMBER_FALLBACK_OPS=erf,tanh``).
        opt_level: LLVM optimization level for the CPU JIT (``EMBER_OPT_LEVEL``).
        pipeline: the pass pipeline name (``EMBER_PIPELINE``).
        strict: raise compile errors instead of running the graph eagerly
            (``EMBER_STRICT=1``; the test suite runs this way).
    """

    backend: str = "auto"
    dump_dir: str | None = None
    debug: bool = False
    fallback_ops: tuple[str, ...] = field(default_factory=tuple)
    opt_level: int = 3
    pipeline: str = "default"
    strict: bool = False

    @staticmethod
    def from_env(env: dict[str, str] | None = None) -> "Config":
        env = os.environ if env is None else env
        ops = tuple(s.strip() for s in env.get("EMBER_FALLBACK_OPS", "").split(",") if s.strip())
        return Config(
            backend=env.get("EMBER_BACKEND", "auto"),
            dump_dir=env.get("EMBER_DUMP_DIR") or None,
            debug=_flag(env.get("EMBER_DEBUG", "0")),
            fallback_ops=ops,
            opt_level=int(env.get("EMBER_OPT_LEVEL", "3")),
            pipeline=env.get("EMBER_PIPELINE", "default"),
            strict=_flag(env.get("EMBER_STRICT", "0")),
        )

    def with_options(self, **kw) -> "Config":
        unknown = set(kw) - set(self.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown Ember options {sorted(unknown)}")
        return replace(self, **kw)


def _flag(value: str) -> bool:
    return value.strip().lower() not in ("", "0", "false", "no", "off")
