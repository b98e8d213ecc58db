"""Starting and talking to sandboxed workers (trusted side).

A worker is `python -m grader.worker SLOT` inside bubblewrap: new user, PID, network, IPC and
UTS namespaces; uid 65534; the Python runtime, grader/, the checks (tests/*.py, without the
fixtures) and the offline tiktoken cache bound read-only; one read-only slot folder, /submission,
into which this process copies one submission at a time; and a read-only root. The only places
anything can write are a private /tmp (TMP_SIZE) and /dev/shm (SHM_SIZE), sized tmpfs that the
worker empties after every child (grader.worker.WRITABLE). Solutions, hidden cases, the class
folder and the output folder are not there at all. The import path holds the runtime and the
repository folder as the sandbox shows it (grader/, tests/, curriculum.toml and data/ only),
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
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import wire
from .curriculum import ROOT

SLOT_IN_SANDBOX = "/submission"
TMP_SIZE = 64 << 20      # the sandbox's /tmp: the child's printed output, and whatever it writes
SHM_SIZE = 16 << 20      # /dev/shm (POSIX shared memory); torch on a CPU needs none
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Isolation:
    sandbox: str          # "bubblewrap" or "none"
    reason: str = ""      # why there is no sandbox
    seccomp: bool = True  # the children's filter (grader.worker.REFUSED) was seen to load and refuse

    @property
    def degraded(self) -> bool:
        return self.sandbox != "bubblewrap" or not self.seccomp

    def describe(self) -> str:
        from .worker import REFUSED
        filter_words = ("seccomp filter refusing " + "; ".join(REFUSED) if self.seccomp else
                        "NO seccomp filter (libseccomp or the kernel would not apply it: new processes, "
                        "threads, sockets, io_uring, signals to other processes and IPC are not refused)")
        if self.sandbox == "bubblewrap":
            sandbox = (f"bubblewrap sandbox (no network, private PID and IPC namespaces, uid 65534, read-only "
                       f"root and runtime; writable only a {TMP_SIZE >> 20} MiB /tmp and a {SHM_SIZE >> 20} MiB "
                       f"/dev/shm, emptied after every job)")
            return sandbox + ", " + filter_words if self.seccomp else f"isolation degraded: {sandbox}, {filter_words}"
        return (f"isolation degraded: {self.reason}; resource limits, time limits and "
                f"{filter_words} still apply" if self.seccomp else
                f"isolation degraded: {self.reason}; resource and time limits only, {filter_words}")


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
    for path in _runtime_paths():
        args += ["--ro-bind", str(path), str(path)]
    for part in ("grader", "tests", "curriculum.toml", "data/tiktoken-cache"):
        args += ["--ro-bind", str(ROOT / part), str(ROOT / part)]
    fixtures = str(ROOT / "tests" / "fixtures")
    args += ["--size", str(1 << 20), "--tmpfs", fixtures, "--remount-ro", fixtures,  # the public answers stay outside
             "--ro-bind", str(slot), SLOT_IN_SANDBOX,
             "--proc", "/proc", "--dev", "/dev", "--size", str(SHM_SIZE), "--tmpfs", "/dev/shm",
             "--remount-ro", "/dev",  # /dev/null and the others still work; /dev/shm stays writable
             # Last: the root tmpfs, and the folders bwrap made on it for the binds (the repository
             # folder, first on the import path), become read-only. Only /tmp and /dev/shm are not.
             "--remount-ro", "/", "--chdir", "/tmp"]
    for key, value in _environment("bwrap").items():
        args += ["--setenv", key, value]
    return args + ["--", sys.executable, "-m", "grader.worker", SLOT_IN_SANDBOX]


def _environment(sandbox: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
            "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT),
            # `python -m` would put the working folder, the sandbox's writable /tmp, first on
            # sys.path: a module a child plants there would run in later jobs.
            "PYTHONSAFEPATH": "1",
            "TIKTOKEN_CACHE_DIR": str(ROOT / "data" / "tiktoken-cache"), "KATA_SANDBOX": sandbox}


def wanted_isolation(no_sandbox: bool = False) -> Isolation:
    """What to try, found without starting anything: the workers' hello says what was achieved
    (grader.grade.Pool.start), so grading does not pay a separate probe with its torch import."""
    if no_sandbox:
        return Isolation("none", "sandbox turned off (--no-sandbox)")
    if shutil.which("bwrap") is None:
        return Isolation("none", "bubblewrap (bwrap) is not installed")
    return Isolation("bubblewrap")


# Run where the workers will run: torch imports, and the children's seccomp filter loads.
_PROBE = "import torch; from grader.worker import seccomp_available; raise SystemExit(0 if seccomp_available() else 3)"


def probe_isolation(force_degraded: bool = False) -> Isolation:
    """Can bubblewrap start here, with everything the workers need? Say why not."""
    def without_sandbox(reason: str) -> Isolation:
        from .worker import seccomp_available
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


class WorkerDied(RuntimeError):
    pass


class Worker:
    """One warm sandboxed process; `run` grades one (submission, topic) job on it."""

    def __init__(self, isolation: Isolation, cases: bytes | None, ready: bool = True):
        """`cases`: the class's inputs, packed once ({"cases": {slug: {check: [inputs]}}}); they
        may be given later, before `wait_ready`, so that the worker imports torch meanwhile."""
        self.isolation, self.cases, self.seccomp = isolation, cases, False
        self.slot = Path(tempfile.mkdtemp(prefix="kata-slot-"))
        self.slot.chmod(0o755)
        self.process: subprocess.Popen | None = None
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
            command = [sys.executable, "-m", "grader.worker", str(self.slot)]
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
        self._write(self.cases)

    def run(self, topics: list[str], files: dict[str, bytes], timeout: float,
            uses: dict[str, list[str]] | None = None) -> dict:
        """Grade `files` on `topics`: {"topics": {slug: status...}, "output": str, "outcomes":
        {slug: data}}, with a status for every topic whatever happens."""
        self._stage(files)
        why = "malformed reply"
        try:
            deadline = time.monotonic() + timeout * len(topics) + 30
            self._write(wire.pack({"topics": topics, "timeout": timeout, "uses": uses or {}}))
            reply = self._read(deadline)
            if isinstance(reply, dict) and isinstance(reply.get("topics"), dict):
                reply["outcomes"] = {}
                for slug, entry in reply["topics"].items():
                    if isinstance(entry, dict) and entry.get("status") == "ok":
                        try:
                            reply["outcomes"][slug] = self._read(deadline)
                        except wire.WireError:
                            entry["status"] = "bad_output"
                return reply
        except (WorkerDied, OSError, wire.WireError) as err:
            why = str(err)
        self.restart()  # the worker itself died: a child killed it, or worse
        died = {"status": "crash", "how": f"the grading worker was killed: {why}", "seconds": 0.0}
        return {"topics": {slug: died for slug in topics}, "output": "", "outcomes": {}}

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

    def _write(self, data: bytes) -> None:
        assert self.process and self.process.stdin
        self.process.stdin.write(struct.pack("<Q", len(data)) + data)
        self.process.stdin.flush()

    def _read(self, deadline: float):
        assert self.process and self.process.stdout
        fd = self.process.stdout.fileno()
        header = self._read_exact(fd, 8, deadline)
        (size,) = struct.unpack("<Q", header)
        if size > wire.MAX_BYTES + 1024:
            raise WorkerDied("oversized reply")
        return wire.unpack(self._read_exact(fd, size, deadline))

    def _read_exact(self, fd: int, size: int, deadline: float) -> bytes:
        chunks, left = [], size
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise WorkerDied("no reply in time")
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
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.slot, ignore_errors=True)
