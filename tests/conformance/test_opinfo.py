"""Every op_db entry's first float32 sample (and first error input) through Ember.

An entry passes when it is native, partial or eager with a reason, or skipped by the
runner with a reason (op_db says float32 is unsupported on the CPU, or gives no
sample). Where eager raises, Ember must raise the same exception type. Mismatches and
crashes fail unless listed in known_gaps.KNOWN, and a listed entry that passes fails
too. The entries are split into shards (entry index modulo SHARDS) so that a failure
names a smaller set and the shards can run in parallel; together they are the whole
of op_db, first sample only (about 2 minutes on this 2-core machine; --all-samples
and the other dtypes are for `ember conformance`, not CI).
"""

import pytest

from ember import conformance as C

from .known_gaps import KNOWN

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

SHARDS = 4
# The CI time box per entry is generous: a time-box skip fails the test (it would
# hide an entry), so it must only happen for a real hang.
TIMEOUT = 60.0


@pytest.fixture(scope="module")
def entries():
    return C.op_db()


def test_known_gaps_name_real_entries(entries):
    names = {C.entry_name(op) for op in entries}
    assert not set(KNOWN) - names, f"not op_db entries: {sorted(set(KNOWN) - names)}"
    assert all(reason.strip() for reason in KNOWN.values())


@pytest.mark.parametrize("shard", range(SHARDS))
def test_opinfo_float32_first_sample(entries, shard):
    mine = [op for i, op in enumerate(entries) if i % SHARDS == shard]
    results = C.run(mine, ["float32"], timeout=TIMEOUT)
    problems = check(results, KNOWN)
    assert not problems, "\n".join(problems)
    assert len(results) == len(mine)


def check(results, known):
    """What is wrong with these results, given the known-gaps list."""
    problems = []
    for r in results:
        listed = known.get(r.name)
        if r.status in ("mismatch", "crash"):
            if listed is None:
                problems.append(f"{r.name}: {r.status}: {r.reason}")
        elif listed is not None:
            problems.append(f"{r.name}: listed in known_gaps ({listed}) but now {r.status}; "
                            "remove it from the list")
        elif r.status in ("partial", "eager") and not r.reason:
            problems.append(f"{r.name}: {r.status} without a reason")
        elif r.status == "skip" and (not r.reason or r.reason.startswith("time box")):
            problems.append(f"{r.name}: skipped: {r.reason or 'no reason'}")
    return problems


def test_check_fails_on_what_it_should():
    R = C.Result
    assert check([R("a", "float32", "mismatch", "x")], {}) == ["a: mismatch: x"]
    assert check([R("a", "float32", "crash", "x")], {"a": "bug"}) == []
    assert check([R("a", "float32", "native")], {"a": "bug"})  # stale entry
    assert check([R("a", "float32", "partial", "")], {})
    assert check([R("a", "float32", "skip", "time box: ran past 60 s")], {})
    assert check([R("a", "float32", "partial", "aten.x: no lowering"),
                  R("b", "float32", "skip", "op_db: not supported on cpu for float32")], {}) == []


def test_runner_detects_a_wrong_result(monkeypatch):
    # A deliberately wrong import (abs as neg) must show up as a mismatch.
    import torch

    from ember.frontend import importer

    monkeypatch.setitem(importer._RULES, torch.ops.aten.abs.default, importer._unary("neg"))
    (op,) = C.select(names=["abs"])
    r = C.run_entry(op, "float32", errors=False)
    assert r.status == "mismatch", r
