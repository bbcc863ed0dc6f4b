"""Options are checked once, up front, with one message naming the option or the
EMBER_* variable and the accepted values (defects issue, items 4 and 6)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import ember
from ember.config import Config, ConfigError


@pytest.mark.parametrize("env, match", [
    ({"EMBER_OPT_LEVEL": "4"}, r"EMBER_OPT_LEVEL='4': 4 is not one of 0, 1, 2, 3"),
    ({"EMBER_OPT_LEVEL": "7"}, r"EMBER_OPT_LEVEL='7'"),
    ({"EMBER_OPT_LEVEL": "abc"}, r"EMBER_OPT_LEVEL='abc': expected an integer"),
    ({"EMBER_BACKEND": "gpu"}, r"EMBER_BACKEND='gpu': 'gpu' is not one of 'auto', 'cpu', 'triton', 'eager'"),
    ({"EMBER_FALLBACK_OPS": "sin,tnah"}, r"EMBER_FALLBACK_OPS='sin,tnah': unknown Ember op\(s\) 'tnah'; accepted: .*tanh"),
    ({"EMBER_PIPELINE": "fast"}, r"EMBER_PIPELINE='fast': 'fast' is not one of 'default'"),
    ({"EMBER_DEBUG": "maybe"}, r"EMBER_DEBUG='maybe': expected one of 1, true"),
])
def test_bad_environment_names_the_variable(env, match):
    with pytest.raises(ConfigError, match=match):
        Config.from_env(env)


def test_empty_variables_are_unset():
    env = {v: "" for v in ("EMBER_OPT_LEVEL", "EMBER_BACKEND", "EMBER_PIPELINE", "EMBER_DEBUG",
                           "EMBER_STRICT", "EMBER_FALLBACK_OPS", "EMBER_DUMP_DIR")}
    assert Config.from_env(env) == Config()
    assert Config.from_env({"EMBER_OPT_LEVEL": " 2 ", "EMBER_BACKEND": "eager",
                            "EMBER_FALLBACK_OPS": "erf, tanh"}) == \
        Config(opt_level=2, backend="eager", fallback_ops=("erf", "tanh"))


@pytest.mark.parametrize("options, match", [
    ({"opt_level": -1}, r"opt_level: -1 is not one of 0, 1, 2, 3"),
    ({"opt_level": 4}, r"opt_level: 4 is not one of"),
    ({"opt_level": "abc"}, r"opt_level: 'abc' is not one of"),
    ({"opt_level": True}, r"opt_level: True is not one of"),
    ({"pipeline": "fast"}, r"pipeline: 'fast' is not one of 'default'"),
    ({"dump_dir": 123}, r"dump_dir: expected a directory path .* got int 123"),
    ({"fallback_ops": ["sin", "cosh"]}, r"fallback_ops: unknown Ember op\(s\) 'cosh'"),
    ({"fallback_ops": 3}, r"fallback_ops: expected op names"),
    ({"backend": "gpu"}, r"backend: 'gpu' is not one of 'auto', 'cpu', 'triton', 'eager'"),
    ({"debug": "yes"}, r"debug: expected True or False"),
])
def test_bad_options_fail_when_compile_is_called(options, match):
    # at ember.compile, not at the first call (which used to run eagerly after a KeyError)
    with pytest.raises(ConfigError, match=match):
        ember.compile(lambda x: x, **options)
    with pytest.raises(ConfigError, match=match):
        ember.compile(**options)  # the decorator form checks up front too


def test_fallback_ops_string_is_a_comma_separated_list():
    assert Config().with_options(fallback_ops="sin").fallback_ops == ("sin",)
    assert Config().with_options(fallback_ops="sin, erf").fallback_ops == ("sin", "erf")


def test_unknown_option_lists_the_accepted_ones():
    with pytest.raises(TypeError, match="unknown Ember options \\['speed'\\]; accepted options: "
                                        "backend, dump_dir"):
        ember.compile(lambda x: x, speed=3)


def test_ember_backend_variable_reaches_ember_compile(monkeypatch):
    monkeypatch.setenv("EMBER_BACKEND", "eager")
    assert ember.compile(lambda x: x)._ember_state.config.backend == "eager"
    assert ember.compile(lambda x: x, backend="cpu")._ember_state.config.backend == "cpu"


def _run(code: str, **env: str) -> subprocess.CompletedProcess:
    import os

    full = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], env=full, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("how", [{"EMBER_OPT_LEVEL": "4"}, {"EMBER_OPT_LEVEL": "7"}])
def test_bad_opt_level_is_a_python_error_not_an_abort(how):
    # EMBER_OPT_LEVEL=4 used to abort the process inside LLVM (exit 134)
    code = ("import torch, ember\n"
            "try:\n"
            "    f = ember.compile(lambda x: x * 2)\n"
            "    with torch.no_grad():\n"
            "        f(torch.ones(3))\n"
            "except ValueError as e:\n"
            "    print('caught', e)\n")
    r = _run(code, **how, EMBER_STRICT="0", PYTHONPATH=_root())
    assert r.returncode == 0, r.stderr[-2000:]
    assert "caught EMBER_OPT_LEVEL=" in r.stdout


def _root() -> str:
    import os

    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
