"""The children's seccomp filter (grader.worker.REFUSED), loaded in a forked child as a grading child
loads it: what it must refuse is refused, what honest code needs still works, and filter_blocks,
which decides whether the reports may name the filter, sees a hole in any part it probes. And the
Landlock rules (grader.worker.confine_writes) that keep a child without bubblewrap off the disk."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from grader.grading.sandbox.inside import worker

pytestmark = pytest.mark.skipif(worker.seccomp_rules() is None, reason="libseccomp is not available here")


def in_filtered_child(check) -> str:
    """Run check() in a forked child under the children's filter; its return value (a short text)."""
    def filtered() -> str:
        worker.for_child(worker.seccomp_rules(), os.getpid()).load()
        return check()
    return in_child(filtered)


def in_child(check) -> str:
    """Run check() in a forked child; its return value (a short text), or what it raised."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        try:
            text = check()
        except BaseException as err:
            text = f"raised {type(err).__name__}: {err}"
        os.write(write_end, text.encode()[:4000])
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        text = pipe.read().decode()
    os.waitpid(pid, 0)
    return text


def refused(attempt) -> str:
    try:
        attempt()
    except (OSError, RuntimeError) as err:
        return f"refused ({type(err).__name__})"
    return "allowed"


def _libc_syscall(number: int, *args) -> int:
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    if libc.syscall(number, *args) < 0:
        raise OSError(ctypes.get_errno(), f"syscall {number}")
    return 0


def _mq_open():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.mq_open(b"/kata-test-queue", os.O_CREAT | os.O_RDWR, 0o600, None)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "mq_open")
    libc.mq_close(fd)
    libc.mq_unlink(b"/kata-test-queue")


def _setown():
    import fcntl
    r, w = os.pipe()
    try:
        fcntl.fcntl(r, fcntl.F_SETOWN, os.getppid())
    finally:
        os.close(r)
        os.close(w)


def _unix_pair():
    import socket
    a, b = socket.socketpair()
    a.close()
    b.close()


def _prlimit_parent():
    import resource
    resource.prlimit(os.getppid(), resource.RLIMIT_CPU)


REFUSED_HERE = {
    "execve": lambda: os.execv("/bin/true", ["true"]),
    "socketpair": _unix_pair,
    "signal to the parent": lambda: os.kill(os.getppid(), 0),
    "signal to a process group": lambda: os.killpg(os.getpgid(0), 0),
    "signal to every process": lambda: os.kill(-1, 0),
    "pidfd_open": lambda: os.pidfd_open(os.getppid()),
    "prlimit on the parent": _prlimit_parent,
    "F_SETOWN": _setown,
    "POSIX message queue": _mq_open,
    "unshare": lambda: os.unshare(os.CLONE_NEWUSER) if hasattr(os, "unshare") else _libc_syscall(272, 0x10000000),
}


@pytest.mark.parametrize("name", sorted(REFUSED_HERE))
def test_the_filter_refuses(name):
    assert in_filtered_child(lambda: refused(REFUSED_HERE[name])).startswith("refused"), name


def test_honest_code_still_works_under_the_filter():
    def honest() -> str:
        import resource
        import signal

        import torch
        torch.set_num_threads(1)  # as the worker sets it before forking: no thread pool to start
        got = []
        os.kill(os.getpid(), 0)  # a signal to itself is allowed
        signal.signal(signal.SIGUSR1, lambda *a: got.append("handled"))
        signal.raise_signal(signal.SIGUSR1)
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 128), hard))
        x = torch.randn(64, 64, requires_grad=True)
        (x @ x).softmax(dim=-1).sum().backward()
        with open("/dev/null", "w") as sink:
            sink.write("ok")
        return f"ok {got} {tuple(x.grad.shape)}"
    assert in_filtered_child(honest) == "ok ['handled'] (64, 64)"


def test_filter_blocks_is_false_for_an_empty_filter():
    import pyseccomp as sc
    assert worker.filter_blocks(worker.seccomp_rules()) is True
    assert worker.filter_blocks(sc.SyscallFilter(sc.ALLOW)) is False


@pytest.mark.parametrize("left_out", ["new processes and threads", "every socket (any family) and io_uring",
                                      "System V IPC and POSIX message queues", "signals to any process but itself"])
def test_filter_blocks_sees_a_hole(monkeypatch, left_out):
    assert left_out in worker.REFUSED
    monkeypatch.setattr(worker, "REFUSED", {k: v for k, v in worker.REFUSED.items() if k != left_out})
    if left_out.startswith("signals"):
        monkeypatch.setattr(worker, "SIGNAL_CALLS", ())
    assert worker.filter_blocks(worker.seccomp_rules()) is False


def test_the_cost_of_the_per_child_rule():
    """Printed, not asserted: each child adds its own signal rule and compiles the filter."""
    def measure() -> str:
        rules = worker.seccomp_rules()
        started = time.perf_counter()
        worker.for_child(rules, os.getpid())
        added = time.perf_counter()
        rules.load()
        return f"rule {1e3 * (added - started):.2f} ms, load {1e3 * (time.perf_counter() - added):.2f} ms"
    print("per child:", in_filtered_child(measure))


def test_landlock_confines_writes_to_the_slot_even_for_root(tmp_path):
    """confine_writes, as a child without the sandbox applies it: the repository, the home folder
    and /tmp (the other workers' slots) refuse a new file, even to root; its own slot takes one;
    no TCP connection goes out. Skipped without Landlock."""
    from grader.course.curriculum import ROOT

    def confined() -> str:
        if not worker.confine_writes((str(tmp_path),)):
            return "no landlock"
        import socket
        got = []
        for folder in (ROOT, ROOT / "grader", Path.home(), Path("/tmp"), tmp_path):
            path = folder / f"kata-landlock-test-{os.getpid()}"
            got.append(f"{folder}: {refused(lambda: path.write_text('x'))}")
            path.unlink(missing_ok=True)
        connection = socket.socket()
        got.append(f"tcp: {refused(lambda: connection.connect(('127.0.0.1', 9)))}")
        return "\n".join(got)

    text = in_child(confined)
    if text == "no landlock":
        pytest.skip("the kernel has no Landlock")
    assert text == "\n".join([f"{ROOT}: refused (PermissionError)", f"{ROOT / 'grader'}: refused (PermissionError)",
                              f"{Path.home()}: refused (PermissionError)", "/tmp: refused (PermissionError)",
                              f"{tmp_path}: allowed",
                              "tcp: refused (PermissionError)"]), text
