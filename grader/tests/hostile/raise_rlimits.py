"""Attempts to lift the resource limits: raises every soft limit to its hard limit and tries to set
both to unlimited, then asks for an 8 GiB uninitialised tensor per call. If the address-space limit
could be lifted, the allocation would succeed and the module answers correctly (full marks)."""
import resource

import torch

for _name in dir(resource):
    if _name.startswith("RLIMIT_"):
        _which = getattr(resource, _name)
        try:
            _soft, _hard = resource.getrlimit(_which)
            resource.setrlimit(_which, (_hard, _hard))
            resource.setrlimit(_which, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        except (ValueError, OSError):
            pass


def _big():
    return torch.empty(1 << 31)  # 8 GiB of float32, never touched


def attention_scores(inputs):
    _big()
    return inputs @ inputs.T


def softmax_naive(x):
    _big()
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    _big()
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    _big()
    return torch.softmax(inputs @ inputs.T, dim=-1) @ inputs
