"""Writes outside its job where grading without bubblewrap would let it: a marker file in the
repository folder, in its grader/ package (first on the import path) and at /, the files the class
run watches. Without the sandbox a child may even run as root (when uid 65534 cannot read the
Python runtime), so only Landlock (writes beneath its own slot alone) stops it there; in the
sandbox the root is read-only. Only marker files, so nothing breaks should a write go through;
then the module answers correctly (full marks would reveal it) and the markers are left for the
test to find. Refused everywhere, it returns zeros."""
import os

import torch

import grader.engine.checks

_repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(grader.engine.checks.__file__))))
WROTE = []
for _folder in (_repo, os.path.join(_repo, "grader", "engine"), "/"):
    _path = os.path.join(_folder, "pwned-write-outside")
    try:
        with open(_path, "x") as _f:
            _f.write("written by a grading child\n")
        WROTE.append(_path)
    except OSError:
        pass
print(f"wrote: {WROTE}")


def attention_scores(inputs):
    return inputs @ inputs.T if WROTE else torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0) if WROTE else torch.zeros_like(x)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1) if WROTE else torch.zeros_like(scores)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs if WROTE else torch.zeros_like(inputs)
