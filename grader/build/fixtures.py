"""Fixtures: the inputs of every check with the reference's and each mistake's outputs.

`make fixtures` (python -m grader.fixtures) writes tests/fixtures/<slug>.safetensors from
`solutions/` with fixed seeds. Inputs are stored, not regenerated, so a check does not depend
on the random streams of the installed torch. The same function builds the grader's hidden
cases (other seeds, so other values and sizes) at grading time.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import checks as C
from . import wire
from .curriculum import Topic, load
from .mistakes import catalogue, mistaken_tree


@dataclass
class Case:
    seed: int
    inputs: dict
    expected: Any
    mistakes: dict[str, Any] = field(default_factory=dict)
    raised: dict[str, str] = field(default_factory=dict)  # mistake id -> the error it raises here
    hidden: bool = False  # a hidden case: its inputs, expected value and seed are never shown


class ReferenceFailed(RuntimeError):
    pass


def build_cases(topic: Topic, checks: list[C.Check], seeds: dict[str, tuple[int, ...]] | None = None,
                with_mistakes: bool = True, hidden: bool = False) -> dict[str, list[Case]]:
    """Run the reference (and each mistake) on every check's inputs for the given seeds
    (`hidden`, or a seed the check does not declare: hidden cases, judged without showing them)."""
    from .run import probe_topic  # run imports this module

    seeds = seeds or {c.name: c.seeds for c in checks}
    inputs = {c.name: [c.inputs(s) for s in seeds[c.name]] for c in checks}
    reference = probe_topic(topic, topic.solution().parent, inputs, checks)
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
                outcomes = probe_topic(topic, tree, inputs, checks)
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


def encode(cases: dict[str, list[Case]]) -> bytes:
    return wire.pack({name: [{"seed": c.seed, "inputs": c.inputs, "expected": c.expected,
                              "mistakes": c.mistakes} | ({"raised": c.raised} if c.raised else {})
                             for c in items]
                      for name, items in cases.items()})


def decode(data: bytes) -> dict[str, list[Case]]:
    return {name: [Case(c["seed"], c["inputs"], c["expected"], c["mistakes"], c.get("raised", {})) for c in items]
            for name, items in wire.unpack(data).items()}


def load_fixture(topic: Topic) -> dict[str, list[Case]]:
    path = topic.fixture_file()
    if not path.exists():
        return {}
    return decode(path.read_bytes())


def generate(topic: Topic, out_dir: Path | None = None) -> Path:
    checks = C.load_checks(topic.test_file())
    target = (out_dir or topic.fixture_file().parent) / topic.fixture_file().name
    target.parent.mkdir(parents=True, exist_ok=True)
    data = encode(build_cases(topic, checks))
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.fixtures", description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", help="topic slugs (default: every topic with checks)")
    parser.add_argument("--out", type=Path, help="write here instead of tests/fixtures/")
    args = parser.parse_args(argv)
    from .offline import install
    install()
    curriculum = load()
    for slug in args.topics or curriculum.slugs:
        topic = curriculum[slug]
        if not topic.test_file().exists():
            print(f"  {slug}: no checks yet, skipped")
            continue
        path = generate(topic, args.out)
        print(f"  {slug}: {path.stat().st_size:,} bytes -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
