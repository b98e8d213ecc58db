"""Classroom 50's autograder: the learner's public checks, run in their repository by GitHub
Actions, written as Classroom 50's result (issue 15).

Classroom 50 (foundation50/classroom50) runs a course's `autograder.py` in the student's checkout
after each submission; its contract (cli/gh-teacher/embed/autograder.py there): read the env
CLASSROOM, ASSIGNMENT, SUBMISSION_TAG, COMMIT_URL, RELEASE_URL, REVIEW_URL; write `result.json`
in the `classroom50/result/v1` schema (schema, classroom, assignment, submission, commit, release,
review, datetime, score, max-score, tests: [{test-name, passed, score, max-score}]) and optionally
`release-body.md`; append `status=` and `summary=` to $GITHUB_OUTPUT; exit 0 when it ran to the
end (failing checks are in the result, not in the exit code).

Here: one test per task, worth its points in curriculum.toml, passed when every public check of
the task passes (kata's rule); the topics are those of the assignment named ASSIGNMENT in
curriculum.toml, or all of them. The feedback (kata's words per failing task) is the release body
and the step summary. The student controls their repository and so this workflow: this is a
convenience for them, not a grade to trust; `make grade` on the collected repositories (sandboxed,
with hidden inputs) is the grade.

    python -m grader.learner.classroom50      # in the student's checkout, as autograder.py runs it
    python -m grader.learner.classroom50 task SLUG N
        # one task's public checks: exits 0 when they all pass, 1 otherwise, and prints why; what
        # each step of the legacy per-test workflow (make classroom's .github/workflows/) runs
"""

from __future__ import annotations

import datetime
import json
import os
import sys
from pathlib import Path

from ..course.curriculum import Curriculum, load
from ..engine.messages import explain
from . import progress as L

SCHEMA = "classroom50/result/v1"


def topics_for(curriculum: Curriculum, assignment: str) -> Curriculum:
    names = dict(curriculum.assignments)
    return curriculum.assignment(assignment) if assignment in names else curriculum


def result(root: Path, env: dict[str, str], exercises: Path | None = None) -> tuple[dict, str]:
    """(result.json's content, the Markdown feedback) for the checkout at `root`."""
    curriculum = topics_for(load(root), env.get("ASSIGNMENT", ""))
    tests, feedback = [], []
    for topic in curriculum.topics:
        state = L.check_topic(topic, exercises or root / "exercises", overview=True)
        for task in state.tasks:
            passed = task.status == L.DONE
            tests.append({"test-name": f"{topic.slug} task {task.task.id}: {task.task.title}", "passed": passed,
                          "score": task.task.points if passed else 0, "max-score": task.task.points})
            problem = task.problem()
            if not passed and problem is not None and task.status != L.NOT_STARTED:
                feedback += ["```text", explain(problem, topic), "```", ""]
    score, most = sum(t["score"] for t in tests), sum(t["max-score"] for t in tests)
    data = {"schema": SCHEMA, "classroom": env.get("CLASSROOM", ""), "assignment": env.get("ASSIGNMENT", ""),
            "submission": env.get("SUBMISSION_TAG", ""), "commit": env.get("COMMIT_URL", ""),
            "release": env.get("RELEASE_URL", ""), "review": env.get("REVIEW_URL") or env.get("COMMIT_URL", ""),
            "datetime": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "score": score, "max-score": most, "tests": tests}
    passed = sum(t["passed"] for t in tests)
    body = [f"### Public checks: {score}/{most} points ({passed} of {len(tests)} tasks pass)", "",
            "These are the public checks only; your instructor grades the collected repositories again, "
            "with hidden inputs.", ""] + feedback
    return data, "\n".join(body)


def main(root: Path | None = None, env: dict[str, str] | None = None, exercises: Path | None = None,
         out: Path | None = None) -> int:
    root = root or Path.cwd()
    env = dict(os.environ) if env is None else env
    out = out or root
    data, body = result(root, env, exercises)
    (out / "result.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (out / "release-body.md").write_text(body + "\n", encoding="utf-8")
    summary = f"{data['score']}/{data['max-score']} points on the public checks"
    if env.get("GITHUB_OUTPUT"):
        with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.write(f"status={'success' if data['score'] == data['max-score'] else 'failure'}\n")
            out.write(f"summary={summary}\n")
    if env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as out:
            out.write(body + "\n")
    print(f"autograder: {summary}")
    return 0


def task_main(argv: list[str], root: Path | None = None, exercises: Path | None = None) -> int:
    """`task SLUG N`: whether task N of topic SLUG passes its public checks, as the exit code."""
    root = root or Path.cwd()
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m grader.learner.classroom50 task SLUG N", file=sys.stderr)
        return 2
    try:
        topic = load(root)[argv[0]]
    except KeyError as err:
        print(err.args[0], file=sys.stderr)
        return 2
    state = L.check_topic(topic, exercises or root / "exercises", overview=True)  # a topic's checks run once
    found = [t for t in state.tasks if t.task.id == int(argv[1])]
    if not found:
        print(f"{topic.slug} has no task {argv[1]} with checks", file=sys.stderr)
        return 2
    task = found[0]
    passed = task.status == L.DONE
    print(f"{topic.slug} task {task.task.id}: {task.task.title}: {'passed' if passed else 'not passed yet'}")
    problem = task.problem()
    if not passed and problem is not None and task.status != L.NOT_STARTED:
        print(explain(problem, topic))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(task_main(sys.argv[2:]) if sys.argv[1:2] == ["task"] else main())
