"""Writing a file so that no reader ever meets half of it: the one way every layer writes its
outputs (grades, reports, progress, fixtures); and JSON laid out for reading, quickly."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


def write_atomic(path: Path, data: bytes | str, mode: int | None = None) -> None:
    """Write beside `path` under a name of this process and thread, then rename over it: an
    interrupted write leaves the old file whole, and two writers never share a half-written one.
    `mode`: the new file's permissions (default: what the umask gives)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        if mode is not None:
            tmp.chmod(mode)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def json_text(value: Any, levels: int, ensure_ascii: bool = True, pad: str = "") -> str:
    """Strict JSON with its outer `levels` of objects and lists one entry per line, and compact
    below them (by json's C encoder: json's own `indent` runs in Python, seconds for a class)."""
    if levels and value and isinstance(value, (dict, list)):
        inner = pad + " "
        if isinstance(value, dict):
            items = [f"{inner}{json.dumps(str(k), ensure_ascii=ensure_ascii)}: "
                     f"{json_text(v, levels - 1, ensure_ascii, inner)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        return ("[\n" + ",\n".join(inner + json_text(v, levels - 1, ensure_ascii, inner) for v in value)
                + "\n" + pad + "]")
    return json.dumps(value, ensure_ascii=ensure_ascii, allow_nan=False)
