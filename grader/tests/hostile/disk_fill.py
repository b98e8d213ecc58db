"""Fills the disk: writes 1 MiB files into /tmp and into the working folder until a write fails
(at most 600 of them), then answers correctly. The topic scores full marks; the files must not
outlive the job nor reach anyone else."""
import os

import torch

_chunk = b"\0" * (1 << 20)
for _folder in ("/tmp", "."):
    for _i in range(600):
        try:
            with open(os.path.join(_folder, f"fill-{_i:04d}"), "wb") as _f:
                _f.write(_chunk)
        except OSError:
            break


def attention_scores(inputs):
    return inputs @ inputs.T


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs
