"""Starting and talking to sandboxed workers (trusted side).

A worker is `python -m grader.grading.sandbox.inside.worker SLOT` inside bubblewrap: new user,
PID, network, IPC and UTS namespaces; uid 65534; the Python runtime, the grader's code that runs
inside (IN_SANDBOX: course/, engine/ and the worker's folder), the checks (tests/*.py, without the
fixtures) and the offline tiktoken cache bound read-only; one read-only slot folder, /submission,
into which this process copies one submission at a time; and a read-only root. The only places
anything can write are a private /tmp (TMP_SIZE) and /dev/shm (SHM_SIZE), sized tmpfs that the
worker empties after every child (grader.grading.sandbox.inside.worker.WRITABLE). Solutions, hidden cases, the class
folder and the output folder are not there at all. The import path holds the runtime and the
repository folder as the sandbox shows it (IN_SANDBOX, tests/, curriculum.toml and data/ only),
all read-only: nothing a job writes can be imported by a later one.

Where bubblewrap cannot start (not installed, user namespaces disabled), the worker runs
directly: the child still gets resource limits, a seccomp filter, a timeout and a non-root uid
when it can, but it can read what the grading user can. `Isolation.degraded` says so, with why,
and every report repeats it.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ...engine import wire
from ...course.curriculum import ROOT

SLOT_IN_SANDBOX = "/submission"
TMP_SIZE = 64 << 20      # the sandbox's /tmp: the child's printed output, and whatever it writes
SHM_SIZE = 16 << 20      # /dev/shm (POSIX shared memory); torch on a CPU needs none
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Isolation:
    sandbox: str          # "bubblewrap" or "none"
    reason: str = ""      # why there is no sandbox
    seccomp: bool = True  # the children's filter (grader.grading.sandbox.inside.worker.REFUSED) was seen to load and refuse

    @property
    def degraded(self) -> bool:
        return self.sandbox != "bubblewrap" or not self.seccomp

    def describe(self) -> str:
        from .inside.worker import REFUSED
        filter_words = ("seccomp filter refusing " + "; ".join(REFUSED) if self.seccomp else
                        "NO seccomp filter (libseccomp or the kernel would not apply it: new processes, "
                        "threads, sockets, io_uring, signals to other processes and IPC are not refused)")
        if self.sandbox == "bubblewrap":
            sandbox = (f"bubblewrap sandbox (no network, private PID and IPC namespaces, uid 65534, read-only "
                       f"root and runtime; writable only a {TMP_SIZE >> 20} MiB /tmp and a {SHM_SIZE >> 20} MiB "
                       f"/dev/shm, emptied after every job)")
            return sandbox + ", " + filter_words if self.seccomp else f"isolation degraded: {sandbox}, {filter_words}"
        reads = (" Submitted code can READ whatever the grading user can"
                 + (", and that user is root: the solutions, your secret for the hidden inputs and the other "
                    "students' files among it; grade with bubblewrap, or as a user who cannot read them"
                    if os.geteuid() == 0 else ": the solutions and your secret among it, if that user can")
                 + ".")
        return (f"isolation degraded: {self.reason}; resource limits, time limits and "
                f"{filter_words} still apply.{reads}" if self.seccomp else
                f"isolation degraded: {self.reason}; resource and time limits only, {filter_words}.{reads}")


# The grader's code that runs inside the sandbox, and nothing else of it (no host side, no reports,
# no builders): the course, the engine, and the worker's own folder. grader/tests/test_layout.py
# checks that the worker imports nothing outside these.
IN_SANDBOX = ("grader/course", "grader/engine", "grader/grading/sandbox/inside")


def _runtime_paths() -> list[Path]:
    """Folders the Python runtime needs, outside the repository and /usr: the interpreter's
    prefixes and its site-packages (not sys.path, which holds a script's own folder)."""
    import site
    wanted = {Path(sys.prefix), Path(sys.base_prefix), Path(os.path.realpath(sys.executable)).parent.parent}
    wanted |= {Path(p) for p in site.getsitepackages() + [site.getusersitepackages()]}
    # Never the repository itself or a folder holding it (the solutions are there); a venv
    # inside it is fine.
    paths = sorted({p.resolve() for p in wanted if p.is_dir() and not ROOT.is_relative_to(p.resolve())})
    return [p for p in paths if not any(p != q and p.is_relative_to(q) for q in paths)
            and not p.is_relative_to(Path("/usr")) and p != Path("/tmp")]


def bwrap_command(slot: Path) -> list[str]:
    args = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--uid", "65534", "--gid", "65534", "--hostname", "kata", "--clearenv",
            # /tmp first: a tmpfs mounted after the binds would hide a repository under /tmp.
            "--size", str(TMP_SIZE), "--tmpfs", "/tmp",
            "--ro-bind", "/usr", "/usr", "--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    for name in ("bin", "lib", "lib64", "sbin"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    # The repository folder is a tmpfs of its own, read-only once the parts below are bound into
    # it: a repository under /tmp would otherwise sit on the writable /tmp, first on the import path.
    args += ["--size", str(1 << 20), "--tmpfs", str(ROOT)]
    for path in _runtime_paths():
        args += ["--ro-bind", str(path), str(path)]
    for part in (*IN_SANDBOX, "tests", "curriculum.toml", "data/tiktoken-cache"):
        args += ["--ro-bind", str(ROOT / part), str(ROOT / part)]
    fixtures = str(ROOT / "tests" / "fixtures")
    args += ["--size", str(1 << 20), "--tmpfs", fixtures, "--remount-ro", fixtures,  # the public answers stay outside
             "--remount-ro", str(ROOT),
             "--ro-bind", str(slot), SLOT_IN_SANDBOX,
             "--proc", "/proc", "--dev", "/dev", "--size", str(SHM_SIZE), "--tmpfs", "/dev/shm",
             "--remount-ro", "/dev",  # /dev/null and the others still work; /dev/shm stays writable
             # Last: the root tmpfs, and the folders bwrap made on it for the binds (the repository
             # folder, first on the import path), become read-only. Only /tmp and /dev/shm are not.
             "--remount-ro", "/", "--chdir", "/tmp"]
    for key, value in _environment("bwrap").items():
        args += ["--setenv", key, value]
    return args + ["--", sys.executable, "-m", "grader.grading.sandbox.inside.worker", SLOT_IN_SANDBOX]


def _environment(sandbox: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT),
            # `python -m` would put the working folder, the sandbox's writable /tmp, first on
            # sys.path: a module a child plants there would run in later jobs.
            "PYTHONSAFEPATH": "1",
            "TIKTOKEN_CACHE_DIR": str(ROOT / "data" / "tiktoken-cache"), "KATA_SANDBOX": sandbox,
            "KATA_SECCOMP": os.environ.get("KATA_SECCOMP", "on"),
            "KATA_OFF_LIMITS": os.environ.get("KATA_OFF_LIMITS", "on")}


def wanted_isolation(no_sandbox: bool = False) -> Isolation:
    """What to try, found without starting anything: the workers' hello says what was achieved
    (grader.grading.grade.Pool.start), so grading does not pay a separate probe with its torch import."""
    if no_sandbox:
        return Isolation("none", "sandbox turned off (--no-sandbox)")
    if shutil.which("bwrap") is None:
        return Isolation("none", "bubblewrap (bwrap) is not installed")
    return Isolation("bubblewrap")


# Run where the workers will run: torch imports, and the children's seccomp filter loads.
_PROBE = ("import torch; from grader.grading.sandbox.inside.worker import seccomp_available; "
          "raise SystemExit(0 if seccomp_available() else 3)")


def probe_isolation(force_degraded: bool = False) -> Isolation:
    """Can bubblewrap start here, with everything the workers need? Say why not."""
    def without_sandbox(reason: str) -> Isolation:
        from .inside.worker import seccomp_available
        return Isolation("none", reason, seccomp_available())

    if force_degraded:
        return without_sandbox("sandbox turned off (--no-sandbox)")
    if shutil.which("bwrap") is None:
        return without_sandbox("bubblewrap (bwrap) is not installed")
    with tempfile.TemporaryDirectory() as slot:
        command = bwrap_command(Path(slot))
        command = command[:command.index("--")] + ["--", sys.executable, "-c", _PROBE]
        try:
            result = subprocess.run(command, capture_output=True, timeout=60, text=True)
        except (OSError, subprocess.TimeoutExpired) as err:
            return without_sandbox(f"bubblewrap could not start ({err})")
    if result.returncode not in (0, 3):
        last = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return without_sandbox(f"bubblewrap could not start here ({last})")
    return Isolation("bubblewrap", seccomp=result.returncode == 0)


def _kill_child_of(parent: int, pid: int) -> None:
    """SIGKILL the process group of `pid` (the child is a session leader) if it is still
    `parent`'s child: never a stranger that reused the number."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            ppid = int(stat.read().rsplit(b")", 1)[1].split()[1])
        if ppid == parent:
            os.killpg(pid, signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass


class WorkerDied(RuntimeError):
    pass


class NoReply(WorkerDied):
    """The worker is alive (or stopped) but sent nothing in time."""


class Worker:
    """One warm sandboxed process; `run` grades one submission's topics on it.

    The protocol is grader.grading.sandbox.inside.worker's: the job and each of its topics' cases (from `cases`, packed
    once per class: {slug: bytes}); the worker names each child it forks and reports each topic.
    Every message must come within the topic timeout plus SLACK of the one before: a worker that
    does not (a child stopped it) or that dies (a child killed it) is killed here with what it
    runs, started again, and the topics it had not reported run again, one job each, so only the
    topic whose code did it scores 0."""

    SLACK = 5.0  # seconds a message may take beyond the topic timeout: fork, reap, clean-up

    def __init__(self, isolation: Isolation, cases: dict[str, bytes] | None, ready: bool = True):
        """`cases`: each topic's packed inputs; they may be given later, before `run`."""
        self.isolation, self.cases, self.seccomp = isolation, cases, False
        self.slot = Path(tempfile.mkdtemp(prefix="kata-slot-"))
        self.slot.chmod(0o755)
        self.process: subprocess.Popen | None = None
        self.child: int | None = None  # the worker's child running the current topic (its pid there)
        self.log = tempfile.TemporaryFile()
        self.launch()
        if ready:
            self.wait_ready()

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start the process. bwrap's --die-with-parent follows the launching *thread*: launch
        from a thread that lives as long as the worker is used."""
        if self.isolation.degraded:
            command = [sys.executable, "-m", "grader.grading.sandbox.inside.worker", str(self.slot)]
            env = _environment("none")
        else:
            command, env = bwrap_command(self.slot), None
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=self.log, env=env, cwd=str(ROOT))

    def wait_ready(self) -> None:
        try:
            hello = self._read(time.monotonic() + START_TIMEOUT)
        except wire.WireError:
            hello = None
        if not isinstance(hello, dict) or not hello.get("ready"):
            raise WorkerDied(f"the grading worker did not start: {self._log_tail()}")
        self.seccomp = bool(hello.get("seccomp"))  # could the children's filter be loaded here?

    def run(self, topics: list[str], files: dict[str, bytes], timeout: float,
            uses: dict[str, list[str]] | None = None, hidden: bool = False,
            trace: dict[str, list[str]] | None = None) -> dict:
        """Grade `files` on `topics` (their hidden cases if `hidden`, else their public ones):
        {"topics": {slug: status...}, "output": str, "outcomes": {slug: data}}, with a status for
        every topic whatever happens. `trace` ({topic: [check]}, public cases): only those checks,
        with the steps of their first case."""
        self._stage(files)
        reply: dict = {"topics": {}, "output": "", "outcomes": {}}
        lost = self._job(topics, timeout, uses or {}, reply, hidden, trace)
        if lost is None:
            return reply
        for slug in [s for s in topics if s not in reply["topics"]]:  # a fresh worker, one topic a job
            self._stage(files)
            lost = self._job([slug], timeout, {}, reply, hidden, trace)
            if lost is not None:
                reply["topics"][slug] = lost
        return reply

    def _job(self, topics: list[str], timeout: float, uses: dict, reply: dict, hidden: bool = False,
             trace: dict[str, list[str]] | None = None) -> dict | None:
        """Run one job, adding each topic to `reply` as the worker reports it. None when the job
        finished; else why the worker was lost (a status for the topic it was running), after it
        was killed and started again."""
        self.child = None
        cases = [(self.cases or {})[("hidden", slug) if hidden else slug] for slug in topics]  # a KeyError: our bug
        try:
            self._write(wire.pack({"topics": topics, "timeout": timeout, "uses": uses}
                                  | ({"trace": trace} if trace is not None and not hidden else {})))
            for packed in cases:  # the worker reads them all before it forks: no wait for a reply
                self._write(packed)
            while True:
                message = self._read(time.monotonic() + timeout + self.SLACK)
                if not isinstance(message, dict):
                    raise WorkerDied("malformed message")
                if message.get("done") is True and set(reply["topics"]) >= set(topics):
                    return None
                if "pid" in message and isinstance(message["pid"], int):
                    self.child = message["pid"]
                elif set(message) == {"output"}:
                    reply["output"] += str(message["output"])
                elif message.get("topic") in topics and message["topic"] not in reply["topics"]:
                    slug = message.pop("topic")
                    reply["output"] += str(message.pop("output", ""))
                    entry = {k: v for k, v in message.items() if k in ("status", "seconds", "how")}
                    reply["topics"][slug] = entry
                    if entry.get("status") == "ok":
                        try:
                            reply["outcomes"][slug] = self._read(time.monotonic() + self.SLACK)
                        except wire.WireError:
                            entry["status"] = "bad_output"
                else:
                    raise WorkerDied("unexpected message")
        except wire.WireError as err:
            why, status = f"malformed message ({err})", "crash"
        except WorkerDied as err:
            why, status = str(err), "timeout" if isinstance(err, NoReply) else "crash"
        except OSError as err:
            why, status = str(err), "crash"
        self.restart()
        how = (f"the grading worker stopped answering while it ran this topic, and was stopped after "
               f"{timeout + self.SLACK:g} s: did your code stop it (SIGSTOP)? ({why})" if status == "timeout" else
               f"the grading worker was killed while it ran this topic: did your code kill it? ({why})")
        return {"status": status, "how": how, "seconds": 0.0}

    def _stage(self, files: dict[str, bytes]) -> None:
        for old in self.slot.iterdir():  # a degraded child may have left anything here
            if old.is_dir() and not old.is_symlink():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)
        for name, content in files.items():
            path = self.slot / name
            path.write_bytes(content)
            path.chmod(0o644)

    def _write(self, data: bytes, deadline: float | None = None) -> None:
        """One frame, never blocking past the deadline: a stopped worker stops reading."""
        assert self.process and self.process.stdin
        fd = self.process.stdin.fileno()
        os.set_blocking(fd, False)
        deadline = time.monotonic() + self.SLACK if deadline is None else deadline
        for part in (wire.frame_header(len(data)), data):
            view = memoryview(part)
            while view:
                wait = deadline - time.monotonic()
                if wait <= 0 or not select.select([], [fd], [], wait)[1]:
                    raise NoReply("the worker did not take its input in time")
                try:
                    view = view[os.write(fd, view):]
                except BlockingIOError:
                    continue

    def _read(self, deadline: float):
        assert self.process and self.process.stdout
        fd = self.process.stdout.fileno()
        header = self._read_exact(fd, wire.FRAME_HEADER, deadline)
        try:
            size = wire.frame_size(header)
        except wire.WireError:
            raise WorkerDied("oversized reply") from None
        return wire.unpack(self._read_exact(fd, size, deadline))

    def _read_exact(self, fd: int, size: int, deadline: float) -> bytes:
        chunks, left = [], size
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise NoReply("no reply in time")
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                raise WorkerDied(f"the worker exited: {self._log_tail()}")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _log_tail(self) -> str:
        self.log.seek(0)
        lines = self.log.read().decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else "no message"

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        """Kill the worker, and first the child it was running where that child is not inside
        bubblewrap's PID namespace (which dies with bwrap): a stopped worker no longer kills it."""
        if self.process and self.process.poll() is None:
            if self.isolation.degraded and self.child is not None:
                _kill_child_of(self.process.pid, self.child)
            self.process.kill()
            self.process.wait()
        self.child = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.slot, ignore_errors=True)
