"""Loading OpenAI's GPT-2 weights into your GPTModel (book section 5.5).

Pretraining GPT-2 cost OpenAI far more than a laptop can spend, but its weights are public. The
book's download script (gpt_download.py) returns them as `settings, params`, where `params` is a
dict of NumPy arrays in GPT-2's own layout:

    params["wte"]    token embedding        (vocab_size, emb_dim)       (50257, 768) for GPT-2 124M
    params["wpe"]    position embedding     (context_length, emb_dim)   (1024, 768)
    params["g"], params["b"]                the final LayerNorm's scale and shift, (emb_dim,)
    params["blocks"][i]                     transformer block i, a nested dict:
        ["attn"]["c_attn"]["w"], ["b"]      query, key and value fused: (emb_dim, 3 * emb_dim), (3 * emb_dim,)
        ["attn"]["c_proj"]["w"], ["b"]      attention's output projection: (emb_dim, emb_dim), (emb_dim,)
        ["mlp"]["c_fc"]["w"], ["b"]         feed-forward, first layer: (emb_dim, 4 * emb_dim), (4 * emb_dim,)
        ["mlp"]["c_proj"]["w"], ["b"]       feed-forward, second layer: (4 * emb_dim, emb_dim), (emb_dim,)
        ["ln_1"]["g"], ["b"]                the LayerNorm before attention (norm1): scale (g) and shift (b)
        ["ln_2"]["g"], ["b"]                the LayerNorm before the feed-forward network (norm2)

GPT-2 stores each weight matrix as (in_features, out_features): the transpose of nn.Linear's
weight, which is (out_features, in_features). GPT-2's query, key and value layers have biases, so
the model that receives its weights is built with "qkv_bias": True, and GPT-2 has no output
weights of its own: its output head reuses the token embedding (weight tying).

Optional, worth no points: with GPT-2 124M's weights as Hugging Face publishes them (the
model.safetensors of openai-community/gpt2) in a folder, `KATA_GPT2_DIR=that/folder pytest
tests/test_pretrained.py -rs` loads them with your load_weights_into_gpt and lets your generate
(decoding topic) write the book's sample text. Without the folder pytest skips it and says why.

Check your work: kata check pretrained   (or make check TOPIC=pretrained)
"""

import numpy as np  # noqa: F401  (np.split cuts c_attn in three)
import torch

from .gpt_model import GPTModel  # noqa: F401  (chapter 4's model: the checks load weights into it)


def assign(left, right):
    """Task 1. Return `right` (a NumPy array) as a new torch.nn.Parameter, to replace the parameter
    `left`; if their shapes differ, raise a ValueError that names both shapes, as the book does:

        ValueError: Shape mismatch. Left: torch.Size([2, 3]), Right: (3, 2)

    Loading GPT-2 means some 150 such assignments; a weight that lands in the wrong place usually
    has the wrong shape, and this check turns it into an error instead of a model that writes
    nonsense.

    >>> left = torch.nn.Parameter(torch.zeros(2, 3))
    >>> right = np.arange(6, dtype=np.float32).reshape(2, 3)
    >>> assign(left, right)
    Parameter containing:
    tensor([[0., 1., 2.],
            [3., 4., 5.]], requires_grad=True)
    >>> assign(left, right.T)
    Traceback (most recent call last):
    ...
    ValueError: Shape mismatch. Left: torch.Size([2, 3]), Right: (3, 2)
    """
    raise NotImplementedError("pretrained task 1: assign")


def load_weights_into_gpt(gpt, params):
    """Task 2. Copy every array of `params` (the layout above) into `gpt`, a GPTModel built with
    "qkv_bias": True, with assign: `gpt.pos_emb.weight = assign(gpt.pos_emb.weight, params["wpe"])`,
    and so on for every parameter. Return nothing.

    For each block b of len(params["blocks"]), into gpt.trf_blocks[b]:
      - att.W_query, att.W_key, att.W_value: c_attn's w split in three along its last axis
        (np.split(w, 3, axis=-1) gives query, key and value, in this order), each transposed with .T;
        their biases: c_attn's b split the same way;
      - att.out_proj: attn's c_proj (the weight transposed);
      - ff.layers[0] and ff.layers[2]: mlp's c_fc and c_proj (weights transposed);
      - norm1 and norm2: ln_1 and ln_2, g into .scale and b into .shift.
    Then final_norm (params["g"], params["b"]), and out_head.weight from params["wte"] (weight tying).

    GPT-2 124M's shapes (built on the `meta` device: shapes only, no memory): params["wte"] is
    (50257, 768), as the book prints, and c_attn's b holds 3 * 768 = 2304 biases.

    >>> cfg_124m = {"vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12,
    ...             "n_layers": 12, "drop_rate": 0.0, "qkv_bias": True}
    >>> with torch.device("meta"):
    ...     gpt2 = GPTModel(cfg_124m)
    >>> gpt2.tok_emb.weight.shape, gpt2.trf_blocks[0].att.W_query.bias.shape
    (torch.Size([50257, 768]), torch.Size([768]))
    >>> gpt2.trf_blocks[0].ff.layers[0].weight.shape  # mlp's c_fc w is (768, 3072): assign its .T
    torch.Size([3072, 768])

    A tiny GPTModel with one block, and random weights in GPT-2's layout:

    >>> cfg = {"vocab_size": 11, "context_length": 7, "emb_dim": 6, "n_heads": 2, "n_layers": 1,
    ...        "drop_rate": 0.0, "qkv_bias": True}
    >>> gpt = GPTModel(cfg)
    >>> rng = np.random.default_rng(0)
    >>> def arr(*shape):
    ...     return rng.standard_normal(shape).astype(np.float32)
    >>> params = {"wte": arr(11, 6), "wpe": arr(7, 6), "g": arr(6), "b": arr(6), "blocks": [{
    ...     "attn": {"c_attn": {"w": arr(6, 18), "b": arr(18)}, "c_proj": {"w": arr(6, 6), "b": arr(6)}},
    ...     "mlp": {"c_fc": {"w": arr(6, 24), "b": arr(24)}, "c_proj": {"w": arr(24, 6), "b": arr(6)}},
    ...     "ln_1": {"g": arr(6), "b": arr(6)}, "ln_2": {"g": arr(6), "b": arr(6)}}]}
    >>> load_weights_into_gpt(gpt, params)
    >>> c_attn_w = params["blocks"][0]["attn"]["c_attn"]["w"]  # (emb_dim, 3 * emb_dim)
    >>> torch.equal(gpt.trf_blocks[0].att.W_key.weight, torch.tensor(c_attn_w[:, 6:12].T))
    True
    >>> torch.equal(gpt.out_head.weight, gpt.tok_emb.weight)
    True
    """
    raise NotImplementedError("pretrained task 2: load_weights_into_gpt")
