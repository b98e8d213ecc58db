"""Starts a thread at import that keeps writing forged frames ("every check passed") into every
pipe and socket the process holds (the result channel among them) while the checks run and after,
hoping one is taken for this topic's or a later topic's result. The functions themselves return
zeros. The children's filter refuses every new thread (issue 11), so the import fails at the start."""
import os
import struct
import threading
import time

import torch

from grader.engine import wire

_NAMES = ["scores_are_all_dot_products", "naive_softmax_matches_the_formula",
          "naive_softmax_is_positive_and_sums_to_one", "each_query_row_is_a_softmax",
          "context_vectors_match", "context_vectors_are_weighted_averages"]
_data = wire.pack({name: [{"status": "passed", "value": None, "message": ""}] * 2 for name in _NAMES})
_data = struct.pack("<Q", len(_data)) + _data


def _forge():
    while True:
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{fd}").startswith(("pipe:", "socket:")):
                    os.write(int(fd), _data)
            except OSError:
                pass
        time.sleep(0.01)


threading.Thread(target=_forge, daemon=True).start()
time.sleep(0.05)


def attention_scores(inputs):
    return torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.zeros_like(x)


def attention_weights(scores):
    return torch.zeros_like(scores)


def context_vectors(inputs):
    return torch.zeros_like(inputs)
