"""Stops the grading worker from inside a call: context_vectors sends SIGSTOP to its parent, the
warm worker, which then never answers (before the fix the host waited out the whole job's budget,
timeout x topics + 30 s, and lost every topic). The host must kill the stopped worker within the
topic's timeout and a little slack, grade the topics not yet run in a fresh worker, and score only
this topic 0. Where the signal is refused, the functions return zeros."""
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
    try:
        os.kill(os.getppid(), signal.SIGSTOP)
    except OSError:
        pass
    return torch.zeros_like(inputs)
