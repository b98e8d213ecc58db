"""A KV cache for faster generation (the book's bonus material to chapter 4).

Greedy generation without a cache runs the whole sequence through the model for every new token,
computing again every key and value it computed the step before. With a cache, each attention
layer keeps the keys and values it has computed; the prompt is read once, and then each step reads
only the newest token: its query attends to the cached keys, and its position is the number of
tokens read so far. The numbers are the same; the work per step no longer grows with the text.
"""

import torch
import torch.nn as nn

from .causal_attention import causal_mask
from .gpt_blocks import FeedForward, LayerNorm


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
        self.out_proj = nn.Linear(d_out, d_out)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("mask", causal_mask(context_length).float())
        # What forward(..., use_cache=True) has computed so far: not weights, so not in the state_dict.
        self.register_buffer("cache_k", None, persistent=False)
        self.register_buffer("cache_v", None, persistent=False)
        self.ptr_current_pos = 0  # tokens in the cache: the position of the next query

    def forward(self, x: torch.Tensor, use_cache: bool = False) -> torch.Tensor:
        b, num_tokens, d_in = x.shape
        start = self.ptr_current_pos if use_cache else 0  # the position of x's first token
        context_length = self.mask.shape[0]
        assert start + num_tokens <= context_length, \
            f"the cache holds {start} tokens: {num_tokens} more do not fit in context_length {context_length}"

        keys_new = self.W_key(x)  # (b, num_tokens, d_in) -> (b, num_tokens, d_out)
        values_new = self.W_value(x)  # (b, num_tokens, d_in) -> (b, num_tokens, d_out)
        queries = self.W_query(x)  # (b, num_tokens, d_in) -> (b, num_tokens, d_out)
        keys_new = keys_new.view(b, num_tokens, self.num_heads, self.head_dim)  # -> (b, num_tokens, num_heads, head_dim)
        values_new = values_new.view(b, num_tokens, self.num_heads, self.head_dim)  # -> (b, num_tokens, num_heads, head_dim)
        queries = queries.view(b, num_tokens, self.num_heads, self.head_dim)  # -> (b, num_tokens, num_heads, head_dim)

        if use_cache:
            # The keys and values of earlier tokens do not change: keep them, and add the new
            # tokens' after them, along the token dimension.
            if self.cache_k is None:
                self.cache_k, self.cache_v = keys_new, values_new
            else:
                self.cache_k = torch.cat([self.cache_k, keys_new], dim=1)  # -> (b, start + num_tokens, num_heads, head_dim)
                self.cache_v = torch.cat([self.cache_v, values_new], dim=1)  # -> (b, start + num_tokens, num_heads, head_dim)
            keys, values = self.cache_k, self.cache_v
            self.ptr_current_pos += num_tokens
        else:
            keys, values = keys_new, values_new
        num_keys = keys.shape[1]

        keys = keys.transpose(1, 2)  # -> (b, num_heads, num_keys, head_dim)
        values = values.transpose(1, 2)  # -> (b, num_heads, num_keys, head_dim)
        queries = queries.transpose(1, 2)  # -> (b, num_heads, num_tokens, head_dim)

        attn_scores = queries @ keys.transpose(2, 3)  # -> (b, num_heads, num_tokens, num_keys)
        # The queries are the tokens at positions start .. start + num_tokens - 1: their rows of the
        # causal mask, over every key so far.
        mask_bool = self.mask.bool()[start:start + num_tokens, :num_keys]
        attn_scores.masked_fill_(mask_bool, -torch.inf)
        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)
        attn_weights = self.dropout(attn_weights)

        context_vec = (attn_weights @ values).transpose(1, 2)  # -> (b, num_tokens, num_heads, head_dim)
        context_vec = context_vec.contiguous().view(b, num_tokens, self.d_out)  # -> (b, num_tokens, d_out)
        return self.out_proj(context_vec)

    def reset_cache(self) -> None:
        self.cache_k, self.cache_v = None, None
        self.ptr_current_pos = 0


class TransformerBlock(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.att = MultiHeadAttention(
            d_in=cfg["emb_dim"],
            d_out=cfg["emb_dim"],
            context_length=cfg["context_length"],
            dropout=cfg["drop_rate"],
            num_heads=cfg["n_heads"],
            qkv_bias=cfg["qkv_bias"],
        )
        self.ff = FeedForward(cfg)
        self.norm1 = LayerNorm(cfg["emb_dim"])
        self.norm2 = LayerNorm(cfg["emb_dim"])
        self.drop_shortcut = nn.Dropout(cfg["drop_rate"])

    def forward(self, x: torch.Tensor, use_cache: bool = False) -> torch.Tensor:
        x = x + self.drop_shortcut(self.att(self.norm1(x), use_cache=use_cache))
        x = x + self.drop_shortcut(self.ff(self.norm2(x)))
        return x


class GPTModel(nn.Module):
    def __init__(self, cfg: dict):
        super().__init__()
        self.tok_emb = nn.Embedding(cfg["vocab_size"], cfg["emb_dim"])
        self.pos_emb = nn.Embedding(cfg["context_length"], cfg["emb_dim"])
        self.drop_emb = nn.Dropout(cfg["drop_rate"])
        # A ModuleList, not an nn.Sequential: each block's forward takes use_cache too.
        # Its parameter names are the same (trf_blocks.0.att.W_query.weight, ...).
        self.trf_blocks = nn.ModuleList([TransformerBlock(cfg) for _ in range(cfg["n_layers"])])
        self.current_pos = 0  # tokens read with use_cache=True since the last reset_kv_cache()
        self.final_norm = LayerNorm(cfg["emb_dim"])
        self.out_head = nn.Linear(cfg["emb_dim"], cfg["vocab_size"], bias=False)

    def forward(self, in_idx: torch.Tensor, use_cache: bool = False) -> torch.Tensor:
        batch_size, num_tokens = in_idx.shape
        start = self.current_pos if use_cache else 0  # the position of in_idx's first token
        context_length = self.pos_emb.num_embeddings
        assert start + num_tokens <= context_length, \
            f"{num_tokens} tokens from position {start} on go past context_length {context_length}"
        tok_embeds = self.tok_emb(in_idx)  # (b, num_tokens) -> (b, num_tokens, emb_dim)
        # A cached call continues the sequence read so far: its tokens sit after the cached ones.
        positions = torch.arange(start, start + num_tokens, device=in_idx.device)
        if use_cache:
            self.current_pos += num_tokens
        pos_embeds = self.pos_emb(positions)  # (num_tokens,) -> (num_tokens, emb_dim)
        x = self.drop_emb(tok_embeds + pos_embeds)
        for block in self.trf_blocks:
            x = block(x, use_cache=use_cache)
        x = self.final_norm(x)
        return self.out_head(x)  # (b, num_tokens, emb_dim) -> (b, num_tokens, vocab_size)

    def reset_kv_cache(self) -> None:
        for block in self.trf_blocks:
            block.att.reset_cache()
        self.current_pos = 0


def generate_text_simple_cached(model: nn.Module, idx: torch.Tensor, max_new_tokens: int,
                                context_size: int | None = None, use_cache: bool = True) -> torch.Tensor:
    """Greedy decoding, reading each token once (use_cache=True) or the whole context each step."""
    model.eval()
    context_size = context_size or model.pos_emb.num_embeddings
    with torch.no_grad():
        if use_cache:
            # A new text: forget the last one's keys, values and positions.
            model.reset_kv_cache()
            logits = model(idx[:, -context_size:], use_cache=True)  # the prompt, read once
            for _ in range(max_new_tokens):
                next_idx = logits[:, -1].argmax(dim=-1, keepdim=True)  # (b, vocab_size) -> (b, 1)
                idx = torch.cat([idx, next_idx], dim=1)  # (b, num_tokens) -> (b, num_tokens + 1)
                # Only the new token is new: its keys and values join the cache.
                logits = model(next_idx, use_cache=True)  # (b, 1) -> (b, 1, vocab_size)
        else:
            for _ in range(max_new_tokens):
                logits = model(idx[:, -context_size:])  # (b, num_tokens) -> (b, num_tokens, vocab_size)
                next_idx = logits[:, -1].argmax(dim=-1, keepdim=True)  # (b, vocab_size) -> (b, 1)
                idx = torch.cat([idx, next_idx], dim=1)  # (b, num_tokens) -> (b, num_tokens + 1)
    return idx
