"""PrairieLearn: one externally graded question per topic, graded by the same grader as `make grade`.

    python -m grader.builders.prairielearn [--out dist/prairielearn]    # `make prairielearn`
    python -m grader.builders.prairielearn grade --topic SLUG [--root /grade]
                                                  # what the question's entrypoint runs per submission

The contract is PrairieLearn's external grading (docs/externalGrading.md in PrairieLearn/PrairieLearn):
a question's info.json sets `gradingMethod: "External"` and `externalGradingOptions` (image,
serverFilesCourse, entrypoint, timeout, environment); the container gets the student's files in
/grade/student and the course's shared files in /grade/serverFilesCourse, and must write
/grade/results/results.json: `score` in [0, 1], or `gradable: false` with `format_errors` for a
submission that cannot be graded (no points lost, no attempt used), plus `message`, `output` and
`tests` [{name, description, points, max_points, message, output}] that the
<pl-external-grader-results> element shows, each test with optional `images` [{label, url}]
(here a failing check's heatmaps, as the HTML feedback draws them, as SVG data URLs).

The folder written here: `serverFilesCourse/kata/` (grader/, checks, fixtures, solutions, hints,
data and your secret for the hidden inputs, as in the Gradescope bundle: never give it to
students), `questions/kata_<slug>/` per topic (info.json, question.html with the stub in a
<pl-file-editor>), and `grader-image/Dockerfile` (Python 3.11, CPU PyTorch and the pinned
packages; no network needed at grading time). A topic the question builds on is the student's
own if submitted and working, the reference's otherwise (grader.course.curriculum's `only`).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
import traceback
import uuid
from pathlib import Path

from ..course.curriculum import ROOT, Curriculum, load
from ..course.files import write_atomic
from ..engine import verdicts as V
from ..engine.messages import clean, explain, headline
from ..grading.record import UNEARNED, StudentGrade, check_points
from ..grading.reports.pages import check_dims, verdict_images
from .gradescope import BUNDLED_SECRET, bundle_files, grade_one
from .release import Entry, Files, write_tree

COURSE_FOLDER = "kata"  # under serverFilesCourse/
IMAGE = "kata-grader"   # the name `docker build -t` gives it in the README; push it where PrairieLearn can pull it
TIMEOUT = 120           # seconds for one grading job: a warm-up of about 10 s, then the topic's checks
IMAGE_BUDGET = 600_000  # characters of images in results.json, which PrairieLearn caps at 1 MB in all

RUN_SH = f"""#!/bin/bash
# PrairieLearn's entrypoint for every kata question: grade /grade/student for the topic $KATA_TOPIC.
set -euo pipefail
cd /grade/serverFilesCourse/{COURSE_FOLDER}
export KATA_SECRET="$PWD/{BUNDLED_SECRET}" PYTHONDONTWRITEBYTECODE=1
exec python3 -m grader.builders.prairielearn grade --topic "$KATA_TOPIC" --root /grade
"""

DOCKERFILE = """# The image every kata question runs in: Python, CPU PyTorch and the pinned packages, nothing else.
# docker build -t {image} . ; then push it to a registry PrairieLearn can pull from (info.json's "image").
FROM python:3.11-slim
COPY pyproject.toml /tmp/kata/pyproject.toml
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch=={torch} \\
 && pip install --no-cache-dir {packages}
"""


def question(topic) -> dict[str, Entry]:
    """A question's files: info.json and question.html (the stub in an editor)."""
    info = {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"kata/{topic.slug}")), "title": topic.title,
            "topic": f"Build an LLM: {topic.chapter}", "tags": ["kata", topic.slug], "type": "v3",
            "gradingMethod": "External", "singleVariant": True,
            "externalGradingOptions": {"enabled": True, "image": IMAGE, "serverFilesCourse": [f"{COURSE_FOLDER}/"],
                                       "entrypoint": f"/grade/serverFilesCourse/{COURSE_FOLDER}/run.sh",
                                       "timeout": TIMEOUT, "environment": {"KATA_TOPIC": topic.slug}}}
    tasks = "".join(f"<li>Task {t.id}: {t.title} ({t.points} points)</li>" for t in topic.tasks)
    html = (f"<pl-question-panel>\n<p>{topic.title} (book {topic.chapter}). Write the functions and classes "
            f"of <code>{topic.module_file}</code>; the tasks:</p>\n<ol>{tasks}</ol>\n</pl-question-panel>\n\n"
            f'<pl-file-editor file-name="{topic.module_file}" ace-mode="ace/mode/python" '
            f'source-file-name="{topic.module_file}"></pl-file-editor>\n\n'
            "<pl-submission-panel>\n<pl-external-grader-results></pl-external-grader-results>\n"
            "<pl-file-preview></pl-file-preview>\n</pl-submission-panel>\n")
    return {"info.json": Entry((json.dumps(info, indent=2) + "\n").encode()), "question.html": Entry(html.encode()),
            topic.module_file: Entry(topic.exercise().read_bytes())}


def course_files(root: Path = ROOT) -> Files:
    curriculum = load(root)
    files: Files = {f"serverFilesCourse/{COURSE_FOLDER}/{name}": entry for name, entry in bundle_files(root).items()
                    if name not in ("setup.sh", "run_autograder")}
    files[f"serverFilesCourse/{COURSE_FOLDER}/run.sh"] = Entry(RUN_SH.encode(), executable=True)
    for topic in curriculum.topics:
        for name, entry in question(topic).items():
            files[f"questions/kata_{topic.slug}/{name}"] = entry
    pyproject = (root / "pyproject.toml").read_text(encoding="utf-8")
    deps = tomllib.loads(pyproject)["project"]["dependencies"]
    torch = next(d.split("==")[1] for d in deps if d.startswith("torch=="))
    files["grader-image/Dockerfile"] = Entry(DOCKERFILE.format(
        image=IMAGE, torch=torch, packages=" ".join(f"'{d}'" for d in deps if not d.startswith("torch"))).encode())
    files["grader-image/pyproject.toml"] = Entry(pyproject.encode())
    return files


def results(curriculum: Curriculum, grade: StudentGrade, submitted: bool) -> dict:
    """PrairieLearn's results.json for one question (one topic) from the student's grade."""
    [topic] = curriculum.topics
    topic_grade = grade.topics.get(topic.slug)
    verdicts = topic_grade.all_verdicts if topic_grade else []
    if grade.error or not submitted:
        why = grade.error or f"{topic.module_file} is not among the files you submitted"
        return {"gradable": False, "format_errors": [clean(why)]}
    public = topic_grade.verdicts if topic_grade else []
    first = public[0] if public else None
    if first is not None and all(v.reason == V.EXCEPTION and v.message == first.message for v in public):
        # Every public check met one error: the module does not import (or one error stops everything):
        # PrairieLearn then uses no attempt and takes no points, and shows the error.
        return {"gradable": False, "format_errors": [clean(first.message)]}
    tests = [{"name": f"Task {v.task}: {v.check}" + (" (hidden inputs)" if v.hidden else ""),
              "description": clean(v.what), "points": points, "max_points": most,
              "message": headline(v) if points or not v.passed else UNEARNED,
              "output": "" if v.passed else clean(explain(v, topic))}
             for v, points, most in (check_points(curriculum, topic_grade) if topic_grade else [])]
    # A failing check's heatmaps (expected, yours, the difference), as the HTML feedback draws them:
    # a test's `images` (docs/externalGrading.md), within a budget that keeps the file under its 1 MB.
    dims, budget = None, IMAGE_BUDGET
    for test, v in zip(tests, verdicts):
        if v.passed or not v.visual:
            continue
        dims = check_dims(topic) if dims is None else dims
        images = verdict_images(v, dims.get(v.check))
        size = sum(len(i["url"]) + len(i["label"]) for i in images)
        if images and size <= budget:
            test["images"], budget = images, budget - size
    most = topic_grade.max_points if topic_grade else topic.max_points
    score = (topic_grade.points / most) if topic_grade and most else 0.0
    return {"gradable": True, "score": min(1.0, max(0.0, score)),
            "message": f"{topic_grade.points:g} of {most} points" if topic_grade else "",
            "output": clean(topic_grade.note) if topic_grade else "", "tests": tests}


def grade_command(args: argparse.Namespace) -> int:
    started = time.monotonic()
    target = args.root / "results" / "results.json"
    curriculum = load().only((args.topic,))
    try:
        grade, submission = grade_one(args.root / "student", curriculum, args.timeout, args.no_sandbox)
        data = results(curriculum, grade, curriculum[args.topic].module_file in submission.files)
    except Exception as err:  # noqa: BLE001 -- PrairieLearn must get a results.json whatever happens
        traceback.print_exc()
        data = {"gradable": False, "format_errors": [f"The grader failed before it could grade this submission "
                                                     f"(not a verdict on your code; tell your instructor): "
                                                     f"{type(err).__name__}: {err}"]}
    write_atomic(target, json.dumps(data, indent=2).encode())
    print(f"{data.get('score', 'not gradable')} in {time.monotonic() - started:.1f} s; results in {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.prairielearn", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist" / "prairielearn")
    sub = parser.add_subparsers(dest="command")
    grade = sub.add_parser("grade", help="grade ROOT/student for one topic into ROOT/results/results.json")
    grade.add_argument("--topic", required=True)
    grade.add_argument("--root", type=Path, default=Path("/grade"))
    grade.add_argument("--timeout", type=float)
    grade.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "grade":
        return grade_command(args)
    write_tree(course_files(), args.out)
    print(f"PrairieLearn: {args.out}/ (questions/kata_<topic>/, serverFilesCourse/{COURSE_FOLDER}/, grader-image/). "
          "Copy questions/ and serverFilesCourse/ into your course; build and push grader-image. It holds the "
          "solutions and your secret: keep it out of students' reach.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
