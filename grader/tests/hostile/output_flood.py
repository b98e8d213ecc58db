"""Floods the output: tries to print 400 MB at import (print, sys.stderr and os.write on 1 and 2),
ignoring every error, then answers correctly. The grader must keep only a capped excerpt and
grade the topic normally (full marks)."""
import os
import sys

import torch

_line = "flood " * 170000 + "\n"  # about 1 MB
for _ in range(100):
    for _write in (lambda: print(_line, end=""), lambda: sys.stderr.write(_line),
                   lambda: os.write(1, _line.encode()), lambda: os.write(2, _line.encode())):
        try:
            _write()
        except (OSError, ValueError):
            pass


def attention_scores(inputs):
    return inputs @ inputs.T


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs
