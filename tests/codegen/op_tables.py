"""The scalar instructions' eager references and the dtypes each backend's kernel
tests run them on: one table for the MLIR tests (``test_mlir_backend.py``) and the
Triton tests (``tests/triton/triton_cases.py``)."""

from __future__ import annotations

import torch

from ember.codegen.kernel import SCALAR_OPS
from ember.ir.ops import POLY

TORCH_OPS = {
    "neg": torch.neg, "abs": torch.abs, "relu": torch.relu, "logical_not": torch.logical_not,
    "signbit": torch.signbit,
    "bitwise_left_shift": torch.bitwise_left_shift,
    "bitwise_right_shift": torch.bitwise_right_shift,
    "exp": torch.exp, "exp2": torch.exp2, "expm1": torch.expm1, "log": torch.log,
    "log2": torch.log2, "log1p": torch.log1p, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
    "erf": torch.erf, "sqrt": torch.sqrt, "rsqrt": torch.rsqrt, "reciprocal": torch.reciprocal,
    "sin": torch.sin, "cos": torch.cos, "floor": torch.floor, "ceil": torch.ceil,
    "trunc": torch.trunc, "add": torch.add, "sub": torch.sub, "mul": torch.mul,
    "div": torch.div, "pow": torch.pow, "maximum": torch.maximum, "minimum": torch.minimum,
    "logical_and": torch.logical_and, "logical_or": torch.logical_or, "eq": torch.eq,
    "ne": torch.ne, "lt": torch.lt, "le": torch.le, "gt": torch.gt, "ge": torch.ge,
    "where": torch.where,
    # division with rounding, remainders, inverse trig (tests/codegen/test_special_math.py)
    # and special functions (test_special_functions.py)
    "floordiv": torch.floor_divide, "remainder": torch.remainder, "fmod": torch.fmod,
    "truncdiv": lambda a, b: torch.div(a, b, rounding_mode="trunc"),
    "asin": torch.asin, "acos": torch.acos, "atan": torch.atan, "atan2": torch.atan2,
    "asinh": torch.asinh, "acosh": torch.acosh, "atanh": torch.atanh,
    "erfc": torch.erfc, "erfinv": torch.erfinv, "lgamma": torch.lgamma, "digamma": torch.digamma,
    "trigamma": lambda x: torch.polygamma(1, x), "i0": torch.i0, "i0e": torch.special.i0e,
    "i1": torch.special.i1, "i1e": torch.special.i1e, "erfcx": torch.special.erfcx,
    "log_ndtr": torch.special.log_ndtr, "ndtri": torch.special.ndtri,
    # Bessel and Airy functions (test_special_bessel.py)
    **{n: getattr(torch.special, n) for n in (
        "bessel_j0", "bessel_j1", "bessel_y0", "bessel_y1", "modified_bessel_i0",
        "modified_bessel_i1", "modified_bessel_k0", "modified_bessel_k1",
        "scaled_modified_bessel_k0", "scaled_modified_bessel_k1", "spherical_bessel_j0",
        "airy_ai")},
    # orthogonal polynomials (x, n) (test_special_poly.py)
    **{n: getattr(torch.special, n) for n in POLY},
    # the Hurwitz zeta function (x, q) (test_special_zeta.py)
    "zeta": torch.special.zeta,
    "bitwise_and": torch.bitwise_and, "bitwise_or": torch.bitwise_or,
    "bitwise_xor": torch.bitwise_xor, "bitwise_not": torch.bitwise_not,
    # IEEE bit editing (codegen/mlir/bits.py, triton/prelude_bits.py)
    "nextafter": torch.nextafter, "frexp_mantissa": lambda x: torch.frexp(x).mantissa,
    "frexp_exponent": lambda x: torch.frexp(x).exponent,
}
assert set(TORCH_OPS) == set(SCALAR_OPS)

F, I, B = ["f32", "f64"], ["i8", "i16", "i32", "i64", "u8"], ["b8"]
OP_DTYPES = {op: F for op in SCALAR_OPS}
OP_DTYPES.update({
    "neg": F + I, "abs": F + I, "relu": F + I, "floor": F + ["i32"], "ceil": F + ["i32"],
    "trunc": F + ["i64"], "logical_not": F + ["i32", "u8"] + B,
    "add": F + I + B, "sub": F + I, "mul": F + I + B,
    "maximum": F + I + B, "minimum": F + I + B,
    "logical_and": F + ["i32"] + B, "logical_or": F + ["i64"] + B,
    "where": F + ["i32", "i64"] + B,
    "bitwise_and": I + B, "bitwise_or": I + B, "bitwise_xor": I + B, "bitwise_not": I + B,
    "signbit": F + I + B,
    "bitwise_left_shift": I, "bitwise_right_shift": I,
})
for _cmp in ("eq", "ne", "lt", "le", "gt", "ge"):
    OP_DTYPES[_cmp] = F + I + B
OP_DTYPES["trigamma"] = ["f32"]
OP_DTYPES["nextafter"] = F  # f16/bf16 compute in f32: the importer leaves them to ATen  # eager's f64 trigamma truncates its series (~5e-10)
RESULT = {"frexp_exponent": "i32"}  # result dtypes other than the operands' (and b8)
BOOL_RESULT = {"logical_not", "logical_and", "logical_or", "eq", "ne", "lt", "le", "gt", "ge",
               "signbit"}
