"""The diagnosis a failure carries when no catalogued mistake matches: a generic relation
(grader.checks.diagnose), or a reference variant the check declares (grader.checks.Variant)."""

import dataclasses

import pytest
import torch

from grader.engine import checks as C
from grader.engine.checks import diagnose
from grader.course.curriculum import load
from grader.engine.cases import load_fixture
from grader.engine.reference import build_cases
from grader.engine.impl import import_topic, load_package, unload_package
from grader.engine.messages import explain
from grader.course.mistakes import Patch, mistaken_tree
from grader.engine.probe import probe_topic
from grader.engine.session import run_topic

E = torch.tensor([[0.3, -1.2, 0.7, 2.0], [1.1, 0.4, -0.6, 0.9], [-0.2, 0.8, 1.5, -1.0]])
SQUARE = torch.tensor([[0.3, -1.2, 0.7], [1.1, 0.4, -0.6], [-0.2, 0.8, 1.5]])
DIMS = ("num_tokens", "d_out")


@pytest.mark.parametrize("got,expected,says", [
    (E * 2 ** -0.5, E, "0.7071 times the expected ones (= 1/sqrt(2))"),
    (E * 3, E, "3 times the expected ones (= 3)"),
    (E + 0.25, E, "plus 0.25 everywhere"),
    (SQUARE.T, SQUARE, "transposed"),
    (E[[1, 0, 2]], E, "another order along the num_tokens dim"),
    (torch.cat([E[:1], E[:-1]]), E, "shifted by one position along the num_tokens dim"),
    (list(range(27)), list(range(9)), "27 items where 9 are expected: 3 times as many"),
    (torch.zeros(3, 2), E, "2 along the d_out dim where 4 are expected: 2 times fewer"),
    (0.5, 2.0, "0.25 times the expected value (= 1/4)"),
])
def test_a_simple_relation_is_named(got, expected, says):
    assert says in diagnose(got, expected, DIMS)


def test_an_input_handed_back_is_named():
    x = torch.randn(3, 4)
    assert "equals the input x, unchanged" in diagnose(x.clone(), E, DIMS, {"x": x})


@pytest.mark.parametrize("got,expected", [
    (torch.randn(3, 4, generator=torch.Generator().manual_seed(1)), E),  # nothing simple
    (E, E), ([1, 2], [1, 2, 3]), (1.37, 1.36), ("text", [1]), (torch.zeros(0, 4), E),
    (torch.full((3, 4), float("nan")), E), (torch.tensor([1, 2]), torch.tensor([2, 4])),
])
def test_nothing_is_claimed_without_evidence(got, expected):
    assert diagnose(got, expected, DIMS) == ""


# Declared reference variants (grader.checks.Variant) --------------------------------------------
#
# For every variant a check declares, a submission written that way: a text patch of the reference,
# like the catalogue's, kept here. Several alternatives where the same variant stands for one slip in
# two places (SelfAttention_v1 and _v2).

DROP_WEIGHTS = ("        attn_weights = self.dropout(attn_weights)\n", "")
V1_SOFTMAX, V2_SOFTMAX = "torch.softmax(attn_scores / d_k**0.5, dim=-1)", "attn_scores / keys.shape[-1] ** 0.5, dim=-1)"
SCALED = "attn_scores / keys.shape[-1] ** 0.5"
MASK_LINE = "        attn_scores.masked_fill_(self.mask.bool()[:num_tokens, :num_tokens], -torch.inf)\n"
MASK_AFTER = ("attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)",
              "attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)\n"
              "        attn_weights = attn_weights.masked_fill(self.mask.bool()[:num_tokens, :num_tokens], 0.0)")
SCORES_DROPPED = ("        attn_weights = torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)\n",
                  "        attn_weights = torch.softmax(self.dropout(attn_scores) / keys.shape[-1] ** 0.5, dim=-1)\n")
X_DROPPED = ("keys = self.W_key(x)", "x = self.dropout(x)\n        keys = self.W_key(x)")
GELU = "return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))"
BLOCK = ("        x = x + self.drop_shortcut(self.att(self.norm1(x)))\n"
         "        x = x + self.drop_shortcut(self.ff(self.norm2(x)))")
SIN_COS = "    pe[:, 0::2] = torch.sin(angles)\n    pe[:, 1::2] = torch.cos(angles)\n    return pe.to(torch.float32)"
TOP_K = "top_logits, _ = torch.topk(logits, k)"
MINUS_INF = 'torch.tensor(float("-inf"), device=logits.device)'

SWIGLU = "x = self.silu(x_fc1) * x_fc2"
ROTATE_HALF, ROPE_SUM = "torch.cat((-x2, x1), dim=-1)", "(x * cos) + (rotated * sin)"
GQA_SOFTMAX = "torch.softmax(attn_scores / keys.shape[-1] ** 0.5, dim=-1)"
ROPE_QUERIES, ROPE_KEYS = "queries = apply_rope(queries, cos, sin)", "keys = apply_rope(keys, cos, sin)"
VARIANT_PATCHES = {
    "softmax_attention": {
        "normalised_without_exp": [[("attn_weights = torch.softmax(scores, dim=-1)",
                                     "attn_weights = scores / scores.sum(dim=-1, keepdim=True)")]],
        "softmax_over_dim_0": [[("torch.softmax(scores, dim=-1)", "torch.softmax(scores, dim=0)")]],
        "scaled_by_sqrt_of_the_size": [[("torch.softmax(scores, dim=-1)",
                                         "torch.softmax(scores / scores.shape[-1] ** 0.5, dim=-1)")]],
        "exp_without_normalising": [[("torch.softmax(scores, dim=-1)", "torch.exp(scores)")]],
        "normalised_over_the_whole_matrix": [[("torch.softmax(scores, dim=-1)",
                                               "torch.exp(scores) / torch.exp(scores).sum()")]],
        "context_from_transposed_weights": [[("context_vec = attn_weights @ inputs",
                                              "context_vec = attn_weights.T @ inputs")]],
        "context_from_the_scores": [[("context_vec = attn_weights @ inputs", "context_vec = attn_scores @ inputs")]],
        "context_from_plainly_normalised_scores": [[(
            "attn_weights = attention_weights(attn_scores)",
            "attn_weights = attn_scores / attn_scores.sum(dim=-1, keepdim=True)")]],
        "context_from_scaled_scores": [[("attn_weights = attention_weights(attn_scores)",
                                         "attn_weights = attention_weights(attn_scores / inputs.shape[-1] ** 0.5)")]],
        "context_is_the_mean": [[("context_vec = attn_weights @ inputs",
                                  "context_vec = inputs.mean(dim=0, keepdim=True).expand_as(inputs)")]],
        "divided_by_the_sum_of_x": [[("torch.exp(x) / torch.exp(x).sum(dim=0)", "torch.exp(x) / x.sum(dim=0)")]],
        "x_over_its_sum": [[("torch.exp(x) / torch.exp(x).sum(dim=0)", "x / x.sum(dim=0)")]],
        "divided_by_exp_of_the_sum": [[("torch.exp(x) / torch.exp(x).sum(dim=0)",
                                        "torch.exp(x) / torch.exp(x.sum(dim=0))")]],
    },
    "qkv_attention": {
        "not_scaled": [[(V1_SOFTMAX, "torch.softmax(attn_scores, dim=-1)")],
                       [(V2_SOFTMAX, "attn_scores, dim=-1)")]],
        "scaled_by_d_k": [[(V1_SOFTMAX, "torch.softmax(attn_scores / d_k, dim=-1)")],
                          [(V2_SOFTMAX, "attn_scores / keys.shape[-1], dim=-1)")]],
        "scaled_by_sqrt_d_in": [[("d_k = keys.shape[-1]", "d_k = x.shape[-1]")],
                                [(V2_SOFTMAX, "attn_scores / x.shape[-1] ** 0.5, dim=-1)")]],
        "scaled_by_sqrt_num_tokens": [[("d_k = keys.shape[-1]", "d_k = keys.shape[0]")],
                                      [(V2_SOFTMAX, "attn_scores / keys.shape[0] ** 0.5, dim=-1)")]],
        "scaled_after_softmax": [[(V1_SOFTMAX, "torch.softmax(attn_scores, dim=-1) / d_k**0.5")],
                                 [(V2_SOFTMAX, "attn_scores, dim=-1) / keys.shape[-1] ** 0.5")]],
        "softmax_over_dim_0": [[(V1_SOFTMAX, "torch.softmax(attn_scores / d_k**0.5, dim=0)")],
                               [(V2_SOFTMAX, "attn_scores / keys.shape[-1] ** 0.5, dim=0)")]],
        "scores_transposed": [[("attn_scores = queries @ keys.T", "attn_scores = keys @ queries.T")],
                              [("attn_scores = queries @ keys.transpose(-2, -1)",
                                "attn_scores = keys @ queries.transpose(-2, -1)")]],
        "weights_times_keys": [[(V1_SOFTMAX + "\n\n        context_vec = attn_weights @ values",
                                 V1_SOFTMAX + "\n\n        context_vec = attn_weights @ keys")],
                               [(V2_SOFTMAX + "\n\n        context_vec = attn_weights @ values",
                                 V2_SOFTMAX + "\n\n        context_vec = attn_weights @ keys")]],
        "query_and_key_swapped": [[("sa_v1.W_query.copy_(sa_v2.W_query.weight.T)", "sa_v1.W_query.copy_(sa_v2.W_key.weight.T)"),
                                   ("sa_v1.W_key.copy_(sa_v2.W_key.weight.T)", "sa_v1.W_key.copy_(sa_v2.W_query.weight.T)")]],
    },
    "causal_attention": {
        "unmasked": [[("attn_scores.masked_fill_(", "attn_scores.masked_fill(")]],
        "masked_with_zero": [[("[:num_tokens, :num_tokens], -torch.inf)", "[:num_tokens, :num_tokens], 0.0)")]],
        "masked_after_softmax": [[(MASK_LINE, ""), MASK_AFTER]],
        "mask_from_the_second_diagonal": [[("diagonal=1)", "diagonal=2)")]],
        "not_scaled": [[(SCALED, "attn_scores")]],
        "scaled_by_d_k": [[(SCALED, "attn_scores / keys.shape[-1]")]],
        "scaled_by_sqrt_d_in": [[(SCALED, "attn_scores / d_in ** 0.5")]],
        "scaled_by_sqrt_num_tokens": [[(SCALED, "attn_scores / keys.shape[1] ** 0.5")]],
        "scaled_after_softmax": [[(f"torch.softmax({SCALED}, dim=-1)",
                                   "torch.softmax(attn_scores, dim=-1) / keys.shape[-1] ** 0.5")]],
        "softmax_over_the_queries": [[("keys.shape[-1] ** 0.5, dim=-1)", "keys.shape[-1] ** 0.5, dim=1)")]],
        "weights_times_keys": [[("context_vec = attn_weights @ values", "context_vec = attn_weights @ keys")]],
        "dropout_off": [[DROP_WEIGHTS]],
        "dropout_on_the_inputs": [[DROP_WEIGHTS, X_DROPPED]],
        "dropout_on_the_scores": [[DROP_WEIGHTS, SCORES_DROPPED]],
        "dropout_on_the_context": [[DROP_WEIGHTS, ("return context_vec", "return self.dropout(context_vec)")]],
        "mask_of_the_past": [[("torch.triu(", "torch.tril(")]],
        "mask_transposed": [[("diagonal=1)", "diagonal=1).T")]],
        "mask_two_above_the_diagonal": [[("diagonal=1)", "diagonal=2)")]],
        "mask_inverted": [[("return torch.triu(", "return ~torch.triu(")]],
    },
    "multihead_attention": {
        "unmasked": [[("attn_scores.masked_fill_(", "attn_scores.masked_fill(")]],
        "masked_with_zero": [[("[:num_tokens, :num_tokens], -torch.inf)", "[:num_tokens, :num_tokens], 0.0)")]],
        "masked_after_softmax": [[(MASK_LINE, ""), MASK_AFTER]],
        "scaled_by_sqrt_d_out": [[(SCALED, "attn_scores / self.d_out ** 0.5")]],
        "not_scaled": [[(SCALED, "attn_scores")]],
        "scaled_by_head_dim": [[(SCALED, "attn_scores / keys.shape[-1]")]],
        "scaled_after_softmax": [[(f"torch.softmax({SCALED}, dim=-1)",
                                   "torch.softmax(attn_scores, dim=-1) / keys.shape[-1] ** 0.5")]],
        "softmax_over_the_queries": [[("keys.shape[-1] ** 0.5, dim=-1)", "keys.shape[-1] ** 0.5, dim=2)")]],
        "without_out_proj": [[("return self.out_proj(context_vec)", "return context_vec")]],
        "heads_split_in_the_wrong_order": [[
            (f"{t} = {t}.view(b, num_tokens, self.num_heads, self.head_dim).transpose(1, 2)",
             f"{t} = {t}.view(b, num_tokens, self.head_dim, self.num_heads).permute(0, 3, 1, 2)")
            for t in ("keys", "queries", "values")]],
        "heads_merged_without_transpose": [[("context_vec = (attn_weights @ values).transpose(1, 2)",
                                             "context_vec = (attn_weights @ values)")]],
        "dropout_off": [[DROP_WEIGHTS]],
        "dropout_after_out_proj": [[DROP_WEIGHTS, ("return self.out_proj(context_vec)",
                                                   "return self.dropout(self.out_proj(context_vec))")]],
        "dropout_on_the_context": [[DROP_WEIGHTS, ("return self.out_proj(context_vec)",
                                                   "return self.out_proj(self.dropout(context_vec))")]],
        "dropout_on_the_inputs": [[DROP_WEIGHTS, X_DROPPED]],
    },
    "gpt_blocks": {
        "unbiased_variance": [[("unbiased=False)", "unbiased=True)")]],
        "eps_outside_the_sqrt": [[("torch.sqrt(var + self.eps)", "(torch.sqrt(var) + self.eps)")]],
        "without_eps": [[("torch.sqrt(var + self.eps)", "torch.sqrt(var)")]],
        "scale_and_shift_swapped": [[("return self.scale * norm_x + self.shift", "return self.shift * norm_x + self.scale")]],
        "without_scale_and_shift": [[("return self.scale * norm_x + self.shift", "return norm_x")]],
        "divided_by_the_variance": [[("torch.sqrt(var + self.eps)", "(var + self.eps)")]],
        "gelu_squared_term": [[("0.044715 * x ** 3", "0.044715 * x ** 2")]],
        "gelu_sqrt_2_pi": [[("math.sqrt(2.0 / math.pi)", "math.sqrt(2.0 * math.pi)")]],
        "gelu_without_the_sqrt": [[("math.sqrt(2.0 / math.pi)", "(2.0 / math.pi)")]],
        "gelu_without_the_cubic_term": [[("(x + 0.044715 * x ** 3)", "x")]],
        "gelu_without_the_half": [[("return 0.5 * x * (1.0", "return x * (1.0")]],
        "gelu_exact": [[(GELU, "return torch.nn.functional.gelu(x)")]],
        "gelu_is_relu": [[(GELU, "return torch.relu(x)")]],
        "feedforward_with_relu": [[("            GELU(),", "            nn.ReLU(),")]],
        "feedforward_with_exact_gelu": [[("            GELU(),", "            nn.GELU(),")]],
        "feedforward_without_activation": [[("            GELU(),", "            nn.Identity(),")]],
        "shortcut_not_refreshed": [[(BLOCK, "        shortcut = x\n"
                                            "        x = shortcut + self.drop_shortcut(self.att(self.norm1(x)))\n"
                                            "        x = shortcut + self.drop_shortcut(self.ff(self.norm2(x)))")]],
        "norm1_before_the_feed_forward": [[("self.ff(self.norm2(x))", "self.ff(self.norm1(x))")]],
        "post_norm": [[(BLOCK, "        x = self.norm1(x + self.drop_shortcut(self.att(x)))\n"
                               "        x = self.norm2(x + self.drop_shortcut(self.ff(x)))")]],
        "attention_shortcut_missing": [[("x = x + self.drop_shortcut(self.att(", "x = self.drop_shortcut(self.att(")]],
        "feedforward_shortcut_missing": [[("x = x + self.drop_shortcut(self.ff(", "x = self.drop_shortcut(self.ff(")]],
        "shortcut_condition_inverted": [[("if self.use_shortcut and x.shape", "if not self.use_shortcut and x.shape")]],
    },
    "embeddings": {
        "positions_not_added": [[("return tok_embeds + pos_embeds", "return tok_embeds")]],
        "positions_from_one": [[("torch.arange(num_tokens, device=in_idx.device)",
                                 "torch.arange(1, num_tokens + 1, device=in_idx.device)")]],
        "positions_reversed": [[("torch.arange(num_tokens, device=in_idx.device)",
                                 "torch.arange(num_tokens, device=in_idx.device).flip(0)")]],
        "token_ids_as_positions": [[("pos_embeds = self.pos_emb(positions)", "pos_embeds = self.pos_emb(in_idx)")]],
        "embeddings_multiplied": [[("return tok_embeds + pos_embeds", "return tok_embeds * pos_embeds")]],
        "base_1000": [[("angles = position / 10000 **", "angles = position / 1000 **")]],
        "exponent_not_divided_by_emb_dim": [[("10000 ** (two_i / emb_dim)", "10000 ** (two_i)")]],
        "exponent_without_the_factor_2": [[("torch.arange(0, emb_dim, 2, dtype=torch.float64)",
                                            "torch.arange(0, emb_dim // 2, dtype=torch.float64)")]],
        "angles_multiplied": [[("angles = position / 10000 **", "angles = position * 10000 **")]],
        "sinusoid_positions_from_one": [[("torch.arange(context_length, dtype=torch.float64)",
                                          "torch.arange(1, context_length + 1, dtype=torch.float64)")]],
        "sin_and_cos_swapped": [[(SIN_COS, SIN_COS.replace("sin(", "SIN(").replace("cos(", "sin(").replace("SIN(", "cos("))]],
        "sin_and_cos_in_halves": [[(SIN_COS, "    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1).float()")]],
    },
    "decoding": {
        "temperature_multiplied": [[("logits / temperature", "logits * temperature")]],
        "temperature_after_softmax": [[("return torch.softmax(scaled_logits, dim=-1)",
                                        "return torch.softmax(logits, dim=-1) / temperature")]],
        "temperature_ignored": [[("scaled_logits = logits / temperature", "scaled_logits = logits")]],
        "temperature_applied_twice": [[("logits / temperature", "logits / temperature / temperature")]],
        "temperature_softmax_over_dim_0": [[("torch.softmax(scaled_logits, dim=-1)", "torch.softmax(scaled_logits, dim=0)")]],
        "temperature_added": [[("logits / temperature", "logits + temperature")]],
        "keeps_k_plus_one": [[(TOP_K, "top_logits, _ = torch.topk(logits, k + 1)")]],
        "drops_the_kth": [[("torch.where(logits < min_val", "torch.where(logits <= min_val")]],
        "fills_with_zero": [[(MINUS_INF, "torch.tensor(0.0, device=logits.device)")]],
        "threshold_is_the_largest": [[("min_val = top_logits[..., -1:]", "min_val = top_logits[..., :1]")]],
        "keeps_the_smallest": [[(TOP_K, "top_logits, _ = torch.topk(logits, k, largest=False)"),
                                ("torch.where(logits < min_val", "torch.where(logits > min_val")]],
        "logits_of_the_first_position": [[("logits = logits[:, -1, :]", "logits = logits[:, 0, :]")]],
        "new_ids_in_front": [[("idx = torch.cat((idx, idx_next), dim=1)", "idx = torch.cat((idx_next, idx), dim=1)")]],
        "eos_id_appended": [[("            break  # the end-of-text token itself is not returned\n"
                              "        idx = torch.cat((idx, idx_next), dim=1)",
                              "            idx = torch.cat((idx, idx_next), dim=1)\n            break\n"
                              "        idx = torch.cat((idx, idx_next), dim=1)")]],
        "stops_when_any_row_writes_eos_id": [[("(idx_next == eos_id).all()", "(idx_next == eos_id).any()")]],
        "eos_id_zero_ignored": [[("if eos_id is not None and", "if eos_id and")]],
    },
    "llama_parts": {
        "rms_without_eps": [[("torch.rsqrt(means + self.eps)", "torch.rsqrt(means)")]],
        "rms_eps_outside_the_sqrt": [[("x * torch.rsqrt(means + self.eps)", "x / (torch.sqrt(means) + self.eps)")]],
        "rms_without_the_root": [[("x * torch.rsqrt(means + self.eps)", "x / (means + self.eps)")]],
        "rms_centred": [[("means = x.pow(2)", "x = x - x.mean(dim=-1, keepdim=True)\n        means = x.pow(2)")]],
        "rms_without_weight": [[("return x_normed * self.weight", "return x_normed")]],
        "silu_sigmoid_only": [[("return x * torch.sigmoid(x)", "return torch.sigmoid(x)")]],
        "silu_with_tanh": [[("return x * torch.sigmoid(x)", "return x * torch.tanh(x)")]],
        "silu_sign_slip": [[("return x * torch.sigmoid(x)", "return x / (1 + torch.exp(x))")]],
        "silu_is_gelu": [[("return x * torch.sigmoid(x)", "return torch.nn.functional.gelu(x, approximate='tanh')")]],
        "swiglu_gate_on_fc2": [[(SWIGLU, "x = x_fc1 * self.silu(x_fc2)")]],
        "swiglu_silu_after_the_product": [[(SWIGLU, "x = self.silu(x_fc1 * x_fc2)")]],
        "swiglu_summed": [[(SWIGLU, "x = self.silu(x_fc1) + x_fc2")]],
        "swiglu_without_silu": [[(SWIGLU, "x = x_fc1 * x_fc2")]],
        "swiglu_with_gelu": [[(SWIGLU, "x = torch.nn.functional.gelu(x_fc1, approximate='tanh') * x_fc2")]],
        "rope_exponent_over_half_dim": [[("2).float() / head_dim)", "2).float() / (head_dim // 2))")]],
        "rope_exponent_over_twice_the_dim": [[("2).float() / head_dim)", "2).float() / (2 * head_dim))")]],
        "rope_theta_base_ignored": [[("1.0 / theta_base **", "1.0 / 10_000 **")]],
        "rope_positions_from_1": [[("torch.arange(context_length)", "torch.arange(1, context_length + 1)")]],
        "rope_interleaved_layout": [[("torch.cat([angles, angles], dim=1)", "angles.repeat_interleave(2, dim=1)")]],
        "rope_sign_flipped": [[(ROTATE_HALF, "torch.cat((x2, -x1), dim=-1)")]],
        "rope_cos_sin_swapped": [[(ROPE_SUM, "(x * sin) + (rotated * cos)")]],
        "rope_without_cos": [[(ROPE_SUM, "x + (rotated * sin)")]],
        "rope_interleaved_pairs": [[(ROTATE_HALF, "torch.stack((-x[..., 1::2], x[..., 0::2]), dim=-1).flatten(-2)")]],
    },
    "gqa": {
        "kv_heads_tiled": [[("keys.repeat_interleave(self.group_size, dim=1)", "keys.repeat(1, self.group_size, 1, 1)"),
                            ("values.repeat_interleave(self.group_size, dim=1)", "values.repeat(1, self.group_size, 1, 1)")]],
        "unmasked": [[("attn_scores = attn_scores.masked_fill(", "attn_scores.masked_fill(")]],
        "not_scaled": [[(GQA_SOFTMAX, "torch.softmax(attn_scores, dim=-1)")]],
        "scaled_by_sqrt_d_out": [[(GQA_SOFTMAX, "torch.softmax(attn_scores / self.d_out ** 0.5, dim=-1)")]],
        "without_rope": [[(ROPE_QUERIES, "pass"), (ROPE_KEYS, "pass")]],
        "keys_not_rotated": [[(ROPE_KEYS, "pass")]],
        "values_rotated": [[(ROPE_KEYS, ROPE_KEYS + "\n        values = apply_rope(values, cos, sin)")]],
        "without_out_proj": [[("return self.out_proj(context)", "return context")]],
    },
}


def declared(slug: str) -> dict[str, C.Variant]:
    """Every variant the topic's checks declare, by name (one Variant per name: its words)."""
    return {v.name: v for chk in C.load_checks(load()[slug].test_file()) for v in chk.variants}


def without_catalogue(topic) -> dict:
    """The topic's fixture with no catalogued mistake, as if nobody had catalogued any."""
    fixture = load_fixture(topic)
    return {name: [dataclasses.replace(case, mistakes={}, raised={}) for case in cases] for name, cases in fixture.items()}


def test_every_declared_variant_has_a_submission_made_that_way():
    for slug, patches in VARIANT_PATCHES.items():
        assert set(declared(slug)) == set(patches), slug


@pytest.mark.parametrize("slug,name,alternative", [
    (slug, name, i) for slug, patches in VARIANT_PATCHES.items() for name, ways in patches.items()
    for i in range(len(ways))])
def test_a_submission_made_like_a_variant_gets_its_words(slug, name, alternative):
    """Without the catalogue, every failing check that declares the variant names it, with its
    words in the message a learner reads; at least one check does."""
    topic = load()[slug]
    patch = Patch(name, tuple(VARIANT_PATCHES[slug][name][alternative]))
    checks = {c.name: c for c in C.load_checks(topic.test_file())}
    with mistaken_tree(topic, patch) as tree:
        # once=False: a variant in causal_mask is named by CausalAttention's checks, which charged
        # once (grader/once.py) would grade again with the reference's mask
        verdicts = run_topic(topic, tree, fixture=without_catalogue(topic), once=False)
    declaring = [v for v in verdicts if not v.passed and name in {w.name for w in checks[v.check].variants}]
    assert declaring, f"no failing check of {slug} declares {name}: {[(v.check, v.reason) for v in verdicts if not v.passed]}"
    says = declared(slug)[name].says
    for v in declaring:
        assert name in v.variants, (v.check, v.message, v.variants)
        assert says in explain(v, topic).replace("\n  ", " ")


def hidden_like_seeds(chk: C.Check) -> tuple[int, ...]:
    """The public seeds and ten others (the grader's hidden seeds come from a secret: any seed may be one)."""
    return tuple(chk.seeds) + tuple(range(101, 111))


@pytest.mark.parametrize("slug", list(VARIANT_PATCHES))
def test_the_reference_never_equals_a_variant(slug):
    """A variant that the reference's own output equals would be a false claim; every variant can
    be computed on the public inputs."""
    topic = load()[slug]
    checks = [c for c in C.load_checks(topic.test_file()) if c.variants]
    cases = build_cases(topic, checks, {c.name: hidden_like_seeds(c) for c in checks}, with_mistakes=False)
    for chk in checks:
        for case in cases[chk.name]:
            for v in chk.variants:
                try:
                    value = C.wire.normalize(v.compute(**C._fresh_copy(case.inputs)))
                except Exception:
                    assert case.seed not in chk.seeds, f"{chk.name}: {v.name} cannot be computed on the public inputs"
                    continue
                with pytest.raises(C.Failed):
                    C.compare(value, case.expected, dims=chk.dims, rtol=chk.rtol, atol=chk.atol)
                    print(f"{chk.name}, seed {case.seed}: {v.name} equals the reference")


def test_a_variant_never_overrides_a_catalogued_mistake():
    """Where a catalogued mistake and a variant both explain the output, the catalogue's words are
    the ones shown (the variant is still recorded)."""
    topic = load()["causal_attention"]
    patch = Patch("unmasked", tuple(VARIANT_PATCHES["causal_attention"]["unmasked"][0]))
    with mistaken_tree(topic, patch) as tree:
        verdict = next(v for v in run_topic(topic, tree) if v.check == "context_vectors_match")
    assert verdict.mistake == "masked_fill_result_discarded" and "unmasked" in verdict.variants
    text = explain(verdict, topic)
    assert "known mistake" in text and declared("causal_attention")["unmasked"].says not in text


def test_several_matching_variants_are_hedged():
    chk = next(c for c in C.load_checks(load()["causal_attention"].test_file()) if c.name == "context_vectors_match")
    twice = dataclasses.replace(chk, variants=chk.variants + (C.Variant("again", "the same again", chk.variants[0].compute),))
    inputs = C._fresh_copy(load_fixture(load()["causal_attention"])[chk.name][0].inputs)
    words = C.variant_words(C.matching_variants(twice, chk.variants[0].compute(**inputs), inputs))
    assert words.startswith("Your output equals the reference computed in more than one other way")
    assert "One way to get it: " + chk.variants[0].says + "; another: the same again." in words


def test_variants_are_named_on_hidden_cases_without_a_value():
    """The class grader judges hidden cases on the trusted side with their inputs: a variant is
    named there too, in its fixed words, and the hidden verdict shows no value."""
    from grader.grading.grade import Prepared, _judge_reply
    curriculum = load()
    topic = curriculum["causal_attention"]
    checks = C.load_checks(topic.test_file())
    public = without_catalogue(topic)
    hidden = build_cases(topic, checks, {c.name: (1234567,) for c in checks}, with_mistakes=False, hidden=True)
    prep = Prepared(curriculum, {topic.slug: checks}, {topic.slug: public}, {topic.slug: hidden}, "fingerprint")
    patch = Patch("scaled", tuple(VARIANT_PATCHES["causal_attention"]["scaled_by_d_k"][0]))
    with mistaken_tree(topic, patch) as tree:
        outcomes = probe_topic(topic, tree, {n: [c.inputs for c in cs] for n, cs in public.items()}, checks)
        hidden_outcomes = probe_topic(topic, tree, {n: [c.inputs for c in cs] for n, cs in hidden.items()}, checks)
    ok = {"status": "ok"}
    grade = _judge_reply(prep, topic, ok, outcomes, ok, hidden_outcomes, 10.0, "")
    says = declared("causal_attention")["scaled_by_d_k"].says
    for verdicts in (grade.verdicts, grade.hidden):
        verdict = next(v for v in verdicts if v.check == "context_vectors_match")
        assert verdict.variants == ("scaled_by_d_k",) and says in explain(verdict, topic).replace("\n  ", " ")
    secret = next(v for v in grade.hidden if v.check == "context_vectors_match")
    assert secret.hidden and not any(ch.isdigit() for ch in secret.message + secret.shows)


def test_variants_are_named_in_a_notebook():
    """nbgrader's test cells judge through the same judge: the failure names the variant."""
    from grader.learner.notebook_checks import check_task
    topic = load()["gpt_blocks"]
    patch = Patch("gelu", tuple(VARIANT_PATCHES["gpt_blocks"]["gelu_without_the_half"][0]))
    with mistaken_tree(topic, patch) as tree:
        package = load_package(tree)
        try:  # the cells' names, as a notebook's namespace holds them
            namespace = dict(vars(import_topic(package, topic.slug)))
        finally:
            unload_package(package)
    with pytest.raises(AssertionError) as failed:
        check_task("gpt_blocks", 2, namespace)
    assert declared("gpt_blocks")["gelu_without_the_half"].says in str(failed.value).replace("\n  ", " ")


def test_a_function_that_returns_none_is_named_when_the_check_uses_its_result():
    """load_for_inference without `return model`: the TypeError is raised in the check's own code,
    so no line of the learner's shows; the message names the function that returned None."""
    topic = load()["save_load"]
    patch = Patch("no_return", (("    return model\n", "\n"),))
    with mistaken_tree(topic, patch) as tree:
        verdicts = run_topic(topic, tree, fixture=without_catalogue(topic))
    failed = [v for v in verdicts if not v.passed]
    assert [v.check for v in failed] == ["loaded_model_gives_the_saved_models_logits"], failed
    message = explain(failed[0], topic)
    assert "'NoneType' object is not callable" in message
    assert "your load_for_inference returned None" in message and "`return`" in message


def test_none_from_an_expression_is_blamed_on_the_learner_without_a_name(tmp_path):
    def probe(m, x):
        return m.twice(x) * 2  # not assigned: no name to read back

    def returns_nothing(x):
        x * 2

    chk = C.Check("t", 1, "twice", probe, lambda seed: {"x": 3})
    outcome = C.run_probe(chk, type("M", (), {"twice": staticmethod(returns_nothing)}), {"x": 3}, tmp_path)
    assert outcome.status == C.EXCEPTION
    assert outcome.message.endswith("a function or method of yours returned None where the check uses what it "
                                    "returns: did you forget its `return` line?"), outcome.message


def test_none_inside_the_learners_own_code_shows_their_line_only(tmp_path):
    learner = tmp_path / "mine.py"
    learner.write_text("def f(x):\n    y = None\n    return y(x)\n")
    namespace: dict = {}
    exec(compile(learner.read_text(), str(learner), "exec"), namespace)
    chk = C.Check("t", 1, "f", lambda m, x: m.f(x), lambda seed: {"x": 3})
    outcome = C.run_probe(chk, type("M", (), {"f": staticmethod(namespace["f"])}), {"x": 3}, tmp_path)
    assert "at mine.py, line 3" in outcome.message and "returned None" not in outcome.message, outcome.message
