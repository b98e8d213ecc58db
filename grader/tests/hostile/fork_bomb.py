"""A fork bomb at import: os.fork() in a loop. The sandbox's seccomp filter refuses new processes,
so the first fork raises and the import fails. (Kept harmless should a fork ever succeed: each
child exits at once; after 32 successful forks the module defines the right functions, which
would show up as full marks.)"""
import os

import torch

_forks = 0
while _forks < 32:
    _pid = os.fork()
    if _pid == 0:
        os._exit(0)
    os.waitpid(_pid, 0)
    _forks += 1


def attention_scores(inputs):
    return inputs @ inputs.T


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs
