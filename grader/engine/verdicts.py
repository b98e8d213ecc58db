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
WRONG_SHAPE = "wrong_shape"
WRONG_TYPE = "wrong_type"
EXCEPTION = "exception"
FORBIDDEN_API = "forbidden_api"
BAD_OUTPUT = "bad_output"
TIMEOUT = "timeout"
MEMORY = "memory"
CRASH = "crash"
NOT_RUN = "not_run"  # never ran: an earlier check (or the import it needs) hung first

# What an outcome may say: "ok" (a value for the judge) or why there is none. Never "passed".
OUTCOME_STATUSES = frozenset({"ok", NOT_IMPLEMENTED, MISSING_NAME, WRONG_VALUES, WRONG_SHAPE, WRONG_TYPE,
                              EXCEPTION, FORBIDDEN_API, BAD_OUTPUT, TIMEOUT, MEMORY, CRASH, NOT_RUN})


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

    @property
    def passed(self) -> bool:
        return self.reason == PASSED


# What a stub raises: NotImplementedError("causal_attention task 2: CausalAttention.__init__").
STUB_RAISES = re.compile(r"[a-z_0-9]+ task \d+: ")

_LENGTH = re.compile(r"expected \d+ items?, got \d+")  # the message compare raises for a list's length


def is_wrong_length(verdict: Verdict) -> bool:
    """A wrong shape that is a list's length, not a tensor's shape."""
    return verdict.reason == WRONG_SHAPE and bool(_LENGTH.search(verdict.message))
