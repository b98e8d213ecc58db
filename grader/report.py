"""What grading writes: per student results.json (Gradescope's schema) and feedback.md; per
class gradebook.csv and class_report.md. Every file is written atomically."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

from . import checks as C
from .curriculum import Curriculum
from .grade import StudentGrade, TopicGrade, dump_json, write_atomic
from .messages import explain, headline
from .sandbox import Isolation


def fenced(text: str, info: str = "text") -> list[str]:
    """A Markdown code block that learner text cannot close: its fence is longer than any run of
    backticks inside."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *text.splitlines(), fence]


def code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    return f"{ticks} {text} {ticks}"


def check_max_scores(curriculum: Curriculum, grade: TopicGrade) -> dict[int, float]:
    topic = curriculum[grade.slug]
    counts = Counter(v.task for v in grade.all_verdicts)
    return {t.id: t.points / counts[t.id] for t in topic.tasks if counts[t.id]}


def results_json(curriculum: Curriculum, grade: StudentGrade, isolation: Isolation, digest: str,
                 fingerprint: str) -> dict:
    """Gradescope's results.json: one test per check; hidden checks visible after the due date."""
    tests = []
    for slug, topic_grade in grade.topics.items():
        topic = curriculum[slug]
        share = check_max_scores(curriculum, topic_grade)
        for hidden, verdicts in ((False, topic_grade.verdicts), (True, topic_grade.hidden)):
            for v in verdicts:
                tests.append({
                    "name": f"{slug} task {v.task}: {v.check}" + (" (hidden inputs)" if hidden else ""),
                    "number": f"{curriculum.slugs.index(slug) + 1}.{v.task}",
                    "score": round(share[v.task] if v.passed else 0.0, 4),
                    "max_score": round(share[v.task], 4),
                    "status": "passed" if v.passed else "failed",
                    "output": "" if v.passed else explain(v, topic),
                    "visibility": "after_due_date" if hidden else "visible",
                    "tags": [slug, f"task-{v.task}", v.reason] + ([v.mistake] if v.mistake else []),
                })
    summary = [f"Total: {grade.total:g} / {sum(t.max_points for t in curriculum.topics)}",
               f"Isolation: {isolation.describe()}"]
    if grade.error:
        summary.append(f"Problem with the submission: {grade.error}")
    return {
        "score": grade.total,
        "execution_time": grade.seconds,
        "output": "\n".join(summary),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"digest": digest, "fingerprint": fingerprint, "isolation_degraded": isolation.degraded,
                       "topics": {s: t.points for s, t in grade.topics.items()},
                       "notes": {s: t.note for s, t in grade.topics.items() if t.note},
                       "ignored": grade.ignored, "error": grade.error},
    }


def feedback_md(curriculum: Curriculum, grade: StudentGrade, isolation: Isolation) -> str:
    out = [f"# Feedback for {grade.student}", "",
           f"**Total: {grade.total:g} / {sum(t.max_points for t in curriculum.topics)}**", ""]
    if isolation.degraded:
        out += [f"> Note: {isolation.describe()}.", ""]
    if grade.error:
        out += [f"> Problem with the submission: {grade.error}", ""]
    if grade.ignored:
        out += ["Files that were not graded:", ""]
        out += [f"- {code_span(path)}: {why}" for path, why in grade.ignored[:30]]
        out += [""]
    for topic in curriculum.topics:
        tg = grade.topics.get(topic.slug)
        if tg is None:
            continue
        out += [f"## {topic.title} ({topic.slug}): {tg.points:g} / {tg.max_points}", ""]
        if tg.note:
            out += [f"_{tg.note}_", ""]
        for task in topic.tasks:
            mine = [v for v in tg.all_verdicts if v.task == task.id]
            passed = sum(v.passed for v in mine)
            mark = "passed" if mine and passed == len(mine) else f"{passed} of {len(mine)} checks passed"
            out.append(f"- **Task {task.id}: {task.title}**: {mark}")
            first = next((v for v in mine if not v.passed), None)
            if first is not None:
                out += [""] + ["  " + line for line in fenced(explain(first, topic))]
                if first.reason not in (C.NOT_IMPLEMENTED, C.PASSED) and task.hints:
                    out += ["", f"  Hint: {task.hints[0]}"]
                out.append("")
        out.append("")
    printed = list(dict.fromkeys(t.output.strip() for t in grade.topics.values() if t.output.strip()))
    if printed:
        out += ["## What your code printed (first lines)", "", *fenced("\n".join(printed)[:3000]), ""]
    return "\n".join(out)


def write_student(out_dir: Path, curriculum: Curriculum, grade: StudentGrade, isolation: Isolation,
                  digest: str, fingerprint: str) -> dict:
    folder = out_dir / grade.student
    results = results_json(curriculum, grade, isolation, digest, fingerprint)
    dump_json(folder / "results.json", results)
    write_atomic(folder / "feedback.md", feedback_md(curriculum, grade, isolation).encode())
    return results


def gradebook_csv(curriculum: Curriculum, rows: dict[str, dict]) -> bytes:
    """rows: student -> results.json of that student."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", *curriculum.slugs, "total", "max_total", "status"])
    max_total = sum(t.max_points for t in curriculum.topics)
    for student in sorted(rows):
        extra = rows[student].get("extra_data", {})
        status = "error: " + extra["error"] if extra.get("error") else "graded"
        if extra.get("isolation_degraded"):
            status += " (isolation degraded)"
        writer.writerow([student, *(f"{extra.get('topics', {}).get(s, 0):g}" for s in curriculum.slugs),
                         f"{rows[student].get('score', 0):g}", max_total, status])
    return buffer.getvalue().encode()


def class_report_md(curriculum: Curriculum, rows: dict[str, dict], isolation: Isolation,
                    seconds: float, graded_now: int, skipped: list[tuple[str, str]]) -> str:
    n = len(rows)
    out = ["# Class report", "",
           f"{n} submissions; {graded_now} graded in this run, {n - graded_now} unchanged since the last run.",
           f"Isolation: {isolation.describe()}.", f"Time: {seconds:.1f} s.", ""]
    if skipped:
        out += ["Entries that are not submissions:", ""] + [f"- {code_span(name)}: {why}" for name, why in skipped] + [""]
    out += ["## Pass rate per task", "", "| topic | task | pass rate |", "|---|---|---|"]
    tests = [t for r in rows.values() for t in r.get("tests", [])]
    for topic in curriculum.topics:
        for task in topic.tasks:
            mine = [t for t in tests if t["tags"][:2] == [topic.slug, f"task-{task.id}"]]
            students = {}
            for r_student, r in rows.items():
                ts = [t for t in r.get("tests", []) if t["tags"][:2] == [topic.slug, f"task-{task.id}"]]
                students[r_student] = bool(ts) and all(t["status"] == "passed" for t in ts)
            rate = sum(students.values()) / n if n else 0.0
            out.append(f"| {topic.slug} | {task.id}. {task.title} | {rate:.0%} |" if mine else
                       f"| {topic.slug} | {task.id}. {task.title} | - |")
    mistakes = Counter()
    for r in rows.values():
        seen = {(t["tags"][0], t["tags"][3]) for t in r.get("tests", []) if len(t["tags"]) > 3}
        mistakes.update(seen)
    out += ["", "## Most common recognised mistakes", ""]
    if mistakes:
        out += ["| topic | mistake | students |", "|---|---|---|"]
        for (slug, mid), count in mistakes.most_common(15):
            says = curriculum[slug].mistakes.get(mid)
            out.append(f"| {slug} | {says.says if says else mid} | {count} |")
    else:
        out.append("None recognised.")
    limits = Counter()
    for student, r in rows.items():
        for t in r.get("tests", []):
            if t["tags"][2] in (C.TIMEOUT, C.MEMORY, C.CRASH, C.BAD_OUTPUT):
                limits[(student, t["tags"][0], t["tags"][2])] += 1
    out += ["", "## Submissions that hit limits or crashed", ""]
    out += ([f"- {s}: {slug}: {headline(C.Verdict(slug, 0, '', reason))}" for (s, slug, reason) in sorted(limits)]
            or ["None."])
    return "\n".join(out) + "\n"
