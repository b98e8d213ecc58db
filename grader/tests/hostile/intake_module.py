"""An honest softmax_attention module, put by the intake builds (catalogue: build) into places
the grader must read safely or refuse clearly: a zip whose stream for it is corrupt (deflate,
LZMA), a zip with a name flagged UTF-8 that is not, a folder beside names that are not UTF-8,
a FIFO in its place, a folder and a zip under one id, entries named with newlines."""
import torch


def attention_scores(inputs):
    return inputs @ inputs.transpose(0, 1)


def softmax_naive(x):
    e = torch.exp(x)
    return e / e.sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs
