"""`make grade`: grade a class folder into an output folder, and say how it went.

Each student's grade is kept as OUT/<student>/grade.json (grader.grading.record); their reports and
the class's are made from those records (grader.grading.reports.outputs). A student whose saved
record was made by this grader from the same files, with the sandbox, is not graded again."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich import box
from rich.table import Table

from ..course.curriculum import Curriculum, load
from ..course.offline import install
from ..engine.messages import one_line
from ..engine.secret import instructor_secret
from . import record
from .grade import TOPIC_TIMEOUT, Pool, fingerprint, gradable, grade_submissions, prepare
from ..course.files import write_atomic
from .record import StudentGrade
from .reports.outputs import write_class, write_problem, write_student
from .reports.report import topic_points
from .reports.roster import RosterError, fill_roster
from .sandbox.host import Isolation, wanted_isolation
from .submissions import read_class


def grade_class(class_dir: Path, out_dir: Path, console: Console, force: bool = False, workers: int = 1,
                timeout: float = TOPIC_TIMEOUT, no_sandbox: bool = False, roster: Path | None = None,
                column: str | None = None, assignment: str | None = None) -> int:
    install()  # the reference computes hidden expected values with GPT-2's encoding, offline
    if not class_dir.is_dir():
        console.print(f"[red]No class folder at {class_dir}[/red]")
        return 2
    if roster is not None:  # a roster that cannot be filled stops here, before minutes of grading
        try:
            fill_roster(roster.read_bytes(), {}, column)
        except (OSError, RosterError) as err:
            console.print(f"[red]Roster {escape(str(roster))}: {escape(one_line(err))}[/red]", highlight=False)
            return 2
    started = time.monotonic()
    curriculum = gradable(load())
    if assignment is not None:
        try:
            curriculum = curriculum.assignment(assignment)
        except KeyError as err:
            console.print(f"[red]{escape(str(err.args[0]))}[/red]", highlight=False)
            return 2
        console.print(f"Assignment {escape(assignment)}: {', '.join(curriculum.slugs)} "
                      f"({sum(t.max_points for t in curriculum.topics)} points).", highlight=False)
    submissions, skipped = read_class(class_dir, {t.module_file for t in curriculum.topics})
    for name, why in skipped:
        console.print(f"[yellow]Skipped {escape(name)}: {escape(why)}[/yellow]", highlight=False)
    for s in submissions:  # and inside each submission: the files not taken, or not all of them (issue 15)
        if s.ignored:
            listed = "; ".join(f"{path} ({why})" for path, why in s.ignored[:20]) + ("; ..." * (len(s.ignored) > 20))
            console.print(f"[yellow]Skipped in {escape(s.student)}: {escape(listed)}[/yellow]", highlight=False)
    if not submissions:  # an empty or unreadable class is an error, never "graded 0"
        loose = any(why == "neither a folder nor a .zip" for _, why in skipped)
        advice = (" Its files lie loose, not named as Canvas's or Moodle's downloads name them: put each "
                  "student's files in a folder of their own." if loose else "")
        console.print(f"[red]No submission in {escape(str(class_dir))}: nothing was graded.[/red] A class folder "
                      "holds one folder or .zip per student, named by the student's id (ada/causal_attention.py "
                      "or ada.zip)." + advice, highlight=False)
        return 2
    secret = instructor_secret()[0]
    grader = fingerprint(curriculum.root, secret)
    digests = {s.student: s.digest() for s in submissions}
    previous = {s.student: record.load(out_dir / s.student / record.FILE, curriculum, secret, s.student)
                for s in submissions}
    isolation = wanted_isolation(no_sandbox)

    def unchanged(student: str) -> bool:
        old = previous[student]
        return (not force and not isolation.degraded and old is not None and old.submission == digests[student]
                and old.grader == grader and not old.isolation.degraded)

    # An entry that cannot be graded at all (two entries for one id, an unreadable zip) never replaces
    # a grade this folder already holds: the earlier grade stays, and the console says why.
    kept = {}
    for s in submissions:
        old = previous[s.student]
        if s.error and not s.files and old is not None and not old.error:
            kept[s.student] = old
            console.print(f"[yellow]Kept {escape(s.student)}'s earlier grade ({old.total:g}, graded {old.graded_at}): "
                          f"this entry could not be graded ({escape(one_line(s.error))}).[/yellow]", highlight=False)
    grades = {s.student: previous[s.student] for s in submissions if unchanged(s.student) or s.student in kept}
    todo = [s for s in submissions if s.student not in grades]
    console.print(f"{len(submissions)} submissions in {class_dir}: {len(todo)} to grade, "
                  f"{len(grades) - len(kept)} unchanged.")
    finished, work = [], {}  # work: seconds each submission's own code ran, in its children
    try:
        if todo:
            with Pool(isolation, workers) as pool:  # the workers import torch meanwhile
                t0 = time.monotonic()
                prep = prepare(curriculum)
                console.print(f"Hidden cases computed by the reference in {time.monotonic() - t0:.1f} s "
                              f"({prep.secret_note}).")
                wanted, isolation = isolation, pool.start(prep.packed_cases())
                style = "yellow" if isolation.degraded else "green"
                console.print(f"[{style}]{isolation.describe()}[/{style}]")
                if isolation.degraded and not wanted.degraded:  # nothing earlier may be reused now
                    grades, todo = dict(kept), [s for s in submissions if s.student not in kept]
                with Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                              console=console, transient=not console.is_terminal) as progress:
                    bar = progress.add_task("grading", total=len(todo))

                    def done(grade: StudentGrade) -> None:
                        grade.submission, grade.grader = digests[grade.student], prep.fingerprint
                        grade.isolation, grade.graded_at = isolation, record.now()
                        grades[grade.student] = write_student(out_dir, curriculum, grade, secret)
                        finished.append(grade.student)
                        work[grade.student] = grade.seconds
                    grade_submissions(todo, prep, pool, on_done=done,
                                      progress=lambda n: progress.advance(bar, n), timeout=timeout)
    finally:  # even on Ctrl-C: what is graded is kept, the rest keeps its earlier grade or says why not
        for s in submissions:
            if s.student not in grades:
                grades[s.student] = previous[s.student] or write_problem(
                    out_dir, curriculum, StudentGrade(s.student, isolation=isolation),
                    "not graded in this run (interrupted, or the grader stopped): grade again", secret)
        write_class(out_dir, curriculum, grades, isolation, time.monotonic() - started, len(finished), skipped,
                    failed=lambda name, err: console.print(
                        f"[red]Could not write {name}: {escape(one_line(f'{type(err).__name__}: {err}'))}[/red]"))
    seconds = time.monotonic() - started
    show_summary(console, curriculum, grades, isolation)
    if roster is not None:
        write_roster(console, roster, out_dir, grades, column)
    per = ""
    if work:
        slowest = max(work, key=work.get)
        per = (f"; each submission's checks ran {statistics.median(work.values()):.2f} s (median), "
               f"the longest {work[slowest]:.1f} s ({slowest})")
    console.print(f"Graded {len(finished)} in {seconds:.1f} s{per}. Outputs in {out_dir}/: gradebook.csv, "
                  f"class_report.md and .html, <student>/results.json, feedback.md, feedback.html and junit.xml")
    return 0


def show_summary(console: Console, curriculum: Curriculum, grades: dict[str, StudentGrade], isolation: Isolation) -> None:
    """Students down, topics across by number, the legend below: no box and one space between
    columns, so 21 topics fit about 100 columns (rich's boxed table needed 125 and hid topics)."""
    table = Table(title="Gradebook" + (" (isolation degraded)" if isolation.degraded else ""),
                  box=box.SIMPLE_HEAD, padding=(0, 1), collapse_padding=True, pad_edge=False)
    table.add_column("student", no_wrap=True)
    for number, topic in enumerate(curriculum.topics, 1):
        table.add_column(str(number), justify="right")
    table.add_column("total", justify="right", style="bold", no_wrap=True)
    max_total = sum(t.max_points for t in curriculum.topics)
    for student in sorted(grades):
        grade = grades[student]
        cells = []
        for topic in curriculum.topics:
            p = topic_points(grade, topic.slug)
            colour = "green" if p == topic.max_points else "red" if p == 0 else "yellow"
            cells.append(f"[{colour}]{p:g}[/{colour}]")
        name = escape(one_line(student)) + (" [red](error)[/red]" if grade.error else "")
        table.add_row(name, *cells, f"{grade.total:g}/{max_total}")
    console.print(table)
    console.print("  ".join(f"{n} {t.slug}" for n, t in enumerate(curriculum.topics, 1)), style="dim")


def write_roster(console: Console, roster: Path, out_dir: Path, grades: dict[str, StudentGrade],
                 column: str | None) -> None:
    """OUT/<roster's name>: the platform's gradebook with the column filled; who matched no one."""
    try:
        filled = fill_roster(roster.read_bytes(), {s: g.total for s, g in grades.items()}, column)
        write_atomic(out_dir / roster.name, filled.content)
    except (OSError, RosterError) as err:
        console.print(f"[red]Roster {escape(str(roster))} not written: {escape(one_line(err))}[/red]", highlight=False)
        return
    console.print(f"Roster: {len(filled.filled)} totals written into column {escape(repr(filled.column))} of "
                  f"{escape(str(out_dir / roster.name))}, ready to import.", highlight=False)
    for what, names in (("graded but in no row of the roster", filled.not_in_roster),
                        ("in the roster but not graded (their cell is unchanged)", filled.not_graded)):
        if names:
            console.print(f"[yellow]{len(names)} {what}: {escape(', '.join(one_line(n) for n in names[:30]))}"
                          f"{' ...' if len(names) > 30 else ''}[/yellow]", highlight=False)
