"""Attempts to exhaust the grader while it reads a result: at import, writes to every pipe it can
reach (the result pipe among them) the "imported" frame, then a legal 44 MiB result declaring
780,000 empty tensors (about 17 s and 1 GiB for the grader to decode, were it decoded), then
exits at once."""
import os
import stat
import struct

_n = 780_000
_entries = ",".join(f'"t{i}":{{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}' for i in range(_n))
# The skeleton need not name them: safetensors builds every tensor the header declares.
_header = ('{"__metadata__":{"skeleton":"{}"},' + _entries + "}").encode()
_header += b" " * (-len(_header) % 8)
_result = struct.pack("<Q", len(_header)) + _header
for _fd in range(3, 1024):
    try:
        if not stat.S_ISFIFO(os.fstat(_fd).st_mode):
            continue
        for _frame in (b"imported", _result):
            _view = memoryview(struct.pack("<Q", len(_frame)) + _frame)
            while _view:
                _view = _view[os.write(_fd, _view):]
    except OSError:
        pass
os._exit(0)
