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
import tempfile
import types
from pathlib import Path
from typing import Any

from ..engine import checks as C
from ..course.curriculum import ROOT, Topic, load
from ..engine.impl import MissingName, TopicModule
from ..engine.messages import explain
from ..engine.probe import forbidden_apis, forbidden_use, probe_module
from ..engine.session import session

PRINTED_CAP = 1000  # characters of the learner's printed output shown with a failure

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
    """Run one task's checks on the notebook's namespace; raise AssertionError if any fails.
    The topic's TopicSession (grader.engine.session) runs them, as for kata, pytest and the grader:
    when the task fails only because tasks it calls fail, it keeps its points (grader/engine/once.py)."""
    __tracebackhide__ = True  # IPython shows the test cell, then `fail` and its message
    topic = load()[slug]
    topic_session = session(topic)
    if not any(c.task == task for c in topic_session.checks):  # never a pass by default
        raise AssertionError(f"{slug} task {task} has no checks in {topic.test_file().name}")
    if hidden:
        _hidden_ready(topic)

    def probe(checks: list[C.Check], inputs: dict[str, list[dict]]) -> tuple[dict[str, list[dict]], str]:
        return probe_namespace(topic, checks, inputs, namespace)

    verdicts, printed, note = topic_session.run_namespace(namespace, task, probe, hidden)
    if not verdicts:  # no check of the task has hidden cases (its inputs ignore the seed)
        print(f"{slug} task {task} ({topic.task(task).title}): no hidden checks (its inputs do not vary)")
        return
    failed = [v for v in verdicts if not v.passed]
    if failed and not note:
        fail(failure_text(topic, failed, printed))
    kind = "hidden checks" if hidden else "checks"
    print(f"{slug} task {task} ({topic.task(task).title}): all {len(verdicts)} {kind} pass" + (f"; it {note}" if note else ""))


def fail(message: str) -> None:
    # A check of this task failed: the message below says which, and what your code gave.
    raise AssertionError(message)


def probe_namespace(topic: Topic, checks: list[C.Check], inputs: dict[str, list[dict]],
                    namespace: dict[str, Any]) -> tuple[dict[str, list[dict]], str]:
    """Every check's outcomes (as data) on the notebook's code, and what that code printed."""
    used = _forbidden_in_cells(namespace, topic.forbid)
    if used:
        refused = C.Outcome(C.FORBIDDEN_API, message=(
            f"a cell of this notebook uses {used[0]} (line {used[1]} of that cell): this kata asks you "
            f"to write it yourself. If you removed it since, restart the kernel: every cell run since "
            f"it started counts.")).to_data()
        return {c.name: [refused] * len(inputs.get(c.name, ())) for c in checks}, ""
    module = as_module(namespace, topic.slug)
    printed = io.StringIO()
    cells = Path(tempfile.gettempdir()) / f"ipykernel_{os.getpid()}"  # where ipykernel compiles cells
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed), forbidden_apis(topic):
        outcomes = probe_module(module, inputs, checks, cells)
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


def _hidden_ready(topic: Topic) -> None:
    """The hidden checks need the reference and hidden seeds, which only the instructor has."""
    if not topic.solution().exists():
        raise AssertionError(
            f"the hidden checks of {topic.slug} need the course's solutions/, which only the "
            f"instructor has: set KATA_COURSE to the course repository (nbgrader_config.py does) "
            f"and autograde. Looked in {topic.solution().parent}")
    from ..engine.secret import hidden_seeds  # instructor-side only
    if not hidden_seeds(topic.root):
        raise AssertionError(f"no hidden seeds in {topic.root / 'solutions' / 'hidden.toml'}")
