"""grader.wire: `normalize(v)` (what every probe's value goes through, in pytest, kata and the
sandbox) must give exactly `unpack(pack(v))` (what crosses the sandbox boundary), or the same error."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from grader.engine import wire


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


# ---------------------------------------------------------------------------------------------
# Bounds: what a packed value may declare is refused before anything is built from it.

def _forged(skeleton_text: str, tensors: dict[str, torch.Tensor] | None = None) -> bytes:
    from safetensors.torch import save
    return save(tensors or {}, metadata={"skeleton": skeleton_text})


def test_a_result_declaring_too_many_tensors_is_refused_unread(monkeypatch):
    n = wire.MAX_TENSORS + 1
    data = _forged("[" + ",".join(f'{{"$tensor":"t{i}"}}' for i in range(n)) + "]",
                   {f"t{i}": torch.empty(0) for i in range(n)})
    built = []
    monkeypatch.setattr(wire, "_st_load", lambda *a: built.append(1))
    with pytest.raises(wire.WireError, match="tensors declared"):
        wire.unpack(data)
    assert not built  # refused from the header alone: safetensors never built a tensor


@pytest.mark.parametrize("what, skeleton, match", [
    ("too many values", "[" + ",".join(["0"] * (wire.MAX_NODES + 1)) + "]", "more than"),
    ("too many empty dicts", "[" + ",".join(["{}"] * (wire.MAX_NODES + 1)) + "]", "more than"),
    ("too deep", "[" * (wire.MAX_DEPTH + 2) + "]" * (wire.MAX_DEPTH + 2), "nested"),
    ("too long a string", '"' + "x" * (wire.MAX_STRING + 1) + '"', "characters"),
    ("too long a key", '{"' + "x" * (wire.MAX_STRING + 1) + '":1}', "characters"),
    ("a huge header", '"' + "x" * (wire.MAX_HEADER + 1) + '"', "header"),
])
def test_a_skeleton_beyond_the_bounds_is_refused(what, skeleton, match):
    with pytest.raises(wire.WireError, match=match):
        wire.unpack(_forged(skeleton))


def test_a_tensor_of_too_high_a_rank_is_refused_in_both_paths():
    deep = torch.zeros((1,) * (wire.MAX_RANK + 1))
    with pytest.raises(wire.WireError, match="rank"):
        wire.unpack(wire.pack(deep))
    with pytest.raises(wire.WireError, match="rank"):
        wire.normalize(deep)
    ok = torch.zeros((1,) * wire.MAX_RANK)
    assert same(wire.normalize(ok), wire.unpack(wire.pack(ok)))


def test_a_header_declaring_more_elements_than_allowed_is_refused():
    import json as _json
    import struct
    header = _json.dumps({"t0": {"dtype": "F32", "shape": [wire.MAX_ELEMENTS, 2], "data_offsets": [0, 0]},
                          "__metadata__": {"skeleton": '{"$tensor":"t0"}'}}).encode()
    with pytest.raises(wire.WireError, match="elements"):
        wire.unpack(struct.pack("<Q", len(header)) + header)


def _nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("value", [
    [0] * wire.MAX_NODES, [[]] * (wire.MAX_NODES // 2), "x" * wire.MAX_STRING,
    [torch.empty(0)] * wire.MAX_TENSORS, [torch.empty(0)] * (wire.MAX_TENSORS + 1),
    {"k" * wire.MAX_STRING: 1}, "x" * (wire.MAX_STRING + 1), [0] * (wire.MAX_NODES + 1),
    _nested(wire.MAX_DEPTH), _nested(wire.MAX_DEPTH + 1),
], ids=["most values", "most lists", "longest string", "most tensors", "one tensor too many",
        "longest key", "one character too many", "one value too many", "deepest", "one level too deep"])
def test_normalize_and_the_round_trip_agree_at_the_bounds(value):
    try:
        expected = wire.unpack(wire.pack(value))
    except wire.WireError:
        with pytest.raises(wire.WireError):
            wire.normalize(value)
        return
    assert same(wire.normalize(value), expected)


# A property, not a list: any value built from the wire's types normalizes to what crosses.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_tensors = st.builds(
    lambda shape, dtype, fill: (torch.arange(math.prod(shape)).reshape(shape) % 7 * fill).to(dtype),
    st.lists(st.integers(0, 3), max_size=3),
    st.sampled_from([torch.float32, torch.float64, torch.int64, torch.int8, torch.bool, torch.float16]),
    st.integers(-3, 3))
_leaves = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
           | st.text(max_size=8) | st.binary(max_size=8) | _tensors)
_values = st.recursive(_leaves, lambda inner: (
    st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    | st.dictionaries(st.integers(-5, 5), inner, max_size=3)), max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_values)
def test_normalize_is_the_round_trip_for_any_value(value):
    assert same(wire.normalize(value), wire.unpack(wire.pack(value)))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_unpack_or_raise_wire_error(data):
    try:
        wire.unpack(data)
    except wire.WireError:
        pass


# ---------------------------------------------------------------------------------------------
# Outcome.from_data reads what a child sent: anything malformed is bad output, nothing raises.

from grader.engine import checks as C  # noqa: E402

_anything = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6) | st.binary(max_size=4)
    | st.sampled_from(sorted(C.OUTCOME_STATUSES) + ["passed", "PASSED"]),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8)
_outcomes = st.fixed_dictionaries(
    {}, optional={"status": _anything, "value": _anything, "message": _anything, "steps": _anything,
                  "passed": st.booleans(), "extra": _anything})


@pytest.mark.parametrize("data", [
    {"status": ["ok"], "value": 1, "message": ""}, {"status": {"ok": 1}, "value": 1, "message": ""},
    {"status": "ok", "value": 1, "message": ["no"]}, {"status": "ok", "value": 1, "message": "", "passed": True},
    {"status": "passed", "value": None, "message": ""}, {"status": b"ok"}, [("status", "ok")], None, "ok",
], ids=["a list status", "a dict status", "a list message", "an extra key", "passed", "bytes status",
        "a list of pairs", "None", "a str"])
def test_malformed_outcomes_are_bad_output(data):
    assert C.Outcome.from_data(data).status == C.BAD_OUTPUT


@settings(max_examples=400, deadline=None)
@given(_outcomes | _anything)
def test_any_outcome_data_reads_without_raising(data):
    outcome = C.Outcome.from_data(data)
    assert isinstance(outcome.status, str) and isinstance(outcome.message, str)
    assert outcome.status in C.OUTCOME_STATUSES
    assert outcome.status == C.BAD_OUTPUT or (type(data) is dict and data["status"] == outcome.status)
    assert len(outcome.message) <= C.MESSAGE_CAP
    assert outcome.steps is None or type(outcome.steps) is list  # steps are read as steps, or dropped
