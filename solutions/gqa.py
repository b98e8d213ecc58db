"""Grouped-query attention (the book's bonus material, ch04/04_gqa and the Llama models).

Multi-head attention gives every query head its own key and value head. Grouped-query attention
keeps all the query heads but only num_kv_groups key/value heads, each shared by a group of
num_heads // num_kv_groups consecutive query heads. The attention is computed exactly as before;
what shrinks is the key/value projection and, at inference time, the key/value cache, which is
what limits batch size and context length.
"""

import torch
import torch.nn as nn

from .llama_parts import apply_rope, compute_rope_params  # noqa: F401  compute_rope_params: the stub's examples use it


class GroupedQueryAttention(nn.Module):
    def __init__(self, d_in: int, d_out: int, num_heads: int, num_kv_groups: int, dtype=None):
        super().__init__()
        assert d_out % num_heads == 0, f"d_out ({d_out}) must be divisible by num_heads ({num_heads})"
        assert num_heads % num_kv_groups == 0, \
            f"num_heads ({num_heads}) must be divisible by num_kv_groups ({num_kv_groups})"
        self.d_out = d_out
        self.num_heads = num_heads
        self.head_dim = d_out // num_heads
        # Keys and values: one head per group, so num_kv_groups * head_dim features, not d_out.
        self.W_key = nn.Linear(d_in, num_kv_groups * self.head_dim, bias=False, dtype=dtype)
        self.W_value = nn.Linear(d_in, num_kv_groups * self.head_dim, bias=False, dtype=dtype)
        self.num_kv_groups = num_kv_groups
        self.group_size = num_heads // num_kv_groups  # query heads per key/value head
        self.W_query = nn.Linear(d_in, d_out, bias=False, dtype=dtype)
        self.out_proj = nn.Linear(d_out, d_out, bias=False, dtype=dtype)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        b, num_tokens, d_in = x.shape

        queries = self.W_query(x)  # (b, num_tokens, d_in) -> (b, num_tokens, d_out)
        keys = self.W_key(x)  # (b, num_tokens, d_in) -> (b, num_tokens, num_kv_groups * head_dim)
        values = self.W_value(x)  # (b, num_tokens, d_in) -> (b, num_tokens, num_kv_groups * head_dim)

        queries = queries.view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)  # -> (b, num_heads, num_tokens, head_dim)
        keys = keys.view(b, num_tokens, self.num_kv_groups, self.head_dim).transpose(1, 2)  # -> (b, num_kv_groups, num_tokens, head_dim)
        values = values.view(b, num_tokens, self.num_kv_groups, self.head_dim).transpose(1, 2)  # -> (b, num_kv_groups, num_tokens, head_dim)

        # Positions enter here, by rotating queries and keys (values carry content, not position).
        queries = apply_rope(queries, cos, sin)
        keys = apply_rope(keys, cos, sin)

        # Query heads g * group_size ... (g + 1) * group_size - 1 share key/value head g: repeat each
        # key/value head group_size times in place (1, 1, 2, 2), not the whole stack (1, 2, 1, 2).
        keys = keys.repeat_interleave(self.group_size, dim=1)  # -> (b, num_heads, num_tokens, head_dim)
        values = values.repeat_interleave(self.group_size, dim=1)  # -> (b, num_heads, num_tokens, head_dim)

        attn_scores = queries @ keys.transpose(2, 3)  # -> (b, num_heads, num_tokens, num_tokens)
        attn_scores = attn_scores.masked_fill(mask, -torch.inf)  # mask: (num_tokens, num_tokens), True above the diagonal
        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)

        context = (attn_weights @ values).transpose(1, 2)  # -> (b, num_tokens, num_heads, head_dim)
        context = context.reshape(b, num_tokens, self.d_out)  # -> (b, num_tokens, d_out)
        return self.out_proj(context)


def kv_bytes_total(batch: int, context_length: int, emb_dim: int, n_heads: int, n_kv_heads: int, n_layers: int,
                   bytes_per_elem: int) -> int:
    head_dim = emb_dim // n_heads
    # Every layer caches a key and a value vector (the 2) of head_dim per key/value head, per token.
    per_layer = 2 * batch * context_length * n_kv_heads * head_dim * bytes_per_elem
    return per_layer * n_layers


def kv_memory_saved(cfg: dict, batch: int = 1, bytes_per_elem: int = 2) -> dict:
    sizes = (batch, cfg["context_length"], cfg["emb_dim"], cfg["n_heads"])
    mha = kv_bytes_total(*sizes, cfg["n_heads"], cfg["n_layers"], bytes_per_elem)  # a key/value head per query head
    gqa = kv_bytes_total(*sizes, cfg["n_kv_groups"], cfg["n_layers"], bytes_per_elem)  # one per group
    return {"mha_bytes": mha, "gqa_bytes": gqa, "saved_bytes": mha - gqa}
