"""Fixtures: the inputs of every check with the reference's and each mistake's outputs.

`make fixtures` (python -m grader.builders.fixtures) writes tests/fixtures/<slug>.safetensors from
`solutions/` with fixed seeds, and beside it <slug>.trace.json: the reference's intermediate values
on each check's first public case (grader.engine.trace), which say where a learner's first differ
(`--trace-only` rewrites only those). Inputs are stored, not regenerated, so a check does not depend
on the random streams of the installed torch. The same function builds the grader's hidden
cases (other seeds, so other values and sizes) at grading time.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..course.curriculum import Topic, load
from ..course.files import write_atomic
from ..engine import checks as C
from ..engine import trace
from ..engine.cases import encode, trace_file
from ..engine.probe import probe_topic
from ..engine.reference import build_cases


def generate(topic: Topic, out_dir: Path | None = None, trace_only: bool = False) -> Path:
    checks = C.load_checks(topic.test_file())
    target = (out_dir or topic.fixture_file().parent) / topic.fixture_file().name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not trace_only:
        write_atomic(target, encode(build_cases(topic, checks)))
    write_atomic(target.parent / trace_file(topic).name, trace.dumps(reference_steps(topic, checks)).encode())
    return target


def reference_steps(topic: Topic, checks: list[C.Check]) -> dict[str, list[trace.Step]]:
    """The reference's steps on each check's first public case, as the probe records a learner's."""
    inputs = {c.name: [c.inputs(c.seeds[0])] for c in checks}
    outcomes = probe_topic(topic, topic.solution().parent, inputs, checks)
    return {c.name: trace.steps_from_data(outcomes[c.name][0].get("steps")) or [] for c in checks}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.fixtures", description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", help="topic slugs (default: every topic with checks)")
    parser.add_argument("--out", type=Path, help="write here instead of tests/fixtures/")
    parser.add_argument("--trace-only", action="store_true", help="rewrite only the <slug>.trace.json files")
    args = parser.parse_args(argv)
    from ..course.offline import install
    install()
    curriculum = load()
    for slug in args.topics or curriculum.slugs:
        topic = curriculum[slug]
        if not topic.test_file().exists():
            print(f"  {slug}: no checks yet, skipped")
            continue
        path = generate(topic, args.out, args.trace_only)
        print(f"  {slug}: {path.stat().st_size:,} bytes -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
