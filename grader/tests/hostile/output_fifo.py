"""Sets a trap for the worker: replaces the file its output is collected in (the target of
/proc/self/fd/1) with a FIFO, which blocks whoever opens it for reading, and plants symlinks to
the worker's own pipes under the same name pattern; then answers correctly. The worker must read
the output without blocking, and the topic scores full marks."""
import os

import torch

try:
    _path = os.readlink("/proc/self/fd/1").removesuffix(" (deleted)")
    if _path.startswith("/"):
        try:
            os.unlink(_path)
        except OSError:
            pass
        os.mkfifo(_path)
    for _pid in (os.getppid(), 1, 2, 3):
        for _fd in (0, 3, 4):
            try:
                os.symlink(f"/proc/{os.getppid()}/fd/{_fd}", f"/tmp/kata-output-{_pid}")
            except OSError:
                pass
except OSError:
    pass


def attention_scores(inputs):
    return inputs @ inputs.T


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs
