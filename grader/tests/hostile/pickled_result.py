"""Returns objects whose unpickling would run code (__reduce__ -> os.system), and a tensor
subclass that carries one, hoping the result travels by pickle. Results travel as data only."""
import os

import torch


class Payload:
    def __reduce__(self):
        return (os.system, ("touch /tmp/pwned-pickle",))


class Carrier(torch.Tensor):
    def __reduce_ex__(self, protocol):
        return (os.system, ("touch /tmp/pwned-pickle-tensor",))


def attention_scores(inputs):
    return Payload()


def softmax_naive(x):
    return {"value": Payload()}


def attention_weights(scores):
    return [Payload(), scores]


def context_vectors(inputs):
    return (Payload(),)
