"""Op-table cases of the random library ops and the uninitialized factories
(``ember/ir/library_random.py``), added to ``cases.CASES`` by :func:`random_cases`, and
their direct torch calls (:data:`RANDOM_DIRECT`, the user-level API).

The table's tests seed the global generator before every call of a random op (the
eager reference, the direct call, each compiled call), so all of them must give the
same numbers; the uninitialized factories are compared by shape, dtype and strides.
"""

from __future__ import annotations

import torch

from ember.ir import OPS

CPU = torch.device("cpu")
_F = dict(dtype=None, layout=None, device=CPU, pin_memory=None)  # factory attributes
_L = dict(_F, memory_format=None)  # *_like attributes
UNINITIALIZED = frozenset({"empty_strided", "new_empty_strided", "empty_permuted"})


def draws(op: str) -> bool:
    return OPS[op].random


def random_cases(add, A) -> None:
    """Adds the cases through ``add`` (``cases.add``; ``A`` is ``cases.A``)."""
    g = dict(generator=None)
    add("bernoulli", "f32-probabilities", A(4, 5, dom="prob"), **g)
    add("bernoulli", "f64-transposed", A(3, 4, dt="f64", dom="prob", lay="transposed"), **g)
    add("bernoulli_p", "f32", A(6, 7), p=0.3, **g)
    add("bernoulli_p", "bf16", A(5, dt="bf16"), p=0.5, **g)
    add("uniform", "f32", A(3, 8), **{"from": -2.0, "to": 3.0}, **g)
    add("normal_fill", "f64", A(4, 4, dt="f64"), mean=1.0, std=2.0, **g)
    add("exponential", "f32", A(9), lambd=1.5, **g)
    add("geometric", "f32", A(9), p=0.4, **g)
    add("log_normal", "f16", A(9, dt="f16"), mean=1.0, std=0.5, **g)
    add("cauchy", "f32", A(2, 5), median=0.0, sigma=1.0, **g)
    add("random_bits", "f32", A(6), **g)
    add("random_bits", "i64", A(6, dt="i64"), **g)
    add("rand_like", "f32-transposed", A(3, 5, lay="transposed"), **_L)
    add("rand_like", "to-f64", A(3, 5), **{**_L, "dtype": "f64"})
    add("randn_like", "bf16", A(2, 3, dt="bf16"), **_L)
    add("randint_like", "i64", A(4, dt="i64"), high=10, **_L)
    add("randint_like_low", "f32", A(4), low=-3, high=3, **_L)
    add("rand", "f32", size=(3, 4), **_F)
    add("rand", "f64", size=(5,), **{**_F, "dtype": "f64"})
    add("randn", "f32", size=(2, 3), **_F)
    add("randint", "i64", high=7, size=(8,), **{**_F, "dtype": "i64"})
    add("randint_low", "i32", low=-5, high=5, size=(2, 4), **{**_F, "dtype": "i32"})
    add("randperm", "i64", n=9, **{**_F, "dtype": "i64"})
    add("normal_tt", "f32-broadcast", A(3, 1), A(4, dom="positive"), **g)
    add("normal_tt", "dtypes-rejected", A(3), A(3, dt="f64"), **g, reject=True)
    add("normal_tf", "f32", A(5), std=0.5, **g)
    add("normal_ft", "f64", A(5, dt="f64", dom="positive"), mean=2.0, **g)
    add("normal_ff", "f32", mean=0.0, std=1.0, size=(3, 3), **g, **_F)
    add("multinomial", "f32-2d", A(3, 6, dom="positive"), num_samples=4, replacement=False,
        **g)
    add("multinomial", "f64-1d-replacement", A(5, dt="f64", dom="positive"), num_samples=12,
        replacement=True, **g)
    add("multinomial", "3d-rejected", A(2, 3, 4), num_samples=2, replacement=True, **g,
        reject=True)
    add("native_dropout", "f32-train", A(6, 5), p=0.3, train=True)
    add("native_dropout", "f32-eval", A(6, 5), p=0.3, train=False)
    add("rrelu_with_noise", "f32-training", A(4, 5), A(4, 5), lower=0.1, upper=0.3,
        training=True, **g)
    add("empty_strided", "f32-column-major", size=(3, 4), stride=(1, 3), **_F)
    add("new_empty_strided", "i64", A(2, dt="i64"), size=(2, 3), stride=(1, 2), **_F)
    add("empty_permuted", "f32", size=(2, 3, 4), physical_layout=(2, 0, 1), **_F)
    add("empty_strided", "negative-size-rejected", size=(-1, 4), stride=(4, 1), **_F,
        reject=True)
    add("fractional_max_pool2d", "f32", A(2, 3, 7, 7), A(2, 3, 2, dom="prob"),
        kernel_size=(2, 2), output_size=(3, 3))
    add("fractional_max_pool3d", "f64", A(1, 2, 5, 5, 5, dt="f64"),
        A(1, 2, 3, dt="f64", dom="prob"), kernel_size=(2, 2, 2), output_size=(2, 3, 2))
    add("fractional_max_pool2d", "output-size-rejected", A(2, 3, 7, 7), A(2, 3, 2),
        kernel_size=(2, 2), output_size=(3,), reject=True)


def _factory(kw):
    return {k: v for k, v in kw.items() if k in ("dtype", "layout", "device", "pin_memory")}


def _dt(kw):
    from ember.ir.dtypes import to_torch

    out = _factory(kw)
    if out.get("dtype") is not None:
        out["dtype"] = to_torch(out["dtype"])
    return out


RANDOM_DIRECT = {
    "bernoulli": lambda x, generator: torch.bernoulli(x),
    "bernoulli_p": lambda x, p, generator: torch.bernoulli(x, p),
    "uniform": lambda x, generator, **kw: x.clone().uniform_(kw["from"], kw["to"]),
    "normal_fill": lambda x, mean, std, generator: x.clone().normal_(mean, std),
    "exponential": lambda x, lambd, generator: x.clone().exponential_(lambd),
    "geometric": lambda x, p, generator: x.clone().geometric_(p),
    "log_normal": lambda x, mean, std, generator: x.clone().log_normal_(mean, std),
    "cauchy": lambda x, median, sigma, generator: x.clone().cauchy_(median, sigma),
    "random_bits": lambda x, generator: x.clone().random_(),
    "rand_like": lambda x, **kw: torch.rand_like(x, **_dt(kw)),
    "randn_like": lambda x, **kw: torch.randn_like(x, **_dt(kw)),
    "randint_like": lambda x, high, **kw: torch.randint_like(x, high, **_dt(kw)),
    "randint_like_low": lambda x, low, high, **kw: torch.randint_like(x, low, high, **_dt(kw)),
    "rand": lambda size, **kw: torch.rand(size, **_dt(kw)),
    "randn": lambda size, **kw: torch.randn(size, **_dt(kw)),
    "randint": lambda high, size, **kw: torch.randint(high, size, **_dt(kw)),
    "randint_low": lambda low, high, size, **kw: torch.randint(low, high, size, **_dt(kw)),
    "randperm": lambda n, **kw: torch.randperm(n, **_dt(kw)),
    "normal_tt": lambda m, s, generator: torch.normal(m, s),
    "normal_tf": lambda m, std, generator: torch.normal(m, std),
    "normal_ft": lambda s, mean, generator: torch.normal(mean, s),
    "normal_ff": lambda mean, std, size, generator, **kw: torch.normal(mean, std, size,
                                                                       **_dt(kw)),
    "multinomial": lambda p, num_samples, replacement, generator:
        torch.multinomial(p, num_samples, replacement),
    "native_dropout": lambda x, p, train: torch.native_dropout(x, p, train),
    "rrelu_with_noise": lambda x, noise, lower, upper, training, generator:
        torch.ops.aten.rrelu_with_noise_functional(x, noise, lower, upper, training),
    "empty_strided": lambda size, stride, **kw: torch.empty_strided(size, stride, **_dt(kw)),
    "new_empty_strided": lambda x, size, stride, **kw: x.new_empty_strided(size, stride,
                                                                          **_dt(kw)),
    "empty_permuted": lambda size, physical_layout, **kw:
        torch.empty_permuted(size, physical_layout, **_dt(kw)),
    "fractional_max_pool2d": lambda x, s, kernel_size, output_size:
        torch.nn.functional.fractional_max_pool2d(x, kernel_size, output_size=output_size,
                                                  _random_samples=s, return_indices=True),
    "fractional_max_pool3d": lambda x, s, kernel_size, output_size:
        torch.nn.functional.fractional_max_pool3d(x, kernel_size, output_size=output_size,
                                                  _random_samples=s, return_indices=True),
}
