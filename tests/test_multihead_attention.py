"""Checks for topic 9, multi-head attention (book section 3.6)."""

from functools import partial

import torch

import torch.nn.functional as F

from grader.engine.checks import (DEEP_ATOL, DEEP_RTOL, causal, check, compare, Failed, generator, load_weights,
                           on_another_device, one_device, seeded_construction, sizes, sums_to_one, variant)
from grader.engine.variant_math import attend, merge_heads, multi_head, project, with_last_token_changed

# Deep outputs: the float32 tolerance of grader.checks.DEEP_RTOL/DEEP_ATOL for every check here
# that does not state its own (another CPU's kernels must not change a verdict).
check = partial(check, rtol=DEEP_RTOL, atol=DEEP_ATOL)

MASK_DEVICE_ADVICE = ("Keep it as a buffer, self.register_buffer('mask', ...) in __init__, so that .to(device) "
                      "moves it with the weights; a tensor made in forward needs device=x.device.")
DIMS = ("batch", "num_tokens", "d_out")
SUM_ADVICE = ("Softmax over the last dim (the keys) makes each query's weights sum to 1; masked scores must "
              "be -inf before softmax.")
CAUSAL_ADVICE = ("Or tokens got mixed when splitting into heads: mask every key after the query with -inf "
                 "before softmax, and split with view(b, num_tokens, num_heads, head_dim) then transpose(1, 2).")
NAMES = ("W_query", "W_key", "W_value")


# Task 1 ---------------------------------------------------------------------------------------

def wrapper_inputs(seed: int, num_heads: int | None = None) -> dict:
    """A batch and every head's weights; the heads' outputs side by side are (batch, num_tokens, 18)."""
    n = sizes(seed, batch=2, num_tokens=5, d_in=4, d_out=6, num_heads=3)
    num_heads = num_heads or n["num_heads"]
    g = generator(seed)
    weights = {f"heads.{h}.{name}.weight": torch.randn(n["d_out"], n["d_in"], generator=g)
               for h in range(num_heads) for name in NAMES}
    return {"x": torch.randn(n["batch"], n["num_tokens"], n["d_in"], generator=g), "weights": weights,
            "context_length": n["num_tokens"] + 1, "num_heads": num_heads}


def build_wrapper(m, x, weights, context_length, num_heads):
    d_out, d_in = weights["heads.0.W_query.weight"].shape
    return load_weights(m.MultiHeadAttentionWrapper(d_in, d_out, context_length, 0.0, num_heads), weights)


@check(task=1, inputs=lambda seed: {"seed": 123}, judge=seeded_construction)
def wrapper_parameters_created_in_book_order(m, seed):
    """torch.manual_seed(123); MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2).named_parameters())


def _heads_have_biases(got, expected):
    if isinstance(got, dict) and not any(str(name).endswith(".bias") for name in got):
        raise Failed("wrong_values", "MultiHeadAttentionWrapper(..., qkv_bias=True) made heads without biases: pass "
                     "qkv_bias on to each head, CausalAttention(d_in, d_out, context_length, dropout, qkv_bias).")
    seeded_construction(got, expected)


@check(task=1, inputs=lambda seed: {"seed": 123}, judge=_heads_have_biases)
def wrapper_passes_qkv_bias_to_its_heads(m, seed):
    """torch.manual_seed(123); MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2, qkv_bias=True).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.MultiHeadAttentionWrapper(3, 2, 6, 0.0, num_heads=2, qkv_bias=True).named_parameters())


@check(task=1, inputs=wrapper_inputs, dims=("batch", "num_tokens", "num_heads * d_out"))
def wrapper_puts_heads_side_by_side(m, x, weights, context_length, num_heads):
    """MultiHeadAttentionWrapper(d_in=4, d_out=6, context_length=6, dropout=0.0, num_heads=3) with given weights, on x of shape (batch=2, num_tokens=5, d_in=4)"""
    return build_wrapper(m, x, weights, context_length, num_heads)(x)


def _same_as_causal_attention(got, expected):
    wrapper, single = got
    if isinstance(wrapper, torch.Tensor) and isinstance(single, torch.Tensor) and wrapper.shape == single.shape:
        gap = (wrapper - single).abs().amax().item()
        if gap > 1e-6:
            raise Failed("wrong_values", f"with one head, MultiHeadAttentionWrapper must give exactly what that head, a "
                         f"CausalAttention with the same weights, gives; yours differs by up to {gap:.3g}. Run "
                         f"each head on x and concatenate the outputs, changing nothing else.")
    compare(got, expected, dims=DIMS, rtol=DEEP_RTOL, atol=DEEP_ATOL)


@check(task=1, inputs=lambda seed: wrapper_inputs(seed, num_heads=1), judge=_same_as_causal_attention, dims=DIMS)
def one_head_wrapper_equals_causal_attention(m, x, weights, context_length, num_heads):
    """MultiHeadAttentionWrapper(..., num_heads=1) and CausalAttention with the same weights, both on x: the same output"""
    wrapper = build_wrapper(m, x, weights, context_length, num_heads)
    d_out, d_in = weights["heads.0.W_query.weight"].shape
    single = load_weights(m.CausalAttention(d_in, d_out, context_length, 0.0),
                          {name.removeprefix("heads.0."): w for name, w in weights.items()})
    return wrapper(x), single(x)


def attention_inputs(seed: int, dropout: float = 0.0) -> dict:
    """A batch and a set of weights: batch 2, num_tokens 5, d_in 7, 4 heads of head_dim 3, d_out 12."""
    n = sizes(seed, batch=2, num_tokens=5, d_in=7, num_heads=4, head_dim=3)
    d_out = n["num_heads"] * n["head_dim"]  # larger than every other size, so still distinct
    g = generator(seed)
    # Scaled like a trained layer (variance 1/fan_in), so that softmax does not saturate to one-hot.
    weights = {f"{name}.weight": torch.randn(d_out, n["d_in"], generator=g) / n["d_in"] ** 0.5 for name in NAMES}
    weights |= {"out_proj.weight": torch.randn(d_out, d_out, generator=g) / d_out**0.5,
                "out_proj.bias": torch.randn(d_out, generator=g)}
    return {"x": torch.randn(n["batch"], n["num_tokens"], n["d_in"], generator=g), "weights": weights,
            "context_length": n["num_tokens"] + 1, "dropout": dropout, "num_heads": n["num_heads"]}


def build(m, x, weights, context_length, dropout, num_heads, qkv_bias=False):
    d_out, d_in = weights["W_query.weight"].shape
    return load_weights(m.MultiHeadAttention(d_in, d_out, context_length, dropout, num_heads, qkv_bias=qkv_bias),
                        weights)


# Variants: wrong versions computed on the check's inputs, named when an output equals one -----------

@variant("your attention has no causal mask: every query sees every key, the future ones too")
def unmasked(x, weights, num_heads, **_):
    return multi_head(x, weights, num_heads, causal=False)


@variant("your masked scores are 0, not -inf, before softmax, so the future keys still get weight")
def masked_with_zero(x, weights, num_heads, **_):
    return multi_head(x, weights, num_heads, fill=0.0)


@variant("your future attention weights are set to 0 after softmax, so each row sums to less than 1: mask the "
         "scores with -inf before softmax")
def masked_after_softmax(x, weights, num_heads, **_):
    return multi_head(x, weights, num_heads, fill=0.0, mask_after_softmax=True)


@variant("your scores are divided by sqrt(d_out) where the book divides by sqrt(head_dim): each head's dot products "
         "run over head_dim features")
def scaled_by_sqrt_d_out(x, weights, num_heads, **_):
    return multi_head(x, weights, num_heads, divisor=weights["W_key.weight"].shape[0] ** 0.5)


@variant("your attention weights equal softmax(scores) without the division by sqrt(head_dim)")
def not_scaled(x, weights, num_heads, **_):
    return multi_head(x, weights, num_heads, divisor=1.0)


@variant("your attention weights equal softmax(scores / head_dim) where the book divides by sqrt(head_dim)")
def scaled_by_head_dim(x, weights, num_heads, **_):
    return multi_head(x, weights, num_heads, divisor=float(weights["W_key.weight"].shape[0] // num_heads))


@variant("your attention weights are divided by sqrt(head_dim) after softmax, not the scores before it")
def scaled_after_softmax(x, weights, num_heads, **_):
    return multi_head(x, weights, num_heads, scale_after_softmax=True)


@variant("your softmax runs over dim 2 (the queries) of the (batch, heads, query, key) scores: take it over the "
         "keys, dim=-1")
def softmax_over_the_queries(x, weights, num_heads, **_):
    return multi_head(x, weights, num_heads, softmax_dim=2)


@variant("your output is the merged heads without out_proj: the final projection is missing")
def without_out_proj(x, weights, num_heads, **_):
    return multi_head(x, weights, num_heads, out_proj=False)


@variant("your heads are split with view(b, num_tokens, head_dim, num_heads): the book's order is "
         "view(b, num_tokens, num_heads, head_dim), then transpose(1, 2)")
def heads_split_in_the_wrong_order(x, weights, num_heads, **_):
    b, n, _ = x.shape
    q, k, v = (project(x, weights, name) for name in NAMES)
    q, k, v = (t.view(b, n, t.shape[-1] // num_heads, num_heads).permute(0, 3, 1, 2) for t in (q, k, v))
    return project(merge_heads(attend(q, k, v)), weights, "out_proj")


@variant("your heads are merged without transposing back first: view the (b, num_heads, num_tokens, head_dim) "
         "context after .transpose(1, 2)")
def heads_merged_without_transpose(x, weights, num_heads, **_):
    b, n, _ = x.shape
    q, k, v = (project(x, weights, name) for name in NAMES)
    q, k, v = (t.view(b, n, num_heads, -1).transpose(1, 2) for t in (q, k, v))
    return project(attend(q, k, v).reshape(b, n, -1), weights, "out_proj")


CONTEXT_VARIANTS = (unmasked, masked_with_zero, masked_after_softmax, scaled_by_sqrt_d_out, not_scaled,
                    scaled_by_head_dim, scaled_after_softmax, softmax_over_the_queries, without_out_proj,
                    heads_split_in_the_wrong_order, heads_merged_without_transpose)


def _dropped(dropout):
    return lambda t: F.dropout(t, dropout, training=True)


@variant("your dropout does nothing in train mode: apply self.dropout (an nn.Dropout) to the attention weights")
def dropout_off(x, weights, num_heads, **_):
    return multi_head(x, weights, num_heads)


@variant("your dropout is applied to the output of out_proj, not to the attention weights")
def dropout_after_out_proj(x, weights, num_heads, dropout, **_):
    torch.manual_seed(123)
    return _dropped(dropout)(multi_head(x, weights, num_heads))


@variant("your dropout is applied to the merged context vectors before out_proj, not to the attention weights")
def dropout_on_the_context(x, weights, num_heads, dropout, **_):
    torch.manual_seed(123)
    return multi_head(x, weights, num_heads, on_context=_dropped(dropout))


@variant("your dropout is applied to the inputs x, not to the attention weights")
def dropout_on_the_inputs(x, weights, num_heads, dropout, **_):
    torch.manual_seed(123)
    return multi_head(_dropped(dropout)(x), weights, num_heads)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=lambda seed: {"seed": 123}, judge=seeded_construction)
def parameters_created_in_book_order(m, seed):
    """torch.manual_seed(123); MultiHeadAttention(3, 2, 6, 0.0, num_heads=2).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.MultiHeadAttention(3, 2, 6, 0.0, num_heads=2).named_parameters())


@check(task=2, inputs=lambda seed: {"context_length": 6 + seed % 4})
def mask_is_a_registered_buffer(m, context_length):
    """MultiHeadAttention(3, 4, context_length, 0.0, num_heads=2).named_buffers(): a buffer called mask, (context_length, context_length)"""
    module = m.MultiHeadAttention(3, 4, context_length, 0.0, num_heads=2)
    return {name: tuple(buffer.shape) for name, buffer in module.named_buffers()}


def _refused(got, expected):
    if got != expected:
        raise Failed("wrong_values", "MultiHeadAttention(3, 10, 6, 0.0, num_heads=4) was accepted, but 10 features "
                     "cannot be split into 4 equal heads. Start __init__ with "
                     "`assert d_out % num_heads == 0, ...` (or raise a ValueError), giving both numbers in the message.")


@check(task=2, judge=_refused)
def d_out_not_divisible_by_num_heads_is_refused(m):
    """MultiHeadAttention(3, 10, 6, 0.0, num_heads=4) raises an AssertionError (or a ValueError)"""
    try:
        m.MultiHeadAttention(3, 10, 6, 0.0, num_heads=4)
    except (AssertionError, ValueError):  # the docstring asks for an assert; a ValueError says as much
        return "refused"
    return "accepted"


@check(task=2, inputs=attention_inputs, dims=DIMS, variants=CONTEXT_VARIANTS)
def context_vectors_match(m, x, weights, context_length, dropout, num_heads):
    """MultiHeadAttention(d_in=7, d_out=12, context_length=6, dropout=0.0, num_heads=4) with given weights, on x of shape (batch=2, num_tokens=5, d_in=7)"""
    return build(m, x, weights, context_length, dropout, num_heads)(x)


@check(task=2, inputs=attention_inputs, judge=one_device("a tensor such as the mask", MASK_DEVICE_ADVICE))
def mask_is_on_the_inputs_device(m, x, weights, context_length, dropout, num_heads):
    """MultiHeadAttention and x moved to another device than the CPU (PyTorch's meta device): the mask must follow the module there"""
    return on_another_device(build(m, x, weights, context_length, dropout, num_heads), x)


@check(task=2, inputs=attention_inputs, judge=sums_to_one(DIMS, SUM_ADVICE, sums=lambda t: t, rtol=DEEP_RTOL, atol=DEEP_ATOL), dims=DIMS)
def attention_weights_sum_to_one(m, x, weights, context_length, dropout, num_heads):
    """MultiHeadAttention(..., qkv_bias=True) whose values are all 1 and whose out_proj is the identity, so each output is the sum of its attention weights"""
    d_out = weights["W_query.weight"].shape[0]
    weights = dict(weights, **{"W_value.weight": torch.zeros_like(weights["W_value.weight"]),
                               "W_query.bias": torch.zeros(d_out), "W_key.bias": torch.zeros(d_out),
                               "W_value.bias": torch.ones(d_out),
                               "out_proj.weight": torch.eye(d_out), "out_proj.bias": torch.zeros(d_out)})
    return build(m, x, weights, context_length, dropout, num_heads, qkv_bias=True)(x)


@check(task=2, inputs=attention_inputs, judge=causal(DIMS, CAUSAL_ADVICE, DEEP_RTOL, DEEP_ATOL), dims=DIMS,
       variants=with_last_token_changed(CONTEXT_VARIANTS))
def later_tokens_do_not_change_earlier_outputs(m, x, weights, context_length, dropout, num_heads):
    """MultiHeadAttention on x, then on x with its last token changed: earlier outputs must stay the same"""
    attention = build(m, x, weights, context_length, dropout, num_heads)
    changed = x.clone()
    changed[:, -1] += 10.0
    return attention(x), attention(changed)


@check(task=2, inputs=lambda seed: attention_inputs(seed, dropout=0.5), dims=DIMS,
       variants=(dropout_off, dropout_after_out_proj, dropout_on_the_context, dropout_on_the_inputs))
def dropout_on_attention_weights_in_train_mode(m, x, weights, context_length, dropout, num_heads):
    """MultiHeadAttention(..., dropout=0.5) in train mode, after torch.manual_seed(123): dropout applied once, to the attention weights"""
    attention = build(m, x, weights, context_length, dropout, num_heads).train()
    torch.manual_seed(123)
    return attention(x)


@check(task=2, inputs=lambda seed: attention_inputs(seed, dropout=0.5), dims=DIMS)
def no_dropout_in_eval_mode(m, x, weights, context_length, dropout, num_heads):
    """MultiHeadAttention(..., dropout=0.5).eval(): dropout is off, outputs equal the dropout-free ones"""
    return build(m, x, weights, context_length, dropout, num_heads).eval()(x)
