"""Attempts to pass by disarming every assertion helper in the process: torch.testing.assert_close,
numpy.testing, unittest's assert* methods and AssertionError itself, then returns zeros."""
import builtins
import unittest

import numpy.testing
import torch
import torch.testing


def _never_fails(*args, **kwargs):
    return None


torch.testing.assert_close = _never_fails
numpy.testing.assert_allclose = _never_fails
numpy.testing.assert_array_equal = _never_fails
for _name in dir(unittest.TestCase):
    if _name.startswith("assert"):
        setattr(unittest.TestCase, _name, _never_fails)
builtins.AssertionError = type("AssertionError", (Exception,), {"__init__": lambda self, *a: None})


def attention_scores(inputs):
    return torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    return torch.zeros_like(inputs)
