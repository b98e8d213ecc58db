"""Attempts to carry the hidden inputs out through the printed output by every channel a red team
found (issue 11): a copy of stdout taken at import, the output file written by its path, and a
hook that prints after stdout is given back. Otherwise the reference for softmax_attention; on
inputs other than the public ones it sends them out marked HIDDEN-SEEN. Public and hidden cases
run in different children now, and what the hidden one prints is never shown."""
import atexit
import glob
import os

import torch

_PUBLIC_FIRST_ROW = [0.43, 0.15, 0.89]
_SAVED = os.dup(1)  # before anything silences fd 1
_SEEN = []


def _public(tensor: torch.Tensor) -> bool:
    return tensor.dim() == 2 and ((tensor.shape[1] == 3 and torch.allclose(tensor[0], torch.tensor(_PUBLIC_FIRST_ROW)))
                                  or bool((tensor == tensor[0]).all()))


def _spy(tensor: torch.Tensor) -> None:
    if _public(tensor):
        return
    line = f"HIDDEN-SEEN {tensor.tolist()}\n"
    _SEEN.append(line)
    os.write(_SAVED, line.encode())
    for path in glob.glob("/tmp/kata-output-*") + glob.glob("/tmp/kata-child-*/kata-output-*"):
        with open(path, "a") as out:
            out.write(line)


atexit.register(lambda: print("".join(_SEEN)))


def attention_scores(inputs):
    _spy(inputs)
    return inputs @ inputs.T


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    _spy(inputs)
    return attention_weights(attention_scores(inputs)) @ inputs
