"""`kata`, the learner's loop: what to do next, checks whose messages name the mistake, hints
that unfold one at a time, and a watcher that checks again on every save.

    kata                        short help, then what to do next
    kata next                   the first unfinished task: the file, the functions, the command
    kata list                   every topic and task with your progress
    kata check [TOPIC]          check exercises/ (exit status 0 only when everything passes)
    kata watch [TOPIC] [--poll] check again whenever a file in exercises/ is saved
    kata hint TOPIC [TASK [LEVEL]]  one more hint each time you ask
    kata reset TOPIC [--yes]    back to the stub; your file is kept as exercises/<topic>.py.<time>.bak
    kata snapshot               keep the untouched stubs for `kata reset` (make setup runs it)
    kata speed TOPIC [--model M] optional: how much faster your code got (kv_cache: with the cache)
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

try:
    from rich.console import Console
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text
except ModuleNotFoundError as err:  # before `make setup`: say so instead of a traceback
    MISSING = err.name
else:
    MISSING = None

from . import progress as L
from ..course.curriculum import Curriculum, Topic, load

SETUP = "run `make setup` first (it installs what kata needs into .venv)"
DEPENDENCIES = {"rich", "torch", "tiktoken", "numpy", "safetensors", "watchfiles"}
REPORT = ("This is a bug in kata, not in your code. Please report it, with the command you ran, "
          "in the kata repository's issue tracker (KATA_DEBUG=1 shows the details).")

MARKS = {L.DONE: ("✓", "green"), L.FAILING: ("✗", "red"), L.NOT_STARTED: ("·", "dim"), L.NOT_RUN: ("?", "yellow"),
         L.IN_PROGRESS: ("✗", "yellow"), L.NO_CHECKS: (" ", "dim")}


class UserError(Exception):
    """Something the learner can fix; shown as one line, without a traceback."""


@dataclass
class Kata:
    root: Path
    console: Console

    @property
    def curriculum(self) -> Curriculum:
        return load(self.root)

    @property
    def exercises(self) -> Path:
        return self.root / "exercises"

    def topic(self, name: str) -> Topic:
        slug = Path(name).stem.replace("-", "_")  # "exercises/causal_attention.py" works too
        slugs = self.curriculum.slugs
        if slug in slugs:
            return self.curriculum[slug]
        if slug.isdigit() and 1 <= int(slug) <= len(slugs):  # the topic's number, as the gradebook has it
            return self.curriculum.topics[int(slug) - 1]
        close = [s for s in slugs if slug and slug in s] or difflib.get_close_matches(slug, slugs, n=1)
        hint = f" Did you mean {close[0]}?" if close else " `kata list` shows them all."
        raise UserError(f"There is no topic {name!r}.{hint}")

    def print(self, *parts) -> None:
        """Plain text, never read as markup (messages quote learner output such as [0, 1]), and
        never wrapped by rich, so a message copies and pastes whole."""
        self.console.print(Text.assemble(*parts), soft_wrap=True)


# ---------------------------------------------------------------------------------------------
# Showing progress.


def indent(renderable) -> Padding:
    return Padding(renderable, (0, 0, 0, 2), expand=False)


def show_topic(kata: Kata, state: L.TopicProgress, expand: bool = True,
               next_task: L.TaskProgress | None = None) -> None:
    """A topic's line, then (if `expand`) one line per task; `next_task` is marked with an arrow."""
    topic = state.topic
    mark, style = MARKS[state.status]
    points = f"  {state.points}/{topic.max_points}" if state.tasks else ""
    kata.print((f"{mark} ", style), (topic.title, "bold"), (f"  {topic.slug} · book {topic.chapter}", "dim"),
               points, (f"  {state.status}", style))
    if not (expand and state.tasks):
        return
    # Every topic's columns line up: the title column is as wide as the longest title of all. In a
    # terminal too narrow for that and the status words, the mark and its colour alone tell the
    # status, so that no title wraps a last word onto a line of its own.
    widest = max(len(task.title) for each in kata.curriculum.topics for task in each.tasks)
    status_width = len(L.NOT_STARTED) + 1
    ids = max(len(f"{task.task.id}.") for task in state.tasks)
    score_width = max(len(f"{task.task.points}/{task.task.points}") for task in state.tasks)
    words = kata.console.width >= 2 + 1 + 1 + ids + 1 + widest + 1 + status_width + 1 + score_width
    table = Table.grid(padding=(0, 1))
    table.add_column()
    table.add_column(justify="right")
    table.add_column(min_width=min(widest, kata.console.width - (25 if words else 13)))
    if words:
        table.add_column(min_width=status_width)
    table.add_column(justify="right")
    for task in state.tasks:
        mark, style = MARKS[task.status]
        emphasis = "bold" if task is next_task else ""
        status = [Text(task.status, style=style)] if words else []
        table.add_row(Text("→" if task is next_task else mark, style=emphasis or style), f"{task.task.id}.",
                      Text(task.task.title, style=emphasis), *status, f"{task.points}/{task.task.points}")
    kata.console.print(indent(table))
    for task in state.tasks:
        if task.note:  # it passed with the reference's code for a failing task it calls
            kata.print(("    ", ""), (f"task {task.task.id} {task.note}", "dim"))
        elif (waits := task.waits_for()) is not None:  # its own code may be written: the stub is elsewhere
            kata.print(("    ", ""), (f"task {task.task.id} waits for {waits[0]} task {waits[1]} ({waits[2]}), still a "
                                      f"stub, which its checks call", "dim"))


def show_next_step(kata: Kata, state: L.TopicProgress, task: L.TaskProgress, watching: bool = False) -> None:
    topic, n = state.topic, len(state.tasks)
    points = f"{task.task.points} point{'s' if task.task.points != 1 else ''}"
    kata.print(("Next: ", "bold"), f"{topic.title}, task {task.task.id} of {n}: ", (task.task.title, "bold"),
               f" ({points})")
    if task.status == L.FAILING:
        problem = task.problem()
        kata.print("  now    ", (f"failing: {problem.check}", "red"), f" -- kata check {topic.slug} explains why")
    todo = task.task  # what to edit: this task, or the stub in an earlier topic its checks call
    waits = task.waits_for()
    if (waits is not None and waits[0] in kata.curriculum.slugs
            and any(t.id == waits[1] for t in kata.curriculum[waits[0]].tasks)):
        other, number, name = waits
        kata.print("  first  ", (f"{other} task {number}", "bold"), f" is still a stub ({name}), and this task's "
                   "checks call it")
        topic, todo = kata.curriculum[other], kata.curriculum[other].task(number)
    kata.print("  edit   ", (f"exercises/{topic.module_file}", "cyan"), ": ", ", ".join(todo.api))
    kata.print(("         the docstrings there state the task, the shapes and a small example", "dim"))
    if watching:
        kata.print("  check  ", ("save the file: this watcher checks it", "dim"))
    else:
        kata.print("  check  ", (f"kata check {topic.slug}", "cyan"), ("   or keep ", "dim"),
                   (f"kata watch {topic.slug}", "cyan"), (" running: it checks on every save", "dim"))
    kata.print("  stuck  ", (f"kata hint {topic.slug} {todo.id}", "cyan"))


def explain_problem(kata: Kata, topic: Topic, task: L.TaskProgress) -> None:
    from ..engine.messages import explain

    headline, *rest = explain(task.problem(), topic).splitlines()
    kata.print((headline, "bold red"))
    for line in rest:
        known = line.lstrip().startswith(("This looks like a known mistake", "One way to get this is", "Hint "))
        kata.print((line, "yellow" if known else ""))


def explain_file_problem(kata: Kata, state: L.TopicProgress) -> None:
    from ..engine.messages import headline

    problem, slug = state.file_problem(), state.topic.slug
    kata.print((f"exercises/{state.topic.module_file}: {headline(problem)}", "bold red"))
    for line in problem.message.splitlines():
        kata.print(f"  {line}")
    kata.print()
    kata.print((f"Every check of {slug} stops here, so no task can pass yet.", "bold"),
               f" Fix this, then check again: kata check {slug}")


def check_all(kata: Kata, topics: list[Topic], stop_at_unfinished: bool = False,
              overview: bool = False) -> list[L.TopicProgress]:
    states = []
    for topic in topics:
        states.append(L.check_topic(topic, kata.exercises, overview))
        if stop_at_unfinished and not states[-1].done:
            break
    return states


def first_unfinished(states: list[L.TopicProgress]) -> tuple[L.TopicProgress, L.TaskProgress] | None:
    for state in states:
        task = state.next_task()
        if task is not None:
            return state, task
    return None


def show_verdicts(kata: Kata, states: list[L.TopicProgress], single: bool, watching: bool = False) -> bool:
    """`kata check` and `kata watch`: per-task verdicts, then the one thing to do next."""
    for state in states:
        show_topic(kata, state, expand=single or state.status == L.IN_PROGRESS)
    kata.print()
    tasks = [t for s in states for t in s.tasks]
    done, points = sum(t.status == L.DONE for t in tasks), sum(t.points for t in tasks)
    total_points = sum(t.task.points for t in tasks)
    unfinished = first_unfinished(states)
    if unfinished is None:
        if tasks:
            kata.print(("✓ ", "green"), (f"All {len(tasks)} tasks pass: {points}/{total_points} points.",
                                         "bold green"), " What next? kata next")
        else:
            kata.print("No checks yet for " + ", ".join(s.topic.slug for s in states) + ".")
        return True
    state, task = unfinished
    if task.status == L.NOT_STARTED:
        show_next_step(kata, state, task, watching)
        kata.print()
        failing = next((t for s in states for t in s.tasks if t.status == L.FAILING), None)
        if failing is not None:  # written already, and wrong: worth saying now
            owner = next(s for s in states if failing in s.tasks)
            kata.print((f"Meanwhile, {owner.topic.slug} task {failing.task.id} fails:", "bold"))
            explain_problem(kata, owner.topic, failing)
            kata.print()
        kata.print((f"{done} of {len(tasks)} tasks done, {points} of {total_points} points.", "bold"))
        return False
    if state.file_problem():
        explain_file_problem(kata, state)
        return False
    explain_problem(kata, state.topic, task)
    for below, failing in L.failing_below(state.topic, kata.exercises, kata.curriculum):
        many = len(failing) > 1
        kata.print((f"{state.topic.slug} builds on your {below}, where task{'s' if many else ''} "
                    f"{', '.join(map(str, failing))} fail{'' if many else 's'}: a failure here may come from there "
                    f"(kata check {below}).", "yellow"))
    kata.print()
    callers = [t.task.id for t in state.tasks if task.task.id in t.task.calls and t.status == L.FAILING]
    if callers:  # only the tasks whose checks run this one's code (curriculum.toml's `calls`)
        many = len(callers) > 1
        kata.print((f"Task{'s' if many else ''} {', '.join(map(str, callers))} fail{'' if many else 's'} too and "
                    f"{'call' if many else 'calls'} task {task.task.id}'s code: fixing task {task.task.id} "
                    f"may fix {'them' if many else 'it'}.", "dim"))
    kata.print((f"{done} of {len(tasks)} tasks done, {points} of {total_points} points.", "bold"),
               f" Fix task {task.task.id}, then check again: kata check {state.topic.slug}")
    return False


# ---------------------------------------------------------------------------------------------
# Commands.


def cmd_next(kata: Kata, args) -> int:
    states = check_all(kata, list(kata.curriculum.topics), stop_at_unfinished=True, overview=True)
    unfinished = first_unfinished(states)
    if unfinished is None:
        kata.print(("✓ Everything passes: every topic, every task. Well done!", "bold green"))
        return 0
    show_next_step(kata, *unfinished)
    return 0


def cmd_list(kata: Kata, args) -> int:
    states = check_all(kata, list(kata.curriculum.topics), overview=True)
    unfinished = first_unfinished(states)
    for state in states:
        show_topic(kata, state, next_task=unfinished[1] if unfinished else None)
    tasks = [t for s in states for t in s.tasks]
    points, total = sum(t.points for t in tasks), sum(t.task.points for t in tasks)
    kata.print()
    kata.print(progress_bar(points, total), f"  {points}/{total} points, "
               f"{sum(t.status == L.DONE for t in tasks)}/{len(tasks)} tasks done")
    if unfinished:
        state, task = unfinished
        kata.print(("→ next: ", "bold"), f"{state.topic.slug} task {task.task.id}, {task.task.title}",
                   ("  (kata next says how)", "dim"))
    return 0


def progress_bar(done: int, total: int, width: int = 30) -> Text:
    # Full and empty blocks differ in shape, so the bar reads the same with or without colour.
    filled = round(width * done / total) if total else 0
    return Text.assemble(("█" * filled, "green"), ("░" * (width - filled), "dim"))


def cmd_check(kata: Kata, args) -> int:
    topics = [kata.topic(args.topic)] if args.topic else list(kata.curriculum.topics)
    return 0 if show_verdicts(kata, check_all(kata, topics), single=bool(args.topic)) else 1


def cmd_watch(kata: Kata, args) -> int:
    from watchfiles import watch

    topics = [kata.topic(args.topic)] if args.topic else []
    slugs, watching = set(kata.curriculum.slugs), False
    # With yield_on_timeout the first, empty, yield comes once the watcher is in place, so a save
    # made during the first round is not missed; later empty yields only tick.
    for changes in watch(kata.exercises, watch_filter=lambda change, path: path.endswith(".py"), recursive=False,
                         force_polling=True if args.poll else None, rust_timeout=100, yield_on_timeout=True,
                         raise_interrupt=False):
        if watching and not changes:
            continue
        saved = [Path(path) for _, path in changes if Path(path).exists()]
        if not args.topic:  # follow the file saved; at first, the first unfinished topic
            topics = ([kata.curriculum[p.stem] for p in saved if p.stem in slugs]
                      or topics or [first_unfinished_topic(kata)])
        watch_round(kata, topics, saved_at=max((p.stat().st_mtime for p in saved), default=None), poll=args.poll)
        watching = True
    kata.print("Stopped watching.")
    return 0


def first_unfinished_topic(kata: Kata) -> Topic:
    unfinished = first_unfinished(check_all(kata, list(kata.curriculum.topics), stop_at_unfinished=True, overview=True))
    return unfinished[0].topic if unfinished else kata.curriculum.topics[-1]


def watch_round(kata: Kata, topics: list[Topic], saved_at: float | None, poll: bool) -> None:
    kata.console.clear()
    kata.print((f"kata watch · {time.strftime('%H:%M:%S')}", "dim"))
    show_verdicts(kata, check_all(kata, topics), single=True, watching=True)
    if saved_at is None:
        tip = "" if poll else " Nothing happens when you save? Try kata watch --poll."
    else:
        tip = f" Verdict {time.time() - saved_at:.2f} s after your save."
    kata.print((f"Watching exercises/: save a file to check again, Ctrl-C to stop.{tip}", "dim"))


def cmd_hint(kata: Kata, args) -> int:
    topic = kata.topic(args.topic)
    if args.task is None:
        task = L.check_topic(topic, kata.exercises, overview=True).next_task()
        if task is None:
            kata.print(f"Every task of {topic.slug} passes already. To read a task's hints anyway: "
                       f"kata hint {topic.slug} TASK")
            return 0
        task_id = task.task.id
    else:
        task_id = args.task
    known = [t.id for t in topic.tasks]
    if task_id not in known:
        raise UserError(f"{topic.slug} has tasks {', '.join(map(str, known))}; there is no task {task_id}.")
    task, state = topic.task(task_id), L.State(kata.root)
    hints, seen = task.hints, state.hints_seen(topic.slug, task_id)
    about = f"{topic.slug} task {task_id}: {task.title}"
    if not hints:
        kata.print(f"There are no hints for {about} yet. The docstrings in exercises/{topic.module_file} "
                   "state the task, the shapes and a small example.")
        return 0
    if args.level is not None and not 1 <= args.level <= len(hints):
        raise UserError(f"{about} has hints 1 to {len(hints)}.")
    level = args.level or seen + 1
    if level > len(hints):
        kata.print((f"You have seen all {len(hints)} hints", "bold"), f" · {about}")
        every = Table.grid(padding=(0, 1))
        every.add_column(justify="right")
        every.add_column()
        for i, hint in enumerate(hints, 1):
            every.add_row(f"{i}.", Text(hint))
        kata.console.print(indent(every))
        kata.print()
        kata.print(f"Still stuck? Reread the docstrings of {', '.join(task.api)} in exercises/{topic.module_file}, "
                   "then print the shapes of your tensors one line at a time.")
        return 0
    state.saw_hint(topic.slug, task_id, level)
    kata.print((f"Hint {level} of {len(hints)}", "bold"), f" · {about}")
    kata.console.print(indent(Text(hints[level - 1])))
    kata.print()
    left = len(hints) - max(level, seen)
    if args.level is not None and level < len(hints):  # asked for one level: the next is level + 1
        kata.print(f"The next hint: kata hint {topic.slug} {task_id} {level + 1}")
    elif left > 0:
        kata.print(f"Another hint: kata hint {topic.slug} {task_id}", (f"  ({left} more)", "dim"))
    else:
        kata.print("That was the last hint for this task.", (f"  Check again: kata check {topic.slug}", "dim"))
    return 0


def cmd_reset(kata: Kata, args) -> int:
    topic = kata.topic(args.topic)
    exercise = kata.exercises / topic.module_file
    found = L.find_stub(kata.root, topic)
    if found is None:
        raise UserError(f"kata cannot find the untouched stub of {topic.slug}: no version in git's history and "
                        f"no snapshot in .kata/stubs/. Copy exercises/{topic.module_file} from a fresh copy "
                        "of the kata repository.")
    stub, origin = found
    if exercise.exists() and exercise.read_text(encoding="utf-8") == stub:
        kata.print(f"exercises/{topic.module_file} is already the untouched stub: nothing to reset.")
        return 0
    if not args.yes:
        kata.print(f"Reset exercises/{topic.module_file} to its stub (from {origin})? "
                   "Your current file is kept beside it as a .bak.")
        try:
            answer = kata.console.input("Reset? [y/N] ", markup=False)
        except (EOFError, OSError):  # no one to ask: the answer is no
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            kata.print("Nothing changed. (kata reset TOPIC --yes resets without asking.)")
            return 1
    backup = L.backup_and_restore(exercise, stub)
    kata.print(("✓ ", "green"), f"exercises/{topic.module_file} is the stub again.")
    if backup:
        kata.print(f"  Your previous file: exercises/{backup.name}")
    return 0


def cmd_snapshot(kata: Kata, args) -> int:
    saved = L.snapshot(kata.root, kata.curriculum.topics)
    kata.print(f"Kept the untouched stubs of {len(saved)} topics in .kata/stubs/ for kata reset.")
    return 0


# ---------------------------------------------------------------------------------------------
# Entry point.


def cmd_speed(kata: Kata, args) -> int:
    from . import speed  # torch: only for this command

    try:
        lines = speed.measure(kata.topic(args.topic), kata.exercises, args.model, args.tokens).lines()
    except speed.NotMeasured as err:
        raise UserError(str(err)) from None
    for line in lines:
        kata.print(line)
    return 0


COMMANDS = {  # name: (function, arguments, what it does); the parser and the short help read this
    "next": (cmd_next, "", "what to do now: the file and functions to write, and how to check them"),
    "list": (cmd_list, "", "every topic and task, with your progress"),
    "check": (cmd_check, "[TOPIC]", "check your exercises/ (one topic, or all)"),
    "watch": (cmd_watch, "[TOPIC] [--poll]", "check again every time you save a file in exercises/"),
    "hint": (cmd_hint, "TOPIC [TASK [LEVEL]]", "one more hint each time you ask"),
    "reset": (cmd_reset, "TOPIC [--yes]", "start a topic again from its stub; your file is kept as a .bak"),
    "snapshot": (cmd_snapshot, "", "keep the untouched stubs for `kata reset` (make setup runs this)"),
    "speed": (cmd_speed, "TOPIC [--model M]", "optional: how much faster your code got (kv_cache: with the cache)"),
}


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="kata", description="Build a GPT from scratch, one kata at a time.")
    sub = parse.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, _, help_text) in COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        if name in ("check", "watch"):
            command.add_argument("topic", nargs="?", metavar="TOPIC",
                                 help="a topic slug, e.g. causal_attention (default: all)")
        if name in ("hint", "reset"):
            command.add_argument("topic", metavar="TOPIC", help="a topic slug, e.g. causal_attention")
        if name == "hint":
            command.add_argument("task", nargs="?", type=int, metavar="TASK",
                                 help="task number (default: your first unfinished task)")
            command.add_argument("level", nargs="?", type=int, metavar="LEVEL",
                                 help="show this hint (default: the next one you have not seen)")
        if name == "watch":
            command.add_argument("--poll", action="store_true",
                                 help="look for changes every 0.3 s (for folders that send no change events)")
        if name == "reset":
            command.add_argument("--yes", action="store_true", help="do not ask for confirmation")
        if name == "speed":
            command.add_argument("topic", metavar="TOPIC", help="a topic with a speed challenge, e.g. kv_cache")
            command.add_argument("--model", help="the model size (default: the topic's first)")
            command.add_argument("--tokens", type=int, default=200, help="new tokens to generate (default: 200)")
    return parse


def short_help(kata: Kata) -> None:
    kata.print(("kata", "bold"), ": build a GPT from scratch, one kata at a time")
    for name, (_, arguments, help_text) in COMMANDS.items():
        if name != "snapshot":
            kata.print(f"  {f'kata {name} {arguments}'.rstrip():<32}", (help_text, "dim"))
    kata.print()


def main(argv: list[str] | None = None, *, console: Console | None = None, cwd: Path | None = None) -> int:
    if MISSING:
        print(f"kata cannot start: the package {MISSING} is not installed; {SETUP}.", file=sys.stderr)
        return 2
    console = console or Console(highlight=False)
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit:  # --help, or a usage error argparse has already printed
        return int(exit.code or 0)
    root = L.find_root((cwd or Path.cwd()).resolve())
    if root is None:
        from ..course.curriculum import ROOT  # where this kata was installed from
        where = f": cd {ROOT}" if (ROOT / "curriculum.toml").is_file() else "."
        console.print(f"Run kata inside the kata repository (the folder with curriculum.toml and exercises/){where}",
                      soft_wrap=True)
        return 2
    kata = Kata(root, console)
    try:
        if args.command is None:
            short_help(kata)
            return cmd_next(kata, args)
        return COMMANDS[args.command][0](kata, args)
    except UserError as err:
        kata.print((str(err), "red"))
        return 2
    except KeyboardInterrupt:
        kata.print("Stopped.")
        return 130
    except Exception as err:  # noqa: BLE001 -- the tool's own failure: one line, never a traceback
        if isinstance(err, ModuleNotFoundError) and (err.name or "").split(".")[0] in DEPENDENCIES:
            kata.print((f"kata cannot run: the package {err.name} is not installed; {SETUP}.", "red"))
            return 2
        if os.environ.get("KATA_DEBUG"):
            raise
        kata.print((f"kata stopped on an unexpected error: {type(err).__name__}: {err}", "red"))
        kata.print(REPORT)
        return 70


if __name__ == "__main__":
    sys.exit(main())
