"""Ember's configuration: one dataclass, read from the environment in one place.

Every option is checked once, when a :class:`Config` is made (``Config.from_env``,
``Config.with_options``, and so ``ember.compile``): a bad value raises
:class:`ConfigError` naming the option (or the ``EMBER_*`` variable) and the
accepted values, instead of failing at the first call or inside LLVM.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Any

BACKENDS = ("auto", "cpu", "triton", "eager")
OPT_LEVELS = (0, 1, 2, 3)  # LLVM's; anything else aborts the process inside LLVM

# Config field -> environment variable.
ENV_VARS = {
    "backend": "EMBER_BACKEND", "dump_dir": "EMBER_DUMP_DIR", "debug": "EMBER_DEBUG",
    "fallback_ops": "EMBER_FALLBACK_OPS", "opt_level": "EMBER_OPT_LEVEL",
    "pipeline": "EMBER_PIPELINE", "strict": "EMBER_STRICT", "cache_dir": "EMBER_CACHE_DIR",
    "cache_max_bytes": "EMBER_CACHE_MAX_BYTES", "output_pool": "EMBER_OUTPUT_POOL",
}

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")
CACHE_OFF = ("off", "none", "0", "false", "no")  # EMBER_CACHE_DIR values that disable it


def default_cache_dir() -> str:
    """The user's cache folder for Ember: ``$XDG_CACHE_HOME/ember``, else ``~/.cache/ember``."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    if not base or not os.path.isabs(base):  # the XDG spec: relative paths are ignored
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ember")


class ConfigError(ValueError):
    """A bad option value; the message names the option and the accepted values."""


@dataclass(frozen=True)
class Config:
    """Options of a compilation.

    Attributes:
        backend: "auto" (by device), "cpu" (MLIR), "triton", or "eager" (capture and report only)
            (``EMBER_BACKEND``).
        dump_dir: where IR/kernel dumps go (``EMBER_DUMP_DIR``); None disables dumps.
            Each run writes into its own ``run-...`` folder there.
        debug: verify the IR after every pass (``EMBER_DEBUG=1``).
        fallback_ops: Ember ops forced to run eagerly (``EMBER_FALLBACK_OPS=erf,tanh``;
            as an option, a sequence of names or one comma-separated string).
        opt_level: LLVM optimization level for the CPU JIT, 0 to 3 (``EMBER_OPT_LEVEL``).
        pipeline: the pass pipeline name (``EMBER_PIPELINE``).
        strict: raise compile errors instead of running the graph eagerly
            (``EMBER_STRICT=1``; the test suite runs this way).
        cache_dir: the folder of the on-disk kernel cache (``EMBER_CACHE_DIR``;
            default :func:`default_cache_dir`); None, or ``"off"`` in the variable,
            disables it (kernels are then cached in memory only).
        cache_max_bytes: the disk cache's size limit (``EMBER_CACHE_MAX_BYTES``, bytes
            or with a ``K``/``M``/``G`` suffix, powers of 1024; default 1 GiB): past it,
            the least recently used files are deleted.
        output_pool: CPU kernel outputs of 1 MiB or more are kept by their step and
            handed out again once the caller has dropped them, so large outputs
            do not page-fault on every call (``EMBER_OUTPUT_POOL``; default on;
            see ``runtime/executor.py`` ``OutputPool``).
    """

    backend: str = "auto"
    dump_dir: str | None = None
    debug: bool = False
    fallback_ops: tuple[str, ...] = field(default_factory=tuple)
    opt_level: int = 3
    pipeline: str = "default"
    strict: bool = False
    cache_dir: str | None = field(default_factory=default_cache_dir)
    cache_max_bytes: int = 1 << 30
    output_pool: bool = True

    def __post_init__(self) -> None:
        for f in fields(self):
            value = _CHECKS[f.name](f.name, getattr(self, f.name))
            object.__setattr__(self, f.name, value)

    @staticmethod
    def from_env(env: dict[str, str] | None = None) -> "Config":
        """The configuration the ``EMBER_*`` variables give (empty values count as unset).

        Raises:
            ConfigError: naming the variable, for a value that is not accepted.
        """
        env = os.environ if env is None else env
        kw: dict[str, Any] = {}
        for name, var in ENV_VARS.items():
            raw = env.get(var, "").strip()
            if not raw:
                continue
            try:
                kw[name] = _parse_env(name, raw)
                Config(**{name: kw[name]})
            except ConfigError as e:
                raise ConfigError(f"{var}={raw!r}: {_detail(e)}") from None
        return Config(**kw)

    def with_options(self, **kw: Any) -> "Config":
        """This configuration with some options replaced (each one checked).

        Raises:
            TypeError: for an unknown option name.
            ConfigError: for a value that is not accepted.
        """
        unknown = set(kw) - set(self.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown Ember options {sorted(unknown)}; accepted options: "
                            f"{', '.join(self.__dataclass_fields__)}")
        return replace(self, **kw)


def _detail(e: ConfigError) -> str:
    """The part of a field error after the option name (to re-prefix it with a variable)."""
    msg = str(e)
    return msg.split(": ", 1)[1] if ": " in msg else msg


def _parse_env(name: str, raw: str) -> Any:
    if name in ("debug", "strict", "output_pool"):
        low = raw.lower()
        if low not in _TRUE + _FALSE:
            raise ConfigError(f"{name}: expected one of {', '.join(_TRUE + _FALSE)}")
        return low in _TRUE
    if name == "opt_level":
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name}: expected an integer, one of "
                              f"{', '.join(map(str, OPT_LEVELS))}") from None
    if name == "cache_max_bytes":
        low = raw.strip().upper().removesuffix("IB").removesuffix("B")
        scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(low[-1:], 1)
        try:
            return int(float(low[:-1] if scale > 1 else low) * scale)
        except ValueError:
            raise ConfigError(f"{name}: expected a number of bytes, optionally with a "
                              f"K, M or G suffix (e.g. 500M)") from None
    return raw


# -- one check per field: (option name, value) -> normalized value, or ConfigError --------
def _check_backend(name: str, v: Any) -> str:
    if v not in BACKENDS:
        raise ConfigError(f"{name}: {v!r} is not one of {', '.join(map(repr, BACKENDS))}")
    return v


def _check_dump_dir(name: str, v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, (str, os.PathLike)):
        raise ConfigError(f"{name}: expected a directory path (str or os.PathLike) or None, "
                          f"got {type(v).__name__} {v!r}")
    return os.fspath(v) or None


def _check_cache_dir(name: str, v: Any) -> str | None:
    if v is None or (isinstance(v, str) and v.strip().lower() in CACHE_OFF):
        return None
    if not isinstance(v, (str, os.PathLike)) or not os.fspath(v).strip():
        raise ConfigError(f"{name}: expected a directory path (str or os.PathLike), None or "
                          f"'off', got {type(v).__name__} {v!r}")
    return os.path.abspath(os.path.expanduser(os.fspath(v)))


def _check_size(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise ConfigError(f"{name}: expected a positive number of bytes, got {v!r}")
    return v


def _check_bool(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise ConfigError(f"{name}: expected True or False, got {type(v).__name__} {v!r}")
    return v


def _check_fallback_ops(name: str, v: Any) -> tuple[str, ...]:
    if isinstance(v, str):
        v = v.split(",")
    if not isinstance(v, (list, tuple, set, frozenset)) or \
            not all(isinstance(s, str) for s in v):
        raise ConfigError(f"{name}: expected op names (a sequence of str, or one "
                          f"comma-separated str), got {type(v).__name__} {v!r}")
    ops = tuple(s.strip() for s in v if s.strip())
    known = forceable_ops()
    bad = [s for s in ops if s not in known]
    if bad:
        raise ConfigError(f"{name}: unknown Ember op(s) {', '.join(map(repr, bad))}; accepted: "
                          f"{', '.join(sorted(known))}")
    return ops


def _check_opt_level(name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v not in OPT_LEVELS:
        raise ConfigError(f"{name}: {v!r} is not one of {', '.join(map(str, OPT_LEVELS))}")
    return v


def _check_pipeline(name: str, v: Any) -> str:
    from .passes import PIPELINES

    if not isinstance(v, str) or v not in PIPELINES:
        raise ConfigError(f"{name}: {v!r} is not one of {', '.join(map(repr, PIPELINES))}")
    return v


_CHECKS = {"backend": _check_backend, "dump_dir": _check_dump_dir, "debug": _check_bool,
           "fallback_ops": _check_fallback_ops, "opt_level": _check_opt_level,
           "pipeline": _check_pipeline, "strict": _check_bool, "cache_dir": _check_cache_dir,
           "cache_max_bytes": _check_size, "output_pool": _check_bool}


def forceable_ops() -> frozenset[str]:
    """Ember op names that ``fallback_ops`` can force to run eagerly."""
    from .ir.ops import OPS
    from .passes.partition import _COMPILED_KINDS

    return frozenset(name for name, op in OPS.items() if op.kind in _COMPILED_KINDS)
