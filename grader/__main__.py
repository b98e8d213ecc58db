"""python -m grader grade CLASS_DIR --out OUT_DIR   (what `make grade` runs)"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from .course.curriculum import load
from .course.offline import install
from .grading.grade import TOPIC_TIMEOUT, Pool, dump_json, fingerprint, gradable, grade_submissions, prepare, write_atomic
from .grading.reports.pages import class_report_html, feedback_html
from .grading.grade import StudentGrade
from .engine.messages import one_line
from .grading.reports.report import points_of, class_report_md, gradebook_csv, unwritten_row, well_formed, write_student
from .grading.sandbox.host import wanted_isolation
from .grading.submissions import read_class


def _previous(path: Path) -> dict | None:
    try:
        if path.stat().st_size < 8 << 20:
            data = json.loads(path.read_text(encoding="utf-8"))
            return data if well_formed(data) else None  # anything else: graded again
    except (OSError, ValueError, RecursionError):
        pass
    return None


def grade_command(args: argparse.Namespace, console: Console) -> int:
    install()  # the reference computes hidden expected values with GPT-2's encoding, offline
    curriculum = load()
    class_dir, out_dir = Path(args.submissions), Path(args.out)
    if not class_dir.is_dir():
        console.print(f"[red]No class folder at {class_dir}[/red]")
        return 2
    started = time.monotonic()
    curriculum = gradable(curriculum)
    submissions, skipped = read_class(class_dir, {t.module_file for t in curriculum.topics})
    print_now = fingerprint(curriculum.root)
    previous = {s.student: _previous(out_dir / s.student / "results.json") for s in submissions}
    digests = {s.student: f"{s.digest()}:{print_now}" for s in submissions}
    isolation = wanted_isolation(args.no_sandbox)

    def unchanged(student: str) -> bool:
        old = previous[student]
        return (not args.force and not isolation.degraded and old is not None
                and old.get("extra_data", {}).get("digest") == digests[student]
                and not old.get("extra_data", {}).get("isolation_degraded", True))

    def unwritten(grade: StudentGrade, why: str) -> dict:
        row = unwritten_row(curriculum, grade, isolation, why)
        try:
            dump_json(out_dir / grade.student / "results.json", row)
        except Exception:  # noqa: BLE001 -- the gradebook still has the row
            pass
        return row

    rows = {s.student: previous[s.student] for s in submissions if unchanged(s.student)}
    todo = [s for s in submissions if not unchanged(s.student)]
    console.print(f"{len(submissions)} submissions in {class_dir}: {len(todo)} to grade, "
                  f"{len(rows)} unchanged.")
    finished, work = [], {}  # work: seconds each submission's own code ran, in its children
    try:
        if todo:
            with Pool(isolation, args.workers) as pool:  # the workers import torch meanwhile
                t0 = time.monotonic()
                prep = prepare(curriculum)
                console.print(f"Hidden cases computed by the reference in {time.monotonic() - t0:.1f} s "
                              f"({prep.secret_note}).")
                wanted, isolation = isolation, pool.start(prep.packed_cases())
                style = "yellow" if isolation.degraded else "green"
                console.print(f"[{style}]{isolation.describe()}[/{style}]")
                if isolation.degraded and not wanted.degraded:  # nothing earlier may be reused now
                    rows, todo = {}, submissions
                with Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                              console=console, transient=not console.is_terminal) as progress:
                    bar = progress.add_task("grading", total=len(todo))

                    def done(grade):
                        try:
                            rows[grade.student] = write_student(out_dir, curriculum, grade, isolation,
                                                                digests[grade.student], prep.fingerprint)
                            write_atomic(out_dir / grade.student / "feedback.html",
                                         feedback_html(curriculum, grade, isolation).encode())
                        except Exception as err:  # noqa: BLE001 -- this student's reports, not the class's
                            rows[grade.student] = unwritten(grade, f"the grader could not write this student's "
                                                                   f"reports ({type(err).__name__}: {err}"[:400]
                                                            + "); report it, then grade again")
                        finished.append(grade.student)
                        work[grade.student] = grade.seconds
                    grade_submissions(todo, prep, pool, on_done=done,
                                      progress=lambda n: progress.advance(bar, n), timeout=args.timeout)
    finally:  # even on Ctrl-C: what is graded is kept, the rest keeps its earlier result or says why not
        for s in submissions:
            if s.student not in rows:
                rows[s.student] = previous[s.student] or unwritten(
                    StudentGrade(s.student), "not graded in this run (interrupted, or the grader stopped): grade again")
        out_dir.mkdir(parents=True, exist_ok=True)
        so_far = time.monotonic() - started
        for name, render in (("gradebook.csv", lambda: gradebook_csv(curriculum, rows)),
                             ("class_report.md", lambda: class_report_md(curriculum, rows, isolation, so_far,
                                                                          len(finished), skipped).encode()),
                             ("class_report.html", lambda: class_report_html(curriculum, rows, isolation, so_far,
                                                                              len(finished), skipped).encode())):
            try:
                write_atomic(out_dir / name, render())
            except Exception as err:  # noqa: BLE001 -- the other class files are still written
                console.print(f"[red]Could not write {name}: {escape(one_line(f'{type(err).__name__}: {err}'))}[/red]")
    seconds = time.monotonic() - started
    show_summary(console, curriculum, rows, isolation)
    per = ""
    if work:
        slowest = max(work, key=work.get)
        per = (f"; each submission's checks ran {statistics.median(work.values()):.2f} s (median), "
               f"the longest {work[slowest]:.1f} s ({slowest})")
    console.print(f"Graded {len(finished)} in {seconds:.1f} s{per}. Outputs in {out_dir}/: gradebook.csv, "
                  f"class_report.md and .html, <student>/results.json, feedback.md and feedback.html")
    return 0


def show_summary(console: Console, curriculum, rows: dict[str, dict], isolation) -> None:
    """Students down, topics across by number (the legend below keeps it within 80 columns)."""
    table = Table(title="Gradebook" + (" (isolation degraded)" if isolation.degraded else ""))
    table.add_column("student", no_wrap=True)
    for number, topic in enumerate(curriculum.topics, 1):
        table.add_column(str(number), justify="right")
    table.add_column("total", justify="right", style="bold", no_wrap=True)
    max_total = sum(t.max_points for t in curriculum.topics)
    for student in sorted(rows):
        row = rows[student] if isinstance(rows[student], dict) else {}
        extra = row.get("extra_data") if isinstance(row.get("extra_data"), dict) else {}
        points = extra.get("topics") if isinstance(extra.get("topics"), dict) else {}
        cells = []
        for topic in curriculum.topics:
            p = points_of(points.get(topic.slug))
            colour = "green" if p == topic.max_points else "red" if p == 0 else "yellow"
            cells.append(f"[{colour}]{p:g}[/{colour}]")
        name = escape(one_line(student)) + (" [red](error)[/red]" if extra.get("error") else "")
        table.add_row(name, *cells, f"{points_of(row.get('score')):g}/{max_total}")
    console.print(table)
    console.print("  ".join(f"{n} {t.slug}" for n, t in enumerate(curriculum.topics, 1)), style="dim")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade a class folder")
    grade.add_argument("submissions", help="class folder: one folder or .zip per student")
    grade.add_argument("--out", default="grades", help="output folder (default: grades)")
    grade.add_argument("--force", action="store_true", help="grade everything again")
    grade.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    grade.add_argument("--timeout", type=float, default=TOPIC_TIMEOUT, help="seconds per topic")
    grade.add_argument("--no-sandbox", action="store_true", help="do not use bubblewrap (degraded)")
    args = parser.parse_args(argv)
    console = Console()
    if not console.is_terminal:  # logs and READMEs: wide enough for thirteen topics
        console = Console(width=max(console.width, 110))
    try:
        return grade_command(args, console)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted: finished students are saved; run again to grade the rest.[/yellow]")
        return 130


if __name__ == "__main__":
    sys.exit(main())
