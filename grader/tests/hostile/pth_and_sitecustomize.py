"""Arrives with a kata.pth, sitecustomize.py, usercustomize.py, a torch.py and a grader/ package
(checks.py whose compare always agrees) beside a wrong module, hoping Python picks one of them up;
each writes /tmp/pwned-* if it ever runs. Only this module may be graded (it returns zeros)."""
import torch


def attention_scores(inputs):
    return torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    return torch.zeros_like(inputs)
