"""Data in, data out: the one format for fixtures and for results coming back from a sandbox.

A value is a tree of None, bool, int, float, str, bytes, list, tuple, dict and torch tensors.
`pack` writes it as a single safetensors file: the tensors as tensors, the tree as JSON in the
file's metadata, each tensor replaced by `{"$tensor": key}`. Reading one back runs no code
(no pickle), yields only plain `torch.Tensor`s, and refuses anything over `MAX_BYTES`.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import torch
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save

MAX_BYTES = 64 * 1024 * 1024
_TAGS = ("$tensor", "$bytes", "$tuple", "$dict", "$float")


class WireError(ValueError):
    """The value cannot be sent, or the bytes received are not a packed value."""


_DTYPES = frozenset({torch.float64, torch.float32, torch.float16, torch.bfloat16, torch.int64, torch.int32,
                     torch.int16, torch.int8, torch.uint8, torch.bool})  # safetensors holds each of these


def pack(value: Any) -> bytes:
    skeleton, tensors = _encode(value)
    return _st_save(tensors, metadata={"skeleton": _json(skeleton)})


def _json(skeleton: Any) -> str:
    return json.dumps(skeleton, separators=(",", ":"))


def unpack(data: bytes) -> Any:
    if not isinstance(data, (bytes, bytearray)) or len(data) > MAX_BYTES:
        raise WireError(f"not a packed value, or larger than {MAX_BYTES} bytes")
    try:
        tensors = _st_load(bytes(data))
        header_len = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8:8 + header_len]).get("__metadata__") or {}
        skeleton = json.loads(metadata["skeleton"])
    except Exception as err:  # any malformed input is the same failure for the caller
        raise WireError(f"not a packed value ({type(err).__name__}: {err})") from None
    return _decode(skeleton, tensors)


def normalize(value: Any) -> Any:
    """What `unpack(pack(value))` gives, or the same WireError, without writing the tensors out:
    plain contiguous tensors, plain Python values. A probe's value goes through this in every
    process, so pytest, `kata` and the grader judge exactly the same data."""
    skeleton, tensors = _encode(value)
    text = _json(skeleton)
    # An upper bound on the packed size: the skeleton as escaped in the header, each tensor's bytes
    # and header entry. Near the limit, the real round trip decides, so the two never disagree.
    bound = len(json.dumps(text)) + sum(t.numel() * t.element_size() + 100 + 24 * t.dim() for t in tensors.values())
    if bound > MAX_BYTES // 2:
        return unpack(_st_save(tensors, metadata={"skeleton": text}))
    return _decode(json.loads(text), tensors)


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
