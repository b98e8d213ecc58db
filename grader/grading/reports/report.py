"""What grading shows, computed from students' grades as their grade.json records them
(grader.grading.record): per student results.json (Gradescope's schema) and feedback.md; per class
gradebook.csv and class_report.md. grader.grading.reports.outputs writes them.

Whatever a student wrote (messages quote exceptions and printed output; file names, errors) is
passed through grader.engine.messages.clean before it is shown: no control character, no lone surrogate,
no line break where one line is expected, no | in a table cell that would open another."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from dataclasses import dataclass

from ...engine import verdicts as C
from ...course.curriculum import Curriculum, Task, Topic
from ...course.files import json_text
from ..record import UNEARNED, StudentGrade, TopicGrade, check_points, earned
from ...engine.messages import clean, cleaned, explain, headline, md_cell, md_text, one_line
from ..sandbox.host import Isolation


def fenced(text: str, info: str = "text") -> list[str]:
    """A Markdown code block that learner text cannot close: its fence is longer than any run of
    backticks inside."""
    text = clean(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *text.splitlines(), fence]


def code_span(text: str) -> str:
    """Inline code on one line, that no run of backticks inside can close."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    return f"{ticks} {text} {ticks}"


def json_bytes(data: dict) -> bytes:
    """A results.json file's bytes."""
    return (json_text(data, 2, ensure_ascii=False) + "\n").encode()  # a test on each line


def results_json(curriculum: Curriculum, grade: StudentGrade) -> dict:
    """Gradescope's results.json: one test per check; hidden checks visible after the due date."""
    tests = []
    for slug, topic_grade in grade.topics.items():
        topic = curriculum[slug]
        for n, (v, points, most) in enumerate(check_points(curriculum, topic_grade)):
            hidden = n >= len(topic_grade.verdicts)
            tests.append({
                "name": f"{slug} task {v.task}: {v.check}" + (" (hidden inputs)" if hidden else ""),
                "number": f"{curriculum.slugs.index(slug) + 1}.{v.task}",
                "score": points,
                "max_score": most,
                "status": "passed" if v.passed else "failed",
                "output": explain(v, topic) if not v.passed else ("" if points else UNEARNED),
                "visibility": "after_due_date" if hidden else "visible",
                "tags": [slug, f"task-{v.task}", v.reason] + ([v.mistake] if v.mistake else []),
            })
    summary = [f"Total: {grade.total:g} / {sum(t.max_points for t in curriculum.topics)}",
               f"Isolation: {grade.isolation.describe()}"]
    if grade.error:
        summary.append(f"Problem with the submission: {one_line(grade.error)}")
    return cleaned({
        "score": grade.total,
        "execution_time": grade.seconds,
        "output": "\n".join(summary),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"digest": f"{grade.submission}:{grade.grader}" if grade.submission else "",
                       "fingerprint": grade.grader if grade.submission else "",
                       "isolation_degraded": grade.isolation.degraded,
                       "topics": {s: t.points for s, t in grade.topics.items()},
                       "notes": {s: t.note for s, t in grade.topics.items() if t.note},
                       "ignored": grade.ignored, "error": grade.error},
    })


@dataclass(frozen=True)
class TaskResult:
    """One task of one student: how many of its checks passed, and what the feedback shows."""
    task: Task
    passed: int
    checks: int
    failure: C.Verdict | None  # the first failing check: its message is the one shown
    hint: str  # the hint a recognised mistake names, else the task's first; none for "not implemented yet"
    earned: int = 0  # the passed checks that count (record.earned)

    @property
    def status(self) -> str:
        if self.checks and self.passed == self.checks:
            return "passed"
        if self.earned < self.passed:
            return (f"{self.passed} of {self.checks} checks passed, {self.earned} of them on every input: a check "
                    f"counts only when it passes on the hidden inputs too")
        return f"{self.passed} of {self.checks} checks passed"


def task_results(topic: Topic, grade: TopicGrade) -> list[TaskResult]:
    results, counted = [], earned(grade.all_verdicts)
    for task in topic.tasks:
        mine = [v for v in grade.all_verdicts if v.task == task.id]
        failure = next((v for v in mine if not v.passed), None)
        hint = ""
        if failure is not None and failure.reason not in (C.NOT_IMPLEMENTED, C.PASSED):
            named = topic.mistakes.get(failure.mistake) if failure.mistake else None
            if named is not None and 1 <= named.hint <= len(topic.task(named.task).hints):
                hint = topic.task(named.task).hints[named.hint - 1]  # the hint the diagnosis names
            elif task.hints:
                hint = task.hints[0]
        won = sum(w for v, w in zip(grade.all_verdicts, counted) if v.task == task.id)
        results.append(TaskResult(task, sum(v.passed for v in mine), len(mine), failure, hint, won))
    return results


def feedback_md(curriculum: Curriculum, grade: StudentGrade) -> str:
    out = [f"# Feedback for {md_text(grade.student)}", "",
           f"**Total: {grade.total:g} / {sum(t.max_points for t in curriculum.topics)}**", ""]
    if grade.isolation.degraded:
        out += [f"> Note: {md_text(grade.isolation.describe())}.", ""]
    if grade.error:
        out += [f"> Problem with the submission: {md_text(grade.error)}", ""]
    if grade.ignored:
        out += ["Files that were not graded:", ""]
        out += [f"- {code_span(path)}: {md_text(why)}" for path, why in grade.ignored[:30]]
        out += [""]
    for topic in curriculum.topics:
        tg = grade.topics.get(topic.slug)
        if tg is None:
            continue
        out += [f"## {md_text(topic.title)} ({md_text(topic.slug)}): {tg.points:g} / {tg.max_points}", ""]
        if tg.note:
            out += [f"_{md_text(tg.note)}_", ""]
        for result in task_results(topic, tg):
            out.append(f"- **Task {result.task.id}: {md_text(result.task.title)}**: {result.status}")
            if result.failure is not None:
                out += [""] + ["  " + line for line in fenced(explain(result.failure, topic))]
                if result.hint:
                    out += ["", f"  Hint: {one_line(result.hint)}"]  # the course's own Markdown
                out.append("")
        out.append("")
    printed = printed_output(grade)
    if printed:
        out += ["## What your code printed (first lines)", "", *fenced(printed), ""]
    return clean("\n".join(out))


def printed_output(grade: StudentGrade) -> str:
    """What the submission printed, once (every topic of a job shares one output), cut short."""
    printed = dict.fromkeys(clean(t.output).strip() for t in grade.topics.values() if clean(t.output).strip())
    return "\n".join(printed)[:3000]


def gradebook_csv(curriculum: Curriculum, grades: dict[str, StudentGrade]) -> bytes:
    """One row per student: points per topic, total, status."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", *curriculum.slugs, "total", "max_total", "status"])
    max_total = sum(t.max_points for t in curriculum.topics)
    for student in sorted(grades):
        grade = grades[student]
        writer.writerow([one_line(student), *(f"{topic_points(grade, s):g}" for s in curriculum.slugs),
                         f"{grade.total:g}", max_total, student_status(grade)])
    return buffer.getvalue().encode()


def topic_points(grade: StudentGrade, slug: str) -> float:
    topic = grade.topics.get(slug)
    return topic.points if topic is not None else 0.0


def student_status(grade: StudentGrade) -> str:
    """'graded', 'empty' (not one name of any topic was found: no module, or modules that define
    nothing), or the problem with the submission; says when isolation was degraded."""
    verdicts = [v for t in grade.topics.values() for v in t.all_verdicts]
    empty = bool(verdicts) and all(v.reason == C.MISSING_NAME for v in verdicts)
    status = "error: " + one_line(grade.error) if grade.error else "empty" if empty else "graded"
    return status + (" (isolation degraded)" if grade.isolation.degraded else "")


@dataclass(frozen=True)
class ClassSummary:
    """The numbers of the class report, computed once for its Markdown and its HTML."""
    students: int
    pass_rates: list[tuple[Topic, Task, float | None]]  # None: no student has a result for the task
    mistakes: list[tuple[str, str, int]]  # (topic, what the mistake says, students), most common first
    limits: list[tuple[str, str, str]]  # (student, topic, reason) for time, memory, crash, bad output
    scores: list[tuple[str, float, str]]  # (student, score, status), by student
    max_total: int


def class_summary(curriculum: Curriculum, grades: dict[str, StudentGrade]) -> ClassSummary:
    """The class's numbers, from each student's verdicts: their reasons and recognised mistakes."""
    n = len(grades)
    verdicts = {student: [(slug, v) for slug, t in g.topics.items() for v in t.all_verdicts]
                for student, g in grades.items()}
    by_task: dict[tuple[str, int], list[bool]] = {}  # per task, each student's: did all of its checks pass?
    for vs in verdicts.values():
        passing: dict[tuple[str, int], bool] = {}
        for slug, v in vs:
            passing[slug, v.task] = passing.get((slug, v.task), True) and v.passed
        for key, passed in passing.items():
            by_task.setdefault(key, []).append(passed)
    pass_rates = []
    for topic in curriculum.topics:
        for task in topic.tasks:
            mine = by_task.get((topic.slug, task.id))
            pass_rates.append((topic, task, sum(mine) / n if mine and n else None))
    mistakes = Counter()
    for vs in verdicts.values():
        mistakes.update({(slug, v.mistake) for slug, v in vs if v.mistake})
    says = {(t.slug, m.id): m.says for t in curriculum.topics for m in t.mistakes.values()}
    order = {key: i for i, key in enumerate(says)}  # ties: in curriculum and catalogue order, run after run
    common = sorted(mistakes.items(), key=lambda item: (-item[1], order.get(item[0], len(order)), item[0]))[:15]
    limits = sorted({(student, slug, v.reason) for student, vs in verdicts.items() for slug, v in vs
                     if v.reason in (C.TIMEOUT, C.MEMORY, C.CRASH, C.BAD_OUTPUT)})
    return ClassSummary(
        n, pass_rates,
        [(slug, says.get((slug, mid), mid), count) for (slug, mid), count in common],
        limits, [(student, grades[student].total, student_status(grades[student])) for student in sorted(grades)],
        sum(t.max_points for t in curriculum.topics))


def class_report_md(curriculum: Curriculum, grades: dict[str, StudentGrade], isolation: Isolation,
                    seconds: float, graded_now: int, skipped: list[tuple[str, str]]) -> str:
    summary = class_summary(curriculum, grades)
    n = summary.students
    out = ["# Class report", "",
           f"{n} submissions; {graded_now} graded in this run, {n - graded_now} unchanged since the last run.",
           f"Isolation: {md_text(isolation.describe())}.", f"Time: {seconds:.1f} s.", ""]
    if skipped:
        out += (["Entries that are not submissions:", ""]
                + [f"- {code_span(name)}: {md_text(why)}" for name, why in skipped] + [""])
    out += ["## Pass rate per task", "", "| topic | task | pass rate |", "|---|---|---|"]
    for topic, task, rate in summary.pass_rates:
        out.append(f"| {md_cell(topic.slug)} | {md_cell(f'{task.id}. {task.title}')} | "
                   f"{'-' if rate is None else f'{rate:.0%}'} |")
    out += ["", "## Most common recognised mistakes", ""]
    if summary.mistakes:
        out += ["| topic | mistake | students |", "|---|---|---|"]
        out += [f"| {md_cell(slug)} | {md_cell(says)} | {count} |" for slug, says, count in summary.mistakes]
    else:
        out.append("None recognised.")
    out += ["", "## Submissions that hit limits or crashed", ""]
    out += ([f"- {md_text(s)}: {md_text(slug)}: {md_text(headline(C.Verdict(slug, 0, '', reason)))}"
             for s, slug, reason in summary.limits] or ["None."])
    return clean("\n".join(out) + "\n")
