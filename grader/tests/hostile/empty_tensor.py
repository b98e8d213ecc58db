"""An honest slip, not an attack: a slice that keeps no column, so attention_scores returns an
empty (num_tokens, 0) float tensor. The picture of the failure reshaped it and raised, which
stopped the whole class. The student must get a plain wrong-shape verdict for that task."""
import torch


def attention_scores(inputs):
    scores = inputs @ inputs.T
    return scores[:, 1:1]  # meant scores[:, :], or no slice at all


def softmax_naive(x):
    e = torch.exp(x)
    return e / e.sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    weights = torch.softmax(inputs @ inputs.T, dim=-1)
    return weights @ inputs
