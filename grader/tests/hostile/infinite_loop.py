"""Never returns: attention_scores spins in an endless loop (the other functions are right)."""
import torch


def attention_scores(inputs):
    while True:
        pass


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    return attention_weights(inputs @ inputs.T) @ inputs
