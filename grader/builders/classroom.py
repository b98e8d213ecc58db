"""`make classroom`: dist/classroom/, the template repository for Classroom 50 (GitHub).

The learner's release (grader.builders.release) plus `autograder.py` at its root, which Classroom
50 runs in each student's checkout after a submission: it sets the course up once (`make setup`,
PyTorch's CPU wheels) and runs grader.learner.classroom50, which writes `result.json` (one test per
task) and the feedback. Use the folder as the assignment's template repository, and this
`autograder.py` as the classroom's (`gh teacher autograder set-default ORG CLASSROOM --from
dist/classroom/autograder.py`). In Actions the student controls the workflow: the result is a
convenience for them; `make grade` on the collected repositories is the grade.

    python -m grader.builders.classroom [--out dist]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..course.curriculum import ROOT
from .release import Entry, release_files, write_tree

AUTOGRADER = '''#!/usr/bin/env python3
"""Classroom 50 runs this in your repository after each submission: your public checks, as
`kata check` runs them, written as Classroom 50's result.json (one test per task)."""
import os
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent
python = root / ".venv" / "bin" / "python"
if not python.exists():  # the CPU build of PyTorch: the GPU one is gigabytes, and checks need none
    env = {**os.environ, "PIP_EXTRA_INDEX_URL": "https://download.pytorch.org/whl/cpu"}
    subprocess.run(["make", "setup"], cwd=root, env=env, check=True)
sys.exit(subprocess.run([str(python), "-m", "grader.learner.classroom50"], cwd=root).returncode)
'''


def build(out: Path) -> Path:
    files = release_files()
    files["autograder.py"] = Entry(AUTOGRADER.encode(), executable=True)
    folder = out / "classroom"
    write_tree(files, folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.classroom", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist)")
    folder = build(parser.parse_args(argv).out)
    print(f"Classroom 50 template: {folder}/ (the release and autograder.py). Use it as the assignment's "
          f"template repository, and {folder / 'autograder.py'} as the classroom's autograder.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
