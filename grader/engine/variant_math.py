"""The book's attention, written once in plain torch with the knobs learners get wrong, for the
variants the checks declare (grader.checks.Variant): scaled by another divisor, softmax over
another dim, the mask filled with 0 or applied after softmax, dropout somewhere else.

Trusted code of the checks: it never calls the learner's module, and it does not need
solutions/ (a release has none)."""

from __future__ import annotations

from typing import Callable

import torch

Tensor = torch.Tensor


def attend(queries: Tensor, keys: Tensor, values: Tensor, *, causal: bool = True, divisor: float | None = None,
           fill: float = float("-inf"), mask_after_softmax: bool = False, diagonal: int = 1, softmax_dim: int = -1,
           scale_after_softmax: bool = False, on_weights: Callable[[Tensor], Tensor] | None = None) -> Tensor:
    """softmax(mask(queries @ keys^T) / divisor) @ values over the last two dims, the book's way
    by default (divisor sqrt(head_dim), -inf above the diagonal, before softmax, over the keys)."""
    divisor = keys.shape[-1] ** 0.5 if divisor is None else divisor
    scores = queries @ keys.transpose(-2, -1)  # (..., num_tokens, d) @ (..., d, num_tokens) -> (..., q, k)
    n = scores.shape[-1]
    future = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=diagonal)
    if causal and not mask_after_softmax:
        scores = scores.masked_fill(future, fill)
    if scale_after_softmax:
        weights = torch.softmax(scores, dim=softmax_dim) / divisor
    else:
        weights = torch.softmax(scores / divisor, dim=softmax_dim)
    if causal and mask_after_softmax:
        weights = weights.masked_fill(future, fill)
    if on_weights is not None:
        weights = on_weights(weights)
    return weights @ values


def project(x: Tensor, weights: dict[str, Tensor], name: str) -> Tensor:
    """nn.Linear's forward with the book's parameter names: x @ W^T (+ b)."""
    out = x @ weights[f"{name}.weight"].T
    bias = weights.get(f"{name}.bias")
    return out if bias is None else out + bias


def split_heads(t: Tensor, num_heads: int) -> Tensor:
    b, n, d = t.shape
    return t.view(b, n, num_heads, d // num_heads).transpose(1, 2)  # (b, n, d) -> (b, heads, n, head_dim)


def merge_heads(t: Tensor) -> Tensor:
    b, h, n, hd = t.shape
    return t.transpose(1, 2).reshape(b, n, h * hd)  # (b, heads, n, head_dim) -> (b, n, d)


def multi_head(x: Tensor, weights: dict[str, Tensor], num_heads: int, prefix: str = "",
               out_proj: bool = True, on_context: Callable[[Tensor], Tensor] | None = None, **attention) -> Tensor:
    """MultiHeadAttention's forward on given weights (`prefix` "att." inside a block); `attention`
    are attend's knobs, `on_context` acts on the merged heads before out_proj."""
    q, k, v = (split_heads(project(x, weights, f"{prefix}{name}"), num_heads) for name in ("W_query", "W_key", "W_value"))
    context = merge_heads(attend(q, k, v, **attention))
    if on_context is not None:
        context = on_context(context)
    return project(context, weights, f"{prefix}out_proj") if out_proj else context


def layer_norm(x: Tensor, scale: Tensor, shift: Tensor, eps: float = 1e-5, unbiased: bool = False,
               eps_outside: bool = False) -> Tensor:
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, keepdim=True, unbiased=unbiased)
    std = torch.sqrt(var) + eps if eps_outside else torch.sqrt(var + eps)
    return scale * (x - mean) / std + shift


def gelu(x: Tensor, constant: float = (2.0 / torch.pi) ** 0.5, power: int = 3, cubic: float = 0.044715) -> Tensor:
    """GPT-2's tanh approximation of GELU, with its constants as arguments."""
    return 0.5 * x * (1.0 + torch.tanh(constant * (x + cubic * x ** power)))


def with_last_token_changed(variants) -> tuple:
    """The same variants for a probe that returns (output on x, output on x with its last token
    changed by +10), as the checks that later tokens leave earlier outputs alone do."""
    from .checks import Variant

    def pair(compute):
        def both(x, **inputs):
            changed = x.clone()
            changed[:, -1] += 10.0
            return compute(x=x, **inputs), compute(x=changed, **inputs)
        return both
    return tuple(Variant(v.name, v.says, pair(v.compute)) for v in variants)
