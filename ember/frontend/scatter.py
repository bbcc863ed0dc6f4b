"""Import rule for ``aten.index_put`` (its ``Tensor?[]`` indices are the step's inputs
after ``self`` and ``values``; ``present`` marks the positions given). The other scatter
ops' rules are generated from their mirrors (``ir/library_scatter.py``). Registered
when ``importer.py`` imports this module."""

from __future__ import annotations

from .importer import _Importer, aten, rule


@rule(aten.index_put.default)
def _index_put(imp: _Importer, n, x, indices, values, accumulate=False):
    given = [imp.v(i) for i in indices if i is not None]
    present = tuple(i is not None for i in indices)
    return imp.op("index_put", imp.v(x), imp.v(values), *given, present=present,
                  accumulate=bool(accumulate))
