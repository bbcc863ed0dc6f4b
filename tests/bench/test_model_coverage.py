"""bench/model_coverage.py: a few families end to end (the script runs all 14)."""

from __future__ import annotations

import pytest

pytest.importorskip("transformers")

from bench import model_coverage  # noqa: E402


@pytest.mark.parametrize("family", ["distilbert", "vit", "wav2vec2"])
def test_family_compiles_to_one_graph_without_fallbacks(family):
    r = model_coverage.check(family, model_coverage._families()[family])
    assert r["match"], r
    assert (r["graphs"], r["breaks"], r["fallbacks"]) == (1, 0, 0), r
    assert r["kernels"] > 0, r
