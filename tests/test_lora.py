"""Checks for LoRA, low-rank adaptation (book appendix E).

LoRALayer and LinearWithLoRA are checked on tiny sizes with given A and B; replace_linear_with_lora
on a tiny GPTModel (chapter 4's, as your gpt_model module builds it) and, for the book's figures,
on GPT-2 124M built on the `meta` device, which has shapes but allocates no memory.
"""

import torch
from torch import nn

from grader.engine.checks import (WRONG_VALUES, Failed, check, compare, generator, load_weights, seeded_construction,
                                  sizes)
from grader.engine.gpt_cases import model_shapes, random_weights, tiny_config

DIMS = ("batch", "num_tokens", "out_dim")
LOGITS = ("batch", "num_tokens", "vocab_size")
GPT2_124M = {"vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12, "n_layers": 12,
             "drop_rate": 0.0, "qkv_bias": True}


def trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def freeze(model: nn.Module) -> None:
    for parameter in model.parameters():
        parameter.requires_grad = False


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=lambda seed: {"seed": 123, "in_dim": 5, "out_dim": 4, "rank": 2, "alpha": 3.0},
       judge=seeded_construction)
def lora_parameters_created_as_the_book_does(m, seed, in_dim, out_dim, rank, alpha):
    """torch.manual_seed(123); LoRALayer(in_dim=5, out_dim=4, rank=2, alpha=3.0).named_parameters(): A kaiming-uniform, B zeros"""
    torch.manual_seed(seed)
    return dict(m.LoRALayer(in_dim, out_dim, rank, alpha).named_parameters())


def _can_learn(got, expected):
    if isinstance(got, dict) and got.get("A or B has a nonzero gradient") is False:
        raise Failed(WRONG_VALUES, "after one backward step through a new LoRALayer, neither A nor B has a nonzero "
                                   "gradient, so training can never change the update: with A and B both zero, x @ A "
                                   "is zero and so are both gradients. Only B starts at zero; fill A as nn.Linear "
                                   "fills its weights, torch.nn.init.kaiming_uniform_(self.A, a=math.sqrt(5)).")
    compare(got, expected)


def learning_inputs(seed: int) -> dict:
    """x of shape (batch=2, num_tokens=3, in_dim=5) and the gradient of a loss with respect to the output."""
    n = sizes(seed, batch=2, num_tokens=3, in_dim=5, out_dim=4, rank=1)
    g = generator(seed)
    return {"x": torch.randn(n["batch"], n["num_tokens"], n["in_dim"], generator=g),
            "upstream": torch.randn(n["batch"], n["num_tokens"], n["out_dim"], generator=g),
            "rank": n["rank"] + 1, "alpha": 3.0}


@check(task=1, inputs=learning_inputs, judge=_can_learn)
def a_new_lora_layer_can_learn(m, x, upstream, rank, alpha):
    """LoRALayer(in_dim=5, out_dim=4, rank=2, alpha=3.0) as created, one backward step on x of shape (batch=2, num_tokens=3, in_dim=5): whether A or B gets a nonzero gradient"""
    torch.manual_seed(123)
    layer = m.LoRALayer(x.shape[-1], upstream.shape[-1], rank, alpha)
    (layer(x) * upstream).sum().backward()
    grads = [p.grad for p in (layer.A, layer.B)]
    return {"A or B has a nonzero gradient": any(grad is not None and bool(grad.ne(0).any()) for grad in grads)}


def layer_inputs(seed: int) -> dict:
    """x of shape (batch=2, num_tokens=3, in_dim=5), A (in_dim, rank=2) and B (rank, out_dim=4),
    both nonzero, and alpha 3.0."""
    n = sizes(seed, batch=2, num_tokens=3, in_dim=5, out_dim=4, rank=1)
    rank = n["rank"] + 1  # at least 2, so that dividing by the rank shows
    g = generator(seed)
    return {"x": torch.randn(n["batch"], n["num_tokens"], n["in_dim"], generator=g),
            "weights": {"A": torch.randn(n["in_dim"], rank, generator=g) / n["in_dim"] ** 0.5,
                        "B": torch.randn(rank, n["out_dim"], generator=g) / rank ** 0.5},
            "alpha": 3.0}


@check(task=1, inputs=layer_inputs, dims=DIMS)
def lora_forward_is_alpha_x_A_B(m, x, weights, alpha):
    """LoRALayer(in_dim=5, out_dim=4, rank=2, alpha=3.0) with given nonzero A and B, on x of shape (batch=2, num_tokens=3, in_dim=5)"""
    in_dim, rank = weights["A"].shape
    layer = load_weights(m.LoRALayer(in_dim, weights["B"].shape[1], rank, alpha), weights)
    return layer(x)


# Task 2 ---------------------------------------------------------------------------------------

def linear_inputs(seed: int) -> dict:
    case = layer_inputs(seed)
    in_dim, rank = case["weights"]["A"].shape
    out_dim = case["weights"]["B"].shape[1]
    g = generator(seed + 1)
    linear = {"weight": torch.randn(out_dim, in_dim, generator=g) / in_dim ** 0.5,
              "bias": 0.1 * torch.randn(out_dim, generator=g)}
    return {"x": case["x"], "linear": linear, "lora": case["weights"], "alpha": case["alpha"]}


def pretrained_linear(weights: dict) -> nn.Linear:
    out_dim, in_dim = weights["weight"].shape
    return load_weights(nn.Linear(in_dim, out_dim), weights)


def _unchanged_at_first(got, expected):
    if isinstance(got, dict) and isinstance(got.get("output"), torch.Tensor) and isinstance(got.get("linear(x)"), torch.Tensor):
        if got["output"].shape == got["linear(x)"].shape and not torch.allclose(got["output"], got["linear(x)"]):
            raise Failed(WRONG_VALUES, "a new LinearWithLoRA must give exactly what the linear layer it wraps gives "
                                       "(B starts at zero, so the LoRA update is zero): return self.linear(x) + "
                                       "self.lora(x), with self.linear the layer you were given.")
    compare(got, expected, dims={"output": DIMS, "linear(x)": DIMS})


@check(task=2, inputs=linear_inputs, judge=_unchanged_at_first)
def linear_with_lora_starts_as_the_linear_layer(m, x, linear, lora, alpha):
    """LinearWithLoRA(a pretrained nn.Linear(5, 4), rank=2, alpha=3.0) as created, on x of shape (batch=2, num_tokens=3, in_dim=5): its output and the parameter names"""
    in_dim, rank = lora["A"].shape
    layer = pretrained_linear(linear)
    adapted = m.LinearWithLoRA(layer, rank, alpha)
    with torch.no_grad():
        return {"output": adapted(x), "linear(x)": layer(x),
                "parameter names": [name for name, _ in adapted.named_parameters()]}


@check(task=2, inputs=linear_inputs, dims=DIMS)
def linear_with_lora_adds_the_update(m, x, linear, lora, alpha):
    """LinearWithLoRA(nn.Linear(5, 4), rank=2, alpha=3.0) with given weights and nonzero lora.A and lora.B, on x of shape (batch=2, num_tokens=3, in_dim=5)"""
    in_dim, rank = lora["A"].shape
    adapted = m.LinearWithLoRA(pretrained_linear(linear), rank, alpha)
    weights = {f"linear.{k}": v for k, v in linear.items()} | {f"lora.{k}": v for k, v in lora.items()}
    return load_weights(adapted, weights)(x)


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=lambda seed: {"cfg": GPT2_124M, "rank": 16, "alpha": 16})
def book_counts_for_gpt2_124m(m, cfg, rank, alpha):
    """The book's figures: GPT-2 124M (qkv_bias=True) with out_head = nn.Linear(768, 2), built on the meta device; trainable parameters before and after freezing, then after replace_linear_with_lora(model, rank=16, alpha=16), and how many LinearWithLoRA it holds"""
    with torch.device("meta"):
        model = m.GPTModel(cfg)
        model.out_head = nn.Linear(cfg["emb_dim"], 2)
        before = trainable(model)
        freeze(model)
        frozen = trainable(model)
        m.replace_linear_with_lora(model, rank, alpha)
    return {"trainable before": before, "trainable after freezing": frozen,
            "trainable LoRA parameters": trainable(model),
            "LinearWithLoRA modules": sum(isinstance(module, m.LinearWithLoRA) for module in model.modules())}


def tiny_gpt_inputs(seed: int) -> dict:
    """A tiny GPTModel's config and weights and in_idx of shape (batch=2, num_tokens=5)."""
    cfg, n = tiny_config(seed)
    g = generator(seed)
    return {"cfg": cfg, "weights": random_weights(model_shapes(cfg), g),
            "in_idx": torch.randint(0, cfg["vocab_size"], (n["batch"], n["num_tokens"]), generator=g)}


def _every_linear_adapted(got, expected):
    if isinstance(got, dict) and isinstance(got.get("adapted layers"), list):
        missing = sorted(set(expected["adapted layers"]) - set(map(str, got["adapted layers"])))
        if missing:
            raise Failed(WRONG_VALUES, f"{len(missing)} of the model's {len(expected['adapted layers'])} linear layers "
                                       f"are not LinearWithLoRA after replace_linear_with_lora, e.g. {missing[:3]}. "
                                       f"Replace each nn.Linear child with setattr(module, name, LinearWithLoRA(...)) "
                                       f"(assigning to the loop variable changes nothing), and call the function again "
                                       f"on every other child: the layers sit inside blocks inside the model.")
    compare(got, expected, dims={"logits": LOGITS})


@check(task=3, inputs=tiny_gpt_inputs, judge=_every_linear_adapted)
def every_linear_of_a_gpt_is_adapted(m, cfg, weights, in_idx):
    """A tiny GPTModel (emb_dim=6, n_layers=2) with given weights, frozen, then replace_linear_with_lora(model, rank=2, alpha=3.0): the names of its LinearWithLoRA layers, its trainable parameters, and its logits (unchanged, since B is zero)"""
    model = load_weights(m.GPTModel(cfg), weights).eval()
    freeze(model)
    torch.manual_seed(123)
    m.replace_linear_with_lora(model, 2, 3.0)
    with torch.no_grad():
        logits = model(in_idx)
    return {"adapted layers": [name for name, module in model.named_modules() if isinstance(module, m.LinearWithLoRA)],
            "trainable parameters": [name for name, p in model.named_parameters() if p.requires_grad],
            "logits": logits}
