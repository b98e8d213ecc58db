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
import shutil
import subprocess
import sys
import threading
import time
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


def find_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding curriculum.toml and exercises/."""
    for folder in (start, *start.parents):
        if (folder / "curriculum.toml").is_file() and (folder / "exercises").is_dir():
            return folder
    return None


# ---------------------------------------------------------------------------------------------
# Running a topic's checks in a child process.

def run_checks(topic: Topic, exercises: Path, quiet: bool = False) -> list:
    """The verdicts of every check of `topic` on the learner's `exercises/` folder.

    The parent holds the topic's session (its checks and fixtures, trusted, loaded once per
    process) and keeps torch warm; a forked child imports the learner's code afresh and runs the
    session's probe-then-judge. `quiet` hides what the learner's code prints (useful while
    checking, noise in `kata list`)."""
    from ..engine import checks as C  # torch loads here, only for the commands that run checks
    from ..engine.session import session
    from ..course.offline import install

    install()  # tiktoken.get_encoding("gpt2") works offline in learner code
    _warm_once(C)  # the device checks' first meta tensor, once here rather than in each child
    topic_session = session(topic)
    topic_session.public  # noqa: B018 -- loaded here, in the parent: every child starts with it
    return _run_in_child(topic_session, exercises, topic_session.checks, quiet)


@functools.cache
def _warm_once(checks_module) -> None:
    checks_module.warm_up()


def _run_in_child(topic_session, exercises: Path, checks: list, quiet: bool) -> list:
    """Fork (grader.engine.child); the child sends {"start": check} before each probe, and its
    verdicts. A probe still running after TIMEOUT_SECONDS is killed, and blamed by name."""
    from ..engine import checks as C
    from ..engine import child, wire

    topic = topic_session.topic
    printed = None if quiet else _Printed()

    def setup(channel) -> None:
        if printed is not None:  # the learner's prints go to the parent, which shows a few
            os.close(printed.read_end)
            os.dup2(printed.write_end, 1)
            os.dup2(printed.write_end, 2)
            sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
            sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        else:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)

    def target(channel) -> None:
        _child(topic_session, exercises, checks, channel)

    if printed is not None:
        printed.start()
    try:
        ended = child.run(target, TIMEOUT_SECONDS, setup=setup)
    finally:
        if printed is not None:
            printed.show()
    messages = []
    for frame in ended.messages:
        try:
            messages.append(wire.unpack(frame))
        except wire.WireError:
            break
    for message in reversed(messages):
        if isinstance(message, dict) and "verdicts" in message:
            try:
                return [C.Verdict(**v) for v in message["verdicts"]]
            except (ValueError, TypeError):
                break
    started = [m["start"] for m in messages if isinstance(m, dict) and "start" in m]
    timeout = TIMEOUT_SECONDS
    if ended.status != "timeout":
        error = next((m["error"] for m in messages if isinstance(m, dict) and "error" in m), "")
        return _everywhere(checks, C.CRASH, f"the checks stopped without a result ({ended.how}{': ' if error else ''}"
                                            f"{error}). Does your code call exit(), or crash Python?")
    if not started:
        return _everywhere(checks, C.TIMEOUT, f"timed out: importing {topic.module_file} took over {timeout:g} s. "
                                              "An infinite loop at the top level of your file?")
    # The checks before the one that hung finished in time: run them again for their verdicts.
    hung = next(i for i, c in enumerate(checks) if c.name == started[-1])
    before = _run_in_child(topic_session, exercises, checks[:hung], quiet=True) if hung else []
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
        """Drain the pipe from now on; this process's write end stays open for the child to
        inherit, until `show`."""
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
        os.close(self.write_end)  # the child's copy closed when it ended: the drain meets the end
        if self.thread is not None:
            self.thread.join(timeout=2)  # a process the learner started may still hold the pipe
        cut = self.count - len(self.head) - len(self.tail)
        text = self.head + ([f"[... {cut:,} more lines your code printed are not shown ...]"] if cut > 0 else [])
        text += list(self.tail)
        if text:
            sys.stdout.write("\n".join(text) + "\n")
            sys.stdout.flush()


def _child(topic_session, exercises: Path, checks: list, channel) -> None:
    """In the forked child: the session's probe-then-judge, saying {"start": check} before each
    probe and sending the learner's own verdicts first (should a regrade with the reference hang
    or crash, they stand), then the final ones."""
    import torch
    from ..engine import wire

    def announced(check):
        @functools.wraps(check.probe)
        def probe(*args, **kwargs):
            channel.send(wire.pack({"start": check.name}))
            return check.probe(*args, **kwargs)
        return replace(check, probe=probe)

    def send(verdicts: list) -> None:
        channel.send(wire.pack({"verdicts": [asdict(v) for v in verdicts]}))

    try:
        torch.set_num_threads(1)  # OpenMP's thread pool does not survive a fork; tiny tensors need none
        send(topic_session.run(exercises, [announced(c) for c in checks], own=send))
    except BaseException as err:
        try:
            channel.send(wire.pack({"error": f"{type(err).__name__}: {err}".replace("\n", " ")[:500]}))
        except Exception:  # noqa: BLE001 -- the channel itself may be what broke
            pass
        raise


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
            blocked_by = getattr(verdict, "blocked_by", None)
            if blocked_by and blocked_by[0] != verdict.slug:
                return tuple(blocked_by)
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
    digest = hashlib.sha256(_grader_digest())
    for path in sorted([*exercises.glob("*.py"), topic.test_file(), topic.fixture_file()]):
        digest.update(str(path).encode())
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()


@functools.cache
def _grader_digest() -> bytes:
    """The grader's own code (not its tests), hashed once per process: `kata list` asks for every
    topic, and a running `kata watch` keeps the grader it imported anyway."""
    digest = hashlib.sha256()
    grader = Path(__file__).resolve().parents[1]
    for path in sorted(p for p in grader.rglob("*.py") if p.relative_to(grader).parts[0] != "tests"):
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    return digest.digest()


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
