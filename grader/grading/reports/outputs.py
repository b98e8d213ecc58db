"""The output folder: per student grade.json (the record) and what is made from it alone
(results.json, feedback.md, feedback.html, junit.xml); per class gradebook.csv, class_report.md and .html.
Every file is written atomically (grader.course.files)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from ...course.curriculum import Curriculum
from ...course.files import write_atomic
from .. import record
from ..record import StudentGrade
from ..sandbox.host import Isolation
from .junit import junit_xml
from .pages import class_report_html, feedback_html
from .report import class_report_md, feedback_md, gradebook_csv, json_bytes, results_json

STUDENT_FILES = ("results.json", "feedback.md", "feedback.html", "junit.xml")


def write_student(out_dir: Path, curriculum: Curriculum, grade: StudentGrade, secret: bytes) -> StudentGrade:
    """Save the student's grade.json, then their reports from what it holds; returns that grade.
    If they cannot be written, the grade says why, and its student is graded again next time."""
    folder = out_dir / grade.student
    try:
        data = record.to_record(grade, curriculum)
        record.save(folder / record.FILE, data, secret)
        grade = record.from_record(data, curriculum, made_here=True)  # the reports see only what the record holds
        write_atomic(folder / "results.json", json_bytes(results_json(curriculum, grade)))
        write_atomic(folder / "feedback.md", feedback_md(curriculum, grade))
        write_atomic(folder / "feedback.html", feedback_html(curriculum, grade))
        write_atomic(folder / "junit.xml", junit_xml(curriculum, grade))
        return grade
    except Exception as err:  # noqa: BLE001 -- this student's reports, not the class's
        why = (f"the grader could not write this student's reports ({type(err).__name__}: {err}"[:400]
               + "); report it, then grade again")
        return write_problem(out_dir, curriculum, grade, why, secret)


def write_problem(out_dir: Path, curriculum: Curriculum, grade: StudentGrade, why: str, secret: bytes) -> StudentGrade:
    """A student whose reports could not be made, or who was not graded: their status says why,
    and without a submission fingerprint the next run grades them again. Best effort: the class
    report still has them."""
    grade = replace(grade, error=why, submission="")
    folder = out_dir / grade.student
    try:
        record.save(folder / record.FILE, record.to_record(grade, curriculum), secret)
        write_atomic(folder / "results.json", json_bytes(results_json(curriculum, grade)))
    except Exception:  # noqa: BLE001 -- the gradebook still has the row
        pass
    return grade


def write_class(out_dir: Path, curriculum: Curriculum, grades: dict[str, StudentGrade], isolation: Isolation,
                seconds: float, graded_now: int, skipped: list[tuple[str, str]],
                failed: Callable[[str, Exception], None] = lambda name, err: None) -> None:
    """The class's files; one that cannot be written is reported to `failed`, the others still are."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, render in (("gradebook.csv", lambda: gradebook_csv(curriculum, grades)),
                         ("class_report.md", lambda: class_report_md(curriculum, grades, isolation, seconds,
                                                                      graded_now, skipped)),
                         ("class_report.html", lambda: class_report_html(curriculum, grades, isolation, seconds,
                                                                          graded_now, skipped))):
        try:
            write_atomic(out_dir / name, render())
        except Exception as err:  # noqa: BLE001 -- the other class files are still written
            failed(name, err)
