"""Checks in a notebook: what the cells of the nbgrader notebooks (`make notebooks`) call.

A test cell is one line per kind of check:

    check_task("causal_attention", 2, globals())               the public checks (fixture inputs)
    check_task("causal_attention", 2, globals(), hidden=True)  the hidden checks: other seeds,
                                                               expected values computed now by
                                                               the reference (instructor only)

The notebook's namespace becomes a module, each check of the task probes it in this process and
is judged against the expected values: the same checks, fixtures and words as `kata check` and
`make grade`. A failing check raises AssertionError with the message `kata check` prints, which
is how nbgrader scores a test cell zero; a passing task prints one line (nbgrader also scores a
test cell zero if it writes to stderr, so what the learner's code prints is held back).

There is no sandbox here: nbgrader runs the learner's code and these checks in one kernel, on
the student's or the instructor's machine. That is nbgrader's trust model, not `make grade`'s.

The course these checks come from is the folder holding this `grader` package: `support/`
beside the notebook for a student, the course repository (with solutions/) when the
instructor autogrades (the notebook's setup cell puts it first on sys.path).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
import types
from pathlib import Path
from typing import Any

from ..engine import checks as C
from ..engine import once
from ..course.curriculum import ROOT, Topic, load
from ..engine.cases import Case, load_fixture
from ..engine.reference import build_cases
from ..engine.impl import MissingName, TopicModule, import_topic, load_package, unload_package
from ..engine.messages import explain
from ..engine.probe import forbidden_apis, forbidden_use, probe_module
from ..engine.judge import judge_topic

PRINTED_CAP = 1000  # characters of the learner's printed output shown with a failure

_public: dict[str, dict[str, list[Case]]] = {}
_hidden: dict[str, dict[str, list[Case]]] = {}


def setup() -> None:
    """The setup cell's call: GPT-2's tokenizer offline, where the course ships its ranks."""
    from ..course.offline import RANKS_FILE, cache_ready, install
    if cache_ready() or RANKS_FILE.exists():
        install()


def course_root() -> Path:
    """The course folder the checks come from (stands in for a module's repository root)."""
    return ROOT


class NotebookModule(TopicModule):
    """The notebook's namespace as checks see it: a missing name is named in notebook terms."""

    def __getattr__(self, name: str):
        try:
            return getattr(self._module, name)
        except AttributeError:
            raise MissingName(name, "this notebook") from None


def as_module(namespace: dict[str, Any], slug: str) -> NotebookModule:
    module = types.ModuleType(slug)
    vars(module).update(namespace)
    module.__name__ = slug
    return NotebookModule(module, slug)


def check_task(slug: str, task: int, namespace: dict[str, Any], hidden: bool = False) -> None:
    """Run one task's checks on the notebook's namespace; raise AssertionError if any fails."""
    __tracebackhide__ = True  # IPython shows the test cell, then `fail` and its message
    topic = load()[slug]
    checks = [c for c in C.load_checks(topic.test_file()) if c.task == task]
    if not checks:  # never a pass by default
        raise AssertionError(f"{slug} task {task} has no checks in {topic.test_file().name}")
    cases = _hidden_cases(topic) if hidden else _public_cases(topic)
    cases = {c.name: cases.get(c.name, []) for c in checks}
    outcomes, printed = probe_namespace(topic, checks, cases, namespace)
    verdicts = judge_topic(checks, cases, outcomes)
    failed = [v for v in verdicts if not v.passed]
    note = charged_once(topic, task, verdicts, namespace, hidden) if failed else ""
    if failed and not note:
        fail(failure_text(topic, failed, printed))
    kind = "hidden checks" if hidden else "checks"
    print(f"{slug} task {task} ({topic.task(task).title}): all {len(verdicts)} {kind} pass" + (f"; it {note}" if note else ""))


def charged_once(topic: Topic, task: int, verdicts: list[C.Verdict], namespace: dict[str, Any], hidden: bool) -> str:
    """grader/once.py's rule in a notebook: when the task's checks fail while tasks they call
    fail, run them again with the reference's code for those (bound into the namespace, then put
    back); the note to print if every check passes then, else ""."""
    if not topic.solution().is_file():  # a student's copy: no reference to borrow
        return ""

    def judged(task_id: int) -> list[C.Verdict]:
        checks = [c for c in C.load_checks(topic.test_file()) if c.task == task_id]
        cases = _hidden_cases(topic) if hidden else _public_cases(topic)
        cases = {c.name: cases.get(c.name, []) for c in checks}
        return judge_topic(checks, cases, probe_namespace(topic, checks, cases, namespace)[0])

    called = [v for other in topic.task(task).calls for v in judged(other)]
    step = once.next_regrade(topic, called + verdicts, after=task - 1)
    if step is None or step[1] != task:
        return ""
    with tempfile.TemporaryDirectory(prefix="kata-once-") as tmp:  # the references, this topic's cut down
        for module in topic.solution().parent.glob("*.py"):
            shutil.copy(module, Path(tmp) / module.name)
        (Path(tmp) / topic.module_file).write_text(
            once.donor_source(topic.solution().read_text(encoding="utf-8"), topic, step[0]), encoding="utf-8")
        package = load_package(tmp)
        try:
            undo = once.rebind(namespace, import_topic(package, topic.slug), *once.plan_names(topic, step[0], (task,)))
            try:
                again = judged(task)
            finally:
                undo()
        finally:
            unload_package(package)
    return once.graded_with_reference(topic, step[0]) if all(v.passed for v in again) else ""


def fail(message: str) -> None:
    # A check of this task failed: the message below says which, and what your code gave.
    raise AssertionError(message)


def probe_namespace(topic: Topic, checks: list[C.Check], cases: dict[str, list[Case]],
                    namespace: dict[str, Any]) -> tuple[dict[str, list[dict]], str]:
    """Every check's outcomes (as data) on the notebook's code, and what that code printed."""
    used = _forbidden_in_cells(namespace, topic.forbid)
    if used:
        refused = C.Outcome(C.FORBIDDEN_API, message=(
            f"a cell of this notebook uses {used[0]} (line {used[1]} of that cell): this kata asks you "
            f"to write it yourself. If you removed it since, restart the kernel: every cell run since "
            f"it started counts.")).to_data()
        return {c.name: [refused] * len(cases[c.name]) for c in checks}, ""
    module = as_module(namespace, topic.slug)
    printed = io.StringIO()
    cells = Path(tempfile.gettempdir()) / f"ipykernel_{os.getpid()}"  # where ipykernel compiles cells
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed), forbidden_apis(topic):
        outcomes = probe_module(module, {name: [case.inputs for case in items] for name, items in cases.items()},
                                checks, cells)
    return outcomes, printed.getvalue()


def _forbidden_in_cells(namespace: dict[str, Any], forbid: tuple[str, ...]) -> tuple[str, int] | None:
    """A forbidden API in any cell this kernel ran (IPython keeps them in `In`)."""
    cells = namespace.get("In")
    if not forbid or not isinstance(cells, list):
        return None
    for cell in cells:
        used = forbidden_use(cell, forbid) if isinstance(cell, str) else None
        if used:
            return used
    return None


def failure_text(topic: Topic, failed: list[C.Verdict], printed: str) -> str:
    """The first failure in full (as `kata check` shows it), then the other failing checks."""
    text = for_notebook(explain(failed[0], topic))
    if len(failed) > 1:
        text += f"\n  Also failing: {', '.join(v.check for v in failed[1:])}"
    if printed.strip():
        cut = "\n[...]" if len(printed) > PRINTED_CAP else ""
        text += f"\n  Your code printed:\n{printed[:PRINTED_CAP]}{cut}"
    return text


def for_notebook(text: str) -> str:
    """`kata check`'s words, pointed at this notebook: hints sit below each task's test cell and
    a cell is not a file."""
    text = re.sub(r"kata hint \w+ (\d+) (\d+)", r"open hint \2 below the test cell of task \1", text)
    text = re.sub(r"kata hint \w+ (\d+)", r"Open the hints below the test cell of task \1.", text)
    return re.sub(r"at \d+\.py, line (\d+), in", r"at line \1 of its cell, in", text)


def _public_cases(topic: Topic) -> dict[str, list[Case]]:
    if topic.slug not in _public:
        _public[topic.slug] = load_fixture(topic)
    return _public[topic.slug]


def _hidden_cases(topic: Topic) -> dict[str, list[Case]]:
    """Hidden seeds' cases, computed once per kernel by the reference, as `make grade` does."""
    if topic.slug not in _hidden:
        if not topic.solution().exists():
            raise AssertionError(
                f"the hidden checks of {topic.slug} need the course's solutions/, which only the "
                f"instructor has: set KATA_COURSE to the course repository (nbgrader_config.py does) "
                f"and autograde. Looked in {topic.solution().parent}")
        from ..engine.secret import hidden_seeds  # instructor-side only
        seeds = hidden_seeds(topic.root)
        if not seeds:
            raise AssertionError(f"no hidden seeds in {topic.root / 'solutions' / 'hidden.toml'}")
        checks = C.load_checks(topic.test_file())
        _hidden[topic.slug] = build_cases(topic, checks, {c.name: seeds for c in checks}, with_mistakes=False)
    return _hidden[topic.slug]
