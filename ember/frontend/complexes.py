"""Import rules for complex values (see ``ir/library_fft.py``): no kernel computes with
them, so the importer makes every op that meets one an ATen fallback ("complex values:
..."), except the rules in :data:`COMPLEX_RULES`: casts to a
complex dtype and copies (``_to_copy``, ``clone``: ``complex_copy``, in importer.py),
the lazy conjugate (``_conj`` -> ``conj_physical``), the views that stay torch views
(slices, permutes, ``view_as_real``/``view_as_complex``), padding (composites.py hands
it to ``complex_pad``), and the mirrored library ops whose dtypes list complex (FFTs,
``complex``, ``polar``, ``linalg_eig``; added by ``library_linalg.py``). Registered when
``importer.py`` imports this module.
"""

from __future__ import annotations

from typing import Any

import torch

from .importer import aten, rule

# Import rules that handle complex values (the others never see them: the op is a fallback).
COMPLEX_RULES: set[Any] = set()


def has_complex(n: torch.fx.Node) -> bool:
    """Whether a tensor argument or result of ``n`` is complex."""
    vals = [n.meta.get("val")] + [a.meta.get("val") for a in n.all_input_nodes]
    return any(isinstance(t, torch.Tensor) and t.is_complex() for v in vals for t in (
        v if isinstance(v, (tuple, list)) else (v,)))


@rule(aten._conj.default, aten._conj_physical.default)
def _conj(imp, n, x):
    # eager's is a view with the conjugate bit set; a materialized conjugate has its values
    return imp.op("conj_physical", imp.v(x))


@rule(aten.view_as_real.default)
def _view_as_real(imp, n, x):
    return imp.op("view_as_real", imp.v(x))


@rule(aten.view_as_complex.default)
def _view_as_complex(imp, n, x):
    return imp.op("view_as_complex", imp.v(x))


COMPLEX_RULES.update({
    aten._to_copy.default, aten.clone.default, aten.alias.default,
    aten.lift_fresh_copy.default, aten._conj.default, aten._conj_physical.default,
    aten.view_as_real.default, aten.view_as_complex.default, aten.constant_pad_nd.default,
    # views that stay torch views of a complex value (ops.py: their dtypes list complex;
    # no kernel reads them)
    aten.slice.Tensor, aten.permute.default, aten.expand.default, aten.squeeze.dim,
    aten.squeeze.dims, aten.squeeze.default, aten.unsqueeze.default})
