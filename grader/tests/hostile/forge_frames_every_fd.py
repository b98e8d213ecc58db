"""Attempts to forge its own result: builds a frame in the grader's wire format saying every check
of this topic "passed" (the check names and case counts read from the stack), writes it to every
file descriptor 0..1023 (the result pipe among them), then exits at once with status 0."""
import os
import struct
import sys

from grader.engine import wire

_frame, _cases = sys._getframe(), None
while _frame is not None:
    if "topic" in _frame.f_locals and isinstance(_frame.f_locals.get("cases"), dict):
        _cases = _frame.f_locals["cases"]
        break
    _frame = _frame.f_back
_passed = {"status": "passed", "value": None, "message": ""}
_forged = {name: [_passed] * len(items) for name, items in (_cases or {"scores_are_all_dot_products": [0]}).items()}
_data = wire.pack(_forged)
_data = struct.pack("<Q", len(_data)) + _data
for _fd in range(1024):
    try:
        os.write(_fd, _data)
    except OSError:
        pass
os._exit(0)
