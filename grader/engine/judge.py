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
    return attribute_mistakes(consistent_mistakes(checks, fixture, verdicts))


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


# What the learner's code did on a case, as far as a mistake can agree with it.
_COMPARABLE = (C.WRONG_VALUES, C.WRONG_SHAPE, C.WRONG_LENGTH, C.WRONG_TYPE, C.EXCEPTION)
# Failures no output equal to the reference's (under compare, which the fixture stores by) can have:
# a judge may reject such an output for its type or a property, never for its shape or by raising.
_UNLIKE_THE_REFERENCE = (C.WRONG_SHAPE, C.WRONG_LENGTH, C.EXCEPTION)


def consistent_mistakes(checks: list[C.Check], fixture: dict[str, list[Case]],
                        verdicts: list[C.Verdict]) -> list[C.Verdict]:
    """Drop each matched mistake that the task's other judged cases contradict. A catalogued
    mistake is a patch of the reference, and the fixture holds what it gives on every case: where
    the learner's code passed a case that mistake fails (or raises on), or failed one the mistake
    passes or gives another output on, the learner's code is not that mistake, however well its
    output (or the first line of its error) matches on this check."""
    by_name = {chk.name: chk for chk in checks}
    judged = [(v, _judged_cases(v, fixture.get(v.check, []))) for v in verdicts]

    def fails(chk: C.Check | None, case: Case, mistake: str) -> bool:
        """Whether the mistake fails this case (its stored output differs, and the check's judge,
        which may accept other outputs than the reference's, rejects it)."""
        if mistake in case.raised:
            return True
        if mistake not in case.mistakes or chk is None:
            return False
        try:
            chk.verdict(case.mistakes[mistake], case.expected)
        except Exception:  # noqa: BLE001 -- Failed, or a judge that cannot take it: not a pass
            return True
        return False

    @functools.cache
    def contradicted(mistake: str, task: int) -> bool:
        for w, (passed, failed) in judged:
            if w.task != task:
                continue
            if any(fails(by_name.get(w.check), c, mistake) for c in passed):
                return True
            if failed is not None and mistake not in w.candidates:
                if mistake in failed.mistakes or mistake in failed.raised:
                    return True  # the mistake gives another output here, or raises another error
                if w.reason in _UNLIKE_THE_REFERENCE:
                    return True  # the mistake's output here is the reference's (within tolerance)
        return False

    kept = []
    for v in verdicts:
        if v.candidates:
            alive = tuple(m for m in v.candidates if not contradicted(m, v.task))
            v = replace(v, mistake=alive[0] if alive else None, candidates=alive)
        kept.append(v)
    return kept


def _judged_cases(v: C.Verdict, cases: list[Case]) -> tuple[list[Case], Case | None]:
    """The cases the learner's code passed before this verdict, and the case it failed, when known
    (judge_topic stops a check at its first failing case; a hidden verdict keeps no seed, and the
    public cases, judged first, all passed)."""
    if v.passed:
        return cases, None
    if v.reason not in _COMPARABLE:
        return [], None
    if v.hidden:
        return [c for c in cases if not c.hidden], None
    at = next((i for i, c in enumerate(cases) if c.seed == v.seed and not c.hidden), None)
    return (cases[:at], cases[at]) if at is not None else ([], None)


_CODE_LINE = re.compile(r"^\s+at [^\n]*?, line \d+, in [^\n:]*: (.*)$", re.M)  # describe_exception's


def raised_where_the_mistake_raises(v: C.Verdict) -> C.Verdict:
    """Drop the mistakes an error matches only by its text: one whose catalogue entry names the
    word its raising line holds (raised_at), when the learner's error came from a line without it.
    Keys not transposed and values not transposed raise the same size mismatch; the line tells."""
    if v.reason != C.EXCEPTION or not v.candidates:
        return v
    line = _CODE_LINE.search(v.message)
    if line is None:  # no line of the learner's code to read: the note stays a hedge
        return v
    code = line.group(1).split("#", 1)[0]
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
