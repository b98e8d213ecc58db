"""Multi-head attention (book section 3.6).

Several attention heads look at the sequence side by side, each free to attend to different
things. MultiHeadAttentionWrapper simply runs separate CausalAttention heads and concatenates
their outputs; MultiHeadAttention does the same work with one set of projections, split into
num_heads slices of head_dim = d_out // num_heads, then mixes the heads with out_proj.
"""

import torch
import torch.nn as nn

from .causal_attention import CausalAttention, causal_mask


class MultiHeadAttentionWrapper(nn.Module):
    def __init__(
        self, d_in: int, d_out: int, context_length: int, dropout: float, num_heads: int, qkv_bias: bool = False
    ):
        super().__init__()
        self.heads = nn.ModuleList(
            [CausalAttention(d_in, d_out, context_length, dropout, qkv_bias) for _ in range(num_heads)]
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Each head gives (b, num_tokens, d_out); heads sit side by side in the feature dimension.
        return torch.cat([head(x) for head in self.heads], dim=-1)  # -> (b, num_tokens, num_heads * d_out)


class MultiHeadAttention(nn.Module):
    def __init__(
        self, d_in: int, d_out: int, context_length: int, dropout: float, num_heads: int, qkv_bias: bool = False
    ):
        super().__init__()
        assert d_out % num_heads == 0, f"d_out ({d_out}) must be divisible by num_heads ({num_heads})"
        self.d_out = d_out
        self.num_heads = num_heads
        self.head_dim = d_out // num_heads
        self.W_query = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_key = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.W_value = nn.Linear(d_in, d_out, bias=qkv_bias)
        self.out_proj = nn.Linear(d_out, d_out)  # mixes what the heads found
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("mask", causal_mask(context_length).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, num_tokens, d_in = x.shape
        context_length = self.mask.shape[0]
        assert num_tokens <= context_length, f"got {num_tokens} tokens, context_length is only {context_length}"

        keys = self.W_key(x)  # (b, num_tokens, d_in) -> (b, num_tokens, d_out)
        queries = self.W_query(x)  # (b, num_tokens, d_in) -> (b, num_tokens, d_out)
        values = self.W_value(x)  # (b, num_tokens, d_in) -> (b, num_tokens, d_out)

        # Head h owns features h*head_dim ... (h+1)*head_dim - 1 of every token: split the last
        # dimension, then move heads in front of tokens so that each head is one batched matmul.
        keys = keys.view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)  # (b, num_tokens, d_out) -> (b, num_heads, num_tokens, head_dim)
        queries = queries.view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)  # (b, num_tokens, d_out) -> (b, num_heads, num_tokens, head_dim)
        values = values.view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)  # (b, num_tokens, d_out) -> (b, num_heads, num_tokens, head_dim)

        attn_scores = queries @ keys.transpose(2, 3)  # (..., num_tokens, head_dim) @ (..., head_dim, num_tokens) -> (b, num_heads, num_tokens, num_tokens)
        attn_scores.masked_fill_(self.mask.bool()[:num_tokens, :num_tokens], -torch.inf)
        # Each head's dot products run over head_dim features, so head_dim is what to scale by.
        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)
        attn_weights = self.dropout(attn_weights)

        context_vec = (attn_weights @ values).transpose(1, 2)  # (b, num_heads, num_tokens, head_dim) -> (b, num_tokens, num_heads, head_dim)
        # transpose only changes strides; view needs the memory laid out in the new order.
        context_vec = context_vec.contiguous().view(b, num_tokens, self.d_out)  # (b, num_tokens, num_heads, head_dim) -> (b, num_tokens, d_out)
        return self.out_proj(context_vec)
