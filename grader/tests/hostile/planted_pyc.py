"""Ships a wrong module together with bytecode compiled from the reference: an unchecked
hash-based __pycache__/softmax_attention.cpython-311.pyc (Python would use it without looking at
the source) and a sourceless softmax_attention.pyc beside it. Only the .py may be graded."""
import torch


def attention_scores(inputs):
    return torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    return torch.zeros_like(inputs)
