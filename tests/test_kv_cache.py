"""Checks for the KV cache for faster generation (the book's bonus material to chapter 4).

The invariant of every check here: reading a text in pieces with use_cache=True gives what reading
it whole without the cache gives. A failure names the first piece (step) where they part.
"""

from functools import partial

import torch

from grader.engine.checks import (DEEP_ATOL, DEEP_RTOL, WRONG_VALUES, Failed, check, compare, generator, load_weights,
                                  on_another_device, one_device, seeded_construction, sizes)
from grader.engine.gpt_cases import GREEDY_MARGIN, TINY_CONFIG, gpt_logits, greedy_gap, model_shapes, random_weights, tiny_config

# Deep outputs: the float32 tolerance of grader.checks.DEEP_RTOL/DEEP_ATOL for every check here
# that does not state its own (another CPU's kernels must not change a verdict). A cached step
# and the uncached forward add the same numbers in another order, so they also differ by rounding.
check = partial(check, rtol=DEEP_RTOL, atol=DEEP_ATOL)

ATTENTION_DIMS = ("batch", "num_tokens", "d_out")
LOGITS_DIMS = ("batch", "num_tokens", "vocab_size")
IDS = ("batch", "num_tokens")


def _close(a, b) -> bool:
    return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
            and a.is_floating_point() and b.is_floating_point()
            and torch.allclose(a.double(), b.double(), rtol=DEEP_RTOL, atol=DEEP_ATOL))


def _span(start: int, length: int) -> str:
    return f"position {start}" if length == 1 else f"positions {start}-{start + length - 1}"


POSITIONS = "ptr_current_pos after each cached call"


def _counter_note(ptrs, wanted) -> str:
    """' Your ptr_current_pos was 0, 0, 0 ...' when the learner's counter, read after each cached
    call, is not the reference's; '' otherwise (or when the module has no such counter)."""
    if not (isinstance(ptrs, list) and isinstance(wanted, list) and ptrs != wanted
            and all(isinstance(p, int) and not isinstance(p, bool) for p in ptrs)):
        return ""
    stays = " (it never moves)" if len(set(ptrs)) == 1 else ""
    return (f" Your ptr_current_pos after each cached call was {', '.join(map(str, ptrs))}{stays}, where it must count "
            f"the tokens read so far, {', '.join(map(str, wanted))}: the next call's queries start at that position.")


def steps_equal_uncached(dims, uncached_advice: str, step_advice):
    """Judge for {"uncached": the whole input's output, "steps": the outputs of the cached calls}:
    first the uncached output against the reference, then each cached step against the rows of the
    learner's own uncached output it stands for (the first that differs is named, with
    step_advice(step)), then everything against the reference."""
    def judge(got, expected):
        # The position counter is evidence, not a requirement: a module that finds its position
        # otherwise and gives the right outputs passes; one that fails is told where its counter stood.
        ptrs = got.get(POSITIONS) if isinstance(got, dict) else None
        wanted = expected.get(POSITIONS) if isinstance(expected, dict) else None
        if ptrs is not None and not (isinstance(ptrs, list) and all(p is None or type(p) is int for p in ptrs)):
            compare(got, expected, dims=dims)  # not what the check records (ints or None): judged as it is
        if isinstance(got, dict):
            got = {k: v for k, v in got.items() if k != POSITIONS}
        if isinstance(expected, dict):
            expected = {k: v for k, v in expected.items() if k != POSITIONS}
        if isinstance(got, dict) and isinstance(got.get("steps"), list) and isinstance(expected, dict):
            try:
                compare(got.get("uncached"), expected["uncached"], dims=dims, rtol=DEEP_RTOL, atol=DEEP_ATOL,
                        name="uncached")
            except Failed as failed:
                raise Failed(failed.reason, f"{failed.message}. {uncached_advice}") from None
            start = 0
            for step, (mine, theirs) in enumerate(zip(got["steps"], expected["steps"])):
                length = theirs.shape[1]
                if not _close(mine, got["uncached"][:, start:start + length]):
                    shape = (f" (its output has shape {tuple(mine.shape)}, not {tuple(theirs.shape)})"
                             if isinstance(mine, torch.Tensor) and mine.shape != theirs.shape else "")
                    raise Failed(WRONG_VALUES, f"your cached run differs from the uncached one at step {step}{shape}, "
                                               f"the tokens at {_span(start, length)}: {step_advice(step, start)}"
                                               f"{_counter_note(ptrs, wanted) if step else ''}")
                start += length
        compare(got, expected, dims=dims)
    return judge


# Task 1 ---------------------------------------------------------------------------------------

def attention_inputs(seed: int) -> dict:
    """Two batches of sequences and the weights of 2 heads: batch 2, num_tokens 6 read as steps of
    3, 1 and 2 tokens, d_in 5, head_dim 4, d_out 8; context_length 2 * num_tokens + 1 leaves room
    for a cache that is not emptied."""
    n = sizes(seed, batch=2, prompt=3, d_in=5, head_dim=4)
    num_heads, num_tokens = 2, n["prompt"] + 3
    d_out = num_heads * n["head_dim"]
    g = generator(seed)
    weights = {f"{name}.weight": torch.randn(d_out, n["d_in"], generator=g) / n["d_in"] ** 0.5
               for name in ("W_query", "W_key", "W_value")}
    weights |= {"out_proj.weight": torch.randn(d_out, d_out, generator=g) / d_out ** 0.5,
                "out_proj.bias": 0.1 * torch.randn(d_out, generator=g)}
    return {"x": torch.randn(n["batch"], num_tokens, n["d_in"], generator=g),
            "other": torch.randn(n["batch"], num_tokens, n["d_in"], generator=g),
            "steps": [n["prompt"], 1, 2], "num_heads": num_heads, "context_length": 2 * num_tokens + 1,
            "weights": weights}


def build_attention(m, weights, num_heads, context_length):
    d_out, d_in = weights["W_query.weight"].shape
    return load_weights(m.MultiHeadAttention(d_in, d_out, context_length, 0.0, num_heads), weights).eval()


def read_in_steps(module, x, steps: list[int]) -> list:
    """module(piece, use_cache=True) for consecutive pieces of x (dim 1) of the given lengths."""
    pieces = torch.split(x, steps, dim=1)
    return [module(piece, use_cache=True) for piece in pieces]


ATTENTION_UNCACHED = ("With use_cache=False, forward is multi-head attention as in chapter 3: the keys and values "
                      "are those of x alone, under the causal mask")


def attention_step_advice(step: int, start: int) -> str:
    if step == 0:
        return ("with an empty cache, forward(x, use_cache=True) must give what forward(x) gives: store the keys and "
                "values as the cache, and mask with the causal mask's first num_tokens rows.")
    return (f"these queries must see the cached keys and values of the {start} earlier tokens and their own: append "
            f"the new keys and values to the cache along the token dimension, and take the mask's rows from the "
            f"cached length on, self.mask[ptr_current_pos:ptr_current_pos + num_tokens, :num_keys], then move "
            f"ptr_current_pos past the new tokens.")


@check(task=1, inputs=attention_inputs, dims=ATTENTION_DIMS,
       judge=steps_equal_uncached(ATTENTION_DIMS, ATTENTION_UNCACHED, attention_step_advice))
def cached_steps_equal_the_uncached_forward(m, x, other, steps, num_heads, context_length, weights):
    """MultiHeadAttention(d_in=5, d_out=8, num_heads=2) with given weights: forward(x) on x of shape (batch=2, num_tokens=6, d_in=5), then forward(piece, use_cache=True) on x's tokens 0-2, 3, and 4-5"""
    uncached = build_attention(m, weights, num_heads, context_length)(x)
    mha = build_attention(m, weights, num_heads, context_length)
    outputs, positions = [], []
    for piece in torch.split(x, steps, dim=1):
        outputs.append(mha(piece, use_cache=True))
        position = getattr(mha, "ptr_current_pos", None)
        positions.append(int(position) if isinstance(position, (int, torch.Tensor)) and not isinstance(position, bool)
                         and (not isinstance(position, torch.Tensor) or position.numel() == 1) else None)
    return {"uncached": uncached, "steps": outputs, POSITIONS: positions}


def reset_advice(what: str):
    def advice(step: int, start: int) -> str:
        return (f"after {what} the next call starts a new sequence, as if the module were new: empty the cache "
                f"and set the position back to 0." + ("" if step == 0 else " If a fresh module passes, the "
                                                            "reset forgets something."))
    return advice


@check(task=1, inputs=attention_inputs, dims=ATTENTION_DIMS,
       judge=steps_equal_uncached(ATTENTION_DIMS, ATTENTION_UNCACHED, reset_advice("reset_cache()")))
def reset_cache_starts_a_new_sequence(m, x, other, steps, num_heads, context_length, weights):
    """MultiHeadAttention as above: forward(x[:, :1], use_cache=True), reset_cache(), then forward(piece, use_cache=True) on the pieces of another batch `other`, against forward(other)"""
    mha = build_attention(m, weights, num_heads, context_length)
    uncached = mha(other)
    # One token, so that a position left at 1 masks otherwise than no mask at all.
    mha(x[:, :1], use_cache=True)
    mha.reset_cache()
    return {"uncached": uncached, "steps": read_in_steps(mha, other, steps)}


# Task 2 ---------------------------------------------------------------------------------------

def model_inputs(seed: int) -> dict:
    """A tiny config (vocab_size 11, context_length 7, emb_dim 6), weights with gpt_model's parameter
    names, and two batches of in_idx of shape (batch=2, num_tokens=7), read as steps of 3, 1, 2 and 1
    tokens: the last step fills the context."""
    cfg, n = tiny_config(seed)
    g = generator(seed)
    weights = random_weights(model_shapes(cfg), g)
    ids = lambda: torch.randint(0, cfg["vocab_size"], (n["batch"], cfg["context_length"]), generator=g)  # noqa: E731
    return {"cfg": cfg, "weights": weights, "in_idx": ids(), "other": ids(),
            "steps": [cfg["context_length"] - 4, 1, 2, 1]}


def build_model(m, cfg, weights):
    return load_weights(m.GPTModel(cfg), weights).eval()


def seeded_and_same_logits(got, expected):
    """Judge: the parameters first (a failure is about creation order), then the logits (deep: DEEP_RTOL)."""
    if isinstance(got, dict) and isinstance(expected, dict):
        seeded_construction({k: got.get(k) for k in ("children", "parameters")},
                            {k: expected[k] for k in ("children", "parameters")})
    compare(got, expected, dims={"logits": LOGITS_DIMS}, rtol=DEEP_RTOL, atol=DEEP_ATOL)


# The layers are given; a learner who writes them again must keep the book's order, or the weights
# of gpt_model's GPTModel (and GPT-2's) would not load. The logits make it a check of the forward too.
@check(task=2, inputs=lambda seed: {"seed": 123, "cfg": TINY_CONFIG, "in_idx": torch.tensor([[1, 2, 3, 4], [5, 6, 7, 8]])},
       judge=seeded_and_same_logits)
def seeded_model_matches_gpt_model(m, seed, cfg, in_idx):
    """torch.manual_seed(123); GPTModel(cfg with vocab_size=11, context_length=7, emb_dim=6, n_layers=2): its children, named_parameters() (those of gpt_model's GPTModel with the same seed) and its logits in eval mode on [[1, 2, 3, 4], [5, 6, 7, 8]]"""
    torch.manual_seed(seed)
    model = m.GPTModel(cfg)
    return {"children": sorted(name for name, _ in model.named_children()), "parameters": dict(model.named_parameters()),
            "logits": model.eval()(in_idx)}


@check(task=2, inputs=model_inputs, dims=LOGITS_DIMS)
def uncached_logits_match_gpt_model(m, cfg, weights, in_idx, other, steps):
    """GPTModel(cfg) with gpt_model's GPTModel's parameter names and given weights, in eval mode, on in_idx of shape (batch=2, num_tokens=7), without the cache: gpt_model's logits"""
    return build_model(m, cfg, weights)(in_idx)


MODEL_UNCACHED = ("With use_cache=False, GPTModel.forward is gpt_model's: positions 0 .. num_tokens-1, and every "
                  "block called with use_cache=False")


def positions_advice(step: int, start: int) -> str:
    if step == 0:
        return ("with a fresh model, forward(in_idx, use_cache=True) must give what forward(in_idx) gives: positions "
                "0 .. num_tokens-1, and use_cache=True passed to every block.")
    return (f"these tokens sit at positions {start} and on, after the {start} tokens already read. A cached call's "
            f"positions start at current_pos, and current_pos then grows by the number of tokens read; if yours "
            f"restart at 0 for each new token, every step after the prompt is wrong. If your positions are right, check "
            f"that every block is called with use_cache.")


@check(task=2, inputs=model_inputs, dims=LOGITS_DIMS,
       judge=steps_equal_uncached(LOGITS_DIMS, MODEL_UNCACHED, positions_advice))
def cached_steps_match_the_uncached_logits(m, cfg, weights, in_idx, other, steps):
    """GPTModel(cfg) with given weights: forward(in_idx) on in_idx of shape (batch=2, num_tokens=7), then forward(piece, use_cache=True) on its tokens 0-2, 3, 4-5 and 6"""
    uncached = build_model(m, cfg, weights)(in_idx)
    return {"uncached": uncached, "steps": read_in_steps(build_model(m, cfg, weights), in_idx, steps)}


class ReadInTwo(torch.nn.Module):
    """model(in_idx[:, :split], use_cache=True), then the logits of model(in_idx[:, split:], use_cache=True)."""

    def __init__(self, model: torch.nn.Module, split: int):
        super().__init__()
        self.model, self.split = model, split

    def forward(self, in_idx):
        self.model(in_idx[:, :self.split], use_cache=True)
        return self.model(in_idx[:, self.split:], use_cache=True)


POSITIONS_ADVICE = ("Make them where the token ids are: torch.arange(current_pos, current_pos + num_tokens, "
                    "device=in_idx.device), so the same model runs on a GPU.")


# One block is enough to see a tensor made on the CPU, and the meta device is slow: not two blocks.
@check(task=2, inputs=model_inputs, judge=one_device("a tensor such as the positions", POSITIONS_ADVICE))
def cached_positions_are_made_on_the_ids_device(m, cfg, weights, in_idx, other, steps):
    """GPTModel(cfg with n_layers=1) and in_idx moved to another device than the CPU (PyTorch's meta device): forward(in_idx[:, :3], use_cache=True), then forward(in_idx[:, 3:], use_cache=True); every tensor they make must be made there too"""
    one_block = dict(cfg, n_layers=1)
    model = build_model(m, one_block, {k: w for k, w in weights.items() if not k.startswith("trf_blocks.1.")})
    return on_another_device(ReadInTwo(model, steps[0]), in_idx)


@check(task=2, inputs=model_inputs, dims=LOGITS_DIMS,
       judge=steps_equal_uncached(LOGITS_DIMS, MODEL_UNCACHED, reset_advice("reset_kv_cache()")))
def reset_kv_cache_starts_a_new_prompt(m, cfg, weights, in_idx, other, steps):
    """GPTModel as above: forward(piece, use_cache=True) over the first 4 tokens of in_idx, reset_kv_cache(), then the same over every piece of another batch `other`, against forward(other)"""
    model = build_model(m, cfg, weights)
    uncached = model(other)
    read_in_steps(model, in_idx[:, :steps[0] + 1], steps[:2])
    model.reset_kv_cache()
    return {"uncached": uncached, "steps": read_in_steps(model, other, steps)}


# Last of task 2: the other checks name what they show first (an uncached forward that numbers
# its positions from the counter fails only here).
@check(task=2, inputs=model_inputs, dims=LOGITS_DIMS)
def uncached_forward_after_cached_reads_starts_at_position_0(m, cfg, weights, in_idx, other, steps):
    """GPTModel as above: forward(in_idx[:, :3], use_cache=True), then forward(other) without the cache: gpt_model's logits for other, whatever the cache holds"""
    model = build_model(m, cfg, weights)
    model(in_idx[:, :steps[0]], use_cache=True)
    return model(other)


# Task 3 ---------------------------------------------------------------------------------------

def generation_inputs(seed: int) -> dict:
    """A tiny model with context_length 10 and two prompts of shape (batch=2, num_tokens=3); 6 new
    tokens fill the context but for one position."""
    cfg, n = tiny_config(seed)
    prompt, max_new_tokens = n["num_tokens"] - 2, 6
    cfg = dict(cfg, context_length=prompt + max_new_tokens + 1)
    g = generator(seed)
    for _ in range(100):  # drawn again from the seed's generator until every new id wins by a margin (issue 10)
        weights = random_weights(model_shapes(cfg), g)
        ids = lambda: torch.randint(0, cfg["vocab_size"], (n["batch"], prompt), generator=g)  # noqa: E731
        idx, other = ids(), ids()
        if min(greedy_gap(partial(gpt_logits, cfg, weights), i, max_new_tokens, cfg["context_length"]) for i in (idx, other)) >= GREEDY_MARGIN:
            return {"cfg": cfg, "weights": weights, "idx": idx, "other": other, "max_new_tokens": max_new_tokens}
    raise RuntimeError(f"no greedy generation with a margin for seed {seed}")


def _cached_equals_uncached(got, expected):
    """The invariant first: the cached ids equal the uncached ones token by token; then the model
    reads the prompt once and one token per step; then the reference."""
    if isinstance(got, dict) and isinstance(expected, dict):
        cached, uncached, start = got.get("cached"), got.get("uncached"), expected["cached"].shape[1] - expected["max_new_tokens"]
        if isinstance(cached, torch.Tensor) and isinstance(uncached, torch.Tensor) and cached.shape == uncached.shape \
                and cached.dim() == 2 and not torch.equal(cached, uncached):
            b, j = (int(i) for i in (cached != uncached).nonzero()[0])
            raise Failed(WRONG_VALUES, f"your cached run differs from the uncached one at step {j - start + 1} (new "
                                       f"token {j - start + 1} of batch row {b}, at num_tokens {j}): use_cache=True "
                                       f"gives {cached[b, j].item()}, use_cache=False {uncached[b, j].item()}. Each "
                                       f"step appends the argmax of the last position's logits; with the cache the "
                                       f"model reads the prompt once (after model.reset_kv_cache()), then only each "
                                       f"new token.")
        reads = got.get("reads")
        if isinstance(reads, list) and reads != expected["reads"] and all(isinstance(r, list) for r in reads):
            prompt = expected["reads"][0][0]
            wrong = next((i for i, r in enumerate(reads) if r != ([prompt, True] if i == 0 else [1, True])), None)
            if wrong is not None or not expected["max_new_tokens"] <= len(reads) <= expected["max_new_tokens"] + 1:
                at = (f"call {wrong} of the model reads {reads[wrong][0]} tokens with use_cache={reads[wrong][1]}"
                      if wrong is not None else f"the model is called {len(reads)} times")
                raise Failed(WRONG_VALUES, f"your cached run gives the right ids but does not use the cache: {at}. "
                                           f"With use_cache=True, read the prompt once, model(idx, use_cache=True), "
                                           f"then only the new token each step, model(next_idx, use_cache=True): "
                                           f"{expected['max_new_tokens']} steps after a prompt of {prompt} tokens.")
            expected = dict(expected, reads=reads)  # the book's last call, whose logits nobody reads, is optional
    compare(got, expected, dims=IDS)


@check(task=3, inputs=generation_inputs, judge=_cached_equals_uncached)
def cached_generation_equals_uncached_for_a_batch(m, cfg, weights, idx, other, max_new_tokens):
    """generate_text_simple_cached(model, idx of shape (batch=2, num_tokens=3), max_new_tokens=6) with use_cache=True and with use_cache=False, for a GPTModel with context_length 10; the tokens and use_cache of each call of the model"""
    model = build_model(m, cfg, weights)
    reads, forward = [], model.forward

    def noted(*args, **kwargs):  # model(...) and model.forward(...) alike (hostile round 13 called the latter)
        use_cache = kwargs.get("use_cache", args[1] if len(args) > 1 else False)
        reads.append([int(args[0].shape[1]) if args and isinstance(args[0], torch.Tensor) else -1, use_cache is True])
        return forward(*args, **kwargs)

    model.forward = noted
    cached = m.generate_text_simple_cached(model, idx, max_new_tokens, use_cache=True)
    del model.forward
    uncached = m.generate_text_simple_cached(model, idx, max_new_tokens, use_cache=False)
    return {"cached": cached, "uncached": uncached, "reads": reads, "max_new_tokens": max_new_tokens}


def _second_prompt(got, expected):
    if isinstance(got, dict) and isinstance(expected, dict) and isinstance(got.get("second"), torch.Tensor):
        try:
            compare(got.get("first"), expected["first"], dims=IDS, name="first")
        except Failed:
            pass
        else:
            try:
                compare(got["second"], expected["second"], dims=IDS, name="second")
            except Failed as failed:
                raise Failed(failed.reason, f"{failed.message}. Your first generation is right and the second, from "
                                            f"another prompt on the same model, is not: each call starts a new text, "
                                            f"so call model.reset_kv_cache() before reading the prompt.") from None
    compare(got, expected, dims=IDS)


@check(task=3, inputs=generation_inputs, judge=_second_prompt)
def two_prompts_in_a_row(m, cfg, weights, idx, other, max_new_tokens):
    """generate_text_simple_cached(model, idx, max_new_tokens=6), then generate_text_simple_cached(model, other, max_new_tokens=6) on the same model: both with the cache (the default)"""
    model = build_model(m, cfg, weights)
    first = m.generate_text_simple_cached(model, idx, max_new_tokens)
    return {"first": first, "second": m.generate_text_simple_cached(model, other, max_new_tokens)}


def crop_inputs(seed: int) -> dict:
    """The model of generation_inputs with context_length 5, a prompt of 4 tokens and 3 new ones:
    the uncached run must crop its input, to context_size=3 or by default to context_length."""
    cfg, n = tiny_config(seed)
    cfg = dict(cfg, context_length=5)
    g = generator(seed)
    for _ in range(100):  # drawn again from the seed's generator until every new id wins by a margin (issue 10)
        weights = random_weights(model_shapes(cfg), g)
        idx = torch.randint(0, cfg["vocab_size"], (n["batch"], 4), generator=g)
        if min(greedy_gap(partial(gpt_logits, cfg, weights), idx, 3, context_size) for context_size in (3, 5)) >= GREEDY_MARGIN:
            return {"cfg": cfg, "weights": weights, "max_new_tokens": 3, "idx": idx}
    raise RuntimeError(f"no greedy generation with a margin for seed {seed}")


@check(task=3, inputs=crop_inputs, dims=IDS)
def uncached_generation_sees_only_the_last_context_size_tokens(m, cfg, weights, idx, max_new_tokens):
    """generate_text_simple_cached(model, idx of shape (batch=2, num_tokens=4), max_new_tokens=3, use_cache=False) with context_size=3, and with context_size=None for a model with context_length 5"""
    model = build_model(m, cfg, weights)
    return {"context_size_3": m.generate_text_simple_cached(model, idx, max_new_tokens, context_size=3, use_cache=False),
            "context_size_None": m.generate_text_simple_cached(model, idx, max_new_tokens, use_cache=False)}


@check(task=3, inputs=crop_inputs, dims=IDS)
def cached_generation_reads_only_the_last_context_size_tokens(m, cfg, weights, idx, max_new_tokens):
    """generate_text_simple_cached(model, idx of shape (batch=2, num_tokens=4), max_new_tokens=1, context_size=3) with use_cache=True: the prompt is read from its last 3 tokens"""
    return m.generate_text_simple_cached(build_model(m, cfg, weights), idx, 1, context_size=3, use_cache=True)


TRAIN_MODE = "a call of the model in train mode"
GRAD_ON = "a call of the model with gradients on"


def _eval_mode_without_gradients(got, expected):
    if isinstance(got, dict) and got.get(TRAIN_MODE) is True:
        raise Failed(WRONG_VALUES, "generate_text_simple_cached, given a model in train mode, calls it in train mode: "
                                   "with dropout the ids would change at random. Put the model in eval mode first, "
                                   "model.eval(), as the stub asks.")
    if isinstance(got, dict) and got.get(GRAD_ON) is True and isinstance(got.get("ids"), torch.Tensor) \
            and isinstance(expected.get("ids"), torch.Tensor) and got["ids"].shape == expected["ids"].shape \
            and torch.equal(got["ids"], expected["ids"]):
        raise Failed(WRONG_VALUES, "your ids are right, but generate_text_simple_cached calls the model with "
                                   "gradients on. Generation needs none: run it under `with torch.no_grad():`, as the "
                                   "stub asks, or every step keeps its computation graph in memory, and the cached "
                                   "keys and values keep theirs.")
    compare(got, expected, dims=IDS)


@check(task=3, inputs=generation_inputs, judge=_eval_mode_without_gradients)
def cached_generation_runs_in_eval_mode_without_gradients(m, cfg, weights, idx, other, max_new_tokens):
    """generate_text_simple_cached(a GPTModel handed over in train mode, idx of shape (batch=2, num_tokens=3), max_new_tokens=2): the ids, and whether any call of the model ran in train mode or with gradients on"""
    model = build_model(m, cfg, weights).train()
    seen = []
    model.register_forward_pre_hook(lambda module, args: seen.append((module.training, torch.is_grad_enabled())))
    ids = m.generate_text_simple_cached(model, idx, 2)
    return {"ids": ids, TRAIN_MODE: any(t for t, _ in seen), GRAD_ON: any(g for _, g in seen)}


# The speed challenge (optional; never part of a score unless an instructor turns it on) -------------
# `kata speed kv_cache` runs it on the learner's own code and prints the ratio (grader/learner/speed.py).
# Both runs are the learner's, in one process, one after the other: the ratio is theirs on their
# machine, and no absolute time is judged anywhere.

# Cached generation at least this many times as fast as uncached. On the tiny model Python's cost per
# call, not attention, takes most of the time, so the cache can save less.
SPEED_TARGET = {"small": 3.0, "tiny": 1.2, "gpt2": 3.0}
SPEED_MODELS = {  # the first is the default
    "small": {"vocab_size": 4096, "context_length": 256, "emb_dim": 256, "n_heads": 4, "n_layers": 4,
              "drop_rate": 0.0, "qkv_bias": False},
    "tiny": dict(TINY_CONFIG, context_length=256),
    "gpt2": {"vocab_size": 50257, "context_length": 1024, "emb_dim": 768, "n_heads": 12, "n_layers": 12,
             "drop_rate": 0.0, "qkv_bias": False},  # GPT_CONFIG_124M
}


def speed_challenge(m, model: str = "small", max_new_tokens: int = 200) -> dict:
    """generate_text_simple_cached(GPTModel(cfg), "Hello, I am", max_new_tokens) with use_cache=False,
    then with use_cache=True, each timed once after a short warm-up; torch.manual_seed(123) weights."""
    import time

    cfg = SPEED_MODELS[model]
    torch.manual_seed(123)
    gpt = m.GPTModel(cfg).eval()
    idx = torch.tensor([[15496, 11, 314, 716]]) % cfg["vocab_size"]  # "Hello, I am" in GPT-2's tokens
    for use_cache in (False, True):  # the first calls pay for allocations that later ones reuse
        m.generate_text_simple_cached(gpt, idx, 2, use_cache=use_cache)
    seconds, ids = {}, {}
    for use_cache in (False, True):
        start = time.perf_counter()
        ids[use_cache] = m.generate_text_simple_cached(gpt, idx, max_new_tokens, use_cache=use_cache)
        seconds[use_cache] = time.perf_counter() - start
    same = isinstance(ids[True], torch.Tensor) and isinstance(ids[False], torch.Tensor) \
        and ids[True].shape == ids[False].shape and torch.equal(ids[True], ids[False])
    return {"config": cfg, "prompt_tokens": idx.shape[1], "max_new_tokens": max_new_tokens,
            "uncached_seconds": seconds[False], "cached_seconds": seconds[True], "same_ids": same}
