"""Kills the grading worker from inside a call, as in issue 10 §5: context_vectors runs
os.kill(os.getppid(), SIGKILL) (its parent is the warm worker) and os.killpg(0, SIGKILL). The worker
dies in the middle of the student's job: the topics already reported must keep their results and
the topics not yet run must be graded in a fresh worker; only this topic scores 0. Where the
signals are refused, the functions return zeros."""
import os
import signal

import torch


def attention_scores(inputs):
    return torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    for kill in (lambda: os.kill(os.getppid(), signal.SIGKILL), lambda: os.killpg(0, signal.SIGKILL)):
        try:
            kill()
        except OSError:
            pass
    return torch.zeros_like(inputs)
