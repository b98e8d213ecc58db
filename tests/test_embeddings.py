"""Checks for topic 4, token and positional embeddings (book sections 2.7-2.8)."""

import torch

from grader.engine.checks import (check, compare, Failed, generator, load_weights, on_another_device, one_device,
                           seeded_construction, sizes, variant)

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
    # tolerance up to a few dozen positions (at 256 positions the angles drift by ~1e-5). Angles in
    # float32 pass on purpose (held-out trial 10, t124): the widely copied float32 code (the
    # Annotated Transformer's, PyTorch's tutorial) is off by ~6e-5 at position 1023, float32
    # rounding of pos / 10000 ** (2i / d), not a wrong formula; the stub recommends float64.
    n = sizes(seed, context_length=5, half_emb_dim=3)
    return {"context_length": n["context_length"], "emb_dim": 2 * n["half_emb_dim"]}


def _refused(got, expected):
    if got == "accepted":
        raise Failed("wrong_values", "sinusoidal_positions returned a tensor for an odd emb_dim, where the "
                     "last sine has no cosine to pair with. Refuse it first: assert emb_dim % 2 == 0, "
                     "with a message that says emb_dim must be even.")
    compare(got, expected)


# Variants: wrong versions computed on the check's inputs, named when an output equals one -----------

def embed(in_idx, weights, positions=None):
    """GPTEmbedding's forward in plain torch; `positions` the ids looked up in pos_emb (0 .. num_tokens - 1)."""
    num_tokens = in_idx.shape[1]
    positions = torch.arange(num_tokens) if positions is None else positions
    return weights["tok_emb.weight"][in_idx] + weights["pos_emb.weight"][positions]


@variant("your output is the token embeddings alone: the position embeddings are not added")
def positions_not_added(in_idx, weights):
    return weights["tok_emb.weight"][in_idx]


@variant("your positions start at 1 (positions 1 .. num_tokens) where the book's torch.arange(num_tokens) starts at 0")
def positions_from_one(in_idx, weights):
    return embed(in_idx, weights, torch.arange(1, in_idx.shape[1] + 1))


@variant("your positions run backwards (num_tokens - 1 down to 0); position i is torch.arange(num_tokens)[i] = i")
def positions_reversed(in_idx, weights):
    return embed(in_idx, weights, torch.arange(in_idx.shape[1]).flip(0))


@variant("you look the token ids up in pos_emb; pos_emb is indexed by position, 0 .. num_tokens - 1")
def token_ids_as_positions(in_idx, weights):
    return weights["tok_emb.weight"][in_idx] + weights["pos_emb.weight"][in_idx]


@variant("your output multiplies the token and position embeddings; the book adds them")
def embeddings_multiplied(in_idx, weights):
    return weights["tok_emb.weight"][in_idx] * weights["pos_emb.weight"][torch.arange(in_idx.shape[1])]


EMBEDDING_VARIANTS = (positions_not_added, positions_from_one, positions_reversed, token_ids_as_positions,
                      embeddings_multiplied)
# With num_tokens = context_length, positions from 1 and token ids (up to vocab_size) fall off the table.
FULL_CONTEXT_VARIANTS = (positions_not_added, positions_reversed, embeddings_multiplied)


def sinusoids(context_length, emb_dim, base=10000.0, exponent=None, first=0, divide=True, interleave=True,
              sin_first=True):
    """sinusoidal_positions in plain torch (float64, then float32), with the slips learners make."""
    position = torch.arange(first, first + context_length, dtype=torch.float64).unsqueeze(1)
    two_i = torch.arange(0, emb_dim, 2, dtype=torch.float64)
    power = base ** (two_i / emb_dim if exponent is None else exponent(two_i, emb_dim))
    angles = position / power if divide else position * power
    a, b = (torch.sin(angles), torch.cos(angles)) if sin_first else (torch.cos(angles), torch.sin(angles))
    pairs = torch.stack([a, b], dim=1 if not interleave else 2)  # halves: (n, 2, d/2); interleaved: (n, d/2, 2)
    return pairs.reshape(context_length, emb_dim).float()


@variant("your angles use 1000 ** (2i / emb_dim); the formula divides the positions by 10000 ** (2i / emb_dim)")
def base_1000(context_length, emb_dim):
    return sinusoids(context_length, emb_dim, base=1000.0)


@variant("your exponent is 2i, not 2i / emb_dim: the columns after the first pair barely move")
def exponent_not_divided_by_emb_dim(context_length, emb_dim):
    return sinusoids(context_length, emb_dim, exponent=lambda two_i, d: two_i)


@variant("your exponent uses the pair index i = 0, 1, 2, ... where the formula has 2i, the even column index: "
         "10000 ** (2i / emb_dim)")
def exponent_without_the_factor_2(context_length, emb_dim):
    return sinusoids(context_length, emb_dim, exponent=lambda two_i, d: two_i / 2 / d)


@variant("your angles multiply the positions by 10000 ** (2i / emb_dim); the formula divides them by it")
def angles_multiplied(context_length, emb_dim):
    return sinusoids(context_length, emb_dim, divide=False)


@variant("your positions start at 1 where they start at 0: row 0 is position 0, all sines 0 and cosines 1")
def sinusoid_positions_from_one(context_length, emb_dim):
    return sinusoids(context_length, emb_dim, first=1)


@variant("your encodings have cosines in the even columns and sines in the odd ones; the book puts sin in 0::2 "
         "and cos in 1::2")
def sin_and_cos_swapped(context_length, emb_dim):
    return sinusoids(context_length, emb_dim, sin_first=False)


@variant("your encodings put all the sines in the first half of the columns and the cosines in the second; "
         "the formula interleaves them, sin in 0::2 and cos in 1::2")
def sin_and_cos_in_halves(context_length, emb_dim):
    return sinusoids(context_length, emb_dim, interleave=False)


SINUSOID_VARIANTS = (base_1000, exponent_not_divided_by_emb_dim, exponent_without_the_factor_2, angles_multiplied,
                     sinusoid_positions_from_one, sin_and_cos_swapped, sin_and_cos_in_halves)


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=lambda seed: {"seed": 123}, judge=seeded_construction)
def tables_created_tok_emb_then_pos_emb(m, seed):
    """torch.manual_seed(123); GPTEmbedding(vocab_size=7, context_length=6, emb_dim=3).named_parameters()"""
    torch.manual_seed(seed)
    return dict(m.GPTEmbedding(7, 6, 3).named_parameters())


# Task 2 ---------------------------------------------------------------------------------------

@check(task=2, inputs=embedding_inputs, dims=DIMS, variants=EMBEDDING_VARIANTS)
def token_plus_position_embeddings(m, in_idx, weights):
    """GPTEmbedding(vocab_size=7, context_length=6, emb_dim=3) with given weights, on in_idx of shape (batch=2, num_tokens=5)"""
    return build(m, weights)(in_idx)


@check(task=2, inputs=lambda seed: embedding_inputs(seed, full_context=True), dims=DIMS,
       variants=FULL_CONTEXT_VARIANTS)
def embeds_a_full_context(m, in_idx, weights):
    """GPTEmbedding(vocab_size=7, context_length=5, emb_dim=3) with given weights, on in_idx of shape (batch=2, num_tokens=5)"""
    return build(m, weights)(in_idx)


@check(task=2, inputs=embedding_inputs, judge=one_device("a tensor such as the positions", POSITIONS_ADVICE))
def positions_are_made_on_the_ids_device(m, in_idx, weights):
    """GPTEmbedding and in_idx moved to another device than the CPU (PyTorch's meta device): every tensor the forward makes must be made there too"""
    return on_another_device(build(m, weights), in_idx)


# Task 3 ---------------------------------------------------------------------------------------

@check(task=3, inputs=positions_inputs, dims=("position", "emb_dim"), variants=SINUSOID_VARIANTS)
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
