"""Attention without trainable weights (book section 3.3).

Each token's context vector is an average of all the input embeddings, weighted by how
similar each one is to that token. With no parameters yet, an embedding serves as its own
query, key and value: the scores are plain dot products and softmax turns them into weights.
"""

import torch


def attention_scores(inputs: torch.Tensor) -> torch.Tensor:
    # Row i holds query i's dot product with every key: a large value means "similar direction".
    attn_scores = inputs @ inputs.T  # (num_tokens, d) -> (num_tokens, num_tokens)
    return attn_scores


def softmax_naive(x: torch.Tensor) -> torch.Tensor:
    """Softmax of a 1-D tensor, written straight from the formula exp(x_i) / sum_j exp(x_j).

    It overflows: in float32 exp(x) is inf as soon as x > 88.7, and inf / inf is nan.
    torch.softmax subtracts max(x) first, which changes nothing mathematically but keeps
    every exp(x - max) in (0, 1].
    """
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores: torch.Tensor) -> torch.Tensor:
    # One row per query: its weights over all keys must be positive and sum to 1.
    attn_weights = torch.softmax(scores, dim=-1)
    return attn_weights


def context_vectors(inputs: torch.Tensor) -> torch.Tensor:
    attn_scores = attention_scores(inputs)
    attn_weights = attention_weights(attn_scores)
    context_vec = attn_weights @ inputs  # (num_tokens, num_tokens) @ (num_tokens, d) -> (num_tokens, d)
    return context_vec
