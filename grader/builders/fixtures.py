"""Fixtures: the inputs of every check with the reference's and each mistake's outputs.

`make fixtures` (python -m grader.builders.fixtures) writes tests/fixtures/<slug>.safetensors from
`solutions/` with fixed seeds. Inputs are stored, not regenerated, so a check does not depend
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
from ..engine.cases import encode
from ..engine.reference import build_cases


def generate(topic: Topic, out_dir: Path | None = None) -> Path:
    checks = C.load_checks(topic.test_file())
    target = (out_dir or topic.fixture_file().parent) / topic.fixture_file().name
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, encode(build_cases(topic, checks)))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.fixtures", description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", help="topic slugs (default: every topic with checks)")
    parser.add_argument("--out", type=Path, help="write here instead of tests/fixtures/")
    args = parser.parse_args(argv)
    from ..course.offline import install
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
