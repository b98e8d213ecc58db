"""Self-attention with trainable weights (book section 3.4).

Three learned projections turn each embedding into a query, a key and a value. Scores are
query-key dot products, scaled by sqrt(d_k) so that softmax does not saturate as d_k grows.
SelfAttention_v1 holds raw weight matrices; SelfAttention_v2 computes the same with nn.Linear,
which initialises its weights better and stores them transposed.
"""

import torch
import torch.nn as nn


class SelfAttention_v1(nn.Module):
    def __init__(self, d_in: int, d_out: int):
        super().__init__()
        self.W_query = nn.Parameter(torch.rand(d_in, d_out))
        self.W_key = nn.Parameter(torch.rand(d_in, d_out))
        self.W_value = nn.Parameter(torch.rand(d_in, d_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keys = x @ self.W_key  # (num_tokens, d_in) -> (num_tokens, d_out)
        queries = x @ self.W_query  # (num_tokens, d_in) -> (num_tokens, d_out)
        values = x @ self.W_value  # (num_tokens, d_in) -> (num_tokens, d_out)

        attn_scores = queries @ keys.T  # (num_tokens, d_out) @ (d_out, num_tokens) -> (num_tokens, num_tokens)
        # Dot products of d_k-dimensional vectors grow like sqrt(d_k); undo that before softmax.
        d_k = keys.shape[-1]
        attn_weights = torch.softmax(attn_scores / d_k**0.5, dim=-1)

        context_vec = attn_weights @ values  # (num_tokens, num_tokens) @ (num_tokens, d_out) -> (num_tokens, d_out)
        return context_vec


class SelfAttention_v2(nn.Module):
    def __init__(self, d_in: int, d_out: int, qkv_bias: bool = False):
        super().__init__()
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keys = self.W_key(x)  # (num_tokens, d_in) -> (num_tokens, d_out)
        queries = self.W_query(x)  # (num_tokens, d_in) -> (num_tokens, d_out)
        values = self.W_value(x)  # (num_tokens, d_in) -> (num_tokens, d_out)

        # transpose(-2, -1) rather than .T: the same line will work on batches in CausalAttention.
        attn_scores = queries @ keys.transpose(-2, -1)  # (num_tokens, d_out) @ (d_out, num_tokens) -> (num_tokens, num_tokens)
        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)

        context_vec = attn_weights @ values  # (num_tokens, num_tokens) @ (num_tokens, d_out) -> (num_tokens, d_out)
        return context_vec


def transfer_weights(sa_v2: "SelfAttention_v2", sa_v1: "SelfAttention_v1") -> "SelfAttention_v1":
    # nn.Linear keeps weight as (d_out, d_in) and computes x @ weight.T, so v1's (d_in, d_out) matrix is weight.T.
    # v1 has no bias, so the outputs match only for a v2 built with qkv_bias=False.
    with torch.no_grad():
        sa_v1.W_query.copy_(sa_v2.W_query.weight.T)
        sa_v1.W_key.copy_(sa_v2.W_key.weight.T)
        sa_v1.W_value.copy_(sa_v2.W_value.weight.T)
    return sa_v1
