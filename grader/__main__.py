"""python -m grader grade CLASS_DIR --out OUT_DIR   (what `make grade` runs)"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rich.console import Console

from .grading.cli import grade_class
from .grading.grade import TOPIC_TIMEOUT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("grade", help="grade a class folder")
    grade.add_argument("submissions", help="class folder: one folder or .zip per student")
    grade.add_argument("--out", help="output folder (default: grades, or grades/ASSIGNMENT)")
    grade.add_argument("--assignment", help="grade one assignment of curriculum.toml (its topics, its points)")
    grade.add_argument("--force", action="store_true", help="grade everything again")
    grade.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    grade.add_argument("--timeout", type=float, default=TOPIC_TIMEOUT, help="seconds per topic")
    grade.add_argument("--no-sandbox", action="store_true", help="do not use bubblewrap (degraded)")
    grade.add_argument("--roster", type=Path, help="a gradebook CSV exported by Canvas or Moodle: written to OUT "
                                                   "with the totals filled in, ready to import")
    grade.add_argument("--column", help="the roster's column to fill (Canvas: the assignment's; Moodle: Grade)")
    args = parser.parse_args(argv)
    console = Console()
    if not console.is_terminal:  # logs and READMEs: wide enough for thirteen topics
        console = Console(width=max(console.width, 110))
    try:
        out = Path(args.out) if args.out else Path("grades") / args.assignment if args.assignment else Path("grades")
        return grade_class(Path(args.submissions), out, console, force=args.force, workers=args.workers,
                           timeout=args.timeout, no_sandbox=args.no_sandbox, roster=args.roster, column=args.column,
                           assignment=args.assignment)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted: finished students are saved; run again to grade the rest.[/yellow]")
        return 130


if __name__ == "__main__":
    sys.exit(main())
