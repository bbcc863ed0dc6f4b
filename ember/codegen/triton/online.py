"""Online softmax for looped rows: a max and the sum of ``exp(x - max)`` in one
pass over the row instead of two.

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

Only the exact pattern is rewritten (a float32 accumulator for both; the sum
alone in its stage, with no store there): anything else keeps its passes.
"""

from __future__ import annotations

from ..kernel import Kernel


def online_pairs(kernel: Kernel, plan: list, accs: list[str]) -> dict[int, tuple[int, int]]:
    """Pass index -> (max reduction, sum reduction) for each pass whose next pass
    is only ``sum(exp(a - reduced(max)))`` of the max's own value ``a``."""
    body, reds = kernel.body, kernel.reductions
    out = {}
    for p in range(len(plan) - 1):
        (these, _), (nxt, stores) = plan[p], plan[p + 1]
        if len(nxt) != 1 or stores:
            continue
        j = nxt[0]
        e = body[reds[j].value]
        if reds[j].kind != "sum" or e.op != "exp" or accs[j] != "f32":
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
            out[p] = (i, j)
    return out


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
