"""Kills the process that supervises it: os.kill(os.getppid(), SIGKILL) at import. In the sandbox
that is the warm worker: the grader must restart it, grade this student's topics not yet run
in a fresh worker (only this one crashes), and grade everyone else as usual. Where the kill is refused, the
module returns zeros."""
import os
import signal
import time

import torch

try:
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(2)
except OSError:
    pass


def attention_scores(inputs):
    return torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    return torch.zeros_like(inputs)
