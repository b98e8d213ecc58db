"""`make classroom`: dist/classroom/, the template repository for Classroom 50 (GitHub).

The learner's release (grader.builders.release) plus `autograder.py` at its root, which Classroom
50 runs in each student's checkout after a submission: it sets the course up once (`make setup`,
PyTorch's CPU wheels) and runs grader.learner.classroom50, which writes `result.json` (one test per
task) and the feedback. Use the folder as the assignment's template repository, and this
`autograder.py` as the classroom's (`gh teacher autograder set-default ORG CLASSROOM --from
dist/classroom/autograder.py`). Beside it, `.github/workflows/classroom.yml`: the legacy per-test
workflow (one autograding-command-grader step per task) for courses whose template repositories
still use it. In Actions the student controls the workflow: the result is a convenience for
them; `make grade` on the collected repositories is the grade.

    python -m grader.builders.classroom [--out dist]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from ..course.curriculum import ROOT, Curriculum, load
from ..grading.grade import gradable
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


WORKFLOW = ".github/workflows/classroom.yml"
TASK_COMMAND = ".venv/bin/python -m grader.learner.classroom50 task {slug} {task}"


def step_id(slug: str, task: int) -> str:
    return f"{slug.replace('_', '-')}-task-{task}"


def workflow(curriculum: Curriculum) -> str:
    """The per-test GitHub Actions workflow that template repositories made for GitHub Classroom
    still use: one step per task with classroom-resources/autograding-command-grader@v1, whose
    inputs are `test-name`, `setup-command`, `command` (the test passes when it exits 0),
    `timeout` (minutes) and `max-score`, and whose output `result` each step gives to
    classroom-resources/autograding-grading-reporter@v1 (input `runners`: the steps' ids, comma
    separated; each step's result in the env as `<ID in capitals>_RESULTS`). Source: those
    actions' READMEs (classroom-resources/autograding-command-grader, -grading-reporter)."""
    steps: list[dict] = [{"name": "Checkout code", "uses": "actions/checkout@v4"},
                         {"name": "Set up the course", "run": "make setup",  # PyTorch's CPU wheels: the GPU ones are GBs
                          "env": {"PIP_EXTRA_INDEX_URL": "https://download.pytorch.org/whl/cpu"}}]
    ids = []
    for topic in curriculum.topics:
        for task in topic.tasks:
            ids.append(step_id(topic.slug, task.id))
            steps.append({"name": f"{topic.slug} task {task.id}", "id": ids[-1],
                          "uses": "classroom-resources/autograding-command-grader@v1",
                          "with": {"test-name": f"{topic.slug} task {task.id}: {task.title}",
                                   "command": TASK_COMMAND.format(slug=topic.slug, task=task.id),
                                   "timeout": 10, "max-score": task.points}})
    steps.append({"name": "Autograding Reporter", "uses": "classroom-resources/autograding-grading-reporter@v1",
                  "env": {f"{i.upper()}_RESULTS": "${{steps.%s.outputs.result}}" % i for i in ids},
                  "with": {"runners": ",".join(ids)}})
    flow = {"name": "Autograding Tests", "on": ["push", "repository_dispatch"],
            "permissions": {"checks": "write", "actions": "read", "contents": "read"},
            "jobs": {"run-autograding-tests": {"runs-on": "ubuntu-latest",
                                               "if": "github.actor != 'github-classroom[bot]'", "steps": steps}}}
    header = ("# The legacy per-test autograding of GitHub Classroom template repositories: one step per task,\n"
              "# its points as max-score, passed when the task's public checks pass (written by make classroom).\n"
              "# The student controls this workflow: make grade on the collected repositories is the grade.\n")
    return header + yaml.safe_dump(flow, sort_keys=False, width=1000)


def build(out: Path) -> Path:
    files = release_files()
    files["autograder.py"] = Entry(AUTOGRADER.encode(), executable=True)
    files[WORKFLOW] = Entry(workflow(gradable(load())).encode())
    folder = out / "classroom"
    write_tree(files, folder)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.classroom", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output folder (default: dist)")
    folder = build(parser.parse_args(argv).out)
    print(f"Classroom 50 template: {folder}/ (the release, autograder.py and {WORKFLOW}). Use it as the "
          f"assignment's template repository, and {folder / 'autograder.py'} as the classroom's autograder.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
