"""One pass where a looped row took two: online softmax (a max and the sum of
``exp(x - max)``) and Welford's variance (a sum and the sum of squared
deviations from its mean).

A staged kernel reads a row once per stage; when the row is longer than a
block, each stage is a loop over global memory. Softmax's first two stages are
``m = max(a)`` and ``s = sum(exp(a - m))``: the sum needs the finished max.
Kept per lane instead (Milakov and Gimelshein, "Online normalizer calculation
for softmax", 2018), a running max ``m`` and a sum ``s`` relative to it::

    m' = max(m, a)
    s  = s * exp(m - m') + exp(a - m')      (the factor is 1 where m' == m)

then, after the loop, ``M = max over lanes of m`` and ``S = sum over lanes of
s * exp(m - M)``. One pass fewer over memory for every looped softmax and
log-softmax. NaN and infinities come out as the two-pass form gives them: a
NaN in the row makes ``m`` NaN and every factor NaN; a row of -inf (or one
holding +inf) gives ``exp(-inf + inf)``, NaN, as eager's softmax does; lanes
that saw no element keep ``m = -inf, s = 0`` and add ``0 * exp(-inf - M) = 0``.

Layer norm's first two stages are ``S = sum(a)`` and ``Q = sum((a - S/n)^2)``
with ``n`` the row length: each lane keeps Welford's running mean, sum of
squared deviations and count over the elements it saw, and the lanes merge
pairwise (Chan, Golub and LeVeque, 1979; ``_ember_welford``); ``S`` is still
summed as before, so every later value that reads it is unchanged.

Only the exact patterns are rewritten (float32 accumulators; the second
reduction alone in its stage, with no store there): anything else keeps its
passes.
"""

from __future__ import annotations

import math

from ..kernel import Kernel


def online_pairs(kernel: Kernel, plan: list,
                 accs: list[str]) -> dict[int, tuple[str, int, int]]:
    """Pass index -> (``"softmax"`` or ``"welford"``, first reduction, second) for
    each pass whose next pass is only ``sum(exp(a - reduced(max)))`` of the max's
    own value ``a``, or ``sum(d * d)`` with ``d = a - reduced(sum(a)) / n``."""
    body, reds = kernel.body, kernel.reductions
    out = {}
    for p in range(len(plan) - 1):
        (these, _), (nxt, stores) = plan[p], plan[p + 1]
        if len(nxt) != 1 or stores:
            continue
        j = nxt[0]
        e = body[reds[j].value]
        if reds[j].kind != "sum" or accs[j] != "f32":
            continue
        w = _welford(kernel, these, j, accs)
        if w is not None:
            out[p] = ("welford", w, j)
            continue
        if e.op != "exp":
            continue
        t = body[e.args[0]]
        if t.op != "sub":
            continue
        a, rr = t.args
        r = body[rr]
        if r.op != "reduced":
            continue
        i = r.attrs["index"]
        if (i in these and reds[i].kind == "max" and reds[i].value == a and accs[i] == "f32"
                and body[a].dtype == "f32" and e.dtype == "f32" and t.dtype == "f32"):
            out[p] = ("softmax", i, j)
    return out


def _welford(kernel: Kernel, these: list[int], j: int, accs: list[str]) -> int | None:
    """The reduction ``i`` in ``these`` when reduction ``j`` is ``sum(d * d)``,
    ``d = a - reduced(i) * c``, ``i = sum(a)`` and ``c`` is 1 / the row length."""
    body, reds = kernel.body, kernel.reductions
    sq = body[reds[j].value]
    if sq.op != "mul" or sq.args[0] != sq.args[1] or sq.dtype != "f32":
        return None
    d = body[sq.args[0]]
    if d.op != "sub" or d.dtype != "f32":
        return None
    a, m = d.args
    mean = body[m]
    if mean.op != "mul" or len(mean.args) != 2:
        return None
    rr, c = (body[x] for x in mean.args)
    if rr.op != "reduced" or c.op != "const":
        return None
    i, n = rr.attrs["index"], math.prod(kernel.reduce)
    ok = (i in these and reds[i].kind == "sum" and reds[i].value == a and accs[i] == "f32"
          and body[a].dtype == "f32" and n > 0 and abs(float(c.attrs["value"]) * n - 1) < 1e-6)
    return i if ok else None


def welford_update(j: int, value: str) -> list[str]:
    """Lines adding one block's ``value`` (where ``mask``) to lane-wise Welford
    state ``wm{j}``, ``acc{j}`` (the sum of squared deviations), ``wn{j}``."""
    return [f"wn{j} = wn{j} + tl.where(mask, 1.0, 0.0)",
            f"wd{j} = {value} - wm{j}",
            f"wm{j} = wm{j} + tl.where(mask, wd{j} / tl.maximum(wn{j}, 1.0), 0.0)",
            f"acc{j} = acc{j} + tl.where(mask, wd{j} * ({value} - wm{j}), 0.0)"]


def welford_finish(j: int) -> list[str]:
    """``r{j}``: the row's sum of squared deviations, the lanes merged pairwise."""
    return [f"_m{j}, r{j}, _n{j} = tl.reduce((wm{j}, acc{j}, wn{j}), 1, _ember_welford, "
            f"keep_dims=True)"]


def update(i: int, j: int, masked_max: str, value: str, comb: str) -> list[str]:
    """Lines updating the running max ``acc{i}`` and sum ``acc{j}`` with one block
    (``masked_max``: the block's values, -inf where masked; ``value``: unmasked)."""
    return [f"m{i} = {comb}(acc{i}, {masked_max})",
            f"acc{j} = acc{j} * tl.where(acc{i} == m{i}, 1.0, tl.exp(acc{i} - m{i})) "
            f"+ tl.where(mask, tl.exp({value} - m{i}), 0.0)",
            f"acc{i} = m{i}"]


def finish(i: int, j: int, comb: str, add: str) -> list[str]:
    """Lines giving ``r{i}`` (the row max) and ``r{j}`` (the row sum) from the lanes
    (``comb``, ``add``: the max and sum combiners)."""
    return [f"r{i} = tl.reduce(acc{i}, 1, {comb}, keep_dims=True)",
            f"r{j} = tl.reduce(tl.where(acc{i} == r{i}, acc{j}, acc{j} * tl.exp(acc{i} - r{i})), "
            f"1, {add}, keep_dims=True)"]
