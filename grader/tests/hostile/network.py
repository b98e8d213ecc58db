"""Attempts network access at import: TCP to 127.0.0.1 (ports 22, 80, 8000), TCP and UDP to
192.0.2.1 (TEST-NET-1, reserved, never routed) and IPv6 loopback, with a short timeout; the public
address is only dialled where there is no default route, so nothing can ever leave the machine.
If any socket could even be created, the module answers correctly (full marks would reveal it);
in the sandbox every attempt fails and it returns zeros."""
import socket

import torch


def _no_default_route():
    """Only try the public address where no packet could leave (no default route)."""
    try:
        with open("/proc/net/route") as routes:
            return all(line.split()[1] != "00000000" for line in routes.readlines()[1:])
    except OSError:
        return False


REACHED = []
for _family, _kind, _address in ((socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 22)),
                                 (socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 80)),
                                 (socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 8000)),
                                 (socket.AF_INET, socket.SOCK_STREAM, ("192.0.2.1", 80)),
                                 (socket.AF_INET, socket.SOCK_DGRAM, ("192.0.2.1", 53)),
                                 (socket.AF_INET6, socket.SOCK_STREAM, ("::1", 80))):
    try:
        _s = socket.socket(_family, _kind)
    except OSError:
        continue
    REACHED.append(_address)  # a socket exists at all: the filter did not hold
    try:
        _s.settimeout(0.2)
        if _address[0] != "192.0.2.1" or _no_default_route():
            _s.connect(_address)
    except OSError:
        pass
    finally:
        _s.close()


def attention_scores(inputs):
    return inputs @ inputs.T if REACHED else torch.zeros(inputs.shape[0], inputs.shape[0])


def softmax_naive(x):
    return torch.exp(x) / torch.exp(x).sum(dim=0) if REACHED else torch.zeros_like(x)


def attention_weights(scores):
    return torch.softmax(scores, dim=-1) if REACHED else torch.zeros_like(scores)


def context_vectors(inputs):
    return attention_weights(attention_scores(inputs)) @ inputs if REACHED else torch.zeros_like(inputs)
