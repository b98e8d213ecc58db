"""Grouped-query attention (the book's bonus material, ch04/04_gqa and the Llama models).

Multi-head attention gives each query head its own key and value head, and at inference time every
one of them is cached for every token: for a Llama-sized model that cache, not the weights, is
what runs out of memory. Grouped-query attention keeps all the query heads but only num_kv_groups
key/value heads, each shared by a group of consecutive query heads. You build it with the rotary
embeddings of topic llama_parts, and compute how much memory it saves.

Check your work: kata check gqa   (or make check TOPIC=gqa)
"""

import torch
import torch.nn as nn

from .llama_parts import apply_rope, compute_rope_params


class GroupedQueryAttention(nn.Module):
    """Task 1. Causal attention with num_heads query heads sharing num_kv_groups key/value heads, and RoPE.

    >>> _ = torch.manual_seed(123)
    >>> att = GroupedQueryAttention(d_in=6, d_out=8, num_heads=4, num_kv_groups=2)
    >>> [(name, tuple(p.shape)) for name, p in att.named_parameters()]
    [('W_key.weight', (4, 6)), ('W_value.weight', (4, 6)), ('W_query.weight', (8, 6)), ('out_proj.weight', (8, 8))]
    >>> x = torch.rand(2, 3, 6)
    >>> cos, sin = compute_rope_params(head_dim=2, context_length=3)
    >>> mask = torch.triu(torch.ones(3, 3, dtype=torch.bool), diagonal=1)
    >>> out = att(x, mask, cos, sin)
    >>> out.shape
    torch.Size([2, 3, 8])
    >>> out.detach()[0, 0]
    tensor([-0.0843, -0.1430,  0.2506, -0.2820,  0.1730, -0.0009,  0.0156,  0.8802])

    It computes what PyTorch's fused attention computes with enable_gqa=True (which this kata asks
    you not to call) from the same projections:

    >>> import torch.nn.functional as F
    >>> q = apply_rope(att.W_query(x).view(2, 3, 4, 2).transpose(1, 2), cos, sin)
    >>> k = apply_rope(att.W_key(x).view(2, 3, 2, 2).transpose(1, 2), cos, sin)
    >>> v = att.W_value(x).view(2, 3, 2, 2).transpose(1, 2)
    >>> context = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
    >>> torch.allclose(out, att.out_proj(context.transpose(1, 2).reshape(2, 3, 8)), atol=1e-6)
    True
    """

    def __init__(self, d_in: int, d_out: int, num_heads: int, num_kv_groups: int, dtype=None):
        """Task 1. Check `d_out % num_heads == 0` and `num_heads % num_kv_groups == 0` (assert, with
        both numbers in the message), then create, in this order (all nn.Linear with bias=False and
        dtype=dtype):

        - head_dim = d_out // num_heads
        - W_key:   d_in -> num_kv_groups * head_dim   (one key head per group, not d_out)
        - W_value: d_in -> num_kv_groups * head_dim
        - group_size = num_heads // num_kv_groups   (query heads per key/value head)
        - W_query: d_in -> d_out
        - out_proj: d_out -> d_out

        Keep d_out, num_heads, head_dim, num_kv_groups and group_size as attributes.
        """
        raise NotImplementedError("gqa task 1: GroupedQueryAttention.__init__")

    def forward(self, x: torch.Tensor, mask: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """Task 1. mask is (num_tokens, num_tokens), bool, True above the diagonal (the keys to hide);
        cos and sin come from compute_rope_params(head_dim, ...), at least num_tokens rows.

        1. queries = W_query(x), keys = W_key(x), values = W_value(x)
        2. split into heads with view then transpose(1, 2): queries (b, num_heads, num_tokens,
           head_dim); keys and values (b, num_kv_groups, num_tokens, head_dim)
        3. queries = apply_rope(queries, cos, sin); keys = apply_rope(keys, cos, sin)   (not values)
        4. repeat each key and value head group_size times in place, along dim 1:
           repeat_interleave(group_size, dim=1) -> (b, num_heads, num_tokens, head_dim), so that
           query head h uses key/value head h // group_size
        5. scores = queries @ keys^T, -inf where mask is True, softmax(scores / sqrt(head_dim)) over the keys
        6. context = weights @ values, heads merged back: (b, num_tokens, d_out); return out_proj(context)

        Shapes: x (b, num_tokens, d_in) -> returns (b, num_tokens, d_out).
        See the class docstring for a worked example.
        """
        raise NotImplementedError("gqa task 1: GroupedQueryAttention.forward")


def kv_bytes_total(batch: int, context_length: int, emb_dim: int, n_heads: int, n_kv_heads: int, n_layers: int,
                   bytes_per_elem: int) -> int:
    """Task 2. The bytes a key/value cache needs, computed from the sizes (never allocate it).

    Every layer stores, for each of batch sequences and each of context_length tokens, one key and
    one value vector of head_dim = emb_dim // n_heads numbers per key/value head:

        per_layer = 2 * batch * context_length * n_kv_heads * head_dim * bytes_per_elem
        return per_layer * n_layers        (an int)

    Multi-head attention has n_kv_heads = n_heads; grouped-query attention n_kv_heads = n_kv_groups.

    >>> kv_bytes_total(batch=1, context_length=8, emb_dim=16, n_heads=4, n_kv_heads=2, n_layers=3, bytes_per_elem=2)
    768
    """
    raise NotImplementedError("gqa task 2: kv_bytes_total")


def kv_memory_saved(cfg: dict, batch: int = 1, bytes_per_elem: int = 2) -> dict:
    """Task 2. The key/value cache of a model config with multi-head attention and with GQA.

    cfg holds "context_length", "emb_dim", "n_heads", "n_layers" and "n_kv_groups" (the number of
    key/value heads, as in GroupedQueryAttention). bytes_per_elem is 2 for bfloat16. Returns ints:

        {"mha_bytes": kv_bytes_total(..., n_kv_heads=n_heads, ...),
         "gqa_bytes": kv_bytes_total(..., n_kv_heads=n_kv_groups, ...),
         "saved_bytes": mha_bytes - gqa_bytes}

    Llama 3 8B in bfloat16, one sequence of 8192 tokens: 4.3 GB of keys and values with multi-head
    attention, 1.1 GB with its 8 key/value groups.

    >>> llama_3_8b = {"context_length": 8192, "emb_dim": 4096, "n_heads": 32, "n_layers": 32, "n_kv_groups": 8}
    >>> kv_memory_saved(llama_3_8b, batch=1, bytes_per_elem=2)
    {'mha_bytes': 4294967296, 'gqa_bytes': 1073741824, 'saved_bytes': 3221225472}
    """
    raise NotImplementedError("gqa task 2: kv_memory_saved")
