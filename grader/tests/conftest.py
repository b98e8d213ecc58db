"""The grader's tests grade with their own instructor secret (grader/tests/test_secret), never the
machine's (~/.config/kata/secret): hidden inputs, and so golden results, are the same everywhere."""
import os
from pathlib import Path

os.environ["KATA_SECRET"] = str(Path(__file__).with_name("test_secret"))

import pytest  # noqa: E402

# The learner's checks keep pyproject's 120 s limit. The grader's own tests build classes, bundles and
# releases end to end: on a loaded machine (load 12-19 on 2 cores) the scaffold, Gradescope and release
# fixtures took over 120 s. They get 900 s unless they say otherwise; a hang still ends the run.
GRADER_TESTS_TIMEOUT = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is None and Path(str(item.fspath)).parent == Path(__file__).parent:
            item.add_marker(pytest.mark.timeout(GRADER_TESTS_TIMEOUT))
