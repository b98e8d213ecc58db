"""Starts a thread at import that outlives every call: it keeps printing, appending to files in
/tmp and the working folder, and flipping torch's global settings, until the process ends. The
children's filter refuses every new thread (issue 11): the import fails, and the topic scores 0
though its functions are right; nothing may survive the job."""
import os
import threading
import time

import torch


def _forever():
    n = 0
    while True:
        n += 1
        for action in (lambda: print(f"still here {n}", flush=True),
                       lambda: open("/tmp/thread-was-here", "a").write(f"{n}\n"),
                       lambda: open("thread-was-here", "a").write(f"{n}\n")):
            try:
                action()
            except OSError:
                pass
        time.sleep(0.005)


threading.Thread(target=_forever, daemon=True).start()
threading.Thread(target=_forever, daemon=False).start()


def attention_scores(inputs):
    return inputs @ inputs.T


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs
