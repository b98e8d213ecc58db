"""Words for verdicts: one renderer for pytest, `kata`, the grader's feedback and nbgrader."""

from __future__ import annotations

from . import checks as C
from .curriculum import Topic

HEADLINES = {
    C.PASSED: "passed",
    C.NOT_IMPLEMENTED: "not implemented yet",
    C.MISSING_NAME: "missing name",
    C.WRONG_VALUES: "wrong values",
    C.WRONG_SHAPE: "wrong shape",
    C.WRONG_TYPE: "wrong type",
    C.EXCEPTION: "raised an exception",
    C.FORBIDDEN_API: "uses a forbidden API",
    C.BAD_OUTPUT: "bad output",
    C.TIMEOUT: "too slow (time limit)",
    C.MEMORY: "used too much memory",
    C.CRASH: "crashed",
}


def headline(verdict: C.Verdict) -> str:
    if C.is_wrong_length(verdict):
        return "wrong length"  # a list, not a tensor: "shape" would puzzle a beginner here
    return HEADLINES.get(verdict.reason, verdict.reason.replace("_", " "))


def mistake_note(verdict: C.Verdict, topic: Topic) -> str:
    """'This looks like a known mistake: ...' with the hint to read, or '' if none is recognised."""
    mistake = topic.mistakes.get(verdict.mistake) if verdict.mistake else None
    if mistake is None:
        return ""
    return (f"This looks like a known mistake: {mistake.says.rstrip('.')}.\n"
            f"Hint {mistake.hint} of task {mistake.task} explains it: kata hint {topic.slug} {mistake.task} {mistake.hint}")


def explain(verdict: C.Verdict, topic: Topic) -> str:
    """The full message for a failed check, written for a beginner."""
    lines = [f"{topic.slug} task {verdict.task} ({topic.task(verdict.task).title}): {headline(verdict)}",
             f"  check: {verdict.check} -- {verdict.what}"]
    if verdict.seed not in (None, 0):
        lines.append(f"  (on hidden inputs, seed {verdict.seed})")
    lines += ["  " + line for line in verdict.message.splitlines()]
    note = mistake_note(verdict, topic)
    if note:
        lines += ["  " + line for line in note.splitlines()]
    elif verdict.reason not in (C.PASSED, C.NOT_IMPLEMENTED):
        lines.append(f"  Stuck? kata hint {topic.slug} {verdict.task}")
    return "\n".join(lines)
