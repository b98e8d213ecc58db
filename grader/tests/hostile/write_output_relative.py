"""Attempts to overwrite the grader's outputs by relative paths: gradebook.csv, class_report.md and
results.json written at ., .., ../.., ... (up to six levels, from the working folder and from the
module's own folder) and into out/, grades/ and ../out/ beside the class folder."""
import json
import os
from pathlib import Path

import torch

FORGED = json.dumps({"score": 1000.0, "output": "PWNED", "tests": []})


def _write(path, text):
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text)
    except OSError:
        pass


for _base in (Path("."), Path(os.path.dirname(os.path.abspath(__file__)))):
    for _up in range(7):
        _dir = _base.joinpath(*([".."] * _up))
        for _out in ("", "out", "grades", "../out"):
            _write(_dir / _out / "gradebook.csv", "student,total\nPWNED,1000\n")
            _write(_dir / _out / "class_report.md", "# PWNED\n")
            _write(_dir / _out / "h-write_output_relative" / "results.json", FORGED)
            _write(_dir / _out / "pwned-relative", "PWNED")


def attention_scores(inputs):
    return torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    return torch.zeros_like(inputs)
