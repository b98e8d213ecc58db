"""What some of the grader's tests need from the machine, and what they do where it is missing."""
import os

import pytest


def sandbox_or_skip(why: str) -> None:
    """Skip a test that needs bubblewrap where it cannot start, unless KATA_REQUIRE_SANDBOX=1 (as in
    CI): there a missing sandbox fails instead of passing quietly."""
    from grader.grading.sandbox.host import probe_isolation
    isolation = probe_isolation()
    if isolation.degraded:
        message = f"{why} needs the sandbox: {isolation.describe()}"
        if os.environ.get("KATA_REQUIRE_SANDBOX") == "1":
            pytest.fail("KATA_REQUIRE_SANDBOX=1 but " + message)
        pytest.skip(message)


def status_word(row: dict) -> str:
    """A gradebook row's status without the "(isolation degraded)" a machine without bubblewrap adds."""
    return row["status"].removesuffix(" (isolation degraded)")
