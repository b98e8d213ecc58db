"""Kills every process it may signal: os.kill(-1, SIGKILL) at import. Inside the sandbox's own PID
namespace that is the worker and itself. The children's filter refuses a signal to anything
but the child itself (issue 11), so the import fails with PermissionError and the worker lives;
were it not, the grader would restart the worker and grade this student's topics not yet run in a
fresh one (only this topic would crash).
For safety it only fires inside a private PID namespace (pid 1 there is bubblewrap, not init):
anywhere else kill(-1) would hit every process of the user running the tests."""
import os
import signal
import time

import torch


def _private_pid_namespace():
    try:
        with open("/proc/1/cmdline", "rb") as f:
            return b"bwrap" in f.read() and os.environ.get("KATA_SANDBOX") == "bwrap"
    except OSError:
        return False


if _private_pid_namespace():
    os.kill(-1, signal.SIGKILL)
    time.sleep(2)


def attention_scores(inputs):
    return torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    return torch.zeros_like(inputs)
