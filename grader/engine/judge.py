"""The judge (trusted): compares a probe's outcomes, as data, with the expected values and the
known mistakes of a topic's cases. It never calls the learner's code.
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import Any

from . import checks as C
from .cases import Case
from .verdicts import stub_raised


def judge_topic(checks: list[C.Check], fixture: dict[str, list[Case]],
                outcomes: dict[str, list[Any]]) -> list[C.Verdict]:
    """One verdict per check: its first failing case, or a pass when every case passed."""
    verdicts = []
    for chk in checks:
        cases = fixture.get(chk.name, [])
        got = outcomes.get(chk.name) if isinstance(outcomes, dict) else None
        if not cases:
            verdicts.append(C.Verdict(chk.slug, chk.task, chk.name, C.BAD_OUTPUT, what=chk.what,
                                      message="this check has no fixture: run `make fixtures`"))
            continue
        if not isinstance(got, list) or len(got) != len(cases):
            verdicts.append(C.Verdict(chk.slug, chk.task, chk.name, C.BAD_OUTPUT, what=chk.what,
                                      message="no result came back for this check"))
            continue
        for case, data in zip(cases, got):
            verdict = C.judge(chk, C.Outcome.from_data(data), case.expected, case.mistakes, case.seed, case.raised,
                             case.inputs, reference_steps=None if case.hidden else case.trace)
            verdict = raised_where_the_mistake_raises(verdict)
            if case.hidden:  # no text of the learner's code comes out of a hidden case, not even a stub's
                verdict = C.hidden_verdict(verdict)
            elif verdict.reason == C.NOT_IMPLEMENTED:
                verdict = replace(verdict, blocked_by=stub_raised(verdict.message))
            if not verdict.passed:
                break
        verdicts.append(verdict)
    verdicts = [consistent_with_the_task(v, checks, fixture, outcomes) for v in verdicts]
    return attribute_mistakes(verdicts)


def consistent_with_the_task(v: C.Verdict, checks: list[C.Check], fixture: dict[str, list[Case]],
                             outcomes: dict[str, list[Any]]) -> C.Verdict:
    """Keep only the mistakes that explain every public result of the verdict's task, not just
    this one: each check of the task must give what the mistake gave there (its value, its error,
    or a pass where the mistake passes). A crop one token too long raises the same error as no
    crop at all on one check, and gives other values than it on the next."""
    if v.passed or not v.candidates or not isinstance(outcomes, dict):
        return v
    kept = tuple(m for m in v.candidates if all(
        _agrees(chk, case, data, m)
        for chk in checks if chk.task == v.task
        for case, data in zip(fixture.get(chk.name, []), outcomes.get(chk.name) or [])
        if not case.hidden))
    if kept == v.candidates:
        return v
    return replace(v, mistake=kept[0] if kept else None, candidates=kept)


def _agrees(chk: C.Check, case: Case, data: Any, mistake: str) -> bool:
    """Whether the learner's outcome on one public case could be the mistake's: a value the check
    would accept if the mistake's were expected, the same error, or a pass where the mistake
    passes. A case the learner's code did not finish (a timeout, not run) tells nothing."""
    try:
        outcome = C.Outcome.from_data(data)
    except Exception:
        return True
    if outcome.status == C.EXCEPTION:
        return case.raised.get(mistake) == C.error_line(outcome.message)
    if outcome.status != "ok":
        return True
    if mistake in case.raised:
        return False
    wanted = case.mistakes.get(mistake, case.expected)
    for compare in (lambda: C.compare(outcome.value, wanted, dims=chk.dims, rtol=chk.rtol, atol=chk.atol),
                    lambda: chk.verdict(outcome.value, wanted)):
        try:
            compare()
        except Exception:
            continue
        return True
    return False


def attribute_mistakes(verdicts: list[C.Verdict]) -> list[C.Verdict]:
    """Keep, for each failure, the first matching mistake whose own task does not pass: a
    context_vectors that transposes the weights gives what softmax over dim 0 would, but when
    attention_weights passes, its hint is not the one to read."""
    if not verdicts:
        return verdicts
    slug = verdicts[0].slug
    try:
        task_of = {m.id: m.task for m in _curriculum()[slug].mistakes.values()}
    except KeyError:
        return verdicts
    passing = {v.task for v in verdicts} - {v.task for v in verdicts if not v.passed}
    kept = []
    for v in verdicts:
        if v.candidates:
            viable = tuple(m for m in v.candidates if task_of.get(m) not in passing)
            v = replace(v, mistake=viable[0] if viable else None, candidates=viable)
        kept.append(v)
    return kept


# describe_exception's lines of the learner's code: where it raised, and the call that led there
_CODE_LINE = re.compile(r"^\s+(?:at|called from) [^\n]*?, line \d+, in [^\n:]*: (.*)$", re.M)


def raised_where_the_mistake_raises(v: C.Verdict) -> C.Verdict:
    """Drop the mistakes an error matches only by its text: one whose catalogue entry names the
    word its raising line holds (raised_at), when the learner's error came from a line without it,
    or from a call without it. Keys not transposed and values not transposed raise the same size
    mismatch; the line tells. A c_fc weight without .T and c_proj's array in its place raise the same
    error in assign; the call to assign tells."""
    if v.reason != C.EXCEPTION or not v.candidates:
        return v
    lines = _CODE_LINE.findall(v.message)
    if not lines:  # no line of the learner's code to read: the note stays a hedge
        return v
    code = "\n".join(line.split("#", 1)[0] for line in lines)
    try:
        mistakes = _curriculum()[v.slug].mistakes
    except KeyError:
        return v
    kept = tuple(m for m in v.candidates
                 if m not in mistakes or not mistakes[m].raised_at
                 or re.search(rf"\b{re.escape(mistakes[m].raised_at)}\b", code))
    return replace(v, mistake=kept[0] if kept else None, candidates=kept)


@functools.lru_cache(maxsize=1)
def _curriculum():
    from ..course.curriculum import load
    return load()
