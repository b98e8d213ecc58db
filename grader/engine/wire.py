"""Data in, data out: the one format for fixtures and for results coming back from a sandbox.

A value is a tree of None, bool, int, float, str, bytes, list, tuple, dict and torch tensors.
`pack` writes it as a single safetensors file: the tensors as tensors, the tree as JSON in the
file's metadata, each tensor replaced by `{"$tensor": key}`. Reading one back runs no code
(no pickle), yields only plain `torch.Tensor`s, and refuses anything over `MAX_BYTES`.

What a packed value may declare is bounded before anything is built from it (the header's size,
the number of tensors, each one's rank and elements, the skeleton's nodes, depth and strings), so
a result that is small on the wire cannot make the grader build a million objects. Every legal
value of the suite stays far inside the bounds (the whole class's cases: about 1,000 tensors,
6,000 nodes, depth 9); `normalize` applies the same bounds, so pytest refuses what the grader would.
"""

from __future__ import annotations

import base64
import json
import math
import mmap
import os
import struct
from typing import Any

import torch
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save

MAX_BYTES = 64 * 1024 * 1024
MAX_HEADER = 4 * 1024 * 1024  # bytes of safetensors header, the skeleton included
MAX_TENSORS = 10_000
MAX_RANK = 8
MAX_ELEMENTS = MAX_BYTES  # in all tensors together (at least one byte each)
MAX_NODES = 200_000  # values in the skeleton: every list, dict, str, number...
MAX_DEPTH = 64
MAX_STRING = 1024 * 1024  # characters in one str, key or $bytes body
_TAGS = ("$tensor", "$bytes", "$tuple", "$dict", "$float")


FRAME_HEADER = 8  # a frame: its size as 8 bytes (little-endian), then that many bytes
MAX_FRAME = MAX_BYTES + 1024


class WireError(ValueError):
    """The value cannot be sent, or the bytes received are not a packed value."""


_DTYPES = frozenset({torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
                     torch.int16, torch.int8, torch.uint8, torch.bool})  # safetensors holds each of these


def pack(value: Any) -> bytes:
    skeleton, tensors = _encode(value)
    return _st_save(tensors, metadata={"skeleton": _json(skeleton)})


# Frames: how packed values travel on a pipe or socket (the worker and its host, a forked child and
# its parent: grader.engine.child). One format, read and written only here.


def frame_header(size: int) -> bytes:
    return struct.pack("<Q", size)


def frame_size(header: bytes | bytearray | memoryview | mmap.mmap, offset: int = 0) -> int:
    """The size a frame's header declares; WireError when it is over MAX_FRAME."""
    (size,) = struct.unpack_from("<Q", header, offset)
    if size > MAX_FRAME:
        raise WireError(f"a frame of {size} bytes (at most {MAX_FRAME})")
    return size


def write_frame(fd: int, *parts) -> None:
    """One frame of the concatenated `parts` (bytes or memoryviews, sent as they are) on a
    blocking file descriptor."""
    write_all(fd, frame_header(sum(len(p) for p in parts)))
    for part in parts:
        write_all(fd, part)


def write_all(fd: int, data) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_into(fd: int, view: memoryview) -> bool:
    """Fill `view` from `fd`; False at end of input. Straight into the caller's memory: no buffer
    of this process keeps a copy."""
    while view:
        got = os.readv(fd, [view])
        if not got:
            return False
        view = view[got:]
    return True


def read_frame(fd: int) -> bytes | None:
    """The next frame's bytes from a blocking `fd`; None at end of input."""
    header = bytearray(FRAME_HEADER)
    if not read_into(fd, memoryview(header)):
        return None
    data = bytearray(frame_size(header))
    return bytes(data) if read_into(fd, memoryview(data)) else None


def _json(skeleton: Any) -> str:
    return json.dumps(skeleton, separators=(",", ":"))


def unpack(data: bytes) -> Any:
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_BYTES:
        raise WireError(f"not a packed value, or larger than {MAX_BYTES} bytes")
    data = bytes(data)
    try:
        skeleton = _read_header(data)
        tensors = _st_load(data)
    except WireError:
        raise
    except Exception as err:  # any malformed input is the same failure for the caller
        raise WireError(f"not a packed value ({type(err).__name__}: {err})") from None
    return _decode(skeleton, tensors)


def _read_header(data: bytes) -> Any:
    """The skeleton, once the header has been read and bounded: nothing is built from a header
    that declares too much (safetensors itself would build every tensor it declares)."""
    if len(data) < 8:
        raise WireError("not a packed value (too short)")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > MAX_HEADER or header_len > len(data) - 8:
        raise WireError(f"refused: a header of {header_len} bytes (at most {MAX_HEADER})")
    text = data[8:8 + header_len]
    # Each tensor's entry holds "data_offsets" once: counted before the header is parsed.
    declared = text.count(b'"data_offsets"')
    if declared > MAX_TENSORS:
        raise WireError(f"refused: {declared} tensors declared (at most {MAX_TENSORS})")
    header = json.loads(text)
    if not isinstance(header, dict):
        raise WireError("not a packed value (the header is not a table)")
    metadata = header.pop("__metadata__", None) or {}
    if len(header) > MAX_TENSORS:
        raise WireError(f"refused: {len(header)} tensors declared (at most {MAX_TENSORS})")
    elements = 0
    for key, entry in header.items():
        shape = entry.get("shape") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(type(n) is int and 0 <= n <= MAX_ELEMENTS for n in shape):
            raise WireError(f"not a packed value (tensor {key[:40]!r} has no valid shape)")
        if len(shape) > MAX_RANK:
            raise WireError(f"refused: a tensor of rank {len(shape)} (at most {MAX_RANK})")
        elements += math.prod(shape)
        if elements > MAX_ELEMENTS:
            raise WireError(f"refused: more than {MAX_ELEMENTS} elements declared")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("skeleton"), str):
        raise WireError("not a packed value (no skeleton)")
    return _parse_skeleton(metadata["skeleton"], len(header))


def _parse_skeleton(text: str, tensors: int) -> Any:
    # At most one value per comma or opening bracket, plus one: counted before anything is built.
    if text.count(",") + text.count("[") + text.count("{") + 1 > MAX_NODES + MAX_NODES // 2:
        raise WireError(f"refused: more than {MAX_NODES} values")
    skeleton = json.loads(text)
    _bound(skeleton, tensors)
    return skeleton


def _bound(skeleton: Any, tensors: int) -> None:
    """Refuse a skeleton with too many nodes, too deep, or with too long a string; walked without
    recursion, stopping at the first excess."""
    if tensors > MAX_TENSORS:
        raise WireError(f"refused: {tensors} tensors (at most {MAX_TENSORS})")
    stack, nodes = [(skeleton, 0)], 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise WireError(f"refused: more than {MAX_NODES} values")
        if depth > MAX_DEPTH:
            raise WireError(f"refused: values nested more than {MAX_DEPTH} deep")
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                raise WireError(f"refused: a string of {len(value)} characters (at most {MAX_STRING})")
        elif isinstance(value, list):
            stack.extend((x, depth + 1) for x in value)
        elif isinstance(value, dict):
            for k, x in value.items():
                if len(k) > MAX_STRING:
                    raise WireError(f"refused: a key of {len(k)} characters (at most {MAX_STRING})")
                stack.append((x, depth + 1))


def normalize(value: Any) -> Any:
    """What `unpack(pack(value))` gives, or the same WireError, without writing the tensors out:
    plain contiguous tensors, plain Python values. A probe's value goes through this in every
    process, so pytest, `kata` and the grader judge exactly the same data."""
    skeleton, tensors = _encode(value)
    text = _json(skeleton)
    # An upper bound on the packed size: the skeleton as escaped in the header, each tensor's bytes
    # and header entry. Near the limit, the real round trip decides, so the two never disagree.
    bound = len(json.dumps(text)) + sum(t.numel() * t.element_size() + 100 + 24 * t.dim() for t in tensors.values())
    header = len(json.dumps(text)) + sum(100 + 24 * t.dim() for t in tensors.values())
    if bound > MAX_BYTES // 2 or header > MAX_HEADER // 2:
        return unpack(_st_save(tensors, metadata={"skeleton": text}))
    skeleton = _parse_skeleton(text, len(tensors))
    for t in tensors.values():
        if t.dim() > MAX_RANK:
            raise WireError(f"refused: a tensor of rank {t.dim()} (at most {MAX_RANK})")
    return _decode(skeleton, tensors)


def _encode(value: Any) -> tuple[Any, dict[str, torch.Tensor]]:
    """The JSON skeleton of `value`, each tensor replaced by {"$tensor": key}, and the tensors."""
    tensors: dict[str, torch.Tensor] = {}

    def encode(v: Any) -> Any:
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, int):
            return int(v)
        if isinstance(v, float):
            return float(v) if math.isfinite(v) else {"$float": repr(float(v))}
        if isinstance(v, torch.Tensor):
            if v.dtype not in _DTYPES:
                raise WireError(f"cannot send a tensor of dtype {v.dtype}")
            if v.layout != torch.strided or v.is_nested:
                raise WireError(f"cannot send a {v.layout} tensor: make it a plain one (.to_dense())")
            key = f"t{len(tensors)}"
            # A plain, contiguous copy: drops subclasses, autograd history and shared storage.
            tensors[key] = torch.Tensor._make_subclass(torch.Tensor, v.detach()).cpu().contiguous().clone()
            return {"$tensor": key}
        if isinstance(v, (bytes, bytearray)):
            return {"$bytes": base64.b64encode(bytes(v)).decode()}
        if isinstance(v, tuple) or type(v).__name__ == "Size":
            return {"$tuple": [encode(x) for x in v]}
        if isinstance(v, list):
            return [encode(x) for x in v]
        if isinstance(v, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in v):
                return {k: encode(x) for k, x in v.items()}
            return {"$dict": [[encode(k), encode(x)] for k, x in v.items()]}
        if hasattr(v, "item") and hasattr(v, "dtype") and getattr(v, "shape", None) == ():
            return encode(v.item())  # a numpy scalar
        raise WireError(f"cannot send a value of type {type(v).__name__}")

    return encode(value), tensors


def _decode(skeleton: Any, tensors: dict[str, torch.Tensor]) -> Any:
    def decode(v: Any) -> Any:
        if isinstance(v, list):
            return [decode(x) for x in v]
        if not isinstance(v, dict):
            return v
        tag = next((t for t in _TAGS if t in v), None)
        if tag is None:
            return {k: decode(x) for k, x in v.items()}
        if len(v) != 1:
            raise WireError(f"malformed {tag} entry")
        body = v[tag]
        if tag == "$tensor":
            if body not in tensors:
                raise WireError(f"missing tensor {body!r}")
            return tensors[body]
        if tag == "$bytes":
            return base64.b64decode(body, validate=True)
        if tag == "$tuple":
            return tuple(decode(x) for x in body)
        if tag == "$float":
            return float(body)
        pairs = [(decode(k), decode(x)) for k, x in body]
        return {_hashable(k): x for k, x in pairs}

    try:
        return decode(skeleton)
    except WireError:
        raise
    except Exception as err:
        raise WireError(f"malformed value ({type(err).__name__}: {err})") from None


def _hashable(key: Any) -> Any:
    if isinstance(key, (list, dict, torch.Tensor)):
        raise WireError("a dict key must be a str, int, float, bytes, bool or tuple")
    return key
