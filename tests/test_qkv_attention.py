"""Checks for topic 7, self-attention with trainable weights (book section 3.4)."""

import torch

from grader.engine.checks import Failed, Variant, check, generator, load_weights, seeded_construction, sizes, sums_to_one, variant
from grader.engine.variant_math import attend

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


# Variants: wrong versions computed on the check's inputs, named when an output equals one -----------

def v1_attention(x, weights, keys_as_values=False, scores_transposed=False, **knobs):
    """SelfAttention_v1 in plain torch (weights of shape (d_in, d_out)), with attend's knobs."""
    q, k, v = (x @ weights[name] for name in NAMES)
    if scores_transposed:
        q, k = k, q
    return attend(q, k, k if keys_as_values else v, causal=False, **knobs)


@variant("your attention weights equal softmax(scores) without the division by sqrt(d_k) (d_k = keys.shape[-1])")
def not_scaled(x, weights):
    return v1_attention(x, weights, divisor=1.0)


@variant("your attention weights equal softmax(scores / d_k) where the book divides by sqrt(d_k)")
def scaled_by_d_k(x, weights):
    return v1_attention(x, weights, divisor=float(weights["W_key"].shape[1]))


@variant("your scores are divided by sqrt(d_in), the inputs' size, where the book divides by sqrt(d_k), the keys' "
         "size (keys.shape[-1])")
def scaled_by_sqrt_d_in(x, weights):
    return v1_attention(x, weights, divisor=x.shape[-1] ** 0.5)


@variant("your scores are divided by sqrt(num_tokens) where the book divides by sqrt(d_k) (keys.shape[-1], the "
         "last dim, not the first)")
def scaled_by_sqrt_num_tokens(x, weights):
    return v1_attention(x, weights, divisor=x.shape[0] ** 0.5)


@variant("your attention weights are divided by sqrt(d_k) after softmax, not the scores before it")
def scaled_after_softmax(x, weights):
    return v1_attention(x, weights, scale_after_softmax=True)


@variant("your softmax runs over dim 0, so each column of the attention weights sums to 1 instead of each row")
def softmax_over_dim_0(x, weights):
    return v1_attention(x, weights, softmax_dim=0)


@variant("your scores are keys @ queries.T, the transpose of queries @ keys.T")
def scores_transposed(x, weights):
    return v1_attention(x, weights, scores_transposed=True)


@variant("your context vectors are weighted sums of the keys where the book uses the values")
def weights_times_keys(x, weights):
    return v1_attention(x, weights, keys_as_values=True)


V1_VARIANTS = (not_scaled, scaled_by_d_k, scaled_by_sqrt_d_in, scaled_by_sqrt_num_tokens, scaled_after_softmax,
               softmax_over_dim_0, scores_transposed, weights_times_keys)


def as_v2(v: Variant) -> Variant:
    """The same variant for SelfAttention_v2's inputs: nn.Linear's weights, (d_out, d_in), transposed."""
    def compute(x, weights):
        return v.compute(x, {name: weights[f"{name}.weight"].T for name in NAMES})
    return Variant(v.name, v.says.replace("SelfAttention_v1", "SelfAttention_v2"), compute)


@variant("your transfer_weights copies the key weights into W_query and the query weights into W_key")
def query_and_key_swapped(x, weights):
    w = {name: weights[f"{name}.weight"].T for name in NAMES}
    w["W_query"], w["W_key"] = w["W_key"], w["W_query"]
    return w | {"sa_v1(x)": v1_attention(x, w)}


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=lambda seed: {"seed": 123}, judge=seeded_construction)
def v1_parameters_created_in_book_order(m, seed):
    """torch.manual_seed(123); SelfAttention_v1(3, 2).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.SelfAttention_v1(3, 2).named_parameters())


def _trainable(got, expected):
    frozen = sorted(name for name, grad in got.items() if grad is False) if isinstance(got, dict) else []
    if frozen:
        raise Failed("wrong_values", f"{', '.join(frozen)} {'has' if len(frozen) == 1 else 'have'} requires_grad=False, so "
                     f"training would never change {'it' if len(frozen) == 1 else 'them'}: nn.Parameter(torch.rand(d_in, "
                     f"d_out)) keeps the default, requires_grad=True (the book turns it off only to print numbers).")
    if got != expected:
        raise Failed("wrong_values", f"requires_grad of SelfAttention_v1's parameters: expected {expected}, got {got}")


@check(task=1, inputs=lambda seed: {"seed": 123}, judge=_trainable)
def v1_weights_are_trainable(m, seed):
    """SelfAttention_v1(3, 2): requires_grad of each parameter (they are weights to be trained)"""
    torch.manual_seed(seed)
    return {name: p.requires_grad for name, p in m.SelfAttention_v1(3, 2).named_parameters()}


@check(task=1, inputs=lambda seed: attention_inputs(seed, linear=False), dims=DIMS, variants=V1_VARIANTS)
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


@check(task=2, inputs=attention_inputs, dims=DIMS, variants=tuple(as_v2(v) for v in V1_VARIANTS))
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
       dims={name: ("d_in", "d_out") for name in NAMES} | {"sa_v1(x)": DIMS}, variants=(query_and_key_swapped,))
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
