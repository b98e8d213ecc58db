"""Attention without trainable weights (book section 3.3).

You build the simplest self-attention there is. Every token gets a context vector: an average
of all the input embeddings, weighted by how similar each embedding is to that token. There are
no trainable weights yet, so each embedding serves as its own query, key and value. The three
steps (scores, softmax, weighted sum) come back in every attention module after this one.

Check your work: kata check softmax_attention   (or make check TOPIC=softmax_attention)
"""

import torch


def attention_scores(inputs: torch.Tensor) -> torch.Tensor:
    """Task 1. Every dot product between the rows of `inputs`.

    attn_scores[i, j] = inputs[i] . inputs[j]: row i is query i compared with every key j.

    Shapes: inputs (num_tokens, d) -> attn_scores (num_tokens, num_tokens).

    >>> attention_scores(torch.tensor([[1.0, 0.0], [1.0, 2.0], [0.0, 3.0]]))
    tensor([[1., 1., 0.],
            [1., 5., 6.],
            [0., 6., 9.]])
    """
    raise NotImplementedError("softmax_attention task 1: attention_scores")


def softmax_naive(x: torch.Tensor) -> torch.Tensor:
    """Task 2. Softmax of a 1-D tensor, written straight from the formula.

    softmax(x)_i = exp(x_i) / sum_j exp(x_j): all positive, summing to 1, order kept.

    Shapes: x (n,) -> (n,).

    It overflows: in float32 exp(x) is inf as soon as x > 88.7, and inf / inf is nan.
    torch.softmax subtracts max(x) first, which changes nothing mathematically but keeps
    every exp(x - max) in (0, 1]. That is why the later tasks use torch.softmax.

    >>> softmax_naive(torch.tensor([1.0, 2.0, 3.0]))
    tensor([0.0900, 0.2447, 0.6652])
    >>> softmax_naive(torch.tensor([100.0, 100.0]))
    tensor([nan, nan])
    >>> torch.softmax(torch.tensor([100.0, 100.0]), dim=0)
    tensor([0.5000, 0.5000])
    """
    raise NotImplementedError("softmax_attention task 2: softmax_naive")


def attention_weights(scores: torch.Tensor) -> torch.Tensor:
    """Task 3. Turn attention scores into attention weights with torch.softmax.

    Each row belongs to one query; softmax runs along the row (over the keys, the last
    dimension), so every row of the result is positive and sums to 1.

    Shapes: scores (num_tokens, num_tokens) -> attn_weights (num_tokens, num_tokens).

    >>> attention_weights(torch.tensor([[2.0, 2.0], [1.0, 2.0]]))
    tensor([[0.5000, 0.5000],
            [0.2689, 0.7311]])
    """
    raise NotImplementedError("softmax_attention task 3: attention_weights")


def context_vectors(inputs: torch.Tensor) -> torch.Tensor:
    """Task 4. Context vectors: compose tasks 1 and 3, then take the weighted sum.

    context_vec[i] = sum_j attn_weights[i, j] * inputs[j], i.e. attn_weights @ inputs.

    Shapes: inputs (num_tokens, d) -> context_vec (num_tokens, d).

    With the book's embeddings of "Your journey starts with one step":

    >>> inputs = torch.tensor(
    ...     [[0.43, 0.15, 0.89],  # Your     (x^1)
    ...      [0.55, 0.87, 0.66],  # journey  (x^2)
    ...      [0.57, 0.85, 0.64],  # starts   (x^3)
    ...      [0.22, 0.58, 0.33],  # with     (x^4)
    ...      [0.77, 0.25, 0.10],  # one      (x^5)
    ...      [0.05, 0.80, 0.55]]  # step     (x^6)
    ... )
    >>> context_vectors(inputs)[1]  # the context vector of "journey"
    tensor([0.4419, 0.6515, 0.5683])
    """
    raise NotImplementedError("softmax_attention task 4: context_vectors")
