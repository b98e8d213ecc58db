"""Loading OpenAI's GPT-2 weights into the book's GPTModel (book section 5.5).

OpenAI published the weights GPT-2 learned; the book's download script gives them as NumPy arrays
in GPT-2's own layout, and these functions copy each one into the matching parameter of chapter
4's GPTModel. Two differences of layout matter: GPT-2 keeps query, key and value in one fused
matrix (c_attn), and it stores every linear layer's weight as (in_features, out_features), the
transpose of nn.Linear's. GPT-2 also has no separate output weights: its output head reuses the
token embedding.
"""

import numpy as np
import torch

from .gpt_model import GPTModel  # noqa: F401  (chapter 4's model: the checks load weights into it)


def assign(left, right):
    # A wrong shape here is a wrong mapping of weights: refuse it rather than load it silently.
    if left.shape != right.shape:
        raise ValueError(f"Shape mismatch. Left: {left.shape}, Right: {right.shape}")
    return torch.nn.Parameter(torch.tensor(right))


def load_weights_into_gpt(gpt, params):
    gpt.pos_emb.weight = assign(gpt.pos_emb.weight, params["wpe"])
    gpt.tok_emb.weight = assign(gpt.tok_emb.weight, params["wte"])

    for b in range(len(params["blocks"])):
        block = params["blocks"][b]
        # c_attn's columns hold query, key and value side by side: (emb_dim, 3 * emb_dim) -> 3 x (emb_dim, emb_dim)
        q_w, k_w, v_w = np.split(block["attn"]["c_attn"]["w"], 3, axis=-1)
        # GPT-2 stores (in, out); nn.Linear's weight is (out, in): hence every .T below.
        gpt.trf_blocks[b].att.W_query.weight = assign(gpt.trf_blocks[b].att.W_query.weight, q_w.T)
        gpt.trf_blocks[b].att.W_key.weight = assign(gpt.trf_blocks[b].att.W_key.weight, k_w.T)
        gpt.trf_blocks[b].att.W_value.weight = assign(gpt.trf_blocks[b].att.W_value.weight, v_w.T)

        q_b, k_b, v_b = np.split(block["attn"]["c_attn"]["b"], 3, axis=-1)  # (3 * emb_dim,) -> 3 x (emb_dim,)
        gpt.trf_blocks[b].att.W_query.bias = assign(gpt.trf_blocks[b].att.W_query.bias, q_b)
        gpt.trf_blocks[b].att.W_key.bias = assign(gpt.trf_blocks[b].att.W_key.bias, k_b)
        gpt.trf_blocks[b].att.W_value.bias = assign(gpt.trf_blocks[b].att.W_value.bias, v_b)

        gpt.trf_blocks[b].att.out_proj.weight = assign(gpt.trf_blocks[b].att.out_proj.weight,
                                                       block["attn"]["c_proj"]["w"].T)
        gpt.trf_blocks[b].att.out_proj.bias = assign(gpt.trf_blocks[b].att.out_proj.bias, block["attn"]["c_proj"]["b"])

        # The feed-forward network: c_fc widens to 4 * emb_dim, c_proj brings it back.
        gpt.trf_blocks[b].ff.layers[0].weight = assign(gpt.trf_blocks[b].ff.layers[0].weight, block["mlp"]["c_fc"]["w"].T)
        gpt.trf_blocks[b].ff.layers[0].bias = assign(gpt.trf_blocks[b].ff.layers[0].bias, block["mlp"]["c_fc"]["b"])
        gpt.trf_blocks[b].ff.layers[2].weight = assign(gpt.trf_blocks[b].ff.layers[2].weight,
                                                       block["mlp"]["c_proj"]["w"].T)
        gpt.trf_blocks[b].ff.layers[2].bias = assign(gpt.trf_blocks[b].ff.layers[2].bias, block["mlp"]["c_proj"]["b"])

        # LayerNorm: g (gain) is the scale, b (bias) the shift.
        gpt.trf_blocks[b].norm1.scale = assign(gpt.trf_blocks[b].norm1.scale, block["ln_1"]["g"])
        gpt.trf_blocks[b].norm1.shift = assign(gpt.trf_blocks[b].norm1.shift, block["ln_1"]["b"])
        gpt.trf_blocks[b].norm2.scale = assign(gpt.trf_blocks[b].norm2.scale, block["ln_2"]["g"])
        gpt.trf_blocks[b].norm2.shift = assign(gpt.trf_blocks[b].norm2.shift, block["ln_2"]["b"])

    gpt.final_norm.scale = assign(gpt.final_norm.scale, params["g"])
    gpt.final_norm.shift = assign(gpt.final_norm.shift, params["b"])
    # Weight tying: GPT-2 reads its output logits through the token embedding's matrix.
    gpt.out_head.weight = assign(gpt.out_head.weight, params["wte"])
