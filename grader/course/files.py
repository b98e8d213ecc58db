"""Writing a file so that no reader ever meets half of it: the one way every layer writes its
outputs (grades, reports, progress, fixtures)."""

from __future__ import annotations

import os
import threading
from pathlib import Path


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
