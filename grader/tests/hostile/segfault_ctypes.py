"""Crashes the interpreter from inside a call: ctypes reads address 0 (SIGSEGV) in
attention_scores. Only this topic may be charged; the other topics are graded normally."""
import ctypes

import torch


def attention_scores(inputs):
    ctypes.string_at(0)
    return inputs @ inputs.T


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    return torch.softmax(inputs @ inputs.T, dim=-1) @ inputs
