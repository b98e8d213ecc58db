"""Returns NaN everywhere (and +inf in one function), hoping a comparison with NaN slips through
(NaN != NaN, so `not (a != b)` style checks would pass)."""
import torch


def attention_scores(inputs):
    return torch.full((inputs.shape[0], inputs.shape[0]), float("nan"))


def softmax_naive(x):
    return torch.full_like(x, float("nan"))


def attention_weights(scores):
    return torch.full_like(scores, float("inf"))


def context_vectors(inputs):
    return torch.full_like(inputs, float("nan"))
