"""Checks for Llama's parts: RMSNorm, SwiGLU and rotary embeddings (the book's bonus material, ch05/07_gpt_to_llama).

Each part is judged against the invariant that defines it before its values are compared with the
reference: RMSNorm is torch.nn.RMSNorm, SiLU is torch.nn.functional.silu, RoPE keeps position 0 and
every vector's norm, and makes a query-key score depend only on the distance between the two."""

import torch

from grader.engine.checks import (WRONG_TYPE, WRONG_VALUES, Failed, check, compare, every_layer_in, generator,
                                  load_weights, seeded_construction, sizes, variant)

DIMS = ("batch", "num_tokens", "emb_dim")
ROPE_DIMS = ("batch", "num_heads", "num_tokens", "head_dim")


# The maths the variants share. Each is declared with @variant only so that the learner's copy of this
# file ships it without its body (grader/builders/release.py replaces every @variant body with a
# raise): with no knob turned it computes the reference. No check declares them.

@variant("RMSNorm in plain torch, with the slips learners make (shared maths of the variants)")
def rms_maths(x, weight, eps=1e-5, squared=True, root=True, centred=False, eps_outside=False):
    if centred:
        x = x - x.mean(dim=-1, keepdim=True)
    means = (x.pow(2) if squared else x).mean(dim=-1, keepdim=True)
    if eps_outside:
        return x / (means.sqrt() + eps) * weight
    return x / ((means + eps).sqrt() if root else means + eps) * weight


@variant("the SwiGLU feed forward in plain torch, with the slips learners make (shared maths of the variants)")
def swiglu_maths(x, weights, gate_on="fc1", activation=None, product_first=False, summed=False):
    activation = activation or (lambda t: t * torch.sigmoid(t))
    a, b = x @ weights["fc1.weight"].T, x @ weights["fc2.weight"].T
    if gate_on == "fc2":
        a, b = b, a
    hidden = activation(a * b) if product_first else activation(a) + b if summed else activation(a) * b
    return hidden @ weights["fc3.weight"].T


@variant("RoPE's cos and sin in plain torch, with the slips learners make (shared maths of the variants)")
def rope_params_maths(head_dim, context_length, theta_base=10_000.0, exponent_over=None, interleaved=False, first=0):
    inv_freq = 1.0 / theta_base ** (torch.arange(0, head_dim, 2).double() / (exponent_over or head_dim))
    angles = torch.arange(first, first + context_length).double()[:, None] * inv_freq[None, :]
    angles = angles.repeat_interleave(2, dim=1) if interleaved else torch.cat([angles, angles], dim=1)
    return angles.cos().float(), angles.sin().float()


@variant("RoPE's rotation in plain torch (rotate-half), with the slips learners make (shared maths of the variants)")
def rotation_maths(x, cos, sin, sign=1.0, swapped=False, without_cos=False, interleaved_pairs=False):
    n, half = x.shape[-2], x.shape[-1] // 2
    cos, sin = cos[:n], sin[:n]
    if interleaved_pairs:  # pairs (0, 1), (2, 3), ... as in Meta's complex-number code
        rotated = torch.stack((-x[..., 1::2], x[..., 0::2]), dim=-1).flatten(-2)
    else:
        rotated = sign * torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    if swapped:
        cos, sin = sin, cos
    return (x if without_cos else x * cos) + rotated * sin


def angle_tables(num_positions: int, head_dim: int, g: torch.Generator):
    """cos and sin of angles that grow linearly with the position, at random speeds (RoPE's form with
    other frequencies: apply_rope must work for any), the same angles in both halves of each row."""
    speeds = 1.5 * torch.rand(head_dim // 2, generator=g, dtype=torch.float64)
    angles = (torch.arange(num_positions).double()[:, None] * speeds[None, :]).repeat(1, 2)
    return angles.cos().float(), angles.sin().float()  # float64 maths: the same float32 tables on any kernels


# Variants: wrong versions computed on the check's inputs, named when an output equals one -----------

@variant("your RMSNorm has no eps: it divides by sqrt(mean(x^2)) where RMSNorm divides by sqrt(mean(x^2) + eps)")
def rms_without_eps(x, weights):
    return rms_maths.compute(x, weights["weight"], eps=0.0)


@variant("your RMSNorm divides by sqrt(mean(x^2)) + eps where RMSNorm divides by sqrt(mean(x^2) + eps)")
def rms_eps_outside_the_sqrt(x, weights):
    return rms_maths.compute(x, weights["weight"], eps_outside=True)


@variant("your RMSNorm divides by mean(x^2) + eps, the mean square, not by its square root")
def rms_without_the_root(x, weights):
    return rms_maths.compute(x, weights["weight"], root=False)


@variant("your RMSNorm subtracts the mean first, as LayerNorm does (it is LayerNorm without a shift): RMSNorm "
         "does not centre x")
def rms_centred(x, weights):
    return rms_maths.compute(x, weights["weight"], centred=True)


@variant("your RMSNorm leaves out weight: it returns the normalised x without multiplying by weight")
def rms_without_weight(x, weights):
    return rms_maths.compute(x, torch.ones_like(weights["weight"]))


RMS_VARIANTS = (rms_without_eps, rms_eps_outside_the_sqrt, rms_without_the_root, rms_centred, rms_without_weight)


@variant("your SiLU is sigmoid(x): it lacks the factor x, x * sigmoid(x)")
def silu_sigmoid_only(x):
    return torch.sigmoid(x)


@variant("your SiLU is x * tanh(x) where it is x * sigmoid(x)")
def silu_with_tanh(x):
    return x * torch.tanh(x)


@variant("your SiLU is x / (1 + exp(x)) where it is x / (1 + exp(-x))")
def silu_sign_slip(x):
    return x / (1 + torch.exp(x))


@variant("your SiLU is GPT-2's GELU; Llama uses SiLU, x * sigmoid(x)")
def silu_is_gelu(x):
    return torch.nn.functional.gelu(x, approximate="tanh")


@variant("your FeedForward applies SiLU to fc2(x) and multiplies by fc1(x): the bonus code gates with "
         "silu(fc1(x)) * fc2(x)")
def swiglu_gate_on_fc2(x, cfg, weights):
    return swiglu_maths.compute(x, weights, gate_on="fc2")


@variant("your FeedForward applies SiLU to the product fc1(x) * fc2(x) where it is silu(fc1(x)) * fc2(x)")
def swiglu_silu_after_the_product(x, cfg, weights):
    return swiglu_maths.compute(x, weights, product_first=True)


@variant("your FeedForward adds silu(fc1(x)) and fc2(x) where it multiplies them")
def swiglu_summed(x, cfg, weights):
    return swiglu_maths.compute(x, weights, summed=True)


@variant("your FeedForward has no SiLU: fc3(fc1(x) * fc2(x))")
def swiglu_without_silu(x, cfg, weights):
    return swiglu_maths.compute(x, weights, activation=lambda t: t)


@variant("your FeedForward uses GPT-2's GELU where Llama uses SiLU")
def swiglu_with_gelu(x, cfg, weights):
    return swiglu_maths.compute(x, weights, activation=lambda t: torch.nn.functional.gelu(t, approximate="tanh"))


@variant("your inverse frequencies divide the exponent by head_dim // 2 where they divide by head_dim: "
         "theta_base ** (torch.arange(0, head_dim, 2) / head_dim)")
def rope_exponent_over_half_dim(head_dim, context_length, theta_base):
    return rope_params_maths.compute(head_dim, context_length, theta_base, exponent_over=head_dim // 2)


@variant("your inverse frequencies divide the exponent by 2 * head_dim where they divide by head_dim (with "
         "torch.arange(head_dim // 2), the exponent is 2i / head_dim: multiply by 2)")
def rope_exponent_over_twice_the_dim(head_dim, context_length, theta_base):
    return rope_params_maths.compute(head_dim, context_length, theta_base, exponent_over=2 * head_dim)


@variant("your angles ignore theta_base: they use 10,000 whatever the argument (Llama 3 uses 500,000)")
def rope_theta_base_ignored(head_dim, context_length, theta_base):
    return rope_params_maths.compute(head_dim, context_length, 10_000.0)


@variant("your positions start at 1: position 0 must have angle 0 (torch.arange(context_length))")
def rope_positions_from_1(head_dim, context_length, theta_base):
    return rope_params_maths.compute(head_dim, context_length, theta_base, first=1)


@variant("your angles are in the interleaved layout (each angle twice in a row, repeat_interleave); the bonus "
         "code's apply_rope rotates feature i with feature i + head_dim / 2, so both halves hold the same angles: "
         "torch.cat([angles, angles], dim=1)")
def rope_interleaved_layout(head_dim, context_length, theta_base):
    return rope_params_maths.compute(head_dim, context_length, theta_base, interleaved=True)


@variant("your rotation turns the other way: rotated = cat(x2, -x1) where it is cat(-x2, x1), so each pair "
         "(a, b) becomes (a cos + b sin, b cos - a sin)")
def rope_sign_flipped(x, cos, sin):
    return rotation_maths.compute(x, cos, sin, sign=-1.0)


@variant("your cos and sin are swapped: x * sin + rotated * cos where it is x * cos + rotated * sin")
def rope_cos_sin_swapped(x, cos, sin):
    return rotation_maths.compute(x, cos, sin, swapped=True)


@variant("your rotation leaves out cos: x + rotated * sin where it is x * cos + rotated * sin")
def rope_without_cos(x, cos, sin):
    return rotation_maths.compute(x, cos, sin, without_cos=True)


@variant("your rotation pairs neighbouring features (0 with 1, 2 with 3: the interleaved layout) where the "
         "bonus code pairs feature i with feature i + head_dim / 2: rotated = cat(-x2, x1)")
def rope_interleaved_pairs(x, cos, sin):
    return rotation_maths.compute(x, cos, sin, interleaved_pairs=True)


ROPE_VARIANTS = (rope_sign_flipped, rope_cos_sin_swapped, rope_without_cos, rope_interleaved_pairs)


def on_scores(rotation):
    """A variant of apply_rope seen through the scores check: rope(q)[i] . rope(k)[j] for every i, j."""
    def compute(q, k, cos, sin):
        n = cos.shape[0]
        queries = rotation.compute(q.repeat(1, 1, n, 1), cos, sin)[0, 0]
        keys = rotation.compute(k.repeat(1, 1, n, 1), cos, sin)[0, 0]
        return queries @ keys.T
    compute.__name__ = rotation.name
    return variant(rotation.says)(compute)


SCORE_VARIANTS = tuple(on_scores(v) for v in ROPE_VARIANTS)


# Judges: the invariant first, in its own words, then the values ----------------------------------

def equals_torch(what: str, dims):
    """Judge: the output is what torch's own implementation gives (the reference's values); a
    failure names the torch function the part must equal."""
    def judge(got, expected):
        try:
            compare(got, expected, dims=dims)
        except Failed as failed:
            raise Failed(failed.reason, f"{what}. {failed.message}") from None
    return judge


def _rows_have_rms_1(got, expected):
    """Judge: with weight 1, every row of the output has root mean square 1 (up to eps)."""
    if isinstance(got, torch.Tensor) and got.is_floating_point() and got.shape == expected.shape:
        rms = got.double().pow(2).mean(dim=-1).sqrt()
        off = (rms - 1).abs().nan_to_num(nan=float("inf"))
        if off.max() > 1e-3:
            at = tuple(int(i) for i in torch.unravel_index(off.argmax(), off.shape))
            raise Failed(WRONG_VALUES, f"with weight 1, each token's row (over the last dim, emb_dim) must come out "
                                       f"with root mean square 1, sqrt(mean(out^2)) = 1; the row at [batch {at[0]}, "
                                       f"num_tokens {at[1]}] has {rms[at].item():.4g}. Divide x by "
                                       f"sqrt(mean(x^2) + eps), the mean over dim=-1 with keepdim=True.")
    compare(got, expected, dims=DIMS)


def _rope_params_judge(got, expected):
    """Judge: cos and sin of one angle per (position, feature), in the rotate-half layout, position 0 at angle 0."""
    if isinstance(got, (tuple, list)) and len(got) == 2 and all(isinstance(t, torch.Tensor) for t in got) \
            and all(t.shape == expected[0].shape and t.is_floating_point() for t in got):
        cos, sin = (t.double() for t in got)
        half = cos.shape[-1] // 2
        for name, t in (("cos", cos), ("sin", sin)):
            gap = (t[:, :half] - t[:, half:]).abs().nan_to_num(nan=float("inf"))
            if gap.max() > 1e-5:
                p, i = (int(j) for j in torch.unravel_index(gap.argmax(), gap.shape))
                raise Failed(WRONG_VALUES, f"{name} is not in the rotate-half layout: column {i} and column "
                                           f"{i + half} (head_dim / 2 further) must hold the same angle, as "
                                           f"apply_rope rotates feature i with feature i + head_dim / 2; at position "
                                           f"{p} yours are {t[p, i].item():.4g} and {t[p, i + half].item():.4g}. "
                                           f"Concatenate the angles with themselves: torch.cat([angles, angles], dim=1).")
        still = ((cos[0] - 1).abs() + sin[0].abs()).nan_to_num(nan=float("inf"))
        swapped = ((sin[0] - 1).abs() + cos[0].abs()).nan_to_num(nan=float("inf"))
        if still.max() > 1e-6 and swapped.max() <= 1e-6:  # held-out trial 10, t137: it was told "start at 0"
            raise Failed(WRONG_VALUES, "your cos and sin are swapped: at position 0 your first tensor is all 0 and "
                                       "your second all 1, as sin and cos of angle 0 are. Return them in the order "
                                       "(cos, sin), the order apply_rope takes them in.")
        if still.max() > 1e-6:
            raise Failed(WRONG_VALUES, f"position 0 must not turn: cos[0] must be all 1 and sin[0] all 0, so that "
                                       f"apply_rope leaves position 0 unchanged; yours are {cos[0].tolist()} and "
                                       f"{sin[0].tolist()}. Positions start at 0: torch.arange(context_length).")
        unit = (cos.pow(2) + sin.pow(2) - 1).abs().nan_to_num(nan=float("inf"))
        if unit.max() > 1e-5:
            p, i = (int(j) for j in torch.unravel_index(unit.argmax(), unit.shape))
            raise Failed(WRONG_VALUES, f"cos and sin must be the cosine and sine of the same angle, so cos^2 + sin^2 = 1; "
                                       f"at position {p}, column {i} yours give {cos[p, i].item() ** 2 + sin[p, i].item() ** 2:.4g}.")
    if not isinstance(got, (tuple, list)):
        raise Failed(WRONG_TYPE, f"compute_rope_params must return two tensors, cos and sin; yours returned "
                                 f"{type(got).__name__}")
    compare(got, expected, dims=("context_length", "head_dim"), atol=ROPE_ATOL)


def _rotation_judge(got, expected):
    """Judge: apply_rope leaves position 0 unchanged and keeps each vector's norm; then the values."""
    if isinstance(got, torch.Tensor) and got.is_floating_point() and got.shape == expected.shape:
        g, e = got.double(), expected.double()
        moved = (g[:, :, 0] - e[:, :, 0]).abs().nan_to_num(nan=float("inf"))
        if moved.max() > 1e-5:
            b, h, i = (int(j) for j in torch.unravel_index(moved.argmax(), moved.shape))
            raise Failed(WRONG_VALUES, f"position 0 must be unchanged by apply_rope (its angle is 0: cos 1, sin 0); "
                                       f"yours changed x[batch {b}, head {h}, position 0, feature {i}] from "
                                       f"{e[b, h, 0, i].item():.4g} to {g[b, h, 0, i].item():.4g}.")
        norms, kept = g.norm(dim=-1), e.norm(dim=-1)
        off = ((norms - kept).abs() / kept).nan_to_num(nan=float("inf"))
        if off.max() > 1e-4:
            b, h, p = (int(j) for j in torch.unravel_index(off.argmax(), off.shape))
            raise Failed(WRONG_VALUES, f"apply_rope must keep the norm of each vector (it only rotates pairs of "
                                       f"features); at [batch {b}, head {h}, position {p}] the norm went from "
                                       f"{kept[b, h, p].item():.4g} to {norms[b, h, p].item():.4g}. Each pair "
                                       f"(x1[i], x2[i]) must turn by one angle: x * cos + cat(-x2, x1) * sin.")
    compare(got, expected, dims=ROPE_DIMS)


def _depends_only_on_distance(got, expected):
    """Judge: scores[i, j] = rope(q)[i] . rope(k)[j] is the same along each diagonal (same j - i)."""
    if isinstance(got, torch.Tensor) and got.is_floating_point() and got.shape == expected.shape:
        s = got.double()
        n, scale = s.shape[0], max(1.0, expected.double().abs().max().item())
        worst = (0.0, None)
        for i in range(n):
            for j in range(n):
                for shift in range(1, n - max(i, j)):
                    gap = abs(s[i, j].item() - s[i + shift, j + shift].item())
                    if not gap <= worst[0]:  # a NaN is the worst of all
                        worst = (gap if gap == gap else float("inf"), (i, j, shift))
        if worst[0] > 1e-4 * scale:
            i, j, shift = worst[1]
            raise Failed(WRONG_VALUES, f"after your apply_rope, q·k at positions ({i}, {j}) is {s[i, j].item():.4g} "
                                       f"but at ({i + shift}, {j + shift}) it is {s[i + shift, j + shift].item():.4g}: "
                                       f"rotary embeddings must make the score depend only on the distance between "
                                       f"the positions ({j - i} in both).")
    compare(got, expected, dims=("query position", "key position"), rtol=1e-4, atol=1e-5)  # sums of head_dim products


# Task 1 ---------------------------------------------------------------------------------------

def rms_inputs(seed: int, tiny_row: bool = True) -> dict:
    """x (batch=2, num_tokens=5, emb_dim=6) off centre, one token's row shrunk 1000 times, and a weight."""
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=6)
    g = generator(seed)
    # Drawn in float64, then rounded: float32 randn differs by a few ulps between kernels, which
    # "2 r + 1" near 0 turns into more than the default atol (the fixture would not be fresh there).
    x = (2.0 * torch.randn(n["batch"], n["num_tokens"], n["emb_dim"], generator=g, dtype=torch.float64) + 1.0).float()
    if tiny_row:
        x[1, 2] *= 0.001  # mean square ~5e-6, below eps = 1e-5: there eps decides the output
        weight = (1.0 + 0.5 * torch.randn(n["emb_dim"], generator=g, dtype=torch.float64)).float()
    else:
        weight = torch.ones(n["emb_dim"])
    return {"x": x, "weights": {"weight": weight}}


@check(task=1, inputs=lambda seed: {"emb_dim": 6 + seed % 3, "eps": 1e-6})
def rmsnorm_creates_eps_emb_dim_and_a_weight_of_ones(m, emb_dim, eps):
    """RMSNorm(emb_dim=6, eps=1e-6): its eps, emb_dim and named_parameters() (one weight of ones, no bias)"""
    norm = m.RMSNorm(emb_dim, eps=eps)
    return {"eps": norm.eps, "emb_dim": norm.emb_dim, "named_parameters": list(norm.named_parameters())}


@check(task=1, inputs=rms_inputs, judge=equals_torch("your RMSNorm must equal torch.nn.RMSNorm(emb_dim, eps=1e-5) "
                                                     "with the same weight, and does not", DIMS),
       dims=DIMS, variants=RMS_VARIANTS)
def rmsnorm_equals_torch_nn_rmsnorm(m, x, weights):
    """RMSNorm(emb_dim=6) with a given weight, on x of shape (batch=2, num_tokens=5, emb_dim=6) with one tiny row"""
    return load_weights(m.RMSNorm(x.shape[-1]), weights)(x)


@check(task=1, inputs=lambda seed: rms_inputs(seed, tiny_row=False), judge=_rows_have_rms_1, dims=DIMS,
       variants=(rms_without_the_root, rms_centred))  # weight 1, no tiny row: the others agree with the reference here
def rmsnorm_rows_have_root_mean_square_1(m, x, weights):
    """RMSNorm(emb_dim=6) with weight 1, on x of shape (batch=2, num_tokens=5, emb_dim=6)"""
    return load_weights(m.RMSNorm(x.shape[-1]), weights)(x)


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=lambda seed: {"x": torch.linspace(-6.0, 6.0, sizes(seed, points=25)["points"])},
       judge=equals_torch("your SiLU must equal torch.nn.functional.silu, x * sigmoid(x), and does not", ("x",)),
       dims=("x",), variants=(silu_sigmoid_only, silu_with_tanh, silu_sign_slip, silu_is_gelu))
def silu_equals_torch_silu(m, x):
    """SiLU()(x) for x = torch.linspace(-6, 6, 25)"""
    return m.SiLU()(x)


# Task 3 ---------------------------------------------------------------------------------------

FF_CONFIG = {"emb_dim": 6, "hidden_dim": 10}


def with_dtype(cfg: dict) -> dict:
    return dict(cfg, dtype=torch.float32)  # a dtype cannot travel as data: the probe adds it


def feedforward_inputs(seed: int) -> dict:
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=6, hidden_dim=10)
    cfg = {"emb_dim": n["emb_dim"], "hidden_dim": n["hidden_dim"]}
    g = generator(seed)
    d, hidden = cfg["emb_dim"], cfg["hidden_dim"]
    weights = {"fc1.weight": torch.randn(hidden, d, generator=g) / d ** 0.5,
               "fc2.weight": torch.randn(hidden, d, generator=g) / d ** 0.5,
               "fc3.weight": torch.randn(d, hidden, generator=g) / hidden ** 0.5}
    return {"x": torch.randn(n["batch"], n["num_tokens"], d, generator=g), "cfg": cfg, "weights": weights}


@check(task=3, inputs=lambda seed: {"seed": 123, "cfg": FF_CONFIG}, judge=seeded_construction)
def feedforward_layers_created_in_bonus_order(m, seed, cfg):
    """torch.manual_seed(123); FeedForward({"emb_dim": 6, "hidden_dim": 10, "dtype": torch.float32}).named_parameters(): fc1, fc2, fc3, no biases"""
    torch.manual_seed(seed)
    return dict(m.FeedForward(with_dtype(cfg)).named_parameters())


@check(task=3, inputs=feedforward_inputs, dims=DIMS,
       variants=(swiglu_gate_on_fc2, swiglu_silu_after_the_product, swiglu_summed, swiglu_without_silu,
                 swiglu_with_gelu))
def feedforward_values_match(m, x, cfg, weights):
    """FeedForward(cfg with emb_dim=6, hidden_dim=10) with given weights, on x of shape (batch=2, num_tokens=5, emb_dim=6)"""
    return load_weights(m.FeedForward(with_dtype(cfg)), weights)(x)


@check(task=3, inputs=lambda seed: {"cfg": FF_CONFIG}, judge=every_layer_in("cfg['dtype'] is {}", 'dtype=cfg["dtype"]'))
def feedforward_layers_in_the_config_dtype(m, cfg):
    """FeedForward({"emb_dim": 6, "hidden_dim": 10, "dtype": torch.bfloat16}): the dtype of each parameter"""
    return {name: str(p.dtype) for name, p in m.FeedForward(dict(cfg, dtype=torch.bfloat16)).named_parameters()}


# Task 4 ---------------------------------------------------------------------------------------

# Angles up to context_length radians in float32: one rounding of inv_freq times the position moves
# cos and sin by up to ~1e-6, the default atol; another way of writing the same formula must pass.
ROPE_ATOL = 1e-5


def rope_params_inputs(seed: int) -> dict:
    """head_dim 8 and context_length 6, with Llama 3's theta_base 500,000 (not the default: passing it on matters)."""
    n = sizes(seed, half_head_dim=4, context_length=6)
    return {"head_dim": 2 * n["half_head_dim"], "context_length": n["context_length"],
            "theta_base": 500_000.0 if seed % 2 == 0 else 10_000.0 + 1000.0 * (1 + seed % 7)}


@check(task=4, inputs=rope_params_inputs, judge=_rope_params_judge, dims=("context_length", "head_dim"),
       atol=ROPE_ATOL, variants=(rope_exponent_over_half_dim, rope_exponent_over_twice_the_dim, rope_theta_base_ignored,
                                 rope_positions_from_1, rope_interleaved_layout))
def rope_params_match(m, head_dim, context_length, theta_base):
    """compute_rope_params(head_dim=8, theta_base=500_000, context_length=6): (cos, sin), each (context_length, head_dim)"""
    return m.compute_rope_params(head_dim, theta_base=theta_base, context_length=context_length)


@check(task=4, inputs=lambda seed: {"head_dim": 2 * sizes(seed, half_head_dim=3)["half_head_dim"]}, atol=ROPE_ATOL)
def rope_params_defaults_are_theta_10000_and_4096_positions(m, head_dim):
    """compute_rope_params(head_dim=6) with its defaults (theta_base=10_000, context_length=4096): the shapes of cos and sin, and their first 3 rows"""
    cos, sin = m.compute_rope_params(head_dim)
    return {"shapes": [tuple(cos.shape), tuple(sin.shape)], "cos[:3]": cos[:3], "sin[:3]": sin[:3]}


# Task 5 ---------------------------------------------------------------------------------------

def rotation_inputs(seed: int) -> dict:
    """x (batch=2, num_heads=3, num_tokens=5, head_dim=8), and cos and sin of RoPE's form for 7 positions (more than num_tokens)."""
    n = sizes(seed, batch=2, num_heads=3, num_tokens=5, half_head_dim=4)
    head_dim = 2 * n["half_head_dim"]
    g = generator(seed)
    cos, sin = angle_tables(n["num_tokens"] + 2, head_dim, g)
    x = torch.randn(n["batch"], n["num_heads"], n["num_tokens"], head_dim, generator=g)
    return {"x": x, "cos": cos, "sin": sin}


def distance_inputs(seed: int) -> dict:
    """One query and one key vector of head_dim 8, and cos and sin for 13 positions."""
    n = sizes(seed, half_head_dim=4, positions=13)
    head_dim = 2 * n["half_head_dim"]
    g = generator(seed)
    cos, sin = angle_tables(n["positions"], head_dim, g)
    return {"q": torch.randn(1, 1, 1, head_dim, generator=g), "k": torch.randn(1, 1, 1, head_dim, generator=g),
            "cos": cos, "sin": sin}


@check(task=5, inputs=rotation_inputs, judge=_rotation_judge, dims=ROPE_DIMS, variants=ROPE_VARIANTS)
def apply_rope_keeps_position_0_and_every_norm(m, x, cos, sin):
    """apply_rope(x, cos, sin) with x of shape (batch=2, num_heads=3, num_tokens=5, head_dim=8) and cos, sin of shape (context_length=7, head_dim=8)"""
    return m.apply_rope(x, cos, sin)


@check(task=5, inputs=distance_inputs, judge=_depends_only_on_distance, dims=("query position", "key position"),
       rtol=1e-4, atol=1e-5,  # sums of head_dim products of rotated values
       variants=SCORE_VARIANTS)
def apply_rope_scores_depend_only_on_the_distance(m, q, k, cos, sin):
    """q and k, the same vectors at each of 13 positions (shape (1, 1, 13, 8)), through apply_rope; then scores[i, j] = rope(q)[i] · rope(k)[j]"""
    n = cos.shape[0]
    queries = m.apply_rope(q.repeat(1, 1, n, 1), cos, sin)[0, 0]  # (1, 1, n, head_dim) -> (n, head_dim)
    keys = m.apply_rope(k.repeat(1, 1, n, 1), cos, sin)[0, 0]
    return queries @ keys.T  # (n, head_dim) @ (head_dim, n) -> (n, n)


BF16_TOL = 2e-2  # bfloat16 keeps 8 bits of mantissa: rotating in bfloat16 or in float32 differ by about that


def _in_the_dtype_of_x(got, expected):
    if isinstance(got, dict) and got.get("dtype") != expected["dtype"] and got.get("shape") == expected["shape"]:
        raise Failed(WRONG_TYPE, f"for x in {expected['dtype']} (cos and sin in float32) your apply_rope returns "
                                 f"{got.get('dtype')}: x * cos promotes to float32. Return the result in x's dtype, "
                                 f".to(x.dtype), as the docstring asks, or a bfloat16 model gets float32 queries "
                                 f"and keys.")
    compare(got, expected, dims={"values": ROPE_DIMS}, rtol=BF16_TOL, atol=BF16_TOL)


@check(task=5, inputs=rotation_inputs, judge=_in_the_dtype_of_x, rtol=BF16_TOL, atol=BF16_TOL)
def apply_rope_returns_the_dtype_of_x(m, x, cos, sin):
    """apply_rope(x in bfloat16, cos, sin in float32) with x of shape (batch=2, num_heads=3, num_tokens=5, head_dim=8): the shape and dtype of its output, and its values (as float32)"""
    out = m.apply_rope(x.to(torch.bfloat16), cos, sin)
    return {"shape": list(out.shape), "dtype": str(out.dtype), "values": out.float()}
