"""Returns float64 values near the largest float (+-1.7e308): the heatmap's colour scale spans
high - low = inf, the colour index became NaN and drawing feedback.html raised, for the whole
class."""
import torch


def _huge(rows, cols):
    signs = torch.tensor([1.0, -1.0], dtype=torch.float64).repeat(rows * cols)[: rows * cols]
    return (signs * 1.7e308).reshape(rows, cols)


def attention_scores(inputs):
    return _huge(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return _huge(1, x.shape[0])[0]


def attention_weights(scores):
    return _huge(*scores.shape)


def context_vectors(inputs):
    return _huge(*inputs.shape)
