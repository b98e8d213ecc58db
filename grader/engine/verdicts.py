"""What a check ends with, as data: the reasons and the Verdict. No torch here, so that what is
already known (kata list, kata next, the reports) shows without importing it."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Reasons a check can end with. Only PASSED scores.
PASSED = "passed"
NOT_IMPLEMENTED = "not_implemented"
MISSING_NAME = "missing_name"
WRONG_VALUES = "wrong_values"
WRONG_SHAPE = "wrong_shape"  # a tensor's shape
WRONG_LENGTH = "wrong_length"  # a list's, a string's or a dataset's length: "shape" would puzzle a beginner there
WRONG_TYPE = "wrong_type"
EXCEPTION = "exception"
FORBIDDEN_API = "forbidden_api"
BAD_OUTPUT = "bad_output"
TIMEOUT = "timeout"
MEMORY = "memory"
CRASH = "crash"
NOT_RUN = "not_run"  # never ran: an earlier check (or the import it needs) hung first

# What an outcome may say: "ok" (a value for the judge) or why there is none. Never "passed".
OUTCOME_STATUSES = frozenset({"ok", NOT_IMPLEMENTED, MISSING_NAME, WRONG_VALUES, WRONG_SHAPE, WRONG_LENGTH,
                              WRONG_TYPE, EXCEPTION, FORBIDDEN_API, BAD_OUTPUT, TIMEOUT, MEMORY, CRASH, NOT_RUN})


@dataclass
class Verdict:
    slug: str
    task: int
    check: str
    reason: str
    message: str = ""
    mistake: str | None = None  # the id of a catalogued mistake the output matches
    seed: int | None = None
    what: str = ""
    visual: dict | None = None  # what a picture of the failure needs (see `visual`)
    candidates: tuple[str, ...] = ()  # every catalogued mistake the output matches; `mistake` is the one kept
    shows: str = ""  # what the output shows when no mistake is kept (grader.engine.checks.diagnose)
    hidden: bool = False  # on hidden inputs: the message says so, and shows none of them
    note: str = ""  # how it was graded, when not with the learner's code alone (grader/once.py)
    variants: tuple[str, ...] = ()  # the check's declared variants the output equals (see checks.Variant)
    blocked_by: tuple[str, int, str] | None = None  # (topic, task, name) of the stub whose NotImplementedError stopped it
    diverges: str = ""  # where the learner's values first part from the reference's, on public inputs (engine.trace)
    diverges_in: str = ""  # the function (qualname) `diverges` points into; a comprehension's: the one it is written in

    def __post_init__(self) -> None:
        if self.blocked_by is not None:  # read back from JSON: a list
            topic, task, name = self.blocked_by
            self.blocked_by = (topic, task, name)

    @property
    def passed(self) -> bool:
        return self.reason == PASSED


# What a stub raises: NotImplementedError("causal_attention task 2: CausalAttention.__init__"), read
# here only: the probe tells a stub's error from torch's by it, the judge sets `blocked_by` from it.
STUB_RAISES = re.compile(r"(?P<topic>[a-z_0-9]+) task (?P<task>\d+): (?P<name>[^)]*)")


def stub_raised(message: str) -> tuple[str, int, str] | None:
    """(topic, task, name) of the stub a not-implemented outcome's message quotes, if any:
    run_probe reports one as "not implemented yet (causal_attention task 2: CausalAttention.__init__)"."""
    prefix = "not implemented yet ("
    found = STUB_RAISES.match(message, len(prefix)) if message.startswith(prefix) else None
    return (found["topic"], int(found["task"]), found["name"]) if found else None

