"""Random numbers as library steps (``ember/ir/library_random.py``): every random ATen op
a program calls runs as a step calling that overload, in the program's order, so a
compiled function seeded like eager gives eager's numbers bit for bit; no pass merges,
drops or reorders a draw, and compiling draws nothing. The uninitialized factories
(empty_strided, new_empty_strided, empty_permuted) are steps too, with eager's strides."""

from __future__ import annotations

import pytest
import torch

import ember
from ember.ir import parse
from ember.passes import PassContext
from ember.passes.cse import cse
from ember.passes.dce import dce

from .test_library_linalg import assert_native, steps


def run_seeded(fn, *args, seeds=(0, 7)):
    """Compiled vs eager under the same seeds, bitwise; the compiled wrapper's report."""
    compiled = ember.compile(fn)
    for seed in seeds:
        with torch.no_grad():
            torch.manual_seed(seed)
            want = fn(*[a.clone() for a in args])
            torch.manual_seed(seed)
            got = compiled(*[a.clone() for a in args])
        want = want if isinstance(want, tuple) else (want,)
        got = got if isinstance(got, tuple) else (got,)
        assert len(got) == len(want)
        for i, (g, w) in enumerate(zip(got, want)):
            assert (g.dtype, g.shape, g.stride()) == (w.dtype, w.shape, w.stride()), i
            torch.testing.assert_close(g, w, rtol=0, atol=0, msg=lambda m: f"output {i}: {m}")
    return compiled.ember_report


X = torch.rand(4, 6)
P = torch.rand(3, 5) + 0.1

# name -> (function, args, library ops that must run)
CASES = {
    "rand-randn-randint": (lambda x: (torch.rand(3, 4) + x[:3, :4], torch.randn(5),
                                      torch.randint(0, 10, (6,)), torch.randint(7, (2, 2))),
                           (X,), ("rand", "randn", "randint_low", "randint")),
    "like": (lambda x: (torch.rand_like(x), torch.randn_like(x.t()) * 2,
                        torch.randint_like(x, 5), torch.randint_like(x, 2, 9)),
             (X,), ("rand_like", "randn_like", "randint_like", "randint_like_low")),
    "randperm": (lambda x: x[:, torch.randperm(6)], (X,), ("randperm",)),
    "bernoulli": (lambda x: (torch.bernoulli(x), torch.bernoulli(x, 0.3)), (X,),
                  ("rand", "bernoulli_p")),  # bernoulli(x) decomposes to rand < x
    "in-place-fills": (lambda x: (x.clone().uniform_(-2, 3), x.clone().normal_(1, 2),
                                  x.clone().exponential_(), x.clone().geometric_(0.4),
                                  x.clone().log_normal_(), x.clone().cauchy_()), (X,),
                       ("uniform", "normal_fill", "exponential", "geometric", "log_normal",
                        "cauchy")),
    "normal": (lambda m, s: (torch.normal(m, s), torch.normal(m, 2.0), torch.normal(1.0, s),
                             torch.normal(0.0, 1.0, (3, 2))), (X, X + 1),
               ("normal_tt", "normal_tf", "normal_ft", "normal_ff")),
    "multinomial": (lambda p: (torch.multinomial(p, 4), torch.multinomial(p[0], 9, True)),
                    (P,), ("multinomial",)),
    "dropout-then-kernel": (lambda x: torch.nn.functional.dropout(x, 0.4).relu() * 3, (X,),
                            ("native_dropout",)),
    "rrelu-training": (lambda x: torch.nn.functional.rrelu(x - 0.5, training=True), (X,),
                       ("rrelu_with_noise",)),
    "fractional-max-pool": (lambda x: torch.nn.functional.fractional_max_pool2d(
        x, 2, output_size=(3, 3)), (torch.rand(2, 3, 7, 7),), ("fractional_max_pool2d",)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_random_ops_are_library_steps_with_eagers_numbers(name):
    fn, args, library = CASES[name]
    assert_native(run_seeded(fn, *args), *library)


def test_draws_keep_program_order_whatever_order_they_are_used_in():
    def f(x):
        a = torch.rand(4)
        b = torch.randn(4)
        c = torch.rand(4)
        return c * 2 + x, b.exp(), a + b

    rep = run_seeded(f, torch.ones(4))
    lib = [n for k, n in steps(rep) if k == "library"]
    assert lib == ["rand", "randn", "rand"]


def test_compiling_draws_nothing_and_the_plan_draws_in_order():
    """Layouts come from meta tensors: building the plan leaves the generator alone
    (compile_graph directly: Dynamo would restore the state around a compile anyway)."""
    from ember import compiler

    torch.manual_seed(3)
    state = torch.get_rng_state()
    run = compiler.compile_graph(parse(_TWO_DRAWS), [torch.zeros(3)])
    assert torch.equal(state, torch.get_rng_state())
    (got,) = run(torch.zeros(3))
    after_call = torch.get_rng_state()
    torch.manual_seed(3)
    a, b, _ = torch.rand(3), torch.rand(3), torch.rand(3)  # the unused third draw too
    torch.testing.assert_close(got, a + b, rtol=0, atol=0)
    assert torch.equal(after_call, torch.get_rng_state())


_TWO_DRAWS = """
graph @g(%x: f32[3]) {
  %0: f32[3] = rand() {size=[3], dtype=none, layout=none, device=#device:cpu, pin_memory=none}
  %1: f32[3] = rand() {size=[3], dtype=none, layout=none, device=#device:cpu, pin_memory=none}
  %2: f32[3] = rand() {size=[3], dtype=none, layout=none, device=#device:cpu, pin_memory=none}
  %3: f32[3] = add(%0, %1)
  return %3
}
"""


def test_cse_keeps_both_draws_and_dce_keeps_an_unused_one():
    g = parse(_TWO_DRAWS)
    g = dce(cse(g, PassContext()), PassContext())
    assert [n.op for n in g.nodes] == ["rand", "rand", "rand", "add"]
    add = g.nodes[-1]
    assert add.inputs[0] is not add.inputs[1]


def test_an_explicit_generator_gives_eagers_numbers():
    gen = torch.Generator()

    def f(x):
        return torch.rand(3, generator=gen) + x

    compiled = ember.compile(f)
    gen.manual_seed(1)
    want = f(torch.zeros(3))
    gen.manual_seed(1)
    torch.testing.assert_close(compiled(torch.zeros(3)), want, rtol=0, atol=0)


def test_uninitialized_factories_have_eagers_strides():
    def f(x):
        a = torch.empty_strided((3, 4), (1, 3))
        b = x.new_empty_strided((2, 3), (1, 2))
        c = torch.empty_permuted((2, 3, 4), (2, 0, 1))
        d = torch.empty_like(x.t())
        return a, b, c, d

    x = torch.ones(3, 5)
    want = f(x)
    compiled = ember.compile(f)
    got = compiled(x)
    for g, w in zip(got, want):
        assert (g.shape, g.stride(), g.dtype) == (w.shape, w.stride(), w.dtype)
    assert_native(compiled.ember_report, "empty_strided", "new_empty_strided", "empty_permuted")
