"""Inputs shared by the GPT checks (tests/test_gpt_blocks.py, tests/test_gpt_model.py): a tiny
config whose every size differs, the book's parameter names and shapes, and weights to load."""

from __future__ import annotations

from typing import Callable

import torch

from .checks import sizes
from .variant_math import gelu, layer_norm, multi_head, project

# The book's dict with every size tiny: head_dim 3, feed-forward hidden size 24.
TINY_CONFIG = {"vocab_size": 11, "context_length": 7, "emb_dim": 6, "n_heads": 2, "n_layers": 2,
               "drop_rate": 0.0, "qkv_bias": False}


def tiny_config(seed: int, drop_rate: float = 0.0) -> tuple[dict, dict]:
    """A GPT config and the batch and num_tokens of a case: TINY_CONFIG with batch 2 and num_tokens 5
    for seed 0, other sizes for other seeds. Every size a tensor shows is distinct by construction:
    batch 2-4 < num_tokens (odd) < context_length = num_tokens + 2 < vocab_size = num_tokens + 6,
    and emb_dim = 2 heads x head_dim is even and at least 6."""
    n = sizes(seed, batch=2, num_tokens=5, head_dim=3)
    batch, num_tokens = 2 + (n["batch"] - 2) % 3, 5 + 2 * ((n["num_tokens"] - 5) % 3)
    cfg = dict(TINY_CONFIG, vocab_size=num_tokens + 6, context_length=num_tokens + 2,
               emb_dim=TINY_CONFIG["n_heads"] * n["head_dim"], drop_rate=drop_rate)
    return cfg, {"batch": batch, "num_tokens": num_tokens}


def block_shapes(cfg: dict) -> dict[str, tuple[int, ...]]:
    """The book's names and shapes of a TransformerBlock's parameters, in creation order."""
    d, hidden = cfg["emb_dim"], 4 * cfg["emb_dim"]
    shapes: dict[str, tuple[int, ...]] = {f"att.{name}.weight": (d, d) for name in ("W_query", "W_key", "W_value")}
    shapes |= {f"att.{name}.bias": (d,) for name in ("W_query", "W_key", "W_value") if cfg["qkv_bias"]}
    return shapes | {"att.out_proj.weight": (d, d), "att.out_proj.bias": (d,),
                     "ff.layers.0.weight": (hidden, d), "ff.layers.0.bias": (hidden,),
                     "ff.layers.2.weight": (d, hidden), "ff.layers.2.bias": (d,),
                     "norm1.scale": (d,), "norm1.shift": (d,), "norm2.scale": (d,), "norm2.shift": (d,)}


def model_shapes(cfg: dict) -> dict[str, tuple[int, ...]]:
    """The book's names and shapes of a GPTModel's parameters, in creation order."""
    d, vocab_size = cfg["emb_dim"], cfg["vocab_size"]
    shapes: dict[str, tuple[int, ...]] = {"tok_emb.weight": (vocab_size, d), "pos_emb.weight": (cfg["context_length"], d)}
    for i in range(cfg["n_layers"]):
        shapes |= {f"trf_blocks.{i}.{name}": shape for name, shape in block_shapes(cfg).items()}
    return shapes | {"final_norm.scale": (d,), "final_norm.shift": (d,), "out_head.weight": (vocab_size, d)}


def random_weights(shapes: dict, g: torch.Generator) -> dict[str, torch.Tensor]:
    """Weights scaled like trained ones, so that no softmax saturates and no GELU stays linear:
    embedding rows N(0, 1), matrices scaled by 1/sqrt(fan_in), LayerNorm scales near 1."""
    weights = {}
    for name, shape in shapes.items():
        w = torch.randn(shape, generator=g)
        if name.endswith("scale"):
            w = 1 + 0.1 * w
        elif len(shape) == 2 and "_emb." not in name:
            w = w / shape[1] ** 0.5
        elif len(shape) == 1:  # biases and shifts
            w = 0.1 * w
        weights[name] = w
    return weights


# Greedy generation with a margin (issue 10): another CPU's kernels move a logit by about 1e-6
# relative, so an id chosen by argmax must beat the next by more. make test holds every argmax of
# the reference to 1e-3 (grader/tests/test_suite.py MARGIN, on the logits and on softmax's
# probabilities); inputs ask a tenth more of the float64 maths below, so that the reference's
# float32 rounding (about 1e-6) cannot take a gap under it.
GREEDY_MARGIN = 1.1e-3


def gpt_logits(cfg: dict, weights: dict[str, torch.Tensor], idx: torch.Tensor) -> torch.Tensor:
    """The book's GPTModel in eval mode on given weights, in float64, from the checks' trusted maths
    (variant_math): it never calls the learner's module, and needs no solutions/."""
    w = {name: t.double() for name, t in weights.items()}
    x = w["tok_emb.weight"][idx] + w["pos_emb.weight"][:idx.shape[1]]
    for i in range(cfg["n_layers"]):
        b = {name.removeprefix(f"trf_blocks.{i}."): t for name, t in w.items() if name.startswith(f"trf_blocks.{i}.")}
        x = x + multi_head(layer_norm(x, b["norm1.scale"], b["norm1.shift"]), b, cfg["n_heads"], prefix="att.")
        x = x + project(gelu(project(layer_norm(x, b["norm2.scale"], b["norm2.shift"]), b, "ff.layers.0")), b, "ff.layers.2")
    return project(layer_norm(x, w["final_norm.scale"], w["final_norm.shift"]), w, "out_head")


def greedy_gap(logits_of: Callable[[torch.Tensor], torch.Tensor], idx: torch.Tensor, max_new_tokens: int,
               context_size: int) -> float:
    """The narrowest choice of generate_text_simple(model, idx, max_new_tokens, context_size) for a
    model whose logits (batch, num_tokens, vocab_size) are logits_of(idx): the smallest gap between
    the largest and the next logit (relative to max(1, |largest|)) or softmax probability, over
    every row and step."""
    gaps, end = [float("inf")], idx.shape[1] + max_new_tokens
    while idx.shape[1] < end:
        last = logits_of(idx[:, -context_size:])[:, -1].double()
        for scores in (last, torch.softmax(last, dim=-1)):
            top = scores.topk(2, dim=-1).values
            gaps.append(((top[:, 0] - top[:, 1]) / top[:, 0].abs().clamp(min=1)).min().item())
        idx = torch.cat([idx, last.argmax(dim=-1, keepdim=True)], dim=1)
    return min(gaps)
