"""Checks for grouped-query attention (the book's bonus material, ch04/04_gqa and the Llama models).

GroupedQueryAttention is judged against what defines it: with as many key/value groups as heads it
is causal multi-head attention with RoPE; in general it is what
F.scaled_dot_product_attention(..., enable_gqa=True) computes from the same projections (the
reference's docstring example proves the reference equals it); it is causal; and, with RoPE, it
depends only on distances between positions, so shifting every position changes nothing. The
key/value memory it saves is checked against the formula, and must be computed, not allocated."""

import math
from functools import partial

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from grader.engine.checks import (DEEP_ATOL, DEEP_RTOL, WRONG_VALUES, Failed, causal, check, compare, every_layer_in, generator,
                                  load_weights, seeded_construction, sizes, variant)
from grader.engine.variant_math import attend, merge_heads, project

# Deep outputs: the float32 tolerance of grader.checks.DEEP_RTOL/DEEP_ATOL for every check here
# that does not state its own (another CPU's kernels must not change a verdict).
check = partial(check, rtol=DEEP_RTOL, atol=DEEP_ATOL)

DIMS = ("batch", "num_tokens", "d_out")
SHIFT = 3  # positions added to every token in the shift check
CAUSAL_ADVICE = ("Apply the mask you are given (True above the diagonal) to the scores with -inf before softmax, "
                 "and keep the result: masked_fill returns a new tensor.")
SDPA = ("F.scaled_dot_product_attention(apply_rope(queries), apply_rope(keys), values, is_causal=True, "
        "enable_gqa=True) on the same projections, followed by out_proj")


# The maths the variants share, declared with @variant only so that the learner's copy of this file
# ships it without its body (grader/builders/release.py replaces every @variant body with a raise):
# with no knob turned it computes the reference. No check declares it.
@variant("GroupedQueryAttention's forward in plain torch, with the slips learners make (shared maths of the variants)")
def gqa_maths(x, weights, num_heads, num_kv_groups, cos, sin, tiled=False, rope_queries=True, rope_keys=True,
              rope_values=False, out_proj=True, **attention):
    """`attention`: variant_math.attend's knobs (causal, divisor, ...)."""
    def heads(t, count):
        b, n, d = t.shape
        return t.view(b, n, count, d // count).transpose(1, 2)  # (b, n, d) -> (b, count, n, head_dim)

    def rotate(t):
        half, n = t.shape[-1] // 2, t.shape[-2]
        return t * cos[:n] + torch.cat((-t[..., half:], t[..., :half]), dim=-1) * sin[:n]

    q = heads(project(x, weights, "W_query"), num_heads)
    k = heads(project(x, weights, "W_key"), num_kv_groups)
    v = heads(project(x, weights, "W_value"), num_kv_groups)
    q, k, v = rotate(q) if rope_queries else q, rotate(k) if rope_keys else k, rotate(v) if rope_values else v
    group_size = num_heads // num_kv_groups
    k, v = (t.repeat(1, group_size, 1, 1) if tiled else t.repeat_interleave(group_size, dim=1) for t in (k, v))
    context = merge_heads(attend(q, k, v, **attention))
    return project(context, weights, "out_proj") if out_proj else context


# Variants: wrong versions computed on the check's inputs, named when an output equals one -----------

@variant("your key/value heads are repeated as a whole stack (repeat or tile: 0, 1, 2, 0, 1, 2) where each is "
         "repeated in place (repeat_interleave: 0, 0, 1, 1, 2, 2): query head h must use key/value head "
         "h // group_size, as scaled_dot_product_attention's enable_gqa does")
def kv_heads_tiled(x, weights, num_heads, num_kv_groups, cos, sin, **_):
    return gqa_maths.compute(x, weights, num_heads, num_kv_groups, cos, sin, tiled=True)


@variant("your attention has no causal mask: every query sees every key, the future ones too (did masked_fill, "
         "which returns a new tensor, have its result dropped?)")
def unmasked(x, weights, num_heads, num_kv_groups, cos, sin, **_):
    return gqa_maths.compute(x, weights, num_heads, num_kv_groups, cos, sin, causal=False)


@variant("your attention weights equal softmax(scores) without the division by sqrt(head_dim)")
def not_scaled(x, weights, num_heads, num_kv_groups, cos, sin, **_):
    return gqa_maths.compute(x, weights, num_heads, num_kv_groups, cos, sin, divisor=1.0)


@variant("your scores are divided by sqrt(d_out) where they are divided by sqrt(head_dim)")
def scaled_by_sqrt_d_out(x, weights, num_heads, num_kv_groups, cos, sin, **_):
    return gqa_maths.compute(x, weights, num_heads, num_kv_groups, cos, sin,
                   divisor=weights["W_query.weight"].shape[0] ** 0.5)


@variant("your queries and keys are not rotated: apply_rope(queries, cos, sin) and apply_rope(keys, cos, sin) "
         "after splitting the heads are missing")
def without_rope(x, weights, num_heads, num_kv_groups, cos, sin, **_):
    return gqa_maths.compute(x, weights, num_heads, num_kv_groups, cos, sin, rope_queries=False, rope_keys=False)


@variant("your keys are not rotated, only the queries: apply_rope to both")
def keys_not_rotated(x, weights, num_heads, num_kv_groups, cos, sin, **_):
    return gqa_maths.compute(x, weights, num_heads, num_kv_groups, cos, sin, rope_keys=False)


@variant("your values are rotated too: RoPE rotates the queries and the keys only")
def values_rotated(x, weights, num_heads, num_kv_groups, cos, sin, **_):
    return gqa_maths.compute(x, weights, num_heads, num_kv_groups, cos, sin, rope_values=True)


@variant("your output is the merged heads without out_proj: the final projection is missing")
def without_out_proj(x, weights, num_heads, num_kv_groups, cos, sin, **_):
    return gqa_maths.compute(x, weights, num_heads, num_kv_groups, cos, sin, out_proj=False)


VARIANTS = (kv_heads_tiled, unmasked, not_scaled, scaled_by_sqrt_d_out, without_rope, keys_not_rotated,
            values_rotated, without_out_proj)


def shifted(v):
    """A variant seen through the shift check: its output on the positions as given and shifted by SHIFT."""
    def compute(x, weights, num_heads, num_kv_groups, cos, sin, mask):
        return tuple(v.compute(x, weights, num_heads, num_kv_groups, c, s) for c, s in ((cos, sin),
                                                                                         (cos[SHIFT:], sin[SHIFT:])))
    compute.__name__ = v.name
    return variant(v.says)(compute)


def later_token_changed(v):
    """A variant seen through the causal check: its output on x and on x with its last token changed."""
    def compute(x, weights, num_heads, num_kv_groups, cos, sin, mask):
        changed = x.clone()
        changed[:, -1] += 10.0
        return tuple(v.compute(t, weights, num_heads, num_kv_groups, cos, sin) for t in (x, changed))
    compute.__name__ = v.name
    return variant(v.says)(compute)


# Judges: the invariant, in its own words --------------------------------------------------------

def equals(what: str):
    def judge(got, expected):
        try:
            compare(got, expected, dims=DIMS, rtol=DEEP_RTOL, atol=DEEP_ATOL)
        except Failed as failed:
            raise Failed(failed.reason, f"{what}. {failed.message}") from None
    return judge


def _shift_changes_nothing(got, expected):
    """Judge for (output, output with every position shifted by SHIFT): RoPE sees distances only."""
    if isinstance(got, (list, tuple)) and len(got) == 2 and all(isinstance(t, torch.Tensor) for t in got):
        before, after = got
        if before.shape == after.shape and before.is_floating_point():
            moved = (before.double() - after.double()).abs().nan_to_num(nan=float("inf"))
            if moved.max() > 1e-4:
                at = tuple(int(i) for i in torch.unravel_index(moved.argmax(), moved.shape))
                raise Failed(WRONG_VALUES, f"with RoPE, attention depends only on the distance between positions: "
                                           f"given cos[{SHIFT}:] and sin[{SHIFT}:] (every token {SHIFT} positions "
                                           f"later) your output must stay the same, and it moved by up to "
                                           f"{moved.max().item():.3g} (at [batch {at[0]}, num_tokens {at[1]}]). Rotate "
                                           f"the queries and the keys, both and nothing else, after splitting the heads.")
    compare(got, expected, dims=DIMS, rtol=DEEP_RTOL, atol=DEEP_ATOL)


# Task 1 ---------------------------------------------------------------------------------------

def angle_tables(num_positions: int, head_dim: int, g: torch.Generator):
    """cos and sin of angles that grow linearly with the position, at random speeds (RoPE's form with
    other frequencies), the same angles in both halves of each row (the rotate-half layout)."""
    speeds = 1.5 * torch.rand(head_dim // 2, generator=g, dtype=torch.float64)
    angles = (torch.arange(num_positions).double()[:, None] * speeds[None, :]).repeat(1, 2)
    return angles.cos().float(), angles.sin().float()  # float64 maths: the same float32 tables on any kernels


def attention_inputs(seed: int, as_many_groups_as_heads: bool = False) -> dict:
    """x (batch=2, num_tokens=5, d_in=7); 3 key/value groups of 2 query heads each, head_dim 4, d_out 24;
    weights scaled like a trained layer's; cos and sin of RoPE's form for num_tokens + SHIFT positions; the causal mask."""
    n = sizes(seed, batch=2, num_tokens=5, d_in=7, num_kv_groups=3, group_size=2, half_head_dim=2)
    num_heads = n["num_kv_groups"] * n["group_size"]
    num_kv_groups = num_heads if as_many_groups_as_heads else n["num_kv_groups"]
    head_dim = 2 * n["half_head_dim"]
    d_in, d_out, kv_out = n["d_in"], num_heads * head_dim, num_kv_groups * head_dim
    g = generator(seed)
    weights = {"W_key.weight": torch.randn(kv_out, d_in, generator=g) / d_in ** 0.5,
               "W_value.weight": torch.randn(kv_out, d_in, generator=g) / d_in ** 0.5,
               "W_query.weight": torch.randn(d_out, d_in, generator=g) / d_in ** 0.5,
               "out_proj.weight": torch.randn(d_out, d_out, generator=g) / d_out ** 0.5}
    num_tokens = n["num_tokens"]
    cos, sin = angle_tables(num_tokens + SHIFT, head_dim, g)
    return {"x": torch.randn(n["batch"], num_tokens, d_in, generator=g), "weights": weights, "num_heads": num_heads,
            "num_kv_groups": num_kv_groups, "cos": cos, "sin": sin,
            "mask": torch.triu(torch.ones(num_tokens, num_tokens, dtype=torch.bool), diagonal=1)}


def build(m, weights, num_heads, num_kv_groups):
    d_out, d_in = weights["W_query.weight"].shape
    return load_weights(m.GroupedQueryAttention(d_in, d_out, num_heads, num_kv_groups), weights)


@check(task=1, inputs=lambda seed: {"seed": 123}, judge=seeded_construction)
def parameters_created_in_bonus_order(m, seed):
    """torch.manual_seed(123); GroupedQueryAttention(d_in=6, d_out=8, num_heads=4, num_kv_groups=2).named_parameters(): W_key, W_value, W_query, out_proj, no biases"""
    torch.manual_seed(seed)
    return dict(m.GroupedQueryAttention(6, 8, num_heads=4, num_kv_groups=2).named_parameters())


def _refused(got, expected):
    if got != expected:
        raise Failed(WRONG_VALUES, "GroupedQueryAttention(6, 12, num_heads=6, num_kv_groups=4) was accepted, but 6 "
                     "query heads cannot be shared equally by 4 key/value groups. Start __init__ with "
                     "`assert num_heads % num_kv_groups == 0, ...` (or raise a ValueError), giving both numbers.")


@check(task=1, judge=_refused)
def num_heads_not_divisible_by_num_kv_groups_is_refused(m):
    """GroupedQueryAttention(6, 12, num_heads=6, num_kv_groups=4) raises an AssertionError (or a ValueError)"""
    try:
        m.GroupedQueryAttention(6, 12, num_heads=6, num_kv_groups=4)
    except (AssertionError, ValueError):  # the docstring asks for an assert; a ValueError says as much
        return "refused"
    return "accepted"


@check(task=1, inputs=attention_inputs, dims=DIMS, variants=VARIANTS,
       judge=equals(f"your GroupedQueryAttention must agree with {SDPA}, and does not"))
def agrees_with_sdpa_enable_gqa(m, x, weights, num_heads, num_kv_groups, cos, sin, mask):
    """GroupedQueryAttention(d_in=7, d_out=24, num_heads=6, num_kv_groups=3) with given weights, forward(x, mask, cos, sin) on x of shape (batch=2, num_tokens=5, d_in=7)"""
    return build(m, weights, num_heads, num_kv_groups)(x, mask, cos, sin)


@check(task=1, inputs=lambda seed: attention_inputs(seed, as_many_groups_as_heads=True), dims=DIMS,
       variants=VARIANTS[1:],  # with one query head per group, tiling the key/value heads changes nothing
       judge=equals("with num_kv_groups == num_heads, your GroupedQueryAttention must be causal multi-head attention "
                    "with RoPE (chapter 3's MultiHeadAttention without biases, queries and keys rotated by apply_rope), "
                    "and is not"))
def is_multihead_attention_with_rope_when_num_kv_groups_equals_num_heads(m, x, weights, num_heads, num_kv_groups,
                                                                          cos, sin, mask):
    """GroupedQueryAttention(d_in=7, d_out=24, num_heads=6, num_kv_groups=6) with given weights, forward(x, mask, cos, sin)"""
    return build(m, weights, num_heads, num_kv_groups)(x, mask, cos, sin)


@check(task=1, inputs=attention_inputs, judge=causal(DIMS, CAUSAL_ADVICE, DEEP_RTOL, DEEP_ATOL), dims=DIMS,
       variants=tuple(later_token_changed(v) for v in VARIANTS))
def later_tokens_do_not_change_earlier_outputs(m, x, weights, num_heads, num_kv_groups, cos, sin, mask):
    """GroupedQueryAttention on x, then on x with its last token changed: earlier outputs must stay the same"""
    attention = build(m, weights, num_heads, num_kv_groups)
    changed = x.clone()
    changed[:, -1] += 10.0
    return attention(x, mask, cos, sin), attention(changed, mask, cos, sin)


@check(task=1, inputs=attention_inputs, judge=_shift_changes_nothing, dims=DIMS,
       variants=tuple(shifted(v) for v in VARIANTS))
def shifting_every_position_changes_nothing(m, x, weights, num_heads, num_kv_groups, cos, sin, mask):
    """GroupedQueryAttention on x with cos, sin, then with cos[3:], sin[3:] (every token 3 positions later): the same output"""
    attention = build(m, weights, num_heads, num_kv_groups)
    return attention(x, mask, cos, sin), attention(x, mask, cos[SHIFT:], sin[SHIFT:])


@check(task=1, judge=every_layer_in('dtype={} was given', 'dtype=dtype'))
def layers_in_the_given_dtype(m):
    """GroupedQueryAttention(6, 8, num_heads=4, num_kv_groups=2, dtype=torch.bfloat16): the dtype of each parameter"""
    attention = m.GroupedQueryAttention(6, 8, num_heads=4, num_kv_groups=2, dtype=torch.bfloat16)
    return {name: str(p.dtype) for name, p in attention.named_parameters()}


# Task 2 ---------------------------------------------------------------------------------------

# Llama-sized configurations (the bonus material's cfg keys): Llama 3 8B and Llama 3.2 1B; hidden
# cases change the context length, the batch and the number of bytes per element.
LLAMA_3_8B = {"context_length": 8192, "emb_dim": 4096, "n_heads": 32, "n_layers": 32, "n_kv_groups": 8}
LLAMA_32_1B = {"context_length": 131_072, "emb_dim": 2048, "n_heads": 32, "n_layers": 16, "n_kv_groups": 8}
LLAMA_2_70B = {"context_length": 4096, "emb_dim": 8192, "n_heads": 64, "n_layers": 80, "n_kv_groups": 8}
ALLOWED_ELEMENTS = 1_000_000  # a tensor this large (4 MB in float32) is not needed to multiply a few ints


class TooLarge(Exception):
    def __init__(self, elements: int):
        super().__init__(f"a tensor of {elements:,} elements")
        self.elements = elements


class RefuseLargeTensors(TorchDispatchMode):
    """Refuses, before any memory is taken, every torch operation asked to create a tensor of more than
    ALLOWED_ELEMENTS elements (a size given as a list of ints: empty, zeros, ones, full, randn...),
    and every operation whose result is that large (expand, cat...)."""

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        size = kwargs.get("size", args[0] if args else None)
        if isinstance(size, (list, tuple)) and size and all(type(n) is int for n in size) \
                and math.prod(size) > ALLOWED_ELEMENTS:
            raise TooLarge(math.prod(size))
        out = func(*args, **kwargs)
        for t in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(t, torch.Tensor) and t.numel() > ALLOWED_ELEMENTS:
                raise TooLarge(t.numel())
        return out


def _computed_not_allocated(got, expected):
    if isinstance(got, dict) and isinstance(got.get("allocated"), int) and got["allocated"] > ALLOWED_ELEMENTS:
        raise Failed(WRONG_VALUES, f"the key/value memory must be computed from the config, not allocated: your "
                                   f"code asked for a tensor of {got['allocated']:,} elements. Multiply the "
                                   f"sizes as Python ints: 2 * batch * context_length * n_kv_heads * head_dim * "
                                   f"bytes_per_elem per layer.")
    compare(got, expected)


def kv_cases(seed: int) -> dict:
    """Seven sizes per case, each a different number, for kv_bytes_total."""
    rng = generator(seed)
    cases = []
    for _ in range(4):
        n_kv_heads = int(torch.randint(1, 5, (), generator=rng))
        group_size = int(torch.randint(2, 5, (), generator=rng))
        n_heads = n_kv_heads * group_size
        head_dim = 2 * int(torch.randint(3, 9, (), generator=rng))
        cases.append([int(torch.randint(1, 4, (), generator=rng)), int(torch.randint(5, 50, (), generator=rng)),
                      n_heads * head_dim, n_heads, n_kv_heads, int(torch.randint(2, 7, (), generator=rng)),
                      [1, 2, 4][int(torch.randint(0, 3, (), generator=rng))]])
    return {"cases": cases}


@check(task=2, inputs=kv_cases)
def kv_bytes_total_is_the_formula(m, cases):
    """[kv_bytes_total(batch, context_length, emb_dim, n_heads, n_kv_heads, n_layers, bytes_per_elem) for 4 small sets of sizes]"""
    return [m.kv_bytes_total(*case) for case in cases]


def llama_cases(seed: int) -> dict:
    if seed == 0:
        return {"cfgs": [LLAMA_3_8B, LLAMA_32_1B], "batch": 4, "bytes_per_elem": 2}
    rng = generator(seed)
    cfgs = [dict(cfg, context_length=int(cfg["context_length"] // int(torch.randint(1, 5, (), generator=rng))))
            for cfg in (LLAMA_3_8B, LLAMA_32_1B, LLAMA_2_70B)]
    return {"cfgs": cfgs, "batch": int(torch.randint(1, 9, (), generator=rng)),
            "bytes_per_elem": [1, 2, 4][int(torch.randint(0, 3, (), generator=rng))]}


@check(task=2, inputs=llama_cases, judge=_computed_not_allocated)
def kv_memory_saved_for_llama_sized_configs_is_computed_not_allocated(m, cfgs, batch, bytes_per_elem):
    """kv_memory_saved(cfg, batch=4, bytes_per_elem=2) for Llama 3 8B's and Llama 3.2 1B's configs, and the last with bytes_per_elem=4, with any tensor of more than 1,000,000 elements refused"""
    try:
        with RefuseLargeTensors():  # small tensors are harmless (torch.tensor(2) ** 3); a cache is not
            return {"reports": [m.kv_memory_saved(cfg, batch=batch, bytes_per_elem=bytes_per_elem) for cfg in cfgs],
                    "bytes_per_elem doubled": m.kv_memory_saved(cfgs[-1], batch=batch, bytes_per_elem=2 * bytes_per_elem),
                    "allocated": 0}
    except TooLarge as refused:
        return {"reports": None, "bytes_per_elem doubled": None, "allocated": refused.elements}
