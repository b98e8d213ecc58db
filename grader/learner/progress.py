"""The learner's side of `kata`: where the repository is, how far the learner got, which hint
comes next, and where a topic's untouched stub comes from. The words on screen are in cli.py.

Learner code runs only in `run_checks`, in a forked child: an infinite loop costs a timeout, not
the watcher, and every round imports the learner's files afresh.
"""

from __future__ import annotations

import collections
import functools
import hashlib
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..course.curriculum import Task, Topic
from ..course.files import write_atomic as write_atomically
from ..engine import verdicts as V  # no torch: saved verdicts are plain data
from ..engine.once import still_stubs  # no torch either
from ..engine.verdicts import NOT_IMPLEMENTED

TIMEOUT_SECONDS = 30.0  # for one check (one probe call); the slowest takes a few seconds
PRINTED_HEAD, PRINTED_TAIL, PRINTED_WIDTH = 40, 10, 400  # what is shown of the learner's own prints

# A task is done, failing or not started; a topic may also be in progress or have no checks yet.
DONE, FAILING, NOT_STARTED, NOT_RUN = "done", "failing", "not started", "not run"
IN_PROGRESS, NO_CHECKS = "in progress", "no checks yet"
# What a stub raises, as run_probe reports it: "not implemented yet (causal_attention task 2: CausalAttention.__init__)"
STUB_MESSAGE = re.compile(r"not implemented yet \((?P<topic>[a-z_]+) task (?P<task>\d+): (?P<name>[^)]*)\)")


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding curriculum.toml and exercises/."""
    for folder in (start, *start.parents):
        if (folder / "curriculum.toml").is_file() and (folder / "exercises").is_dir():
            return folder
    return None


# ---------------------------------------------------------------------------------------------
# Running a topic's checks in a child process.

_trusted: dict[Path, tuple] = {}  # test file -> (checks, fixture): trusted, loaded once per process


def run_checks(topic: Topic, exercises: Path, quiet: bool = False) -> list:
    """The verdicts of every check of `topic` on the learner's `exercises/` folder.

    The parent loads the checks and fixtures (trusted) and keeps torch warm; a forked child
    imports the learner's code afresh and runs `run_topic`. `quiet` hides what the learner's
    code prints (useful while checking, noise in `kata list`)."""
    from ..engine import checks as C  # torch loads here, only for the commands that run checks
    from ..engine.cases import load_fixture
    from ..course.offline import install

    install()  # tiktoken.get_encoding("gpt2") works offline in learner code
    if not _trusted:
        C.warm_up()  # the device checks' first meta tensor, once here rather than in each child
    if topic.test_file() not in _trusted:
        _trusted[topic.test_file()] = (C.load_checks(topic.test_file()), load_fixture(topic))
    checks, fixture = _trusted[topic.test_file()]
    return _run_in_child(topic, exercises, checks, fixture, quiet)


def _run_in_child(topic: Topic, exercises: Path, checks: list, fixture: dict, quiet: bool) -> list:
    """Fork; the child says `start <check>` before each probe and sends `verdicts <json>` at the
    end. A probe still running after TIMEOUT_SECONDS is killed, and blamed by name."""
    from ..engine import checks as C
    from ..engine.probe import run_topic  # imported here, in the parent: every child starts with it loaded

    read_end, write_end = os.pipe()
    printed = None if quiet else _Printed()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or the child would print the parent's buffered text a second time
    with warnings.catch_warnings():
        # Python warns that forking a threaded process (a file watcher) may deadlock; the child
        # touches no lock of those threads: it runs the checks and leaves through os._exit.
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        os.close(read_end)
        if printed is not None:  # the learner's prints go to the parent, which shows a few
            os.close(printed.read_end)
            os.dup2(printed.write_end, 1)
            os.dup2(printed.write_end, 2)
            sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
            sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        _child(run_topic, topic, exercises, checks, fixture, write_end, quiet)
    os.close(write_end)
    if printed is not None:
        printed.start()
    timeout = TIMEOUT_SECONDS
    try:
        lines, status = _read_until_exit(read_end, pid, timeout)
    finally:
        if printed is not None:
            printed.show()
    for line in reversed(lines):
        if line.startswith("verdicts "):
            try:
                return [C.Verdict(**v) for v in json.loads(line.removeprefix("verdicts "))]
            except (ValueError, TypeError):
                break
    started = [line.removeprefix("start ") for line in lines if line.startswith("start ")]
    if status != "timeout":
        error = next((line.removeprefix("error ") for line in lines if line.startswith("error ")), "")
        return _everywhere(checks, C.CRASH, f"the checks stopped without a result ({status}{': ' if error else ''}"
                                            f"{error}). Does your code call exit(), or crash Python?")
    if not started:
        return _everywhere(checks, C.TIMEOUT, f"timed out: importing {topic.module_file} took over {timeout:g} s. "
                                              "An infinite loop at the top level of your file?")
    # The checks before the one that hung finished in time: run them again for their verdicts.
    hung = next(i for i, c in enumerate(checks) if c.name == started[-1])
    before = _run_in_child(topic, exercises, checks[:hung], fixture, quiet=True) if hung else []
    hang = f"timed out: still running after {timeout:g} s. An infinite loop?"
    return (before + _everywhere(checks[hung:hung + 1], C.TIMEOUT, hang)
            + _everywhere(checks[hung + 1:], C.NOT_RUN, f"not run: {checks[hung].name} timed out first"))


class _Printed:
    """What the learner's code prints, drained from a pipe while the checks run: the first and last
    lines are kept and shown before the verdict; thousands of lines would bury it."""

    def __init__(self):
        self.read_end, self.write_end = os.pipe()
        self.head: list[str] = []
        self.tail: collections.deque[str] = collections.deque(maxlen=PRINTED_TAIL)
        self.count, self.thread = 0, None

    def start(self) -> None:
        os.close(self.write_end)
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self) -> None:
        pending = b""
        while chunk := os.read(self.read_end, 1 << 16):
            *complete, pending = (pending + chunk).split(b"\n")
            for line in complete:
                self._keep(line)
            pending = pending[-PRINTED_WIDTH * 4:]  # one endless line is not kept whole
        if pending:
            self._keep(pending)
        os.close(self.read_end)

    def _keep(self, raw: bytes) -> None:
        line = raw.decode("utf-8", "replace")
        line = line if len(line) <= PRINTED_WIDTH else line[:PRINTED_WIDTH] + " [...]"
        self.count += 1
        if len(self.head) < PRINTED_HEAD:
            self.head.append(line)
        else:
            self.tail.append(line)

    def show(self) -> None:
        if self.thread is not None:
            self.thread.join(timeout=2)  # a process the learner started may still hold the pipe
        cut = self.count - len(self.head) - len(self.tail)
        text = self.head + ([f"[... {cut:,} more lines your code printed are not shown ...]"] if cut > 0 else [])
        text += list(self.tail)
        if text:
            sys.stdout.write("\n".join(text) + "\n")
            sys.stdout.flush()


def _child(run_topic, topic: Topic, exercises: Path, checks: list, fixture: dict, write_end: int,
           quiet: bool) -> None:
    import torch

    pipe = os.fdopen(write_end, "w", buffering=1)  # line-buffered: each `start` reaches the parent at once

    def announced(check):
        @functools.wraps(check.probe)
        def probe(*args, **kwargs):
            pipe.write(f"start {check.name}\n")
            return check.probe(*args, **kwargs)
        return replace(check, probe=probe)

    if quiet:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
    code = 0
    try:
        torch.set_num_threads(1)  # OpenMP's thread pool does not survive a fork; tiny tensors need none
        def send(verdicts: list) -> None:
            pipe.write("verdicts " + json.dumps([asdict(v) for v in verdicts]) + "\n")

        # The learner's own verdicts first: should a regrade with the reference (grader/once.py)
        # hang or crash, they stand.
        send(run_topic(topic, exercises, [announced(c) for c in checks], fixture, own=send))
    except BaseException as err:  # noqa: BLE001 -- whatever happens here, the parent reports a crash
        code = 3
        try:
            pipe.write(f"error {type(err).__name__}: {err}".replace("\n", " ")[:500] + "\n")
        except Exception:  # noqa: BLE001 -- the pipe itself may be what broke
            pass
    finally:
        for stream in (sys.stdout, sys.stderr, pipe):
            try:
                stream.flush()  # the learner's own prints appear before the verdict
            except Exception:  # noqa: BLE001 -- the learner may have closed or replaced it
                pass
        os._exit(code)


def _read_until_exit(fd: int, pid: int, timeout: float) -> tuple[list[str], str]:
    """The lines the child writes, and how it ended; kills it when silent for `timeout` seconds."""
    chunks, status = [], None
    try:
        # Each `start <check>` line gives the next check its own `timeout` seconds.
        while select.select([fd], [], [], timeout)[0]:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        else:
            os.kill(pid, signal.SIGKILL)
            status = "timeout"
    except BaseException:  # Ctrl-C while the checks run: stop the child too
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        os.close(fd)
        _, code = os.waitpid(pid, 0)
    if status is None:
        status = (f"killed by signal {os.WTERMSIG(code)}" if os.WIFSIGNALED(code)
                  else f"exit code {os.waitstatus_to_exitcode(code)}")
    return b"".join(chunks).decode("utf-8", "replace").splitlines(), status


def _everywhere(checks: list, reason: str, message: str) -> list:
    return [V.Verdict(c.slug, c.task, c.name, reason, message, what=c.what) for c in checks]


# ---------------------------------------------------------------------------------------------
# Progress: a task is done when all its checks pass, not started when every check that does not
# pass is not implemented (here or in a stub it calls), failing otherwise.


@dataclass
class TaskProgress:
    task: Task
    status: str
    verdicts: list

    @property
    def points(self) -> int:
        return self.task.points if self.status == DONE else 0

    def waits_for(self) -> tuple[str, int, str] | None:
        """(topic, task, name) of another topic's stub this task's checks ran into, if that is
        all that stops it: the learner's code here may be written, and the stub is elsewhere."""
        if self.status != NOT_STARTED:
            return None
        for verdict in self.verdicts:
            found = STUB_MESSAGE.search(verdict.message or "")
            if found and found["topic"] != verdict.slug:
                return found["topic"], int(found["task"]), found["name"]
        return None

    @property
    def note(self) -> str:
        """How the task was graded when not with the learner's code alone (grader/once.py)."""
        return next((v.note for v in self.verdicts if getattr(v, "note", "")), "")

    def problem(self):
        """The verdict worth explaining: a named mistake, else a real failure, else the first."""
        failed = [v for v in self.verdicts if not v.passed]
        named = [v for v in failed if v.mistake]
        real = [v for v in failed if v.reason != NOT_IMPLEMENTED]
        return (named or real or failed or [None])[0]


@dataclass
class TopicProgress:
    topic: Topic
    tasks: list[TaskProgress]  # empty when the topic has no checks yet

    @property
    def status(self) -> str:
        statuses = {t.status for t in self.tasks}
        if not statuses:
            return NO_CHECKS
        if statuses in ({DONE}, {NOT_STARTED}):
            return statuses.pop()
        return IN_PROGRESS

    @property
    def points(self) -> int:
        return sum(t.points for t in self.tasks)

    @property
    def done(self) -> bool:
        return self.status in (DONE, NO_CHECKS)

    def next_task(self) -> TaskProgress | None:
        return next((t for t in self.tasks if t.status != DONE), None)

    def file_problem(self):
        """The verdict, when every check failed the same way: a file that does not import, a
        forbidden API, a hang at import time. Not one task's fault, so not told as one."""
        verdicts = [v for t in self.tasks for v in t.verdicts]
        first = verdicts[0] if len(verdicts) > 1 else None
        if first is None or first.passed or first.reason == NOT_IMPLEMENTED:
            return None
        same = all((v.reason, v.message) == (first.reason, first.message) for v in verdicts)
        return first if same else None


def progress(topic: Topic, verdicts: list) -> TopicProgress:
    tasks = []
    for task in topic.tasks:
        mine = [v for v in verdicts if v.task == task.id]
        if not mine:
            continue
        failed = [v for v in mine if not v.passed]
        if not failed:
            status = DONE
        elif all(v.reason == NOT_IMPLEMENTED for v in failed):  # what is written so far passes
            status = NOT_STARTED
        elif all(v.reason == V.NOT_RUN for v in failed):  # an earlier check hung: nothing is known
            status = NOT_RUN
        else:
            status = FAILING
        tasks.append(TaskProgress(task, status, mine))
    return TopicProgress(topic, tasks)


def check_topic(topic: Topic, exercises: Path, overview: bool = False) -> TopicProgress:
    """Run the topic's checks. An `overview` (kata list, next, hint) hides what the learner's code
    prints and reuses the last verdicts when no file they depend on has changed since."""
    if not topic.test_file().exists():
        return TopicProgress(topic, [])
    fingerprint = _fingerprint(topic, exercises)
    if overview:
        known = last_progress(topic, exercises, fingerprint)
        if known is not None:
            return known
    verdicts = run_checks(topic, exercises, quiet=overview)
    if not any(v.reason in (V.TIMEOUT, V.CRASH) for v in verdicts):  # those depend on the moment
        write_atomically(_saved(topic, exercises),
                         json.dumps({"fingerprint": fingerprint, "verdicts": [asdict(v) for v in verdicts]}))
    return progress(topic, verdicts)


def _saved(topic: Topic, exercises: Path) -> Path:
    return exercises.parent / ".kata" / "verdicts" / f"{topic.slug}.json"


def last_progress(topic: Topic, exercises: Path, fingerprint: str | None = None) -> TopicProgress | None:
    """The topic's last verdicts, if no file they depend on changed since; never runs a check."""
    try:
        data = json.loads(_saved(topic, exercises).read_text(encoding="utf-8"))
        if data["fingerprint"] == (fingerprint or _fingerprint(topic, exercises)):
            return progress(topic, [V.Verdict(**v) for v in data["verdicts"]])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # nothing saved, or damaged
    return None


def failing_below(topic: Topic, exercises: Path, curriculum) -> list[tuple[str, list[int]]]:
    """(topic, failing task ids) for each topic `topic` builds on whose last verdicts, still
    current (no file changed since), have failing tasks: a failure here may come from there
    (training's checks call gpt_model's generate_text_simple). Never runs a check."""
    found = []
    for slug in curriculum.requires(topic.slug):
        state = last_progress(curriculum[slug], exercises)
        failing = [t.task.id for t in state.tasks if t.status == FAILING] if state is not None else []
        if failing:
            found.append((slug, failing))
    return found


def _fingerprint(topic: Topic, exercises: Path) -> str:
    """Everything a verdict depends on: the learner's modules (they import each other), the
    topic's checks and fixtures, and the grader's own code."""
    digest = hashlib.sha256()
    grader = Path(__file__).resolve().parents[1]
    code = [p for p in grader.rglob("*.py") if p.relative_to(grader).parts[0] != "tests"]
    for path in sorted([*exercises.glob("*.py"), topic.test_file(), topic.fixture_file(), *code]):
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# State kept between commands in .kata/ at the repository root (git-ignored): state.json (hint
# levels seen), verdicts/ (the last verdicts, for overviews), stubs/ (see below).


class State:
    def __init__(self, root: Path):
        self.path = root / ".kata" / "state.json"
        try:
            self.data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self.data = {}
        if not (isinstance(self.data, dict) and isinstance(self.data.get("hints", {}), dict)):
            self.data = {}  # damaged: start afresh rather than fail

    def hints_seen(self, slug: str, task: int) -> int:
        seen = self.data.get("hints", {}).get(f"{slug}/{task}", 0)
        return seen if isinstance(seen, int) else 0

    def saw_hint(self, slug: str, task: int, level: int) -> None:
        hints = self.data.setdefault("hints", {})
        hints[f"{slug}/{task}"] = max(level, self.hints_seen(slug, task))
        write_atomically(self.path, json.dumps(self.data, indent=1, sort_keys=True))


# ---------------------------------------------------------------------------------------------
# Stubs: the untouched exercise, for `kata reset`.
#
# A stub is recognised by its shape: every function a task asks for only raises
# NotImplementedError. The newest such version of exercises/<slug>.py in git's history wins, so
# a learner who commits their own work still gets the stub (and an updated stub after a pull).
# A copy without git history (a zip, a release) uses the snapshot `kata snapshot` takes at
# `make setup`, of every exercise that is still a stub then.


def is_stub(source: str, topic: Topic) -> bool:
    """Every function the topic's tasks ask for (constants aside) only raises NotImplementedError."""
    stubs = still_stubs(source)
    wanted = [name for task in topic.tasks for name in task.api if not name.isupper()]
    return stubs is not None and bool(wanted) and all(name in stubs for name in wanted)


def snapshot_file(root: Path, topic: Topic) -> Path:
    return root / ".kata" / "stubs" / topic.module_file


def snapshot(root: Path, topics) -> list[Topic]:
    """Copy every exercise that is still a stub into .kata/stubs/; returns the topics copied."""
    saved = []
    for topic in topics:
        exercise = root / "exercises" / topic.module_file
        if exercise.is_file() and is_stub(exercise.read_text(encoding="utf-8"), topic):
            target = snapshot_file(root, topic)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(exercise, target)
            saved.append(topic)
    return saved


def find_stub(root: Path, topic: Topic) -> tuple[str, str] | None:
    """(source, where it came from) of the topic's untouched stub, or None."""
    relative = f"exercises/{topic.module_file}"
    for commit in _git(root, "log", "--format=%H", "-n", "500", "--", relative).split():
        source = _git(root, "show", f"{commit}:./{relative}")
        if is_stub(source, topic):
            return source, f"git commit {commit[:10]}"
    saved = snapshot_file(root, topic)
    if saved.is_file() and is_stub(source := saved.read_text(encoding="utf-8"), topic):
        return source, f"the snapshot in {saved.relative_to(root)}"
    return None


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout if done.returncode == 0 else ""


def backup_and_restore(exercise: Path, stub: str) -> Path | None:
    """Save the learner's file as <name>.<timestamp>.bak beside it, then write the stub."""
    backup = None
    if exercise.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup, n = exercise.with_name(f"{exercise.name}.{stamp}.bak"), 1
        while backup.exists():
            n += 1
            backup = exercise.with_name(f"{exercise.name}.{stamp}-{n}.bak")
        shutil.copy2(exercise, backup)
    write_atomically(exercise, stub)
    return backup
