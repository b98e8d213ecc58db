"""Checks for topic 7, self-attention with trainable weights (book section 3.4)."""

import torch

from grader.engine.checks import Failed, check, generator, load_weights, seeded_construction, sizes, sums_to_one

# The book's embeddings of "Your journey starts with one step" (num_tokens=6, d_in=3).
BOOK_INPUTS = [[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64],
               [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]]

DIMS = ("num_tokens", "d_out")
NAMES = ("W_query", "W_key", "W_value")


def attention_inputs(seed: int, linear: bool = True) -> dict:
    """x and three weight matrices: nn.Linear's (d_out, d_in) layout if `linear`, else v1's (d_in, d_out)."""
    n = sizes(seed, num_tokens=6, d_in=3, d_out=2)
    g = generator(seed)
    x = torch.tensor(BOOK_INPUTS) if seed == 0 else torch.rand(n["num_tokens"], n["d_in"], generator=g)
    if linear:
        weights = {f"{name}.weight": torch.randn(n["d_out"], n["d_in"], generator=g) for name in NAMES}
    else:
        weights = {name: torch.randn(n["d_in"], n["d_out"], generator=g) for name in NAMES}
    return {"x": x, "weights": weights}


def build_v2(m, weights, qkv_bias=False):
    d_out, d_in = weights["W_query.weight"].shape
    return load_weights(m.SelfAttention_v2(d_in, d_out, qkv_bias=qkv_bias), weights)


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=lambda seed: {"seed": 123}, judge=seeded_construction)
def v1_parameters_created_in_book_order(m, seed):
    """torch.manual_seed(123); SelfAttention_v1(3, 2).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.SelfAttention_v1(3, 2).named_parameters())


@check(task=1, inputs=lambda seed: attention_inputs(seed, linear=False), dims=DIMS)
def v1_context_vectors_match(m, x, weights):
    """SelfAttention_v1(d_in=3, d_out=2) with given W_query, W_key, W_value of shape (d_in, d_out), on x of shape (num_tokens=6, d_in=3)"""
    d_in, d_out = weights["W_query"].shape
    return load_weights(m.SelfAttention_v1(d_in, d_out), weights)(x)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=lambda seed: {"seed": 789}, judge=seeded_construction)
def v2_parameters_created_in_book_order(m, seed):
    """torch.manual_seed(789); SelfAttention_v2(3, 2).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.SelfAttention_v2(3, 2).named_parameters())


@check(task=2, inputs=attention_inputs, dims=DIMS)
def v2_context_vectors_match(m, x, weights):
    """SelfAttention_v2(d_in=3, d_out=2) with given layer weights of shape (d_out, d_in), on x of shape (num_tokens=6, d_in=3)"""
    return build_v2(m, weights)(x)


@check(task=2, inputs=attention_inputs, judge=sums_to_one(DIMS, "Softmax over the last dim (the keys) makes each query's weights sum to 1.", sums=lambda t: t[..., 0]), dims=DIMS)
def v2_attention_weights_sum_to_one(m, x, weights):
    """SelfAttention_v2(..., qkv_bias=True) whose values are all 1, so each output is the sum of its attention weights"""
    d_out = weights["W_query.weight"].shape[0]
    weights = dict(weights, **{"W_value.weight": torch.zeros_like(weights["W_value.weight"]),
                               "W_query.bias": torch.zeros(d_out), "W_key.bias": torch.zeros(d_out),
                               "W_value.bias": torch.ones(d_out)})
    return build_v2(m, weights, qkv_bias=True)(x)


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=attention_inputs,
       dims={name: ("d_in", "d_out") for name in NAMES} | {"sa_v1(x)": DIMS})
def transfer_puts_v2_weights_transposed_into_v1(m, x, weights):
    """transfer_weights(sa_v2, sa_v1) with SelfAttention_v2(3, 2) holding given weights: sa_v1's W_query, W_key, W_value, then sa_v1(x)"""
    sa_v2 = build_v2(m, weights)
    d_out, d_in = weights["W_query.weight"].shape
    sa_v1 = m.SelfAttention_v1(d_in, d_out)
    m.transfer_weights(sa_v2, sa_v1)
    return {"W_query": sa_v1.W_query, "W_key": sa_v1.W_key, "W_value": sa_v1.W_value, "sa_v1(x)": sa_v1(x)}


def _returns_its_argument(got, expected):
    if got != expected:
        raise Failed("wrong_values", f"transfer_weights returned {got}, not the sa_v1 it was given. Copy the weights "
                     f"into sa_v1 in place, then `return sa_v1`.")


@check(task=3, inputs=attention_inputs, judge=_returns_its_argument)
def transfer_returns_the_v1_it_was_given(m, x, weights):
    """transfer_weights(sa_v2, sa_v1) returns sa_v1 itself"""
    sa_v2 = build_v2(m, weights)
    d_out, d_in = weights["W_query.weight"].shape
    sa_v1 = m.SelfAttention_v1(d_in, d_out)
    returned = m.transfer_weights(sa_v2, sa_v1)
    return "sa_v1" if returned is sa_v1 else "None" if returned is None else f"another {type(returned).__name__}"
