"""Checks for topic 7, causal attention (book section 3.5)."""

import torch

import torch.nn.functional as F

from grader.engine.checks import (causal, check, generator, load_weights, on_another_device, one_device,
                           seeded_construction, sizes, sums_to_one, variant)
from grader.engine.variant_math import attend, project, with_last_token_changed

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


def attention(x, weights, dropout_seed=None, dropout=0.0, on_inputs=False, on_scores=False, on_context=False,
              **knobs):
    """CausalAttention's forward in plain torch, with attend's knobs; dropout (after
    torch.manual_seed(dropout_seed)) on the inputs, the scores, or the context vectors."""
    drop = lambda t: F.dropout(t, dropout, training=True)  # noqa: E731
    if dropout_seed is not None:
        torch.manual_seed(dropout_seed)
    if on_inputs:
        x = drop(x)
    q, k, v = (project(x, weights, name) for name in ("W_query", "W_key", "W_value"))
    if on_scores:  # the book's order, with dropout between the masked scores and softmax
        scores = (q @ k.transpose(1, 2)).masked_fill(torch.triu(torch.ones(x.shape[1], x.shape[1], dtype=torch.bool),
                                                               diagonal=1), -torch.inf)
        return torch.softmax(drop(scores) / k.shape[-1] ** 0.5, dim=-1) @ v
    context = attend(q, k, v, **knobs)
    return drop(context) if on_context else context


@variant("your attention has no causal mask: every query sees every key, the future ones too (did masked_fill, "
         "without the underscore, return a masked copy that was never used?)")
def unmasked(x, weights, **_):
    return attention(x, weights, causal=False)


@variant("your masked scores are 0, not -inf, before softmax, so the future keys still get weight")
def masked_with_zero(x, weights, **_):
    return attention(x, weights, fill=0.0)


@variant("your future attention weights are set to 0 after softmax, so each row sums to less than 1: mask the "
         "scores with -inf before softmax")
def masked_after_softmax(x, weights, **_):
    return attention(x, weights, fill=0.0, mask_after_softmax=True)


@variant("your mask starts two diagonals above the main one (diagonal=2), so each query also sees the next "
         "token's key")
def mask_from_the_second_diagonal(x, weights, **_):
    return attention(x, weights, diagonal=2)


@variant("your attention weights equal softmax(scores) without the division by sqrt(d_k) (d_k = keys.shape[-1])")
def not_scaled(x, weights, **_):
    return attention(x, weights, divisor=1.0)


@variant("your attention weights equal softmax(scores / d_k) where the book divides by sqrt(d_k)")
def scaled_by_d_k(x, weights, **_):
    return attention(x, weights, divisor=float(weights["W_key.weight"].shape[0]))


@variant("your scores are divided by sqrt(d_in), the inputs' size, where the book divides by sqrt(d_k), the keys' "
         "size (keys.shape[-1])")
def scaled_by_sqrt_d_in(x, weights, **_):
    return attention(x, weights, divisor=x.shape[-1] ** 0.5)


@variant("your scores are divided by sqrt(num_tokens) where the book divides by sqrt(d_k) (keys.shape[-1], the "
         "last dim: in a batch, keys.shape[1] is num_tokens)")
def scaled_by_sqrt_num_tokens(x, weights, **_):
    return attention(x, weights, divisor=x.shape[1] ** 0.5)


@variant("your attention weights are divided by sqrt(d_k) after softmax, not the scores before it")
def scaled_after_softmax(x, weights, **_):
    return attention(x, weights, scale_after_softmax=True)


@variant("your softmax runs over dim 1 (the queries) of the (batch, query, key) scores: take it over the keys, dim=-1")
def softmax_over_the_queries(x, weights, **_):
    return attention(x, weights, softmax_dim=1)


@variant("your context vectors are weighted sums of the keys where the book uses the values")
def weights_times_keys(x, weights, **_):
    return attention(x, dict(weights, **{"W_value.weight": weights["W_key.weight"]}))


SCORE_VARIANTS = (unmasked, masked_with_zero, masked_after_softmax, mask_from_the_second_diagonal, not_scaled,
                  scaled_by_d_k, scaled_by_sqrt_d_in, scaled_by_sqrt_num_tokens, scaled_after_softmax, softmax_over_the_queries, weights_times_keys)


@variant("your dropout does nothing in train mode: apply self.dropout (an nn.Dropout) to the attention weights")
def dropout_off(x, weights, **_):
    return attention(x, weights)


@variant("your dropout is applied to the inputs x, not to the attention weights")
def dropout_on_the_inputs(x, weights, dropout, **_):
    return attention(x, weights, dropout_seed=123, dropout=dropout, on_inputs=True)


@variant("your dropout is applied to the scores before softmax, not to the attention weights after it")
def dropout_on_the_scores(x, weights, dropout, **_):
    return attention(x, weights, dropout_seed=123, dropout=dropout, on_scores=True)


@variant("your dropout is applied to the context vectors, not to the attention weights")
def dropout_on_the_context(x, weights, dropout, **_):
    return attention(x, weights, dropout_seed=123, dropout=dropout, on_context=True)


@variant("your mask is torch.tril(..., diagonal=1): it hides the past and the diagonal and leaves the future "
         "visible; the future is the upper triangle, torch.triu(..., diagonal=1)")
def mask_of_the_past(num_tokens):
    return torch.ones(num_tokens, num_tokens, dtype=torch.bool).tril(1)


@variant("your mask is transposed: True below the diagonal hides the past; the future is above it, "
         "torch.triu(..., diagonal=1)")
def mask_transposed(num_tokens):
    return torch.ones(num_tokens, num_tokens, dtype=torch.bool).tril(-1)


@variant("your mask leaves the next token visible: it starts two diagonals above the main one (diagonal=2), "
         "not one (diagonal=1)")
def mask_two_above_the_diagonal(num_tokens):
    return torch.ones(num_tokens, num_tokens, dtype=torch.bool).triu(2)


@variant("your mask is the opposite of the book's: True where a query may look, False above the diagonal")
def mask_inverted(num_tokens):
    return ~torch.ones(num_tokens, num_tokens, dtype=torch.bool).triu(1)


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=lambda seed: sizes(seed, num_tokens=6), dims=("query", "key"),
       variants=(mask_of_the_past, mask_transposed, mask_two_above_the_diagonal, mask_inverted))
def mask_hides_only_the_future(m, num_tokens):
    """causal_mask(num_tokens): True above the diagonal, as a bool tensor"""
    return m.causal_mask(num_tokens)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=lambda seed: {"seed": 123}, judge=seeded_construction)
def parameters_created_in_book_order(m, seed):
    """torch.manual_seed(123); CausalAttention(3, 2, 6, 0.0).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.CausalAttention(3, 2, 6, 0.0).named_parameters())


@check(task=2, inputs=attention_inputs, dims=DIMS, variants=SCORE_VARIANTS)
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


@check(task=2, inputs=attention_inputs, judge=causal(DIMS, CAUSAL_ADVICE), dims=DIMS,
       variants=with_last_token_changed(SCORE_VARIANTS))
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

# dropout=0.2, not 0.5: nn.Dropout(1 - dropout) (a keep probability, TF1's habit) is then another rate.
@check(task=3, inputs=lambda seed: attention_inputs(seed, dropout=0.2), dims=DIMS,
       variants=(dropout_off, dropout_on_the_inputs, dropout_on_the_scores, dropout_on_the_context))
def dropout_on_attention_weights_in_train_mode(m, x, weights, context_length, dropout):
    """CausalAttention(..., dropout=0.2) in train mode, after torch.manual_seed(123): dropout applied once, to the attention weights"""
    attention = build(m, x, weights, context_length, dropout).train()
    torch.manual_seed(123)
    return attention(x)


@check(task=3, inputs=lambda seed: attention_inputs(seed, dropout=0.5), dims=DIMS)
def no_dropout_in_eval_mode(m, x, weights, context_length, dropout):
    """CausalAttention(..., dropout=0.5).eval(): dropout is off, outputs equal the dropout-free ones"""
    return build(m, x, weights, context_length, dropout).eval()(x)


# Backward through the weights: an in-place dropout (nn.Dropout(inplace=True)) overwrites softmax's
# output, which softmax's backward needs, so training fails although every forward above passes.
GRAD_DIMS = {name: ("d_out", "d_in") for name in ("W_query.weight", "W_key.weight", "W_value.weight")}


# Gradients sum over every position and go through softmax's backward: 1e-4 leaves room for the
# last bits another CPU's kernels round differently, and no wrong gradient comes that close.
@check(task=3, inputs=lambda seed: attention_inputs(seed, dropout=0.2), dims=GRAD_DIMS, rtol=1e-4, atol=1e-5)
def training_step_backpropagates_through_dropout(m, x, weights, context_length, dropout):
    """CausalAttention(..., dropout=0.2) in train mode, after torch.manual_seed(123): the gradients of out.sum() for W_query, W_key, W_value"""
    attention = build(m, x, weights, context_length, dropout).train()
    torch.manual_seed(123)
    attention(x).sum().backward()
    return {name: p.grad for name, p in attention.named_parameters()}
