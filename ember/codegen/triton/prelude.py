"""Helper ``@triton.jit`` functions every generated module starts with.

Generated kernels call these by name (``_ember_expm1``...), so the kernel text
is the same for both targets and only the prelude differs: ``"cuda"`` uses
libdevice and hardware conversions; ``"interpret"`` uses formulations that
Triton's CPU interpreter can run (it has no libdevice: extern calls raise; and it
rounds f32 -> bf16 by truncation). Both use Triton builtins only (see the
package docstring for why ``tl.sum``-style standard functions are avoided).
"""

import math

from . import prelude_bits, prelude_special

# Helper functions shared by both targets: reduction combiners and the parts of
# the contract with exact portable formulations.
_COMMON = '''
@triton.jit
def _ember_add(a, b):
    return a + b


@triton.jit
def _ember_welford(mean1, m2_1, n1, mean2, m2_2, n2):
    # Chan et al.'s pairwise merge of (mean, sum of squared deviations, count)
    n = n1 + n2
    delta = mean2 - mean1
    w2 = tl.where(n == 0, 0.0, n2 / n)
    return mean1 + delta * w2, m2_1 + m2_2 + delta * delta * n1 * w2, n


@triton.jit
def _ember_mul(a, b):
    return a * b


@triton.jit
def _ember_fmax(a, b):
    # NaN-propagating (torch.maximum / amax): a NaN on either side wins
    return tl.where((a > b) | (a != a), a, b)


@triton.jit
def _ember_fmin(a, b):
    return tl.where((a < b) | (a != a), a, b)


@triton.jit
def _ember_imax(a, b):
    return tl.maximum(a, b)


@triton.jit
def _ember_imin(a, b):
    return tl.minimum(a, b)


@triton.jit
def _ember_trunc(x):
    return tl.where(x < 0, tl.ceil(x), tl.floor(x))


@triton.jit
def _ember_remainder_f(a, b):
    # ATen: m = fmod(a, b); m + b where m != 0 and its sign differs from b's
    m = a % b
    return tl.where((m != 0) & ((b < 0) != (m < 0)), m + b, m)


@triton.jit
def _ember_floordiv_f(a, b, quot, div):
    # c10::div_floor_floating; quot = a / b, div = (a - fmod(a, b)) / b
    m = a % b
    div = tl.where((m != 0) & ((b < 0) != (m < 0)), div - 1.0, div)
    fl = tl.floor(div)
    fl = tl.where(div - fl > 0.5, fl + 1.0, fl)
    r = tl.where(div == 0, quot * 0.0, fl)  # copysign(0, a / b); a / b is finite here
    return tl.where(b == 0, quot, r)
'''

# cuda: libdevice (what Inductor uses) and hardware conversions.
_CUDA = '''
from triton.language.extra import libdevice


@triton.jit
def _ember_expm1(x):
    return libdevice.expm1(x)


@triton.jit
def _ember_log1p(x):
    return libdevice.log1p(x)


@triton.jit
def _ember_tanh(x):
    return libdevice.tanh(x)


@triton.jit
def _ember_pow(x, y):
    return libdevice.pow(x, y)


@triton.jit
def _ember_round_bf16(x):
    return x.to(tl.bfloat16).to(tl.float32)


@triton.jit
def _ember_to_bf16(x):
    return x.to(tl.bfloat16)
'''

# interpret: the interpreter has no libdevice (extern calls raise) and rounds
# f32 -> bf16 by truncation, so these are written with builtins only.
_INTERPRET = '''
@triton.jit
def _ember_expm1(x):
    # Kahan: (u - 1) * x / log(u) cancels the rounding error of u = exp(x)
    u = tl.exp(x)
    um1 = u - 1.0
    r = tl.where(um1 == -1.0, -1.0, um1 * x / tl.log(u))
    r = tl.where(u == 1.0, x, r)
    return tl.where(u == float("inf"), u, r)


@triton.jit
def _ember_log1p(x):
    # Kahan: log(u) * x / (u - 1) with u = 1 + x
    u = x + 1.0
    r = tl.where(u == 1.0, x, tl.log(u) * x / (u - 1.0))
    return tl.where(u == float("inf"), u, r)


@triton.jit
def _ember_tanh(x):
    # tanh(|x|) = -t / (t + 2) with t = expm1(-2|x|), which never overflows
    t = _ember_expm1(-2.0 * tl.abs(x))
    r = -t / (t + 2.0)
    return tl.where(x < 0, -r, r)


@triton.jit
def _ember_pow(x, y):
    # C pow: exp2(y * log2|x|) in f64, signs and the special cases of C99 F.9.4.4
    ax = tl.abs(x).to(tl.float64)
    r = tl.exp2(y.to(tl.float64) * tl.log2(ax)).to(x.dtype)
    yint = tl.floor(y) == y
    yodd = yint & ((y - 2.0 * tl.floor(y * 0.5)) == 1.0)
    neg = (x < 0) | ((x == 0) & (1.0 / x < 0))
    r = tl.where(neg & yodd, -r, r)
    r = tl.where((x < 0) & (ax != float("inf")) & ~yint & (tl.abs(y) != float("inf")),
                 float("nan"), r)
    r = tl.where((ax == 1.0) & (tl.abs(y) == float("inf")), 1.0, r)
    return tl.where((y == 0) | (x == 1.0), 1.0, r)


@triton.jit
def _ember_round_bf16(x):
    # round to nearest even at bit 16, staying in f32
    bits = x.to(tl.uint32, bitcast=True)
    bits = (bits + (0x7FFF + ((bits >> 16) & 1))) & 0xFFFF0000
    return tl.where(x != x, x, bits.to(tl.float32, bitcast=True))


@triton.jit
def _ember_to_bf16(x):
    bits = _ember_round_bf16(x).to(tl.uint32, bitcast=True) >> 16
    return bits.to(tl.uint16).to(tl.bfloat16, bitcast=True)
'''

def _horner(z: str, coeffs: list[float]) -> str:
    expr = repr(coeffs[-1])
    for c in reversed(coeffs[:-1]):
        expr = f"({expr}) * {z} + {c!r}"
    return expr


def _interpret_inverse() -> str:
    """Interpreter forms of asin ... atanh: the core in f64 with the polynomials of
    codegen/polys.py (relative error ~1e-9 at worst for f64 operands: this target
    only tests kernels; the GPU uses libdevice)."""
    from ..polys import ASIN_P, ASINH_P, ATAN_A, ATAN_P, ATANH_P

    return f'''

@triton.jit
def _ember_odd_sign(x, d, r):
    # r carries |f(x)| for an odd f: x's sign, and x itself for +-0
    return tl.where(x < 0, -r, tl.where(x == 0, d, r))


@triton.jit
def _ember_atan_pos(a):
    inv = a > {1.0 / ATAN_A!r}
    mid = a > {ATAN_A!r}
    u = tl.where(inv, 1.0 / a, tl.where(mid, (a - 1.0) / (a + 1.0), a))
    z = u * u
    r = u + u * z * ({_horner("z", ATAN_P)})
    return tl.where(inv, {math.pi / 2!r} - r, tl.where(mid, r + {math.pi / 4!r}, r))


@triton.jit
def _ember_atan(x):
    d = x.to(tl.float64)
    return _ember_odd_sign(x, d, _ember_atan_pos(tl.abs(d))).to(x.dtype)


@triton.jit
def _ember_atan2(y, x):
    ay = tl.abs(y.to(tl.float64))
    ax = tl.abs(x.to(tl.float64))
    swap = ay > ax
    t = tl.where(ax == ay, tl.where(ax == 0, 0.0, 1.0),
                 tl.where(swap, ax, ay) / tl.where(swap, ay, ax))
    r = _ember_atan_pos(t)
    neg = (x < 0) | ((x == 0) & (1.0 / x < 0))
    r = tl.where(swap != neg, -r, r)
    # (constants join f64 tensors in arithmetic: a bare constant in tl.where is f32)
    r = tl.where(swap, r + {math.pi / 2!r}, tl.where(neg, r + {math.pi!r}, r))
    r = tl.where((y < 0) | ((y == 0) & (1.0 / y < 0)), -r, r)
    return r.to(x.dtype)


@triton.jit
def _ember_asin_parts(x):
    a = tl.abs(x.to(tl.float64))
    s = tl.where(a > 0.5, tl.sqrt(tl.maximum(1.0 - a, 0.0) * 0.5), a)
    z = s * s
    return s + s * z * ({_horner("z", ASIN_P)})


@triton.jit
def _ember_asin(x):
    d = x.to(tl.float64)
    p = _ember_asin_parts(x)
    r = tl.where(tl.abs(d) > 0.5, {math.pi / 2!r} - 2.0 * p, p)
    r = tl.where(tl.abs(d) > 1.0, float("nan"), r)
    return _ember_odd_sign(x, d, r).to(x.dtype)


@triton.jit
def _ember_acos(x):
    d = x.to(tl.float64)
    p = _ember_asin_parts(x)
    big = tl.where(d < 0, {math.pi!r} - 2.0 * p, 2.0 * p)
    r = tl.where(tl.abs(d) > 0.5, big, {math.pi / 2!r} - tl.where(d < 0, -p, p))
    return tl.where(tl.abs(d) > 1.0, float("nan"), r).to(x.dtype)


@triton.jit
def _ember_asinh(x):
    d = x.to(tl.float64)
    a = tl.abs(d)
    z = a * a
    small = a + a * z * ({_horner("z", ASINH_P)})
    big = tl.where(a > 1e150, tl.log(a) + {math.log(2.0)!r},
                   tl.log(a + tl.sqrt(tl.minimum(a, 1e150) * tl.minimum(a, 1e150) + 1.0)))
    return _ember_odd_sign(x, d, tl.where(a < 0.5, small, big)).to(x.dtype)


@triton.jit
def _ember_acosh(x):
    d = x.to(tl.float64)
    z = tl.maximum(d - 1.0, 0.0)
    c = tl.minimum(d, 1e150)
    r = _ember_log1p(z + tl.sqrt(z * (c + 1.0)))
    r = tl.where(d > 1e150, tl.log(d) + {math.log(2.0)!r}, r)
    return tl.where((d < 1.0) | (d != d), float("nan"), r).to(x.dtype)


@triton.jit
def _ember_atanh(x):
    d = x.to(tl.float64)
    a = tl.abs(d)
    z = a * a
    small = a + a * z * ({_horner("z", ATANH_P)})
    big = 0.5 * _ember_log1p(2.0 * a / tl.maximum(1.0 - a, 0.0))
    r = tl.where(a < 0.5, small, big)
    return _ember_odd_sign(x, d, tl.where(a > 1.0, float("nan"), r)).to(x.dtype)
'''


# inverse trigonometric / hyperbolic functions: libdevice on the GPU
_CUDA += "".join(f"""

@triton.jit
def _ember_{name}({args}):
    return libdevice.{name}({args})
""" for name, args in (("asin", "x"), ("acos", "x"), ("atan", "x"), ("atan2", "y, x"),
                       ("asinh", "x"), ("acosh", "x"), ("atanh", "x")))
_INTERPRET += _interpret_inverse()
# special functions (prelude_special.py): shared f64 cores, erfc/lgamma per target
_COMMON += prelude_special.COMMON + prelude_bits.COMMON
_CUDA += prelude_special.CUDA
_INTERPRET += prelude_special.INTERPRET

PRELUDES = {"cuda": _COMMON + _CUDA, "interpret": _COMMON + _INTERPRET}
