"""Checks for topic 7, causal attention (book section 3.5)."""

import torch

from grader.engine.checks import (causal, check, generator, load_weights, on_another_device, one_device,
                           seeded_construction, sizes, sums_to_one)

MASK_DEVICE_ADVICE = ("Keep it as a buffer, self.register_buffer('mask', ...) in __init__, so that .to(device) "
                      "moves it with the weights; a tensor made in forward needs device=x.device.")
DIMS = ("batch", "num_tokens", "d_out")
# With every value vector all ones, each context vector is the sum of its row of attention weights.
VALUES_ARE_ONES = lambda t: t[..., 0]  # noqa: E731
SUM_ADVICE = ("Softmax over the last dim (the keys) makes each query's weights sum to 1; "
              "masked scores must be -inf before softmax.")
CAUSAL_ADVICE = "The mask must hide every key after the query, and be applied before softmax."


def attention_inputs(seed: int, dropout: float = 0.0) -> dict:
    """A batch and a set of weights, every dimension a different size."""
    n = sizes(seed, batch=2, num_tokens=5, d_in=3, d_out=4)
    g = generator(seed)
    context_length = n["num_tokens"] + 1  # shorter inputs than the context must work too
    weights = {name: torch.randn(n["d_out"], n["d_in"], generator=g)
               for name in ("W_query.weight", "W_key.weight", "W_value.weight")}
    return {"x": torch.randn(n["batch"], n["num_tokens"], n["d_in"], generator=g),
            "weights": weights, "context_length": context_length, "dropout": dropout}


def build(m, x, weights, context_length, dropout, qkv_bias=False):
    d_out, d_in = weights["W_query.weight"].shape
    return load_weights(m.CausalAttention(d_in, d_out, context_length, dropout, qkv_bias=qkv_bias), weights)


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=lambda seed: sizes(seed, num_tokens=6), dims=("query", "key"))
def mask_hides_only_the_future(m, num_tokens):
    """causal_mask(num_tokens): True above the diagonal, as a bool tensor"""
    return m.causal_mask(num_tokens)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=lambda seed: {"seed": 123}, judge=seeded_construction)
def parameters_created_in_book_order(m, seed):
    """torch.manual_seed(123); CausalAttention(3, 2, 6, 0.0).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.CausalAttention(3, 2, 6, 0.0).named_parameters())


@check(task=2, inputs=attention_inputs, dims=DIMS)
def context_vectors_match(m, x, weights, context_length, dropout):
    """CausalAttention(d_in=3, d_out=4, context_length=6, dropout=0.0) with given weights, on x of shape (batch=2, num_tokens=5, d_in=3)"""
    return build(m, x, weights, context_length, dropout)(x)


@check(task=2, inputs=attention_inputs, judge=one_device("a tensor such as the mask", MASK_DEVICE_ADVICE))
def mask_is_on_the_inputs_device(m, x, weights, context_length, dropout):
    """CausalAttention and x moved to another device than the CPU (PyTorch's meta device): the mask must follow the module there"""
    return on_another_device(build(m, x, weights, context_length, dropout), x)


@check(task=2, inputs=attention_inputs, judge=sums_to_one(DIMS, SUM_ADVICE, sums=VALUES_ARE_ONES), dims=DIMS)
def attention_weights_sum_to_one(m, x, weights, context_length, dropout):
    """CausalAttention(..., qkv_bias=True) whose values are all 1, so each output is the sum of its attention weights"""
    weights = dict(weights, **{"W_value.weight": torch.zeros_like(weights["W_value.weight"])})
    d_out = weights["W_query.weight"].shape[0]
    weights |= {"W_query.bias": torch.zeros(d_out), "W_key.bias": torch.zeros(d_out),
                "W_value.bias": torch.ones(d_out)}
    return build(m, x, weights, context_length, dropout, qkv_bias=True)(x)


@check(task=2, inputs=attention_inputs, judge=causal(DIMS, CAUSAL_ADVICE), dims=DIMS)
def later_tokens_do_not_change_earlier_outputs(m, x, weights, context_length, dropout):
    """CausalAttention on x, then on x with its last token changed: earlier outputs must stay the same"""
    attention = build(m, x, weights, context_length, dropout)
    changed = x.clone()
    changed[:, -1] += 10.0
    return attention(x), attention(changed)


@check(task=2, inputs=lambda seed: {"context_length": 6 + seed % 4})
def mask_is_a_registered_buffer(m, context_length):
    """CausalAttention(3, 4, context_length, 0.0).named_buffers(): a buffer called mask, (context_length, context_length)"""
    module = m.CausalAttention(3, 4, context_length, 0.0)
    return {name: tuple(buffer.shape) for name, buffer in module.named_buffers()}


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=lambda seed: attention_inputs(seed, dropout=0.5), dims=DIMS)
def dropout_on_attention_weights_in_train_mode(m, x, weights, context_length, dropout):
    """CausalAttention(..., dropout=0.5) in train mode, after torch.manual_seed(123): dropout applied once, to the attention weights"""
    attention = build(m, x, weights, context_length, dropout).train()
    torch.manual_seed(123)
    return attention(x)


@check(task=3, inputs=lambda seed: attention_inputs(seed, dropout=0.5), dims=DIMS)
def no_dropout_in_eval_mode(m, x, weights, context_length, dropout):
    """CausalAttention(..., dropout=0.5).eval(): dropout is off, outputs equal the dropout-free ones"""
    return build(m, x, weights, context_length, dropout).eval()(x)
