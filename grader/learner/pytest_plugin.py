"""pytest integration: every `Check` in tests/test_<slug>.py becomes a test item.

    pytest tests                      # checks exercises/ (the learner's code)
    pytest tests --impl solutions     # any folder holding the topic modules

Loaded through `-p grader.learner.pytest_plugin` (pyproject.toml's addopts).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..engine import checks as C
from ..course.curriculum import load
from ..engine.messages import explain
from ..course.offline import install
from ..engine.session import session

_impl_key = pytest.StashKey[Path]()
_verdicts_key = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--impl", default="exercises", metavar="DIR",
                     help="folder with the topic modules to check (default: exercises)")


def pytest_configure(config: pytest.Config) -> None:
    install()  # tiktoken.get_encoding("gpt2") works offline in learner code
    config.stash[_verdicts_key] = {}
    given = Path(config.getoption("impl"))
    candidates = [given] if given.is_absolute() else [Path.cwd() / given, config.rootpath / given]
    found = next((c for c in candidates if c.is_dir()), None)
    if found is None:
        raise pytest.UsageError(f"--impl {given}: no such folder")
    config.stash[_impl_key] = found.resolve()


def pytest_report_header(config: pytest.Config) -> str:
    return f"implementation under test: {config.stash[_impl_key]}"


def pytest_pycollect_makeitem(collector, name, obj):
    if isinstance(obj, C.Check):
        return CheckItem.from_parent(collector, name=name, check=obj)
    return None


class CheckFailure(Exception):
    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


class CheckItem(pytest.Item):
    def __init__(self, *, check: C.Check, **kwargs):
        super().__init__(**kwargs)
        self.check = check
        self.add_marker(pytest.mark.task(check.task))

    def runtest(self) -> None:
        """The topic's checks run together, once per pytest session, through the topic's
        TopicSession (grader.engine.session: a task that fails only because a task it calls
        fails keeps its points, as in every other path); each item reports its own check's verdict."""
        topic = load()[self.check.slug]
        topics = self.config.stash[_verdicts_key]
        if topic.slug not in topics:
            topics[topic.slug] = {v.check: v for v in session(topic).run(self.config.stash[_impl_key])}
        verdict = topics[topic.slug].get(self.check.name)
        if verdict is None:
            raise CheckFailure(f"{self.check.name}: not in {topic.test_file().name} as the grader loads it")
        if not verdict.passed:
            raise CheckFailure(explain(verdict, topic))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, CheckFailure):
            return excinfo.value.text
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"task {self.check.task}: {self.check.name}"
