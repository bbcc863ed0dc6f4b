"""Tests of the Triton backend run under Triton's CPU interpreter.

``TRITON_INTERPRET=1`` is set for the tests of this folder only (and restored
after each module), so the rest of the suite, run in the same pytest process,
is unaffected. Ember's generated Triton modules follow the variable as it is
when they are loaded, whether or not ``triton`` was imported before (see
``ember/codegen/triton/__init__.py``).
"""

import os

import pytest


@pytest.fixture(autouse=True, scope="module")
def _triton_interpreter():
    old = os.environ.get("TRITON_INTERPRET")
    os.environ["TRITON_INTERPRET"] = "1"
    yield
    if old is None:
        os.environ.pop("TRITON_INTERPRET", None)
    else:
        os.environ["TRITON_INTERPRET"] = old


