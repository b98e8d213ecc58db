"""Checks for topic 4, token and positional embeddings (book sections 2.7-2.8)."""

import torch

from grader.engine.checks import (check, compare, Failed, generator, load_weights, on_another_device, one_device,
                           seeded_construction, sizes)

POSITIONS_ADVICE = ("Make it where the token ids are: torch.arange(num_tokens, device=in_idx.device), as the book "
                    "does, so the same code runs on a GPU.")
DIMS = ("batch", "num_tokens", "emb_dim")


def embedding_inputs(seed: int, full_context: bool = False) -> dict:
    """Token ids and both tables, every dimension a different size."""
    n = sizes(seed, batch=2, num_tokens=5, emb_dim=3, vocab_size=7)
    # Inputs shorter than the context must work too; `full_context` fills it exactly.
    context_length = n["num_tokens"] + (0 if full_context else 1)
    g = generator(seed)
    weights = {"tok_emb.weight": torch.randn(n["vocab_size"], n["emb_dim"], generator=g),
               "pos_emb.weight": torch.randn(context_length, n["emb_dim"], generator=g)}
    return {"in_idx": torch.randint(0, n["vocab_size"], (n["batch"], n["num_tokens"]), generator=g),
            "weights": weights}


def build(m, weights):
    vocab_size, emb_dim = weights["tok_emb.weight"].shape
    context_length = weights["pos_emb.weight"].shape[0]
    return load_weights(m.GPTEmbedding(vocab_size, context_length, emb_dim), weights)


def positions_inputs(seed: int) -> dict:
    # Small on purpose: a float32 computation matches the float64 reference within the default
    # tolerance up to a few dozen positions (at 256 positions the angles drift by ~1e-5).
    n = sizes(seed, context_length=5, half_emb_dim=3)
    return {"context_length": n["context_length"], "emb_dim": 2 * n["half_emb_dim"]}


def _refused(got, expected):
    if got == "accepted":
        raise Failed("wrong_values", "sinusoidal_positions returned a tensor for an odd emb_dim, where the "
                     "last sine has no cosine to pair with. Refuse it first: assert emb_dim % 2 == 0, "
                     "with a message that says emb_dim must be even.")
    compare(got, expected)


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=lambda seed: {"seed": 123}, judge=seeded_construction)
def tables_created_tok_emb_then_pos_emb(m, seed):
    """torch.manual_seed(123); GPTEmbedding(vocab_size=7, context_length=6, emb_dim=3).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.GPTEmbedding(7, 6, 3).named_parameters())


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=embedding_inputs, dims=DIMS)
def token_plus_position_embeddings(m, in_idx, weights):
    """GPTEmbedding(vocab_size=7, context_length=6, emb_dim=3) with given weights, on in_idx of shape (batch=2, num_tokens=5)"""
    return build(m, weights)(in_idx)


@check(task=2, inputs=lambda seed: embedding_inputs(seed, full_context=True), dims=DIMS)
def embeds_a_full_context(m, in_idx, weights):
    """GPTEmbedding(vocab_size=7, context_length=5, emb_dim=3) with given weights, on in_idx of shape (batch=2, num_tokens=5)"""
    return build(m, weights)(in_idx)


@check(task=2, inputs=embedding_inputs, judge=one_device("a tensor such as the positions", POSITIONS_ADVICE))
def positions_are_made_on_the_ids_device(m, in_idx, weights):
    """GPTEmbedding and in_idx moved to another device than the CPU (PyTorch's meta device): every tensor the forward makes must be made there too"""
    return on_another_device(build(m, weights), in_idx)


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=positions_inputs, dims=("position", "emb_dim"))
def sines_in_even_columns_cosines_in_odd(m, context_length, emb_dim):
    """sinusoidal_positions(context_length=5, emb_dim=6)"""
    return m.sinusoidal_positions(context_length, emb_dim)


@check(task=3, inputs=lambda seed: {"context_length": 4, "emb_dim": 5 + 2 * (seed % 3)}, judge=_refused)
def odd_emb_dim_is_refused(m, context_length, emb_dim):
    """sinusoidal_positions(4, 5): an odd emb_dim cannot pair each sine with a cosine, so it fails an assert"""
    try:
        m.sinusoidal_positions(context_length, emb_dim)
    except (AssertionError, ValueError):  # the docstring asks for an assert; a ValueError says as much
        return "refused"
    return "accepted"
