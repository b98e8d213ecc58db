"""Checks for topic 11, the GPT model and greedy generation (book sections 4.6-4.7)."""

from functools import partial

import torch

from grader.engine.checks import (DEEP_ATOL, DEEP_RTOL, WRONG_VALUES, causal, check, compare, Failed, generator,
                           load_weights, on_another_device, one_device, seeded_construction)
from grader.engine.gpt_cases import GREEDY_MARGIN, TINY_CONFIG, gpt_logits, greedy_gap, model_shapes, random_weights, tiny_config

# Deep outputs: the float32 tolerance of grader.checks.DEEP_RTOL/DEEP_ATOL for every check here
# that does not state its own (another CPU's kernels must not change a verdict).
check = partial(check, rtol=DEEP_RTOL, atol=DEEP_ATOL)

POSITIONS_ADVICE = ("Make it where the token ids are: torch.arange(num_tokens, device=in_idx.device), as the book "
                    "does, so the same model runs on a GPU.")
DIMS = ("batch", "num_tokens", "vocab_size")
IDS = ("batch", "num_tokens")
BOOK_CONFIG_124M = {"vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12, "n_layers": 12,
                    "drop_rate": 0.1, "qkv_bias": False}
CAUSAL_ADVICE = ("Only attention mixes tokens, under its causal mask; the embeddings, final_norm and out_head "
                 "must work on each position on its own.")
GREEDY_ADVICE = ("Each step: crop to idx[:, -context_size:], run the model, take logits[:, -1, :] (the last "
                 "position predicts the next token), then argmax over the vocabulary.")


def build(m, cfg, weights):
    return load_weights(m.GPTModel(cfg), weights)


# Tasks 1 and 2 --------------------------------------------------------------------------------

def model_inputs(seed: int, drop_rate: float = 0.0, full_context: bool = False, n_layers: int | None = None) -> dict:
    """A config, the model's weights and in_idx (batch=2, num_tokens=5); context_length is 7, vocab_size 11."""
    cfg, n = tiny_config(seed, drop_rate)
    cfg = cfg if n_layers is None else dict(cfg, n_layers=n_layers)
    g = generator(seed)
    weights = random_weights(model_shapes(cfg), g)
    num_tokens = cfg["context_length"] if full_context else n["num_tokens"]
    return {"in_idx": torch.randint(0, cfg["vocab_size"], (n["batch"], num_tokens), generator=g),
            "cfg": cfg, "weights": weights}


# n_layers=3, not TINY_CONFIG's 2: another number than n_heads, so that blocks counted by n_heads show.
@check(task=1, inputs=lambda seed: {"seed": 123, "cfg": dict(TINY_CONFIG, n_layers=3)}, judge=seeded_construction)
def model_layers_created_in_book_order(m, seed, cfg):
    """torch.manual_seed(123); GPTModel(cfg with vocab_size=11, context_length=7, emb_dim=6, n_heads=2, n_layers=3): its children and named_parameters()"""
    torch.manual_seed(seed)
    model = m.GPTModel(cfg)
    # Children by name, not order: a LayerNorm or Dropout made earlier or later draws no random number.
    return {"children": sorted(name for name, _ in model.named_children()), "parameters": dict(model.named_parameters())}


@check(task=2, inputs=model_inputs, dims=DIMS)
def logits_match(m, in_idx, cfg, weights):
    """GPTModel(cfg with vocab_size=11, context_length=7, emb_dim=6) with given weights, in eval mode, on in_idx of shape (batch=2, num_tokens=5)"""
    return build(m, cfg, weights).eval()(in_idx)


@check(task=2, inputs=lambda seed: model_inputs(seed, full_context=True), dims=DIMS)
def logits_match_on_a_full_context(m, in_idx, cfg, weights):
    """GPTModel(cfg with vocab_size=11, context_length=7) with given weights, in eval mode, on in_idx of shape (batch=2, num_tokens=7)"""
    return build(m, cfg, weights).eval()(in_idx)


# One block is enough to see a tensor made on the CPU (in the model's forward or a block's), and an
# operation on the meta device costs some 20 times what it costs on the CPU: not two blocks.
@check(task=2, inputs=lambda seed: model_inputs(seed, n_layers=1),
       judge=one_device("a tensor such as the positions", POSITIONS_ADVICE))
def positions_are_made_on_the_ids_device(m, in_idx, cfg, weights):
    """GPTModel(cfg with n_layers=1) and in_idx moved to another device than the CPU (PyTorch's meta device): every tensor the forward makes must be made there too"""
    return on_another_device(build(m, cfg, weights).eval(), in_idx)


@check(task=2, inputs=model_inputs, judge=causal(DIMS, CAUSAL_ADVICE, DEEP_RTOL, DEEP_ATOL), dims=DIMS)
def later_tokens_do_not_change_earlier_logits(m, in_idx, cfg, weights):
    """GPTModel on in_idx, then on in_idx with its last token id changed: earlier logits must stay the same"""
    model = build(m, cfg, weights).eval()
    changed = in_idx.clone()
    changed[:, -1] = (changed[:, -1] + 1) % cfg["vocab_size"]
    return model(in_idx), model(changed)


@check(task=2, inputs=lambda seed: model_inputs(seed, drop_rate=0.5), dims=DIMS)
def dropout_in_train_mode(m, in_idx, cfg, weights):
    """GPTModel(cfg with drop_rate=0.5) in train mode, after torch.manual_seed(123): drop_emb once on the summed embeddings, then the blocks"""
    model = build(m, cfg, weights).train()
    torch.manual_seed(123)
    return model(in_idx)


# Task 3 ---------------------------------------------------------------------------------------

def meta_module(shapes: dict) -> torch.nn.Module:
    """A module holding parameters of the given names and shapes on the meta device: no memory, no values."""
    root = torch.nn.Module()
    for name, shape in shapes.items():
        *path, leaf = name.split(".")
        module = root
        for part in path:
            if not hasattr(module, part):
                module.add_module(part, torch.nn.Module())
            module = getattr(module, part)
        module.register_parameter(leaf, torch.nn.Parameter(torch.empty(shape, device="meta")))
    return root


def tiny_configs_inputs(seed: int) -> dict:
    cfg, _ = tiny_config(seed)
    return {"configs": [cfg, dict(cfg, n_layers=1, qkv_bias=True), dict(cfg, n_layers=3, n_heads=1)]}


@check(task=3, inputs=lambda seed: {"shapes": model_shapes(BOOK_CONFIG_124M)})
def gpt_config_124m_has_163_million_parameters_124_million_tied(m, shapes):
    """GPT_CONFIG_124M, and count_parameters(model) and count_parameters(model, tied=True) for a model with GPT-2 small's parameters (made on the meta device: no memory)"""
    model = meta_module(shapes)
    return {"GPT_CONFIG_124M": dict(m.GPT_CONFIG_124M),
            "count_parameters": [m.count_parameters(model), m.count_parameters(model, tied=True)]}


@check(task=3, inputs=tiny_configs_inputs)
def parameter_counts_of_tiny_models(m, configs):
    """[count_parameters(GPTModel(cfg)), count_parameters(GPTModel(cfg), tied=True)] for three tiny configs, the first with emb_dim=6, vocab_size=11"""
    return [[m.count_parameters(model), m.count_parameters(model, tied=True)]
            for model in (m.GPTModel(cfg) for cfg in configs)]


# Task 4 ---------------------------------------------------------------------------------------

def generation_inputs(seed: int, task: str) -> dict:
    """A tiny model's weights and a prompt: `greedy` runs past context_length (7), `crop` has context_size 3
    and a prompt of 5 tokens, `argmax` a prompt of 4 tokens with context_size 3."""
    cfg, n = tiny_config(seed)
    g = generator(seed)
    num_tokens, max_new_tokens, context_size = {
        "greedy": (n["num_tokens"] - 2, 6, cfg["context_length"]),
        # The model itself could read every token generated here: only cropping keeps them out.
        "crop": (n["num_tokens"], 2, 3),
        "argmax": (n["num_tokens"] - 1, 3, 3),
    }[task]
    for _ in range(100):  # drawn again from the seed's generator until every new id wins by a margin (issue 10)
        weights = random_weights(model_shapes(cfg), g)
        idx = torch.randint(0, cfg["vocab_size"], (n["batch"], num_tokens), generator=g)
        if greedy_gap(partial(gpt_logits, cfg, weights), idx, max_new_tokens, context_size) >= GREEDY_MARGIN:
            return {"cfg": cfg, "weights": weights, "max_new_tokens": max_new_tokens, "context_size": context_size,
                    "idx": idx}
    raise RuntimeError(f"no greedy generation with a margin for seed {seed}")


def _each_token_is_the_argmax(got, expected):
    """Judge: every appended id is the argmax of the model's last-position logits on the cropped context."""
    ids, best = (got.get("ids"), got.get("argmax")) if isinstance(got, dict) else (None, None)
    if isinstance(ids, torch.Tensor) and isinstance(best, torch.Tensor) and ids.dim() == 2 and best.dim() == 2:
        new = ids[:, ids.shape[1] - best.shape[1]:]
        if new.shape == best.shape and (new != best).any():
            b, j = (int(i) for i in (new != best).nonzero()[0])
            at = ids.shape[1] - best.shape[1] + j
            raise Failed(WRONG_VALUES, f"the new token at [batch {b}, num_tokens {at}] is {new[b, j].item()}, but "
                                       f"on the last context_size ids before it your model's logits at the last "
                                       f"position are largest for id {best[b, j].item()}. {GREEDY_ADVICE}")
    compare(got, expected, dims=IDS)


@check(task=4, inputs=lambda seed: generation_inputs(seed, "greedy"), dims=IDS)
def greedy_generation_matches(m, cfg, weights, idx, max_new_tokens, context_size):
    """generate_text_simple(GPTModel(cfg with context_length=7) with given weights, idx of shape (batch=2, num_tokens=3), max_new_tokens=6, context_size=7)"""
    model = build(m, cfg, weights).eval()
    return m.generate_text_simple(model, idx, max_new_tokens, context_size)


def _without_gradients(got, expected):
    if isinstance(got, dict) and got.get("grad_enabled") is True:
        raise Failed(WRONG_VALUES, "generate_text_simple calls the model with gradients on. Generation needs none: "
                                   "wrap logits = model(idx_cond) in `with torch.no_grad():`, as the book does, or "
                                   "every step keeps its computation graph in memory.")
    compare(got, expected, dims=IDS)


@check(task=4, inputs=lambda seed: generation_inputs(seed, "greedy"), judge=_without_gradients)
def generation_runs_without_gradients(m, cfg, weights, idx, max_new_tokens, context_size):
    """generate_text_simple as in greedy_generation_matches, noting torch.is_grad_enabled() at every call of the model"""
    model = build(m, cfg, weights).eval()
    seen = []
    model.register_forward_pre_hook(lambda module, args: seen.append(torch.is_grad_enabled()))
    ids = m.generate_text_simple(model, idx, max_new_tokens, context_size)
    return {"ids": ids, "grad_enabled": any(seen)}


@check(task=4, inputs=lambda seed: generation_inputs(seed, "crop"), dims=IDS)
def generation_sees_only_the_last_context_size_tokens(m, cfg, weights, idx, max_new_tokens, context_size):
    """generate_text_simple(GPTModel(cfg with context_length=7) with given weights, idx of shape (batch=2, num_tokens=5), max_new_tokens=2, context_size=3)"""
    model = build(m, cfg, weights).eval()
    return m.generate_text_simple(model, idx, max_new_tokens, context_size)


@check(task=4, inputs=lambda seed: generation_inputs(seed, "argmax"), judge=_each_token_is_the_argmax)
def each_new_token_is_the_argmax_at_the_last_position(m, cfg, weights, idx, max_new_tokens, context_size):
    """generate_text_simple(model, idx of shape (batch=2, num_tokens=4), max_new_tokens=3, context_size=3), then for each new token the argmax of model(the context_size ids before it)[:, -1]"""
    model = build(m, cfg, weights).eval()
    ids = m.generate_text_simple(model, idx, max_new_tokens, context_size)
    if not isinstance(ids, torch.Tensor) or ids.dim() != 2:
        return {"ids": ids, "argmax": None}
    with torch.no_grad():
        best = [model(ids[:, :end][:, -context_size:])[:, -1].argmax(dim=-1) for end in range(idx.shape[1], ids.shape[1])]
    return {"ids": ids, "argmax": torch.stack(best, dim=1) if best else ids[:, :0]}
