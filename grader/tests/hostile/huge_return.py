"""Returns 72 MB from attention_scores (18 million float32s), more than a result may hold
(64 MiB), hoping to exhaust the grader's memory or the pipe; the other functions return zeros."""
import torch


def attention_scores(inputs):
    return torch.zeros(18_000_000)


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    return torch.zeros_like(inputs)
