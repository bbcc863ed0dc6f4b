"""Helper ``@triton.jit`` functions every generated module starts with.

Generated kernels call these by name (``_ember_expm1``...), so the kernel text
is the same for both targets and only the prelude differs: ``"cuda"`` uses
libdevice and hardware conversions; ``"interpret"`` uses formulations that
Triton's CPU interpreter can run (it has no libdevice: extern calls raise; and it
rounds f32 -> bf16 by truncation). Both use Triton builtins only (see the
package docstring for why ``tl.sum``-style standard functions are avoided).
"""

# Helper functions shared by both targets: reduction combiners and the parts of
# the contract with exact portable formulations.
_COMMON = '''
@triton.jit
def _ember_add(a, b):
    return a + b


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

PRELUDES = {"cuda": _COMMON + _CUDA, "interpret": _COMMON + _INTERPRET}
