"""One topic's checks and cases, loaded once per process, and the one probe-then-judge sequence
that pytest, `kata`, nbgrader and the class grader all go through.

    session(topic)          the topic's TopicSession, made once per process (module-level cache)
    .checks, .public        the checks (tests/test_<slug>.py) and the public cases (the fixture)
    .hidden(secret)         the hidden cases, built one way for the grader and for nbgrader: the
                            instructor's secret gives the hidden seeds, a check drops the seeds
                            whose inputs equal its seed 0's, the reference computes the values
    .judge(outcomes, ...)   verdicts of outcomes (data) against the public or hidden cases
    .run(impl_dir)          probe and judge here, with the charged-once regrades (kata, pytest)
    .run_namespace(...)     the same for one task of a notebook's namespace (nbgrader)
    .packed(hidden)         a topic's inputs as the sandboxed worker takes them (the class grader)
"""

from __future__ import annotations

import collections
import contextlib
import functools
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

from . import checks as C
from . import once as charged, wire
from .cases import Case, load_fixture
from .impl import import_topic, load_package, unload_package
from .judge import judge_topic
from .probe import borrowed_from, failing_public, probe_topic
from ..course.curriculum import Topic

LOADS: collections.Counter = collections.Counter()  # slug -> times its checks were loaded (the proof of one cache)

_sessions: dict[tuple[Path, str], "TopicSession"] = {}
_lock = threading.Lock()  # the class grader's threads share the sessions


def session(topic: Topic) -> "TopicSession":
    """The topic's session, made once per process."""
    key = (topic.test_file(), topic.slug)
    with _lock:
        if key not in _sessions:
            _sessions[key] = TopicSession(topic)
        return _sessions[key]


def run_topic(topic: Topic, impl_dir: Path, checks: list[C.Check] | None = None,
              fixture: dict[str, list[Case]] | None = None, once: bool = True,
              own: Callable[[list[C.Verdict]], None] = lambda verdicts: None) -> list[C.Verdict]:
    """session(topic).run(...): the name the proofs call it by."""
    return session(topic).run(impl_dir, checks, fixture, once, own)


class TopicSession:
    """A topic's checks, public and hidden cases, each loaded (or built) once, and every path's
    way of running them. `checks`, `public`, `hidden` given here stand in for the loaded ones."""

    def __init__(self, topic: Topic, checks: list[C.Check] | None = None,
                 public: dict[str, list[Case]] | None = None, hidden: dict[str, list[Case]] | None = None):
        self.topic = topic
        self._checks, self._public, self._given_hidden = checks, public, hidden
        self._hidden: dict[bytes, dict[str, list[Case]]] = {}
        self._packed: dict[bool, bytes | None] = {}
        self._lock = threading.RLock()

    @property
    def checks(self) -> list[C.Check]:
        with self._lock:
            if self._checks is None:
                LOADS[self.topic.slug] += 1
                self._checks = C.load_checks(self.topic.test_file())
            return self._checks

    @functools.cached_property
    def shipped_stubs(self) -> frozenset[str] | None:
        """The functions the topic's stub (exercises/) leaves to write, read once per process; None
        without a stub."""
        stub = self.topic.exercise()
        return charged.still_stubs(stub.read_bytes()) if stub.is_file() else None

    @property
    def public(self) -> dict[str, list[Case]]:
        with self._lock:
            if self._public is None:
                self._public = load_fixture(self.topic)
            return self._public

    def hidden(self, secret: bytes | None = None) -> dict[str, list[Case]]:
        """The hidden cases for the instructor's `secret` (by default the one $KATA_SECRET or the
        config folder holds), built once per secret: {} when solutions/hidden.toml asks for none.
        A check whose inputs ignore the seed (a seeded construction, say) has none: nothing to add."""
        if self._given_hidden is not None:
            return self._given_hidden
        from .secret import _fresh_seeds, hidden_seeds, instructor_secret  # the instructor's side only
        from .reference import build_cases
        secret = secret if secret is not None else instructor_secret()[0]
        with self._lock:
            if secret not in self._hidden:
                count = len(hidden_seeds(self.topic.root, secret))
                fresh = {c.name: _fresh_seeds(c, secret, count) for c in self.checks}
                self._hidden[secret] = (build_cases(self.topic, self.checks, fresh, with_mistakes=False, hidden=True)
                                        if count else {})
            return self._hidden[secret]

    def cases(self, hidden: bool = False, secret: bytes | None = None) -> dict[str, list[Case]]:
        return self.hidden(secret) if hidden else self.public

    def checks_for(self, hidden: bool = False, task: int | None = None, secret: bytes | None = None) -> list[C.Check]:
        """The checks judged on these cases: on hidden ones only those that have some."""
        cases = self.cases(hidden, secret)
        return [c for c in self.checks if (task is None or c.task == task) and (not hidden or cases.get(c.name))]

    @staticmethod
    def inputs(cases: dict[str, list[Case]]) -> dict[str, list[dict]]:
        return {name: [case.inputs for case in items] for name, items in cases.items()}

    def packed(self, hidden: bool = False) -> bytes | None:
        """The topic's inputs as one job of the sandboxed worker takes them, packed once:
        {"cases": {check: [inputs]}, "public": {check: how many are public}}; None for hidden
        cases when there are none."""
        with self._lock:
            if hidden not in self._packed:
                cases = self.cases(hidden)
                self._packed[hidden] = None if hidden and not any(cases.get(c.name) for c in self.checks) else wire.pack({
                    "cases": {c.name: [k.inputs for k in cases.get(c.name, [])] for c in self.checks},
                    "public": {c.name: 0 if hidden else len(cases.get(c.name, [])) for c in self.checks}})
            return self._packed[hidden]

    def judge(self, outcomes: dict[str, list[Any]], hidden: bool = False, checks: list[C.Check] | None = None,
              cases: dict[str, list[Case]] | None = None) -> list[C.Verdict]:
        """One verdict per check (on hidden cases, per check that has some), from outcomes as data;
        `cases` stand in for the session's public or hidden ones."""
        cases = cases if cases is not None else self.cases(hidden)
        if checks is None:
            checks = [c for c in self.checks if not hidden or cases.get(c.name)]
        return judge_topic(checks, cases, outcomes)

    def run(self, impl_dir: Path, checks: list[C.Check] | None = None, fixture: dict[str, list[Case]] | None = None,
            once: bool = True, own: Callable[[list[C.Verdict]], None] = lambda verdicts: None) -> list[C.Verdict]:
        """Probe and judge in this process (the learner's own machine: no sandbox needed). With
        `once` and the reference at hand, a task that fails while a task it calls fails is graded
        again with the reference's code for that one (grader/engine/once.py): one mistake, charged
        once. `own(verdicts)` gets the verdicts of the learner's code alone, before any regrade."""
        topic = self.topic
        checks = checks if checks is not None else self.checks
        fixture = fixture if fixture is not None else self.public
        inputs = self.inputs(fixture)
        verdicts = judge_topic(checks, fixture, probe_topic(topic, impl_dir, inputs, checks, trace=failing_public(fixture)))
        own(verdicts)
        if once and topic.solution().is_file():
            own_file = Path(impl_dir) / topic.module_file
            source = own_file.read_bytes() if own_file.is_file() else b""
            step = charged.next_regrade(topic, verdicts, source)
            while step is not None:
                borrowed, judged = step
                with borrowed_from(Path(impl_dir), topic, topic.solution().read_bytes(), borrowed, judged) as hybrid:
                    regraded = judge_topic(checks, fixture, probe_topic(topic, hybrid, inputs, checks, trace=False))
                verdicts = charged.keep(topic, verdicts, regraded, borrowed, judged) or verdicts
                step = charged.next_regrade(topic, verdicts, source, after=judged)
        return verdicts

    def run_namespace(self, namespace: dict[str, Any], task: int, probe: Callable, hidden: bool = False
                      ) -> tuple[list[C.Verdict], str, str]:
        """(verdicts, what the code printed, the charged-once note) of one task's checks on a
        notebook's namespace. `probe(checks, inputs) -> (outcomes, printed)` calls the code there.
        When the task fails while tasks it calls fail, its checks run again with the reference's
        code for those bound into the namespace (then put back); the note says so if all pass."""
        def judged(task_id: int) -> tuple[list[C.Verdict], str]:
            checks = self.checks_for(hidden, task_id)
            cases = self.cases(hidden)
            outcomes, printed = probe(checks, self.inputs({c.name: cases.get(c.name, []) for c in checks}))
            return self.judge(outcomes, hidden, checks), printed

        verdicts, printed = judged(task)
        if all(v.passed for v in verdicts) or not self.topic.solution().is_file():  # a student's copy: no reference
            return verdicts, printed, ""
        topic = self.topic
        called = [v for other in topic.task(task).calls for v in judged(other)[0]]
        step = charged.next_regrade(topic, called + verdicts, after=task - 1)
        if step is None or step[1] != task:
            return verdicts, printed, ""
        with self._reference_beside(step[0]) as donor:
            undo = charged.rebind(namespace, donor, *charged.plan_names(topic, step[0], (task,)))
            try:
                again, _ = judged(task)
            finally:
                undo()
        note = charged.graded_with_reference(topic, step[0]) if all(v.passed for v in again) else ""
        return verdicts, printed, note

    @contextlib.contextmanager
    def _reference_beside(self, borrowed: tuple[int, ...]):
        """The references imported as a package, this topic's cut down to the `borrowed` tasks."""
        topic = self.topic
        with tempfile.TemporaryDirectory(prefix="kata-once-") as tmp:
            for module in topic.solution().parent.glob("*.py"):
                shutil.copy(module, Path(tmp) / module.name)
            (Path(tmp) / topic.module_file).write_text(
                charged.donor_source(topic.solution().read_text(encoding="utf-8"), topic, borrowed), encoding="utf-8")
            package = load_package(tmp)
            try:
                yield import_topic(package, topic.slug)
            finally:
                unload_package(package)
