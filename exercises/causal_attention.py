"""Causal attention (book section 3.5).

A language model predicts the next token, so while it reads token i it must not see the tokens
after i. You build the causal mask, then CausalAttention: SelfAttention_v2 grown to take a batch,
with the scores of future keys set to -inf before softmax (so they get weight exactly 0 and each
row still sums to 1), and dropout on the attention weights.

Check your work: kata check causal_attention   (or make check TOPIC=causal_attention)
"""

import torch
import torch.nn as nn


def causal_mask(num_tokens: int) -> torch.Tensor:
    """Task 1. Which keys each query must not see.

    mask[i, j] is True when key j comes after query i (j > i): everything above the diagonal.
    The diagonal itself is False, since a token may attend to itself.

    Shapes: returns a bool tensor (num_tokens, num_tokens).

    >>> causal_mask(3)
    tensor([[False,  True,  True],
            [False, False,  True],
            [False, False, False]])
    """
    raise NotImplementedError("causal_attention task 1: causal_mask")


class CausalAttention(nn.Module):
    """Tasks 2 and 3. Causal, scaled dot-product attention over a batch of sequences.

    With a batch of two copies of the book's "Your journey starts with one step" embeddings:

    >>> inputs = torch.tensor(
    ...     [[0.43, 0.15, 0.89],  # Your     (x^1)
    ...      [0.55, 0.87, 0.66],  # journey  (x^2)
    ...      [0.57, 0.85, 0.64],  # starts   (x^3)
    ...      [0.22, 0.58, 0.33],  # with     (x^4)
    ...      [0.77, 0.25, 0.10],  # one      (x^5)
    ...      [0.05, 0.80, 0.55]]  # step     (x^6)
    ... )
    >>> batch = torch.stack((inputs, inputs), dim=0)
    >>> _ = torch.manual_seed(123)
    >>> ca = CausalAttention(3, 2, 6, 0.0)
    >>> context_vecs = ca(batch)
    >>> context_vecs.shape
    torch.Size([2, 6, 2])
    >>> context_vecs.detach()[0, 0]
    tensor([-0.4519,  0.2216])

    The first token sees only itself, so its context vector is its own value vector:

    >>> torch.allclose(context_vecs[:, 0], ca.W_value(batch)[:, 0])
    True

    Task 3: dropout acts only in training mode. After .eval() it does nothing, so the same seed
    with dropout=0.5 gives the numbers above:

    >>> _ = torch.manual_seed(123)
    >>> ca = CausalAttention(3, 2, 6, dropout=0.5)
    >>> _ = ca.eval()
    >>> ca(batch).detach()[0, 0]
    tensor([-0.4519,  0.2216])
    """

    def __init__(self, d_in: int, d_out: int, context_length: int, dropout: float, qkv_bias: bool = False):
        """Task 2. Create, in this order:

        - d_out: the int d_out
        - W_query, W_key, W_value: nn.Linear(d_in, d_out, bias=qkv_bias) each, in that order
        - dropout: nn.Dropout(dropout)
        - a buffer named "mask", registered with self.register_buffer: the causal mask for
          context_length tokens as a float tensor of 0s and 1s, (context_length, context_length),
          exactly like the book's torch.triu(torch.ones(...), diagonal=1), so that state_dict()
          holds mask, W_query.weight, W_key.weight, W_value.weight (plus biases if qkv_bias).
        """
        raise NotImplementedError("causal_attention task 2: CausalAttention.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Task 2 (masked, scaled, batched) and task 3 (dropout).

        queries, keys, values = W_query(x), W_key(x), W_value(x)
        attn_scores = queries @ keys^T, transposing only the last two dims (tokens, d_out)
        attn_scores[b, i, j] = -inf wherever mask[i, j] is set (mask cut to num_tokens x num_tokens)
        attn_weights = softmax(attn_scores / sqrt(d_k)) over the last dim, d_k = keys.shape[-1]
        attn_weights = dropout(attn_weights)          <- task 3: dropout on the weights
        context_vec = attn_weights @ values

        Shapes: x (b, num_tokens, d_in), num_tokens <= context_length;
        queries, keys, values (b, num_tokens, d_out);
        attn_scores, attn_weights (b, num_tokens, num_tokens); returns (b, num_tokens, d_out).

        Dropout only acts in training mode: nn.Dropout(p) zeroes each weight with probability p
        and multiplies the others by 1 / (1 - p); in eval mode it does nothing.
        See the class docstring for the book's numbers.
        """
        raise NotImplementedError("causal_attention task 2: CausalAttention.forward")
