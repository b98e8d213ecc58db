"""A memory bomb in torch: every call keeps allocating 1 GiB uninitialised tensors (no page is
touched, so only the address-space limit stops it), then asks for 1 TiB at once."""
import torch

_HOARD = []


def _bomb():
    for _ in range(64):
        _HOARD.append(torch.empty(1 << 28))
    return torch.empty(1 << 38)


def attention_scores(inputs):
    return _bomb()


def softmax_naive(x):
    return _bomb()


def attention_weights(scores):
    return _bomb()


def context_vectors(inputs):
    return _bomb()
