"""A KV cache for faster generation (the book's bonus material to chapter 4).

generate_text_simple runs the whole text through the model for every new token, and so computes
again, at every step, the keys and values of every token it has already read. They do not change:
a token's key depends only on that token and the ones before it. Here each attention layer keeps
them (a KV cache): the prompt is read once, then each step reads only the newest token, whose
query attends to the cached keys, at the position that follows the tokens read so far. Greedy
generation gives the same ids, token by token, with far less work per step.

The module holds its own MultiHeadAttention, TransformerBlock and GPTModel, as the bonus material
does: the same parameters, in the same order, as chapters 3 and 4 (a gpt_model GPTModel's weights
load into this one), plus the cache. What is already written here is given; the methods that
raise NotImplementedError are yours.

Check your work: kata check kv_cache   (or make check TOPIC=kv_cache)
Then the speed challenge: kata speed kv_cache   (how much faster your cache makes generation)
"""

import torch
import torch.nn as nn

from .causal_attention import causal_mask
from .gpt_blocks import FeedForward, LayerNorm


class MultiHeadAttention(nn.Module):
    """Task 1. Chapter 3's multi-head attention, which can also keep the keys and values it computes.

    forward(x) without the cache is chapter 3's. forward(x, use_cache=True) reads x as the next
    tokens of the sequence it has read so far: their queries attend to every cached key and their own.
    Reading a sequence in pieces with the cache gives what reading it whole gives:

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
    >>> mha = MultiHeadAttention(d_in=3, d_out=4, context_length=6, dropout=0.0, num_heads=2)
    >>> whole = mha(batch)
    >>> whole.detach()[0, 4]
    tensor([-0.0117,  0.2973, -0.0698, -0.3543])
    >>> first = mha(batch[:, :4], use_cache=True)   # the first 4 tokens
    >>> mha.cache_k.shape, mha.ptr_current_pos      # (b, num_tokens, num_heads, head_dim), as the book keeps it
    (torch.Size([2, 4, 2, 2]), 4)
    >>> fifth = mha(batch[:, 4:5], use_cache=True)  # one more token, at position 4
    >>> fifth.detach()[0, 0]
    tensor([-0.0117,  0.2973, -0.0698, -0.3543])
    >>> mha.reset_cache()
    >>> mha.cache_k is None, mha.ptr_current_pos
    (True, 0)
    """

    def __init__(
        self, d_in: int, d_out: int, context_length: int, dropout: float, num_heads: int, qkv_bias: bool = False
    ):
        # Given: chapter 3's layers, in the book's order, and an empty cache.
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
        """Task 1. Multi-head causal attention over x, reading x after the cache when use_cache=True.

        As in chapter 3: keys_new, values_new and queries from W_key, W_value and W_query, each
        viewed as (b, num_tokens, num_heads, head_dim). Then:

        - use_cache=False: keys, values = keys_new, values_new, and the mask's rows and columns
          0 .. num_tokens-1, as in chapter 3.
        - use_cache=True: if the cache is empty (self.cache_k is None), keys_new and values_new
          become the cache; otherwise append them to cache_k and cache_v along the token
          dimension (dim 1). Attend over the whole cache: keys, values = cache_k, cache_v.
          x's tokens sit at positions ptr_current_pos .. ptr_current_pos + num_tokens - 1, so
          their rows of the causal mask are those, over every key so far:
          self.mask.bool()[ptr_current_pos:ptr_current_pos + num_tokens, :num_keys].
          Then advance ptr_current_pos by num_tokens.

        Then, as in chapter 3: transpose heads before tokens, scores, mask with -inf, softmax of
        the scores / sqrt(head_dim), dropout, weights @ values, heads back together, out_proj.

        Shapes: x (b, num_tokens, d_in); cache_k, cache_v (b, num_keys, num_heads, head_dim), with
        num_keys the tokens read since the last reset; scores (b, num_heads, num_tokens, num_keys);
        returns (b, num_tokens, d_out). See the class docstring for a worked example.
        """
        raise NotImplementedError("kv_cache task 1: MultiHeadAttention.forward")

    def reset_cache(self) -> None:
        """Task 1. Forget the sequence read so far: an empty cache (cache_k and cache_v None) and
        ptr_current_pos 0, as after __init__."""
        raise NotImplementedError("kv_cache task 1: MultiHeadAttention.reset_cache")


class TransformerBlock(nn.Module):
    """Given: chapter 4's block, with use_cache passed on to its attention."""

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
    """Task 2. Chapter 4's GPT, which can read a text in pieces with the cache.

    >>> cfg = {"vocab_size": 11, "context_length": 7, "emb_dim": 6, "n_heads": 2,
    ...        "n_layers": 2, "drop_rate": 0.0, "qkv_bias": False}
    >>> _ = torch.manual_seed(123)
    >>> model = GPTModel(cfg).eval()
    >>> in_idx = torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])
    >>> model(in_idx).detach()[0, 3]
    tensor([ 0.1532,  0.1690, -0.8090,  0.7715, -1.0203, -0.5461, -0.1112,  0.2509,
             0.8660,  0.5882,  1.0117])
    >>> _ = model(in_idx[:, :3], use_cache=True)     # positions 0, 1, 2
    >>> model.current_pos
    3
    >>> model(in_idx[:, 3:], use_cache=True).detach()[0, 0]  # position 3
    tensor([ 0.1532,  0.1690, -0.8090,  0.7715, -1.0203, -0.5461, -0.1112,  0.2509,
             0.8660,  0.5882,  1.0117])
    >>> model.reset_kv_cache()
    >>> model.current_pos, model.trf_blocks[0].att.cache_k is None
    (0, True)
    """

    def __init__(self, cfg: dict):
        # Given: chapter 4's layers, in the book's order, so gpt_model's GPTModel's weights load here.
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
        """Task 2. Chapter 4's forward, with positions that continue when use_cache=True.

            positions = 0 .. num_tokens-1                                  (use_cache=False)
                        current_pos .. current_pos + num_tokens - 1,        (use_cache=True)
                        then current_pos += num_tokens
            x = drop_emb(tok_emb(in_idx) + pos_emb(positions))
            x = block(x, use_cache=use_cache) for each block in trf_blocks
            logits = out_head(final_norm(x))

        Make the positions on in_idx's device. Shapes: in_idx (b, num_tokens); returns logits
        (b, num_tokens, vocab_size). See the class docstring for a worked example.
        """
        raise NotImplementedError("kv_cache task 2: GPTModel.forward")

    def reset_kv_cache(self) -> None:
        """Task 2. Start a new text: reset every block's attention cache (reset_cache()) and set
        current_pos back to 0."""
        raise NotImplementedError("kv_cache task 2: GPTModel.reset_kv_cache")


def generate_text_simple_cached(model: nn.Module, idx: torch.Tensor, max_new_tokens: int,
                                context_size: int | None = None, use_cache: bool = True) -> torch.Tensor:
    """Task 3. Greedy decoding as generate_text_simple, reading each token once when use_cache=True.

    Put the model in eval mode, and run it under torch.no_grad(). context_size defaults to the
    model's context length, model.pos_emb.num_embeddings.

    - use_cache=True: model.reset_kv_cache() (a new text), then read the prompt once,
      logits = model(idx[:, -context_size:], use_cache=True). Then max_new_tokens times:
      next_idx = the argmax of logits[:, -1] (keepdim, (b, 1)); append it to idx; and read only
      it: logits = model(next_idx, use_cache=True).
    - use_cache=False: generate_text_simple: max_new_tokens times, logits =
      model(idx[:, -context_size:]), append the argmax of logits[:, -1].

    Both give the same ids while the prompt and the new tokens fit in the context (the cache
    cannot forget its oldest tokens). Shapes: idx (b, num_tokens); returns
    (b, num_tokens + max_new_tokens).

    >>> cfg = {"vocab_size": 11, "context_length": 10, "emb_dim": 6, "n_heads": 2,
    ...        "n_layers": 2, "drop_rate": 0.0, "qkv_bias": False}
    >>> _ = torch.manual_seed(123)
    >>> model = GPTModel(cfg)
    >>> idx = torch.tensor([[1, 2, 3], [4, 5, 6]])
    >>> generate_text_simple_cached(model, idx, max_new_tokens=6)
    tensor([[1, 2, 3, 7, 2, 2, 6, 7, 6],
            [4, 5, 6, 7, 0, 2, 6, 7, 6]])
    >>> generate_text_simple_cached(model, idx, max_new_tokens=6, use_cache=False)
    tensor([[1, 2, 3, 7, 2, 2, 6, 7, 6],
            [4, 5, 6, 7, 0, 2, 6, 7, 6]])

    The book: torch.manual_seed(123), GPTModel(GPT_CONFIG_124M), "Hello, I am"
    ([15496, 11, 314, 716]) and 200 new tokens: the same ids with and without the cache, the cached
    run several times faster (kata speed kv_cache measures yours).
    """
    raise NotImplementedError("kv_cache task 3: generate_text_simple_cached")
