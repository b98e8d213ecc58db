"""Gradescope: an autograder bundle that grades with the same checks and grader as `make grade`.

    python -m grader.builders.gradescope [--out dist/gradescope] [--assignment NAME]
                                  # writes autograder.zip (`make gradescope [ASSIGNMENT=ch3]`)
    python -m grader.builders.gradescope grade [--root /autograder] [--timeout S] [--no-sandbox]
                                                          # what run_autograder runs per submission

The bundle holds setup.sh and run_autograder (grader/builders/templates/gradescope/) at its root, and
everything grading needs: grader/, the checks and fixtures, the solutions with the catalogue of
mistakes, the instructor's secret the hidden inputs come from (as in `make grade`), the hints, the
data, curriculum.toml and pyproject.toml. It is the instructor's: upload it to Gradescope only,
never hand it out.

On Gradescope, setup.sh installs Python and the pinned packages once per image; run_autograder
then reads the submission from ROOT/submission (the topic modules flat, in an exercises/
folder, or in a zip uploaded among them), grades it on a sandboxed worker exactly as `make grade`
grades one student (public and hidden checks, a failing dependency graded again with the
reference), and writes ROOT/results/results.json in Gradescope's format: one test per check,
checks on hidden inputs visible after the due date, and a summary that says how isolated the
grading was ("isolation degraded" where bubblewrap cannot start, as in most Docker setups).
ROOT is $KATA_AUTOGRADER_ROOT, or /autograder.

With ASSIGNMENT=NAME (an [[assignment]] of curriculum.toml, a Gradescope assignment per week)
the bundle holds that assignment's topics and the earlier ones they build on (their references,
for a regrade when a graded topic fails through one), and grades its topics only, out of its
points: make one bundle per Gradescope assignment.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
import traceback
from pathlib import Path

from ..course.curriculum import ROOT, Curriculum, load
from ..course.files import write_atomic
from ..grading.grade import TOPIC_TIMEOUT, Pool, gradable, grade_submissions, prepare
from ..grading.record import StudentGrade, now
from ..engine.secret import instructor_secret
from ..course.offline import install
from .release import TEMPLATES, Entry, Files, write_zip
from ..grading.reports.report import json_bytes, results_json
from ..grading.sandbox.host import probe_isolation
from ..grading.submissions import Submission, read_folder, read_zip

AUTOGRADER_ROOT = Path(os.environ.get("KATA_AUTOGRADER_ROOT", "/autograder"))
STUDENT = "submission"  # Gradescope grades one submission per run; results.json carries no name
BUNDLED_SECRET = "kata-secret"  # in the bundle; run_autograder points KATA_SECRET at it
WORKERS = 1             # one submission: its topics run one after another on one warm worker


BUNDLED_ASSIGNMENT = "kata-assignment"  # the assignment a bundle grades, when it grades one
# A topic's own files: only an assignment's topics, and the earlier ones they build on, are bundled for it.
TOPIC_FILES = re.compile(r"(?:tests/test_|tests/fixtures/|solutions/|solutions/mistakes/|hints/)(?P<slug>[a-z0-9_]+)\.[a-z.]+")


def bundle_files(root: Path = ROOT, assignment: str | None = None) -> Files:
    """Every file of the autograder bundle, by its path in the zip: for every topic, or for one
    assignment of curriculum.toml (its topics graded, out of its points; KeyError if unknown)."""
    files: Files = {}
    kept = None
    if assignment is not None:
        chosen = load(root).assignment(assignment)
        kept = {t.slug for t in chosen.topics + chosen.context}
        files[BUNDLED_ASSIGNMENT] = Entry(assignment.encode() + b"\n")
    all_slugs = set(load(root).slugs)
    patterns = ("curriculum.toml", "pyproject.toml", "LICENSE", "grader/**/*.py", "tests/test_*.py",
                "tests/fixtures/*.safetensors", "tests/fixtures/*.trace.json", "solutions/*.py", "solutions/hidden.toml",
                "solutions/mistakes/*.toml", "hints/*.toml", "data/corpus.txt", "data/gpt2.tiktoken",
                "data/NOTICE.md")
    for pattern in patterns:
        for path in sorted(p for p in root.glob(pattern) if not p.is_relative_to(root / "grader" / "tests")):
            name = path.relative_to(root).as_posix()
            topic = TOPIC_FILES.fullmatch(name)
            if kept is not None and topic and topic["slug"] in all_slugs and topic["slug"] not in kept:
                continue
            files[name] = Entry(path.read_bytes())
    for script in ("setup.sh", "run_autograder"):
        files[script] = Entry((TEMPLATES / "gradescope" / script).read_bytes(), executable=True)
    # The instructor's secret, so that every container grades the same hidden inputs as `make grade`
    # (the bundle holds the solutions already: it is the instructor's alone).
    files[BUNDLED_SECRET] = Entry(instructor_secret()[0] + b"\n")
    return files


def build(out: Path, assignment: str | None = None) -> Path:
    archive = out / "autograder.zip"
    files = bundle_files(assignment=assignment)
    write_zip(files, archive)  # setup.sh and run_autograder at the root, as Gradescope wants
    return archive


def bundled_curriculum(root: Path = ROOT) -> Curriculum:
    """What this bundle grades: every topic, or the assignment `make gradescope ASSIGNMENT=` chose."""
    chosen = root / BUNDLED_ASSIGNMENT
    curriculum = load(root)
    return curriculum.assignment(chosen.read_text(encoding="utf-8").strip()) if chosen.is_file() else curriculum


# ---------------------------------------------------------------------------------------------
# Grading one submission (run_autograder).


def read_submission(folder: Path, modules: set[str]) -> Submission:
    """The topic modules of a Gradescope upload: files flat, in an exercises/ folder, or inside a
    zip uploaded among them (taken when the folder itself holds no topic module)."""
    if not folder.is_dir():
        return Submission(STUDENT, error=f"no submission folder at {folder}")
    found = read_folder(folder, STUDENT, modules)
    if found.files or found.error:
        return found
    for archive in sorted(folder.glob("*.zip"), key=lambda p: p.name.lower()):
        if archive.is_file() and not archive.is_symlink():
            inner = read_zip(archive, STUDENT, modules)
            if inner.files:
                inner.ignored = ([(p, why) for p, why in found.ignored if p != archive.name]
                                 + [(f"{archive.name}: {p}", why) for p, why in inner.ignored])
                return inner
    return found


def upload_notes(submission: Submission, modules: set[str]) -> list[str]:
    """What a student needs to know about their upload: Gradescope shows only `output` and tests."""
    notes = []
    if not submission.files:
        notes.append("No topic module was found in your submission. Upload your files from exercises/ "
                     f"({', '.join(sorted(modules))}), as they are, in an exercises/ folder, or in a zip.")
    if submission.ignored:
        notes.append("Not graded: " + "; ".join(f"{path} ({why})" for path, why in submission.ignored[:20])
                     + ("; ..." if len(submission.ignored) > 20 else ""))
    return notes


def grade_one(folder: Path, curriculum: Curriculum, timeout: float | None = None, no_sandbox: bool = False
              ) -> tuple[StudentGrade, Submission]:
    """Grade one submission folder on `curriculum`'s topics as `make grade` grades one student
    (Gradescope's and PrairieLearn's containers run it)."""
    install()  # GPT-2's encoding offline, for the reference's hidden expected values too
    submission = read_submission(folder, {t.module_file for t in curriculum.topics + curriculum.context})
    isolation = probe_isolation(no_sandbox)
    print(isolation.describe(), flush=True)
    prep = prepare(curriculum)
    with Pool(isolation, WORKERS, prep.packed_cases()) as pool:
        [grade] = grade_submissions([submission], prep, pool, timeout=timeout or TOPIC_TIMEOUT)
    grade.submission, grade.grader, grade.isolation, grade.graded_at = submission.digest(), prep.fingerprint, isolation, now()
    return grade, submission


def grade_folder(folder: Path, timeout: float | None = None, no_sandbox: bool = False) -> dict:
    """Grade one submission folder as `make grade` grades one student; Gradescope's results.json."""
    curriculum = bundled_curriculum()
    modules = {t.module_file for t in curriculum.topics}
    grade, submission = grade_one(folder, curriculum, timeout, no_sandbox)
    results = results_json(gradable(curriculum), grade)
    results["output"] = "\n".join([results["output"], *upload_notes(submission, modules)])
    return results


def failed_run(error: str) -> dict:
    """results.json when the autograder itself breaks: no points, and a message for the student."""
    return {"score": 0.0, "output": "The autograder failed before it could grade your submission (this is "
                                    f"not a verdict on your code; please tell your instructor): {error}",
            "visibility": "visible", "stdout_visibility": "hidden", "tests": []}


def grade_command(args: argparse.Namespace) -> int:
    started = time.monotonic()
    target = args.root / "results" / "results.json"
    try:
        results = grade_folder(args.root / "submission", args.timeout, args.no_sandbox)
    except Exception as err:  # noqa: BLE001 -- Gradescope must get a results.json whatever happens
        traceback.print_exc()  # stdout and stderr reach the instructor only
        write_atomic(target, json_bytes(failed_run(f"{type(err).__name__}: {err}")))
        return 1
    write_atomic(target, json_bytes(results))
    print(f"Score {results['score']:g} in {time.monotonic() - started:.1f} s; results in {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.builders.gradescope", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where to write autograder.zip (default: dist/gradescope, "
                                                 "or dist/gradescope/ASSIGNMENT)")
    parser.add_argument("--assignment", help="bundle one assignment of curriculum.toml: its topics, out of its points")
    sub = parser.add_subparsers(dest="command")
    grade = sub.add_parser("grade", help="grade ROOT/submission into ROOT/results/results.json")
    grade.add_argument("--root", type=Path, default=AUTOGRADER_ROOT,
                       help="Gradescope's /autograder (default: $KATA_AUTOGRADER_ROOT or /autograder)")
    grade.add_argument("--timeout", type=float, help="seconds per topic (default: as `make grade`)")
    grade.add_argument("--no-sandbox", action="store_true", help="do not use bubblewrap (degraded)")
    args = parser.parse_args(argv)
    if args.command == "grade":
        return grade_command(args)
    out = args.out or ROOT / "dist" / "gradescope" / (args.assignment or "")
    try:
        archive = build(out, args.assignment)
    except KeyError as err:
        print(err.args[0], file=sys.stderr)
        return 2
    what = (f"assignment {args.assignment} ({', '.join(load().assignment(args.assignment).slugs)})"
            if args.assignment else "every topic")
    print(f"Gradescope autograder for {what}: {archive} ({archive.stat().st_size:,} bytes). It holds the solutions "
          "and your secret for the hidden inputs: upload it to Gradescope only.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
