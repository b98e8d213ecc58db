"""Expected values: the reference (and each catalogued mistake) run on every check's inputs, for
the fixtures (grader.builders.fixtures) and for the grader's hidden cases (other seeds).
"""

from __future__ import annotations

from typing import Any, Callable

from . import checks as C
from .cases import Case
from .probe import probe_topic
from ..course.curriculum import Topic
from ..course.mistakes import Patch, catalogue, mistaken_tree


class ReferenceFailed(RuntimeError):
    pass


def build_cases(topic: Topic, checks: list[C.Check], seeds: dict[str, tuple[int, ...]] | None = None,
                with_mistakes: bool = True, hidden: bool = False,
                mistake_outcomes: Callable[[Patch, dict[str, list[dict]]], None] | None = None) -> dict[str, list[Case]]:
    """Run the reference (and each mistake) on every check's inputs for the given seeds
    (`hidden`, or a seed the check does not declare: hidden cases, judged without showing them).
    `mistake_outcomes(patch, outcomes)` sees each mistake's outcomes as probe_topic gave them (the
    suite judges them: one run of the catalogue proves the fixtures fresh and every mistake seen)."""
    seeds = seeds or {c.name: c.seeds for c in checks}
    inputs = {c.name: [c.inputs(s) for s in seeds[c.name]] for c in checks}
    reference = probe_topic(topic, topic.solution().parent, inputs, checks, trace=False)
    cases: dict[str, list[Case]] = {}
    for chk in checks:
        cases[chk.name] = []
        for seed, given, data in zip(seeds[chk.name], inputs[chk.name], reference[chk.name]):
            outcome = C.Outcome.from_data(data)
            if outcome.status != "ok":
                where = "on hidden inputs" if hidden or seed not in chk.seeds else f"seed {seed}"
                raise ReferenceFailed(f"{topic.slug}: the reference fails {chk.name} ({where}): {outcome.message}")
            # A seed the check does not declare is a hidden one, whoever asks (the grader, nbgrader).
            cases[chk.name].append(Case(seed, given, outcome.value, hidden=hidden or seed not in chk.seeds))
    if with_mistakes:
        for patch in catalogue(topic):
            with mistaken_tree(topic, patch) as tree:
                outcomes = probe_topic(topic, tree, inputs, checks, trace=False)
            if mistake_outcomes is not None:
                mistake_outcomes(patch, outcomes)
            for chk in checks:
                for case, data in zip(cases[chk.name], outcomes[chk.name]):
                    outcome = C.Outcome.from_data(data)
                    if outcome.status == "ok" and _differs(chk, outcome.value, case.expected):
                        case.mistakes[patch.id] = outcome.value
                    elif outcome.status == C.EXCEPTION:  # named by the first line of its error
                        case.raised[patch.id] = C.error_line(outcome.message)
    return cases


def _differs(chk: C.Check, value: Any, expected: Any) -> bool:
    try:
        C.compare(value, expected, dims=chk.dims, rtol=chk.rtol, atol=chk.atol)
    except C.Failed:
        return True
    return False
