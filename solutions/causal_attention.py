"""Causal attention (book section 3.5).

A language model predicts the next token, so while reading token i it must not see tokens
after i. CausalAttention hides those keys by setting their scores to -inf before softmax, adds
dropout on the attention weights, and takes a batch: x is (b, num_tokens, d_in).
"""

import torch
import torch.nn as nn


def causal_mask(num_tokens: int) -> torch.Tensor:
    # Row = query, column = key; True above the diagonal marks the keys that lie in the future.
    return torch.triu(torch.ones(num_tokens, num_tokens, dtype=torch.bool), diagonal=1)


class CausalAttention(nn.Module):
    def __init__(self, d_in: int, d_out: int, context_length: int, dropout: float, qkv_bias: bool = False):
        super().__init__()
        self.d_out = d_out
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.dropout = nn.Dropout(dropout)
        # A buffer follows the module to its device and into state_dict; it is float 0/1 like the
        # book's, so a state_dict saved by the book's code loads unchanged.
        self.register_buffer("mask", causal_mask(context_length).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, num_tokens, d_in = x.shape
        context_length = self.mask.shape[0]
        assert num_tokens <= context_length, f"got {num_tokens} tokens, context_length is only {context_length}"

        keys = self.W_key(x)  # (b, num_tokens, d_in) -> (b, num_tokens, d_out)
        queries = self.W_query(x)  # (b, num_tokens, d_in) -> (b, num_tokens, d_out)
        values = self.W_value(x)  # (b, num_tokens, d_in) -> (b, num_tokens, d_out)

        attn_scores = queries @ keys.transpose(1, 2)  # (b, num_tokens, d_out) @ (b, d_out, num_tokens) -> (b, num_tokens, num_tokens)
        # exp(-inf) = 0, so future keys get weight exactly 0 and each row still sums to 1.
        attn_scores.masked_fill_(self.mask.bool()[:num_tokens, :num_tokens], -torch.inf)
        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)
        # Dropping attention weights (not outputs) makes each token rely on varying subsets of earlier tokens.
        attn_weights = self.dropout(attn_weights)

        context_vec = attn_weights @ values  # (b, num_tokens, num_tokens) @ (b, num_tokens, d_out) -> (b, num_tokens, d_out)
        return context_vec
