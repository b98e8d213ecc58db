"""Attempts to carry the hidden inputs out through the next topic (issue 11, found by a red
team): the reference for softmax_attention, which keeps every input that is not a public one in
builtins, where this student's qkv_attention.py (hostile/extra/next_topic_shows_kept_inputs.txt)
prints them at import and returns them as its values, marked HIDDEN-SEEN, hoping for the output
section or the failure's picture. Public and hidden cases run in different children now."""
import builtins

import torch

_PUBLIC_FIRST_ROW = [0.43, 0.15, 0.89]
builtins.kata_kept = getattr(builtins, "kata_kept", [])


def _keep(tensor: torch.Tensor) -> None:
    public = tensor.dim() == 2 and ((tensor.shape[1] == 3 and torch.allclose(tensor[0], torch.tensor(_PUBLIC_FIRST_ROW)))
                                    or bool((tensor == tensor[0]).all()))
    if not public:
        builtins.kata_kept.append(tensor.detach().clone())


def attention_scores(inputs):
    _keep(inputs)
    return inputs @ inputs.T


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    _keep(inputs)
    return attention_weights(attention_scores(inputs)) @ inputs
