"""Checks for topic 6, attention without trainable weights (book section 3.3)."""

import torch

from grader.engine.checks import Failed, Variant, check, compare, generator, sizes, variant

# The book's embeddings of "Your journey starts with one step" (num_tokens=6, d=3).
BOOK_INPUTS = [[0.43, 0.15, 0.89], [0.55, 0.87, 0.66], [0.57, 0.85, 0.64],
               [0.22, 0.58, 0.33], [0.77, 0.25, 0.10], [0.05, 0.80, 0.55]]
# The book's attention scores of "journey" against every token, the input of its softmax_naive.
BOOK_SCORES_2 = [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865]

DIMS = ("num_tokens", "d")
SCORE_DIMS = ("query", "key")


def embeddings(seed: int) -> dict:
    """The book's sentence for seed 0; random embeddings of other sizes for hidden cases."""
    if seed == 0:
        return {"inputs": torch.tensor(BOOK_INPUTS)}
    n = sizes(seed, num_tokens=6, d=3)
    return {"inputs": torch.rand(n["num_tokens"], n["d"], generator=generator(seed))}


# Variants: wrong versions computed on the check's inputs, named when an output equals one -----------

@variant("your attention weights divide each score by its row's sum (the plain normalisation), without exp: "
         "softmax exponentiates first")
def normalised_without_exp(scores):
    return scores / scores.sum(dim=-1, keepdim=True)


@variant("your attention weights take softmax over dim 0, so each column sums to 1 instead of each row")
def softmax_over_dim_0(scores):
    return scores.softmax(dim=0)


@variant("your scores are divided by a square root before softmax (scaling belongs to section 3.4's trainable "
         "attention; here the weights are the plain softmax of the scores)")
def scaled_by_sqrt_of_the_size(scores):
    return torch.softmax(scores / scores.shape[-1] ** 0.5, dim=-1)


@variant("your attention weights are exp(scores), not divided by each row's sum of exponentials")
def exp_without_normalising(scores):
    return torch.exp(scores)


@variant("your attention weights divide exp(scores) by the sum over the whole matrix, not over each row")
def normalised_over_the_whole_matrix(scores):
    return torch.exp(scores) / torch.exp(scores).sum()


def _context(inputs, weights):
    return weights @ inputs


@variant("your context vectors use the attention weights transposed, so each column sums to 1 instead of each "
         "row: either attention_weights takes softmax over dim 0, or context_vectors multiplies by attn_weights.T; "
         "row i of the weights belongs to query i")
def context_from_transposed_weights(inputs):
    return _context(inputs, torch.softmax(inputs @ inputs.T, dim=-1).T)


@variant("your context vectors use the raw scores, not their softmax (attention_weights(scores))")
def context_from_the_scores(inputs):
    return _context(inputs, inputs @ inputs.T)


@variant("your context vectors use weights normalised without exp (scores divided by their row's sum), in "
         "attention_weights or in context_vectors: softmax exponentiates first")
def context_from_plainly_normalised_scores(inputs):
    scores = inputs @ inputs.T
    return _context(inputs, scores / scores.sum(dim=-1, keepdim=True))


@variant("your context vectors use the softmax of the scores divided by sqrt(d), in attention_weights or in "
         "context_vectors; section 3.3 takes the plain softmax of the scores")
def context_from_scaled_scores(inputs):
    return _context(inputs, torch.softmax(inputs @ inputs.T / inputs.shape[-1] ** 0.5, dim=-1))


@variant("your context vectors are the plain mean of the inputs: every token weighted the same")
def context_is_the_mean(inputs):
    return inputs.mean(dim=0, keepdim=True).expand_as(inputs)


@variant("your softmax divides exp(x) by the sum of x, not by the sum of exp(x)")
def divided_by_the_sum_of_x(x):
    return torch.exp(x) / x.sum()


@variant("your softmax divides x by its sum, without exp")
def x_over_its_sum(x):
    return x / x.sum()


@variant("your softmax divides exp(x) by exp(sum of x), not by the sum of exp(x)")
def divided_by_exp_of_the_sum(x):
    return torch.exp(x) / torch.exp(x.sum())


# Task 1 ---------------------------------------------------------------------------------------

@check(task=1, inputs=embeddings, dims=SCORE_DIMS)
def scores_are_all_dot_products(m, inputs):
    """attention_scores(inputs) with inputs of shape (num_tokens=6, d=3): entry [i, j] is inputs[i] . inputs[j]"""
    return m.attention_scores(inputs)


def longer_inputs(seed: int) -> dict:
    """More tokens than the book's six (its sentence and two more words for seed 0): a matrix sized
    for the sentence cannot hold them."""
    if seed == 0:
        return {"inputs": torch.tensor(BOOK_INPUTS + [[0.30, 0.70, 0.20], [0.64, 0.40, 0.78]])}
    n = sizes(seed, num_tokens=8, d=3)
    return {"inputs": torch.rand(n["num_tokens"], n["d"], generator=generator(seed + 1000))}


@check(task=1, inputs=longer_inputs, dims=SCORE_DIMS)
def scores_are_sized_by_the_inputs(m, inputs):
    """attention_scores(inputs) with the book's six embeddings and two more, inputs of shape (num_tokens=8, d=3): a (query=8, key=8) matrix"""
    return m.attention_scores(inputs)


# Task 2 ---------------------------------------------------------------------------------------

def book_scores(seed: int) -> dict:
    if seed == 0:
        return {"x": torch.tensor(BOOK_SCORES_2)}
    n = sizes(seed, n=6)
    return {"x": torch.rand(n["n"], generator=generator(seed)) * 2}


def spread_values(seed: int) -> dict:
    """Positive and negative values, so 'divide by the sum' cannot pass for softmax."""
    n = sizes(seed, n=7)
    return {"x": torch.randn(n["n"], generator=generator(seed + 1000)) * 3}


@check(task=2, inputs=book_scores, dims=("n",), variants=(divided_by_the_sum_of_x, x_over_its_sum, divided_by_exp_of_the_sum))
def naive_softmax_matches_the_formula(m, x):
    """softmax_naive(x) with the book's scores of "journey", x of shape (6,): exp(x_i) / sum_j exp(x_j)"""
    return m.softmax_naive(x)


def _a_distribution(got, expected):
    if isinstance(got, torch.Tensor) and got.shape == expected.shape and got.is_floating_point():
        if (got <= 0).any():
            i = int(got.argmin())
            raise Failed("wrong_values", f"softmax outputs must all be positive, but yours has {got[i].item():.4g} "
                         f"at position {i}. Exponentiate every value before dividing: exp(x) > 0 always.")
        total = got.sum().item()
        if abs(total - 1) > 1e-5:
            raise Failed("wrong_values", f"your outputs sum to {total:.6g}, not 1. Divide every exp(x_i) by "
                         f"the sum of all the exponentials.")
    compare(got, expected, dims=("n",))


@check(task=2, inputs=spread_values, judge=_a_distribution, dims=("n",))
def naive_softmax_is_positive_and_sums_to_one(m, x):
    """softmax_naive(x) with x of shape (7,) holding negative and positive values: all outputs > 0, summing to 1"""
    return m.softmax_naive(x)


# Task 3 ---------------------------------------------------------------------------------------

def random_scores(seed: int) -> dict:
    """Scores that are not symmetric, so a softmax over the wrong dim cannot hide."""
    n = sizes(seed, num_tokens=6)
    return {"scores": torch.randn(n["num_tokens"], n["num_tokens"], generator=generator(seed)) * 2}


WEIGHTS, UNCHANGED = "attention_weights(scores)", "the scores, unchanged after the call"


def weights_and_scores_left_alone(weights: Variant) -> Variant:
    """A variant of attention_weights as the check calls it: its weights, and the scores untouched."""
    return Variant(weights.name, weights.says, lambda scores: {WEIGHTS: weights.compute(scores), UNCHANGED: True})


def _rows_sum_to_one(got, expected):
    if isinstance(got, dict) and got.get(UNCHANGED) is False:
        raise Failed("wrong_values", "your attention_weights changed the scores it was given: an in-place "
                     "operation on its argument (scores.exp_(), scores /= ..., scores[...] = ...) overwrites the "
                     "caller's scores. Compute into a new tensor: torch.softmax(scores, dim=-1), or scores.exp() "
                     "without the underscore.")
    got_weights = got.get(WEIGHTS) if isinstance(got, dict) else got
    _weights_rows_sum_to_one(got_weights, expected[WEIGHTS])
    compare(got, expected, dims=SCORE_DIMS)


def _weights_rows_sum_to_one(got, expected):
    if isinstance(got, torch.Tensor) and got.shape == expected.shape and got.is_floating_point():
        rows = got.sum(dim=-1)
        worst = int((rows - 1).abs().argmax())
        if abs(rows[worst].item() - 1) > 1e-5:
            columns = got.sum(dim=0)
            why = (" Each column sums to 1 instead: softmax ran over dim 0 (the queries), not over the last "
                   "dim (the keys)." if torch.allclose(columns, torch.ones_like(columns), atol=1e-5) else "")
            raise Failed("wrong_values", f"the attention weights of query {worst} sum to {rows[worst].item():.4g}, "
                         f"not 1.{why}")


@check(task=3, inputs=random_scores, judge=_rows_sum_to_one, dims=SCORE_DIMS,
       variants=tuple(weights_and_scores_left_alone(v) for v in (
           normalised_without_exp, softmax_over_dim_0, scaled_by_sqrt_of_the_size, exp_without_normalising,
           normalised_over_the_whole_matrix)))
def each_query_row_is_a_softmax(m, scores):
    """attention_weights(scores) with scores of shape (query=6, key=6): softmax along each row, so every row sums to 1; and the scores are the same after the call"""
    given = scores.clone()
    weights = m.attention_weights(scores)
    return {WEIGHTS: weights, UNCHANGED: bool(torch.equal(scores, given))}


# Task 4 ---------------------------------------------------------------------------------------

@check(task=4, inputs=embeddings, dims=DIMS,
       variants=(context_from_transposed_weights, context_from_the_scores, context_from_plainly_normalised_scores,
                 context_from_scaled_scores, context_is_the_mean))
def context_vectors_match(m, inputs):
    """context_vectors(inputs) with inputs of shape (num_tokens=6, d=3)"""
    return m.context_vectors(inputs)


def same_token_everywhere(seed: int) -> dict:
    """Every row the same embedding v, and the embeddings of context_vectors_match: returning the
    inputs unchanged also gives v everywhere, so the property alone would pay for nothing."""
    n = sizes(seed, num_tokens=5, d=4)
    token = torch.rand(n["d"], generator=generator(seed)) + 0.5
    return {"inputs": token.repeat(n["num_tokens"], 1), "distinct": embeddings(seed)["inputs"]}


def _weighted_average(got, expected):
    same = got[0] if isinstance(got, tuple) and len(got) == 2 else got
    if isinstance(same, torch.Tensor) and same.shape == expected[0].shape and same.is_floating_point():
        gap = (same - expected[0]).abs().amax().item()
        if gap > 1e-5:
            raise Failed("wrong_values", f"every token here is the same embedding v, so every context vector, "
                         f"a weighted average of the embeddings with weights summing to 1, must be v. Yours differ "
                         f"from v by up to {gap:.4g}: are the inputs multiplied by the softmax weights (rows summing to 1), "
                         f"or by the raw scores?")
    compare(got, expected, dims=DIMS)


@check(task=4, inputs=same_token_everywhere, judge=_weighted_average, dims=DIMS)
def context_vectors_are_weighted_averages(m, inputs, distinct):
    """context_vectors(inputs) where all num_tokens=5 rows are the same embedding v (d=4): every output row is v; then on distinct embeddings"""
    return m.context_vectors(inputs), m.context_vectors(distinct)
