"""Prelude helpers for the float bit-editing instructions (see ``codegen/mlir/bits.py``
for the semantics): ``nextafter`` on f32/f64 bits, ``frexp`` on the f32 or f64 compute
value (f16/bf16 values, mantissas and exponents are exact in f32). Shared by both
targets (bitcasts and integer ops only)."""

COMMON = '''

@triton.jit
def _ember_nextafter32(x, y):
    b = x.to(tl.int32, bitcast=True)
    up = (x < y) == (x > 0)
    r = tl.where(up, b + 1, b - 1).to(tl.float32, bitcast=True)
    tiny = tl.where(y < 0, -1.401298464324817e-45, 1.401298464324817e-45)
    r = tl.where(x == 0, tiny, r)
    r = tl.where(x == y, y, r)
    return tl.where((x != x) | (y != y), x + y, r)


@triton.jit
def _ember_nextafter64(x, y):
    b = x.to(tl.int64, bitcast=True)
    up = (x < y) == (x > 0)
    r = tl.where(up, b + 1, b - 1).to(tl.float64, bitcast=True)
    tiny = tl.where(y < 0, -5e-324, 5e-324).to(tl.float64)
    r = tl.where(x == 0, tiny, r)
    r = tl.where(x == y, y, r)
    return tl.where((x != x) | (y != y), x + y, r)


@triton.jit
def _ember_frexp32(x):
    sub = ((x.to(tl.int32, bitcast=True) >> 23) & 0xFF) == 0
    xs = tl.where(sub, x * 18446744073709551616.0, x)
    b = xs.to(tl.int32, bitcast=True)
    e = ((b >> 23) & 0xFF) - 126 - tl.where(sub, 64, 0)
    m = ((b & -2139095041) | (126 << 23)).to(tl.float32, bitcast=True)
    special = (x == 0) | (x != x) | (tl.abs(x) == float("inf"))
    return tl.where(special, x, m), tl.where(special, 0, e)


@triton.jit
def _ember_frexp64(x):
    sub = ((x.to(tl.int64, bitcast=True) >> 52) & 0x7FF) == 0
    xs = tl.where(sub, x * 3.402823669209385e+38, x)
    b = xs.to(tl.int64, bitcast=True)
    e = ((b >> 52) & 0x7FF) - 1022 - tl.where(sub, 128, 0)
    m = ((b & -9218868437227405313) | (1022 << 52)).to(tl.float64, bitcast=True)
    special = (x == 0) | (x != x) | (tl.abs(x) == float("inf"))
    return tl.where(special, x, m), tl.where(special, 0, e).to(tl.int32)
'''
COMMON += '''

@triton.jit
def _ember_frexp_m32(x):
    m, e = _ember_frexp32(x)
    return m


@triton.jit
def _ember_frexp_e32(x):
    m, e = _ember_frexp32(x)
    return e


@triton.jit
def _ember_frexp_m64(x):
    m, e = _ember_frexp64(x)
    return m


@triton.jit
def _ember_frexp_e64(x):
    m, e = _ember_frexp64(x)
    return e
'''
