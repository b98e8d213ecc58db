"""grader.wire: `normalize(v)` (what every probe's value goes through, in pytest, kata and the
sandbox) must give exactly `unpack(pack(v))` (what crosses the sandbox boundary), or the same error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grader import wire


class Sneaky(torch.Tensor):
    def __eq__(self, other):  # a subclass that claims to equal anything
        return True


class LoudStr(str):
    def __eq__(self, other):
        return True


def same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return (type(a) is type(b) is torch.Tensor and a.dtype == b.dtype and a.shape == b.shape
                and a.is_contiguous() and not a.requires_grad and torch.equal(a, b))
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


VALUES = {
    "nested": {"ids": [1, 2, (3, 4)], "text": "héllo", "ok": True, "none": None, "blob": b"\x00\xff"},
    "tensors": [torch.arange(12).view(3, 4).t(), torch.randn(2, 3, requires_grad=True) * 2,
                torch.tensor(True), torch.zeros(0, 5, dtype=torch.float16), torch.ones(2, dtype=torch.bfloat16)],
    "the same tensor twice": (lambda t: [t, t])(torch.ones(3)),
    "non-finite floats": [float("nan"), float("inf"), -float("inf"), 0.1],
    "non-str and $ keys": {1: "a", (2, 3): "b", "$tensor": "c"},
    "size and numpy scalar": (torch.Size([2, 3]), np.float32(1.5), np.int64(7)),
    "a tensor subclass": torch.ones(2).as_subclass(Sneaky),
    "a str subclass": LoudStr("x"),
}


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_normalize_gives_what_crosses_the_boundary(value):
    assert same(wire.normalize(value), wire.unpack(wire.pack(value)))


BAD = {
    "an object": object(),
    "a complex tensor": torch.ones(2, dtype=torch.complex64),
    "a set": {1, 2},
    "a list holding a function": [len],
    "a sparse tensor": torch.eye(3).to_sparse(),
    "an mkldnn tensor": torch.ones(2, 3).to_mkldnn(),
}


@pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
def test_normalize_refuses_what_pack_refuses(value):
    with pytest.raises(wire.WireError):
        wire.pack(value)
    with pytest.raises(wire.WireError):
        wire.normalize(value)


def test_normalized_tensors_share_nothing_with_the_learners():
    t = torch.ones(3)
    out = wire.normalize([t])[0]
    t.add_(1)
    assert torch.equal(out, torch.ones(3))


def test_near_the_size_limit_the_real_round_trip_decides():
    big = torch.zeros(wire.MAX_BYTES // 4 - 4)  # fits as bytes, not with the file's header
    with pytest.raises(wire.WireError):
        wire.unpack(wire.pack(big))
    with pytest.raises(wire.WireError):
        wire.normalize(big)
    quotes = '"' * (wire.MAX_BYTES // 3)  # short as text, twice as long once escaped in the header
    with pytest.raises(wire.WireError):
        wire.normalize(quotes)
