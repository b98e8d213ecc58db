"""Arrives with a conftest.py that turns every pytest report into a pass and a pytest.ini that
switches the grader's plugin off; the module itself takes the softmax over the wrong dimension,
so this topic must be graded as usual from this module: task 3 fails, the rest passes."""
import torch


def attention_scores(inputs):
    return inputs @ inputs.T


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=0)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs
