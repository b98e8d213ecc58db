"""Classroom 50's autograder (grader/learner/classroom50.py) on a correct, a stub and a hostile
checkout: result.json has exactly the fields of `classroom50/result/v1` (as Classroom 50's own
stub autograder, cli/gh-teacher/embed/autograder.py, writes them), one test per task worth its
points, and a module that kills its process at import costs only its own topic."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from grader.course.curriculum import ROOT, load
from grader.learner import classroom50

ENV = {"CLASSROOM": "llm-2026", "ASSIGNMENT": "ch3", "SUBMISSION_TAG": "submit/2026-12-04T10-00-00Z",
       "COMMIT_URL": "https://github.com/o/r/commit/abc", "RELEASE_URL": "https://github.com/o/r/releases/tag/s"}
FIELDS = {"schema", "classroom", "assignment", "submission", "commit", "release", "review", "datetime", "score",
          "max-score", "tests"}


def checkout(tmp_path: Path, kind: str) -> Path:
    exercises = tmp_path / kind / "exercises"
    shutil.copytree(ROOT / ("exercises" if kind == "stub" else "solutions"), exercises,
                    ignore=shutil.ignore_patterns("mistakes", "*.toml", "__pycache__"))
    if kind == "hostile":
        (exercises / "causal_attention.py").write_text("import os\nos._exit(3)\n", encoding="utf-8")
    return exercises


@pytest.mark.parametrize("kind", ["reference", "stub", "hostile"])
def test_the_autograder_writes_classroom50s_result(tmp_path, kind):
    ch3 = load().assignment("ch3")
    out = tmp_path / "out"
    out.mkdir()
    github_output = tmp_path / "github_output"
    assert classroom50.main(ROOT, {**ENV, "GITHUB_OUTPUT": str(github_output)}, checkout(tmp_path, kind), out) == 0
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert set(result) == FIELDS and result["schema"] == "classroom50/result/v1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", result["datetime"]) and result["review"] == ENV["COMMIT_URL"]
    tasks = [(t.slug, task) for t in ch3.topics for task in t.tasks]
    assert [t["test-name"] for t in result["tests"]] == [f"{s} task {task.id}: {task.title}" for s, task in tasks]
    assert [t["max-score"] for t in result["tests"]] == [task.points for _, task in tasks]
    assert result["max-score"] == sum(t.max_points for t in ch3.topics)
    assert result["score"] == sum(t["score"] for t in result["tests"])
    by_topic = {s: sum(t["score"] for t in result["tests"] if t["test-name"].startswith(s + " ")) for s in ch3.slugs}
    expected = {"reference": {t.slug: t.max_points for t in ch3.topics}, "stub": dict.fromkeys(ch3.slugs, 0),
                "hostile": {t.slug: 0 if t.slug == "causal_attention" else t.max_points for t in ch3.topics}}[kind]
    if kind == "hostile":  # multihead_attention builds on causal_attention: the learner's file imports it
        expected["multihead_attention"] = by_topic["multihead_attention"]
    assert by_topic == expected
    lines = github_output.read_text(encoding="utf-8").splitlines()
    assert lines == [f"status={'success' if kind == 'reference' else 'failure'}",
                     f"summary={result['score']}/{result['max-score']} points on the public checks"]
    assert (out / "release-body.md").read_text(encoding="utf-8").startswith("### Public checks:")


def test_make_classroom_is_the_release_with_the_autograder(tmp_path):
    from grader.builders import classroom
    from grader.builders.release import release_files
    folder = classroom.build(tmp_path)
    shipped = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert shipped == set(release_files()) | {"autograder.py", classroom.WORKFLOW}
    assert (folder / "autograder.py").stat().st_mode & 0o100
    assert "grader/learner/classroom50.py" in shipped, "the release ships what the autograder runs"
    compile((folder / "autograder.py").read_text(encoding="utf-8"), "autograder.py", "exec")


def test_the_legacy_workflow_has_a_step_per_task_that_fails_when_the_task_fails(tmp_path):
    """`.github/workflows/classroom.yml`: one autograding-command-grader step per task worth its
    points, all reported; each step's command, run in the template with the stub and with the
    reference, exits non-zero for a failing task and 0 for a passing one."""
    import subprocess
    import sys

    import yaml

    from grader.builders import classroom
    from grader.grading.grade import gradable
    folder = classroom.build(tmp_path)
    flow = yaml.safe_load((folder / classroom.WORKFLOW).read_text(encoding="utf-8"))
    assert flow["on"] == ["push", "repository_dispatch"] and flow["permissions"]["checks"] == "write"
    steps = flow["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if s.get("uses") == "classroom-resources/autograding-command-grader@v1"]
    tasks = [(t.slug, task) for t in gradable(load()).topics for task in t.tasks]
    assert [(s["with"]["test-name"], s["with"]["max-score"]) for s in graders] == [
        (f"{slug} task {task.id}: {task.title}", task.points) for slug, task in tasks]
    assert all(set(s["with"]) == {"test-name", "command", "timeout", "max-score"} for s in graders)
    [reporter] = [s for s in steps if s.get("uses") == "classroom-resources/autograding-grading-reporter@v1"]
    assert steps[-1] == reporter and reporter["with"]["runners"].split(",") == [s["id"] for s in graders]
    assert reporter["env"] == {f"{s['id'].upper()}_RESULTS": f"${{{{steps.{s['id']}.outputs.result}}}}" for s in graders}
    [step] = [s for s in graders if s["id"] == "causal-attention-task-1"]
    command = step["with"]["command"].split()
    assert command[0] == ".venv/bin/python"
    for kind, expected in (("exercises", 1), ("solutions", 0)):
        shutil.rmtree(folder / "exercises")
        shutil.copytree(ROOT / kind, folder / "exercises", ignore=shutil.ignore_patterns("mistakes", "*.toml", "__pycache__"))
        run = subprocess.run([sys.executable, *command[1:]], cwd=folder, capture_output=True, text=True, timeout=300)
        assert run.returncode == expected, (kind, run.stdout, run.stderr)
        assert run.stdout.startswith("causal_attention task 1: ")
