"""Kills the process that supervises it: os.kill(os.getppid(), SIGKILL) at import. In the sandbox
that is the warm worker. The children's filter refuses a signal to anything but the child itself
(issue 11), so the kill is refused and the module returns zeros; were it not, the grader would
restart the worker and grade this student's topics not yet run in a fresh one (only this one
would crash)."""
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
